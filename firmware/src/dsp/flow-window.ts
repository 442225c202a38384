// Per-window flow statistics for the water node's leak model (firmware/src/ml/models/water.ts).
// The model was trained on 8 integer codes per 15-minute window of per-minute flow
// (scripts/ml/train/water-data.ts `windowFeatures`); this block computes the same codes
// from the node's samples as they arrive, one wake at a time, with comparisons, sums,
// shifts and one exact integer divide per window, so the codes match the training
// pipeline's bit for bit on the same per-minute flows.
import { checkSpan, corrupt } from "./persist.ts";
import { divTrunc } from "./q.ts";
import { logCode } from "./log-code.ts";

export { logCode };

// Constant divisions as a multiply and a shift, exact over the ranges used (the test checks
// every value): ⌊x / 60⌋ = (x·17477) >> 20 for 0 ≤ x ≤ 2999, ⌊x / 900⌋ = (⌊x / 4⌋·74566) >> 24
// for 0 ≤ x < 86400 (⌊⌊x/4⌋ / 225⌋ = ⌊x / 900⌋; the products stay below 2^31). The
// shift-subtract divTrunc costs up to 32 iterations, at every wake.
/** ⌊x / 60⌋ for 0 ≤ x ≤ 2999. */
export function div60(x: number): number {
  return Math.imul(x, 17477) >> 20;
}
/** ⌊x / 900⌋ for 0 ≤ x ≤ 86399. */
export function div900(x: number): number {
  return Math.imul(x >> 2, 74566) >> 24;
}

/** Length of a feature window, seconds (15 minutes; 96 windows a day). */
export const FLOW_WINDOW_S = 900;
/** Features per window (the model's input length). */
export const FLOW_FEATURES = 8;
/** Windows a day: the 24-hour minimum looks back this many complete windows, the current one included. */
export const FLOW_DAY_WINDOWS = 96;
/** Windows of the 4-hour minimum, the current one included. */
export const FLOW_RECENT_WINDOWS = 16;
/** Flow (mL/min) at or above which a minute counts towards the high-flow run (19.5 L/min). */
export const HIGH_FLOW_ML_MIN = 19500;
/** A window with fewer sampled minutes than this is dropped: no features, no entry in the minima ring. */
export const FLOW_WINDOW_MIN_MINUTES = 12;

const MINUTES = 15;
/** Flows are capped at this (mL/min, 33,554 L/min: no meter comes near) in the sum only, so 30 minutes of them stay below 2^31. */
const SUM_FLOW_CAP = 0x1ffffff;
const RING_WORDS = FLOW_DAY_WINDOWS >> 2;
const HEAD = 10;
const STATE_WORDS = HEAD + RING_WORDS;
const MAX_WINDOW_MINUTES = 2 * MINUTES;
const DAY_S = 86400;

/**
 * Streaming window features of flow samples in mL/min. Each update(timeOfDayS,
 * flowMlMin, dtS) covers (t − dtS, t] and counts as round(dtS / 60) minutes at that
 * flow; a sample belongs to the 15-minute window of the day (0..95) holding its
 * midpoint t − dtS/2. When a sample of another window arrives, the open window is
 * complete: if it holds at least FLOW_WINDOW_MIN_MINUTES minutes, its codes are
 * written to `codes`, its minimum joins a ring of the last 96 complete windows'
 * minima, and update returns true. A sample longer than a window ends the open
 * window too and is itself dropped (so is one of under 30 s), as is the high-flow run;
 * a window also ends when it would hold more than 30 minutes (a clock set back).
 *
 * Codes (0..255, the model's input is code − 128), all exact:
 *  0 logCode(min flow), 1 logCode(⌊sum / minutes⌋), 2 logCode(max flow),
 *  3 min(255, zero-flow minutes · 17), 4 hour of day · 10 (of the window's start),
 *  5 logCode of the minimum over the last 96 complete windows (this one included),
 *  6 the same over the last 16, 7 min(15, longest high-flow run reached in the
 *  window, in minutes, counted across windows) · 17.
 * Windows without samples leave no entry, so after a gap the ring reaches back more
 * than 24 hours. State: int32 words, no allocation after construction.
 */
