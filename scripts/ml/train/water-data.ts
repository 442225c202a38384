// Water training data: per-minute flow from the WaterDemand world model,
// integer features per 15-minute window (what the water node can compute with
// integer operations), labels from the ground truth, and the fixed-threshold
// detector of the water node (firmware/src/nodes/water/water-node.ts) for
// comparison.

import { WaterDemand, type WaterDemandOptions } from "../../../simulator/src/world/water-demand.ts";

export const MINUTE_MS = 60_000;
export const WINDOW_MIN = 15;
export const WINDOWS_PER_DAY = 96;
export const CLASSES = ["normal", "leak", "burst"] as const;
export const NORMAL = 0;
export const LEAK = 1;
export const BURST = 2;
export const FEATURES = 8;
/** Features are codes 0..255; the model input is code − 128 (int8, scale 1/32, zero point −128). */
export const INPUT_SCALE = 1 / 32;
export const INPUT_ZERO_POINT = -128;

/** One household's simulated flow: per-minute mL/min, the windows' labels and the incidents. */
export interface Household {
  seed: number;
  days: number;
  startMs: number;
  flowMl: Int32Array;
  labels: Uint8Array;
  leaks: { startMs: number; endMs: number; flowLMin: number }[];
  bursts: { startMs: number; endMs: number; flowLMin: number }[];
}

/** Incident rates enriched over the world model's defaults (1.5 leaks and 0.2 bursts a year) so that a few node-months hold enough of each. */
export const ENRICHED: Partial<WaterDemandOptions> = { leaksPerYear: 20, burstsPerYear: 20, leakDaysMedian: 3 };

/** The node's meter: a Hall turbine, pulses per litre. */
export const PULSES_PER_LITRE = 450;

export function simulateHousehold(seed: number, days: number, options: Partial<WaterDemandOptions> = ENRICHED): Household {
  const w = new WaterDemand({ seed, ...options });
  const startMs = w.calendar.dayStartMs(0);
  const minutes = days * 1440;
  const flowMl = new Int32Array(minutes);
  // What the node measures: whole pulses of a 450 P/L Hall turbine (YF-S201) counted per minute, in mL.
  // The volume is the integral over the minute, as the meter counts it: a 20-second tap run is a third of
  // a minute at its flow, not a whole minute or nothing (the flow sampled at the minute's start).
  let volumeMl = 0;
  let pulses = 0;
  for (let i = 0; i < minutes; i++) {
    const t = startMs + i * MINUTE_MS;
    volumeMl += Math.round(w.volumeL(t, t + MINUTE_MS) * 1000);
    const total = Math.floor((volumeMl * PULSES_PER_LITRE) / 1000);
    flowMl[i] = Math.round(((total - pulses) * 1000) / PULSES_PER_LITRE);
    pulses = total;
  }
  const endMs = startMs + minutes * MINUTE_MS;
  const leaks = w.leaks(startMs, endMs);
  const bursts = w.bursts(startMs, endMs);
  const labels = new Uint8Array(minutes / WINDOW_MIN);
  for (let k = 0; k < labels.length; k++) {
    const a = startMs + k * WINDOW_MIN * MINUTE_MS;
    const b = a + WINDOW_MIN * MINUTE_MS;
    // A burst window holds at least three minutes of the burst: shorter tails look like a shower plus a cistern refill.
    if (bursts.some((x) => Math.min(x.endMs, b) - Math.max(x.startMs, a) >= 3 * MINUTE_MS)) labels[k] = BURST;
    else if (leaks.some((x) => x.startMs < b && x.endMs > a)) labels[k] = LEAK;
  }
  return { seed, days, startMs, flowMl, labels, leaks, bursts };
}

/** Log code of a non-negative integer: 0 for 0, else 8·⌊log2 v⌋ + the next 3 mantissa bits + 1 (integer only: clz32 and shifts). */
export function logCode(v: number): number {
  if (v <= 0) return 0;
  const e = 31 - Math.clz32(v);
  const mant = e >= 3 ? (v >> (e - 3)) & 7 : (v << (3 - e)) & 7;
  return Math.min(255, 8 * e + mant + 1);
}

const BIG_FLOW_ML = 19_500;

