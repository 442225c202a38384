// In-memory form of a .tflite model: what `tflite-reader.ts` returns and
// `tflite-writer.ts` writes. Field names follow the TFLite FlatBuffer schema
// (tensorflow/compiler/mlir/lite/schema/schema.fbs), in camelCase; only the
// fields this project reads or writes are modelled.

/** TensorType codes (schema.fbs enum TensorType). */
export const TensorType = {
  FLOAT32: 0, FLOAT16: 1, INT32: 2, UINT8: 3, INT64: 4, STRING: 5, BOOL: 6, INT16: 7, COMPLEX64: 8, INT8: 9,
  FLOAT64: 10, COMPLEX128: 11, UINT64: 12, RESOURCE: 13, VARIANT: 14, UINT32: 15, UINT16: 16, INT4: 17, BFLOAT16: 18,
} as const;

/** Name of a TensorType code, e.g. "FLOAT32". */
export function tensorTypeName(type: number): string {
  for (const [name, code] of Object.entries(TensorType)) if (code === type) return name;
  return `TYPE_${type}`;
}

/** BuiltinOperator codes used by this project (schema.fbs enum BuiltinOperator). */
export const BuiltinOperator = {
  ADD: 0, CONV_2D: 3, DEPTHWISE_CONV_2D: 4, DEQUANTIZE: 6, FULLY_CONNECTED: 9, LOGISTIC: 14, MUL: 18, RELU: 19,
  RELU_N1_TO_1: 20, RELU6: 21, RESHAPE: 22, SOFTMAX: 25, TANH: 28, CUSTOM: 32, QUANTIZE: 114,
} as const;

// Names of the BuiltinOperator codes 0..161, by code ("" for unassigned codes).
const OPERATOR_NAMES = [
  "ADD", "AVERAGE_POOL_2D", "CONCATENATION", "CONV_2D", "DEPTHWISE_CONV_2D", "DEPTH_TO_SPACE", "DEQUANTIZE",
  "EMBEDDING_LOOKUP", "FLOOR", "FULLY_CONNECTED", "HASHTABLE_LOOKUP", "L2_NORMALIZATION", "L2_POOL_2D",
  "LOCAL_RESPONSE_NORMALIZATION", "LOGISTIC", "LSH_PROJECTION", "LSTM", "MAX_POOL_2D", "MUL", "RELU", "RELU_N1_TO_1",
  "RELU6", "RESHAPE", "RESIZE_BILINEAR", "RNN", "SOFTMAX", "SPACE_TO_DEPTH", "SVDF", "TANH", "CONCAT_EMBEDDINGS",
  "SKIP_GRAM", "CALL", "CUSTOM", "EMBEDDING_LOOKUP_SPARSE", "PAD", "UNIDIRECTIONAL_SEQUENCE_RNN", "GATHER",
  "BATCH_TO_SPACE_ND", "SPACE_TO_BATCH_ND", "TRANSPOSE", "MEAN", "SUB", "DIV", "SQUEEZE",
  "UNIDIRECTIONAL_SEQUENCE_LSTM", "STRIDED_SLICE", "BIDIRECTIONAL_SEQUENCE_RNN", "EXP", "TOPK_V2", "SPLIT",
  "LOG_SOFTMAX", "DELEGATE", "BIDIRECTIONAL_SEQUENCE_LSTM", "CAST", "PRELU", "MAXIMUM", "ARG_MAX", "MINIMUM", "LESS",
  "NEG", "PADV2", "GREATER", "GREATER_EQUAL", "LESS_EQUAL", "SELECT", "SLICE", "SIN", "TRANSPOSE_CONV",
  "SPARSE_TO_DENSE", "TILE", "EXPAND_DIMS", "EQUAL", "NOT_EQUAL", "LOG", "SUM", "SQRT", "RSQRT", "SHAPE", "POW",
  "ARG_MIN", "FAKE_QUANT", "REDUCE_PROD", "REDUCE_MAX", "PACK", "LOGICAL_OR", "ONE_HOT", "LOGICAL_AND",
  "LOGICAL_NOT", "UNPACK", "REDUCE_MIN", "FLOOR_DIV", "REDUCE_ANY", "SQUARE", "ZEROS_LIKE", "FILL", "FLOOR_MOD",
  "RANGE", "RESIZE_NEAREST_NEIGHBOR", "LEAKY_RELU", "SQUARED_DIFFERENCE", "MIRROR_PAD", "ABS", "SPLIT_V", "UNIQUE",
  "CEIL", "REVERSE_V2", "ADD_N", "GATHER_ND", "COS", "WHERE", "RANK", "ELU", "REVERSE_SEQUENCE", "MATRIX_DIAG",
  "QUANTIZE", "MATRIX_SET_DIAG", "ROUND", "HARD_SWISH", "IF", "WHILE", "NON_MAX_SUPPRESSION_V4",
  "NON_MAX_SUPPRESSION_V5", "SCATTER_ND", "SELECT_V2", "DENSIFY", "SEGMENT_SUM", "BATCH_MATMUL",
  "PLACEHOLDER_FOR_GREATER_OP_CODES", "CUMSUM", "CALL_ONCE", "BROADCAST_TO", "RFFT2D", "CONV_3D", "", "", "",
  "HASHTABLE", "HASHTABLE_FIND", "HASHTABLE_IMPORT", "HASHTABLE_SIZE", "REDUCE_ALL", "CONV_3D_TRANSPOSE",
  "VAR_HANDLE", "READ_VARIABLE", "ASSIGN_VARIABLE", "BROADCAST_ARGS", "RANDOM_STANDARD_NORMAL", "BUCKETIZE",
  "RANDOM_UNIFORM", "MULTINOMIAL", "GELU", "DYNAMIC_UPDATE_SLICE", "RELU_0_TO_1", "UNSORTED_SEGMENT_PROD",
  "UNSORTED_SEGMENT_MAX", "UNSORTED_SEGMENT_SUM", "ATAN2", "UNSORTED_SEGMENT_MIN", "SIGN", "BITCAST", "BITWISE_XOR",
  "RIGHT_SHIFT",
];

