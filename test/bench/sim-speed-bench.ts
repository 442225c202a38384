/**
 * Simulator speed: the city scenario (simulator/src/cli/scenario.ts, "city")
 * on the real firmware of every node, one simulated day of `--sim-nodes`
 * nodes (default 30), no output files. Figures: simulated node-days per wall
 * second (nodes × days / wall s) and firmware boots per wall second, in all
 * and per node type (a type's boots over the same wall time, so the per-type
 * rates add up to the total). The baseline is real time: one node-day per
 * 86,400 s, so `speedup` is how many times faster than real time one node
 * runs on average (node-days/s × 86,400).
 */
import { sig, thousands, type BenchContext, type BenchModule, type BenchResult } from "./bench-module.ts";

async function run(ctx: BenchContext): Promise<BenchResult> {
  const nodes = Number(ctx.opts.raw["sim-nodes"] ?? 30);
  const days = Number(ctx.opts.raw["sim-days"] ?? 1);
  if (!(nodes > 0 && days > 0)) throw new Error("--sim-nodes and --sim-days need positive numbers");
  // Imported lazily: the simulator pulls in Vega (an ES module with top-level await).
  const { runScenario } = await import("../../simulator/src/cli/run-scenario.ts");
  const { loadScenario } = await import("../../simulator/src/cli/scenario.ts");
  ctx.log(`sim-speed: city scenario, ${nodes} nodes × ${days} day(s)…`);
  const t0 = performance.now();
  const result = await runScenario(loadScenario("city"), { days, nodes });
  const wallS = (performance.now() - t0) / 1000;
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
  };
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
    ],
  };
}

export const simSpeedBench: BenchModule = {
  name: "sim-speed",
  title: "Simulator: node-days per second, boots per second",
  run,
};
