// DS18B20 driver against the independently written DS18B20 emulator on the 1-Wire
// stand-in: readings at each resolution, the conversion wait, every injected fault,
// the power-on value, and a property test that whatever the driver returns is what
// the chip's register held.
import assert from "node:assert/strict";
import fc from "fast-check";
import OneWire from "onewire";
import { Board, setCurrentBoard } from "../../../simulator/src/core/board.ts";
import { Rng } from "../../../simulator/src/core/rng.ts";
import { Ds18b20Emulator, dallasCrc8, type Ds18b20Options as EmuOptions } from "../../../simulator/src/devices/ds18b20.ts";
import Ds18b20, { deciCFromRaw } from "../../../firmware/src/drivers/ds18b20.ts";
import { faultOf } from "./driver-helpers.ts";

const PIN = 19;

function rig(temperatureC: (t: number) => number = () => 11.3, emu: Partial<EmuOptions> = {}, resolution?: 9 | 10 | 11 | 12) {
  const board = new Board();
  setCurrentBoard(board);
  const chip = new Ds18b20Emulator({ rng: new Rng("ds18b20"), clock: board.clock, temperatureC, offsetC: 0, ...emu });
  board.attachOneWire(PIN, chip);
  const open = () => new Ds18b20({ sensor: { io: OneWire, pin: PIN }, ...(resolution ? { resolution } : {}) });
  return { board, chip, open };
}

/** What the register held, in tenths of °C, rounded half away from zero: the reference the driver must match. */
function expectedDeciC(scratchpad: Uint8Array): number {
  let raw = scratchpad[0] | (scratchpad[1] << 8);
  if (raw & 0x8000) raw -= 0x10000;
  const exact = (raw * 10) / 16;
  return Math.sign(exact) * Math.floor(Math.abs(exact) + 0.5);
}

