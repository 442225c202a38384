/**
 * Simulator stand-in for `embedded:io/analog` as Moddable implements it on the ESP32
 * (modules/io/analog/esp32/_analog.c): a 12-bit reading of the pin's voltage, calibrated and scaled so that
 * 4095 is the attenuation's full scale (12 dB, the default: 2450 mV; 6 dB 1750, 2.5 dB 1250, 0 dB 950),
 * clipped there.
 */
import { currentBoard, type Board } from "../core/board.ts";

/** Full scale by attenuation (dB), mV. */
const FULL_SCALE_MV: { readonly [db: number]: number } = { 0: 950, 2.5: 1250, 6: 1750, 12: 2450 };

/** One ADC pin, `new Analog({ pin, attenuation? })`; `read()` gives 0..4095. */
export default class Analog {
  readonly resolution = 12;
  readonly #board: Board;
  readonly #pin: number;
  readonly #fullScaleMv: number;

  constructor(options: { pin: number; resolution?: number; attenuation?: number }) {
    this.#board = currentBoard();
    this.#pin = options.pin;
    const db = options.attenuation ?? 12;
    const mv = FULL_SCALE_MV[db];
    if (mv === undefined) throw new RangeError("bad attenuation");
    this.#fullScaleMv = mv;
  }

  /** Raw 12-bit conversion of the pin's voltage. */
  read(): number {
    const source = this.#board.analog.get(this.#pin);
    const mv = source ? source(this.#board.clock.nowMs) : 0;
    return Math.max(0, Math.min(4095, Math.round((mv * 4095) / this.#fullScaleMv)));
  }

  close(): void {}
}
