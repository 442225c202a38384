/** Simulator stand-in for `embedded:io/digital`: pin levels live on the current board. */
import { currentBoard, driveOutput, hold, release, resetPad, type Board } from "../core/board.ts";

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
    // Moddable: "in use" (a RangeError here) for a pin another instance holds, until it is closed or the chip resets.
    this.#boot = hold(this.#board, options.pin, () => new RangeError(`pin ${options.pin} in use`));
    if (!this.#board.pins.has(this.#pin)) this.#board.pins.set(this.#pin, options.mode === Digital.InputPullUp ? 1 : 0);
  }

  /** Current level, 0 or 1. */
  read(): number {
    return this.#board.pins.get(this.#pin) ? 1 : 0;
  }

  /** Drives an output pin. */
  write(value: number): void {
    if (this.#mode < Digital.Output) throw new Error(`pin ${this.#pin} is an input`);
    // Open drain: 1 lets go of the line, and its pull-up (outside the chip) holds it high, as it does asleep.
    driveOutput(this.#board, this.#pin, value ? 1 : 0, this.#mode === Digital.OutputOpenDrain ? 1 : 0);
  }

  /** Frees the pin. An output's pad is reset as Moddable's ESP32 close does (gpio_reset_pin): undriven, pulled up (`resetPad`). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    release(this.#board, this.#pin, this.#boot);
    if (this.#mode >= Digital.Output) resetPad(this.#board, this.#pin);
  }
}
