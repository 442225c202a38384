// The firmware's streaming window features (dsp/flow-window.ts) against the training
// pipeline's array version (scripts/ml/train/water-data.ts windowFeatures), code for
// code, on random and on simulated per-minute flows; deep-sleep save/load; the
// window bookkeeping the node relies on (midpoints, short and long samples).
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  FLOW_FEATURES, FLOW_WINDOW_MIN_MINUTES, FlowWindowFeatures, div60, div900, logCode,
} from "../../../firmware/src/dsp/flow-window.ts";
import {
  ENRICHED, logCode as trainingLogCode, simulateHousehold, windowFeatures, type Household,
} from "../../../scripts/ml/train/water-data.ts";

const DAY_S = 86400;

/** The codes the firmware block gives for per-minute flows starting at midnight, one 60-s sample a minute; every `sleepEvery` samples it is saved and rebuilt. */
function firmwareCodes(flowMl: ArrayLike<number>, sleepEvery = 0): { codes: Uint8Array; context: number[] } {
  const windows = Math.floor(flowMl.length / 15);
  const out = new Uint8Array(windows * FLOW_FEATURES);
  const context: number[] = [];
  let f = new FlowWindowFeatures();
  const rtc = new Int32Array(f.stateWords + 2);
  let k = 0;
  // One sample more than the flows: the first minute of the next window completes the last one.
  for (let i = 0; i <= flowMl.length; i++) {
    const tod = ((i + 1) * 60) % DAY_S;
    if (f.update(tod, i < flowMl.length ? flowMl[i] : 0, 60)) {
      out.set(f.codes, k * FLOW_FEATURES);
      context.push(f.contextWindows);
      k++;
    }
    if (sleepEvery > 0 && i % sleepEvery === sleepEvery - 1) {
      assert.equal(f.save(rtc, 1), 1 + f.stateWords);
      f = new FlowWindowFeatures();
      assert.equal(f.load(rtc, 1), 1 + f.stateWords);
    }
  }
  assert.equal(k, windows, "every window completed once");
  return { codes: out, context };
}

function household(flowMl: Int32Array): Household {
  return { seed: 0, days: flowMl.length / 1440, startMs: 0, flowMl, labels: new Uint8Array(Math.floor(flowMl.length / 15)), leaks: [], bursts: [] };
}

function firstMismatch(a: Uint8Array, b: Uint8Array): string {
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return `window ${Math.floor(i / FLOW_FEATURES)} feature ${i % FLOW_FEATURES}: firmware ${a[i]}, training ${b[i]}`;
  }
  return "";
}

/** Per-minute flows: quiet stretches, small leaks, household use, runs at and around 19.5 L/min, and absurd values. */
const minuteFlows = fc.array(fc.oneof(
  { weight: 6, arbitrary: fc.constant(0) },
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 200 }) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 30_000 }) },
  { weight: 3, arbitrary: fc.constantFrom(19_499, 19_500, 19_501, 25_000) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0x1ffffff }) },
).chain((v) => fc.integer({ min: 1, max: 40 }).map((n) => new Array<number>(n).fill(v))), { minLength: 1, maxLength: 400 })
  .map((runs) => runs.flat());

