// Softmax, int8 in → int8 out (output scale 1/256, zero point −128).
//
// Source of truth: TFLM tensorflow/lite/kernels/internal/reference/softmax.h
//   Softmax<int8_t, int8_t>(const SoftmaxParams&, ...) (the gemmlowp fixed-point
//   path; TFLM's int8 softmax has no exp look-up table, only the int16 path has),
// with parameters from tensorflow/lite/micro/kernels/softmax_common.cc
// CalculateSoftmaxParams (PreprocessSoftmaxScaling with 5 integer bits;
// diff_min = −CalculateInputRadius(5, left_shift)).
//
// Q-formats: each difference x − max (≤ 0, int8 units) is rescaled by
// beta·in_scale into Q5.26 (MultiplyByQuantizedMultiplierGreaterThanOne);
// exp() gives Q0.31; the exps are summed in Q12.19; the reciprocal of the sum
// is a Q0.31 mantissa with an exponent; each output is exp·(1/sum) shifted to
// 1/256 units, minus 128. Differences below diffMin contribute nothing and give −128.

import type { SoftmaxParams } from "./model.ts";
import { expOnNegativeValues, getReciprocal, lastReciprocalBitsOverUnit } from "./fixedpoint.ts";
import { multiplyByQuantizedMultiplierGreaterThanOne, roundingDivideByPOT, saturatingRoundingDoublingHighMul } from "./quantize.ts";

const SCALED_DIFF_INTEGER_BITS = 5;
const ACCUMULATION_INTEGER_BITS = 12;

/** Softmax over the last dimension: `outerSize` rows of `depth` values. Allocation-free. */
export function softmaxInt8(p: SoftmaxParams, input: Int8Array, output: Int8Array, outerSize: number, depth: number): void {
  const multiplier = p.inputMultiplier;
  const leftShift = p.inputLeftShift;
  const diffMin = p.diffMin;
  for (let i = 0; i < outerSize; i++) {
    const base = Math.imul(i, depth);
    let maxInRow = -128;
    for (let c = 0; c < depth; c++) {
      const x = input[base + c];
      if (x > maxInRow) maxInRow = x;
    }
    let sumOfExps = 0; // Q12.19
    for (let c = 0; c < depth; c++) {
      const diff = input[base + c] - maxInRow;
      if (diff >= diffMin) {
        const scaled = multiplyByQuantizedMultiplierGreaterThanOne(diff, multiplier, leftShift);
        const exp = expOnNegativeValues(scaled, SCALED_DIFF_INTEGER_BITS);
        sumOfExps = (sumOfExps + roundingDivideByPOT(exp, ACCUMULATION_INTEGER_BITS)) | 0; // Rescale<12> of Q0.31
      }
    }
    const shiftedScale = getReciprocal(sumOfExps, ACCUMULATION_INTEGER_BITS);
    const exponent = lastReciprocalBitsOverUnit() + 31 - 8;
    for (let c = 0; c < depth; c++) {
      const diff = input[base + c] - maxInRow;
      if (diff >= diffMin) {
        const scaled = multiplyByQuantizedMultiplierGreaterThanOne(diff, multiplier, leftShift);
        const exp = expOnNegativeValues(scaled, SCALED_DIFF_INTEGER_BITS);
        const y = roundingDivideByPOT(saturatingRoundingDoublingHighMul(shiftedScale, exp), exponent) - 128;
        output[base + c] = y < -128 ? -128 : y > 127 ? 127 : y;
      } else {
        output[base + c] = -128;
      }
    }
  }
}
