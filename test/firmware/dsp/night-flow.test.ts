import assert from "node:assert/strict";
import fc from "fast-check";
import { DAY_S, NIGHT_FLOW_UNAVAILABLE, NightFlowMonitor } from "../../../firmware/src/dsp/night-flow.ts";
import { reportMaxError } from "./error-report.ts";

interface Step { T: number; dt: number; flow: number }

// Works in absolute seconds: night n is [n·DAY + start, n·DAY + start + length),
// and step i covers (T_i − dt_i, T_i]. The latest night that ended by step j, with
// the steps that crossed its start (i) and its end (k), if it was watched whole.
function lastNight(steps: Step[], j: number, start: number, end: number): { s: number; e: number; i: number; k: number } | undefined {
  const length = (end - start + DAY_S) % DAY_S;
  const now = steps[j].T;
  // The latest night whose end lies at or before now.
  let n = Math.floor((now - start - length) / DAY_S);
  while ((n + 1) * DAY_S + start + length <= now) n++;
  const s = n * DAY_S + start;
  const e = s + length;
  const covers = (k: number, at: number) => steps[k].T - steps[k].dt < at && at <= steps[k].T;
  let i = -1;
  let k = -1;
  for (let m = 0; m <= j; m++) {
    if (covers(m, s)) i = m;
    if (covers(m, e)) k = m;
  }
  if (i < 0 || k < 0 || i === k) return undefined;
  for (let m = i; m <= k; m++) if (steps[m].dt >= DAY_S) return undefined;
  return { s, e, i, k };
}

function referenceNightMin(steps: Step[], j: number, start: number, end: number): number {
  const night = lastNight(steps, j, start, end);
  if (!night) return NIGHT_FLOW_UNAVAILABLE;
  const inside = steps.slice(0, j + 1).filter((st) => st.T >= night.s && st.T < night.e).map((st) => st.flow);
  return Math.min(...inside);
}

function referenceRun(steps: Step[], j: number, zero: number): number {
  for (let m = j; m >= 0; m--) if (steps[m].flow <= zero) return steps[j].T - steps[m].T;
  return steps[j].T - (steps[0].T - steps[0].dt);
}

// Bucket mode in absolute seconds: a step counts in the bucket [kB, (k+1)B) it starts in
// and a bucket is judged at the first step reaching its end; the step that judges it
// must cross only that end for the bucket to be a night sample.
interface Judged { mean: number; span: number; whole: boolean; at: number }
function referenceBuckets(steps: Step[], B: number): Judged[] {
  const out: Judged[] = [];
  let sum = 0;
  let span = 0;
  for (let m = 0; m < steps.length; m++) {
    const { T, dt, flow } = steps[m];
    sum = Math.min(0x7fffffff, sum + Math.min(0x7fffffff, flow * dt));
    span = Math.min(0x7fffffff, span + dt);
    const end = Math.floor(T / B) * B;
    if (dt > 0 && end > T - dt) {
      out.push({ mean: Math.floor(sum / span), span, whole: end - B <= T - dt, at: m });
      sum = 0;
      span = 0;
    }
  }
  return out;
}

function referenceBucketNightMin(steps: Step[], j: number, start: number, end: number, B: number): number {
  const night = lastNight(steps, j, start, end);
  if (!night) return NIGHT_FLOW_UNAVAILABLE;
  // Buckets judged after the step that opened the night, up to the one that closed it.
  const inside = referenceBuckets(steps.slice(0, night.k + 1), B).filter((b) => b.at > night.i && b.whole).map((b) => b.mean);
  return inside.length === 0 ? NIGHT_FLOW_UNAVAILABLE : Math.min(...inside);
}

function referenceBucketRun(steps: Step[], j: number, zero: number, B: number): number {
  let run = 0;
  for (const b of referenceBuckets(steps.slice(0, j + 1), B)) run = b.mean > zero ? Math.min(0x7fffffff, run + b.span) : 0;
  return run;
}

/**
 * Feeds the steps to the monitor at absolute times from T0 and compares it after each
 * with `expect` (the night minimum only where given); returns the mismatches seen
 * before the assertions stop at the first.
 */
