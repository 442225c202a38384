/**
 * `npm run bench [-- options]`: runs the benchmark modules and prints their
 * figures as tables, or as one JSON object with `--json`.
 *
 *   --json            one JSON object on stdout, nothing else (progress goes to stderr;
 *                     use `npm run -s bench -- --json` so npm's banner stays off stdout)
 *   --verbose, -v     extra tables (e.g. the CayenneLPP mapping)
 *   --time <ms>       measuring time per timed run (default 1000)
 *   --seed <n>        seed for random inputs (default 1)
 *   --only <a,b>      run only these modules (by name)
 *   --fuzz            also run the decoder fuzzer (--fuzz-count <n>, default 1,000,000)
 *   --help            this text
 *
 * A module is a `BenchModule` (bench-module.ts) returning named figures and
 * tables; add new ones to MODULES.
 */
import type { BenchModule, BenchOptions, BenchResult, Table } from "./bench-module.ts";
import { codecBench } from "./codec-bench.ts";
import { fuzzBench } from "./fuzz.ts";
import { simSpeedBench } from "./sim-speed-bench.ts";
import { mlBench } from "./ml-bench.ts";
import { xsWakeBench } from "./xs-wake-bench.ts";
import { dspFixedFloatBench } from "./dsp-fixed-float-bench.ts";
import { worldBench } from "./world-bench.ts";

/** Every benchmark, in output order. */
export const MODULES: BenchModule[] = [codecBench, fuzzBench, simSpeedBench, worldBench, xsWakeBench, dspFixedFloatBench, mlBench];

function parseArgs(argv: string[]): BenchOptions {
  const raw: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "-v") raw.verbose = true;
    else if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      if (eq > 0) raw[a.slice(2, eq)] = a.slice(eq + 1);
      else if (i + 1 < argv.length && !argv[i + 1].startsWith("-")) raw[a.slice(2)] = argv[++i];
      else raw[a.slice(2)] = true;
    } else throw new Error(`unexpected argument '${a}' (try --help)`);
  }
  const num = (k: string, d: number) => {
    if (raw[k] === undefined) return d;
    const n = Number(raw[k]);
    if (!isFinite(n) || n <= 0) throw new Error(`--${k} needs a positive number`);
    return n;
  };
  return { json: raw.json === true, verbose: raw.verbose === true, timeMs: num("time", 1000), seed: num("seed", 1), raw };
}

function pad(s: string, w: number, right: boolean): string {
  const n = [...s].length;
  return n >= w ? s : right ? " ".repeat(w - n) + s : s + " ".repeat(w - n);
}

function printTable(t: Table): void {
  const cells = [t.columns, ...t.rows.map((r) => r.map(String))];
  const widths = t.columns.map((_, c) => Math.max(...cells.map((r) => [...(r[c] ?? "")].length)));
  const line = (r: string[]) => "  " + r.map((v, c) => pad(v, widths[c], t.align?.[c] === "r")).join("  ").trimEnd();
  console.log(`\n${t.title}`);
  console.log(line(t.columns));
  console.log("  " + widths.map((w) => "─".repeat(w)).join("  "));
  for (const r of cells.slice(1)) console.log(line(r));
  for (const n of t.notes || []) console.log("  " + n);
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.raw.help) {
    const src = (await import("node:fs")).readFileSync(new URL(import.meta.url), "utf8");
    console.log(src.slice(src.indexOf("`npm run bench"), src.indexOf(" * A module")).replace(/^ \* ?/gm, ""));
    return;
  }
  const only = typeof opts.raw.only === "string" ? opts.raw.only.split(",") : undefined;
  const log = (line: string) => process.stderr.write(line + "\n");
  const out: { [name: string]: unknown } = { node: process.version, date: new Date().toISOString() };
  const failures: string[] = [];
  const t0 = performance.now();
  for (const m of MODULES) {
    if (only ? !only.includes(m.name) : m.enabled && !m.enabled(opts)) continue;
    if (!opts.json) console.log(`\n=== ${m.title} ===`);
    const t = performance.now();
    let r: BenchResult;
    try {
      r = await m.run({ opts, log });
    } catch (e) {
      failures.push(`${m.name}: ${(e as Error).stack || String(e)}`);
      out[m.name] = { error: String((e as Error).message || e) };
      if (!opts.json) console.log(`  ERROR: ${(e as Error).stack || String(e)}`);
      continue;
    }
    out[m.name] = { ...r.figures, elapsedMs: Math.round(performance.now() - t) };
    if (r.failed) failures.push(`${m.name}: ${r.failed}`);
    if (!opts.json) for (const table of r.tables) printTable(table);
  }
  out.elapsedMs = Math.round(performance.now() - t0);
  if (opts.json) process.stdout.write(JSON.stringify(out, null, 2) + "\n");
  else console.log(`\nDone in ${(Number(out.elapsedMs) / 1000).toFixed(1)} s.`);
  if (failures.length) {
    for (const f of failures) log(`bench failure: ${f}`);
    process.exitCode = 1;
  }
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack || String(e)}\n`);
  process.exitCode = 2;
});
