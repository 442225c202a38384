// Waste bin training data: the simulator's Bin world model (deposits on a
// weekday pattern, collections on a route, settling, tips, lids left open) read
// every 900 s as the level node reads a bin: the LIS3DH tilt first (no distance
// is read at ≥ 20°, so lids left open and tipped bins are skipped), then the
// median of three A02YYUW samples, modelled after the a02yyuw.ts emulator's
// documented behaviour (noise sd 1 mm + 0.08 % clipped at 3 sd; a soft waste
// surface misses 20 % of pings; spurious short `echo` readings off the lid or
// a wall, 80–400 mm, with a per-bin probability), plus two failure modes a
// street bin sees: something lodged under the sensor (a bag or cardboard:
// a steady short reading) and a lid not quite shut (a tilt of 8–19°, below the
// node's lid-open band, the beam hitting the bin wall: a steady wrong reading).
// Each reading is labelled real (within 40 mm of the true surface) or
// implausible, gets integer features, and is judged by the level node's bin
// plausibility rules (firmware/src/nodes/level/level-node.ts) for comparison.

import { fillHalfPercent } from "../../../firmware/src/dsp/fill.ts";
import { Bin, type BinSite } from "../../../simulator/src/world/bins.ts";
import { DAY_MS, HOUR_MS } from "../../../simulator/src/world/calendar.ts";
import { rngOf, uniform } from "../../../simulator/src/world/random.ts";
import { Weather } from "../../../simulator/src/world/weather.ts";
import { signedCode, wakeFeatures as distanceFeatures, type Decisions } from "./level-data.ts";

// The node's own constants, so the rules and features below cannot drift from the firmware's.
export {
  BIN_PERIOD_S as PERIOD_S, CONFIRM_S, LID_OPEN_DEG, BLIND_MM, MARGIN_MM, AGREE_MM, BIN_RISE_STEP, BIN_SMALL_FALL, REANCHOR_RUN, STALE_S,
} from "../../../firmware/src/nodes/level/level-node.ts";
import {
  BIN_PERIOD_S as PERIOD_S, CONFIRM_S, LID_OPEN_DEG, BLIND_MM, MARGIN_MM, AGREE_MM, BIN_RISE_STEP, BIN_SMALL_FALL, REANCHOR_RUN, STALE_S,
} from "../../../firmware/src/nodes/level/level-node.ts";
export type { Decisions };
export const REAL = 0;
export const IMPLAUSIBLE = 1;
export const BIN_FEATURES = 12;
/** A reading further than this from the true surface is implausible, mm. */
export const TRUTH_MM = 40;

export type BinFaultKind = "lodged" | "ajar";

/** An injected failure of the reading, [startMs, endMs). */
export interface BinFault {
  kind: BinFaultKind;
  startMs: number;
  endMs: number;
  /** lodged: distance to the object; ajar: distance to the wall the beam hits, mm. */
  distanceMm: number;
  /** ajar: lid tilt, degrees. */
  tiltDeg: number;
}

/** One wake with a reading. */
export interface BinWake {
  tMs: number;
  medianMm: number;
  spreadMm: number;
  /** The median CONFIRM_S later (the node's confirming measurement), −1 if none. */
  confirmMm: number;
  tiltDeg: number;
  /** The lid or the bin moved since the previous wake (a deposit, a collection: the LIS3DH motion interrupt). */
  motion: boolean;
  /** True distance to the waste surface, mm. */
  surfaceMm: number;
  fillPct: number;
  label: number;
}

export interface BinRun {
  seed: number;
  site: BinSite;
  depthMm: number;
  fullDistanceMm: number;
  echoP: number;
  days: number;
  wakes: BinWake[];
  faults: BinFault[];
}

/** Per-bin spurious-echo probability per sample: most bins clean, some mildly, some badly affected. */
export const ECHO_P = [0, 0.02, 0.05, 0.15];

