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

  for (const unackedTimesOut of [false, true]) {
    it(`notices the end of a short outage within the probe back-off, not a day later, and still loses nothing${unackedTimesOut ? " (confirmed uplinks time out)" : ""}`, () => {
      const outageFrom = 6 * HOUR;
      const outageTo = outageFrom + 4 * HOUR;
      const rig = new LinkRig({ seed: 43, dataRate: 5, unackedTimesOut, outage: (ms) => ms >= outageFrom && ms < outageTo });
      const submitted: number[] = [];
      for (let w = 1; rig.nowMs < outageTo + 20 * HOUR; w++) {
        const start = rig.nowMs;
        rig.wake((link) => {
          assert.equal(link.submit(4, waterReading(w), 11, "routine"), true);
          submitted.push(w);
          // Two alarms before the outage, as on an ordinary day.
          if (w === 8 || w === 16) link.submit(5, waterAlarm(90000 + w), 15, "alarm");
          link.flush();
        });
        rig.sleepUntil(start + 15 * MIN);
      }
      const probes = rig.modem.txs.filter((t) => t.confirmed && t.startMs >= outageFrom && t.startMs < outageTo);
      const after = rig.modem.txs.filter((t) => t.kind === "data" && t.startMs >= outageTo && t.acked);
      assert.ok(after.length > 0, "nothing acknowledged after the outage");
      // The back-off's longest step is 4 h (randomised to 2–4 h); before the fix the next probe waited ~20 h for the budget.
      assert.ok(after[0].startMs - outageTo <= 4 * HOUR + 15 * MIN, `first ACK ${((after[0].startMs - outageTo) / HOUR).toFixed(1)} h after the outage ended`);
      // The day's budget was under pressure: checkpoints and alarms before, probes in the outage (8 confirmable a day).
      assert.ok(probes.length >= 5, `only ${probes.length} probes in the outage`);
      const got = new Set(arrivals(rig.modem.delivered).map((a) => a.id));
      assert.deepEqual(submitted.filter((id) => !got.has(id)), [], "readings never delivered");
    });
  }
});
