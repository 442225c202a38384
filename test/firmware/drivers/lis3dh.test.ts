import assert from "node:assert/strict";
import fc from "fast-check";
import I2C from "embedded:io/i2c";
import Timer from "timer";
import { Board, setCurrentBoard } from "../../../simulator/src/core/board.ts";
import { probe } from "./bus-probe.ts";
import { Rng } from "../../../simulator/src/core/rng.ts";
import { Lis3dh as Emulator, type Lis3dhAcceleration, type Lis3dhFault } from "../../../simulator/src/devices/lis3dh.ts";
import LIS3DH, { tiltDegrees, type Lis3dhConfig, type Lis3dhMode, type Lis3dhSample } from "../../../firmware/src/drivers/lis3dh.ts";
import { SensorError } from "../../../firmware/src/drivers/sensor-error.ts";
import { spying } from "./driver-helpers.ts";

const ADDRESS = 0x18;
const SENSOR = { io: I2C, data: 21, clock: 22, hz: 400000, address: ADDRESS };

function rig(acceleration: (t: number) => Lis3dhAcceleration, seed = 1) {
  const board = new Board();
  setCurrentBoard(board);
  const device = new Emulator({ clock: board.clock, rng: new Rng(seed).fork("acc"), acceleration });
  board.attachI2C(ADDRESS, device);
  board.clock.advance(6); // past the 5 ms boot
  return { board, device };
}

function open(config: Lis3dhConfig & { bootTimeoutMs?: number; configured?: boolean } = {}): LIS3DH {
  return new LIS3DH({ sensor: SENSOR, ...config });
}

/** Gravity seen by a sensor tilted `deg` from upright towards azimuth `azDeg`, mg. */
function tilted(deg: number, azDeg = 0): Lis3dhAcceleration {
  const t = (deg * Math.PI) / 180;
  const a = (azDeg * Math.PI) / 180;
  return { x: 1000 * Math.sin(t) * Math.cos(a), y: 1000 * Math.sin(t) * Math.sin(a), z: 1000 * Math.cos(t) };
}

function peek(reg: number, count = 1): number[] {
  return probe(ADDRESS, Uint8Array.of(reg | (count > 1 ? 0x80 : 0)), count);
}

/** Next sample, waiting up to a second of virtual time. */
function next(sensor: LIS3DH): Lis3dhSample {
  for (let i = 0; i < 1000; i++) {
    const s = sensor.sample();
    if (s) return s;
    Timer.delay(1);
  }
  assert.fail("no sample within 1 s");
}

/** Zero-g offset ±40 mg, sensitivity ±3 %, two digits of quantization and noise. */
function near(mg: number, truth: number, digitMg: number): boolean {
  return Math.abs(mg - truth) <= 45 + 0.03 * Math.abs(truth) + 2 * digitMg;
}

