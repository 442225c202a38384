import assert from "node:assert/strict";
import fc from "fast-check";
import { MedianFilter } from "../../../firmware/src/dsp/median.ts";
import { reportMaxError } from "./error-report.ts";

// Median of the last `size` values by sorting a copy; lower middle while filling.
function referenceMedians(size: number, xs: number[]): number[] {
  return xs.map((_, i) => {
    const window = xs.slice(Math.max(0, i - size + 1), i + 1).sort((a, b) => a - b);
    return window[(window.length - 1) >> 1];
  });
}

describe("dsp/median", () => {
  it("matches a sort-based median over random sequences (error 0)", () => {
    let worst = 0;
    const sample = fc.oneof(fc.integer({ min: -5, max: 5 }), fc.integer({ min: -0x80000000, max: 0x7fffffff }));
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 7 }).map((h) => 2 * h + 1),
      fc.array(sample, { maxLength: 80 }),
      (size, xs) => {
        const filter = new MedianFilter(size);
        const expected = referenceMedians(size, xs);
        xs.forEach((x, i) => {
          const got = filter.push(x);
          worst = Math.max(worst, Math.abs(got - expected[i]));
          assert.equal(got, expected[i], `sample ${i}`);
          assert.equal(filter.value, got);
          assert.equal(filter.count, Math.min(size, i + 1));
        });
      },
    ), { numRuns: 2000 });
    reportMaxError("median", worst, 0);
  });

  it("removes isolated spikes narrower than half the window", () => {
    const filter = new MedianFilter(5);
    const echoes = [1500, 1502, 1501, 4500, 1499, 30, 1500, 1503, 1501];
    const out = echoes.map((x) => filter.push(x));
    assert.ok(out.slice(2).every((y) => y >= 1499 && y <= 1503), `${out}`);
  });

  it("rejects even, zero and oversized windows, and reset forgets the samples", () => {
    for (const bad of [0, 2, 16, 17, -1, 3.5]) assert.throws(() => new MedianFilter(bad), RangeError);
    const filter = new MedianFilter(3);
    filter.push(10);
    filter.push(20);
    filter.reset();
    assert.equal(filter.count, 0);
    assert.equal(filter.push(7), 7);
  });
});
