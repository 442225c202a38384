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

/** A runtime on the platform modules (`time`, `native:rtc`) with the given link and battery reader. */
export function platformRuntime(link: LinkPort, batteryMv: () => number | undefined): NodeRuntime {
  let battery: number | undefined;
  let read = false;
  return {
    link,
    nowS: () => Math.floor(rtcMs() / 1000),
    unixS: () => {
      const ms = unixMs();
      return ms < 0 ? -1 : Math.floor(ms / 1000);
    },
    setUnixS: (s: number) => Time.set(s),
    batteryMv: () => {
      // The reading serves the flags, the reading, alarms and the status of one wake: take the ADC once.
      if (!read) {
        battery = batteryMv();
        read = true;
      }
      return battery;
    },
    random: randomU32,
  };
}
