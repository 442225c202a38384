/**
 * The node's bin model inputs (dsp/bin-features.ts) against the training
 * pipeline's (scripts/ml/train/bin-data.ts `wakeFeatures`): identical codes on
 * random inputs (edges included) and on every wake of simulated bins.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { BIN_FEATURE_COUNT, binFeatureInputs, logCode, signedLogCode, type BinWakeInputs } from "../../../firmware/src/dsp/bin-features.ts";
import { BIN_FEATURES, REAL, simulateBin, wakeFeatures, type BinRun, type BinWake } from "../../../scripts/ml/train/bin-data.ts";
import { signedCode } from "../../../scripts/ml/train/level-data.ts";
import { logCode as trainLogCode } from "../../../scripts/ml/train/water-data.ts";

/** A one-wake run (plus an optional previous wake) holding `x`, as the training code sees it. */
function runOf(x: BinWakeInputs, depthMm: number): { run: BinRun; i: number } {
  const wake = (medianMm: number): BinWake => ({ tMs: 0, medianMm, spreadMm: x.spreadMm, confirmMm: -1, tiltDeg: x.tiltDeg, motion: x.motionSincePrevious, surfaceMm: medianMm, fillPct: 0, label: REAL });
  // Training knows a wake two back only with a previous one.
  const wakes = x.prevMm < 0 ? [wake(x.medianMm)] : x.prev2Mm < 0 ? [wake(x.prevMm), wake(x.medianMm)] : [wake(x.prev2Mm), wake(x.prevMm), wake(x.medianMm)];
  return { run: { seed: 0, site: "street", depthMm, fullDistanceMm: x.fullMm, echoP: 0, days: 1, faults: [], wakes }, i: wakes.length - 1 };
}

function nodeCodes(x: BinWakeInputs): number[] {
  const out = new Int8Array(BIN_FEATURE_COUNT);
  binFeatureInputs(x, out);
  return Array.from(out, (q) => q + 128);
}

function trainingCodes(x: BinWakeInputs, depthMm = 1200): number[] {
  const { run, i } = runOf(x, depthMm);
  return Array.from(wakeFeatures(run, i, x.accMm, x.rejections, x.accAgeQuarters, x.motionSinceAccepted));
}

const mm = fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 4500 }), fc.integer({ min: 1, max: 100000 }));
const inputs: fc.Arbitrary<BinWakeInputs> = fc.record({
  medianMm: mm,
  spreadMm: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 5000 })),
  prevMm: fc.oneof(fc.constant(-1), mm),
  prev2Mm: fc.oneof(fc.constant(-1), mm),
  fullMm: fc.integer({ min: 0, max: 2000 }),
  accMm: fc.oneof(fc.constant(-1), mm),
  rejections: fc.oneof(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 100000 })),
  accAgeQuarters: fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 1000000 })),
  motionSinceAccepted: fc.boolean(),
  tiltDeg: fc.integer({ min: 0, max: 180 }),
  motionSincePrevious: fc.boolean(),
});

describe("dsp: bin model features, identical to the training pipeline's", () => {
  it("logCode and signedLogCode equal the training code on every value up to 2^20 and on random int32", () => {
    for (let v = -(1 << 20); v <= 1 << 20; v++) {
      if (logCode(v) !== trainLogCode(v) || signedLogCode(v) !== signedCode(v)) assert.fail(`v = ${v}: ${logCode(v)}/${trainLogCode(v)}, ${signedLogCode(v)}/${signedCode(v)}`);
    }
    fc.assert(fc.property(fc.integer({ min: -0x7fffffff, max: 0x7fffffff }), (v) => logCode(v) === trainLogCode(v) && signedLogCode(v) === signedCode(v)), { numRuns: 20000 });
  });

  it("all 12 codes equal wakeFeatures' on random inputs", () => {
    assert.equal(BIN_FEATURE_COUNT, BIN_FEATURES);
    fc.assert(fc.property(inputs, (x) => {
      if (x.prevMm < 0) x.prev2Mm = -1; // a node has no reading two back without one just before
      assert.deepEqual(nodeCodes(x), trainingCodes(x));
    }), { numRuns: 20000 });
  });

  it("all 12 codes equal wakeFeatures' on every wake of 4 simulated bins × 10 days (states as the model's online run builds them)", () => {
    let checked = 0;
    for (const seed of [300, 301, 302, 303]) {
      const r = simulateBin(seed, 10);
      let acc = -1;
      let accT = 0;
      let rej = 0;
      let motion = false;
      r.wakes.forEach((w, i) => {
        motion ||= w.motion;
        const age = acc < 0 ? 0 : Math.floor((w.tMs - accT) / 900_000);
        const x: BinWakeInputs = {
          medianMm: w.medianMm, spreadMm: w.spreadMm, prevMm: i > 0 ? r.wakes[i - 1].medianMm : -1, prev2Mm: i > 1 ? r.wakes[i - 2].medianMm : -1, fullMm: r.fullDistanceMm,
          accMm: acc, rejections: rej, accAgeQuarters: age, motionSinceAccepted: motion, tiltDeg: w.tiltDeg, motionSincePrevious: w.motion,
        };
        assert.deepEqual(nodeCodes(x), Array.from(wakeFeatures(r, i, acc, rej, age, motion)), `bin ${seed} wake ${i}`);
        checked++;
        // Accept the real readings (teacher forcing), so rejection runs and ages vary.
        if (w.label === REAL) {
          acc = w.medianMm;
          accT = w.tMs;
          rej = 0;
          motion = false;
        } else rej++;
      });
    }
    assert.ok(checked > 3000, `${checked} wakes`);
  });
});
