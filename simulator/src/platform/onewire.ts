/**
 * Simulator stand-in for Moddable's `onewire` module (modules/drivers/onewire,
 * the RMT-driven bus on ESP32): `new OneWire({ pin })`, `reset()` (true when a
 * chip answers with a presence pulse), byte `write`, `read()` of one byte or
 * `read(count)` of several into a new ArrayBuffer, `select(rom)` (reset, MATCH
 * ROM, the ROM code), `search()`, and the Dallas/Maxim `crc`. The chips on the
 * pin (`board.attachOneWire`) see the same bytes; what they drive is wired-AND,
 * and an empty bus reads high. Bus time is not advanced, as with the I2C stand-in.
 */
import { currentBoard, hold, release, type Board, type OneWireDevice } from "../core/board.ts";
import { bytesView } from "./bytes.ts";

const MATCH_ROM = 0x55;

/** One 1-Wire bus on a GPIO. */
export default class OneWire {
  readonly #board: Board;
  readonly #pin: number;
  readonly #boot: number;
  #closed = false;

  constructor(options: { pin: number }) {
    if (!Number.isInteger(options?.pin)) throw new Error("pin missing");
    this.#board = currentBoard();
    this.#pin = options.pin;
    this.#boot = hold(this.#board, options.pin, () => new RangeError(`pin ${options.pin} in use`));
  }

  #bus(): OneWireDevice[] {
    if (this.#closed) throw new Error("OneWire closed");
    return this.#board.oneWire.get(this.#pin) ?? [];
  }

  /** Reset pulse; true when a chip answered with its presence pulse. */
  reset(): boolean {
    let present = false;
    for (const d of this.#bus()) if (d.reset()) present = true;
    return present;
  }

  /** Writes one byte. */
  write(byte: number): void {
    if (!(byte >= 0 && byte <= 255)) throw new RangeError("bad value");
    for (const d of this.#bus()) d.writeByte(byte);
  }

  /** One byte read, or `count` bytes in a new ArrayBuffer. */
  read(): number;
  read(count: number): ArrayBuffer;
  read(count?: number): number | ArrayBuffer {
    if (count === undefined) return this.#readByte();
    const out = new Uint8Array(count);
    for (let i = 0; i < count; i++) out[i] = this.#readByte();
    return out.buffer;
  }

  /** Reset, MATCH ROM and the 8-byte ROM code (as `search()` gives it: CRC byte first, family code last). */
  select(rom: ArrayBuffer | ArrayBufferView): void {
    const code = bytesView(rom);
    if (code.length !== 8) throw new RangeError("invalid id");
    this.reset();
    this.write(MATCH_ROM);
    for (let i = 7; i >= 0; i--) this.write(code[i]);
  }

  /** The ROM codes on the bus, each as Moddable gives them (CRC byte first); the chips are asked directly, not bit by bit. */
  search(): ArrayBuffer[] {
    const found: ArrayBuffer[] = [];
    for (const d of this.#bus()) {
      const rom = d.romCode?.();
      if (!rom || !d.reset()) continue;
      const flipped = new Uint8Array(8);
      for (let i = 0; i < 8; i++) flipped[i] = rom[7 - i];
      found.push(flipped.buffer);
    }
    return found;
  }

  close(): void {
    if (!this.#closed) release(this.#board, this.#pin, this.#boot);
    this.#closed = true;
  }

  /** Dallas/Maxim CRC-8 (x^8 + x^5 + x^4 + 1, reflected, initial 0) of `buffer`, or of its first `length` bytes. */
  static crc(buffer: ArrayBuffer | ArrayBufferView, length?: number): number {
    const bytes = bytesView(buffer);
    const n = length === undefined ? bytes.length : Math.min(length, bytes.length);
    let crc = 0;
    for (let i = 0; i < n; i++) {
      crc ^= bytes[i];
      for (let b = 0; b < 8; b++) crc = crc & 1 ? (crc >>> 1) ^ 0x8c : crc >>> 1;
    }
    return crc;
  }

  #readByte(): number {
    let v = 0xff;
    for (const d of this.#bus()) v &= d.readByte();
    return v;
  }
}
