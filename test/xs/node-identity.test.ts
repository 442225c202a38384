import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { bundleForXs } from "../../simulator/src/xs/bundle.ts";
import { Xsnap } from "../../simulator/src/xs/xsnap.ts";
import { BUILD_TIMEOUT_MS, ensureXsBuilt, evaluateJson } from "./engine-build.ts";
import { runAirNode } from "./fixtures/air-node-run.ts";

describe("XS: the firmware runs in Moddable's engine exactly as in Node", function () {
  this.timeout(BUILD_TIMEOUT_MS);
  before(ensureXsBuilt);

  it("two days of the air node on emulated chips give byte-identical uplinks in XS and Node", async () => {
    const inNode = runAirNode(2, 7);
    const code = await bundleForXs(fileURLToPath(new URL("./fixtures/air-node-run.ts", import.meta.url)), { globalName: "AirRun" });
    const xs = await Xsnap.start({ name: "air-node" });
    try {
      await xs.evaluate(code);
      const started = Date.now();
      const inXs = await evaluateJson<string[]>(xs, "AirRun.runAirNode(2, 7)");
      console.log(`      ${inXs.length} uplinks; XS run ${Date.now() - started} ms`);
      assert.ok(inNode.length > 20, `only ${inNode.length} uplinks`);
      assert.ok(inNode.some((l) => l.includes(" alarm ")), "the CO2 episode raised no alarm");
      assert.deepEqual(inXs, inNode);
    } finally {
      await xs.close();
    }
  });
});
