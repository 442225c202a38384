/**
 * Simulator stand-in for ECMA-419 `embedded:io/i2c`: talks to the emulated chip at `address` on the current board.
 * As Moddable's ESP32 I2C (modules/io/i2c/esp32/_i2c.c), it needs `data`, `clock` and `address`, and refuses a
 * second open instance for the same pins and address ("duplicate address") until the first is closed.
 */
import { BusError, currentBoard, hold, i2cKey, release, type Board } from "../core/board.ts";
import { bytesView } from "./bytes.ts";

type Buffer = ArrayBuffer | ArrayBufferView;

/** One I2C target, opened as on Moddable: `new I2C({ data, clock, hz, address })`. */
export default class I2C {
  readonly #board: Board;
  readonly #address: number;
  readonly #key: number;
  /** The boot that opened it: a handle kept past a deep sleep closes nothing of a later boot's. */
  readonly #boot: number;
  #closed = false;
  readonly resolution = 8;

  constructor(options: { data?: number; clock?: number; hz: number; address: number; port?: number; format?: "buffer" }) {
    if (options.data === undefined) throw new RangeError("data required");
    if (options.clock === undefined) throw new RangeError("clock required");
    if (!(options.address >= 0 && options.address <= 0x7f)) throw new RangeError("invalid I2C address");
    if (!(options.hz > 0)) throw new RangeError("invalid hz");
    this.#board = currentBoard();
    this.#address = options.address;
    this.#key = i2cKey(options.data, options.clock, options.address);
    this.#boot = hold(this.#board, this.#key, () => new RangeError("duplicate address"));
  }

  get format(): "buffer" {
    return "buffer";
  }
  set format(_value: "buffer") {}

  #device() {
    if (this.#closed) throw new Error("I2C closed");
    const device = this.#board.i2c.get(this.#address);
    if (!device) throw new BusError(`I2C NACK: no device at 0x${this.#address.toString(16)}`);
    return device;
  }

  /** Writes bytes; throws on NACK. */
  write(value: Buffer, stop = true): void {
    // A view of the caller's buffer: devices copy what they keep (see I2CDevice).
    this.#device().i2cWrite(bytesView(value), stop);
  }

  /**
   * Reads `byteLength` bytes into a new ArrayBuffer, or fills `buffer` and returns
   * its length (as Moddable's ESP32 `_xs_i2c_read` does: no allocation, which the
   * drivers rely on to stay allocation-free per read); throws on NACK.
   */
  read(what: number, stop?: boolean): ArrayBuffer;
  read(what: Buffer, stop?: boolean): number;
  read(what: number | Buffer, stop = true): ArrayBuffer | number {
    // Into the caller's buffer, as the chip's bytes land on the ESP32: no copy, and no allocation when it gives one.
    const into = typeof what === "number" ? new Uint8Array(what) : bytesView(what);
    const count = into.length;
    if (this.#device().i2cRead(into, stop) !== count) throw new BusError("I2C short read");
    return typeof what === "number" ? (into.buffer as ArrayBuffer) : count;
  }

  /** Releases the bus. */
  close(): void {
    if (!this.#closed) release(this.#board, this.#key, this.#boot);
    this.#closed = true;
  }
}
