// Serial and digital stand-ins hold their GPIOs as Moddable's ESP32 IO does (builtinUsePin):
// a pin another open instance holds is "in use" until that one is closed or the chip resets.
import assert from "node:assert/strict";
import { Board, RTC_PADS, setCurrentBoard } from "../../../simulator/src/core/board.ts";
import Digital from "../../../simulator/src/platform/io-digital.ts";
import Serial from "../../../simulator/src/platform/io-serial.ts";
import { deepSleep, powerCut, releaseHold } from "../../../simulator/src/platform/native-sleep.ts";

describe("simulator/platform: GPIOs in use", () => {
  afterEach(() => setCurrentBoard(undefined));

  it("a second serial port or digital pin on a held GPIO is refused until it is closed or the next boot", () => {
    const board = new Board();
    setCurrentBoard(board);
    const modem = new Serial({ transmit: 17, receive: 16, baud: 9600, port: 2, format: "buffer" });
    assert.throws(() => new Serial({ transmit: 17, receive: 5, baud: 9600, port: 1, format: "buffer" }), /pin 17 in use/);
    assert.throws(() => new Digital({ pin: 16, mode: Digital.Input }), (e: unknown) => e instanceof RangeError && /pin 16 in use/.test(e.message));
    const rail = new Digital({ pin: 25, mode: Digital.Output });
    assert.throws(() => new Digital({ pin: 25, mode: Digital.Output }), /pin 25 in use/);
    modem.close();
    rail.close();
    new Serial({ transmit: 17, receive: 16, baud: 9600, port: 2, format: "buffer" });
    new Digital({ pin: 25, mode: Digital.Output });
    // A deep sleep resets the chip: the next boot takes the pins again without closing.
    board.booting(true);
    new Serial({ transmit: 17, receive: 16, baud: 9600, port: 2, format: "buffer" });
    new Digital({ pin: 25, mode: Digital.Output });
    assert.throws(() => new Digital({ pin: 16, mode: Digital.Input }), /in use/);
  });

  it("deep sleep lets an output fall to its pull-down unless held; a held pin keeps its level until released, then takes the last write", () => {
    const board = new Board();
    setCurrentBoard(board);
    const levels: number[] = [];
    const set = board.pins.set.bind(board.pins);
    board.pins.set = (p: number, v: number) => {
      if (p === 23) levels.push(v);
      return set(p, v);
    };
    board.booting(true);
    new Digital({ pin: 23, mode: Digital.Output }).write(1);
    new Digital({ pin: 25, mode: Digital.Output }).write(1);
    deepSleep(1000, { hold: [23] });
    assert.equal(board.pins.get(23), 1, "held through the sleep");
    assert.equal(board.pins.get(25), 0, "not held: the pad floats and the pull-down wins");
    board.booting(true);
    // A held pad ignores writes until its hold is released; the release applies the last one.
    const rail = new Digital({ pin: 23, mode: Digital.Output });
    rail.write(0);
    assert.equal(board.pins.get(23), 1);
    releaseHold([23]);
    assert.equal(board.pins.get(23), 0);
    rail.write(1);
    assert.equal(board.pins.get(23), 1, "released: writes reach the pad again");
    // Written, then released: no glitch low on the way (the order the air node's rail uses).
    deepSleep(1000, { hold: [23] });
    board.booting(true);
    levels.length = 0;
    new Digital({ pin: 23, mode: Digital.Output }).write(1);
    releaseHold([23]);
    assert.deepEqual(levels, [1]);
    // A hold lasts over sleeps until released, even when the next sleep does not name it.
    deepSleep(1000, { hold: [23] });
    board.booting(true);
    deepSleep(1000);
    assert.equal(board.pins.get(23), 1);
    // A power cut clears the latches: the rail falls.
    powerCut(board);
    assert.equal(board.pins.get(23), 0);
    board.booting(true);
    deepSleep(1000);
    assert.equal(board.pins.get(23), 0);
  });

  it("a digital pad's hold lasts the sleep only: it is back at its default when the chip wakes; an RTC pad's lasts until released", () => {
    const board = new Board();
    board.rtcPads = RTC_PADS.esp32;
    setCurrentBoard(board);
    board.booting(true);
    new Digital({ pin: 23, mode: Digital.Output }).write(1);
    new Digital({ pin: 4, mode: Digital.Output }).write(1);
    deepSleep(1000, { hold: [23, 4] });
    assert.equal(board.pins.get(23), 1, "held while asleep");
    assert.equal(board.pins.get(4), 1);
    board.booting(true);
    assert.equal(board.pins.get(23), 0, "GPIO 23 is a digital pad: reset at the wake");
    assert.equal(board.pins.get(4), 1, "GPIO 4 is RTC_GPIO10: still held");
    assert.ok(RTC_PADS.esp32s3.has(21) && !RTC_PADS.esp32s3.has(22));
  });
});
