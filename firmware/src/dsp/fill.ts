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

/** cos θ in Q14 for θ = 0..90 integer degrees (rounded). */
const COS_Q14 = [
  16384, 16382, 16374, 16362, 16344, 16322, 16294, 16262, 16225, 16182, 16135, 16083, 16026,
  15964, 15897, 15826, 15749, 15668, 15582, 15491, 15396, 15296, 15191, 15082, 14968, 14849,
  14726, 14598, 14466, 14330, 14189, 14044, 13894, 13741, 13583, 13421, 13255, 13085, 12911,
  12733, 12551, 12365, 12176, 11982, 11786, 11585, 11381, 11174, 10963, 10749, 10531, 10311,
  10087, 9860, 9630, 9397, 9162, 8923, 8682, 8438, 8192, 7943, 7692, 7438, 7182,
  6924, 6664, 6402, 6138, 5872, 5604, 5334, 5063, 4790, 4516, 4240, 3964, 3686,
  3406, 3126, 2845, 2563, 2280, 1997, 1713, 1428, 1143, 857, 572, 286, 0,
];

/** Longest distance `verticalMm` takes, mm: keeps distance·2^14 inside int32. */
export const VERTICAL_MAX_MM = 131071;

/**
 * The vertical part of a distance measured along an axis tilted `tiltDeg` (integer
 * degrees 0..90) from the vertical, mm: distanceMm·cos(tiltDeg), rounded half up,
 * cos from a Q14 table (error ≤ 0.5 mm + distance·2^-15). A distance sensor on a bin's
 * lid looks along that axis when the lid is propped open.
 * Throws RangeError outside 0..VERTICAL_MAX_MM or 0..90.
 */
export function verticalMm(distanceMm: number, tiltDeg: number): number {
  if (!(distanceMm >= 0 && distanceMm <= VERTICAL_MAX_MM && tiltDeg >= 0 && tiltDeg <= 90) || (distanceMm | 0) !== distanceMm || (tiltDeg | 0) !== tiltDeg) {
    throw new RangeError(`verticalMm needs integers 0..${VERTICAL_MAX_MM} mm and 0..90°, got ${distanceMm}, ${tiltDeg}`);
  }
  return (Math.imul(distanceMm, COS_Q14[tiltDeg]) + 8192) >> 14;
}
