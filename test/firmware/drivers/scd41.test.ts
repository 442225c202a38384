// SCD41 driver against the independently written SCD41 emulator: readings, every
// command, every injected fault, and a property test that whatever the driver
// returns is exactly what the chip measured.
import assert from "node:assert/strict";
import fc from "fast-check";
import I2C from "embedded:io/i2c";
import Timer from "timer";
import { Board, BusError, setCurrentBoard, type I2CDevice } from "../../../simulator/src/core/board.ts";
import { Rng } from "../../../simulator/src/core/rng.ts";
import { steadyAir, type AirEnvironment } from "../../../simulator/src/devices/air-environment.ts";
import { Scd41Emulator, type Scd41EmulatorOptions, type Scd41Fault, type Scd41Words } from "../../../simulator/src/devices/scd41.ts";
import SCD41, { type Scd41Options, type Scd41Sample } from "../../../firmware/src/drivers/scd41.ts";
import { SensorError } from "../../../firmware/src/drivers/sensor-error.ts";
import { faultOf, waitSample } from "./driver-helpers.ts";

const AIR = { co2Ppm: 820, temperatureC: 23.4, humidityPct: 51.2 };

function rig(emu: Partial<Scd41EmulatorOptions> = {}, drv: Partial<Scd41Options> = {}, air: Partial<AirEnvironment> = AIR) {
  const board = new Board();
  setCurrentBoard(board);
  const chip = new Scd41Emulator({ rng: new Rng("scd41"), environment: steadyAir(air), clock: board.clock, ...emu });
  board.attachI2C(0x62, chip);
  const open = () => new SCD41({ sensor: { io: I2C, data: 21, clock: 22, hz: 100000, address: 0x62 }, ...drv });
  return { board, chip, open };
}

/** Converts the chip's words the way the datasheet defines them (floats), for comparison. */
function physical(w: Scd41Words) {
  return { co2: w.co2, t: -45 + (175 * w.temperature) / 65535, rh: (100 * w.humidity) / 65535 };
}

/** The driver's reading must be exactly the conversion of the words the chip sent. */
function assertMatches(s: Scd41Sample, w: Scd41Words, rhtOnly = false) {
  if (rhtOnly) assert.equal(s.co2Ppm, undefined);
  else assert.equal(s.co2Ppm, w.co2);
  assert.equal(s.temperatureMilliC, ((21875 * w.temperature) >> 13) - 45000);
  assert.equal(s.humidityMilliPct, (12500 * w.humidity) >> 13);
  const p = physical(w);
  assert.ok(Math.abs(s.temperatureDeciC - p.t * 10) <= 0.55, `deci-°C ${s.temperatureDeciC} vs ${p.t}`);
  assert.ok(Math.abs(s.humidityCentiPct - p.rh * 100) <= 0.7, `centi-% ${s.humidityCentiPct} vs ${p.rh}`);
}

