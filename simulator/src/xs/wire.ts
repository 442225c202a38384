/**
 * The text both sides of the XS engine's boundary exchange (simulator/src/xs/README.md):
 * JSON, except that the numbers JSON cannot carry (±Infinity, NaN, -0) travel as
 * tagged strings, so a value crosses the boundary bit for bit (an environment sample
 * of "nothing in sight" is `distanceMm: Infinity`, and `nextEventMs` is Infinity for a node that only a pin can wake).
 */

const TAG = "\u0000n:";

function replacer(_key: string, value: unknown): unknown {
  if (typeof value === "number" && (!Number.isFinite(value) || Object.is(value, -0))) return TAG + (Object.is(value, -0) ? "-0" : String(value));
  return value;
}

function reviver(_key: string, value: unknown): unknown {
  if (typeof value === "string" && value.startsWith(TAG)) return Number(value.slice(TAG.length));
  return value;
}

/** A value as boundary text. */
export function encodeWire(value: unknown): string {
  return JSON.stringify(value, replacer);
}

/** Boundary text back to the value. */
export function decodeWire<T>(text: string): T {
  return JSON.parse(text, reviver) as T;
}