describe("dsp/flow-window: the water model's features, streaming", () => {
  it("logCode equals the training pipeline's on 0..70 000, every power of two ± 1 and random int32", () => {
    for (let v = -5; v <= 70_000; v++) assert.equal(logCode(v), trainingLogCode(v), `v ${v}`);
    for (let e = 0; e < 31; e++) for (const d of [-1, 0, 1]) assert.equal(logCode(2 ** e + d), trainingLogCode(2 ** e + d));
    fc.assert(fc.property(fc.integer({ min: 0, max: 0x7fffffff }), (v) => logCode(v) === trainingLogCode(v)), { numRuns: 20_000 });
    assert.equal(logCode(0x7fffffff), 248);
  });

  it("its constant divisions by multiply and shift are exact over their whole ranges", () => {
    for (let x = 0; x <= 2999; x++) assert.equal(div60(x), Math.floor(x / 60), `${x} / 60`);
    for (let x = 0; x < DAY_S; x++) assert.equal(div900(x), Math.floor(x / 900), `${x} / 900`);
  });

  it("gives exactly windowFeatures' codes on random per-minute flows (several days, so the 24-hour ring wraps)", () => {
    fc.assert(fc.property(minuteFlows, fc.integer({ min: 1, max: 3 }), (pattern, days) => {
      const n = days * 1440;
      const flow = new Int32Array(n);
      for (let i = 0; i < n; i++) flow[i] = pattern[i % pattern.length];
      const fw = firmwareCodes(flow).codes;
      const tr = windowFeatures(household(flow));
      assert.equal(firstMismatch(fw, tr), "");
    }), { numRuns: 200 });
  });

  it("gives exactly windowFeatures' codes on simulated households (pulse-quantized flow, leaks and bursts), with or without deep sleep between minutes", () => {
    let windows = 0;
    let leakWindows = 0;
    for (const seed of [1000, 1003, 3001, 3017, 4000]) {
      const h = simulateHousehold(seed, 8, ENRICHED);
      const tr = windowFeatures(h);
      const { codes, context } = firmwareCodes(h.flowMl);
      assert.equal(firstMismatch(codes, tr), "", `household ${seed}`);
      // Every 7 minutes a deep sleep: the words carry everything.
      assert.equal(firstMismatch(firmwareCodes(h.flowMl, 7).codes, tr), "", `household ${seed} with deep sleeps`);
      assert.deepEqual(context.slice(94, 98), [95, 96, 96, 96]);
      windows += h.labels.length;
      leakWindows += h.labels.filter((l) => l === 1).length;
    }
    assert.ok(leakWindows > 100, `only ${leakWindows} leak windows of ${windows}`);
  });

  it("assigns a sample to the window of its midpoint, weights it by its minutes, and drops short windows and over-long samples", () => {
    const f = new FlowWindowFeatures();
    // 00:00–00:14 in 7 samples of 2 minutes (120 s), then one of 60 s: 15 minutes at 1000 mL/min, then the next window.
    let t = 0;
    for (let i = 0; i < 7; i++) assert.equal(f.update((t += 120), 1000, 120), false);
    assert.equal(f.update((t += 60), 0, 60), false);
    assert.equal(f.openMinutes, 15);
    // 00:15:40: its midpoint 00:15:10 is in the next window, so the first completes.
    assert.equal(f.update((t += 40) + 0, 0, 40), true);
    assert.deepEqual([...f.codes], [0, logCode(Math.floor(14000 / 15)), logCode(1000), 17, 0, 0, 0, 0]);
    // A window of 11 sampled minutes is dropped; the ring does not grow.
    for (let i = 0; i < 10; i++) f.update((t += 60), 5, 60);
    t = 1800;
    assert.equal(f.update((t += 60), 5, 60), false);
    assert.equal(f.contextWindows, 1);
    assert.ok(FLOW_WINDOW_MIN_MINUTES > 11);
    // A sample longer than a window ends the open one and is dropped itself.
    for (let i = 0; i < 14; i++) f.update((t += 60), 7, 60);
    assert.equal(f.update((t += 1000), 7, 1000), true);
    assert.equal(f.openMinutes, 0);
    assert.equal(f.contextWindows, 2);
    // Under 30 s: no minute, nothing changes.
    assert.equal(f.update(t + 20, 99_999, 20), false);
    assert.equal(f.openMinutes, 0);
    // Midnight: a sample ending at 00:00:30 (midpoint 23:59:30) belongs to window 95 (hour 23).
    const g = new FlowWindowFeatures();
    for (let i = 0; i < 15; i++) g.update(DAY_S - 870 + i * 60, 3, 60);
    assert.equal(g.update(90, 3, 60), true);
    assert.equal(g.codes[4], 230);
  });

  it("restores a state saved mid-window bit for bit and rejects corrupt words, changing nothing", () => {
    const f = new FlowWindowFeatures();
    for (let i = 0; i < 200; i++) f.update(((i + 1) * 60) % DAY_S, i % 7 === 0 ? 0 : 20_000 + i, 60);
    const words = new Int32Array(f.stateWords);
    f.save(words, 0);
    const g = new FlowWindowFeatures();
    g.load(words, 0);
    for (let i = 200; i < 400; i++) {
      const a = f.update(((i + 1) * 60) % DAY_S, i % 5, 60);
      assert.equal(g.update(((i + 1) * 60) % DAY_S, i % 5, 60), a);
      if (a) assert.deepEqual([...g.codes], [...f.codes]);
    }
    const bad: [number, number][] = [[0, 96], [0, -2], [1, 31], [5, 99], [2, -1], [3, -1], [4, -1], [6, 16], [7, -1], [8, 96], [9, 97], [20, 0xff]];
    for (const [i, v] of bad) {
      const w = words.slice();
      w[i] = v;
      const h = new FlowWindowFeatures();
      const before = new Int32Array(h.stateWords);
      h.save(before, 0);
      assert.throws(() => h.load(w, 0), RangeError, `word ${i} = ${v}`);
      const after = new Int32Array(h.stateWords);
      h.save(after, 0);
      assert.deepEqual(after, before, "a failed load changes nothing");
    }
    // Ringed codes: 248 is the largest logCode; 249..255 in any byte of a word is corrupt.
    for (let shift = 0; shift < 32; shift += 8) {
      const w = words.slice();
      w[15] = (248 << shift) | 0;
      assert.doesNotThrow(() => new FlowWindowFeatures().load(w, 0));
      for (const v of [249, 250, 255]) {
        w[15] = (v << shift) | (shift === 0 ? 0 : 248);
        assert.throws(() => new FlowWindowFeatures().load(w, 0), RangeError, `byte ${v} << ${shift}`);
      }
    }
    const unset = words.slice();
    unset[0] = -1;
    assert.throws(() => new FlowWindowFeatures().load(unset, 0), RangeError);
    assert.throws(() => f.save(new Int32Array(f.stateWords - 1), 0), RangeError);
  });
});
