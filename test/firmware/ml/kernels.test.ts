import assert from "node:assert/strict";
import fc from "fast-check";
import { addInt8 } from "../../../firmware/src/ml/add.ts";
import { relu, relu6 } from "../../../firmware/src/ml/activations.ts";
import { conv2d, depthwiseConv2d, type ConvShape } from "../../../firmware/src/ml/conv.ts";
import { fullyConnected } from "../../../firmware/src/ml/fully-connected.ts";
import type { AddParams, ConvParams, DepthwiseConvParams, FullyConnectedParams, ReluParams } from "../../../firmware/src/ml/model.ts";
import { reshape } from "../../../firmware/src/ml/reshape.ts";
import {
  activationRange, addParams, convPadding, fullyConnectedMultiplier, perChannelMultipliers, quantizeMultiplier, reluParams, relu6Params,
} from "../../../scripts/ml/quantize-scale.ts";
import * as ref from "./reference.ts";

const RUNS = Number(process.env.ML_KERNEL_RUNS ?? 300);

const int8 = fc.integer({ min: -128, max: 127 });
const weight = fc.integer({ min: -127, max: 127 });
// A normalized Q0.31 multiplier, with the occasional 0 (a flushed tiny scale).
const multiplier = fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 1 << 30, max: 0x7fffffff }) }, { weight: 1, arbitrary: fc.constant(0) });
const shift = fc.integer({ min: -20, max: 2 });
const activation = fc.tuple(int8, int8).map(([a, b]): readonly [number, number] => (a <= b ? [a, b] : [b, a]));

const i8 = (values: readonly number[]): Int8Array => Int8Array.from(values);

