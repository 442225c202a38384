/**
 * Air quality at a node: what the SCD41, SEN5x and PMS5003 emulators breathe.
 *
 * Particulate matter is a sum of components, each with fixed size ratios
 * (PM1 : PM2.5 : PM4 : PM10), so PM1 ≤ PM2.5 ≤ PM4 ≤ PM10 always holds:
 * - regional background (shared by the city, `RegionalAir`): a seasonal level
 *   (more in winter: heating, stable air) times a log-normal multi-day
 *   anomaly, plus **episodes**: multi-day regional pollution (winter smog of
 *   secondary aerosol, or mineral dust), scripted or random;
 * - traffic (roadside nodes): a weekly traffic profile (weekday rush hours at
 *   08:00 and 17:30, a flat lower weekend) × the node's traffic factor ×
 *   dilution (less wind and the stable night-time boundary layer raise it) ×
 *   a fast local flicker;
 * - local **spikes**: construction dust (coarse, working hours of working days,
 *   one spike per day of the job) and bonfires (fine smoke, an evening), scripted
 *   or random.
 * Rain washes particles out (coarse faster than fine) through the weather's
 * washout index. CO2 outdoors is the background (425 ppm, 2026) plus traffic
 * and night-time accumulation; indoors (a classroom or office) it follows a
 * well-mixed box model: occupants exhale G L/h each, ventilation exchanges `ach`
 * air volumes an hour, so ΔCO2 approaches 1000·n·G/(ach·V) ppm with time
 * constant 1/ach, solved exactly per occupancy segment. VOC and NOx indices
 * (Sensirion: 100 and 1 are the sensor's learned baselines) rise with traffic,
 * smoke and occupants.
 *
 * Defaults and where they come from (round figures, not a fit to one site):
 * urban background PM2.5 of 12 µg/m³ in winter and 7 in summer, PM2.5/PM10
 * ≈ 0.65, as in the EEA's annual "Air quality in Europe" reports for central
 * European cities; a busy road adds ~5 µg/m³ PM2.5 at rush hour (up to twice
 * that in calm air) and twice that
 * in PM10 (exhaust plus brake, tyre and road wear); smog episodes of 20–75
 * µg/m³ added PM2.5 for 1.5–8 days, about 4 a year, mostly in winter; CO2
 * generation 18 L/h per seated adult (≈ 0.005 L/s, the usual ventilation-design
 * figure), a 180 m³ classroom of 25 at 1.2 air changes an hour (≈ 2,000 ppm
 * above outdoors at steady state, typical of measured European classrooms).
 */
import type { Rng } from "../core/rng.ts";
import { CLEAN_AIR, type AirEnvironment, type AirSource } from "../devices/air-environment.ts";
import { usAqi } from "../../../firmware/src/dsp/aqi.ts";
import { Calendar, DAY_MS, HOUR_MS, MINUTE_MS, winternessOf, type CalendarOptions } from "./calendar.ts";
import { DailyEvents, SampledIntervalsCache, overlaps, type Interval, type PeakInterval, type TruthEvent } from "./intervals.ts";
import { SmoothNoise, clamp, lognormal, rngOf, uniform, type SeedLike } from "./random.ts";
import { diurnalShape, type Weather } from "./weather.ts";

/** PM size ratios of a source, relative to its PM2.5 (r1 ≤ 1 ≤ r4 ≤ r10). */
interface SizeRatios {
  r1: number;
  r4: number;
  r10: number;
}

const BACKGROUND: SizeRatios = { r1: 0.7, r4: 1.15, r10: 1.55 };
const TRAFFIC: SizeRatios = { r1: 0.7, r4: 1.35, r10: 2.0 };
const SMOG: SizeRatios = { r1: 0.8, r4: 1.05, r10: 1.2 };
const DUST: SizeRatios = { r1: 0.3, r4: 1.8, r10: 3.0 };
const SPIKE_RATIOS: Record<SpikeKind, SizeRatios> = {
  construction: { r1: 0.4, r4: 1.9, r10: 4.0 },
  bonfire: { r1: 0.85, r4: 1.04, r10: 1.1 },
  custom: { r1: 0.7, r4: 1.15, r10: 1.5 },
};
/** Lowest US AQI of each category (good … hazardous). */
const AQI_CATEGORY_LO = [0, 51, 101, 151, 201, 301];

// ------------------------------------------------------------ regional air

export type EpisodeKind = "smog" | "dust";

/** A regional pollution episode: PM2.5 rises by `peakPm25` over `rampMs`, stays, and falls over `rampMs`. */
export interface PollutionEpisode extends Interval {
  kind: EpisodeKind;
  /** PM2.5 added at the plateau, µg/m³. */
  peakPm25: number;
  rampMs: number;
  scripted: boolean;
}

export interface EpisodeScript {
  startMs: number;
  endMs: number;
  peakPm25: number;
  kind?: EpisodeKind;
  /** Default 12 h (or a third of the episode if shorter). */
  rampMs?: number;
}

export interface RegionalAirOptions {
  seed: SeedLike;
  calendar?: Calendar | CalendarOptions;
  /** Urban background PM2.5 in mid-winter and mid-summer, µg/m³ (default 12 and 7). */
  backgroundPm25WinterUgm3?: number;
  backgroundPm25SummerUgm3?: number;
  /** Day of year of mid-summer for the seasons (default 200). */
  warmestDayOfYear?: number;
  /** Log-space sd and correlation time (h) of the background's day-to-day variation (default 0.35, 36). */
  variabilitySigma?: number;
  variabilityTauH?: number;
  episodes?: readonly EpisodeScript[];
  /** Random episodes (default true), their mean number a year (default 4, weighted to winter). */
  randomEpisodes?: boolean;
  episodesPerYear?: number;
}

