// Independent reference for the ml tests: TFLM's int8 reference kernels and the
// gemmlowp fixed-point functions they use, transcribed statement by statement
// with BigInt standing in for C++ int32_t/int64_t (every int32_t result passes
// through `i32`, which wraps like the compiled code). gemmlowp's branch-free
// style (masks and SelectUsingMask) is kept on purpose: the firmware uses
// branches, so the two do not share structure, only the arithmetic.
//
// Files followed: tensorflow/lite/kernels/internal/common.{h,cc},
// reference/integer_ops/{fully_connected,conv,depthwise_conv,logistic,tanh,add}.h,
// reference/softmax.h, micro/kernels/activations.h, gemmlowp fixedpoint/fixedpoint.h.

const I32_MIN = -(2n ** 31n);
const I32_MAX = 2n ** 31n - 1n;

/** static_cast<int32_t> of an integer (two's complement wrap). */
export function i32(x: bigint): bigint {
  return BigInt.asIntN(32, x);
}

const big = (x: number): bigint => BigInt(x);

// ---- gemmlowp scalar primitives (int32) ----

export function srdhm(a: bigint, b: bigint): bigint {
  const overflow = a === b && a === I32_MIN;
  const ab64 = a * b;
  const nudge = ab64 >= 0n ? 1n << 30n : 1n - (1n << 30n);
  const abX2High32 = i32((ab64 + nudge) / (1n << 31n)); // BigInt division truncates toward zero, like C++
  return overflow ? I32_MAX : abX2High32;
}

const maskIfNonZero = (a: boolean): bigint => (a ? -1n : 0n);
const selectUsingMask = (mask: bigint, thenVal: bigint, elseVal: bigint): bigint => i32((mask & thenVal) ^ (~mask & elseVal));

export function rdpot(x: bigint, exponent: number): bigint {
  if (exponent < 0 || exponent > 31) throw new RangeError(`exponent ${exponent}`);
  const mask = i32((1n << big(exponent)) - 1n);
  const zero = 0n;
  const one = 1n;
  const remainder = x & mask;
  const threshold = i32((mask >> 1n) + (maskIfNonZero(x < zero) & one));
  return i32((x >> big(exponent)) + (maskIfNonZero(remainder > threshold) & one));
}

function shiftLeftSaturating(a: bigint, offset: number): bigint {
  const wide = a * (1n << big(offset));
  return wide < I32_MIN ? I32_MIN : wide > I32_MAX ? I32_MAX : wide;
}

export function srmpot(x: bigint, exponent: number): bigint {
  if (exponent === 0) return x;
  if (exponent < 0) return rdpot(x, -exponent);
  const threshold = (1n << big(31 - exponent)) - 1n;
  const positiveMask = maskIfNonZero(x > threshold);
  const negativeMask = maskIfNonZero(x < -threshold);
  let result = shiftLeftSaturating(x, exponent);
  result = selectUsingMask(positiveMask, I32_MAX, result);
  result = selectUsingMask(negativeMask, I32_MIN, result);
  return result;
}

export function roundingHalfSum(a: bigint, b: bigint): bigint {
  const sum = a + b;
  const sign = sum >= 0n ? 1n : -1n;
  return i32((sum + sign) / 2n);
}

const add = (a: bigint, b: bigint): bigint => i32(a + b);
const sub = (a: bigint, b: bigint): bigint => i32(a - b);
const neg = (a: bigint): bigint => i32(-a);

// ---- common.h MultiplyByQuantizedMultiplier family (double rounding) ----

export function mbqm(x: number, quantizedMultiplier: number, shift: number): number {
  const leftShift = shift > 0 ? shift : 0;
  const rightShift = shift > 0 ? 0 : -shift;
  return Number(rdpot(srdhm(i32(big(x) * (1n << big(leftShift))), big(quantizedMultiplier)), rightShift));
}

export function mbqmSmallerThanOneExp(x: number, quantizedMultiplier: number, leftShift: number): number {
  return Number(rdpot(srdhm(big(x), big(quantizedMultiplier)), -leftShift));
}