describe("ml kernels against TFLM reference code (BigInt transcription), bit-exact", function () {
  this.timeout(120000);

  it("FullyConnected, per-tensor weights with a zero point and per-channel symmetric weights", () => {
    const arb = fc.record({ batches: fc.integer({ min: 1, max: 3 }), outputDepth: fc.integer({ min: 1, max: 12 }), accumDepth: fc.integer({ min: 1, max: 40 }) })
      .chain((d) => fc.record({
        d: fc.constant(d),
        perChannel: fc.boolean(),
        input: fc.array(int8, { minLength: d.batches * d.accumDepth, maxLength: d.batches * d.accumDepth }),
        filter: fc.array(weight, { minLength: d.outputDepth * d.accumDepth, maxLength: d.outputDepth * d.accumDepth }),
        bias: fc.option(fc.array(fc.integer({ min: -100000, max: 100000 }), { minLength: d.outputDepth, maxLength: d.outputDepth })),
        mults: fc.array(multiplier, { minLength: d.outputDepth, maxLength: d.outputDepth }),
        shifts: fc.array(shift, { minLength: d.outputDepth, maxLength: d.outputDepth }),
        inZp: int8, wZp: fc.integer({ min: -10, max: 10 }), outZp: int8, act: activation,
      }));
    fc.assert(fc.property(arb, (c) => {
      const { batches, outputDepth, accumDepth } = c.d;
      const n = c.perChannel ? outputDepth : 1;
      const p: FullyConnectedParams = {
        inputOffset: -c.inZp, weightsOffset: -c.wZp, outputOffset: c.outZp,
        multipliers: Int32Array.from(c.mults.slice(0, n)), shifts: Int32Array.from(c.shifts.slice(0, n)),
        perChannel: c.perChannel, activationMin: c.act[0], activationMax: c.act[1],
      };
      const out = new Int8Array(batches * outputDepth);
      const bias = c.bias ? Int32Array.from(c.bias) : null;
      fullyConnected(p, i8(c.input), i8(c.filter), bias, out, batches, outputDepth, accumDepth);
      assert.deepEqual(Array.from(out), ref.fullyConnected(p, c.input, c.filter, c.bias, batches, outputDepth, accumDepth));
    }), { numRuns: RUNS });
  });

  const convArb = (depthwise: boolean) => fc.record({
    batches: fc.integer({ min: 1, max: 2 }),
    inH: fc.integer({ min: 1, max: 7 }), inW: fc.integer({ min: 1, max: 9 }), inC: fc.integer({ min: 1, max: 4 }),
    fh: fc.integer({ min: 1, max: 3 }), fw: fc.integer({ min: 1, max: 4 }),
    outC: fc.integer({ min: 1, max: 5 }), dm: fc.integer({ min: 1, max: 3 }),
    strideH: fc.integer({ min: 1, max: 3 }), strideW: fc.integer({ min: 1, max: 3 }),
    dilH: fc.integer({ min: 1, max: 2 }), dilW: fc.integer({ min: 1, max: 2 }),
    same: fc.boolean(),
  }).filter((d) => convPadding(d.same ? 0 : 1, d.inH, d.fh, d.strideH, d.dilH).outputSize > 0 && convPadding(d.same ? 0 : 1, d.inW, d.fw, d.strideW, d.dilW).outputSize > 0)
    .chain((d) => {
      const outC = depthwise ? d.inC * d.dm : d.outC;
      const ph = convPadding(d.same ? 0 : 1, d.inH, d.fh, d.strideH, d.dilH);
      const pw = convPadding(d.same ? 0 : 1, d.inW, d.fw, d.strideW, d.dilW);
      const inputN = d.batches * d.inH * d.inW * d.inC;
      const filterN = depthwise ? d.fh * d.fw * outC : outC * d.fh * d.fw * d.inC;
      return fc.record({
        d: fc.constant({ ...d, outC, outH: ph.outputSize, outW: pw.outputSize, padH: ph.pad, padW: pw.pad }),
        input: fc.array(int8, { minLength: inputN, maxLength: inputN }),
        filter: fc.array(weight, { minLength: filterN, maxLength: filterN }),
        bias: fc.option(fc.array(fc.integer({ min: -50000, max: 50000 }), { minLength: outC, maxLength: outC })),
        mults: fc.array(multiplier, { minLength: outC, maxLength: outC }),
        shifts: fc.array(shift, { minLength: outC, maxLength: outC }),
        inZp: int8, outZp: int8, act: activation,
      });
    });

  for (const depthwise of [false, true]) {
    it(`${depthwise ? "DepthwiseConv2D (depth multiplier 1..3)" : "Conv2D"}: NHWC, strides, SAME/VALID padding, dilation`, () => {
      fc.assert(fc.property(convArb(depthwise), (c) => {
        const d = c.d;
        const p: DepthwiseConvParams = {
          strideHeight: d.strideH, strideWidth: d.strideW, dilationHeight: d.dilH, dilationWidth: d.dilW, padHeight: d.padH, padWidth: d.padW,
          inputOffset: -c.inZp, outputOffset: c.outZp, multipliers: Int32Array.from(c.mults), shifts: Int32Array.from(c.shifts),
          activationMin: c.act[0], activationMax: c.act[1], depthMultiplier: d.dm,
        };
        const shape: ConvShape = { batches: d.batches, inputHeight: d.inH, inputWidth: d.inW, inputDepth: d.inC, filterHeight: d.fh, filterWidth: d.fw, outputHeight: d.outH, outputWidth: d.outW, outputDepth: d.outC };
        const out = new Int8Array(d.batches * d.outH * d.outW * d.outC);
        const bias = c.bias ? Int32Array.from(c.bias) : null;
        const inShape = [d.batches, d.inH, d.inW, d.inC] as const;
        const outShape = [d.batches, d.outH, d.outW, d.outC] as const;
        let expected: number[];
        if (depthwise) {
          depthwiseConv2d(p, shape, i8(c.input), i8(c.filter), bias, out);
          expected = ref.depthwiseConvPerChannel(p, inShape, c.input, [1, d.fh, d.fw, d.outC], c.filter, c.bias, outShape);
        } else {
          const convParams: ConvParams = p;
          conv2d(convParams, shape, i8(c.input), i8(c.filter), bias, out);
          expected = ref.convPerChannel(p, inShape, c.input, [d.outC, d.fh, d.fw, d.inC], c.filter, c.bias, outShape);
        }
        assert.deepEqual(Array.from(out), expected);
      }), { numRuns: RUNS });
    });
  }

  it("a 1-D convolution (height 1) equals the direct 1-D formula", () => {
    // y[t][o] = Σ_k Σ_i w[o][k][i]·(x[t+k−1][i] − zp), SAME padding, stride 1, multiplier 2^30 with shift 1 = ×1.
    const length = 10, inC = 2, outC = 3, k = 3, zp = -5;
    const x = Array.from({ length: length * inC }, (_, i) => ((i * 37) % 200) - 100);
    const w = Array.from({ length: outC * k * inC }, (_, i) => ((i * 13) % 21) - 10);
    const p: ConvParams = { strideHeight: 1, strideWidth: 1, dilationHeight: 1, dilationWidth: 1, padHeight: 0, padWidth: 1, inputOffset: -zp, outputOffset: 0, multipliers: new Int32Array(outC).fill(1 << 30), shifts: new Int32Array(outC).fill(1), activationMin: -128, activationMax: 127 };
    const out = new Int8Array(length * outC);
    conv2d(p, { batches: 1, inputHeight: 1, inputWidth: length, inputDepth: inC, filterHeight: 1, filterWidth: k, outputHeight: 1, outputWidth: length, outputDepth: outC }, i8(x), i8(w), null, out);
    for (let t = 0; t < length; t++) {
      for (let o = 0; o < outC; o++) {
        let acc = 0;
        for (let j = 0; j < k; j++) {
          const s = t + j - 1;
          if (s < 0 || s >= length) continue;
          for (let i = 0; i < inC; i++) acc += w[(o * k + j) * inC + i] * (x[s * inC + i] - zp);
        }
        assert.equal(out[t * outC + o], Math.max(-128, Math.min(127, acc)), `t=${t} o=${o}`);
      }
    }
  });

  it("standalone RELU (requantizing) and RELU6", () => {
    fc.assert(fc.property(fc.array(int8, { minLength: 1, maxLength: 64 }), int8, int8, multiplier, shift, activation, (xs, inZp, outZp, m, s, act) => {
      const p: ReluParams = { inputZeroPoint: inZp, outputOffset: outZp, multiplier: m, shift: s, activationMin: act[0], activationMax: act[1] };
      const out = new Int8Array(xs.length);
      relu(p, i8(xs), out, xs.length);
      assert.deepEqual(Array.from(out), xs.map((x) => ref.reluInt8(inZp, outZp, m, s, act[0], act[1], x)));
      relu6({ lower: act[0], upper: act[1] }, i8(xs), out, xs.length);
      assert.deepEqual(Array.from(out), xs.map((x) => ref.relu6Int8(act[0], act[1], x)));
    }), { numRuns: RUNS });
  });

  it("Add with input and output requantization, from real scales", () => {
    const scale = fc.double({ min: 0.001, max: 2, noNaN: true }).map(Math.fround);
    fc.assert(fc.property(fc.integer({ min: 1, max: 64 }).chain((n) => fc.tuple(fc.array(int8, { minLength: n, maxLength: n }), fc.array(int8, { minLength: n, maxLength: n }))),
      scale, int8, scale, int8, scale, int8, fc.constantFrom(0, 1, 2, 3), ([a, b], s1, z1, s2, z2, so, zo, act) => {
        let p: AddParams;
        try {
          p = addParams(s1, z1, s2, z2, so, zo, act);
        } catch {
          return; // output multiplier ≥ 1: a scale combination TFLM rejects too
        }
        const out = new Int8Array(a.length);
        addInt8(p, i8(a), i8(b), out, a.length);
        assert.deepEqual(Array.from(out), a.map((x, i) => ref.addInt8(p, x, b[i])));
      }), { numRuns: RUNS });
  });

  it("Reshape copies between distinct buffers and leaves an aliased one alone", () => {
    const a = i8([1, -2, 3, -4]);
    const b = new Int8Array(4);
    reshape(a, b, 4);
    assert.deepEqual(Array.from(b), [1, -2, 3, -4]);
    reshape(a, a, 4);
    assert.deepEqual(Array.from(a), [1, -2, 3, -4]);
  });
});

