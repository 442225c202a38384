// Add, int8 + int8 → int8 with input and output requantization, same shapes.
//
// Source of truth: TFLM tensorflow/lite/kernels/internal/reference/integer_ops/add.h
//   AddFunc / AddElementwise, with parameters from
//   tensorflow/lite/micro/kernels/add_common.cc CalculateOpDataAdd (left_shift 20,
//   input multipliers s_i / (2·max(s1, s2)), output multiplier 2·max(s1, s2) /
//   (2^20·s_out), all QuantizeMultiplierSmallerThanOneExp). Broadcasting
//   (BroadcastAdd6DSlow) is not supported: the importer rejects it.
//
// Q-formats: each input x − zp (int8 range) is shifted left 20 bits, scaled by a
// Q0.31 multiplier < 1 to the common scale 2·max(s1, s2)·2^-20, summed in int32,
// and rescaled to the output scale; then the output zero point and the fused
// activation clamp.

import type { AddParams } from "./model.ts";
import { multiplyByQuantizedMultiplierSmallerThanOneExp as scale } from "./quantize.ts";

/** output[i] = input1[i] ⊕ input2[i] for i < size. Allocation-free. */
export function addInt8(p: AddParams, input1: Int8Array, input2: Int8Array, output: Int8Array, size: number): void {
  const leftShift = p.leftShift;
  const min = p.activationMin;
  const max = p.activationMax;
  for (let i = 0; i < size; i++) {
    const shifted1 = (p.input1Offset + input1[i]) << leftShift;
    const shifted2 = (p.input2Offset + input2[i]) << leftShift;
    const sum = (scale(shifted1, p.input1Multiplier, p.input1Shift) + scale(shifted2, p.input2Multiplier, p.input2Shift)) | 0;
    const y = (scale(sum, p.outputMultiplier, p.outputShift) + p.outputOffset) | 0;
    output[i] = y < min ? min : y > max ? max : y;
  }
}