export class FlowWindowFeatures {
  /** The codes of the last complete window, 0..255 each. */
  readonly codes = new Uint8Array(FLOW_FEATURES);
  private key = -1;
  private minutes = 0;
  private min = 0;
  private max = 0;
  private sum = 0;
  private zeros = 0;
  private run = 0;
  private longest = 0;
  private head = 0;
  private count = 0;
  private readonly ring = new Int32Array(RING_WORDS);

  /** Feeds the flow (mL/min, negatives count as 0) of the dtS seconds ending at timeOfDayS (0..86399); true when a window completed. */
  update(timeOfDayS: number, flowMlMin: number, dtS: number): boolean {
    const dt = Math.max(0, dtS | 0);
    const flow = Math.max(0, flowMlMin | 0);
    if (dt < 30) return false;
    if (dt > FLOW_WINDOW_S) {
      const done = this.close();
      this.run = 0;
      return done;
    }
    let mid = (timeOfDayS | 0) - (dt >> 1);
    if (mid < 0) mid += DAY_S;
    const minutes = div60(dt + 30);
    const key = div900(mid);
    // A window also ends when it would exceed 30 minutes (the clock was set back into it).
    const done = (key !== this.key || this.minutes + minutes > MAX_WINDOW_MINUTES) && this.close();
    if (this.minutes === 0) {
      this.key = key;
      this.min = flow;
      this.max = flow;
      this.sum = 0;
      this.zeros = 0;
      this.longest = 0;
    }
    if (flow < this.min) this.min = flow;
    if (flow > this.max) this.max = flow;
    this.sum += Math.imul(flow > SUM_FLOW_CAP ? SUM_FLOW_CAP : flow, minutes);
    if (flow === 0) this.zeros += minutes;
    this.run = flow >= HIGH_FLOW_ML_MIN ? Math.min(MINUTES, this.run + minutes) : 0;
    if (this.run > this.longest) this.longest = this.run;
    this.minutes += minutes;
    return done;
  }

  /** Complete windows in the 24-hour ring, 0..96 (the model wants a full day of context). */
  get contextWindows(): number {
    return this.count;
  }

  /** Minutes sampled so far in the open window. */
  get openMinutes(): number {
    return this.minutes;
  }

  /** Writes code − 128 of every feature (the model's int8 input) into out[0..7]. */
  input(out: Int8Array): void {
    for (let i = 0; i < FLOW_FEATURES; i++) out[i] = this.codes[i] - 128;
  }

  /** Words save writes: 34 (window key, minutes, min, max, sum, zero minutes, run, longest run, ring head, ring count, 24 words of packed minima codes). */
  get stateWords(): number {
    return STATE_WORDS;
  }

  /** Writes the state at out[at …] for deep sleep; returns the next free index. */
  save(out: Int32Array, at: number): number {
    checkSpan(out, at, STATE_WORDS, "FlowWindowFeatures");
    out[at] = this.key;
    out[at + 1] = this.minutes;
    out[at + 2] = this.min;
    out[at + 3] = this.max;
    out[at + 4] = this.sum;
    out[at + 5] = this.zeros;
    out[at + 6] = this.run;
    out[at + 7] = this.longest;
    out[at + 8] = this.head;
    out[at + 9] = this.count;
    for (let i = 0; i < RING_WORDS; i++) out[at + HEAD + i] = this.ring[i];
    return at + STATE_WORDS;
  }