function replay(monitor: NightFlowMonitor, T0: number, steps: readonly { dt: number; flow: number }[],
  expect: (abs: Step[], j: number) => { run: number; min?: number }): number {
  const abs: Step[] = [];
  let T = T0;
  let longest = 0;
  let mismatches = 0;
  steps.forEach(({ dt, flow }, j) => {
    T += j === 0 ? 0 : dt;
    abs.push({ T, dt, flow });
    monitor.update(T % DAY_S, flow, dt);
    const { run, min } = expect(abs, j);
    longest = Math.max(longest, run);
    if (monitor.flowRunS !== run || (min !== undefined && monitor.nightMinMlMin !== min)) mismatches++;
    assert.equal(monitor.flowRunS, run, `run after step ${j}`);
    assert.equal(monitor.longestFlowRunS, longest);
    assert.equal(monitor.leak, run >= DAY_S);
    if (min === undefined) return;
    assert.equal(monitor.nightMinMlMin, min, `night min after step ${j} (T=${T})`);
    assert.equal(monitor.nightMinAvailable, min !== NIGHT_FLOW_UNAVAILABLE);
  });
  return mismatches;
}

const profile = fc.record({
  start: fc.integer({ min: 0, max: DAY_S - 1 }),
  length: fc.oneof(fc.integer({ min: 1, max: DAY_S - 1 }), fc.integer({ min: 1800, max: 4 * 3600 })),
  zero: fc.constantFrom(0, 0, 5),
  T0: fc.integer({ min: 0, max: 3 * DAY_S }),
  steps: fc.array(fc.record({
    dt: fc.oneof(
      { weight: 12, arbitrary: fc.integer({ min: 60, max: 1800 }) },
      { weight: 2, arbitrary: fc.constantFrom(0, 1, 3600, DAY_S - 1, DAY_S) },
      { weight: 2, arbitrary: fc.integer({ min: 0, max: 2 * DAY_S }) },
    ),
    flow: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 20000 })),
  }), { minLength: 1, maxLength: 400 }),
});

