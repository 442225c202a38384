// A scenario run drops each node's test logs every simulated day (scenario-shard.ts, xs/node-runtime.ts):
// forgetLogs must empty every log that grows with the wakes, the chips' command logs included.
import assert from "node:assert/strict";
import { SimNetwork } from "../../../simulator/src/network/network.ts";
import { SimNode } from "../../../simulator/src/fleet/sim-node.ts";

describe("SimNode logs: forgetLogs, and logs: false", () => {
  it("empties the queued messages, readings, AT transcript and the SCD41 and SEN5x command logs", () => {
    const network = new SimNetwork({ region: "EU868", seed: "forget", channel: { lossProbability: 0, shadowingSdDb: 0, fadingSdDb: 0 } });
    const node = new SimNode({ type: "air", id: "air-1", seed: 3, network, position: { x: 0, y: 40 } });
    node.runUntil(3 * 3_600_000);
    const sizes = () => [node.queued.length, node.readings.length, node.modem.transcript.length, node.devices.scd41!.commandLog.length, node.devices.sen5x!.commandLog.length];
    assert.ok(sizes().slice(2).every((n) => n > 0), `logs before: ${sizes().join(", ")}`);
    node.forgetLogs();
    assert.deepEqual(sizes(), [0, 0, 0, 0, 0]);
  });

  it("logs: false keeps none of them, and the node sends the same frames as with them", () => {
    const run = (logs: boolean) => {
      const network = new SimNetwork({ region: "EU868", seed: "forget", channel: { lossProbability: 0, shadowingSdDb: 0, fadingSdDb: 0 } });
      const node = new SimNode({ type: "air", id: "air-1", seed: 3, network, position: { x: 0, y: 40 }, logs });
      node.runUntil(6 * 3_600_000);
      const sizes = [node.queued.length, node.readings.length, node.modem.transcript.length, node.devices.scd41!.commandLog.length, node.devices.sen5x!.commandLog.length];
      return { sizes, frames: network.uplinks.map((u) => `${u.tx.startMs} ${Buffer.from(u.tx.phyPayload).toString("hex")}`) };
    };
    const on = run(true);
    const off = run(false);
    assert.ok(on.sizes.every((n) => n > 0), `logs kept: ${on.sizes.join(", ")}`);
    assert.deepEqual(off.sizes, [0, 0, 0, 0, 0]);
    assert.ok(on.frames.length >= 2, `frames: ${on.frames.length}`);
    assert.deepEqual(off.frames, on.frames);
  });

  it("logs: false keeps no boot records either (a run reads the counters)", () => {
    const network = new SimNetwork({ region: "EU868", seed: "forget", channel: { lossProbability: 0, shadowingSdDb: 0, fadingSdDb: 0 } });
    const on = new SimNode({ type: "water", id: "water-1", seed: 3, network, position: { x: 0, y: 40 } });
    const off = new SimNode({ type: "water", id: "water-2", seed: 3, network, position: { x: 0, y: 60 }, logs: false });
    on.runUntil(2 * 3_600_000);
    off.runUntil(2 * 3_600_000);
    assert.ok(on.boots.length > 0 && on.counters.boots === on.boots.length, `boots kept: ${on.boots.length}`);
    assert.equal(off.boots.length, 0);
    assert.ok(off.counters.boots > 0);
  });
});
