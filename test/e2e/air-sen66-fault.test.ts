/**
 * End to end, a SEN66 build whose module never answers: the fault is counted
 * under the SEN66 the manifest fits, not the SEN55 default, although the
 * driver never opened to learn the chip's name. On both the mains build and
 * the duty-cycled one, whose failed start is a separate path.
 */
import assert from "node:assert/strict";
import { SimNode } from "../../simulator/src/fleet/sim-node.ts";
import { Fleet } from "../../simulator/src/fleet/run-fleet.ts";
import { H, quietNetwork } from "./harness.ts";

describe("e2e: a SEN66 that never answers is reported as the SEN66", function () {
  this.timeout(120_000);
  const network = quietNetwork("EU868", "e2e-sen66");
  const sensors = { sen5x: { fitted: true, model: "sen66" } };
  const mains = new SimNode({ type: "air", id: "air-sen66", seed: 311, network, position: { x: 50, y: 40 }, config: { adr: false, dataRate: 5, sensors } });
  const battery = new SimNode({ type: "air", id: "air-sen66-battery", seed: 312, network, position: { x: 70, y: 40 }, config: { adr: false, dataRate: 5, sensors, pmPeriodS: 900 } });
  for (const n of [mains, battery]) n.devices.sen5x!.inject("nack");
  before(() => new Fleet(network, [mains, battery]).runUntil(3 * H));

  for (const [name, node] of [["mains", () => mains], ["battery", () => battery]] as const) {
    it(`${name} build: the fault alarm and the status name sen66, never sen55`, () => {
      const n = node();
      const faults = n.queued.filter((m) => m.kind === "alarm" && m.data?.event === "sensorFault");
      assert.ok(faults.length >= 1, `${n.id}: no sensorFault alarm`);
      const named = n.queued.flatMap((m) => [m.data?.sensor, ...((m.data?.sensorFaults as { sensor: string }[] | undefined) ?? []).map((f) => f.sensor)]).filter((s) => s !== undefined);
      assert.ok(named.includes("sen66"), `${n.id}: ${JSON.stringify(named)}`);
      assert.ok(!named.includes("sen55"), `${n.id}: ${JSON.stringify(named)}`);
    });
  }
});
