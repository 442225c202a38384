/**
 * City weather: temperature, dew point and humidity, wind, and rain events,
 * shared by every node of a city.
 *
 * Temperature = annual mean + a seasonal cosine (warmest on `warmestDayOfYear`)
 * + a diurnal cycle (half-cosines between the coldest hour, near sunrise, and
 * the warmest, mid-afternoon; its range larger in summer and damped by rain)
 * + two smooth random anomalies (synoptic weather over days, and hourly
 * wobble) − evaporative cooling in rain. The dew point follows the temperature
 * without most of its diurnal cycle, minus a seasonal dew-point depression with
 * its own anomaly, shrinking towards zero in rain; relative humidity comes from
 * the two with the Magnus formula (Sonntag 1990 coefficients), so it is high at
 * night and in rain, low on summer afternoons, and never above 100 %.
 *
 * Rain: a Poisson number of events a day (rate by season), each with a
 * log-normal duration and an exponential peak intensity (mm/h), a triangular
 * hyetograph rising to the peak in its first 15–50 %; summer rain is shorter,
 * heavier and mostly in the afternoon (convective), winter rain longer and
 * lighter (frontal). Scripted storms add to it (and may bring their own
 * wind). Events are generated per day from a stream forked by the day, so
 * they are independent of query order.
 *
 * Cost: temperature, dew point, humidity, wind and the washout index are
 * computed from the formulas every 5 minutes, tabulated per day on first use
 * (shared by every node) and interpolated linearly; the rain intensity is
 * exact. A query is a table lookup and a scan of the day's few rain events.
 *
 * Default climate: a temperate western/central European city (Köppen Cfb, e.g.
 * Brussels, Paris, Hamburg): 10.5 °C mean, 1.5 °C January and 19.5 °C July
 * means, diurnal range 4.5 °C in winter and 10 °C in summer; about 170 rain
 * events and about 800 mm a year; mean wind 4.5 m/s in winter, 3.2 m/s in summer.
 * These are round figures of that climate type, chosen so the annual totals
 * come out right (expected depth per event = mean peak / 2 × mean duration),
 * not a fit to any one station.
 */
import type { Rng } from "../core/rng.ts";
import { Calendar, DAY_MS, HOUR_MS, YEAR_DAYS, winternessOf, type CalendarOptions } from "./calendar.ts";
import { DailyEvents, overlaps, type Interval } from "./intervals.ts";
import { SmoothNoise, clamp, exponential, lognormal, poisson, rngOf, uniform, type SeedLike } from "./random.ts";

/** Climate parameters; a season-dependent value is given for mid-winter and mid-summer and interpolated by a cosine of the day of year. */
export interface Climate {
  meanTempC: number;
  /** Half the difference between the warmest and coldest monthly means, °C. */
  seasonalAmplitudeC: number;
  /** Day of year (0 = 1 January) of the warmest mean. */
  warmestDayOfYear: number;
  diurnalRangeWinterC: number;
  diurnalRangeSummerC: number;
  /** Local hours of the daily minimum and maximum temperature. */
  coldestHour: number;
  warmestHour: number;
  /** Synoptic (day-to-day) temperature anomaly: standard deviation °C, correlation time h. */
  synopticSdC: number;
  synopticTauH: number;
  /** Hour-to-hour temperature wobble: standard deviation °C, correlation time h. */
  fastSdC: number;
  fastTauH: number;
  /** Mean dew-point depression (temperature − dew point, daily mean) in winter and summer, °C, and its anomaly's sd. */
  dewDepressionWinterC: number;
  dewDepressionSummerC: number;
  dewDepressionSdC: number;
  /** Rain events per day (Poisson rate). */
  rainEventsPerDayWinter: number;
  rainEventsPerDaySummer: number;
  /** Median event duration, h (log-normal with `rainDurationSigma`). */
  rainDurationMedianHWinter: number;
  rainDurationMedianHSummer: number;
  rainDurationSigma: number;
  /** Mean peak intensity above 0.2 mm/h (exponential), mm/h. */
  rainPeakMeanMmHWinter: number;
  rainPeakMeanMmHSummer: number;
  /** Cooling in rain per mm/h of recent rain, °C, and its maximum. */
  rainCoolingCPerMmH: number;
  rainCoolingMaxC: number;
  /** Mean wind speed at 10 m, m/s, and the log-space sd of its hourly variation. */
  windMeanWinterMs: number;
  windMeanSummerMs: number;
  windSigma: number;
}

