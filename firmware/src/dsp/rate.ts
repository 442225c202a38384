// Rate of change over a time window, e.g. drain fill percent per hour for flood
// warnings. It is the endpoint slope between the oldest and newest sample in the
// window, not a least-squares fit: a fit needs 64-bit sums of t², which int32
// cannot hold for windows of hours, and the samples arriving here are already
// median-filtered, so the ends are not single noisy echoes.
import { checkSpan, corrupt } from "./persist.ts";
import { addSat32, divRound, divTrunc, INT32_MAX, INT32_MIN } from "./q.ts";

/** Longest window: keeps remainder·3600 inside int32. */
export const RATE_MAX_WINDOW_S = 596523;

/** Window length and sample buffer size for RateOfChange. */
export interface RateOptions {
  /** Samples older than this many seconds (relative to the newest) leave the window; 1..596523. */
  windowS: number;
  /** Samples kept; at least windowS / sample interval + 1, or the window is shortened to what fits. */
  capacity: number;
  /** Smallest time span between the endpoints that yields a rate, in seconds (default 1). */
  minSpanS?: number;
}

/**
 * Slope of (tS: int32 seconds, value: int32 with |value| < 2^30, any unit) samples in
 * value units per hour: (v_newest − v_oldest)·3600 / (t_newest − t_oldest), where
 * "oldest" is the earliest sample at most windowS older than the newest.
 * Rounded to nearest, ties away from zero, saturated to int32: error against the
 * float endpoint slope ≤ 0.5 (exactly the correctly rounded value).
 */
export class RateOfChange {
  private readonly windowS: number;
  private readonly minSpanS: number;
  private readonly times: Int32Array;
  private readonly values: Int32Array;
  private head = 0;
  private count = 0;
  private slope = 0;
  private ready = false;

  /** Creates an empty window. */
  constructor(options: RateOptions) {
    const { windowS, capacity } = options;
    const minSpanS = options.minSpanS ?? 1;
    if (!Number.isInteger(windowS) || windowS < 1 || windowS > RATE_MAX_WINDOW_S) {
      throw new RangeError(`windowS must be 1..${RATE_MAX_WINDOW_S}, got ${windowS}`);
    }
    if (!Number.isInteger(capacity) || capacity < 2) {
      throw new RangeError(`capacity must be an integer ≥ 2, got ${capacity}`);
    }
    if (!Number.isInteger(minSpanS) || minSpanS < 1 || minSpanS > windowS) {
      throw new RangeError(`minSpanS must be 1..windowS, got ${minSpanS}`);
    }
    this.windowS = windowS;
    this.minSpanS = minSpanS;
    this.times = new Int32Array(capacity);
    this.values = new Int32Array(capacity);
  }

  /** Adds a sample; a time earlier than the newest restarts the window (clock reset), an equal time replaces the newest value. */
  push(tS: number, value: number): void {
    const cap = this.times.length;
    if (this.count > 0) {
      const newest = this.index(this.count - 1);
      const step = (tS - this.times[newest]) | 0;
      if (step < 0) {
        this.count = 0;
      } else if (step === 0) {
        this.values[newest] = value;
        this.compute();
        return;
      }
    }
    if (this.count === cap) {
      this.head = this.head + 1 === cap ? 0 : this.head + 1;
      this.count--;
    }
    const slot = this.index(this.count);
    this.times[slot] = tS;
    this.values[slot] = value;
    this.count++;
    // Differences, not absolute times, so a wrapping int32 clock still works. An age
    // that wraps negative is 2^31 s or more (the step alone was positive), so that
    // sample is out of the window too. The newest sample has age 0, so this stops.
    let age = (tS - this.times[this.head]) | 0;
    while (age > this.windowS || age < 0) {
      this.head = this.head + 1 === cap ? 0 : this.head + 1;
      this.count--;
      age = (tS - this.times[this.head]) | 0;
    }
    this.compute();
  }

  /** Whether two samples at least minSpanS apart are in the window. */
  get available(): boolean {
    return this.ready;
  }

  /** Slope in value units per hour (0 while not available). */
  get perHour(): number {
    return this.slope;
  }

  /** Empties the window. */
  reset(): void {
    this.head = 0;
    this.count = 0;
    this.slope = 0;
    this.ready = false;
  }

  /** Words save writes: 2·capacity + 2 (head, count, the ring of times, the ring of values). */
  get stateWords(): number {
    return this.times.length * 2 + 2;
  }

  /** Writes the state at out[at …] for deep sleep; returns the next free index. */
  save(out: Int32Array, at: number): number {
    const cap = this.times.length;
    checkSpan(out, at, cap * 2 + 2, "RateOfChange");
    out[at] = this.head;
    out[at + 1] = this.count;
    for (let i = 0; i < cap; i++) {
      out[at + 2 + i] = this.times[i];
      out[at + 2 + cap + i] = this.values[i];
    }
    return at + cap * 2 + 2;
  }

  /**
   * Restores a state saved by a RateOfChange with the same options; returns the next index.
   * Throws RangeError (changing nothing) unless head is 0..capacity − 1, count is
   * 0..capacity and the window's times rise by at least 1 s per sample with at most
   * windowS from the oldest to the newest. The rate is recomputed from the window.
   */
  load(src: Int32Array, at: number): number {
    const cap = this.times.length;
    checkSpan(src, at, cap * 2 + 2, "RateOfChange");
    const head = src[at];
    const count = src[at + 1];
    if (head < 0 || head >= cap || count < 0 || count > cap) {
      throw corrupt("RateOfChange", `head ${head} or count ${count} outside the capacity ${cap}`);
    }
    const times = at + 2;
    let prev = src[times + head];
    let span = 0;
    for (let i = 1; i < count; i++) {
      const j = head + i;
      const t = src[times + (j >= cap ? j - cap : j)];
      const step = (t - prev) | 0;
      // span ≤ windowS throughout, so windowS − span cannot overflow.
      if (step < 1 || step > this.windowS - span) {
        throw corrupt("RateOfChange", `sample ${i} of ${count} is ${step} s after the previous one, ${span} s into the window`);
      }
      span += step;
      prev = t;
    }
    for (let i = 0; i < cap; i++) {
      this.times[i] = src[times + i];
      this.values[i] = src[times + cap + i];
    }
    this.head = head;
    this.count = count;
    this.compute();
    return at + cap * 2 + 2;
  }

  private index(i: number): number {
    const j = this.head + i;
    return j >= this.times.length ? j - this.times.length : j;
  }

  private compute(): void {
    const newest = this.index(this.count - 1);
    const span = this.count < 2 ? 0 : (this.times[newest] - this.times[this.head]) | 0;
    if (span < this.minSpanS) {
      this.ready = false;
      this.slope = 0;
      return;
    }
    const dv = (this.values[newest] - this.values[this.head]) | 0;
    // dv·3600/span = q·3600 + r·3600/span with r of the sign of dv, so rounding
    // only the second term rounds the whole; r·3600 < span·3600 < 2^31.
    const q = divTrunc(dv, span);
    const r = (dv - Math.imul(q, span)) | 0;
    const frac = divRound(Math.imul(r, 3600), span);
    const limit = 596523; // largest |q| with q·3600 inside int32
    this.slope = q > limit ? INT32_MAX : q < -limit ? INT32_MIN : addSat32(Math.imul(q, 3600), frac);
    this.ready = true;
  }
}
