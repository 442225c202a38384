/**
 * Time intervals and ground-truth records shared by the world models: the
 * interval type, merging, per-day lazily generated event lists (so a month of
 * events costs nothing until it is asked for, and a day's events never depend
 * on which day was asked for first), and threshold exceedances of a signal
 * sampled on a fixed grid, cached in one-day chunks.
 */
import { DAY_MS, type Calendar } from "./calendar.ts";

/** A half-open time interval [startMs, endMs) in virtual ms. */
export interface Interval {
  startMs: number;
  endMs: number;
}

/** What a node's ground truth can say happened (the alarms the firmware should raise). */
export type GroundTruthKind =
  | "co2High" | "aqiUnhealthy" | "pmSpike"
  | "leak" | "burst" | "away" | "noFlow"
  | "full" | "collection" | "tipped" | "lidOpen"
  | "rapidRise" | "flood" | "obstruction";

/** One ground-truth event of one node. */
export interface TruthEvent extends Interval {
  kind: GroundTruthKind;
  /**
   * Size of the event, in the unit of its kind: co2High peak ppm; aqiUnhealthy
   * peak US AQI; pmSpike peak added PM2.5 µg/m³; leak and burst L/min; full
   * peak fill %; collection fill % before emptying; tipped tilt degrees;
   * lidOpen lid angle degrees; rapidRise peak rate %/h; flood ponded volume L;
   * obstruction distance mm. Absent for away and noFlow.
   */
  magnitude?: number;
}

/** Whether `a` overlaps [fromMs, toMs). */
export function overlaps(a: Interval, fromMs: number, toMs: number): boolean {
  return a.startMs < toMs && a.endMs > fromMs;
}

/** Sorts by start, then end. */
export function byStart(a: Interval, b: Interval): number {
  return a.startMs - b.startMs || a.endMs - b.endMs;
}

/** Union of intervals, joining those less than `gapMs` apart; sorted, new objects. */
export function mergeIntervals(list: readonly Interval[], gapMs = 0): Interval[] {
  const sorted = list.slice().sort(byStart);
  const out: Interval[] = [];
  for (const iv of sorted) {
    const last = out[out.length - 1];
    if (last && iv.startMs - last.endMs <= gapMs) {
      if (iv.endMs > last.endMs) last.endMs = iv.endMs;
    } else {
      out.push({ startMs: iv.startMs, endMs: iv.endMs });
    }
  }
  return out;
}

/** Total length of the intervals' union within [fromMs, toMs), ms. */
export function coveredMs(list: readonly Interval[], fromMs: number, toMs: number): number {
  let sum = 0;
  for (const iv of mergeIntervals(list)) {
    const a = Math.max(iv.startMs, fromMs);
    const b = Math.min(iv.endMs, toMs);
    if (b > a) sum += b - a;
  }
  return sum;
}

/**
 * Events generated one local day at a time by `generate(day)`, from a stream
 * the generator forks by day, so each day is independent of the others and of
 * query order. Every event generated for day d must start at or after d's
 * local midnight and before the end of day d + `leadDays`, and last at most
 * `maxSpanMs`.
 */
export class DailyEvents<T extends Interval> {
  readonly #calendar: Calendar;
  readonly #generate: (day: number) => T[];
  readonly #maxSpanMs: number;
  readonly #padMs: number;
  readonly #leadDays: number;
  readonly #generated = new Map<number, T[]>();
  readonly #onDay = new Map<number, T[]>();

  /** `padMs`: `onDay` also lists events that ended up to this long before the day began. */
  constructor(calendar: Calendar, generate: (day: number) => T[], maxSpanMs: number, padMs = 0, leadDays = 1) {
    this.#calendar = calendar;
    this.#leadDays = leadDays;
    this.#generate = generate;
    this.#maxSpanMs = maxSpanMs;
    this.#padMs = padMs;
  }

  /** Events generated for `day` (cached). */
  startingOn(day: number): T[] {
    let list = this.#generated.get(day);
    if (!list) {
      list = this.#generate(day).sort(byStart);
      this.#generated.set(day, list);
    }
    return list;
  }

  /** Events overlapping local `day` (or ending within `padMs` before it), sorted by start (cached). */
  onDay(day: number): T[] {
    let list = this.#onDay.get(day);
    if (list) return list;
    const from = this.#calendar.dayStartMs(day) - this.#padMs;
    const to = this.#calendar.dayStartMs(day + 1);
    list = this.#collect(from, to);
    this.#onDay.set(day, list);
    return list;
  }

  /** Events overlapping [fromMs, toMs), sorted by start. */
  between(fromMs: number, toMs: number): T[] {
    return this.#collect(fromMs, toMs);
  }

