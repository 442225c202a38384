// Test models for the ml tests: small int8 .tflite descriptions built from
// seeded random weights, and an independent reference runner that executes a
// description op by op with the BigInt TFLM transcription of reference.ts and
// parameters derived here (not by scripts/ml/quantize-scale.ts).

import type { TfliteModel, TfliteOperator, TfliteTensor, BuiltinOptions } from "../../../scripts/ml/tflite-types.ts";
import { BuiltinOperator, TensorType } from "../../../scripts/ml/tflite-types.ts";
import { int32Bytes, int8Bytes } from "../../../scripts/ml/tflite-writer.ts";
import * as ref from "./reference.ts";
import assert from "node:assert/strict";
import { Interpreter } from "../../../firmware/src/ml/interpreter.ts";
import type { ModelModule } from "../../../firmware/src/ml/model.ts";
import { readTflite } from "../../../scripts/ml/tflite-reader.ts";

/** Deterministic PRNG (mulberry32). */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const f = Math.fround;

/** Builds a TfliteModel tensor by tensor. */
class ModelBuilder {
  readonly tensors: TfliteTensor[] = [];
  readonly buffers: Uint8Array[] = [new Uint8Array(0)];
  readonly operators: TfliteOperator[] = [];
  readonly codes: number[] = [];
  readonly rand: () => number;

  constructor(seed: number) {
    this.rand = random(seed);
  }

  activation(name: string, shape: number[], scale: number, zeroPoint: number): number {
    this.tensors.push({ name, shape, type: TensorType.INT8, buffer: 0, quantization: { scale: [f(scale)], zeroPoint: [zeroPoint], quantizedDimension: 0 } });
    return this.tensors.length - 1;
  }

  weights(name: string, shape: number[], scales: number[], quantizedDimension = 0): number {
    const n = shape.reduce((a, b) => a * b, 1);
    const values = Array.from({ length: n }, () => Math.round(this.rand() * 254) - 127);
    this.buffers.push(int8Bytes(values));
    this.tensors.push({ name, shape, type: TensorType.INT8, buffer: this.buffers.length - 1, quantization: { scale: scales.map(f), zeroPoint: scales.map(() => 0), quantizedDimension } });
    return this.tensors.length - 1;
  }

  bias(name: string, n: number, scales: number[], magnitude: number): number {
    const values = Array.from({ length: n }, () => Math.round((this.rand() * 2 - 1) * magnitude));
    this.buffers.push(int32Bytes(values));
    this.tensors.push({ name, shape: [n], type: TensorType.INT32, buffer: this.buffers.length - 1, quantization: { scale: scales.map(f), zeroPoint: scales.map(() => 0), quantizedDimension: 0 } });
    return this.tensors.length - 1;
  }

  int32Constant(name: string, values: number[]): number {
    this.buffers.push(int32Bytes(values));
    this.tensors.push({ name, shape: [values.length], type: TensorType.INT32, buffer: this.buffers.length - 1 });
    return this.tensors.length - 1;
  }

  op(code: number, inputs: number[], outputs: number[], builtinOptions?: BuiltinOptions): void {
    let index = this.codes.indexOf(code);
    if (index < 0) {
      this.codes.push(code);
      index = this.codes.length - 1;
    }
    const op: TfliteOperator = { opcodeIndex: index, inputs, outputs };
    if (builtinOptions) op.builtinOptions = builtinOptions;
    this.operators.push(op);
  }

  build(inputs: number[], outputs: number[], description: string): TfliteModel {
    return {
      version: 3,
      description,
      operatorCodes: this.codes.map((builtinCode) => ({ builtinCode, version: 1 })),
      subgraphs: [{ tensors: this.tensors, inputs, outputs, operators: this.operators, name: "main" }],
      buffers: this.buffers,
    };
  }
}

const fcOptions = (fusedActivationFunction: number): BuiltinOptions => ({ kind: "FullyConnectedOptions", fusedActivationFunction, weightsFormat: 0, keepNumDims: false, asymmetricQuantizeInputs: false });

