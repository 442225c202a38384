/**
 * Household water demand seen by a pulse meter: flow in L/min over time.
 *
 * Demand is a stochastic sequence of use events, each a constant flow for a
 * while: toilet cistern refills, showers, taps, washing-machine and dishwasher
 * fills. Every occupant has a day: a wake-up and a bedtime (later at weekends),
 * on working days a share leave for work or school and come back in the
 * evening; toilets and taps fall in the hours at home (taps cluster around
 * meals), showers just after waking or in the evening, washing more at
 * weekends, the dishwasher after dinner. So the flow has morning and evening
 * peaks, a different weekend shape, and nothing at night but the odd flush.
 * Households go **away** for days (no use at all), and get **leaks** (a small
 * constant flow, 20–200 mL/min, from a start until repaired) and **bursts**
 * (20–60 L/min for minutes to hours), random at given rates or scripted; both
 * run on while the household is away.
 *
 * Flows add up in integer mL/min, so a flow is exact and the night minimum of
 * a household without a leak is exactly 0. Use events are generated per day
 * from a stream forked by the day; a day's flow is a step function (times and
 * flows) built on first use and kept in a small cache; `flowLMin(t)` walks it
 * with a cursor (binary search after a jump), O(1) for increasing times.
 *
 * Defaults and sources (round figures): showers 7 min median at ≈ 8.5 L/min,
 * taps ≈ 25 s at 2.5–7 L/min and toilet flushes of 4.5–9 L ≈ 5 times a person
 * a day follow the end-use studies (DeOreo et al., "Residential End Uses of
 * Water, Version 2", Water Research Foundation 2016: showers 7.8 min at 2.1
 * gpm, ≈ 5 flushes per person per day); a washing machine ≈ 50 L in five fills;
 * the result is ≈ 115 L per person per day, near the German 125 L and below
 * the EU average. Household sizes 1–5 with mean 2.3 (EU). Leaks: ≈ 1.5 a year
 * lasting two weeks (median), so ≈ 6 % of homes leak at any time (end-use
 * studies find leaks in a minority of homes, most of them small); bursts 0.2 a
 * household a year, away 4 trips a year of 4 days (median).
 */
import type { Rng } from "../core/rng.ts";
import { Calendar, DAY_MS, HOUR_MS, MINUTE_MS, type CalendarOptions } from "./calendar.ts";
import { DailyEvents, mergeIntervals, overlaps, type Interval, type TruthEvent } from "./intervals.ts";
import { clamp, lognormal, poisson, rngOf, uniform, type SeedLike } from "./random.ts";

export type WaterUseKind = "toilet" | "shower" | "tap" | "washer" | "dishwasher";

/** Hours without water that make a noFlow event (the firmware's default noPulseH). */
export const DEFAULT_NO_FLOW_H = 72;

/** One use of water: a constant flow over [startMs, endMs). */
export interface WaterUse extends Interval {
  kind: WaterUseKind;
  /** L/min, a whole number of mL/min. */
  flowLMin: number;
}

/** A leak or a burst: a constant flow (a whole number of mL/min) over [startMs, endMs). */
export interface WaterIncident extends Interval {
  flowLMin: number;
  scripted: boolean;
}

/** A stretch when nobody is home. */
export interface AwayInterval extends Interval {
  scripted: boolean;
}

export interface IncidentScript {
  startMs: number;
  /** Default: never repaired (Infinity). */
  endMs?: number;
  flowLMin: number;
}

export interface WaterDemandOptions {
  seed: SeedLike;
  calendar?: Calendar | CalendarOptions;
  /** People in the household (default drawn: 1–5, mean 2.3). */
  occupants?: number;
  /** Multiplies the number of uses (default 1). */
  usageScale?: number;
  /** Whether there is a dishwasher (default drawn, 55 %). */
  dishwasher?: boolean;
  /** Share of occupants out by day on working days (default 0.6). */
  outShare?: number;
  leaks?: readonly IncidentScript[];
  bursts?: readonly IncidentScript[];
  away?: readonly Interval[];
  /** Random leaks, bursts and absences (default true). */
  randomIncidents?: boolean;
  /** Mean leaks a year (default 1.5), their flow range in L/min (default [0.02, 0.2], log-uniform) and median duration in days (14). */
  leaksPerYear?: number;
  leakFlowLMin?: readonly [number, number];
  leakDaysMedian?: number;
  /** Mean bursts a year (default 0.2), flow range L/min (default [20, 60]) and median duration in minutes (40). */
  burstsPerYear?: number;
  burstFlowLMin?: readonly [number, number];
  burstMinutesMedian?: number;
  /** Mean trips away a year (default 4, mostly starting Friday or Saturday) and median length in days (4). */
  awayPerYear?: number;
  awayDaysMedian?: number;
}

