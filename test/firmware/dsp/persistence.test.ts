// Deep sleep: every block's state goes through save → fresh object → load between
// any two samples without changing a single output, and corrupt words either load
// to a state the block could have reached or throw a RangeError.
import assert from "node:assert/strict";
import fc from "fast-check";
import { Ewma } from "../../../firmware/src/dsp/ewma.ts";
import {
  HysteresisDetector, TRANSITION_CLEARED, TRANSITION_ENTERED, TRANSITION_NONE,
} from "../../../firmware/src/dsp/hysteresis.ts";
import type { HysteresisOptions } from "../../../firmware/src/dsp/hysteresis.ts";
import { MEDIAN_MAX_SIZE, MedianFilter } from "../../../firmware/src/dsp/median.ts";
import { DAY_S, NIGHT_FLOW_UNAVAILABLE, NightFlowMonitor } from "../../../firmware/src/dsp/night-flow.ts";
import type { NightFlowOptions } from "../../../firmware/src/dsp/night-flow.ts";
import type { Persistent } from "../../../firmware/src/dsp/persist.ts";
import { INT32_MAX, INT32_MIN } from "../../../firmware/src/dsp/q.ts";
import { RATE_MAX_WINDOW_S, RateOfChange } from "../../../firmware/src/dsp/rate.ts";
import type { RateOptions } from "../../../firmware/src/dsp/rate.ts";

/** One block type under test: how to build it, drive it and read everything it exposes. */
interface Subject<O, B extends Persistent, I> {
  name: string;
  options: fc.Arbitrary<O>;
  /** A whole input sequence (some blocks carry time from step to step). */
  inputs: (o: O) => fc.Arbitrary<I[]>;
  make: (o: O) => B;
  /** Feeds one input; returns what the call returned. */
  step: (b: B, input: I) => unknown;
  /** Every getter. */
  observe: (b: B) => unknown[];
  /** Invariants that must hold in any state, whatever was loaded; `last` is the step just taken. */
  check: (o: O, b: B, last?: { before: unknown[]; input: I; output: unknown }) => void;
  /** For blocks whose every valid state is reachable through the public API: a fresh block driven to the state the words describe. */
  twin?: (o: O, words: Int32Array) => B;
  /** For the others: the invariants on the words of a state that loaded (including fields no getter shows). */
  validWords?: (o: O, words: Int32Array) => void;
}

const word = fc.oneof(
  fc.integer({ min: -3, max: 20 }),
  fc.constantFrom(INT32_MIN, INT32_MAX, -1, 0, 1, 2),
  fc.integer({ min: INT32_MIN, max: INT32_MAX }),
);

function isInt32(x: unknown): boolean {
  return typeof x === "number" && Number.isInteger(x) && x >= INT32_MIN && x <= INT32_MAX;
}

function saved(b: Persistent): Int32Array {
  const out = new Int32Array(b.stateWords);
  assert.equal(b.save(out, 0), b.stateWords);
  return out;
}

