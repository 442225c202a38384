// Reads a .tflite file (a FlatBuffer with identifier "TFL3", root table Model)
// into the in-memory form of tflite-types.ts, with hand-written accessors over
// flatbuffers.ByteBuffer. Field slots follow the TFLite schema
// (tensorflow/compiler/mlir/lite/schema/schema.fbs); every offset is checked
// against the file size, so a truncated or corrupt file gives an error, not garbage.

import { ByteBuffer } from "flatbuffers";
import type {
  BuiltinOptions, QuantizationParameters, TfliteModel, TfliteOperator, TfliteOperatorCode, TfliteSubGraph, TfliteTensor,
} from "./tflite-types.ts";
import { BuiltinOptionsType } from "./tflite-types.ts";

/** A .tflite file that cannot be read. */
export class TfliteFormatError extends Error {
  override name = "TfliteFormatError";
}

// Field slots (vtable index) of the tables read here.
const MODEL = { version: 0, operatorCodes: 1, subgraphs: 2, description: 3, buffers: 4 };
const SUBGRAPH = { tensors: 0, inputs: 1, outputs: 2, operators: 3, name: 4 };
const TENSOR = { shape: 0, type: 1, buffer: 2, name: 3, quantization: 4 };
const QUANTIZATION = { min: 0, max: 1, scale: 2, zeroPoint: 3, quantizedDimension: 6 };
const OPERATOR = { opcodeIndex: 0, inputs: 1, outputs: 2, builtinOptionsType: 3, builtinOptions: 4 };
const OPERATOR_CODE = { deprecatedBuiltinCode: 0, customCode: 1, version: 2, builtinCode: 3 };
const BUFFER = { data: 0 };

interface Vector {
  start: number;
  length: number;
}

/** Bounds-checked table and vector accessors over one FlatBuffer. */
class FlatReader {
  readonly bb: ByteBuffer;
  readonly size: number;

  constructor(bytes: Uint8Array) {
    this.bb = new ByteBuffer(bytes);
    this.size = bytes.length;
  }

  need(condition: boolean, what: string): void {
    if (!condition) throw new TfliteFormatError(`corrupt .tflite file: ${what}`);
  }

  /** Checks a table position and returns it. */
  table(pos: number, what: string): number {
    this.need(pos >= 0 && pos + 4 <= this.size, `${what} table at ${pos} is outside the file`);
    const vtable = pos - this.bb.readInt32(pos);
    this.need(vtable >= 0 && vtable + 4 <= this.size, `${what} vtable is outside the file`);
    const vtableBytes = this.bb.readUint16(vtable);
    this.need(vtableBytes >= 4 && (vtableBytes & 1) === 0 && vtable + vtableBytes <= this.size, `${what} vtable size ${vtableBytes}`);
    return pos;
  }

  /** Absolute position of a field, or 0 when absent. */
  field(table: number, slot: number, bytes: number, what: string): number {
    const vtable = table - this.bb.readInt32(table);
    const entry = 4 + 2 * slot;
    if (entry >= this.bb.readUint16(vtable)) return 0;
    const offset = this.bb.readUint16(vtable + entry);
    if (offset === 0) return 0;
    this.need(table + offset + bytes <= this.size, `${what} is outside the file`);
    return table + offset;
  }

  int(table: number, slot: number, bytes: 1 | 4, signed: boolean, fallback: number, what: string): number {
    const at = this.field(table, slot, bytes, what);
    if (at === 0) return fallback;
    if (bytes === 1) return signed ? this.bb.readInt8(at) : this.bb.readUint8(at);
    return signed ? this.bb.readInt32(at) : this.bb.readUint32(at);
  }

  float32(table: number, slot: number, fallback: number, what: string): number {
    const at = this.field(table, slot, 4, what);
    return at === 0 ? fallback : this.bb.readFloat32(at);
  }

  /** The sub-table a field points to, or 0. */
  subTable(table: number, slot: number, what: string): number {
    const at = this.field(table, slot, 4, what);
    if (at === 0) return 0;
    return this.table(at + this.bb.readUint32(at), what);
  }

  vector(table: number, slot: number, elementBytes: number, what: string): Vector | undefined {
    const at = this.field(table, slot, 4, what);
    if (at === 0) return undefined;
    const header = at + this.bb.readUint32(at);
    this.need(header + 4 <= this.size, `${what} vector is outside the file`);
    const length = this.bb.readUint32(header);
    this.need(header + 4 + length * elementBytes <= this.size, `${what} vector of ${length} elements runs past the end of the file`);
    return { start: header + 4, length };
  }

