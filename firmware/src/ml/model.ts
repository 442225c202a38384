// The shape of a firmware model module: the constant tables that
// `scripts/ml/model-import.ts` writes from a .tflite file and `Interpreter` runs.
//
// Everything is an integer: the importer turns the float scales of the .tflite
// file into Q0.31 multipliers and shifts on the host (TFLM does the same in its
// Prepare functions), so nothing on the device touches a float. Scales are kept
// only as their IEEE-754 float32 bit patterns (`scaleBits`), for the host to
// dequantize outputs if it wants to; the firmware never reads them.
//
// Flash. A model module is a plain ES module whose top-level constants are
// frozen objects and typed arrays. When the module is listed under `preload`
// in the Moddable manifest, the XS linker runs its body at build time and links
// the resulting objects and ArrayBuffers into flash: the weights cost no RAM,
// and writing to them throws a TypeError. Without preload the same data is
// built in RAM at start-up.

/** TFLite BuiltinOperator codes of the supported operators (schema.fbs). */
export const OP_ADD = 0;
export const OP_CONV_2D = 3;
export const OP_DEPTHWISE_CONV_2D = 4;
export const OP_FULLY_CONNECTED = 9;
export const OP_LOGISTIC = 14;
export const OP_RELU = 19;
export const OP_RELU6 = 21;
export const OP_RESHAPE = 22;
export const OP_SOFTMAX = 25;
export const OP_TANH = 28;

/** TFLite TensorType codes used here. */
export const TENSOR_INT32 = 2;
export const TENSOR_INT8 = 9;

/** Version of the model module format; the interpreter refuses others. */
export const MODEL_FORMAT = 1;

/** One tensor: activations live in the arena (no `data`); constants carry their data. */
export interface TensorSpec {
  /** Name from the .tflite file, for error messages. */
  readonly name: string;
  readonly shape: readonly number[];
  /** TENSOR_INT8 or TENSOR_INT32. */
  readonly type: number;
  /** Zero point (per tensor; 0 for symmetric weights and biases). */
  readonly zeroPoint: number;
  /** IEEE-754 float32 bits of the (first) scale; informational only. */
  readonly scaleBits: number;
  /** Constant data: int8 weights or int32 biases. */
  readonly data?: Int8Array | Int32Array;
}

/**
 * FullyConnected (TFLM reference_integer_ops::FullyConnected / FullyConnectedPerChannel).
 * acc = Σ (w + weightsOffset)(x + inputOffset) + bias (per-channel: weightsOffset
 * is not applied); y = clamp(MBQM(acc, multiplier, shift) + outputOffset).
 */
export interface FullyConnectedParams {
  /** −input zero point. */
  readonly inputOffset: number;
  /** −weights zero point (per-tensor only). */
  readonly weightsOffset: number;
  /** Output zero point. */
  readonly outputOffset: number;
  /** Q0.31 multipliers: one (per-tensor) or one per output channel. */
  readonly multipliers: Int32Array;
  /** Shifts matching `multipliers` (positive = left). */
  readonly shifts: Int32Array;
  readonly perChannel: boolean;
  readonly activationMin: number;
  readonly activationMax: number;
}

/** Conv2D (TFLM reference_integer_ops::ConvPerChannel), NHWC, weights [outC, fh, fw, inC]. */
export interface ConvParams {
  readonly strideHeight: number;
  readonly strideWidth: number;
  readonly dilationHeight: number;
  readonly dilationWidth: number;
  /** Top/left padding in input pixels (TFLM ComputePaddingHeightWidth). */
  readonly padHeight: number;
  readonly padWidth: number;
  readonly inputOffset: number;
  readonly outputOffset: number;
  /** One Q0.31 multiplier and shift per output channel. */
  readonly multipliers: Int32Array;
  readonly shifts: Int32Array;
  readonly activationMin: number;
  readonly activationMax: number;
}

/** DepthwiseConv2D (TFLM reference_integer_ops::DepthwiseConvPerChannel), weights [1, fh, fw, inC·depthMultiplier]. */
export interface DepthwiseConvParams extends ConvParams {
  readonly depthMultiplier: number;
}

/** Standalone RELU (TFLM ReluQuantized): requantizes input to output, then clamps. */
export interface ReluParams {
  /** Input zero point (subtracted, as TFLM's ReluOpData.params.input_offset). */
  readonly inputZeroPoint: number;
  readonly outputOffset: number;
  readonly multiplier: number;
  readonly shift: number;
  readonly activationMin: number;
  readonly activationMax: number;
}

/** Standalone RELU6 (TFLM Relu6Quantized): clamp to [lower, upper] = [q(0), q(6)] of the input quantization. */
export interface Relu6Params {
  readonly lower: number;
  readonly upper: number;
}

/** Logistic and Tanh, int8 (TFLM reference_integer_ops::Logistic / Tanh; input in Q4.27 after rescaling). */
export interface LogisticParams {
  readonly inputZeroPoint: number;
  readonly inputRangeRadius: number;
  readonly inputMultiplier: number;
  readonly inputLeftShift: number;
}

/** Softmax int8 → int8 (TFLM reference_ops::Softmax; differences in Q5.26). */
export interface SoftmaxParams {
  readonly inputMultiplier: number;
  readonly inputLeftShift: number;
  readonly diffMin: number;
}

/** Add int8 (TFLM reference_integer_ops::AddFunc). */
export interface AddParams {
  readonly leftShift: number;
  readonly input1Offset: number;
  readonly input1Multiplier: number;
  readonly input1Shift: number;
  readonly input2Offset: number;
  readonly input2Multiplier: number;
  readonly input2Shift: number;
  readonly outputOffset: number;
  readonly outputMultiplier: number;
  readonly outputShift: number;
  readonly activationMin: number;
  readonly activationMax: number;
}

interface OperatorBase {
  /** Tensor indices; −1 marks an absent optional input (a bias). */
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
}

export interface FullyConnectedOperator extends OperatorBase { readonly op: typeof OP_FULLY_CONNECTED; readonly params: FullyConnectedParams }
export interface ConvOperator extends OperatorBase { readonly op: typeof OP_CONV_2D; readonly params: ConvParams }
export interface DepthwiseConvOperator extends OperatorBase { readonly op: typeof OP_DEPTHWISE_CONV_2D; readonly params: DepthwiseConvParams }
export interface ReluOperator extends OperatorBase { readonly op: typeof OP_RELU; readonly params: ReluParams }
export interface Relu6Operator extends OperatorBase { readonly op: typeof OP_RELU6; readonly params: Relu6Params }
export interface LogisticOperator extends OperatorBase { readonly op: typeof OP_LOGISTIC; readonly params: LogisticParams }
export interface TanhOperator extends OperatorBase { readonly op: typeof OP_TANH; readonly params: LogisticParams }
export interface SoftmaxOperator extends OperatorBase { readonly op: typeof OP_SOFTMAX; readonly params: SoftmaxParams }
export interface AddOperator extends OperatorBase { readonly op: typeof OP_ADD; readonly params: AddParams }
export interface ReshapeOperator extends OperatorBase { readonly op: typeof OP_RESHAPE; readonly params?: undefined }

export type OperatorSpec =
  | FullyConnectedOperator | ConvOperator | DepthwiseConvOperator | ReluOperator | Relu6Operator
  | LogisticOperator | TanhOperator | SoftmaxOperator | AddOperator | ReshapeOperator;

/** A model module's default export. */
export interface ModelModule {
  readonly format: number;
  readonly name: string;
  readonly tensors: readonly TensorSpec[];
  /** In execution order. */
  readonly operators: readonly OperatorSpec[];
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
}
