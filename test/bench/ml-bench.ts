/**
 * ML in the XS engine: for each shipped model module (every
 * firmware/src/ml/models/*.ts, found by listing the folder, so a retrained or
 * new model needs no edit here; measured on the module itself, as the firmware
 * imports it) and each test model of test/firmware/ml/models.ts (written as
 * .tflite by scripts/ml/tflite-writer.ts and imported with
 * scripts/ml/model-import.ts, as the firmware's models are), the .tflite
 * bytes (for a shipped module: from the importer's "Source model" header
 * line), the constant tables the firmware keeps in flash, the arena the
 * interpreter allocates, its multiply-accumulates per inference and the XS
 * compute (bytecodes) per inference; and checks that each computes in XS
 * exactly the output it computes in Node (a mismatch fails the run).
 * Baseline, in the same run and engine: a bare int8 dot-product loop
 * (`acc += w[i] * x[i]` over Int8Arrays), so `vs bare MAC` is what the TFLite Micro arithmetic (offsets, requantization,
 * clamping, loop nests) costs over the multiply-accumulates alone.
 * Compute per inference = (meter of n + 1 invokes − meter of 1) / n.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { bundleForXs } from "../../simulator/src/xs/bundle.ts";
import { Xsnap } from "../../simulator/src/xs/xsnap.ts";
import { OP_CONV_2D, OP_DEPTHWISE_CONV_2D, OP_FULLY_CONNECTED, type ModelModule } from "../../firmware/src/ml/model.ts";
import { Interpreter, planArena } from "../../firmware/src/ml/interpreter.ts";
import { constantBytes, importTflite } from "../../scripts/ml/model-import.ts";
import type { TfliteModel } from "../../scripts/ml/tflite-types.ts";
import { writeTflite } from "../../scripts/ml/tflite-writer.ts";
import { ensureXsBuilt, evaluateJson } from "../xs/engine-build.ts";
import { autoencoderModel, convModel, mlpModel, visionModel } from "../firmware/ml/models.ts";
import { sig, thousands, type BenchContext, type BenchModule, type BenchResult } from "./bench-module.ts";

const MODELS: [string, () => TfliteModel, number][] = [["mlp", mlpModel, 40], ["conv", convModel, 20], ["vision", visionModel, 4], ["autoencoder", autoencoderModel, 2]];
const INTERPRETER = fileURLToPath(new URL("../../firmware/src/ml/interpreter.ts", import.meta.url));
const SHIPPED_DIR = fileURLToPath(new URL("../../firmware/src/ml/models/", import.meta.url));
/** Inferences timed per shipped model (they are all small MLPs). */
const SHIPPED_RUNS = 40;

/** The shipped model modules: every .ts file in firmware/src/ml/models/, sorted by name. */
export function shippedModelPaths(): string[] {
  return readdirSync(SHIPPED_DIR).filter((f) => f.endsWith(".ts")).sort().map((f) => join(SHIPPED_DIR, f));
}

/** The .tflite size the importer wrote into a module's header ("Source model: N bytes."), or undefined. */
export function sourceTfliteBytes(moduleSource: string): number | undefined {
  const m = /^\/\/ Source model: (\d+) bytes\.$/m.exec(moduleSource);
  return m ? Number(m[1]) : undefined;
}

const count = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Multiply-accumulates of one inference (fully connected, conv and depthwise conv layers). */
export function macs(m: ModelModule): number {
  let n = 0;
  for (const op of m.operators) {
    const out = count(m.tensors[op.outputs[0]].shape);
    const filter = m.tensors[op.inputs[1]]?.shape;
    if (op.op === OP_FULLY_CONNECTED) n += out * filter[filter.length - 1];
    else if (op.op === OP_CONV_2D) n += out * filter[1] * filter[2] * filter[3];
    else if (op.op === OP_DEPTHWISE_CONV_2D) n += out * filter[1] * filter[2];
  }
  return n;
}