/** FC 8→16 (per-tensor weights, fused RELU) → FC 16→3 (per-channel weights) → Softmax. */
export function mlpModel(seed = 1): TfliteModel {
  const m = new ModelBuilder(seed);
  const input = m.activation("serving_default_x:0", [1, 8], 0.05, -10);
  const w1 = m.weights("dense/kernel", [16, 8], [0.02]);
  const b1 = m.bias("dense/bias", 16, [f(0.05) * f(0.02)], 3000);
  const h1 = m.activation("dense/Relu", [1, 16], 0.08, -128);
  const w2 = m.weights("dense_1/kernel", [3, 16], [0.01, 0.015, 0.02]);
  const b2 = m.bias("dense_1/bias", 3, [0.08 * 0.01, 0.08 * 0.015, 0.08 * 0.02], 2000);
  const logits = m.activation("dense_1/BiasAdd", [1, 3], 0.15, 5);
  const probs = m.activation("StatefulPartitionedCall:0", [1, 3], 1 / 256, -128);
  m.op(BuiltinOperator.FULLY_CONNECTED, [input, w1, b1], [h1], fcOptions(1));
  m.op(BuiltinOperator.FULLY_CONNECTED, [h1, w2, b2], [logits], fcOptions(0));
  m.op(BuiltinOperator.SOFTMAX, [logits], [probs], { kind: "SoftmaxOptions", beta: 1 });
  return m.build([input], [probs], "mlp 8-16-3 softmax");
}

/** Conv1D (as height-1 Conv2D, fused RELU6) → DepthwiseConv → Add(conv, dw) → Reshape → FC → Tanh. */
export function convModel(seed = 2): TfliteModel {
  const m = new ModelBuilder(seed);
  const input = m.activation("serving_default_signal:0", [1, 1, 16, 2], 0.04, 3);
  const cw = m.weights("conv1d/kernel", [4, 1, 3, 2], [0.02, 0.03, 0.025, 0.01]);
  const cb = m.bias("conv1d/bias", 4, [0.04 * 0.02, 0.04 * 0.03, 0.04 * 0.025, 0.04 * 0.01], 500);
  const c = m.activation("conv1d/Relu6", [1, 1, 16, 4], 0.06, -20);
  const dw = m.weights("depthwise/kernel", [1, 1, 3, 4], [0.03, 0.02, 0.04, 0.05], 3);
  const db = m.bias("depthwise/bias", 4, [0.06 * 0.03, 0.06 * 0.02, 0.06 * 0.04, 0.06 * 0.05], 400);
  const d = m.activation("depthwise/BiasAdd", [1, 1, 16, 4], 0.05, 7);
  const sum = m.activation("add/add", [1, 1, 16, 4], 0.09, -5);
  const shape = m.int32Constant("flatten/shape", [1, 64]);
  const flat = m.activation("flatten/Reshape", [1, 64], 0.09, -5);
  const fw = m.weights("dense/kernel", [2, 64], [0.01]);
  const fb = m.bias("dense/bias", 2, [f(0.09) * f(0.01)], 1000);
  const fcOut = m.activation("dense/BiasAdd", [1, 2], 0.1, 0);
  const out = m.activation("StatefulPartitionedCall:0", [1, 2], 1 / 128, 0);
  m.op(BuiltinOperator.CONV_2D, [input, cw, cb], [c], { kind: "Conv2DOptions", padding: 0, strideW: 1, strideH: 1, fusedActivationFunction: 3, dilationWFactor: 1, dilationHFactor: 1 });
  m.op(BuiltinOperator.DEPTHWISE_CONV_2D, [c, dw, db], [d], { kind: "DepthwiseConv2DOptions", padding: 0, strideW: 1, strideH: 1, depthMultiplier: 1, fusedActivationFunction: 0, dilationWFactor: 1, dilationHFactor: 1 });
  m.op(BuiltinOperator.ADD, [c, d], [sum], { kind: "AddOptions", fusedActivationFunction: 0, potScaleInt16: true });
  m.op(BuiltinOperator.RESHAPE, [sum, shape], [flat], { kind: "ReshapeOptions", newShape: [1, 64] });
  m.op(BuiltinOperator.FULLY_CONNECTED, [flat, fw, fb], [fcOut], fcOptions(0));
  m.op(BuiltinOperator.TANH, [fcOut], [out]);
  return m.build([input], [out], "conv1d + depthwise + add + dense + tanh");
}