/** Injected failures per 30 days: enriched for training and the main comparison; "default" about one a month. */
export const ENRICHED_FAULTS_PER_30_DAYS = 4;
export const DEFAULT_FAULTS_PER_30_DAYS = 1;

export function makeFaults(seed: number, days: number, perDay: number, startMs: number, depthMm: number, fullMm: number): BinFault[] {
  const r = rngOf(`bin-faults:${seed}`);
  const out: BinFault[] = [];
  let t = startMs + Math.round((-Math.log(1 - r.next()) / perDay) * DAY_MS);
  while (t < startMs + days * DAY_MS) {
    const lodged = r.chance(0.5);
    const len = Math.round((lodged ? uniform(r, 2, 48) : uniform(r, 1, 24)) * HOUR_MS);
    out.push(lodged
      ? { kind: "lodged", startMs: t, endMs: t + len, distanceMm: Math.round(uniform(r, 40, fullMm + 150)), tiltDeg: 0 }
      : { kind: "ajar", startMs: t, endMs: t + len, distanceMm: Math.round(uniform(r, 250, depthMm - 100)), tiltDeg: uniform(r, 8, 19) });
    t += len + Math.round((-Math.log(1 - r.next()) / perDay) * DAY_MS);
  }
  return out;
}

/** Simulates one bin for `days` days: street bins for even seeds, park bins for odd ones. */
export function simulateBin(seed: number, days: number, faultsPer30Days = ENRICHED_FAULTS_PER_30_DAYS): BinRun {
  const weather = new Weather({ seed: seed * 11 + 3 });
  const site: BinSite = seed % 2 === 0 ? "street" : "park";
  const bin = new Bin({ seed, weather, site, lidOpenPer30Days: 2, tipsPer30Days: 0.5 });
  const rng = rngOf(`bin-sensor:${seed}`);
  const echoP = ECHO_P[seed % ECHO_P.length];
  const start = weather.calendar.dayStartMs(0);
  const end = start + days * DAY_MS;
  const faults = makeFaults(seed, days, faultsPer30Days / 30, start, bin.depthMm, bin.fullDistanceMm);
  const skip = [...bin.lidOpen(start, end), ...bin.tips(start, end)];
  const collections = bin.collections(start, end);
  const faultAt = (t: number): BinFault | undefined => faults.find((f) => t >= f.startMs && t < f.endMs);
  /** One A02YYUW frame's distance, 0 for none. */
  const sample = (t: number): number => {
    const f = faultAt(t);
    if (f) return Math.round(f.distanceMm + rng.normal(0, 3));
    if (rng.chance(echoP)) return Math.round(80 + rng.next() * 320);
    const target = bin.target(t);
    const d = target.distanceMm;
    if (target.surface === "none" || !(d >= 30 && d <= 4500)) return 0;
    if (target.surface === "soft" && (d > 2000 || rng.chance(0.2))) return 0;
    const sd = 1 + 0.0008 * d;
    return Math.round(d + Math.max(-3 * sd, Math.min(3 * sd, rng.normal(0, sd))));
  };
  /** Median of the first three frames with an echo out of at most five, and their spread; −1 if fewer than one. */
  const median3 = (t: number): [number, number] => {
    const s: number[] = [];
    for (let k = 0; k < 5 && s.length < 3; k++) {
      const v = sample(t + 100 * k);
      if (v > 0) s.push(v);
    }
    if (s.length === 0) return [-1, 0];
    s.sort((a, b) => a - b);
    return [s[s.length >> 1], s[s.length - 1] - s[0]];
  };
  const wakes: BinWake[] = [];
  let prevT = start;
  let prevFill = bin.fillPct(start);
  for (let t = start; t < end; t += PERIOD_S * 1000) {
    const f = faultAt(t);
    const inSkip = skip.some((iv) => t >= iv.startMs && t < iv.endMs);
    const fill = bin.fillPct(t);
    // Motion since the last wake: a deposit raised the fill, or the bin was collected, tipped or its lid left open.
    const motion = fill > prevFill + 0.05 || collections.some((c) => c.startMs >= prevT && c.startMs < t) || skip.some((iv) => iv.startMs < t && iv.endMs > prevT);
    const tiltDeg = Math.max(0, Math.round((f?.tiltDeg ?? 0) + rng.normal(0, 0.7)));
    if (!inSkip) {
      const [medianMm, spreadMm] = median3(t);
      if (medianMm > 0) {
        const [confirmMm] = median3(t + CONFIRM_S * 1000);
        const target = bin.target(t);
        const surfaceMm = Math.round(target.distanceMm);
        wakes.push({ tMs: t, medianMm, spreadMm, confirmMm, tiltDeg, motion, surfaceMm, fillPct: fill, label: Math.abs(medianMm - surfaceMm) > TRUTH_MM ? IMPLAUSIBLE : REAL });
        prevT = t;
        prevFill = fill;
      }
    }
  }
  return { seed, site, depthMm: bin.depthMm, fullDistanceMm: bin.fullDistanceMm, echoP, days, wakes, faults };
}

