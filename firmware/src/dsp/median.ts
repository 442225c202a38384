// Sliding-window median for spike rejection (ultrasonic echoes off a bin wall,
// single bad PM frames). A window of N keeps a sorted copy next to the ring of
// arrivals, so a push is one linear search plus one insertion shift: O(N) with
// N ≤ 15, and no allocation.
import { checkSpan, corrupt } from "./persist.ts";

/** Largest supported window. */
export const MEDIAN_MAX_SIZE = 15;

/**
 * Median of the last N int32 samples (N odd, 1..15). Units: those of the input,
 * unchanged. Error: 0 (the output is always one of the inputs).
 * Until N samples have arrived it returns the median of those so far (the lower
 * middle one for an even count), so the first output equals the first input.
 */
export class MedianFilter {
  private readonly size: number;
  private readonly ring: Int32Array;
  private readonly sorted: Int32Array;
  private head = 0;
  private filled = 0;

  /** Creates a filter over the last `size` samples (odd, 1..15). */
  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1 || size > MEDIAN_MAX_SIZE || (size & 1) === 0) {
      throw new RangeError(`median window must be odd and 1..${MEDIAN_MAX_SIZE}, got ${size}`);
    }
    this.size = size;
    this.ring = new Int32Array(size);
    this.sorted = new Int32Array(size);
  }

  /** Adds an int32 sample and returns the current median. */
  push(x: number): number {
    x |= 0;
    const sorted = this.sorted;
    const count = this.filled;
    let i: number;
    if (count === this.size) {
      // The oldest sample leaves: overwrite its sorted slot with x and let x sift to its place.
      const old = this.ring[this.head];
      i = 0;
      while (sorted[i] !== old) i++;
      while (i > 0 && sorted[i - 1] > x) {
        sorted[i] = sorted[i - 1];
        i--;
      }
      while (i < count - 1 && sorted[i + 1] < x) {
        sorted[i] = sorted[i + 1];
        i++;
      }
    } else {
      i = count;
      while (i > 0 && sorted[i - 1] > x) {
        sorted[i] = sorted[i - 1];
        i--;
      }
      this.filled = count + 1;
    }
    sorted[i] = x;
    this.ring[this.head] = x;
    this.head = this.head + 1 === this.size ? 0 : this.head + 1;
    return sorted[(this.filled - 1) >> 1];
  }

  /** Current median (0 before the first sample). */
  get value(): number {
    return this.filled === 0 ? 0 : this.sorted[(this.filled - 1) >> 1];
  }

  /** Number of samples in the window (grows to the window size). */
  get count(): number {
    return this.filled;
  }

  /** Forgets all samples. */
  reset(): void {
    this.head = 0;
    this.filled = 0;
  }

  /** Words save writes: size + 2 (head, count, then the ring of arrivals). */
  get stateWords(): number {
    return this.size + 2;
  }

  /** Writes the state at out[at …] for deep sleep; returns the next free index. */
  save(out: Int32Array, at: number): number {
    const size = this.size;
    checkSpan(out, at, size + 2, "MedianFilter");
    out[at] = this.head;
    out[at + 1] = this.filled;
    for (let i = 0; i < size; i++) out[at + 2 + i] = this.ring[i];
    return at + size + 2;
  }

  /**
   * Restores a state saved by a filter of the same size; returns the next index.
   * Throws RangeError (changing nothing) unless the count is 0..size and the head is
   * 0..size − 1 when full, equal to the count otherwise (the ring fills from slot 0).
   * The sorted copy is not saved: it is rebuilt from the ring, so it always holds
   * exactly the samples in the window.
   */
  load(src: Int32Array, at: number): number {
    const size = this.size;
    checkSpan(src, at, size + 2, "MedianFilter");
    const head = src[at];
    const filled = src[at + 1];
    if (filled < 0 || filled > size) throw corrupt("MedianFilter", `count ${filled} outside 0..${size}`);
    if (filled === size ? head < 0 || head >= size : head !== filled) {
      throw corrupt("MedianFilter", `head ${head} with count ${filled}`);
    }
    this.head = head;
    this.filled = filled;
    const sorted = this.sorted;
    for (let n = 0; n < size; n++) {
      const x = src[at + 2 + n];
      this.ring[n] = x;
      if (n >= filled) continue;
      // Insertion sort of the ring slots that hold samples (all of them once full).
      let i = n;
      while (i > 0 && sorted[i - 1] > x) {
        sorted[i] = sorted[i - 1];
        i--;
      }
      sorted[i] = x;
    }
    return at + size + 2;
  }
}
