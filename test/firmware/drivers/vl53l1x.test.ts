import assert from "node:assert/strict";
import fc from "fast-check";
import I2C from "embedded:io/i2c";
import Time from "time";
import Timer from "timer";
import { Board, setCurrentBoard } from "../../../simulator/src/core/board.ts";
import { probe } from "./bus-probe.ts";
import { Rng } from "../../../simulator/src/core/rng.ts";
import { Vl53l1x as Emulator, type Vl53l1xFault, type Vl53l1xOptions as EmulatorOptions, type Vl53l1xTarget } from "../../../simulator/src/devices/vl53l1x.ts";
import VL53L1X, { type Vl53l1xConfig, type Vl53l1xDistanceMode } from "../../../firmware/src/drivers/vl53l1x.ts";
import { SensorError } from "../../../firmware/src/drivers/sensor-error.ts";

const SENSOR = { io: I2C, data: 21, clock: 22, hz: 400000, address: 0x29 };

function rig(target: (t: number) => Vl53l1xTarget, seed = 1, extra: Partial<EmulatorOptions> = {}) {
  const board = new Board();
  setCurrentBoard(board);
  const device = new Emulator({ clock: board.clock, rng: new Rng(seed).fork("tof"), target, ...extra });
  board.attachI2C(0x29, device);
  // Power-up: the chip answers I2C 1.2 ms after power is applied.
  board.clock.advance(2);
  return { board, device };
}

function open(config: Vl53l1xConfig & { bootTimeoutMs?: number } = {}): VL53L1X {
  return new VL53L1X({ sensor: SENSOR, ...config });
}

/** Reads registers straight off the bus, as a logic analyser would see them. */
function peek(reg: number, count: number): number[] {
  return probe(0x29, Uint8Array.of(reg >> 8, reg & 0xff), count);
}

function poke(reg: number, ...bytes: number[]): void {
  probe(0x29, Uint8Array.of(reg >> 8, reg & 0xff, ...bytes));
}

/** Ranging accuracy allowed by the tests: ±(25 mm + 2 %). */
function within(mm: number, trueMm: number): boolean {
  return Math.abs(mm - trueMm) <= 25 + 0.02 * trueMm;
}

function sensorError(fn: () => unknown): SensorError | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    assert.ok(e instanceof SensorError, `expected SensorError, got ${String(e)}`);
    return e;
  }
}

