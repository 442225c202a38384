// Imports an int8 .tflite model into a firmware model module.
//
//   npm run model:import -- <model.tflite> [--out firmware/src/ml/models/<name>.ts] [--name <name>]
//
// Reads the FlatBuffer (tflite-reader.ts), checks that every operator, tensor
// type, shape and option is one the firmware kernels support (a clear error
// names the operator index, its opcode and the tensor otherwise), turns the
// float scales into the integer parameters TFLM's Prepare functions would
// compute (quantize-scale.ts), and writes a TypeScript module of frozen constant
// tables for firmware/src/ml/interpreter.ts.
//
// Output format: plain objects and arrays under Object.freeze, small integer
// arrays as `Int8Array.from([...])`/`Int32Array.from([...])` literals and larger
// ones as base64 strings decoded when the module body runs
// (firmware/src/ml/model-data.ts). List the module under "preload" in the
// Moddable manifest: the XS linker then runs the body at build time and links
// the frozen objects and the decoded typed arrays into flash (read-only; no RAM
// for weights). Not preloaded, the same tables are built in RAM at start-up.

import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { basename, dirname, relative, resolve, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { planArena } from "../../firmware/src/ml/interpreter.ts";
import {
  MODEL_FORMAT, OP_ADD, OP_CONV_2D, OP_DEPTHWISE_CONV_2D, OP_FULLY_CONNECTED, OP_LOGISTIC, OP_RELU, OP_RELU6, OP_RESHAPE,
  OP_SOFTMAX, OP_TANH, TENSOR_INT32, TENSOR_INT8,
} from "../../firmware/src/ml/model.ts";
import type { ModelModule, OperatorSpec, TensorSpec } from "../../firmware/src/ml/model.ts";
import {
  activationRange, addParams, biasScaleMismatch, convPadding, fullyConnectedMultiplier, logisticParams, perChannelMultipliers,
  relu6Params, reluParams, softmaxParams,
} from "./quantize-scale.ts";
import { readTflite } from "./tflite-reader.ts";
import type { BuiltinOptions, TfliteModel, TfliteTensor } from "./tflite-types.ts";
import { Activation, BuiltinOperator, Padding, TensorType, builtinOperatorName, tensorTypeName } from "./tflite-types.ts";

/** The model uses something the firmware kernels do not support, or is inconsistent. */
export class ModelImportError extends Error {
  override name = "ModelImportError";
}

/** Operators the importer accepts. */
export const SUPPORTED_OPERATORS = ["ADD", "CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "LOGISTIC", "RELU", "RELU6", "RESHAPE", "SOFTMAX", "TANH"];

const f32Bits = new Uint32Array(1);
const f32 = new Float32Array(f32Bits.buffer);

function floatBits(x: number): number {
  f32[0] = x;
  return f32Bits[0];
}

function elements(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Converts a parsed .tflite model into a firmware model module (in memory). */
export function convertTflite(model: TfliteModel, name: string): ModelModule {
  if (model.subgraphs.length !== 1) throw new ModelImportError(`model has ${model.subgraphs.length} subgraphs; only single-subgraph models are supported`);
  const graph = model.subgraphs[0];
  const tensors = graph.tensors;

  // Tensors the module keeps, old index → new index.
  const keep = new Map<number, number>();
  const kept: TensorSpec[] = [];
  const operators: OperatorSpec[] = [];

  const dataOf = (t: TfliteTensor): Uint8Array => model.buffers[t.buffer] ?? new Uint8Array(0);
  const isConstant = (t: TfliteTensor): boolean => t.buffer > 0 && dataOf(t).length > 0;

  graph.operators.forEach((op, i) => {
    const code = model.operatorCodes[op.opcodeIndex];
    if (!code) throw new ModelImportError(`operator ${i}: opcode index ${op.opcodeIndex} is not in operator_codes`);
    const opName = code.builtinCode === BuiltinOperator.CUSTOM ? `CUSTOM "${code.customCode ?? ""}"` : builtinOperatorName(code.builtinCode);
    const where = `operator ${i} (${opName})`;
    const fail = (message: string): never => {
      throw new ModelImportError(`${where}: ${message}`);
    };
    const tensorAt = (index: number | undefined, role: string): TfliteTensor => {
      if (index === undefined || index < 0 || index >= tensors.length) fail(`${role} tensor index ${index} is missing or out of range`);
      return tensors[index as number];
    };
    const describe = (index: number, role: string): string => `${role} tensor ${index} "${tensors[index].name}"`;
    const checkShape = (index: number, role: string): void => {
      const t = tensors[index];
      if (t.shape.some((d) => !Number.isInteger(d) || d <= 0)) fail(`${describe(index, role)} has shape [${t.shape.join(", ")}]; only static shapes with positive dimensions are supported`);
    };
    const checkType = (index: number, role: string, type: number, what: string): void => {
      const t = tensors[index];
      if (t.type !== type) {
        const hint = t.type === TensorType.FLOAT32 ? "; quantize the whole model to int8 (inputs and outputs too)" : "";
        fail(`${describe(index, role)} is ${tensorTypeName(t.type)}, expected ${what}${hint}`);
      }
    };
    const scaleOf = (index: number, role: string): number => {
      const q = tensors[index].quantization;
      if (!q || q.scale.length !== 1 || !(q.scale[0] > 0)) fail(`${describe(index, role)} needs one positive per-tensor scale (has ${q ? `[${q.scale.join(", ")}]` : "none"})`);
      return (q as NonNullable<typeof q>).scale[0];
    };
    const zeroPointOf = (index: number): number => tensors[index].quantization?.zeroPoint[0] ?? 0;

    const add = (index: number, role: string): number => {
      const known = keep.get(index);
      if (known !== undefined) return known;
      const t = tensors[index];
      const spec: { -readonly [K in keyof TensorSpec]: TensorSpec[K] } = {
        name: t.name,
        shape: t.shape.slice(),
        type: t.type === TensorType.INT32 ? TENSOR_INT32 : TENSOR_INT8,
        zeroPoint: zeroPointOf(index),
        scaleBits: t.quantization && t.quantization.scale.length > 0 ? floatBits(t.quantization.scale[0]) : 0,
      };
      if (isConstant(t)) {
        const bytes = dataOf(t);
        const n = elements(t.shape);
        if (t.type === TensorType.INT8) {
          if (bytes.length !== n) fail(`${describe(index, role)} has ${bytes.length} bytes of data for ${n} int8 values`);
          spec.data = new Int8Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + n));
        } else {
          if (bytes.length !== 4 * n) fail(`${describe(index, role)} has ${bytes.length} bytes of data for ${n} int32 values`);
          const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
          spec.data = Int32Array.from({ length: n }, (_, k) => view.getInt32(4 * k, true));
        }
      }
      keep.set(index, kept.length);
      kept.push(spec);
      return kept.length - 1;
    };

    /** An int8 tensor with per-tensor quantization: an activation (or a constant operand of ADD). */
    const activation = (index: number | undefined, role: string, allowConstant = false): number => {
      const t = tensorAt(index, role);
      const k = index as number;
      checkType(k, role, TensorType.INT8, "INT8 (int8 activations)");
      checkShape(k, role);
      if (isConstant(t) && !allowConstant) fail(`${describe(k, role)} is a constant; expected an activation`);
      scaleOf(k, role);
      const zp = zeroPointOf(k);
      if (zp < -128 || zp > 127) fail(`${describe(k, role)} has zero point ${zp} outside int8`);
      return k;
    };
    const weights = (index: number | undefined, role: string): number => {
      const t = tensorAt(index, role);
      const k = index as number;
      checkType(k, role, TensorType.INT8, "INT8 weights");
      checkShape(k, role);
      if (!isConstant(t)) fail(`${describe(k, role)} has no data; weights must be constant`);
      const q = t.quantization;
      if (!q || q.scale.length === 0 || q.scale.some((s) => !(s > 0))) fail(`${describe(k, role)} needs positive scales`);
      return k;
    };
    const bias = (index: number | undefined, channels: number, role = "bias"): number | undefined => {
      if (index === undefined || index < 0) return undefined;
      const t = tensorAt(index, role);
      checkType(index, role, TensorType.INT32, "INT32 bias");
      if (!isConstant(t)) fail(`${describe(index, role)} has no data; the bias must be constant`);
      if (elements(t.shape) !== channels) fail(`${describe(index, role)} has ${elements(t.shape)} values for ${channels} output channels`);
      return index;
    };
    const options = <K extends BuiltinOptions["kind"]>(kind: K): Extract<BuiltinOptions, { kind: K }> => {
      const o = op.builtinOptions;
      if (!o || o.kind !== kind) fail(`missing ${kind}`);
      return o as Extract<BuiltinOptions, { kind: K }>;
    };
    const fused = (activationCode: number, outIndex: number): { min: number; max: number } => {
      if (activationCode !== Activation.NONE && activationCode !== Activation.RELU && activationCode !== Activation.RELU6 && activationCode !== Activation.RELU_N1_TO_1) {
        fail(`fused activation ${activationCode} is not supported (NONE, RELU, RELU_N1_TO_1, RELU6 are)`);
      }
      return activationRange(activationCode, scaleOf(outIndex, "output"), zeroPointOf(outIndex));
    };
    const sameQuantization = (a: number, b: number): void => {
      if (scaleOf(a, "input") !== scaleOf(b, "output") || zeroPointOf(a) !== zeroPointOf(b)) {
        fail(`${describe(b, "output")} must have the quantization of ${describe(a, "input")} (scale ${scaleOf(a, "input")}, zero point ${zeroPointOf(a)})`);
      }
    };
    const oneOutput = (): number => {
      if (op.outputs.length !== 1) fail(`has ${op.outputs.length} outputs, expected 1`);
      return activation(op.outputs[0], "output");
    };
    const finish = (spec: OperatorSpec): void => {
      operators.push(spec);
    };

    switch (code.builtinCode) {
      case BuiltinOperator.FULLY_CONNECTED: {
        const o = options("FullyConnectedOptions");
        if (o.weightsFormat !== 0) fail(`weights format ${o.weightsFormat} is not supported (only DEFAULT)`);
        const out = oneOutput();
        const input = activation(op.inputs[0], "input");
        const w = weights(op.inputs[1], "weights");
        const wShape = tensors[w].shape;
        const outShape = tensors[out].shape;
        const outputDepth = outShape[outShape.length - 1];
        if (wShape.length !== 2 || wShape[0] !== outputDepth) fail(`${describe(w, "weights")} has shape [${wShape.join(", ")}], expected [${outputDepth}, depth]`);
        const accumDepth = wShape[1];
        const batches = elements(outShape) / outputDepth;
        if (elements(tensors[input].shape) !== batches * accumDepth) fail(`${describe(input, "input")} has ${elements(tensors[input].shape)} values, expected ${batches} × ${accumDepth}`);
        const b = bias(op.inputs[2], outputDepth);
        const wq = tensors[w].quantization as NonNullable<TfliteTensor["quantization"]>;
        const inScale = scaleOf(input, "input");
        const outScale = scaleOf(out, "output");
        const perChannel = wq.scale.length > 1;
        let multipliers: Int32Array;
        let shifts: Int32Array;
        if (perChannel) {
          if (wq.scale.length !== outputDepth || wq.quantizedDimension !== 0) fail(`${describe(w, "weights")} has ${wq.scale.length} scales on dimension ${wq.quantizedDimension}; per-channel weights need ${outputDepth} on dimension 0`);
          if (wq.zeroPoint.some((z) => z !== 0)) fail(`${describe(w, "weights")} has nonzero zero points; per-channel weights must be symmetric`);
          ({ multipliers, shifts } = perChannelMultipliers(inScale, wq.scale, outScale, outputDepth));
        } else {
          if (b !== undefined && tensors[b].quantization && tensors[b].quantization.scale.length > 0) {
            const mismatch = biasScaleMismatch(inScale, wq.scale[0], tensors[b].quantization.scale[0], outScale);
            if (mismatch > 0.02) fail(`${describe(b, "bias")} scale differs from input scale × weight scale by ${mismatch.toFixed(3)} output steps (TFLM allows 0.02)`);
          }
          const q = fullyConnectedMultiplier(inScale, wq.scale[0], outScale);
          multipliers = Int32Array.of(q.multiplier);
          shifts = Int32Array.of(q.shift);
        }
        const range = fused(o.fusedActivationFunction, out);
        finish({
          op: OP_FULLY_CONNECTED,
          inputs: b === undefined ? [add(input, "input"), add(w, "weights")] : [add(input, "input"), add(w, "weights"), add(b, "bias")],
          outputs: [add(out, "output")],
          params: {
            inputOffset: 0 - zeroPointOf(input), weightsOffset: 0 - zeroPointOf(w), outputOffset: zeroPointOf(out),
            multipliers, shifts, perChannel, activationMin: range.min, activationMax: range.max,
          },
        });
        break;
      }
      case BuiltinOperator.CONV_2D:
      case BuiltinOperator.DEPTHWISE_CONV_2D: {
        const depthwise = code.builtinCode === BuiltinOperator.DEPTHWISE_CONV_2D;
        const o = depthwise ? options("DepthwiseConv2DOptions") : options("Conv2DOptions");
        const out = oneOutput();
        const input = activation(op.inputs[0], "input");
        const w = weights(op.inputs[1], "weights");
        const inShape = tensors[input].shape;
        const wShape = tensors[w].shape;
        const outShape = tensors[out].shape;
        if (inShape.length !== 4 || wShape.length !== 4 || outShape.length !== 4) fail(`input, weights and output must be 4-D NHWC (a 1-D convolution has height 1); got [${inShape.join(", ")}], [${wShape.join(", ")}], [${outShape.join(", ")}]`);
        const [batches, inH, inW, inC] = inShape;
        const outC = outShape[3];
        let depthMultiplier = 1;
        if (depthwise) {
          if (wShape[0] !== 1 || wShape[3] !== outC) fail(`${describe(w, "weights")} has shape [${wShape.join(", ")}], expected [1, fh, fw, ${outC}]`);
          if (outC % inC !== 0) fail(`output depth ${outC} is not a multiple of input depth ${inC}`);
          depthMultiplier = outC / inC;
          const declared = (o as { depthMultiplier: number }).depthMultiplier;
          if (declared !== 0 && declared !== depthMultiplier) fail(`depth_multiplier ${declared} does not match output depth ${outC} / input depth ${inC}`);
        } else {
          if (wShape[0] !== outC) fail(`${describe(w, "weights")} has ${wShape[0]} filters for output depth ${outC}`);
          if (wShape[3] !== inC) fail(`${describe(w, "weights")} has input depth ${wShape[3]}, input has ${inC}; grouped convolution is not supported`);
        }
        if (outShape[0] !== batches) fail(`output batches ${outShape[0]} differ from input batches ${batches}`);
        if (o.strideH < 1 || o.strideW < 1 || o.dilationHFactor < 1 || o.dilationWFactor < 1) fail(`strides (${o.strideH}, ${o.strideW}) and dilations (${o.dilationHFactor}, ${o.dilationWFactor}) must be ≥ 1`);
        if (o.padding !== Padding.SAME && o.padding !== Padding.VALID) fail(`padding ${o.padding} is not SAME or VALID`);
        const ph = convPadding(o.padding, inH, wShape[1], o.strideH, o.dilationHFactor);
        const pw = convPadding(o.padding, inW, wShape[2], o.strideW, o.dilationWFactor);
        if (ph.outputSize !== outShape[1] || pw.outputSize !== outShape[2]) fail(`${describe(out, "output")} is ${outShape[1]}×${outShape[2]}, the options give ${ph.outputSize}×${pw.outputSize}`);
        const wq = tensors[w].quantization as NonNullable<TfliteTensor["quantization"]>;
        const channelDim = depthwise ? 3 : 0;
        if (wq.scale.length !== 1 && (wq.scale.length !== outC || wq.quantizedDimension !== channelDim)) fail(`${describe(w, "weights")} has ${wq.scale.length} scales on dimension ${wq.quantizedDimension}; expected 1 or ${outC} on dimension ${channelDim}`);
        if (wq.zeroPoint.some((z) => z !== 0)) fail(`${describe(w, "weights")} has nonzero zero points; int8 convolution weights must be symmetric`);
        const b = bias(op.inputs[2], outC);
        const { multipliers, shifts } = perChannelMultipliers(scaleOf(input, "input"), wq.scale, scaleOf(out, "output"), outC);
        const range = fused(o.fusedActivationFunction, out);
        const params = {
          strideHeight: o.strideH, strideWidth: o.strideW, dilationHeight: o.dilationHFactor, dilationWidth: o.dilationWFactor,
          padHeight: ph.pad, padWidth: pw.pad, inputOffset: 0 - zeroPointOf(input), outputOffset: zeroPointOf(out),
          multipliers, shifts, activationMin: range.min, activationMax: range.max,
        };
        const inputs = b === undefined ? [add(input, "input"), add(w, "weights")] : [add(input, "input"), add(w, "weights"), add(b, "bias")];
        const outputs = [add(out, "output")];
        if (depthwise) finish({ op: OP_DEPTHWISE_CONV_2D, inputs, outputs, params: { ...params, depthMultiplier } });
        else finish({ op: OP_CONV_2D, inputs, outputs, params });
        break;
      }
      case BuiltinOperator.RELU:
      case BuiltinOperator.RELU6:
      case BuiltinOperator.LOGISTIC:
      case BuiltinOperator.TANH:
      case BuiltinOperator.SOFTMAX:
      case BuiltinOperator.RESHAPE: {
        const out = oneOutput();
        const input = activation(op.inputs[0], "input");
        if (elements(tensors[input].shape) !== elements(tensors[out].shape)) fail(`${describe(input, "input")} has ${elements(tensors[input].shape)} values, ${describe(out, "output")} ${elements(tensors[out].shape)}`);
        const inputs = [add(input, "input")];
        const outputs = [add(out, "output")];
        const inScale = scaleOf(input, "input");
        const outScale = scaleOf(out, "output");
        const inZp = zeroPointOf(input);
        const outZp = zeroPointOf(out);
        const requireOutput = (scale: number, zeroPoint: number, text: string): void => {
          if (outScale !== scale || outZp !== zeroPoint) fail(`${describe(out, "output")} has scale ${outScale} and zero point ${outZp}; int8 ${opName} needs ${text}`);
        };
        switch (code.builtinCode) {
          case BuiltinOperator.RELU:
            finish({ op: OP_RELU, inputs, outputs, params: reluParams(inScale, inZp, outScale, outZp) });
            break;
          case BuiltinOperator.RELU6:
            sameQuantization(input, out);
            finish({ op: OP_RELU6, inputs, outputs, params: relu6Params(inScale, inZp) });
            break;
          case BuiltinOperator.LOGISTIC:
            requireOutput(1 / 256, -128, "scale 1/256 and zero point -128");
            finish({ op: OP_LOGISTIC, inputs, outputs, params: logisticParams(inScale, inZp) });
            break;
          case BuiltinOperator.TANH:
            requireOutput(1 / 128, 0, "scale 1/128 and zero point 0");
            finish({ op: OP_TANH, inputs, outputs, params: logisticParams(inScale, inZp) });
            break;
          case BuiltinOperator.SOFTMAX: {
            requireOutput(1 / 256, -128, "scale 1/256 and zero point -128");
            const beta = options("SoftmaxOptions").beta;
            if (!(beta > 0)) fail(`beta ${beta} must be positive`);
            finish({ op: OP_SOFTMAX, inputs, outputs, params: softmaxParams(beta, inScale) });
            break;
          }
          default:
            sameQuantization(input, out);
            finish({ op: OP_RESHAPE, inputs, outputs });
        }
        break;
      }
      case BuiltinOperator.ADD: {
        const o = options("AddOptions");
        const out = oneOutput();
        const a = activation(op.inputs[0], "input 1", true);
        const b = activation(op.inputs[1], "input 2", true);
        const shapes = [tensors[a].shape, tensors[b].shape, tensors[out].shape].map((s) => s.join(","));
        if (shapes[0] !== shapes[1] || shapes[0] !== shapes[2]) fail(`inputs [${shapes[0]}] and [${shapes[1]}] and output [${shapes[2]}] must have the same shape; broadcasting is not supported`);
        fused(o.fusedActivationFunction, out); // rejects unsupported fused activations with a clear message
        const params = addParams(scaleOf(a, "input 1"), zeroPointOf(a), scaleOf(b, "input 2"), zeroPointOf(b), scaleOf(out, "output"), zeroPointOf(out), o.fusedActivationFunction);
        finish({ op: OP_ADD, inputs: [add(a, "input 1"), add(b, "input 2")], outputs: [add(out, "output")], params });
        break;
      }
      default: {
        const output = op.outputs.length > 0 && op.outputs[0] >= 0 && op.outputs[0] < tensors.length ? `, output tensor ${op.outputs[0]} "${tensors[op.outputs[0]].name}"` : "";
        fail(`not supported (builtin code ${code.builtinCode}${output}); supported operators: ${SUPPORTED_OPERATORS.join(", ")}`);
      }
    }
  });

  const io = (indices: number[], role: string): number[] => indices.map((index) => {
    const t = tensors[index];
    if (!t) throw new ModelImportError(`model ${role} tensor index ${index} is out of range`);
    if (t.type !== TensorType.INT8) throw new ModelImportError(`model ${role} tensor ${index} "${t.name}" is ${tensorTypeName(t.type)}; model inputs and outputs must be INT8`);
    const k = keep.get(index);
    if (k === undefined) throw new ModelImportError(`model ${role} tensor ${index} "${t.name}" is not used by any operator`);
    return k;
  });
  const inputs = io(graph.inputs, "input");
  const outputs = io(graph.outputs, "output");
  return { format: MODEL_FORMAT, name, tensors: kept, operators, inputs, outputs };
}

/** Bytes of constant data in a module: weights, biases, multipliers and shifts. */
export function constantBytes(module: ModelModule): number {
  let n = 0;
  for (const t of module.tensors) if (t.data) n += t.data.byteLength;
  for (const op of module.operators) {
    if (op.params && "multipliers" in op.params) n += op.params.multipliers.byteLength + op.params.shifts.byteLength;
  }
  return n;
}

const LITERAL_LIMIT = 64;

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

function int32LittleEndian(values: Int32Array): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setInt32(4 * i, v, true));
  return out;
}

