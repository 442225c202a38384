/**
 * Simulator stand-in for `embedded:io/pulsecount` as on Moddable's ESP32 port:
 * a PCNT unit whose hardware count is a signed 16-bit value that wraps, so the
 * driver has to handle wrap-around. It keeps counting while the CPU sleeps, as
 * the ULP co-processor does on the real board.
 */
import { currentBoard, type Board } from "../core/board.ts";

/** Pulse counter on `signal`; `read()` gives the 16-bit hardware count. */
export default class PulseCount {
  readonly #board: Board;
  readonly #pin: number;
  #base = 0;
  #closed = false;
  /** Glitch filter in ns (ESP32 PCNT: at most 1023 APB cycles, about 12.8 µs). */
  readonly filterNs: number;

  constructor(options: { signal: number; control?: number; filter?: number }) {
    this.#board = currentBoard();
    this.#pin = options.signal;
    this.filterNs = options.filter ?? 1000;
    this.#base = this.#total();
  }

  #total(): number {
    const source = this.#board.pulses.get(this.#pin);
    return source ? source.pulsesUntil(this.#board.clock.nowMs) : 0;
  }

  /** The hardware count, wrapping in the signed 16-bit range. */
  read(): number {
    if (this.#closed) throw new Error("pulsecount closed");
    const n = (this.#total() - this.#base) & 0xffff;
    return n >= 0x8000 ? n - 0x10000 : n;
  }

  /** Sets the count (only 0 is meaningful on ESP32). */
  write(value: number): void {
    this.#base = this.#total() - value;
  }

  close(): void {
    this.#closed = true;
  }
}
