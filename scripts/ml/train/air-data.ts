// Air training data: the simulator's AirQuality world model (traffic, regional
// episodes, local spikes, indoor CO2; Weather for T/RH) read every 300 s as the
// air node reads its SCD41 and SEN5x (noise and quantization as the emulators
// scd41.ts and sen5x.ts document them), with sensor faults a deployed node
// sees injected into the readings: SCD41 CO2 drift and a wrong calibration
// offset, a stuck CO2 or PM reading, PM optics fouling (a growing offset), and
// short single-sensor PM glitches that CO2/VOC/NOx do not confirm. Each wake is
// labelled clean / CO2 reading wrong / PM reading wrong, gets integer features
// a node can keep between wakes, and is run through the air node's alarm rules
// (firmware/src/nodes/air/air-node.ts, using the same dsp blocks) for comparison.

import { Ewma, HysteresisDetector, usAqi, usAqiCategory } from "../../../firmware/src/dsp/index.ts";
import { AirQuality, RegionalAir, type AirSetting } from "../../../simulator/src/world/air-quality.ts";
import { DAY_MS, HOUR_MS } from "../../../simulator/src/world/calendar.ts";
import type { TruthEvent } from "../../../simulator/src/world/intervals.ts";
import { clamp, rngOf, uniform } from "../../../simulator/src/world/random.ts";
import { Weather } from "../../../simulator/src/world/weather.ts";
import { signedCode } from "./level-data.ts";
import { logCode } from "./water-data.ts";

export const PERIOD_S = 300;
const PERIOD_MS = PERIOD_S * 1000;
export const CLEAN = 0;
export const CO2_FAULT = 1;
export const PM_FAULT = 2;
export const AIR_FEATURES = 19;
/** A CO2 reading off the true air by more than this is labelled wrong, ppm. */
export const CO2_WRONG_PPM = 150;
/** A PM2.5 reading off by more than this plus a quarter of the true value is labelled wrong, µg/m³. */
export const PM_WRONG_UGM3 = 10;
/** True PM2.5 at or above this (µg/m³) is alarm-worthy on its own (a spike of ≥ 25 over a background, or near AQI "unhealthy"): a fault on top is not what raised the alarm. */
export const PM_REAL_UGM3 = 30;

export type FaultKind = "co2-drift" | "co2-offset" | "co2-stuck" | "pm-fouling" | "pm-stuck" | "pm-glitch";
export const FAULT_KINDS: readonly FaultKind[] = ["co2-drift", "co2-offset", "co2-stuck", "pm-fouling", "pm-stuck", "pm-glitch"];

/** An injected sensor fault on one channel, [startMs, endMs). */
export interface SensorFault {
  kind: FaultKind;
  channel: "co2" | "pm";
  startMs: number;
  endMs: number;
  /** co2-drift ppm/day, co2-offset ppm, stuck value (−1: frozen at the reading), pm-fouling µg/m³ a day, pm-glitch per-wake chance. */
  size: number;
}

/** One wake's readings, as the node's drivers deliver them, and the truth. */
export interface AirWake {
  tMs: number;
  co2: number;
  /** PM in 0.1 µg/m³, cumulative (PM1 ≤ PM2.5 ≤ PM4 ≤ PM10). */
  pm1: number;
  pm25: number;
  pm4: number;
  pm10: number;
  rhCenti: number;
  voc: number;
  nox: number;
  label: number;
  /** The fault active at this wake (an index into FAULT_KINDS), or −1. */
  fault: number;
}

export interface AirRun {
  seed: number;
  setting: AirSetting;
  days: number;
  wakes: AirWake[];
  faults: SensorFault[];
  /** Ground truth: co2High, aqiUnhealthy and pmSpike events of the world model. */
  events: TruthEvent[];
}

/** Rates of the simulated world and of the injected faults. */
export interface AirRates {
  episodesPerYear: number;
  spikesPer30Days: number;
  faultsPer30Days: number;
}

/** Enriched rates for training and the main comparison (the world model's defaults: 4 episodes a year, 0.6 spikes a month). */
export const ENRICHED: AirRates = { episodesPerYear: 16, spikesPer30Days: 3, faultsPer30Days: 3 };
/** The world model's default rates, and about one fault a node-quarter. */
export const DEFAULT_RATES: AirRates = { episodesPerYear: 4, spikesPer30Days: 0.6, faultsPer30Days: 0.33 };

