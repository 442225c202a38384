import assert from "node:assert/strict";
import fc from "fast-check";
import {
  addSat32, divRound, divTrunc, INT32_MAX, INT32_MIN, isqrt, mulQ15, mulQ16, sat16, sat32, shrRound,
} from "../../../firmware/src/dsp/q.ts";
import { reportMaxError } from "./error-report.ts";

const RUNS = { numRuns: 2000 };
const edges = [0, 1, -1, 2, -2, 0x7fff, -0x8000, 0xffff, 0x10000, -0x10000, INT32_MAX, INT32_MIN, INT32_MAX - 1, INT32_MIN + 1];
// Full-range integers with the edge values over-represented, where overflow bugs live.
const int32 = fc.oneof(fc.integer({ min: INT32_MIN, max: INT32_MAX }), fc.constantFrom(...edges), fc.integer({ min: -70000, max: 70000 }));
const int16 = fc.integer({ min: -0x8000, max: 0x7fff });

function clampBig(x: bigint, lo: number, hi: number): number {
  return x < BigInt(lo) ? lo : x > BigInt(hi) ? hi : Number(x);
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return (a % b !== 0n && (a < 0n) !== (b < 0n)) ? q - 1n : q;
}

describe("dsp/q", () => {
  it("sat16 and sat32 clamp like a float min/max", () => {
    fc.assert(fc.property(int32, int32, (a, b) => {
      assert.equal(sat16(a), Math.max(-32768, Math.min(32767, a)));
      assert.equal(sat32(a + b), Math.max(INT32_MIN, Math.min(INT32_MAX, a + b)));
    }), RUNS);
  });

  it("addSat32 equals the saturated exact sum", () => {
    fc.assert(fc.property(int32, int32, (a, b) => {
      assert.equal(addSat32(a, b), Math.max(INT32_MIN, Math.min(INT32_MAX, a + b)));
    }), RUNS);
  });

  it("shrRound rounds half up within 0.5 of x·2^-n", () => {
    let worst = 0;
    fc.assert(fc.property(int32, fc.integer({ min: 0, max: 31 }), (x, n) => {
      const exact = x / 2 ** n;
      const got = shrRound(x, n);
      assert.equal(got, Math.floor(exact + 0.5));
      worst = Math.max(worst, Math.abs(got - exact));
      assert.ok(Math.abs(got - exact) <= 0.5);
    }), RUNS);
    reportMaxError("shrRound", worst, 0.5);
  });

  it("mulQ15 is within 0.5 LSB of the float product, saturating only -1·-1", () => {
    let worst = 0;
    fc.assert(fc.property(int16, int16, (a, b) => {
      const exact = (a * b) / 32768;
      const got = mulQ15(a, b);
      if (exact >= 32767.5) {
        assert.equal(got, 32767);
        return;
      }
      worst = Math.max(worst, Math.abs(got - exact));
      assert.ok(Math.abs(got - exact) <= 0.5, `${a}·${b}: ${got} vs ${exact}`);
    }), RUNS);
    assert.equal(mulQ15(-32768, -32768), 32767);
    assert.equal(mulQ15(16384, 16384), 8192);
    reportMaxError("mulQ15", worst, 0.5);
  });

  it("mulQ16 equals the exact 64-bit product rounded half up and saturated", () => {
    let worst = 0;
    const q16 = fc.oneof(int32, fc.integer({ min: -(1 << 20), max: 1 << 20 }), fc.integer({ min: -(1 << 24), max: 1 << 24 }));
    fc.assert(fc.property(q16, q16, (a, b) => {
      const exact = floorDiv(BigInt(a) * BigInt(b) + 32768n, 65536n);
      const got = mulQ16(a, b);
      assert.equal(got, clampBig(exact, INT32_MIN, INT32_MAX), `${a}·${b}`);
      if (exact >= BigInt(INT32_MIN) && exact <= BigInt(INT32_MAX)) {
        const err = Math.abs(got - (a * b) / 65536);
        worst = Math.max(worst, err);
        assert.ok(err <= 0.5 + 1e-6);
      }
    }), RUNS);
    assert.equal(mulQ16(65536, 65536), 65536);
    assert.equal(mulQ16(-65536, 3 << 16), -3 << 16);
    assert.equal(mulQ16(INT32_MAX, INT32_MAX), INT32_MAX);
    assert.equal(mulQ16(INT32_MIN, INT32_MAX), INT32_MIN);
    reportMaxError("mulQ16", worst, 0.5);
  });

  it("divTrunc equals truncating division, with saturation", () => {
    fc.assert(fc.property(int32, int32, (n, d) => {
      const got = divTrunc(n, d);
      if (d === 0) {
        assert.equal(got, n > 0 ? INT32_MAX : n < 0 ? INT32_MIN : 0);
        return;
      }
      assert.equal(got, clampBig(BigInt(n) / BigInt(d), INT32_MIN, INT32_MAX), `${n}/${d}`);
    }), RUNS);
    assert.equal(divTrunc(INT32_MIN, -1), INT32_MAX);
    assert.equal(divTrunc(INT32_MIN, 1), INT32_MIN);
    assert.equal(divTrunc(-7, 2), -3);
  });

  it("divRound rounds half away from zero within 0.5 of n/d", () => {
    let worst = 0;
    fc.assert(fc.property(int32, int32, (n, d) => {
      if (d === 0) return;
      const bn = BigInt(n);
      const bd = BigInt(d);
      let q = bn / bd;
      const r = bn % bd;
      const twice = 2n * (r < 0n ? -r : r);
      if (twice >= (bd < 0n ? -bd : bd)) q += (bn < 0n) !== (bd < 0n) ? -1n : 1n;
      const got = divRound(n, d);
      assert.equal(got, clampBig(q, INT32_MIN, INT32_MAX), `${n}/${d}`);
      if (q >= BigInt(INT32_MIN) && q <= BigInt(INT32_MAX)) {
        const err = Math.abs(got - n / d);
        worst = Math.max(worst, err);
        assert.ok(err <= 0.5 + 1e-9);
      }
    }), RUNS);
    assert.equal(divRound(5, 2), 3);
    assert.equal(divRound(-5, 2), -3);
    assert.equal(divRound(7, -2), -4);
    assert.equal(divRound(INT32_MIN, -1), INT32_MAX);
    reportMaxError("divRound", worst, 0.5);
  });

  it("isqrt is the floor square root over uint32", () => {
    const u32 = fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.constantFrom(0, 1, 2, 3, 4, 0xffffffff, 0xfffe0001, 0xfffe0000));
    fc.assert(fc.property(u32, (x) => {
      const r = isqrt(x);
      assert.ok(r * r <= x && (r + 1) * (r + 1) > x, `isqrt(${x}) = ${r}`);
    }), RUNS);
    assert.equal(isqrt(0xffffffff), 65535);
  });
});
