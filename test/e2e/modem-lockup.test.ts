/**
 * End to end: a modem that locks up (answers nothing, and would never again
 * by itself) is reset through its RST line after MODEM_RESET_AFTER silent
 * flushes in a row, joins again, and the readings queued meanwhile arrive.
 * Both modem models, on nodes that send every wake.
 */
import assert from "node:assert/strict";
import { SimNode } from "../../simulator/src/fleet/sim-node.ts";
import { Fleet } from "../../simulator/src/fleet/run-fleet.ts";
import { MODEM_RESET_AFTER } from "../../firmware/src/nodes/wiring.ts";
import { dailyFlow, type WaterUse } from "../firmware/nodes/household.ts";
import { D, H, MIN, matchReadings, quietNetwork, stamp } from "./harness.ts";

const DAYS = 2;
const LOCKUP = 1 * D + 2 * H;
const USES: WaterUse[] = [
  [7 * 60, 8, 9],
  [12 * 60, 2, 6],
  [19 * 60, 10, 8],
  [23 * 60, 3, 5],
];

for (const modem of ["wio-e5", "rak3172"] as const) {
  describe(`e2e: a ${modem} that locks up is reset through its RST line`, function () {
    this.timeout(300_000);
    const network = quietNetwork("EU868", `e2e-lockup-${modem}`);
    const node = new SimNode({
      type: "water", id: `water-${modem}`, seed: 241, network, position: { x: 30, y: 30 }, modem,
      config: { meter: "reed-1l", adr: false, dataRate: 5 },
      environment: { flowLMin: (t) => dailyFlow(USES, t) },
    });
    const fleet = new Fleet(network, [node]);
    /** Times the firmware pulled RST low. */
    const resets: number[] = [];

    before(() => {
      const set = node.modem.setReset.bind(node.modem);
      let held = false;
      node.modem.setReset = (low: boolean) => {
        if (low && !held) resets.push(node.clock.nowMs);
        held = low;
        set(low);
      };
      fleet.runUntil(LOCKUP);
      node.modem.inject("silent");
      fleet.runUntil(DAYS * D);
    });

    it(`pulls RST once, after ${MODEM_RESET_AFTER} silent flushes, and never before the lock-up`, () => {
      assert.equal(resets.length, 1, resets.map(stamp).join(", "));
      // The node asks the modem only when it has something to send: at night, readings come at the heartbeat and
      // with the first water, so the third silent flush can be hours after the lock-up.
      assert.ok(resets[0] > LOCKUP && resets[0] < LOCKUP + 6 * H, stamp(resets[0]));
      assert.equal(node.modem.hasFault("silent"), false, "the reset cured the lock-up");
    });

    it("joins again after the reset, and every reading queued during the lock-up arrives", () => {
      const joins = network.uplinks.filter((u) => u.server?.status === "join-accepted" && u.tx.startMs > LOCKUP);
      assert.equal(joins.length, 1, "one new join after the reset");
      const pairs = matchReadings(node, fleet.eventsOf(node.id), DAYS * D - 30 * MIN);
      const during = pairs.filter((p) => p.reading.atMs >= LOCKUP && p.reading.atMs < resets[0]);
      assert.ok(during.length >= 1, `${during.length} readings queued during the lock-up`);
      for (const { reading, arrival } of during) assert.ok(arrival.atMs > resets[0], `reading of ${stamp(reading.atMs)} arrived ${stamp(arrival.atMs)}`);
    });
  });
}
