// The drain level pipeline: simulated drains → per-wake features → MLP 8→16→2
// (real / implausible) → post-training int8 → .tflite → model module; and the
// comparison with the level node's plausibility rules.
//
//   node --import tsx scripts/ml/train/level-model.ts [--out firmware/src/ml/models/level.ts]

import { writeFileSync } from "node:fs";
import { Interpreter } from "../../../firmware/src/ml/interpreter.ts";
import type { ModelModule } from "../../../firmware/src/ml/model.ts";
import { convertTflite, importTflite } from "../model-import.ts";
import { writeTflite } from "../tflite-writer.ts";
import { initMlp, train, type Mlp } from "./mlp.ts";
import { floatAccuracy, int8Classifier } from "./evaluate.ts";
import { quantizeMlp } from "./quantize-mlp.ts";
import { LEVEL_FEATURES, TRUTH_MM, levelDataset, modelDecisions, scoreLevel, simulateDrain, thresholdDecisions, type DrainRun, type LevelScore } from "./level-data.ts";

export interface LevelTrainOptions {
  trainSeeds: readonly number[];
  testSeeds: readonly number[];
  days: number;
  epochs: number;
  seed?: number;
}

export interface LevelTrainResult {
  mlp: Mlp;
  bytes: Uint8Array;
  module: ModelModule;
  testRuns: DrainRun[];
  test: ReturnType<typeof levelDataset>;
}

export function trainLevel(o: LevelTrainOptions): LevelTrainResult {
  const trainRuns = o.trainSeeds.map((s) => simulateDrain(s, o.days));
  const testRuns = o.testSeeds.map((s) => simulateDrain(s, o.days));
  const d = levelDataset(trainRuns);
  const mlp = initMlp(LEVEL_FEATURES, 16, 2, o.seed ?? 1);
  const n1 = d.y.reduce((a, y) => a + y, 0);
  const w1 = Math.sqrt((d.y.length - n1) / Math.max(1, n1));
  train(mlp, d.x, d.y, { seed: o.seed ?? 1, epochs: o.epochs, classWeights: [2 / (1 + w1), (2 * w1) / (1 + w1)] });
  const tflite = quantizeMlp(mlp, d.x, { inputScale: 1 / 32, inputZeroPoint: -128, description: "drain level: real / implausible reading per wake, 8 features" });
  const bytes = writeTflite(tflite);
  return { mlp, bytes, module: convertTflite(tflite, "level"), testRuns, test: levelDataset(testRuns) };
}

export interface LevelComparison {
  /** The node's rules. */
  threshold: LevelScore;
  /** The node's rules before readings above the grate needed a path through the full line. */
  before: LevelScore;
  /** Those earlier rules with the near bound at the full line − 30 mm instead of − 100 mm. */
  tight: LevelScore;
  model: LevelScore;
}

export function compareLevel(module: ModelModule, runs: readonly DrainRun[]): LevelComparison {
  const classify = int8Classifier(module);
  let threshold: LevelScore | undefined;
  let before: LevelScore | undefined;
  let model: LevelScore | undefined;
  let tight: LevelScore | undefined;
  for (const r of runs) {
    threshold = scoreLevel(r, thresholdDecisions(r), threshold);
    before = scoreLevel(r, thresholdDecisions(r, { gratePath: false }), before);
    tight = scoreLevel(r, thresholdDecisions(r, { marginMm: TRUTH_MM, gratePath: false }), tight);
    model = scoreLevel(r, modelDecisions(r, classify), model);
  }
  if (!threshold || !before || !model || !tight) throw new Error("no runs");
  return { threshold, before, tight, model };
}

export function levelTable(c: LevelComparison): string {
  const rows = [
    "| detector | wakes | implausible | rejected (recall) | precision of rejection | wrong fills reported / node-month | real readings rejected | real changes ≥ 50 mm accepted at once |",
    "|---|---|---|---|---|---|---|---|",
  ];
  const rules: [string, LevelScore][] = [
    ["node rules (above the grate only through the full line)", c.threshold],
    ["node rules before that (near bound full − 100 mm)", c.before],
    ["those, near bound full − 30 mm", c.tight],
    ["int8 MLP", c.model],
  ];
  for (const [name, s] of rules) {
    const rejected = s.rejectedImplausible + s.rejectedReal;
    rows.push(`| ${name} | ${s.wakes} | ${s.implausible} | ${s.rejectedImplausible} (${(s.rejectedImplausible / Math.max(1, s.implausible)).toFixed(3)}) | ${(s.rejectedImplausible / Math.max(1, rejected)).toFixed(3)} | ${(s.acceptedWrong / (s.nodeDays / 30)).toFixed(1)} | ${s.rejectedReal} | ${s.realChangesAccepted} / ${s.realChanges} |`);
  }
  return rows.join("\n");
}

const range = (from: number, n: number): number[] => Array.from({ length: n }, (_, i) => from + i);
export const LEVEL_DEFAULTS: LevelTrainOptions = { trainSeeds: range(100, 24), testSeeds: range(300, 16), days: 30, epochs: 20, seed: 1 };

if (import.meta.url === `file://${process.argv[1]}`) {
  const outIndex = process.argv.indexOf("--out");
  const outPath = outIndex > 0 ? process.argv[outIndex + 1] : "firmware/src/ml/models/level.ts";
  const t0 = Date.now();
  const r = trainLevel(LEVEL_DEFAULTS);
  console.log(`trained in ${Date.now() - t0} ms; test accuracy (teacher-forced windows) float ${(100 * floatAccuracy(r.mlp, r.test)).toFixed(1)} %`);
  writeFileSync("build/level.tflite", r.bytes);
  const imported = importTflite(r.bytes, { name: "level", outPath, source: "scripts/ml/train/level-model.ts" });
  writeFileSync(outPath, imported.source);
  console.log(`wrote build/level.tflite (${r.bytes.length} B) and ${outPath}; arena ${new Interpreter(r.module).arenaBytes} B`);
  console.log(levelTable(compareLevel(r.module, r.testRuns)));
}
