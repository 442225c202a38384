/**
 * Street drains (a gully or inspection chamber with an A02YYUW looking down
 * at the water) driven by the city's rain.
 *
 * A linear reservoir: rain on the catchment runs off into the chamber,
 * Q_in = C · A · i (runoff coefficient, catchment m², intensity), and leaves
 * through the outlet at Q_out = S / K (storage over a time constant), but no
 * faster than the outlet pipe's capacity. Storage S sits above a dry-weather
 * level (a trickle with a small daily cycle) in a chamber of plan area a, so
 * the level is base + S / a. When intense rain exceeds the outlet capacity
 * the level climbs fast, and once it reaches the full line (the grate) water
 * ponds on the street: a **flash flood**, until the outlet has drained it.
 * **Blockages** (leaves, silt; random, more in autumn, or scripted) divide the
 * time constant and the capacity by (1 − fraction). **Obstructions** (a leaf
 * or debris on the sensor) put a soft target at 40–250 mm for hours.
 *
 * The storage is integrated exactly per 10-second step (exponential decay
 * towards Q_in·K below the capacity knee, linear above it) on the weather's
 * shared rain series, one local day at a time in order, and kept at one-minute
 * knots; dry days with an empty chamber are not stored at all. The distance
 * callback interpolates the knots: O(1), no allocation but the result.
 *
 * Defaults (a design-manual-sized example, not a survey): 250 m² of asphalt
 * per gully (C = 0.85; gullies are spaced for roughly 200–300 m² of road), a
 * 1 m² chamber 1.2 m deep below the grate (sensor 300 mm above the grate
 * level, 1500 mm above the dry level), K = 10 min, an outlet that takes 1.5 L/s
 * (a partly silted 150 mm connection): 10 mm/h of rain raises the level by
 * about 30 %, and rain above ≈ 25 mm/h sustained for a quarter of an hour
 * floods it. Blockages 0.15 and obstructions 0.3 per 30 days, ×3 in autumn.
 */
import type { Rng } from "../core/rng.ts";
import type { A02yyuwTarget } from "../devices/a02yyuw.ts";
import { DAY_MS, HOUR_MS, MINUTE_MS, SECOND_MS, YEAR_DAYS, type Calendar } from "./calendar.ts";
import { DailyEvents, SampledIntervalsCache, overlaps, type Interval, type PeakInterval, type TruthEvent } from "./intervals.ts";
import { clamp, lognormal, rngOf, uniform, type SeedLike } from "./random.ts";
import type { Weather } from "./weather.ts";

export interface Blockage extends Interval {
  /** Share of the outlet blocked (0..0.95). */
  fraction: number;
  scripted: boolean;
}

export interface Obstruction extends Interval {
  /** Distance from the sensor to the debris, mm. */
  distanceMm: number;
  scripted: boolean;
}

export interface DrainThresholds {
  /** Rise rate that counts as rapid, %/h of the span (default 50, the firmware's factory setting), over `rateWindowMs` (default 30 min). */
  rapidRisePctPerH: number;
  rateWindowMs: number;
  /** Sampling step of the rapid-rise and flood intervals (default 60 s) and merge gap (default 10 min). */
  stepMs: number;
  mergeGapMs: number;
}

export const DEFAULT_DRAIN_THRESHOLDS: Readonly<DrainThresholds> = Object.freeze({
  rapidRisePctPerH: 50,
  rateWindowMs: 30 * MINUTE_MS,
  stepMs: MINUTE_MS,
  mergeGapMs: 10 * MINUTE_MS,
});