/** Conv2D stride 2 VALID (per-tensor weights, no bias) → RELU (requantizing) → DepthwiseConv ×2 dilated → RELU6 → Logistic; two outputs. */
export function visionModel(seed = 3): TfliteModel {
  const m = new ModelBuilder(seed);
  const input = m.activation("image", [1, 5, 6, 2], 0.03, 0);
  const cw = m.weights("conv/kernel", [3, 2, 2, 2], [0.02]);
  const c = m.activation("conv/BiasAdd", [1, 2, 3, 3], 0.05, -4);
  const r = m.activation("relu", [1, 2, 3, 3], 0.03, -128);
  const dw = m.weights("dw/kernel", [1, 2, 2, 6], [0.02, 0.03, 0.04, 0.05, 0.02, 0.03], 3);
  const db = m.bias("dw/bias", 6, [0.03 * 0.02, 0.03 * 0.03, 0.03 * 0.04, 0.03 * 0.05, 0.03 * 0.02, 0.03 * 0.03], 300);
  const d = m.activation("dw/BiasAdd", [1, 2, 3, 6], 0.04, 2);
  const r6 = m.activation("relu6", [1, 2, 3, 6], 0.04, 2);
  const lg = m.activation("sigmoid", [1, 2, 3, 6], 1 / 256, -128);
  m.op(BuiltinOperator.CONV_2D, [input, cw, -1], [c], { kind: "Conv2DOptions", padding: 1, strideW: 2, strideH: 2, fusedActivationFunction: 0, dilationWFactor: 1, dilationHFactor: 1 });
  m.op(BuiltinOperator.RELU, [c], [r]);
  m.op(BuiltinOperator.DEPTHWISE_CONV_2D, [r, dw, db], [d], { kind: "DepthwiseConv2DOptions", padding: 0, strideW: 1, strideH: 1, depthMultiplier: 2, fusedActivationFunction: 0, dilationWFactor: 2, dilationHFactor: 1 });
  m.op(BuiltinOperator.RELU6, [d], [r6]);
  m.op(BuiltinOperator.LOGISTIC, [r6], [lg]);
  return m.build([input], [lg, r], "conv stride 2 + relu + depthwise x2 + relu6 + logistic");
}

// ---- independent reference runner ----

function quant(t: TfliteTensor): { scale: number; zp: number } {
  return { scale: t.quantization?.scale[0] ?? 0, zp: t.quantization?.zeroPoint[0] ?? 0 };
}

function int8Data(model: TfliteModel, t: TfliteTensor): number[] {
  return Array.from(new Int8Array(model.buffers[t.buffer].buffer, model.buffers[t.buffer].byteOffset, model.buffers[t.buffer].length));
}

function int32Data(model: TfliteModel, t: TfliteTensor): number[] {
  const b = model.buffers[t.buffer];
  const view = new DataView(b.buffer, b.byteOffset, b.length);
  return Array.from({ length: b.length / 4 }, (_, i) => view.getInt32(4 * i, true));
}

// CalculateActivationRangeQuantized for int8, Quantize() dividing in float.
function actRange(activation: number, scale: number, zp: number): [number, number] {
  const q = (v: number): number => zp + ref.cRound(f(v / scale));
  switch (activation) {
    case 0: return [-128, 127];
    case 1: return [Math.max(-128, q(0)), 127];
    case 2: return [Math.max(-128, q(-1)), Math.min(127, q(1))];
    case 3: return [Math.max(-128, q(0)), Math.min(127, q(6))];
    default: throw new Error(`activation ${activation}`);
  }
}

function padding(padding: number, inSize: number, filter: number, stride: number, dilation: number): [number, number] {
  const eff = (filter - 1) * dilation + 1;
  const out = padding === 0 ? Math.floor((inSize + stride - 1) / stride) : Math.floor((inSize + stride - eff) / stride);
  return [out, Math.floor(Math.max(0, (out - 1) * stride + eff - inSize) / 2)];
}

