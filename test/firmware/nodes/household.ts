/** A scripted household's water use, for the water node's tests: the same uses every day. */

const DAY_MS = 86_400_000;
const MINUTE_MS = 60_000;

/** One daily use: from minute `fromMin` of the day, for `durMin` minutes, at `lMin` L/min. */
export type WaterUse = readonly [fromMin: number, durMin: number, lMin: number];

/** The household's flow at virtual time `t` (ms from a midnight), L/min: the sum of the uses under way. */
export function dailyFlow(uses: readonly WaterUse[], t: number): number {
  const m = (t % DAY_MS) / MINUTE_MS;
  let f = 0;
  for (const [fromMin, durMin, lMin] of uses) if (m >= fromMin && m < fromMin + durMin) f += lMin;
  return f;
}
