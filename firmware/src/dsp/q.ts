// Q-format helpers for the fixed-point DSP blocks.
//
// XS on the ESP32 keeps int32 values as integers and falls back to software
// doubles for anything else, so every routine here stays in int32 (or uint32 seen
// through `>>> 0`) and none uses `/`. Notation: Qm.n is a signed integer x that
// stands for x·2^-n; Q15 is int16 with 15 fractional bits, Q16 is int32 with 16.

/** Largest int32 (2^31 − 1). */
export const INT32_MAX = 0x7fffffff;
/** Smallest int32 (−2^31). */
export const INT32_MIN = -0x80000000;
/** Largest int16 (2^15 − 1). */
export const INT16_MAX = 0x7fff;
/** Smallest int16 (−2^15). */
export const INT16_MIN = -0x8000;

/** Clamps an int32 to int16 [−32768, 32767]; exact. */
export function sat16(x: number): number {
  return Math.max(INT16_MIN, Math.min(INT16_MAX, x | 0));
}

/** Clamps an integer-valued number (e.g. a sum of two int32) to int32; exact. */
export function sat32(x: number): number {
  return Math.max(INT32_MIN, Math.min(INT32_MAX, x)) | 0;
}

/** Saturating int32 add: a + b clamped to int32; exact. */
export function addSat32(a: number, b: number): number {
  const r = (a + b) | 0;
  // Overflow happened iff both operands share a sign that the wrapped result lacks.
  if (((a ^ r) & (b ^ r)) < 0) return a < 0 ? INT32_MIN : INT32_MAX;
  return r;
}

/** x·2^-n for int32 x and n in 0..31, rounded half up (toward +∞); |error| ≤ 0.5, never overflows. */
export function shrRound(x: number, n: number): number {
  if (n <= 0) return x | 0;
  // Adding the last dropped bit instead of 2^(n−1) before the shift avoids overflow near INT32_MAX.
  return ((x >> n) + ((x >> (n - 1)) & 1)) | 0;
}

/** Q15 × Q15 → Q15 (int16 in and out), rounded half up and saturated; |error| ≤ 0.5 LSB except at saturation (−1 × −1). */
export function mulQ15(a: number, b: number): number {
  return sat16(shrRound(Math.imul(a, b), 15));
}

/** Q16 × Q16 → Q16 (int32 in and out), rounded half up and saturated to int32; |error| ≤ 0.5 LSB unless saturated. */
export function mulQ16(a: number, b: number): number {
  // The 64-bit product is assembled from 16-bit halves so no intermediate leaves int32.
  const ah = a >> 16;
  const al = a & 0xffff;
  const bh = b >> 16;
  const bl = b & 0xffff;
  const ll = Math.imul(al, bl); // low 32 bits of an unsigned product < 2^32
  const lo = (ll >>> 16) + ((ll >>> 15) & 1); // (al·bl + 2^15) >> 16, in 0..65536
  const m1 = Math.imul(ah, bl);
  const m2 = Math.imul(al, bh);
  const low = (m1 & 0xffff) + (m2 & 0xffff) + lo; // < 3·2^16
  const top = Math.imul(ah, bh) + (m1 >> 16) + (m2 >> 16) + (low >> 16);
  // The result is top·2^16 + (low & 0xffff); it fits int32 iff top fits int16.
  if (top > INT16_MAX) return INT32_MAX;
  if (top < INT16_MIN) return INT32_MIN;
  return (top << 16) | (low & 0xffff);
}

// Remainder of the last udivmod call; module state so the divide allocates nothing.
let lastRemainder = 0;

// Unsigned shift-subtract division of uint32 n by uint32 d ≠ 0; quotient as uint32,
// remainder in lastRemainder. At most 32 iterations, fewer for small dividends.
function udivmod(n: number, d: number): number {
  if (n < d) {
    lastRemainder = n;
    return 0;
  }
  let q = 0;
  let r = 0;
  for (let i = 31 - Math.clz32(n); i >= 0; i--) {
    // r < d ≤ 2^31 before the shift, so the shifted value fits uint32.
    r = ((r << 1) | ((n >>> i) & 1)) >>> 0;
    if (r >= d) {
      r = (r - d) >>> 0;
      q |= 1 << i;
    }
  }
  lastRemainder = r;
  return q >>> 0;
}

/** Signed int32 n ÷ d truncated toward zero, exact; saturates INT32_MIN ÷ −1; d = 0 gives INT32_MAX, INT32_MIN or 0 by the sign of n. */
export function divTrunc(n: number, d: number): number {
  if (d === 0) return n > 0 ? INT32_MAX : n < 0 ? INT32_MIN : 0;
  const q = udivmod(Math.abs(n | 0) >>> 0, Math.abs(d | 0) >>> 0);
  if ((n ^ d) < 0) return -q | 0;
  return q > INT32_MAX ? INT32_MAX : q;
}

/** Signed int32 n ÷ d rounded to nearest, ties away from zero (|error| ≤ 0.5); saturates like divTrunc. */
export function divRound(n: number, d: number): number {
  if (d === 0) return n > 0 ? INT32_MAX : n < 0 ? INT32_MIN : 0;
  const ud = Math.abs(d | 0) >>> 0;
  let q = udivmod(Math.abs(n | 0) >>> 0, ud);
  // 2r ≥ d written as r ≥ d − r so it cannot overflow.
  if (lastRemainder >= ud - lastRemainder) q += 1;
  // q ≤ 2^31 here: a remainder needs |d| ≥ 2, which halves the quotient first.
  if ((n ^ d) < 0) return -q | 0;
  return q > INT32_MAX ? INT32_MAX : q;
}

/** Floor of the square root of x read as uint32 (0..2^32 − 1); exact. */
export function isqrt(x: number): number {
  let rest = x >>> 0;
  let root = 0;
  let bit = 0x40000000;
  while (bit > rest) bit >>>= 2;
  while (bit !== 0) {
    // root < 2^31 − bit throughout, so the sum stays a non-negative int32.
    const trial = root + bit;
    if (rest >= trial) {
      rest = (rest - trial) >>> 0;
      root = (root >>> 1) + bit;
    } else {
      root >>>= 1;
    }
    bit >>>= 2;
  }
  return root;
}