export interface DrainOptions {
  seed: SeedLike;
  weather: Weather;
  /** Sensor to the dry-weather water level and to the full line (grate), mm (default 1500 and 300). */
  depthMm?: number;
  fullDistanceMm?: number;
  catchmentM2?: number;
  runoffCoefficient?: number;
  chamberAreaM2?: number;
  timeConstantMin?: number;
  outletCapacityLS?: number;
  /** Dry-weather level above the empty reference, mm, and its daily swing (default 40 and 8). */
  baseLevelMm?: number;
  diurnalMm?: number;
  blockages?: readonly (Interval & { fraction: number })[];
  obstructions?: readonly (Interval & { distanceMm?: number })[];
  /** Random blockages and obstructions (default true), per 30 days (default 0.15 and 0.3). */
  randomIncidents?: boolean;
  blockagesPer30Days?: number;
  obstructionsPer30Days?: number;
}

/** Ground truth of a drain. */
export interface DrainTruth {
  rapidRise: PeakInterval[];
  /** Water at the full line (peak = ponded volume, L). */
  floods: PeakInterval[];
  obstructions: Obstruction[];
  blockages: Blockage[];
}

const STEP_MS = 10 * SECOND_MS;
const KNOT_MS = MINUTE_MS;
const SUBSTEPS = KNOT_MS / STEP_MS;
const KNOTS = DAY_MS / KNOT_MS;
/** Below this storage (L) a chamber counts as empty. */
const EMPTY_L = 0.05;
const MAX_BLOCKAGE_MS = 45 * DAY_MS;
const MAX_OBSTRUCTION_MS = 4 * DAY_MS;

interface DrainDay {
  startMs: number;
  endMs: number;
  /** Storage at each minute knot, L (KNOTS + 1 values), or undefined for an empty dry day. */
  storage: Float32Array | undefined;
  endStorage: number;
}

export class Drain {
  readonly calendar: Calendar;
  readonly weather: Weather;
  readonly depthMm: number;
  readonly fullDistanceMm: number;
  /** Level range from the empty reference to the full line, mm. */
  readonly spanMm: number;
  readonly #rng: Rng;
  readonly #inflowPerMmH: number;
  readonly #areaM2: number;
  readonly #kMs: number;
  readonly #capLPerMs: number;
  readonly #base: number;
  readonly #diurnal: number;
  readonly #blockages: DailyEvents<Blockage>;
  readonly #obstructions: DailyEvents<Obstruction>;
  readonly #scriptedBlockages: Blockage[];
  readonly #scriptedObstructions: Obstruction[];
  readonly #random: boolean;
  readonly #blockRate: number;
  readonly #obstructRate: number;
  readonly #days: DrainDay[] = [];
  readonly #firstDay = -1;
  readonly #obstructionDays = new Map<number, Obstruction[]>();
  readonly #samplers = new SampledIntervalsCache();
  #cur: DrainDay | undefined;
  #curObstructions: Obstruction[] = [];

