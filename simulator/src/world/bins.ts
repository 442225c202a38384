/**
 * Waste bins for the fill-level node: the A02YYUW looks down from under the
 * lid, the LIS3DH sits next to it (as in firmware/src/nodes/level).
 *
 * The bin fills through deposits: a Poisson number a day, at hours drawn from
 * a daily profile, adding up to a daily fill rate that depends on the weekday
 * and the site (street bins fill on working days, park bins at weekends, less
 * on rainy days), the bin (a log-normal rate factor) and the day (a log-normal
 * factor), with the odd big dump. Each deposit opens the lid for a few seconds
 * (the sensor then sees nothing), and the new waste settles by 5–25 % of its
 * height over about two hours (compaction). The fill stops at 100 %: waste
 * beyond it props the lid open until the next collection.
 *
 * Collections: a truck visits on given weekdays in route order (a
 * `CollectionRoute`: a serpentine through the district, started at a set time
 * with a daily delay, occasionally skipped). The crew lifts the bin, tips it
 * about 120° over the hopper and shakes it, puts it back: a 45-second motion
 * burst; the fill drops to 0–3 %. A tipped bin is righted by the crew.
 *
 * Tipping: by vandals (mostly at night, more at weekends) or by wind (the
 * day's strongest wind from the weather), scripted too. The bin lies on its
 * side (tilt 80–100°, no echo, some waste spills out) until it is put back:
 * next morning after a night tip, within hours by day, or by the next
 * collection. Lids are left open (propped at 24–40°, which the node classifies
 * as a lid left open) now and then.
 *
 * Distance = depthMm − fill·(depthMm − fullDistanceMm), seen along the sensor's
 * axis (longer by 1/cos when the lid is propped), surface "soft" (waste;
 * "hard" near an empty bin's floor), "none" while tipped or moving.
 *
 * The bin is simulated one local day at a time, in order (each day's events
 * come from a stream forked by the day, so nothing depends on query order);
 * every callback looks up the day's precomputed fill steps, motions and
 * postures with a cursor: O(1) for increasing times.
 *
 * Defaults (assumptions, not measurements): a 240 L wheelie bin, depth 1200
 * mm to the floor and full at 150 mm (the level node's factory setting); a
 * street bin gains 12–22 % of its volume a day (about 70 % between a Friday
 * and a Tuesday collection, so with the per-bin spread some reach 80 % before
 * the truck), a park bin 9–30 % (82 % over the weekend); 12 deposits a day; 0.25 vandal tips and one lid left open per
 * bin per 30 days; wind tips once the half-hourly mean wind passes 10 m/s
 * (gusts of 15–20 m/s, Beaufort 5–6 mean wind), up to a 50 % chance a day at
 * 18 m/s.
 */
import type { Rng } from "../core/rng.ts";
import type { A02yyuwSurface, A02yyuwTarget } from "../devices/a02yyuw.ts";
import type { Lis3dhAcceleration } from "../devices/lis3dh.ts";
import { Calendar, HOUR_MS, SECOND_MS, type CalendarOptions } from "./calendar.ts";
import { mergeIntervals, overlaps, type Interval, type PeakInterval, type TruthEvent } from "./intervals.ts";
import { clamp, cumulative, lognormal, pickCdf, poisson, rngOf, uniform, type SeedLike } from "./random.ts";
import type { Weather } from "./weather.ts";

export type BinSite = "street" | "park";

/** When the truck reaches one bin. */
export interface CollectionSchedule {
  /** Virtual time the truck reaches the bin on local `day`, or undefined if it does not come. */
  visitMs(day: number): number | undefined;
}

/** A position in metres on the city's plane. */
export interface PlanePosition {
  x: number;
  y: number;
}

export interface CollectionRouteOptions {
  seed: SeedLike;
  calendar?: Calendar | CalendarOptions;
  /** Collection weekdays, 0 = Monday (default Tuesday and Friday). */
  weekdays?: readonly number[];
  /** Local hour the truck starts (default 6.5). */
  startHour?: number;
  /** Average speed along the route including stops, km/h (default 8). */
  speedKmh?: number;
  /** The route sweeps the district in lanes this wide, m (default 150), across this width (default 2000). */
  laneM?: number;
  widthM?: number;
  /** Where the route starts (default 0, 0). */
  origin?: PlanePosition;
  /** Standard deviation of the day's start delay, min (default 15). */
  startJitterMin?: number;
  /** Chance the truck does not come on a collection day (default 0.02). */
  skipChance?: number;
}

/**
 * A collection round: the truck sweeps the district in lanes (a serpentine)
 * at an average speed, so a bin's visit time depends only on where it is and
 * on the day (start delay, speed, skipped days), not on which other bins exist.
 */
export class CollectionRoute {
  readonly calendar: Calendar;
  readonly #rng: Rng;
  readonly #weekdays: readonly number[];
  readonly #startHour: number;
  readonly #speedMPerMs: number;
  readonly #lane: number;
  readonly #width: number;
  readonly #origin: PlanePosition;
  readonly #jitter: number;
  readonly #skip: number;
  readonly #days = new Map<number, { skip: boolean; startMs: number; speed: number }>();

