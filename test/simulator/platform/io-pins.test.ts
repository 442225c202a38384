// Serial and digital stand-ins hold their GPIOs as Moddable's ESP32 IO does (builtinUsePin):
// a pin another open instance holds is "in use" until that one is closed or the chip resets.
import assert from "node:assert/strict";
import { Board, setCurrentBoard } from "../../../simulator/src/core/board.ts";
import Digital from "../../../simulator/src/platform/io-digital.ts";
import Serial from "../../../simulator/src/platform/io-serial.ts";

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
});
