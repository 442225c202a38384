// Post-training int8 quantization of an Mlp per the TFLite quantization spec:
// weights per-channel symmetric int8 in [−127, 127] (zero point 0), activations
// asymmetric int8 with ranges from calibration data, int32 biases with scale
// in_scale · w_scale[c] (zero point 0); softmax output scale 1/256, zero point
// −128. The result is a .tflite description for writeTflite().

import type { TfliteModel, TfliteTensor } from "../tflite-types.ts";
import { Activation, BuiltinOperator, TensorType } from "../tflite-types.ts";
import { int32Bytes, int8Bytes } from "../tflite-writer.ts";
import { forward, type Mlp } from "./mlp.ts";

const f = Math.fround;

export interface QuantizeOptions {
  inputScale: number;
  inputZeroPoint: number;
  description?: string;
}

/** Asymmetric int8 (scale, zero point) covering [min, max] widened to include 0, as TFLite's converter derives them. */
export function asymmetricParams(min: number, max: number): { scale: number; zeroPoint: number } {
  const lo = Math.min(0, min);
  const hi = Math.max(0, max);
  if (hi === lo) return { scale: 1, zeroPoint: 0 };
  const scale = f((hi - lo) / 255);
  const zeroPoint = Math.max(-128, Math.min(127, Math.round(-128 - lo / scale)));
  return { scale, zeroPoint };
}

/** Per-channel symmetric int8 weights of a row-major [out][in] matrix. */
export function quantizeWeights(w: ArrayLike<number>, out: number, inp: number): { q: Int8Array; scales: number[] } {
  const q = new Int8Array(out * inp);
  const scales: number[] = [];
  for (let c = 0; c < out; c++) {
    let max = 0;
    for (let i = 0; i < inp; i++) max = Math.max(max, Math.abs(w[c * inp + i]));
    const s = f(max > 0 ? max / 127 : 1e-9);
    scales.push(s);
    for (let i = 0; i < inp; i++) q[c * inp + i] = Math.max(-127, Math.min(127, Math.round(w[c * inp + i] / s)));
  }
  return { q, scales };
}

export function quantizeBias(b: ArrayLike<number>, inputScale: number, weightScales: readonly number[]): { q: Int32Array; scales: number[] } {
  const scales = weightScales.map((s) => f(f(inputScale) * s));
  return { q: Int32Array.from(Array.from(b), (v, c) => Math.round(v / scales[c])), scales };
}

/** Quantizes `m` with activation ranges calibrated on `calibration` (float inputs). */
export function quantizeMlp(m: Mlp, calibration: readonly ArrayLike<number>[], o: QuantizeOptions): TfliteModel {
  let hMax = 0;
  let zMin = Infinity;
  let zMax = -Infinity;
  for (const x of calibration) {
    const { h, z } = forward(m, x);
    for (const v of h) hMax = Math.max(hMax, v);
    for (const v of z) {
      zMin = Math.min(zMin, v);
      zMax = Math.max(zMax, v);
    }
  }
  const inScale = f(o.inputScale);
  const hq = asymmetricParams(0, hMax);
  const zq = asymmetricParams(zMin, zMax);
  const w1 = quantizeWeights(m.w1, m.hidden, m.inputs);
  const b1 = quantizeBias(m.b1, inScale, w1.scales);
  const w2 = quantizeWeights(m.w2, m.classes, m.hidden);
  const b2 = quantizeBias(m.b2, hq.scale, w2.scales);

  const buffers: Uint8Array[] = [new Uint8Array(0)];
  const tensors: TfliteTensor[] = [];
  const act = (name: string, n: number, scale: number, zp: number): number => {
    tensors.push({ name, shape: [1, n], type: TensorType.INT8, buffer: 0, quantization: { scale: [f(scale)], zeroPoint: [zp], quantizedDimension: 0 } });
    return tensors.length - 1;
  };
  const constant = (name: string, shape: number[], type: number, bytes: Uint8Array, scales: number[]): number => {
    buffers.push(bytes);
    tensors.push({ name, shape, type, buffer: buffers.length - 1, quantization: { scale: scales, zeroPoint: scales.map(() => 0), quantizedDimension: 0 } });
    return tensors.length - 1;
  };
  const input = act("serving_default_features:0", m.inputs, inScale, o.inputZeroPoint);
  const tw1 = constant("dense/kernel", [m.hidden, m.inputs], TensorType.INT8, int8Bytes(w1.q), w1.scales);
  const tb1 = constant("dense/bias", [m.hidden], TensorType.INT32, int32Bytes(b1.q), b1.scales);
  const hidden = act("dense/Relu", m.hidden, hq.scale, hq.zeroPoint);
  const tw2 = constant("dense_1/kernel", [m.classes, m.hidden], TensorType.INT8, int8Bytes(w2.q), w2.scales);
  const tb2 = constant("dense_1/bias", [m.classes], TensorType.INT32, int32Bytes(b2.q), b2.scales);
  const logits = act("dense_1/BiasAdd", m.classes, zq.scale, zq.zeroPoint);
  const probs = act("StatefulPartitionedCall:0", m.classes, 1 / 256, -128);
  const fc = (activation: number) => ({ kind: "FullyConnectedOptions" as const, fusedActivationFunction: activation, weightsFormat: 0, keepNumDims: false, asymmetricQuantizeInputs: false });
  return {
    version: 3,
    description: o.description ?? `mlp ${m.inputs}-${m.hidden}-${m.classes} softmax, post-training int8`,
    operatorCodes: [{ builtinCode: BuiltinOperator.FULLY_CONNECTED, version: 1 }, { builtinCode: BuiltinOperator.SOFTMAX, version: 1 }],
    subgraphs: [{
      name: "main",
      tensors,
      inputs: [input],
      outputs: [probs],
      operators: [
        { opcodeIndex: 0, inputs: [input, tw1, tb1], outputs: [hidden], builtinOptions: fc(Activation.RELU) },
        { opcodeIndex: 0, inputs: [hidden, tw2, tb2], outputs: [logits], builtinOptions: fc(Activation.NONE) },
        { opcodeIndex: 1, inputs: [logits], outputs: [probs], builtinOptions: { kind: "SoftmaxOptions", beta: 1 } },
      ],
    }],
    buffers,
  };
}
