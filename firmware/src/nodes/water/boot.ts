/** One boot of the water node: run a cycle, then deep-sleep until the next one (or until the override switch moves). */
import Time from "time";
import { deepSleep, resetReason } from "native:sleep";
import { WaterNode, type LeakDetector, type WaterHardware } from "./water-node.ts";
import type { NodeRuntime } from "../runtime.ts";
import { nextSleepMs } from "../wake-timing.ts";

/** Build-time settings of a water node (the manifest's config). */
export interface WaterSettings {
  /** Leak detector: the night rules or the int8 model (default: water-node.ts DEFAULT_LEAK_DETECTOR). */
  leakDetector?: LeakDetector;
}

/** Runs one wake of the water node and deep-sleeps as `nextSleepMs` makes of its request: jittered, or a second when downlinks wait (on the board this call does not return). */
export function bootWater(hw: WaterHardware, rt: NodeRuntime, settings: WaterSettings = {}): void {
  const node = new WaterNode(hw, rt, { resetReason: resetReason(), utcOffsetS: Time.timezone + Time.dst, leakDetector: settings.leakDetector });
  const ms = nextSleepMs(node.cycle(), rt);
  const o = hw.overrideWake;
  if (o && hw.override && hw.valve) {
    // Level-triggered: wake on the level the switch is not at now, so turning it either way wakes the node.
    // ext1 with the one pin, not ext0: on the ESP32, ext0 and the ULP's wake cannot be armed together
    // (esp_sleep_enable_ext0_wakeup refuses while the ULP trigger is set: "Conflicting wake-up triggers").
    const active = o.activeLevel;
    const level = node.overrideActive ? (active ? 0 : 1) : active;
    deepSleep(ms, { ext1: { pins: [o.pin], mode: level ? "any-high" : "any-low" } });
  } else {
    deepSleep(ms);
  }
}
