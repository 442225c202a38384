// Requantization arithmetic of TensorFlow Lite Micro's int8 kernels, bit-exact,
// in int32 operations only.
//
// Source of truth (TFLM, default build: TFLITE_SINGLE_ROUNDING off):
//   tensorflow/lite/kernels/internal/common.cc  MultiplyByQuantizedMultiplier(int32_t x, int32_t quantized_multiplier, int shift)
//   tensorflow/lite/kernels/internal/common.h   MultiplyByQuantizedMultiplierSmallerThanOneExp,
//                                                MultiplyByQuantizedMultiplierGreaterThanOne
//   gemmlowp fixedpoint/fixedpoint.h             SaturatingRoundingDoublingHighMul(int32, int32),
//                                                RoundingDivideByPOT, SaturatingRoundingMultiplyByPOT
//
// Q-formats. A quantized multiplier M is a Q0.31 value in [0.5, 1) (or 0) and a
// shift s, standing for the real factor M·2^(s−31). MBQM(x, M, s) ≈ x·M·2^(s−31),
// computed with two roundings: a rounding doubling high multiply (x·M·2^-31,
// nearest, ties toward +∞ — the negative nudge 1 − 2^30 and the truncating
// division send −n.5 to −n) and a rounding right shift (nearest, ties away
// from zero). Negative shifts shift right, positive shifts shift left first.
//
// The 62-bit product x·M does not fit a JavaScript number exactly (2^53), and
// XS keeps only int32 values unboxed, so the product is assembled from 16-bit
// halves with Math.imul and explicit carries; every intermediate is an int32.

import { INT32_MAX, INT32_MIN } from "../dsp/q.ts";

/**
 * gemmlowp SaturatingRoundingDoublingHighMul for int32 (ARM VQRDMULH):
 * (a·b + nudge) / 2^31 truncated toward zero, nudge = 2^30 if a·b ≥ 0 else 1 − 2^30;
 * INT32_MIN·INT32_MIN saturates to INT32_MAX. Q0.31 × Q0.31 → Q0.31.
 */
export function saturatingRoundingDoublingHighMul(a: number, b: number): number {
  if (a === INT32_MIN && b === INT32_MIN) return INT32_MAX;
  // a = ah·2^16 + al with ah signed (−2^15..2^15−1) and al in 0..65535; same for b.
  const ah = a >> 16;
  const al = a & 0xffff;
  const bh = b >> 16;
  const bl = b & 0xffff;
  const ll = Math.imul(al, bl); // al·bl < 2^32: these are its exact 32 bits
  const m1 = Math.imul(ah, bl); // |m1| < 2^31
  const m2 = Math.imul(al, bh);
  const negative = a !== 0 && b !== 0 && (a ^ b) < 0;
  // X = a·b + nudge as H·2^32 + M·2^16 + L with L, M in 0..65535 and H signed.
  // nudge = 2^30 = 0x4000·2^16, or 1 − 2^30 = −2^32 + 0xC000·2^16 + 1.
  const s0 = (ll & 0xffff) + (negative ? 1 : 0);
  const s1 = (ll >>> 16) + (m1 & 0xffff) + (m2 & 0xffff) + (negative ? 0xc000 : 0x4000) + (s0 >> 16);
  const h = Math.imul(ah, bh) + (m1 >> 16) + (m2 >> 16) + (s1 >> 16) - (negative ? 1 : 0);
  const m = s1 & 0xffff;
  const l = s0 & 0xffff;
  // floor(X / 2^31) = 2H + top bit of M; the result fits int32, so the wrapped shift is exact.
  const floor = (h << 1) | (m >>> 15);
  // C++ division truncates toward zero: a negative X with a nonzero remainder rounds up.
  return h < 0 && ((m & 0x7fff) | l) !== 0 ? (floor + 1) | 0 : floor;
}

/**
 * gemmlowp RoundingDivideByPOT: x·2^-exponent rounded to nearest, ties away
 * from zero, for exponent 0..31.
 */
export function roundingDivideByPOT(x: number, exponent: number): number {
  const mask = ~(-1 << exponent); // 2^exponent − 1, also for exponent 31
  const remainder = x & mask;
  const threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/**
 * gemmlowp SaturatingRoundingMultiplyByPOT / TFLM SaturatingRoundingMultiplyByPOTParam:
 * x·2^exponent, saturating for exponent > 0, rounding (RoundingDivideByPOT) for exponent < 0.
 */
export function saturatingRoundingMultiplyByPOT(x: number, exponent: number): number {
  if (exponent === 0) return x;
  if (exponent < 0) return roundingDivideByPOT(x, 0 - exponent);
  const threshold = (1 << (31 - exponent)) - 1;
  if (x > threshold) return INT32_MAX;
  if (x < -threshold) return INT32_MIN;
  return x << exponent;
}

/**
 * TFLM MultiplyByQuantizedMultiplier(int32, int32, int), double rounding:
 * RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(x·2^left, multiplier), right)
 * with left = max(shift, 0), right = max(−shift, 0). x·2^left wraps like the C++
 * int32 product. Q0.31 multiplier, shift −31..30.
 */
export function multiplyByQuantizedMultiplier(x: number, multiplier: number, shift: number): number {
  const left = shift > 0 ? shift : 0;
  const right = shift > 0 ? 0 : 0 - shift;
  return roundingDivideByPOT(saturatingRoundingDoublingHighMul(x << left, multiplier), right);
}

/** TFLM MultiplyByQuantizedMultiplierSmallerThanOneExp (double rounding): leftShift ≤ 0. */
export function multiplyByQuantizedMultiplierSmallerThanOneExp(x: number, multiplier: number, leftShift: number): number {
  return roundingDivideByPOT(saturatingRoundingDoublingHighMul(x, multiplier), 0 - leftShift);
}

/** TFLM MultiplyByQuantizedMultiplierGreaterThanOne (double rounding): leftShift ≥ 0, no final rounding shift. */
export function multiplyByQuantizedMultiplierGreaterThanOne(x: number, multiplier: number, leftShift: number): number {
  return saturatingRoundingDoublingHighMul(x << leftShift, multiplier);
}
