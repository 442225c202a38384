import assert from "node:assert/strict";
import fc from "fast-check";
import { VERTICAL_MAX_MM, fillHalfPercent, verticalMm } from "../../../firmware/src/dsp/fill.ts";
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

  it("verticalMm is distance·cos(tilt) within 0.5 mm + distance·2^-15, for every whole degree", () => {
    let worst = 0;
    for (let deg = 0; deg <= 90; deg++) {
      const c = Math.cos((deg * Math.PI) / 180);
      for (const d of [0, 1, 2, 7, 150, 999, 1000, 1199, 4500, 65535, VERTICAL_MAX_MM]) {
        const err = Math.abs(verticalMm(d, deg) - d * c);
        assert.ok(err <= 0.5 + d / 32768 + 1e-9, `${d} mm at ${deg}°: ${verticalMm(d, deg)} against ${d * c}`);
        if (d <= 4500) worst = Math.max(worst, err);
      }
    }
    fc.assert(fc.property(fc.integer({ min: 0, max: VERTICAL_MAX_MM }), fc.integer({ min: 0, max: 90 }), (d, deg) => {
      const v = verticalMm(d, deg);
      assert.ok(v >= 0 && v <= d && Math.abs(v - d * Math.cos((deg * Math.PI) / 180)) <= 0.5 + d / 32768 + 1e-9);
    }), { numRuns: 5000 });
    assert.equal(verticalMm(1000, 0), 1000);
    assert.equal(verticalMm(1000, 60), 500);
    assert.equal(verticalMm(1000, 90), 0);
    reportMaxError("vertical distance (mm, up to 4500 mm)", worst, 0.5 + 4500 / 32768);
    for (const [d, deg] of [[-1, 0], [VERTICAL_MAX_MM + 1, 0], [100, -1], [100, 91], [100.5, 10], [100, 10.5]]) {
      assert.throws(() => verticalMm(d, deg), RangeError);
    }
  });
});