export function mbqmGreaterThanOne(x: number, quantizedMultiplier: number, leftShift: number): number {
  return Number(srdhm(i32(big(x) * (1n << big(leftShift))), big(quantizedMultiplier)));
}

// ---- gemmlowp FixedPoint functions; raws are BigInt, IntegerBits explicit ----

const fpMul = srdhm; // FixedPoint operator*: IntegerBits add up
const rescale = (x: bigint, srcBits: number, dstBits: number): bigint => srmpot(x, srcBits - dstBits);
const constantPOT = (integerBits: number, exponent: number): bigint => 1n << big(31 - integerBits + exponent);
const one = (integerBits: number): bigint => (integerBits === 0 ? I32_MAX : 1n << big(31 - integerBits));

function expOnIntervalBetweenNegativeOneQuarterAnd0Excl(a: bigint): bigint {
  const constantTerm = 1895147668n;
  const constant1Over3 = 715827883n;
  const x = add(a, constantPOT(0, -3));
  const x2 = fpMul(x, x);
  const x3 = fpMul(x2, x);
  const x4 = fpMul(x2, x2);
  const x4Over4 = srmpot(x4, -2);
  const x4Over24PlusX3Over6PlusX2Over2 = srmpot(add(fpMul(add(x4Over4, x3), constant1Over3), x2), -1);
  return add(constantTerm, fpMul(constantTerm, add(x, x4Over24PlusX3Over6PlusX2Over2))); // AddSaturatingIf16Bit is Add for int32
}

export function expOnNegativeValues(a: bigint, integerBits: number): bigint {
  const fractionalBits = 31 - integerBits;
  const kOneQuarter = constantPOT(integerBits, -2);
  const mask = sub(kOneQuarter, 1n);
  const aModQuarterMinusOneQuarter = sub(a & mask, kOneQuarter);
  let result = expOnIntervalBetweenNegativeOneQuarterAnd0Excl(rescale(aModQuarterMinusOneQuarter, integerBits, 0));
  const remainder = sub(aModQuarterMinusOneQuarter, a);
  const barrel = (exponent: number, multiplier: bigint): void => {
    if (integerBits > exponent) {
      const shiftAmount = integerBits > exponent ? fractionalBits + exponent : 0;
      result = selectUsingMask(maskIfNonZero((remainder & (1n << big(shiftAmount))) !== 0n), fpMul(result, multiplier), result);
    }
  };
  barrel(-2, 1672461947n);
  barrel(-1, 1302514674n);
  barrel(0, 790015084n);
  barrel(1, 290630308n);
  barrel(2, 39332535n);
  barrel(3, 720401n);
  barrel(4, 242n);
  if (integerBits > 5) {
    const clampB = 36 - integerBits;
    const clamp = -(1n << big(clampB));
    result = selectUsingMask(maskIfNonZero(a < clamp), 0n, result);
  }
  result = selectUsingMask(maskIfNonZero(a === 0n), one(0), result);
  return result;
}

function newtonRaphsonDivision(a: bigint): bigint {
  const halfDenominator = roundingHalfSum(a, one(0));
  const constant48Over17 = 1515870810n;
  const constantNeg32Over17 = -1010580540n;
  let x = add(constant48Over17, fpMul(halfDenominator, constantNeg32Over17));
  for (let i = 0; i < 3; i++) {
    const halfDenominatorTimesX = fpMul(halfDenominator, x);
    const oneMinusHalfDenominatorTimesX = sub(one(2), halfDenominatorTimesX);
    x = add(x, rescale(fpMul(x, oneMinusHalfDenominatorTimesX), 4, 2));
  }
  return x;
}

export function oneOverOnePlusXForXIn01(a: bigint): bigint {
  return rescale(newtonRaphsonDivision(a), 1, 0);
}

export function oneMinusXOverOnePlusXForXIn01(a: bigint): bigint {
  return rescale(sub(newtonRaphsonDivision(a), one(2)), 2, 0);
}