function persistenceSuite<O, B extends Persistent, I>(s: Subject<O, B, I>): void {
  // Same first draws of options and inputs, plus where to split and where in the buffer to save.
  const scenario = s.options.chain((o) => fc.tuple(fc.constant(o), s.inputs(o), fc.nat(), fc.nat({ max: 6 })));

  describe(`${s.name} deep-sleep state`, () => {
    it("save, fresh object, load at a random split: every later output and getter equals an uninterrupted run", () => {
      fc.assert(fc.property(scenario, ([o, xs, splitSeed, at]) => {
        const split = splitSeed % (xs.length + 1);
        const a = s.make(o);
        const b = s.make(o);
        for (let i = 0; i < split; i++) {
          assert.deepEqual(s.step(b, xs[i]), s.step(a, xs[i]));
        }
        const words = b.stateWords;
        assert.equal(words, s.make(o).stateWords, "stateWords is fixed per configuration");
        // Saved twice over different fillers: every word of the span is written, nothing outside it.
        const buf = new Int32Array(at + words + 3).fill(0x5a5a5a5a);
        const other = new Int32Array(buf.length).fill(-0x5a5a5a5b);
        const end = b.save(buf, at);
        assert.equal(end - at, words, "save writes exactly stateWords words");
        assert.equal(b.save(other, at), end);
        assert.deepEqual(buf.subarray(at, end), other.subarray(at, end));
        for (let i = 0; i < buf.length; i++) {
          if (i < at || i >= end) assert.equal(buf[i], 0x5a5a5a5a, `word ${i} outside the span`);
        }
        const c = s.make(o);
        assert.equal(c.load(buf, at), end);
        assert.deepEqual(saved(c), buf.slice(at, end), "a loaded state saves back to the same words");
        assert.deepEqual(s.observe(c), s.observe(a));
        for (let i = split; i < xs.length; i++) {
          assert.deepEqual(s.step(c, xs[i]), s.step(a, xs[i]), `step ${i}`);
          assert.deepEqual(s.observe(c), s.observe(a), `getters after step ${i}`);
        }
      }), { numRuns: 1500 });
    });

    it("sleeping after every sample (a new object each wake) changes nothing", () => {
      fc.assert(fc.property(scenario, ([o, xs]) => {
        const a = s.make(o);
        const rtc = new Int32Array(s.make(o).stateWords);
        s.make(o).save(rtc, 0);
        for (const x of xs) {
          const b = s.make(o);
          b.load(rtc, 0);
          assert.deepEqual(s.step(b, x), s.step(a, x));
          assert.deepEqual(s.observe(b), s.observe(a));
          b.save(rtc, 0);
        }
      }), { numRuns: 300 });
    });

    it("corrupt words either throw RangeError (leaving the block as it was) or load a state that keeps every invariant", () => {
      const outcomes = { thrown: 0, loaded: 0 };
      const corruption = fc.oneof(
        fc.record({ all: fc.constant(true), edits: fc.array(word, { minLength: 1, maxLength: 40 }) }),
        fc.record({ all: fc.constant(false), edits: fc.array(fc.tuple(fc.nat(), word), { minLength: 1, maxLength: 3 }) }),
      );
      const property = s.options.chain((o) => fc.tuple(fc.constant(o), s.inputs(o), s.inputs(o), s.inputs(o), corruption));
      fc.assert(fc.property(property, ([o, before, after, mine, bad]) => {
        // A valid state, then corrupted: all words random, or a few words of it replaced.
        const source = s.make(o);
        for (const x of before) s.step(source, x);
        const words = saved(source);
        if (bad.all) {
          for (let i = 0; i < words.length; i++) words[i] = (bad.edits as number[])[i % bad.edits.length];
        } else {
          for (const [i, w] of bad.edits as [number, number][]) words[i % words.length] = w;
        }
        const target = s.make(o);
        for (const x of mine) s.step(target, x);
        const kept = saved(target);
        try {
          target.load(words, 0);
        } catch (e) {
          assert.ok(e instanceof RangeError, String(e));
          assert.deepEqual(saved(target), kept, "a failed load leaves the block unchanged");
          outcomes.thrown++;
          return;
        }
        outcomes.loaded++;
        assert.deepEqual(saved(target), words, "a loaded state saves back to the same words");
        s.check(o, target);
        s.validWords?.(o, words);
        const twin = s.twin?.(o, words);
        if (twin) assert.deepEqual(s.observe(target), s.observe(twin));
        for (const x of after) {
          const obs = s.observe(target);
          const output = s.step(target, x);
          s.check(o, target, { before: obs, input: x, output });
          if (twin) {
            assert.deepEqual(output, s.step(twin, x));
            assert.deepEqual(s.observe(target), s.observe(twin));
          }
        }
      }), { numRuns: 1500 });
      // Both branches must actually be exercised for the property to mean something.
      assert.ok(outcomes.thrown > 20 && outcomes.loaded > 20, JSON.stringify(outcomes));
    });

    it("save and load refuse a span outside the buffer", () => {
      fc.assert(fc.property(s.options, (o) => {
        const b = s.make(o);
        const n = b.stateWords;
        for (const [len, at] of [[n - 1, 0], [n, 1], [n + 4, -1], [n + 4, 0.5], [n + 4, 5], [0, 0]]) {
          if (len < 0) continue;
          const buf = new Int32Array(len);
          assert.throws(() => b.save(buf, at), RangeError, `save ${n} words at ${at} into ${len}`);
          assert.throws(() => b.load(buf, at), RangeError, `load ${n} words at ${at} from ${len}`);
        }
      }), { numRuns: 50 });
    });
  });
}

// ---- Ewma --------------------------------------------------------------------

type EwmaInput = number | "reset";
const ewmaOptions = fc.integer({ min: 1, max: 24 }).chain((f) => fc.record({ shift: fc.integer({ min: 0, max: f - 1 }), fracBits: fc.constant(f) }));
const sample = fc.oneof(fc.integer({ min: -300, max: 300 }), fc.integer({ min: INT32_MIN, max: INT32_MAX }));

