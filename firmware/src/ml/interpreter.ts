// Runs a model module (see model.ts) with every activation tensor in one
// preallocated arena.
//
// At load time a lifetime-based planner gives each activation buffer an offset
// in the arena (buffers whose lifetimes overlap never share bytes; a Reshape's
// output is the same buffer as its input), the interpreter creates one typed
// array view per tensor and one prepared step per operator. `invoke()` then
// only calls the kernels on those views: it allocates nothing.
//
// Lifetimes are measured in operator indices: a buffer lives from the operator
// that writes it to the last operator that reads it; model inputs live from
// before the first operator, model outputs until after the last. This is the
// same idea as TFLM's GreedyMemoryPlanner (largest buffers placed first, each at
// the lowest offset that does not overlap a live buffer), not its code.

import { divTrunc } from "../dsp/q.ts";
import { addInt8 } from "./add.ts";
import { logisticInt8, relu, relu6, tanhInt8 } from "./activations.ts";
import { conv2d, depthwiseConv2d, type ConvShape } from "./conv.ts";
import { fullyConnected } from "./fully-connected.ts";
import {
  MODEL_FORMAT, OP_ADD, OP_CONV_2D, OP_DEPTHWISE_CONV_2D, OP_FULLY_CONNECTED, OP_LOGISTIC, OP_RELU, OP_RELU6,
  OP_RESHAPE, OP_SOFTMAX, OP_TANH, TENSOR_INT32, TENSOR_INT8,
} from "./model.ts";
import type {
  AddParams, ConvParams, DepthwiseConvParams, FullyConnectedParams, LogisticParams, ModelModule, Relu6Params,
  ReluParams, SoftmaxParams, TensorSpec,
} from "./model.ts";
import { reshape } from "./reshape.ts";
import { softmaxInt8 } from "./softmax.ts";

/** Byte alignment of every buffer in the arena. */
export const ARENA_ALIGNMENT = 4;

/** Where each activation tensor lives in the arena. */
export interface ArenaPlan {
  /** Arena size in bytes. */
  readonly arenaBytes: number;
  /** Byte offset of each tensor; −1 for constant tensors (and reshapes of constants). */
  readonly offsets: readonly number[];
}

function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (let i = 0; i < shape.length; i++) n = Math.imul(n, shape[i]);
  return n;
}

function alignUp(n: number): number {
  return (n + ARENA_ALIGNMENT - 1) & -ARENA_ALIGNMENT;
}

function fail(model: ModelModule, opIndex: number, message: string): never {
  const where = opIndex < 0 ? `model "${model.name}"` : `model "${model.name}" operator ${opIndex} (code ${model.operators[opIndex].op})`;
  throw new Error(`${where}: ${message}`);
}

// Root buffer of each tensor: itself, or for a reshape output, its input's root.
function bufferRoots(model: ModelModule): number[] {
  const roots: number[] = [];
  for (let t = 0; t < model.tensors.length; t++) roots.push(t);
  for (const op of model.operators) {
    if (op.op === OP_RESHAPE && op.inputs[0] >= 0) roots[op.outputs[0]] = roots[op.inputs[0]];
  }
  return roots;
}

/** Plans the arena of a model: sizes, lifetimes, offsets. Runs once, at load time. */
export function planArena(model: ModelModule): ArenaPlan {
  const tensors = model.tensors;
  const roots = bufferRoots(model);
  const count = tensors.length;
  const last = model.operators.length;
  const first: number[] = [];
  const lastUse: number[] = [];
  for (let t = 0; t < count; t++) {
    first.push(last + 1);
    lastUse.push(-2);
  }
  const touch = (t: number, time: number): void => {
    if (t < 0) return;
    const r = roots[t];
    if (tensors[r].data !== undefined) return;
    if (time < first[r]) first[r] = time;
    if (time > lastUse[r]) lastUse[r] = time;
  };
  for (const t of model.inputs) touch(t, -1);
  for (const t of model.outputs) touch(t, last);
  model.operators.forEach((op, i) => {
    for (const t of op.inputs) touch(t, i);
    for (const t of op.outputs) touch(t, i);
  });

  const buffers: number[] = [];
  for (let t = 0; t < count; t++) if (roots[t] === t && lastUse[t] >= first[t]) buffers.push(t);
  const size = (t: number): number => alignUp(elementCount(tensors[t].shape));
  buffers.sort((a, b) => size(b) - size(a) || first[a] - first[b] || a - b);

  const offset: number[] = new Array<number>(count).fill(-1);
  const placed: number[] = [];
  let arenaBytes = 0;
  for (const b of buffers) {
    const live = placed
      .filter((p) => first[p] <= lastUse[b] && first[b] <= lastUse[p])
      .sort((p, q) => offset[p] - offset[q]);
    let candidate = 0;
    for (const p of live) {
      if (candidate + size(b) <= offset[p]) break;
      candidate = Math.max(candidate, offset[p] + size(p));
    }
    offset[b] = candidate;
    placed.push(b);
    arenaBytes = Math.max(arenaBytes, candidate + size(b));
  }
  const offsets = roots.map((r) => offset[r]);
  return { arenaBytes, offsets };
}

