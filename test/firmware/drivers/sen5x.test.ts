// SEN55 / SEN66 driver against the independently written SEN5x emulator: readings
// and their "unknown" sentinels, status registers, fan cleaning, every injected
// fault, and a property test that whatever the driver returns is what the module sent.
import assert from "node:assert/strict";
import fc from "fast-check";
import I2C from "embedded:io/i2c";
import Timer from "timer";
import { Board, BusError, setCurrentBoard } from "../../../simulator/src/core/board.ts";
import { Rng } from "../../../simulator/src/core/rng.ts";
import { steadyAir, type AirEnvironment } from "../../../simulator/src/devices/air-environment.ts";
import { Sen5xEmulator, type Sen5xCondition, type Sen5xEmulatorOptions, type Sen5xFault } from "../../../simulator/src/devices/sen5x.ts";
import SEN5x, { div10, div20, type Sen5xOptions, type Sen5xSample } from "../../../firmware/src/drivers/sen5x.ts";
import { SensorError } from "../../../firmware/src/drivers/sensor-error.ts";
import { faultOf, waitSample } from "./driver-helpers.ts";

type Model = "SEN55" | "SEN66";
const ADDRESS: Record<Model, number> = { SEN55: 0x69, SEN66: 0x6b };
const AIR: Partial<AirEnvironment> = { pm1: 12.3, pm25: 18.7, pm4: 21.2, pm10: 25.9, humidityPct: 48.5, temperatureC: 22.7, vocIndex: 131, noxIndex: 3, co2Ppm: 912 };

function rig(model: Model, emu: Partial<Sen5xEmulatorOptions> = {}, drv: Partial<Sen5xOptions> = {}, air: Partial<AirEnvironment> = AIR) {
  const board = new Board();
  setCurrentBoard(board);
  const chip = new Sen5xEmulator({ rng: new Rng(`sen5x-${model}`), environment: steadyAir(air), clock: board.clock, model, ...emu });
  board.attachI2C(ADDRESS[model], chip);
  const open = () => new SEN5x({ sensor: { io: I2C, data: 21, clock: 22, hz: 100000 }, model, ...drv });
  return { board, chip, open };
}

const roundHalfAway = (n: number, d: number) => Math.sign(n) * Math.floor(Math.abs(n) / d + 0.5);
const int16 = (w: number) => (w >= 0x8000 ? w - 0x10000 : w);

/** The driver's sample must be exactly the words the module sent: sentinels absent, the rest converted. */
function assertMatches(s: Sen5xSample, words: number[]) {
  const u = (w: number) => (w === 0xffff ? undefined : w);
  const i = (w: number) => (w === 0x7fff ? undefined : int16(w));
  assert.equal(s.pm1DeciUgm3, u(words[0]));
  assert.equal(s.pm25DeciUgm3, u(words[1]));
  assert.equal(s.pm4DeciUgm3, u(words[2]));
  assert.equal(s.pm10DeciUgm3, u(words[3]));
  assert.equal(s.humidityCentiPct, i(words[4]));
  const t = i(words[5]);
  assert.equal(s.temperatureDeciC, t === undefined ? undefined : roundHalfAway(t, 20));
  const voc = i(words[6]);
  assert.equal(s.vocIndex, voc === undefined ? undefined : roundHalfAway(voc, 10));
  const nox = i(words[7]);
  assert.equal(s.noxIndex, nox === undefined ? undefined : roundHalfAway(nox, 10));
  assert.equal(s.co2Ppm, words.length === 9 ? u(words[8]) : undefined);
  for (const [k, v] of Object.entries(s)) assert.notEqual(v, undefined, `${k} is present only when known`);
}