persistenceSuite<{ shift: number; fracBits: number }, Ewma, EwmaInput>({
  name: "Ewma",
  options: ewmaOptions,
  inputs: () => fc.array(fc.oneof({ weight: 30, arbitrary: sample }, { weight: 1, arbitrary: fc.constant("reset" as const) }), { maxLength: 60 }),
  make: (o) => new Ewma(o.shift, o.fracBits),
  step: (b, x) => (x === "reset" ? b.reset() : b.update(x)),
  observe: (b) => [b.value, b.valueQ, b.primed],
  check: (o, b, last) => {
    const limit = 2 ** (30 - o.fracBits) - 1;
    assert.ok(isInt32(b.value) && Math.abs(b.value) <= limit, `value ${b.value}`);
    assert.ok(isInt32(b.valueQ) && Math.abs(b.valueQ) <= limit * 2 ** o.fracBits, `valueQ ${b.valueQ}`);
    if (!b.primed) assert.deepEqual([b.value, b.valueQ], [0, 0]);
    if (last && typeof last.input === "number") {
      // Each update moves the average towards the clamped input, never past it.
      const x = Math.max(-limit, Math.min(limit, last.input));
      const from = last.before[2] ? (last.before[0] as number) : x;
      assert.equal(last.output, b.value);
      assert.ok(b.value >= Math.min(from, x) && b.value <= Math.max(from, x), `${from} → ${b.value} towards ${x}`);
    }
  },
  validWords: (o, [state, seeded]) => {
    assert.ok(seeded === 0 || seeded === 1);
    assert.ok(seeded === 1 ? Math.abs(state) <= (2 ** (30 - o.fracBits) - 1) * 2 ** o.fracBits : state === 0);
  },
});

// ---- HysteresisDetector --------------------------------------------------------

const hysteresisOptions = fc.record({
  low: fc.integer({ min: -10, max: 10 }),
  width: fc.integer({ min: 0, max: 6 }),
  setCount: fc.integer({ min: 1, max: 6 }),
  clearCount: fc.integer({ min: 1, max: 6 }),
}).map(({ low, width, setCount, clearCount }): HysteresisOptions => ({ low, high: low + width, setCount, clearCount }));

persistenceSuite<HysteresisOptions, HysteresisDetector, number>({
  name: "HysteresisDetector",
  options: hysteresisOptions,
  inputs: () => fc.array(fc.integer({ min: -15, max: 20 }), { maxLength: 80 }),
  make: (o) => new HysteresisDetector(o),
  step: (b, x) => b.update(x),
  observe: (b) => [b.active, b.pendingCount],
  check: (o, b, last) => {
    assert.equal(typeof b.active, "boolean");
    const count = b.active ? o.clearCount : o.setCount;
    assert.ok(isInt32(b.pendingCount) && b.pendingCount >= 0 && b.pendingCount < count, `run ${b.pendingCount} of ${count}`);
    if (last) {
      const was = last.before[0] as boolean;
      const expected = was === b.active ? TRANSITION_NONE : b.active ? TRANSITION_ENTERED : TRANSITION_CLEARED;
      assert.equal(last.output, expected);
    }
  },
  twin: (o, w) => {
    const d = new HysteresisDetector(o);
    d.reset(w[0] === 1, w[1]);
    return d;
  },
});

// ---- MedianFilter --------------------------------------------------------------

type MedianInput = number | "reset";

persistenceSuite<number, MedianFilter, MedianInput>({
  name: "MedianFilter",
  options: fc.integer({ min: 0, max: (MEDIAN_MAX_SIZE - 1) >> 1 }).map((h) => 2 * h + 1),
  inputs: () => fc.array(fc.oneof({ weight: 30, arbitrary: fc.oneof(fc.integer({ min: -5, max: 5 }), sample) }, { weight: 1, arbitrary: fc.constant("reset" as const) }), { maxLength: 60 }),
  make: (size) => new MedianFilter(size),
  step: (b, x) => (x === "reset" ? b.reset() : b.push(x)),
  observe: (b) => [b.value, b.count],
  check: (size, b, last) => {
    assert.ok(isInt32(b.value));
    assert.ok(isInt32(b.count) && b.count >= 0 && b.count <= size);
    if (last && typeof last.input === "number") assert.equal(last.output, b.value);
  },
  // The samples of the window in arrival order, pushed into a fresh filter.
  twin: (size, w) => {
    const [head, filled] = [w[0], w[1]];
    const ring = Array.from(w.subarray(2));
    const window = filled < size ? ring.slice(0, filled) : [...ring.slice(head), ...ring.slice(0, head)];
    const f = new MedianFilter(size);
    for (const x of window) f.push(x);
    return f;
  },
});

// ---- RateOfChange ----------------------------------------------------------------

