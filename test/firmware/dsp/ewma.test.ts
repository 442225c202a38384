import assert from "node:assert/strict";
import fc from "fast-check";
import { Ewma } from "../../../firmware/src/dsp/ewma.ts";
import { reportMaxError } from "./error-report.ts";

// A shift k and fractional bits F with k < F, plus samples inside the input range 2^(30−F).
const setup = fc.integer({ min: 0, max: 8 }).chain((k) =>
  fc.integer({ min: k + 1, max: Math.min(24, k + 12) }).chain((f) => {
    const limit = 2 ** (30 - f) - 1;
    const sample = fc.oneof(fc.integer({ min: -limit, max: limit }), fc.integer({ min: -50, max: 50 }));
    return fc.record({ k: fc.constant(k), f: fc.constant(f), xs: fc.array(sample, { minLength: 1, maxLength: 300 }) });
  }));

describe("dsp/ewma", () => {
  it("stays within 0.5 + 2^(k−F−1) of a float EWMA (state within 2^(k−F−1))", () => {
    let worstOutRel = 0;
    let worstStateRel = 0;
    fc.assert(fc.property(setup, ({ k, f, xs }) => {
      const filter = new Ewma(k, f);
      const alpha = 2 ** -k;
      const stateBound = 2 ** (k - f - 1);
      let y = xs[0];
      xs.forEach((x, i) => {
        if (i > 0) y += alpha * (x - y);
        const out = filter.update(x);
        const stateErr = Math.abs(filter.valueQ / 2 ** f - y);
        const outErr = Math.abs(out - y);
        worstStateRel = Math.max(worstStateRel, stateErr / stateBound);
        worstOutRel = Math.max(worstOutRel, outErr / (0.5 + stateBound));
        assert.ok(stateErr <= stateBound + 1e-6, `k=${k} F=${f} i=${i}: state off by ${stateErr}`);
        assert.ok(outErr <= 0.5 + stateBound + 1e-6, `k=${k} F=${f} i=${i}: output off by ${outErr}`);
        assert.equal(filter.value, out);
      });
    }), { numRuns: 1500 });
    reportMaxError("ewma output error / (0.5 + 2^(k-F-1)), all k < F ≤ 24", worstOutRel, 1);
    reportMaxError("ewma state error / 2^(k-F-1), all k < F ≤ 24", worstStateRel, 1);
  });

  for (let k = 0; k < 8; k++) {
    it(`default fracBits 8, α = 2^-${k}: output within 0.5 + 2^${k - 9} of float`, () => {
      const bound = 0.5 + 2 ** (k - 9);
      let worst = 0;
      const sample = fc.oneof(fc.integer({ min: -(2 ** 22) + 1, max: 2 ** 22 - 1 }), fc.integer({ min: -300, max: 300 }));
      fc.assert(fc.property(fc.array(sample, { minLength: 1, maxLength: 200 }), (xs) => {
        const filter = new Ewma(k);
        let y = xs[0];
        xs.forEach((x, i) => {
          if (i > 0) y += 2 ** -k * (x - y);
          const err = Math.abs(filter.update(x) - y);
          worst = Math.max(worst, err);
          assert.ok(err <= bound + 1e-6, `sample ${i}: off by ${err}`);
        });
      }), { numRuns: 1000 });
      reportMaxError(`ewma k=${k} F=8 output`, worst, bound);
    });
  }

  it("converges exactly to a constant input from any start", () => {
    fc.assert(fc.property(setup, fc.integer({ min: -1000, max: 1000 }), ({ k, f, xs }, target) => {
      const filter = new Ewma(k, f);
      for (const x of xs) filter.update(x);
      const steps = 32 * 2 ** k + 8;
      for (let i = 0; i < steps; i++) filter.update(target);
      assert.equal(filter.value, target);
      assert.equal(filter.update(target), target);
    }), { numRuns: 1000 });
  });

  it("seeds with the first sample, clamps out-of-range input and rejects k ≥ F", () => {
    const filter = new Ewma(2, 8);
    assert.equal(filter.primed, false);
    assert.equal(filter.update(1000), 1000);
    assert.equal(filter.update(0), 750);
    filter.reset();
    assert.equal(filter.update(2 ** 30), 2 ** 22 - 1);
    assert.throws(() => new Ewma(8, 8), RangeError);
    assert.throws(() => new Ewma(-1, 8), RangeError);
    assert.throws(() => new Ewma(0, 25), RangeError);
  });
});