/**
 * Features of every 15-minute window, codes 0..255 (8 per window):
 * 0 log min flow, 1 log mean flow, 2 log max flow, 3 zero-flow minutes ×17,
 * 4 hour of day ×10, 5 log min of the window minima over the last 24 h,
 * 6 the same over the last 4 h, 7 the longest run of minutes at ≥ 19.5 L/min
 * ending in the window (a running counter across windows, capped at 15) ×17.
 */
export function windowFeatures(h: Household): Uint8Array {
  const n = h.labels.length;
  const out = new Uint8Array(n * FEATURES);
  const mins = new Int32Array(n);
  let run = 0;
  for (let k = 0; k < n; k++) {
    let min = 0x7fffffff;
    let max = 0;
    let sum = 0;
    let zeros = 0;
    let longest = 0;
    for (let i = k * WINDOW_MIN; i < (k + 1) * WINDOW_MIN; i++) {
      const v = h.flowMl[i];
      if (v < min) min = v;
      if (v > max) max = v;
      sum += v;
      if (v === 0) zeros++;
      run = v >= BIG_FLOW_ML ? run + 1 : 0;
      if (run > longest) longest = run;
    }
    mins[k] = min;
    let min24 = min;
    for (let j = Math.max(0, k - WINDOWS_PER_DAY + 1); j < k; j++) min24 = Math.min(min24, mins[j]);
    let min4 = min;
    for (let j = Math.max(0, k - 15); j < k; j++) min4 = Math.min(min4, mins[j]);
    const o = k * FEATURES;
    out[o] = logCode(min);
    out[o + 1] = logCode(Math.floor(sum / WINDOW_MIN));
    out[o + 2] = logCode(max);
    out[o + 3] = zeros * 17;
    out[o + 4] = Math.floor((k % WINDOWS_PER_DAY) / 4) * 10;
    out[o + 5] = logCode(min24);
    out[o + 6] = logCode(min4);
    out[o + 7] = Math.min(15, longest) * 17;
  }
  return out;
}

/** A labelled dataset of windows: features as model-input floats (code · INPUT_SCALE) and int8 codes. */
export interface Dataset {
  x: Float64Array[];
  q: Int8Array[];
  y: number[];
}

/** Windows of the households, skipping the first day (the 24-hour context is still filling). */
export function dataset(households: readonly Household[]): Dataset {
  const d: Dataset = { x: [], q: [], y: [] };
  for (const h of households) {
    const f = windowFeatures(h);
    for (let k = WINDOWS_PER_DAY; k < h.labels.length; k++) {
      const codes = f.subarray(k * FEATURES, (k + 1) * FEATURES);
      d.x.push(Float64Array.from(codes, (c) => c * INPUT_SCALE));
      d.q.push(Int8Array.from(codes, (c) => c - 128));
      d.y.push(h.labels[k]);
    }
  }
  return d;
}

// ---- detectors and event-level scoring ----

/** An alarm episode of one kind: raised at raiseMs, cleared at clearMs. */
export interface Episode {
  raiseMs: number;
  clearMs: number;
}

export interface Alarms {
  leak: Episode[];
  burst: Episode[];
}

/**
 * The water node's fixed-threshold rules on per-minute flow: leak when the
 * minimum flow of the night window (02:00–05:00) is above 30 mL/min, judged at
 * 05:00, or when the flow has not been zero for 24 h; cleared after a night
 * whose minimum is at most 15 mL/min outside a 24-hour run. Burst when the flow
 * is above 30 L/min for 120 s in a row; cleared after 120 s at most 15 L/min.
 */
export function thresholdAlarms(h: Household): Alarms {
  const leak: Episode[] = [];
  const burst: Episode[] = [];
  let leakOn = -1;
  let burstOn = -1;
  let nightMin = 0x7fffffff;
  let run = 0;
  let high = 0;
  let low = 0;
  for (let i = 0; i < h.flowMl.length; i++) {
    const t = h.startMs + (i + 1) * MINUTE_MS;
    const v = h.flowMl[i];
    const minOfDay = i % 1440;
    run = v > 0 ? run + 1 : 0;
    if (minOfDay >= 120 && minOfDay < 300) nightMin = Math.min(nightMin, v);
    if (leakOn < 0 && run >= 1440) leakOn = t;
    if (minOfDay === 299) {
      if (leakOn < 0 && nightMin > 30) leakOn = t;
      else if (leakOn >= 0 && nightMin <= 15 && run < 1440) {
        leak.push({ raiseMs: leakOn, clearMs: t });
        leakOn = -1;
      }
      nightMin = 0x7fffffff;
    }
    if (v > 30_000) {
      high++;
      low = 0;
    } else {
      high = 0;
      low = v <= 15_000 ? low + 1 : 0;
    }
    if (burstOn < 0 && high >= 2) burstOn = t;
    else if (burstOn >= 0 && low >= 2) {
      burst.push({ raiseMs: burstOn, clearMs: t });
      burstOn = -1;
    }
  }
  const end = h.startMs + h.flowMl.length * MINUTE_MS;
  if (leakOn >= 0) leak.push({ raiseMs: leakOn, clearMs: end });
  if (burstOn >= 0) burst.push({ raiseMs: burstOn, clearMs: end });
  return { leak, burst };
}

