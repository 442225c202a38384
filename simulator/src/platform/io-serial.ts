/**
 * Simulator stand-in for ECMA-419 `embedded:io/serial` (buffer format), wired to the emulated device on `port`.
 *
 * As Moddable's ESP32 implementation (modules/io/serial/esp32/serial.c), it reads and writes the UART's
 * hardware FIFOs directly, 128 bytes each: bytes that arrive while the receive FIFO is full are lost, a
 * write that does not fit the transmit FIFO's free space throws "output full" (it drains at the baud
 * rate), and the UART starts empty when it is opened (what arrived before, while the CPU slept, is gone).
 */
import { currentBoard, hold, release, type Board } from "../core/board.ts";
import { bytesView } from "./bytes.ts";

type Buffer = ArrayBuffer | ArrayBufferView;

/** Bytes in each of the ESP32's (and ESP32-S3's) UART FIFOs. */
export const UART_FIFO_BYTES = 128;

/** A UART, opened as on Moddable: `new Serial({ receive, transmit, baud, port, format: "buffer" })`. */
export default class Serial {
  readonly #board: Board;
  readonly #port: number;
  readonly #baud: number;
  #closed = false;
  /** The GPIOs it holds, and the boot that took them. */
  readonly #pins: number[] = [];
  readonly #boot: number;
  /** When the transmit FIFO will have shifted out what was written (virtual ms). */
  #txDrainedMs = 0;
  readonly resolution = 8;

  constructor(options: { receive?: number; transmit?: number; baud: number; port?: number; format?: "number" | "buffer" }) {
    if (!(options.baud > 0)) throw new RangeError("invalid baud");
    this.#board = currentBoard();
    this.#boot = this.#board.bootSerial;
    // Moddable: "in use" for a pin another instance holds (until it is closed or the chip resets).
    for (const pin of [options.transmit, options.receive]) {
      if (pin === undefined || this.#pins.includes(pin)) continue;
      hold(this.#board, pin, () => new Error(`pin ${pin} in use`));
      this.#pins.push(pin);
    }
    this.#port = options.port ?? 1;
    this.#baud = options.baud;
    this.#rx()?.dropUntil(this.#board.clock.nowMs);
  }

  get format(): "buffer" {
    return "buffer";
  }
  set format(_value: "number" | "buffer") {}

  #rx() {
    return this.#board.serialRx.get(this.#port);
  }

  /**
   * Bytes that have arrived by now: all of them in a new ArrayBuffer, or, given a
   * buffer, as many as fit copied into it with their count returned (as Moddable's
   * ESP32 `xs_serial_read` does: no allocation); undefined when none. Given a count,
   * as the ESP32 does too: that many bytes whatever arrived, junk past it.
   */
  read(byteLength?: number): ArrayBuffer | undefined;
  read(into: Buffer): number | undefined;
  read(what?: number | Buffer): ArrayBuffer | number | undefined {
    if (this.#closed) throw new Error("serial closed");
    const rx = this.#rx();
    if (!rx) return undefined;
    const available = rx.arrived(this.#board.clock.nowMs, UART_FIFO_BYTES);
    const { bytes, head } = rx;
    if (available === 0) return undefined;
    const into = typeof what === "object" ? what : undefined;
    const count = typeof what === "number" ? what : undefined;
    if (count !== undefined && !(count > 0)) throw new Error("invalid");
    const room = into ? into.byteLength : (count ?? available);
    const n = room < available ? room : available;
    if (n === 0) return undefined;
    let out: Uint8Array;
    let buffer: ArrayBuffer | undefined;
    if (into) out = bytesView(into);
    // Moddable's ESP32 read(count) (serial.c) reads `count` bytes from the FIFO register whatever it holds: past
    // what arrived they are junk (zeros here). Into an ArrayBuffer made up front: `.buffer` of a small typed
    // array makes V8 move it off its heap.
    else out = new Uint8Array((buffer = new ArrayBuffer(count ?? n)));
    for (let i = 0; i < n; i++) out[i] = bytes[head + i];
    rx.drop(n);
    return buffer ?? n;
  }

  /** Transmits bytes to the device. A mismatched baud rate garbles them, as on a real wire. */
  write(value: number | Buffer): void {
    if (this.#closed) throw new Error("serial closed");
    const n = typeof value === "number" ? 1 : value.byteLength;
    const now = this.#board.clock.nowMs;
    const bytesPerMs = this.#baud / 10_000;
    const queued = this.#txDrainedMs > now ? Math.ceil((this.#txDrainedMs - now) * bytesPerMs) : 0;
    if (n > UART_FIFO_BYTES - queued) throw new Error("output full");
    this.#txDrainedMs = Math.max(now, this.#txDrainedMs) + n / bytesPerMs;
    const device = this.#board.serial.get(this.#port);
    if (!device) return; // nothing on the wire: bytes vanish
    // A view of the caller's bytes: devices copy what they keep (see SerialDevice).
    device.serialWrite(typeof value === "number" ? Uint8Array.of(value & 0xff) : bytesView(value), this.#baud);
  }

  /** Discards bytes not yet read. */
  flush(): void {
    this.#rx()?.clear();
  }

  close(): void {
    if (!this.#closed) for (const pin of this.#pins) release(this.#board, pin, this.#boot);
    this.#closed = true;
  }
}
