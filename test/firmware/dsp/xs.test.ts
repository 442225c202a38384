import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { bundleForXs } from "../../../simulator/src/xs/bundle.ts";
import { Xsnap } from "../../../simulator/src/xs/xsnap.ts";
import { BUILD_TIMEOUT_MS, ensureXsBuilt, evaluateJson } from "../../xs/engine-build.ts";
import { digest } from "./fixtures/dsp-digest.ts";

describe("dsp in the XS engine", function () {
  let xs: Xsnap;

  before(async function () {
    this.timeout(BUILD_TIMEOUT_MS);
    await ensureXsBuilt();
    xs = await Xsnap.start({ name: "dsp-test" });
    await xs.evaluate(await bundleForXs(fileURLToPath(new URL("./fixtures/dsp-digest.ts", import.meta.url)), { globalName: "DspDigest" }));
  });

  after(async function () {
    await xs?.close();
  });

  it("every block gives the same outputs in XS as in Node", async function () {
    this.timeout(30000); // 22,050 samples and 882 deep-sleep round trips in XS; slow on a loaded machine
    for (const [seed, count] of [[1, 50], [0x1234567, 2000], [-99, 20000]]) {
      const inXs = await evaluateJson<number[]>(xs, `DspDigest.digest(${seed}, ${count})`);
      assert.deepEqual(inXs, digest(seed, count), `seed ${seed}, count ${count}`);
    }
  });
});
