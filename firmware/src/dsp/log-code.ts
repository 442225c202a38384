/**
 * Log code of a non-negative int32, 0..248: 0 for v ≤ 0, else 8·⌊log2 v⌋ + the
 * three mantissa bits below the leading one + 1 (eight steps an octave, so a
 * code means the same relative change at any size; monotone non-decreasing, so
 * the code of a minimum is the minimum of the codes). clz32 and shifts only.
 * Shared by the ML models' input features (flow-window.ts, bin-features.ts).
 */
export function logCode(v: number): number {
  const x = v | 0;
  if (x <= 0) return 0;
  const e = 31 - Math.clz32(x);
  const mant = e >= 3 ? (x >> (e - 3)) & 7 : (x << (3 - e)) & 7;
  return (e << 3) + mant + 1;
}
