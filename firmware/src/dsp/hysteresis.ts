// Threshold alarm with a hysteresis band and debounce counts, so a value that hovers
// near the limit or a single noisy sample produces one alarm per real crossing
// instead of a burst of uplinks.
import { checkSpan, corrupt, readFlag } from "./persist.ts";

const STATE_WORDS = 2;

/** Transition reported by HysteresisDetector.update. */
export type Transition = 0 | 1 | 2;
/** No change of state on this sample. */
export const TRANSITION_NONE: Transition = 0;
/** Became active on this sample. */
export const TRANSITION_ENTERED: Transition = 1;
/** Became inactive on this sample. */
export const TRANSITION_CLEARED: Transition = 2;

/** Thresholds (same units as the samples) and debounce counts (samples, ≥ 1). */
export interface HysteresisOptions {
  /** Samples ≥ high count towards activation. */
  high: number;
  /** Samples ≤ low count towards clearing; low ≤ high. */
  low: number;
  /** Consecutive samples ≥ high needed to become active. */
  setCount: number;
  /** Consecutive samples ≤ low needed to clear. */
  clearCount: number;
}

/**
 * Debounced two-threshold detector over int32 samples in any unit (no arithmetic on
 * the samples, so error 0). Inactive → active after `setCount` consecutive samples
 * ≥ `high`; active → inactive after `clearCount` consecutive samples ≤ `low`. Any
 * sample that breaks a run restarts its count; counts restart on every transition.
 */
export class HysteresisDetector {
  private high = 0;
  private low = 0;
  private setCount = 1;
  private clearCount = 1;
  private on = false;
  private run = 0;

  /** Creates an inactive detector. */
  constructor(options: HysteresisOptions) {
    this.configure(options);
  }

  /** Changes thresholds and counts, keeping the current state but restarting the run count. */
  configure(options: HysteresisOptions): void {
    const { high, low, setCount, clearCount } = options;
    if (!Number.isInteger(high) || !Number.isInteger(low) || low > high) {
      throw new RangeError(`need integer thresholds with low ≤ high, got low ${low}, high ${high}`);
    }
    if (!Number.isInteger(setCount) || setCount < 1 || !Number.isInteger(clearCount) || clearCount < 1) {
      throw new RangeError(`debounce counts must be integers ≥ 1, got ${setCount}, ${clearCount}`);
    }
    this.high = high | 0;
    this.low = low | 0;
    this.setCount = setCount;
    this.clearCount = clearCount;
    this.run = 0;
  }

  /** Feeds one sample; returns the transition it caused, if any. */
  update(x: number): Transition {
    if (this.on) {
      if (x > this.low) {
        this.run = 0;
      } else if (++this.run >= this.clearCount) {
        this.on = false;
        this.run = 0;
        return TRANSITION_CLEARED;
      }
    } else if (x < this.high) {
      this.run = 0;
    } else if (++this.run >= this.setCount) {
      this.on = true;
      this.run = 0;
      return TRANSITION_ENTERED;
    }
    return TRANSITION_NONE;
  }

  /** Whether the alarm is active. */
  get active(): boolean {
    return this.on;
  }

  /** Length of the current run towards the next transition (for retaining across deep sleep). */
  get pendingCount(): number {
    return this.run;
  }

  /**
   * Sets the state without reporting a transition. The run is clamped to 0..count − 1
   * of the current phase (setCount while inactive, clearCount while active); any longer
   * run behaves the same, since the next qualifying sample completes it either way.
   */
  reset(active = false, pendingCount = 0): void {
    this.on = active;
    this.run = Math.max(0, Math.min((active ? this.clearCount : this.setCount) - 1, pendingCount | 0));
  }

  /** Words save writes: 2 (active 0/1, run). */
  get stateWords(): number {
    return STATE_WORDS;
  }

  /** Writes the state at out[at …] for deep sleep; returns the next free index. */
  save(out: Int32Array, at: number): number {
    checkSpan(out, at, STATE_WORDS, "HysteresisDetector");
    out[at] = this.on ? 1 : 0;
    out[at + 1] = this.run;
    return at + STATE_WORDS;
  }

  /**
   * Restores a state saved by a detector with the same options; returns the next index.
   * Throws RangeError (changing nothing) unless active is 0 or 1 and the run is
   * 0..clearCount − 1 while active, 0..setCount − 1 while inactive.
   */
  load(src: Int32Array, at: number): number {
    checkSpan(src, at, STATE_WORDS, "HysteresisDetector");
    const on = readFlag(src[at], "HysteresisDetector", "active");
    const run = src[at + 1];
    const count = on ? this.clearCount : this.setCount;
    if (run < 0 || run >= count) {
      throw corrupt("HysteresisDetector", `run ${run} outside 0..${count - 1}`);
    }
    this.on = on;
    this.run = run;
    return at + STATE_WORDS;
  }
}
