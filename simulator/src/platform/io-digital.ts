/** Simulator stand-in for `embedded:io/digital`: pin levels live on the current board. */
import { claimPin, currentBoard, releasePin, type Board } from "../core/board.ts";

/** One GPIO, `new Digital({ pin, mode })`. */
export default class Digital {
  static readonly Input = 0;
  static readonly InputPullUp = 1;
  static readonly InputPullDown = 2;
  static readonly InputPullUpDown = 3;
  static readonly Output = 8;
  static readonly OutputOpenDrain = 9;
  readonly #board: Board;
  readonly #pin: number;
  readonly #mode: number;
  readonly #boot: number;
  #closed = false;

  constructor(options: { pin: number; mode: number }) {
    this.#board = currentBoard();
    this.#pin = options.pin;
    this.#mode = options.mode;
    this.#boot = this.#board.bootSerial;
    // Moddable: "in use" for a pin another instance holds (until it is closed or the chip resets).
    claimPin(this.#board, options.pin, RangeError);
    if (!this.#board.pins.has(this.#pin)) this.#board.pins.set(this.#pin, options.mode === Digital.InputPullUp ? 1 : 0);
  }

  /** Current level, 0 or 1. */
  read(): number {
    return this.#board.pins.get(this.#pin) ? 1 : 0;
  }

  /** Drives an output pin. */
  write(value: number): void {
    if (this.#mode < Digital.Output) throw new Error(`pin ${this.#pin} is an input`);
    this.#board.pins.set(this.#pin, value ? 1 : 0);
  }

  close(): void {
    if (!this.#closed) releasePin(this.#board, this.#pin, this.#boot);
    this.#closed = true;
  }
}