describe("SCD41 driver with the SCD41 emulator", () => {
  afterEach(() => setCurrentBoard(undefined));

  it("reads CO2, temperature and humidity within the datasheet accuracy, every 5 s", () => {
    const { chip, open } = rig();
    const s = open();
    assert.equal(s.variant, 1);
    assert.equal(s.sample(), undefined, "no data before the first 5 s interval");
    Timer.delay(4000);
    assert.equal(s.sample(), undefined);
    Timer.delay(1100);
    const r = s.sample();
    assert.ok(r);
    assertMatches(r, chip.lastReadout!);
    assert.ok(Math.abs(r.co2Ppm! - AIR.co2Ppm) <= 50 + 0.05 * AIR.co2Ppm);
    assert.ok(Math.abs(r.temperatureDeciC - AIR.temperatureC * 10) <= 8);
    assert.ok(Math.abs(r.humidityCentiPct - AIR.humidityPct * 100) <= 600);
    assert.equal(s.sample(), undefined, "the chip's buffer empties on read");
    Timer.delay(5000);
    assert.ok(s.sample());
  });

  it("returns fresh objects", () => {
    const { open } = rig();
    const s = open();
    Timer.delay(5000);
    const a = s.sample();
    Timer.delay(5000);
    const b = s.sample();
    assert.ok(a && b && a !== b);
  });

  it("stops a chip left measuring across an MCU reset, then starts it again", () => {
    const { chip, open } = rig({ initialMode: "periodic" });
    const s = open();
    assert.ok(chip.commandLog.includes(0x3f86));
    assert.equal(chip.mode, "periodic");
    assert.ok(waitSample(s, 6000));
  });

  it("low-power periodic mode gives a reading every 30 s", () => {
    const { open } = rig({}, { mode: "low-power" });
    const s = open();
    assert.equal(waitSample(s, 29000, 1000), undefined);
    Timer.delay(1000);
    assert.ok(s.sample());
    assert.equal(waitSample(s, 28000, 1000), undefined);
    assert.ok(waitSample(s, 3000, 1000));
  });

  it("single shot: starts a 5 s measurement, then reads it; RHT-only omits CO2", () => {
    const { chip, open } = rig({}, { mode: "single-shot" });
    const s = open();
    assert.equal(chip.mode, "idle");
    assert.equal(s.sample(), undefined, "shot started");
    Timer.delay(2000);
    assert.equal(s.sample(), undefined, "shot in progress (no bus traffic: the chip would NACK)");
    Timer.delay(3000);
    const r = s.sample();
    assert.ok(r);
    assertMatches(r, chip.lastReadout!);
    s.configure({ mode: "single-shot-rht" });
    const h = s.sample();
    assert.ok(h, "an RHT-only shot takes 50 ms and is waited for");
    assertMatches(h, chip.lastReadout!, true);
    assert.equal(chip.lastReadout!.co2, 0);
    const b = s.measureSingleShot();
    assertMatches(b, chip.lastReadout!);
  });

  it("knownIdle: a chip left idle by the last wake's shot is measured without reopening it (no wake-up, stop or variant read)", () => {
    const { board, chip } = rig();
    const bag = { io: I2C, data: 21, clock: 22, hz: 100000, address: 0x62 };
    const cold = new SCD41({ sensor: bag, mode: "single-shot" });
    assertMatches(cold.measureSingleShot(), chip.lastReadout!);
    // The next boot: a fresh driver on the idle chip (the last wake's bus handle went with the reset).
    board.booting(true);
    const before = chip.commandLog.length;
    const t0 = board.clock.nowMs;
    const warm = new SCD41({ sensor: bag, mode: "single-shot", knownIdle: true });
    assert.equal(warm.variant, 1);
    assertMatches(warm.measureSingleShot(), chip.lastReadout!);
    assert.deepEqual(chip.commandLog.slice(before), [0x219d, 0xec05], "measure_single_shot and read_measurement only");
    assert.ok(board.clock.nowMs - t0 < 5100, `${board.clock.nowMs - t0} ms awake for the shot`);
    // Without it, the same boot opens the chip from scratch: wake_up NACKed, stop_periodic (500 ms), get_variant.
    warm.close();
    const again = chip.commandLog.length;
    new SCD41({ sensor: bag, mode: "single-shot" }).measureSingleShot();
    assert.deepEqual(chip.commandLog.slice(again, again + 2), [0x3f86, 0x202f]);
  });

  it("single-shot modes are refused for an SCD40", () => {
    const { open } = rig({ model: "SCD40" });
    const s = open();
    assert.equal(s.variant, 0);
    assert.equal(faultOf(() => s.configure({ mode: "single-shot" })), "id");
  });

  it("sets and reads back temperature offset, altitude, pressure and ASC, stopping only for idle-only commands", () => {
    const { chip, open } = rig();
    const s = open();
    s.configure({ temperatureOffsetMilliC: 2000, altitudeM: 420, asc: false });
    assert.equal(chip.settings.temperatureOffsetWord, 749); // 2 · 65535 / 175 = 748.97
    assert.equal(s.getTemperatureOffsetMilliC(), 2000);
    assert.equal(s.getAltitudeM(), 420);
    assert.equal(s.getAsc(), false);
    assert.equal(chip.mode, "periodic", "restarted after the idle-only commands");
    const stops = chip.commandLog.filter((c) => c === 0x3f86).length;
    s.configure({ ambientPressureHpa: 987 });
    assert.equal(chip.commandLog.filter((c) => c === 0x3f86).length, stops, "pressure is set without stopping");
    assert.equal(s.getAmbientPressureHpa(), 987);
    const r = waitSample(s, 6000);
    assert.ok(r);
    // Offset 2 °C against 4 °C of self-heating: the chip now reads 2 °C warm.
    assert.ok(Math.abs(r.temperatureDeciC - (AIR.temperatureC + 2) * 10) <= 2, String(r.temperatureDeciC));
    assert.throws(() => s.configure({ altitudeM: 5000 }), RangeError);
  });

  it("persists settings to EEPROM, which survive a power cycle", () => {
    const { board, chip, open } = rig();
    const s = open();
    s.configure({ temperatureOffsetMilliC: 5000 });
    s.persistSettings();
    assert.equal(chip.eepromWrites, 1);
    s.configure({ temperatureOffsetMilliC: 1000 });
    chip.powerCycle();
    Timer.delay(50);
    board.booting(true); // the node's power cycle: the MCU boots again too
    const again = open();
    // One LSB of the offset word is 175/65535 °C ≈ 2.7 m°C, so the value reads back within that.
    assert.ok(Math.abs(again.getTemperatureOffsetMilliC() - 5000) <= 3);
    assert.equal(chip.settings.temperatureOffsetWord, 1872);
  });

  it("forced recalibration fails on a fresh chip and corrects the bias after operation", () => {
    const { chip, open } = rig({ co2BiasPpm: 60, co2NoisePpm: 0 });
    const s = open();
    s.stop();
    assert.equal(faultOf(() => s.forcedRecalibration(400)), "busy");
    s.startPeriodic();
    for (let i = 0; i < 36; i++) {
      Timer.delay(5000);
      s.sample();
    }
    const correction = s.forcedRecalibration(AIR.co2Ppm);
    assert.equal(correction, -60);
    assert.equal(chip.settings.co2BiasPpm, 0);
    const r = waitSample(s, 6000);
    assert.equal(r?.co2Ppm, AIR.co2Ppm);
  });

  it("reads the serial number, runs the self test, powers down and wakes up", () => {
    const { chip, open } = rig({ serial: [0x1234, 0x5678, 0x9abc] });
    const s = open();
    assert.equal(s.serialNumber(), 0x123456789abc);
    assert.equal(s.selfTest(), true);
    assert.equal(chip.mode, "periodic");
    s.powerDown();
    assert.equal(chip.mode, "sleep");
    assert.equal(s.sample(), undefined);
    assert.equal(faultOf(() => s.configure({ altitudeM: 10 })), "busy");
    s.wakeUp();
    assert.equal(chip.mode, "periodic");
    assert.ok(waitSample(s, 6000));
  });

  it("the emulator enforces the protocol: idle-only commands, wait times, empty buffer, argument CRC", () => {
    const { board, chip } = rig();
    const io = new I2C({ data: 21, clock: 22, hz: 100000, address: 0x62 });
    io.write(Uint8Array.of(0x21, 0xb1));
    assert.throws(() => io.write(Uint8Array.of(0x36, 0x82)), BusError, "serial number refused while measuring");
    io.write(Uint8Array.of(0xec, 0x05));
    assert.throws(() => io.read(9), BusError, "read before the 1 ms execution time");
    board.clock.advance(1);
    assert.throws(() => io.read(9), BusError, "nothing measured yet");
    io.write(Uint8Array.of(0x3f, 0x86));
    board.clock.advance(100);
    assert.throws(() => io.write(Uint8Array.of(0x23, 0x22)), BusError, "still stopping (500 ms)");
    board.clock.advance(400);
    assert.throws(() => io.write(Uint8Array.of(0x24, 0x27, 0x01, 0x00, 0x00)), BusError);
    assert.equal(chip.settings.altitudeM, 0, "bad CRC: NACKed, not applied");
  });

  it("fault nack: the chip stops acknowledging → SensorError('nack')", () => {
    const { chip, open } = rig();
    const s = open();
    Timer.delay(5000);
    chip.inject("nack");
    assert.equal(faultOf(() => s.sample()), "nack");
    chip.clear("nack");
    assert.ok(s.sample());
  });

  it("fault corrupt-crc: a flipped bit anywhere → SensorError('crc'), never a value", () => {
    const { chip, open } = rig();
    const s = open();
    for (let i = 0; i < 40; i++) {
      Timer.delay(5000);
      chip.inject("corrupt-crc", { count: 1 });
      assert.equal(faultOf(() => s.sample()), "crc");
      chip.clear("corrupt-crc");
    }
    Timer.delay(5000);
    assert.ok(s.sample());
  });

  it("fault disconnect: a short read then silence → SensorError('nack')", () => {
    const { chip, open } = rig();
    const s = open();
    Timer.delay(5000);
    assert.ok(s.dataReady());
    chip.inject("disconnect", { afterBytes: 4 });
    assert.equal(faultOf(() => s.readMeasurement()), "nack");
    assert.equal(faultOf(() => s.sample()), "nack");
    chip.clear("disconnect");
  });

  it("fault stuck: frozen values are reported as they are until the driver's stuck limit", () => {
    const { chip, open } = rig({}, { stuckAfter: 4 });
    const s = open();
    Timer.delay(5000);
    s.sample();
    chip.inject("stuck");
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) {
      Timer.delay(5000);
      try {
        const r = s.sample();
        assert.ok(r);
        assertMatches(r, chip.lastReadout!);
        seen.push("ok");
      } catch (e) {
        assert.ok(e instanceof SensorError);
        seen.push(e.fault);
      }
    }
    assert.deepEqual(seen, ["ok", "ok", "ok", "stuck", "stuck", "stuck"]);
    chip.clear("stuck");
    Timer.delay(5000);
    assert.ok(s.sample());
  });

  it("fault slow-start: not ready (undefined) until the late first measurement", () => {
    const { chip, open } = rig();
    chip.inject("slow-start", { delayMs: 20000 });
    const s = open();
    assert.equal(waitSample(s, 24000, 1000), undefined);
    assert.ok(waitSample(s, 2000, 1000));
  });

  it("slow single shot: undefined while late, then a timeout", () => {
    const { chip, open } = rig({}, { mode: "single-shot" });
    const s = open();
    chip.inject("slow-start", { delayMs: 60000 });
    assert.equal(s.sample(), undefined);
    Timer.delay(5000);
    assert.equal(s.sample(), undefined);
    Timer.delay(11000);
    assert.equal(faultOf(() => s.sample()), "timeout");
  });

  it("a CO2 word beyond the output range is a range fault, not a reading", () => {
    const board = new Board();
    setCurrentBoard(board);
    const word = (w: number) => {
      const b = Uint8Array.of(w >> 8, w & 0xff, 0);
      let crc = 0xff;
      for (const x of b.subarray(0, 2)) {
        crc ^= x;
        for (let i = 0; i < 8; i++) crc = crc & 0x80 ? ((crc << 1) ^ 0x31) & 0xff : (crc << 1) & 0xff;
      }
      b[2] = crc;
      return [...b];
    };
    let last = 0;
    const fake: I2CDevice = {
      i2cWrite(bytes) {
        last = (bytes[0] << 8) | bytes[1];
        if (last === 0x36f6) throw new BusError("wake");
      },
      i2cRead(into: Uint8Array) {
        const reply = last === 0x202f ? word(0x1000) : last === 0xe4b8 ? word(1) : [...word(50000), ...word(30000), ...word(30000)];
        into.set(reply.slice(0, into.length));
        return Math.min(into.length, reply.length);
      },
    };
    board.attachI2C(0x62, fake);
    const s = new SCD41({ sensor: { io: I2C, data: 21, clock: 22, address: 0x62 } });
    assert.equal(faultOf(() => s.sample()), "range");
  });

  it("ecma419: adds the spec's compound properties as floats", () => {
    const { chip, open } = rig({}, { ecma419: true });
    const s = open();
    const r = waitSample(s, 6000);
    assert.ok(r);
    const p = physical(chip.lastReadout!);
    assert.equal(r.carbonDioxideGasSensor?.CO2, r.co2Ppm);
    assert.ok(Math.abs(r.thermometer!.temperature - p.t) < 0.01);
    assert.ok(Math.abs(r.hygrometer!.humidity - p.rh) < 0.01);
  });

  it("close() stops the chip and releases the bus", () => {
    const { chip, open } = rig();
    const s = open();
    s.close();
    assert.equal(chip.mode, "idle");
    assert.equal(faultOf(() => s.sample()), "nack");
  });

  it("property: for random air and random faults, every reading equals the chip's true quantised output", () => {
    const faults: Scd41Fault[] = ["nack", "corrupt-crc", "stuck", "disconnect", "slow-start"];
    const allowed: Record<Scd41Fault, string[]> = {
      nack: ["nack"],
      "corrupt-crc": ["crc"],
      stuck: ["stuck"],
      disconnect: ["nack"],
      "slow-start": ["timeout"],
    };
    let readings = 0;
    let failures = 0;
    fc.assert(
      fc.property(
        fc.record({
          co2Ppm: fc.integer({ min: 380, max: 5000 }),
          temperatureC: fc.double({ min: -10, max: 60, noNaN: true }),
          humidityPct: fc.double({ min: 0, max: 100, noNaN: true }),
        }),
        fc.array(fc.record({ fault: fc.option(fc.constantFrom(...faults), { nil: undefined }), steps: fc.integer({ min: 1, max: 6 }), mode: fc.constantFrom("periodic" as const, "single-shot" as const) }), { minLength: 1, maxLength: 6 }),
        fc.integer(),
        (air, plan, seed) => {
          const board = new Board();
          setCurrentBoard(board);
          const chip = new Scd41Emulator({ rng: new Rng(seed), environment: steadyAir(air), clock: board.clock });
          board.attachI2C(0x62, chip);
          const s = new SCD41({ sensor: { io: I2C, data: 21, clock: 22, address: 0x62 }, stuckAfter: 3 });
          let previous: Scd41Fault | undefined;
          for (const phase of plan) {
            if (phase.mode !== s.mode) s.configure({ mode: phase.mode });
            if (phase.fault) chip.inject(phase.fault, { probability: 0.5 });
            for (let i = 0; i < phase.steps; i++) {
              Timer.delay(2600);
              try {
                const r = s.sample();
                if (r) {
                  assertMatches(r, chip.lastReadout!);
                  readings++;
                }
              } catch (e) {
                assert.ok(e instanceof SensorError, String(e));
                failures++;
                // A fault's effects may outlast it by one phase (e.g. a late single shot still in flight).
                const ok = [phase.fault, previous].some((f) => f && allowed[f].includes(e.fault));
                assert.ok(ok, `${e.fault} under ${phase.fault} after ${previous}`);
              }
            }
            chip.clear();
            previous = phase.fault;
          }
          setCurrentBoard(undefined);
        },
      ),
      { numRuns: 60 },
    );
    // Not vacuous: both readings and typed failures happened.
    assert.ok(readings > 30 && failures > 10, `${readings} readings, ${failures} failures`);
  });
});