/** Ground truth of a water node. */
export interface WaterTruth {
  leaks: WaterIncident[];
  bursts: WaterIncident[];
  away: Interval[];
}

/** A day's flow as a step function: flow `flowsMl[i]` (mL/min) from `times[i]` to the next time. */
interface DayFlow {
  day: number;
  times: Float64Array;
  flowsMl: Int32Array;
}

const MAX_LEAK_MS = 90 * DAY_MS;
const MAX_BURST_MS = 8 * HOUR_MS;
const MAX_AWAY_MS = 21 * DAY_MS;
const DAY_CACHE = 4;
/** Household sizes 1..5 (cumulative weights; mean ≈ 2.3). */
const SIZE_CDF = [0.34, 0.66, 0.81, 0.95, 1];

export class WaterDemand {
  readonly calendar: Calendar;
  readonly occupants: number;
  readonly #rng: Rng;
  readonly #scale: number;
  readonly #dishwasher: boolean;
  readonly #outShare: number;
  readonly #cisternL: number;
  readonly #refillLMin: number;
  readonly #showerLMin: number;
  readonly #leaks: DailyEvents<WaterIncident>;
  readonly #bursts: DailyEvents<WaterIncident>;
  readonly #away: DailyEvents<AwayInterval>;
  readonly #scriptedLeaks: WaterIncident[];
  readonly #scriptedBursts: WaterIncident[];
  readonly #scriptedAway: AwayInterval[];
  readonly #o: Required<Pick<WaterDemandOptions, "leaksPerYear" | "leakFlowLMin" | "leakDaysMedian" | "burstsPerYear" | "burstFlowLMin" | "burstMinutesMedian" | "awayPerYear" | "awayDaysMedian" | "randomIncidents">>;
  readonly #usesByDay = new Map<number, WaterUse[]>();
  readonly #flowDays = new Map<number, DayFlow>();
  // Cursor state of flowLMin.
  #curStart = Infinity;
  #curEnd = -Infinity;
  #times: Float64Array = new Float64Array(0);
  #flows: Int32Array = new Int32Array(0);
  #cursor = 0;