/** The default climate (see the file comment). */
export const TEMPERATE_CLIMATE: Readonly<Climate> = Object.freeze({
  meanTempC: 10.5,
  seasonalAmplitudeC: 9,
  warmestDayOfYear: 200,
  diurnalRangeWinterC: 4.5,
  diurnalRangeSummerC: 10,
  coldestHour: 6,
  warmestHour: 15,
  synopticSdC: 2.8,
  synopticTauH: 48,
  fastSdC: 0.5,
  fastTauH: 3,
  dewDepressionWinterC: 2.5,
  dewDepressionSummerC: 6,
  dewDepressionSdC: 1.2,
  rainEventsPerDayWinter: 0.5,
  rainEventsPerDaySummer: 0.4,
  rainDurationMedianHWinter: 3,
  rainDurationMedianHSummer: 1,
  rainDurationSigma: 0.8,
  rainPeakMeanMmHWinter: 2,
  rainPeakMeanMmHSummer: 6,
  rainCoolingCPerMmH: 0.3,
  rainCoolingMaxC: 3,
  windMeanWinterMs: 4.5,
  windMeanSummerMs: 3.2,
  windSigma: 0.45,
});

/** One rain event: intensity rises linearly from 0 at `startMs` to `peakMmH` at `peakAtMs`, then falls to 0 at `endMs`. */
export interface RainEvent extends Interval {
  peakAtMs: number;
  peakMmH: number;
  /** Wind during a scripted storm, m/s (0: the ordinary wind). */
  windMs: number;
  scripted: boolean;
}

/** A storm written into a scenario. */
export interface StormScript {
  startMs: number;
  durationMs: number;
  peakMmH: number;
  /** Where the peak falls, as a share of the duration (default 0.35). */
  peakFraction?: number;
  /** Wind during the storm, m/s (default: the ordinary wind). */
  windMs?: number;
}

export interface WeatherOptions {
  seed: SeedLike;
  calendar?: Calendar | CalendarOptions;
  climate?: Partial<Climate>;
  storms?: readonly StormScript[];
  /** Random rain events (default true; false leaves only the scripted storms). */
  randomRain?: boolean;
}

/** The weather at one instant. */
export interface WeatherState {
  temperatureC: number;
  dewPointC: number;
  /** Relative humidity, % (0..100). */
  humidityPct: number;
  rainMmH: number;
  windMs: number;
  /** Washout index: the current rain intensity, or the decaying memory of recent rain, mm/h. */
  recentRainMmH: number;
}

const MAX_RAIN_MS = 18 * HOUR_MS;
/** The slowly varying state is tabulated per day at this step and interpolated. */
const TABLE_STEP_MS = 5 * 60 * 1000;
const TABLE_KNOTS = DAY_MS / TABLE_STEP_MS;
const TABLE_FIELDS = 5;
/** Memory of past rain in the washout index: time constant, and how long it is followed. */
const RECENT_TAU_MS = 3 * HOUR_MS;
const RECENT_PAD_MS = 12 * HOUR_MS;
const TWO_PI = 2 * Math.PI;

/** Saturation vapour pressure exponent (Magnus, Sonntag 1990: 6.112 hPa · exp(17.62 T / (243.12 + T))). */
function magnus(tC: number): number {
  return (17.62 * tC) / (243.12 + tC);
}

/** Intensity of a rain event at t, mm/h. */
export function rainIntensity(e: RainEvent, tMs: number): number {
  if (tMs <= e.startMs || tMs >= e.endMs) return 0;
  return tMs < e.peakAtMs
    ? (e.peakMmH * (tMs - e.startMs)) / (e.peakAtMs - e.startMs)
    : (e.peakMmH * (e.endMs - tMs)) / (e.endMs - e.peakAtMs);
}