const SETTINGS: readonly AirSetting[] = ["roadside", "roadside", "background", "indoor"];

/** Faults of one node: a Poisson sequence, one at a time, kinds uniform (CO2 kinds on every node, PM kinds on outdoor and indoor alike). */
export function makeFaults(seed: number, days: number, perDay: number, startMs: number): SensorFault[] {
  const r = rngOf(`air-faults:${seed}`);
  const out: SensorFault[] = [];
  let t = startMs + Math.round(-Math.log(1 - r.next()) / perDay * DAY_MS);
  while (t < startMs + days * DAY_MS) {
    const kind = FAULT_KINDS[r.int(0, FAULT_KINDS.length - 1)];
    let len = 0;
    let size = 0;
    switch (kind) {
      case "co2-drift": len = uniform(r, 3, 15) * DAY_MS; size = uniform(r, 80, 400); break;
      // A wrong forced recalibration or ASC gone wrong: mostly upwards (false highs), sometimes down (missed highs).
      case "co2-offset": len = uniform(r, 2, 10) * DAY_MS; size = r.chance(0.75) ? uniform(r, 500, 1500) : -uniform(r, 200, 500); break;
      case "co2-stuck": len = uniform(r, 2, 72) * HOUR_MS; size = r.chance(0.5) ? -1 : Math.round(uniform(r, 1800, 5000)); break;
      case "pm-fouling": len = uniform(r, 5, 20) * DAY_MS; size = uniform(r, 3, 15); break;
      case "pm-stuck": len = uniform(r, 2, 48) * HOUR_MS; size = r.chance(0.5) ? -1 : Math.round(uniform(r, 80, 1000) * 10); break;
      case "pm-glitch": len = uniform(r, 2, 24) * HOUR_MS; size = uniform(r, 0.005, 0.03); break;
    }
    out.push({ kind, channel: kind.startsWith("co2") ? "co2" : "pm", startMs: t, endMs: t + Math.round(len), size });
    t += Math.round(len) + Math.round(-Math.log(1 - r.next()) / perDay * DAY_MS);
  }
  return out;
}

