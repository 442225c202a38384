// The bin plausibility model against the bin rules end to end, through the
// simulated level node: the real firmware (nodes/level/main.ts) on a SimNode
// with the emulated A02YYUW and LIS3DH, driven by the Bin world model (deposits
// and lid motion, collections, tips, lids left open), the same injected failures
// as the training data (objects lodged under the sensor, lids not quite shut:
// a world-side change of what the sensor sees and how the lid hangs) and the
// emulator's own `echo` fault at the training's per-bin probability. Scored
// only on what the node sends: routine readings and alarms.
//
//   node --import tsx scripts/ml/train/bin-node-compare.ts [--seeds 300-305] [--days 30] [--faults 4] [--detector rules|model|both]

import { decodeUplinkBytes } from "../../../codecs/src/codec.ts";
import { Fleet } from "../../../simulator/src/fleet/run-fleet.ts";
import { SimNode, type ScheduledAction } from "../../../simulator/src/fleet/sim-node.ts";
import type { A02yyuwTarget } from "../../../simulator/src/devices/a02yyuw.ts";
import type { Lis3dhAcceleration } from "../../../simulator/src/devices/lis3dh.ts";
import { SimNetwork } from "../../../simulator/src/network/network.ts";
import { Bin } from "../../../simulator/src/world/bins.ts";
import { DAY_MS } from "../../../simulator/src/world/calendar.ts";
import { Weather } from "../../../simulator/src/world/weather.ts";
import { ECHO_P, ENRICHED_FAULTS_PER_30_DAYS, TRUTH_MM, makeFaults, type BinFault } from "./bin-data.ts";

const MIN_MS = 60_000;
const QUARTER_MS = 900_000;

export type Detector = "rules" | "model";

/** What the node sent, scored against the world's truth. */
export interface BinNodeScore {
  nodeDays: number;
  injectedFaults: number;
  boots: number;
  /** Routine readings with a distance, and those more than TRUTH_MM from the true surface. */
  readings: number;
  wrongReadings: number;
  /** Wrong readings while an injected failure was active. */
  wrongDuringFaults: number;
  fullAlarms: number;
  /** Full alarms raised while the true fill was below 70 %. */
  falseFull: number;
  /** Episodes of true fill ≥ 80 % over ≥ 2 quarter-hours, and those with the full alarm active during them or right after. */
  fullEpisodes: number;
  fullDetected: number;
  /** Episodes alarmed by a full alarm that was raised while the true fill was ≥ 70 % (not by a false alarm that happened to stay active). */
  fullDetectedTrue: number;
  /** Collections that took ≥ 30 points out, and those with an `emptied` alarm within 30 min of their start. */
  collections: number;
  collectionsEmptied: number;
  emptiedAlarms: number;
  /** `emptied` alarms with no collection started in the 30 min before. */
  falseEmptied: number;
  obstructionAlarms: number;
  lidOpenAlarms: number;
  lidsLeftOpen: number;
  tippedAlarms: number;
  tips: number;
}

export function emptyBinNodeScore(): BinNodeScore {
  return {
    nodeDays: 0, injectedFaults: 0, boots: 0, readings: 0, wrongReadings: 0, wrongDuringFaults: 0, fullAlarms: 0, falseFull: 0, fullEpisodes: 0, fullDetected: 0, fullDetectedTrue: 0,
    collections: 0, collectionsEmptied: 0, emptiedAlarms: 0, falseEmptied: 0, obstructionAlarms: 0, lidOpenAlarms: 0, lidsLeftOpen: 0, tippedAlarms: 0, tips: 0,
  };
}

/** Gravity on a sensor tilted `deg` about the lid's hinge, mg. */
function tilted(deg: number): Lis3dhAcceleration {
  const r = (deg * Math.PI) / 180;
  return { x: 0, y: 1000 * Math.sin(r), z: 1000 * Math.cos(r) };
}