// ------------------------------------------------------------ the node's rules

/** The node's full alarm: fill ≥ 80 % (160 half-%) on two accepted readings, cleared ≤ 70 %. */
export const FULL_HALF_PCT = 160;
export const FULL_HYSTERESIS_HALF_PCT = 20;

/** Readings agree within max(AGREE_MM, distance / 32) (level-node.ts `tolerance`). */
export function tolerance(mm: number): number {
  return Math.max(AGREE_MM, mm >> 5);
}

/**
 * The level node's bin plausibility: reject outside [max(BLIND_MM, full −
 * MARGIN_MM), depth + MARGIN_MM]; accept at once when nothing is accepted yet
 * or the last accepted reading is older than STALE_S; a rise of more than
 * BIN_RISE_STEP is accepted only if the confirming reading agrees; a fall of
 * more than BIN_SMALL_FALL only with motion since the last accepted reading,
 * or after REANCHOR_RUN agreeing rejected falls. `tiltRejectDeg` adds a rule
 * the node does not have: reject every reading at or above that tilt (a lid
 * not shut; the node's own lid band starts at LID_OPEN_DEG).
 */
export function thresholdDecisions(r: BinRun, tiltRejectDeg = LID_OPEN_DEG): Decisions {
  const accepted: boolean[] = [];
  const reportedMm: number[] = [];
  let acc = -1;
  let accT = 0;
  let motion = false;
  let cand = -1;
  let candRun = 0;
  const lo = Math.max(BLIND_MM, r.fullDistanceMm - MARGIN_MM);
  const hi = r.depthMm + MARGIN_MM;
  const fill = (d: number): number => fillHalfPercent(d, r.depthMm, r.fullDistanceMm);
  for (const w of r.wakes) {
    motion ||= w.motion;
    const d = w.medianMm;
    let ok = false;
    let value = d;
    if (d >= lo && d <= hi && w.tiltDeg < tiltRejectDeg) {
      if (acc < 0 || w.tMs - accT > STALE_S * 1000) ok = true;
      else {
        const step = fill(d) - fill(acc);
        if (step >= -BIN_SMALL_FALL && step <= BIN_RISE_STEP) ok = true;
        else if (step > BIN_RISE_STEP) {
          ok = w.confirmMm > 0 && Math.abs(w.confirmMm - d) <= tolerance(d);
          value = w.confirmMm;
        } else if (motion) ok = true;
        else {
          candRun = cand >= 0 && Math.abs(d - cand) <= tolerance(cand) ? candRun + 1 : 1;
          cand = d;
          ok = candRun >= REANCHOR_RUN;
        }
      }
    }
    accepted.push(ok);
    reportedMm.push(ok ? value : -1);
    if (ok) {
      acc = value;
      accT = w.tMs;
      motion = false;
      cand = -1;
      candRun = 0;
    }
  }
  return { accepted, reportedMm };
}

// ------------------------------------------------------------ features