export function logistic(a: bigint, integerBits: number): bigint {
  const maskIfPositive = maskIfNonZero(a > 0n);
  const maskIfZero = maskIfNonZero(a === 0n);
  const absInput = selectUsingMask(maskIfPositive, a, neg(a));
  const resultIfPositive = oneOverOnePlusXForXIn01(expOnNegativeValues(neg(absInput), integerBits));
  const resultIfNegative = sub(one(0), resultIfPositive);
  const oneHalf = 1n << 30n;
  return selectUsingMask(maskIfZero, oneHalf, selectUsingMask(maskIfPositive, resultIfPositive, resultIfNegative));
}

export function tanh(a: bigint, integerBits: number): bigint {
  const maskIfNegative = maskIfNonZero(a < 0n);
  const maskIfZero = maskIfNonZero(a === 0n);
  const n = selectUsingMask(maskIfNegative, a, neg(a));
  const t = oneMinusXOverOnePlusXForXIn01(expOnNegativeValues(n, integerBits + 1));
  return selectUsingMask(maskIfZero, 0n, selectUsingMask(maskIfNegative, neg(t), t));
}

function countLeadingZeros32(x: bigint): number {
  const u = BigInt.asUintN(32, x);
  if (u === 0n) return 32;
  return 32 - u.toString(2).length;
}

export function getReciprocal(x: bigint, xIntegerDigits: number): { value: bigint; numBitsOverUnit: number } {
  const headroomPlusOne = countLeadingZeros32(x);
  const numBitsOverUnit = xIntegerDigits - headroomPlusOne;
  const shiftedSumMinusOne = i32(BigInt.asUintN(32, BigInt.asUintN(32, x) << big(headroomPlusOne)) - (1n << 31n));
  return { value: oneOverOnePlusXForXIn01(shiftedSumMinusOne), numBitsOverUnit };
}

// ---- kernels ----

const clamp = (v: bigint, lo: number, hi: number): number => Number(v < big(lo) ? big(lo) : v > big(hi) ? big(hi) : v);

/** reference_integer_ops::Logistic (int8). */
export function logisticInt8(zeroPoint: number, radius: number, multiplier: number, leftShift: number, x: number): number {
  const input = x - zeroPoint;
  if (input <= -radius) return -128;
  if (input >= radius) return 127;
  const inputInQ4 = mbqm(input, multiplier, leftShift);
  const outputInQ0 = logistic(big(inputInQ4), 4);
  let outputInQ23 = rdpot(outputInQ0, 31 - 8);
  outputInQ23 = outputInQ23 + -128n;
  return clamp(outputInQ23, -128, 127);
}

/** reference_integer_ops::Tanh (int8). */
export function tanhInt8(zeroPoint: number, radius: number, multiplier: number, shift: number, x: number): number {
  const input = x - zeroPoint;
  if (input <= -radius) return -128;
  if (input >= radius) return 127;
  const inputInQ4 = mbqm(input, multiplier, shift);
  const outputInQ0 = tanh(big(inputInQ4), 4);
  const outputInQ24 = rdpot(outputInQ0, 31 - 7);
  return clamp(outputInQ24, -128, 127);
}

