/**
 * Simulator speed: the city scenario (simulator/src/cli/scenario.ts, "city")
 * on the real firmware of every node, one simulated day of `--sim-nodes`
 * nodes (default 30), no output files. Figures: simulated node-days per wall
 * second (nodes × days / wall s) and firmware boots per wall second, in all
 * and per node type (a type's boots over the same wall time, so the per-type
 * rates add up to the total). The baseline is real time: one node-day per
 * 86,400 s, so `speedup` is how many times faster than real time one node
 * runs on average (node-days/s × 86,400).
 *
 * Workers: the same run again with each count of `--sim-workers` (default
 * "1,2"; worker threads, simulator/src/cli/scenario-shard.ts), through the
 * command line exactly as `npm run sim` runs it (a child process, with the
 * V8 flag it sets for several workers; its reported simulation time, without
 * start-up), with the speed-up against one worker measured in the same bench
 * run, and what that speed means for the fleet goal (1,000 nodes × 30
 * days in 60 s): 30,000 node-days at the best measured rate. `--sim-fleet`
 * runs the fleet itself instead of projecting it (long: minutes).
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { sig, thousands, type BenchContext, type BenchModule, type BenchResult } from "./bench-module.ts";

const SIM = fileURLToPath(new URL("../../scripts/sim.mjs", import.meta.url));

/** Seconds of simulation `npm run sim -- --nodes … --days … --workers … --no-out` reports for the city scenario. */
function cliSeconds(nodes: number, days: number, workers: number): number {
  const r = spawnSync(process.execPath, [SIM, "--nodes", String(nodes), "--days", String(days), "--workers", String(workers), "--no-out"], { encoding: "utf8", maxBuffer: 1 << 24 });
  const m = /^scenario city: .*\(([\d.]+) s\)$/m.exec(r.stdout ?? "");
  if (r.status !== 0 || !m) throw new Error(`npm run sim (${workers} workers) failed: ${r.stderr || r.stdout}`);
  return Number(m[1]);
}

