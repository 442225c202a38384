/**
 * Worker-thread entry of a sharded scenario run: builds one `ShardRun` from
 * `workerData` and answers the coordinator's requests (shard-ports.ts) one
 * at a time.
 */
import { parentPort, workerData } from "node:worker_threads";
import { ShardRun, type RunParams, type ShardSpec } from "./scenario-shard.ts";
import type { Scenario } from "./scenario.ts";
import type { ShardRequest } from "./shard-ports.ts";

const data = workerData as { scenario: Scenario; params: RunParams; shard: ShardSpec };
const port = parentPort!;
const started = ShardRun.create(data.scenario, data.params, data.shard);
started.catch((e: unknown) => port.postMessage({ id: -1, error: e instanceof Error ? (e.stack ?? e.message) : String(e) }));

// Requests come one at a time (the coordinator waits for each answer), so they never interleave.
port.on("message", async (m: ShardRequest) => {
  try {
    const run = await started;
    let result: unknown;
    if (m.op === "facts") result = run.facts();
    else if (m.op === "step") result = await run.step(m.previous, m.untilMs);
    else result = run.finish(m.previous);
    port.postMessage({ id: m.id, result });
    // Until the next step comes, score ground truth ahead.
    if (m.op === "step") run.primeWhenIdle();
  } catch (e) {
    port.postMessage({ id: m.id, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  }
});