/** reference_ops::Softmax<int8_t, int8_t>, one row. */
export function softmaxInt8Row(row: readonly number[], inputBetaMultiplier: number, inputBetaLeftShift: number, diffMin: number): number[] {
  const maxInRow = Math.max(-128, ...row);
  let sumOfExps = 0n;
  for (const v of row) {
    const inputDiff = v - maxInRow;
    if (inputDiff >= diffMin) {
      const inputDiffRescaled = mbqmGreaterThanOne(inputDiff, inputBetaMultiplier, inputBetaLeftShift);
      sumOfExps = add(sumOfExps, rescale(expOnNegativeValues(big(inputDiffRescaled), 5), 0, 12));
    }
  }
  const { value: shiftedScale, numBitsOverUnit } = getReciprocal(sumOfExps, 12);
  const exponent = numBitsOverUnit + 31 - 8;
  if (exponent < 0 || exponent > 31) throw new Error(`TFLITE_CHECK exponent ${exponent}`);
  return row.map((v) => {
    const inputDiff = v - maxInRow;
    if (inputDiff < diffMin) return -128;
    const inputDiffRescaled = mbqmGreaterThanOne(inputDiff, inputBetaMultiplier, inputBetaLeftShift);
    const expIn0 = expOnNegativeValues(big(inputDiffRescaled), 5);
    const unsatOutput = rdpot(fpMul(shiftedScale, expIn0), exponent);
    return clamp(unsatOutput + -128n, -128, 127);
  });
}

/** micro ReluQuantized<int8_t>. */
export function reluInt8(inputOffset: number, outputOffset: number, multiplier: number, shift: number, min: number, max: number, x: number): number {
  const clamped = big(outputOffset) + big(mbqm(x - inputOffset, multiplier, shift));
  return clamp(clamped, min, max);
}

/** micro Relu6Quantized<int8_t>. */
export function relu6Int8(lower: number, upper: number, x: number): number {
  return x > upper ? upper : x < lower ? lower : x;
}

/** reference_integer_ops::AddFunc. */
export function addInt8(p: {
  leftShift: number; input1Offset: number; input1Multiplier: number; input1Shift: number; input2Offset: number; input2Multiplier: number;
  input2Shift: number; outputOffset: number; outputMultiplier: number; outputShift: number; activationMin: number; activationMax: number;
}, x: number, y: number): number {
  const input1Val = p.input1Offset + x;
  const input2Val = p.input2Offset + y;
  const shiftedInput1Val = Number(i32(big(input1Val) * (1n << big(p.leftShift))));
  const shiftedInput2Val = Number(i32(big(input2Val) * (1n << big(p.leftShift))));
  const scaledInput1Val = mbqmSmallerThanOneExp(shiftedInput1Val, p.input1Multiplier, p.input1Shift);
  const scaledInput2Val = mbqmSmallerThanOneExp(shiftedInput2Val, p.input2Multiplier, p.input2Shift);
  const rawSum = Number(i32(big(scaledInput1Val) + big(scaledInput2Val)));
  const rawOutput = i32(big(mbqmSmallerThanOneExp(rawSum, p.outputMultiplier, p.outputShift)) + big(p.outputOffset));
  return clamp(rawOutput, p.activationMin, p.activationMax);
}

export interface RefFcParams {
  inputOffset: number;
  weightsOffset: number;
  outputOffset: number;
  multipliers: ArrayLike<number>;
  shifts: ArrayLike<number>;
  perChannel: boolean;
  activationMin: number;
  activationMax: number;
}

/** reference_integer_ops::FullyConnected / FullyConnectedPerChannel. */
export function fullyConnected(p: RefFcParams, input: ArrayLike<number>, filter: ArrayLike<number>, bias: ArrayLike<number> | null, batches: number, outputDepth: number, accumDepth: number): number[] {
  const out: number[] = new Array<number>(batches * outputDepth);
  for (let b = 0; b < batches; ++b) {
    for (let outC = 0; outC < outputDepth; ++outC) {
      let acc = 0n;
      for (let d = 0; d < accumDepth; ++d) {
        const inputVal = big(input[b * accumDepth + d]);
        const filterVal = big(filter[outC * accumDepth + d]);
        acc = p.perChannel ? i32(acc + filterVal * (inputVal + big(p.inputOffset))) : i32(acc + (filterVal + big(p.weightsOffset)) * (inputVal + big(p.inputOffset)));
      }
      if (bias) acc = i32(acc + big(bias[outC]));
      const c = p.perChannel ? outC : 0;
      let accScaled = big(mbqm(Number(acc), p.multipliers[c], p.shifts[c]));
      accScaled = i32(accScaled + big(p.outputOffset));
      out[outC + outputDepth * b] = clamp(accScaled, p.activationMin, p.activationMax);
    }
  }
  return out;
}