function exactTilt(x: number, y: number, z: number): number {
  return (Math.atan2(Math.hypot(x, y), z) * 180) / Math.PI;
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

describe("drivers/lis3dh", () => {
  afterEach(() => setCurrentBoard(undefined));

  describe("tiltDegrees (integer CORDIC)", () => {
    it("is within 0.51° of atan2 over random integer vectors", () => {
      let worst = 0;
      fc.assert(
        fc.property(
          fc.oneof(fc.integer({ min: -24576, max: 24576 }), fc.integer({ min: -3, max: 3 }), fc.integer({ min: -(2 ** 30) + 1, max: 2 ** 30 - 1 })),
          fc.oneof(fc.integer({ min: -24576, max: 24576 }), fc.integer({ min: -3, max: 3 })),
          fc.oneof(fc.integer({ min: -24576, max: 24576 }), fc.integer({ min: -3, max: 3 })),
          (x, y, z) => {
            const got = tiltDegrees(x, y, z);
            assert.ok(Number.isInteger(got) && got >= 0 && got <= 180);
            if (x === 0 && y === 0 && z === 0) return assert.equal(got, 0);
            const err = Math.abs(got - exactTilt(x, y, z));
            worst = Math.max(worst, err);
            assert.ok(err <= 0.51, `(${x}, ${y}, ${z}): ${got} vs ${exactTilt(x, y, z)}`);
          },
        ),
        { numRuns: 20000 },
      );
      assert.ok(worst > 0.45, "the bound is met by rounding, not by luck of the sample");
    });

    it("gets the axes and octant edges right", () => {
      const cases: [number, number, number, number][] = [
        [0, 0, 1000, 0], [1000, 0, 0, 90], [0, -1000, 0, 90], [0, 0, -1000, 180], [1, 0, 0, 90], [0, 0, 1, 0],
        [1000, 0, 1000, 45], [-1000, 0, -1000, 135], [0, 1, -1, 135], [1, 1, 1, 55], [24576, 24576, 24576, 55], [707, 707, 0, 90],
      ];
      for (const [x, y, z, want] of cases) assert.equal(tiltDegrees(x, y, z), want, `(${x}, ${y}, ${z})`);
    });
  });

  describe("with the LIS3DH emulator", () => {
    it("reads gravity upright and tilted within offset and sensitivity, with tiltDeg", () => {
      for (const [deg, az] of [[0, 0], [30, 0], [60, 120], [90, 45], [135, 200], [180, 0]]) {
        const truth = tilted(deg, az);
        rig(() => truth, deg + az);
        const s = next(open());
        assert.ok(near(s.x, truth.x, 1) && near(s.y, truth.y, 1) && near(s.z, truth.z, 1), `${deg}°: ${JSON.stringify(s)}`);
        assert.equal(s.tiltDeg, tiltDegrees(s.x, s.y, s.z));
        assert.ok(Math.abs(s.tiltDeg - deg) <= 4, `${deg}°: tilt ${s.tiltDeg}`);
      }
    });

    it("returns undefined until a new sample arrives; one per 1/ODR", () => {
      const { device } = rig(() => tilted(0));
      const sensor = open({ rateHz: 10 });
      next(sensor);
      assert.equal(sensor.sample(), undefined);
      const n0 = device.samples;
      let got = 0;
      for (let ms = 0; ms < 1000; ms += 5) {
        Timer.delay(5);
        if (sensor.sample()) got++;
      }
      assert.equal(device.samples - n0, 10);
      assert.equal(got, 10);
    });

    it("every range, mode and rate: registers on the bus, scaling and timing", () => {
      const truth = { x: 1500, y: -700, z: 300 };
      const { device } = rig(() => truth);
      const sensor = open({ motionThresholdMg: 0, tiltThresholdDeg: 0 });
      const modes: [Lis3dhMode, number[], number][] = [
        ["high-resolution", [1, 2, 4, 12], 0x08],
        ["normal", [4, 8, 16, 48], 0x00],
        ["low-power", [16, 32, 64, 192], 0x00],
      ];
      for (const [mode, digits, hr] of modes) {
        for (const [fs, rangeG] of ([2, 4, 8, 16] as const).entries()) {
          sensor.configure({ mode, rangeG });
          const ctrl = peek(0x20, 6);
          assert.equal(ctrl[0], 0x27 | (mode === "low-power" ? 0x08 : 0), `${mode} ±${rangeG} g CTRL_REG1`);
          assert.equal(ctrl[3], 0x80 | (fs << 4) | hr, `${mode} ±${rangeG} g CTRL_REG4`);
          next(sensor);
          const s = next(sensor);
          const full = rangeG * 1000;
          const clip = (v: number) => Math.max(-full, Math.min(full, v));
          // At ±2 g the 1.5 g axis still fits; each value is a whole number of digits.
          for (const [axis, v] of [["x", s.x], ["y", s.y], ["z", s.z]] as const) {
            assert.equal(Math.abs(v % digits[fs]), 0, `${mode} ±${rangeG} g ${axis} ${v}`);
            assert.ok(near(v, clip(truth[axis]), digits[fs]) || Math.abs(truth[axis]) > full, `${mode} ±${rangeG} g ${axis}: ${v}`);
          }
        }
      }
      for (const rateHz of [1, 10, 25, 50, 100, 200, 400]) {
        sensor.configure({ rateHz, mode: "high-resolution", rangeG: 2 });
        assert.equal(peek(0x20)[0] >> 4, [1, 10, 25, 50, 100, 200, 400].indexOf(rateHz) + 1);
        Timer.delay(1100);
        sensor.sample(); // the emulator catches up on bus access
        const n0 = device.samples;
        Timer.delay(2000);
        sensor.sample();
        assert.ok(Math.abs(device.samples - n0 - 2 * rateHz) <= 1, `${rateHz} Hz: ${device.samples - n0} in 2 s`);
      }
    });

    it("event registers: thresholds, durations, routing and latching", () => {
      rig(() => tilted(0));
      const sensor = open({ rateHz: 50, rangeG: 4, motionThresholdMg: 300, motionDurationMs: 40, tiltThresholdDeg: 60, tiltDurationMs: 500 });
      assert.deepEqual(peek(0x21, 5), [0x01, 0x40, 0x80 | (1 << 4) | 0x08, 0x0a, 0x20]);
      assert.deepEqual(peek(0x30), [0x2a]);
      assert.deepEqual(peek(0x32, 2), [Math.ceil(300 / 32), 2]);
      assert.deepEqual(peek(0x34), [0x10]);
      assert.deepEqual(peek(0x36, 2), [Math.round(500 / 32), 25]);
      sensor.configure({ motionThresholdMg: 0, tiltThresholdDeg: 0, latch: false });
      assert.deepEqual(peek(0x21, 5), [0x00, 0x00, 0x80 | (1 << 4) | 0x08, 0x00, 0x00]);
      assert.deepEqual([peek(0x30)[0], peek(0x34)[0]], [0, 0]);
      for (const bad of [{ rateHz: 3 }, { rangeG: 3 as 2 }, { mode: "fast" as Lis3dhMode }, { motionThresholdMg: -1 }, { tiltThresholdDeg: 5 }, { tiltThresholdDeg: 85 }, { motionDurationMs: 1.5 }, { tiltDurationMs: 20000 }, { stuckSamples: -1 }]) {
        assert.throws(() => sensor.configure(bad), RangeError, JSON.stringify(bad));
      }
    });

    it("lid opened: a jolt latches a motion event; a still bin raises none", () => {
      const jolt = (t: number) => (t > 5000 && t < 5200 ? { x: 600, y: 0, z: 1000 } : tilted(0));
      const { device } = rig(jolt);
      const sensor = open({ rateHz: 10 });
      Timer.delay(4000);
      assert.deepEqual({ ...sensor.events(), int1Src: 0, int2Src: 0 }, { motion: false, tipped: false, int1Src: 0, int2Src: 0 });
      Timer.delay(2000);
      assert.equal(device.int1, 1, "INT1 pin high while latched");
      const e = sensor.events();
      assert.equal(e.motion, true);
      assert.equal(e.tipped, false);
      assert.ok(e.int1Src & 0x02, "X high caused it");
      assert.equal(sensor.events().motion, false, "reading INT1_SRC clears the latch");
      assert.equal(device.int1, 0);
      Timer.delay(30000);
      assert.equal(sensor.events().motion, false);
    });

    it("bin tipped: beyond the threshold for the duration latches; a lean below it does not; upside down is caught on the way", () => {
      const lean = (deg: number) => (t: number) => tilted(t > 2000 ? deg : 0, 30);
      rig(lean(30));
      let sensor = open({ rateHz: 10, tiltThresholdDeg: 45, tiltDurationMs: 1000, motionThresholdMg: 0 });
      Timer.delay(10000);
      assert.equal(sensor.events().tipped, false);

      const r = rig(lean(70));
      sensor = open({ rateHz: 10, tiltThresholdDeg: 45, tiltDurationMs: 1000, motionThresholdMg: 0 });
      Timer.delay(2500);
      assert.equal(sensor.events().tipped, false, "not before the duration");
      Timer.delay(1500);
      assert.equal(r.device.int2, 1);
      const e = sensor.events();
      assert.equal(e.tipped, true);
      assert.ok(e.int2Src & 0x10, "Z low");
      assert.ok(next(sensor).tiltDeg >= 66);

      // Rolls over to upside down in 4 s and stays there.
      rig((t) => tilted(Math.max(0, Math.min(180, (t - 2000) * 0.045))));
      sensor = open({ rateHz: 10, tiltThresholdDeg: 45, tiltDurationMs: 1000 });
      Timer.delay(20000);
      assert.equal(sensor.events().tipped, true);
      assert.ok(next(sensor).tiltDeg >= 176);
    });

    it("configured: a chip set up at an earlier wake is only re-armed, with no register write and no wait; after a reset it is set up again", () => {
      const jolt = (t: number) => (t > 5000 && t < 5200 ? { x: 600, y: 0, z: 1000 } : tilted(0));
      const { board, device } = rig(jolt);
      open({ rateHz: 10 }); // the first wake sets it up
      Timer.delay(6000); // and the node sleeps through a jolt, which latches
      assert.equal(device.int1, 1);
      /** Register writes (address and data) while `fn` runs, and the virtual ms it takes. */
      const writes = (fn: () => void) => {
        let n = 0;
        const t0 = board.clock.nowMs;
        spying(I2C.prototype, "write", (value) => {
          if ((value as ArrayBufferView).byteLength > 1) n++;
        }, fn);
        return { n, ms: board.clock.nowMs - t0 };
      };
      let warm: LIS3DH | undefined;
      board.booting(true); // the next wake: the last one's bus handle went with the reset
      const kept = writes(() => (warm = open({ rateHz: 10, configured: true })));
      assert.deepEqual(kept, { n: 0, ms: 0 }, "only reads, at once");
      assert.equal(device.int1, 0, "the latch is cleared at open, as a full set-up clears it");
      assert.equal(warm!.events().motion, false);
      assert.ok(next(warm!).tiltDeg <= 3);
      // A brown-out of the chip alone resets its registers: the driver notices and sets it up again.
      device.inject("slow-start", { ms: 1 });
      Timer.delay(10);
      board.booting(true);
      const again = writes(() => open({ rateHz: 10, configured: true }));
      assert.ok(again.n >= 8 && again.ms >= 102, `${again.n} writes in ${again.ms} ms`);
      assert.equal(peek(0x20)[0], 0x27);
    });

    it("unlatched events follow the current state", () => {
      rig((t) => tilted(t > 3000 ? 80 : 0));
      const sensor = open({ rateHz: 10, tiltThresholdDeg: 45, tiltDurationMs: 0, motionThresholdMg: 0, latch: false });
      assert.equal(sensor.events().tipped, false);
      Timer.delay(4000);
      assert.equal(sensor.events().tipped, true);
      assert.equal(sensor.events().tipped, true, "still tipped: not a latch");
    });

    it("wrong WHO_AM_I is SensorError('id'); nothing there or a slow boot past the limit is nack", () => {
      const { device } = rig(() => tilted(0));
      device.inject("wrong-id", { id: 0x44 });
      assert.equal(sensorError(() => open())?.fault, "id");

      setCurrentBoard(new Board());
      assert.equal(sensorError(() => open())?.fault, "nack");

      const slow = rig(() => tilted(0));
      slow.device.inject("slow-start", { ms: 200 });
      assert.equal(sensorError(() => open({ bootTimeoutMs: 20 }))?.fault, "nack");
      assert.ok(next(open({ bootTimeoutMs: 300 })).z > 900);
    });

    it("NACKs and a mid-transfer disconnect are SensorError('nack')", () => {
      const { device } = rig(() => tilted(0));
      const sensor = open();
      next(sensor);
      device.inject("nack");
      Timer.delay(200);
      assert.equal(sensorError(() => sensor.sample())?.fault, "nack");
      assert.equal(sensorError(() => sensor.events())?.fault, "nack");
      device.clear("nack");
      assert.ok(next(sensor).z > 900);
      device.inject("disconnect");
      Timer.delay(200);
      assert.equal(sensorError(() => sensor.sample())?.fault, "nack");
      assert.equal(sensorError(() => sensor.sample())?.fault, "nack");
      sensor.close();
      assert.throws(() => sensor.sample(), /closed/);
    });

    it("frozen output is SensorError('stuck') with stuckSamples; a live sensor at 100 Hz never trips it", () => {
      const { device } = rig(() => tilted(10));
      const sensor = open({ rateHz: 100, stuckSamples: 8 });
      for (let i = 0; i < 300; i++) next(sensor);
      device.inject("stuck");
      let fault: string | undefined;
      for (let i = 0; i < 10 && !fault; i++) fault = sensorError(() => next(sensor))?.fault;
      assert.equal(fault, "stuck");
    });

    it("property: random orientations, settings and faults give an accurate sample, no sample, or a SensorError", () => {
      const faults: Lis3dhFault[] = ["nack", "stuck", "disconnect"];
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: 0xffffffff }),
          fc.integer({ min: 0, max: 180 }),
          fc.integer({ min: 0, max: 359 }),
          fc.constantFrom<2 | 4 | 8 | 16>(2, 4, 8, 16),
          fc.constantFrom<Lis3dhMode>("high-resolution", "normal", "low-power"),
          fc.constantFrom(10, 50, 100),
          fc.option(fc.constantFrom(...faults)),
          fc.double({ min: 0.05, max: 0.5, noNaN: true }),
          (seed, deg, az, rangeG, mode, rateHz, fault, p) => {
            const truth = tilted(deg, az);
            const { device } = rig(() => truth, seed);
            const sensor = open({ rangeG, mode, rateHz, stuckSamples: fault === "stuck" ? 4 : 0 });
            const digit = { "high-resolution": [1, 2, 4, 12], normal: [4, 8, 16, 48], "low-power": [16, 32, 64, 192] }[mode][[2, 4, 8, 16].indexOf(rangeG)];
            for (let i = 0; i < 8; i++) {
              if (i === 2 && fault) device.inject(fault, { p });
              Timer.delay(Math.ceil(1000 / rateHz));
              const e = sensorError(() => {
                const s = sensor.sample();
                if (!s) return;
                assert.ok(near(s.x, truth.x, digit) && near(s.y, truth.y, digit) && near(s.z, truth.z, digit), `${JSON.stringify(s)} vs ${JSON.stringify(truth)}`);
                assert.equal(s.tiltDeg, tiltDegrees(s.x, s.y, s.z));
              });
              if (e) assert.ok(["nack", "stuck"].includes(e.fault), e.fault);
            }
          },
        ),
        { numRuns: 150 },
      );
    });
  });
});

