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

/**
 * Runs `fn` while every call of the method `name` of `proto` (an IO class's prototype) first hands its
 * arguments to `spy`; the method is restored afterwards, whatever happens. Returns what `fn` returns.
 */
export function spying<T>(proto: object, name: string, spy: (...args: unknown[]) => void, fn: () => T): T {
  const target = proto as { [key: string]: (...args: unknown[]) => unknown };
  const original = target[name];
  target[name] = function (this: unknown, ...args: unknown[]) {
    spy(...args);
    return original.apply(this, args);
  };
  try {
    return fn();
  } finally {
    target[name] = original;
  }
}
