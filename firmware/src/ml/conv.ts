// Conv2D and DepthwiseConv2D, int8 NHWC with per-channel int8 weights and int32 bias.
//
// Source of truth: TFLM tensorflow/lite/kernels/internal/reference/integer_ops/conv.h
//   ConvPerChannel (int8 input), and .../integer_ops/depthwise_conv.h
//   DepthwiseConvPerChannel (int8 input), with the parameters of
//   tensorflow/lite/micro/kernels/conv_common.cc CalculateOpDataConv and
//   depthwise_conv_common.cc CalculateOpDataDepthwiseConv (padding from
//   tensorflow/lite/kernels/padding.h ComputePaddingHeightWidth; multipliers
//   from kernels/kernel_util.cc PopulateConvolutionQuantizationParams).
//
// Q-formats: as FullyConnected, per output channel c: acc = Σ w·(x − x_zp) +
// bias[c] in units of in_scale·w_scale[c], rescaled by MBQM(acc, M[c], s[c]) to
// the output scale, plus the output zero point, clamped. Weights are symmetric
// (zero point 0). Pixels outside the image are skipped (zero padding in real
// terms). A 1-D convolution is a 2-D one with height 1. Products w·(x − zp) are
// at most 127·255: plain `*` is exact and stays integer in XS; the int32
// accumulator wraps with `| 0` like the C++ one.

import type { ConvParams, DepthwiseConvParams } from "./model.ts";
import { multiplyByQuantizedMultiplier } from "./quantize.ts";

/** Dimensions of one convolution, fixed at load time. */
export interface ConvShape {
  readonly batches: number;
  readonly inputHeight: number;
  readonly inputWidth: number;
  readonly inputDepth: number;
  readonly filterHeight: number;
  readonly filterWidth: number;
  readonly outputHeight: number;
  readonly outputWidth: number;
  readonly outputDepth: number;
}

/**
 * Conv2D: input [batches, inH, inW, inC], filter [outC, fh, fw, inC],
 * bias [outC] (or null), output [batches, outH, outW, outC]. Allocation-free.
 */
export function conv2d(p: ConvParams, s: ConvShape, input: Int8Array, filter: Int8Array, bias: Int32Array | null, output: Int8Array): void {
  const inputOffset = p.inputOffset;
  const outputOffset = p.outputOffset;
  const min = p.activationMin;
  const max = p.activationMax;
  const multipliers = p.multipliers;
  const shifts = p.shifts;
  const inH = s.inputHeight;
  const inW = s.inputWidth;
  const inC = s.inputDepth;
  const fh = s.filterHeight;
  const fw = s.filterWidth;
  const outH = s.outputHeight;
  const outW = s.outputWidth;
  const outC = s.outputDepth;
  const filterStride = Math.imul(Math.imul(fh, fw), inC); // elements per output channel
  let out = 0; // output index, which walks the output in NHWC order
  for (let batch = 0; batch < s.batches; batch++) {
    const batchBase = Math.imul(Math.imul(batch, inH), inW);
    for (let outY = 0; outY < outH; outY++) {
      const inYOrigin = Math.imul(outY, p.strideHeight) - p.padHeight;
      for (let outX = 0; outX < outW; outX++) {
        const inXOrigin = Math.imul(outX, p.strideWidth) - p.padWidth;
        for (let oc = 0; oc < outC; oc++) {
          const filterBase = Math.imul(oc, filterStride);
          let acc = 0;
          for (let filterY = 0; filterY < fh; filterY++) {
            const inY = inYOrigin + Math.imul(p.dilationHeight, filterY);
            if (inY < 0 || inY >= inH) continue;
            for (let filterX = 0; filterX < fw; filterX++) {
              const inX = inXOrigin + Math.imul(p.dilationWidth, filterX);
              if (inX < 0 || inX >= inW) continue;
              const inputBase = Math.imul(batchBase + Math.imul(inY, inW) + inX, inC);
              const weightBase = filterBase + Math.imul(Math.imul(filterY, fw) + filterX, inC);
              for (let ic = 0; ic < inC; ic++) {
                acc = (acc + filter[weightBase + ic] * (input[inputBase + ic] + inputOffset)) | 0;
              }
            }
          }
          if (bias !== null) acc = (acc + bias[oc]) | 0;
          const scaled = (multiplyByQuantizedMultiplier(acc, multipliers[oc], shifts[oc]) + outputOffset) | 0;
          output[out++] = scaled < min ? min : scaled > max ? max : scaled;
        }
      }
    }
  }
}

/**
 * DepthwiseConv2D: input [batches, inH, inW, inC], filter [1, fh, fw, outC] with
 * outC = inC·depthMultiplier (output channel c reads input channel
 * floor(c / depthMultiplier)), bias [outC] (or null), output [batches, outH, outW, outC].
 * Allocation-free.
 */
export function depthwiseConv2d(p: DepthwiseConvParams, s: ConvShape, input: Int8Array, filter: Int8Array, bias: Int32Array | null, output: Int8Array): void {
  const inputOffset = p.inputOffset;
  const outputOffset = p.outputOffset;
  const min = p.activationMin;
  const max = p.activationMax;
  const multipliers = p.multipliers;
  const shifts = p.shifts;
  const depthMultiplier = p.depthMultiplier;
  const inH = s.inputHeight;
  const inW = s.inputWidth;
  const inC = s.inputDepth;
  const fh = s.filterHeight;
  const fw = s.filterWidth;
  const outH = s.outputHeight;
  const outW = s.outputWidth;
  const outC = s.outputDepth;
  for (let batch = 0; batch < s.batches; batch++) {
    const batchBase = Math.imul(Math.imul(batch, inH), inW);
    for (let outY = 0; outY < outH; outY++) {
      const inYOrigin = Math.imul(outY, p.strideHeight) - p.padHeight;
      for (let outX = 0; outX < outW; outX++) {
        const inXOrigin = Math.imul(outX, p.strideWidth) - p.padWidth;
        const outBase = Math.imul(Math.imul(Math.imul(batch, outH) + outY, outW) + outX, outC);
        for (let ic = 0; ic < inC; ic++) {
          for (let m = 0; m < depthMultiplier; m++) {
            const oc = m + Math.imul(ic, depthMultiplier);
            let acc = 0;
            for (let filterY = 0; filterY < fh; filterY++) {
              const inY = inYOrigin + Math.imul(p.dilationHeight, filterY);
              if (inY < 0 || inY >= inH) continue;
              for (let filterX = 0; filterX < fw; filterX++) {
                const inX = inXOrigin + Math.imul(p.dilationWidth, filterX);
                if (inX < 0 || inX >= inW) continue;
                const x = input[Math.imul(batchBase + Math.imul(inY, inW) + inX, inC) + ic];
                const w = filter[Math.imul(Math.imul(filterY, fw) + filterX, outC) + oc];
                acc = (acc + w * (x + inputOffset)) | 0;
              }
            }
            if (bias !== null) acc = (acc + bias[oc]) | 0;
            const scaled = (multiplyByQuantizedMultiplier(acc, multipliers[oc], shifts[oc]) + outputOffset) | 0;
            output[outBase + oc] = scaled < min ? min : scaled > max ? max : scaled;
          }
        }
      }
    }
  }
}
