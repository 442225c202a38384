import assert from "node:assert/strict";
import fc from "fast-check";
import { isoTime } from "../../../simulator/src/core/iso-time.ts";

describe("simulator/core/iso-time: ISO timestamps without a Date per call", () => {
  it("property: equals toISOString for any time, fractions of a millisecond too, in any order (the cached day must not leak into another)", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.integer({ min: -1e13, max: 2.6e14 }), fc.double({ min: -1e13, max: 2.6e14, noNaN: true })), { minLength: 1, maxLength: 50 }), (times) => {
        for (const t of times) assert.equal(isoTime(t), new Date(t).toISOString());
      }),
      { numRuns: 500 },
    );
  });

  it("equals toISOString at the edges: midnight, the last millisecond of a day, leap days, years 1970 and 9999, fractions, beyond 9999", () => {
    const day = 86_400_000;
    const edges = [0, 1, day - 1, day, Date.UTC(2024, 1, 29, 23, 59, 59, 999), Date.UTC(2024, 2, 1), Date.UTC(2100, 1, 28, 12), Date.UTC(9999, 11, 31, 23, 59, 59, 999), Date.UTC(10000, 0, 1), -1, 1.5, 1_780_000_000_000.25];
    for (const t of edges) assert.equal(isoTime(t), new Date(t).toISOString(), `at ${t}`);
  });

  it("a run's times, about a minute apart across a month and more, all match", () => {
    const start = Date.UTC(2026, 0, 30, 22);
    for (let t = start; t < start + 40 * 86_400_000; t += 60_013) assert.equal(isoTime(t), new Date(t).toISOString());
  });
});
