/**
 * Simulator stand-in for `embedded:io/analog` as Moddable implements it on the ESP32
 * (modules/io/analog/esp32/_analog.c): a 12-bit reading of the pin's voltage, calibrated and scaled so that
 * 4095 is the attenuation's full scale (12 dB, the default: 2450 mV; 6 dB 1750, 2.5 dB 1250, 0 dB 950),
 * clipped there. Options as Moddable reads them: `esp32: { attenuation }`. The calibration's line fit never
 * reads 0: about 142 mV at 12 dB for a grounded pin (ESP-IDF adc_cali_line_fitting's offset), and the model
 * floors readings there (CALIBRATED_FLOOR_MV).
 */
import { currentBoard, type Board } from "../core/board.ts";

/** What a grounded pin reads at 12 dB, mV: ESP-IDF's line-fitting offset for that attenuation. */
const CALIBRATED_FLOOR_MV = 142;

/** Full scale by attenuation (dB), mV. */
const FULL_SCALE_MV: { readonly [db: number]: number } = { 0: 950, 2.5: 1250, 6: 1750, 12: 2450 };

/** One ADC pin, `new Analog({ pin, attenuation? })`; `read()` gives 0..4095. */
export default class Analog {
  readonly resolution = 12;
  readonly #board: Board;
  readonly #pin: number;
  readonly #fullScaleMv: number;

  constructor(options: { pin: number; resolution?: number; esp32?: { attenuation?: number } }) {
    this.#board = currentBoard();
    this.#pin = options.pin;
    const db = options.esp32?.attenuation ?? 12;
    const mv = FULL_SCALE_MV[db];
    if (mv === undefined) throw new RangeError("bad attenuation");
    this.#fullScaleMv = mv;
  }

  /** Raw 12-bit conversion of the pin's voltage. */
  read(): number {
    const source = this.#board.analog.get(this.#pin);
    const mv = Math.max(CALIBRATED_FLOOR_MV, source ? source(this.#board.clock.nowMs) : 0);
    return Math.min(4095, Math.round((mv * 4095) / this.#fullScaleMv));
  }

  close(): void {}
}
