import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { bundleForXs } from "../../../simulator/src/xs/bundle.ts";
import { Xsnap } from "../../../simulator/src/xs/xsnap.ts";
import { Interpreter } from "../../../firmware/src/ml/interpreter.ts";
import type { ModelModule } from "../../../firmware/src/ml/model.ts";
import { importTflite } from "../../../scripts/ml/model-import.ts";
import type { TfliteModel } from "../../../scripts/ml/tflite-types.ts";
import { writeTflite } from "../../../scripts/ml/tflite-writer.ts";
import { BUILD_TIMEOUT_MS, ensureXsBuilt, evaluateJson } from "../../xs/engine-build.ts";
import { autoencoderModel, convModel, mlpModel, random, referenceRun, visionModel } from "./models.ts";

const MODELS: [string, () => TfliteModel][] = [["mlp", mlpModel], ["conv", convModel], ["vision", visionModel], ["autoencoder", autoencoderModel]];
const INTERPRETER = fileURLToPath(new URL("../../../firmware/src/ml/interpreter.ts", import.meta.url));

describe("ml interpreter in the XS engine: bit-identical to Node, compute per inference", function () {
  this.timeout(BUILD_TIMEOUT_MS);
  let dir: string;
  let xs: Xsnap;
  const modules: ModelModule[] = [];
  const descriptions: TfliteModel[] = [];

  before(async () => {
    await ensureXsBuilt();
    dir = mkdtempSync(join(tmpdir(), "citysense-ml-xs-"));
    const imports: string[] = [];
    for (const [name, build] of MODELS) {
      const desc = build();
      const outPath = join(dir, `${name}.ts`);
      const result = importTflite(writeTflite(desc), { name, outPath });
      writeFileSync(outPath, result.source);
      modules.push(((await import(pathToFileURL(outPath).href)) as { model: ModelModule }).model);
      descriptions.push(desc);
      imports.push(`import { model as m${imports.length} } from ${JSON.stringify(outPath)};`);
    }
    const entry = join(dir, "entry.ts");
    writeFileSync(entry, [
      `import { Interpreter } from ${JSON.stringify(INTERPRETER)};`,
      ...imports,
      `const interpreters = [${MODELS.map((_, i) => `new Interpreter(m${i})`).join(", ")}];`,
      "export function run(which: number, inputs: number[][]): number[][][] {",
      "  const it = interpreters[which];",
      "  return inputs.map((x) => {",
      "    it.input().set(x);",
      "    it.invoke();",
      "    const outs: number[][] = [];",
      "    for (let o = 0; o < it.outputCount; o++) outs.push(Array.from(it.output(o)));",
      "    return outs;",
      "  });",
      "}",
      "export function invokeTimes(which: number, n: number): number {",
      "  const it = interpreters[which];",
      "  for (let i = 0; i < n; i++) it.invoke();",
      "  return n;",
      "}",
      "export function arenaBytes(): number[] {",
      "  return interpreters.map((it) => it.arenaBytes);",
      "}",
      "",
    ].join("\n"));
    xs = await Xsnap.start({ name: "ml-test" });
    await xs.evaluate(await bundleForXs(entry, { globalName: "Ml" }));
  });

  after(async () => {
    await xs?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  MODELS.forEach(([name], which) => {
    it(`${name}: outputs identical to Node (and to the reference), compute meter per inference`, async () => {
      const interpreter = new Interpreter(modules[which]);
      const rand = random(100 + which);
      const count = name === "autoencoder" ? 4 : 40;
      const inputs = Array.from({ length: count }, () => Array.from({ length: interpreter.input().length }, () => Math.floor(rand() * 256) - 128));
      const inNode = inputs.map((x) => {
        interpreter.input().set(x);
        interpreter.invoke();
        return Array.from({ length: interpreter.outputCount }, (_, o) => Array.from(interpreter.output(o)));
      });
      const inXs = await evaluateJson<number[][][]>(xs, `Ml.run(${which}, ${JSON.stringify(inputs)})`);
      assert.deepEqual(inXs, inNode);
      assert.deepEqual(inNode[0], referenceRun(descriptions[which], inputs[0]));
      if (name === "autoencoder") assert.ok(new Set(inNode.flat(2)).size > 20, "outputs are not all saturated");

      // Compute per inference: the difference between deliveries of 1 and n + 1 invocations, divided by n.
      const n = name === "autoencoder" ? 4 : 50;
      const none = await xs.evaluate(`Ml.invokeTimes(${which}, 0)`);
      const one = await xs.evaluate(`Ml.invokeTimes(${which}, 1)`);
      const many = await xs.evaluate(`Ml.invokeTimes(${which}, ${n + 1})`);
      const perInference = Math.round((many.meter.compute - one.meter.compute) / n);
      // invoke() allocates nothing: a delivery of n + 1 invocations leaves the slot heap exactly
      // where a delivery of one does (each delivery itself costs the same few slots for its script).
      const heapGrowth = (many.meter.currentHeapCount - one.meter.currentHeapCount) - (one.meter.currentHeapCount - none.meter.currentHeapCount);
      const [arena] = await evaluateJson<number[]>(xs, `Ml.arenaBytes().slice(${which}, ${which + 1})`);
      console.log(`      ${name}: XS compute ${perInference} per inference, arena ${arena} B, heap slots +${heapGrowth} over ${n} extra invocations`);
      assert.ok(perInference > 0);
      assert.equal(arena, interpreter.arenaBytes);
      assert.ok(heapGrowth <= 0, `heap grew by ${heapGrowth} slots`);
    });
  });
});