/**
 * Per-wake features, codes 0..255: 0 reading mm/8; 1 reading − last accepted
 * (signed log); 2 spread of the three samples (log); 3 reading − previous
 * reading (signed log); 4 reading relative to the full line (signed log);
 * 5 rejections in a row ×16; 6 quarter-hours since the last accepted reading
 * (capped); 7 last accepted mm/8; 8 motion since the last accepted reading
 * (0 / 255); 9 reading − the reading two wakes back (signed log; 128 before
 * there is one; it replaced the confirming reading's disagreement, which the
 * node does not have when it judges a wake: a confirm wake for every reading
 * would double the wakes); 10 tilt ×8 (degrees); 11 motion since the previous wake (0 / 255: waste
 * that settles and grows under deposits is real, a bag lodged under the
 * sensor stays put while the lid moves). "Last accepted" is the model's own
 * acceptance, as on the node.
 */
export function wakeFeatures(r: BinRun, i: number, acc: number, rejections: number, accAgeQuarters: number, motion: boolean): Uint8Array {
  const w = r.wakes[i];
  // Codes 0–7 are the drain model's (level-data.ts), with the age counted in quarters of an hour.
  const f = new Uint8Array(BIN_FEATURES);
  f.set(distanceFeatures(r, i, acc, rejections, accAgeQuarters));
  f[8] = motion ? 255 : 0;
  f[9] = i > 1 ? signedCode(w.medianMm - r.wakes[i - 2].medianMm) : 128;
  f[10] = Math.min(255, w.tiltDeg * 8);
  f[11] = w.motion ? 255 : 0;
  return f;
}

/** The node keeps its range check in front of the model: [max(BLIND_MM, full − MARGIN_MM), depth + MARGIN_MM]. */
export function inRange(r: BinRun, mm: number): boolean {
  return mm >= Math.max(BLIND_MM, r.fullDistanceMm - MARGIN_MM) && mm <= r.depthMm + MARGIN_MM;
}

/**
 * Runs a decision function online over a run, feeding its own acceptances back
 * into the features (as on a node); a reading out of range is rejected before
 * the decision function sees it, as the node's range check does.
 */
function online(r: BinRun, decide: (f: Uint8Array, i: number) => boolean): Decisions & { features: Uint8Array[] } {
  const accepted: boolean[] = [];
  const reportedMm: number[] = [];
  const features: Uint8Array[] = [];
  let acc = -1;
  let accT = 0;
  let rej = 0;
  let motion = false;
  r.wakes.forEach((w, i) => {
    motion ||= w.motion;
    const f = wakeFeatures(r, i, acc, rej, acc < 0 ? 0 : Math.floor((w.tMs - accT) / (PERIOD_S * 1000)), motion);
    features.push(f);
    const ok = inRange(r, w.medianMm) && decide(f, i);
    accepted.push(ok);
    reportedMm.push(ok ? w.medianMm : -1);
    if (ok) {
      acc = w.medianMm;
      accT = w.tMs;
      rej = 0;
      motion = false;
    } else rej++;
  });
  return { accepted, reportedMm, features };
}

/**
 * Training windows. By default "last accepted" comes from the ground truth
 * (teacher forcing: the last real reading); with `accept` it comes from that
 * decision function run online, so the windows hold the states a model's own
 * mistakes lead to (a wrong acceptance, a run of wrong rejections) with the
 * true labels — what it needs to learn to recover.
 */
export function binDataset(runs: readonly BinRun[], accept?: (x: Float64Array) => boolean): { x: Float64Array[]; q: Int8Array[]; y: number[] } {
  const d = { x: [] as Float64Array[], q: [] as Int8Array[], y: [] as number[] };
  for (const r of runs) {
    const { features } = online(r, (f, i) => (accept ? accept(Float64Array.from(f, (c) => c / 32)) : r.wakes[i].label === REAL));
    features.forEach((f, i) => {
      d.x.push(Float64Array.from(f, (c) => c / 32));
      d.q.push(Int8Array.from(f, (c) => c - 128));
      d.y.push(r.wakes[i].label);
    });
  }
  return d;
}

