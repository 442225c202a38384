// The RTC stand-in counts as the ESP32's does: from the board's power-on (its
// first boot, or the first after a power cut), on through deep sleep and every
// other reset; the system time set with Time.set goes with a power cut.
// Moddable's Time.ticks, on esp_timer, starts again at every boot.
import assert from "node:assert/strict";
import { Board, setCurrentBoard } from "../../../simulator/src/core/board.ts";
import { VirtualClock } from "../../../simulator/src/core/clock.ts";
import { NodeHost } from "../../../simulator/src/core/node-host.ts";
import { rtcMs, unixMs } from "../../../simulator/src/platform/native-rtc.ts";
import { deepSleep, powerCut, resetBoard } from "../../../simulator/src/platform/native-sleep.ts";
import Time from "../../../simulator/src/platform/time.ts";
import UlpPulseCount from "../../../simulator/src/platform/native-ulp-pulse.ts";

describe("simulator/platform: native:rtc counts from the board's power-on", () => {
  afterEach(() => setCurrentBoard(undefined));

  it("from the first boot, through deep sleep; a power cut restarts it and unsets the time; other resets keep both", () => {
    const clock = new VirtualClock();
    const board = new Board(clock, 3);
    const seen: { rtc: number; unix: number }[] = [];
    let setTime = false;
    const host = new NodeHost(board, () => {
      seen.push({ rtc: rtcMs(), unix: unixMs() });
      if (setTime) Time.set(1_800_000_000);
      setTime = false;
      deepSleep(60_000);
    }, 7_500);
    host.bootOnce(); // power-on at 7.5 s
    host.bootOnce(); // a minute later
    setTime = true;
    host.bootOnce(); // sets the time at 2 min 7.5 s
    host.bootOnce();
    assert.deepEqual(seen.map((s) => s.rtc), [0, 60_000, 120_000, 180_000]);
    assert.deepEqual(seen.map((s) => s.unix), [-1, -1, -1, 1_800_000_060_000]);
    // A watchdog reset: RTC memory is gone, the RTC and the time run on.
    resetBoard("task-watchdog", board);
    host.wakeAt(clock.nowMs + 1_000);
    host.bootOnce();
    assert.deepEqual(seen[4], { rtc: 181_000, unix: 1_800_000_061_000 });
    // The battery is out for 10 minutes: the RTC starts again at the next power-on, the time is unset.
    powerCut(board);
    host.wakeAt(clock.nowMs + 600_000);
    host.bootOnce();
    host.bootOnce();
    assert.deepEqual(seen.slice(5), [{ rtc: 0, unix: -1 }, { rtc: 60_000, unix: -1 }]);
  });

  it("a drifting RTC (board.rtcPpm) paces the RTC count, the wall clock set on it, timed sleeps and the ULP's minutes; Time.ticks keeps true time", () => {
    const clock = new VirtualClock();
    const board = new Board(clock, 5);
    board.rtcPpm = 10_000; // 1 % fast
    const seen: { at: number; rtc: number; unix: number; ticks: number }[] = [];
    const host = new NodeHost(board, () => {
      const start = Time.ticks;
      clock.advanceTo(clock.nowMs + 100);
      if (seen.length === 1) Time.set(1_800_000_000);
      seen.push({ at: clock.nowMs, rtc: rtcMs(), unix: unixMs(), ticks: Time.ticks - start });
      deepSleep(101_000);
    }, 1_000);
    host.bootOnce();
    host.bootOnce();
    host.bootOnce();
    // A 101 s sleep on an RTC 1 % fast takes 100 s; the RTC counts 101 s for every 100 s, the wall clock with it.
    assert.deepEqual(seen.map((x) => x.at), [1_100, 101_200, 201_300]);
    assert.deepEqual(seen.map((x) => x.rtc), [101, 101_202, 202_303]);
    assert.deepEqual(seen.map((x) => x.unix), [-1, 1_800_000_000_000, 1_800_000_101_101]);
    assert.deepEqual(seen.map((x) => x.ticks), [100, 100, 100]);
    // The ULP's minute is 60 s of the RTC: 59.41 s of true time.
    setCurrentBoard(board);
    const ulp = new UlpPulseCount({ signal: 34 });
    const started = clock.nowMs;
    const program = board.ulp!;
    assert.ok(Math.abs(program.nextBoundaryMs - started - 60_000 / 1.01) < 1e-6, `${program.nextBoundaryMs - started}`);
    clock.advanceTo(started + 30_000);
    assert.ok(Math.abs(ulp.msIntoMinute() - 30_300) < 1e-6, `${ulp.msIntoMinute()}`);
  });

  it("Time.ticks counts from each boot, as esp_timer does on the ESP32, and Time.delta in the same ticks", () => {
    const clock = new VirtualClock();
    const board = new Board(clock, 4);
    const seen: number[][] = [];
    const host = new NodeHost(board, () => {
      const start = Time.ticks;
      clock.advanceTo(clock.nowMs + 250); // the wake's work
      seen.push([start, Time.ticks, Time.delta(start), rtcMs()]);
      deepSleep(60_000);
    }, 1_000);
    host.bootOnce();
    host.bootOnce();
    assert.deepEqual(seen, [[0, 250, 250, 250], [0, 250, 250, 60_500]]);
  });
});