/** Options of `new Interpreter`. */
export interface InterpreterOptions {
  /** Arena to use (at least `planArena(model).arenaBytes` long); default: a new ArrayBuffer. */
  arena?: ArrayBuffer;
}

type TensorView = Int8Array | Int32Array;

interface FullyConnectedStep { op: typeof OP_FULLY_CONNECTED; params: FullyConnectedParams; input: Int8Array; filter: Int8Array; bias: Int32Array | null; output: Int8Array; batches: number; outputDepth: number; accumDepth: number }
interface ConvStep { op: typeof OP_CONV_2D; params: ConvParams; shape: ConvShape; input: Int8Array; filter: Int8Array; bias: Int32Array | null; output: Int8Array }
interface DepthwiseStep { op: typeof OP_DEPTHWISE_CONV_2D; params: DepthwiseConvParams; shape: ConvShape; input: Int8Array; filter: Int8Array; bias: Int32Array | null; output: Int8Array }
interface ReluStep { op: typeof OP_RELU; params: ReluParams; input: Int8Array; output: Int8Array; size: number }
interface Relu6Step { op: typeof OP_RELU6; params: Relu6Params; input: Int8Array; output: Int8Array; size: number }
interface LogisticStep { op: typeof OP_LOGISTIC | typeof OP_TANH; params: LogisticParams; input: Int8Array; output: Int8Array; size: number }
interface SoftmaxStep { op: typeof OP_SOFTMAX; params: SoftmaxParams; input: Int8Array; output: Int8Array; outerSize: number; depth: number }
interface AddStep { op: typeof OP_ADD; params: AddParams; input1: Int8Array; input2: Int8Array; output: Int8Array; size: number }
interface ReshapeStep { op: typeof OP_RESHAPE; input: Int8Array; output: Int8Array; size: number }
type Step = FullyConnectedStep | ConvStep | DepthwiseStep | ReluStep | Relu6Step | LogisticStep | SoftmaxStep | AddStep | ReshapeStep;

/** An int8 model ready to run: `input(i)` → `invoke()` → `output(i)`. */
export class Interpreter {
  /** The model module. */
  readonly model: ModelModule;
  /** Bytes of the activation arena, from the planner. */
  readonly arenaBytes: number;
  /** The arena holding every activation tensor. */
  readonly arena: ArrayBuffer;
  /** One view per tensor: into the arena for activations, the constant data otherwise. */
  readonly views: readonly TensorView[];
  readonly #inputs: Int8Array[];
  readonly #outputs: Int8Array[];
  readonly #steps: Step[];

