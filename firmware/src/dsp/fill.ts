// Fill level of a bin or drain from a downward-looking distance sensor: the surface
// rises towards the sensor as the container fills.
import { divRound } from "./q.ts";

/** Largest supported depth in mm; keeps 200·depth inside int32. */
export const FILL_MAX_DEPTH_MM = 10000000;

/**
 * Fill in half-percent units 0..200 (0.5 % resolution) from distanceMm (sensor to
 * surface), depthMm (sensor to empty bottom) and fullMm (sensor to the full line,
 * at least the sensor's blind zone; 0 ≤ fullMm < depthMm ≤ 10,000,000):
 * 200·(depthMm − distanceMm)/(depthMm − fullMm), clamped to 0..200 and rounded half
 * up. Error against the float formula ≤ 0.5 unit (correctly rounded).
 * Throws RangeError for an impossible geometry.
 */
export function fillHalfPercent(distanceMm: number, depthMm: number, fullMm: number): number {
  if (!(fullMm >= 0 && depthMm > fullMm && depthMm <= FILL_MAX_DEPTH_MM)) {
    throw new RangeError(`fill geometry needs 0 ≤ fullMm < depthMm ≤ ${FILL_MAX_DEPTH_MM}, got ${fullMm}, ${depthMm}`);
  }
  if (distanceMm <= fullMm) return 200;
  if (distanceMm >= depthMm) return 0;
  return divRound(Math.imul(depthMm - distanceMm, 200), depthMm - fullMm);
}
