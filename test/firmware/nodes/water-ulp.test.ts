// The ULP's minute ring (native:ulp-pulse) and the water node on it: the
// stand-in records the count at every minute boundary and wakes the CPU as the
// C program would; the node that sleeps 15 minutes at a time and takes the ring
// raises the same alarms as the node that wakes every minute, at most a ring's
// worth of minutes later (bursts within a minute), and counts the same water.
import assert from "node:assert/strict";
import PulseCount from "embedded:io/pulsecount";
import { Board, setCurrentBoard } from "../../../simulator/src/core/board.ts";
import { VirtualClock } from "../../../simulator/src/core/clock.ts";
import { Rng } from "../../../simulator/src/core/rng.ts";
import { NodeHost } from "../../../simulator/src/core/node-host.ts";
import { RecordingLink } from "../../../simulator/src/core/recording-link.ts";
import { PulseMeter } from "../../../simulator/src/devices/pulse-meter.ts";
import UlpPulseCount, { RING_MINUTES } from "../../../simulator/src/platform/native-ulp-pulse.ts";
import { deepSleep, powerCut, wakeCause } from "../../../simulator/src/platform/native-sleep.ts";
import PulseFlow, { type PulseCountConstructor } from "../../../firmware/src/drivers/pulse-flow.ts";
import { bootWater } from "../../../firmware/src/nodes/water/boot.ts";
import { ULP_WAKE_MINUTES } from "../../../firmware/src/nodes/water/water-node.ts";
import { platformRuntime } from "../../../firmware/src/nodes/runtime.ts";
import { dailyFlow, type WaterUse } from "./household.ts";

const S = 1000;
const MIN = 60 * S;
const H = 60 * MIN;
const D = 24 * H;
const PIN = 33;

describe("native:ulp-pulse stand-in: the minute ring and the ULP wake", () => {
  afterEach(() => setCurrentBoard(undefined));

  it("records the count at every minute boundary, hands each minute over once, and overflows at RING_MINUTES", () => {
    const clock = new VirtualClock();
    const board = new Board(clock, 3);
    const meter = new PulseMeter({ clock, rng: new Rng(4), pulsesPerLitre: 450, stepMs: 1000, flowLMin: (t) => 3 + 2 * Math.sin(t / 400000) });
    board.attachPulses(PIN, meter);
    setCurrentBoard(board);
    const ulp = new UlpPulseCount({ signal: PIN });
    setCurrentBoard(undefined);
    const host = new NodeHost(board, () => {}, Number.POSITIVE_INFINITY);
    // Minute by minute, the host runs the boundaries; the truth is the pulses on the wire at each one.
    const truth: number[] = [];
    for (let m = 1; m <= 5; m++) {
      assert.equal(host.nextEventMs, m * MIN);
      host.step();
      truth.push(meter.pulsesUntil(clock.nowMs) & 0xffff);
    }
    setCurrentBoard(board);
    const into = new Int32Array(RING_MINUTES);
    assert.equal(ulp.minutes(into), 5);
    assert.deepEqual(Array.from(into.subarray(0, 5)), truth);
    assert.equal(ulp.minutes(into), 0, "a minute is handed over once");
    assert.equal(ulp.minuteStart(), truth[4]);
    setCurrentBoard(undefined);
    // 20 minutes without a take: the oldest 4 are gone, the newest 16 are there.
    const more: number[] = [];
    for (let m = 0; m < 20; m++) {
      host.step();
      more.push(meter.pulsesUntil(clock.nowMs) & 0xffff);
    }
    setCurrentBoard(board);
    assert.equal(ulp.minutes(into), 20);
    assert.deepEqual(Array.from(into), more.slice(4));
    clock.advance(25 * S);
    assert.equal(ulp.msIntoMinute(), 25 * S);
    // write() moves the count and the minute under way together.
    const before = ulp.read();
    ulp.write(100);
    assert.equal(ulp.read(), 100);
    assert.equal(ulp.minuteStart(), (more[19] + (100 - before)) & 0xffff);
    assert.throws(() => ulp.wakeOn({ minutes: RING_MINUTES, burstPulses: 0 }), RangeError);
    assert.throws(() => ulp.wakeOn({ minutes: 1, burstPulses: 70000 }), RangeError);
  });

  it("wakes the CPU after the armed number of minutes, or at the end of a minute over the burst threshold; a power cut stops it", () => {
    const clock = new VirtualClock();
    const board = new Board(clock, 3);
    // 2 L/min (900 pulses a minute at 450 P/L) except a 40 L/min burst in minute 31.
    const meter = new PulseMeter({ clock, rng: new Rng(5), pulsesPerLitre: 450, kErrorPct: 0, stepMs: 1000, flowLMin: (t) => (t >= 30 * MIN && t < 31 * MIN ? 40 : 2) });
    board.attachPulses(PIN, meter);
    const causes: string[] = [];
    const host = new NodeHost(board, () => {
      causes.push(wakeCause());
      const ulp = new UlpPulseCount({ signal: PIN });
      ulp.minutes(new Int32Array(RING_MINUTES));
      ulp.wakeOn({ minutes: 10, burstPulses: 5000 });
      deepSleep(60 * MIN); // the backstop timer, never reached here
    });
    host.runUntil(45 * MIN);
    // Boot at 0, then the ring is 10 minutes old at 10, 20 and 30 min, the burst minute ends at 31, then 41.
    assert.deepEqual(host.boots.map((b) => b.atMs / MIN), [0, 10, 20, 30, 31, 41]);
    assert.deepEqual(causes, ["none", "ulp", "ulp", "ulp", "ulp", "ulp"]);
    powerCut(board);
    assert.equal(board.ulp, undefined);
    assert.equal(host.ulpBoundaryMs, Number.POSITIVE_INFINITY);
  });
});