describe("LIS3DH emulator: quietUntilMs (when a runner may skip looking at INT1)", () => {
  afterEach(() => setCurrentBoard(undefined));

  /** A still bin lid jolted at `joltMs` for `lengthMs`; `steadyUntil` says when the acceleration next changes. */
  function jolted(joltMs: number, lengthMs: number, mg: number, seed: number) {
    const acceleration = (t: number) => (t >= joltMs && t < joltMs + lengthMs ? { x: mg, y: 0, z: 1000 } : { x: 0, y: 0, z: 1000 });
    const steadyUntil = (t: number) => (t < joltMs ? joltMs : t < joltMs + lengthMs ? joltMs + lengthMs : Number.POSITIVE_INFINITY);
    const board = new Board();
    setCurrentBoard(board);
    const device = new Emulator({ clock: board.clock, rng: new Rng(seed).fork("acc"), acceleration, steadyUntil });
    board.attachI2C(ADDRESS, device);
    board.clock.advance(6);
    const sensor = new LIS3DH({ sensor: SENSOR, rateHz: 10, tiltThresholdDeg: 45 });
    setCurrentBoard(undefined);
    return { board, device, sensor };
  }

  it("a still sensor is quiet until the acceleration changes; data-ready on INT1 never is", () => {
    const { board, device } = jolted(600_000, 2000, 900, 3);
    board.clock.advance(10_000);
    const quiet = device.quietUntilMs();
    assert.ok(quiet >= 599_000 && quiet <= 600_000, `quiet until ${quiet}`);
    assert.equal(device.int1, 0);
    // Routing data-ready to INT1 (CTRL_REG3 I1_ZYXDA) makes every sample a change of the pin.
    setCurrentBoard(board);
    const reg3 = peek(0x22)[0];
    probe(ADDRESS, Uint8Array.of(0x22, reg3 | 0x10));
    setCurrentBoard(undefined);
    assert.equal(device.quietUntilMs(), board.clock.nowMs);
  });

  it("looking at INT1 only from quietUntilMs on sees every jolt at the same poll as looking every 10 s", () => {
    fc.assert(
      fc.property(fc.integer({ min: 30_000, max: 3_000_000 }), fc.integer({ min: 300, max: 5000 }), fc.integer({ min: 600, max: 1800 }), fc.integer({ min: 1, max: 1e6 }), (joltMs, lengthMs, mg, seed) => {
        const firstHigh = (skip: boolean): number => {
          const { board, device } = jolted(joltMs, lengthMs, mg, seed);
          let t = board.clock.nowMs;
          for (let polls = 0; polls < 2000; polls++) {
            const q = skip ? device.quietUntilMs() : t;
            t = q > t + 10_000 ? t + Math.ceil((q - t) / 10_000) * 10_000 : t + 10_000;
            board.clock.advanceTo(t);
            if (device.int1 === 1) return t;
          }
          return -1;
        };
        const every = firstHigh(false);
        assert.ok(every > joltMs, `INT1 seen at ${every} for a jolt at ${joltMs}`);
        assert.equal(firstHigh(true), every);
      }),
      { numRuns: 25 },
    );
  });
});