  constructor(options: DrainOptions) {
    this.#rng = rngOf(options.seed);
    this.weather = options.weather;
    this.calendar = options.weather.calendar;
    this.depthMm = options.depthMm ?? 1500;
    this.fullDistanceMm = options.fullDistanceMm ?? 300;
    if (!(this.depthMm > this.fullDistanceMm && this.fullDistanceMm >= 30)) throw new RangeError("drain: need depthMm > fullDistanceMm ≥ 30");
    this.spanMm = this.depthMm - this.fullDistanceMm;
    // 1 mm of rain on 1 m² is 1 L: inflow L/ms per mm/h of rain.
    this.#inflowPerMmH = ((options.runoffCoefficient ?? 0.85) * (options.catchmentM2 ?? 250)) / HOUR_MS;
    this.#areaM2 = options.chamberAreaM2 ?? 1;
    this.#kMs = (options.timeConstantMin ?? 10) * MINUTE_MS;
    this.#capLPerMs = (options.outletCapacityLS ?? 1.5) / SECOND_MS;
    this.#base = options.baseLevelMm ?? 40;
    this.#diurnal = options.diurnalMm ?? 8;
    this.#random = options.randomIncidents ?? true;
    this.#blockRate = (options.blockagesPer30Days ?? 0.15) / 30;
    this.#obstructRate = (options.obstructionsPer30Days ?? 0.3) / 30;
    this.#blockages = new DailyEvents(this.calendar, (d) => this.#generateBlockage(d), MAX_BLOCKAGE_MS);
    this.#obstructions = new DailyEvents(this.calendar, (d) => this.#generateObstruction(d), MAX_OBSTRUCTION_MS);
    this.#scriptedBlockages = (options.blockages ?? []).map((b) => {
      if (!(b.endMs > b.startMs)) throw new RangeError("blockage: endMs must be after startMs");
      return { startMs: b.startMs, endMs: b.endMs, fraction: clamp(b.fraction, 0, 0.95), scripted: true };
    });
    this.#scriptedObstructions = (options.obstructions ?? []).map((o) => {
      if (!(o.endMs > o.startMs)) throw new RangeError("obstruction: endMs must be after startMs");
      return { startMs: o.startMs, endMs: o.endMs, distanceMm: o.distanceMm ?? 120, scripted: true };
    });
  }

  /** Autumn leaf fall: up to 3× the rate around early November (northern hemisphere). */
  #autumn(tMs: number): number {
    let x = (this.calendar.dayOfYear(tMs) - 305) / 30;
    if (x < -YEAR_DAYS / 60) x += YEAR_DAYS / 30;
    return 1 + 2 * Math.exp(-x * x);
  }

  #generateBlockage(day: number): Blockage[] {
    if (!this.#random) return [];
    const r = this.#rng.fork(`blockage:${day}`);
    const start = this.calendar.dayStartMs(day);
    if (!r.chance(this.#blockRate * this.#autumn(start))) return [];
    const startMs = Math.round(start + r.next() * DAY_MS);
    const dur = Math.round(clamp(lognormal(r, 10, 0.6), 1, 45) * DAY_MS);
    return [{ startMs, endMs: startMs + dur, fraction: uniform(r, 0.3, 0.9), scripted: false }];
  }

  #generateObstruction(day: number): Obstruction[] {
    if (!this.#random) return [];
    const r = this.#rng.fork(`obstruction:${day}`);
    const start = this.calendar.dayStartMs(day);
    if (!r.chance(this.#obstructRate * this.#autumn(start))) return [];
    const startMs = Math.round(start + r.next() * DAY_MS);
    const dur = Math.round(clamp(lognormal(r, 8, 1), 0.5, 96) * HOUR_MS);
    return [{ startMs, endMs: startMs + dur, distanceMm: uniform(r, 40, 250), scripted: false }];
  }

  /** Blockages overlapping [fromMs, toMs), sorted. */
  blockages(fromMs: number, toMs: number): Blockage[] {
    const out = this.#blockages.between(fromMs, toMs);
    for (const b of this.#scriptedBlockages) if (overlaps(b, fromMs, toMs)) out.push(b);
    return out.sort((a, b) => a.startMs - b.startMs);
  }

  /** Obstructions overlapping [fromMs, toMs), sorted. */
  obstructions(fromMs: number, toMs: number): Obstruction[] {
    const out = this.#obstructions.between(fromMs, toMs);
    for (const o of this.#scriptedObstructions) if (overlaps(o, fromMs, toMs)) out.push(o);
    return out.sort((a, b) => a.startMs - b.startMs);
  }

  // ---------------------------------------------------------- hydraulics

  #simulate(day: number, s0: number): DrainDay {
    const startMs = this.calendar.dayStartMs(day);
    const endMs = this.calendar.dayStartMs(day + 1);
    if (s0 < EMPTY_L && !this.weather.rainsOnDay(day)) return { startMs, endMs, storage: undefined, endStorage: 0 };
    const rain = this.weather.rainSeries(day, STEP_MS);
    const blocks = this.blockages(startMs, endMs);
    const storage = new Float32Array(KNOTS + 1);
    let s = s0;
    storage[0] = s;
    for (let k = 0; k < KNOTS; k++) {
      const t = startMs + k * KNOT_MS;
      let b = 0;
      for (const bl of blocks) if (t >= bl.startMs && t < bl.endMs && bl.fraction > b) b = bl.fraction;
      const K = this.#kMs / (1 - b);
      const cap = this.#capLPerMs * (1 - b);
      const knee = cap * K;
      const decay = Math.exp(-STEP_MS / K);
      for (let j = 0; j < SUBSTEPS; j++) {
        const qin = this.#inflowPerMmH * rain[k * SUBSTEPS + j];
        if (s > knee) {
          // The outlet runs full: the surplus (or deficit) accumulates linearly.
          s += (qin - cap) * STEP_MS;
          if (s < knee) s = knee;
        } else {
          const steady = qin * K;
          s = steady + (s - steady) * decay;
        }
        if (s < 0) s = 0;
      }
      storage[k + 1] = s;
    }
    return { startMs, endMs, storage, endStorage: s < EMPTY_L && rain[rain.length - 1] === 0 ? 0 : s };
  }

  #day(day: number): DrainDay {
    const first = this.#firstDay;
    if (day < first) {
      const startMs = this.calendar.dayStartMs(day);
      return { startMs, endMs: this.calendar.dayStartMs(day + 1), storage: undefined, endStorage: 0 };
    }
    while (first + this.#days.length <= day) {
      const prev = this.#days[this.#days.length - 1];
      this.#days.push(this.#simulate(first + this.#days.length, prev ? prev.endStorage : 0));
    }
    return this.#days[day - first];
  }

  /** Dry-weather level at t, mm. */
  #baseline(tMs: number, d: DrainDay): number {
    return this.#base + this.#diurnal * 0.5 * (1 + Math.sin((2 * Math.PI * ((tMs - d.startMs) / DAY_MS - 0.35))));
  }

  /** Storage in the chamber and on the street at t, L. */
  storageL(tMs: number): number {
    const d = this.#dayOf(tMs);
    const st = d.storage;
    if (!st) return 0;
    const u = (tMs - d.startMs) / KNOT_MS;
    const i = Math.floor(u);
    return st[i] + (u - i) * (st[i + 1] - st[i]);
  }

  #dayOf(tMs: number): DrainDay {
    let d = this.#cur;
    if (!d || tMs < d.startMs || tMs >= d.endMs) {
      const day = this.calendar.dayIndex(tMs);
      d = this.#day(day);
      this.#cur = d;
      this.#curObstructions = this.#obstructionsOnDay(day);
    }
    return d;
  }

  #obstructionsOnDay(day: number): Obstruction[] {
    let list = this.#obstructionDays.get(day);
    if (!list) {
      list = this.obstructions(this.calendar.dayStartMs(day), this.calendar.dayStartMs(day + 1));
      this.#obstructionDays.set(day, list);
    }
    return list;
  }

  /** Unclipped water level above the empty reference, mm (beyond `spanMm` the street is flooded). */
  #rawLevel(tMs: number): number {
    const d = this.#dayOf(tMs);
    return this.#baseline(tMs, d) + this.storageL(tMs) / this.#areaM2;
  }

  /** Water level above the empty reference at t, mm (0..spanMm). */
  levelMm(tMs: number): number {
    const v = this.#rawLevel(tMs);
    return v < this.spanMm ? v : this.spanMm;
  }

  /** Level as a share of the span, % (what the node reports as fill). */
  fillPct(tMs: number): number {
    return (100 * this.levelMm(tMs)) / this.spanMm;
  }

  /** Water on the street above the full line at t, L. */
  pondedL(tMs: number): number {
    const v = this.#rawLevel(tMs) - this.spanMm;
    return v > 0 ? v * this.#areaM2 : 0;
  }

  /** What the ultrasonic sensor faces at t (for `A02yyuw`'s `target`). */
  readonly target = (tMs: number): A02yyuwTarget => {
    const level = this.levelMm(tMs);
    const obs = this.#curObstructions;
    for (let i = 0; i < obs.length; i++) {
      const o = obs[i];
      if (tMs >= o.startMs && tMs < o.endMs) return { distanceMm: o.distanceMm, surface: "soft" };
    }
    return { distanceMm: this.depthMm - level, surface: "water" };
  };

  // ---------------------------------------------------------- ground truth

  /** Rise rate over the preceding window at t, %/h. */
  riseRatePctPerH(tMs: number, windowMs = DEFAULT_DRAIN_THRESHOLDS.rateWindowMs): number {
    return ((this.fillPct(tMs) - this.fillPct(tMs - windowMs)) * HOUR_MS) / windowMs;
  }

  /** Intervals when the level rose at ≥ `rapidRisePctPerH` over the preceding window (peak = highest rate). */
  rapidRise(fromMs: number, toMs: number, thresholds: Partial<DrainThresholds> = {}): PeakInterval[] {
    const th = { ...DEFAULT_DRAIN_THRESHOLDS, ...thresholds };
    const key = `rise:${th.rapidRisePctPerH}:${th.rateWindowMs}:${th.stepMs}`;
    return this.#samplers.get(key, (t) => this.riseRatePctPerH(t, th.rateWindowMs), th.rapidRisePctPerH, th.stepMs).between(fromMs, toMs, { mergeGapMs: th.mergeGapMs });
  }

  /** Intervals with water at the full line (peak = most water ponded, L). */
  floods(fromMs: number, toMs: number, thresholds: Partial<DrainThresholds> = {}): PeakInterval[] {
    const th = { ...DEFAULT_DRAIN_THRESHOLDS, ...thresholds };
    // The value is the raw level's excess over the span, so "≥ 0" is "at the full line".
    const s = this.#samplers.get(`flood:${th.stepMs}`, (t) => this.#rawLevel(t) - this.spanMm, 0, th.stepMs);
    return s.between(fromMs, toMs, { mergeGapMs: th.mergeGapMs }).map((iv) => ({ startMs: iv.startMs, endMs: iv.endMs, peak: iv.peak * this.#areaM2 }));
  }

  /** Everything that happened in [fromMs, toMs). */
  groundTruth(fromMs: number, toMs: number, thresholds: Partial<DrainThresholds> = {}): DrainTruth {
    return {
      rapidRise: this.rapidRise(fromMs, toMs, thresholds),
      floods: this.floods(fromMs, toMs, thresholds),
      obstructions: this.obstructions(fromMs, toMs),
      blockages: this.blockages(fromMs, toMs),
    };
  }

  /** Intervals with the fill at or above `fullPct` (default 80, the level node's factory full threshold; peak = highest fill, %). */
  fullIntervals(fromMs: number, toMs: number, fullPct = 80, thresholds: Partial<DrainThresholds> = {}): PeakInterval[] {
    const th = { ...DEFAULT_DRAIN_THRESHOLDS, ...thresholds };
    return this.#samplers.get(`full:${fullPct}:${th.stepMs}`, (t) => this.fillPct(t), fullPct, th.stepMs).between(fromMs, toMs, { mergeGapMs: th.mergeGapMs });
  }

  /** Ground-truth events in [fromMs, toMs): rapidRise, full (fill ≥ `fullPct`, default 80), flood, obstruction. */
  events(fromMs: number, toMs: number, thresholds: Partial<DrainThresholds> & { fullPct?: number } = {}): TruthEvent[] {
    const out: TruthEvent[] = [];
    for (const r of this.rapidRise(fromMs, toMs, thresholds)) out.push({ kind: "rapidRise", startMs: r.startMs, endMs: r.endMs, magnitude: r.peak });
    for (const f of this.fullIntervals(fromMs, toMs, thresholds.fullPct, thresholds)) out.push({ kind: "full", startMs: f.startMs, endMs: f.endMs, magnitude: f.peak });
    for (const f of this.floods(fromMs, toMs, thresholds)) out.push({ kind: "flood", startMs: f.startMs, endMs: f.endMs, magnitude: f.peak });
    for (const o of this.obstructions(fromMs, toMs)) out.push({ kind: "obstruction", startMs: o.startMs, endMs: o.endMs, magnitude: o.distanceMm });
    return out;
  }
}