/** Runs a TfliteModel on one input with the reference kernels; returns every model output. */
export function referenceRun(model: TfliteModel, input: readonly number[]): number[][] {
  const g = model.subgraphs[0];
  const values = new Map<number, number[]>();
  values.set(g.inputs[0], input.slice());
  for (const op of g.operators) {
    const code = model.operatorCodes[op.opcodeIndex].builtinCode;
    const t = (i: number): TfliteTensor => g.tensors[op.inputs[i]];
    const x = values.get(op.inputs[0]) as number[];
    const outT = g.tensors[op.outputs[0]];
    const oq = quant(outT);
    const iq = quant(t(0));
    let y: number[];
    switch (code) {
      case BuiltinOperator.FULLY_CONNECTED: {
        const o = op.builtinOptions as Extract<BuiltinOptions, { kind: "FullyConnectedOptions" }>;
        const w = t(1);
        const wScales = w.quantization?.scale ?? [];
        const outputDepth = w.shape[0];
        const accumDepth = w.shape[1];
        const perChannel = wScales.length > 1;
        const ms: number[] = [];
        const ss: number[] = [];
        for (let c = 0; c < (perChannel ? outputDepth : 1); c++) {
          const real = perChannel ? iq.scale * wScales[c] / oq.scale : f(iq.scale * wScales[0]) / oq.scale;
          const [m, s] = ref.refQuantizeMultiplier(real);
          ms.push(m);
          ss.push(s);
        }
        const [min, max] = actRange(o.fusedActivationFunction, oq.scale, oq.zp);
        const bias = op.inputs[2] !== undefined && op.inputs[2] >= 0 ? int32Data(model, t(2)) : null;
        y = ref.fullyConnected({ inputOffset: -iq.zp, weightsOffset: -(w.quantization?.zeroPoint[0] ?? 0), outputOffset: oq.zp, multipliers: ms, shifts: ss, perChannel, activationMin: min, activationMax: max },
          x, int8Data(model, w), bias, x.length / accumDepth, outputDepth, accumDepth);
        break;
      }
      case BuiltinOperator.CONV_2D:
      case BuiltinOperator.DEPTHWISE_CONV_2D: {
        const o = op.builtinOptions as Extract<BuiltinOptions, { kind: "Conv2DOptions" | "DepthwiseConv2DOptions" }>;
        const w = t(1);
        const inShape = t(0).shape as [number, number, number, number];
        const wShape = w.shape as [number, number, number, number];
        const outShape = outT.shape as [number, number, number, number];
        const outC = outShape[3];
        const wScales = w.quantization?.scale ?? [];
        const ms: number[] = [];
        const ss: number[] = [];
        for (let c = 0; c < outC; c++) {
          const [m, s] = ref.refQuantizeMultiplier(iq.scale * (wScales.length > 1 ? wScales[c] : wScales[0]) / oq.scale);
          ms.push(m);
          ss.push(s);
        }
        const [, padH] = padding(o.padding, inShape[1], wShape[1], o.strideH, o.dilationHFactor);
        const [, padW] = padding(o.padding, inShape[2], wShape[2], o.strideW, o.dilationWFactor);
        const [min, max] = actRange(o.fusedActivationFunction, oq.scale, oq.zp);
        const p = {
          strideHeight: o.strideH, strideWidth: o.strideW, dilationHeight: o.dilationHFactor, dilationWidth: o.dilationWFactor, padHeight: padH, padWidth: padW,
          inputOffset: -iq.zp, outputOffset: oq.zp, multipliers: ms, shifts: ss, activationMin: min, activationMax: max, depthMultiplier: outC / inShape[3],
        };
        const bias = op.inputs[2] !== undefined && op.inputs[2] >= 0 ? int32Data(model, t(2)) : null;
        y = code === BuiltinOperator.CONV_2D
          ? ref.convPerChannel(p, inShape, x, wShape, int8Data(model, w), bias, outShape)
          : ref.depthwiseConvPerChannel(p, inShape, x, wShape, int8Data(model, w), bias, outShape);
        break;
      }
      case BuiltinOperator.RELU: {
        const [m, s] = ref.refQuantizeMultiplier(f(iq.scale / oq.scale));
        y = x.map((v) => ref.reluInt8(iq.zp, oq.zp, m, s, Math.max(-128, oq.zp), 127, v));
        break;
      }
      case BuiltinOperator.RELU6: {
        const six = Math.max(-128, Math.min(127, ref.cRound(f(6 / iq.scale)) + iq.zp));
        y = x.map((v) => ref.relu6Int8(iq.zp, six, v));
        break;
      }
      case BuiltinOperator.LOGISTIC:
      case BuiltinOperator.TANH: {
        const p = ref.refLogisticParams(iq.scale);
        y = x.map((v) => (code === BuiltinOperator.LOGISTIC ? ref.logisticInt8 : ref.tanhInt8)(iq.zp, p.radius, p.multiplier, p.shift, v));
        break;
      }
      case BuiltinOperator.SOFTMAX: {
        const beta = (op.builtinOptions as Extract<BuiltinOptions, { kind: "SoftmaxOptions" }>).beta;
        const p = ref.refSoftmaxParams(beta, iq.scale);
        const depth = t(0).shape[t(0).shape.length - 1];
        y = [];
        for (let i = 0; i < x.length; i += depth) y.push(...ref.softmaxInt8Row(x.slice(i, i + depth), p.multiplier, p.shift, p.diffMin));
        break;
      }
      case BuiltinOperator.ADD: {
        const o = op.builtinOptions as Extract<BuiltinOptions, { kind: "AddOptions" }>;
        const x2 = values.get(op.inputs[1]) as number[];
        const q2 = quant(t(1));
        const twice = 2 * Math.max(iq.scale, q2.scale);
        const [m1, s1] = ref.refQuantizeMultiplier(iq.scale / twice);
        const [m2, s2] = ref.refQuantizeMultiplier(q2.scale / twice);
        const [mo, so] = ref.refQuantizeMultiplier(twice / ((1 << 20) * oq.scale));
        const [min, max] = actRange(o.fusedActivationFunction, oq.scale, oq.zp);
        const p = { leftShift: 20, input1Offset: -iq.zp, input1Multiplier: m1, input1Shift: s1, input2Offset: -q2.zp, input2Multiplier: m2, input2Shift: s2, outputOffset: oq.zp, outputMultiplier: mo, outputShift: so, activationMin: min, activationMax: max };
        y = x.map((v, i) => ref.addInt8(p, v, x2[i]));
        break;
      }
      case BuiltinOperator.RESHAPE:
        y = x.slice();
        break;
      default:
        throw new Error(`reference runner: op ${code}`);
    }
    values.set(op.outputs[0], y);
  }
  return g.outputs.map((o) => values.get(o) as number[]);
}

