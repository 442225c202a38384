/**
 * Keeps a fleet's transmissions apart, as the LoRa Alliance's TR007
 * ("Developing LoRaWAN Devices", §4.7 Avoiding Synchronous Behavior) asks of
 * every end-device: a pseudo-random delay on periodic transmissions, from a
 * truly random seed. Without it, nodes switched on in the same minute (a batch
 * on installation day) report in the same seconds at every period, for as long
 * as their RTCs agree, and collide every time.
 *
 * Two parts. A node on a sampling grid shifts the grid by a phase drawn from
 * the hardware RNG at its cold start and kept in RTC memory (`drawPhaseS`,
 * `gridAfter`). Every node adds a fresh delay to each timed deep sleep
 * (`jitteredSleepMs`), so two nodes that drew close phases do not meet at
 * every period either. Both only ever make a wake later, never earlier, so no
 * schedule check misses its time.
 */
import type { NodeRuntime } from "./runtime.ts";

/** The hardware RNG, as the node's runtime offers it. */
type Rng = Pick<NodeRuntime, "random">;

/** Largest delay `jitteredSleepMs` adds, ms. */
export const MAX_JITTER_MS = 30_000;
/** Phases are drawn in [0, PHASE_RANGE_S): every grid period a node uses divides an hour. */
export const PHASE_RANGE_S = 3600;

/** The most `jitteredSleepMs` adds to `sleepMs`: a sixteenth of it, at most MAX_JITTER_MS (short sleeps stay short). */
export function jitterSpanMs(sleepMs: number): number {
  return sleepMs >= MAX_JITTER_MS * 16 ? MAX_JITTER_MS : Math.floor(sleepMs / 16);
}

/** How soon a node wakes again when its flush received downlinks: it applies them at the start of a wake. */
export const DOWNLINK_WAKE_MS = 1000;

/**
 * The deep sleep after a wake: the one the node asked for, or DOWNLINK_WAKE_MS when its link holds downlinks
 * to apply (a valve command or new thresholds then act within seconds, not a sleep later), jittered.
 */
export function nextSleepMs(sleepMs: number, rt: Pick<NodeRuntime, "random" | "link">): number {
  return jitteredSleepMs(rt.link.downlinksWaiting() > 0 && sleepMs > DOWNLINK_WAKE_MS ? DOWNLINK_WAKE_MS : sleepMs, rt);
}

/** `sleepMs` plus a pseudo-random delay in [0, jitterSpanMs(sleepMs)]. */
export function jitteredSleepMs(sleepMs: number, rng: Rng): number {
  return sleepMs + ((rng.random() >>> 0) % (jitterSpanMs(sleepMs) + 1));
}

/** A phase for the node's grids, in [0, PHASE_RANGE_S) s, from the hardware RNG (drawn once per cold start). */
export function drawPhaseS(rng: Rng): number {
  return (rng.random() >>> 0) % PHASE_RANGE_S;
}

/** The last instant at or before `t` on the grid of `period` shifted by `phase` (any one unit: RTC s, ULP minutes). */
export function gridAtOrBefore(t: number, period: number, phase: number): number {
  let into = (t - phase) % period;
  if (into < 0) into += period;
  return t - into;
}

/** The first instant after `t` on the grid of `period` shifted by `phase`. */
export function gridAfter(t: number, period: number, phase: number): number {
  return gridAtOrBefore(t, period, phase) + period;
}