/** Simulates one node for `days` days from the calendar's day 0 (a winter Monday). */
export function simulateAir(seed: number, days: number, rates: AirRates = ENRICHED): AirRun {
  const setting = SETTINGS[seed % SETTINGS.length];
  const weather = new Weather({ seed: seed * 13 + 5 });
  // The node's own regional air, with the episode rate asked for.
  const regional = new RegionalAir({ seed: `regional:${seed}`, calendar: weather.calendar, episodesPerYear: rates.episodesPerYear });
  const world = new AirQuality({ seed, weather, setting, regional, spikesPer30Days: rates.spikesPer30Days });
  const start = weather.calendar.dayStartMs(0);
  const end = start + days * DAY_MS;
  const faults = makeFaults(seed, days, rates.faultsPer30Days / 30, start);
  const r = rngOf(`air-sensors:${seed}`);
  const wakes: AirWake[] = [];
  let fi = 0;
  let frozenCo2 = -1;
  let frozenPm: number[] | undefined;
  let glitchLeft = 0;
  let glitch = [0, 0, 0, 0];
  let prevCo2 = 0;
  let prevPm = [0, 0, 0, 0];
  for (let t = start; t < end; t += PERIOD_MS) {
    while (fi < faults.length && faults[fi].endMs <= t) fi++;
    const f = fi < faults.length && faults[fi].startMs <= t ? faults[fi] : undefined;
    const a = world.at(t);
    // SCD41: environment + Gaussian noise (8 ppm), whole ppm.
    let co2 = Math.max(0, Math.round(a.co2Ppm + r.normal(0, 8)));
    // SEN5x: PM + noise (0.3 + 2 %), ×10 words made cumulative; RH, indices.
    const pmn = (v: number): number => Math.max(0, v + r.normal(0, 0.3 + 0.02 * v));
    let pm1 = clamp(Math.round(pmn(a.pm1) * 10), 0, 10000);
    let pm25 = clamp(Math.round(pmn(a.pm25) * 10), pm1, 10000);
    let pm4 = clamp(Math.round(pmn(a.pm4) * 10), pm25, 10000);
    let pm10 = clamp(Math.round(pmn(a.pm10) * 10), pm4, 10000);
    const rhCenti = clamp(Math.round((a.humidityPct + r.normal(0, 0.1)) * 100), 0, 10000);
    const voc = Math.round(clamp(a.vocIndex + r.normal(0, 1), 1, 500));
    const nox = Math.round(clamp(a.noxIndex + r.normal(0, 0.3), 1, 500));
    if (f) {
      const ageDays = (t - f.startMs) / DAY_MS;
      switch (f.kind) {
        case "co2-drift": co2 += Math.round(f.size * ageDays); break;
        case "co2-offset": co2 = Math.max(0, co2 + Math.round(f.size)); break;
        case "co2-stuck":
          if (frozenCo2 < 0) frozenCo2 = f.size < 0 ? prevCo2 || co2 : f.size;
          co2 = frozenCo2;
          break;
        case "pm-fouling": {
          // Dust on the optics scatters like coarse particles: an offset that grows, larger in the bigger sizes.
          const o = f.size * ageDays * 10;
          pm1 += Math.round(0.5 * o);
          pm25 += Math.round(o);
          pm4 += Math.round(1.3 * o);
          pm10 += Math.round(1.6 * o);
          break;
        }
        case "pm-stuck":
          if (!frozenPm) frozenPm = f.size < 0 ? (prevPm[1] > 0 ? prevPm.slice() : [pm1, pm25, pm4, pm10]) : [f.size, f.size, f.size, f.size];
          [pm1, pm25, pm4, pm10] = frozenPm;
          break;
        case "pm-glitch":
          // An insect or a droplet in the optical chamber: 1–3 wakes of large, mostly coarse counts.
          if (glitchLeft === 0 && r.chance(f.size)) {
            glitchLeft = r.int(1, 3);
            const g = uniform(r, 30, 400) * 10;
            const fine = uniform(r, 0.05, 0.6);
            glitch = [fine * 0.5 * g, fine * g, (fine + (1 - fine) * 0.5) * g, g].map(Math.round);
          }
          if (glitchLeft > 0) {
            glitchLeft--;
            pm1 += glitch[0];
            pm25 += glitch[1];
            pm4 += glitch[2];
            pm10 += glitch[3];
          }
          break;
      }
    }
    if (!f || f.kind !== "co2-stuck") frozenCo2 = -1;
    if (!f || f.kind !== "pm-stuck") frozenPm = undefined;
    if (!f || f.kind !== "pm-glitch") glitchLeft = 0;
    // Faulty for the alarms' purpose: the reading is wrong and the true air is not alarm-worthy by itself
    // (a real classroom CO2 peak read 500 ppm high is still a real CO2 alarm).
    const co2Wrong = Math.abs(co2 - a.co2Ppm) > CO2_WRONG_PPM && a.co2Ppm < CO2_PPM - CO2_HYSTERESIS_PPM;
    const pmWrong = Math.abs(pm25 / 10 - a.pm25) > PM_WRONG_UGM3 + 0.25 * a.pm25 && a.pm25 < PM_REAL_UGM3;
    const label = f?.channel === "co2" && co2Wrong ? CO2_FAULT : f?.channel === "pm" && pmWrong ? PM_FAULT : CLEAN;
    wakes.push({ tMs: t, co2, pm1, pm25, pm4, pm10, rhCenti, voc, nox, label, fault: f ? FAULT_KINDS.indexOf(f.kind) : -1 });
    prevCo2 = co2;
    prevPm = [pm1, pm25, pm4, pm10];
  }
  const events = world.events(start, end).filter((e) => e.kind === "co2High" || e.kind === "aqiUnhealthy" || e.kind === "pmSpike");
  return { seed, setting, days, wakes, faults, events };
}

// ------------------------------------------------------------ the node's rules

/** The air node's factory thresholds (nodes/config.ts): CO2 1500 ppm, 200 ppm hysteresis; PM spike 25 µg/m³; AQI category 3. */
export const CO2_PPM = 1500;
export const CO2_HYSTERESIS_PPM = 200;
export const PM_SPIKE_DECI = 250;
export const AQI_ALARM_CATEGORY = 3;