export interface RefConvParams {
  strideHeight: number;
  strideWidth: number;
  dilationHeight: number;
  dilationWidth: number;
  padHeight: number;
  padWidth: number;
  inputOffset: number;
  outputOffset: number;
  multipliers: ArrayLike<number>;
  shifts: ArrayLike<number>;
  activationMin: number;
  activationMax: number;
  depthMultiplier?: number;
}

type Dims4 = readonly [number, number, number, number];
const offset = (d: Dims4, i0: number, i1: number, i2: number, i3: number): number => ((i0 * d[1] + i1) * d[2] + i2) * d[3] + i3;

/** reference_integer_ops::ConvPerChannel (int8). */
export function convPerChannel(p: RefConvParams, inputShape: Dims4, input: ArrayLike<number>, filterShape: Dims4, filter: ArrayLike<number>, bias: ArrayLike<number> | null, outputShape: Dims4): number[] {
  const out: number[] = new Array<number>(outputShape.reduce((a, b) => a * b, 1)).fill(0);
  const [batches, inputHeight, inputWidth, inputDepth] = inputShape;
  const [, filterHeight, filterWidth, filterInputDepth] = filterShape;
  const [, outputHeight, outputWidth, outputDepth] = outputShape;
  const groups = inputDepth / filterInputDepth;
  const filtersPerGroup = outputDepth / groups;
  for (let batch = 0; batch < batches; ++batch) {
    for (let outY = 0; outY < outputHeight; ++outY) {
      const inYOrigin = outY * p.strideHeight - p.padHeight;
      for (let outX = 0; outX < outputWidth; ++outX) {
        const inXOrigin = outX * p.strideWidth - p.padWidth;
        for (let outChannel = 0; outChannel < outputDepth; ++outChannel) {
          const group = Math.trunc(outChannel / filtersPerGroup);
          let acc = 0n;
          for (let filterY = 0; filterY < filterHeight; ++filterY) {
            const inY = inYOrigin + p.dilationHeight * filterY;
            for (let filterX = 0; filterX < filterWidth; ++filterX) {
              const inX = inXOrigin + p.dilationWidth * filterX;
              const isPointInsideImage = inX >= 0 && inX < inputWidth && inY >= 0 && inY < inputHeight;
              if (!isPointInsideImage) continue;
              for (let inChannel = 0; inChannel < filterInputDepth; ++inChannel) {
                const inputVal = big(input[offset(inputShape, batch, inY, inX, inChannel + group * filterInputDepth)]);
                const filterVal = big(filter[offset(filterShape, outChannel, filterY, filterX, inChannel)]);
                acc = i32(acc + filterVal * (inputVal + big(p.inputOffset)));
              }
            }
          }
          if (bias) acc = i32(acc + big(bias[outChannel]));
          let scaled = big(mbqm(Number(acc), p.multipliers[outChannel], p.shifts[outChannel]));
          scaled = i32(scaled + big(p.outputOffset));
          out[offset(outputShape, batch, outY, outX, outChannel)] = clamp(scaled, p.activationMin, p.activationMax);
        }
      }
    }
  }
  return out;
}

