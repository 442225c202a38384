/** Simulator stand-in for `embedded:io/analog`: a 12-bit ESP32 ADC reading the board's analog input (0–3300 mV, 11 dB attenuation). */
import { currentBoard, type Board } from "../core/board.ts";

/** One ADC pin, `new Analog({ pin })`; `read()` gives 0..4095. */
export default class Analog {
  readonly resolution = 12;
  readonly #board: Board;
  readonly #pin: number;

  constructor(options: { pin: number; resolution?: number }) {
    this.#board = currentBoard();
    this.#pin = options.pin;
  }

  /** Raw 12-bit conversion of the pin's voltage. */
  read(): number {
    const source = this.#board.analog.get(this.#pin);
    const mv = source ? source(this.#board.clock.nowMs) : 0;
    return Math.max(0, Math.min(4095, Math.round((mv * 4095) / 3300)));
  }

  close(): void {}
}