/** Name of a builtin operator code, e.g. "FULLY_CONNECTED"; "BUILTIN_<code>" when unknown. */
export function builtinOperatorName(code: number): string {
  return OPERATOR_NAMES[code] || `BUILTIN_${code}`;
}

/** ActivationFunctionType codes (fused activations). */
export const Activation = { NONE: 0, RELU: 1, RELU_N1_TO_1: 2, RELU6: 3, TANH: 4, SIGN_BIT: 5 } as const;

/** Padding codes. */
export const Padding = { SAME: 0, VALID: 1 } as const;

/** BuiltinOptions union type codes of the options modelled here. */
export const BuiltinOptionsType = {
  NONE: 0, Conv2DOptions: 1, DepthwiseConv2DOptions: 2, FullyConnectedOptions: 8, SoftmaxOptions: 9, AddOptions: 11,
  ReshapeOptions: 17,
} as const;

export interface Conv2DOptions {
  kind: "Conv2DOptions";
  padding: number;
  strideW: number;
  strideH: number;
  fusedActivationFunction: number;
  dilationWFactor: number;
  dilationHFactor: number;
}

export interface DepthwiseConv2DOptions {
  kind: "DepthwiseConv2DOptions";
  padding: number;
  strideW: number;
  strideH: number;
  depthMultiplier: number;
  fusedActivationFunction: number;
  dilationWFactor: number;
  dilationHFactor: number;
}

export interface FullyConnectedOptions {
  kind: "FullyConnectedOptions";
  fusedActivationFunction: number;
  /** 0 DEFAULT, 1 SHUFFLED4x16INT8. */
  weightsFormat: number;
  keepNumDims: boolean;
  asymmetricQuantizeInputs: boolean;
}

export interface SoftmaxOptions {
  kind: "SoftmaxOptions";
  beta: number;
}

export interface AddOptions {
  kind: "AddOptions";
  fusedActivationFunction: number;
  potScaleInt16: boolean;
}

export interface ReshapeOptions {
  kind: "ReshapeOptions";
  newShape: number[];
}

/** Options of a union type this project does not model: only its type code. */
export interface OtherOptions {
  kind: "other";
  type: number;
}

export type BuiltinOptions = Conv2DOptions | DepthwiseConv2DOptions | FullyConnectedOptions | SoftmaxOptions | AddOptions | ReshapeOptions | OtherOptions;

export interface QuantizationParameters {
  min?: number[];
  max?: number[];
  scale: number[];
  zeroPoint: number[];
  quantizedDimension: number;
}

export interface TfliteTensor {
  shape: number[];
  type: number;
  /** Index into `TfliteModel.buffers`; 0 is the empty buffer of activations. */
  buffer: number;
  name: string;
  quantization?: QuantizationParameters;
}

export interface TfliteOperator {
  opcodeIndex: number;
  /** Tensor indices; −1 marks an absent optional input. */
  inputs: number[];
  outputs: number[];
  builtinOptions?: BuiltinOptions;
}

export interface TfliteSubGraph {
  tensors: TfliteTensor[];
  inputs: number[];
  outputs: number[];
  operators: TfliteOperator[];
  name?: string;
}

export interface TfliteOperatorCode {
  /** max(deprecated_builtin_code, builtin_code) on reading; both fields are written. */
  builtinCode: number;
  version: number;
  customCode?: string;
}

export interface TfliteModel {
  version: number;
  operatorCodes: TfliteOperatorCode[];
  subgraphs: TfliteSubGraph[];
  description?: string;
  /** Raw buffer contents (little-endian); buffer 0 is empty by convention. */
  buffers: Uint8Array[];
}
