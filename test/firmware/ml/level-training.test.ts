import assert from "node:assert/strict";
import { model as shippedLevel } from "../../../firmware/src/ml/models/level.ts";
import { IMPLAUSIBLE, REAL, levelDataset, signedCode, simulateDrain, thresholdDecisions } from "../../../scripts/ml/train/level-data.ts";
import { compareLevel, trainLevel } from "../../../scripts/ml/train/level-model.ts";
import { floatAccuracy, int8Accuracy } from "../../../scripts/ml/train/evaluate.ts";
import { assertMatchesReference } from "./models.ts";

describe("ml training: drain level plausibility (real / implausible reading)", function () {
  this.timeout(120000);
  const small = { trainSeeds: [100, 101, 102, 103], testSeeds: [300, 302, 303], days: 6, epochs: 6, seed: 3 };
  let r: ReturnType<typeof trainLevel>;
  before(() => {
    r = trainLevel(small);
  });

  it("simulated wakes hold both labels; the node's rules reject an out-of-range reading, and one above the grate not reached through the full line", () => {
    const run = simulateDrain(303, 3);
    assert.ok(run.wakes.some((w) => w.label === REAL) && run.wakes.some((w) => w.label === IMPLAUSIBLE));
    const d = thresholdDecisions(run);
    let accMm = -1;
    let aboveGrate = 0;
    run.wakes.forEach((w, i) => {
      if (w.medianMm < run.fullDistanceMm - 100) assert.equal(d.accepted[i], false);
      if (w.medianMm < run.fullDistanceMm - 20 && (accMm < 0 || accMm > run.fullDistanceMm + 200)) {
        aboveGrate++;
        assert.equal(d.accepted[i], false, `wake ${i}: ${w.medianMm} mm after ${accMm} mm`);
      }
      if (d.accepted[i]) accMm = d.reportedMm[i];
    });
    assert.ok(aboveGrate > 0, "the run has readings above the grate to judge");
    assert.deepEqual([-300, -1, 0, 1, 300].map(signedCode), [95, 128, 128, 128, 161]);
  });

  it("trains deterministically, and the int8 model is bit-exact with the TFLM reference", () => {
    assert.deepEqual(trainLevel(small).bytes, r.bytes);
    assertMatchesReference(r.bytes, r.module, r.test.q.filter((_, i) => i % 25 === 0));
  });

  it("int8 accuracy is within 2 points of float on unseen drains", () => {
    const int8 = int8Accuracy(r.module, r.test);
    assert.ok(Math.abs(int8 - floatAccuracy(r.mlp, r.test)) <= 0.02, `int8 ${int8}`);
  });

  it("the committed models/level.ts reports fewer wrong fills than the node's rules on unseen drains", () => {
    const runs = [304, 305, 306, 307].map((s) => simulateDrain(s, 10));
    const c = compareLevel(shippedLevel, runs);
    assert.ok(c.model.acceptedWrong < c.tight.acceptedWrong && c.model.acceptedWrong < c.threshold.acceptedWrong, JSON.stringify(c));
    // Debris over the water is most of what the earlier rules took for water.
    assert.ok(c.threshold.acceptedWrong < c.before.acceptedWrong && c.tight.acceptedWrong < c.before.acceptedWrong, JSON.stringify(c));
    assert.ok(levelDataset(runs).y.length === c.model.wakes);
  });
});
