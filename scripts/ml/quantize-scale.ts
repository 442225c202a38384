// Host-side (float) half of the int8 arithmetic: turns the float32 scales of a
// .tflite model into the integer parameters the firmware kernels take, exactly
// as TFLM's Prepare functions do on the device. It runs at model-import time on
// the host, never on the node, so it may use doubles — but it reproduces TFLM's
// float32/double mix operation by operation (Math.fround where C++ computes in
// float) so the integers match what TFLM would compute.
//
// Sources of truth (TFLM):
//   QuantizeMultiplier, QuantizeMultiplierSmallerThanOneExp, QuantizeMultiplierGreaterThanOne,
//   PreprocessSoftmaxScaling, CalculateInputRadius  tensorflow/lite/kernels/internal/quantization_util.cc
//   CalculateActivationRangeQuantized, GetQuantizedConvolutionMultipler,
//   PopulateConvolutionQuantizationParams            tensorflow/lite/kernels/kernel_util.cc
//   CalculateOpDataFullyConnected                    tensorflow/lite/micro/kernels/fully_connected_common.cc
//   CalculateOpDataAdd                               tensorflow/lite/micro/kernels/add_common.cc
//   CalculateArithmeticOpDataLogistic                tensorflow/lite/micro/kernels/logistic_common.cc
//   (Tanh) CalculateArithmeticOpData                 tensorflow/lite/micro/kernels/tanh.cc
//   CalculateSoftmaxParams                           tensorflow/lite/micro/kernels/softmax_common.cc
//   CalculateReluOpData, Relu6Prepare                tensorflow/lite/micro/kernels/activations_common.cc
//   ComputePaddingHeightWidth                        tensorflow/lite/kernels/padding.h

import type { AddParams, LogisticParams, Relu6Params, ReluParams, SoftmaxParams } from "../../firmware/src/ml/model.ts";
import { Activation, Padding } from "./tflite-types.ts";

const INT8_MIN = -128;
const INT8_MAX = 127;

/** A quantized multiplier: real ≈ multiplier·2^(shift − 31), multiplier a Q0.31 value in [2^30, 2^31) or 0. */
export interface QuantizedMultiplier {
  multiplier: number;
  shift: number;
}

/** C++ std::round: nearest, ties away from zero (exact for every double). */
export function roundHalfAway(x: number): number {
  const t = Math.trunc(x);
  const f = x - t; // exact
  if (f >= 0.5) return t + 1;
  if (f <= -0.5) return t - 1;
  return t;
}

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const HIGH = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0; // index of the high word

/** C frexp for finite x ≠ 0: x = mantissa·2^exponent with |mantissa| in [0.5, 1); exact. */
export function frexp(x: number): { mantissa: number; exponent: number } {
  if (x === 0 || !Number.isFinite(x)) return { mantissa: x, exponent: 0 };
  f64[0] = x;
  let biased = (u32[HIGH] >>> 20) & 0x7ff;
  let extra = 0;
  if (biased === 0) {
    // Subnormal: scale into the normal range first.
    f64[0] = x * 2 ** 64;
    biased = (u32[HIGH] >>> 20) & 0x7ff;
    extra = 64;
  }
  const exponent = biased - 1022 - extra;
  return { mantissa: x * 2 ** -exponent, exponent };
}

/** TFLM QuantizeMultiplier (double-rounding build). */
export function quantizeMultiplier(real: number): QuantizedMultiplier {
  if (real === 0) return { multiplier: 0, shift: 0 };
  const { mantissa, exponent } = frexp(real);
  let shift = exponent;
  let q = roundHalfAway(mantissa * 2 ** 31);
  if (q > 2 ** 31) throw new RangeError(`quantizeMultiplier(${real}): mantissa rounds above 2^31`);
  if (q === 2 ** 31) {
    q /= 2;
    shift++;
  }
  if (shift < -31) return { multiplier: 0, shift: 0 };
  return { multiplier: q, shift };
}

/** TFLM QuantizeMultiplierSmallerThanOneExp: 0 < real < 1, shift ≤ 0. */
export function quantizeMultiplierSmallerThanOneExp(real: number): QuantizedMultiplier {
  if (!(real < 1 && real > 0)) throw new RangeError(`multiplier ${real} must be in (0, 1)`);
  const q = quantizeMultiplier(real);
  if (q.shift > 0) throw new RangeError(`multiplier ${real} gives shift ${q.shift} > 0`);
  return q;
}

