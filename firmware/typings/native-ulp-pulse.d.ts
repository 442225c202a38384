/**
 * native:ulp-pulse — a pulse counter run by the ESP32's ULP co-processor, so
 * meter pulses are counted through deep sleep (the PCNT unit is powered down
 * then). Same API as `embedded:io/pulsecount`: read() is a 16-bit wrapping
 * count. The program also keeps the count at the end of each minute in a ring
 * of RING_MINUTES words and can wake the CPU on a minute count (see ulp-pulse.c).
 */
declare module "native:ulp-pulse" {
  /** Minutes the ring holds. */
  export const RING_MINUTES: number;
  export default class UlpPulseCount {
    constructor(options: { signal: number; filter?: number; debounceUs?: number });
    /** The count, wrapping in the signed 16-bit range. */
    read(): number;
    /** Sets the count (0 clears it). */
    write(value: number): void;
    /**
     * Copies the counts (0..65535) at the ends of the minutes ended since the
     * last call, oldest first, into `into` (at most RING_MINUTES), and returns
     * how many minutes ended: more than were copied when the ring overflowed.
     */
    minutes(into: Int32Array): number;
    /** The count (0..65535) at the start of the minute under way. */
    minuteStart(): number;
    /** Milliseconds since the last minute ended. */
    msIntoMinute(): number;
    /** Wakes the CPU from the coming deep sleep `minutes` minutes after the ring was last taken, or at the end of a minute with at least `burstPulses` pulses (0 switches either off). */
    wakeOn(wake: { minutes: number; burstPulses: number }): void;
    close(): void;
  }
}
