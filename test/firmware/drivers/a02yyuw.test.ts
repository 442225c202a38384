import assert from "node:assert/strict";
import fc from "fast-check";
import Serial from "embedded:io/serial";
import Digital from "embedded:io/digital";
import Time from "time";
import Timer from "timer";
import { Board, setCurrentBoard, type SerialDevice, type SerialLink } from "../../../simulator/src/core/board.ts";
import { Rng } from "../../../simulator/src/core/rng.ts";
import { A02yyuw as Emulator, type A02yyuwFault, type A02yyuwTarget } from "../../../simulator/src/devices/a02yyuw.ts";
import A02yyuw, { type A02yyuwConfig, type A02yyuwSample } from "../../../firmware/src/drivers/a02yyuw.ts";
import { SensorError } from "../../../firmware/src/drivers/sensor-error.ts";
import { spying } from "./driver-helpers.ts";

const PORT = 2;
const RX = 16;
const MODE_PIN = 17;

function rig(target: (t: number) => A02yyuwTarget, seed = 1) {
  const board = new Board();
  setCurrentBoard(board);
  const device = new Emulator({ clock: board.clock, rng: new Rng(seed).fork("a02"), target, rxLevel: () => board.pins.get(MODE_PIN) ?? 1 });
  board.attachSerial(PORT, device, 9600);
  return { board, device };
}

function open(config: A02yyuwConfig = {}, withModePin = true): A02yyuw {
  return new A02yyuw({
    sensor: { io: Serial, port: PORT, receive: RX },
    ...(withModePin ? { modePin: { io: Digital, pin: MODE_PIN } } : {}),
    ...config,
  });
}

/** Datasheet accuracy: ±(1 cm + 0.3 % of the distance). */
function within(mm: number, trueMm: number): boolean {
  return Math.abs(mm - trueMm) <= 10 + 0.003 * trueMm;
}

function sensorFault(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    assert.ok(e instanceof SensorError, `expected SensorError, got ${String(e)}`);
    return e.fault;
  }
}

function frame(mm: number): number[] {
  const h = mm >> 8;
  const l = mm & 0xff;
  return [0xff, h, l, (0xff + h + l) & 0xff];
}

/** A device that plays back fixed bytes once, starting 50 ms after attach. */
class Playback implements SerialDevice {
  constructor(readonly bytes: Uint8Array | number[]) {}
  attach(link: SerialLink): void {
    link.deliver(this.bytes, link.clock.nowMs + 50);
  }
  serialWrite(): void {}
}

function playback(bytes: Uint8Array | number[], config: A02yyuwConfig = {}): A02yyuw {
  const board = new Board();
  setCurrentBoard(board);
  board.attachSerial(PORT, new Playback(bytes), 9600);
  return open(config, false);
}

