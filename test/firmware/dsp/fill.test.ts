import assert from "node:assert/strict";
import fc from "fast-check";
import { fillHalfPercent } from "../../../firmware/src/dsp/fill.ts";
import { reportMaxError } from "./error-report.ts";

const geometry = fc.oneof(
  fc.record({ depthMm: fc.integer({ min: 1, max: 50 }), fullFrac: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({ depthMm: fc.integer({ min: 1, max: 2000 }), fullFrac: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({ depthMm: fc.integer({ min: 1, max: 10000000 }), fullFrac: fc.double({ min: 0, max: 1, noNaN: true }) }),
).map(({ depthMm, fullFrac }) => ({ depthMm, fullMm: Math.min(depthMm - 1, Math.floor(depthMm * fullFrac)) }));

describe("dsp/fill", () => {
  it("is the correctly rounded float fill (≤ 0.5 half-percent) for random geometries", () => {
    let worst = 0;
    fc.assert(fc.property(geometry, fc.double({ min: -0.1, max: 1.1, noNaN: true }), ({ depthMm, fullMm }, where) => {
      const distanceMm = Math.round(fullMm + (depthMm - fullMm) * where);
      const exact = Math.max(0, Math.min(200, (200 * (depthMm - distanceMm)) / (depthMm - fullMm)));
      const got = fillHalfPercent(distanceMm, depthMm, fullMm);
      assert.equal(got, Math.round(exact), `${distanceMm} in ${fullMm}..${depthMm}`);
      worst = Math.max(worst, Math.abs(got - exact));
      assert.ok(Math.abs(got - exact) <= 0.5);
    }), { numRuns: 5000 });
    reportMaxError("fill (half-percent)", worst, 0.5);
  });

  it("clamps, rounds ties up and rejects impossible geometry", () => {
    assert.equal(fillHalfPercent(250, 1200, 300), 200);
    assert.equal(fillHalfPercent(1300, 1200, 300), 0);
    assert.equal(fillHalfPercent(750, 1200, 300), 100);
    assert.equal(fillHalfPercent(399, 400, 0), 1);
    assert.equal(fillHalfPercent(1, 400, 0), 200);
    for (const [depth, full] of [[300, 300], [300, 400], [300, -1], [10000001, 0]]) {
      assert.throws(() => fillHalfPercent(100, depth, full), RangeError);
    }
  });
});
