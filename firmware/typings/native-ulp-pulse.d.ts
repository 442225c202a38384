/**
 * native:ulp-pulse — a pulse counter run by the ESP32's ULP co-processor, so
 * meter pulses are counted through deep sleep (the PCNT unit is powered down
 * then). Same API as `embedded:io/pulsecount`: read() is a 16-bit wrapping count.
 */
declare module "native:ulp-pulse" {
  export default class UlpPulseCount {
    constructor(options: { signal: number; filter?: number; debounceUs?: number });
    /** The count, wrapping in the signed 16-bit range. */
    read(): number;
    /** Sets the count (0 clears it). */
    write(value: number): void;
    close(): void;
  }
}
