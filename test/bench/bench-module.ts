/**
 * What a benchmark module is, and small helpers they share. `run.ts` holds the
 * list of modules; each returns named figures (for `--json`) and tables (for
 * people). Modules print nothing to stdout: progress goes through `ctx.log`.
 */
import { resolve, dirname } from "node:path";
import { fileURLToPath } from "node:url";

/** Repository root. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** Parsed command line: `--flag`, `--key value`, `--key=value`. */
export interface BenchOptions {
  json: boolean;
  verbose: boolean;
  /** Measuring time per timed run, in ms (`--time`). */
  timeMs: number;
  /** Seed for anything random (`--seed`). */
  seed: number;
  /** Every option as given, for modules with options of their own. */
  raw: Record<string, string | true>;
}

export interface BenchContext {
  opts: BenchOptions;
  /** Progress and diagnostics: stderr, never stdout. */
  log: (line: string) => void;
}

/** A table for the readable output. */
export interface Table {
  title: string;
  columns: string[];
  /** "r" right-aligns a column (numbers); default left. */
  align?: ("l" | "r")[];
  rows: (string | number)[][];
  /** Lines printed under the table. */
  notes?: string[];
}

/** Figures are plain JSON. */
export type Figures = { [name: string]: unknown };

export interface BenchResult {
  figures: Figures;
  tables: Table[];
  /** A hard failure (a crash found, a broken invariant), as opposed to a target missed: makes the runner exit non-zero. */
  failed?: string;
}

export interface BenchModule {
  /** Key in the JSON output and the `--only` filter. */
  name: string;
  title: string;
  /** Whether to run with these options (default: always). */
  enabled?: (opts: BenchOptions) => boolean;
  run: (ctx: BenchContext) => Promise<BenchResult> | BenchResult;
}

/** Somewhere for benchmark loops to put results so the optimizer cannot drop the work. */
export const sink = { n: 0 };

/** Runs `pass` (which does some work and returns how many items it did) repeatedly for at least `ms`. */
export function timed(pass: () => number, ms: number): { items: number; ms: number } {
  let items = 0;
  const t0 = performance.now();
  for (;;) {
    items += pass();
    const t = performance.now();
    if (t - t0 >= ms) return { items, ms: t - t0 };
  }
}

/** Rounds to `digits` significant digits, for figures. */
export function sig(x: number, digits = 4): number {
  return x === 0 || !isFinite(x) ? x : Number(x.toPrecision(digits));
}

/** 1234567 → "1,234,567". */
export function thousands(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}
