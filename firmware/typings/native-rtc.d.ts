/** native:rtc — clock and hardware randomness that survive deep sleep (firmware/native/rtc.c; simulator/src/platform/native-rtc.ts). */
declare module "native:rtc" {
  /** Milliseconds counted by the RTC since power-on, continuing through deep sleep. */
  export function rtcMs(): number;
  /** Wall-clock Unix time in ms, or -1 while it was never set (set it with Moddable's `Time.set`). */
  export function unixMs(): number;
  /** 32 random bits from the hardware RNG. */
  export function randomU32(): number;
}
