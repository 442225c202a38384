/**
 * World models in Node: the cost of one call of each model a sensor emulator
 * reads at every wake, from a fresh model (the episodes, leaks, collections and
 * storms it generates as time goes on included) at increasing times over a month, so every
 * call sees a new time. Baseline, in the same run: `weather.at`, which every
 * other model reads; `× weather` is a model's call against it. The simulator
 * calls a model once or a few times per wake (a wake is some 30 µs), so the
 * budget is 1 µs a call; a model over it is marked, not failed (a slow machine
 * is not a wrong model).
 */
import { DAY_MS } from "../../simulator/src/world/calendar.ts";
import { Weather } from "../../simulator/src/world/weather.ts";
import { AirQuality, RegionalAir } from "../../simulator/src/world/air-quality.ts";
import { WaterDemand } from "../../simulator/src/world/water-demand.ts";
import { Bin } from "../../simulator/src/world/bins.ts";
import { Drain } from "../../simulator/src/world/drains.ts";
import { sig, sink, type BenchContext, type BenchModule, type BenchResult } from "./bench-module.ts";

/** Calls per model: a month at about 2.6 s of virtual time between calls. */
const CALLS = 1_000_000;
const SPAN_MS = 30 * DAY_MS;
/** Per-call budget, ns (see the module comment). */
const BUDGET_NS = 1000;

/** The models, each built fresh for its run: name and a factory of the call to time. */
const MODELS: [string, () => (tMs: number) => unknown][] = [
  ["weather.at", () => {
    const w = new Weather({ seed: 1 });
    return (t) => w.at(t);
  }],
  ["air (roadside) at", () => {
    const w = new Weather({ seed: 1 });
    const a = new AirQuality({ seed: 2, weather: w, regional: new RegionalAir({ seed: 3, calendar: w.calendar }), spikesPer30Days: 5 });
    return (t) => a.at(t);
  }],
  ["air (indoor) at", () => {
    const w = new Weather({ seed: 1 });
    const a = new AirQuality({ seed: 2, weather: w, setting: "indoor" });
    return (t) => a.at(t);
  }],
  ["water flowLMin", () => new WaterDemand({ seed: 4, occupants: 5, leaksPerYear: 12, burstsPerYear: 12 }).flowLMin],
  ["bin target", () => new Bin({ seed: 5, weather: new Weather({ seed: 1 }), tipsPer30Days: 3, lidOpenPer30Days: 3 }).target],
  ["bin acceleration", () => new Bin({ seed: 5, weather: new Weather({ seed: 1 }), tipsPer30Days: 3, lidOpenPer30Days: 3 }).acceleration],
  ["drain target", () => new Drain({ seed: 6, weather: new Weather({ seed: 1, climate: { rainEventsPerDayWinter: 1.5 } }), obstructionsPer30Days: 3 }).target],
];

/** ns per call of `make()`'s function over CALLS increasing times (what the model generates lazily as time goes on included). */
function nsPerCall(make: () => (tMs: number) => unknown): number {
  const step = SPAN_MS / CALLS;
  const f = make();
  let defined = 0;
  const t0 = performance.now();
  for (let i = 0; i < CALLS; i++) if (f(i * step) !== undefined) defined++;
  const ms = performance.now() - t0;
  sink.n += defined;
  return (ms * 1e6) / CALLS;
}

function run(ctx: BenchContext): BenchResult {
  const figures: { [name: string]: unknown } = { calls: CALLS, budgetNs: BUDGET_NS };
  const rows: (string | number)[][] = [];
  let weatherNs = 0;
  for (const [name, make] of MODELS) {
    ctx.log(`world: ${name}…`);
    const ns = nsPerCall(make);
    if (name === "weather.at") weatherNs = ns;
    figures[name] = { nsPerCall: sig(ns, 3), vsWeather: sig(ns / weatherNs, 3) };
    rows.push([name, ns.toFixed(0), (ns / weatherNs).toFixed(2), ns <= BUDGET_NS ? "yes" : "OVER"]);
  }
  return {
    figures,
    tables: [{
      title: `World models: one call, from a fresh model, at ${CALLS.toLocaleString("en-US")} increasing times over 30 days`,
      columns: ["model", "ns/call", "× weather", `within ${BUDGET_NS} ns`],
      align: ["l", "r", "r", "l"],
      rows,
      notes: ["Baseline: weather.at, which every other model reads. Budget: a model is called once or a few times per wake of some 30 µs."],
    }],
  };
}

/** World-model call cost (`--only world`). */
export const worldBench: BenchModule = { name: "world", title: "World models: cost per call", run };