  constructor(options: CollectionRouteOptions) {
    this.calendar = Calendar.from(options.calendar);
    this.#rng = rngOf(options.seed);
    this.#weekdays = options.weekdays ?? [1, 4];
    this.#startHour = options.startHour ?? 6.5;
    this.#speedMPerMs = ((options.speedKmh ?? 8) * 1000) / HOUR_MS;
    this.#lane = options.laneM ?? 150;
    this.#width = options.widthM ?? 2000;
    this.#origin = options.origin ?? { x: 0, y: 0 };
    this.#jitter = options.startJitterMin ?? 15;
    this.#skip = options.skipChance ?? 0.02;
  }

  /** Distance along the route to the point nearest `p`, m. */
  pathM(p: PlanePosition): number {
    const dx = clamp(p.x - this.#origin.x, 0, this.#width);
    const dy = Math.max(0, p.y - this.#origin.y);
    const lane = Math.floor(dy / this.#lane);
    const along = lane % 2 === 0 ? dx : this.#width - dx;
    return lane * (this.#width + this.#lane) + along;
  }

  #day(day: number): { skip: boolean; startMs: number; speed: number } {
    let d = this.#days.get(day);
    if (!d) {
      const r = this.#rng.fork(`route:${day}`);
      d = {
        skip: r.chance(this.#skip),
        startMs: this.calendar.dayStartMs(day) + (this.#startHour + r.normal(0, this.#jitter) / 60) * HOUR_MS,
        speed: this.#speedMPerMs * clamp(r.normal(1, 0.08), 0.75, 1.25),
      };
      this.#days.set(day, d);
    }
    return d;
  }

  /** When the truck reaches `p` on local `day`, or undefined. */
  visitMs(p: PlanePosition, day: number): number | undefined {
    if (!this.#weekdays.includes(this.calendar.dayOfWeek(day))) return undefined;
    const d = this.#day(day);
    if (d.skip) return undefined;
    return Math.round(d.startMs + this.pathM(p) / d.speed);
  }

  /** The schedule of a bin at `p`. */
  scheduleFor(p: PlanePosition): CollectionSchedule {
    return { visitMs: (day) => this.visitMs(p, day) };
  }
}

/** A bin of its own: collected on `weekdays` at `hour` local, with a daily delay (sd `jitterMin`). */
export function weeklyCollection(options: { seed: SeedLike; calendar?: Calendar | CalendarOptions; weekdays?: readonly number[]; hour?: number; jitterMin?: number }): CollectionSchedule {
  const route = new CollectionRoute({ seed: options.seed, calendar: options.calendar, weekdays: options.weekdays, startHour: options.hour ?? 7, startJitterMin: options.jitterMin ?? 20, skipChance: 0 });
  return route.scheduleFor({ x: 0, y: 0 });
}

// ------------------------------------------------------------ the bin

export interface BinOptions {
  seed: SeedLike;
  /** Weather for wind tips and rainy park days; its calendar is used unless `calendar` is given. */
  weather?: Weather;
  calendar?: Calendar | CalendarOptions;
  /** Default "street". */
  site?: BinSite;
  /** Sensor to the bin floor and to the 100 % line, mm (default 1200 and 150). */
  depthMm?: number;
  fullDistanceMm?: number;
  /** Share of the volume filled per day, Monday first (default by site). */
  fillPerDay?: readonly number[];
  /** This bin's factor on the fill rate (default drawn, log-normal, median 1, σ 0.3). */
  rateScale?: number;
  /** Mean deposits a day at the average rate (default 12). */
  depositsPerDay?: number;
  /** Fill at the start, % (default 10). */
  initialFillPct?: number;
  /** Default: Tuesday and Friday at 07:00 ± 20 min. */
  collection?: CollectionSchedule;
  /** Vandal tips per 30 days (default 0.25); wind tips (default on when weather is given) above `windTipMs` hourly wind (default 10). */
  tipsPer30Days?: number;
  windTips?: boolean;
  windTipMs?: number;
  /** Lids left open per 30 days (default 1). */
  lidOpenPer30Days?: number;
  /** Scripted tips (lying from start to end) and lids left open (angle default 30°). */
  tips?: readonly Interval[];
  lidOpen?: readonly (Interval & { angleDeg?: number })[];
  /** Surface of the waste (default "soft"). */
  wasteSurface?: A02yyuwSurface;
}

export type TipCause = "vandalism" | "wind" | "scripted";
export type LidCause = "leftOpen" | "overfull" | "scripted";

export interface BinCollection extends Interval {
  fillBeforePct: number;
  fillAfterPct: number;
}

export interface BinTip extends Interval {
  cause: TipCause;
  /** Tilt while lying, degrees. */
  angleDeg: number;
}

export interface BinLidOpen extends Interval {
  cause: LidCause;
  angleDeg: number;
}

/** Ground truth of a bin. */
export interface BinTruth {
  collections: BinCollection[];
  tips: BinTip[];
  lidOpen: BinLidOpen[];
  /** Fill ≥ the threshold (peak = highest fill %). */
  full: PeakInterval[];
  /** Fill at 100 % (overflowing). */
  overflow: Interval[];
}

const enum MotionKind {
  Deposit,
  Collection,
  TipFall,
  PutBack,
  LidClose,
}

/** A motion of the lid or the bin; angles in radians. */
interface Motion extends Interval {
  kind: MotionKind;
  /** Deposit: highest lid angle; tip/put-back: lying angle; lid close: the open angle. */
  a: number;
  /** Deposit: lid angle before and after. */
  b: number;
  c: number;
}

/** A lasting posture: lying on its side (about Y) or the lid open (about X). */
interface Posture extends Interval {
  lying: boolean;
  sin: number;
  cos: number;
  record: BinTip | BinLidOpen;
}

interface BinDay {
  day: number;
  startMs: number;
  endMs: number;
  /** Fill from stepT[i]: base[i] − settle[i]·(1 − exp(−(t − stepT[i]) / SETTLE_TAU_MS)), %. */
  stepT: Float64Array;
  base: Float64Array;
  settle: Float64Array;
  motions: Motion[];
  postures: Posture[];
}

/** Fill per day by weekday (Monday first), share of the volume. */
const FILL_PER_DAY: Record<BinSite, readonly number[]> = {
  street: [0.2, 0.19, 0.19, 0.2, 0.22, 0.16, 0.12],
  park: [0.1, 0.09, 0.09, 0.1, 0.14, 0.3, 0.28],
};
/** Deposit hour weights, 0..23 local, by site and weekday/weekend. */
const HOURS: Record<BinSite, [Float64Array, Float64Array]> = {
  street: [
    cumulative([0.02, 0.01, 0, 0, 0, 0.05, 0.3, 0.9, 1.2, 0.8, 0.7, 0.9, 1.3, 1.2, 0.8, 0.8, 1, 1.3, 1.1, 0.8, 0.6, 0.4, 0.25, 0.1]),
    cumulative([0.1, 0.05, 0.02, 0, 0, 0, 0.05, 0.2, 0.4, 0.6, 0.8, 1, 1.2, 1.2, 1.1, 1, 1, 1, 0.9, 0.8, 0.6, 0.5, 0.4, 0.2]),
  ],
  park: [
    cumulative([0, 0, 0, 0, 0, 0, 0.1, 0.3, 0.4, 0.5, 0.7, 0.9, 1.3, 1.3, 1, 0.9, 1, 1.1, 1, 0.8, 0.6, 0.3, 0.1, 0.05]),
    cumulative([0.05, 0, 0, 0, 0, 0, 0, 0.1, 0.3, 0.6, 0.9, 1.2, 1.5, 1.6, 1.6, 1.5, 1.3, 1.1, 0.9, 0.7, 0.5, 0.3, 0.2, 0.1]),
  ],
};
const SETTLE_TAU_MS = 2 * HOUR_MS;
const COLLECTION_MS = 45 * SECOND_MS;
/** The bin is upside down (and emptied) this long after the collection starts. */
const EMPTIED_AT_MS = 16 * SECOND_MS;
const TIP_FALL_MS = 2 * SECOND_MS;
const PUT_BACK_MS = 3 * SECOND_MS;
const LID_CLOSE_MS = SECOND_MS;
const DEG = Math.PI / 180;
const NONE: Readonly<A02yyuwTarget> = Object.freeze({ distanceMm: 0, surface: "none" });

type QueueItem =
  | { t: number; kind: "deposit"; amount: number; leaveOpen: boolean }
  | { t: number; kind: "collection" }
  | { t: number; kind: "tip"; cause: TipCause; untilMs?: number }
  | { t: number; kind: "putBack"; tip: BinTip }
  | { t: number; kind: "lidOpen"; endMs: number; angleDeg: number }
  | { t: number; kind: "lidClose"; lid: BinLidOpen };

export class Bin {
  readonly calendar: Calendar;
  readonly site: BinSite;
  readonly depthMm: number;
  readonly fullDistanceMm: number;
  readonly rateScale: number;
  readonly #rng: Rng;
  readonly #weather: Weather | undefined;
  readonly #fillPerDay: readonly number[];
  readonly #meanRate: number;
  readonly #deposits: number;
  readonly #collection: CollectionSchedule;
  readonly #tipRate: number;
  readonly #windTips: boolean;
  readonly #windTipMs: number;
  readonly #lidRate: number;
  readonly #surface: A02yyuwSurface;
  readonly #mount: Lis3dhAcceleration;
  readonly #scriptedTips: readonly Interval[];
  readonly #scriptedLids: readonly (Interval & { angleDeg?: number })[];
  // Simulation state, carried from day to day.
  readonly #days: BinDay[] = [];
  readonly #firstDay = -1;
  #fill: number;
  #segT: number;
  #segBase: number;
  #segSettle: number;
  #busyUntil = -Infinity;
  #tip: BinTip | undefined;
  #tipPosture: Posture | undefined;
  #lid: BinLidOpen | undefined;
  #lidPosture: Posture | undefined;
  #pending: QueueItem[] = [];
  readonly #collections: BinCollection[] = [];
  readonly #tips: BinTip[] = [];
  readonly #lids: BinLidOpen[] = [];
  // Lookup cursors.
  #cur: BinDay | undefined;
  #lastT = -Infinity;
  #mi = 0;
  #pi = 0;
  #si = 0;

  constructor(options: BinOptions) {
    this.#rng = rngOf(options.seed);
    this.#weather = options.weather;
    this.calendar = options.calendar ? Calendar.from(options.calendar) : options.weather ? options.weather.calendar : new Calendar();
    this.site = options.site ?? "street";
    this.depthMm = options.depthMm ?? 1200;
    this.fullDistanceMm = options.fullDistanceMm ?? 150;
    if (!(this.depthMm > this.fullDistanceMm && this.fullDistanceMm >= 0)) throw new RangeError("bin: need depthMm > fullDistanceMm ≥ 0");
    const own = this.#rng.fork("bin");
    const scale = lognormal(own, 1, 0.3);
    this.rateScale = options.rateScale ?? scale;
    this.#fillPerDay = options.fillPerDay ?? FILL_PER_DAY[this.site];
    if (this.#fillPerDay.length !== 7) throw new RangeError("fillPerDay needs 7 values, Monday first");
    this.#meanRate = this.#fillPerDay.reduce((a, b) => a + b, 0) / 7;
    this.#deposits = options.depositsPerDay ?? 12;
    this.#collection = options.collection ?? weeklyCollection({ seed: this.#rng.fork("collection"), calendar: this.calendar });
    this.#tipRate = (options.tipsPer30Days ?? 0.25) / 30;
    this.#windTips = (options.windTips ?? true) && this.#weather !== undefined;
    this.#windTipMs = options.windTipMs ?? 10;
    this.#lidRate = (options.lidOpenPer30Days ?? 1) / 30;
    this.#surface = options.wasteSurface ?? "soft";
    const mount = uniform(own, 0, 2.5) * DEG;
    this.#mount = { x: 0, y: 1000 * Math.sin(mount), z: 1000 * Math.cos(mount) };
    this.#scriptedTips = options.tips ?? [];
    this.#scriptedLids = options.lidOpen ?? [];
    this.#fill = clamp(options.initialFillPct ?? 10, 0, 100);
    this.#segT = this.calendar.dayStartMs(this.#firstDay);
    this.#segBase = this.#fill;
    this.#segSettle = 0;
  }

  // ---------------------------------------------------------- simulation

  #fillAt(t: number): number {
    return this.#segSettle > 0 ? this.#segBase - this.#segSettle * (1 - Math.exp(-(t - this.#segT) / SETTLE_TAU_MS)) : this.#segBase;
  }

  #step(day: BinDay & { steps: number[] }, t: number, fill: number, settle: number): void {
    this.#segT = t;
    this.#segBase = fill;
    this.#segSettle = settle;
    day.steps.push(t, fill, settle);
  }

  #simulate(day: number): BinDay {
    const cal = this.calendar;
    const startMs = cal.dayStartMs(day);
    const endMs = cal.dayStartMs(day + 1);
    const r = this.#rng.fork(`day:${day}`);
    const dow = cal.dayOfWeek(day);
    const weekend = dow >= 5;
    const rec: BinDay & { steps: number[] } = {
      day, startMs, endMs, stepT: new Float64Array(0), base: new Float64Array(0), settle: new Float64Array(0), motions: [], postures: [], steps: [],
    };
    // The segment in force at midnight, and steps and motions of the day before that reach into this one.
    const prev = day > this.#firstDay ? this.#days[day - this.#firstDay - 1] : undefined;
    if (prev) {
      let i = prev.stepT.length - 1;
      while (i > 0 && prev.stepT[i] > startMs) i--;
      for (; i < prev.stepT.length; i++) rec.steps.push(prev.stepT[i], prev.base[i], prev.settle[i]);
      for (const m of prev.motions) if (m.endMs > startMs) rec.motions.push(m);
    } else {
      rec.steps.push(this.#segT, this.#segBase, this.#segSettle);
    }
    if (this.#tipPosture) rec.postures.push(this.#tipPosture);
    if (this.#lidPosture) rec.postures.push(this.#lidPosture);

    const queue: QueueItem[] = this.#pending.filter((q) => q.t < endMs);
    this.#pending = this.#pending.filter((q) => q.t >= endMs);
    const schedule = (q: QueueItem): void => {
      if (q.t < endMs) queue.push(q);
      else this.#pending.push(q);
    };

    // Deposits.
    let rate = this.#fillPerDay[dow] * this.rateScale * lognormal(r, 1, 0.25);
    if (this.site === "park" && this.#weather) rate *= 1 - 0.5 * Math.min(1, this.#weather.rainDepthMm(startMs, endMs) / 10);
    const n = poisson(r, (this.#deposits * rate) / (this.#meanRate * this.rateScale || 1));
    const hours = HOURS[this.site][weekend ? 1 : 0];
    const weights: number[] = [];
    const times: number[] = [];
    for (let i = 0; i < n; i++) {
      times.push(Math.round(startMs + (pickCdf(r, hours) + r.next()) * HOUR_MS));
      weights.push(uniform(r, 0.3, 1.7));
    }
    const wsum = weights.reduce((a, b) => a + b, 0);
    const leaveOpen = n > 0 && r.chance(this.#lidRate) ? r.int(0, n - 1) : -1;
    for (let i = 0; i < n; i++) schedule({ t: times[i], kind: "deposit", amount: (100 * rate * weights[i]) / wsum, leaveOpen: i === leaveOpen });
    if (r.chance(0.03)) schedule({ t: Math.round(startMs + uniform(r, 9, 19) * HOUR_MS), kind: "deposit", amount: uniform(r, 20, 40), leaveOpen: false });

    // The truck.
    const visit = this.#collection.visitMs(day);
    if (visit !== undefined) schedule({ t: visit, kind: "collection" });

    // Vandals: mostly at night, 2.5 times as likely on Friday and Saturday nights (weekly mean weight 1); then wind.
    if (r.chance(this.#tipRate * (dow === 4 || dow === 5 ? 1.75 : 0.7))) {
      const night = r.chance(0.8);
      const hour = night ? uniform(r, 21, 28) : uniform(r, 8, 21);
      schedule({ t: Math.round(startMs + hour * HOUR_MS), kind: "tip", cause: "vandalism" });
    }
    const windDraw = r.next();
    if (this.#windTips && this.#weather) {
      const w = this.#weather.maxWind(day);
      const p = clamp((w.windMs - this.#windTipMs) / 8, 0, 1) * 0.5;
      if (windDraw < p) schedule({ t: Math.round(w.atMs + r.next() * HOUR_MS), kind: "tip", cause: "wind" });
    }
    for (const s of this.#scriptedTips) if (s.startMs >= startMs && s.startMs < endMs) schedule({ t: s.startMs, kind: "tip", cause: "scripted", untilMs: s.endMs });
    for (const s of this.#scriptedLids) if (s.startMs >= startMs && s.startMs < endMs) schedule({ t: s.startMs, kind: "lidOpen", endMs: s.endMs, angleDeg: s.angleDeg ?? 30 });

    // Process in time order (new items may be scheduled on the way).
    for (;;) {
      let k = -1;
      for (let i = 0; i < queue.length; i++) if (k < 0 || queue[i].t < queue[k].t) k = i;
      if (k < 0) break;
      const q = queue.splice(k, 1)[0];
      this.#process(q, rec, r, schedule);
    }

    const m = rec.steps.length / 3;
    rec.stepT = new Float64Array(m);
    rec.base = new Float64Array(m);
    rec.settle = new Float64Array(m);
    for (let i = 0; i < m; i++) {
      rec.stepT[i] = rec.steps[3 * i];
      rec.base[i] = rec.steps[3 * i + 1];
      rec.settle[i] = rec.steps[3 * i + 2];
    }
    rec.steps.length = 0;
    rec.motions.sort((a, b) => a.startMs - b.startMs);
    rec.postures.sort((a, b) => a.startMs - b.startMs);
    return rec;
  }

  #addMotion(rec: BinDay, m: Motion): void {
    rec.motions.push(m);
    this.#busyUntil = m.endMs;
  }

  #setLid(rec: BinDay, startMs: number, endMs: number, angleDeg: number, cause: LidCause): BinLidOpen {
    const lid: BinLidOpen = { startMs, endMs, cause, angleDeg };
    this.#lids.push(lid);
    this.#lid = lid;
    this.#lidPosture = { startMs, endMs, lying: false, sin: Math.sin(angleDeg * DEG), cos: Math.cos(angleDeg * DEG), record: lid };
    rec.postures.push(this.#lidPosture);
    return lid;
  }

  /** Ends the open lid at t (the lid falls shut, or the bin moves). */
  #endLid(t: number): void {
    if (this.#lid && this.#lidPosture) {
      this.#lid.endMs = t;
      this.#lidPosture.endMs = t;
    }
    this.#lid = undefined;
    this.#lidPosture = undefined;
  }

  #process(q: QueueItem, rec: BinDay & { steps: number[] }, r: Rng, schedule: (q: QueueItem) => void): void {
    // Motions never overlap: anything arriving during one waits for it to end.
    const t = Math.max(q.t, this.#busyUntil + SECOND_MS);
    switch (q.kind) {
      case "deposit": {
        if (this.#tip) return;
        const openAngle = this.#lid ? this.#lid.angleDeg * DEG : 0;
        const dur = Math.round(uniform(r, 3, 8) * SECOND_MS);
        const top = uniform(r, 60, 110) * DEG;
        const leaveOpen = q.leaveOpen && !this.#lid;
        const finalDeg = leaveOpen ? uniform(r, 24, 40) : this.#lid ? this.#lid.angleDeg : 0;
        const end = t + dur;
        this.#addMotion(rec, { startMs: t, endMs: end, kind: MotionKind.Deposit, a: top, b: openAngle, c: finalDeg * DEG });
        const before = this.#fillAt(end);
        const after = Math.min(100, before + q.amount);
        this.#step(rec, end, after, (after - before) * uniform(r, 0.05, 0.25));
        if (leaveOpen) {
          const lid = this.#setLid(rec, end, Infinity, finalDeg, "leftOpen");
          const closeAt = end + Math.round(clamp(lognormal(r, 2, 0.8), 1 / 6, 24) * HOUR_MS);
          lid.endMs = closeAt;
          this.#lidPosture!.endMs = closeAt;
          schedule({ t: closeAt, kind: "lidClose", lid });
        }
        if (before + q.amount >= 100 && this.#lid?.cause !== "overfull") {
          // Waste above the rim props the lid up until the truck comes.
          if (this.#lid) this.#endLid(end);
          this.#setLid(rec, end, Infinity, uniform(r, 24, 38), "overfull");
        }
        return;
      }
      case "collection": {
        const fillBefore = this.#fillAt(t);
        if (this.#tip && this.#tipPosture) {
          // The crew rights the bin first.
          this.#tip.endMs = t;
          this.#tipPosture.endMs = t;
          this.#tip = undefined;
          this.#tipPosture = undefined;
        }
        if (this.#lid) this.#endLid(t);
        this.#addMotion(rec, { startMs: t, endMs: t + COLLECTION_MS, kind: MotionKind.Collection, a: 0, b: 0, c: 0 });
        const residual = uniform(r, 0, 3);
        this.#step(rec, t + EMPTIED_AT_MS, residual, 0);
        this.#collections.push({ startMs: t, endMs: t + COLLECTION_MS, fillBeforePct: fillBefore, fillAfterPct: residual });
        return;
      }
      case "tip": {
        if (this.#tip) return;
        if (this.#lid) this.#endLid(t);
        const angleDeg = uniform(r, 80, 100);
        const lieAt = t + TIP_FALL_MS;
        let backAt: number;
        if (q.untilMs !== undefined) {
          backAt = Math.max(lieAt + SECOND_MS, q.untilMs - PUT_BACK_MS);
        } else {
          const hour = this.calendar.hourOfDay(t);
          if (hour >= 20 || hour < 6) {
            // Found in the morning.
            const morning = this.calendar.dayIndex(t) + (hour >= 20 ? 1 : 0);
            backAt = Math.max(lieAt + HOUR_MS / 2, Math.round(this.calendar.dayStartMs(morning) + uniform(r, 7, 10) * HOUR_MS));
          } else {
            backAt = lieAt + Math.round(clamp(lognormal(r, 3, 0.7), 0.3, 24) * HOUR_MS);
          }
        }
        this.#addMotion(rec, { startMs: t, endMs: lieAt, kind: MotionKind.TipFall, a: angleDeg * DEG, b: 0, c: 0 });
        // Some waste spills out.
        const fill = this.#fillAt(lieAt);
        this.#step(rec, lieAt, fill * (1 - uniform(r, 0, 0.4)), 0);
        const tip: BinTip = { startMs: t, endMs: backAt + PUT_BACK_MS, cause: q.cause, angleDeg };
        this.#tips.push(tip);
        this.#tip = tip;
        this.#tipPosture = { startMs: lieAt, endMs: backAt, lying: true, sin: Math.sin(angleDeg * DEG), cos: Math.cos(angleDeg * DEG), record: tip };
        rec.postures.push(this.#tipPosture);
        schedule({ t: backAt, kind: "putBack", tip });
        return;
      }
      case "putBack": {
        // Skip if the crew already righted it (the tip record was ended by a collection).
        if (this.#tip !== q.tip || !this.#tipPosture) return;
        q.tip.endMs = t + PUT_BACK_MS;
        this.#tipPosture.endMs = t;
        this.#addMotion(rec, { startMs: t, endMs: t + PUT_BACK_MS, kind: MotionKind.PutBack, a: q.tip.angleDeg * DEG, b: 0, c: 0 });
        this.#tip = undefined;
        this.#tipPosture = undefined;
        return;
      }
      case "lidOpen": {
        if (this.#tip || this.#lid) return;
        const lid = this.#setLid(rec, t, q.endMs, q.angleDeg, "scripted");
        schedule({ t: q.endMs, kind: "lidClose", lid });
        return;
      }
      case "lidClose": {
        if (this.#lid !== q.lid) return;
        this.#addMotion(rec, { startMs: t, endMs: t + LID_CLOSE_MS, kind: MotionKind.LidClose, a: q.lid.angleDeg * DEG, b: 0, c: 0 });
        this.#endLid(t);
        return;
      }
    }
  }

  /** The record of local `day`, simulating the days before it first. */
  #day(day: number): BinDay {
    const first = this.#firstDay;
    if (day < first) day = first;
    while (first + this.#days.length <= day) this.#days.push(this.#simulate(first + this.#days.length));
    return this.#days[day - first];
  }

  /** Simulates through the end of local `day` (ground-truth queries). */
  #through(tMs: number): void {
    this.#day(this.calendar.dayIndex(tMs) + 3);
  }

  // ---------------------------------------------------------- lookup

  #lookup(tMs: number): BinDay {
    let d = this.#cur;
    if (!d || tMs < d.startMs || tMs >= d.endMs) {
      d = this.#day(this.calendar.dayIndex(tMs));
      this.#cur = d;
      this.#mi = this.#pi = this.#si = 0;
    } else if (tMs < this.#lastT) {
      this.#mi = this.#pi = this.#si = 0;
    }
    this.#lastT = tMs;
    return d;
  }

  #fillIn(d: BinDay, tMs: number): number {
    const T = d.stepT;
    let i = this.#si;
    while (i + 1 < T.length && T[i + 1] <= tMs) i++;
    this.#si = i;
    const s = d.settle[i];
    return s > 0 ? d.base[i] - s * (1 - Math.exp(-(tMs - T[i]) / SETTLE_TAU_MS)) : d.base[i];
  }

  #motionIn(d: BinDay, tMs: number): Motion | undefined {
    const ms = d.motions;
    let i = this.#mi;
    while (i < ms.length && ms[i].endMs <= tMs) i++;
    this.#mi = i;
    return i < ms.length && ms[i].startMs <= tMs ? ms[i] : undefined;
  }

  #postureIn(d: BinDay, tMs: number): Posture | undefined {
    const ps = d.postures;
    // Postures can overlap (a lid record ends when the bin tips): take the latest started one in force.
    let found: Posture | undefined;
    for (let i = this.#pi; i < ps.length; i++) {
      const p = ps[i];
      if (p.startMs > tMs) break;
      if (p.endMs > tMs) found = p;
    }
    while (this.#pi < ps.length && ps[this.#pi].endMs <= tMs) this.#pi++;
    return found;
  }

  /** True fill at t, % (0..100). */
  fillPct(tMs: number): number {
    return this.#fillIn(this.#lookup(tMs), tMs);
  }

  /** What the ultrasonic sensor faces at t (for `A02yyuw`'s `target`). */
  readonly target = (tMs: number): A02yyuwTarget => {
    const d = this.#lookup(tMs);
    const fill = this.#fillIn(d, tMs);
    if (this.#motionIn(d, tMs)) return { ...NONE };
    const p = this.#postureIn(d, tMs);
    if (p && p.lying) return { ...NONE };
    const vertical = this.depthMm - (fill / 100) * (this.depthMm - this.fullDistanceMm);
    const surface = fill < 2 ? "hard" : this.#surface;
    return { distanceMm: p ? vertical / p.cos : vertical, surface };
  };

  /** Acceleration on the LIS3DH's axes at t, mg, gravity included (for `Lis3dh`'s `acceleration`). */
  readonly acceleration = (tMs: number): Lis3dhAcceleration => {
    const d = this.#lookup(tMs);
    const m = this.#motionIn(d, tMs);
    if (m) return this.#motionAccel(m, tMs);
    const p = this.#postureIn(d, tMs);
    const g = this.#mount;
    if (!p) return { x: g.x, y: g.y, z: g.z };
    if (p.lying) return { x: 1000 * p.sin, y: g.y, z: 1000 * p.cos };
    return { x: 0, y: 1000 * p.sin, z: 1000 * p.cos };
  };

  /**
   * Until when `acceleration` keeps its value at t (the next lid or bin
   * motion, posture change or day boundary; t itself while a motion is under way).
   */
  readonly accelerationSteadyUntil = (tMs: number): number => {
    const d = this.#lookup(tMs);
    if (this.#motionIn(d, tMs)) return tMs;
    let until = d.endMs;
    for (let i = this.#mi; i < d.motions.length; i++) {
      if (d.motions[i].startMs > tMs) {
        until = Math.min(until, d.motions[i].startMs);
        break;
      }
    }
    for (const p of d.postures) {
      if (p.startMs > tMs) until = Math.min(until, p.startMs);
      else if (p.endMs > tMs) until = Math.min(until, p.endMs);
    }
    return until;
  };

  #motionAccel(m: Motion, tMs: number): Lis3dhAcceleration {
    const s = (tMs - m.startMs) / SECOND_MS;
    switch (m.kind) {
      case MotionKind.Deposit: {
        const u = (tMs - m.startMs) / (m.endMs - m.startMs);
        const angle = u < 0.3 ? m.b + (m.a - m.b) * smooth(u / 0.3) : u < 0.75 ? m.a : m.a + (m.c - m.a) * (((u - 0.75) / 0.25) ** 2);
        const slam = m.c === 0 && u > 0.95 ? 600 * Math.sin((Math.PI * (u - 0.95)) / 0.05) : 0;
        return { x: 0, y: 1000 * Math.sin(angle), z: 1000 * Math.cos(angle) + slam };
      }
      case MotionKind.Collection: {
        // Lifted (0–4 s), turned over (4–12 s), shaken upside down (12–22 s), turned back (22–30 s), lowered (30–34 s), settling.
        let angle = 0;
        let x = 0;
        let y = 0;
        let z = 0;
        if (s < 4) z = 300 * Math.sin((Math.PI * s) / 4);
        else if (s < 12) angle = 120 * DEG * smooth((s - 4) / 8);
        else if (s < 22) {
          angle = 120 * DEG;
          const shake = 400 * Math.sin(2 * Math.PI * 1.7 * s);
          x = 250 * Math.sin(2 * Math.PI * 2.3 * s);
          y = shake;
          z = shake;
        } else if (s < 30) angle = 120 * DEG * (1 - smooth((s - 22) / 8));
        else if (s < 34) z = -250 * Math.sin((Math.PI * (s - 30)) / 4);
        else z = 100 * Math.exp(-(s - 34) / 2) * Math.sin(2 * Math.PI * 3 * s);
        return { x, y: y + 1000 * Math.sin(angle), z: z + 1000 * Math.cos(angle) };
      }
      case MotionKind.TipFall: {
        const u = Math.min(1, s / 1.2);
        const angle = m.a * u * u;
        const impact = s >= 1.2 && s < 1.4 ? 1500 * Math.sin((Math.PI * (s - 1.2)) / 0.2) : 0;
        return { x: 1000 * Math.sin(angle) + impact, y: this.#mount.y, z: 1000 * Math.cos(angle) };
      }
      case MotionKind.PutBack: {
        const u = s / (PUT_BACK_MS / SECOND_MS);
        const angle = m.a * (1 - smooth(u));
        const bump = u > 0.85 ? 200 * Math.sin((Math.PI * (u - 0.85)) / 0.15) : 0;
        return { x: 1000 * Math.sin(angle), y: this.#mount.y, z: 1000 * Math.cos(angle) + bump };
      }
      case MotionKind.LidClose: {
        const u = s / (LID_CLOSE_MS / SECOND_MS);
        const angle = m.a * (1 - u * u);
        const slam = u > 0.9 ? 500 * Math.sin((Math.PI * (u - 0.9)) / 0.1) : 0;
        return { x: 0, y: 1000 * Math.sin(angle), z: 1000 * Math.cos(angle) + slam };
      }
    }
  }

  // ---------------------------------------------------------- ground truth

  /** Collections overlapping [fromMs, toMs). */
  collections(fromMs: number, toMs: number): BinCollection[] {
    this.#through(toMs);
    return this.#collections.filter((c) => overlaps(c, fromMs, toMs));
  }

  /** Tips overlapping [fromMs, toMs) (from the start of the fall to the end of the put-back). */
  tips(fromMs: number, toMs: number): BinTip[] {
    this.#through(toMs);
    return this.#tips.filter((c) => c.endMs > c.startMs && overlaps(c, fromMs, toMs));
  }

  /** Lid-open intervals overlapping [fromMs, toMs). */
  lidOpen(fromMs: number, toMs: number): BinLidOpen[] {
    this.#through(toMs);
    return this.#lids.filter((c) => c.endMs > c.startMs && overlaps(c, fromMs, toMs));
  }

  /** Intervals with fill ≥ `thresholdPct` overlapping [fromMs, toMs) (exact: the settling curve is solved for the crossing). */
  fullIntervals(fromMs: number, toMs: number, thresholdPct = 80): PeakInterval[] {
    this.#through(toMs);
    const out: PeakInterval[] = [];
    let open: PeakInterval | undefined;
    const cal = this.calendar;
    const lastWanted = cal.dayIndex(toMs);
    // Start early enough to find the true start of an interval in force at fromMs, and run on until it ends.
    for (let dd = Math.max(this.#firstDay, cal.dayIndex(fromMs) - 60); dd <= lastWanted || (open && dd <= lastWanted + 60); dd++) {
      const d = this.#day(dd);
      for (let i = 0; i < d.stepT.length; i++) {
        const a = Math.max(d.stepT[i], d.startMs);
        const b = Math.min(i + 1 < d.stepT.length ? d.stepT[i + 1] : d.endMs, d.endMs);
        if (!(b > a)) continue;
        const base = d.base[i];
        const settle = d.settle[i];
        const va = settle > 0 ? base - settle * (1 - Math.exp(-(a - d.stepT[i]) / SETTLE_TAU_MS)) : base;
        if (va < thresholdPct) {
          open = undefined;
          continue;
        }
        let end = b;
        if (settle > 0 && base - settle < thresholdPct) {
          // base − settle·(1 − e^(−x/τ)) = threshold
          const cross = d.stepT[i] - SETTLE_TAU_MS * Math.log(1 - (base - thresholdPct) / settle);
          if (cross < b) end = Math.max(a, cross);
        }
        if (open && open.endMs === a) {
          open.endMs = end;
          if (va > open.peak) open.peak = va;
        } else {
          open = { startMs: a, endMs: end, peak: va };
          out.push(open);
        }
        if (end < b) open = undefined;
      }
    }
    return out.filter((iv) => iv.endMs > iv.startMs && overlaps(iv, fromMs, toMs));
  }

  /** Everything that happened in [fromMs, toMs). */
  groundTruth(fromMs: number, toMs: number, fullThresholdPct = 80): BinTruth {
    return {
      collections: this.collections(fromMs, toMs),
      tips: this.tips(fromMs, toMs),
      lidOpen: this.lidOpen(fromMs, toMs),
      full: this.fullIntervals(fromMs, toMs, fullThresholdPct),
      overflow: mergeIntervals(this.fullIntervals(fromMs, toMs, 100 - 1e-9)),
    };
  }

  /** Ground-truth events in [fromMs, toMs): full, collection, tipped, lidOpen. */
  events(fromMs: number, toMs: number, fullThresholdPct = 80): TruthEvent[] {
    const out: TruthEvent[] = [];
    for (const f of this.fullIntervals(fromMs, toMs, fullThresholdPct)) out.push({ kind: "full", startMs: f.startMs, endMs: f.endMs, magnitude: f.peak });
    for (const c of this.collections(fromMs, toMs)) out.push({ kind: "collection", startMs: c.startMs, endMs: c.endMs, magnitude: c.fillBeforePct });
    for (const t of this.tips(fromMs, toMs)) out.push({ kind: "tipped", startMs: t.startMs, endMs: t.endMs, magnitude: t.angleDeg });
    for (const l of this.lidOpen(fromMs, toMs)) out.push({ kind: "lidOpen", startMs: l.startMs, endMs: l.endMs, magnitude: l.angleDeg });
    return out;
  }
}

function smooth(x: number): number {
  const u = x < 0 ? 0 : x > 1 ? 1 : x;
  return u * u * (3 - 2 * u);
}
