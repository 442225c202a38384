/** One boot of the air node: run a cycle, then deep-sleep until the next one. */
import { deepSleep, resetReason } from "native:sleep";
import { AirNode, type AirHardware } from "./air-node.ts";
import type { NodeRuntime } from "../runtime.ts";
import { nextSleepMs } from "../wake-timing.ts";

/** Runs one wake of the air node and deep-sleeps as `nextSleepMs` makes of its request: jittered, or a second when downlinks wait (on the board this call does not return). */
export function bootAir(hw: AirHardware, rt: NodeRuntime): void {
  const node = new AirNode(hw, rt, resetReason());
  deepSleep(nextSleepMs(node.cycle(), rt));
}
