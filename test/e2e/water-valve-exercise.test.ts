/**
 * End to end, the weekly exercise of the water node's shut-off valve (hardware/water/README.md): an open valve
 * that has not moved for a week is closed and opened again in the small hours, while nothing flows, so that it
 * cannot seize; silently, since it ends where it was. A household that draws water by day, ten days.
 */
import assert from "node:assert/strict";
import { SimNode } from "../../simulator/src/fleet/sim-node.ts";
import { Fleet } from "../../simulator/src/fleet/run-fleet.ts";
import { D, H, MIN, S, quietNetwork } from "./harness.ts";

const DAYS = 10;

/** 6 L/min for ten minutes at the top of every hour from 07:00 to 22:00 (node time), nothing at night. */
function flow(t: number): number {
  const tod = t % D;
  return tod >= 7 * H && tod < 22 * H && tod % H < 10 * MIN ? 6 : 0;
}

describe("e2e: the water node exercises its open valve once a week, at night, silently", function () {
  this.timeout(120_000);
  const network = quietNetwork("EU868", "e2e-valve-exercise");
  const node = new SimNode({ type: "water", id: "water-valve", seed: 501, network, position: { x: 40, y: 40 }, firstBootMs: 0, config: { meter: "yf-s201", valve: true, adr: false, dataRate: 5 }, environment: { flowLMin: flow } });
  before(() => new Fleet(network, [node]).runUntil(DAYS * D));

  it("one close-and-open a week after the first boot, between 03:00 and 04:00, in a few seconds, with no flow for ten minutes before", () => {
    const log = node.valveLog;
    assert.deepEqual(log.map((v) => v.closed), [true, false], JSON.stringify(log));
    const [closed, opened] = log;
    assert.ok(closed.atMs >= 7 * D && closed.atMs < 8 * D, `exercised at day ${(closed.atMs / D).toFixed(2)}`);
    assert.ok(closed.atMs % D >= 3 * H && closed.atMs % D < 4 * H, `at ${((closed.atMs % D) / H).toFixed(2)} h`);
    assert.ok(opened.atMs - closed.atMs < 3 * S, `closed for ${opened.atMs - closed.atMs} ms`);
    for (let t = closed.atMs - 10 * MIN; t < closed.atMs; t += MIN) assert.equal(flow(t), 0);
    assert.equal(node.valveClosedAt(DAYS * D), false);
  });

  it("raises no valve alarm for it", () => {
    const valveAlarms = node.queued.filter((m) => m.kind === "alarm" && /^valve/.test(String(m.data?.event)));
    assert.deepEqual(valveAlarms.map((m) => m.data?.event), []);
  });
});
