// gemmlowp fixed-point math on int32 raw values, as TFLM's int8 Logistic, Tanh
// and Softmax use it, bit-exact and in int32 operations only.
//
// Source of truth: gemmlowp fixedpoint/fixedpoint.h at the revision TFLM pins
// (719139ce755a0f31cbf1c37f7f98adcc7fc9f425), scalar int32 instantiation:
//   RoundingHalfSum, Rescale, exp_on_interval_between_negative_one_quarter_and_0_excl,
//   exp_on_negative_values, one_over_one_plus_x_for_x_in_0_1,
//   one_minus_x_over_one_plus_x_for_x_in_0_1, logistic, tanh;
// and tensorflow/lite/kernels/internal/common.h GetReciprocal.
//
// Q-formats. gemmlowp FixedPoint<int32, m> is the raw int32 r standing for
// r·2^-(31−m) (Qm.(31−m)), range [−2^m, 2^m). F0 (Q0.31) "one" is INT32_MAX.
// A product of Fa and Fb is SaturatingRoundingDoublingHighMul of the raws in
// F(a+b). gemmlowp's plain int32 additions wrap here (`| 0`), as they do in the
// compiled C++; in the ranges these functions see they never overflow.

import { INT32_MAX, INT32_MIN } from "../dsp/q.ts";
import { roundingDivideByPOT, saturatingRoundingDoublingHighMul as mul, saturatingRoundingMultiplyByPOT } from "./quantize.ts";

/** gemmlowp RoundingHalfSum(int32, int32): (a + b ± 1) / 2 with the sign of a + b, truncated; no 64-bit sum. */
export function roundingHalfSum(a: number, b: number): number {
  const h = (a >> 1) + (b >> 1); // floor(a/2) + floor(b/2)
  const l = (a & 1) + (b & 1); // a + b = 2h + l
  // a + b ≥ 0 iff h ≥ 0 (for l ≤ 1); with l = 2 both signs round to h + 1.
  return (h + (l === 2 || (l === 1 && h >= 0) ? 1 : 0)) | 0;
}

/** gemmlowp Rescale<dstBits>(FixedPoint<int32, srcBits>): raw·2^(src − dst), saturating or rounding. */
export function rescale(raw: number, srcIntegerBits: number, dstIntegerBits: number): number {
  return saturatingRoundingMultiplyByPOT(raw, srcIntegerBits - dstIntegerBits);
}

// exp(−1/8) in Q0.31, 1/3 in Q0.31, and exp(−2^k) for k = −2..4 in Q0.31 (gemmlowp's constants).
const EXP_MINUS_ONE_EIGHTH = 1895147668;
const ONE_THIRD = 715827883;
const EXP_BARREL = [1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242];

/** gemmlowp exp_on_interval_between_negative_one_quarter_and_0_excl: F0 a in [−1/4, 0) → exp(a) in F0 (Taylor series around −1/8). */
export function expOnIntervalBetweenNegativeOneQuarterAnd0Excl(a: number): number {
  const x = (a + (1 << 28)) | 0; // a + 1/8
  const x2 = mul(x, x);
  const x3 = mul(x2, x);
  const x4 = mul(x2, x2);
  const x4Over4 = roundingDivideByPOT(x4, 2);
  const poly = roundingDivideByPOT((mul((x4Over4 + x3) | 0, ONE_THIRD) + x2) | 0, 1);
  return (EXP_MINUS_ONE_EIGHTH + mul(EXP_MINUS_ONE_EIGHTH, (x + poly) | 0)) | 0;
}

/**
 * gemmlowp exp_on_negative_values: a ≤ 0 in F(integerBits) → exp(a) in F0.
 * Splits a into a multiple of 1/4 and a remainder in [−1/4, 0), then applies
 * exp(−2^k) factors for the set bits ("barrel shifter").
 */
export function expOnNegativeValues(a: number, integerBits: number): number {
  const fractionalBits = 31 - integerBits;
  const oneQuarter = 1 << (fractionalBits - 2);
  const aModQuarterMinusOneQuarter = ((a & (oneQuarter - 1)) - oneQuarter) | 0;
  let result = expOnIntervalBetweenNegativeOneQuarterAnd0Excl(rescale(aModQuarterMinusOneQuarter, integerBits, 0));
  const remainder = (aModQuarterMinusOneQuarter - a) | 0;
  for (let k = -2; k <= 4; k++) {
    if (integerBits > k && (remainder & (1 << (fractionalBits + k))) !== 0) result = mul(result, EXP_BARREL[k + 2]);
  }
  if (integerBits > 5 && a < -(1 << (36 - integerBits))) result = 0; // below −32: exp is 0 in F0
  return a === 0 ? INT32_MAX : result;
}

