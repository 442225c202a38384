import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { ESLint } from "eslint";
import fc from "fast-check";
import { Interpreter, planArena } from "../../../firmware/src/ml/interpreter.ts";
import type { ModelModule } from "../../../firmware/src/ml/model.ts";
import { ModelImportError, constantBytes, convertTflite, importTflite } from "../../../scripts/ml/model-import.ts";
import { TfliteFormatError, readTflite } from "../../../scripts/ml/tflite-reader.ts";
import type { TfliteModel } from "../../../scripts/ml/tflite-types.ts";
import { BuiltinOperator, TensorType } from "../../../scripts/ml/tflite-types.ts";
import { writeTflite } from "../../../scripts/ml/tflite-writer.ts";
import { convModel, mlpModel, referenceRun, visionModel } from "./models.ts";

const MODELS: [string, () => TfliteModel][] = [["mlp", mlpModel], ["conv", convModel], ["vision", visionModel]];

const clone = (m: TfliteModel): TfliteModel => structuredClone(m);

describe("ml .tflite import: writer → reader → model module → interpreter, against the reference", function () {
  this.timeout(120000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "citysense-ml-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const [name, build] of MODELS) {
    it(`${name}: the .tflite round-trips, imports, and runs bit-exact with the reference on random inputs`, async () => {
      const desc = build();
      const bytes = writeTflite(desc);
      assert.equal(new TextDecoder().decode(bytes.subarray(4, 8)), "TFL3");
      assert.deepEqual(readTflite(bytes), desc);

      const outPath = join(dir, `${name}.ts`);
      const result = importTflite(bytes, { name, outPath, source: `${name}.tflite` });
      writeFileSync(outPath, result.source);
      const { model } = (await import(pathToFileURL(outPath).href)) as { model: ModelModule };
      assert.equal(Object.isFrozen(model) && Object.isFrozen(model.tensors) && Object.isFrozen(model.operators[0]), true);
      assert.deepEqual(model, result.module, "the generated source holds exactly the converted tables");

      const interpreter = new Interpreter(model);
      assert.equal(interpreter.arenaBytes, planArena(model).arenaBytes);
      console.log(`      ${name}: ${model.operators.length} ops, arena ${interpreter.arenaBytes} B, constants ${constantBytes(model)} B, .tflite ${bytes.length} B, module source ${result.source.length} B`);

      const inputLength = interpreter.input().length;
      fc.assert(fc.property(fc.array(fc.integer({ min: -128, max: 127 }), { minLength: inputLength, maxLength: inputLength }), (x) => {
        interpreter.input().set(x);
        interpreter.invoke();
        const expected = referenceRun(desc, x);
        for (let o = 0; o < interpreter.outputCount; o++) assert.deepEqual(Array.from(interpreter.output(o)), expected[o], `output ${o}`);
      }), { numRuns: 200 });
    });
  }

  it("the generated module passes the project's lint rules as a firmware file (no floats)", async () => {
    const result = importTflite(writeTflite(convModel()), { name: "conv", outPath: "firmware/src/ml/models/conv.ts" });
    const [report] = await new ESLint().lintText(result.source, { filePath: "firmware/src/ml/models/conv.ts" });
    assert.deepEqual(report.messages.map((m) => `${m.line}: ${m.ruleId} ${m.message}`), []);
    assert.match(result.source, /int8FromBase64\("/); // the 128 dense weights are base64
    assert.match(result.source, /Int32Array\.from\(\[/); // small tables stay readable
  });

  it("the planner never lets live buffers overlap and aliases reshapes", () => {
    for (const [, build] of MODELS) {
      const module = convertTflite(build(), "m");
      const plan = planArena(module);
      const size = (t: number): number => module.tensors[t].shape.reduce((a, b) => a * b, 1);
      const live: [number, number, number][] = []; // [tensor, first, last]
      module.tensors.forEach((t, i) => {
        if (t.data) return;
        let first = module.inputs.includes(i) ? -1 : Infinity;
        let last = module.outputs.includes(i) ? module.operators.length : -Infinity;
        module.operators.forEach((op, k) => {
          if (op.inputs.includes(i) || op.outputs.includes(i)) {
            first = Math.min(first, k);
            last = Math.max(last, k);
          }
        });
        live.push([i, first, last]);
      });
      for (const [a, fa, la] of live) {
        for (const [b, fb, lb] of live) {
          if (a >= b || fa > lb || fb > la) continue;
          const sameBuffer = plan.offsets[a] === plan.offsets[b] && module.operators.some((op) => op.op === BuiltinOperator.RESHAPE && ((op.inputs[0] === a && op.outputs[0] === b) || (op.inputs[0] === b && op.outputs[0] === a)));
          if (sameBuffer) continue;
          const disjoint = plan.offsets[a] + size(a) <= plan.offsets[b] || plan.offsets[b] + size(b) <= plan.offsets[a];
          assert.ok(disjoint, `tensors ${a} and ${b} overlap while both live`);
        }
        assert.ok(plan.offsets[a] + size(a) <= plan.arenaBytes);
      }
      for (const op of module.operators) {
        if (op.op === BuiltinOperator.RESHAPE) assert.equal(plan.offsets[op.outputs[0]], plan.offsets[op.inputs[0]], "a reshape output shares its input's buffer");
      }
    }
  });

  it("invoke() allocates nothing measurable: twenty thousand invocations keep the heap flat", () => {
    const interpreter = new Interpreter(convertTflite(convModel(), "conv"));
    for (let i = 0; i < 1000; i++) interpreter.invoke();
    globalThis.gc?.();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 20000; i++) interpreter.invoke();
    const grown = process.memoryUsage().heapUsed - before;
    assert.ok(grown < 4 * 1024 * 1024, `heap grew ${grown} bytes`);
  });

  it("an unsupported operator is an error naming the operator index, opcode and tensor", () => {
    const desc = mlpModel();
    const g = desc.subgraphs[0];
    desc.operatorCodes.push({ builtinCode: BuiltinOperator.MUL, version: 1 });
    g.operators[1].opcodeIndex = desc.operatorCodes.length - 1;
    g.operators[1].builtinOptions = undefined;
    assert.throws(() => importTflite(writeTflite(desc), { name: "bad", outPath: join(dir, "bad.ts") }), (e: Error) => {
      assert.ok(e instanceof ModelImportError);
      assert.match(e.message, /operator 1 \(MUL\)/);
      assert.match(e.message, /"dense_1\/BiasAdd"/);
      assert.match(e.message, /not supported/);
      return true;
    });
    const quantize = mlpModel();
    quantize.operatorCodes.push({ builtinCode: BuiltinOperator.QUANTIZE, version: 1 });
    quantize.subgraphs[0].operators.unshift({ opcodeIndex: quantize.operatorCodes.length - 1, inputs: [0], outputs: [0] });
    assert.throws(() => convertTflite(quantize, "q"), /operator 0 \(QUANTIZE\).*"serving_default_x:0"/);
  });

  it("a float tensor is an error naming the operator and the tensor", () => {
    const desc = clone(mlpModel());
    const input = desc.subgraphs[0].tensors[0];
    input.type = TensorType.FLOAT32;
    input.quantization = undefined;
    assert.throws(() => convertTflite(readTflite(writeTflite(desc)), "f"), (e: Error) => {
      assert.ok(e instanceof ModelImportError);
      assert.match(e.message, /operator 0 \(FULLY_CONNECTED\): input tensor 0 "serving_default_x:0" is FLOAT32/);
      return true;
    });
    const weights = clone(convModel());
    weights.subgraphs[0].tensors[1].type = TensorType.FLOAT32;
    assert.throws(() => convertTflite(weights, "w"), /operator 0 \(CONV_2D\): weights tensor 1 "conv1d\/kernel" is FLOAT32/);
  });

  it("unsupported shapes and options are errors naming the operator and tensor", () => {
    const softmax = clone(mlpModel());
    softmax.subgraphs[0].tensors[7].quantization = { scale: [0.01], zeroPoint: [-128], quantizedDimension: 0 };
    assert.throws(() => convertTflite(softmax, "s"), /operator 2 \(SOFTMAX\): output tensor 7 "StatefulPartitionedCall:0" has scale 0\.01/);
    const broadcast = clone(convModel());
    broadcast.subgraphs[0].tensors[6].shape = [1, 1, 1, 4];
    assert.throws(() => convertTflite(broadcast, "b"), /operator 1 \(DEPTHWISE_CONV_2D\)/);
    const fused = clone(mlpModel());
    (fused.subgraphs[0].operators[0].builtinOptions as { fusedActivationFunction: number }).fusedActivationFunction = 4;
    assert.throws(() => convertTflite(fused, "t"), /operator 0 \(FULLY_CONNECTED\): fused activation 4 is not supported/);
    const dynamic = clone(mlpModel());
    dynamic.subgraphs[0].tensors[3].shape = [-1, 16];
    assert.throws(() => convertTflite(dynamic, "d"), /tensor 3 "dense\/Relu" has shape \[-1, 16\]/);
    const grouped = clone(convModel());
    grouped.subgraphs[0].tensors[1].shape = [4, 1, 6, 1];
    assert.throws(() => convertTflite(grouped, "g"), /operator 0 \(CONV_2D\).*grouped convolution/);
  });

  it("a file that is not a .tflite model is rejected", () => {
    assert.throws(() => readTflite(new Uint8Array(16)), TfliteFormatError);
    const bytes = writeTflite(mlpModel());
    assert.throws(() => readTflite(bytes.subarray(0, bytes.length >> 1)), TfliteFormatError);
  });
});
