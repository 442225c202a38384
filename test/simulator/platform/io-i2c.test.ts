// The I2C stand-in refuses what Moddable's ESP32 I2C (modules/io/i2c/esp32/_i2c.c) refuses:
// an instance without its pins, and a second open instance for the same pins and address.
import assert from "node:assert/strict";
import { Board, setCurrentBoard } from "../../../simulator/src/core/board.ts";
import I2C from "../../../simulator/src/platform/io-i2c.ts";

describe("simulator/platform: embedded:io/i2c instances", () => {
  afterEach(() => setCurrentBoard(undefined));

  it("needs data and clock; one instance per pins and address until it is closed or the chip resets", () => {
    const board = new Board();
    setCurrentBoard(board);
    assert.throws(() => new I2C({ clock: 22, hz: 100000, address: 0x62 }), /data required/);
    assert.throws(() => new I2C({ data: 21, hz: 100000, address: 0x62 }), /clock required/);
    const first = new I2C({ data: 21, clock: 22, hz: 100000, address: 0x62 });
    assert.throws(() => new I2C({ data: 21, clock: 22, hz: 100000, address: 0x62 }), /duplicate address/);
    // Another address on the same pins, or the same address on other pins, is another target.
    new I2C({ data: 21, clock: 22, hz: 100000, address: 0x69 });
    new I2C({ data: 4, clock: 5, hz: 100000, address: 0x62 });
    first.close();
    const second = new I2C({ data: 21, clock: 22, hz: 100000, address: 0x62 });
    // A deep sleep resets the chip: the next boot opens it again without closing.
    board.booting(true);
    new I2C({ data: 21, clock: 22, hz: 100000, address: 0x62 });
    second.close(); // a stale handle's close frees nothing of the new boot's
    assert.throws(() => new I2C({ data: 21, clock: 22, hz: 100000, address: 0x62 }), /duplicate address/);
  });
});