  constructor(model: ModelModule, options: InterpreterOptions = {}) {
    if (model.format !== MODEL_FORMAT) fail(model, -1, `model format ${model.format}, this interpreter reads format ${MODEL_FORMAT}`);
    this.model = model;
    const plan = planArena(model);
    this.arenaBytes = plan.arenaBytes;
    const arena = options.arena ?? new ArrayBuffer(plan.arenaBytes);
    if (arena.byteLength < plan.arenaBytes) fail(model, -1, `arena of ${arena.byteLength} bytes, the plan needs ${plan.arenaBytes}`);
    this.arena = arena;

    const views: TensorView[] = [];
    model.tensors.forEach((t, i) => {
      const n = elementCount(t.shape);
      if (t.data !== undefined) {
        const wanted = t.type === TENSOR_INT8 ? t.data instanceof Int8Array : t.type === TENSOR_INT32 && t.data instanceof Int32Array;
        if (!wanted || t.data.length !== n) fail(model, -1, `constant tensor ${i} "${t.name}" does not hold ${n} values of type ${t.type}`);
        views.push(t.data);
      } else if (plan.offsets[i] < 0) {
        views.push(new Int8Array(0)); // never used: no operator reads or writes it
      } else {
        if (t.type !== TENSOR_INT8) fail(model, -1, `activation tensor ${i} "${t.name}" has type ${t.type}; only int8 activations are supported`);
        views.push(new Int8Array(arena, plan.offsets[i], n));
      }
    });
    // Reshapes of constants read the constant itself.
    for (const op of model.operators) if (op.op === OP_RESHAPE && plan.offsets[op.outputs[0]] < 0) views[op.outputs[0]] = views[op.inputs[0]];
    this.views = views;

    const activation = (opIndex: number, t: number, role: string): Int8Array => {
      const view = t >= 0 ? views[t] : undefined;
      if (!(view instanceof Int8Array)) fail(model, opIndex, `${role} tensor ${t} is not an int8 tensor`);
      return view;
    };
    const constant8 = (opIndex: number, t: number, role: string): Int8Array => {
      const view = activation(opIndex, t, role);
      if (model.tensors[t].data === undefined) fail(model, opIndex, `${role} tensor ${t} "${model.tensors[t].name}" must be constant`);
      return view;
    };
    const bias = (opIndex: number, t: number | undefined, channels: number): Int32Array | null => {
      if (t === undefined || t < 0) return null;
      const view = views[t];
      if (!(view instanceof Int32Array) || view.length !== channels) fail(model, opIndex, `bias tensor ${t} must be int32 with ${channels} values`);
      return view;
    };
    const shapeOf = (t: number): readonly number[] => model.tensors[t].shape;
    const sameSize = (opIndex: number, a: Int8Array, b: Int8Array): number => {
      if (a.length !== b.length) fail(model, opIndex, `input has ${a.length} values, output ${b.length}`);
      return a.length;
    };
    const perChannel = (opIndex: number, m: Int32Array, s: Int32Array, channels: number): void => {
      if (m.length !== channels || s.length !== channels) fail(model, opIndex, `needs ${channels} multipliers and shifts`);
    };

    const steps: Step[] = [];
    model.operators.forEach((op, i) => {
      const output = activation(i, op.outputs[0], "output");
      switch (op.op) {
        case OP_FULLY_CONNECTED: {
          const input = activation(i, op.inputs[0], "input");
          const filter = constant8(i, op.inputs[1], "weights");
          const fShape = shapeOf(op.inputs[1]);
          const oShape = shapeOf(op.outputs[0]);
          const outputDepth = oShape[oShape.length - 1];
          const accumDepth = fShape[fShape.length - 1];
          const batches = divTrunc(output.length, outputDepth);
          if (fShape.length !== 2 || fShape[0] !== outputDepth || filter.length !== outputDepth * accumDepth || input.length !== batches * accumDepth) {
            fail(model, i, `shapes do not fit: input ${input.length} values, weights [${fShape.join(", ")}], output [${oShape.join(", ")}]`);
          }
          const p = op.params;
          perChannel(i, p.multipliers, p.shifts, p.perChannel ? outputDepth : 1);
          steps.push({ op: op.op, params: p, input, filter, bias: bias(i, op.inputs[2], outputDepth), output, batches, outputDepth, accumDepth });
          break;
        }
        case OP_CONV_2D:
        case OP_DEPTHWISE_CONV_2D: {
          const input = activation(i, op.inputs[0], "input");
          const filter = constant8(i, op.inputs[1], "weights");
          const iShape = shapeOf(op.inputs[0]);
          const fShape = shapeOf(op.inputs[1]);
          const oShape = shapeOf(op.outputs[0]);
          if (iShape.length !== 4 || fShape.length !== 4 || oShape.length !== 4) fail(model, i, "convolution tensors must be 4-D (NHWC)");
          const shape: ConvShape = {
            batches: iShape[0], inputHeight: iShape[1], inputWidth: iShape[2], inputDepth: iShape[3],
            filterHeight: fShape[1], filterWidth: fShape[2],
            outputHeight: oShape[1], outputWidth: oShape[2], outputDepth: oShape[3],
          };
          if (oShape[0] !== iShape[0]) fail(model, i, "input and output batches differ");
          const b = bias(i, op.inputs[2], shape.outputDepth);
          perChannel(i, op.params.multipliers, op.params.shifts, shape.outputDepth);
          if (op.op === OP_CONV_2D) {
            if (fShape[0] !== shape.outputDepth || fShape[3] !== shape.inputDepth) fail(model, i, `weights [${fShape.join(", ")}] do not fit input depth ${shape.inputDepth} and output depth ${shape.outputDepth}`);
            steps.push({ op: op.op, params: op.params, shape, input, filter, bias: b, output });
          } else {
            if (fShape[0] !== 1 || fShape[3] !== shape.outputDepth || shape.outputDepth !== shape.inputDepth * op.params.depthMultiplier) {
              fail(model, i, `weights [${fShape.join(", ")}] do not fit input depth ${shape.inputDepth} × multiplier ${op.params.depthMultiplier}`);
            }
            steps.push({ op: op.op, params: op.params, shape, input, filter, bias: b, output });
          }
          break;
        }
        case OP_RELU: {
          const input = activation(i, op.inputs[0], "input");
          steps.push({ op: op.op, params: op.params, input, output, size: sameSize(i, input, output) });
          break;
        }
        case OP_RELU6: {
          const input = activation(i, op.inputs[0], "input");
          steps.push({ op: op.op, params: op.params, input, output, size: sameSize(i, input, output) });
          break;
        }
        case OP_LOGISTIC:
        case OP_TANH: {
          const input = activation(i, op.inputs[0], "input");
          steps.push({ op: op.op, params: op.params, input, output, size: sameSize(i, input, output) });
          break;
        }
        case OP_SOFTMAX: {
          const input = activation(i, op.inputs[0], "input");
          const shape = shapeOf(op.inputs[0]);
          const depth = shape[shape.length - 1];
          steps.push({ op: op.op, params: op.params, input, output, outerSize: divTrunc(sameSize(i, input, output), depth), depth });
          break;
        }
        case OP_ADD: {
          const input1 = activation(i, op.inputs[0], "input 1");
          const input2 = activation(i, op.inputs[1], "input 2");
          const size = sameSize(i, input1, output);
          sameSize(i, input2, output);
          steps.push({ op: op.op, params: op.params, input1, input2, output, size });
          break;
        }
        case OP_RESHAPE: {
          const input = activation(i, op.inputs[0], "input");
          steps.push({ op: op.op, input, output, size: sameSize(i, input, output) });
          break;
        }
        default:
          fail(model, i, "unsupported operator");
      }
    });
    this.#steps = steps;
    this.#inputs = model.inputs.map((t) => activation(-1, t, "model input"));
    this.#outputs = model.outputs.map((t) => activation(-1, t, "model output"));
  }