async function run(ctx: BenchContext): Promise<BenchResult> {
  const nodes = Number(ctx.opts.raw["sim-nodes"] ?? 30);
  const days = Number(ctx.opts.raw["sim-days"] ?? 1);
  if (!(nodes > 0 && days > 0)) throw new Error("--sim-nodes and --sim-days need positive numbers");
  // Imported lazily: the simulator pulls in Vega (an ES module with top-level await).
  // What `npm run sim` runs: the esbuild bundle of scripts/sim.mjs, not the TypeScript through tsx.
  const sim = await import("../../scripts/sim.mjs");
  await sim.buildSim();
  const { runScenario, loadScenario } = (await import(sim.API_BUNDLE)) as typeof import("../../simulator/src/cli/index.ts");
  const workerCounts = String(ctx.opts.raw["sim-workers"] ?? "1,2").split(",").map(Number);
  if (!workerCounts.every((w) => Number.isInteger(w) && w >= 1)) throw new Error("--sim-workers takes a list of worker counts, e.g. 1,2");
  ctx.log(`sim-speed: city scenario, ${nodes} nodes × ${days} day(s), workers ${workerCounts.join(", ")}…`);
  const runs: { workers: number; wallS: number; nodeDaysPerS: number }[] = [];
  // In this process, one worker: the per-type figures (boots, uplinks) of the run.
  const t0 = performance.now();
  const result = await runScenario(loadScenario("city"), { days, nodes, workers: 1 });
  const wallS = (performance.now() - t0) / 1000;
  for (const workers of workerCounts) {
    const s = cliSeconds(nodes, days, workers);
    runs.push({ workers, wallS: sig(s, 4), nodeDaysPerS: sig((result.summary.nodes.length * result.summary.days) / s, 4) });
  }
  const best = Math.max(...runs.map((r) => r.nodeDaysPerS));
  const fleet: { nodes: number; days: number; workers: number; wallS: number; measured: boolean } = { nodes: 1000, days: 30, workers: workerCounts[workerCounts.length - 1], wallS: sig(30_000 / best, 4), measured: false };
  if (ctx.opts.raw["sim-fleet"]) {
    ctx.log(`sim-speed: fleet of 1,000 nodes × 30 days on ${fleet.workers} worker(s)…`);
    fleet.wallS = sig(cliSeconds(1000, 30, fleet.workers), 4);
    fleet.measured = true;
  }
  const summary = result.summary;
  const n = summary.nodes.length;
  const byType: { [type: string]: { nodes: number; boots: number; bootsPerS: number; uplinksSent: number } } = {};
  for (const s of summary.nodes) {
    const t = byType[s.type] || (byType[s.type] = { nodes: 0, boots: 0, bootsPerS: 0, uplinksSent: 0 });
    t.nodes++;
    t.boots += s.boots;
    t.uplinksSent += s.uplinksSent;
  }
  let boots = 0;
  for (const t of Object.values(byType)) {
    t.bootsPerS = sig(t.boots / wallS, 4);
    boots += t.boots;
  }
  const nodeDaysPerS = (n * summary.days) / wallS;
  const figures = {
    scenario: "city",
    nodes: n,
    days: summary.days,
    wallS: sig(wallS, 4),
    nodeDaysPerS: sig(nodeDaysPerS, 4),
    speedupVsRealTime: Math.round(nodeDaysPerS * 86400),
    boots,
    bootsPerS: sig(boots / wallS, 4),
    byType,
    workers: runs,
    fleet,
  };
  const one = runs.find((r) => r.workers === 1);
  return {
    figures,
    tables: [
      {
        title: `Simulator speed: city scenario, ${n} nodes × ${summary.days} day(s), ${wallS.toFixed(2)} s wall`,
        columns: ["node type", "nodes", "boots", "boots/s", "uplinks sent"],
        align: ["l", "r", "r", "r", "r"],
        rows: [
          ...Object.entries(byType).map(([type, t]) => [type, t.nodes, thousands(t.boots), thousands(t.bootsPerS), thousands(t.uplinksSent)]),
          ["all", n, thousands(boots), thousands(boots / wallS), thousands(Object.values(byType).reduce((a, t) => a + t.uplinksSent, 0))],
        ],
        notes: [
          `${nodeDaysPerS.toFixed(2)} simulated node-days per second: ${thousands(nodeDaysPerS * 86400)}× real time per node (baseline: one node-day per 86,400 s).`,
          "Includes the world model, radio channel, gateways and network server; boots/s of a type are its boots over the whole run's wall time.",
        ],
      },
      {
        title: "Worker threads: the same run through `npm run sim` (byte-identical results), simulation seconds as it reports them",
        columns: ["workers", "wall s", "node-days/s", "vs 1 worker"],
        align: ["r", "r", "r", "r"],
        rows: runs.map((r) => [r.workers, r.wallS.toFixed(2), r.nodeDaysPerS.toFixed(2), one ? `${(r.nodeDaysPerS / one.nodeDaysPerS).toFixed(2)}×` : "-"]),
        notes: [
          `Fleet goal, 1,000 nodes × 30 days in 60 s: ${fleet.measured ? "measured" : "projected at the best rate above"} ${thousands(fleet.wallS)} s ` +
            `(${(fleet.wallS / 60).toFixed(1)}× the goal); the goal needs ${thousands(30_000 / 60)} node-days/s.`,
          ...(fleet.measured
            ? []
            : ["A projection from a small run is rough: day 1 carries every join and cold start, and with few nodes per worker the hourly barrier between workers dominates. --sim-fleet measures the fleet itself."]),
        ],
      },
    ],
  };
}

export const simSpeedBench: BenchModule = {
  name: "sim-speed",
  title: "Simulator: node-days per second, boots per second",
  run,
};
