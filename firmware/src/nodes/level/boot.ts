/**
 * One boot of a fill-level node: run a wake of `LevelNode` and go to deep
 * sleep, a pseudo-random delay later than the node asked, or a second when downlinks
 * wait to be applied (wake-timing.ts nextSleepMs), with
 * the LIS3DH INT1 line armed as an ext0 wake when the node asks for it. The
 * board's main builds the hardware and the runtime and calls this last.
 *
 * Nothing escapes: a wake that throws (a bug, an unexpected driver error) still
 * ends in deep sleep, FALLBACK_SLEEP_MS long, so the node can never stay awake
 * and drain its battery; the state of the failed wake is not kept, so the next
 * wake starts from the last good one.
 */
import { deepSleep, type DeepSleepOptions } from "native:sleep";
import { FALLBACK_SLEEP_MS, LevelNode, type LevelHardware, type LevelOptions, type LevelVariant } from "./level-node.ts";
import type { NodeRuntime } from "../runtime.ts";
import { nextSleepMs } from "../wake-timing.ts";

/** What a boot asked for (on the board `deepSleep` never returns; the simulator and tests read this). */
export interface LevelBoot {
  sleepMs: number;
  /** The armed pin wake, if any. */
  ext0: { pin: number; level: 0 | 1 } | undefined;
  /** The error that ended the wake early, if any. */
  error: unknown;
}

/** Runs one wake and sleeps; `options` are the manifest's build choices (`config.binDetector`, `config.emptyStepPct`). */
export function bootLevel(hw: LevelHardware, rt: NodeRuntime, variant: LevelVariant, options: LevelOptions = {}): LevelBoot {
  let sleepMs = FALLBACK_SLEEP_MS;
  let arm = false;
  let error: unknown;
  try {
    const node = new LevelNode(hw, rt, variant, options);
    sleepMs = nextSleepMs(node.cycle(), rt);
    arm = node.armMotionWake;
  } catch (e) {
    error = e;
  }
  try {
    hw.powerDown?.();
  } catch {
    // The rail switch failing must not keep the node awake.
  }
  const int1 = hw.accelInt1;
  const ext0 = arm && int1 ? { pin: int1.pin, level: int1.level } : undefined;
  const wake: DeepSleepOptions | undefined = ext0 ? { ext0 } : undefined;
  deepSleep(sleepMs, wake);
  return { sleepMs, ext0, error };
}