function renderTypedArray(values: Int8Array | Int32Array): string {
  const int8 = values instanceof Int8Array;
  if (values.length <= LITERAL_LIMIT) return `${int8 ? "Int8Array" : "Int32Array"}.from([${Array.from(values).join(", ")}])`;
  return int8 ? `int8FromBase64("${base64(new Uint8Array(values.buffer, values.byteOffset, values.length))}")` : `int32FromBase64("${base64(int32LittleEndian(values))}")`;
}

function renderValue(value: unknown): string {
  if (value instanceof Int8Array || value instanceof Int32Array) return renderTypedArray(value);
  if (Array.isArray(value)) return `freeze([${value.map((v) => renderValue(v)).join(", ")}])`;
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    // Float32 bit patterns read best in hex.
    return `freeze({ ${entries.map(([k, v]) => `${k}: ${k === "scaleBits" ? `0x${(v as number).toString(16).padStart(8, "0")}` : renderValue(v)}`).join(", ")} })`;
  }
  if (typeof value === "number") {
    if (!Number.isInteger(value)) throw new Error(`non-integer ${value} in a model module`);
    return String(value);
  }
  return JSON.stringify(value);
}

/** Options of `renderModelModule`. */
export interface RenderOptions {
  /** Where the module will be written; import paths to firmware/src/ml are made relative to it. */
  outPath: string;
  /** The .tflite file it came from, for the header. */
  source?: string;
  /** Extra header lines. */
  notes?: string[];
}

