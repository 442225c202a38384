/** The same seeds give the same run: two fleets built alike produce identical application events. */
import assert from "node:assert/strict";
import { CLEAN_AIR } from "../../simulator/src/devices/air-environment.ts";
import { SimNode } from "../../simulator/src/fleet/sim-node.ts";
import { Fleet } from "../../simulator/src/fleet/run-fleet.ts";
import { SimNetwork } from "../../simulator/src/network/network.ts";
import { D, H } from "./harness.ts";

function run(): string[] {
  // The default channel: shadowing, fading and random loss all drawn from the seed.
  const network = new SimNetwork({ region: "EU868", seed: "e2e-determinism" });
  const nodes = [
    new SimNode({ type: "air", id: "a", seed: 7, network, position: { x: 50, y: 0 }, environment: { air: (t) => ({ ...CLEAN_AIR, co2Ppm: 450 + (t % (6 * H)) / 20000 }) } }),
    new SimNode({ type: "level", id: "b", seed: 8, network, position: { x: 0, y: 60 }, config: { adr: false, dataRate: 5 } }),
  ];
  const fleet = new Fleet(network, nodes);
  fleet.runUntil(D);
  return fleet.events.map((e) => `${e.atMs} ${e.nodeId} ${e.event.uplink_message.f_port} ${e.event.uplink_message.frm_payload} ${e.event.uplink_message.rx_metadata[0].rssi}`);
}

describe("e2e: determinism", function () {
  this.timeout(120_000);
  it("two runs with the same seeds (fading and shadowing on) give identical events", () => {
    const a = run();
    const b = run();
    assert.ok(a.length > 10, `${a.length} events`);
    assert.deepEqual(a, b);
  });
});