  /** Number of model inputs. */
  get inputCount(): number {
    return this.#inputs.length;
  }

  /** Number of model outputs. */
  get outputCount(): number {
    return this.#outputs.length;
  }

  /** The int8 view of model input `index`: write the quantized input here before `invoke()`. */
  input(index = 0): Int8Array {
    return this.#inputs[index];
  }

  /** The int8 view of model output `index`, valid after `invoke()` until the next one. */
  output(index = 0): Int8Array {
    return this.#outputs[index];
  }

  /** Runs every operator once. Allocates nothing. */
  invoke(): void {
    const steps = this.#steps;
    for (let i = 0; i < steps.length; i++) {
      const s = steps[i];
      switch (s.op) {
        case OP_FULLY_CONNECTED:
          fullyConnected(s.params, s.input, s.filter, s.bias, s.output, s.batches, s.outputDepth, s.accumDepth);
          break;
        case OP_CONV_2D:
          conv2d(s.params, s.shape, s.input, s.filter, s.bias, s.output);
          break;
        case OP_DEPTHWISE_CONV_2D:
          depthwiseConv2d(s.params, s.shape, s.input, s.filter, s.bias, s.output);
          break;
        case OP_RELU:
          relu(s.params, s.input, s.output, s.size);
          break;
        case OP_RELU6:
          relu6(s.params, s.input, s.output, s.size);
          break;
        case OP_LOGISTIC:
          logisticInt8(s.params, s.input, s.output, s.size);
          break;
        case OP_TANH:
          tanhInt8(s.params, s.input, s.output, s.size);
          break;
        case OP_SOFTMAX:
          softmaxInt8(s.params, s.input, s.output, s.outerSize, s.depth);
          break;
        case OP_ADD:
          addInt8(s.params, s.input1, s.input2, s.output, s.size);
          break;
        case OP_RESHAPE:
          reshape(s.input, s.output, s.size);
          break;
      }
    }
  }
}

/** Elements of a tensor (product of its shape). */
export function tensorElements(t: TensorSpec): number {
  return elementCount(t.shape);
}