/** One simulated bin (street for even seeds, park for odd, as in bin-data.ts) through the level node for `days`. */
export function runBinNode(seed: number, days: number, detector: Detector, faultsPer30Days = ENRICHED_FAULTS_PER_30_DAYS, s: BinNodeScore = emptyBinNodeScore(), inspect?: (node: SimNode, bin: Bin, faults: readonly BinFault[]) => void): BinNodeScore {
  const weather = new Weather({ seed: seed * 11 + 3 });
  const bin = new Bin({ seed, weather, site: seed % 2 === 0 ? "street" : "park", lidOpenPer30Days: 2, tipsPer30Days: 0.5 });
  const start = weather.calendar.dayStartMs(0);
  const endMs = days * DAY_MS;
  const faults = makeFaults(seed, days, faultsPer30Days / 30, start, bin.depthMm, bin.fullDistanceMm);
  const faultAt = (t: number): BinFault | undefined => faults.find((f) => t >= f.startMs && t < f.endMs);
  const target = (t: number): A02yyuwTarget => {
    const f = faultAt(t);
    const world = bin.target(t);
    // Lid and bin motion and a bin on its side still win: the object moves with the lid, the beam leaves the bin.
    if (!f || world.surface === "none") return world;
    return { distanceMm: f.distanceMm, surface: "hard" };
  };
  const acceleration = (t: number): Lis3dhAcceleration => {
    const f = faultAt(t);
    if (f?.kind === "ajar" && bin.target(t).surface !== "none") return tilted(f.tiltDeg);
    return bin.acceleration(t);
  };
  const accelerationSteadyUntil = (t: number): number => {
    let until = bin.accelerationSteadyUntil(t);
    for (const f of faults) {
      if (f.startMs > t) until = Math.min(until, f.startMs);
      if (f.endMs > t) until = Math.min(until, f.endMs);
    }
    return until;
  };
  const echoP = ECHO_P[seed % ECHO_P.length];
  const actions: ScheduledAction[] = echoP > 0 ? [{ atMs: 0, run: (n) => n.devices.sonar?.inject("echo", { p: echoP }) }] : [];
  const network = new SimNetwork({ region: "EU868", seed: `bin-compare-${seed}`, channel: { lossProbability: 0, shadowingSdDb: 0, fadingSdDb: 0 } });
  const node = new SimNode({
    type: "level", id: `bin-${seed}`, seed, network, position: { x: 60, y: 40 }, modem: "wio-e5",
    config: { variant: "bin", binDetector: detector, adr: false, dataRate: 5 },
    settings: { depthMm: bin.depthMm, fullDistanceMm: bin.fullDistanceMm },
    environment: { target, acceleration, accelerationSteadyUntil },
    faults: actions,
  });
  new Fleet(network, [node]).runUntil(endMs);
  inspect?.(node, bin, faults);

  s.nodeDays += days;
  s.injectedFaults += faults.filter((f) => f.startMs < endMs).length;
  s.boots += node.counters.boots;
  const surfaceAt = (t: number): number => bin.depthMm - (bin.fillPct(t) / 100) * (bin.depthMm - bin.fullDistanceMm);
  for (const r of node.readings) {
    const data = decodeUplinkBytes(r.bytes, r.port, r.atMs, [], []);
    const d = data?.distanceMm;
    if (typeof d !== "number") continue;
    s.readings++;
    // Measured in the wake's first seconds: wrong only if no moment of the last 20 s matches.
    let best = Infinity;
    for (let t = r.atMs - 20_000; t <= r.atMs; t += 1000) best = Math.min(best, Math.abs(d - surfaceAt(t)));
    if (best > TRUTH_MM) {
      s.wrongReadings++;
      if (faultAt(r.atMs)) s.wrongDuringFaults++;
    }
  }
  // Alarms, and the full alarm's state over time.
  const alarms = node.queued.filter((m) => m.kind === "alarm" && m.data).map((m) => ({ atMs: m.atMs, event: m.data!.event as string }));
  const fullChanges: { atMs: number; active: boolean; trueRaise: boolean }[] = [];
  for (const a of alarms) {
    if (a.event === "full") {
      s.fullAlarms++;
      const trueRaise = bin.fillPct(a.atMs) >= 70;
      if (!trueRaise) s.falseFull++;
      fullChanges.push({ atMs: a.atMs, active: true, trueRaise });
    } else if (a.event === "fullCleared") fullChanges.push({ atMs: a.atMs, active: false, trueRaise: false });
    else if (a.event === "obstruction") s.obstructionAlarms++;
    else if (a.event === "lidOpen") s.lidOpenAlarms++;
    else if (a.event === "tipped") s.tippedAlarms++;
  }
  /** 0 inactive, 1 active from a false raise, 2 active from a true one. */
  const fullState = (t: number): number => {
    let state = 0;
    for (const c of fullChanges) if (c.atMs <= t) state = c.active ? (c.trueRaise ? 2 : 1) : 0;
    return state;
  };
  const samples: number[] = [];
  for (let t = QUARTER_MS; t < endMs; t += QUARTER_MS) samples.push(t);
  for (let i = 0; i < samples.length; ) {
    if (bin.fillPct(samples[i]) < 80) {
      i++;
      continue;
    }
    let j = i;
    let best = 0;
    for (; j < samples.length && bin.fillPct(samples[j]) >= 80; j++) best = Math.max(best, fullState(samples[j]));
    if (j < samples.length) best = Math.max(best, fullState(samples[j]));
    if (j - i >= 2) {
      s.fullEpisodes++;
      if (best > 0) s.fullDetected++;
      if (best === 2) s.fullDetectedTrue++;
    }
    i = j;
  }
  const collections = bin.collections(0, endMs);
  const emptied = alarms.filter((a) => a.event === "emptied");
  s.emptiedAlarms += emptied.length;
  for (const c of collections) {
    if (c.fillBeforePct - c.fillAfterPct < 30) continue;
    s.collections++;
    if (emptied.some((a) => a.atMs >= c.startMs && a.atMs <= c.startMs + 30 * MIN_MS)) s.collectionsEmptied++;
  }
  s.falseEmptied += emptied.filter((a) => !collections.some((c) => a.atMs >= c.startMs && a.atMs <= c.startMs + 30 * MIN_MS)).length;
  s.lidsLeftOpen += bin.lidOpen(0, endMs).length;
  s.tips += bin.tips(0, endMs).length;
  return s;
}

