/**
 * The coordinator's handle on a shard of a scenario run: in this thread
 * (`localShard`) or in a worker thread (`workerShard`), with the same
 * promise-based interface, so the run loop is one piece of code whatever the
 * number of workers.
 */
import { Worker } from "node:worker_threads";
import { ShardRun, type EpochCommit, type EpochStep, type NodeFacts, type RunParams, type RunWorld, type ShardEnd, type ShardSpec } from "./scenario-shard.ts";
import type { Scenario } from "./scenario.ts";

/** A call to a shard worker. */
export type ShardCall =
  | { op: "facts" }
  | { op: "step"; previous?: EpochCommit; untilMs: number }
  | { op: "finish"; previous?: EpochCommit };

/** A call with its id, as posted to the worker. */
export type ShardRequest = ShardCall & { id: number };

/** A shard as the coordinator sees it. */
export interface ShardPort {
  /** Identity (and counters so far) of the shard's nodes. */
  facts(): Promise<NodeFacts[]>;
  /** Commits the previous epoch, if any, then runs the shard's nodes to `untilMs` (`ShardRun.step`). */
  step(previous: EpochCommit | undefined, untilMs: number): Promise<EpochStep>;
  /** Commits the last epoch and settles the rest; resolves with it, the nodes' final counters and any XS figures. */
  finish(previous?: EpochCommit): Promise<ShardEnd>;
  /** Stops the worker (if any). */
  close(): Promise<void>;
}

/** A shard run in this thread. */
export function localShard(scenario: Scenario, params: RunParams, shard: ShardSpec, world?: RunWorld): ShardPort {
  const created = ShardRun.create(scenario, params, shard, world);
  return {
    facts: async () => (await created).facts(),
    step: async (previous, untilMs) => {
      const run = await created;
      const step = await run.step(previous, untilMs);
      // While this thread waits for the worker threads, score ground truth ahead.
      run.primeWhenIdle();
      return step;
    },
    finish: async (previous) => (await created).finish(previous),
    close: async () => {
      try {
        await (await created).close();
      } catch {
        // It never started: nothing to stop.
      }
    },
  };
}

/** Set by scripts/sim.mjs in its bundle: the bundled worker entry (undefined under tsx). */
declare const SIM_WORKER_BUNDLE: string | undefined;
const WORKER = typeof SIM_WORKER_BUNDLE === "string" ? new URL(SIM_WORKER_BUNDLE) : new URL("./scenario-worker-boot.mjs", import.meta.url);

/** A shard run in a worker thread (the same code as this process: the bundle's worker, or TypeScript through tsx). */
export function workerShard(scenario: Scenario, params: RunParams, shard: ShardSpec): ShardPort {
  const worker = new Worker(WORKER, { workerData: { scenario, params, shard } });
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let failure: Error | undefined;
  let nextId = 0;
  const failAll = (e: Error) => {
    failure ??= e;
    for (const w of waiting.values()) w.reject(failure);
    waiting.clear();
  };
  worker.on("message", (m: { id: number; result?: unknown; error?: string }) => {
    if (m.error !== undefined) {
      const e = new Error(`shard ${shard.index + 1}/${shard.count}: ${m.error}`);
      if (m.id < 0) return failAll(e);
      waiting.get(m.id)?.reject(e);
    } else waiting.get(m.id)?.resolve(m.result);
    waiting.delete(m.id);
  });
  worker.on("error", (e) => failAll(e instanceof Error ? e : new Error(String(e))));
  worker.on("exit", (code) => failAll(new Error(`shard ${shard.index + 1}/${shard.count}: worker exited (${code})`)));
  const ask = <T>(request: ShardCall): Promise<T> => {
    if (failure) return Promise.reject(failure);
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      worker.postMessage({ ...request, id });
    });
  };
  return {
    facts: () => ask({ op: "facts" }),
    step: (previous, untilMs) => ask({ op: "step", ...(previous ? { previous } : {}), untilMs }),
    finish: (previous) => ask({ op: "finish", ...(previous ? { previous } : {}) }),
    close: async () => {
      failure ??= new Error("closed");
      await worker.terminate();
    },
  };
}
