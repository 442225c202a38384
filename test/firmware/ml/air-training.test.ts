import assert from "node:assert/strict";
import { model as shippedAir } from "../../../firmware/src/ml/models/air.ts";
import { argmax } from "../../../scripts/ml/train/mlp.ts";
import { AIR_FEATURES, CLEAN, CO2_FAULT, CO2_PPM, PM_FAULT, airFeatures, alarmsOf, gatedActive, makeFaults, ruleTrace, scoreAir, simulateAir, type AirRun } from "../../../scripts/ml/train/air-data.ts";
import { compareAir, trainAir } from "../../../scripts/ml/train/air-model.ts";
import { floatAccuracy, int8Accuracy } from "../../../scripts/ml/train/evaluate.ts";
import { assertMatchesReference } from "./models.ts";

describe("ml training: air fault gate (clean / CO2 fault / PM fault per wake)", function () {
  this.timeout(120000);
  const small = { trainSeeds: [1000, 1001, 1002, 1003], testSeeds: [3002, 3007], days: 14, epochs: 4, seed: 5 };
  let r: ReturnType<typeof trainAir>;
  before(() => {
    r = trainAir(small);
  });

  it("simulated wakes hold all three labels; features are 8-bit codes; faults do not overlap", () => {
    const labels = new Set(r.test.y);
    assert.deepEqual([...labels].sort(), [CLEAN, CO2_FAULT, PM_FAULT]);
    const run = simulateAir(3001, 3);
    for (const f of airFeatures(run)) assert.equal(f.length, AIR_FEATURES);
    const faults = makeFaults(7, 120, 0.2, 0);
    assert.ok(faults.length > 5);
    for (let i = 1; i < faults.length; i++) assert.ok(faults[i].startMs >= faults[i - 1].endMs);
  });

  it("the node's CO2 rule needs two filtered readings at the threshold; the gate holds an alarm while the model calls the sensor faulty", () => {
    const wake = (co2: number) => ({ tMs: 0, co2, pm1: 50, pm25: 70, pm4: 80, pm10: 100, rhCenti: 5000, voc: 100, nox: 1, label: CLEAN, fault: -1 });
    const run: AirRun = { seed: 0, setting: "indoor", days: 1, faults: [], events: [], wakes: [500, 500, 3000, 3000, 3000, 500, 500, 500].map(wake) };
    run.wakes.forEach((w, i) => (w.tMs = i * 300_000));
    const tr = ruleTrace(run);
    // EWMA α ½: 500, 500, 1750 (1st at ≥ 1500), 2375 (2nd: raised), 2688, 1594, 1047 (1st ≤ 1300), 773 (2nd: cleared).
    assert.deepEqual(tr.co2f, [500, 500, 1750, 2375, 2688, 1594, 1047, 773]);
    assert.deepEqual(tr.co2Active, [false, false, false, true, true, true, true, false]);
    assert.ok(tr.co2f[3] >= CO2_PPM);
    const sound = [CLEAN, CLEAN, CLEAN, CLEAN, CLEAN, CLEAN, CLEAN, CLEAN];
    assert.deepEqual(gatedActive(tr.co2Active, sound, CO2_FAULT), tr.co2Active);
    // A fault verdict at the raise (or in the two wakes before) holds the alarm until three sound verdicts in a row.
    assert.deepEqual(gatedActive(tr.co2Active, [CLEAN, CLEAN, CO2_FAULT, CLEAN, CLEAN, CLEAN, CLEAN, CLEAN], CO2_FAULT), [false, false, false, false, false, true, true, false]);
    assert.deepEqual(gatedActive(tr.co2Active, [CLEAN, CLEAN, CLEAN, CLEAN, CO2_FAULT, CLEAN, CO2_FAULT, CLEAN], CO2_FAULT), tr.co2Active, "once raised it stays");
    assert.deepEqual(gatedActive(tr.co2Active, [CLEAN, CLEAN, CLEAN, CO2_FAULT, CLEAN, CLEAN, CO2_FAULT, CLEAN], CO2_FAULT), new Array(8).fill(false));
    // A PM verdict does not hold a CO2 alarm.
    assert.deepEqual(gatedActive(tr.co2Active, [PM_FAULT, PM_FAULT, PM_FAULT, PM_FAULT, PM_FAULT, PM_FAULT, PM_FAULT, PM_FAULT], CO2_FAULT), tr.co2Active);
    // Scoring: one co2High event covering the alarm is detected at once; a second alarm far away is false.
    run.events = [{ kind: "co2High", startMs: 600_000, endMs: 1_500_000 }];
    const s = scoreAir(run, "co2", [...alarmsOf(run, tr.co2Active), { raiseMs: 10 * 3600_000, clearMs: 11 * 3600_000 }]);
    assert.deepEqual([s.events, s.detected, s.alarms, s.trueAlarms, s.otherFalseAlarms, s.latenciesMs[0]], [1, 1, 2, 1, 1, 300_000]);
  });

  it("trains deterministically, and the int8 model is bit-exact with the TFLM reference", () => {
    assert.deepEqual(trainAir(small).bytes, r.bytes);
    assertMatchesReference(r.bytes, r.module, r.test.q.filter((_, i) => i % 97 === 0));
  });

  it("int8 accuracy is within 2 points of float on unseen nodes, and above the majority class", () => {
    const int8 = int8Accuracy(r.module, r.test);
    assert.ok(Math.abs(int8 - floatAccuracy(r.mlp, r.test)) <= 0.02, `int8 ${int8}`);
    const majority = r.test.y.filter((y) => y === CLEAN).length / r.test.y.length;
    assert.ok(int8 > majority + 0.05, `int8 ${int8}, majority ${majority}`);
  });

  it("the committed models/air.ts cuts fault-caused alarms on unseen nodes without losing real events", () => {
    const runs = [5000, 5001, 5002, 5003].map((s) => simulateAir(s, 30));
    const c = compareAir(shippedAir, runs);
    for (const fam of ["co2", "pm"] as const) {
      assert.ok(c[fam].model.faultAlarms <= c[fam].rules.faultAlarms, `${fam} ${JSON.stringify(c[fam])}`);
      assert.ok(c[fam].model.detected >= c[fam].rules.detected - 1, `${fam} ${JSON.stringify(c[fam])}`);
    }
    assert.ok(c.co2.model.faultAlarms + c.pm.model.faultAlarms < c.co2.rules.faultAlarms + c.pm.rules.faultAlarms, JSON.stringify(c));
    assert.equal(argmax(Int8Array.from([1, 5, 2])), 1);
  });
});
