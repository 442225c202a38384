import assert from "node:assert/strict";
import fc from "fast-check";
import {
  multiplyByQuantizedMultiplier, multiplyByQuantizedMultiplierGreaterThanOne, multiplyByQuantizedMultiplierSmallerThanOneExp,
  roundingDivideByPOT, saturatingRoundingDoublingHighMul, saturatingRoundingMultiplyByPOT,
} from "../../../firmware/src/ml/quantize.ts";
import { roundingHalfSum } from "../../../firmware/src/ml/fixedpoint.ts";
import * as ref from "./reference.ts";

const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;

// Deterministic xorshift so the 100 000+ cases are the same every run.
function rng(seed: number): () => number {
  let s = seed | 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s | 0;
  };
}

const srdhmRef = (a: number, b: number): number => Number(ref.srdhm(BigInt(a), BigInt(b)));
const rdpotRef = (x: number, e: number): number => Number(ref.rdpot(BigInt(x), e));

const EDGES = [0, 1, -1, 2, -2, 3, -3, 0x7fff, 0x8000, -0x8000, 0xffff, 0x10000, -0x10000, 0x3fffffff, 0x40000000, -0x40000000, INT32_MAX, INT32_MIN, INT32_MIN + 1];

describe("ml quantize: MultiplyByQuantizedMultiplier against a BigInt transcription of TFLM", function () {
  this.timeout(120000);

  it("SaturatingRoundingDoublingHighMul: every pair of edge values and 300 000 random pairs", () => {
    for (const a of EDGES) for (const b of EDGES) assert.equal(saturatingRoundingDoublingHighMul(a, b), srdhmRef(a, b), `srdhm(${a}, ${b})`);
    const next = rng(12345);
    for (let i = 0; i < 300000; i++) {
      const a = next();
      // Mix full-range and small operands so both carries and the sign logic are exercised.
      const b = i % 3 === 0 ? next() >> (i % 31) : next();
      assert.equal(saturatingRoundingDoublingHighMul(a, b), srdhmRef(a, b), `srdhm(${a}, ${b})`);
    }
  });

  it("SaturatingRoundingDoublingHighMul: exact ±0.5 ties round toward +∞ (multiplier 2^30, odd x), as VQRDMULH", () => {
    for (let x = -1001; x <= 1001; x += 2) {
      const got = saturatingRoundingDoublingHighMul(x, 1 << 30);
      assert.equal(got, srdhmRef(x, 1 << 30));
      // The nudge 1 − 2^30 for negative products plus truncation toward zero sends −n.5 to −n.
      assert.equal(got, (x + 1) >> 1, `x = ${x}`);
    }
    assert.equal(saturatingRoundingDoublingHighMul(INT32_MIN, INT32_MIN), INT32_MAX);
    assert.equal(saturatingRoundingDoublingHighMul(INT32_MIN, INT32_MAX), -INT32_MAX);
    assert.equal(saturatingRoundingDoublingHighMul(INT32_MAX, INT32_MAX), INT32_MAX - 1);
  });

  it("RoundingDivideByPOT: every exponent 0..31 on edge values, ties and random values", () => {
    const next = rng(777);
    for (let e = 0; e <= 31; e++) {
      for (const x of EDGES) assert.equal(roundingDivideByPOT(x, e), rdpotRef(x, e), `rdpot(${x}, ${e})`);
      if (e > 0 && e < 31) {
        for (let k = -20; k <= 20; k++) {
          const tie = (2 * k + 1) * 2 ** (e - 1); // exactly halfway
          if (tie < INT32_MIN || tie > INT32_MAX) continue;
          const got = roundingDivideByPOT(tie, e);
          assert.equal(got, rdpotRef(tie, e));
          assert.equal(got, tie > 0 ? k + 1 : k, `tie ${tie} / 2^${e} rounds away from zero`);
        }
      }
      for (let i = 0; i < 4000; i++) {
        const x = next();
        assert.equal(roundingDivideByPOT(x, e), rdpotRef(x, e), `rdpot(${x}, ${e})`);
      }
    }
  });

  it("MultiplyByQuantizedMultiplier: every shift −31..30 with random x and multipliers (≥ 100 000 cases) and edges", () => {
    const next = rng(4242);
    let cases = 0;
    for (let shift = -31; shift <= 30; shift++) {
      for (const x of EDGES) {
        for (const m of [0, 1, 1 << 30, (1 << 30) + 1, INT32_MAX, 0x5a827999]) {
          assert.equal(multiplyByQuantizedMultiplier(x, m, shift), ref.mbqm(x, m, shift), `mbqm(${x}, ${m}, ${shift})`);
          cases++;
        }
      }
      for (let i = 0; i < 2000; i++) {
        const x = i % 2 === 0 ? next() : next() >> 12; // accumulator-sized values too
        const m = (1 << 30) + (next() & 0x3fffffff); // a normalized Q0.31 multiplier in [2^30, 2^31)
        assert.equal(multiplyByQuantizedMultiplier(x, m, shift), ref.mbqm(x, m, shift), `mbqm(${x}, ${m}, ${shift})`);
        cases++;
      }
    }
    assert.ok(cases >= 100000, `${cases} cases`);
  });

  it("MultiplyByQuantizedMultiplier: exact halves (multiplier 2^30, odd and extreme x) at every right shift", () => {
    for (let shift = -30; shift <= 0; shift++) {
      for (const x of [-1, -3, -5, -7, -(2 ** 20) - 1, INT32_MIN + 1, 1, 3, 2 ** 20 + 1, INT32_MAX]) {
        assert.equal(multiplyByQuantizedMultiplier(x, 1 << 30, shift), ref.mbqm(x, 1 << 30, shift));
      }
    }
  });

  it("the SmallerThanOneExp and GreaterThanOne variants match", () => {
    fc.assert(fc.property(fc.integer({ min: INT32_MIN, max: INT32_MAX }), fc.integer({ min: 0, max: INT32_MAX }), fc.integer({ min: -31, max: 0 }), (x, m, s) => {
      assert.equal(multiplyByQuantizedMultiplierSmallerThanOneExp(x, m, s), ref.mbqmSmallerThanOneExp(x, m, s));
    }), { numRuns: 20000 });
    fc.assert(fc.property(fc.integer({ min: -255, max: 255 }), fc.integer({ min: 0, max: INT32_MAX }), fc.integer({ min: 0, max: 30 }), (x, m, s) => {
      assert.equal(multiplyByQuantizedMultiplierGreaterThanOne(x, m, s), ref.mbqmGreaterThanOne(x, m, s));
    }), { numRuns: 20000 });
  });

  it("SaturatingRoundingMultiplyByPOT and RoundingHalfSum match gemmlowp", () => {
    fc.assert(fc.property(fc.integer({ min: INT32_MIN, max: INT32_MAX }), fc.integer({ min: -31, max: 30 }), (x, e) => {
      assert.equal(saturatingRoundingMultiplyByPOT(x, e), Number(ref.srmpot(BigInt(x), e)));
    }), { numRuns: 20000 });
    const values = fc.oneof(fc.integer({ min: INT32_MIN, max: INT32_MAX }), fc.constantFrom(...EDGES));
    fc.assert(fc.property(values, values, (a, b) => {
      assert.equal(roundingHalfSum(a, b), Number(ref.roundingHalfSum(BigInt(a), BigInt(b))));
    }), { numRuns: 20000 });
  });
});