describe("DS18B20 driver with the DS18B20 emulator", () => {
  afterEach(() => setCurrentBoard(undefined));

  it("the bus's CRC-8 (which the driver uses) and the emulator's agree with each other and with the datasheet's ROM example", () => {
    // Maxim's application note 27 example ROM: family 0x02, serial 0x1C B8 01 00 00 00, CRC 0xA2.
    const rom = Uint8Array.from([0x02, 0x1c, 0xb8, 0x01, 0x00, 0x00, 0x00]);
    assert.equal(dallasCrc8(rom), 0xa2);
    assert.equal(OneWire.crc(rom), 0xa2);
    assert.equal(OneWire.crc(Uint8Array.from([...rom, 0x55]), 7), 0xa2, "of the first `length` bytes");
    fc.assert(fc.property(fc.uint8Array({ minLength: 0, maxLength: 12 }), (b) => dallasCrc8(b) === OneWire.crc(b)));
  });

  it("reads the water temperature at 10 bits (0.25 °C) after a 187.5 ms conversion, within the datasheet's ±0.5 °C", () => {
    const { board, chip, open } = rig(() => 11.3, { offsetC: 0.2 });
    const s = open();
    const t0 = board.clock.nowMs;
    const r = s.measure();
    assert.ok(board.clock.nowMs - t0 >= 187.5 && board.clock.nowMs - t0 < 220, `waited ${board.clock.nowMs - t0} ms`);
    assert.equal(chip.conversions, 1);
    assert.equal(r.temperatureDeciC, expectedDeciC(chip.scratchpad));
    assert.ok(Math.abs(r.temperatureDeciC / 10 - 11.3) <= 0.5, `${r.temperatureDeciC}`);
    assert.equal(chip.scratchpad[4], 0x3f, "10-bit configuration written");
    // Quarter degrees: at 10 bits the register's two lowest bits are 0.
    assert.equal(chip.scratchpad[0] & 3, 0);
  });

  for (const bits of [9, 10, 11, 12] as const) {
    it(`${bits}-bit resolution waits ${93.75 * 2 ** (bits - 9)} ms and reads in steps of ${1 / 2 ** (bits - 8)} °C`, () => {
      const { board, open } = rig(() => -3.4, {}, bits);
      const t0 = board.clock.nowMs;
      const r = open().measure();
      const waited = board.clock.nowMs - t0;
      assert.ok(waited >= 93.75 * 2 ** (bits - 9) && waited < 93.75 * 2 ** (bits - 9) + 20, `waited ${waited} ms`);
      assert.ok(Math.abs(r.temperatureDeciC / 10 + 3.4) <= 0.5 + 0.5 ** (bits - 8), `${r.temperatureDeciC}`);
    });
  }

  it("on a switched rail: no presence while unpowered; powered, every reading is a fresh conversion, never the +85 °C power-on value", () => {
    const { chip, open } = rig(() => 9, { powered: false });
    const s = open();
    assert.equal(faultOf(() => s.measure()), "nack");
    chip.setPower(true);
    assert.equal(expectedDeciC(chip.scratchpad), 850, "power-on value in the register");
    assert.equal(chip.scratchpad[4], 0x7f, "12-bit from EEPROM after power-up");
    const r = s.measure();
    assert.ok(Math.abs(r.temperatureDeciC - 90) <= 5, `${r.temperatureDeciC}`);
  });

  it("faults: a cut cable is nack, a shorted DQ times out, a flipped bit is crc, a lost conversion is range; none becomes a reading", () => {
    const { chip, open } = rig(() => 14);
    const s = open();
    chip.inject("absent");
    assert.equal(faultOf(() => s.measure()), "nack");
    chip.clear();
    chip.inject("shorted");
    assert.equal(faultOf(() => s.measure()), "timeout");
    chip.clear();
    for (let i = 0; i < 30; i++) {
      chip.inject("corrupt-crc");
      assert.equal(faultOf(() => s.measure()), "crc");
    }
    chip.clear();
    chip.setPower(false);
    chip.setPower(true);
    chip.inject("no-conversion");
    assert.equal(faultOf(() => s.measure()), "range", "+85 °C without a conversion");
    chip.clear();
    assert.ok(Math.abs(s.measure().temperatureDeciC - 140) <= 5);
  });

  it("a scratchpad of zeros, whose CRC is 0, is refused by its configuration register", () => {
    const bus = { reset: () => true, write: () => {}, read: ((n?: number) => (n === undefined ? 0xff : new ArrayBuffer(n))) as { (): number; (n: number): ArrayBuffer }, close: () => {} };
    const io = Object.assign(function () { return bus; }, { crc: OneWire.crc });
    const s = new Ds18b20({ sensor: { io: io as never, pin: 1 } });
    setCurrentBoard(new Board());
    assert.equal(faultOf(() => s.measure()), "frame");
  });

  it("the bus: search() finds the chip's ROM code (CRC byte first, as Moddable gives it) and select() addresses it with MATCH ROM", () => {
    const { chip } = rig(() => 20);
    const bus = new OneWire({ pin: PIN });
    const found = bus.search();
    assert.equal(found.length, 1);
    const rom = new Uint8Array(found[0]);
    assert.deepEqual([...rom].reverse(), [...chip.romCode()]);
    assert.equal(chip.romCode()[0], 0x28, "DS18B20 family code");
    assert.equal(dallasCrc8(chip.romCode(), 7), chip.romCode()[7]);
    bus.select(rom);
    bus.write(0xbe);
    const pad = new Uint8Array(bus.read(9));
    assert.deepEqual([...pad], [...chip.scratchpad]);
    assert.equal(expectedDeciC(pad), 850, "power-on value before any conversion");
    // Another ROM code: the chip stays silent and the bus reads high.
    const other = rom.slice();
    other[3] ^= 1;
    bus.select(other);
    bus.write(0xbe);
    assert.deepEqual([...new Uint8Array(bus.read(2))], [0xff, 0xff]);
    bus.close();
  });

  it("deciCFromRaw rounds half away from zero over the whole 16-bit register", () => {
    for (let raw = 0; raw <= 0xffff; raw++) {
      const v = raw & 0x8000 ? raw - 0x10000 : raw;
      const exact = (v * 10) / 16;
      const want = Math.sign(exact) * Math.floor(Math.abs(exact) + 0.5);
      if (deciCFromRaw(raw) !== want) assert.fail(`raw 0x${raw.toString(16)}: ${deciCFromRaw(raw)} against ${want}`);
    }
  });

  it("property: for random temperatures, resolutions and corruption, every reading is exactly the register's value and within ±0.5 °C of the water", () => {
    fc.assert(
      fc.property(fc.double({ min: -20, max: 60, noNaN: true }), fc.constantFrom(9, 10, 11, 12), fc.double({ min: 0, max: 0.5, noNaN: true }), (c, bits, p) => {
        const { chip, open } = rig(() => c, { offsetC: 0 }, bits as 9 | 10 | 11 | 12);
        chip.inject("corrupt-crc", { probability: p });
        const s = open();
        for (let i = 0; i < 4; i++) {
          try {
            const r = s.measure();
            assert.equal(r.temperatureDeciC, expectedDeciC(chip.scratchpad));
            assert.ok(Math.abs(r.temperatureDeciC / 10 - c) <= 0.5, `${r.temperatureDeciC} for ${c}`);
          } catch (e) {
            assert.equal(faultOf(() => {
              throw e;
            }), "crc");
          }
        }
      }),
      { numRuns: 120 },
    );
  });
});
