// Exponentially weighted moving average with weight α = 2^-k, so the update is a
// shift instead of a multiply. The state carries F extra fractional bits: with
// F = 0 a step smaller than 2^k input units would round to nothing and the filter
// would stall up to 2^(k−1) units short of a constant input.
import { checkSpan, corrupt, readFlag } from "./persist.ts";

const STATE_WORDS = 2;

/**
 * EWMA y ← y + 2^-k·(x − y) over int32 inputs in any unit.
 * State: Q(F) (x·2^F, int32); inputs are clamped to |x| ≤ 2^(30−F) − 1 so no step overflows.
 * Output `value`: the state rounded half up to input units.
 * Error against a float EWMA seeded the same way (first sample): state ≤ 2^(k−F−1) units,
 * output ≤ 0.5 + 2^(k−F−1) units. Because k < F, a constant input is reached exactly.
 */
export class Ewma {
  private readonly k: number;
  private readonly f: number;
  private readonly limit: number;
  private readonly half: number;
  private state = 0;
  private seeded = false;

  /** Creates an EWMA with α = 2^-shift and `fracBits` fractional state bits (0 ≤ shift < fracBits ≤ 24). */
  constructor(shift: number, fracBits = 8) {
    if (!Number.isInteger(fracBits) || fracBits < 1 || fracBits > 24) {
      throw new RangeError(`fracBits must be 1..24, got ${fracBits}`);
    }
    if (!Number.isInteger(shift) || shift < 0 || shift >= fracBits) {
      throw new RangeError(`shift must be 0..fracBits−1 (${fracBits - 1}), got ${shift}`);
    }
    this.k = shift;
    this.f = fracBits;
    this.limit = (1 << (30 - fracBits)) - 1;
    this.half = shift === 0 ? 0 : 1 << (shift - 1);
  }

  /** Feeds one sample (the first one seeds the state) and returns the rounded average. */
  update(x: number): number {
    const xq = Math.max(-this.limit, Math.min(this.limit, x | 0)) << this.f;
    if (this.seeded) {
      // Rounding the step (half up) rather than flooring it keeps the stall zone inside ±½ LSB of Q(F).
      this.state += (xq - this.state + this.half) >> this.k;
    } else {
      this.state = xq;
      this.seeded = true;
    }
    return (this.state + (1 << (this.f - 1))) >> this.f;
  }

  /** Average in input units, rounded half up (0 before the first sample). */
  get value(): number {
    return (this.state + (1 << (this.f - 1))) >> this.f;
  }

  /** Raw state in Q(fracBits): the average times 2^fracBits. */
  get valueQ(): number {
    return this.state;
  }

  /** Whether a sample has seeded the state. */
  get primed(): boolean {
    return this.seeded;
  }

  /** Forgets the state; the next sample seeds it again. */
  reset(): void {
    this.state = 0;
    this.seeded = false;
  }

  /** Words save writes: 2 (the Q(F) state, seeded 0/1). */
  get stateWords(): number {
    return STATE_WORDS;
  }

  /** Writes the state at out[at …] for deep sleep; returns the next free index. */
  save(out: Int32Array, at: number): number {
    checkSpan(out, at, STATE_WORDS, "Ewma");
    out[at] = this.state;
    out[at + 1] = this.seeded ? 1 : 0;
    return at + STATE_WORDS;
  }

  /**
   * Restores a state saved by an Ewma with the same shift and fracBits; returns the next index.
   * Throws RangeError (changing nothing) unless seeded is 0 or 1, the state is 0 when not
   * seeded, and |state| ≤ (2^(30−F) − 1)·2^F, the range clamped inputs keep it in.
   */
  load(src: Int32Array, at: number): number {
    checkSpan(src, at, STATE_WORDS, "Ewma");
    const state = src[at];
    const seeded = readFlag(src[at + 1], "Ewma", "seeded");
    const max = this.limit << this.f;
    if (seeded ? state < -max || state > max : state !== 0) {
      throw corrupt("Ewma", `state ${state} outside ±${max}${seeded ? "" : " or not 0 before the first sample"}`);
    }
    this.state = state;
    this.seeded = seeded;
    return at + STATE_WORDS;
  }
}
