// The water pipeline: simulated households → window features → train / validation
// / test split by seed → MLP 8→16→3 → post-training int8 → .tflite → model module;
// and the event-level comparison with the node's fixed-threshold detector.
//
//   node --import tsx scripts/ml/train/water-model.ts [--out firmware/src/ml/models/water.ts]

import { writeFileSync } from "node:fs";
import { Interpreter } from "../../../firmware/src/ml/interpreter.ts";
import type { ModelModule } from "../../../firmware/src/ml/model.ts";
import { convertTflite, importTflite } from "../model-import.ts";
import type { TfliteModel } from "../tflite-types.ts";
import { writeTflite } from "../tflite-writer.ts";
import { argmax, initMlp, predict, train, type Mlp } from "./mlp.ts";
import { quantizeMlp } from "./quantize-mlp.ts";
import {
  BURST, CLASSES, ENRICHED, FEATURES, INPUT_SCALE, INPUT_ZERO_POINT, LEAK, WINDOWS_PER_DAY, dataset, modelAlarms, score, simulateHousehold,
  summary, thresholdAlarms, windowFeatures, type Dataset, type Household, type Score,
} from "./water-data.ts";

export interface WaterTrainOptions {
  /** Household seeds per split: disjoint, so the test households are unseen. */
  trainSeeds: readonly number[];
  validationSeeds: readonly number[];
  testSeeds: readonly number[];
  days: number;
  epochs: number;
  hidden?: number;
  seed?: number;
}

export interface WaterTrainResult {
  mlp: Mlp;
  tflite: TfliteModel;
  bytes: Uint8Array;
  module: ModelModule;
  train: Dataset;
  validation: Dataset;
  test: Dataset;
  testHouseholds: Household[];
  losses: number[];
}

/** Class weights inverse to the square root of the class frequency, normalized to a mean of 1. */
function classWeights(ys: readonly number[], classes: number): number[] {
  const n = new Array<number>(classes).fill(0);
  for (const y of ys) n[y]++;
  const w = n.map((c) => 1 / Math.sqrt(Math.max(1, c)));
  const mean = w.reduce((a, b) => a + b, 0) / classes;
  return w.map((v) => v / mean);
}

export function trainWater(o: WaterTrainOptions): WaterTrainResult {
  const sim = (seeds: readonly number[]): Household[] => seeds.map((s) => simulateHousehold(s, o.days));
  const trainH = sim(o.trainSeeds);
  const testHouseholds = sim(o.testSeeds);
  const trainD = dataset(trainH);
  const validation = dataset(sim(o.validationSeeds));
  const test = dataset(testHouseholds);
  const mlp = initMlp(FEATURES, o.hidden ?? 16, CLASSES.length, o.seed ?? 1);
  const losses = train(mlp, trainD.x, trainD.y, { seed: o.seed ?? 1, epochs: o.epochs, classWeights: classWeights(trainD.y, CLASSES.length) });
  const tflite = quantizeMlp(mlp, trainD.x, { inputScale: INPUT_SCALE, inputZeroPoint: INPUT_ZERO_POINT, description: "water: normal / leak / burst per 15-minute window, 8 features" });
  const bytes = writeTflite(tflite);
  return { mlp, tflite, bytes, module: convertTflite(tflite, "water"), train: trainD, validation, test, testHouseholds, losses };
}

/** Int8 predictions with the firmware interpreter. */
export function predictInt8(net: Interpreter, q: readonly Int8Array[]): number[] {
  return q.map((x) => {
    net.input().set(x);
    net.invoke();
    return argmax(net.output());
  });
}

export function accuracy(pred: readonly number[], ys: readonly number[]): number {
  let ok = 0;
  for (let i = 0; i < ys.length; i++) if (pred[i] === ys[i]) ok++;
  return ok / ys.length;
}

export function floatPredictions(m: Mlp, d: Dataset): number[] {
  return d.x.map((x) => predict(m, x));
}

export interface Comparison {
  leak: { threshold: Score; model: Score };
  burst: { threshold: Score; model: Score };
}

const LEAK_GRACE_MS = 24 * 3600_000;
const BURST_GRACE_MS = 15 * 60_000;