  constructor(options: WaterDemandOptions) {
    this.calendar = Calendar.from(options.calendar);
    this.#rng = rngOf(options.seed);
    const h = this.#rng.fork("household");
    let size = 1;
    const u = h.next();
    while (size < 5 && u >= SIZE_CDF[size - 1]) size++;
    this.occupants = options.occupants ?? size;
    if (!(this.occupants >= 0)) throw new RangeError("occupants must be ≥ 0");
    this.#scale = options.usageScale ?? 1;
    const hasDishwasher = h.chance(0.55);
    this.#dishwasher = options.dishwasher ?? hasDishwasher;
    this.#outShare = options.outShare ?? 0.6;
    this.#cisternL = uniform(h, 4.5, 9);
    this.#refillLMin = uniform(h, 7, 12);
    this.#showerLMin = clamp(h.normal(8.5, 1.5), 5, 13);
    this.#o = {
      randomIncidents: options.randomIncidents ?? true,
      leaksPerYear: options.leaksPerYear ?? 1.5,
      leakFlowLMin: options.leakFlowLMin ?? [0.02, 0.2],
      leakDaysMedian: options.leakDaysMedian ?? 14,
      burstsPerYear: options.burstsPerYear ?? 0.2,
      burstFlowLMin: options.burstFlowLMin ?? [20, 60],
      burstMinutesMedian: options.burstMinutesMedian ?? 40,
      awayPerYear: options.awayPerYear ?? 4,
      awayDaysMedian: options.awayDaysMedian ?? 4,
    };
    const incident = (s: IncidentScript): WaterIncident => {
      const endMs = s.endMs ?? Infinity;
      if (!(endMs > s.startMs) || !(s.flowLMin >= 0)) throw new RangeError("leak/burst: endMs must be after startMs and the flow non-negative");
      return { startMs: s.startMs, endMs, flowLMin: mlMin(s.flowLMin) / 1000, scripted: true };
    };
    this.#scriptedLeaks = (options.leaks ?? []).map(incident);
    this.#scriptedBursts = (options.bursts ?? []).map(incident);
    this.#scriptedAway = (options.away ?? []).map((a) => {
      if (!(a.endMs > a.startMs)) throw new RangeError("away: endMs must be after startMs");
      return { startMs: a.startMs, endMs: a.endMs, scripted: true };
    });
    const cal = this.calendar;
    this.#leaks = new DailyEvents(cal, (d) => this.#generateLeak(d), MAX_LEAK_MS);
    this.#bursts = new DailyEvents(cal, (d) => this.#generateBurst(d), MAX_BURST_MS);
    this.#away = new DailyEvents(cal, (d) => this.#generateAway(d), MAX_AWAY_MS, 0, 2);
  }

  // ---------------------------------------------------------- incidents

  #generateLeak(day: number): WaterIncident[] {
    const o = this.#o;
    if (!o.randomIncidents) return [];
    const r = this.#rng.fork(`leak:${day}`);
    if (!r.chance(o.leaksPerYear / 365.2425)) return [];
    const startMs = Math.round(this.calendar.dayStartMs(day) + r.next() * DAY_MS);
    const [lo, hi] = o.leakFlowLMin;
    const flow = lo * Math.pow(hi / lo, r.next());
    const dur = Math.round(clamp(lognormal(r, o.leakDaysMedian, 0.9), 0.5, 90) * DAY_MS);
    return [{ startMs, endMs: startMs + dur, flowLMin: mlMin(flow) / 1000, scripted: false }];
  }

  #generateBurst(day: number): WaterIncident[] {
    const o = this.#o;
    if (!o.randomIncidents) return [];
    const r = this.#rng.fork(`burst:${day}`);
    if (!r.chance(o.burstsPerYear / 365.2425)) return [];
    const startMs = Math.round(this.calendar.dayStartMs(day) + r.next() * DAY_MS);
    const [lo, hi] = o.burstFlowLMin;
    const dur = Math.round(clamp(lognormal(r, o.burstMinutesMedian, 0.8), 3, 480) * MINUTE_MS);
    return [{ startMs, endMs: startMs + dur, flowLMin: mlMin(uniform(r, lo, hi)) / 1000, scripted: false }];
  }

  #generateAway(day: number): AwayInterval[] {
    const o = this.#o;
    if (!o.randomIncidents) return [];
    const r = this.#rng.fork(`away:${day}`);
    const dow = this.calendar.dayOfWeek(day);
    // Trips start mostly on Fridays and Saturdays; the weekly mean weight is 1.
    const weight = dow === 4 || dow === 5 ? 2.5 : 0.4;
    if (!r.chance((o.awayPerYear / 365.2425) * weight)) return [];
    const cal = this.calendar;
    const startMs = Math.round(cal.dayStartMs(day) + uniform(r, 7, 19) * HOUR_MS);
    const days = clamp(lognormal(r, o.awayDaysMedian, 0.6), 1.2, 20);
    const backDay = cal.dayIndex(startMs + days * DAY_MS);
    const endMs = Math.max(startMs + 12 * HOUR_MS, Math.round(cal.dayStartMs(backDay) + uniform(r, 10, 22) * HOUR_MS));
    return [{ startMs, endMs, scripted: false }];
  }

  /** Leaks overlapping [fromMs, toMs), sorted. */
  leaks(fromMs: number, toMs: number): WaterIncident[] {
    return withScripted(this.#leaks.between(fromMs, toMs), this.#scriptedLeaks, fromMs, toMs);
  }

  /** Bursts overlapping [fromMs, toMs), sorted. */
  bursts(fromMs: number, toMs: number): WaterIncident[] {
    return withScripted(this.#bursts.between(fromMs, toMs), this.#scriptedBursts, fromMs, toMs);
  }

  /** Times nobody is home overlapping [fromMs, toMs), merged and sorted. */
  away(fromMs: number, toMs: number): Interval[] {
    return mergeIntervals(withScripted(this.#away.between(fromMs, toMs), this.#scriptedAway, fromMs, toMs));
  }

  // ---------------------------------------------------------- use events

  #generateUses(day: number): WaterUse[] {
    const r = this.#rng.fork(`uses:${day}`);
    const cal = this.calendar;
    const ds = cal.dayStartMs(day);
    const weekend = cal.isWeekend(day);
    const scale = this.#scale;
    const out: WaterUse[] = [];
    const push = (kind: WaterUseKind, hour: number, minutes: number, flowLMin: number) => {
      const startMs = Math.round(ds + hour * HOUR_MS);
      out.push({ kind, startMs, endMs: startMs + Math.max(1000, Math.round(minutes * MINUTE_MS)), flowLMin: mlMin(flowLMin) / 1000 });
    };
    const flush = (hour: number) => {
      const vol = this.#cisternL * (r.chance(0.4) ? 0.55 : 1);
      push("toilet", hour, vol / this.#refillLMin, this.#refillLMin);
    };
    let earliestWake = 24;
    for (let p = 0; p < this.occupants; p++) {
      const wake = weekend ? clamp(r.normal(8.3, 1), 6, 11.5) : clamp(r.normal(6.6, 0.6), 5, 9);
      const bed = weekend ? clamp(r.normal(23.3, 0.8), 21, 25.5) : clamp(r.normal(22.8, 0.7), 20.5, 25);
      earliestWake = Math.min(earliestWake, wake);
      const goesOut = !weekend && r.chance(this.#outShare);
      const windows: [number, number][] = [];
      let back = 0;
      if (goesOut) {
        const leave = wake + clamp(r.normal(1, 0.3), 0.4, 2);
        back = clamp(r.normal(17.8, 1), 15, 21);
        windows.push([wake, leave]);
        if (back < bed) windows.push([back, bed]);
      } else {
        windows.push([wake, bed]);
      }
      let total = 0;
      for (const [a, b] of windows) total += b - a;
      const home = (): number => {
        let x = r.next() * total;
        for (const [a, b] of windows) {
          if (x < b - a) return a + x;
          x -= b - a;
        }
        return windows[windows.length - 1][1];
      };
      const isHome = (h: number) => windows.some(([a, b]) => h >= a && h < b);

      const flushes = poisson(r, scale * (goesOut ? 2.8 : 4.8) * (weekend ? 1.05 : 1));
      for (let i = 0; i < flushes; i++) flush(home());
      if (r.chance(Math.min(1, 0.15 * scale))) flush(uniform(r, 1, 5));

      if (r.chance(Math.min(1, 0.8 * scale))) {
        const eveningFrom = Math.max(goesOut ? back : 18.5, 18.5);
        const morning = r.chance(weekend ? 0.55 : 0.65) || eveningFrom > bed - 0.4;
        const hour = morning ? wake + uniform(r, 0.05, weekend ? 1.5 : 0.5) : uniform(r, eveningFrom, bed - 0.3);
        push("shower", hour, clamp(lognormal(r, 7, 0.35), 2, 25), clamp(r.normal(this.#showerLMin, 0.7), 4, 14));
      }

      const taps = poisson(r, scale * (goesOut ? 6 : 10) * (weekend ? 1.1 : 1));
      const meals = [wake + 0.4, 12.5, 19].filter(isHome);
      for (let i = 0; i < taps; i++) {
        let hour = home();
        if (meals.length > 0 && r.chance(0.55)) {
          const m = r.normal(meals[r.int(0, meals.length - 1)], 0.5);
          if (isHome(m)) hour = m;
        }
        push("tap", hour, clamp(lognormal(r, 20 / 60, 0.8), 0.05, 5), uniform(r, 2.5, 7));
      }
    }
    if (this.occupants > 0) {
      const loads = poisson(r, scale * (0.12 * this.occupants + 0.05) * (weekend ? 1.7 : 0.85));
      for (let i = 0; i < loads; i++) {
        const start = uniform(r, Math.max(8, earliestWake + 0.5), 20);
        for (const offsetMin of [0, 12, 28, 45, 60]) {
          const vol = uniform(r, 8, 12);
          push("washer", start + (offsetMin + uniform(r, 0, 3)) / 60, vol / 10, 10);
        }
      }
      if (this.#dishwasher && r.chance(Math.min(1, 0.65 * scale))) {
        const start = clamp(r.normal(20.5, 0.8), 13, 23.5);
        for (const offsetMin of [0, 25, 50, 75]) push("dishwasher", start + offsetMin / 60, 3.5 / 7, 7);
      }
    }
    return out.sort((a, b) => a.startMs - b.startMs);
  }

  /** Use events generated for local `day`, without those that fall while the household is away (cached). */
  #uses(day: number): WaterUse[] {
    let list = this.#usesByDay.get(day);
    if (list) return list;
    const raw = this.#generateUses(day);
    const ds = this.calendar.dayStartMs(day);
    const away = this.away(ds, ds + 3 * DAY_MS);
    list = away.length === 0 ? raw : raw.filter((u) => !away.some((a) => u.startMs >= a.startMs && u.startMs < a.endMs));
    this.#usesByDay.set(day, list);
    if (this.#usesByDay.size > 8) this.#usesByDay.delete(this.#usesByDay.keys().next().value as number);
    return list;
  }

  /** Use events overlapping [fromMs, toMs), sorted by start. */
  uses(fromMs: number, toMs: number): WaterUse[] {
    const out: WaterUse[] = [];
    const cal = this.calendar;
    for (let d = cal.dayIndex(fromMs) - 2, last = cal.dayIndex(toMs); d <= last; d++) {
      for (const u of this.#uses(d)) if (overlaps(u, fromMs, toMs)) out.push(u);
    }
    return out.sort((a, b) => a.startMs - b.startMs);
  }

  // ---------------------------------------------------------- flow

  #dayFlow(day: number): DayFlow {
    const cached = this.#flowDays.get(day);
    if (cached) return cached;
    const cal = this.calendar;
    const from = cal.dayStartMs(day);
    const to = cal.dayStartMs(day + 1);
    const deltas: number[] = [];
    const add = (a: number, b: number, flowLMin: number) => {
      const s = Math.max(a, from);
      const e = Math.min(b, to);
      if (!(e > s)) return;
      const ml = mlMin(flowLMin);
      deltas.push(s, ml);
      if (e < to) deltas.push(e, -ml);
    };
    for (let d = day - 2; d <= day; d++) for (const u of this.#uses(d)) add(u.startMs, u.endMs, u.flowLMin);
    for (const l of this.leaks(from, to)) add(l.startMs, l.endMs, l.flowLMin);
    for (const b of this.bursts(from, to)) add(b.startMs, b.endMs, b.flowLMin);
    const n = deltas.length / 2;
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => deltas[2 * a] - deltas[2 * b]);
    const times: number[] = [from];
    const flows: number[] = [0];
    let flow = 0;
    for (const i of order) {
      const t = deltas[2 * i];
      flow += deltas[2 * i + 1];
      if (t === times[times.length - 1]) flows[flows.length - 1] = flow;
      else {
        times.push(t);
        flows.push(flow);
      }
    }
    const res: DayFlow = { day, times: Float64Array.from(times), flowsMl: Int32Array.from(flows) };
    this.#flowDays.set(day, res);
    if (this.#flowDays.size > DAY_CACHE) this.#flowDays.delete(this.#flowDays.keys().next().value as number);
    return res;
  }

  /** Until when `flowLMin` keeps its value at `tMs` (the next change of the day's flow steps, or the day's end). */
  readonly flowSteadyUntil = (tMs: number): number => {
    this.flowLMin(tMs);
    const i = this.#cursor;
    return i + 1 < this.#times.length ? this.#times[i + 1] : this.#curEnd;
  };

  /** True flow through the meter at `tMs`, L/min (for `PulseMeter`'s `flowLMin`). */
  readonly flowLMin = (tMs: number): number => {
    if (!(tMs >= this.#curStart && tMs < this.#curEnd)) {
      const day = this.calendar.dayIndex(tMs);
      const f = this.#dayFlow(day);
      this.#times = f.times;
      this.#flows = f.flowsMl;
      this.#curStart = this.calendar.dayStartMs(day);
      this.#curEnd = this.calendar.dayStartMs(day + 1);
      this.#cursor = 0;
    }
    const times = this.#times;
    const n = times.length;
    let i = this.#cursor;
    if (times[i] > tMs) i = 0;
    let steps = 0;
    while (i + 1 < n && times[i + 1] <= tMs) {
      i++;
      if (++steps === 8 && i + 1 < n && times[i + 1] <= tMs) {
        // A jump: binary search for the last time ≤ t.
        let lo = i + 1;
        let hi = n - 1;
        while (lo < hi) {
          const mid = (lo + hi + 1) >> 1;
          if (times[mid] <= tMs) lo = mid;
          else hi = mid - 1;
        }
        i = lo;
        break;
      }
    }
    this.#cursor = i;
    return this.#flows[i] / 1000;
  };

  /** Volume in [fromMs, toMs), L (exact integral of the step function). */
  volumeL(fromMs: number, toMs: number): number {
    let ml = 0;
    const cal = this.calendar;
    for (let d = cal.dayIndex(fromMs), last = cal.dayIndex(toMs); d <= last; d++) {
      const f = this.#dayFlow(d);
      const dayEnd = cal.dayStartMs(d + 1);
      for (let i = 0; i < f.times.length; i++) {
        const a = Math.max(f.times[i], fromMs);
        const b = Math.min(i + 1 < f.times.length ? f.times[i + 1] : dayEnd, toMs);
        if (b > a) ml += (f.flowsMl[i] * (b - a)) / MINUTE_MS;
      }
    }
    return ml / 1000;
  }

  /** Leaks, bursts and absences overlapping [fromMs, toMs). */
  groundTruth(fromMs: number, toMs: number): WaterTruth {
    return { leaks: this.leaks(fromMs, toMs), bursts: this.bursts(fromMs, toMs), away: this.away(fromMs, toMs) };
  }

  /**
   * Times the meter has seen no water for `quietMs` already, overlapping [fromMs, toMs): each stretch of an
   * absence without a leak or burst that lasts longer, from `quietMs` after it began to its end. (At home a
   * household uses water every day, so only absences can be that quiet.) A meter installed at `sinceMs`
   * counts from then.
   */
  noFlow(fromMs: number, toMs: number, quietMs: number, sinceMs = Number.NEGATIVE_INFINITY): Interval[] {
    const out: Interval[] = [];
    for (const a of this.away(fromMs - quietMs, toMs)) {
      const flowing = mergeIntervals([...this.leaks(a.startMs, a.endMs), ...this.bursts(a.startMs, a.endMs)]);
      let start = Math.max(a.startMs, sinceMs);
      for (const f of [...flowing, { startMs: a.endMs, endMs: a.endMs }]) {
        const end = Math.min(f.startMs, a.endMs);
        if (end - start > quietMs && overlaps({ startMs: start + quietMs, endMs: end }, fromMs, toMs)) out.push({ startMs: start + quietMs, endMs: end });
        if (f.endMs > start) start = f.endMs;
      }
    }
    return out;
  }

  /**
   * Ground-truth events in [fromMs, toMs): leak and burst (magnitude L/min), away, and noFlow (no water
   * for `noFlowH` hours: what the node's noPulse alarm reports at its default noPulseH), counted from the
   * meter's installation at 0, when the simulated nodes are switched on.
   */
  events(fromMs: number, toMs: number, noFlowH = DEFAULT_NO_FLOW_H): TruthEvent[] {
    const out: TruthEvent[] = [];
    for (const l of this.leaks(fromMs, toMs)) out.push({ kind: "leak", startMs: l.startMs, endMs: l.endMs, magnitude: l.flowLMin });
    for (const b of this.bursts(fromMs, toMs)) out.push({ kind: "burst", startMs: b.startMs, endMs: b.endMs, magnitude: b.flowLMin });
    for (const a of this.away(fromMs, toMs)) out.push({ kind: "away", startMs: a.startMs, endMs: a.endMs });
    for (const q of this.noFlow(fromMs, toMs, noFlowH * HOUR_MS, 0)) out.push({ kind: "noFlow", startMs: q.startMs, endMs: q.endMs });
    return out;
  }
}

/** L/min → whole mL/min. */
function mlMin(flowLMin: number): number {
  return Math.round(flowLMin * 1000);
}

function withScripted<T extends Interval>(random: T[], scripted: readonly T[], fromMs: number, toMs: number): T[] {
  for (const s of scripted) if (overlaps(s, fromMs, toMs)) random.push(s);
  return random.sort((a, b) => a.startMs - b.startMs);
}
