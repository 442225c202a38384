import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Interpreter } from "../../../firmware/src/ml/interpreter.ts";
import type { ModelModule } from "../../../firmware/src/ml/model.ts";
import { importTflite } from "../../../scripts/ml/model-import.ts";
import { readTflite } from "../../../scripts/ml/tflite-reader.ts";
import type { TfliteModel } from "../../../scripts/ml/tflite-types.ts";
import { initMlp, train } from "../../../scripts/ml/train/mlp.ts";
import { asymmetricParams, quantizeWeights } from "../../../scripts/ml/train/quantize-mlp.ts";
import { dataset, logCode, modelAlarms, score, simulateHousehold, summary, thresholdAlarms, BURST, LEAK } from "../../../scripts/ml/train/water-data.ts";
import { accuracy, compare, floatPredictions, predictInt8, trainWater, type WaterTrainOptions } from "../../../scripts/ml/train/water-model.ts";
import { model as shippedWater } from "../../../firmware/src/ml/models/water.ts";
import { referenceRun } from "./models.ts";

const SMALL: WaterTrainOptions = { trainSeeds: [11, 12, 13, 14], validationSeeds: [21], testSeeds: [31, 32], days: 21, epochs: 8, seed: 7 };

/**
 * An independent float reference of the quantized model: dequantize each
 * tensor, compute each layer in double precision, quantize its output with
 * round-half-away (TFLite's converter arithmetic, not TFLM's integer path).
 */
function floatQuantizedRun(model: TfliteModel, input: readonly number[]): number[] {
  const g = model.subgraphs[0];
  const q = (t: number): { s: number; z: number } => ({ s: g.tensors[t].quantization?.scale[0] ?? 1, z: g.tensors[t].quantization?.zeroPoint[0] ?? 0 });
  const data = (t: number, bytes: 1 | 4): number[] => {
    const b = model.buffers[g.tensors[t].buffer];
    const v = new DataView(b.buffer, b.byteOffset, b.length);
    return Array.from({ length: b.length / bytes }, (_, i) => (bytes === 1 ? v.getInt8(i) : v.getInt32(4 * i, true)));
  };
  const clamp = (v: number, lo: number, hi: number): number => Math.max(lo, Math.min(hi, v));
  let x = input.slice();
  for (const op of g.operators) {
    const iq = q(op.inputs[0]);
    const oq = q(op.outputs[0]);
    const real = x.map((v) => (v - iq.z) * iq.s);
    if (op.builtinOptions?.kind === "FullyConnectedOptions") {
      const wt = g.tensors[op.inputs[1]];
      const [out, inp] = wt.shape;
      const w = data(op.inputs[1], 1);
      const b = data(op.inputs[2], 4);
      const ws = wt.quantization?.scale ?? [];
      const y: number[] = [];
      for (let c = 0; c < out; c++) {
        let a = b[c] * ws[c] * iq.s;
        for (let i = 0; i < inp; i++) a += w[c * inp + i] * ws[c] * real[i];
        if (op.builtinOptions.fusedActivationFunction === 1) a = Math.max(0, a);
        y.push(clamp(Math.round(a / oq.s) + oq.z, -128, 127));
      }
      x = y;
    } else {
      const m = Math.max(...real);
      const e = real.map((v) => Math.exp(v - m));
      const s = e.reduce((a, b) => a + b, 0);
      x = e.map((v) => clamp(Math.round(v / s / oq.s) + oq.z, -128, 127));
    }
  }
  return x;
}

