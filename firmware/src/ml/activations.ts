// Elementwise int8 activations: RELU, RELU6, Logistic, Tanh.
//
// Sources of truth (TFLM):
//   RELU     tensorflow/lite/micro/kernels/activations.h ReluQuantized<int8_t>, parameters from
//            activations_common.cc CalculateReluOpData (multiplier of in_scale/out_scale,
//            clamp [max(−128, out_zp), 127]).
//   RELU6    activations.h Relu6Quantized<int8_t>, bounds from activations_common.cc
//            Relu6Prepare: [in_zp, q(6.0)] of the input quantization (no requantization).
//   Logistic tensorflow/lite/kernels/internal/reference/integer_ops/logistic.h Logistic(int8),
//            parameters from micro/kernels/logistic_common.cc CalculateArithmeticOpDataLogistic.
//   Tanh     .../reference/integer_ops/tanh.h Tanh(int8), parameters from micro/kernels/tanh.cc
//            CalculateArithmeticOpData.
// The fused activations of the other kernels (NONE, RELU, RELU6, RELU_N1_TO_1) are
// their activationMin/activationMax clamp (kernels/kernel_util.cc
// CalculateActivationRangeQuantized), computed on the host.
//
// Q-formats. Logistic/Tanh: x − zp is rescaled by MBQM to Q4.27 (gemmlowp F4);
// inputs with |x − zp| ≥ inputRangeRadius saturate. The F0 (Q0.31) result is
// shifted to int8: logistic by 23 bits (output scale 1/256) minus 128 (zero point
// −128); tanh by 24 bits (scale 1/128, zero point 0).

import type { LogisticParams, Relu6Params, ReluParams } from "./model.ts";
import { logistic, tanh } from "./fixedpoint.ts";
import { multiplyByQuantizedMultiplier, roundingDivideByPOT } from "./quantize.ts";

/** Standalone RELU: clamp(out_zp + MBQM(x − in_zp, M, s)). Allocation-free. */
export function relu(p: ReluParams, input: Int8Array, output: Int8Array, size: number): void {
  const zeroPoint = p.inputZeroPoint;
  const outputOffset = p.outputOffset;
  const multiplier = p.multiplier;
  const shift = p.shift;
  const min = p.activationMin;
  const max = p.activationMax;
  for (let i = 0; i < size; i++) {
    const y = (outputOffset + multiplyByQuantizedMultiplier(input[i] - zeroPoint, multiplier, shift)) | 0;
    output[i] = y < min ? min : y > max ? max : y;
  }
}

/** Standalone RELU6: clamp(x, lower, upper) in the input's quantization. Allocation-free. */
export function relu6(p: Relu6Params, input: Int8Array, output: Int8Array, size: number): void {
  const lower = p.lower;
  const upper = p.upper;
  for (let i = 0; i < size; i++) {
    const x = input[i];
    output[i] = x > upper ? upper : x < lower ? lower : x;
  }
}

/** Logistic int8 → int8 (output scale 1/256, zero point −128). Allocation-free. */
export function logisticInt8(p: LogisticParams, input: Int8Array, output: Int8Array, size: number): void {
  const zeroPoint = p.inputZeroPoint;
  const radius = p.inputRangeRadius;
  const multiplier = p.inputMultiplier;
  const shift = p.inputLeftShift;
  for (let i = 0; i < size; i++) {
    const x = input[i] - zeroPoint;
    if (x <= -radius) {
      output[i] = -128;
    } else if (x >= radius) {
      output[i] = 127;
    } else {
      const inQ4 = multiplyByQuantizedMultiplier(x, multiplier, shift);
      const y = roundingDivideByPOT(logistic(inQ4, 4), 23) - 128;
      output[i] = y < -128 ? -128 : y > 127 ? 127 : y;
    }
  }
}

/** Tanh int8 → int8 (output scale 1/128, zero point 0). Allocation-free. */
export function tanhInt8(p: LogisticParams, input: Int8Array, output: Int8Array, size: number): void {
  const zeroPoint = p.inputZeroPoint;
  const radius = p.inputRangeRadius;
  const multiplier = p.inputMultiplier;
  const shift = p.inputLeftShift;
  for (let i = 0; i < size; i++) {
    const x = input[i] - zeroPoint;
    if (x <= -radius) {
      output[i] = -128;
    } else if (x >= radius) {
      output[i] = 127;
    } else {
      const inQ4 = multiplyByQuantizedMultiplier(x, multiplier, shift);
      const y = roundingDivideByPOT(tanh(inQ4, 4), 24);
      output[i] = y < -128 ? -128 : y > 127 ? 127 : y;
    }
  }
}
