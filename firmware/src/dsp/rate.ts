// Rate of change over a time window, e.g. drain fill percent per hour for flood
// warnings. It is the endpoint slope between the oldest and newest sample in the
// window, not a least-squares fit: a fit needs 64-bit sums of t², which int32
// cannot hold for windows of hours, and the samples arriving here are already
// median-filtered, so the ends are not single noisy echoes.
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
    // Differences, not absolute times, so a wrapping int32 clock still works.
    while (((tS - this.times[this.head]) | 0) > this.windowS) {
      this.head = this.head + 1 === cap ? 0 : this.head + 1;
      this.count--;
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

  private index(i: number): number {
    const j = this.head + i;
    return j >= this.times.length ? j - this.times.length : j;
  }

  private compute(): void {
    const newest = this.index(this.count - 1);
    const span = (this.times[newest] - this.times[this.head]) | 0;
    if (this.count < 2 || span < this.minSpanS) {
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
