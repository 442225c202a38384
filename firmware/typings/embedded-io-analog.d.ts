/**
 * `embedded:io/analog` as Moddable implements it on ESP32 (modules/io/analog/esp32).
 * Replaces @moddable/typings 5.6 embedded_io/analog.d.ts, which lacks `close()`
 * and the ESP32 `attenuation` / `calibrated` options. Module-style for the same
 * reason as embedded-io-i2c.d.ts.
 */
type PinSpecifier = number;

export interface AnalogOptions {
  pin: PinSpecifier;
  /** Bits of the result (ESP32: 9–12). */
  resolution?: number;
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
