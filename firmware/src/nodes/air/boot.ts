/** One boot of the air node: run a cycle, then deep-sleep until the next one. */
import { deepSleep, resetReason } from "native:sleep";
import { AirNode, type AirHardware, type AirOptions } from "./air-node.ts";
import type { NodeRuntime } from "../runtime.ts";
import { nextSleepMs } from "../wake-timing.ts";

/**
 * Runs one wake of the air node and deep-sleeps as `nextSleepMs` makes of its request: jittered, or a second when
 * downlinks wait, holding the PM sensor's rail on when the node keeps it on (on the board this call does not return).
 */
export function bootAir(hw: AirHardware, rt: NodeRuntime, options: AirOptions = {}): void {
  const node = new AirNode(hw, rt, resetReason(), options);
  const ms = nextSleepMs(node.cycle(), rt);
  if (hw.pmRail && node.railOn) deepSleep(ms, { hold: [hw.pmRail.pin] });
  else deepSleep(ms);
}