  int32s(table: number, slot: number, what: string): number[] {
    const v = this.vector(table, slot, 4, what);
    const out: number[] = [];
    if (v) for (let i = 0; i < v.length; i++) out.push(this.bb.readInt32(v.start + 4 * i));
    return out;
  }

  float32s(table: number, slot: number, what: string): number[] | undefined {
    const v = this.vector(table, slot, 4, what);
    if (!v) return undefined;
    const out: number[] = [];
    for (let i = 0; i < v.length; i++) out.push(this.bb.readFloat32(v.start + 4 * i));
    return out;
  }

  int64s(table: number, slot: number, what: string): number[] {
    const v = this.vector(table, slot, 8, what);
    const out: number[] = [];
    if (v) {
      for (let i = 0; i < v.length; i++) {
        const value = this.bb.readInt64(v.start + 8 * i);
        this.need(value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER), `${what}[${i}] out of range`);
        out.push(Number(value));
      }
    }
    return out;
  }

  /** Positions of the tables of a vector of tables. */
  tables(table: number, slot: number, what: string): number[] {
    const v = this.vector(table, slot, 4, what);
    const out: number[] = [];
    if (v) {
      for (let i = 0; i < v.length; i++) {
        const at = v.start + 4 * i;
        out.push(this.table(at + this.bb.readUint32(at), `${what}[${i}]`));
      }
    }
    return out;
  }

  string(table: number, slot: number, what: string): string | undefined {
    const v = this.vector(table, slot, 1, what);
    if (!v) return undefined;
    return new TextDecoder().decode(this.bb.bytes().subarray(v.start, v.start + v.length));
  }

  bytes(table: number, slot: number, what: string): Uint8Array {
    const v = this.vector(table, slot, 1, what);
    if (!v) return new Uint8Array(0);
    return this.bb.bytes().slice(v.start, v.start + v.length);
  }
}

function readQuantization(r: FlatReader, q: number, what: string): QuantizationParameters | undefined {
  const scale = r.float32s(q, QUANTIZATION.scale, `${what}.scale`);
  const zeroPoint = r.int64s(q, QUANTIZATION.zeroPoint, `${what}.zero_point`);
  const min = r.float32s(q, QUANTIZATION.min, `${what}.min`);
  const max = r.float32s(q, QUANTIZATION.max, `${what}.max`);
  if (!scale && zeroPoint.length === 0 && !min && !max) return undefined;
  const result: QuantizationParameters = {
    scale: scale ?? [],
    zeroPoint,
    quantizedDimension: r.int(q, QUANTIZATION.quantizedDimension, 4, true, 0, `${what}.quantized_dimension`),
  };
  if (min) result.min = min;
  if (max) result.max = max;
  return result;
}

function readTensor(r: FlatReader, t: number, what: string): TfliteTensor {
  const tensor: TfliteTensor = {
    shape: r.int32s(t, TENSOR.shape, `${what}.shape`),
    type: r.int(t, TENSOR.type, 1, true, 0, `${what}.type`),
    buffer: r.int(t, TENSOR.buffer, 4, false, 0, `${what}.buffer`),
    name: r.string(t, TENSOR.name, `${what}.name`) ?? "",
  };
  const q = r.subTable(t, TENSOR.quantization, `${what}.quantization`);
  if (q !== 0) {
    const quantization = readQuantization(r, q, `${what}.quantization`);
    if (quantization) tensor.quantization = quantization;
  }
  return tensor;
}

function readOptions(r: FlatReader, op: number, what: string): BuiltinOptions | undefined {
  const type = r.int(op, OPERATOR.builtinOptionsType, 1, false, 0, `${what}.builtin_options_type`);
  if (type === BuiltinOptionsType.NONE) return undefined;
  const o = r.subTable(op, OPERATOR.builtinOptions, `${what}.builtin_options`);
  if (o === 0) return { kind: "other", type };
  const int = (slot: number, fallback: number): number => r.int(o, slot, 4, true, fallback, `${what}.builtin_options`);
  const byte = (slot: number, fallback: number): number => r.int(o, slot, 1, true, fallback, `${what}.builtin_options`);
  switch (type) {
    case BuiltinOptionsType.Conv2DOptions:
      return { kind: "Conv2DOptions", padding: byte(0, 0), strideW: int(1, 0), strideH: int(2, 0), fusedActivationFunction: byte(3, 0), dilationWFactor: int(4, 1), dilationHFactor: int(5, 1) };
    case BuiltinOptionsType.DepthwiseConv2DOptions:
      return { kind: "DepthwiseConv2DOptions", padding: byte(0, 0), strideW: int(1, 0), strideH: int(2, 0), depthMultiplier: int(3, 0), fusedActivationFunction: byte(4, 0), dilationWFactor: int(5, 1), dilationHFactor: int(6, 1) };
    case BuiltinOptionsType.FullyConnectedOptions:
      return { kind: "FullyConnectedOptions", fusedActivationFunction: byte(0, 0), weightsFormat: byte(1, 0), keepNumDims: byte(2, 0) !== 0, asymmetricQuantizeInputs: byte(3, 0) !== 0 };
    case BuiltinOptionsType.SoftmaxOptions:
      return { kind: "SoftmaxOptions", beta: r.float32(o, 0, 0, `${what}.builtin_options.beta`) };
    case BuiltinOptionsType.AddOptions:
      return { kind: "AddOptions", fusedActivationFunction: byte(0, 0), potScaleInt16: byte(1, 1) !== 0 };
    case BuiltinOptionsType.ReshapeOptions:
      return { kind: "ReshapeOptions", newShape: r.int32s(o, 0, `${what}.builtin_options.new_shape`) };
    default:
      return { kind: "other", type };
  }
}