  #collect(fromMs: number, toMs: number): T[] {
    const first = this.#calendar.dayIndex(fromMs - this.#maxSpanMs) - 1 - this.#leadDays;
    const last = this.#calendar.dayIndex(toMs);
    const out: T[] = [];
    for (let d = first; d <= last; d++) {
      for (const e of this.startingOn(d)) if (overlaps(e, fromMs, toMs)) out.push(e);
    }
    return out.sort(byStart);
  }
}

/** Options of `SampledIntervals.between`. */
export interface ExceedanceOptions {
  /** Join intervals less than this apart (default 0). */
  mergeGapMs?: number;
  /** Drop intervals shorter than this, after merging (default 0). */
  minDurationMs?: number;
}

/** An interval with the extreme value of the signal inside it. */
export interface PeakInterval extends Interval {
  peak: number;
}

/**
 * Where a sampled signal meets a condition: `value(t)` is evaluated at every
 * multiple of `stepMs`, and the sample at t counts for [t, t + stepMs) when
 * `value(t) ≥ threshold`. Results are cached per chunk of one day of virtual
 * time, and an interval crossing the asked range is followed to its real
 * start and end (up to `maxExtendDays` beyond), so the answer does not depend
 * on how the range was cut. Merge gaps must be shorter than a day.
 */
export class SampledIntervals {
  readonly #value: (tMs: number) => number;
  readonly #threshold: number;
  readonly #stepMs: number;
  readonly #maxExtendDays: number;
  readonly #chunks = new Map<number, PeakInterval[]>();

  constructor(value: (tMs: number) => number, threshold: number, stepMs: number, maxExtendDays = 60) {
    if (!(stepMs > 0)) throw new RangeError("stepMs must be positive");
    this.#value = value;
    this.#threshold = threshold;
    this.#stepMs = stepMs;
    this.#maxExtendDays = maxExtendDays;
  }

  #chunk(c: number): PeakInterval[] {
    let list = this.#chunks.get(c);
    if (list) return list;
    list = [];
    const step = this.#stepMs;
    const from = c * DAY_MS;
    const to = from + DAY_MS;
    let t = Math.ceil(from / step) * step;
    let open: PeakInterval | undefined;
    for (; t < to; t += step) {
      const v = this.#value(t);
      if (v >= this.#threshold) {
        if (open) {
          open.endMs = t + step;
          if (v > open.peak) open.peak = v;
        } else {
          open = { startMs: t, endMs: t + step, peak: v };
          list.push(open);
        }
      } else {
        open = undefined;
      }
    }
    this.#chunks.set(c, list);
    return list;
  }

  /** Exceedance intervals overlapping [fromMs, toMs), sorted. */
  between(fromMs: number, toMs: number, options: ExceedanceOptions = {}): PeakInterval[] {
    if (!(toMs > fromMs)) return [];
    const gap = options.mergeGapMs ?? 0;
    const minDur = options.minDurationMs ?? 0;
    let c0 = Math.floor(fromMs / DAY_MS);
    let c1 = Math.floor((toMs - 1) / DAY_MS);
    // Follow intervals that run (or merge) across the chunk edges of the range.
    for (let n = 0; n < this.#maxExtendDays; n++) {
      const prev = this.#chunk(c0 - 1);
      const prevLast = prev[prev.length - 1];
      const first = this.#chunk(c0)[0];
      if (prevLast && first && first.startMs - prevLast.endMs <= gap) c0--;
      else break;
    }
    for (let n = 0; n < this.#maxExtendDays; n++) {
      const cur = this.#chunk(c1);
      const last = cur[cur.length - 1];
      const next = this.#chunk(c1 + 1)[0];
      if (last && next && next.startMs - last.endMs <= gap) c1++;
      else break;
    }
    const merged: PeakInterval[] = [];
    for (let c = c0; c <= c1; c++) {
      for (const iv of this.#chunk(c)) {
        const last = merged[merged.length - 1];
        if (last && iv.startMs - last.endMs <= gap) {
          last.endMs = iv.endMs;
          if (iv.peak > last.peak) last.peak = iv.peak;
        } else {
          merged.push({ startMs: iv.startMs, endMs: iv.endMs, peak: iv.peak });
        }
      }
    }
    return merged.filter((iv) => iv.endMs - iv.startMs >= minDur && overlaps(iv, fromMs, toMs));
  }
}

/** `SampledIntervals` by key, built on first use (a world model keeps one per question and threshold). */
export class SampledIntervalsCache {
  readonly #byKey = new Map<string, SampledIntervals>();

  /** The sampler of `key`, made from `value`, `threshold` and `stepMs` the first time. */
  get(key: string, value: (t: number) => number, threshold: number, stepMs: number): SampledIntervals {
    let s = this.#byKey.get(key);
    if (!s) {
      s = new SampledIntervals(value, threshold, stepMs);
      this.#byKey.set(key, s);
    }
    return s;
  }
}
