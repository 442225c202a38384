/**
 * `native:sleep` — deep sleep with RTC-retained state on ESP32 / ESP32-S3.
 *
 * On the board: firmware/native/sleep.c + sleep.js (XS in C, ESP-IDF).
 * In the simulator: simulator/src/platform/native-sleep.ts, which keeps the
 * same contract on the current simulated board.
 */
declare module "native:sleep" {
  /** Most bytes `retain()` keeps in RTC memory. */
  export const RETAIN_MAX: number;

  /** Pull resistor enabled on a wake pin while asleep ("none" when the board has its own). */
  export type WakePull = "up" | "down" | "none";

  /** Single-pin wake (ESP32 ext0): wakes when `pin` reads `level`. Keeps the RTC peripherals powered (a few µA). */
  export interface Ext0Wake {
    pin: number;
    level: 0 | 1;
    pull?: WakePull;
  }

  /**
   * Multi-pin wake (ext1): "any-high" on both chips; "all-low" on ESP32 only,
   * "any-low" on ESP32-S2/S3 only (with a single pin the two are the same).
   */
  export interface Ext1Wake {
    pins: readonly number[];
    mode?: "any-high" | "all-low" | "any-low";
    pull?: WakePull;
  }

  export interface DeepSleepOptions {
    ext0?: Ext0Wake;
    ext1?: Ext1Wake;
    /**
     * Output pins latched at their present level while asleep (e.g. the sensor
     * power rail kept on through a 30 s SEN55 warm-up). They stay latched after
     * the wake until `releaseHold()`.
     */
    hold?: readonly number[];
  }

  /** `esp_reset_reason()` by name; "deep-sleep" means this boot is a wake from deep sleep. */
  export type ResetReason =
    | "unknown" | "power-on" | "external" | "software" | "panic" | "interrupt-watchdog"
    | "task-watchdog" | "watchdog" | "deep-sleep" | "brownout" | "sdio" | "usb" | "jtag"
    | "efuse" | "power-glitch" | "cpu-lockup";

  /** What ended the last deep sleep; "none" when this boot was not a wake from deep sleep. */
  export type WakeCause = "timer" | "ext0" | "ext1" | "ulp" | "other" | "none";

  /**
   * Enters deep sleep for `ms` milliseconds (0: no timer, only the wake pins).
   * On the board this never returns: the chip resets on wake and the app runs
   * from the start. The simulator records the wake time and returns, so call it
   * last and return right after it. Throws RangeError on an invalid pin, mode or
   * duration, or when no wake source is given.
   */
  export function deepSleep(ms: number, options?: DeepSleepOptions): void;

  /** Releases pins held through the last deep sleep, so they can be driven again. */
  export function releaseHold(pins: readonly number[]): void;

  /** Copies `bytes` (at most RETAIN_MAX) into RTC memory with its length and a CRC-32. */
  export function retain(bytes: ArrayBuffer | ArrayBufferView): void;

  /**
   * The bytes last retained, as a fresh ArrayBuffer; undefined after a power
   * cut, brown-out, first boot, or any reset other than a wake from deep sleep.
   */
  export function retained(): ArrayBuffer | undefined;

  /** Forgets the retained bytes. */
  export function clearRetained(): void;

  export function resetReason(): ResetReason;

  export function wakeCause(): WakeCause;

  /** GPIOs that woke the chip (ext0/ext1); empty for a timer wake or a cold boot. */
  export function wakePins(): number[];
}
