/**
 * `npm run sim`: runs a scenario of the city twin and prints a summary.
 *   npm run sim -- --scenario leak --days 3 --out sim-out
 */
import { parseArgs } from "node:util";
import { resolve } from "node:path";
import { loadScenario, scenarioNames } from "./scenario.ts";
import { runScenario } from "./run-scenario.ts";
import { formatLife } from "../report/energy-model.ts";
import { detectionLatenciesMs } from "../report/report-stats.ts";
import type { RunSummary } from "../report/run-data.ts";
import type { XsFigures } from "../fleet/xs-node.ts";

const HELP = `citysense simulator: runs the real node firmware on emulated chips, a simulated LoRaWAN network and a model of the city.

usage: npm run sim -- [options]

  --scenario <name|file.json>  scenario to run (default: city); shipped: ${scenarioNames().join(", ")}
  --days <n>                   simulated days (default: the scenario's; a sweep scenario: each run's length)
  --nodes <n>                  total nodes, in the scenario's proportions of air, water, bin and drain nodes
                               (a sweep scenario: the largest point, the others scaled alike)
  --seed <n>                   random seed (same seed, same run, byte for byte)
  --region <EU868|US915|AU915|AS923>
  --workers <n>                spread the nodes over n worker threads (default 1; same results for any n)
  --exact-collisions           judge every transmission against all earlier frames, not hourly epochs, so a confirmed
                               uplink lost to a collision is retransmitted as by a real modem (one thread; slower to
                               parallelise, truer for bursts of confirmed traffic such as a storm over many drains)
  --compare <name|file.json>   also run a second configuration with the same options and compare them side by side
  --out <dir>                  write events.jsonl, readings.csv, summary.json and report.html there (default: sim-out;
                               the compared run goes to <dir>-compare)
  --no-out                     write nothing, print the summary only
  --engine <node|xs>           where the nodes run (default node). xs: each node's firmware, board, emulated chips and
                               modem run in Moddable's XS engine (build/xs/xsnap-worker, \`npm run build:xs\`); the world
                               and the network stay in Node, across the radio (frames out, downlinks back) and the
                               sensors' environment samples. Same seed, same uplinks as node, byte for byte; the summary
                               adds XS compute per wake by node type and the heap (summary.json: "xs")
  --help
`;

function fail(message: string): never {
  process.stderr.write(`sim: ${message}\n`);
  process.exit(2);
}

function int(name: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) fail(`--${name} must be a number from ${min} to ${max}, got "${v}"`);
  return n;
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r, j) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ") + (j === 0 ? "\n" + widths.map((w) => "─".repeat(w)).join("  ") : "")).join("\n");
}

function printSummary(s: RunSummary, wallMs: number): void {
  const types = ["air", "water", "level"] as const;
  const rows = [["node type", "nodes", "boots", "uplinks", "delivered", "alarms", "airtime s/day (max)", "battery life (min)"]];
  for (const t of types) {
    const ns = s.nodes.filter((n) => n.type === t);
    if (!ns.length) continue;
    const sent = ns.reduce((a, n) => a + n.uplinksSent, 0);
    const ok = ns.reduce((a, n) => a + n.uplinksDelivered, 0);
    const air = Math.max(...ns.flatMap((n) => n.airtimeMsPerDay)) / 1000;
    rows.push([t, String(ns.length), String(ns.reduce((a, n) => a + n.boots, 0)), String(sent), sent ? `${((100 * ok) / sent).toFixed(1)} %` : "-",
      String(ns.reduce((a, n) => a + n.alarms.length, 0)), air.toFixed(1), formatLife(Math.min(...ns.map((n) => n.projectedBatteryYears)))]);
  }
  const missed = s.detections.filter((d) => d.detectedAtMs === null).length;
  const lat = detectionLatenciesMs(s.detections).map((ms) => ms / 60000);
  const lost = Object.entries(s.network.lostByReason).map(([k, v]) => `${k} ${v}`).join(", ") || "none";
  process.stdout.write(`\nscenario ${s.scenario}: ${s.nodes.length} nodes, ${s.gateways.length} gateways, ${s.days} days, seed ${s.seed}, ${s.region} (${(wallMs / 1000).toFixed(wallMs < 10_000 ? 2 : 1)} s)\n\n`);
  process.stdout.write(table(rows) + "\n\n");
  process.stdout.write(`network: ${s.network.delivered} of ${s.network.uplinks} uplinks delivered; lost: ${lost}\n`);
  process.stdout.write(`events in the world: ${s.detections.length}; detected ${s.detections.length - missed}, missed ${missed}, false alarms ${s.falseAlarms.length}` +
    (s.falseAlarms.some((f) => f.near) ? ` (${s.falseAlarms.filter((f) => f.near).length} near a threshold)` : "") +
    (lat.length ? `; detection latency median ${lat[Math.floor(lat.length / 2)].toFixed(0)} min` : "") + "\n");
  if (s.capacity) {
    const c = s.capacity;
    process.stdout.write(`\ncapacity sweep: ${c.points.length} runs of ${c.hours} h (first ${c.warmupMin} min left out), offered load G per channel and SF against pure ALOHA (S/G = e^-2G)\n\n`);
    const rows = [["nodes/gateway", "frames", "channels", "G", "delivered", "collisions", "no demodulator", "delivery ratio", "ALOHA e^-2G"]];
    for (const p of c.points) {
      rows.push([String(p.nodes), String(p.frames), String(p.channels), p.offeredLoad.toFixed(3), String(p.delivered), String(p.collisions), String(p.noDemodulator),
        `${(100 * p.deliveryRatio).toFixed(1)} %`, `${(100 * p.aloha).toFixed(1)} %`]);
    }
    process.stdout.write(table(rows) + "\n");
  }
}

