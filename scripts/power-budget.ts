// `npm run power-budget [-- --check] [air|water|level …]`: recomputes
// each hardware/<node>/power.json's `result` from its states, sleep currents
// and battery, and writes the figures of the README's "Power budget" section
// from it (the headline's mAh a day and battery life, and the tables of active
// states, sleep currents and life per spreading factor), so that the budget
// and its page cannot drift apart. The prose around the tables is the
// README's own. With --check it changes nothing and exits 1 naming every file
// that is out of date (test/firmware/manifests.test.ts runs it). The "Battery
// life at a glance" table of hardware/README.md is written from the three
// budgets the same way. The arithmetic is simulator/src/report/power-budget.ts,
// which the simulator's energy model shares.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { budgetFigures, stateSeconds, timesPerDay, type BudgetState, type PowerBudget } from "../simulator/src/report/power-budget.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
/** The node types with a budget. */
export const NODES = ["air", "water", "level"] as const;
type Node = (typeof NODES)[number];

/** power.json as this script rewrites it: the budget, with its `result` and every other field kept. */
type BudgetFile = PowerBudget & { result?: { method?: string } };

const round = (x: number, digits: number) => Number(x.toFixed(digits));

/** The budget's `result`: sleep current, and per spreading factor the charge a day and the battery life. */
export function budgetResult(p: BudgetFile) {
  const bySf: { [sf: string]: object } = {};
  for (const sf of p.spreadingFactors.map(String)) {
    const f = budgetFigures(p, sf);
    bySf[sf] = { activeMahPerDay: round(f.active, 3), sleepMahPerDay: round(f.sleep, 3), mAhPerDay: round(f.mAhPerDay, 3), lifeDays: Math.round(f.lifeDays), lifeYears: round(f.lifeYears, 2) };
  }
  return { sleepUa: round(p.sleep.reduce((a, s) => a + s.uA, 0), 3), bySf, method: p.result?.method };
}

const num = (x: number) => String(Number(x.toPrecision(6)));
const est = (e: { estimate?: boolean }) => (e.estimate ? " (est.)" : "");
function often(e: BudgetState): string {
  const parts = [];
  if (e.perCycle) parts.push(`${num(e.perCycle)}× per cycle`);
  if (e.perDay) parts.push(`${num(e.perDay)}× per day`);
  return parts.join(", ");
}
function duration(p: PowerBudget, e: BudgetState): string {
  if (typeof e.s === "number") return num(e.s);
  const sfs = p.spreadingFactors.map(String);
  return `${sfs.map((sf) => num(stateSeconds(e, sf)!)).join(" / ")} (SF${sfs.join("/")})`;
}
function life(f: { lifeDays: number; lifeYears: number }): string {
  const days = Math.round(f.lifeDays);
  return days < 365 ? `${days} days` : `${days} days (${f.lifeYears.toFixed(1)} years)`;
}

/** The README's generated parts for budget `p`. */
export function budgetTables(p: PowerBudget): { active: string; sleep: string; perDay: string; headline: string } {
  const sf = String(p.defaultSpreadingFactor);
  const r = budgetFigures(p, sf);
  const active = [
    `| Part | State | mA | s | How often | mAh/day (SF${sf}) |`,
    "|---|---|---:|---:|---|---:|",
    ...p.states.map((e) => `| ${e.part} | ${e.state}${est(e)} | ${num(e.mA)} | ${duration(p, e)} | ${often(e)} | ${((e.mA * stateSeconds(e, sf)! * timesPerDay(p, e)) / 3600).toFixed(2)} |`),
  ].join("\n");
  const sleep = [
    "| Part | State | µA |",
    "|---|---|---:|",
    ...p.sleep.map((s) => `| ${s.part} | ${s.state}${est(s)} | ${num(s.uA)} |`),
    `| **total** | | **${num(p.sleep.reduce((a, s) => a + s.uA, 0))}** |`,
  ].join("\n");
  const perDay = [
    "| Spreading factor | airtime per uplink | mAh/day | of which sleep | battery life |",
    "|---|---:|---:|---:|---:|",
    ...p.spreadingFactors.map(String).map((s) => {
      const x = budgetFigures(p, s);
      return `| SF${s} | ${(p.airtime.sBySf[s] * 1000).toFixed(1)} ms | ${x.mAhPerDay.toFixed(2)} | ${x.sleep.toFixed(2)} | ${Math.round(x.lifeDays)} days (${x.lifeYears.toFixed(2)} years) |`;
    }),
  ].join("\n");
  const headline = `at SF${sf} the node uses **${r.mAhPerDay.toFixed(1)} mAh a day**, which gives about **${life(r)}**`;
  return { active, sleep, perDay, headline };
}