function readOperator(r: FlatReader, op: number, what: string): TfliteOperator {
  const operator: TfliteOperator = {
    opcodeIndex: r.int(op, OPERATOR.opcodeIndex, 4, false, 0, `${what}.opcode_index`),
    inputs: r.int32s(op, OPERATOR.inputs, `${what}.inputs`),
    outputs: r.int32s(op, OPERATOR.outputs, `${what}.outputs`),
  };
  const options = readOptions(r, op, what);
  if (options) operator.builtinOptions = options;
  return operator;
}

function readSubGraph(r: FlatReader, g: number, what: string): TfliteSubGraph {
  const subgraph: TfliteSubGraph = {
    tensors: r.tables(g, SUBGRAPH.tensors, `${what}.tensors`).map((t, i) => readTensor(r, t, `${what}.tensors[${i}]`)),
    inputs: r.int32s(g, SUBGRAPH.inputs, `${what}.inputs`),
    outputs: r.int32s(g, SUBGRAPH.outputs, `${what}.outputs`),
    operators: r.tables(g, SUBGRAPH.operators, `${what}.operators`).map((o, i) => readOperator(r, o, `${what}.operators[${i}]`)),
  };
  const name = r.string(g, SUBGRAPH.name, `${what}.name`);
  if (name !== undefined) subgraph.name = name;
  return subgraph;
}

function readOperatorCode(r: FlatReader, c: number, what: string): TfliteOperatorCode {
  const deprecated = r.int(c, OPERATOR_CODE.deprecatedBuiltinCode, 1, true, 0, `${what}.deprecated_builtin_code`);
  const builtin = r.int(c, OPERATOR_CODE.builtinCode, 4, true, 0, `${what}.builtin_code`);
  const code: TfliteOperatorCode = {
    // Old files only set the byte field, new ones set both (the byte saturates at 127).
    builtinCode: Math.max(deprecated, builtin),
    version: r.int(c, OPERATOR_CODE.version, 4, true, 1, `${what}.version`),
  };
  const custom = r.string(c, OPERATOR_CODE.customCode, `${what}.custom_code`);
  if (custom !== undefined) code.customCode = custom;
  return code;
}

/** Parses a .tflite file. Throws TfliteFormatError when it is not one or is corrupt. */
export function readTflite(bytes: Uint8Array): TfliteModel {
  if (bytes.length < 8) throw new TfliteFormatError(`not a .tflite file: only ${bytes.length} bytes`);
  const r = new FlatReader(bytes);
  if (!r.bb.__has_identifier("TFL3")) {
    const found = new TextDecoder("latin1").decode(bytes.subarray(4, 8));
    throw new TfliteFormatError(`not a .tflite file: FlatBuffer identifier ${JSON.stringify(found)}, expected "TFL3"`);
  }
  const root = r.table(r.bb.readUint32(0), "Model");
  const model: TfliteModel = {
    version: r.int(root, MODEL.version, 4, false, 0, "Model.version"),
    operatorCodes: r.tables(root, MODEL.operatorCodes, "Model.operator_codes").map((c, i) => readOperatorCode(r, c, `operator_codes[${i}]`)),
    subgraphs: r.tables(root, MODEL.subgraphs, "Model.subgraphs").map((g, i) => readSubGraph(r, g, `subgraphs[${i}]`)),
    buffers: r.tables(root, MODEL.buffers, "Model.buffers").map((b, i) => r.bytes(b, BUFFER.data, `buffers[${i}].data`)),
  };
  const description = r.string(root, MODEL.description, "Model.description");
  if (description !== undefined) model.description = description;
  return model;
}