/** Regional PM2.5 at one instant, µg/m³. */
export interface RegionalState {
  /** Background without episodes. */
  backgroundPm25: number;
  /** Added by smog and by dust episodes. */
  smogPm25: number;
  dustPm25: number;
}

const MAX_EPISODE_MS = 8 * DAY_MS;
const REGIONAL_STEP_MS = 10 * MINUTE_MS;

/** The regional air over the whole city: background and episodes. */
export class RegionalAir {
  readonly calendar: Calendar;
  readonly #rng: Rng;
  readonly #noise: SmoothNoise;
  readonly #winterPm: number;
  readonly #summerPm: number;
  readonly #warmest: number;
  readonly #sigma: number;
  readonly #perYear: number;
  readonly #random: DailyEvents<PollutionEpisode>;
  readonly #randomOn: boolean;
  readonly #scripted: PollutionEpisode[];
  readonly #days = new Map<number, PollutionEpisode[]>();
  readonly #tables = new Map<number, Float64Array>();
  #dayStart = Infinity;
  #dayEnd = -Infinity;
  #tab: Float64Array = new Float64Array(0);
  #lastT = NaN;
  readonly #state: RegionalState = { backgroundPm25: 0, smogPm25: 0, dustPm25: 0 };

  constructor(options: RegionalAirOptions) {
    this.calendar = Calendar.from(options.calendar);
    this.#rng = rngOf(options.seed);
    this.#winterPm = options.backgroundPm25WinterUgm3 ?? 12;
    this.#summerPm = options.backgroundPm25SummerUgm3 ?? 7;
    this.#warmest = options.warmestDayOfYear ?? 200;
    this.#sigma = options.variabilitySigma ?? 0.35;
    this.#noise = new SmoothNoise(this.#rng.fork("background"), 6 * HOUR_MS, (options.variabilityTauH ?? 36) * HOUR_MS);
    this.#perYear = options.episodesPerYear ?? 4;
    this.#randomOn = options.randomEpisodes ?? true;
    this.#random = new DailyEvents(this.calendar, (d) => this.#generate(d), MAX_EPISODE_MS);
    this.#scripted = (options.episodes ?? []).map((e) => {
      if (!(e.endMs > e.startMs)) throw new RangeError("episode: endMs must be after startMs");
      return {
        startMs: e.startMs,
        endMs: e.endMs,
        kind: e.kind ?? "smog",
        peakPm25: e.peakPm25,
        rampMs: Math.min(e.rampMs ?? 12 * HOUR_MS, (e.endMs - e.startMs) / 2),
        scripted: true,
      };
    });
  }

  #generate(day: number): PollutionEpisode[] {
    if (!this.#randomOn) return [];
    const r = this.#rng.fork(`episode:${day}`);
    const start = this.calendar.dayStartMs(day);
    const w = winternessOf(this.calendar.dayOfYear(start + DAY_MS / 2), this.#warmest);
    // Mean over the year of (0.2 + 1.6 w) is 1: the yearly count is kept, mostly in winter.
    if (!r.chance((this.#perYear / 365.2425) * (0.2 + 1.6 * w))) return [];
    const dust = r.chance(0.15);
    const startMs = Math.round(start + uniform(r, 0, 24) * HOUR_MS);
    const durMs = Math.round(clamp(lognormal(r, 3, 0.4), 1.5, 8) * DAY_MS);
    return [{
      startMs,
      endMs: startMs + durMs,
      kind: dust ? "dust" : "smog",
      peakPm25: dust ? uniform(r, 12, 30) : uniform(r, 20, 75),
      rampMs: Math.min(12 * HOUR_MS, durMs / 3),
      scripted: false,
    }];
  }

  /** Episodes overlapping local `day` (cached). */
  #onDay(day: number): PollutionEpisode[] {
    let list = this.#days.get(day);
    if (list) return list;
    const from = this.calendar.dayStartMs(day);
    const to = this.calendar.dayStartMs(day + 1);
    list = this.#random.between(from, to);
    for (const e of this.#scripted) if (overlaps(e, from, to)) list.push(e);
    this.#days.set(day, list);
    return list;
  }

  /** Episodes overlapping [fromMs, toMs), sorted. */
  episodes(fromMs: number, toMs: number): PollutionEpisode[] {
    const out = this.#random.between(fromMs, toMs);
    for (const e of this.#scripted) if (overlaps(e, fromMs, toMs)) out.push(e);
    return out.sort((a, b) => a.startMs - b.startMs);
  }

  /** Background (without episodes), smog and dust PM2.5 at t from the formulas, into out[o..o+2]. */
  #compute(tMs: number, list: readonly PollutionEpisode[], out: Float64Array, o: number): void {
    const w = winternessOf(this.calendar.dayOfYear(tMs), this.#warmest);
    const s = this.#sigma;
    out[o] = (this.#summerPm + (this.#winterPm - this.#summerPm) * w) * Math.exp(s * this.#noise.at(tMs) - 0.5 * s * s);
    let smog = 0;
    let dust = 0;
    for (const e of list) {
      if (tMs > e.startMs && tMs < e.endMs) {
        const v = e.peakPm25 * trapezoid(tMs, e.startMs, e.endMs, e.rampMs);
        if (e.kind === "smog") smog += v;
        else dust += v;
      }
    }
    out[o + 1] = smog;
    out[o + 2] = dust;
  }

  /** The day's table every REGIONAL_STEP_MS, midnight to midnight (cached; shared by every node). */
  #table(day: number): Float64Array {
    let tab = this.#tables.get(day);
    if (tab) return tab;
    const n = DAY_MS / REGIONAL_STEP_MS;
    tab = new Float64Array((n + 1) * 3);
    const start = this.calendar.dayStartMs(day);
    const list = this.#onDay(day);
    const next = this.#onDay(day + 1);
    for (let k = 0; k <= n; k++) this.#compute(start + k * REGIONAL_STEP_MS, k === n ? next : list, tab, 3 * k);
    this.#tables.set(day, tab);
    return tab;
  }

  #update(tMs: number): void {
    if (tMs === this.#lastT) return;
    this.#lastT = tMs;
    if (!(tMs >= this.#dayStart && tMs < this.#dayEnd)) {
      const day = this.calendar.dayIndex(tMs);
      this.#dayStart = this.calendar.dayStartMs(day);
      this.#dayEnd = this.calendar.dayStartMs(day + 1);
      this.#tab = this.#table(day);
    }
    const u = (tMs - this.#dayStart) / REGIONAL_STEP_MS;
    const i = Math.floor(u);
    const f = u - i;
    const t = this.#tab;
    const k = 3 * i;
    const st = this.#state;
    st.backgroundPm25 = t[k] + f * (t[k + 3] - t[k]);
    st.smogPm25 = t[k + 1] + f * (t[k + 4] - t[k + 1]);
    st.dustPm25 = t[k + 2] + f * (t[k + 5] - t[k + 2]);
  }

  /** The regional PM2.5 components at t (one reused object, valid until the next call). */
  state(tMs: number): Readonly<RegionalState> {
    this.#update(tMs);
    return this.#state;
  }

  /** Regional background PM2.5 without episodes, µg/m³ (linear between 10-minute knots). */
  backgroundPm25(tMs: number): number {
    this.#update(tMs);
    return this.#state.backgroundPm25;
  }

  /** PM2.5 added by episodes of `kind` at t, µg/m³ (linear between 10-minute knots). */
  episodePm25(tMs: number, kind: EpisodeKind): number {
    this.#update(tMs);
    return kind === "smog" ? this.#state.smogPm25 : this.#state.dustPm25;
  }
}

/** 0 → 1 over `ramp` after `start`, 1, 1 → 0 over `ramp` before `end`; smoothstep edges. */
export function trapezoid(t: number, start: number, end: number, ramp: number): number {
  if (t <= start || t >= end) return 0;
  const a = t - start;
  const b = end - t;
  const m = a < b ? a : b;
  if (m >= ramp) return 1;
  const x = m / ramp;
  return x * x * (3 - 2 * x);
}

// ------------------------------------------------------------ traffic

const TRAFFIC_STEP_H = 1 / 6;
const TRAFFIC_TABLE = buildTrafficTable();

function logistic(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

function gauss(x: number, mu: number, sd: number): number {
  const z = (x - mu) / sd;
  return Math.exp(-0.5 * z * z);
}

/**
 * Relative traffic flow (≈ 1 at the weekday morning peak) by weekday (0 =
 * Monday) and local hour: the familiar shape of urban traffic counts, weekday
 * peaks 07–09 and 16–19 on a daytime plateau, Friday's early-afternoon bulge,
 * a flat and lower Saturday and a still lower Sunday, little at night.
 */
export function trafficShape(dow: number, hour: number): number {
  const day = (a: number, b: number, edge: number) => logistic((hour - a) / edge) * logistic((b - hour) / edge);
  if (dow <= 4) {
    return 0.06 + 0.5 * day(6.5, 20.5, 0.6) + 0.48 * gauss(hour, 8, 0.9) + 0.42 * gauss(hour, 17.5, 1.3) + (dow === 4 ? 0.1 * gauss(hour, 15.5, 2) : 0);
  }
  if (dow === 5) return 0.07 + 0.55 * day(8.5, 22, 0.9) + 0.15 * gauss(hour, 13, 2.5);
  return 0.06 + 0.42 * day(9.5, 21, 1) + 0.08 * gauss(hour, 15, 2.5);
}

function buildTrafficTable(): Float64Array {
  const n = Math.round((7 * 24) / TRAFFIC_STEP_H);
  const t = new Float64Array(n + 1);
  for (let i = 0; i <= n; i++) {
    const h = (i % n) * TRAFFIC_STEP_H;
    t[i] = trafficShape(Math.floor(h / 24), h % 24);
  }
  return t;
}

/** Relative traffic at a local hour of the week (0 = Monday 00:00), linear in a 10-minute table. */
export function trafficAt(hourOfWeek: number): number {
  const u = hourOfWeek / TRAFFIC_STEP_H;
  const i = Math.floor(u);
  const f = u - i;
  return TRAFFIC_TABLE[i] + f * (TRAFFIC_TABLE[i + 1] - TRAFFIC_TABLE[i]);
}

/** Stability of the air near the ground, 1 near dawn … 0 mid-afternoon, every 10 minutes of the day. */
const STABLE_PER_H = 6;
const STABLE = Float64Array.from({ length: 24 * STABLE_PER_H + 1 }, (_, i) => 0.5 * (1 - diurnalShape((i / STABLE_PER_H) % 24, 6, 15)));

// ------------------------------------------------------------ spikes

export type SpikeKind = "construction" | "bonfire" | "custom";

/** A local PM spike: PM2.5 rises by `peakPm25` (PM10 by `peakPm10`) with `rampMs` edges. */
export interface PmSpike extends Interval {
  kind: SpikeKind;
  peakPm25: number;
  peakPm10: number;
  rampMs: number;
  scripted: boolean;
}

export interface SpikeScript {
  kind: SpikeKind;
  startMs: number;
  endMs: number;
  /** PM2.5 added at the plateau, µg/m³ (default construction 35, bonfire 80, custom 50). */
  peakPm25?: number;
  /** Default 10 minutes (or a third of the spike). */
  rampMs?: number;
}

const DEFAULT_SPIKE_PM25: Record<SpikeKind, number> = { construction: 35, bonfire: 80, custom: 50 };
const MAX_SPIKE_MS = 12 * HOUR_MS;
/** A construction job lasts up to this many days after the day it was generated on. */
const CONSTRUCTION_LEAD_DAYS = 16;

function makeSpike(kind: SpikeKind, startMs: number, endMs: number, peakPm25: number, rampMs: number, scripted: boolean): PmSpike {
  return { kind, startMs, endMs, peakPm25, peakPm10: peakPm25 * SPIKE_RATIOS[kind].r10, rampMs: Math.min(rampMs, (endMs - startMs) / 3), scripted };
}

// ------------------------------------------------------------ the node

export type AirSetting = "roadside" | "background" | "indoor";

export interface IndoorOptions {
  /** People in the room when it is fully occupied (default 25). */
  occupants: number;
  volumeM3: number;
  /** CO2 exhaled per person, L/h (default 18). */
  co2LphPerPerson: number;
  /** Air changes per hour when occupied, in breaks (windows open) and when empty (default 1.2, 4, 0.3). */
  achOccupied: number;
  achBreak: number;
  achEmpty: number;
  /** Occupied periods on working days, local hours [from, to) (default a school day). */
  periods: readonly (readonly [number, number])[];
  /** Chance a working day is a day off (default 0.04). */
  dayOffChance: number;
}

const DEFAULT_INDOOR: Readonly<IndoorOptions> = Object.freeze({
  occupants: 25,
  volumeM3: 180,
  co2LphPerPerson: 18,
  achOccupied: 1.2,
  achBreak: 4,
  achEmpty: 0.3,
  periods: [[8, 9.75], [10, 11.75], [12.5, 14.25], [14.5, 16]] as const,
  dayOffChance: 0.04,
});

/** Thresholds that turn the air signals into ground-truth events (defaults: the firmware's factory configuration). */
export interface AirThresholds {
  /** CO2 alarm level, ppm (default 1500). */
  co2Ppm: number;
  /** US AQI category index that counts as unhealthy (default 3 = "unhealthy", PM2.5 ≥ 55.5 µg/m³). */
  aqiCategory: number;
  /** The AQI from which air counts as unhealthy, instead of the category's floor (a tolerance band: `nearThresholds` in city.ts). */
  aqiFloor?: number;
  /** Spikes adding at least this much PM2.5, µg/m³, are `pmSpike` events (default 25). */
  pmSpikeUgm3: number;
  /**
   * The AQI of an exceedance is computed from PM averaged over the preceding
   * `aqiAveragingMs` (default 15 min: the node filters and debounces over two
   * 5-minute wakes, so a one-minute gust of smoke is not an unhealthy period).
   */
  aqiAveragingMs: number;
  /**
   * Exceedances are sampled every `stepMs` (default 60 s), joined across gaps
   * below `mergeGapMs` (default 10 min; 30 min for the AQI, `aqiMergeGapMs`,
   * as a plume's flicker around the threshold is one unhealthy period), and
   * kept if at least `minDurationMs` long (default 10 min).
   */
  stepMs: number;
  mergeGapMs: number;
  aqiMergeGapMs: number;
  minDurationMs: number;
}

/** Days of sample series an air model keeps: a day's scan of both exceedances touches the day and its two neighbours. */
const SERIES_KEPT = 4;

export const DEFAULT_AIR_THRESHOLDS: Readonly<AirThresholds> = Object.freeze({
  co2Ppm: 1500,
  aqiCategory: 3,
  pmSpikeUgm3: 25,
  aqiAveragingMs: 15 * MINUTE_MS,
  stepMs: MINUTE_MS,
  mergeGapMs: 10 * MINUTE_MS,
  aqiMergeGapMs: 30 * MINUTE_MS,
  minDurationMs: 10 * MINUTE_MS,
});

export interface AirQualityOptions {
  seed: SeedLike;
  weather: Weather;
  /** Shared regional air (default: the node's own, from its seed). */
  regional?: RegionalAir;
  /** Default "roadside". */
  setting?: AirSetting;
  /** Relative traffic next to the node: 1 a busy main road, 0.3 a side street (default 1 roadside, 0.15 background, 0.5 indoor). */
  trafficFactor?: number;
  /** Traffic PM2.5 at factor 1, peak hour and ordinary dilution, µg/m³ (default 5). */
  trafficPm25Ugm3?: number;
  /** Outdoor CO2 background, ppm (default 425). */
  backgroundCo2Ppm?: number;
  spikes?: readonly SpikeScript[];
  /** Random spikes (default true) and their mean number per 30 days (default 0.6). */
  randomSpikes?: boolean;
  spikesPer30Days?: number;
  indoor?: Partial<IndoorOptions>;
}

/** The indoor CO2 model runs day by day from here (earlier days start from outdoor air). */
const INDOOR_FIRST_DAY = -1;

/** Occupancy of an indoor node over one local day: segments with exact exponential CO2 response. */
interface IndoorDay {
  /** Segment starts (virtual ms), ascending; the last segment runs to the end of the day. */
  starts: Float64Array;
  /** Occupied share 0..1, ventilation rate (1/ms), steady ΔCO2 (ppm), ΔCO2 at the segment start (ppm). */
  occ: Float64Array;
  rate: Float64Array;
  target: Float64Array;
  c0: Float64Array;
  endCo2: number;
}

/** Ground truth of an air node. */
export interface AirTruth {
  episodes: PollutionEpisode[];
  spikes: PmSpike[];
  co2High: PeakInterval[];
  aqiUnhealthy: PeakInterval[];
}

export class AirQuality {
  readonly setting: AirSetting;
  readonly weather: Weather;
  readonly regional: RegionalAir;
  readonly trafficFactor: number;
  readonly calendar: Calendar;
  readonly #rng: Rng;
  readonly #trafficPm25: number;
  readonly #co2Bg: number;
  readonly #local: SmoothNoise;
  readonly #plume: SmoothNoise;
  readonly #spikes: DailyEvents<PmSpike>;
  readonly #scriptedSpikes: PmSpike[];
  readonly #randomSpikes: boolean;
  readonly #spikeRate: number;
  readonly #indoor: IndoorOptions;
  readonly #indoorDays: IndoorDay[] = [];
  readonly #spikeDays = new Map<number, PmSpike[]>();
  readonly #samplers = new SampledIntervalsCache();
  /** Per-day sample series by day, the last SERIES_KEPT built (for one step and averaging). */
  readonly #series = new Map<number, Float64Array>();
  /** The ground truth's sample, refilled for each step of a series. */
  readonly #scratch: AirEnvironment = { ...CLEAN_AIR };
  #seriesStep = NaN;
  #seriesAvg = NaN;
  #curDay = NaN;
  #curSpikes: PmSpike[] = [];
  #curIndoor: IndoorDay | undefined;
  #pm1 = 0;
  #pm25 = 0;
  #pm4 = 0;
  #pm10 = 0;

  constructor(options: AirQualityOptions) {
    this.#rng = rngOf(options.seed);
    this.weather = options.weather;
    this.calendar = options.weather.calendar;
    this.regional = options.regional ?? new RegionalAir({ seed: this.#rng.fork("regional"), calendar: this.calendar });
    this.setting = options.setting ?? "roadside";
    this.trafficFactor = options.trafficFactor ?? (this.setting === "roadside" ? 1 : this.setting === "indoor" ? 0.5 : 0.15);
    this.#trafficPm25 = options.trafficPm25Ugm3 ?? 5;
    this.#co2Bg = options.backgroundCo2Ppm ?? 425;
    this.#local = new SmoothNoise(this.#rng.fork("local"), 10 * MINUTE_MS, 30 * MINUTE_MS);
    this.#plume = new SmoothNoise(this.#rng.fork("plume"), 2 * MINUTE_MS, 5 * MINUTE_MS);
    this.#randomSpikes = options.randomSpikes ?? true;
    this.#spikeRate = (options.spikesPer30Days ?? 0.6) / 30;
    this.#spikes = new DailyEvents(this.calendar, (d) => this.#generateSpikes(d), MAX_SPIKE_MS, 0, CONSTRUCTION_LEAD_DAYS);
    this.#scriptedSpikes = (options.spikes ?? []).map((s) => {
      if (!(s.endMs > s.startMs)) throw new RangeError("spike: endMs must be after startMs");
      return makeSpike(s.kind, s.startMs, s.endMs, s.peakPm25 ?? DEFAULT_SPIKE_PM25[s.kind], s.rampMs ?? 10 * MINUTE_MS, true);
    });
    this.#indoor = { ...DEFAULT_INDOOR, ...options.indoor };
  }

  // ---------------------------------------------------------- spikes

  #generateSpikes(day: number): PmSpike[] {
    if (!this.#randomSpikes || this.setting === "indoor") return [];
    const r = this.#rng.fork(`spike:${day}`);
    if (!r.chance(this.#spikeRate)) return [];
    const cal = this.calendar;
    if (r.chance(0.6)) {
      // A bonfire or garden fire: an evening, 1–4 h of smoke.
      const start = Math.round(cal.dayStartMs(day) + uniform(r, 16.5, 21) * HOUR_MS);
      const end = start + Math.round(uniform(r, 1, 4) * HOUR_MS);
      return [makeSpike("bonfire", start, end, clamp(lognormal(r, 60, 0.5), 15, 300), uniform(r, 5, 15) * MINUTE_MS, false)];
    }
    // A construction job: 3–10 working days of dust during working hours.
    const days = r.int(3, 10);
    const peak = clamp(lognormal(r, 32, 0.35), 12, 120);
    const out: PmSpike[] = [];
    for (let d = day, n = 0; n < days && d < day + CONSTRUCTION_LEAD_DAYS; d++) {
      if (cal.isWeekend(d)) continue;
      n++;
      const start = Math.round(cal.dayStartMs(d) + uniform(r, 7, 8.5) * HOUR_MS);
      const end = Math.round(cal.dayStartMs(d) + uniform(r, 15, 17) * HOUR_MS);
      out.push(makeSpike("construction", start, end, peak * uniform(r, 0.7, 1.3), 20 * MINUTE_MS, false));
    }
    return out;
  }

  #spikesOnDay(day: number): PmSpike[] {
    let list = this.#spikeDays.get(day);
    if (list) return list;
    const from = this.calendar.dayStartMs(day);
    const to = this.calendar.dayStartMs(day + 1);
    list = this.#spikes.between(from, to);
    for (const s of this.#scriptedSpikes) if (overlaps(s, from, to)) list.push(s);
    this.#spikeDays.set(day, list);
    return list;
  }

  /** Local spikes overlapping [fromMs, toMs), sorted. */
  spikes(fromMs: number, toMs: number): PmSpike[] {
    const out = this.#spikes.between(fromMs, toMs);
    for (const s of this.#scriptedSpikes) if (overlaps(s, fromMs, toMs)) out.push(s);
    return out.sort((a, b) => a.startMs - b.startMs);
  }

  // ---------------------------------------------------------- indoor occupancy

  #buildIndoorDay(day: number, startCo2: number): IndoorDay {
    const o = this.#indoor;
    const cal = this.calendar;
    const r = this.#rng.fork(`occupancy:${day}`);
    const ds = cal.dayStartMs(day);
    const V = o.volumeM3;
    const G = o.co2LphPerPerson;
    const seg: { t: number; occ: number; ach: number }[] = [{ t: ds, occ: 0, ach: o.achEmpty }];
    const working = !cal.isWeekend(day) && !r.chance(o.dayOffChance);
    if (working) {
      const attendance = uniform(r, 0.75, 1);
      for (let i = 0; i < o.periods.length; i++) {
        const [a, b] = o.periods[i];
        const from = ds + (a + uniform(r, -0.05, 0.1)) * HOUR_MS;
        const to = ds + (b + uniform(r, -0.05, 0.05)) * HOUR_MS;
        seg.push({ t: from, occ: attendance * uniform(r, 0.9, 1), ach: o.achOccupied });
        const next = o.periods[i + 1];
        // Windows opened in short breaks; the room empties after the last period.
        seg.push({ t: to, occ: 0, ach: next && next[0] - b < 0.6 ? o.achBreak : o.achEmpty });
      }
    }
    seg.sort((a, b) => a.t - b.t);
    const n = seg.length;
    const res: IndoorDay = {
      starts: new Float64Array(n), occ: new Float64Array(n), rate: new Float64Array(n),
      target: new Float64Array(n), c0: new Float64Array(n), endCo2: 0,
    };
    let c = startCo2;
    for (let i = 0; i < n; i++) {
      const s = seg[i];
      const rate = s.ach / HOUR_MS;
      const target = s.ach > 0 ? (1000 * s.occ * o.occupants * G) / (s.ach * V) : 0;
      res.starts[i] = s.t;
      res.occ[i] = s.occ;
      res.rate[i] = rate;
      res.target[i] = target;
      res.c0[i] = c;
      const end = i + 1 < n ? seg[i + 1].t : ds + DAY_MS;
      c = target + (c - target) * Math.exp(-rate * (end - s.t));
    }
    res.endCo2 = c;
    return res;
  }

  /** The indoor day (generated in order from day −1, which starts from outdoor air, as do days before it). */
  #indoorDay(day: number): IndoorDay {
    const days = this.#indoorDays;
    if (day < INDOOR_FIRST_DAY) return this.#buildIndoorDay(day, 0);
    while (INDOOR_FIRST_DAY + days.length <= day) {
      const prev = days[days.length - 1];
      days.push(this.#buildIndoorDay(INDOOR_FIRST_DAY + days.length, prev ? prev.endCo2 : 0));
    }
    return days[day - INDOOR_FIRST_DAY];
  }

  // ---------------------------------------------------------- evaluation

  /** Adds a source of `v` µg/m³ PM2.5 with size ratios `r`, washed out by the fine and coarse factors. */
  #add(v: number, r: SizeRatios, fine: number, coarse: number): void {
    const f = v * fine;
    const c = v * coarse;
    this.#pm1 += r.r1 * f;
    this.#pm25 += f;
    this.#pm4 += f + (r.r4 - 1) * c;
    this.#pm10 += f + (r.r10 - 1) * c;
  }

  /** The true air at virtual time `tMs` (a fresh object). */
  at(tMs: number): AirEnvironment {
    return this.#fill(tMs, { ...CLEAN_AIR });
  }

  /** Writes every field of the true air at `tMs` into `out` and returns it (the ground-truth series reuse one object: a month of minutes would allocate one per sample). */
  #fill(tMs: number, out: AirEnvironment): AirEnvironment {
    const cal = this.calendar;
    const wx = this.weather;
    const day = cal.dayIndex(tMs);
    if (day !== this.#curDay) {
      this.#curDay = day;
      this.#curSpikes = this.#spikesOnDay(day);
      this.#curIndoor = this.setting === "indoor" ? this.#indoorDay(day) : undefined;
    }
    const hourOfDay = (tMs - cal.dayStartMs(day)) / HOUR_MS;
    const ws = wx.state(tMs);
    const tOut = ws.temperatureC;
    const tdOut = ws.dewPointC;
    const rhOut = ws.humidityPct;
    const wind = ws.windMs;
    const recent = ws.recentRainMmH;
    // Stable night-time boundary layer: 1 near dawn, 0 in the afternoon.
    const su = hourOfDay * STABLE_PER_H;
    const si = Math.floor(su);
    const stable = STABLE[si] + (su - si) * (STABLE[si + 1] - STABLE[si]);
    const dilution = Math.min(2, clamp(Math.sqrt(3.5 / (wind > 0.7 ? wind : 0.7)), 0.5, 2) * (1 + 0.3 * stable));
    const traffic = this.trafficFactor * trafficAt(cal.dayOfWeek(day) * 24 + hourOfDay);
    const ln = this.#local.at(tMs);
    const local = Math.exp(0.18 * ln);
    const fine = 1 / (1 + 0.06 * recent);
    const coarse = 1 / (1 + 0.2 * recent);

    this.#pm1 = this.#pm25 = this.#pm4 = this.#pm10 = 0;
    const reg = this.regional;
    const rs = reg.state(tMs);
    this.#add(rs.backgroundPm25 * (0.85 + 0.3 * stable), BACKGROUND, fine, coarse);
    this.#add(rs.smogPm25, SMOG, fine, coarse);
    this.#add(rs.dustPm25, DUST, fine, coarse);
    this.#add(this.#trafficPm25 * traffic * dilution * local, TRAFFIC, fine, coarse);

    let smoke = 0;
    const spikes = this.#curSpikes;
    if (spikes.length > 0) {
      let flicker = NaN;
      for (let i = 0; i < spikes.length; i++) {
        const s = spikes[i];
        if (tMs <= s.startMs || tMs >= s.endMs) continue;
        if (flicker !== flicker) flicker = Math.exp(0.25 * this.#plume.at(tMs) - 0.03);
        const shape = trapezoid(tMs, s.startMs, s.endMs, s.rampMs);
        this.#add(s.peakPm25 * shape * flicker, SPIKE_RATIOS[s.kind], fine, coarse);
        if (s.kind === "bonfire") smoke += shape * (s.peakPm25 / 80);
      }
    }
    const pm1 = this.#pm1;
    const pm25 = this.#pm25;
    const pm4 = this.#pm4;
    const pm10 = this.#pm10;

    const trafficExposure = traffic * dilution;
    const indoor = this.#curIndoor;
    if (!indoor) {
      out.co2Ppm = this.#co2Bg + 30 * trafficExposure * local + 20 * stable * (wind < 2 ? 1.5 : 1) + 30 * smoke + 3 * ln;
      out.temperatureC = tOut + 0.4 * this.trafficFactor;
      out.humidityPct = rhOut;
      out.pm1 = pm1;
      out.pm25 = pm25;
      out.pm4 = pm4;
      out.pm10 = pm10;
      out.vocIndex = clamp(100 * Math.exp(0.25 * (trafficExposure - 0.5)) + 250 * smoke + 8 * ln, 1, 500);
      out.noxIndex = clamp(1 + 30 * trafficExposure * local + 100 * smoke, 1, 500);
      return out;
    }
    // Indoors: the occupancy segment holding t.
    const starts = indoor.starts;
    let i = starts.length - 1;
    while (i > 0 && starts[i] > tMs) i--;
    const occ = indoor.occ[i];
    const target = indoor.target[i];
    const dCo2 = target + (indoor.c0[i] - target) * Math.exp(-indoor.rate[i] * (tMs - starts[i]));
    const heated = hourOfDay >= 6 && hourOfDay < 18 && !cal.isWeekend(day);
    const tIn = 18 + (heated ? 2.5 : 0) + 1.2 * occ + 0.08 * (tOut - 10);
    const tdIn = tdOut + 1.5 * occ;
    const rhIn = clamp(100 * Math.exp((17.62 * tdIn) / (243.12 + tdIn) - (17.62 * tIn) / (243.12 + tIn)), 5, 95);
    // Infiltration keeps about half the fine and a third of the coarse outdoor particles; people stir up dust.
    const f25 = 0.5 * pm25;
    const dustIn = 6 * occ;
    out.co2Ppm = this.#co2Bg + 10 * trafficExposure + dCo2;
    out.temperatureC = tIn;
    out.humidityPct = rhIn;
    out.pm1 = 0.5 * pm1 + 0.1 * dustIn;
    out.pm25 = f25 + 0.25 * dustIn;
    out.pm4 = f25 + 0.33 * (pm4 - pm25) + 0.55 * dustIn;
    out.pm10 = f25 + 0.33 * (pm10 - pm25) + dustIn;
    out.vocIndex = clamp(100 + 140 * occ + 8 * ln, 1, 500);
    out.noxIndex = clamp(1 + 9 * trafficExposure, 1, 500);
    return out;
  }

  /** An `AirSource` for the emulators: the air at the clock's current time. */
  source(clock: { readonly nowMs: number }): AirSource {
    return () => this.at(clock.nowMs);
  }

  /** US AQI (EPA 2024 breakpoints, the firmware's dsp/aqi) of the true PM at t: an instantaneous estimate. */
  aqiAt(tMs: number): number {
    const a = this.#fill(tMs, this.#scratch);
    return usAqi(Math.floor(a.pm25 * 10), Math.floor(a.pm10 * 10));
  }

  /**
   * CO2 (field 0) or US AQI of the PM averaged over `avgMs` (field 1) at a
   * sample time of the `stepMs` grid, from a per-day series computed once for
   * both (the exceedance scans share it, and each looks a day to either side:
   * the last SERIES_KEPT days are kept).
   */
  #sampled(tMs: number, stepMs: number, avgMs: number, field: 0 | 1): number {
    const c = Math.floor(tMs / DAY_MS);
    if (stepMs !== this.#seriesStep || avgMs !== this.#seriesAvg) {
      this.#series.clear();
      this.#seriesStep = stepMs;
      this.#seriesAvg = avgMs;
    }
    let series = this.#series.get(c);
    if (!series) {
      series = this.#buildSeries(c, stepMs, avgMs);
      if (this.#series.size >= SERIES_KEPT) this.#series.delete(this.#series.keys().next().value!);
      this.#series.set(c, series);
    }
    return series[2 * Math.round((tMs - c * DAY_MS) / stepMs) + field];
  }

  #buildSeries(c: number, stepMs: number, avgMs: number): Float64Array {
    const n = Math.ceil(DAY_MS / stepMs);
    const m = Math.max(1, Math.round(avgMs / stepMs));
    const series = new Float64Array(2 * n);
    const p25 = new Float64Array(m);
    const p10 = new Float64Array(m);
    let s25 = 0;
    let s10 = 0;
    // Prime the running mean with the samples before the chunk.
    for (let i = -m + 1; i < n; i++) {
      const a = this.#fill(c * DAY_MS + i * stepMs, this.#scratch);
      const j = ((i % m) + m) % m;
      s25 += a.pm25 - p25[j];
      s10 += a.pm10 - p10[j];
      p25[j] = a.pm25;
      p10[j] = a.pm10;
      if (i < 0) continue;
      series[2 * i] = a.co2Ppm;
      series[2 * i + 1] = usAqi(Math.floor((s25 / m) * 10), Math.floor((s10 / m) * 10));
    }
    return series;
  }

  /** Intervals with CO2 ≥ `co2Ppm` (peak = highest ppm); `aqiAveragingMs` only keys the shared sample cache. */
  co2High(fromMs: number, toMs: number, thresholds: Partial<AirThresholds> = {}): PeakInterval[] {
    const th = { ...DEFAULT_AIR_THRESHOLDS, ...thresholds };
    const key = `co2:${th.co2Ppm}:${th.stepMs}:${th.aqiAveragingMs}`;
    return this.#samplers.get(key, (t) => this.#sampled(t, th.stepMs, th.aqiAveragingMs, 0), th.co2Ppm, th.stepMs)
      .between(fromMs, toMs, { mergeGapMs: th.mergeGapMs, minDurationMs: th.minDurationMs });
  }

  /** Intervals with the US AQI category (of PM averaged over `aqiAveragingMs`) ≥ `aqiCategory` (peak = highest AQI). */
  aqiUnhealthy(fromMs: number, toMs: number, thresholds: Partial<AirThresholds> = {}): PeakInterval[] {
    const th = { ...DEFAULT_AIR_THRESHOLDS, ...thresholds };
    const lo = th.aqiFloor ?? AQI_CATEGORY_LO[clamp(Math.round(th.aqiCategory), 0, 5)];
    const key = `aqi:${lo}:${th.stepMs}:${th.aqiAveragingMs}`;
    return this.#samplers.get(key, (t) => this.#sampled(t, th.stepMs, th.aqiAveragingMs, 1), lo, th.stepMs)
      .between(fromMs, toMs, { mergeGapMs: th.aqiMergeGapMs, minDurationMs: th.minDurationMs });
  }

  /** Everything that happened in [fromMs, toMs). */
  groundTruth(fromMs: number, toMs: number, thresholds: Partial<AirThresholds> = {}): AirTruth {
    return {
      episodes: this.regional.episodes(fromMs, toMs),
      spikes: this.spikes(fromMs, toMs),
      co2High: this.co2High(fromMs, toMs, thresholds),
      aqiUnhealthy: this.aqiUnhealthy(fromMs, toMs, thresholds),
    };
  }

  /**
   * Scans both exceedances a day at a time, so each day's sample series is
   * built once (the cache keeps two days; one scan of the whole span and then
   * the other would build every day twice).
   */
  #primeDays(fromMs: number, toMs: number, th: AirThresholds): void {
    const last = Math.floor((toMs - 1) / DAY_MS);
    for (let c = Math.floor(fromMs / DAY_MS); c <= last; c++) {
      this.co2High(c * DAY_MS, (c + 1) * DAY_MS, th);
      this.aqiUnhealthy(c * DAY_MS, (c + 1) * DAY_MS, th);
    }
  }

  /** Ground-truth events in [fromMs, toMs): co2High, aqiUnhealthy, and pmSpike for spikes adding ≥ `pmSpikeUgm3`. */
  events(fromMs: number, toMs: number, thresholds: Partial<AirThresholds> = {}): TruthEvent[] {
    const th = { ...DEFAULT_AIR_THRESHOLDS, ...thresholds };
    if (toMs > fromMs) this.#primeDays(fromMs, toMs, th);
    const out: TruthEvent[] = [];
    for (const iv of this.co2High(fromMs, toMs, th)) out.push({ kind: "co2High", startMs: iv.startMs, endMs: iv.endMs, magnitude: iv.peak });
    for (const iv of this.aqiUnhealthy(fromMs, toMs, th)) out.push({ kind: "aqiUnhealthy", startMs: iv.startMs, endMs: iv.endMs, magnitude: iv.peak });
    for (const s of this.spikes(fromMs, toMs)) {
      if (s.peakPm25 >= th.pmSpikeUgm3) out.push({ kind: "pmSpike", startMs: s.startMs, endMs: s.endMs, magnitude: s.peakPm25 });
    }
    return out;
  }
}
