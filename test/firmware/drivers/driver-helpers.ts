/** Helpers the driver tests share. */
import assert from "node:assert/strict";
import Timer from "timer";
import { SensorError } from "../../../firmware/src/drivers/sensor-error.ts";

/** Polls `sample()` every `stepMs` of virtual time for up to `maxMs`; the first reading, or undefined. */
export function waitSample<T>(s: { sample(): T | undefined }, maxMs: number, stepMs = 100): T | undefined {
  for (let t = 0; t <= maxMs; t += stepMs) {
    const got = s.sample();
    if (got) return got;
    Timer.delay(stepMs);
  }
  return undefined;
}

/** The SensorError fault `f` throws ("none" if it returns); any other exception fails the test. */
export function faultOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof SensorError, `expected SensorError, got ${String(e)}`);
    return e.fault;
  }
  return "none";
}
