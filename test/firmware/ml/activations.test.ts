import assert from "node:assert/strict";
import fc from "fast-check";
import { logisticInt8, tanhInt8 } from "../../../firmware/src/ml/activations.ts";
import { expOnNegativeValues, logistic, oneOverOnePlusXForXIn01, tanh } from "../../../firmware/src/ml/fixedpoint.ts";
import type { LogisticParams, SoftmaxParams } from "../../../firmware/src/ml/model.ts";
import { softmaxInt8 } from "../../../firmware/src/ml/softmax.ts";
import { logisticParams, softmaxParams } from "../../../scripts/ml/quantize-scale.ts";
import * as ref from "./reference.ts";

const ALL_INT8 = Int8Array.from({ length: 256 }, (_, i) => i - 128);

// Input quantizations of the exhaustive tests: scale (as float32) and zero point.
const QUANTIZATIONS: [number, number][] = [
  [1 / 16, 0], [0.02, -128], [0.05, 10], [0.1, -3], [0.0078125, 0], [0.3, 127], [0.0012, -50], [2.5, 0], [0.0627, -128], [1 / 32, 64],
];

describe("ml Logistic, Tanh and Softmax: exhaustive over all 256 int8 inputs, bit-exact with TFLM", function () {
  this.timeout(120000);

  for (const [s, zp] of QUANTIZATIONS) {
    const scale = Math.fround(s);

    it(`Logistic and Tanh, input scale ${scale} zero point ${zp}`, () => {
      const p: LogisticParams = logisticParams(scale, zp);
      const r = ref.refLogisticParams(scale);
      assert.deepEqual([p.inputMultiplier, p.inputLeftShift, p.inputRangeRadius], [r.multiplier, r.shift, r.radius], "prepare parameters");
      const out = new Int8Array(256);
      logisticInt8(p, ALL_INT8, out, 256);
      const expectedLogistic = Array.from(ALL_INT8, (x) => ref.logisticInt8(zp, r.radius, r.multiplier, r.shift, x));
      assert.deepEqual(Array.from(out), expectedLogistic);
      tanhInt8(p, ALL_INT8, out, 256);
      const expectedTanh = Array.from(ALL_INT8, (x) => ref.tanhInt8(zp, r.radius, r.multiplier, r.shift, x));
      assert.deepEqual(Array.from(out), expectedTanh);
      // Sanity against the real functions: within 1 LSB plus the input quantization's effect.
      ALL_INT8.forEach((x, i) => {
        const real = scale * (x - zp);
        assert.ok(Math.abs(expectedLogistic[i] - (256 / (1 + Math.exp(-real)) - 128)) <= 1.01, `logistic(${real})`);
        assert.ok(Math.abs(expectedTanh[i] - Math.max(-128, Math.min(127, 128 * Math.tanh(real)))) <= 1.01, `tanh(${real})`);
      });
    });
  }

  const softmaxCases: [number, number][] = [[1 / 16, 1], [0.05, 1], [0.1, 1], [0.25, 1], [1, 1], [0.003, 1], [0.1, 0.5], [0.2, 2], [8, 1]];
  for (const [s, beta] of softmaxCases) {
    const scale = Math.fround(s);
    it(`Softmax, input scale ${scale}, beta ${beta}: the 256-value row and every value against each row maximum`, () => {
      const p: SoftmaxParams = softmaxParams(beta, scale);
      const r = ref.refSoftmaxParams(beta, scale);
      assert.deepEqual([p.inputMultiplier, p.inputLeftShift, p.diffMin], [r.multiplier, r.shift, r.diffMin], "prepare parameters");
      const check = (row: Int8Array): void => {
        const out = new Int8Array(row.length);
        softmaxInt8(p, row, out, 1, row.length);
        assert.deepEqual(Array.from(out), ref.softmaxInt8Row(Array.from(row), r.multiplier, r.shift, r.diffMin), `row ${Array.from(row).slice(0, 8).join(",")}…`);
      };
      check(ALL_INT8);
      // Every (x, max) pair as a two-value row, 256 rows at a time in one call (outerSize 256).
      for (const max of [-128, -100, -1, 0, 1, 50, 127]) {
        const rows = new Int8Array(512);
        ALL_INT8.forEach((x, i) => {
          rows[2 * i] = Math.min(x, max);
          rows[2 * i + 1] = max;
        });
        const out = new Int8Array(512);
        softmaxInt8(p, rows, out, 256, 2);
        for (let i = 0; i < 256; i++) {
          assert.deepEqual([out[2 * i], out[2 * i + 1]], ref.softmaxInt8Row([rows[2 * i], rows[2 * i + 1]], r.multiplier, r.shift, r.diffMin));
        }
      }
    });
  }

  it("Softmax on every pair of int8 values (65 536 rows of 2) at scale 1/16", () => {
    const p = softmaxParams(1, 1 / 16);
    const rows = new Int8Array(2 * 65536);
    for (let i = 0; i < 65536; i++) {
      rows[2 * i] = (i & 0xff) - 128;
      rows[2 * i + 1] = (i >> 8) - 128;
    }
    const out = new Int8Array(rows.length);
    softmaxInt8(p, rows, out, 65536, 2);
    for (let i = 0; i < 65536; i++) {
      assert.deepEqual([out[2 * i], out[2 * i + 1]], ref.softmaxInt8Row([rows[2 * i], rows[2 * i + 1]], p.inputMultiplier, p.inputLeftShift, p.diffMin));
    }
  });

  it("Softmax on random rows of random depth, outputs summing to about 256", () => {
    const scale = fc.double({ min: 0.001, max: 4, noNaN: true }).map(Math.fround);
    fc.assert(fc.property(scale, fc.array(fc.integer({ min: -128, max: 127 }), { minLength: 1, maxLength: 60 }), (s, row) => {
      const p = softmaxParams(1, s);
      const out = new Int8Array(row.length);
      softmaxInt8(p, Int8Array.from(row), out, 1, row.length);
      assert.deepEqual(Array.from(out), ref.softmaxInt8Row(row, p.inputMultiplier, p.inputLeftShift, p.diffMin));
      const sum = Array.from(out).reduce((a, v) => a + v + 128, 0);
      assert.ok(Math.abs(sum - 256) <= row.length + 1, `sum ${sum}`);
    }), { numRuns: 1000 });
  });

  it("gemmlowp exp, 1/(1+x), logistic and tanh on random raw fixed-point values", () => {
    fc.assert(fc.property(fc.integer({ min: -0x80000000, max: 0 }), fc.integer({ min: 0, max: 10 }), (a, bits) => {
      assert.equal(expOnNegativeValues(a, bits), Number(ref.expOnNegativeValues(BigInt(a), bits)));
    }), { numRuns: 20000 });
    fc.assert(fc.property(fc.integer({ min: 0, max: 0x7fffffff }), (a) => {
      assert.equal(oneOverOnePlusXForXIn01(a), Number(ref.oneOverOnePlusXForXIn01(BigInt(a))));
    }), { numRuns: 20000 });
    fc.assert(fc.property(fc.integer({ min: -0x7fffffff, max: 0x7fffffff }), fc.integer({ min: 0, max: 6 }), (a, bits) => {
      assert.equal(logistic(a, bits), Number(ref.logistic(BigInt(a), bits)));
      assert.equal(tanh(a, bits), Number(ref.tanh(BigInt(a), bits)));
    }), { numRuns: 20000 });
  });
});
