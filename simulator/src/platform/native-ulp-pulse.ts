/**
 * Simulator stand-in for `native:ulp-pulse` (firmware/native/ulp-pulse.c): the
 * ESP32's ULP co-processor counting meter pulses on an RTC GPIO through deep
 * sleep, where the PCNT peripheral is powered down. It offers the same API as
 * `embedded:io/pulsecount` (a 16-bit wrapping count), but its count lives in
 * RTC memory: it survives every wake and is lost only with the power.
 */
import { currentBoard, type Board } from "../core/board.ts";

interface Counter {
  /** Pulses already counted before the count was last cleared. */
  base: number;
  /** `board.powerCuts` when the count started: a later power cut clears it. */
  powerOn: number;
}

const counters = new WeakMap<Board, Map<number, Counter>>();

function total(board: Board, pin: number): number {
  const source = board.pulses.get(pin);
  return source ? source.pulsesUntil(board.clock.nowMs) : 0;
}

/** A pulse counter kept by the ULP: `new UlpPulseCount({ signal })`; `read()` gives the 16-bit wrapping count. */
export default class UlpPulseCount {
  readonly #board: Board;
  readonly #pin: number;
  readonly #counter: Counter;

  constructor(options: { signal: number; filter?: number; debounceUs?: number }) {
    this.#board = currentBoard();
    this.#pin = options.signal;
    let byPin = counters.get(this.#board);
    if (!byPin) counters.set(this.#board, (byPin = new Map()));
    let c = byPin.get(this.#pin);
    // The ULP program starts counting at power-on (approximated by its first use after one), and a power cut clears it.
    if (!c || c.powerOn !== this.#board.powerCuts) byPin.set(this.#pin, (c = { base: total(this.#board, this.#pin), powerOn: this.#board.powerCuts }));
    this.#counter = c;
  }

  /** The count, wrapping in the signed 16-bit range like a PCNT unit. */
  read(): number {
    const n = (total(this.#board, this.#pin) - this.#counter.base) & 0xffff;
    return n >= 0x8000 ? n - 0x10000 : n;
  }

  /** Sets the count (0 clears it). */
  write(value: number): void {
    this.#counter.base = total(this.#board, this.#pin) - value;
  }

  close(): void {}
}
