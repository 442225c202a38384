/**
 * An outage seen by one unacknowledged checkpoint on a day whose downlink
 * budget (TTN: 10 a day, 2 left to the network) is spent by alarms: no second
 * confirmed uplink can go for hours, so the link must hold the routine
 * readings from that first nack on instead of sending them unconfirmed into
 * the outage, where the next ACK would wrongly count them as delivered.
 */
import assert from "node:assert/strict";
import { LinkRig, arrivals, waterAlarm, waterReading } from "./harness.ts";

const MIN = 60000;
const HOUR = 60 * MIN;

describe("link: an outage on a day without downlinks to spare", () => {
  it("loses no reading when alarms spent the downlink budget and a single checkpoint saw the outage", () => {
    const outageFrom = 20 * HOUR;
    const outageTo = outageFrom + 8 * HOUR;
    const rig = new LinkRig({ seed: 41, dataRate: 5, outage: (ms) => ms >= outageFrom && ms < outageTo });
    const submitted: number[] = [];
    for (let w = 1; rig.nowMs < outageTo + 30 * HOUR; w++) {
      const start = rig.nowMs;
      rig.wake((link) => {
        assert.equal(link.submit(4, waterReading(w), 11, "routine"), true);
        submitted.push(w);
        // Six alarms in the hours before the outage: with the checkpoints, the day's confirmable downlinks are gone.
        if (start >= outageFrom - 6 * HOUR && start < outageFrom && w % 4 === 0) link.submit(5, waterAlarm(90000 + w), 15, "alarm");
        link.flush();
      });
      rig.sleepUntil(start + 15 * MIN);
    }
    const confirmedIn = rig.modem.txs.filter((t) => t.confirmed && t.startMs >= outageFrom && t.startMs < outageTo);
    assert.ok(confirmedIn.length >= 1, "a checkpoint went into the outage");
    const got = new Set(arrivals(rig.modem.delivered).map((a) => a.id));
    const lost = submitted.filter((id) => !got.has(id));
    assert.deepEqual(lost, [], "readings never delivered");
  });
});