  /**
   * Restores a state saved by save; returns the next index. Throws RangeError (changing
   * nothing) unless the key is −1..95 (−1 only with no minutes), minutes 0..30, zero minutes ≤ minutes,
   * 0 ≤ min ≤ max, sum ≥ 0, run and longest run 0..15, head 0..95, count 0..96 and every
   * ringed code 0..248. The last window's `codes` are not saved (read them when update
   * returns true).
   */
  load(src: Int32Array, at: number): number {
    checkSpan(src, at, STATE_WORDS, "FlowWindowFeatures");
    const key = src[at];
    const minutes = src[at + 1];
    const min = src[at + 2];
    const max = src[at + 3];
    const sum = src[at + 4];
    const zeros = src[at + 5];
    const run = src[at + 6];
    const longest = src[at + 7];
    const head = src[at + 8];
    const count = src[at + 9];
    const B = "FlowWindowFeatures";
    if (key < -1 || key >= FLOW_DAY_WINDOWS || (key < 0 && minutes !== 0)) throw corrupt(B, `window ${key} outside −1..95 or unset with ${minutes} minutes`);
    if (minutes < 0 || minutes > MAX_WINDOW_MINUTES || zeros < 0 || zeros > minutes) throw corrupt(B, `minutes ${minutes}, zero minutes ${zeros}`);
    if (min < 0 || max < min || sum < 0) throw corrupt(B, `min ${min}, max ${max}, sum ${sum}`);
    if (run < 0 || run > MINUTES || longest < 0 || longest > MINUTES) throw corrupt(B, `run ${run}, longest ${longest} outside 0..15`);
    if (head < 0 || head >= FLOW_DAY_WINDOWS || count < 0 || count > FLOW_DAY_WINDOWS) throw corrupt(B, `ring head ${head}, count ${count}`);
    for (let i = 0; i < RING_WORDS; i++) {
      // Two bytes per 16-bit lane: a byte ≥ 249 carries into bit 8 of its lane when 7 is added.
      const w = src[at + HEAD + i];
      if ((((w & 0xff00ff) + 0x70007) | (((w >>> 8) & 0xff00ff) + 0x70007)) & 0x1000100) throw corrupt(B, `ringed code above 248 in word ${w}`);
    }
    this.key = key;
    this.minutes = minutes;
    this.min = min;
    this.max = max;
    this.sum = sum;
    this.zeros = zeros;
    this.run = run;
    this.longest = longest;
    this.head = head;
    this.count = count;
    for (let i = 0; i < RING_WORDS; i++) this.ring[i] = src[at + HEAD + i];
    return at + STATE_WORDS;
  }

  /** Ends the open window; true when it was long enough to give features. */
  private close(): boolean {
    const minutes = this.minutes;
    this.minutes = 0;
    if (minutes < FLOW_WINDOW_MIN_MINUTES) return false;
    const c = this.codes;
    const minCode = logCode(this.min);
    // The ring: codes of the last 96 complete windows' minima, four to a word.
    const slot = this.head;
    const word = slot >> 2;
    const shift = (slot & 3) << 3;
    this.ring[word] = (this.ring[word] & ~(0xff << shift)) | (minCode << shift);
    this.head = slot === FLOW_DAY_WINDOWS - 1 ? 0 : slot + 1;
    if (this.count < FLOW_DAY_WINDOWS) this.count++;
    let min24 = minCode;
    let min4 = minCode;
    for (let i = 0, s = slot; i < this.count; i++) {
      const code = (this.ring[s >> 2] >>> ((s & 3) << 3)) & 0xff;
      if (code < min24) min24 = code;
      if (i < FLOW_RECENT_WINDOWS && code < min4) min4 = code;
      s = s === 0 ? FLOW_DAY_WINDOWS - 1 : s - 1;
    }
    const zeros = Math.imul(this.zeros, 17);
    c[0] = minCode;
    c[1] = logCode(divTrunc(this.sum, minutes));
    c[2] = logCode(this.max);
    c[3] = zeros > 255 ? 255 : zeros;
    c[4] = Math.imul(this.key >> 2, 10);
    c[5] = min24;
    c[6] = min4;
    c[7] = Math.imul(this.longest, 17);
    return true;
  }
}
