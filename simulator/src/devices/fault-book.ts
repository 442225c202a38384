/**
 * The faults an emulator is showing, with the rule the emulators share for
 * faults that act on some transfers only: a count of transfers (`count`,
 * default 1) or a probability per transfer (`probability`).
 */
import type { Rng } from "../core/rng.ts";

/** What every counted fault may carry. */
export interface CountedFault {
  count?: number;
  probability?: number;
}

/** Active faults by name, each with its options and the transfers it has left. */
export class FaultBook<F, O extends CountedFault> extends Map<F, O & { left: number }> {
  /** Starts showing `fault` (replacing an earlier injection of it). */
  arm(fault: F, options: O): void {
    const left = options.count ?? (options.probability === undefined ? 1 : Infinity);
    this.set(fault, { ...options, left });
  }

  /** Whether `fault` acts on this transfer (a counted fault uses up one count). */
  fires(fault: F, rng: Rng): boolean {
    const f = this.get(fault);
    if (!f) return false;
    if (f.probability !== undefined) return rng.chance(f.probability);
    if (f.left <= 0) return false;
    f.left--;
    return true;
  }
}
