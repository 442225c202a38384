// Drain level training data: the Drain world model's water level and
// obstructions, read every DRAIN_PERIOD_S as the level node reads its A02YYUW
// (median of 3 samples; sensor noise and spurious short echoes modelled as the
// simulator's a02yyuw.ts emulator documents them), labelled "real" (the median
// is within 30 mm of the water surface) or "implausible" (an echo off a wall or
// debris over the water), with integer per-wake features, and the level node's
// plausibility rules (firmware/src/nodes/level/level-node.ts) for comparison.

import { Drain } from "../../../simulator/src/world/drains.ts";
import { rngOf } from "../../../simulator/src/world/random.ts";
import { Weather } from "../../../simulator/src/world/weather.ts";
import { logCode } from "./water-data.ts";

// The node's own constants, so the rules and features below cannot drift from the firmware's.
export { DRAIN_PERIOD_S as PERIOD_S, CONFIRM_S, BLIND_MM, MARGIN_MM, AGREE_MM, DRAIN_MAX_RATE, DRAIN_SLACK } from "../../../firmware/src/nodes/level/level-node.ts";
import { DRAIN_PERIOD_S as PERIOD_S, CONFIRM_S, BLIND_MM, MARGIN_MM, DRAIN_MAX_RATE, DRAIN_SLACK, STALE_S, agreementMm, nearGrate } from "../../../firmware/src/nodes/level/level-node.ts";
import { fillHalfPercent } from "../../../firmware/src/dsp/fill.ts";
export const REAL = 0;
export const IMPLAUSIBLE = 1;
export const LEVEL_FEATURES = 8;
export const TRUTH_MM = 30;

/** One wake: the median of three samples, the three samples' spread, and the truth. */
export interface Wake {
  tMs: number;
  medianMm: number;
  spreadMm: number;
  /** The median 60 s later (what the node's confirm wake would read). */
  confirmMm: number;
  waterMm: number;
  label: number;
}

export interface DrainRun {
  seed: number;
  depthMm: number;
  fullDistanceMm: number;
  echoP: number;
  wakes: Wake[];
}

/** Per-drain spurious-echo probability per sample (A02YYUW `echo` fault): most drains clean, some mildly, some badly affected. */
const ECHO_P = [0, 0, 0.05, 0.3];

export function simulateDrain(seed: number, days: number): DrainRun {
  const weather = new Weather({ seed: seed * 7 + 1, climate: { rainEventsPerDayWinter: 0.8, rainEventsPerDaySummer: 0.8, rainPeakMeanMmHSummer: 12, rainPeakMeanMmHWinter: 8 } });
  const drain = new Drain({ seed, weather, obstructionsPer30Days: 1.5 });
  const rng = rngOf(`level-sensor:${seed}`);
  const echoP = ECHO_P[seed % ECHO_P.length];
  const sample = (tMs: number): number => {
    const d = drain.target(tMs).distanceMm;
    const sd = 1 + 0.0008 * d;
    const noise = Math.max(-3 * sd, Math.min(3 * sd, rng.normal(0, sd)));
    if (rng.chance(echoP)) return Math.round(80 + rng.next() * 320);
    return Math.round(d + noise);
  };
  const median3 = (tMs: number): [number, number] => {
    const s = [sample(tMs), sample(tMs + 100), sample(tMs + 200)].sort((a, b) => a - b);
    return [s[1], s[2] - s[0]];
  };
  const wakes: Wake[] = [];
  const start = weather.calendar.dayStartMs(0);
  for (let t = start; t < start + days * 86400_000; t += PERIOD_S * 1000) {
    const [medianMm, spreadMm] = median3(t);
    const [confirmMm] = median3(t + CONFIRM_S * 1000);
    const waterMm = Math.round(drain.depthMm - drain.levelMm(t));
    wakes.push({ tMs: t, medianMm, spreadMm, confirmMm, waterMm, label: Math.abs(medianMm - waterMm) > TRUTH_MM ? IMPLAUSIBLE : REAL });
  }
  return { seed, depthMm: drain.depthMm, fullDistanceMm: drain.fullDistanceMm, echoP, wakes };
}