// 48/17 and −32/17 in F2 (Q2.29): the Newton–Raphson starting point of gemmlowp's divisions.
const C48_OVER_17 = 1515870810;
const CNEG32_OVER_17 = -1010580540;
const F2_ONE = 1 << 29;

// Newton–Raphson for 1/(1 + a), a in (0, 1) as F0: returns x ≈ 2/(1 + a) in F2 (three iterations, as gemmlowp).
function reciprocalIteration(a: number): number {
  const halfDenominator = roundingHalfSum(a, INT32_MAX); // (1 + a)/2 in F0
  let x = (C48_OVER_17 + mul(halfDenominator, CNEG32_OVER_17)) | 0;
  for (let i = 0; i < 3; i++) {
    const oneMinusHalfDenominatorTimesX = (F2_ONE - mul(halfDenominator, x)) | 0;
    x = (x + rescale(mul(x, oneMinusHalfDenominatorTimesX), 4, 2)) | 0;
  }
  return x;
}

/** gemmlowp one_over_one_plus_x_for_x_in_0_1: F0 a in (0, 1) → 1/(1 + a) in F0. */
export function oneOverOnePlusXForXIn01(a: number): number {
  return rescale(reciprocalIteration(a), 1, 0); // ExactMulByPot<−1> makes F2 an F1, then Rescale<0>
}

/** gemmlowp one_minus_x_over_one_plus_x_for_x_in_0_1: F0 a in (0, 1) → (1 − a)/(1 + a) in F0. */
export function oneMinusXOverOnePlusXForXIn01(a: number): number {
  return rescale((reciprocalIteration(a) - F2_ONE) | 0, 2, 0);
}

/** gemmlowp logistic: F(integerBits) → 1/(1 + exp(−a)) in F0; logistic(0) = 1/2. */
export function logistic(a: number, integerBits: number): number {
  if (a === 0) return 1 << 30;
  const absolute = a > 0 ? a : (0 - a) | 0;
  const ifPositive = oneOverOnePlusXForXIn01(expOnNegativeValues((0 - absolute) | 0, integerBits));
  return a > 0 ? ifPositive : (INT32_MAX - ifPositive) | 0;
}

/** gemmlowp tanh: F(integerBits) → tanh(a) in F0, via (1 − exp(−2|a|))/(1 + exp(−2|a|)). */
export function tanh(a: number, integerBits: number): number {
  if (a === 0) return 0;
  const negativeAbs = a < 0 ? a : (0 - a) | 0;
  // ExactMulByPot<1>: the same raw read with one more integer bit is 2·negativeAbs.
  const t = oneMinusXOverOnePlusXForXIn01(expOnNegativeValues(negativeAbs, integerBits + 1));
  return a < 0 ? (0 - t) | 0 : t;
}

// Module state so getReciprocal can return two values without allocating.
let reciprocalBitsOverUnit = 0;

/**
 * TFLM GetReciprocal(x, xIntegerDigits, &numBitsOverUnit) for x > 0 in
 * F(xIntegerDigits): shifting x left by its leading zeros gives (1 + f)·2^31
 * with f in [0, 1); the result is 1/(1 + f) in F0, and the real 1/x equals it
 * times 2^-numBitsOverUnit, which `lastReciprocalBitsOverUnit()` returns.
 */
export function getReciprocal(x: number, xIntegerDigits: number): number {
  const headroomPlusOne = Math.clz32(x);
  reciprocalBitsOverUnit = xIntegerDigits - headroomPlusOne;
  // (uint32)x << headroomPlusOne − 2^31, as int32: flipping the top bit subtracts 2^31 mod 2^32.
  return oneOverOnePlusXForXIn01((x << headroomPlusOne) ^ INT32_MIN);
}

/** numBitsOverUnit of the last getReciprocal call. */
export function lastReciprocalBitsOverUnit(): number {
  return reciprocalBitsOverUnit;
}