/** Per wake: whether the node's CO2 alarm and its PM alarm (spike, or AQI category ≥ 3) are active, and its filter states. */
export interface RuleTrace {
  co2Active: boolean[];
  pmActive: boolean[];
  /** The node's PM2.5 baseline (EWMA α 1/16 of quiet air), 0.1 µg/m³, before this wake's update. */
  pmBaseline: number[];
  co2f: number[];
}

/**
 * The air node's alarm rules on a run's readings: CO2 EWMA (α ½) with
 * hysteresis (on at ≥ 1500 for 2 wakes, off at ≤ 1300 for 2); PM2.5 spike:
 * raw − quiet-air baseline ≥ 25 µg/m³ (on at once, off below 12.5 for 2);
 * AQI category of the filtered PM2.5/PM10, debounced over two wakes. The PM
 * alarm family is active while the spike is or the reported category is ≥ 3.
 */
export function ruleTrace(run: AirRun): RuleTrace {
  const co2 = new Ewma(1);
  const pm25 = new Ewma(1);
  const pm10 = new Ewma(1);
  const base = new Ewma(4);
  let basePrimed = false;
  const co2Alarm = new HysteresisDetector({ high: CO2_PPM, low: CO2_PPM - CO2_HYSTERESIS_PPM, setCount: 2, clearCount: 2 });
  const spike = new HysteresisDetector({ high: PM_SPIKE_DECI, low: PM_SPIKE_DECI >> 1, setCount: 1, clearCount: 2 });
  let reported = -1;
  let candidate = -1;
  let count = 0;
  const tr: RuleTrace = { co2Active: [], pmActive: [], pmBaseline: [], co2f: [] };
  for (const w of run.wakes) {
    const c = co2.update(w.co2);
    co2Alarm.update(c);
    const p25 = pm25.update(w.pm25);
    const b = basePrimed ? base.value : w.pm25;
    tr.pmBaseline.push(b);
    spike.update(w.pm25 - b);
    if (!spike.active) {
      base.update(w.pm25);
      basePrimed = true;
    }
    const p10 = pm10.update(w.pm10);
    const cat = usAqiCategory(usAqi(p25, p10));
    if (cat === reported) count = 0;
    else if (reported < 0) reported = cat;
    else {
      if (cat === candidate) count++;
      else {
        candidate = cat;
        count = 1;
      }
      if (count >= 2) {
        reported = cat;
        count = 0;
      }
    }
    tr.co2f.push(c);
    tr.co2Active.push(co2Alarm.active);
    tr.pmActive.push(spike.active || reported >= AQI_ALARM_CATEGORY);
  }
  return tr;
}

// ------------------------------------------------------------ features

const WAKES_PER_HOUR = 3600 / PERIOD_S;

/**
 * Per-wake features, codes 0..255, from what the node has or can keep between
 * wakes (an hourly ring of 24 minima per channel, yesterday's minimum, two
 * stuck counters, the previous reading): 0 filtered CO2/16 ppm; 1 filtered CO2
 * above its 24 h minimum /8; 2 the 24 h minimum /8 (outdoor air never stays
 * far above ~420 ppm for a day, nor does an empty room overnight); 3 CO2
 * change since the last wake (signed log); 4 wakes in a row with an identical
 * raw CO2 ×16; 5 PM2.5 (log); 6 PM2.5 above the node's quiet-air baseline
 * (signed log); 7 24 h minimum PM2.5 (log); 8 change of that minimum over a
 * day (signed log); 9 PM1/PM2.5 ×128; 10 PM10/PM2.5 ×32; 11 wakes in a row
 * with identical raw PM2.5 ×16; 12 PM2.5 change since the last wake (signed
 * log); 13 VOC index /2; 14 NOx index (log); 15 RH /0.4 %; 16 hour of day ×10;
 * 17, 18 VOC and NOx index change since the last wake (signed log: smoke moves
 * them with the PM, an insect in the optics does not).
 */