describe("drivers/vl53l1x with the VL53L1X emulator", () => {
  afterEach(() => setCurrentBoard(undefined));

  it("long mode: distances up to 3.5 m on a white target within accuracy; mm, cm and Proximity fields", () => {
    for (const d of [50, 200, 800, 1500, 2500, 3500]) {
      rig(() => ({ distanceMm: d }), d);
      const s = open().sample();
      assert.ok(within(s.distanceMm, d), `${d}: ${s.distanceMm}`);
      assert.equal(s.distance, Math.round(s.distanceMm / 10));
      assert.equal(s.max, 400);
      assert.equal(s.near, s.distanceMm <= 300);
    }
  });

  it("short mode: good to ~1.3 m and in sunlight, where long mode fails", () => {
    rig(() => ({ distanceMm: 900, ambient: 1 }));
    const sensor = open({ distanceMode: "short", timingBudgetMs: 100 });
    const s = sensor.sample();
    assert.ok(within(s.distanceMm, 900));
    assert.equal(s.max, 130);
    sensor.configure({ distanceMode: "long", timingBudgetMs: 100 });
    const e = sensorError(() => sensor.sample());
    assert.equal(e?.fault, "range");
    assert.equal(sensor.rangeStatus, 2);
  });

  it("writes the model check, interrupt, mode, budget and inter-measurement registers", () => {
    rig(() => ({ distanceMm: 500 }));
    const sensor = open();
    assert.deepEqual(peek(0x010f, 2), [0xea, 0xcc]);
    assert.deepEqual(peek(0x0030, 1), [0x01]);
    assert.deepEqual(peek(0x0046, 1), [0x20]);
    assert.deepEqual(peek(0x0008, 1), [0x09]);
    assert.deepEqual(peek(0x000b, 1), [0x00]);
    const pll = peek(0x00de, 2);
    const osc = ((pll[0] << 8) | pll[1]) & 0x3ff;
    const expectImp = (budget: number) => Math.floor(osc * budget * 1.075);
    const cases: [Vl53l1xDistanceMode, number, number[], number[]][] = [
      ["short", 20, [0x14, 0x07, 0x05, 0x38, 0x07, 0x05, 0x06, 0x06], [0x00, 0x51, 0x00, 0x6e]],
      ["short", 500, [0x14, 0x07, 0x05, 0x38, 0x07, 0x05, 0x06, 0x06], [0x05, 0x91, 0x05, 0xc1]],
      ["long", 33, [0x0a, 0x0f, 0x0d, 0xb8, 0x0f, 0x0d, 0x0e, 0x0e], [0x00, 0x60, 0x00, 0x6e]],
      ["long", 200, [0x0a, 0x0f, 0x0d, 0xb8, 0x0f, 0x0d, 0x0e, 0x0e], [0x02, 0xd9, 0x02, 0xf8]],
    ];
    for (const [distanceMode, timingBudgetMs, modeBytes, budgetBytes] of cases) {
      sensor.configure({ distanceMode, timingBudgetMs });
      const mode = [...peek(0x004b, 1), ...peek(0x0060, 1), ...peek(0x0063, 1), ...peek(0x0069, 1), ...peek(0x0078, 2), ...peek(0x007a, 2)];
      assert.deepEqual(mode, modeBytes, `${distanceMode} ${timingBudgetMs}`);
      const budget = peek(0x005e, 2).concat(peek(0x0061, 2));
      assert.deepEqual(budget, budgetBytes);
      const imp = peek(0x006c, 4).reduce((a, b) => a * 256 + b, 0);
      assert.ok(Math.abs(imp - expectImp(timingBudgetMs)) <= 1 + expectImp(timingBudgetMs) * 0.0005, `imp ${imp}`);
      assert.ok(within(sensor.sample().distanceMm, 500));
    }
    // Ranging was started with 0x40 and is stopped with 0x80.
    assert.deepEqual(peek(0x0087, 1), [0x40]);
    sensor.stop();
    assert.deepEqual(peek(0x0087, 1), [0x80]);
  });

  it("ranges once per timing budget", () => {
    for (const [mode, budget] of [["short", 20], ["long", 33], ["long", 100], ["short", 200]] as const) {
      const { device } = rig(() => ({ distanceMm: 600 }));
      const sensor = open({ distanceMode: mode, timingBudgetMs: budget });
      sensor.sample();
      const t0 = Time.ticks;
      const r0 = device.ranges;
      for (let i = 0; i < 10; i++) sensor.sample();
      const per = (Time.ticks - t0) / 10;
      assert.ok(Math.abs(per - budget) <= Math.max(1, budget >> 3), `${mode} ${budget}: ${per} ms per range`);
      assert.equal(device.ranges - r0, 10);
    }
  });

  it("rejects budgets outside ST's table and below the mode's minimum", () => {
    rig(() => ({ distanceMm: 600 }));
    const sensor = open();
    for (const bad of [{ timingBudgetMs: 20 }, { distanceMode: "short" as const, timingBudgetMs: 15 }, { timingBudgetMs: 42 }, { distanceMode: "medium" as Vl53l1xDistanceMode }, { nearMm: -1 }]) {
      assert.throws(() => sensor.configure(bad), RangeError, JSON.stringify(bad));
    }
    sensor.configure({ nearMm: 1000 });
    assert.equal(sensor.sample().near, true);
  });

  it("a different model id is SensorError('id')", () => {
    const { device } = rig(() => ({ distanceMm: 600 }));
    device.inject("wrong-id", { id: 0xeeaa });
    const e = sensorError(() => open());
    assert.equal(e?.fault, "id");
    assert.match(e!.message, /0xeeaa/);
  });

  it("boot: waits out reset NACKs; nothing there is nack; a slow boot past the limit is timeout", () => {
    const board = new Board();
    setCurrentBoard(board);
    assert.equal(sensorError(() => open())?.fault, "nack");

    // Opened the moment power is applied: the first transfers NACK, then it works.
    const b2 = new Board();
    setCurrentBoard(b2);
    b2.attachI2C(0x29, new Emulator({ clock: b2.clock, rng: new Rng(2), target: () => ({ distanceMm: 700 }) }));
    assert.ok(within(open().sample().distanceMm, 700));

    const { device } = rig(() => ({ distanceMm: 700 }));
    device.inject("slow-start", { ms: 500 });
    assert.equal(sensorError(() => open({ bootTimeoutMs: 100 }))?.fault, "timeout");
    assert.ok(within(open({ bootTimeoutMs: 1000 }).sample().distanceMm, 700));
  });

  it("invalid ranges are SensorError('range') with ST's status: no target, too far, too near, sigma", () => {
    const cases: [Vl53l1xTarget, Vl53l1xConfig, number[]][] = [
      [{ distanceMm: 1000, surface: "none" }, {}, [2]],
      [{ distanceMm: 5000 }, {}, [2]],
      [{ distanceMm: 2000 }, { distanceMode: "short" }, [2]],
      [{ distanceMm: 20 }, {}, [3]],
      [{ distanceMm: 1150, surface: "dark" }, {}, [1, 2]],
    ];
    for (const [target, config, statuses] of cases) {
      rig(() => target, 3);
      const sensor = open(config);
      let seen = 0;
      for (let i = 0; i < 10; i++) {
        const e = sensorError(() => sensor.sample());
        if (!e) continue;
        assert.equal(e.fault, "range");
        assert.ok(statuses.includes(sensor.rangeStatus), `${JSON.stringify(target)}: status ${sensor.rangeStatus}`);
        seen++;
      }
      assert.ok(seen > 0, JSON.stringify(target));
    }
  });

  it("a frozen result block is SensorError('stuck'); recovery after clear", () => {
    const { device } = rig(() => ({ distanceMm: 900 }));
    const sensor = open({ timingBudgetMs: 50 });
    assert.ok(within(sensor.sample().distanceMm, 900));
    device.inject("stuck");
    assert.equal(sensorError(() => sensor.sample())?.fault, "stuck");
    device.clear("stuck");
    assert.ok(within(sensor.sample().distanceMm, 900));
  });

  it("NACKs and a mid-transfer disconnect are SensorError('nack')", () => {
    const { device } = rig(() => ({ distanceMm: 900 }));
    const sensor = open();
    device.inject("nack");
    assert.equal(sensorError(() => sensor.sample())?.fault, "nack");
    device.clear("nack");
    assert.ok(within(sensor.sample().distanceMm, 900));
    device.inject("disconnect");
    assert.equal(sensorError(() => sensor.sample())?.fault, "nack");
    assert.equal(sensorError(() => sensor.sample())?.fault, "nack");
    sensor.close();
    assert.throws(() => sensor.sample(), /closed/);
  });

  it("follows the interrupt polarity the chip reports", () => {
    rig(() => ({ distanceMm: 1234 }));
    const sensor = open();
    poke(0x0030, 0x11); // active low
    assert.ok(within(sensor.sample().distanceMm, 1234));
    assert.ok(within(sensor.sample().distanceMm, 1234));
  });

  it("a stopped sensor times out; the next sample restarts ranging", () => {
    rig(() => ({ distanceMm: 400 }));
    const sensor = open();
    sensor.sample();
    poke(0x0087, 0x80); // someone stopped it behind the driver's back
    Timer.delay(500);
    assert.equal(sensorError(() => sensor.sample())?.fault, "timeout");
    assert.ok(within(sensor.sample().distanceMm, 400));
  });

  it("property: random scenes, settings and faults give an accurate reading or a SensorError, never a wrong value", () => {
    const faults: Vl53l1xFault[] = ["nack", "stuck", "disconnect"];
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.record({
          distanceMm: fc.integer({ min: 0, max: 5000 }),
          surface: fc.constantFrom<Vl53l1xTarget["surface"]>("white", "grey", "dark", "water", "none"),
          ambient: fc.double({ min: 0, max: 1, noNaN: true }),
        }),
        fc.constantFrom<[Vl53l1xDistanceMode, number]>(["short", 20], ["short", 50], ["long", 33], ["long", 100], ["long", 500]),
        fc.option(fc.constantFrom(...faults)),
        fc.double({ min: 0.05, max: 0.5, noNaN: true }),
        (seed, target, [distanceMode, timingBudgetMs], fault, p) => {
          const { device } = rig(() => target, seed);
          const sensor = open({ distanceMode, timingBudgetMs });
          for (let i = 0; i < 4; i++) {
            if (i === 1 && fault) device.inject(fault, { p });
            const e = sensorError(() => {
              const s = sensor.sample();
              assert.ok(within(s.distanceMm, target.distanceMm), `true ${target.distanceMm} (${target.surface}), read ${s.distanceMm}`);
            });
            if (e) assert.ok(["range", "nack", "stuck", "timeout"].includes(e.fault), e.fault);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

