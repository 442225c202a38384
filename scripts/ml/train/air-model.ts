// The air fault pipeline: simulated air nodes with injected sensor faults →
// per-wake features → MLP 19→16→3 (clean / CO2 reading wrong / PM reading
// wrong) → post-training int8 → .tflite → model module; and the per-incident
// comparison of the air node's alarm rules alone against the same rules gated
// by the model (an alarm is not raised while the model calls its sensor faulty).
//
//   node --import tsx scripts/ml/train/air-model.ts [--out firmware/src/ml/models/air.ts]

import { writeFileSync } from "node:fs";
import { Interpreter } from "../../../firmware/src/ml/interpreter.ts";
import type { ModelModule } from "../../../firmware/src/ml/model.ts";
import { convertTflite, importTflite } from "../model-import.ts";
import { writeTflite } from "../tflite-writer.ts";
import { initMlp, train, type Mlp } from "./mlp.ts";
import { floatAccuracy, int8Accuracy, int8Classifier } from "./evaluate.ts";
import { quantizeMlp } from "./quantize-mlp.ts";
import {
  AIR_FEATURES, CO2_FAULT, DEFAULT_RATES, ENRICHED, FAULT_KINDS, PM_FAULT, airDataset, airFeatures, alarmsOf, emptyScore, gatedActive, ruleTrace, scoreAir, simulateAir,
  type AirRates, type AirRun, type AirScore, type Family,
} from "./air-data.ts";

export interface AirTrainOptions {
  trainSeeds: readonly number[];
  testSeeds: readonly number[];
  days: number;
  epochs: number;
  seed?: number;
}

export interface AirTrainResult {
  mlp: Mlp;
  bytes: Uint8Array;
  module: ModelModule;
  testRuns: AirRun[];
  test: ReturnType<typeof airDataset>;
}

export function trainAir(o: AirTrainOptions): AirTrainResult {
  const trainRuns = o.trainSeeds.map((s) => simulateAir(s, o.days));
  const testRuns = o.testSeeds.map((s) => simulateAir(s, o.days));
  const d = airDataset(trainRuns);
  const mlp = initMlp(AIR_FEATURES, 16, 3, o.seed ?? 1);
  // Inverse-square-root class frequencies: faults are the minority but must not swamp clean wakes.
  const n = [0, 0, 0];
  for (const y of d.y) n[y]++;
  const w = n.map((c) => Math.sqrt(d.y.length / (3 * Math.max(1, c))));
  train(mlp, d.x, d.y, { seed: o.seed ?? 1, epochs: o.epochs, classWeights: w });
  const tflite = quantizeMlp(mlp, d.x, { inputScale: 1 / 32, inputZeroPoint: -128, description: "air: clean / CO2 fault / PM fault per wake, 19 features" });
  const bytes = writeTflite(tflite);
  return { mlp, bytes, module: convertTflite(tflite, "air"), testRuns, test: airDataset(testRuns, false, false) };
}

/** Per family: the node's rules alone, gated by hand-written fault checks, and gated by the model. */
export interface AirComparison {
  co2: { rules: AirScore; checks: AirScore; model: AirScore };
  pm: { rules: AirScore; checks: AirScore; model: AirScore };
}

/**
 * A baseline without a model: fault checks one would write by hand from the
 * same features, used as the same gate. CO2 is called faulty when its 24 h
 * minimum is ≥ 704 ppm (outdoor air, or a room empty overnight, falls near
 * 420 ppm every day) or the raw reading repeated ≥ 2 wakes in a row; PM when
 * the raw PM2.5 repeated ≥ 2 wakes in a row, or PM1 = PM2.5 and PM10 = PM2.5
 * at ≥ 10 µg/m³ (no real aerosol is all below 1 µm and none above 2.5 µm).
 */
export function checkClasses(run: AirRun): number[] {
  return airFeatures(run).map((f, i) => {
    if (f[2] >= 88 || f[4] >= 32) return CO2_FAULT;
    if (f[11] >= 32 || (f[9] === 128 && f[10] === 32 && run.wakes[i].pm25 >= 100)) return PM_FAULT;
    return 0;
  });
}

/** The int8 model's class per wake of a run. */
export function classesOf(module: ModelModule, run: AirRun): number[] {
  const classify = int8Classifier(module);
  return airFeatures(run).map((f) => classify(Int8Array.from(f, (c) => c - 128)));
}

export function compareAir(module: ModelModule, runs: readonly AirRun[]): AirComparison {
  const c: AirComparison = { co2: { rules: emptyScore(), checks: emptyScore(), model: emptyScore() }, pm: { rules: emptyScore(), checks: emptyScore(), model: emptyScore() } };
  for (const run of runs) {
    const tr = ruleTrace(run);
    const classes = classesOf(module, run);
    const checks = checkClasses(run);
    scoreAir(run, "co2", alarmsOf(run, gatedActive(tr.co2Active, checks, CO2_FAULT)), c.co2.checks);
    scoreAir(run, "pm", alarmsOf(run, gatedActive(tr.pmActive, checks, PM_FAULT)), c.pm.checks);
    scoreAir(run, "co2", alarmsOf(run, tr.co2Active), c.co2.rules);
    scoreAir(run, "co2", alarmsOf(run, gatedActive(tr.co2Active, classes, CO2_FAULT)), c.co2.model);
    scoreAir(run, "pm", alarmsOf(run, tr.pmActive), c.pm.rules);
    scoreAir(run, "pm", alarmsOf(run, gatedActive(tr.pmActive, classes, PM_FAULT)), c.pm.model);
  }
  return c;
}

