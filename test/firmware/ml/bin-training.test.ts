import assert from "node:assert/strict";
import { model as shippedBin } from "../../../firmware/src/ml/models/bin.ts";
import { BIN_FEATURES, IMPLAUSIBLE, REAL, binDataset, scoreBin, simulateBin, thresholdDecisions, wakeFeatures, type BinRun, type BinWake } from "../../../scripts/ml/train/bin-data.ts";
import { TILT_RULE_DEG, compareBin, trainBin } from "../../../scripts/ml/train/bin-model.ts";
import { floatAccuracy, int8Accuracy } from "../../../scripts/ml/train/evaluate.ts";
import { assertMatchesReference } from "./models.ts";

describe("ml training: waste bin plausibility (real / implausible reading)", function () {
  this.timeout(120000);
  const small = { trainSeeds: [100, 101, 102, 103], testSeeds: [300, 301, 302], days: 8, epochs: 4, seed: 3 };
  let r: ReturnType<typeof trainBin>;
  before(() => {
    r = trainBin(small);
  });

  it("simulated readings hold both labels; the node's rules reject out-of-range readings and confirm big rises", () => {
    const run = simulateBin(300, 10);
    assert.ok(run.wakes.some((w) => w.label === REAL) && run.wakes.some((w) => w.label === IMPLAUSIBLE));
    assert.equal(wakeFeatures(run, 0, -1, 0, 0, false).length, BIN_FEATURES);
    const w = (tMs: number, medianMm: number, confirmMm: number, motion = false, tiltDeg = 0): BinWake => ({ tMs, medianMm, spreadMm: 2, confirmMm, tiltDeg, motion, surfaceMm: 1000, fillPct: 19, label: REAL });
    const scripted: BinRun = {
      seed: 0, site: "street", depthMm: 1200, fullDistanceMm: 150, echoP: 0, days: 1, faults: [],
      wakes: [
        w(0, 1000, 1000), // first reading: accepted
        w(900_000, 20, 20), // inside the blind zone: rejected
        w(1_800_000, 300, 500), // a rise of 67 % whose confirming reading disagrees: rejected
        w(2_700_000, 300, 302, true), // the same rise, confirmed: accepted
        w(3_600_000, 900, 900), // a fall of 57 % without motion: rejected
        w(4_500_000, 900, 900, true), // …with motion (a collection): accepted
        w(5_400_000, 905, 905, false, 8), // a small change at a tilt of 8°: the node accepts, the tilt rule rejects
      ],
    };
    assert.deepEqual(thresholdDecisions(scripted).accepted, [true, false, false, true, false, true, true]);
    assert.deepEqual(thresholdDecisions(scripted, TILT_RULE_DEG).accepted, [true, false, false, true, false, true, false]);
    const s = scoreBin(scripted, thresholdDecisions(scripted));
    assert.deepEqual([s.wakes, s.rejectedReal, s.acceptedWrong], [7, 3, 3]);
  });

  it("trains deterministically, and the int8 model is bit-exact with the TFLM reference", () => {
    assert.deepEqual(trainBin(small).bytes, r.bytes);
    assertMatchesReference(r.bytes, r.module, r.test.q.filter((_, i) => i % 25 === 0));
  });

  it("int8 accuracy is within 2 points of float on unseen bins", () => {
    const int8 = int8Accuracy(r.module, r.test);
    assert.ok(Math.abs(int8 - floatAccuracy(r.mlp, r.test)) <= 0.02, `int8 ${int8}`);
    const majority = r.test.y.filter((y) => y === REAL).length / r.test.y.length;
    assert.ok(int8 > majority, `int8 ${int8}, majority ${majority}`);
  });

  it("the committed models/bin.ts reports fewer wrong fills and false full alarms than the node's rules on unseen bins", () => {
    const runs = [304, 305, 306, 307].map((s) => simulateBin(s, 14));
    const c = compareBin(shippedBin, runs);
    assert.ok(c.model.acceptedWrong < c.tilt.acceptedWrong && c.tilt.acceptedWrong <= c.threshold.acceptedWrong, JSON.stringify(c));
    assert.ok(c.model.falseFull <= c.threshold.falseFull, JSON.stringify(c));
    assert.ok(c.model.realChangesAccepted >= c.threshold.realChangesAccepted - 1, JSON.stringify(c));
    assert.equal(binDataset(runs).y.length, c.model.wakes);
  });
});
