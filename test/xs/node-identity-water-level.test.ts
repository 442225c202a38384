import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { bundleForXs } from "../../simulator/src/xs/bundle.ts";
import { Xsnap } from "../../simulator/src/xs/xsnap.ts";
import { BUILD_TIMEOUT_MS, ensureXsBuilt, evaluateJson } from "./engine-build.ts";
import { runLevelNode, runWaterNode } from "../bench/fixtures/wake-run.ts";
import { buildLeakModel, classifyLeak } from "../bench/fixtures/water-node-run.ts";

const WATER_RUN = fileURLToPath(new URL("../bench/fixtures/water-node-run.ts", import.meta.url));
/** Wakes before the measured ones: past the model's first day of context, so windows are judged. */
const SKIP = 1445;
/** Wakes measured: 10 windows, 10 of them judged by the model. */
const MEASURED = 150;

describe("XS: the water and level nodes run in Moddable's engine exactly as in Node", function () {
  this.timeout(BUILD_TIMEOUT_MS);
  let xs: Xsnap;
  let water: Xsnap;

  before(async () => {
    await ensureXsBuilt();
    const code = await bundleForXs(fileURLToPath(new URL("../bench/fixtures/wake-run.ts", import.meta.url)), { globalName: "WakeRun" });
    xs = await Xsnap.start({ name: "water-level-identity" });
    await xs.evaluate(code);
    water = await Xsnap.start({ name: "water-model" });
    await water.evaluate(await bundleForXs(WATER_RUN, { globalName: "WaterRun" }));
  });

  after(async () => {
    await xs?.close();
    await water?.close();
  });

  it("two days of the water node (ULP pulse counter, a leak) give byte-identical uplinks in XS and Node", async () => {
    const inNode = runWaterNode(2, 5);
    const started = Date.now();
    const inXs = await evaluateJson<string[]>(xs, "WakeRun.runWaterNode(2, 5)");
    console.log(`      ${inXs.length} uplinks; XS run ${Date.now() - started} ms`);
    assert.ok(inNode.length > 50, `only ${inNode.length} uplinks`);
    assert.ok(inNode.some((l) => l.includes(" alarm ")), "the leak raised no alarm");
    assert.deepEqual(inXs, inNode);
  });

  it("two days of the water node with the model leak detector give byte-identical uplinks in XS and Node, and its leak alarm", async () => {
    const inNode = runWaterNode(2, 5, "model");
    const started = Date.now();
    const inXs = await evaluateJson<string[]>(water, `WaterRun.runWaterNode(2, 5, "model")`);
    console.log(`      ${inXs.length} uplinks; XS run ${Date.now() - started} ms`);
    assert.ok(inNode.length > 50, `only ${inNode.length} uplinks`);
    const alarms = inNode.filter((l) => l.includes(" alarm "));
    assert.ok(alarms.length > 0, "the leak raised no alarm");
    // The leak starts at 20:00 on the first day; the model judges from 24 h on, so its alarm comes after that, not at 05:00.
    assert.ok(Number(alarms[0].split(" ")[0]) > 24 * 3600_000, alarms[0]);
    assert.notDeepEqual(inNode, runWaterNode(2, 5, "night"));
    assert.deepEqual(inXs, inNode);
  });

  it("XS compute per wake with the night rule and with the model (day 2, 10 windows judged), and the model path allocates nothing per classification", async () => {
    const perWake: { [d: string]: number } = {};
    for (const d of ["night", "model"]) {
      await water.evaluate(`WaterRun.startWater(5, ${JSON.stringify(d)})`);
      await water.evaluate(`WaterRun.wakeWater(${SKIP})`);
      // The meter counts one evaluation: these wakes alone.
      const measured = await water.evaluate(`WaterRun.wakeWater(${MEASURED})`);
      perWake[d] = measured.meter.compute / MEASURED;
    }
    // Building the interpreter (once in each boot that completes a window) and one classification.
    const one = await water.evaluate("WaterRun.buildLeakModel(1)");
    const many = await water.evaluate("WaterRun.buildLeakModel(21)");
    const build = (many.meter.compute - one.meter.compute) / 20;
    const c0 = await water.evaluate("WaterRun.classifyLeak(0)");
    const c1 = await water.evaluate("WaterRun.classifyLeak(1)");
    const cn = await water.evaluate("WaterRun.classifyLeak(51)");
    const classify = (cn.meter.compute - c1.meter.compute) / 50;
    const heapGrowth = (cn.meter.currentHeapCount - c1.meter.currentHeapCount) - (c1.meter.currentHeapCount - c0.meter.currentHeapCount);
    console.log(`      XS compute per wake: night rule ${Math.round(perWake.night)}, model ${Math.round(perWake.model)} (+${Math.round(perWake.model - perWake.night)}); ` +
      `per judged window: interpreter build ${Math.round(build)}, classify ${Math.round(classify)}; heap slots +${heapGrowth} over 50 extra classifications`);
    // Node and XS agree on what classify returns.
    assert.equal(await evaluateJson<number>(water, "WaterRun.classifyLeak(3)"), (buildLeakModel(1), classifyLeak(3)));
    assert.ok(build > 0 && classify > 0);
    assert.ok(heapGrowth <= 0, `heap grew by ${heapGrowth} slots`);
    assert.ok(perWake.model > perWake.night);
  });

  it("two days of the level node (bin on an A02YYUW) give byte-identical uplinks in XS and Node", async () => {
    const inNode = runLevelNode(2, 5);
    const started = Date.now();
    const inXs = await evaluateJson<string[]>(xs, "WakeRun.runLevelNode(2, 5)");
    console.log(`      ${inXs.length} uplinks; XS run ${Date.now() - started} ms`);
    assert.ok(inNode.length > 50, `only ${inNode.length} uplinks`);
    assert.ok(inNode.some((l) => l.includes(" alarm ")), "the full bin raised no alarm");
    assert.deepEqual(inXs, inNode);
  });

  it("the same with binDetector \"model\" (one int8 bin model invoke per wake): byte-identical, and not the rules' uplinks", async () => {
    const inNode = runLevelNode(2, 5, "model");
    const inXs = await evaluateJson<string[]>(xs, `WakeRun.runLevelNode(2, 5, "model")`);
    console.log(`      ${inXs.length} uplinks`);
    assert.ok(inNode.some((l) => l.includes(" alarm ")), "the full bin raised no alarm");
    assert.notDeepEqual(inNode, runLevelNode(2, 5), "the model changed nothing: the test would not see it run");
    assert.deepEqual(inXs, inNode);
  });
});
