/**
 * `embedded:io/analog` as Moddable implements it on ESP32 (modules/io/analog/esp32).
 * Replaces @moddable/typings 5.6 embedded_io/analog.d.ts, which lacks `close()`
 * and the ESP32 `esp32: { attenuation, calibrated }` options (added here). Module-style for the same
 * reason as embedded-io-i2c.d.ts.
 */
type PinSpecifier = number;

export interface AnalogOptions {
  pin: PinSpecifier;
  /** Bits of the result (ESP32: 9–12). */
  resolution?: number;
  /** ESP32 options (modules/io/analog/esp32/_analog.c reads them only here, not at the top level). */
  esp32?: {
    /** Input attenuation, dB: 0, 2.5, 6 or 12 (the default); it sets the full scale, 950, 1250, 1750 or 2450 mV. */
    attenuation?: 0 | 2.5 | 6 | 12;
    /** Calibrated reading (default true): the raw value is the calibrated millivolts scaled to the attenuation's full scale. */
    calibrated?: boolean;
  };
  onReadable?: (this: Analog) => void;
  format?: "number";
  target?: unknown;
}

export default class Analog {
  constructor(options: AnalogOptions);
  /** Raw reading, 0 … 2^resolution − 1. */
  read(): number;
  readonly resolution: number;
  close(): void;
  get format(): "number";
  set format(value: "number");
}
