/** The link in Moddable's XS engine: the same scenario gives byte-identical uplinks and the same flash writes as in Node. */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { bundleForXs } from "../../../simulator/src/xs/bundle.ts";
import { Xsnap } from "../../../simulator/src/xs/xsnap.ts";
import { BUILD_TIMEOUT_MS, ensureXsBuilt, evaluateJson } from "../../xs/engine-build.ts";
import { runScenario, type ScenarioDigest } from "./xs-scenario.ts";

describe("link in the XS engine", function () {
  let xs: Xsnap;

  before(async function () {
    this.timeout(BUILD_TIMEOUT_MS);
    await ensureXsBuilt();
    xs = await Xsnap.start({ name: "link-xs" });
  });

  after(async () => {
    await xs?.close();
  });

  it("sends byte-identical uplinks and writes flash the same as under Node", async function () {
    this.timeout(120000);
    await xs.evaluate(await bundleForXs(fileURLToPath(new URL("./xs-scenario.ts", import.meta.url)), { globalName: "LinkScenario" }));
    const inXs = await evaluateJson<ScenarioDigest>(xs, "LinkScenario.runScenario(9, 160)");
    const inNode = runScenario(9, 160);
    assert.ok(inNode.delivered.length > 40, `${inNode.delivered.length} uplinks`);
    assert.deepEqual(inXs, inNode);
  });
});