describe("dsp/night-flow", () => {
  it("matches an absolute-time reference over random day profiles", () => {
    let mismatches = 0;
    fc.assert(fc.property(profile, ({ start, length, zero, T0, steps }) => {
      const end = (start + length) % DAY_S;
      const monitor = new NightFlowMonitor({ nightStartS: start, nightEndS: end, zeroFlowMlMin: zero });
      mismatches += replay(monitor, T0, steps, (abs, j) => ({ run: referenceRun(abs, j, zero), min: referenceNightMin(abs, j, start, end) }));
    }), { numRuns: 1500 });
    reportMaxError("night-flow (mismatches)", mismatches, 0);
  });

  it("with buckets, matches an absolute-time reference over random day profiles", () => {
    const bucketed = fc.record({
      bucket: fc.constantFrom(60, 300, 900, 1200, 3600),
      startH: fc.integer({ min: 0, max: 23 }),
      lengthH: fc.integer({ min: 1, max: 12 }),
      zero: fc.constantFrom(0, 0, 5),
      T0: fc.integer({ min: 0, max: 3 * DAY_S }),
      steps: fc.array(fc.record({
        dt: fc.oneof(
          { weight: 8, arbitrary: fc.constantFrom(60, 300, 900) },
          { weight: 3, arbitrary: fc.integer({ min: 0, max: 1800 }) },
          { weight: 1, arbitrary: fc.constantFrom(0, 3600, 7200, DAY_S - 1, DAY_S, 2 * DAY_S) },
        ),
        flow: fc.oneof(fc.constant(0), fc.constantFrom(0, 0, 1000, 10000), fc.integer({ min: 0, max: 20000 }), fc.integer({ min: 0, max: 0x7fffffff })),
      }), { minLength: 100, maxLength: 1200, size: "max" }),
    });
    let nights = 0;
    fc.assert(fc.property(bucketed, ({ bucket, startH, lengthH, zero, T0, steps }) => {
      const start = startH * 3600;
      const end = ((startH + lengthH) % 24) * 3600;
      const monitor = new NightFlowMonitor({ nightStartS: start, nightEndS: end, zeroFlowMlMin: zero, bucketS: bucket });
      replay(monitor, T0, steps, (abs, j) => {
        const run = referenceBucketRun(abs, j, zero, bucket);
        // The night reference is quadratic: checked at every 7th step and the last.
        if (j % 7 !== 0 && j !== steps.length - 1) return { run };
        const min = referenceBucketNightMin(abs, j, start, end, bucket);
        if (min !== NIGHT_FLOW_UNAVAILABLE) nights++;
        return { run, min };
      });
    }), { numRuns: 120 });
    // The profiles must reach judged nights, or the comparison says little about them.
    assert.ok(nights > 200, `only ${nights} checks with a night minimum`);
  });

  it("with hour buckets, sees a 10 L reed meter's 200 mL/min leak that a per-minute minimum cannot", () => {
    // Pulses of 10 L every 50 min (200 mL/min), read as minute flows of 10,000 or 0 mL/min.
    const night = { nightStartS: 2 * 3600, nightEndS: 5 * 3600 };
    const perMinute = new NightFlowMonitor(night);
    const hourly = new NightFlowMonitor({ ...night, bucketS: 3600 });
    let leakAt = -1;
    for (let minute = 1; minute <= 3 * 1440; minute++) {
      const flow = minute % 50 === 0 ? 10000 : 0;
      perMinute.update((minute * 60) % DAY_S, flow, 60);
      hourly.update((minute * 60) % DAY_S, flow, 60);
      if (leakAt < 0 && hourly.leak) leakAt = minute;
    }
    assert.equal(perMinute.nightMinMlMin, 0);
    assert.equal(perMinute.leak, false);
    // Hours hold one or two pulses: 166 or 333 mL/min.
    assert.equal(hourly.nightMinMlMin, 166);
    assert.equal(leakAt, 1440, "a day of hours with flow, judged at the end of the 24th");
    assert.equal(hourly.flowRunS, 3 * DAY_S);
  });

  it("with buckets, a night flush in one hour is not a leak", () => {
    const hourly = new NightFlowMonitor({ nightStartS: 2 * 3600, nightEndS: 5 * 3600, bucketS: 3600 });
    for (let minute = 1; minute <= 1440 + 6 * 60; minute++) {
      const tod = (minute * 60) % DAY_S;
      hourly.update(tod, tod === 3 * 3600 + 600 ? 10000 : 0, 60);
    }
    assert.equal(hourly.nightMinMlMin, 0);
    assert.equal(hourly.leak, false);
  });

  it("rejects buckets that do not divide an hour or the window edges", () => {
    assert.throws(() => new NightFlowMonitor({ nightStartS: 7200, nightEndS: 18000, bucketS: 7 * 60 }), RangeError);
    assert.throws(() => new NightFlowMonitor({ nightStartS: 7200, nightEndS: 18000, bucketS: 7200 }), RangeError);
    assert.throws(() => new NightFlowMonitor({ nightStartS: 7200 + 60, nightEndS: 18000, bucketS: 3600 }), RangeError);
    assert.throws(() => new NightFlowMonitor({ nightStartS: 7200, nightEndS: 18000, bucketS: -60 }), RangeError);
    assert.doesNotThrow(() => new NightFlowMonitor({ nightStartS: 7200 + 60, nightEndS: 18000, bucketS: 60 }));
  });

  it("finds a dripping tap: 30 mL/min minimum at night, leak after a day of flow", () => {
    const monitor = new NightFlowMonitor({ nightStartS: 2 * 3600, nightEndS: 5 * 3600 });
    // Starts at 03:00 inside the window, so the first night is incomplete.
    let t = 3 * 3600;
    const day = (tod: number) => (tod >= 7 * 3600 && tod < 22 * 3600 ? 2000 : 0);
    for (let i = 0; i < 3 * 288; i++) {
      t += 300;
      const tod = t % DAY_S;
      monitor.update(tod, 30 + day(tod) + (tod === 3 * 3600 ? 500 : 0), 300);
      if (t < DAY_S + 5 * 3600) assert.equal(monitor.nightMinAvailable, false, `at ${t}`);
      assert.equal(monitor.leak, i >= 287, `leak after ${i + 1} steps`);
    }
    assert.equal(monitor.nightMinMlMin, 30);
    assert.equal(monitor.leak, true);
    assert.equal(monitor.flowRunS, 3 * 288 * 300);
    monitor.update(t % DAY_S, 0, 300);
    assert.equal(monitor.leak, false);
    assert.equal(monitor.longestFlowRunS, 3 * 288 * 300);
    monitor.clearLongestFlowRun();
    assert.equal(monitor.longestFlowRunS, 0);
  });

  it("handles a window across midnight and rejects an empty one", () => {
    const monitor = new NightFlowMonitor({ nightStartS: 23 * 3600, nightEndS: 3600 });
    for (let tod = 22 * 3600; tod <= DAY_S + 2 * 3600; tod += 600) {
      const inside = tod >= 23 * 3600 && tod < DAY_S + 3600;
      monitor.update(tod % DAY_S, inside ? 100 + (tod % 7) : 5, 600);
    }
    assert.equal(monitor.nightMinMlMin, 100 + Math.min(...Array.from({ length: 12 }, (_, i) => (23 * 3600 + i * 600) % 7)));
    assert.throws(() => new NightFlowMonitor({ nightStartS: 100, nightEndS: 100 }), RangeError);
    assert.throws(() => new NightFlowMonitor({ nightStartS: 0, nightEndS: DAY_S }), RangeError);
  });
});