const USES: WaterUse[] = [
  [7 * 60, 9, 9],
  [7 * 60 + 40, 1, 9],
  [12 * 60 + 5, 3, 6],
  [19 * 60 + 10, 10, 8],
  [21 * 60 + 30, 4, 6],
];

/** A household with a night-time leak from day 2 and a burst on day 4 (L/min), valve-less, on an FS400A (288 P/L, up to 75 L/min). */
function flow(t: number): number {
  let f = dailyFlow(USES, t);
  if (t >= 2 * D + 14 * H && t < 5 * D + 12 * H) f += 0.05; // a dripping tap
  if (t >= 4 * D + 13 * H + 20 * S && t < 4 * D + 13 * H + 20 * MIN) f += 40; // a burst pipe
  return f;
}

function run(withUlp: boolean, days: number) {
  const clock = new VirtualClock();
  const board = new Board(clock, 21);
  const meter = new PulseMeter({ clock, rng: new Rng(21).fork("meter"), pulsesPerLitre: 288, stepMs: 1000, flowLMin: flow });
  board.attachPulses(PIN, meter);
  const link = new RecordingLink(clock, 51);
  const io = (withUlp ? UlpPulseCount : PulseCount) as unknown as PulseCountConstructor;
  // Without the ring the PCNT stand-in counts from zero at every open: keep one counter per board, as RTC memory would.
  let kept: InstanceType<PulseCountConstructor> | undefined;
  const pcnt = function (o: ConstructorParameters<PulseCountConstructor>[0]) {
    return (kept ??= new io(o));
  } as unknown as PulseCountConstructor;
  const host = new NodeHost(board, () => {
    const hw = { meter: new PulseFlow({ sensor: { io: withUlp ? io : pcnt, signal: PIN }, meter: "fs400a" }), ...(withUlp ? { ulp: new UlpPulseCount({ signal: PIN }) } : {}) };
    bootWater(hw, platformRuntime(link, () => 3600));
  });
  host.runUntil(days * D);
  const alarms = link.ofType("waterAlarm").map((m) => ({ atMs: m.atMs, event: m.data!.event as string }));
  const readings = link.ofType("waterReading");
  const volumeL = readings.reduce((s, m) => s + ((m.data!.volumeMl as number) ?? 0), 0) / 1000;
  return { boots: host.boots.length, alarms, readings, volumeL, litres: meter.stats().litres };
}

describe("water node on the ULP's minute ring against the node that wakes every minute", function () {
  this.timeout(120_000);
  const DAYS = 7;
  let ring: ReturnType<typeof run>;
  let minute: ReturnType<typeof run>;
  before(() => {
    ring = run(true, DAYS);
    minute = run(false, DAYS);
    console.log(`      boots: ${ring.boots} on the ring, ${minute.boots} waking every minute; alarms ${ring.alarms.map((a) => `${a.event}@${(a.atMs / H).toFixed(2)}h`).join(", ")}`);
  });

  it("boots about 96 times a day instead of 1440 (plus a minute at a time around the burst)", () => {
    assert.ok(minute.boots >= DAYS * 1440 - 2, `${minute.boots}`);
    assert.ok(ring.boots >= DAYS * (1440 / ULP_WAKE_MINUTES) - 2 && ring.boots <= DAYS * (1440 / ULP_WAKE_MINUTES) + 40, `${ring.boots} boots`);
  });

  it("raises the same alarms, bursts within the same minute or two, the others at most 15 minutes later", () => {
    assert.deepEqual(ring.alarms.map((a) => a.event), minute.alarms.map((a) => a.event));
    assert.ok(ring.alarms.some((a) => a.event === "leak") && ring.alarms.some((a) => a.event === "burst"), JSON.stringify(ring.alarms));
    for (let i = 0; i < ring.alarms.length; i++) {
      const late = ring.alarms[i].atMs - minute.alarms[i].atMs;
      const bound = ring.alarms[i].event.startsWith("burst") ? 2 * MIN : ULP_WAKE_MINUTES * MIN;
      assert.ok(late >= -MIN && late <= bound, `${ring.alarms[i].event}: ${late / S} s later`);
    }
  });

  it("counts the same water: the readings' volumes add up to the pulses on the wire", () => {
    assert.ok(Math.abs(ring.volumeL - minute.volumeL) <= 10, `${ring.volumeL} L vs ${minute.volumeL} L`);
    const last = ring.readings[ring.readings.length - 1].data!.totalL as number;
    assert.ok(Math.abs(ring.volumeL - last) <= 1, `volumes ${ring.volumeL} L, total ${last} L`);
    assert.ok(Math.abs(last - ring.litres) <= 0.05 * ring.litres + 1, `total ${last} L vs ${ring.litres.toFixed(1)} L through the meter`);
  });
});