describe("ml host parameters (scripts/ml/quantize-scale.ts) against an independent derivation", () => {
  it("QuantizeMultiplier over random doubles, tiny and huge ones, and exact powers of two", () => {
    fc.assert(fc.property(fc.double({ min: 1e-12, max: 1e6, noNaN: true }), (d) => {
      const q = quantizeMultiplier(d);
      assert.deepEqual([q.multiplier, q.shift], ref.refQuantizeMultiplier(d));
    }), { numRuns: 20000 });
    for (const d of [0, 2 ** -40, 2 ** -31, 2 ** -32, 0.5, 1, 2, 1 - 2 ** -40, 0.99999999999]) {
      const q = quantizeMultiplier(d);
      assert.deepEqual([q.multiplier, q.shift], ref.refQuantizeMultiplier(d), `d = ${d}`);
    }
    assert.deepEqual(quantizeMultiplier(1 - 2 ** -40), { multiplier: 1 << 30, shift: 1 }); // rounds to 2^31: halved, shift + 1
  });

  it("convolution and fully-connected multipliers follow TFLM's float/double mix", () => {
    const s = fc.double({ min: 1e-5, max: 1, noNaN: true }).map(Math.fround);
    fc.assert(fc.property(s, s, s, (inScale, wScale, outScale) => {
      const conv = perChannelMultipliers(inScale, [wScale], outScale, 2);
      assert.deepEqual([conv.multipliers[1], conv.shifts[1]], ref.refQuantizeMultiplier(inScale * wScale / outScale));
      const fcq = fullyConnectedMultiplier(inScale, wScale, outScale);
      assert.deepEqual([fcq.multiplier, fcq.shift], ref.refQuantizeMultiplier(Math.fround(inScale * wScale) / outScale));
    }), { numRuns: 5000 });
  });

  it("activation ranges, RELU and RELU6 parameters", () => {
    assert.deepEqual(activationRange(0, 0.1, 3), { min: -128, max: 127 });
    assert.deepEqual(activationRange(1, 0.1, -20), { min: -20, max: 127 });
    assert.deepEqual(activationRange(3, 0.1, -20), { min: -20, max: 40 }); // 6 / 0.1 = 60 steps
    assert.deepEqual(activationRange(3, 0.01, 0), { min: 0, max: 127 }); // q(6) = 600 clamps at 127
    assert.deepEqual(activationRange(2, 0.25, 1), { min: -3, max: 5 });
    assert.deepEqual(relu6Params(0.05, -128), { lower: -128, upper: -8 });
    const r = reluParams(0.5, 3, 0.25, -7);
    assert.deepEqual([r.multiplier, r.shift, r.activationMin, r.activationMax], [1 << 30, 2, -7, 127]);
  });
});
