import assert from "node:assert/strict";
import fc from "fast-check";
import { INT32_MAX, INT32_MIN } from "../../../firmware/src/dsp/q.ts";
import { RateOfChange } from "../../../firmware/src/dsp/rate.ts";
import { reportMaxError } from "./error-report.ts";

interface Sample { t: number; v: number }

// Window bookkeeping with plain arrays, then the endpoint slope as an exact rational.
class ReferenceRate {
  samples: Sample[] = [];
  constructor(readonly windowS: number, readonly capacity: number, readonly minSpanS: number) {}
  push(t: number, v: number): void {
    const last = this.samples.at(-1);
    if (last && t < last.t) this.samples = [];
    if (last && t === last.t) last.v = v;
    else this.samples.push({ t, v });
    if (this.samples.length > this.capacity) this.samples.shift();
    this.samples = this.samples.filter((s) => t - s.t <= this.windowS);
  }
  endpoints(): [Sample, Sample] | null {
    const first = this.samples[0];
    const last = this.samples.at(-1)!;
    return this.samples.length >= 2 && last.t - first.t >= this.minSpanS ? [first, last] : null;
  }
}

// round(num/den), ties away from zero, saturated to int32.
function roundRational(num: bigint, den: bigint): number {
  const neg = num < 0n;
  const a = neg ? -num : num;
  let q = a / den;
  if (2n * (a % den) >= den) q += 1n;
  const r = neg ? -q : q;
  return r > BigInt(INT32_MAX) ? INT32_MAX : r < BigInt(INT32_MIN) ? INT32_MIN : Number(r);
}

const scenario = fc.record({
  windowS: fc.oneof(fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 7200 }), fc.integer({ min: 1, max: 596523 })),
  capacity: fc.integer({ min: 2, max: 40 }),
  minSpanFrac: fc.integer({ min: 0, max: 100 }),
  t0: fc.integer({ min: -1e6, max: 2147000000 }),
  steps: fc.array(fc.record({
    dt: fc.oneof(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 900 }), fc.constantFrom(0, -1, -5), fc.integer({ min: 1, max: 600000 })),
    v: fc.oneof(fc.integer({ min: -200, max: 200 }), fc.integer({ min: -(2 ** 30) + 1, max: 2 ** 30 - 1 })),
  }), { minLength: 1, maxLength: 80 }),
});

describe("dsp/rate", () => {
  it("is the correctly rounded endpoint slope per hour (≤ 0.5 from float) on random series", () => {
    let worst = 0;
    fc.assert(fc.property(scenario, ({ windowS, capacity, minSpanFrac, t0, steps }) => {
      const minSpanS = Math.max(1, Math.floor((windowS * minSpanFrac) / 100));
      const rate = new RateOfChange({ windowS, capacity, minSpanS });
      const ref = new ReferenceRate(windowS, capacity, minSpanS);
      let t = t0;
      for (const { dt, v } of steps) {
        t += dt;
        rate.push(t, v);
        ref.push(t, v);
        const ends = ref.endpoints();
        assert.equal(rate.available, ends !== null);
        if (!ends) {
          assert.equal(rate.perHour, 0);
          continue;
        }
        const [a, b] = ends;
        const expected = roundRational(BigInt(b.v - a.v) * 3600n, BigInt(b.t - a.t));
        assert.equal(rate.perHour, expected, `${a.v}@${a.t} → ${b.v}@${b.t}`);
        const float = ((b.v - a.v) * 3600) / (b.t - a.t);
        if (float > INT32_MIN && float < INT32_MAX) {
          const err = Math.abs(rate.perHour - float);
          worst = Math.max(worst, err);
          assert.ok(err <= 0.5 + 1e-6);
        }
      }
    }), { numRuns: 2000 });
    reportMaxError("rate (per hour)", worst, 0.5);
  });

  it("reports a drain filling at 12 half-percent per hour", () => {
    const rate = new RateOfChange({ windowS: 3600, capacity: 13, minSpanS: 1800 });
    for (let i = 0; i <= 24; i++) {
      rate.push(i * 300, 40 + i);
      assert.equal(rate.available, i >= 6);
    }
    assert.equal(rate.perHour, 12);
  });

  it("keeps a sample exactly windowS old", () => {
    const rate = new RateOfChange({ windowS: 600, capacity: 4 });
    rate.push(0, 0);
    rate.push(600, 10);
    assert.equal(rate.available, true);
    assert.equal(rate.perHour, 60);
    rate.push(601, 10);
    assert.equal(rate.perHour, 0);
  });

  it("saturates exactly where the slope leaves int32", () => {
    const rate = new RateOfChange({ windowS: 60, capacity: 2 });
    rate.push(0, 0);
    rate.push(1, 596523);
    assert.equal(rate.perHour, 596523 * 3600);
    rate.push(1, 596524);
    assert.equal(rate.perHour, INT32_MAX);
    rate.push(1, -596524);
    assert.equal(rate.perHour, INT32_MIN);
    rate.push(1, -596523);
    assert.equal(rate.perHour, -596523 * 3600);
  });

  it("survives a wrapping int32 clock and saturates huge slopes", () => {
    const rate = new RateOfChange({ windowS: 600, capacity: 4 });
    rate.push(INT32_MAX - 100, 0);
    rate.push((INT32_MAX + 200) | 0, 30);
    assert.equal(rate.perHour, 360);
    rate.reset();
    rate.push(0, -(2 ** 30) + 1);
    rate.push(1, 2 ** 30 - 1);
    assert.equal(rate.perHour, INT32_MAX);
    assert.throws(() => new RateOfChange({ windowS: 596524, capacity: 4 }), RangeError);
    assert.throws(() => new RateOfChange({ windowS: 60, capacity: 1 }), RangeError);
  });
});
