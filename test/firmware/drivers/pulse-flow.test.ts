import assert from "node:assert/strict";
import fc from "fast-check";
import PulseCount from "embedded:io/pulsecount";
import Timer from "timer";
import { Board, setCurrentBoard } from "../../../simulator/src/core/board.ts";
import { Rng } from "../../../simulator/src/core/rng.ts";
import { PulseMeter, type PulseMeterOptions } from "../../../simulator/src/devices/pulse-meter.ts";
import PulseFlow, { type PulseCountOpenOptions, type PulseFlowMeter, type PulseFlowSample } from "../../../firmware/src/drivers/pulse-flow.ts";
import { SensorError } from "../../../firmware/src/drivers/sensor-error.ts";

const PIN = 4;

function rig(meter: Partial<PulseMeterOptions> & { flowLMin: PulseMeterOptions["flowLMin"] }, seed = 1) {
  const board = new Board();
  setCurrentBoard(board);
  const device = new PulseMeter({ clock: board.clock, rng: new Rng(seed).fork("meter"), pulsesPerLitre: 450, ...meter });
  board.attachPulses(PIN, device);
  return { board, device };
}

/** Exact expected total for `pulses` at ml/pulses. */
function mlOf(pulses: number, k: { ml: number; pulses: number }): number {
  return Number((BigInt(pulses) * BigInt(k.ml)) / BigInt(k.pulses));
}

function expectSensorError(fn: () => unknown, fault: string): SensorError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof SensorError, `expected SensorError, got ${String(e)}`);
    assert.equal(e.fault, fault);
    return e;
  }
  assert.fail(`expected SensorError(${fault})`);
}

