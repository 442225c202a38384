/**
 * `embedded:io/pulsecount` as Moddable implements it on ESP32
 * (modules/io/pulsecount/esp32): a quadrature PCNT unit. Replaces
 * @moddable/typings 5.6 embedded_io/pulsecount.d.ts, which makes `control`
 * mandatory and lacks `filter` and `close()`. Module-style for the same reason
 * as embedded-io-i2c.d.ts.
 *
 * On ESP32 `read()` returns the running count (the hardware counter is
 * ±32767; the driver widens it); the PCNT does not count in deep sleep.
 */
type PinSpecifier = number;

export interface PulseCountOptions {
  /** Input whose edges are counted. */
  signal: PinSpecifier;
  /** Optional direction input (quadrature); omit for a plain pulse counter. */
  control?: PinSpecifier;
  /** Glitch filter in ns: pulses shorter than this are ignored (ESP32 default 1000, hardware maximum ≈ 12 787). */
  filter?: number;
  /** Called when the count changes. */
  onReadable?: (this: PulseCount) => void;
  onError?: (this: PulseCount, error: Error) => void;
  format?: "number";
  target?: unknown;
}

export default class PulseCount {
  constructor(options: PulseCountOptions);
  read(): number;
  /** Sets the count (ESP32: the base the count is reported against). */
  write(count: number): void;
  close(): void;
  get format(): "number";
  set format(value: "number");
}