/** The XS engine's figures: compute per wake by node type, peak heap. */
function printXs(x: XsFigures): void {
  const rows = [["node type", "wakes", "XS compute/wake (mean)", "(max)"]];
  for (const [t, f] of Object.entries(x.computePerWake)) rows.push([t, String(f.wakes), String(f.mean), String(f.max)]);
  process.stdout.write(`\nXS engine (firmware, board, emulated chips and modem in xsnap-worker): peak live heap ${x.peakLiveHeapSlots} slots after GC, ${x.peakHeapSlots} with garbage (all nodes); ${x.commands} commands, ${x.hostCalls} calls back\n\n`);
  process.stdout.write(table(rows) + "\n");
}

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs({
      options: {
        scenario: { type: "string", default: "city" }, days: { type: "string" }, nodes: { type: "string" }, seed: { type: "string" },
        region: { type: "string" }, out: { type: "string" }, "no-out": { type: "boolean" }, help: { type: "boolean" },
        engine: { type: "string" }, workers: { type: "string" }, "exact-collisions": { type: "boolean" }, compare: { type: "string" },
      },
      strict: true,
    }).values;
  } catch (e) {
    fail(`${(e as Error).message}\n\n${HELP}`);
  }
  if (args.help) {
    process.stdout.write(HELP);
    return;
  }
  if (args.engine !== undefined && args.engine !== "node" && args.engine !== "xs") fail(`--engine must be node or xs, got "${args.engine}"`);
  const engine = args.engine as "node" | "xs" | undefined;
  if (engine === "xs" && args.workers !== undefined && args.workers !== "1") fail("--engine xs runs every node in one XS worker: leave out --workers");
  if (args["exact-collisions"] && args.workers !== undefined && args.workers !== "1") fail("--exact-collisions runs every node in one thread: leave out --workers");
  if (args.region !== undefined && !["EU868", "US915", "AU915", "AS923"].includes(args.region)) fail(`--region must be EU868, US915, AU915 or AS923, got "${args.region}"`);
  let scenario;
  try {
    scenario = loadScenario(args.scenario!);
  } catch (e) {
    fail((e as Error).message);
  }
  const out = args["no-out"] ? undefined : resolve(args.out ?? "sim-out");
  const tty = process.stdout.isTTY;
  let last = -1;
  const options = {
    days: int("days", args.days, 0.01, 366),
    nodes: int("nodes", args.nodes, 1, 5000),
    seed: int("seed", args.seed, 0, 4294967295),
    region: args.region as typeof scenario.region | undefined,
    workers: int("workers", args.workers, 1, 64),
    ...(args["exact-collisions"] ? { exactCollisions: true } : {}),
    ...(engine ? { engine } : {}),
    progress: tty
      ? (f: number) => {
          const pct = Math.floor(f * 100);
          if (pct === last) return;
          last = pct;
          const bar = "█".repeat(Math.round(f * 30)).padEnd(30, "░");
          process.stdout.write(`\r  ${bar} ${String(pct).padStart(3)} %`);
          if (f >= 1) process.stdout.write("\n");
        }
      : undefined,
  };
  const result = await runScenario(scenario, { ...options, out });
  printSummary(result.summary, result.wallMs);
  if (result.xs) printXs(result.xs);
  if (result.files) process.stdout.write(`\nwrote ${result.files.dir}/{events.jsonl, readings.csv, summary.json, report.html}\n`);
  if (args.compare !== undefined) {
    let other;
    try {
      other = loadScenario(args.compare);
    } catch (e) {
      fail((e as Error).message);
    }
    last = -1;
    const b = await runScenario(other, { ...options, out: out ? out + "-compare" : undefined });
    printSummary(b.summary, b.wallMs);
    if (b.xs) printXs(b.xs);
    if (b.files) process.stdout.write(`\nwrote ${b.files.dir}/{events.jsonl, readings.csv, summary.json, report.html}\n`);
    process.stdout.write("\n" + compareTable(result.summary, b.summary) + "\n");
  }
}

/** Key planner figures of two runs side by side. */
function compareTable(a: RunSummary, b: RunSummary): string {
  const figures = (s: RunSummary) => {
    const detected = s.detections.filter((d) => d.detectedAtMs !== null);
    const lat = detectionLatenciesMs(detected).map((ms) => ms / 60000);
    const air = s.nodes.map((n) => n.airtimeMsPerDay.reduce((p, q) => p + q, 0) / Math.max(1, n.airtimeMsPerDay.length) / 1000);
    return [
      String(s.nodes.length),
      s.network.uplinks ? `${((100 * s.network.delivered) / s.network.uplinks).toFixed(1)} %` : "-",
      `${detected.length}/${s.detections.length}`,
      String(s.falseAlarms.length),
      lat.length ? `${lat[Math.floor(lat.length / 2)].toFixed(0)} min` : "-",
      air.length ? (air.reduce((p, q) => p + q, 0) / air.length).toFixed(2) : "-",
      s.nodes.length ? formatLife(Math.min(...s.nodes.map((n) => n.projectedBatteryYears))) : "-",
    ];
  };
  const names = ["nodes", "delivery ratio", "events detected", "false alarms", "median detection latency", "airtime s/node/day", "shortest battery life"];
  const fa = figures(a);
  const fb = figures(b);
  return table([["figure", a.scenario, b.scenario], ...names.map((n, i) => [n, fa[i], fb[i]])]);
}

main().catch((e) => {
  process.stderr.write(`sim: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