async function run(ctx: BenchContext): Promise<BenchResult> {
  await ensureXsBuilt();
  const dir = mkdtempSync(join(tmpdir(), "citysense-ml-bench-"));
  const xs = await Xsnap.start({ name: "ml-bench" });
  try {
    const modules: ModelModule[] = [];
    const rows: { name: string; shipped: boolean; runs: number; tfliteBytes?: number; constantBytes: number; arenaBytes: number; macs: number; computePerInference?: number }[] = [];
    const imports: string[] = [];
    for (const path of shippedModelPaths()) {
      const module = ((await import(pathToFileURL(path).href)) as { model: ModelModule }).model;
      modules.push(module);
      rows.push({ name: module.name, shipped: true, runs: SHIPPED_RUNS, tfliteBytes: sourceTfliteBytes(readFileSync(path, "utf8")), constantBytes: constantBytes(module), arenaBytes: planArena(module).arenaBytes, macs: macs(module) });
      imports.push(`import { model as m${imports.length} } from ${JSON.stringify(path)};`);
    }
    for (const [name, build, runs] of MODELS) {
      const tflite = writeTflite(build());
      const outPath = join(dir, `${name}.ts`);
      const r = importTflite(tflite, { name, outPath });
      writeFileSync(outPath, r.source);
      modules.push(r.module);
      rows.push({ name, shipped: false, runs, tfliteBytes: tflite.length, constantBytes: r.constantBytes, arenaBytes: r.arenaBytes, macs: macs(r.module) });
      imports.push(`import { model as m${imports.length} } from ${JSON.stringify(outPath)};`);
    }
    const entry = join(dir, "entry.ts");
    writeFileSync(entry, [
      `import { Interpreter } from ${JSON.stringify(INTERPRETER)};`,
      ...imports,
      `const interpreters = [${imports.map((_, i) => `new Interpreter(m${i})`).join(", ")}];`,
      "export function invokeTimes(which: number, n: number): number {",
      "  const it = interpreters[which];",
      "  const x = it.input();",
      "  for (let i = 0; i < x.length; i++) x[i] = ((i * 37) & 255) - 128;",
      "  for (let i = 0; i < n; i++) it.invoke();",
      "  return n;",
      "}",
      "/** The output of one inference on the bench's input pattern, to check XS against Node. */",
      "export function outputOf(which: number): number[] {",
      "  invokeTimes(which, 1);",
      "  return Array.from(interpreters[which].output());",
      "}",
      "export function arenaBytes(): number[] {",
      "  return interpreters.map((it) => it.arenaBytes);",
      "}",
      "const w = new Int8Array(1000);",
      "const x = new Int8Array(1000);",
      "for (let i = 0; i < 1000; i++) { w[i] = ((i * 31) & 255) - 128; x[i] = ((i * 17) & 255) - 128; }",
      "let sink = 0;",
      "/** The baseline: `n` passes of a bare 1000-long int8 dot product. */",
      "export function bareMacs(n: number): number {",
      "  for (let k = 0; k < n; k++) {",
      "    let acc = 0;",
      "    for (let i = 0; i < 1000; i++) acc += w[i] * x[i];",
      "    sink ^= acc;",
      "  }",
      "  return sink;",
      "}",
      "",
    ].join("\n"));
    await xs.evaluate(await bundleForXs(entry, { globalName: "MlBench" }));
    const arenas = await evaluateJson<number[]>(xs, "MlBench.arenaBytes()");
    const failed: string[] = [];
    const b1 = await xs.evaluate("MlBench.bareMacs(1)");
    const b21 = await xs.evaluate("MlBench.bareMacs(21)");
    const bareComputePerMac = (b21.meter.compute - b1.meter.compute) / (20 * 1000);
    for (let i = 0; i < rows.length; i++) {
      const n = rows[i].runs;
      ctx.log(`ml: ${rows[i].name}, ${n} + 1 inferences in XS…`);
      const one = await xs.evaluate(`MlBench.invokeTimes(${i}, 1)`);
      const many = await xs.evaluate(`MlBench.invokeTimes(${i}, ${n + 1})`);
      rows[i].computePerInference = Math.round((many.meter.compute - one.meter.compute) / n);
      if (arenas[i] !== rows[i].arenaBytes) throw new Error(`${rows[i].name}: arena ${arenas[i]} B in XS, ${rows[i].arenaBytes} B planned`);
      // The module must compute in XS exactly what it computes in Node on the same input.
      const node = new Interpreter(modules[i]);
      const x = node.input();
      for (let k = 0; k < x.length; k++) x[k] = ((k * 37) & 255) - 128;
      node.invoke();
      const inXs = await evaluateJson<number[]>(xs, `MlBench.outputOf(${i})`);
      if (inXs.join() !== Array.from(node.output()).join()) failed.push(`${rows[i].name}: XS output ${inXs.join()} ≠ Node ${Array.from(node.output()).join()}`);
    }
    const models: { [name: string]: unknown } = {};
    const shipped: { [name: string]: unknown } = {};
    for (const r of rows) {
      const perMac = r.computePerInference! / r.macs;
      const { shipped: isShipped, runs: _runs, ...figures } = r;
      (isShipped ? shipped : models)[r.name] = { ...figures, computePerMac: sig(perMac, 4), vsBareMac: sig(perMac / bareComputePerMac, 3) };
    }
    const table = (title: string, which: typeof rows) => ({
      title,
      columns: ["model", ".tflite B", "flash tables B", "arena B", "MACs", "XS compute/inference", "compute/MAC", "vs bare MAC"],
      align: ["l", "r", "r", "r", "r", "r", "r", "r"] as ("l" | "r")[],
      rows: which.map((r) => {
        const perMac = r.computePerInference! / r.macs;
        return [r.name, r.tfliteBytes === undefined ? "?" : thousands(r.tfliteBytes), thousands(r.constantBytes), thousands(r.arenaBytes), thousands(r.macs), thousands(r.computePerInference!), perMac.toFixed(1), (perMac / bareComputePerMac).toFixed(2) + "×"];
      }),
      notes: [`Bare MAC loop: ${bareComputePerMac.toFixed(2)} compute per multiply-accumulate. Compute is XS's meter (bytecodes executed), not time.`],
    });
    return {
      figures: { bareComputePerMac: sig(bareComputePerMac, 4), shipped, models },
      failed: failed.length ? failed.join("; ") : undefined,
      tables: [
        table("ML shipped models (firmware/src/ml/models/*.ts) in XS: sizes and compute per inference", rows.filter((r) => r.shipped)),
        table("ML test models in XS: sizes and compute per inference (baseline: a bare int8 MAC loop in XS)", rows.filter((r) => !r.shipped)),
      ],
    };
  } finally {
    await xs.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export const mlBench: BenchModule = {
  name: "ml",
  title: "ML: model sizes, arena, XS compute per inference",
  run,
};