export function airFeatures(run: AirRun, trace: RuleTrace = ruleTrace(run)): Uint8Array[] {
  const out: Uint8Array[] = [];
  const hours = Math.ceil(run.wakes.length / WAKES_PER_HOUR);
  const co2Min = new Int32Array(hours).fill(0x7fffffff);
  const pmMin = new Int32Array(hours).fill(0x7fffffff);
  const min24 = (ring: Int32Array, h: number): number => {
    let m = 0x7fffffff;
    for (let k = Math.max(0, h - 23); k <= h; k++) m = Math.min(m, ring[k]);
    return m;
  };
  const pmMinDay: number[] = [];
  let co2Run = 0;
  let pmRun = 0;
  run.wakes.forEach((w, i) => {
    const h = Math.floor(i / WAKES_PER_HOUR);
    const c = trace.co2f[i];
    co2Min[h] = Math.min(co2Min[h], c);
    pmMin[h] = Math.min(pmMin[h], w.pm25);
    const cMin = min24(co2Min, h);
    const pMin = min24(pmMin, h);
    pmMinDay.push(pMin);
    const pYesterday = i >= 288 ? pmMinDay[i - 288] : pMin;
    const prev = i > 0 ? run.wakes[i - 1] : w;
    co2Run = i > 0 && w.co2 === prev.co2 ? co2Run + 1 : 0;
    pmRun = i > 0 && w.pm25 === prev.pm25 ? pmRun + 1 : 0;
    const pm25 = Math.max(1, w.pm25);
    const hourOfDay = Math.floor(((w.tMs - run.wakes[0].tMs) % DAY_MS) / HOUR_MS);
    out.push(Uint8Array.from([
      Math.min(255, c >> 4),
      Math.min(255, Math.max(0, c - cMin) >> 3),
      Math.min(255, cMin >> 3),
      signedCode(w.co2 - prev.co2),
      Math.min(15, co2Run) * 16,
      logCode(w.pm25),
      signedCode(w.pm25 - trace.pmBaseline[i]),
      logCode(pMin),
      signedCode(pMin - pYesterday),
      Math.min(255, Math.floor((w.pm1 * 128) / pm25)),
      Math.min(255, Math.floor((w.pm10 * 32) / pm25)),
      Math.min(15, pmRun) * 16,
      signedCode(w.pm25 - prev.pm25),
      Math.min(255, w.voc >> 1),
      logCode(w.nox),
      Math.min(255, Math.floor(w.rhCenti / 40)),
      hourOfDay * 10,
      signedCode(w.voc - prev.voc),
      signedCode(w.nox - prev.nox),
    ]));
  });
  return out;
}

/** Times each faulty wake of a kind is repeated in the training set: glitches are brief and rare, drifts long and plentiful. */
const OVERSAMPLE: Record<FaultKind, number> = { "co2-drift": 1, "co2-offset": 1, "co2-stuck": 2, "pm-fouling": 1, "pm-stuck": 2, "pm-glitch": 24 };

/**
 * Training/test windows: every wake that is faulty, alarming or near either,
 * and every 4th other wake (the rest are easy and plentiful), or every wake
 * with `all`; faulty wakes repeated per OVERSAMPLE with `oversample` (for
 * training only).
 */
export function airDataset(runs: readonly AirRun[], all = false, oversample = !all): { x: Float64Array[]; q: Int8Array[]; y: number[] } {
  const d = { x: [] as Float64Array[], q: [] as Int8Array[], y: [] as number[] };
  for (const run of runs) {
    const tr = ruleTrace(run);
    const fs = airFeatures(run, tr);
    fs.forEach((f, i) => {
      const w = run.wakes[i];
      if (!all && w.label === CLEAN && !tr.co2Active[i] && !tr.pmActive[i] && f[6] < 140 && i % 4 !== 0) return;
      const n = !oversample || w.label === CLEAN ? 1 : OVERSAMPLE[FAULT_KINDS[w.fault]];
      for (let k = 0; k < n; k++) {
        d.x.push(Float64Array.from(f, (c) => c / 32));
        d.q.push(Int8Array.from(f, (c) => c - 128));
        d.y.push(w.label);
      }
    });
  }
  return d;
}

// ------------------------------------------------------------ alarms and scoring

export type Family = "co2" | "pm";