/**
 * Alarm episodes from per-window class predictions, debounced as the node
 * would: a kind is raised after `raise` predicted windows in a row and
 * cleared after `clear` windows in a row without it (leak 4 / 96, burst 1 / 2).
 */
export function modelAlarms(h: Household, predicted: ArrayLike<number>, firstWindow = WINDOWS_PER_DAY): Alarms {
  const run = (cls: number, raise: number, clear: number): Episode[] => {
    const eps: Episode[] = [];
    let on = -1;
    let yes = 0;
    let no = 0;
    for (let k = firstWindow; k < predicted.length; k++) {
      const t = h.startMs + (k + 1) * WINDOW_MIN * MINUTE_MS;
      if (predicted[k] === cls) {
        yes++;
        no = 0;
      } else {
        yes = 0;
        no++;
      }
      if (on < 0 && yes >= raise) on = t;
      else if (on >= 0 && no >= clear) {
        eps.push({ raiseMs: on, clearMs: t });
        on = -1;
      }
    }
    if (on >= 0) eps.push({ raiseMs: on, clearMs: h.startMs + predicted.length * WINDOW_MIN * MINUTE_MS });
    return eps;
  };
  return { leak: run(LEAK, 4, 96), burst: run(BURST, 1, 2) };
}

export interface Score {
  incidents: number;
  detected: number;
  episodes: number;
  falseAlarms: number;
  latenciesMs: number[];
  nodeDays: number;
}

/**
 * Event-level scoring of one kind. Incidents starting after the first day
 * count; one is detected when an episode is active at some time in
 * [start, end + graceMs] (latency: raise − start, at least 0). An episode
 * active at no incident (± grace) is a false alarm.
 */
export function score(h: Household, incidents: readonly { startMs: number; endMs: number }[], episodes: readonly Episode[], graceMs: number, into?: Score): Score {
  const s = into ?? { incidents: 0, detected: 0, episodes: 0, falseAlarms: 0, latenciesMs: [], nodeDays: 0 };
  const from = h.startMs + 1440 * MINUTE_MS;
  const end = h.startMs + h.flowMl.length * MINUTE_MS;
  s.nodeDays += h.days - 1;
  for (const inc of incidents) {
    if (inc.startMs < from || inc.startMs >= end) continue;
    s.incidents++;
    const hit = episodes.filter((e) => e.raiseMs <= Math.min(end, inc.endMs + graceMs) && e.clearMs > inc.startMs);
    if (hit.length > 0) {
      s.detected++;
      s.latenciesMs.push(Math.max(0, Math.min(...hit.map((e) => e.raiseMs)) - inc.startMs));
    }
  }
  for (const e of episodes) {
    if (e.clearMs <= from) continue;
    s.episodes++;
    if (!incidents.some((inc) => e.raiseMs <= inc.endMs + graceMs && e.clearMs > inc.startMs)) s.falseAlarms++;
  }
  return s;
}

export function summary(s: Score): { precision: number; recall: number; f1: number; medianLatencyMin: number; falseAlarmsPerNodeMonth: number } {
  const precision = s.episodes === 0 ? 1 : (s.episodes - s.falseAlarms) / s.episodes;
  const recall = s.incidents === 0 ? 1 : s.detected / s.incidents;
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  const l = [...s.latenciesMs].sort((a, b) => a - b);
  const medianLatencyMin = l.length === 0 ? NaN : l[Math.floor(l.length / 2)] / MINUTE_MS;
  return { precision, recall, f1, medianLatencyMin, falseAlarmsPerNodeMonth: s.falseAlarms / (s.nodeDays / 30) };
}
