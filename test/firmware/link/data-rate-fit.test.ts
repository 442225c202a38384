/**
 * A message longer than the current data rate allows: at US915 DR0 (11 bytes)
 * alarms (12–15 bytes) and status messages (13+) go at the lowest data rate
 * where they fit (DR1, 53 bytes) and the modem returns to its rate at once;
 * routine readings stay at DR0 as their core bytes.
 */
import assert from "node:assert/strict";
import { decodeUplink } from "../../../codecs/src/index.ts";
import { LinkRig, arrivals, waterAlarm, waterReading } from "./harness.ts";

const MIN15 = 15 * 60000;

describe("link: messages that do not fit the data rate", () => {
  it("US915 DR0: an alarm goes confirmed at DR1, then the readings at DR0 again", () => {
    const rig = new LinkRig({ seed: 31, region: "US915", dataRate: 0 });
    for (let w = 1; w <= 6; w++) {
      rig.wake((link) => {
        assert.equal(link.maxPayload(), 51);
        assert.equal(link.submit(4, waterReading(w), 11, "routine"), true);
        if (w === 3) assert.equal(link.submit(5, waterAlarm(7000 + w), 15, "alarm"), true);
        link.flush();
        assert.equal(link.dataRate, 0, "the link's rate is the modem's again");
        assert.equal(rig.modem.dataRate(), 0, "the modem is back at DR0");
      });
      rig.sleepUntil(rig.nowMs + MIN15);
    }
    const data = rig.modem.txs.filter((t) => t.kind === "data");
    const alarms = data.filter((t) => t.port === 5);
    assert.equal(alarms.length, 1);
    assert.equal(alarms[0].dr, 1, "the alarm at DR1 (the lowest that takes 15 bytes)");
    assert.equal(alarms[0].confirmed, true);
    assert.equal(alarms[0].acked, true);
    assert.ok(alarms[0].airtimeMs <= 400, `dwell time ${alarms[0].airtimeMs} ms`);
    assert.equal(decodeUplink({ bytes: alarms[0].bytes, fPort: 5 }).data?.totalL, 7003);
    for (const t of data.filter((x) => x.port !== 5)) {
      assert.equal(t.dr, 0, `port ${t.port} at DR${t.dr}`);
      assert.ok(t.bytes.length <= 11);
    }
    // The uplink right after the alarm (same wake) is back at DR0.
    const after = data[data.indexOf(alarms[0]) + 1];
    assert.ok(after && after.dr === 0 && after.port === 4);
    assert.deepEqual([...new Set(arrivals(rig.modem.delivered).map((a) => a.id))], [1, 2, 3, 4, 5, 6]);
  });

  it("US915 DR0: a status message goes at DR1; a message that fits no data rate waits without blocking the others", () => {
    const rig = new LinkRig({ seed: 32, region: "US915", dataRate: 0 });
    rig.wake((link) => {
      assert.equal(link.submit(10, new Uint8Array(22), 22, "status"), true);
      assert.equal(link.submit(4, waterReading(1), 11, "routine"), true);
      link.flush();
    });
    const data = rig.modem.txs.filter((t) => t.kind === "data");
    assert.deepEqual(data.map((t) => [t.port, t.dr, t.bytes.length]), [[10, 1, 22], [4, 0, 11]]);
  });

  it("with ADR: back to the rate ADR set after the alarm, and no rate change once ADR's rate fits", () => {
    const rig = new LinkRig({ seed: 33, region: "US915", adr: true, dataRate: 0 });
    for (let w = 1; w <= 8; w++) {
      // The network's LinkADRReq moves the modem to DR3 after the fourth wake.
      if (w === 5) rig.modem.setDataRate(3);
      rig.wake((link) => {
        link.submit(4, waterReading(w), 11, "routine");
        if (w === 2 || w === 7) link.submit(5, waterAlarm(9000 + w), 15, "alarm");
        link.flush();
      });
      rig.sleepUntil(rig.nowMs + MIN15);
    }
    const data = rig.modem.txs.filter((t) => t.kind === "data");
    assert.deepEqual(data.filter((t) => t.port === 5).map((t) => t.dr), [1, 3], "DR1 while ADR had DR0; ADR's DR3 once it fits");
    const routine = data.filter((t) => t.port !== 5);
    assert.ok(routine.length >= 8);
    for (const t of routine) assert.equal(t.dr, t.startMs < data.find((x) => x.dr === 3)!.startMs ? 0 : 3, `reading at DR${t.dr}`);
  });

  it("EU868: every priority message fits DR0, so nothing changes the rate", () => {
    const rig = new LinkRig({ seed: 34, region: "EU868", dataRate: 0 });
    rig.wake((link) => {
      assert.equal(link.maxPayload(), 51);
      link.submit(5, waterAlarm(1), 15, "alarm");
      link.submit(10, new Uint8Array(40), 40, "status");
      link.flush();
    });
    assert.ok(rig.modem.txs.filter((t) => t.kind === "data").every((t) => t.dr === 0));
  });
});