/** One decision per wake (drains and bins alike): accept (the reading becomes the fill) or reject. */
export interface Decisions {
  accepted: boolean[];
  /** The distance each accepted wake reports, −1 if rejected. */
  reportedMm: number[];
}

/**
 * The level node's drain plausibility (level-node.ts `#judge`, drain branch), in its units: reject
 * outside [max(BLIND_MM, full − marginMm), depth + MARGIN_MM]; with `gratePath`, reject a reading
 * nearer than the full line (beyond the agreement tolerance) unless the last accepted fill is within
 * GRATE_APPROACH of the full line; accept the first reading and any after STALE_S; a fill step beyond
 * DRAIN_SLACK + DRAIN_MAX_RATE·Δt (0.5 % units, Δt capped at 10 h) is re-measured CONFIRM_S later and
 * the second reading is accepted if it passes the same checks and agrees within max(AGREE_MM, mm/32).
 */
export function thresholdDecisions(r: DrainRun, options: { marginMm?: number; gratePath?: boolean } = {}): Decisions {
  const marginMm = options.marginMm ?? MARGIN_MM;
  const gratePath = options.gratePath ?? true;
  const accepted: boolean[] = [];
  const reportedMm: number[] = [];
  let acc = -1;
  let accT = 0;
  const lo = Math.max(BLIND_MM, r.fullDistanceMm - marginMm);
  const hi = r.depthMm + MARGIN_MM;
  const fill = (mm: number) => fillHalfPercent(mm, r.depthMm, r.fullDistanceMm);
  const plausible = (mm: number) =>
    mm >= lo && mm <= hi && !(gratePath && mm < r.fullDistanceMm - agreementMm(r.fullDistanceMm) && !nearGrate(acc, r.depthMm, r.fullDistanceMm));
  for (const w of r.wakes) {
    let ok = plausible(w.medianMm);
    let value = w.medianMm;
    const dtS = Math.floor((w.tMs - accT) / 1000);
    if (ok && acc >= 0 && dtS <= STALE_S) {
      const allowed = DRAIN_SLACK + Math.trunc((Math.min(dtS, 36000) * DRAIN_MAX_RATE) / 3600);
      if (Math.abs(fill(w.medianMm) - fill(acc)) > allowed) {
        ok = Math.abs(w.confirmMm - w.medianMm) <= agreementMm(w.medianMm) && plausible(w.confirmMm);
        value = w.confirmMm;
      }
    }
    accepted.push(ok);
    reportedMm.push(ok ? value : -1);
    if (ok) {
      acc = value;
      accT = w.tMs;
    }
  }
  return { accepted, reportedMm };
}

/** What the distance features read of a run: each wake's median and spread, and the full line (drains and bins alike). */
export interface DistanceRun {
  readonly wakes: readonly { readonly medianMm: number; readonly spreadMm: number }[];
  readonly fullDistanceMm: number;
}

/** Signed log code around 128: 128 ± logCode(|v|) / 2. */
export function signedCode(v: number): number {
  const c = logCode(Math.abs(v)) >> 1;
  return v < 0 ? 128 - c : Math.min(255, 128 + c);
}

/**
 * Per-wake features, codes 0..255: 0 reading mm/8, 1 reading − last accepted
 * (signed log), 2 spread of the three samples (log), 3 reading − previous
 * reading (signed log), 4 reading relative to the full line (signed log),
 * 5 rejections in a row ×16, 6 minutes since the last accepted reading (capped),
 * 7 last accepted mm/8. "Last accepted" is the model's own acceptance
 * (the threshold of 0.5 on its output), as on the node.
 */