function minutes(ms: number): string {
  return ms >= 3600_000 ? `${(ms / 3600_000).toFixed(1)} h` : `${Math.round(ms / 60_000)} min`;
}

function median(v: readonly number[]): number {
  if (v.length === 0) return NaN;
  const s = [...v].sort((a, b) => a - b);
  return s[s.length >> 1];
}

export function airTable(c: AirComparison): string {
  const rows = [
    "| alarm | detector | real events | detected (recall) | alarms | true | fault-caused | other false | precision | F1 | median latency | false alarms / node-month | faults raising an alarm |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const fam of ["co2", "pm"] as Family[]) {
    for (const [name, s] of [["node rules", c[fam].rules], ["rules gated by hand-written checks", c[fam].checks], ["rules gated by int8 MLP", c[fam].model]] as const) {
      const recall = s.detected / Math.max(1, s.events);
      const precision = s.trueAlarms / Math.max(1, s.alarms);
      const f1 = recall + precision > 0 ? (2 * recall * precision) / (recall + precision) : 0;
      const falseAlarms = s.faultAlarms + s.otherFalseAlarms;
      rows.push(`| ${fam === "co2" ? "CO2 high" : "PM (spike / AQI ≥ unhealthy)"} | ${name} | ${s.events} | ${s.detected} (${recall.toFixed(3)}) | ${s.alarms} | ${s.trueAlarms} | ${s.faultAlarms} | ${s.otherFalseAlarms} | ${precision.toFixed(3)} | ${f1.toFixed(3)} | ${s.latenciesMs.length ? minutes(median(s.latenciesMs)) : "–"} | ${(falseAlarms / (s.nodeDays / 30)).toFixed(2)} | ${s.faultsAlarming} / ${s.faults} |`);
    }
  }
  rows.push("", "Fault-caused false alarms by fault kind (node rules → hand-written checks → int8 MLP gate):", "");
  rows.push(`| ${FAULT_KINDS.join(" | ")} |`, `|${FAULT_KINDS.map(() => "---|").join("")}`);
  rows.push(`| ${FAULT_KINDS.map((k) => {
    const fam: Family = k.startsWith("co2") ? "co2" : "pm";
    return `${c[fam].rules.byKind[k] ?? 0} → ${c[fam].checks.byKind[k] ?? 0} → ${c[fam].model.byKind[k] ?? 0}`;
  }).join(" | ")} |`);
  return rows.join("\n");
}

const range = (from: number, n: number): number[] => Array.from({ length: n }, (_, i) => from + i);
export const AIR_DEFAULTS: AirTrainOptions = { trainSeeds: range(1000, 40), testSeeds: range(3000, 20), days: 60, epochs: 20, seed: 1 };
/** Held-out nodes at the world model's default rates (and about one fault a node-quarter). */
export const AIR_DEFAULT_RATE_SEEDS = range(4000, 20);

export function simulateMany(seeds: readonly number[], days: number, rates: AirRates = ENRICHED): AirRun[] {
  return seeds.map((s) => simulateAir(s, days, rates));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const outIndex = process.argv.indexOf("--out");
  const outPath = outIndex > 0 ? process.argv[outIndex + 1] : "firmware/src/ml/models/air.ts";
  const t0 = Date.now();
  const r = trainAir(AIR_DEFAULTS);
  console.log(`trained in ${Date.now() - t0} ms; test wakes (faulty, alarming and every 4th other wake): float ${(100 * floatAccuracy(r.mlp, r.test)).toFixed(1)} %, int8 ${(100 * int8Accuracy(r.module, r.test)).toFixed(1)} %`);
  writeFileSync("build/air.tflite", r.bytes);
  const imported = importTflite(r.bytes, { name: "air", outPath, source: "scripts/ml/train/air-model.ts" });
  writeFileSync(outPath, imported.source);
  console.log(`wrote build/air.tflite (${r.bytes.length} B) and ${outPath}; arena ${new Interpreter(r.module).arenaBytes} B, constants ${imported.constantBytes} B`);
  console.log(`\nTest nodes ${AIR_DEFAULTS.testSeeds[0]}…${AIR_DEFAULTS.testSeeds.at(-1)}, ${AIR_DEFAULTS.days} days, enriched rates (${JSON.stringify(ENRICHED)}):\n`);
  console.log(airTable(compareAir(r.module, r.testRuns)));
  console.log(`\nNodes ${AIR_DEFAULT_RATE_SEEDS[0]}…${AIR_DEFAULT_RATE_SEEDS.at(-1)}, ${AIR_DEFAULTS.days} days, default rates (${JSON.stringify(DEFAULT_RATES)}):\n`);
  console.log(airTable(compareAir(r.module, simulateMany(AIR_DEFAULT_RATE_SEEDS, AIR_DEFAULTS.days, DEFAULT_RATES))));
}