/** Event-level comparison of the int8 model (through the interpreter) and the threshold rules on the given households. */
export function compare(module: ModelModule, households: readonly Household[]): Comparison {
  const net = new Interpreter(module);
  const empty = (): Score => ({ incidents: 0, detected: 0, episodes: 0, falseAlarms: 0, latenciesMs: [], nodeDays: 0 });
  const c: Comparison = { leak: { threshold: empty(), model: empty() }, burst: { threshold: empty(), model: empty() } };
  for (const h of households) {
    const feats = windowFeatures(h);
    const pred = new Uint8Array(h.labels.length);
    for (let k = WINDOWS_PER_DAY; k < h.labels.length; k++) {
      const x = net.input();
      for (let i = 0; i < FEATURES; i++) x[i] = feats[k * FEATURES + i] - 128;
      net.invoke();
      pred[k] = argmax(net.output());
    }
    const m = modelAlarms(h, pred);
    const t = thresholdAlarms(h);
    score(h, h.leaks, t.leak, LEAK_GRACE_MS, c.leak.threshold);
    score(h, h.leaks, m.leak, LEAK_GRACE_MS, c.leak.model);
    score(h, h.bursts, t.burst, BURST_GRACE_MS, c.burst.threshold);
    score(h, h.bursts, m.burst, BURST_GRACE_MS, c.burst.model);
  }
  return c;
}

export function comparisonTable(c: Comparison): string {
  const rows = ["| kind | detector | incidents | detected | alarms | false alarms | precision | recall | F1 | median latency | false alarms / node-month |", "|---|---|---|---|---|---|---|---|---|---|---|"];
  for (const kind of ["leak", "burst"] as const) {
    for (const det of ["threshold", "model"] as const) {
      const s = c[kind][det];
      const m = summary(s);
      const lat = Number.isNaN(m.medianLatencyMin) ? "–" : m.medianLatencyMin >= 120 ? `${(m.medianLatencyMin / 60).toFixed(1)} h` : `${m.medianLatencyMin.toFixed(0)} min`;
      rows.push(`| ${kind} | ${det === "model" ? "int8 MLP" : "thresholds"} | ${s.incidents} | ${s.detected} | ${s.episodes} | ${s.falseAlarms} | ${m.precision.toFixed(2)} | ${m.recall.toFixed(2)} | ${m.f1.toFixed(2)} | ${lat} | ${m.falseAlarmsPerNodeMonth.toFixed(2)} |`);
    }
  }
  return rows.join("\n");
}

export const LABELS = { LEAK, BURST };

const range = (from: number, n: number): number[] => Array.from({ length: n }, (_, i) => from + i);

/** The shipped configuration: 40 training, 10 validation and 30 test households of 60 days each. */
export const WATER_DEFAULTS: WaterTrainOptions = { trainSeeds: range(1000, 40), validationSeeds: range(2000, 10), testSeeds: range(3000, 30), days: 60, epochs: 40, seed: 1 };

if (import.meta.url === `file://${process.argv[1]}`) {
  const outIndex = process.argv.indexOf("--out");
  const outPath = outIndex > 0 ? process.argv[outIndex + 1] : "firmware/src/ml/models/water.ts";
  const t0 = Date.now();
  const r = trainWater(WATER_DEFAULTS);
  const net = new Interpreter(r.module);
  const floatAcc = accuracy(floatPredictions(r.mlp, r.test), r.test.y);
  const int8Acc = accuracy(predictInt8(net, r.test.q), r.test.y);
  const valAcc = accuracy(floatPredictions(r.mlp, r.validation), r.validation.y);
  console.log(`trained in ${Date.now() - t0} ms; loss ${r.losses[0].toFixed(3)} → ${r.losses[r.losses.length - 1].toFixed(3)}`);
  console.log(`window accuracy: validation float ${(100 * valAcc).toFixed(1)} %, test float ${(100 * floatAcc).toFixed(1)} %, test int8 ${(100 * int8Acc).toFixed(1)} %`);
  const tflitePath = outPath.replace(/\.ts$/, ".tflite").replace("firmware/src/ml/models/", "build/");
  writeFileSync(tflitePath, r.bytes);
  const imported = importTflite(r.bytes, { name: "water", outPath, source: "scripts/ml/train/water-model.ts" });
  writeFileSync(outPath, imported.source);
  console.log(`wrote ${tflitePath} (${r.bytes.length} B) and ${outPath}; arena ${net.arenaBytes} B`);
  console.log(`\ntest households ${WATER_DEFAULTS.testSeeds[0]}…, ${WATER_DEFAULTS.days} days each, enriched incident rates (${JSON.stringify(ENRICHED)}):\n`);
  console.log(comparisonTable(compare(r.module, r.testHouseholds)));
  const plain = WATER_DEFAULTS.testSeeds.map((s) => simulateHousehold(s + 1000, WATER_DEFAULTS.days, {}));
  console.log(`\nthe world model's default rates (1.5 leaks, 0.2 bursts a year), households ${WATER_DEFAULTS.testSeeds[0] + 1000}…:\n`);
  console.log(comparisonTable(compare(r.module, plain)));
}