/** reference_integer_ops::DepthwiseConvPerChannel (int8). */
export function depthwiseConvPerChannel(p: RefConvParams, inputShape: Dims4, input: ArrayLike<number>, filterShape: Dims4, filter: ArrayLike<number>, bias: ArrayLike<number> | null, outputShape: Dims4): number[] {
  const out: number[] = new Array<number>(outputShape.reduce((a, b) => a * b, 1)).fill(0);
  const depthMultiplier = p.depthMultiplier ?? 1;
  const [batches, inputHeight, inputWidth, inputDepth] = inputShape;
  const [, filterHeight, filterWidth] = filterShape;
  const [, outputHeight, outputWidth] = outputShape;
  for (let batch = 0; batch < batches; ++batch) {
    for (let outY = 0; outY < outputHeight; ++outY) {
      for (let outX = 0; outX < outputWidth; ++outX) {
        for (let inChannel = 0; inChannel < inputDepth; ++inChannel) {
          for (let m = 0; m < depthMultiplier; ++m) {
            const outputChannel = m + inChannel * depthMultiplier;
            const inXOrigin = outX * p.strideWidth - p.padWidth;
            const inYOrigin = outY * p.strideHeight - p.padHeight;
            let acc = 0n;
            for (let filterY = 0; filterY < filterHeight; ++filterY) {
              for (let filterX = 0; filterX < filterWidth; ++filterX) {
                const inX = inXOrigin + p.dilationWidth * filterX;
                const inY = inYOrigin + p.dilationHeight * filterY;
                const isPointInsideImage = inX >= 0 && inX < inputWidth && inY >= 0 && inY < inputHeight;
                if (isPointInsideImage) {
                  const inputVal = big(input[offset(inputShape, batch, inY, inX, inChannel)]);
                  const filterVal = big(filter[offset(filterShape, 0, filterY, filterX, outputChannel)]);
                  acc = i32(acc + filterVal * (inputVal + big(p.inputOffset)));
                }
              }
            }
            if (bias) acc = i32(acc + big(bias[outputChannel]));
            acc = big(mbqm(Number(acc), p.multipliers[outputChannel], p.shifts[outputChannel]));
            acc = i32(acc + big(p.outputOffset));
            out[offset(outputShape, batch, outY, outX, outputChannel)] = clamp(acc, p.activationMin, p.activationMax);
          }
        }
      }
    }
  }
  return out;
}

// ---- TFLM Prepare-time parameter derivation, written independently of scripts/ml/quantize-scale.ts ----

/** std::round. */
export function cRound(x: number): number {
  return Math.sign(x) * Math.floor(Math.abs(x) + 0.5);
}

/** std::frexp via log2 with an exact correction. */
export function cFrexp(x: number): [number, number] {
  if (x === 0) return [0, 0];
  let e = Math.ceil(Math.log2(Math.abs(x))) + 0; // + 0 turns −0 into 0
  let m = x / 2 ** e;
  while (Math.abs(m) >= 1) { e++; m = x / 2 ** e; }
  while (Math.abs(m) < 0.5) { e--; m = x / 2 ** e; }
  return [m, e];
}

/** QuantizeMultiplier. */
export function refQuantizeMultiplier(d: number): [number, number] {
  if (d === 0) return [0, 0];
  const [q, e] = cFrexp(d);
  let shift = e;
  let qFixed = cRound(q * 2 ** 31);
  if (qFixed === 2 ** 31) { qFixed /= 2; ++shift; }
  if (shift < -31) { shift = 0; qFixed = 0; }
  return [qFixed, shift];
}

/** CalculateInputRadius. */
export function refInputRadius(inputIntegerBits: number, inputLeftShift: number, totalSignedBits = 31): number {
  return Math.floor(1.0 * ((1 << inputIntegerBits) - 1) * 2 ** (totalSignedBits - inputIntegerBits) / 2 ** inputLeftShift);
}

/** Logistic/Tanh int8 prepare. */
export function refLogisticParams(scale: number): { multiplier: number; shift: number; radius: number } {
  const [q, shift] = cFrexp(scale * (1 << (31 - 4)));
  return { multiplier: cRound(q * 2 ** 31), shift, radius: refInputRadius(4, shift, 31) };
}

/** Softmax int8 prepare (PreprocessSoftmaxScaling + diff_min). */
export function refSoftmaxParams(beta: number, inputScale: number): { multiplier: number; shift: number; diffMin: number } {
  const real = Math.min(beta * inputScale * (1 << (31 - 5)), 2 ** 31 - 1);
  const [multiplier, shift] = refQuantizeMultiplier(real);
  return { multiplier, shift, diffMin: -1.0 * refInputRadius(5, shift) };
}
