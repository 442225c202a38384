/**
 * What every node application needs from its surroundings besides sensors:
 * the link, clocks that survive deep sleep, the battery voltage and random
 * bits. The board's `main` builds it from real modules; tests build it from
 * the simulator's stand-ins (the same modules, aliased).
 */
import Time from "time";
import { rtcMs, unixMs, randomU32 } from "native:rtc";
import type { LinkPort } from "./link-port.ts";

/** The node's environment, apart from its sensors. */
export interface NodeRuntime {
  link: LinkPort;
  /** Seconds on the RTC since power-on (monotonic through deep sleep). */
  nowS(): number;
  /** Unix time in seconds, or -1 while the clock is unsynced. */
  unixS(): number;
  /** Sets the wall clock (from a setTime downlink). */
  setUnixS(seconds: number): void;
  /** Battery voltage in mV, or undefined on mains power (read once per boot: a wake lasts seconds). */
  batteryMv(): number | undefined;
  /** 32 random bits (hardware RNG). */
  random(): number;
}

/**
 * The runtime of one boot on the platform modules. A class rather than an
 * object of closures: one allocation per boot, and no function objects.
 */
class PlatformRuntime implements NodeRuntime {
  readonly link: LinkPort;
  readonly #readBattery: () => number | undefined;
  #battery: number | undefined;
  #read = false;

  constructor(link: LinkPort, batteryMv: () => number | undefined) {
    this.link = link;
    this.#readBattery = batteryMv;
  }

  nowS(): number {
    return Math.floor(rtcMs() / 1000);
  }

  unixS(): number {
    const ms = unixMs();
    return ms < 0 ? -1 : Math.floor(ms / 1000);
  }

  setUnixS(s: number): void {
    Time.set(s);
  }

  batteryMv(): number | undefined {
    // The reading serves the flags, the reading, alarms and the status of one wake: take the ADC once.
    if (!this.#read) {
      this.#battery = this.#readBattery();
      this.#read = true;
    }
    return this.#battery;
  }

  random(): number {
    return randomU32();
  }
}

/** A runtime on the platform modules (`time`, `native:rtc`) with the given link and battery reader. */
export function platformRuntime(link: LinkPort, batteryMv: () => number | undefined): NodeRuntime {
  return new PlatformRuntime(link, batteryMv);
}
