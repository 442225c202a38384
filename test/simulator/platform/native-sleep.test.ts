import assert from "node:assert/strict";
import { Board, RTC_PADS, setCurrentBoard } from "../../../simulator/src/core/board.ts";
import UlpPulseCount from "../../../simulator/src/platform/native-ulp-pulse.ts";
import { NodeHost } from "../../../simulator/src/core/node-host.ts";
import { deepSleep, powerCut, retain, retained } from "../../../simulator/src/platform/native-sleep.ts";
import Preference from "../../../simulator/src/platform/preference.ts";

const bytes = (b: ArrayBuffer | undefined) => (b ? [...new Uint8Array(b)] : []);

describe("simulator/platform: copies of RTC memory and flash handed to the firmware", () => {
  afterEach(() => setCurrentBoard(undefined));

  it("each boot reads what the last one kept, whatever it did to its own copies; a second read in a boot is a copy of its own", () => {
    const board = new Board();
    const seen: { rtc: number[]; flash: number[] }[] = [];
    let boot = 0;
    const host = new NodeHost(board, () => {
      const first = retained();
      const again = retained();
      const value = Preference.get("d", "k") as ArrayBuffer | undefined;
      const value2 = Preference.get("d", "k") as ArrayBuffer | undefined;
      seen.push({ rtc: bytes(first), flash: bytes(value) });
      if (first && again) {
        assert.notEqual(first, again);
        assert.deepEqual(bytes(again), bytes(first));
      }
      if (value && value2) {
        assert.notEqual(value, value2);
        assert.deepEqual(bytes(value2), bytes(value));
      }
      // Scribbled on, never kept: RTC memory and flash do not see it.
      for (const b of [first, again, value, value2]) if (b) new Uint8Array(b).fill(0xee);
      boot++;
      if (boot % 2 === 1) {
        retain(new Uint8Array([boot, boot + 1, boot + 2, boot + 3]));
        Preference.set("d", "k", Uint8Array.of(boot * 10, boot * 10 + 1).buffer);
      }
      deepSleep(60_000);
    });
    for (let i = 0; i < 5; i++) host.bootOnce();
    assert.deepEqual(seen.map((s) => s.rtc), [[], [1, 2, 3, 4], [1, 2, 3, 4], [3, 4, 5, 6], [3, 4, 5, 6]]);
    assert.deepEqual(seen.map((s) => s.flash), [[], [10, 11], [10, 11], [30, 31], [30, 31]]);

    // Outside a boot (a test looking at a node between boots) every read is a copy of its own, kept through later boots.
    setCurrentBoard(board);
    const held = [retained()!, Preference.get("d", "k") as ArrayBuffer];
    setCurrentBoard(undefined);
    host.bootOnce();
    host.bootOnce();
    assert.deepEqual(held.map(bytes), [[5, 6, 7, 8], [50, 51]]);

    powerCut(board);
    host.wakeAt(board.clock.nowMs);
    host.bootOnce();
    assert.deepEqual(seen.at(-1)?.rtc, []);
  });
});

describe("simulator/platform: only RTC pads wake the chip or reach the ULP, as on the ESP32 and the S3", () => {
  afterEach(() => setCurrentBoard(undefined));

  it("a board that names its chip refuses, before any change, a wake or ULP pin that is not one of its RTC pads; a board that does not name one accepts any", () => {
    for (const [chip, rtc, digital] of [["esp32", 34, 23], ["esp32s3", 14, 38]] as const) {
      const board = new Board();
      board.rtcPads = RTC_PADS[chip];
      setCurrentBoard(board);
      assert.throws(() => deepSleep(1000, { ext0: { pin: digital, level: 1 } }), new RegExp(`GPIO ${digital} cannot wake the chip`), chip);
      assert.throws(() => deepSleep(1000, { ext1: { pins: [rtc, digital], mode: "any-high" } }), new RegExp(`GPIO ${digital} cannot wake`), chip);
      assert.equal(board.sleepUntilMs, undefined, `${chip}: a refused sleep changes nothing`);
      deepSleep(1000, { ext0: { pin: rtc, level: 1 } });
      assert.equal(board.sleepUntilMs, board.clock.nowMs + 1000);
      assert.throws(() => new UlpPulseCount({ signal: digital }), new RegExp(`pin ${digital} is not an RTC GPIO`), chip);
      assert.equal(board.ulp, undefined);
      new UlpPulseCount({ signal: rtc }).close();
      assert.ok(board.ulp);
    }
    const bare = new Board();
    setCurrentBoard(bare);
    deepSleep(1000, { ext0: { pin: 23, level: 1 } });
    new UlpPulseCount({ signal: 23 }).close();
  });
});