export function wakeFeatures(r: DistanceRun, i: number, acc: number, rejections: number, accAgeMin: number): Uint8Array {
  const w = r.wakes[i];
  const prev = i > 0 ? r.wakes[i - 1].medianMm : w.medianMm;
  const a = acc >= 0 ? acc : w.medianMm;
  return Uint8Array.from([
    Math.min(255, w.medianMm >> 3),
    signedCode(w.medianMm - a),
    logCode(w.spreadMm),
    signedCode(w.medianMm - prev),
    signedCode(w.medianMm - r.fullDistanceMm),
    Math.min(15, rejections) * 16,
    Math.min(255, accAgeMin),
    Math.min(255, a >> 3),
  ]);
}

/** Training windows with "last accepted" from the ground truth (teacher forcing): the last real reading. */
export function levelDataset(runs: readonly DrainRun[]): { x: Float64Array[]; q: Int8Array[]; y: number[] } {
  const d = { x: [] as Float64Array[], q: [] as Int8Array[], y: [] as number[] };
  for (const r of runs) {
    let acc = -1;
    let accT = 0;
    let rej = 0;
    r.wakes.forEach((w, i) => {
      const f = wakeFeatures(r, i, acc, rej, acc < 0 ? 0 : Math.floor((w.tMs - accT) / 60_000));
      d.x.push(Float64Array.from(f, (c) => c / 32));
      d.q.push(Int8Array.from(f, (c) => c - 128));
      d.y.push(w.label);
      if (w.label === REAL) {
        acc = w.medianMm;
        accT = w.tMs;
        rej = 0;
      } else rej++;
    });
  }
  return d;
}

/** Decisions of a classifier run online (its own acceptances feed the features). */
export function modelDecisions(r: DrainRun, classify: (q: Int8Array) => number): Decisions {
  const accepted: boolean[] = [];
  const reportedMm: number[] = [];
  let acc = -1;
  let accT = 0;
  let rej = 0;
  r.wakes.forEach((w, i) => {
    const f = wakeFeatures(r, i, acc, rej, acc < 0 ? 0 : Math.floor((w.tMs - accT) / 60_000));
    const ok = classify(Int8Array.from(f, (c) => c - 128)) === REAL;
    accepted.push(ok);
    reportedMm.push(ok ? w.medianMm : -1);
    if (ok) {
      acc = w.medianMm;
      accT = w.tMs;
      rej = 0;
    } else rej++;
  });
  return { accepted, reportedMm };
}

export interface LevelScore {
  wakes: number;
  implausible: number;
  /** Implausible readings rejected / accepted (a wrong fill reported). */
  rejectedImplausible: number;
  acceptedWrong: number;
  /** Real readings rejected (a lost fill). */
  rejectedReal: number;
  /** Real changes (≥ 50 mm from the previous wake's water level): accepted at that wake. */
  realChanges: number;
  realChangesAccepted: number;
  nodeDays: number;
}

export function scoreLevel(r: DrainRun, d: Decisions, into?: LevelScore): LevelScore {
  const s = into ?? { wakes: 0, implausible: 0, rejectedImplausible: 0, acceptedWrong: 0, rejectedReal: 0, realChanges: 0, realChangesAccepted: 0, nodeDays: 0 };
  s.nodeDays += (r.wakes.length * PERIOD_S) / 86400;
  r.wakes.forEach((w, i) => {
    s.wakes++;
    const wrong = d.accepted[i] && Math.abs(d.reportedMm[i] - w.waterMm) > TRUTH_MM;
    if (wrong) s.acceptedWrong++;
    if (w.label === IMPLAUSIBLE) {
      s.implausible++;
      if (!d.accepted[i]) s.rejectedImplausible++;
    } else {
      if (!d.accepted[i]) s.rejectedReal++;
      if (i > 0 && Math.abs(w.waterMm - r.wakes[i - 1].waterMm) >= 50) {
        s.realChanges++;
        if (d.accepted[i] && !wrong) s.realChangesAccepted++;
      }
    }
  });
  return s;
}