/**
 * The shape of the MLPerf Tiny anomaly-detection autoencoder (640 → 128 ×4 → 8 → 128 ×4 → 640,
 * fully connected with RELU), with random int8 weights: a size benchmark, not a trained model.
 */
export function autoencoderModel(seed = 4): TfliteModel {
  const m = new ModelBuilder(seed);
  const widths = [640, 128, 128, 128, 128, 8, 128, 128, 128, 128, 640];
  let x = m.activation("input", [1, 640], 0.05, -3);
  let inScale = 0.05;
  for (let layer = 1; layer < widths.length; layer++) {
    const last = layer === widths.length - 1;
    const outScale = 0.02 + 0.01 * (layer % 3);
    // A weight scale that keeps about 60 output steps of spread (|x − zp| ≈ 60 at the input, ≈ 30 after a RELU).
    const wScale = f(60 * outScale / (Math.sqrt(widths[layer - 1]) * 73 * (layer === 1 ? 60 : 30) * inScale));
    const w = m.weights(`dense_${layer}/kernel`, [widths[layer], widths[layer - 1]], [wScale]);
    const b = m.bias(`dense_${layer}/bias`, widths[layer], [f(inScale) * wScale], 2000);
    const y = m.activation(`dense_${layer}/out`, [1, widths[layer]], outScale, last ? 0 : -128);
    m.op(BuiltinOperator.FULLY_CONNECTED, [x, w, b], [y], fcOptions(last ? 0 : 1));
    x = y;
    inScale = outScale;
  }
  return m.build([0], [x], "autoencoder-shaped benchmark");
}

/** Asserts that the firmware interpreter on `module` gives exactly the reference runner's output for `bytes` on every window. */
export function assertMatchesReference(bytes: Uint8Array, module: ModelModule, windows: readonly Int8Array[]): void {
  const desc = readTflite(bytes);
  const net = new Interpreter(module);
  for (const q of windows) {
    net.input().set(q);
    net.invoke();
    assert.deepEqual(Array.from(net.output()), referenceRun(desc, Array.from(q))[0]);
  }
}