type RateInput = { t: number; v: number } | "reset";
const rateOptions = fc.record({
  windowS: fc.oneof(fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 7200 }), fc.integer({ min: 1, max: RATE_MAX_WINDOW_S })),
  capacity: fc.integer({ min: 2, max: 20 }),
  minSpanFrac: fc.integer({ min: 0, max: 100 }),
}).map(({ windowS, capacity, minSpanFrac }): RateOptions => ({
  windowS, capacity, minSpanS: Math.max(1, Math.floor((windowS * minSpanFrac) / 100)),
}));

persistenceSuite<RateOptions, RateOfChange, RateInput>({
  name: "RateOfChange",
  options: rateOptions,
  // Times on a wrapping int32 clock, with repeats, clock resets and huge jumps.
  inputs: (o) => fc.tuple(
    fc.integer({ min: INT32_MIN, max: INT32_MAX }),
    fc.array(fc.oneof(
      { weight: 30, arbitrary: fc.record({
        dt: fc.oneof(
          fc.integer({ min: 1, max: Math.max(1, o.windowS >> 2) }),
          fc.integer({ min: 1, max: 900 }),
          fc.constantFrom(0, -1, -5, 2 ** 31 - 1, 2 ** 31 - 2),
          fc.integer({ min: 1, max: 600000 }),
        ),
        v: fc.oneof(fc.integer({ min: -200, max: 200 }), fc.integer({ min: -(2 ** 30) + 1, max: 2 ** 30 - 1 })),
      }) },
      { weight: 1, arbitrary: fc.constant("reset" as const) },
    ), { maxLength: 60 }),
  ).map(([t0, steps]) => {
    let t = t0;
    return steps.map((st): RateInput => {
      if (st === "reset") return st;
      t = (t + st.dt) | 0;
      return { t, v: st.v };
    });
  }),
  make: (o) => new RateOfChange(o),
  step: (b, x) => (x === "reset" ? b.reset() : b.push(x.t, x.v)),
  observe: (b) => [b.available, b.perHour],
  check: (_o, b) => {
    assert.equal(typeof b.available, "boolean");
    assert.ok(isInt32(b.perHour));
    if (!b.available) assert.equal(b.perHour, 0);
  },
  // The window's samples, oldest first, pushed into a fresh RateOfChange.
  twin: (o, w) => {
    const [head, count, cap] = [w[0], w[1], o.capacity];
    const r = new RateOfChange(o);
    for (let i = 0; i < count; i++) {
      const j = (head + i) % cap;
      r.push(w[2 + j], w[2 + cap + j]);
    }
    return r;
  },
});

// ---- NightFlowMonitor --------------------------------------------------------------

type NightInput = { t: number; flow: number; dt: number } | "clear";
const nightOptions = fc.oneof(
  fc.record({
    nightStartS: fc.integer({ min: 0, max: DAY_S - 1 }),
    length: fc.integer({ min: 1, max: DAY_S - 1 }),
    zeroFlowMlMin: fc.integer({ min: 0, max: 5 }),
    leakRunS: fc.oneof(fc.integer({ min: 1, max: 7200 }), fc.constant(DAY_S)),
  }).map(({ nightStartS, length, zeroFlowMlMin, leakRunS }): NightFlowOptions => ({
    nightStartS, nightEndS: (nightStartS + length) % DAY_S, zeroFlowMlMin, leakRunS,
  })),
  // Buckets need whole-hour edges (every bucket divides an hour).
  fc.record({
    startH: fc.integer({ min: 0, max: 23 }),
    lengthH: fc.integer({ min: 1, max: 23 }),
    zeroFlowMlMin: fc.integer({ min: 0, max: 5 }),
    leakRunS: fc.oneof(fc.integer({ min: 1, max: 7200 }), fc.constant(DAY_S)),
    bucketS: fc.constantFrom(60, 600, 3600),
  }).map(({ startH, lengthH, zeroFlowMlMin, leakRunS, bucketS }): NightFlowOptions => ({
    nightStartS: startH * 3600, nightEndS: ((startH + lengthH) % 24) * 3600, zeroFlowMlMin, leakRunS, bucketS,
  })),
);

