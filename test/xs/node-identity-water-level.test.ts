import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { bundleForXs } from "../../simulator/src/xs/bundle.ts";
import { Xsnap } from "../../simulator/src/xs/xsnap.ts";
import { BUILD_TIMEOUT_MS, ensureXsBuilt, evaluateJson } from "./engine-build.ts";
import { runLevelNode, runWaterNode } from "../bench/fixtures/wake-run.ts";

describe("XS: the water and level nodes run in Moddable's engine exactly as in Node", function () {
  this.timeout(BUILD_TIMEOUT_MS);
  let xs: Xsnap;

  before(async () => {
    await ensureXsBuilt();
    const code = await bundleForXs(fileURLToPath(new URL("../bench/fixtures/wake-run.ts", import.meta.url)), { globalName: "WakeRun" });
    xs = await Xsnap.start({ name: "water-level-identity" });
    await xs.evaluate(code);
  });

  after(async () => {
    await xs?.close();
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
