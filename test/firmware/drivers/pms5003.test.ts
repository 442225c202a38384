// PMS5003 driver against the independently written PMS5003 emulator: passive reads,
// settling, sleep and wake, every injected fault, resync after garbage, and fuzzing
// of the frame parser with arbitrary byte streams.
import assert from "node:assert/strict";
import fc from "fast-check";
import Serial from "embedded:io/serial";
import Timer from "timer";
import { Board, setCurrentBoard } from "../../../simulator/src/core/board.ts";
import { Rng } from "../../../simulator/src/core/rng.ts";
import { steadyAir, type AirEnvironment } from "../../../simulator/src/devices/air-environment.ts";
import { Pms5003Emulator, pms5003Values, type Pms5003EmulatorOptions, type Pms5003Fault } from "../../../simulator/src/devices/pms5003.ts";
import PMS5003, { type Pms5003Options, type Pms5003Sample } from "../../../firmware/src/drivers/pms5003.ts";
import { SensorError } from "../../../firmware/src/drivers/sensor-error.ts";
import { faultOf } from "./driver-helpers.ts";

const PORT = 2;
const AIR: Partial<AirEnvironment> = { pm1: 14, pm25: 22, pm4: 26, pm10: 31 };

function rig(emu: Partial<Pms5003EmulatorOptions> = {}, drv: Partial<Pms5003Options> = {}, air: Partial<AirEnvironment> = AIR) {
  const board = new Board();
  setCurrentBoard(board);
  const chip = new Pms5003Emulator({ rng: new Rng("pms5003"), environment: steadyAir(air), clock: board.clock, ...emu });
  board.attachSerial(PORT, chip, 9600);
  const open = () => new PMS5003({ sensor: { io: Serial, receive: 16, transmit: 17, port: PORT }, ...drv });
  return { board, chip, open };
}

/** The reading must be exactly the frame's atmospheric values (×10) and counts. */
function expected(frame: Uint8Array): Pms5003Sample {
  const v = pms5003Values(frame);
  return {
    pm1DeciUgm3: v.pm1 * 10,
    pm25DeciUgm3: v.pm25 * 10,
    pm10DeciUgm3: v.pm10 * 10,
    count0p3PerDl: v.count0p3,
    count0p5PerDl: v.count0p5,
    count1p0PerDl: v.count1p0,
    count2p5PerDl: v.count2p5,
    count5p0PerDl: v.count5p0,
    count10PerDl: v.count10,
  };
}

/** Builds a data frame from 12 words (version 0x97), with a correct sum. */
function dataFrame(words: number[]): number[] {
  const f = [0x42, 0x4d, 0x00, 0x1c];
  for (const w of words) f.push((w >> 8) & 0xff, w & 0xff);
  f.push(0x97, 0x00);
  const s = f.reduce((a, b) => a + b, 0) & 0xffff;
  f.push(s >> 8, s & 0xff);
  return f;
}
const PASSIVE_ACK = [0x42, 0x4d, 0x00, 0x04, 0xe1, 0x00, 0x01, 0x74];