/** TFLM QuantizeMultiplierGreaterThanOne: real > 1, shift ≥ 0. */
export function quantizeMultiplierGreaterThanOne(real: number): QuantizedMultiplier {
  if (!(real > 1)) throw new RangeError(`multiplier ${real} must be > 1`);
  const q = quantizeMultiplier(real);
  if (q.shift < 0) throw new RangeError(`multiplier ${real} gives shift ${q.shift} < 0`);
  return q;
}

/** TFLM CalculateInputRadius(integerBits, leftShift, totalSignedBits = 31), float build. */
export function calculateInputRadius(inputIntegerBits: number, inputLeftShift: number, totalSignedBits = 31): number {
  const maxInputRescaled = (2 ** inputIntegerBits - 1) * 2 ** (totalSignedBits - inputIntegerBits) / 2 ** inputLeftShift;
  return Math.floor(maxInputRescaled);
}

// kernel_util.cc Quantize(): zero_point + (int)TfLiteRound(f / scale), the division in float.
function quantizeValue(scale: number, zeroPoint: number, f: number): number {
  return zeroPoint + roundHalfAway(Math.fround(f / scale));
}

/** TFLM CalculateActivationRangeQuantized for int8 outputs: the fused activation's clamp. */
export function activationRange(activation: number, scale: number, zeroPoint: number): { min: number; max: number } {
  switch (activation) {
    case Activation.NONE:
      return { min: INT8_MIN, max: INT8_MAX };
    case Activation.RELU:
      return { min: Math.max(INT8_MIN, quantizeValue(scale, zeroPoint, 0)), max: INT8_MAX };
    case Activation.RELU6:
      return { min: Math.max(INT8_MIN, quantizeValue(scale, zeroPoint, 0)), max: Math.min(INT8_MAX, quantizeValue(scale, zeroPoint, 6)) };
    case Activation.RELU_N1_TO_1:
      return { min: Math.max(INT8_MIN, quantizeValue(scale, zeroPoint, -1)), max: Math.min(INT8_MAX, quantizeValue(scale, zeroPoint, 1)) };
    default:
      throw new RangeError(`fused activation ${activation} is not supported`);
  }
}

/**
 * Per-channel multipliers of Conv2D/DepthwiseConv2D (PopulateConvolutionQuantizationParams)
 * and per-channel FullyConnected: in_scale·w_scale[c]/out_scale in double, a
 * single weight scale broadcast to every channel.
 */
export function perChannelMultipliers(inputScale: number, filterScales: readonly number[], outputScale: number, channels: number): { multipliers: Int32Array; shifts: Int32Array } {
  const multipliers = new Int32Array(channels);
  const shifts = new Int32Array(channels);
  for (let c = 0; c < channels; c++) {
    const filterScale = filterScales.length > 1 ? filterScales[c] : filterScales[0];
    const q = quantizeMultiplier(inputScale * filterScale / outputScale);
    multipliers[c] = q.multiplier;
    shifts[c] = q.shift;
  }
  return { multipliers, shifts };
}

/**
 * Per-tensor FullyConnected multiplier (GetQuantizedConvolutionMultipler): the
 * product in_scale·w_scale is rounded to float32 before dividing in double.
 */
export function fullyConnectedMultiplier(inputScale: number, filterScale: number, outputScale: number): QuantizedMultiplier {
  return quantizeMultiplier(Math.fround(inputScale * filterScale) / outputScale);
}

/** GetQuantizedConvolutionMultipler's bias check: |in·w − bias scale| / out ≤ 0.02. */
export function biasScaleMismatch(inputScale: number, filterScale: number, biasScale: number, outputScale: number): number {
  return Math.abs(inputScale * filterScale - biasScale) / outputScale;
}

