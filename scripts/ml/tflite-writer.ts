// Writes the in-memory model of tflite-types.ts as a .tflite FlatBuffer
// (identifier "TFL3", root table Model) with flatbuffers.Builder. Field slots
// follow the TFLite schema (tensorflow/compiler/mlir/lite/schema/schema.fbs).
// The training pipeline uses this to emit its quantized models; the tests use it
// to build known models. `readTflite(writeTflite(m))` gives back `m`.

import { Builder } from "flatbuffers";
import type { BuiltinOptions, TfliteModel, TfliteOperator, TfliteSubGraph, TfliteTensor } from "./tflite-types.ts";
import { BuiltinOptionsType } from "./tflite-types.ts";

type Offset = number;

function int32Vector(b: Builder, values: readonly number[]): Offset {
  b.startVector(4, values.length, 4);
  for (let i = values.length - 1; i >= 0; i--) b.addInt32(values[i]);
  return b.endVector();
}

function float32Vector(b: Builder, values: readonly number[]): Offset {
  b.startVector(4, values.length, 4);
  for (let i = values.length - 1; i >= 0; i--) b.addFloat32(values[i]);
  return b.endVector();
}

function int64Vector(b: Builder, values: readonly number[]): Offset {
  b.startVector(8, values.length, 8);
  for (let i = values.length - 1; i >= 0; i--) b.addInt64(BigInt(values[i]));
  return b.endVector();
}

function offsetVector(b: Builder, offsets: readonly Offset[]): Offset {
  b.startVector(4, offsets.length, 4);
  for (let i = offsets.length - 1; i >= 0; i--) b.addOffset(offsets[i]);
  return b.endVector();
}

// Buffer.data is declared (force_align: 16): the bytes start on a 16-byte boundary.
function alignedBytes(b: Builder, bytes: Uint8Array): Offset {
  b.startVector(1, bytes.length, 16);
  for (let i = bytes.length - 1; i >= 0; i--) b.addInt8(bytes[i]);
  return b.endVector();
}

function writeTensor(b: Builder, t: TfliteTensor): Offset {
  const shape = int32Vector(b, t.shape);
  const name = b.createString(t.name);
  let quantization = 0;
  if (t.quantization) {
    const q = t.quantization;
    const min = q.min ? float32Vector(b, q.min) : 0;
    const max = q.max ? float32Vector(b, q.max) : 0;
    const scale = float32Vector(b, q.scale);
    const zeroPoint = int64Vector(b, q.zeroPoint);
    b.startObject(7);
    if (min) b.addFieldOffset(0, min, 0);
    if (max) b.addFieldOffset(1, max, 0);
    b.addFieldOffset(2, scale, 0);
    b.addFieldOffset(3, zeroPoint, 0);
    b.addFieldInt32(6, q.quantizedDimension, 0);
    quantization = b.endObject();
  }
  b.startObject(5);
  b.addFieldOffset(0, shape, 0);
  b.addFieldInt8(1, t.type, 0);
  b.addFieldInt32(2, t.buffer, 0);
  b.addFieldOffset(3, name, 0);
  if (quantization) b.addFieldOffset(4, quantization, 0);
  return b.endObject();
}

// Writes the options table; returns [union type code, offset].
function writeOptions(b: Builder, o: BuiltinOptions): [number, Offset] {
  switch (o.kind) {
    case "Conv2DOptions":
      b.startObject(7);
      b.addFieldInt8(0, o.padding, 0);
      b.addFieldInt32(1, o.strideW, 0);
      b.addFieldInt32(2, o.strideH, 0);
      b.addFieldInt8(3, o.fusedActivationFunction, 0);
      b.addFieldInt32(4, o.dilationWFactor, 1);
      b.addFieldInt32(5, o.dilationHFactor, 1);
      return [BuiltinOptionsType.Conv2DOptions, b.endObject()];
    case "DepthwiseConv2DOptions":
      b.startObject(7);
      b.addFieldInt8(0, o.padding, 0);
      b.addFieldInt32(1, o.strideW, 0);
      b.addFieldInt32(2, o.strideH, 0);
      b.addFieldInt32(3, o.depthMultiplier, 0);
      b.addFieldInt8(4, o.fusedActivationFunction, 0);
      b.addFieldInt32(5, o.dilationWFactor, 1);
      b.addFieldInt32(6, o.dilationHFactor, 1);
      return [BuiltinOptionsType.DepthwiseConv2DOptions, b.endObject()];
    case "FullyConnectedOptions":
      b.startObject(5);
      b.addFieldInt8(0, o.fusedActivationFunction, 0);
      b.addFieldInt8(1, o.weightsFormat, 0);
      b.addFieldInt8(2, o.keepNumDims ? 1 : 0, 0);
      b.addFieldInt8(3, o.asymmetricQuantizeInputs ? 1 : 0, 0);
      return [BuiltinOptionsType.FullyConnectedOptions, b.endObject()];
    case "SoftmaxOptions":
      b.startObject(1);
      b.addFieldFloat32(0, o.beta, 0);
      return [BuiltinOptionsType.SoftmaxOptions, b.endObject()];
    case "AddOptions":
      b.startObject(2);
      b.addFieldInt8(0, o.fusedActivationFunction, 0);
      b.addFieldInt8(1, o.potScaleInt16 ? 1 : 0, 1);
      return [BuiltinOptionsType.AddOptions, b.endObject()];
    case "ReshapeOptions": {
      const newShape = int32Vector(b, o.newShape);
      b.startObject(1);
      b.addFieldOffset(0, newShape, 0);
      return [BuiltinOptionsType.ReshapeOptions, b.endObject()];
    }
    case "other":
      // An empty table of that union type: enough to round-trip the type code.
      b.startObject(0);
      return [o.type, b.endObject()];
  }
}

