// A scenario run drops each node's test logs every simulated day (scenario-shard.ts, xs/node-runtime.ts):
// forgetLogs must empty every log that grows with the wakes, the chips' command logs included.
import assert from "node:assert/strict";
import { SimNetwork } from "../../../simulator/src/network/network.ts";
import { SimNode } from "../../../simulator/src/fleet/sim-node.ts";

describe("SimNode.forgetLogs", () => {
  it("empties the queued messages, readings, AT transcript and the SCD41 and SEN5x command logs", () => {
    const network = new SimNetwork({ region: "EU868", seed: "forget", channel: { lossProbability: 0, shadowingSdDb: 0, fadingSdDb: 0 } });
    const node = new SimNode({ type: "air", id: "air-1", seed: 3, network, position: { x: 0, y: 40 } });
    node.runUntil(3 * 3_600_000);
    const sizes = () => [node.queued.length, node.readings.length, node.modem.transcript.length, node.devices.scd41!.commandLog.length, node.devices.sen5x!.commandLog.length];
    assert.ok(sizes().slice(2).every((n) => n > 0), `logs before: ${sizes().join(", ")}`);
    node.forgetLogs();
    assert.deepEqual(sizes(), [0, 0, 0, 0, 0]);
  });
});
