/** Simulator stand-in for ECMA-419 `embedded:io/serial` (buffer format), wired to the emulated device on `port`. */
import { currentBoard, type Board } from "../core/board.ts";
import { bytesView } from "./bytes.ts";

type Buffer = ArrayBuffer | ArrayBufferView;

/** A UART, opened as on Moddable: `new Serial({ receive, transmit, baud, port, format: "buffer" })`. */
export default class Serial {
  readonly #board: Board;
  readonly #port: number;
  readonly #baud: number;
  #closed = false;
  readonly resolution = 8;

  constructor(options: { receive?: number; transmit?: number; baud: number; port?: number; format?: "number" | "buffer" }) {
    if (!(options.baud > 0)) throw new RangeError("invalid baud");
    this.#board = currentBoard();
    this.#port = options.port ?? 1;
    this.#baud = options.baud;
  }

  get format(): "buffer" {
    return "buffer";
  }
  set format(_value: "number" | "buffer") {}

  #rx() {
    return this.#board.serialRx.get(this.#port);
  }

  /**
   * Bytes that have arrived by now: up to `byteLength` (all if omitted) in a new
   * ArrayBuffer, or, given a buffer, copied into it with their count returned (as
   * Moddable's ESP32 `xs_serial_read` does: no allocation); undefined when none.
   */
  read(byteLength?: number): ArrayBuffer | undefined;
  read(into: Buffer): number | undefined;
  read(what?: number | Buffer): ArrayBuffer | number | undefined {
    if (this.#closed) throw new Error("serial closed");
    const rx = this.#rx();
    if (!rx) return undefined;
    const now = this.#board.clock.nowMs;
    const { times, bytes, head } = rx;
    const into = typeof what === "object" ? what : undefined;
    const room = into ? into.byteLength : typeof what === "number" ? what : rx.length;
    const max = room < rx.length ? room : rx.length;
    let n = 0;
    while (n < max && times[head + n] <= now) n++;
    if (n === 0) return undefined;
    let out: Uint8Array;
    let buffer: ArrayBuffer | undefined;
    if (into) out = bytesView(into);
    // Into an ArrayBuffer made up front: `.buffer` of a small typed array makes V8 move it off its heap.
    else out = new Uint8Array((buffer = new ArrayBuffer(n)));
    for (let i = 0; i < n; i++) out[i] = bytes[head + i];
    rx.drop(n);
    return buffer ?? n;
  }

  /** Transmits bytes to the device. A mismatched baud rate garbles them, as on a real wire. */
  write(value: number | Buffer): void {
    if (this.#closed) throw new Error("serial closed");
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
    this.#closed = true;
  }
}