/** Raise and clear times of one alarm family. */
export interface Alarm {
  raiseMs: number;
  clearMs: number;
}

/** Alarms from an activity trace: raised when `active` becomes true, cleared when it becomes false. */
export function alarmsOf(run: AirRun, active: readonly boolean[]): Alarm[] {
  const out: Alarm[] = [];
  let open: Alarm | undefined;
  run.wakes.forEach((w, i) => {
    if (active[i] && !open) out.push((open = { raiseMs: w.tMs, clearMs: Infinity }));
    else if (!active[i] && open) {
      open.clearMs = w.tMs;
      open = undefined;
    }
  });
  return out;
}

/** Wakes in a row the model must call the sensor sound to raise an alarm the rules have held for a while. */
export const LATE_RAISE_WAKES = 3;

/**
 * The node's rules gated by a classifier run at every wake: an alarm is raised
 * where the rules' family is active and the model has called that channel
 * sound at this wake and the LATE_RAISE_WAKES − 1 before it (the rules'
 * debounce and filters lag a wake or two behind a glitch, and one wrong
 * verdict in a day-long fault must not raise it); once raised it stays until
 * the rules clear (no flapping).
 */
export function gatedActive(rules: readonly boolean[], classes: readonly number[], faultClass: number): boolean[] {
  const out: boolean[] = [];
  let on = false;
  let sound = 0;
  rules.forEach((a, i) => {
    sound = classes[i] !== faultClass ? sound + 1 : 0;
    if (!a) on = false;
    else if (!on && sound >= LATE_RAISE_WAKES) on = true;
    out.push(on);
  });
  return out;
}

/** Real events of a family: co2High for CO2; aqiUnhealthy and pmSpike for PM. */
export function familyEvents(run: AirRun, fam: Family): TruthEvent[] {
  return run.events.filter((e) => (fam === "co2" ? e.kind === "co2High" : e.kind !== "co2High"));
}

/** An alarm up to this long before an event's start or after its end belongs to it. */
export const MATCH_MS = 30 * 60_000;

export interface AirScore {
  events: number;
  detected: number;
  alarms: number;
  trueAlarms: number;
  /** False alarms raised while a fault on this family's sensor was active (or within an hour after it). */
  faultAlarms: number;
  otherFalseAlarms: number;
  latenciesMs: number[];
  faults: number;
  /** Faults on this family's sensor that raised at least one false alarm. */
  faultsAlarming: number;
  /** Fault-caused false alarms by the kind of fault. */
  byKind: Partial<Record<FaultKind, number>>;
  nodeDays: number;
}

export function emptyScore(): AirScore {
  return { events: 0, detected: 0, alarms: 0, trueAlarms: 0, faultAlarms: 0, otherFalseAlarms: 0, latenciesMs: [], faults: 0, faultsAlarming: 0, byKind: {}, nodeDays: 0 };
}

/** Scores one family's alarms of a run per incident; adds into `s`. */
export function scoreAir(run: AirRun, fam: Family, alarms: readonly Alarm[], s: AirScore = emptyScore()): AirScore {
  const events = familyEvents(run, fam);
  const faults = run.faults.filter((f) => f.channel === fam);
  s.nodeDays += run.days;
  s.events += events.length;
  s.faults += faults.length;
  for (const e of events) {
    const hit = alarms.find((a) => a.raiseMs <= e.endMs + MATCH_MS && a.clearMs > e.startMs - MATCH_MS);
    if (hit) {
      s.detected++;
      s.latenciesMs.push(Math.max(0, hit.raiseMs - e.startMs));
    }
  }
  const alarming = new Set<SensorFault>();
  for (const a of alarms) {
    s.alarms++;
    if (events.some((e) => a.raiseMs >= e.startMs - MATCH_MS && a.raiseMs <= e.endMs + MATCH_MS)) s.trueAlarms++;
    else {
      const f = faults.find((x) => a.raiseMs >= x.startMs && a.raiseMs <= x.endMs + HOUR_MS);
      if (f) {
        s.faultAlarms++;
        s.byKind[f.kind] = (s.byKind[f.kind] ?? 0) + 1;
        alarming.add(f);
      } else s.otherFalseAlarms++;
    }
  }
  s.faultsAlarming += alarming.size;
  return s;
}