describe("ml training: water pipeline (features → MLP → int8 → .tflite → model module)", function () {
  this.timeout(120000);
  let dir: string;
  let r: ReturnType<typeof trainWater>;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "citysense-train-"));
    r = trainWater(SMALL);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("features are integer codes the node can compute; the split holds all three classes", () => {
    assert.deepEqual([0, 1, 2, 7, 8, 15, 16, 30_000].map(logCode), [0, 1, 9, 23, 25, 32, 33, 119]);
    for (const d of [r.train, r.test]) {
      for (const q of d.q) assert.equal(q.length, 8);
      assert.deepEqual(new Set(d.y).size, 3, "normal, leak and burst windows");
    }
  });

  it("trains deterministically: the same options give the same .tflite bytes", () => {
    const again = trainWater(SMALL);
    assert.deepEqual(again.bytes, r.bytes);
    assert.ok(r.losses[r.losses.length - 1] < r.losses[0], "the loss falls");
  });

  it("quantizes per the TFLite spec: per-channel symmetric weights, int32 bias at in·w scale, calibrated activations", () => {
    const m = readTflite(r.bytes);
    const g = m.subgraphs[0];
    const [fc1, fc2] = g.operators;
    for (const op of [fc1, fc2]) {
      const w = g.tensors[op.inputs[1]];
      const b = g.tensors[op.inputs[2]];
      const inScale = g.tensors[op.inputs[0]].quantization?.scale[0] ?? 0;
      assert.equal(w.quantization?.scale.length, w.shape[0], "one weight scale per output channel");
      assert.ok(w.quantization?.zeroPoint.every((z) => z === 0));
      const wq = new Int8Array(m.buffers[w.buffer].buffer, m.buffers[w.buffer].byteOffset, m.buffers[w.buffer].length);
      assert.ok(wq.every((v) => v >= -127), "weights in [−127, 127]");
      for (let c = 0; c < w.shape[0]; c++) {
        assert.equal(b.quantization?.scale[c], Math.fround(Math.fround(inScale) * (w.quantization?.scale[c] ?? 0)));
        assert.equal(Math.max(...Array.from(wq.subarray(c * w.shape[1], (c + 1) * w.shape[1]), Math.abs)), 127, "each channel uses the full range");
      }
    }
    assert.deepEqual(asymmetricParams(0, 2.55), { scale: Math.fround(0.01), zeroPoint: -128 });
    assert.deepEqual(quantizeWeights([0.5, -1, 0.25, 0.1], 2, 2).q, Int8Array.from([64, -127, 127, 51]));
    const out = g.tensors[g.outputs[0]].quantization;
    assert.deepEqual([out?.scale[0], out?.zeroPoint[0]], [1 / 256, -128]);
  });

  it("the exported .tflite imports into a model module, and the interpreter is bit-exact with the TFLM reference and within 1 LSB of a float reference", async () => {
    const outPath = join(dir, "water.ts");
    const imported = importTflite(r.bytes, { name: "water", outPath });
    writeFileSync(outPath, imported.source);
    const { model } = (await import(pathToFileURL(outPath).href)) as { model: ModelModule };
    assert.deepEqual(model, r.module);
    const net = new Interpreter(model);
    const desc = readTflite(r.bytes);
    let worst = 0;
    for (const x of r.test.q.filter((_, i) => i % 7 === 0)) {
      net.input().set(x);
      net.invoke();
      const got = Array.from(net.output());
      assert.deepEqual(got, referenceRun(desc, Array.from(x))[0]);
      const f = floatQuantizedRun(desc, Array.from(x));
      for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - f[i]));
    }
    assert.ok(worst <= 1, `worst difference ${worst} LSB`);
  });

  it("the int8 model's accuracy is within 2 points of the float model's, on unseen households, and well above the majority class", () => {
    const floatAcc = accuracy(floatPredictions(r.mlp, r.test), r.test.y);
    const int8Acc = accuracy(predictInt8(new Interpreter(r.module), r.test.q), r.test.y);
    const majority = r.test.y.filter((y) => y === 0).length / r.test.y.length;
    assert.ok(Math.abs(floatAcc - int8Acc) <= 0.02, `float ${floatAcc} int8 ${int8Acc}`);
    assert.ok(floatAcc > majority + 0.5 * (1 - majority), `float ${floatAcc} majority ${majority}`);
  });

  it("Adam reduces the loss on a separable toy problem", () => {
    const m = initMlp(2, 4, 2, 3);
    const xs = Array.from({ length: 64 }, (_, i) => [((i * 37) % 64) / 32 - 1, ((i * 11) % 64) / 32 - 1]);
    const ys = xs.map(([a, b]) => (a + b > 0 ? 1 : 0));
    const losses = train(m, xs, ys, { seed: 1, epochs: 60, learningRate: 0.05 });
    assert.ok(losses[59] < 0.3 * losses[0], `${losses[0]} → ${losses[59]}`);
  });
});

describe("ml training: event-level scoring against the water node's threshold rules", function () {
  this.timeout(60000);
  it("the threshold detector flags a scripted 100 mL/min leak at the end of the next night and a 40 L/min burst after 2 minutes", () => {
    const day = 24 * 3600_000;
    const h = simulateHousehold(5, 6, { randomIncidents: false, leaks: [{ startMs: 2 * day + 12 * 3600_000, endMs: 4 * day, flowLMin: 0.1 }], bursts: [{ startMs: 3 * day + 15 * 3600_000, endMs: 3 * day + 15.5 * 3600_000, flowLMin: 40 }] });
    const t = thresholdAlarms(h);
    assert.equal(t.leak.length, 1);
    assert.equal(t.leak[0].raiseMs - h.startMs, 3 * day + 5 * 3600_000);
    assert.equal(t.burst.length, 1);
    assert.equal(t.burst[0].raiseMs - h.startMs, 3 * day + 15 * 3600_000 + 2 * 60_000);
    const s = summary(score(h, h.leaks, t.leak, day));
    assert.deepEqual([s.recall, s.precision, s.medianLatencyMin], [1, 1, 17 * 60]);
    assert.ok(h.labels.includes(LEAK) && h.labels.includes(BURST));
    const pred = Array.from(h.labels);
    assert.equal(modelAlarms(h, pred).burst.length, 1);
  });

  it("the committed models/water.ts still fits the feature code: window accuracy and leak recall on unseen households", () => {
    const households = [3000, 3001, 3002].map((s) => simulateHousehold(s, 30));
    const d = dataset(households);
    const acc = accuracy(predictInt8(new Interpreter(shippedWater), d.q), d.y);
    assert.ok(acc >= 0.98, `window accuracy ${acc}`);
    const c = compare(shippedWater, households);
    assert.ok(c.leak.model.incidents > 0 && c.leak.model.detected === c.leak.model.incidents);
    assert.equal(shippedWater.operators.length, 3);
  });

  it("compare() scores both detectors on the same households", () => {
    const r = trainWater({ ...SMALL, trainSeeds: [11, 12], epochs: 2 });
    const c = compare(r.module, r.testHouseholds);
    assert.equal(c.leak.model.incidents, c.leak.threshold.incidents);
    assert.equal(c.burst.model.nodeDays, 2 * 20);
  });
});