describe("drivers/pulse-flow with the pulse-meter emulator", () => {
  afterEach(() => setCurrentBoard(undefined));

  it("YF-S201 at 10 L/min: volume within the meter's ±10 %, flow in mL/min, exact against the pulses on the wire", () => {
    const { device } = rig({ flowLMin: () => 10 });
    const flow = new PulseFlow({ sensor: { io: PulseCount, signal: PIN }, meter: "yf-s201" });
    Timer.delay(60000);
    const s = flow.sample()!;
    const stats = device.stats();
    assert.ok(Math.abs(s.volumeMl - 10000) <= 1000, `volume ${s.volumeMl}`);
    assert.ok(Math.abs(s.flowMlMin - 10000) <= 1000, `flow ${s.flowMlMin}`);
    assert.equal(s.pulses, stats.realPulses);
    assert.equal(s.totalMl, mlOf(stats.realPulses, { ml: 20, pulses: 9 }));
    assert.equal(s.intervalMs, 60000);
    assert.equal(s.totalL, Math.floor(s.totalMl / 1000));
    assert.equal(Math.abs(stats.litres - 10) < 1e-9, true);
  });

  it("keeps the total exact over 500,000+ pulses while the 16-bit counter wraps many times", () => {
    const rng = new Rng(7);
    // 28–30 L/min with slow wobble: about 220 Hz for 40 minutes.
    const { device } = rig({ flowLMin: (t) => 29 + Math.sin(t / 37000) });
    const flow = new PulseFlow({ sensor: { io: PulseCount, signal: PIN }, meter: "yf-s201" });
    let sum = 0;
    let reads = 0;
    for (let t = 0; t < 2400000; ) {
      const step = rng.int(60000, flow.maxReadIntervalMs); // up to 232 s between reads
      Timer.delay(step);
      t += step;
      const s = flow.sample()!;
      sum += s.volumeMl;
      reads++;
      assert.equal(s.totalMl, sum);
    }
    const stats = device.stats();
    assert.ok(stats.realPulses > 500000, `only ${stats.realPulses} pulses`);
    assert.ok(stats.realPulses / 65536 > 7, "counter should wrap many times");
    assert.ok(reads > 10);
    assert.equal(flow.totalPulses, stats.realPulses);
    assert.equal(sum, mlOf(stats.realPulses, { ml: 20, pulses: 9 }));
  });

  it("throws timeout (and counts an overrun) when reads are too far apart to resolve wrap, then recovers", () => {
    const { device } = rig({ flowLMin: () => 30 });
    const flow = new PulseFlow({ sensor: { io: PulseCount, signal: PIN }, meter: "yf-s201" });
    assert.equal(flow.maxReadIntervalMs, 232393);
    Timer.delay(flow.maxReadIntervalMs + 1);
    expectSensorError(() => flow.sample(), "timeout");
    assert.equal(flow.overruns, 1);
    const before = device.stats().realPulses;
    Timer.delay(60000);
    const s = flow.sample()!;
    assert.equal(s.pulses, device.stats().realPulses - before);
  });

  it("reed-10l: contact bounce is removed by the debounce and the total stays exact", () => {
    const { device } = rig({ litresPerPulse: 10, pulsesPerLitre: undefined, flowLMin: (t) => (t % 600000 < 300000 ? 25 : 3) });
    device.inject("bounce", { p: 1, extraMax: 5 });
    const flow = new PulseFlow({ sensor: { io: PulseCount, signal: PIN }, meter: "reed-10l" });
    let sum = 0;
    for (let i = 0; i < 120; i++) {
      Timer.delay(60000);
      sum += flow.sample()!.volumeMl;
    }
    const stats = device.stats();
    assert.ok(stats.spuriousPulses > stats.realPulses, "bounce should be on the wire");
    assert.equal(sum, stats.realPulses * 10000);
    assert.equal(flow.rejectedPulses, 0);
  });

  it("reed without debounce: bounce is counted, and impossible rates are rejected as a range fault", () => {
    const { device } = rig({ litresPerPulse: 1, pulsesPerLitre: undefined, flowLMin: () => 100 });
    device.inject("bounce", { p: 1, extraMax: 4 });
    const flow = new PulseFlow({ sensor: { io: PulseCount, signal: PIN, debounceUs: 0 }, meter: "reed-1l" });
    let faults = 0;
    for (let i = 0; i < 30; i++) {
      Timer.delay(10000);
      try {
        const s = flow.sample()!;
        // A reading that passed the rate check never claims more than 2 Hz.
        assert.ok(s.pulses <= 21);
      } catch (e) {
        assert.ok(e instanceof SensorError && e.fault === "range");
        faults++;
      }
    }
    assert.ok(faults > 0);
    assert.ok(flow.rejectedPulses > 0);
  });

  it("hall meter: EMI glitches are removed by the maximum PCNT filter, but counted with a 1 µs filter", () => {
    const a = rig({ flowLMin: () => 5 }, 3);
    a.device.inject("glitch", { rateHz: 20 });
    const good = new PulseFlow({ sensor: { io: PulseCount, signal: PIN }, meter: "yf-s201" });
    Timer.delay(120000);
    const sg = good.sample()!;
    const st = a.device.stats();
    assert.ok(st.spuriousPulses > 1000);
    assert.equal(sg.pulses, st.realPulses);

    const b = rig({ flowLMin: () => 5 }, 3);
    b.device.inject("glitch", { rateHz: 20 });
    const weak = new PulseFlow({ sensor: { io: PulseCount, signal: PIN, filter: 1000 }, meter: "yf-s201" });
    Timer.delay(120000);
    const sw = weak.sample()!;
    assert.ok(sw.pulses > b.device.stats().realPulses);
  });

  it("no-pulse and disconnect: zero volume while active (indistinguishable from no flow), exact again after clear", () => {
    for (const fault of ["no-pulse", "disconnect"] as const) {
      const { device } = rig({ flowLMin: () => 8 });
      const flow = new PulseFlow({ sensor: { io: PulseCount, signal: PIN }, meter: "yf-s201" });
      Timer.delay(30000);
      flow.sample();
      device.inject(fault);
      Timer.delay(30000);
      const during = flow.sample()!;
      assert.ok(during.volumeMl <= 20, `${fault}: ${during.volumeMl}`); // at most the grid step before the fault
      device.clear(fault);
      Timer.delay(30000);
      flow.sample();
      const stats = device.stats();
      assert.ok(stats.suppressedPulses > 1000);
      assert.equal(flow.totalPulses, stats.realPulses);
    }
  });

  it("calibrates K from a known volume and then reads that meter within 0.5 %", () => {
    const { device } = rig({ flowLMin: () => 12, kErrorPct: 5 }, 11);
    const flow = new PulseFlow({ sensor: { io: PulseCount, signal: PIN }, meter: "yf-s201" });
    const before = device.stats();
    flow.startCalibration();
    Timer.delay(100000);
    const during = flow.sample()!; // samples in between do not disturb the calibration run
    assert.ok(during.pulses > 0);
    Timer.delay(150000);
    const after = device.stats();
    const knownMl = Math.round((after.litres - before.litres) * 1000);
    const k = flow.calibrate(knownMl);
    assert.equal(k.ml * (after.realPulses - before.realPulses), knownMl * k.pulses);
    flow.sample();
    const s0 = device.stats().litres;
    Timer.delay(120000);
    const s = flow.sample()!;
    const trueMl = (device.stats().litres - s0) * 1000;
    assert.ok(Math.abs(s.volumeMl - trueMl) <= trueMl * 0.005, `${s.volumeMl} vs ${trueMl}`);
    assert.throws(() => flow.calibrate(1000), RangeError);
    assert.deepEqual(flow.calibrate(1000, 450), { ml: 20, pulses: 9 });
  });

  it("presets, K in every form, rate limit and total restore", () => {
    rig({ flowLMin: () => 0 });
    const flow = new PulseFlow({ sensor: { io: PulseCount, signal: PIN }, meter: "yf-b1" });
    const cases: [PulseFlowMeter, number, number, number][] = [
      ["yf-s201", 20, 9, 232393],
      ["yf-b1", 50, 33, 190508],
      ["fs400a", 125, 36, 182041],
      ["reed-1l", 1000, 1, 32767500],
      ["reed-10l", 10000, 1, 32767500],
      ["reed-100l", 100000, 1, 32767500],
      ["reed-1000l", 1000000, 1, 32767500],
    ];
    for (const [meter, ml, pulses, maxMs] of cases) {
      flow.configure({ meter });
      assert.deepEqual(flow.mlPerPulse, { ml, pulses }, meter);
      assert.equal(flow.maxReadIntervalMs, maxMs, meter);
    }
    flow.configure({ pulsesPerLitre: 287.5 });
    assert.deepEqual(flow.mlPerPulse, { ml: 80, pulses: 23 });
    flow.configure({ litresPerPulse: 0.25 });
    assert.deepEqual(flow.mlPerPulse, { ml: 250, pulses: 1 });
    flow.configure({ mlPerPulse: { ml: 3000, pulses: 1200 } });
    assert.deepEqual(flow.mlPerPulse, { ml: 5, pulses: 2 });
    flow.configure({ maxPulseHz: 100 });
    assert.equal(flow.maxReadIntervalMs, 655350);
    flow.configure({ totalMl: 123456789 });
    Timer.delay(1000);
    assert.equal(flow.sample()!.totalMl, 123456789);
    assert.equal(flow.sample(), undefined, "no time passed: nothing to report");
    for (const bad of [{ pulsesPerLitre: 0 }, { litresPerPulse: -1 }, { maxPulseHz: 0 }, { maxPulseHz: 1.5 }, { totalMl: -1 }, { mlPerPulse: { ml: 1.5, pulses: 1 } }, { meter: "nope" as PulseFlowMeter }]) {
      assert.throws(() => flow.configure(bad), RangeError, JSON.stringify(bad));
    }
    flow.close();
    assert.throws(() => flow.sample(), /closed/);
  });

  it("opens the counter with the preset's filter and debounce, overridable in the IO bag", () => {
    const board = new Board();
    setCurrentBoard(board);
    const seen: PulseCountOpenOptions[] = [];
    class Spy {
      constructor(o: PulseCountOpenOptions) {
        seen.push(o);
      }
      read() {
        return 0;
      }
      close() {}
    }
    new PulseFlow({ sensor: { io: Spy, signal: 5 }, meter: "yf-s201" });
    new PulseFlow({ sensor: { io: Spy, signal: 5 }, meter: "reed-100l" });
    new PulseFlow({ sensor: { io: Spy, signal: 5, filter: 500, debounceUs: 2000, control: 6 }, meter: "reed-1l" });
    assert.deepEqual(seen, [
      { signal: 5, filter: 12787, debounceUs: 0 },
      { signal: 5, filter: 12787, debounceUs: 10000 },
      { signal: 5, filter: 500, debounceUs: 2000, control: 6 },
    ]);
    // The stand-in clamps the filter to what the PCNT register holds.
    const pc = new PulseCount({ signal: 1, filter: 100000 });
    assert.equal(pc.filterNs, 12787);
  });

  it("a counter fault on read becomes SensorError('nack')", () => {
    const board = new Board();
    setCurrentBoard(board);
    let fail = false;
    class Flaky {
      read() {
        if (fail) throw new Error("peripheral gone");
        return 0;
      }
      close() {}
    }
    const flow = new PulseFlow({ sensor: { io: Flaky, signal: 5 } });
    fail = true;
    Timer.delay(10);
    expectSensorError(() => flow.sample(), "nack");
  });

  it("property: carried remainders make the sum of volumeMl equal floor(pulses·K) for any K and pulse sequence; flow rounds half up", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1000000 }),
        fc.integer({ min: 1, max: 1000000 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 1, max: 300000 })), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: -32768, max: 32767 }),
        (ml, pulses, steps, start) => {
          const board = new Board();
          setCurrentBoard(board);
          let count = start;
          class Scripted {
            read() {
              return count;
            }
            close() {}
          }
          const flow = new PulseFlow({ sensor: { io: Scripted, signal: 1 }, mlPerPulse: { ml, pulses }, maxPulseHz: 200 });
          assert.equal(flow.maxReadIntervalMs, 327675);
          const k = flow.mlPerPulse;
          assert.equal(k.ml * pulses, ml * k.pulses);
          let total = 0;
          let sum = 0;
          for (const [n, dt] of steps) {
            // Hardware count: signed 16-bit, wrapping.
            const raw = (count + n) & 0xffff;
            count = raw >= 0x8000 ? raw - 0x10000 : raw;
            board.clock.advance(dt);
            let s: PulseFlowSample | undefined;
            try {
              s = flow.sample();
            } catch (e) {
              assert.ok(e instanceof SensorError);
              assert.equal(e.fault, "range");
              assert.ok(n > Math.floor((dt * 200) / 1000) + 1, "only impossible rates are rejected");
              continue;
            }
            total += n;
            sum += s!.volumeMl;
            assert.equal(s!.totalMl, sum);
            assert.equal(sum, mlOf(total, k));
            const exact = (n * k.ml * 60000) / (k.pulses * dt);
            assert.equal(s!.flowMlMin, Math.floor(exact + 0.5));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("property: over random flows and faults, with the preset's conditioning the total never strays from the real pulses", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.constantFrom<PulseFlowMeter>("yf-s201", "yf-b1", "fs400a", "reed-1l", "reed-10l"),
        fc.subarray(["bounce", "glitch", "no-pulse"] as const),
        fc.array(fc.integer({ min: 1000, max: 120000 }), { minLength: 3, maxLength: 12 }),
        (seed, meter, faults, gaps) => {
          const rng = new Rng(seed);
          const reed = meter.startsWith("reed");
          const maxFlow = reed ? (meter === "reed-1l" ? 100 : 600) : 25;
          const a = rng.next() * maxFlow;
          const b = rng.next() * maxFlow;
          const ppl = { "yf-s201": 450, "yf-b1": 660, fs400a: 288, "reed-1l": 1, "reed-10l": 0.1 }[meter as string]!;
          const { device } = rig({ pulsesPerLitre: ppl, kind: reed ? "reed" : "hall", flowLMin: (t) => a + (b - a) * Math.abs(Math.sin(t / 50000)) }, seed);
          // Bounce is a reed contact's failing; a Hall sensor's output does not bounce.
          for (const f of faults) if (f !== "bounce" || reed) device.inject(f);
          const flow = new PulseFlow({ sensor: { io: PulseCount, signal: PIN }, meter });
          let sum = 0;
          for (const gap of gaps) {
            Timer.delay(gap);
            const s = flow.sample()!;
            sum += s.volumeMl;
          }
          const stats = device.stats();
          assert.equal(flow.totalPulses, stats.realPulses);
          assert.equal(sum, mlOf(stats.realPulses, flow.mlPerPulse));
        },
      ),
      { numRuns: 60 },
    );
  });
});
