import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadScenario } from "../../../simulator/src/cli/scenario.ts";
// The report pulls in Vega, an ES module with top-level await: mocha's require() cannot load it, import() can.
type RunScenario = typeof import("../../../simulator/src/cli/run-scenario.ts").runScenario;
let runScenario: RunScenario;

describe("simulator CLI: --workers", function () {
  this.timeout(300_000);
  before(async () => {
    ({ runScenario } = await import("../../../simulator/src/cli/run-scenario.ts"));
  });

  it("one, two and three worker threads give the same run, byte for byte (over a day: with ground truth scored while shards wait)", async () => {
    // With drifting RTCs: each node's drift is drawn for every node in every shard, so it follows the node, not its shard.
    const s = { ...loadScenario("city"), rtcDriftPpm: 3000 };
    const files = ["events.jsonl", "readings.csv", "summary.json"];
    const runs: string[][] = [];
    for (const workers of [1, 2, 3]) {
      const dir = mkdtempSync(join(tmpdir(), `workers-${workers}-`));
      const r = await runScenario(s, { days: 1.25, nodes: 7, out: dir, workers });
      assert.equal(r.summary.nodes.length, 7);
      runs.push(files.map((f) => readFileSync(join(dir, f), "utf8")));
    }
    const events = runs[0][0].trim().split("\n");
    assert.ok(events.length > 20, `only ${events.length} events`);
    // Every node type reported, so the shards split different firmware.
    for (const type of ["air", "water", "level"]) assert.match(runs[0][2], new RegExp(`"type": ?"${type}"`));
    for (const [k, f] of files.entries()) {
      assert.equal(runs[1][k], runs[0][k], `${f}: 2 workers differ from 1`);
      assert.equal(runs[2][k], runs[0][k], `${f}: 3 workers differ from 1`);
    }
  });

  it("a frame another node sent in the same hour is judged in the delivery figures", async () => {
    // Many nodes on one gateway at one data rate: collisions must show up whatever the sharding.
    const s = { ...loadScenario("gateway-capacity"), sweep: undefined };
    const a = await runScenario(s, { days: 0.1, nodes: 120, workers: 1 });
    const b = await runScenario(s, { days: 0.1, nodes: 120, workers: 2 });
    assert.ok((a.summary.network.lostByReason.collision ?? 0) > 0, "no collision among 120 nodes");
    assert.deepEqual(b.summary.network, a.summary.network);
  });

  it("--exact-collisions: confirmed uplinks lost to collisions in a storm's burst are retransmitted; it needs one thread", async () => {
    // Many drains rising at once in a cloudburst: a burst of confirmed alarms and minute readings from nodes
    // switched on within 10 s (their grids have their own phases, but the storm reaches them all at once).
    // Without the application's setTime answers: under epochs the server answers frames later judged lost, so that run
    // would carry more answers, and more config acks, than the exact one, which is not what this compares.
    const s = { ...loadScenario("flash-flood"), syncClocks: false, storms: [{ startH: 1, durationH: 1.5, peakMmH: 60 }] };
    // 300 drains: at 150 the few confirmed alarms of the burst can all escape collision (as after the first join's spread).
    const epochs = await runScenario(s, { days: 0.15, nodes: 300, bootSpreadMs: 10_000 });
    const exact = await runScenario(s, { days: 0.15, nodes: 300, exactCollisions: true, bootSpreadMs: 10_000 });
    assert.ok((epochs.summary.network.lostByReason.collision ?? 0) > 20, "the burst caused no collisions");
    // Under epochs a same-hour collision is invisible when sent: nothing is retransmitted for it.
    assert.ok(exact.summary.network.uplinks > epochs.summary.network.uplinks, `${exact.summary.network.uplinks} frames exact, ${epochs.summary.network.uplinks} under epochs`);
    assert.ok(exact.summary.network.delivered > epochs.summary.network.delivered);
    await assert.rejects(runScenario(s, { days: 0.05, nodes: 4, exactCollisions: true, workers: 2 }), /one thread/);
  });
});

describe("simulator CLI: ground truth scored ahead while a shard waits", function () {
  this.timeout(300_000);

  it("primeTruth scores the finished days, a node-day at a time, and finish gives the same truth as without it", async () => {
    const { ShardRun } = await import("../../../simulator/src/cli/scenario-shard.ts");
    const s = loadScenario("city");
    const params = { seed: 11, days: 2.5, region: s.region, nodes: 12 };
    const run = async (prime: boolean) => {
      const shard = await ShardRun.create(s, params, { index: 0, count: 1 });
      const found: boolean[] = [];
      let previous;
      for (let t = 3_600_000; t <= params.days * 86_400_000; t += 3_600_000) {
        const step = await shard.step(previous, t);
        previous = { batches: [step.batch] };
        if (prime && t % 86_400_000 === 0) {
          found.push(shard.primeTruth(0));
          found.push(shard.primeTruth(Number.POSITIVE_INFINITY));
        }
      }
      const truth = shard.finish(previous).truth;
      await shard.close();
      return { truth, found };
    };
    const primed = await run(true);
    const plain = await run(false);
    // After each whole day: one node-day scored with more left, then the rest of that day's nodes.
    assert.deepEqual(primed.found, [true, false, true, false]);
    assert.ok(plain.truth.length > 0, "no ground-truth events");
    assert.deepEqual(primed.truth, plain.truth);
  });
});
