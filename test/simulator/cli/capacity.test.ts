import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadScenario } from "../../../simulator/src/cli/scenario.ts";
import type { RunSummary } from "../../../simulator/src/report/run-data.ts";
// The report pulls in Vega (top-level await): import() it.
type RunScenario = typeof import("../../../simulator/src/cli/run-scenario.ts").runScenario;
let runScenario: RunScenario;

describe("simulator CLI: gateway-capacity sweep", function () {
  this.timeout(300_000);
  before(async () => {
    ({ runScenario } = await import("../../../simulator/src/cli/run-scenario.ts"));
  });

  it("delivery falls as the offered load grows, within a sensible band of pure ALOHA's e^-2G", async () => {
    const out = mkdtempSync(join(tmpdir(), "capacity-"));
    // Largest point 300 nodes on the gateway (the others scaled alike), one hour each.
    const r = await runScenario(loadScenario("gateway-capacity"), { nodes: 300, days: 1 / 24, out });
    const c = r.summary.capacity;
    assert.ok(c, "the summary has a capacity section");
    const points = c.points;
    assert.ok(points.length >= 4, `${points.length} sweep points`);
    assert.equal(r.summary.nodes.length, 300, "the rest of the summary is the largest run");
    for (const [i, p] of points.entries()) {
      assert.ok(p.frames > 0 && p.channels > 0, `point ${i}: frames were sent`);
      assert.ok(Math.abs(p.aloha - Math.exp(-2 * p.offeredLoad)) < 1e-3, `point ${i}: aloha is e^-2G`);
      if (i) {
        assert.ok(p.offeredLoad > points[i - 1].offeredLoad, `point ${i}: G grows with the nodes`);
        assert.ok(p.deliveryRatio <= points[i - 1].deliveryRatio + 0.02, `point ${i}: delivery ${p.deliveryRatio} does not rise beyond noise`);
      }
      // Never much worse than ALOHA (periodic reports with random phases on random channels are close to Poisson)...
      assert.ok(p.deliveryRatio >= p.aloha - 0.05, `point ${i}: ${p.deliveryRatio} against ALOHA ${p.aloha}`);
    }
    const last = points[points.length - 1];
    assert.ok(last.deliveryRatio < points[0].deliveryRatio, "delivery fell over the sweep");
    // ...and better only by what capture can explain: some of ALOHA's losses still happen at the highest load.
    assert.ok(1 - last.deliveryRatio >= 0.2 * (1 - last.aloha), `losses ${1 - last.deliveryRatio} against ALOHA's ${1 - last.aloha}`);
    assert.ok(last.offeredLoad > 0.1, `the largest point loads the channel (G = ${last.offeredLoad})`);
    const summary = JSON.parse(readFileSync(join(out, "summary.json"), "utf8")) as RunSummary;
    assert.deepEqual(summary.capacity, c);
    const html = readFileSync(join(out, "report.html"), "utf8");
    assert.match(html, /<section id="capacity">/);
    assert.match(html, /data-chart="capacity"><svg/);
  });
});
