// The waste bin pipeline: simulated bins → per-wake features → MLP 12→16→2
// (real / implausible reading) → post-training int8 → .tflite → model module;
// and the comparison with the level node's bin plausibility rules.
//
//   node --import tsx scripts/ml/train/bin-model.ts [--out firmware/src/ml/models/bin.ts]

import { writeFileSync } from "node:fs";
import { Interpreter } from "../../../firmware/src/ml/interpreter.ts";
import type { ModelModule } from "../../../firmware/src/ml/model.ts";
import { convertTflite, importTflite } from "../model-import.ts";
import { writeTflite } from "../tflite-writer.ts";
import { initMlp, predict, train, type Mlp } from "./mlp.ts";
import { floatAccuracy, int8Classifier } from "./evaluate.ts";
import { quantizeMlp } from "./quantize-mlp.ts";
import {
  BIN_FEATURES, DEFAULT_FAULTS_PER_30_DAYS, ENRICHED_FAULTS_PER_30_DAYS, binDataset, emptyBinScore, modelDecisions, scoreBin, simulateBin, thresholdDecisions,
  type BinRun, type BinScore,
} from "./bin-data.ts";

export interface BinTrainOptions {
  trainSeeds: readonly number[];
  testSeeds: readonly number[];
  days: number;
  epochs: number;
  seed?: number;
}

export interface BinTrainResult {
  mlp: Mlp;
  bytes: Uint8Array;
  module: ModelModule;
  testRuns: BinRun[];
  test: ReturnType<typeof binDataset>;
}

export function trainBin(o: BinTrainOptions): BinTrainResult {
  const trainRuns = o.trainSeeds.map((s) => simulateBin(s, o.days));
  const testRuns = o.testSeeds.map((s) => simulateBin(s, o.days));
  const d = binDataset(trainRuns);
  const mlp = initMlp(BIN_FEATURES, 16, 2, o.seed ?? 1);
  const n1 = d.y.reduce((a, y) => a + y, 0);
  const w1 = Math.sqrt((d.y.length - n1) / Math.max(1, n1));
  const classWeights = [2 / (1 + w1), (2 * w1) / (1 + w1)];
  train(mlp, d.x, d.y, { seed: o.seed ?? 1, epochs: o.epochs, classWeights });
  // Second round on the states the first model's own decisions lead to (teacher forcing alone
  // leaves it unable to recover from a run of rejections: it never saw one), with the first round's windows.
  const own = binDataset(trainRuns, (x) => predict(mlp, x) === 0);
  train(mlp, [...d.x, ...own.x], [...d.y, ...own.y], { seed: (o.seed ?? 1) + 1, epochs: Math.max(1, o.epochs >> 1), classWeights });
  const tflite = quantizeMlp(mlp, d.x, { inputScale: 1 / 32, inputZeroPoint: -128, description: "waste bin: real / implausible reading per wake, 12 features" });
  const bytes = writeTflite(tflite);
  return { mlp, bytes, module: convertTflite(tflite, "bin"), testRuns, test: binDataset(testRuns) };
}

export interface BinComparison {
  threshold: BinScore;
  /** The node's rules plus a rejection of readings at a tilt of TILT_RULE_DEG or more. */
  tilt: BinScore;
  model: BinScore;
}

/** Tilt from which the "rules + tilt" baseline rejects a reading (a closed lid reads 0–2° with the LIS3DH's noise). */
export const TILT_RULE_DEG = 5;

export function compareBin(module: ModelModule, runs: readonly BinRun[]): BinComparison {
  const classify = int8Classifier(module);
  const c: BinComparison = { threshold: emptyBinScore(), tilt: emptyBinScore(), model: emptyBinScore() };
  for (const r of runs) {
    scoreBin(r, thresholdDecisions(r), c.threshold);
    scoreBin(r, thresholdDecisions(r, TILT_RULE_DEG), c.tilt);
    scoreBin(r, modelDecisions(r, classify), c.model);
  }
  return c;
}

export function binTable(c: BinComparison): string {
  const rows = [
    "| detector | readings | implausible | rejected (recall) | precision of rejection | wrong fills reported / node-month | real readings rejected | real changes ≥ 10 % accepted at once | full alarms | false full alarms (true fill < 70 %) | full episodes alarmed |",
    "|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const [name, s] of [["node rules", c.threshold], [`node rules + reject at tilt ≥ ${TILT_RULE_DEG}°`, c.tilt], ["int8 MLP", c.model]] as const) {
    const rejected = s.rejectedImplausible + s.rejectedReal;
    rows.push(`| ${name} | ${s.wakes} | ${s.implausible} | ${s.rejectedImplausible} (${(s.rejectedImplausible / Math.max(1, s.implausible)).toFixed(3)}) | ${(s.rejectedImplausible / Math.max(1, rejected)).toFixed(3)} | ${(s.acceptedWrong / (s.nodeDays / 30)).toFixed(1)} | ${s.rejectedReal} | ${s.realChangesAccepted} / ${s.realChanges} | ${s.fullAlarms} | ${s.falseFull} | ${s.fullDetected} / ${s.fullEpisodes} |`);
  }
  return rows.join("\n");
}

const range = (from: number, n: number): number[] => Array.from({ length: n }, (_, i) => from + i);
export const BIN_DEFAULTS: BinTrainOptions = { trainSeeds: range(100, 40), testSeeds: range(300, 20), days: 60, epochs: 20, seed: 1 };
/** Held-out bins with about one injected failure a month. */
export const BIN_DEFAULT_RATE_SEEDS = range(400, 20);

if (import.meta.url === `file://${process.argv[1]}`) {
  const outIndex = process.argv.indexOf("--out");
  const outPath = outIndex > 0 ? process.argv[outIndex + 1] : "firmware/src/ml/models/bin.ts";
  const t0 = Date.now();
  const r = trainBin(BIN_DEFAULTS);
  console.log(`trained in ${Date.now() - t0} ms; test accuracy (teacher-forced wakes) float ${(100 * floatAccuracy(r.mlp, r.test)).toFixed(1)} %`);
  writeFileSync("build/bin.tflite", r.bytes);
  const imported = importTflite(r.bytes, { name: "bin", outPath, source: "scripts/ml/train/bin-model.ts" });
  writeFileSync(outPath, imported.source);
  console.log(`wrote build/bin.tflite (${r.bytes.length} B) and ${outPath}; arena ${new Interpreter(r.module).arenaBytes} B, constants ${imported.constantBytes} B`);
  console.log(`\nTest bins ${BIN_DEFAULTS.testSeeds[0]}…${BIN_DEFAULTS.testSeeds.at(-1)}, ${BIN_DEFAULTS.days} days, ${ENRICHED_FAULTS_PER_30_DAYS} injected failures per 30 days:\n`);
  console.log(binTable(compareBin(r.module, r.testRuns)));
  console.log(`\nBins ${BIN_DEFAULT_RATE_SEEDS[0]}…${BIN_DEFAULT_RATE_SEEDS.at(-1)}, ${BIN_DEFAULTS.days} days, ${DEFAULT_FAULTS_PER_30_DAYS} injected failure per 30 days:\n`);
  console.log(binTable(compareBin(r.module, BIN_DEFAULT_RATE_SEEDS.map((s) => simulateBin(s, BIN_DEFAULTS.days, DEFAULT_FAULTS_PER_30_DAYS)))));
}