/** TFLM ComputePaddingHeightWidth for one dimension: the output size and the leading padding. */
export function convPadding(padding: number, inputSize: number, filterSize: number, stride: number, dilation: number): { outputSize: number; pad: number } {
  const effectiveFilter = (filterSize - 1) * dilation + 1;
  let outputSize: number; // C++ int64 division truncates toward zero
  if (padding === Padding.SAME) outputSize = Math.trunc((inputSize + stride - 1) / stride);
  else if (padding === Padding.VALID) outputSize = Math.trunc((inputSize + stride - effectiveFilter) / stride);
  else throw new RangeError(`padding ${padding} is not SAME or VALID`);
  const total = Math.max(0, (outputSize - 1) * stride + effectiveFilter - inputSize);
  return { outputSize, pad: Math.floor(total / 2) };
}

/** TFLM Logistic/Tanh int8 prepare: input rescaled to Q4.27. */
export function logisticParams(inputScale: number, inputZeroPoint: number): LogisticParams {
  const inputIntegerBits = 4;
  const real = inputScale * 2 ** (31 - inputIntegerBits);
  const { mantissa, exponent } = frexp(real);
  const inputMultiplier = roundHalfAway(mantissa * 2 ** 31);
  if (exponent < 0 || inputMultiplier >= 2 ** 31) throw new RangeError(`input scale ${inputScale} is too small for the int8 logistic/tanh kernels`);
  return {
    inputZeroPoint,
    inputRangeRadius: calculateInputRadius(inputIntegerBits, exponent, 31),
    inputMultiplier,
    inputLeftShift: exponent,
  };
}

/** TFLM CalculateSoftmaxParams, int8 input: PreprocessSoftmaxScaling with 5 integer bits. */
export function softmaxParams(beta: number, inputScale: number): SoftmaxParams {
  const scaledDiffIntegerBits = 5;
  const real = Math.min(beta * inputScale * 2 ** (31 - scaledDiffIntegerBits), 2 ** 31 - 1);
  const q = quantizeMultiplierGreaterThanOne(real);
  return { inputMultiplier: q.multiplier, inputLeftShift: q.shift, diffMin: -calculateInputRadius(scaledDiffIntegerBits, q.shift) };
}

/** TFLM CalculateOpDataAdd, int8. */
export function addParams(
  scale1: number, zeroPoint1: number, scale2: number, zeroPoint2: number, outputScale: number, outputZeroPoint: number, activation: number,
): AddParams {
  const leftShift = 20;
  const twiceMaxInputScale = 2 * Math.max(scale1, scale2);
  const in1 = quantizeMultiplierSmallerThanOneExp(scale1 / twiceMaxInputScale);
  const in2 = quantizeMultiplierSmallerThanOneExp(scale2 / twiceMaxInputScale);
  const out = quantizeMultiplierSmallerThanOneExp(twiceMaxInputScale / (2 ** leftShift * outputScale));
  const range = activationRange(activation, outputScale, outputZeroPoint);
  return {
    leftShift,
    input1Offset: 0 - zeroPoint1, // not -zeroPoint1: −0 is a double in XS
    input1Multiplier: in1.multiplier,
    input1Shift: in1.shift,
    input2Offset: 0 - zeroPoint2,
    input2Multiplier: in2.multiplier,
    input2Shift: in2.shift,
    outputOffset: outputZeroPoint,
    outputMultiplier: out.multiplier,
    outputShift: out.shift,
    activationMin: range.min,
    activationMax: range.max,
  };
}

/** TFLM CalculateReluOpData<int8_t>: multiplier of (float) in_scale/out_scale, clamp [max(−128, out_zp), 127]. */
export function reluParams(inputScale: number, inputZeroPoint: number, outputScale: number, outputZeroPoint: number): ReluParams {
  const q = quantizeMultiplier(Math.fround(inputScale / outputScale));
  return {
    inputZeroPoint,
    outputOffset: outputZeroPoint,
    multiplier: q.multiplier,
    shift: q.shift,
    activationMin: Math.max(INT8_MIN, outputZeroPoint + roundHalfAway(Math.fround(0 / outputScale))),
    activationMax: INT8_MAX,
  };
}

/** TFLM Relu6Prepare, int8: [zero point, FloatToQuantizedType(6, scale, zero point)]. */
export function relu6Params(inputScale: number, inputZeroPoint: number): Relu6Params {
  const six = Math.min(INT8_MAX, Math.max(INT8_MIN, roundHalfAway(Math.fround(6 / inputScale)) + inputZeroPoint));
  return { lower: inputZeroPoint, upper: six };
}
