import assert from "node:assert/strict";
import fc from "fast-check";
import { DAY_S, NIGHT_FLOW_UNAVAILABLE, NightFlowMonitor } from "../../../firmware/src/dsp/night-flow.ts";
import { reportMaxError } from "./error-report.ts";

interface Step { T: number; dt: number; flow: number }

// Works in absolute seconds: night n is [n·DAY + start, n·DAY + start + length),
// and step i covers (T_i − dt_i, T_i].
function referenceNightMin(steps: Step[], j: number, start: number, end: number): number {
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
  if (i < 0 || k < 0 || i === k) return NIGHT_FLOW_UNAVAILABLE;
  for (let m = i; m <= k; m++) if (steps[m].dt >= DAY_S) return NIGHT_FLOW_UNAVAILABLE;
  const inside = steps.slice(0, j + 1).filter((st) => st.T >= s && st.T < e).map((st) => st.flow);
  return Math.min(...inside);
}

function referenceRun(steps: Step[], j: number, zero: number): number {
  for (let m = j; m >= 0; m--) if (steps[m].flow <= zero) return steps[j].T - steps[m].T;
  return steps[j].T - (steps[0].T - steps[0].dt);
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
      const abs: Step[] = [];
      let T = T0;
      let longest = 0;
      steps.forEach(({ dt, flow }, j) => {
        T += j === 0 ? 0 : dt;
        abs.push({ T, dt, flow });
        monitor.update(T % DAY_S, flow, dt);
        const expectedMin = referenceNightMin(abs, j, start, end);
        const expectedRun = referenceRun(abs, j, zero);
        longest = Math.max(longest, expectedRun);
        if (monitor.nightMinMlMin !== expectedMin || monitor.flowRunS !== expectedRun) mismatches++;
        assert.equal(monitor.nightMinMlMin, expectedMin, `night min after step ${j} (T=${T})`);
        assert.equal(monitor.nightMinAvailable, expectedMin !== NIGHT_FLOW_UNAVAILABLE);
        assert.equal(monitor.flowRunS, expectedRun, `run after step ${j}`);
        assert.equal(monitor.longestFlowRunS, longest);
        assert.equal(monitor.leak, expectedRun >= DAY_S);
      });
    }), { numRuns: 1500 });
    reportMaxError("night-flow (mismatches)", mismatches, 0);
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