function writeOperator(b: Builder, op: TfliteOperator): Offset {
  const inputs = int32Vector(b, op.inputs);
  const outputs = int32Vector(b, op.outputs);
  const [optionsType, options] = op.builtinOptions ? writeOptions(b, op.builtinOptions) : [0, 0];
  b.startObject(5);
  b.addFieldInt32(0, op.opcodeIndex, 0);
  b.addFieldOffset(1, inputs, 0);
  b.addFieldOffset(2, outputs, 0);
  if (optionsType !== 0) {
    b.addFieldInt8(3, optionsType, 0);
    b.addFieldOffset(4, options, 0);
  }
  return b.endObject();
}

function writeSubGraph(b: Builder, g: TfliteSubGraph): Offset {
  const tensors = offsetVector(b, g.tensors.map((t) => writeTensor(b, t)));
  const inputs = int32Vector(b, g.inputs);
  const outputs = int32Vector(b, g.outputs);
  const operators = offsetVector(b, g.operators.map((o) => writeOperator(b, o)));
  const name = g.name !== undefined ? b.createString(g.name) : 0;
  b.startObject(5);
  b.addFieldOffset(0, tensors, 0);
  b.addFieldOffset(1, inputs, 0);
  b.addFieldOffset(2, outputs, 0);
  b.addFieldOffset(3, operators, 0);
  if (name) b.addFieldOffset(4, name, 0);
  return b.endObject();
}

/** Serializes a model to .tflite bytes. */
export function writeTflite(model: TfliteModel): Uint8Array {
  const b = new Builder(1024);
  const codes = offsetVector(b, model.operatorCodes.map((c) => {
    const custom = c.customCode !== undefined ? b.createString(c.customCode) : 0;
    b.startObject(4);
    // deprecated_builtin_code is a byte: codes above 127 store the placeholder 127 there.
    b.addFieldInt8(0, Math.min(c.builtinCode, 127), 0);
    if (custom) b.addFieldOffset(1, custom, 0);
    b.addFieldInt32(2, c.version, 1);
    b.addFieldInt32(3, c.builtinCode, 0);
    return b.endObject();
  }));
  const subgraphs = offsetVector(b, model.subgraphs.map((g) => writeSubGraph(b, g)));
  const description = model.description !== undefined ? b.createString(model.description) : 0;
  const buffers = offsetVector(b, model.buffers.map((data) => {
    const bytes = data.length > 0 ? alignedBytes(b, data) : 0;
    b.startObject(1);
    if (bytes) b.addFieldOffset(0, bytes, 0);
    return b.endObject();
  }));
  b.startObject(5);
  b.addFieldInt32(0, model.version, 0);
  b.addFieldOffset(1, codes, 0);
  b.addFieldOffset(2, subgraphs, 0);
  if (description) b.addFieldOffset(3, description, 0);
  b.addFieldOffset(4, buffers, 0);
  b.finish(b.endObject(), "TFL3");
  return b.asUint8Array().slice();
}

/** Little-endian bytes of int8 values, for a Buffer. */
export function int8Bytes(values: ArrayLike<number>): Uint8Array {
  return Uint8Array.from(values, (v) => v & 0xff);
}

/** Little-endian bytes of int32 values, for a Buffer. */
export function int32Bytes(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setInt32(4 * i, values[i], true);
  return out;
}
