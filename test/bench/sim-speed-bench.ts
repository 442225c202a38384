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
 * run, and what that speed means for the issue's fleet goal (1,000 nodes × 30
 * days in 60 s). `--sim-fleet` runs the fleet itself instead of projecting it
 * (long: minutes).
 *
 * Why a second, longer run per worker count (`--sim-steady-days`, default 2;
 * 0 skips it): the first simulated day is not a typical one. Every node joins
 * (through lora-packet's crypto, about 1.5 ms a join), and every thread starts
 * the firmware and the simulator from cold code: a node's first hour costs
 * about as much as 30 later ones, and each worker thread pays its own start.
 * Measured on 1,000 nodes, the first day took 2.5 times a later day and
 * barely gained from a second worker, while later days ran 1.7 to 1.8 times
 * faster on two. The difference of the two runs is the steady rate; the
 * projection is the first `--sim-days` as measured plus the rest of the 30
 * days at the steady rate, scaled from `--sim-nodes` to 1,000 (so it is close
 * only for `--sim-nodes 1000`: with few nodes per worker the hourly barrier
 * and the fixed start-up dominate).
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
  const steadyDays = Number(ctx.opts.raw["sim-steady-days"] ?? 2);
  if (!(steadyDays >= 0)) throw new Error("--sim-steady-days needs a number ≥ 0");
  const runs: { workers: number; wallS: number; nodeDaysPerS: number; steady?: SteadyRun }[] = [];
  // In this process, one worker: the per-type figures (boots, uplinks) of the run.
  const t0 = performance.now();
  const result = await runScenario(loadScenario("city"), { days, nodes, workers: 1 });
  const wallS = (performance.now() - t0) / 1000;
  const simNodes = result.summary.nodes.length;
  for (const workers of workerCounts) {
    const s = cliSeconds(nodes, days, workers);
    const steady = steadyDays > 0 ? steadyRun(simNodes, days, s, steadyDays, cliSeconds(nodes, days + steadyDays, workers)) : undefined;
    runs.push({ workers, wallS: sig(s, 4), nodeDaysPerS: sig((simNodes * result.summary.days) / s, 4), ...(steady ? { steady } : {}) });
  }
  const fleet = ctx.opts.raw["sim-fleet"] ? measureFleet(ctx, workerCounts[workerCounts.length - 1]) : projectFleet(runs, days);
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
        columns: ["workers", `${days} day(s) s`, "node-days/s", "vs 1 worker", ...(steadyDays > 0 ? [`next ${steadyDays} day(s) s`, "steady node-days/s", "vs 1 worker", "fleet s (projected)"] : [])],
        align: ["r", "r", "r", "r", "r", "r", "r", "r"],
        rows: runs.map((r) => [
          r.workers,
          r.wallS.toFixed(2),
          r.nodeDaysPerS.toFixed(2),
          one ? `${(r.nodeDaysPerS / one.nodeDaysPerS).toFixed(2)}×` : "-",
          ...(r.steady
            ? [r.steady.wallS.toFixed(2), r.steady.nodeDaysPerS.toFixed(2), one?.steady ? `${(r.steady.nodeDaysPerS / one.steady.nodeDaysPerS).toFixed(2)}×` : "-", thousands(r.steady.fleetS)]
            : []),
        ]),
        notes: [
          `Fleet goal, 1,000 nodes × 30 days in 60 s: ${fleet.measured ? "measured" : `projected (${fleet.basis}, ${fleet.workers} worker(s))`} ${thousands(fleet.wallS)} s ` +
            `(${(fleet.wallS / 60).toFixed(1)}× the goal); the goal needs ${thousands(30_000 / 60)} node-days/s.`,
          ...(fleet.measured
            ? []
            : [
                steadyDays > 0
                  ? "Projection: the first day(s) as measured plus the rest of the 30 days at the steady rate, both scaled to 1,000 nodes; close for --sim-nodes 1000, rough for fewer (the hourly barrier and the fixed start-up dominate small runs). --sim-fleet measures the fleet itself."
                  : "Projected at the first day's rate, which carries every join and cold start: rough. --sim-steady-days measures the rate after it; --sim-fleet the fleet itself.",
              ]),
        ],
      },
    ],
  };
}

/** The fleet goal's run (1,000 nodes × 30 days), how it was reached, and on how many workers. */
interface FleetFigure {
  nodes: number;
  days: number;
  workers: number;
  wallS: number;
  measured: boolean;
  basis: string;
}

/** The fleet run itself on `workers` (`--sim-fleet`: minutes). */
function measureFleet(ctx: BenchContext, workers: number): FleetFigure {
  ctx.log(`sim-speed: fleet of 1,000 nodes × 30 days on ${workers} worker(s)…`);
  return { nodes: 1000, days: 30, workers, wallS: sig(cliSeconds(1000, 30, workers), 4), measured: true, basis: "measured" };
}

/** The fleet projected from the worker count that projects it shortest: from its steady rate when measured, else from its first days' rate. */
function projectFleet(runs: readonly { workers: number; nodeDaysPerS: number; steady?: SteadyRun }[], days: number): FleetFigure {
  const projected = runs.map((r) => ({ workers: r.workers, wallS: r.steady ? r.steady.fleetS : 30_000 / r.nodeDaysPerS, steady: r.steady !== undefined }));
  const best = projected.reduce((a, b) => (b.wallS < a.wallS ? b : a));
  const basis = best.steady ? `first ${days} day(s) as measured, the rest at the steady rate` : "first-day rate";
  return { nodes: 1000, days: 30, workers: best.workers, wallS: sig(best.wallS, 4), measured: false, basis };
}

/** The days after the first of a worker count: their simulation seconds, rate, and the fleet projection they give. */
interface SteadyRun {
  wallS: number;
  nodeDaysPerS: number;
  fleetS: number;
}

/** The steady figures from a run of `days` (`firstS`) and one `more` days longer (`longerS`) of the same `nodes`, and the fleet (1,000 × 30 days) they project. */
function steadyRun(nodes: number, days: number, firstS: number, more: number, longerS: number): SteadyRun {
  const wallS = Math.max(1e-3, longerS - firstS);
  const nodeDaysPerS = (nodes * more) / wallS;
  const fleetS = (firstS * 1000) / nodes + (Math.max(0, 30 - days) * 1000) / nodeDaysPerS;
  return { wallS: sig(wallS, 4), nodeDaysPerS: sig(nodeDaysPerS, 4), fleetS: sig(fleetS, 4) };
}

export const simSpeedBench: BenchModule = {
  name: "sim-speed",
  title: "Simulator: node-days per second, boots per second",
  run,
};