/** One markdown row per detector. */
export function binNodeTable(rows: readonly [string, BinNodeScore][]): string {
  const out = [
    "| detector | node-days | injected failures | boots | routine readings | wrong fills reported (> 40 mm off) | of them during an injected failure | wrong fills / node-month | full alarms | false full alarms (true fill < 70 %) | full episodes alarmed | of them by a true full alarm | collections reported `emptied` | false `emptied` | obstruction alarms | lidOpen alarms / lids left open | tipped alarms / tips |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const [name, s] of rows) {
    out.push(`| ${name} | ${s.nodeDays} | ${s.injectedFaults} | ${s.boots} | ${s.readings} | ${s.wrongReadings} | ${s.wrongDuringFaults} | ${(s.wrongReadings / (s.nodeDays / 30)).toFixed(1)} | ${s.fullAlarms} | ${s.falseFull} | ${s.fullDetected} / ${s.fullEpisodes} | ${s.fullDetectedTrue} | ${s.collectionsEmptied} / ${s.collections} | ${s.falseEmptied} | ${s.obstructionAlarms} | ${s.lidOpenAlarms} / ${s.lidsLeftOpen} | ${s.tippedAlarms} / ${s.tips} |`);
  }
  return out.join("\n");
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [from, to] = arg("--seeds", "300-305").split("-").map(Number);
  const days = Number(arg("--days", "30"));
  const faults = Number(arg("--faults", String(ENRICHED_FAULTS_PER_30_DAYS)));
  const which = arg("--detector", "both");
  const detectors: Detector[] = which === "both" ? ["rules", "model"] : [which as Detector];
  const rows: [string, BinNodeScore][] = [];
  for (const d of detectors) {
    const s = emptyBinNodeScore();
    const t0 = Date.now();
    for (let seed = from; seed <= (to ?? from); seed++) runBinNode(seed, days, d, faults, s);
    console.error(`${d}: ${Date.now() - t0} ms`);
    rows.push([d === "rules" ? "node rules" : "int8 MLP", s]);
    console.log(JSON.stringify({ detector: d, seeds: `${from}-${to ?? from}`, days, faults, score: s }));
  }
  console.log(binNodeTable(rows));
}