persistenceSuite<NightFlowOptions, NightFlowMonitor, NightInput>({
  name: "NightFlowMonitor",
  options: nightOptions,
  inputs: () => fc.tuple(
    fc.integer({ min: 0, max: DAY_S - 1 }),
    fc.array(fc.oneof(
      { weight: 30, arbitrary: fc.record({
        dt: fc.oneof(fc.integer({ min: 0, max: 3600 }), fc.integer({ min: 0, max: 2 * DAY_S }), fc.constantFrom(DAY_S - 1, DAY_S, INT32_MAX)),
        flow: fc.oneof(fc.integer({ min: -2, max: 40 }), fc.integer({ min: INT32_MIN, max: INT32_MAX })),
      }) },
      { weight: 1, arbitrary: fc.constant("clear" as const) },
    ), { maxLength: 80 }),
  ).map(([t0, steps]) => {
    let t = t0;
    return steps.map((st): NightInput => {
      if (st === "clear") return st;
      t = (t + (st.dt % DAY_S)) % DAY_S;
      return { t, flow: st.flow, dt: st.dt };
    });
  }),
  make: (o) => new NightFlowMonitor(o),
  step: (b, x) => (x === "clear" ? b.clearLongestFlowRun() : b.update(x.t, x.flow, x.dt)),
  observe: (b) => [b.nightMinAvailable, b.nightMinMlMin, b.flowRunS, b.longestFlowRunS, b.leak],
  check: (o, b, last) => {
    assert.ok(isInt32(b.nightMinMlMin) && b.nightMinMlMin >= NIGHT_FLOW_UNAVAILABLE);
    assert.equal(b.nightMinAvailable, b.nightMinMlMin !== NIGHT_FLOW_UNAVAILABLE);
    assert.ok(isInt32(b.flowRunS) && b.flowRunS >= 0);
    assert.ok(isInt32(b.longestFlowRunS) && b.longestFlowRunS >= 0);
    assert.equal(b.leak, b.flowRunS >= (o.leakRunS ?? DAY_S));
    // Without buckets each update moves the run; with them only a bucket's end does (night-flow.test.ts checks those).
    if (last && last.input !== "clear" && !o.bucketS) {
      const { flow, dt } = last.input;
      const [, , runBefore, longestBefore] = last.before as number[];
      const run = flow > (o.zeroFlowMlMin ?? 0) ? Math.min(INT32_MAX, runBefore + Math.max(0, dt)) : 0;
      assert.equal(b.flowRunS, run);
      assert.equal(b.longestFlowRunS, Math.max(longestBefore, run));
    }
  },
  // Layout: open, seen, running minimum, last night's minimum, run, longest run, the bucket's Σ flow·dt and Σ dt.
  validWords: (_o, [open, seen, runningMin, lastMin, run, longest, bucketFlow, bucketDt]) => {
    assert.ok((open === 0 || open === 1) && (seen === 0 || seen === 1) && seen <= open, `open ${open}, seen ${seen}`);
    assert.ok(runningMin >= 0 && lastMin >= NIGHT_FLOW_UNAVAILABLE && run >= 0 && longest >= 0);
    assert.ok(bucketFlow >= 0 && bucketDt >= 0);
  },
});

describe("deep-sleep state sizes", () => {
  it("stateWords for typical options", () => {
    assert.equal(new Ewma(3).stateWords, 2);
    assert.equal(new HysteresisDetector({ high: 600, low: 400, setCount: 3, clearCount: 2 }).stateWords, 2);
    assert.equal(new MedianFilter(7).stateWords, 9);
    assert.equal(new MedianFilter(MEDIAN_MAX_SIZE).stateWords, MEDIAN_MAX_SIZE + 2);
    assert.equal(new RateOfChange({ windowS: 3600, capacity: 16 }).stateWords, 34);
    assert.equal(new NightFlowMonitor({ nightStartS: 7200, nightEndS: 18000 }).stateWords, 8);
  });

  it("a HysteresisDetector reset with a run longer than its count behaves as if at count − 1", () => {
    const o = { high: 5, low: 0, setCount: 3, clearCount: 2 };
    const d = new HysteresisDetector(o);
    d.reset(false, 10);
    assert.equal(d.pendingCount, 2);
    assert.equal(d.update(5), TRANSITION_ENTERED);
    d.reset(true, 7);
    assert.equal(d.pendingCount, 1);
    const back = new HysteresisDetector(o);
    back.load(saved(d), 0);
    assert.equal(back.update(0), TRANSITION_CLEARED);
  });

  it("a RateOfChange step of 2^31 s or more past the oldest sample empties the window instead of wrapping", () => {
    const r = new RateOfChange({ windowS: 600, capacity: 4 });
    r.push(0, 0);
    r.push(100, 10);
    r.push(2 ** 31 - 50 + 100, 20); // positive step, but 2^31 + 50 s after the first sample
    assert.equal(r.available, false);
    const back = new RateOfChange({ windowS: 600, capacity: 4 });
    back.load(saved(r), 0);
    back.push((2 ** 31 + 50 + 360) | 0, 21);
    assert.equal(back.perHour, 10);
  });
});