export class Weather {
  readonly calendar: Calendar;
  readonly climate: Readonly<Climate>;
  readonly #rng: Rng;
  readonly #synoptic: SmoothNoise;
  readonly #fast: SmoothNoise;
  readonly #dew: SmoothNoise;
  readonly #wind: SmoothNoise;
  readonly #random: DailyEvents<RainEvent>;
  readonly #randomRain: boolean;
  readonly #storms: RainEvent[];
  readonly #days = new Map<number, RainEvent[]>();
  readonly #rainSeries = new Map<string, Float32Array>();
  readonly #maxWind = new Map<number, { windMs: number; atMs: number }>();
  // Hot-path caches.
  readonly #tables = new Map<number, Float64Array>();
  #dayStart = Infinity;
  #dayEnd = -Infinity;
  #tab: Float64Array = new Float64Array(0);
  #curList: RainEvent[] = [];
  #lastT = NaN;
  readonly #state: WeatherState = { temperatureC: 0, dewPointC: 0, humidityPct: 0, rainMmH: 0, windMs: 0, recentRainMmH: 0 };

  constructor(options: WeatherOptions) {
    this.calendar = Calendar.from(options.calendar);
    this.climate = Object.freeze({ ...TEMPERATE_CLIMATE, ...options.climate });
    const c = this.climate;
    this.#rng = rngOf(options.seed);
    this.#synoptic = new SmoothNoise(this.#rng.fork("synoptic"), 6 * HOUR_MS, c.synopticTauH * HOUR_MS);
    this.#fast = new SmoothNoise(this.#rng.fork("fast"), HOUR_MS, c.fastTauH * HOUR_MS);
    this.#dew = new SmoothNoise(this.#rng.fork("dew"), 3 * HOUR_MS, 24 * HOUR_MS);
    this.#wind = new SmoothNoise(this.#rng.fork("wind"), HOUR_MS, 12 * HOUR_MS);
    this.#randomRain = options.randomRain ?? true;
    this.#random = new DailyEvents(this.calendar, (d) => this.#generateRain(d), MAX_RAIN_MS);
    this.#storms = (options.storms ?? []).map((s) => {
      if (!(s.durationMs > 0) || !(s.peakMmH >= 0)) throw new RangeError("storm: durationMs must be positive and peakMmH non-negative");
      const f = clamp(s.peakFraction ?? 0.35, 0.01, 0.99);
      return { startMs: s.startMs, endMs: s.startMs + s.durationMs, peakAtMs: s.startMs + f * s.durationMs, peakMmH: s.peakMmH, windMs: s.windMs ?? 0, scripted: true };
    });
  }

  /** 1 in mid-winter, 0 in mid-summer (cosine in the day of year). */
  winterness(tMs: number): number {
    return this.#winternessDoy(this.calendar.dayOfYear(tMs));
  }

  #winternessDoy(doy: number): number {
    return winternessOf(doy, this.climate.warmestDayOfYear);
  }

  #generateRain(day: number): RainEvent[] {
    if (!this.#randomRain) return [];
    const c = this.climate;
    const r = this.#rng.fork(`rain:${day}`);
    const start = this.calendar.dayStartMs(day);
    const w = this.winterness(start + DAY_MS / 2);
    const n = poisson(r, lerp(c.rainEventsPerDaySummer, c.rainEventsPerDayWinter, w));
    const out: RainEvent[] = [];
    for (let i = 0; i < n; i++) {
      // Summer rain is mostly convective: afternoon and evening.
      const convective = r.chance((1 - w) * 0.6);
      const hour = convective ? uniform(r, 12, 20) : uniform(r, 0, 24);
      const startMs = Math.round(start + hour * HOUR_MS);
      const durMs = Math.round(clamp(lognormal(r, lerp(c.rainDurationMedianHSummer, c.rainDurationMedianHWinter, w), c.rainDurationSigma), 0.25, 18) * HOUR_MS);
      const peak = 0.2 + exponential(r, lerp(c.rainPeakMeanMmHSummer, c.rainPeakMeanMmHWinter, w));
      const peakAtMs = startMs + uniform(r, 0.15, 0.5) * durMs;
      out.push({ startMs, endMs: startMs + durMs, peakAtMs, peakMmH: peak, windMs: 0, scripted: false });
    }
    return out;
  }

  /** Rain events overlapping local `day` or ended up to 12 h before it, random and scripted (cached). */
  rainEventsOnDay(day: number): RainEvent[] {
    let list = this.#days.get(day);
    if (list) return list;
    const from = this.calendar.dayStartMs(day) - RECENT_PAD_MS;
    const to = this.calendar.dayStartMs(day + 1);
    list = this.#random.between(from, to);
    for (const s of this.#storms) if (overlaps(s, from, to)) list.push(s);
    list.sort((a, b) => a.startMs - b.startMs);
    this.#days.set(day, list);
    return list;
  }

  /** Rain events (random and scripted) overlapping [fromMs, toMs), sorted by start. */
  rainEvents(fromMs: number, toMs: number): RainEvent[] {
    const out = this.#random.between(fromMs, toMs);
    for (const s of this.#storms) if (overlaps(s, fromMs, toMs)) out.push(s);
    return out.sort((a, b) => a.startMs - b.startMs);
  }

  /**
   * Rain intensity over local `day` in steps of `stepMs` (which must divide a
   * day): entry i is the mean intensity over step i, mm/h (exact for the
   * piecewise-linear hyetographs). Cached and shared, for runoff models that
   * integrate the rain step by step.
   */
  rainSeries(day: number, stepMs: number): Float32Array {
    const key = `${day}:${stepMs}`;
    let s = this.#rainSeries.get(key);
    if (s) return s;
    const n = Math.round(DAY_MS / stepMs);
    s = new Float32Array(n);
    const start = this.calendar.dayStartMs(day);
    for (const e of this.rainEventsOnDay(day)) {
      const i0 = Math.max(0, Math.floor((e.startMs - start) / stepMs));
      const i1 = Math.min(n - 1, Math.floor((e.endMs - start) / stepMs));
      for (let i = i0; i <= i1; i++) {
        const a = start + i * stepMs;
        const b = a + stepMs;
        const mm = segmentIntegral(e, e.startMs, e.peakAtMs, a, b) + segmentIntegral(e, e.peakAtMs, e.endMs, a, b);
        s[i] += (mm * HOUR_MS) / stepMs;
      }
    }
    this.#rainSeries.set(key, s);
    return s;
  }

  /** Whether any rain falls on local `day`. */
  rainsOnDay(day: number): boolean {
    const from = this.calendar.dayStartMs(day);
    const to = this.calendar.dayStartMs(day + 1);
    return this.rainEventsOnDay(day).some((e) => e.peakMmH > 0 && overlaps(e, from, to));
  }

  /** Rain fallen in [fromMs, toMs), mm (exact integral of the hyetographs). */
  rainDepthMm(fromMs: number, toMs: number): number {
    let mm = 0;
    for (const e of this.rainEvents(fromMs, toMs)) {
      mm += segmentIntegral(e, e.startMs, e.peakAtMs, fromMs, toMs) + segmentIntegral(e, e.peakAtMs, e.endMs, fromMs, toMs);
    }
    return mm;
  }

  /**
   * The state at t computed from the model's formulas, written to
   * out[o..o+4] as temperature, dew point, humidity, wind, washout index.
   * `list` holds the rain events of t's day.
   */
  #compute(tMs: number, list: readonly RainEvent[], out: Float64Array, o: number): void {
    const c = this.climate;
    const cal = this.calendar;
    let recent = 0;
    let stormWind = 0;
    for (let i = 0; i < list.length; i++) {
      const e = list[i];
      if (tMs <= e.startMs) break;
      if (tMs < e.endMs) {
        const v = rainIntensity(e, tMs);
        // Washout memory: the larger of the intensity and a ramp to half the peak at the end, so it is continuous.
        const ramp = (0.5 * e.peakMmH * (tMs - e.startMs)) / (e.endMs - e.startMs);
        recent += v > ramp ? v : ramp;
        if (e.windMs > 0) {
          const wv = e.windMs * (0.6 + 0.4 * (e.peakMmH > 0 ? v / e.peakMmH : 1));
          if (wv > stormWind) stormWind = wv;
        }
      } else if (tMs - e.endMs < RECENT_PAD_MS) {
        recent += 0.5 * e.peakMmH * Math.exp((e.endMs - tMs) / RECENT_TAU_MS);
      }
    }
    const doy = cal.dayOfYear(tMs);
    const w = this.#winternessDoy(doy);
    const wet = 1 - Math.exp(-recent);
    const base =
      c.meanTempC +
      c.seasonalAmplitudeC * Math.cos((TWO_PI * (doy - c.warmestDayOfYear)) / YEAR_DAYS) +
      c.synopticSdC * this.#synoptic.at(tMs) +
      c.fastSdC * this.#fast.at(tMs) -
      Math.min(c.rainCoolingMaxC, c.rainCoolingCPerMmH * recent);
    const half = 0.5 * lerp(c.diurnalRangeSummerC, c.diurnalRangeWinterC, w) * (1 - 0.6 * wet);
    const diurnal = half * diurnalShape(cal.hourOfDay(tMs), c.coldestHour, c.warmestHour);
    const t = base + diurnal;
    let depression = lerp(c.dewDepressionSummerC, c.dewDepressionWinterC, w) + c.dewDepressionSdC * this.#dew.at(tMs);
    if (depression < 0.5) depression = 0.5;
    // In rain the air saturates: the dew point follows the temperature's daily cycle and the depression shrinks.
    let td = base + (0.25 + 0.75 * wet) * diurnal - depression * (1 - 0.9 * wet);
    if (td > t - 0.05) td = t - 0.05;
    const sigma = c.windSigma;
    const wind = lerp(c.windMeanSummerMs, c.windMeanWinterMs, w) * Math.exp(sigma * this.#wind.at(tMs) - 0.5 * sigma * sigma);
    out[o] = t;
    out[o + 1] = td;
    out[o + 2] = clamp(100 * Math.exp(magnus(td) - magnus(t)), 1, 100);
    out[o + 3] = wind > stormWind ? wind : stormWind;
    out[o + 4] = recent;
  }

  /** The day's table: the state every TABLE_STEP_MS from local midnight to the next (cached). */
  #table(day: number): Float64Array {
    let tab = this.#tables.get(day);
    if (tab) return tab;
    tab = new Float64Array((TABLE_KNOTS + 1) * TABLE_FIELDS);
    const start = this.calendar.dayStartMs(day);
    const list = this.rainEventsOnDay(day);
    const next = this.rainEventsOnDay(day + 1);
    for (let k = 0; k <= TABLE_KNOTS; k++) this.#compute(start + k * TABLE_STEP_MS, k === TABLE_KNOTS ? next : list, tab, k * TABLE_FIELDS);
    this.#tables.set(day, tab);
    return tab;
  }

  /**
   * Loads the state at t: temperature, humidity, wind and the washout index
   * interpolated linearly in the day's 5-minute table (they change slowly),
   * the rain intensity exactly from the events.
   */
  #update(tMs: number): void {
    if (tMs === this.#lastT) return;
    this.#lastT = tMs;
    if (!(tMs >= this.#dayStart && tMs < this.#dayEnd)) {
      const day = this.calendar.dayIndex(tMs);
      this.#dayStart = this.calendar.dayStartMs(day);
      this.#dayEnd = this.calendar.dayStartMs(day + 1);
      this.#curList = this.rainEventsOnDay(day);
      this.#tab = this.#table(day);
    }
    const u = (tMs - this.#dayStart) / TABLE_STEP_MS;
    const i = Math.floor(u);
    const f = u - i;
    const tab = this.#tab;
    const k = i * TABLE_FIELDS;
    const st = this.#state;
    st.temperatureC = tab[k] + f * (tab[k + TABLE_FIELDS] - tab[k]);
    st.dewPointC = tab[k + 1] + f * (tab[k + 1 + TABLE_FIELDS] - tab[k + 1]);
    st.humidityPct = tab[k + 2] + f * (tab[k + 2 + TABLE_FIELDS] - tab[k + 2]);
    st.windMs = tab[k + 3] + f * (tab[k + 3 + TABLE_FIELDS] - tab[k + 3]);
    st.recentRainMmH = tab[k + 4] + f * (tab[k + 4 + TABLE_FIELDS] - tab[k + 4]);
    let rain = 0;
    const list = this.#curList;
    for (let j = 0; j < list.length; j++) {
      const e = list[j];
      if (tMs <= e.startMs) break;
      if (tMs < e.endMs) rain += rainIntensity(e, tMs);
    }
    st.rainMmH = rain;
  }

  /** The whole state at t (a fresh object). */
  at(tMs: number): WeatherState {
    this.#update(tMs);
    return { ...this.#state };
  }

  /** The whole state at t as one reused object, valid until the next call (allocation-free, for models). */
  state(tMs: number): Readonly<WeatherState> {
    this.#update(tMs);
    return this.#state;
  }

  temperatureC(tMs: number): number {
    this.#update(tMs);
    return this.#state.temperatureC;
  }

  /**
   * Temperature of the water in the mains at `tMs`, °C (what a water meter's probe sees): pipes about a metre
   * down follow the season, damped to 60 % of the air's swing and a month behind it, and none of the day's weather.
   */
  mainsWaterC(tMs: number): number {
    const c = this.climate;
    const doy = this.calendar.dayOfYear(tMs);
    return c.meanTempC + 0.6 * c.seasonalAmplitudeC * Math.cos((TWO_PI * (doy - c.warmestDayOfYear - 30)) / YEAR_DAYS);
  }

  dewPointC(tMs: number): number {
    this.#update(tMs);
    return this.#state.dewPointC;
  }

  humidityPct(tMs: number): number {
    this.#update(tMs);
    return this.#state.humidityPct;
  }

  /** Rain intensity, mm/h (exact). */
  rainMmH(tMs: number): number {
    this.#update(tMs);
    return this.#state.rainMmH;
  }

  /** Washout index (see `WeatherState`), mm/h. */
  recentRainMmH(tMs: number): number {
    this.#update(tMs);
    return this.#state.recentRainMmH;
  }

  windMs(tMs: number): number {
    this.#update(tMs);
    return this.#state.windMs;
  }

  /** Highest half-hourly wind speed of local `day`, m/s, and when it blew (cached). */
  maxWind(day: number): { windMs: number; atMs: number } {
    const cached = this.#maxWind.get(day);
    if (cached) return cached;
    const start = this.calendar.dayStartMs(day);
    let best = -1;
    let at = start;
    for (let i = 0; i < 48; i++) {
      const t = start + i * (HOUR_MS / 2);
      const v = this.windMs(t);
      if (v > best) {
        best = v;
        at = t;
      }
    }
    const result = { windMs: best, atMs: at };
    this.#maxWind.set(day, result);
    return result;
  }
}

function lerp(summer: number, winter: number, w: number): number {
  return summer + (winter - summer) * w;
}

/** Diurnal cycle in [−1, 1]: −1 at `cold` h, +1 at `warm` h, half-cosines in between. */
export function diurnalShape(hour: number, cold: number, warm: number): number {
  const rise = warm - cold;
  if (hour >= cold && hour < warm) return -Math.cos((Math.PI * (hour - cold)) / rise);
  let since = hour - warm;
  if (since < 0) since += 24;
  return Math.cos((Math.PI * since) / (24 - rise));
}

/** ∫ of the linear piece of `e` between a and b, clipped to [from, to), mm. */
function segmentIntegral(e: RainEvent, a: number, b: number, from: number, to: number): number {
  const lo = Math.max(a, from);
  const hi = Math.min(b, to);
  if (!(hi > lo)) return 0;
  const mid = 0.5 * (lo + hi);
  // A linear piece: its integral is the value at the middle times the length.
  return (rainIntensity(e, mid) * (hi - lo)) / HOUR_MS;
}