const ML_DIR = fileURLToPath(new URL("../../firmware/src/ml/", import.meta.url));

/** TypeScript source of a model module (see the header of this file for the format). */
export function renderModelModule(module: ModelModule, options: RenderOptions): string {
  let rel = relative(dirname(resolve(options.outPath)), ML_DIR).split(sep).join("/");
  if (!rel.startsWith(".")) rel = rel === "" ? "." : `./${rel}`;
  const plan = planArena(module);
  const opNames: Record<number, string> = {
    [OP_ADD]: "ADD", [OP_CONV_2D]: "CONV_2D", [OP_DEPTHWISE_CONV_2D]: "DEPTHWISE_CONV_2D", [OP_FULLY_CONNECTED]: "FULLY_CONNECTED",
    [OP_LOGISTIC]: "LOGISTIC", [OP_RELU]: "RELU", [OP_RELU6]: "RELU6", [OP_RESHAPE]: "RESHAPE", [OP_SOFTMAX]: "SOFTMAX", [OP_TANH]: "TANH",
  };
  const shape = (t: number): string => `[${module.tensors[t].shape.join("×")}]`;
  const lines: string[] = [];
  lines.push(`// Model "${module.name}": int8 tables for firmware/src/ml/interpreter.ts.`);
  lines.push(`// Generated by scripts/ml/model-import.ts${options.source ? ` from ${basename(options.source)}` : ""}; do not edit, re-import instead.`);
  for (const note of options.notes ?? []) lines.push(`// ${note}`);
  lines.push("//");
  module.operators.forEach((op, i) => {
    lines.push(`// ${String(i).padStart(2)} ${opNames[op.op].padEnd(17)} ${op.inputs.filter((t) => t >= 0).map(shape).join(" ")} → ${op.outputs.map(shape).join(" ")}`);
  });
  lines.push(`// Arena ${plan.arenaBytes} bytes; constant data ${constantBytes(module)} bytes.`);
  lines.push("//");
  lines.push("// Preload this module (manifest \"preload\") so XS builds these frozen tables and typed arrays at");
  lines.push("// build time and links them into flash; otherwise they are built in RAM when the module loads.");
  lines.push("");
  lines.push(`import type { ModelModule } from "${rel}/model.ts";`);
  const source = module.tensors.map((t) => renderValue(t)).concat(module.operators.map((o) => renderValue(o))).join("\n");
  const needs8 = source.includes("int8FromBase64(");
  const needs32 = source.includes("int32FromBase64(");
  if (needs8 || needs32) lines.push(`import { ${[needs32 ? "int32FromBase64" : "", needs8 ? "int8FromBase64" : ""].filter(Boolean).join(", ")} } from "${rel}/model-data.ts";`);
  lines.push("");
  lines.push("const freeze = Object.freeze;");
  lines.push("");
  lines.push("export const model: ModelModule = freeze({");
  lines.push(`  format: ${module.format},`);
  lines.push(`  name: ${JSON.stringify(module.name)},`);
  lines.push("  tensors: freeze([");
  for (const t of module.tensors) lines.push(`    ${renderValue(t)},`);
  lines.push("  ]),");
  lines.push("  operators: freeze([");
  for (const o of module.operators) lines.push(`    ${renderValue(o)},`);
  lines.push("  ]),");
  lines.push(`  inputs: ${renderValue(module.inputs)},`);
  lines.push(`  outputs: ${renderValue(module.outputs)},`);
  lines.push("});");
  lines.push("");
  lines.push("export default model;");
  lines.push("");
  return lines.join("\n");
}

