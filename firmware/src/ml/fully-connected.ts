// FullyConnected, int8 activations and weights, int32 bias and accumulator.
//
// Source of truth: TFLM tensorflow/lite/kernels/internal/reference/integer_ops/fully_connected.h
//   FullyConnected (per-tensor: weights offset applied, one multiplier) and
//   FullyConnectedPerChannel (weights symmetric, one multiplier per output channel),
// with the parameters of tensorflow/lite/micro/kernels/fully_connected_common.cc
// CalculateOpDataFullyConnected.
//
// Q-formats: input and weights are int8 with zero points; the accumulator is the
// int32 Σ (w − w_zp)(x − x_zp) + bias, in units of in_scale·w_scale (the bias is
// quantized to that scale); MBQM rescales it to the output scale (Q0.31
// multiplier, shift), then the output zero point is added and the fused
// activation clamps in the quantized domain. The C++ int32 accumulator wraps on
// overflow; here `| 0` does the same. Each product is at most 255·255 in
// magnitude, an exact small integer, so a plain `*` keeps XS in integers without
// the cost of a Math.imul call.

import type { FullyConnectedParams } from "./model.ts";
import { multiplyByQuantizedMultiplier } from "./quantize.ts";

/**
 * output[b][o] for b < batches, o < outputDepth, from input[b][0..accumDepth) and
 * filter[o][0..accumDepth) (row-major, as TFLite stores them). Allocation-free.
 */
export function fullyConnected(
  p: FullyConnectedParams,
  input: Int8Array,
  filter: Int8Array,
  bias: Int32Array | null,
  output: Int8Array,
  batches: number,
  outputDepth: number,
  accumDepth: number,
): void {
  const inputOffset = p.inputOffset;
  const weightsOffset = p.perChannel ? 0 : p.weightsOffset;
  const outputOffset = p.outputOffset;
  const multipliers = p.multipliers;
  const shifts = p.shifts;
  const perChannel = p.perChannel;
  const min = p.activationMin;
  const max = p.activationMax;
  for (let b = 0; b < batches; b++) {
    const inputBase = Math.imul(b, accumDepth);
    const outputBase = Math.imul(b, outputDepth);
    for (let o = 0; o < outputDepth; o++) {
      const filterBase = Math.imul(o, accumDepth);
      let acc = 0;
      if (weightsOffset === 0) {
        // Symmetric weights (always, per channel): one add less per multiply-accumulate.
        for (let d = 0; d < accumDepth; d++) acc = (acc + filter[filterBase + d] * (input[inputBase + d] + inputOffset)) | 0;
      } else {
        for (let d = 0; d < accumDepth; d++) acc = (acc + (filter[filterBase + d] + weightsOffset) * (input[inputBase + d] + inputOffset)) | 0;
      }
      if (bias !== null) acc = (acc + bias[o]) | 0;
      const c = perChannel ? o : 0;
      const scaled = (multiplyByQuantizedMultiplier(acc, multipliers[c], shifts[c]) + outputOffset) | 0;
      output[outputBase + o] = scaled < min ? min : scaled > max ? max : scaled;
    }
  }
}
