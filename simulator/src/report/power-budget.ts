/**
 * A node type's power budget, hardware/<type>/power.json (schema
 * citysense-power/1, described in hardware/README.md), and the arithmetic
 * that the budget's own figures (scripts/power-budget.ts) and the simulator's
 * energy model (energy-model.ts) share: how often a state happens, how long it
 * lasts at a spreading factor, the sleep charge, and how long the battery
 * lasts at a daily charge.
 */
import { readFileSync } from "node:fs";

/** An active state: `mA` for `s` seconds (or seconds by spreading factor), `perCycle × cyclesPerDay + perDay` times a day. */
export interface BudgetState {
  part: string;
  state: string;
  mA: number;
  s: number | { [sf: string]: number };
  perCycle?: number;
  perDay?: number;
  /** What the simulator scales the charge with (energy-model.ts). */
  sim?: string;
  estimate?: boolean;
  /** Optional entries: the part, in lower case as a build names it, that this entry is for when fitted (energy-model.ts). */
  fitted?: string;
  /** Optional entries with `fitted`: the default part (as `part` names it) whose states the fitted part's replace. */
  replaces?: string;
}

/** A current drawn all day. */
export interface BudgetSleep {
  part: string;
  state: string;
  uA: number;
  estimate?: boolean;
}

/** The parts of power.json that are read here (the file has more: sources, notes, `result`…). */
export interface PowerBudget {
  intervalS: number;
  wakeIntervalS: number;
  cyclesPerDay: number;
  spreadingFactors: number[];
  defaultSpreadingFactor: number;
  airtime: { sBySf: { [sf: string]: number } };
  battery: { capacityMah: number; usableFraction: number; selfDischargePctPerYear: number };
  sleep: BudgetSleep[];
  states: BudgetState[];
  /** What-ifs outside the default build; those with `fitted` are what a build with that part draws instead. */
  optional?: BudgetState[];
}

/**
 * The budget's states for a build that fits `fitted` parts instead of the
 * default ones: every optional entry whose `fitted` is among them replaces
 * the states of the part it `replaces`. Throws when a fitted part has no such
 * entry, so that no build is silently charged another part's current.
 */
export function statesFor(p: PowerBudget, fitted: readonly string[], name = "budget"): BudgetState[] {
  if (!fitted.length) return p.states;
  const chosen = (p.optional ?? []).filter((e) => e.fitted !== undefined && fitted.includes(e.fitted));
  for (const part of fitted) if (!chosen.some((e) => e.fitted === part && e.replaces)) throw new Error(`${name}: no optional entry for a build fitted with ${part} (fitted, replaces)`);
  const replaced = new Set(chosen.map((e) => e.replaces));
  return [...p.states.filter((e) => !replaced.has(e.part)), ...chosen];
}

/** Years as the budgets count them. */
export const DAYS_PER_YEAR = 365.25;

/** hardware/<type>/power.json, parsed. */
export function readBudget(type: string): PowerBudget {
  return JSON.parse(readFileSync(new URL(`../../../hardware/${type}/power.json`, import.meta.url), "utf8")) as PowerBudget;
}

/** How long state `e` lasts at spreading factor `sf`, s (undefined when the budget does not give it). */
export function stateSeconds(e: BudgetState, sf: string): number | undefined {
  return typeof e.s === "number" ? e.s : e.s[sf];
}

/** How many times a day state `e` happens, as budgeted. */
export function timesPerDay(p: PowerBudget, e: BudgetState): number {
  return (e.perCycle ?? 0) * p.cyclesPerDay + (e.perDay ?? 0);
}

/** The sleep currents' charge a day, mAh (counted all day). */
export function sleepMahPerDay(p: PowerBudget): number {
  return (p.sleep.reduce((a, s) => a + s.uA, 0) / 1000) * 24;
}

/** Days the battery's usable charge lasts at `mAhPerDay`, self-discharge included. */
export function lifeDays(p: PowerBudget, mAhPerDay: number): number {
  const { capacityMah, usableFraction, selfDischargePctPerYear } = p.battery;
  return (capacityMah * usableFraction) / (mAhPerDay + (capacityMah * selfDischargePctPerYear) / 100 / 365);
}

/** The budget's own figures at spreading factor `sf`, unrounded: active, sleep and total mAh a day, battery life in days and years. */
export function budgetFigures(p: PowerBudget, sf: string): { active: number; sleep: number; mAhPerDay: number; lifeDays: number; lifeYears: number } {
  let active = 0;
  for (const e of p.states) {
    const s = stateSeconds(e, sf);
    if (s === undefined) throw new Error(`${e.part}, ${e.state}: no duration at SF${sf}`);
    active += (e.mA * s * timesPerDay(p, e)) / 3600;
  }
  const sleep = sleepMahPerDay(p);
  const days = lifeDays(p, active + sleep);
  return { active, sleep, mAhPerDay: active + sleep, lifeDays: days, lifeYears: days / DAYS_PER_YEAR };
}