describe("drivers/a02yyuw with the A02YYUW emulator", () => {
  afterEach(() => setCurrentBoard(undefined));

  it("reads distances across the range within the datasheet accuracy, in mm and ECMA-419 cm", () => {
    // Right at 30 and 4500 mm the noise puts half the frames out of range; stay a few sd inside.
    for (const d of [45, 250, 999, 1953, 3000, 4450]) {
      rig(() => ({ distanceMm: d }), d);
      const s = open().sample();
      assert.ok(within(s.distanceMm, d), `${d}: ${s.distanceMm}`);
      assert.equal(s.distance, Math.round(s.distanceMm / 10));
      assert.equal(s.max, 450);
      assert.equal(s.near, s.distanceMm <= 300);
    }
  });

  it("cm rounding is half up for every distance in range", () => {
    rig(() => ({ distanceMm: 1000 }));
    const sensor = open({ frames: 1 });
    const s = sensor.sample();
    assert.equal(s.distance, 100);
    for (let mm = 30; mm <= 4500; mm++) assert.equal((mm * 6554 + 32768) >> 16, Math.floor(mm / 10 + 0.5), `${mm}`);
  });

  it("processed mode by default; real-time when the mode pin is low at power-up, one frame per 100 ms", () => {
    const a = rig(() => ({ distanceMm: 1200 }));
    open().sample();
    assert.equal(a.device.mode, "processed");
    assert.equal(a.board.pins.get(MODE_PIN), 1);

    const b = rig(() => ({ distanceMm: 1200 }));
    const rt = open({ realTime: true });
    assert.equal(b.board.pins.get(MODE_PIN), 0);
    rt.sample();
    const before = b.device.framesSent;
    Timer.delay(1000);
    assert.equal(b.device.framesSent - before, 10);
    assert.equal(b.device.mode, "real-time");
    assert.ok(within(rt.sample().distanceMm, 1200));

    // Changing mode takes a power cycle of the module.
    rt.configure({ realTime: false });
    assert.equal(b.board.pins.get(MODE_PIN), 1);
    assert.equal(b.device.mode, "real-time");
    b.device.powerCycle();
    rt.sample();
    assert.equal(b.device.mode, "processed");
  });


  it("waits for the frame that could decide the sample instead of polling through the gaps, and still ends within one poll of it", () => {
    let processedPolls = 0;
    for (const realTime of [true, false]) {
      for (let seed = 1; seed <= 20; seed++) {
        const { board } = rig(() => ({ distanceMm: 900 + 40 * seed }), seed);
        const rx = board.serialRx.get(PORT)!;
        // Arrival time of every byte the driver reads, and the number of polls.
        const arrivals: number[] = [];
        let polls = 0;
        const sensor = open({ realTime });
        sensor.sample(); // power-up and mode latch
        Timer.delay(5000);
        const start = board.clock.nowMs;
        const s = spying(
          Serial.prototype,
          "read",
          () => {
            polls++;
            const now = board.clock.nowMs;
            for (let i = rx.head; i < rx.head + rx.length && rx.times[i] <= now && arrivals.length < 1e6; i++) arrivals.push(rx.times[i]);
          },
          () => sensor.sample(),
        );
        const end = board.clock.nowMs;
        assert.ok(within(s.distanceMm, 900 + 40 * seed));
        const last = Math.max(...arrivals.filter((t) => t > start));
        assert.ok(end - last <= 20, `${realTime ? "real-time" : "processed"} seed ${seed}: ended ${end - last} ms after the last byte`);
        // Five frames at 100 ms took 25 polls at 20 ms; now one poll a frame.
        if (realTime) assert.ok(polls <= 6, `${polls} polls`);
        else processedPolls += polls;
      }
    }
    // Processed output (a frame every 100–300 ms) took about 50 polls a sample at 20 ms.
    assert.ok(processedPolls / 20 <= 20, `${processedPolls / 20} polls a sample in processed mode`);
  });
  it("tracks a moving target", () => {
    // 5 mm/s, a tank filling fast; frames of one sample span up to 1.5 s.
    rig((t) => ({ distanceMm: 400 + (t / 1000) * 5 }));
    const sensor = open();
    for (let i = 0; i < 20; i++) {
      Timer.delay(2000);
      const t0 = Time.ticks;
      const s = sensor.sample();
      const t1 = Time.ticks;
      // The frames span the collection window; the answer lies within the distances seen in it.
      assert.ok(s.distanceMm >= 400 + (t0 / 1000) * 5 - 10 && s.distanceMm <= 400 + (t1 / 1000) * 5 + 10, `${s.distanceMm} at ${t0}..${t1}`);
    }
  });

  it("no echo (out of range, blind zone, soft or no target) is SensorError('range')", () => {
    const cases: A02yyuwTarget[] = [
      { distanceMm: 4800 },
      { distanceMm: 20 },
      { distanceMm: 1000, surface: "none" },
      { distanceMm: 3000, surface: "soft" },
    ];
    for (const target of cases) {
      rig(() => target);
      assert.equal(sensorFault(() => open().sample()), "range", JSON.stringify(target));
    }
    rig(() => ({ distanceMm: 1500, surface: "water" }));
    assert.ok(within(open().sample().distanceMm, 1500));
  });

  it("a soft target that misses a fifth of the pings still gives a reading: the driver reads on past the missed frames", () => {
    rig(() => ({ distanceMm: 1200, surface: "soft" }), 4);
    const sensor = open();
    let ok = 0;
    let longest = 0;
    for (let i = 0; i < 200; i++) {
      const t0 = Time.ticks;
      try {
        assert.ok(within(sensor.sample().distanceMm, 1200));
        ok++;
      } catch (e) {
        assert.ok(e instanceof SensorError, String(e));
      }
      longest = Math.max(longest, Time.ticks - t0);
      Timer.delay(1000);
    }
    // Five frames with four echoes needed, no reading on about one sample in four (0.8^5 + 5·0.8^4·0.2 = 0.74).
    assert.ok(ok >= 196, `${ok} of 200 samples gave a reading`);
    assert.ok(longest <= 300 * 16, `a sample took ${longest} ms`);
  });

  it("timeout with nothing attached, after a mid-frame disconnect, and during a slow start", () => {
    const board = new Board();
    setCurrentBoard(board);
    assert.equal(sensorFault(() => open().sample()), "timeout");

    const a = rig(() => ({ distanceMm: 800 }));
    const sensor = open();
    assert.ok(within(sensor.sample().distanceMm, 800));
    a.device.inject("disconnect");
    assert.equal(sensorFault(() => sensor.sample()), "timeout");
    a.device.clear("disconnect");
    assert.ok(within(sensor.sample().distanceMm, 800));

    const b = rig(() => ({ distanceMm: 800 }));
    const slow = open();
    b.device.inject("slow-start", { ms: 3000 });
    assert.equal(sensorFault(() => slow.sample()), "timeout");
    Timer.delay(1500);
    assert.ok(within(slow.sample().distanceMm, 800));
  });

  it("fully corrupted frames give checksum/frame errors, never a reading", () => {
    const { device } = rig(() => ({ distanceMm: 2000 }), 5);
    device.inject("corrupt-checksum", { p: 1 });
    const sensor = open();
    for (let i = 0; i < 20; i++) {
      const fault = sensorFault(() => sensor.sample());
      assert.ok(fault === "checksum" || fault === "frame" || fault === "range", String(fault));
    }
  });

  it("resynchronises after dropped bytes and garbage: readings stay right and most samples succeed", () => {
    for (const fault of ["desync", "garbage"] as const) {
      const { device } = rig(() => ({ distanceMm: 1700 }), 9);
      device.inject(fault, { p: 0.5 });
      const sensor = open();
      let ok = 0;
      for (let i = 0; i < 30; i++) {
        try {
          const s = sensor.sample();
          assert.ok(within(s.distanceMm, 1700), `${fault}: ${s.distanceMm}`);
          ok++;
        } catch (e) {
          assert.ok(e instanceof SensorError);
        }
      }
      assert.ok(ok >= 20, `${fault}: ${ok}/30`);
    }
  });

  it("parser: a dropped byte costs one frame; a 0xFF inside a failed window restarts the frame", () => {
    // FF 07 A1 A7 is 1953 mm (the datasheet example); the first frame lost its A1.
    const sensor = playback([0xff, 0x07, 0xa7, ...frame(1953), ...frame(1953)], { frames: 2, agree: 2 });
    assert.equal(sensor.sample().distanceMm, 1953);
    // Junk with a stray 0xFF first, then a frame whose low byte and sum are 0xFF (0x01FF = 511 mm).
    const s2 = playback([0x12, 0xff, 0x34, ...frame(511)], { frames: 1 });
    assert.equal(s2.sample().distanceMm, 511);
    assert.equal(sensorFault(() => playback([0x01, 0x02, 0x03]).sample()), "frame");
    assert.equal(sensorFault(() => playback([0xff, 0x07, 0xa1, 0xa8]).sample()), "checksum");
  });

  it("spurious short echoes are outvoted; a majority of no-echo frames is a range fault", () => {
    const { device } = rig(() => ({ distanceMm: 2500 }), 13);
    device.inject("echo", { p: 0.2 });
    const sensor = open();
    let ok = 0;
    for (let i = 0; i < 40; i++) {
      const fault = sensorFault(() => {
        const s = sensor.sample();
        assert.ok(within(s.distanceMm, 2500), `echo leaked: ${s.distanceMm}`);
        ok++;
      });
      assert.ok(fault === undefined || fault === "range");
    }
    assert.ok(ok >= 20);
    device.clear("echo");
    device.inject("no-echo");
    assert.equal(sensorFault(() => sensor.sample()), "range");
  });

  it("stuck output is reported once stuckFrames identical frames arrive", () => {
    let d = 1000;
    const { device } = rig(() => ({ distanceMm: d }), 21);
    const sensor = open({ stuckFrames: 12 });
    const good = sensor.sample().distanceMm;
    assert.ok(within(good, 1000));
    device.inject("stuck");
    const frozen: number[] = [];
    let fault: string | undefined;
    for (let i = 0; i < 6 && !fault; i++) {
      d += 200;
      fault = sensorFault(() => frozen.push(sensor.sample().distanceMm));
    }
    assert.equal(fault, "stuck");
    // Before detection the frozen value is the last good measurement.
    for (const v of frozen) assert.ok(within(v, 1000));
    // Without detection a still, live target never trips it.
    rig(() => ({ distanceMm: 1000 }), 22);
    const live = open({ stuckFrames: 12 });
    for (let i = 0; i < 20; i++) live.sample();
  });

  it("configure validates its options", () => {
    rig(() => ({ distanceMm: 1000 }));
    const sensor = open();
    for (const bad of [{ frames: 0 }, { frames: 16 }, { agree: 6 }, { toleranceMm: 0 }, { timeoutMs: 0 }, { stuckFrames: -1 }, { nearMm: 1.5 }]) {
      assert.throws(() => sensor.configure(bad), RangeError, JSON.stringify(bad));
    }
    sensor.configure({ frames: 3, agree: 2, toleranceMm: 30, timeoutMs: 2000, nearMm: 1500 });
    const s = sensor.sample();
    assert.equal(s.near, true);
    sensor.close();
    assert.throws(() => sensor.sample(), /closed/);
  });

  it("fuzz: random bytes never yield a reading without a valid frame behind it, and only SensorError is thrown", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 400 }),
        fc.array(fc.integer({ min: 0, max: 5000 }), { maxLength: 4 }),
        fc.integer({ min: 1, max: 5 }),
        (noise, planted, frames) => {
          const bytes = Array.from(noise);
          // Plant some real frames at random places so readings do happen.
          for (const mm of planted) bytes.splice(mm % (bytes.length + 1), 0, ...frame(mm));
          const sensor = playback(bytes, { frames, agree: frames });
          let s: A02yyuwSample | undefined;
          try {
            s = sensor.sample();
          } catch (e) {
            assert.ok(e instanceof SensorError, String(e));
            return;
          }
          const valid = new Set<number>();
          for (let i = 0; i + 3 < bytes.length; i++) {
            if (bytes[i] === 0xff && ((0xff + bytes[i + 1] + bytes[i + 2]) & 0xff) === bytes[i + 3]) valid.add((bytes[i + 1] << 8) | bytes[i + 2]);
          }
          assert.ok(valid.has(s.distanceMm), `reading ${s.distanceMm} has no checksum-valid frame`);
          assert.ok(s.distanceMm >= 30 && s.distanceMm <= 4500);
        },
      ),
      { numRuns: 400 },
    );
  });

  it("property: random targets and random faults give a correct reading or a SensorError, never a wrong value, while spurious echoes stay within what agreement can reject", () => {
    const faults: A02yyuwFault[] = ["corrupt-checksum", "desync", "garbage", "echo", "no-echo"];
    // The driver's defaults: a reading needs 4 of 5 frames within max(20 mm, 1/64) of their median.
    const FRAMES = 5;
    const AGREE = 4;
    const tolerance = (mm: number) => Math.max(20, mm >> 6);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.integer({ min: 30, max: 4500 }),
        fc.constantFrom<A02yyuwTarget["surface"]>("hard", "water"),
        fc.subarray(faults),
        fc.double({ min: 0.01, max: 0.3, noNaN: true }),
        fc.boolean(),
        (seed, d, surface, active, p, realTime) => {
          const { device } = rig(() => ({ distanceMm: d, surface }), seed);
          for (const f of active) device.inject(f, { p });
          const sensor = open({ realTime });
          for (let i = 0; i < 3; i++) {
            const echoesBefore = device.echoesSent;
            let read = -1;
            const fault = sensorFault(() => {
              read = sensor.sample().distanceMm;
            });
            // Spurious echoes carry valid checksums: only agreement tells them from the target, as far as their count allows.
            const echoes = device.echoesSent - echoesBefore;
            const seen = `true ${d}, read ${read}, faults ${active}, ${echoes} spurious echoes`;
            if (fault) assert.ok(["range", "checksum", "frame", "timeout"].includes(fault), fault);
            else if (echoes <= FRAMES - AGREE) assert.ok(within(read, d), seen);
            // Fewer than AGREE: the agreeing frames hold a true one, so the reading is within twice the tolerance of it.
            else if (echoes < AGREE) assert.ok(Math.abs(read - d) <= 2 * tolerance(d + 2 * tolerance(d) + 30) + 10 + 0.003 * d, seen);
            // AGREE or more that agree among themselves are, to any driver, what the sensor measured.
            else assert.ok(read >= 30 && read <= 4500, seen);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});

