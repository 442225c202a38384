/**
 * V8 garbage-collector setting for fleet runs (process-wide, so it covers the
 * shard workers too; it changes no result, only speed).
 *
 * Every wake re-runs a node's firmware from its entry point, so a run makes
 * millions of short-lived objects. V8's allocation-site pretenuring watches
 * young objects survive a scavenge (those of the wake in progress do) and
 * starts allocating those sites' objects straight into the old generation;
 * once dead there, they keep the young objects they point to alive through
 * the remembered set, which then survive and get promoted too. Measured on
 * 100 water nodes × 1 day: about half of each scavenge survived and scavenges
 * took ~15 % of the run; with pretenuring off, under 1 % survives.
 */
import { setFlagsFromString } from "node:v8";

let tuned = false;

/** Turns off allocation-site pretenuring once per process (V8 reads the flag at each GC). */
export function tuneGcForFleet(): void {
  if (tuned) return;
  tuned = true;
  setFlagsFromString("--no-allocation-site-pretenuring");
}