/** Replaces the table that follows `heading` (a bold line) in `text`; throws when the heading or its table is missing. */
function replaceTable(text: string, heading: string, table: string, name: string): string {
  const at = text.indexOf(heading);
  if (at < 0) throw new Error(`${name}: no "${heading}" line`);
  const start = text.indexOf("\n|", at);
  if (start < 0) throw new Error(`${name}: no table after "${heading}"`);
  let end = start + 1;
  while (end < text.length && text[end] === "|") end = text.indexOf("\n", end) + 1 || text.length;
  return text.slice(0, start + 1) + table + "\n" + text.slice(end);
}

/** The README with its generated parts written from `p`. */
export function budgetReadme(readme: string, p: PowerBudget, name: string): string {
  const t = budgetTables(p);
  let out = readme.replace(/at SF\d+ the node uses \*\*[^*]+\*\*, which gives about \*\*[^*]+\*\*/, t.headline);
  if (out === readme && !readme.includes(t.headline)) throw new Error(`${name}: no "at SF… the node uses **…**, which gives about **…**" sentence`);
  out = replaceTable(out, "**Active states**", t.active, name);
  out = replaceTable(out, "**Sleep (all day)**", t.sleep, name);
  out = replaceTable(out, "**Per day and battery life**", t.perDay, name);
  return out;
}

const LABELS: { [n in Node]: string } = { air: "Air quality", water: "Water flow", level: "Fill level" };
const minutes = (sec: number) => (sec % 60 === 0 ? `${sec / 60} min` : `${sec} s`);

/** hardware/README.md with its "Battery life at a glance" table written from the three budgets. */
export function glanceReadme(readme: string, budgets: { [n in Node]: PowerBudget }): string {
  const rows = NODES.map((node) => {
    const p = budgets[node];
    const f = p.spreadingFactors.map(String).map((sf) => budgetFigures(p, sf));
    const lives = f.map((x) => (x.lifeDays < 365 ? `${Math.round(x.lifeDays)} d` : `${x.lifeYears.toFixed(2)} y`));
    return `| [${LABELS[node]}](${node}/README.md) | ${minutes(p.wakeIntervalS)} / ${minutes(p.intervalS)} | ${f.map((x) => x.mAhPerDay.toFixed(1)).join(" / ")} | ${lives.join(" / ")} |`;
  });
  const table = ["| Node | wake / report | mAh/day | life |", "|---|---|---|---|", ...rows].join("\n");
  const start = readme.indexOf("| Node | wake / report |");
  if (start < 0) throw new Error("hardware/README.md: no battery-life table");
  let end = start;
  while (end < readme.length && readme[end] === "|") end = readme.indexOf("\n", end) + 1 || readme.length;
  return readme.slice(0, start) + table + "\n" + readme.slice(end);
}

/** Brings node's power.json result and README up to date (or, with `check`, only says whether they are); returns the files out of date. */
export function updateNode(node: Node, check: boolean): string[] {
  const jsonPath = join(ROOT, "hardware", node, "power.json");
  const readmePath = join(ROOT, "hardware", node, "README.md");
  const jsonText = readFileSync(jsonPath, "utf8");
  const p = JSON.parse(jsonText) as BudgetFile;
  p.result = budgetResult(p);
  const newJson = JSON.stringify(p, null, 2) + "\n";
  const readme = readFileSync(readmePath, "utf8");
  const newReadme = budgetReadme(readme, p, `hardware/${node}/README.md`);
  const stale: string[] = [];
  if (newJson !== jsonText) stale.push(`hardware/${node}/power.json`);
  if (newReadme !== readme) stale.push(`hardware/${node}/README.md`);
  if (!check) {
    if (newJson !== jsonText) writeFileSync(jsonPath, newJson);
    if (newReadme !== readme) writeFileSync(readmePath, newReadme);
  }
  return stale;
}

/** Brings hardware/README.md's glance table up to date (or, with `check`, only says whether it is). */
export function updateGlance(check: boolean): string[] {
  const path = join(ROOT, "hardware", "README.md");
  const readme = readFileSync(path, "utf8");
  const budgets = Object.fromEntries(NODES.map((n) => [n, JSON.parse(readFileSync(join(ROOT, "hardware", n, "power.json"), "utf8")) as PowerBudget])) as { [n in Node]: PowerBudget };
  const next = glanceReadme(readme, budgets);
  if (next === readme) return [];
  if (!check) writeFileSync(path, next);
  return ["hardware/README.md"];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const check = args.includes("--check");
  const nodes = args.filter((a) => !a.startsWith("--")) as Node[];
  const stale = (nodes.length ? nodes : NODES).flatMap((n) => updateNode(n, check));
  stale.push(...updateGlance(check));
  if (check && stale.length) {
    console.error(`out of date (run npm run power-budget): ${stale.join(", ")}`);
    process.exitCode = 1;
  } else if (!check) console.log(stale.length ? `updated ${stale.join(", ")}` : "up to date");
}