describe("SEN5x driver with the SEN5x emulator", () => {
  afterEach(() => setCurrentBoard(undefined));

  it("div20 and div10 round half away from zero, exactly, over the whole int16 range", () => {
    for (let n = -32768; n <= 32767; n++) {
      if (div20(n) !== roundHalfAway(n, 20)) assert.fail(`div20(${n})`);
      if (div10(n) !== roundHalfAway(n, 10)) assert.fail(`div10(${n})`);
    }
  });

  for (const model of ["SEN55", "SEN66"] as const) {
    describe(model, () => {
      it("first data about 1 s after start, then 1 Hz, within the datasheet accuracy", () => {
        const { chip, open } = rig(model);
        const s = open();
        assert.equal(s.name, model);
        assert.equal(s.sample(), undefined);
        Timer.delay(800);
        assert.equal(s.sample(), undefined);
        Timer.delay(300);
        const r = s.sample();
        assert.ok(r, "ready about 1 s after start");
        assertMatches(r, chip.lastReadout!);
        assert.equal(s.sample(), undefined, "data-ready clears on read");
        Timer.delay(1000);
        const r2 = s.sample();
        assert.ok(r2 && r2 !== r);
        assertMatches(r2, chip.lastReadout!);
        assert.ok(Math.abs(r2.pm25DeciUgm3! - AIR.pm25! * 10) <= 50 + AIR.pm25! * 0.1 * 10);
        assert.ok(Math.abs(r2.pm10DeciUgm3! - AIR.pm10! * 10) <= 250);
        assert.ok(r2.pm1DeciUgm3! <= r2.pm25DeciUgm3! && r2.pm25DeciUgm3! <= r2.pm4DeciUgm3! && r2.pm4DeciUgm3! <= r2.pm10DeciUgm3!);
        assert.ok(Math.abs(r2.temperatureDeciC! - AIR.temperatureC! * 10) <= 5);
        assert.ok(Math.abs(r2.humidityCentiPct! - AIR.humidityPct! * 100) <= 450);
        assert.ok(Math.abs(r2.vocIndex! - AIR.vocIndex!) <= 5);
      });

      it("NOx is absent for the first 10 s, then present", () => {
        const { chip, open } = rig(model);
        const s = open();
        const early = waitSample(s, 1500);
        assert.ok(early);
        assert.equal(early.noxIndex, undefined);
        assert.ok(early.vocIndex !== undefined);
        Timer.delay(9500);
        const late = waitSample(s, 1500);
        assert.ok(late);
        assertMatches(late, chip.lastReadout!);
        assert.equal(late.noxIndex, AIR.noxIndex);
      });

      it("unknown sentinels from sensor errors become absent fields; status flags decode and latch", () => {
        const { chip, open } = rig(model);
        const s = open();
        waitSample(s, 1500);
        assert.equal(s.status().raw, 0);
        chip.setCondition("rht-error", true);
        chip.setCondition("gas-error", true);
        Timer.delay(1000);
        const r = waitSample(s, 1500);
        assert.ok(r);
        assertMatches(r, chip.lastReadout!);
        assert.equal(r.temperatureDeciC, undefined);
        assert.equal(r.humidityCentiPct, undefined);
        assert.equal(r.vocIndex, undefined);
        assert.equal(r.noxIndex, undefined);
        assert.ok(r.pm25DeciUgm3 !== undefined);
        chip.setCondition("rht-error", false);
        chip.setCondition("gas-error", false);
        chip.setCondition("fan-speed-warning", true);
        const st = s.status();
        assert.equal(st.raw, (1 << 21) | (1 << 7) | (1 << 6));
        assert.deepEqual(
          { ...st, raw: 0 },
          { raw: 0, fanSpeedWarning: true, cleaningActive: false, gasError: true, rhtError: true, laserFailure: false, fanFailure: false, co2Error: false, pmError: false },
        );
        assert.equal(s.readAndClearStatus().raw, st.raw, "returns the flags before clearing");
        assert.equal(s.status().raw, 1 << 21, "sticky errors cleared, the live warning remains");
        chip.setCondition("fan-speed-warning", false);
        assert.equal(s.status().raw, 0);
      });

      it("fault nack → SensorError('nack')", () => {
        const { chip, open } = rig(model);
        const s = open();
        Timer.delay(1100);
        chip.inject("nack");
        assert.equal(faultOf(() => s.sample()), "nack");
        chip.clear("nack");
        assert.ok(s.sample());
      });

      it("fault corrupt-crc → SensorError('crc'), whichever byte is hit", () => {
        const { chip, open } = rig(model);
        const s = open();
        for (let i = 0; i < 40; i++) {
          Timer.delay(1000);
          chip.inject("corrupt-crc");
          assert.equal(faultOf(() => s.sample()), "crc");
          chip.clear("corrupt-crc");
        }
      });

      it("fault disconnect → SensorError('nack')", () => {
        const { chip, open } = rig(model);
        const s = open();
        Timer.delay(1100);
        chip.inject("disconnect", { afterBytes: 10 });
        assert.equal(faultOf(() => s.sample()), "nack");
        assert.equal(faultOf(() => s.sample()), "nack");
        chip.clear();
        Timer.delay(1000);
        assert.ok(s.sample());
      });

      it("fault stuck → readings as sent, then SensorError('stuck')", () => {
        const { chip, open } = rig(model, {}, { stuckAfter: 3 });
        const s = open();
        Timer.delay(12000);
        assert.ok(s.sample());
        chip.inject("stuck");
        const seen: string[] = [];
        for (let i = 0; i < 5; i++) {
          Timer.delay(1000);
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
        assert.deepEqual(seen, ["ok", "ok", "stuck", "stuck", "stuck"]);
      });

      it("fault slow-start → undefined until the late first measurement", () => {
        const { chip, open } = rig(model);
        chip.inject("slow-start", { delayMs: 8000 });
        const s = open();
        assert.equal(waitSample(s, 8500, 500), undefined);
        assert.ok(waitSample(s, 1500, 100));
      });

      it("on a switched rail: no answer unpowered, NACKs through the power-up, then idle as after a reset (NOx warms up again)", () => {
        const { board, chip, open } = rig(model, { powered: false, powerUpMs: 1000 });
        assert.equal(faultOf(() => open()), "nack", "unpowered: the address is not acknowledged");
        board.clock.advance(5000);
        assert.equal(chip.poweredMs(), 0);
        chip.setPower(true);
        Timer.delay(900);
        assert.equal(faultOf(() => open()), "nack", "still powering up");
        Timer.delay(100);
        const s = open();
        assert.equal(chip.mode, "all");
        Timer.delay(12000);
        assert.ok(waitSample(s, 1500)?.noxIndex !== undefined);
        chip.setPower(false);
        assert.equal(chip.mode, "idle");
        assert.equal(faultOf(() => s.sample()), "nack");
        board.clock.advance(60000);
        chip.setPower(true);
        Timer.delay(1000);
        assert.equal(s.dataReady(), false, "powered up idle: nothing measured, not measuring");
        assert.equal(chip.mode, "idle");
        s.close();
        const r = waitSample(open(), 1500);
        assert.ok(r);
        assert.equal(r.noxIndex, undefined, "NOx warms up again after a power cycle");
        assert.ok(Math.abs(chip.poweredMs() - (1000 + 12000 + 1500 + 1000 + 1500)) <= 3000, `powered ${chip.poweredMs()} ms`);
      });

      it("reads the serial number and resets (NOx warms up again)", () => {
        const { chip, open } = rig(model, { serial: "ABC123DEF456" });
        const s = open();
        assert.equal(s.serialNumber(), "ABC123DEF456");
        Timer.delay(12000);
        assert.ok(s.sample()?.noxIndex !== undefined);
        s.reset();
        assert.equal(chip.mode, "all");
        const r = waitSample(s, 1500);
        assert.equal(r?.noxIndex, undefined);
      });

      it("ecma419: adds thermometer/hygrometer (and CO2) as floats", () => {
        const { chip, open } = rig(model, {}, { ecma419: true });
        const s = open();
        Timer.delay(7000);
        const r = waitSample(s, 1500);
        assert.ok(r);
        const w = chip.lastReadout!;
        assert.equal(r.thermometer?.temperature, int16(w[5]) / 200);
        assert.equal(r.hygrometer?.humidity, int16(w[4]) / 100);
        assert.equal(r.carbonDioxideGasSensor?.CO2, model === "SEN66" ? w[8] : undefined);
      });

      it("a module of another model is refused (id)", () => {
        const other = model === "SEN55" ? "SEN66" : "SEN55";
        const { open } = rig(model, { productName: other });
        assert.equal(faultOf(open), "id");
      });

      it("knownModel with running: the next wake's driver reads the module without asking its name again", () => {
        const { board, chip, open } = rig(model);
        const first = open();
        assert.ok(first.name.startsWith(model === "SEN66" ? "SEN66" : "SEN5"), first.name);
        assert.ok(waitSample(first, 1500));
        // The next boot: a fresh driver on the running module (the last wake's bus handle went with the reset).
        board.booting(true);
        const before = chip.commandLog.length;
        const warm = new SEN5x({ sensor: { io: I2C, data: 21, clock: 22, hz: 100000 }, model, running: "all", knownModel: true });
        assert.equal(warm.name, model);
        Timer.delay(1000);
        const r = warm.sample();
        assert.ok(r);
        assertMatches(r, chip.lastReadout!);
        assert.ok(!chip.commandLog.slice(before).includes(0xd014), "no product-name read");
        assert.equal(chip.mode, "all", "left running");
        // Without it the same boot reads the name: a module of another model is still refused then.
        warm.close();
        const again = chip.commandLog.length;
        new SEN5x({ sensor: { io: I2C, data: 21, clock: 22, hz: 100000 }, model, running: "all" });
        assert.equal(chip.commandLog[again], 0xd014);
      });

      it("stop() idles the module (no data), start() resumes with data ~1 s later", () => {
        const { chip, open } = rig(model);
        const s = open();
        assert.ok(waitSample(s, 1500));
        s.stop();
        assert.equal(chip.mode, "idle");
        assert.equal(s.mode, "idle");
        Timer.delay(3000);
        assert.equal(s.sample(), undefined);
        assert.equal(s.dataReady(), false);
        s.start();
        assert.equal(chip.mode, "all");
        assert.equal(s.sample(), undefined);
        assert.ok(waitSample(s, 1500));
      });

      it("close() stops the module", () => {
        const { chip, open } = rig(model);
        const s = open();
        s.close();
        Timer.delay(1000);
        assert.equal(chip.mode, "idle");
      });
    });
  }

  describe("SEN55 specifics", () => {
    it("RHT/gas-only mode: PM absent, the rest present", () => {
      const { chip, open } = rig("SEN55", {}, { mode: "rht-gas" });
      const s = open();
      assert.equal(chip.mode, "rht-gas");
      const r = waitSample(s, 1500);
      assert.ok(r);
      assertMatches(r, chip.lastReadout!);
      assert.equal(r.pm1DeciUgm3, undefined);
      assert.equal(r.pm10DeciUgm3, undefined);
      assert.ok(r.temperatureDeciC !== undefined);
      assert.equal(faultOf(() => s.startFanCleaning()), "busy", "no fan to clean");
      s.start();
      assert.equal(chip.mode, "all");
    });

    it("laser and fan failures: PM absent, sticky flags in the SEN55 layout", () => {
      const { chip, open } = rig("SEN55");
      const s = open();
      chip.setCondition("laser-failure", true);
      chip.setCondition("fan-failure", true);
      const r = waitSample(s, 1500);
      assert.ok(r);
      assert.equal(r.pm25DeciUgm3, undefined);
      const st = s.status();
      assert.ok(st.laserFailure && st.fanFailure && !st.pmError && !st.co2Error);
      assert.equal(st.raw, (1 << 5) | (1 << 4));
      assert.throws(() => chip.setCondition("co2-error", true), /no co2-error/);
    });

    it("fan cleaning: ~10 s without data and the cleaning flag, then data again", () => {
      const { board, chip, open } = rig("SEN55");
      const s = open();
      assert.ok(waitSample(s, 1500));
      s.startFanCleaning();
      const started = board.clock.nowMs;
      assert.ok(s.status().cleaningActive);
      Timer.delay(5000);
      assert.ok(chip.cleaning);
      assert.equal(s.sample(), undefined);
      const r = waitSample(s, 8000, 200);
      assert.ok(r);
      const gap = board.clock.nowMs - started;
      assert.ok(gap >= 10000 && gap <= 11500, `data back after ${gap} ms`);
      assert.equal(s.status().cleaningActive, false);
    });

    it("auto-cleaning interval: set, read back, and cleaning happens on schedule", () => {
      const { chip, open } = rig("SEN55", {}, { autoCleaningIntervalS: 30 });
      const s = open();
      assert.equal(s.getAutoCleaningIntervalS(), 30);
      assert.equal(chip.autoCleaningIntervalS, 30);
      let gap = 0;
      let longest = 0;
      for (let t = 0; t < 50000; t += 1000) {
        Timer.delay(1000);
        if (s.sample()) gap = 0;
        else longest = Math.max(longest, ++gap);
        if (chip.cleaning) assert.ok(s.status().cleaningActive);
      }
      assert.ok(longest >= 9 && longest <= 11, `longest gap ${longest} s`);
      s.configure({ autoCleaningIntervalS: 0 });
      assert.equal(s.getAutoCleaningIntervalS(), 0);
    });

    it("accepts an SEN54/SEN50 family name", () => {
      const { open } = rig("SEN55", { productName: "SEN54" });
      assert.equal(open().name, "SEN54");
    });
  });

  describe("SEN66 specifics", () => {
    it("CO2 is absent for the first 5–6 s, then in ppm within accuracy", () => {
      const { chip, open } = rig("SEN66");
      const s = open();
      const early = waitSample(s, 1500);
      assert.ok(early);
      assert.equal(early.co2Ppm, undefined);
      Timer.delay(5000);
      const r = waitSample(s, 1500);
      assert.ok(r);
      assertMatches(r, chip.lastReadout!);
      assert.ok(Math.abs(r.co2Ppm! - AIR.co2Ppm!) <= 50 + 0.05 * AIR.co2Ppm!);
    });

    it("SEN66 status layout: CO2 and PM errors make their values absent", () => {
      const { chip, open } = rig("SEN66");
      const s = open();
      chip.setCondition("co2-error", true);
      chip.setCondition("pm-error", true);
      Timer.delay(7000);
      const r = waitSample(s, 1500);
      assert.ok(r);
      assert.equal(r.co2Ppm, undefined);
      assert.equal(r.pm25DeciUgm3, undefined);
      const st = s.status();
      assert.equal(st.raw, (1 << 9) | (1 << 11));
      assert.ok(st.co2Error && st.pmError && !st.laserFailure && !st.fanFailure);
      assert.throws(() => chip.setCondition("laser-failure", true), /no laser-failure/);
    });

    it("fan cleaning only while idle: the driver stops, cleans 10 s, restarts", () => {
      const { chip, open } = rig("SEN66");
      const s = open();
      assert.ok(waitSample(s, 1500));
      s.startFanCleaning();
      assert.equal(chip.mode, "idle");
      assert.ok(chip.cleaning);
      assert.ok(s.status().cleaningActive);
      assert.equal(waitSample(s, 9500, 500), undefined);
      const r = waitSample(s, 2500, 100);
      assert.ok(r, "measuring again after cleaning");
      assert.equal(chip.mode, "all");
    });

    it("the emulator enforces SEN66 timing: stop takes 1000 ms, cleaning blocks a start, no RHT/gas-only mode", () => {
      const { board } = rig("SEN66");
      const io = new I2C({ data: 21, clock: 22, hz: 100000, address: 0x6b });
      io.write(Uint8Array.of(0x00, 0x21));
      board.clock.advance(50);
      io.write(Uint8Array.of(0x01, 0x04));
      board.clock.advance(500);
      assert.throws(() => io.write(Uint8Array.of(0x02, 0x02)), BusError, "still stopping");
      board.clock.advance(500);
      io.write(Uint8Array.of(0x56, 0x07));
      board.clock.advance(20);
      assert.throws(() => io.write(Uint8Array.of(0x00, 0x21)), BusError, "start refused while cleaning");
      assert.throws(() => io.write(Uint8Array.of(0x00, 0x37)), BusError, "no such command on SEN66");
      board.clock.advance(10000);
      io.write(Uint8Array.of(0x00, 0x21));
      board.clock.advance(50);
      assert.throws(() => new SEN5x({ sensor: { io: I2C, data: 21, clock: 22 }, model: "SEN66", mode: "rht-gas" }), RangeError);
    });
  });

  it("property: for random air and random faults, every reading equals the module's true quantised output", () => {
    const faults: Sen5xFault[] = ["nack", "corrupt-crc", "stuck", "disconnect", "slow-start"];
    const conditions: Sen5xCondition[] = ["gas-error", "rht-error", "fan-failure", "fan-speed-warning"];
    const allowed: Record<Sen5xFault, string[]> = { nack: ["nack"], "corrupt-crc": ["crc"], stuck: ["stuck"], disconnect: ["nack"], "slow-start": [] };
    let readings = 0;
    let failures = 0;
    fc.assert(
      fc.property(
        fc.constantFrom<Model>("SEN55", "SEN66"),
        fc.record({
          pm1: fc.double({ min: 0, max: 200, noNaN: true }),
          pm25: fc.double({ min: 0, max: 300, noNaN: true }),
          pm4: fc.double({ min: 0, max: 400, noNaN: true }),
          pm10: fc.double({ min: 0, max: 500, noNaN: true }),
          temperatureC: fc.double({ min: -10, max: 50, noNaN: true }),
          humidityPct: fc.double({ min: 0, max: 100, noNaN: true }),
          vocIndex: fc.double({ min: 1, max: 500, noNaN: true }),
          noxIndex: fc.double({ min: 1, max: 500, noNaN: true }),
          co2Ppm: fc.integer({ min: 400, max: 5000 }),
        }),
        fc.array(
          fc.record({
            fault: fc.option(fc.constantFrom(...faults), { nil: undefined }),
            condition: fc.option(fc.constantFrom(...conditions), { nil: undefined }),
            steps: fc.integer({ min: 1, max: 8 }),
            stepMs: fc.integer({ min: 300, max: 2500 }),
          }),
          { minLength: 1, maxLength: 6 },
        ),
        fc.integer(),
        (model, air, plan, seed) => {
          const board = new Board();
          setCurrentBoard(board);
          const chip = new Sen5xEmulator({ rng: new Rng(seed), environment: steadyAir(air), clock: board.clock, model });
          board.attachI2C(ADDRESS[model], chip);
          const s = new SEN5x({ sensor: { io: I2C, data: 21, clock: 22 }, model, stuckAfter: 3 });
          let previous: Sen5xFault | undefined;
          for (const phase of plan) {
            if (phase.condition) chip.setCondition(phase.condition, true);
            if (phase.fault) chip.inject(phase.fault, { probability: 0.5 });
            for (let i = 0; i < phase.steps; i++) {
              Timer.delay(phase.stepMs);
              try {
                const r = s.sample();
                if (r) {
                  assertMatches(r, chip.lastReadout!);
                  readings++;
                }
              } catch (e) {
                assert.ok(e instanceof SensorError, String(e));
                // A reading measured under a fault may be read out after it is cleared.
                const ok = [phase.fault, previous].some((f) => f && allowed[f].includes(e.fault));
                assert.ok(ok, `${e.fault} under ${phase.fault} after ${previous}`);
                failures++;
              }
            }
            chip.clear();
            previous = phase.fault;
            if (phase.condition) chip.setCondition(phase.condition, false);
          }
          setCurrentBoard(undefined);
        },
      ),
      { numRuns: 80 },
    );
    assert.ok(readings > 30 && failures > 10, `${readings} readings, ${failures} failures`);
  });
});