/** Result of `importTflite`. */
export interface ImportResult {
  module: ModelModule;
  source: string;
  arenaBytes: number;
  constantBytes: number;
}

/** .tflite bytes → model module object and its TypeScript source. */
export function importTflite(bytes: Uint8Array, options: { name: string; outPath: string; source?: string }): ImportResult {
  const module = convertTflite(readTflite(bytes), options.name);
  const source = renderModelModule(module, { outPath: options.outPath, source: options.source, notes: [`Source model: ${bytes.length} bytes.`] });
  return { module, source, arenaBytes: planArena(module).arenaBytes, constantBytes: constantBytes(module) };
}

function moduleName(path: string): string {
  return basename(path).replace(/\.tflite$/i, "").toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "") || "model";
}

function main(argv: string[]): number {
  let input: string | undefined;
  let out: string | undefined;
  let name: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--out") out = argv[++i];
    else if (arg === "--name") name = argv[++i];
    else if (arg === "--help" || arg === "-h") input = undefined;
    else if (!input && !arg.startsWith("--")) input = arg;
    else {
      process.stderr.write(`unknown argument ${arg}\n`);
      return 2;
    }
  }
  if (!input) {
    process.stderr.write("usage: npm run model:import -- <model.tflite> [--out firmware/src/ml/models/<name>.ts] [--name <name>]\n");
    return 2;
  }
  const modelName = name ?? moduleName(input);
  const outPath = out ?? resolve(ML_DIR, "models", `${modelName}.ts`);
  try {
    const bytes = new Uint8Array(readFileSync(input));
    const result = importTflite(bytes, { name: modelName, outPath, source: input });
    mkdirSync(dirname(outPath), { recursive: true });
    writeFileSync(outPath, result.source);
    process.stdout.write(`${outPath}: ${result.module.operators.length} operators, arena ${result.arenaBytes} bytes, constant data ${result.constantBytes} bytes, source ${result.source.length} bytes\n`);
    return 0;
  } catch (error) {
    process.stderr.write(`model:import ${input}: ${(error as Error).message}\n`);
    return 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) process.exitCode = main(process.argv.slice(2));