/** Decisions of a classifier run online (its own acceptances feed the features). */
export function modelDecisions(r: BinRun, classify: (q: Int8Array) => number): Decisions {
  const { accepted, reportedMm } = online(r, (f) => classify(Int8Array.from(f, (c) => c - 128)) === REAL);
  return { accepted, reportedMm };
}

// ------------------------------------------------------------ scoring

export interface BinScore {
  wakes: number;
  implausible: number;
  rejectedImplausible: number;
  /** Accepted readings more than TRUTH_MM off the true surface (a wrong fill reported). */
  acceptedWrong: number;
  rejectedReal: number;
  /** Real changes of ≥ 10 % fill since the previous reading: accepted at that wake. */
  realChanges: number;
  realChangesAccepted: number;
  /** Full alarms raised (fill ≥ 80 % on two accepted readings) while the true fill was below 70 %. */
  falseFull: number;
  fullAlarms: number;
  /** Episodes of true fill ≥ 80 % lasting ≥ 2 wakes, and those with a full alarm during them. */
  fullEpisodes: number;
  fullDetected: number;
  nodeDays: number;
  injectedFaults: number;
}

export function emptyBinScore(): BinScore {
  return { wakes: 0, implausible: 0, rejectedImplausible: 0, acceptedWrong: 0, rejectedReal: 0, realChanges: 0, realChangesAccepted: 0, falseFull: 0, fullAlarms: 0, fullEpisodes: 0, fullDetected: 0, nodeDays: 0, injectedFaults: 0 };
}

export function scoreBin(r: BinRun, d: Decisions, s: BinScore = emptyBinScore()): BinScore {
  s.nodeDays += r.days;
  s.injectedFaults += r.faults.length;
  const fill = (mm: number): number => fillHalfPercent(mm, r.depthMm, r.fullDistanceMm);
  let full = false;
  let run = 0;
  const alarmAt: boolean[] = [];
  r.wakes.forEach((w, i) => {
    s.wakes++;
    const wrong = d.accepted[i] && Math.abs(d.reportedMm[i] - w.surfaceMm) > TRUTH_MM;
    if (wrong) s.acceptedWrong++;
    if (w.label === IMPLAUSIBLE) {
      s.implausible++;
      if (!d.accepted[i]) s.rejectedImplausible++;
    } else {
      if (!d.accepted[i]) s.rejectedReal++;
      if (i > 0 && Math.abs(w.fillPct - r.wakes[i - 1].fillPct) >= 10) {
        s.realChanges++;
        if (d.accepted[i] && !wrong) s.realChangesAccepted++;
      }
    }
    // The node's full alarm on the accepted fills (2 in a row to raise, 2 to clear).
    if (d.accepted[i]) {
      const f = fill(d.reportedMm[i]);
      if (!full) {
        run = f >= FULL_HALF_PCT ? run + 1 : 0;
        if (run >= 2) {
          full = true;
          run = 0;
          s.fullAlarms++;
          if (w.fillPct < 70) s.falseFull++;
        }
      } else {
        run = f <= FULL_HALF_PCT - FULL_HYSTERESIS_HALF_PCT ? run + 1 : 0;
        if (run >= 2) {
          full = false;
          run = 0;
        }
      }
    }
    alarmAt.push(full);
  });
  // Full episodes from the truth at the wakes.
  for (let i = 0; i < r.wakes.length; ) {
    if (r.wakes[i].fillPct < 80) {
      i++;
      continue;
    }
    let j = i;
    let hit = false;
    for (; j < r.wakes.length && r.wakes[j].fillPct >= 80; j++) if (alarmAt[j]) hit = true;
    if (j - i >= 2) {
      s.fullEpisodes++;
      if (hit || (j < r.wakes.length && alarmAt[j])) s.fullDetected++;
    }
    i = j;
  }
  return s;
}
