/** Test helper: builds the XS engine (scripts/build-xs.mjs) unless it is up to date, and small XS helpers. */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { Xsnap } from "../../simulator/src/xs/xsnap.ts";

const script = fileURLToPath(new URL("../../scripts/build-xs.mjs", import.meta.url));

/** Generous: a clean build takes 20-60 s on two cores. */
export const BUILD_TIMEOUT_MS = 5 * 60 * 1000;

/** Runs the build script (a no-op taking ~0.1 s when the binary is current); rejects with its stderr. */
export async function ensureXsBuilt(): Promise<void> {
  try {
    await promisify(execFile)(process.execPath, [script, "--quiet"], { timeout: BUILD_TIMEOUT_MS });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? "";
    throw new Error(`building the XS engine failed: ${stderr.trim() || (error as Error).message}`, { cause: error });
  }
}

/** Evaluates `expression` in XS and returns it through JSON (the worker replies with the ArrayBuffer). */
export async function evaluateJson<T>(xs: Xsnap, expression: string): Promise<T> {
  const { reply } = await xs.evaluate(`new TextEncoder().encode(JSON.stringify(${expression})).buffer`);
  return JSON.parse(new TextDecoder().decode(reply)) as T;
}
