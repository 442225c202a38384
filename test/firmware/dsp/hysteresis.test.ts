import assert from "node:assert/strict";
import fc from "fast-check";
import {
  HysteresisDetector, TRANSITION_CLEARED, TRANSITION_ENTERED, TRANSITION_NONE,
} from "../../../firmware/src/dsp/hysteresis.ts";
import type { HysteresisOptions, Transition } from "../../../firmware/src/dsp/hysteresis.ts";
import { reportMaxError } from "./error-report.ts";

// Looks back over the samples since the last transition instead of counting.
function referenceTransitions(o: HysteresisOptions, xs: number[]): Transition[] {
  let active = false;
  let since = 0;
  return xs.map((_, i) => {
    const tail = (n: number) => (i + 1 - since >= n ? xs.slice(i + 1 - n, i + 1) : null);
    if (!active) {
      const last = tail(o.setCount);
      if (last && last.every((x) => x >= o.high)) {
        active = true;
        since = i + 1;
        return TRANSITION_ENTERED;
      }
    } else {
      const last = tail(o.clearCount);
      if (last && last.every((x) => x <= o.low)) {
        active = false;
        since = i + 1;
        return TRANSITION_CLEARED;
      }
    }
    return TRANSITION_NONE;
  });
}

const options = fc.record({
  a: fc.integer({ min: -20, max: 20 }),
  b: fc.integer({ min: -20, max: 20 }),
  setCount: fc.integer({ min: 1, max: 5 }),
  clearCount: fc.integer({ min: 1, max: 5 }),
}).map(({ a, b, setCount, clearCount }): HysteresisOptions => ({ low: Math.min(a, b), high: Math.max(a, b), setCount, clearCount }));

describe("dsp/hysteresis", () => {
  it("matches a look-back reference state machine on random sequences", () => {
    let mismatches = 0;
    fc.assert(fc.property(options, fc.array(fc.integer({ min: -30, max: 30 }), { maxLength: 200 }), (o, xs) => {
      const detector = new HysteresisDetector(o);
      const expected = referenceTransitions(o, xs);
      let active = false;
      xs.forEach((x, i) => {
        const got = detector.update(x);
        if (got !== expected[i]) mismatches++;
        assert.equal(got, expected[i], `sample ${i} (${x})`);
        if (got === TRANSITION_ENTERED) {
          assert.equal(active, false);
          active = true;
        } else if (got === TRANSITION_CLEARED) {
          assert.equal(active, true);
          active = false;
        }
        assert.equal(detector.active, active);
      });
    }), { numRuns: 2000 });
    reportMaxError("hysteresis (mismatched transitions)", mismatches, 0);
  });

  it("sends one alarm for a noisy crossing", () => {
    const detector = new HysteresisDetector({ high: 80, low: 70, setCount: 3, clearCount: 2 });
    const level = [60, 81, 79, 82, 85, 90, 78, 81, 75, 71, 69, 72, 68, 66, 81];
    const events = level.map((x) => detector.update(x));
    assert.deepEqual(events.flatMap((e, i) => (e === TRANSITION_NONE ? [] : [[i, e]])), [[5, TRANSITION_ENTERED], [13, TRANSITION_CLEARED]]);
  });

  it("restores state and pending count, and rejects bad settings", () => {
    const detector = new HysteresisDetector({ high: 10, low: 5, setCount: 3, clearCount: 1 });
    detector.update(12);
    detector.update(12);
    assert.equal(detector.pendingCount, 2);
    const revived = new HysteresisDetector({ high: 10, low: 5, setCount: 3, clearCount: 1 });
    revived.reset(false, detector.pendingCount);
    assert.equal(revived.update(11), TRANSITION_ENTERED);
    assert.throws(() => new HysteresisDetector({ high: 5, low: 6, setCount: 1, clearCount: 1 }), RangeError);
    assert.throws(() => new HysteresisDetector({ high: 5, low: 1, setCount: 0, clearCount: 1 }), RangeError);
  });
});
