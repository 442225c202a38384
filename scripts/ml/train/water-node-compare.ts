// The water node's two leak detectors compared end to end, through the simulated
// node: the real firmware entry point (nodes/water/main.ts) on simulated boards,
// an emulated YF-S201 turbine (450 P/L, as the model was trained) on the ULP pulse
// counter, 60-s wakes with deep sleep, Wio-E5 modems and a simulated LoRaWAN
// network; the households are the city's WaterDemand world models at the
// training's enriched incident rates. One run per detector, same city, same seeds:
//
//   node --import tsx scripts/ml/train/water-node-compare.ts --detector night --out build/cmp-night.json
//   node --import tsx scripts/ml/train/water-node-compare.ts --detector model --out build/cmp-model.json
//   node --import tsx scripts/ml/train/water-node-compare.ts --table build/cmp-night.json build/cmp-model.json
//
// Options: --nodes (40), --days (30), --seed (7), --meter (yf-s201; any preset of the pulse-flow driver).
//
// Scoring. The simulator's (simulator/src/cli/run-scenario.ts): a leak that starts in
// the run is detected by the first `leak` alarm received between 15 min before its
// start and 30 h after its end (latency = reception − start); a `leak` alarm during no
// leak (any leak of the node, also one that began before the run) is a false alarm.
// A node raises one alarm per crossing, so a second leak that starts while the first
// is still reported gets no alarm of its own and counts as missed there. Hence also
// per incident: the node's overlapping leaks merged into one (a meter sees only the
// sum), detected when a leak episode (leak … leakCleared) is active between 15 min
// before its start and 30 h after its end, latency = raise − start (at least 0).
// Leaks starting in the first day are listed apart: neither detector can judge them
// yet (the night rule needs a complete night, the model a day of windows).

import { writeFileSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { City } from "../../../simulator/src/world/city.ts";
import { SimNetwork } from "../../../simulator/src/network/network.ts";
import { SimNode } from "../../../simulator/src/fleet/sim-node.ts";
import { Fleet } from "../../../simulator/src/fleet/run-fleet.ts";
import { ENRICHED } from "./water-data.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const GRACE_MS = 30 * HOUR;

/** What one run gives, per leak and per alarm. */
export interface CompareRun {
  detector: string;
  meter: string;
  nodes: number;
  days: number;
  seed: number;
  wallMs: number;
  leaks: { nodeId: string; startMs: number; endMs: number; detectedMs: number | null }[];
  falseAlarms: { nodeId: string; atMs: number }[];
  /** Every leak and leakCleared alarm received, by node, in order. */
  alarms?: { nodeId: string; event: string; atMs: number }[];
  leakAlarms: number;
  bootsPerNode: number;
}

/** Runs `nodes` water nodes for `days` with the given leak detector. */
export function runCompare(detector: "night" | "model", nodes: number, days: number, seed: number, meter = "yf-s201"): CompareRun {
  const started = Date.now();
  const city = new City({ seed, counts: { water: nodes }, water: ENRICHED });
  const gateways: { id: string; x: number; y: number }[] = [];
  for (let i = 0; i < 3; i++) for (let j = 0; j < 2; j++) gateways.push({ id: `gw-${i}${j}`, x: 333 + 667 * i, y: 375 + 750 * j });
  // Lossless but for collisions: the comparison is about the detectors, not the radio.
  const network = new SimNetwork({
    region: "EU868", seed: `cmp-${seed}`,
    channel: { referenceLossDb: 100, referenceDistanceM: 40, pathLossExponent: 3.0, shadowingSdDb: 0, fadingSdDb: 0, lossProbability: 0 },
    gateways: gateways.map((g) => ({ id: g.id, position: { x: g.x, y: g.y, z: 25 }, region: "EU868", antennaGainDbi: 3 })),
  });
  const sims: SimNode[] = [];
  for (const [i, c] of city.nodes.entries()) {
    if (c.kind !== "water") continue;
    const model = c.model;
    sims.push(new SimNode({
      type: "water", id: c.id, seed: (seed * 7919 + i * 104729) >>> 0, network, position: { x: c.position.x, y: c.position.y, z: 2 },
      config: { meter, valve: false, adr: false, dataRate: 4, leakDetector: detector },
      environment: { flowLMin: (t) => model.flowLMin(t) },
    }));
  }
  for (const n of sims) n.host.maxRecords = 0;
  const fleet = new Fleet(network, sims);
  const alarms = new Map<string, number[]>();
  const received: { nodeId: string; event: string; atMs: number }[] = [];
  const take = () => {
    for (const e of fleet.events) {
      const d = e.event.uplink_message.decoded_payload as { event?: string; messageType?: string } | undefined;
      if (d?.event === "leak" || d?.event === "leakCleared") received.push({ nodeId: e.nodeId, event: d.event, atMs: e.atMs });
      if (d?.event !== "leak") continue;
      const list = alarms.get(e.nodeId) ?? [];
      list.push(e.atMs);
      alarms.set(e.nodeId, list);
    }
    fleet.events.length = 0;
  };
  const endMs = days * DAY;
  for (let t = DAY; t <= endMs; t += DAY) {
    fleet.runUntil(t);
    // Memory stays flat: settle and forget the day's frames and logs, as the scenario runner does.
    network.prune(t);
    take();
    for (const n of sims) {
      n.queued.length = 0;
      n.readings.length = 0;
      n.modem.transcript.length = 0;
    }
    network.server.log.length = 0;
    for (const g of network.gateways) {
      const keep = g.transmissions.filter((x) => x.endMs >= t - DAY);
      g.transmissions.length = 0;
      g.transmissions.push(...keep);
    }
  }
  network.finalize();
  take();
  const allLeaks = city.groundTruthEvents(0, endMs).filter((g) => g.kind === "leak");
  const within = (atMs: number, g: { startMs: number; endMs: number }) => atMs >= g.startMs - 15 * 60_000 && atMs <= g.endMs + GRACE_MS;
  const leaks = allLeaks.filter((g) => g.startMs >= 0 && g.startMs < endMs).map((g) => {
    const hit = (alarms.get(g.nodeId) ?? []).find((a) => within(a, g));
    return { nodeId: g.nodeId, startMs: g.startMs, endMs: g.endMs, detectedMs: hit ?? null };
  });
  const falseAlarms: CompareRun["falseAlarms"] = [];
  let leakAlarms = 0;
  for (const [nodeId, list] of alarms) {
    for (const a of list) {
      leakAlarms++;
      if (!allLeaks.some((g) => g.nodeId === nodeId && within(a, g))) falseAlarms.push({ nodeId, atMs: a });
    }
  }
  const boots = sims.reduce((s, n) => s + n.counters.boots, 0) / sims.length;
  return { detector, meter, nodes: sims.length, days, seed, wallMs: Date.now() - started, leaks, falseAlarms, leakAlarms, bootsPerNode: boots, alarms: received };
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : NaN;
}

function latency(min: number): string {
  if (Number.isNaN(min)) return "–";
  return min >= 120 ? `${(min / 60).toFixed(1)} h` : `${min.toFixed(0)} min`;
}

/** Per incident: a node's overlapping leaks merged; detected (and when) by the leak episodes active around it. */
function incidents(r: CompareRun): { startMs: number; detectedMs: number | null }[] {
  const out: { startMs: number; detectedMs: number | null }[] = [];
  const endMs = r.days * DAY;
  const byNode = new Map<string, { startMs: number; endMs: number }[]>();
  for (const l of r.leaks) byNode.set(l.nodeId, [...(byNode.get(l.nodeId) ?? []), { startMs: l.startMs, endMs: l.endMs }]);
  for (const [nodeId, leaks] of byNode) {
    leaks.sort((a, b) => a.startMs - b.startMs);
    const merged: { startMs: number; endMs: number }[] = [];
    for (const l of leaks) {
      const last = merged[merged.length - 1];
      if (last && l.startMs < last.endMs) last.endMs = Math.max(last.endMs, l.endMs);
      else merged.push({ ...l });
    }
    // Episodes: raise … clear (or the end of the run).
    const episodes: { raiseMs: number; clearMs: number }[] = [];
    for (const a of (r.alarms ?? []).filter((x) => x.nodeId === nodeId)) {
      const open = episodes.length > 0 && episodes[episodes.length - 1].clearMs === Infinity;
      if (a.event === "leak" && !open) episodes.push({ raiseMs: a.atMs, clearMs: Infinity });
      else if (a.event === "leakCleared" && open) episodes[episodes.length - 1].clearMs = a.atMs;
    }
    for (const m of merged) {
      const from = m.startMs - 15 * 60_000;
      const to = Math.min(endMs, m.endMs + GRACE_MS);
      const hit = episodes.filter((e) => e.raiseMs <= to && e.clearMs > from);
      out.push({ startMs: m.startMs, detectedMs: hit.length ? Math.max(m.startMs, Math.min(...hit.map((e) => e.raiseMs))) : null });
    }
  }
  return out;
}

/** The README table: one row per run, leaks from day 1 on, and those of the first day apart. */
export function compareTable(runs: readonly CompareRun[]): string {
  const rows = [
    "| detector | meter | node-days | leaks from day 1: alarm inside (simulator scoring) | median latency | incidents from day 1 (overlaps merged): detected by an active alarm | median latency | leak alarms | false alarms | false alarms / node-month | first-day incidents: detected, median latency |",
    "|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  const min = (ms: number) => ms / 60_000;
  for (const r of runs) {
    const later = r.leaks.filter((l) => l.startMs >= DAY);
    const hit = later.filter((l) => l.detectedMs !== null);
    const inc = incidents(r);
    const incLater = inc.filter((l) => l.startMs >= DAY);
    const incHit = incLater.filter((l) => l.detectedMs !== null);
    const first = inc.filter((l) => l.startMs < DAY);
    const firstHit = first.filter((l) => l.detectedMs !== null);
    const nodeDays = r.nodes * r.days;
    rows.push(`| ${r.detector === "model" ? "int8 model" : "night rule"} | ${r.meter ?? "yf-s201"} | ${nodeDays} | ${hit.length} of ${later.length} | ` +
      `${latency(median(hit.map((l) => min(l.detectedMs! - l.startMs))))} | ${r.alarms ? `${incHit.length} of ${incLater.length}` : "–"} | ` +
      `${r.alarms ? latency(median(incHit.map((l) => min(l.detectedMs! - l.startMs)))) : "–"} | ${r.leakAlarms} | ${r.falseAlarms.length} | ` +
      `${(r.falseAlarms.length / (nodeDays / 30)).toFixed(2)} | ${r.alarms ? `${firstHit.length} of ${first.length}, ${latency(median(firstHit.map((l) => min(l.detectedMs! - l.startMs))))}` : "–"} |`);
  }
  return rows.join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { detector: { type: "string" }, nodes: { type: "string", default: "40" }, days: { type: "string", default: "30" }, seed: { type: "string", default: "7" }, meter: { type: "string", default: "yf-s201" }, out: { type: "string" }, table: { type: "boolean" } },
  });
  if (values.table) {
    console.log(compareTable(positionals.map((p) => JSON.parse(readFileSync(p, "utf8")) as CompareRun)));
  } else {
    const detector = values.detector === "model" ? "model" : values.detector === "night" ? "night" : undefined;
    if (!detector) throw new Error("--detector night|model");
    const r = runCompare(detector, Number(values.nodes), Number(values.days), Number(values.seed), values.meter);
    if (values.out) writeFileSync(values.out, JSON.stringify(r, null, 1));
    console.log(`${detector}: ${r.nodes} nodes × ${r.days} days in ${(r.wallMs / 1000).toFixed(1)} s`);
    console.log(compareTable([r]));
  }
}