/** A UART whose replies are scripted: the passive-mode ack, then `stream` for every read request. */
function scriptedSerial(stream: () => number[]) {
  return class ScriptedSerial {
    readonly #queue: number[] = [];
    constructor(_options: object) {}
    read(into: Uint8Array): number | undefined {
      const n = Math.min(into.length, this.#queue.length);
      if (n === 0) return undefined;
      into.set(this.#queue.splice(0, n));
      return n;
    }
    write(buffer: ArrayBuffer | ArrayBufferView): void {
      const b = buffer instanceof ArrayBuffer ? new Uint8Array(buffer) : new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
      if (b[2] === 0xe1) this.#queue.push(...PASSIVE_ACK);
      if (b[2] === 0xe2) this.#queue.push(...stream());
    }
    close(): void {}
  };
}

/** Every reading a correct parser may take from `stream`: windows with start, length 28, a good sum and plausible values. */
function validReadings(stream: number[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 32 <= stream.length; i++) {
    if (stream[i] !== 0x42 || stream[i + 1] !== 0x4d || stream[i + 2] !== 0 || stream[i + 3] !== 28) continue;
    const f = Uint8Array.from(stream.slice(i, i + 32));
    const s = f.subarray(0, 30).reduce((a, b) => a + b, 0) & 0xffff;
    if (s !== ((f[30] << 8) | f[31])) continue;
    const v = pms5003Values(f);
    const counts = [v.count0p3, v.count0p5, v.count1p0, v.count2p5, v.count5p0, v.count10];
    if (v.pm1 > v.pm25 || v.pm25 > v.pm10 || counts.some((c, k) => k > 0 && c > counts[k - 1])) continue;
    out.push(JSON.stringify(expected(f)));
  }
  return out;
}

/** Runs one sample through a scripted UART; returns the reading or the fault. */
function parseOnce(stream: number[]): Pms5003Sample | string {
  const board = new Board();
  setCurrentBoard(board);
  try {
    const s = new PMS5003({ sensor: { io: scriptedSerial(() => stream) }, settleMs: 0 });
    return s.sample()!;
  } catch (e) {
    if (!(e instanceof SensorError)) throw e;
    return e.fault;
  } finally {
    setCurrentBoard(undefined);
  }
}

describe("PMS5003 driver with the PMS5003 emulator", () => {
  afterEach(() => setCurrentBoard(undefined));

  it("settles for 30 s after power-up, then reads the atmospheric values in passive mode", () => {
    const { chip, open } = rig();
    const s = open();
    assert.equal(s.settling, true);
    assert.equal(s.sample(), undefined);
    Timer.delay(29000);
    assert.equal(s.sample(), undefined, "still settling at 29 s");
    assert.ok(s.settledInMs > 0 && s.settledInMs <= 1000);
    Timer.delay(1000);
    assert.equal(s.settling, false);
    const r = s.sample();
    assert.ok(r);
    assert.deepEqual(r, expected(chip.lastFrame!));
    assert.equal(chip.mode, "passive");
    // PMS5003 accuracy: ±10 µg/m³ below 100 µg/m³.
    assert.ok(Math.abs(r.pm25DeciUgm3 - AIR.pm25! * 10) <= 100);
    assert.ok(Math.abs(r.pm10DeciUgm3 - AIR.pm10! * 10) <= 100);
    assert.ok(r.count0p3PerDl >= r.count0p5PerDl && r.count0p5PerDl >= r.count10PerDl);
    const r2 = s.sample();
    assert.ok(r2 && r2 !== r, "each sample is a fresh read");
    assert.deepEqual(r2, expected(chip.lastFrame!));
  });

  it("never hands out a settling value: the emulator's first 30 s differ from the settled ones", () => {
    const { chip, open } = rig();
    const s = open();
    for (let t = 0; t < 30000; t += 500) {
      assert.equal(s.sample(), undefined);
      Timer.delay(500);
    }
    assert.equal(chip.framesSent, 0, "nothing was even requested during settling");
    assert.ok(s.sample());
  });

  it("sleep and wake: replies consumed, nothing while asleep, settling again after wake", () => {
    const { chip, open } = rig();
    const s = open();
    Timer.delay(30000);
    assert.ok(s.sample());
    s.configure({ sleep: true });
    assert.ok(chip.asleep);
    assert.ok(s.asleep);
    Timer.delay(60000);
    assert.equal(s.sample(), undefined);
    s.configure({ sleep: false });
    assert.equal(chip.asleep, false);
    assert.ok(s.settling);
    Timer.delay(29900);
    assert.equal(s.sample(), undefined);
    Timer.delay(100);
    const r = s.sample();
    assert.ok(r);
    assert.deepEqual(r, expected(chip.lastFrame!));
    const log = chip.commandLog.map((c) => c.toString(16));
    assert.deepEqual(log.slice(-4), ["e400", "e401", "e100", "e200"], "passive mode re-asserted after wake");
  });

  it("the emulator's running time (what draws its active current) stops while asleep and unpowered, its powered time only unpowered", () => {
    const { board, chip, open } = rig({ powered: false });
    Timer.delay(5000);
    assert.equal(chip.activeMs(), 0);
    chip.setPower(true);
    const s = open();
    Timer.delay(30000);
    assert.ok(s.sample());
    const ranMs = chip.activeMs();
    assert.ok(ranMs >= 30000 && ranMs === chip.poweredMs(), `ran ${ranMs} ms, powered ${chip.poweredMs()} ms`);
    s.configure({ sleep: true });
    const asleepAt = chip.activeMs();
    Timer.delay(60000);
    assert.equal(chip.activeMs(), asleepAt, "asleep: the fan is off");
    assert.ok(chip.poweredMs() >= asleepAt + 60000, "yet powered: its standby current");
    s.configure({ sleep: false });
    Timer.delay(10000);
    assert.ok(Math.abs(chip.activeMs() - asleepAt - 10000) < 100, `running again after the wake: ${chip.activeMs() - asleepAt} ms`);
    s.configure({ sleep: true });
    assert.ok(chip.asleep);
    chip.setPower(false);
    const offAt = chip.activeMs();
    board.clock.advance(60000);
    assert.equal(chip.activeMs(), offAt);
    // Switched on again it runs from power-up, even though it was asleep before the cut.
    chip.setPower(true);
    board.clock.advance(1000);
    assert.equal(chip.activeMs(), offAt + 1000);
  });

  it("the emulator: active mode at power-up every ~2.3 s, 8-byte replies, silent wake, bad sums and baud ignored", () => {
    const { board, chip } = rig();
    const io = new Serial({ baud: 9600, port: PORT, format: "buffer" });
    board.clock.advance(7000);
    chip.service();
    board.clock.advance(100);
    const stream = new Uint8Array(io.read()!);
    assert.equal(stream.length, 3 * 32, "three frames in 7 s");
    for (let i = 0; i < 3; i++) assert.deepEqual([...stream.subarray(i * 32, i * 32 + 4)], [0x42, 0x4d, 0x00, 0x1c]);
    io.write(Uint8Array.of(0x42, 0x4d, 0xe1, 0x00, 0x00, 0x01, 0x70));
    board.clock.advance(50);
    assert.deepEqual([...new Uint8Array(io.read()!)], PASSIVE_ACK);
    assert.equal(chip.mode, "passive");
    io.write(Uint8Array.of(0x42, 0x4d, 0xe4, 0x00, 0x00, 0x01, 0x73));
    board.clock.advance(50);
    assert.deepEqual([...new Uint8Array(io.read()!)], [0x42, 0x4d, 0x00, 0x04, 0xe4, 0x00, 0x01, 0x77]);
    io.write(Uint8Array.of(0x42, 0x4d, 0xe2, 0x00, 0x00, 0x01, 0x71));
    board.clock.advance(50);
    assert.equal(io.read(), undefined, "asleep: reads unanswered");
    io.write(Uint8Array.of(0x42, 0x4d, 0xe4, 0x00, 0x01, 0x01, 0x74));
    board.clock.advance(50);
    assert.equal(io.read(), undefined, "wake is not answered");
    io.write(Uint8Array.of(0x42, 0x4d, 0xe2, 0x00, 0x00, 0x01, 0x72));
    board.clock.advance(50);
    assert.equal(io.read(), undefined, "bad command sum: ignored");
    const slow = new Serial({ baud: 115200, port: PORT, format: "buffer" });
    slow.write(Uint8Array.of(0x42, 0x4d, 0xe2, 0x00, 0x00, 0x01, 0x71));
    board.clock.advance(50);
    assert.equal(io.read(), undefined, "wrong baud: garbled, ignored");
    io.write(Uint8Array.of(0x42, 0x4d, 0xe2, 0x00, 0x00, 0x01, 0x71));
    board.clock.advance(50);
    const frame = new Uint8Array(io.read()!);
    assert.equal(frame.length, 32);
    assert.deepEqual([...frame.subarray(4, 28)], new Array(24).fill(0), "zeros right after wake");
  });

  it("fault nack (silent sensor) → SensorError('timeout')", () => {
    const { chip, open } = rig();
    const s = open();
    Timer.delay(30000);
    chip.inject("nack");
    assert.equal(faultOf(() => s.sample()), "timeout");
    chip.clear("nack");
    assert.ok(s.sample());
  });

  it("fault corrupt-checksum → SensorError('checksum'), never a value", () => {
    const { chip, open } = rig();
    const s = open();
    Timer.delay(30000);
    assert.ok(s.sample());
    for (let i = 0; i < 40; i++) {
      chip.inject("corrupt-checksum");
      assert.equal(faultOf(() => s.sample()), "checksum");
    }
    chip.clear();
    assert.ok(s.sample());
  });

  it("fault disconnect (reply cut short, then silence) → SensorError('timeout')", () => {
    const { chip, open } = rig();
    const s = open();
    Timer.delay(30000);
    assert.ok(s.sample());
    chip.inject("disconnect", { afterBytes: 12 });
    assert.equal(faultOf(() => s.sample()), "timeout");
    assert.equal(faultOf(() => s.sample()), "timeout");
    chip.clear();
    assert.ok(s.sample());
  });

  it("faults garbage and desync: the parser resyncs and returns the real frame", () => {
    for (const fault of ["garbage", "desync"] as const) {
      const { chip, open } = rig();
      const s = open();
      Timer.delay(30000);
      for (let i = 0; i < 50; i++) {
        chip.inject(fault);
        const r = s.sample();
        assert.deepEqual(r, expected(chip.lastFrame!), `${fault} #${i}`);
      }
    }
  });

  it("fault stuck → frames as sent, then SensorError('stuck')", () => {
    const { chip, open } = rig({}, { stuckAfter: 3 });
    const s = open();
    Timer.delay(30000);
    assert.ok(s.sample());
    chip.inject("stuck");
    const seen = [0, 1, 2, 3, 4].map(() => {
      try {
        assert.deepEqual(s.sample(), expected(chip.lastFrame!));
        return "ok";
      } catch (e) {
        assert.ok(e instanceof SensorError);
        return e.fault;
      }
    });
    assert.deepEqual(seen, ["ok", "ok", "stuck", "stuck", "stuck"]);
  });

  it("fault slow-start → timeouts until the sensor finally answers", () => {
    const { chip, open } = rig();
    chip.inject("slow-start", { delayMs: 40000 });
    const s = open();
    Timer.delay(30000);
    assert.equal(faultOf(() => s.sample()), "timeout"); // each timeout waits out the 1 s deadline
    Timer.delay(8000);
    assert.equal(faultOf(() => s.sample()), "timeout");
    Timer.delay(1000);
    assert.ok(s.sample());
  });

  it("a frame with a bad length is a frame fault; an implausible one a range fault", () => {
    const good = dataFrame([10, 20, 30, 10, 20, 30, 900, 300, 100, 20, 5, 1]);
    const badLength = [...good];
    badLength[3] = 0x1d;
    assert.equal(parseOnce(badLength), "frame");
    assert.equal(parseOnce(dataFrame([10, 20, 30, 25, 20, 30, 900, 300, 100, 20, 5, 1])), "range");
    assert.equal(parseOnce(dataFrame([10, 20, 30, 10, 20, 30, 900, 300, 400, 20, 5, 1])), "range");
    assert.equal(parseOnce([]), "timeout");
    const r = parseOnce([0x42, 0x4d, 0x42, 1, 2, 3, ...good]);
    assert.deepEqual(r, expected(Uint8Array.from(good)));
  });

  it("fuzz: random byte streams never throw anything but SensorError, never yield a reading from a bad frame", () => {
    const frameArb = fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 12, maxLength: 12 }).map(dataFrame);
    const segment = fc.oneof(
      fc.uint8Array({ maxLength: 40 }).map((a) => [...a]),
      frameArb,
      // a frame with one flipped bit
      fc.tuple(frameArb, fc.integer({ min: 0, max: 255 })).map(([f, bit]) => {
        f[bit >> 3] ^= 1 << (bit & 7);
        return f;
      }),
      // a truncated frame
      fc.tuple(frameArb, fc.integer({ min: 1, max: 31 })).map(([f, n]) => f.slice(0, n)),
      fc.constant(PASSIVE_ACK),
      fc.constant([0x42, 0x4d]),
      fc.constant([0x42, 0x4d, 0x00, 0x1c]),
    );
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 8 }), (segments) => {
        const stream = segments.flat();
        const got = parseOnce(stream);
        if (typeof got === "string") {
          assert.ok(["checksum", "range", "frame", "timeout"].includes(got), got);
        } else {
          assert.ok(validReadings(stream).includes(JSON.stringify(got)), "reading from a valid frame only");
        }
      }),
      { numRuns: 400 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        const stream = [...bytes];
        const got = parseOnce(stream);
        if (typeof got !== "string") assert.ok(validReadings(stream).includes(JSON.stringify(got)));
      }),
      { numRuns: 400 },
    );
  });

  it("fuzz: a valid frame after arbitrary junk is always found", () => {
    const good = dataFrame([5, 9, 12, 5, 9, 12, 700, 200, 60, 10, 2, 1]);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 90 }), (junk) => {
        const got = parseOnce([...junk, ...good]);
        // The junk may itself end in a valid-looking frame that wins; otherwise the real one is read.
        if (typeof got === "string") assert.fail(`no reading: ${got}`);
        assert.ok(validReadings([...junk, ...good]).includes(JSON.stringify(got)));
      }),
      { numRuns: 300 },
    );
  });

  it("property: for random air and random faults, every reading equals the sensor's true output", () => {
    const faults: Pms5003Fault[] = ["nack", "corrupt-checksum", "stuck", "disconnect", "desync", "garbage", "slow-start"];
    const allowed: Record<Pms5003Fault, string[]> = {
      nack: ["timeout"],
      "corrupt-checksum": ["checksum"],
      stuck: ["stuck"],
      disconnect: ["timeout"],
      desync: [],
      garbage: [],
      "slow-start": ["timeout"],
    };
    let readings = 0;
    let failures = 0;
    fc.assert(
      fc.property(
        fc.record({
          pm1: fc.double({ min: 2, max: 300, noNaN: true }),
          pm25: fc.double({ min: 2, max: 400, noNaN: true }),
          pm4: fc.double({ min: 2, max: 450, noNaN: true }),
          pm10: fc.double({ min: 2, max: 500, noNaN: true }),
        }),
        fc.array(
          fc.record({
            fault: fc.option(fc.constantFrom(...faults), { nil: undefined }),
            steps: fc.integer({ min: 1, max: 6 }),
            stepMs: fc.integer({ min: 100, max: 20000 }),
            sleep: fc.boolean(),
          }),
          { minLength: 1, maxLength: 6 },
        ),
        fc.integer(),
        (air, plan, seed) => {
          const board = new Board();
          setCurrentBoard(board);
          const chip = new Pms5003Emulator({ rng: new Rng(seed), environment: steadyAir(air), clock: board.clock });
          board.attachSerial(PORT, chip, 9600);
          const s = new PMS5003({ sensor: { io: Serial, port: PORT }, stuckAfter: 5 });
          let previous: Pms5003Fault | undefined;
          for (const phase of plan) {
            if (phase.fault) chip.inject(phase.fault, { probability: 0.5 });
            for (let i = 0; i < phase.steps; i++) {
              Timer.delay(phase.stepMs);
              try {
                const r = s.sample();
                if (r) {
                  assert.deepEqual(r, expected(chip.lastFrame!));
                  assert.equal(s.settling, false);
                  readings++;
                }
              } catch (e) {
                assert.ok(e instanceof SensorError, String(e));
                const ok = [phase.fault, previous].some((f) => f && allowed[f].includes(e.fault));
                assert.ok(ok, `${e.fault} under ${phase.fault} after ${previous}`);
                failures++;
              }
            }
            chip.clear();
            previous = phase.fault;
            if (phase.sleep) {
              try {
                s.configure({ sleep: true });
              } catch (e) {
                assert.ok(e instanceof SensorError);
              }
              Timer.delay(1000);
              s.configure({ sleep: false });
            }
          }
          setCurrentBoard(undefined);
        },
      ),
      { numRuns: 60 },
    );
    assert.ok(readings > 20 && failures > 10, `${readings} readings, ${failures} failures`);
  });
});
