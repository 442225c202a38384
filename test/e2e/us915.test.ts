/**
 * End to end in US915 at DR0 (SF10, 11-byte payloads), ADR off: an air node
 * (Wio-E5), a water node (RAK3172) and a bin (RAK3172) on one network, run
 * together by the fleet runner. Routine readings fit DR0 as their core bytes;
 * alarms (12–15 bytes) and status messages (13+) do not, and must go at the
 * lowest data rate that takes them (DR1, SF9, 53 bytes), confirmed, with the
 * nodes back at DR0 for everything else.
 */
import assert from "node:assert/strict";
import { CLEAN_AIR } from "../../simulator/src/devices/air-environment.ts";
import type { Lis3dhAcceleration } from "../../simulator/src/devices/lis3dh.ts";
import { SimNode } from "../../simulator/src/fleet/sim-node.ts";
import { Fleet, summarize } from "../../simulator/src/fleet/run-fleet.ts";
import { D, H, MIN, S, matchAlarms, matchReadings, quietNetwork, ramp, report, stamp } from "./harness.ts";

const DAYS = 2;
const EV = {
  co2: { from: 14 * H, to: 16 * H, ppm: 2000 },
  burst: { from: 1 * D + 9 * H, to: 1 * D + 9 * H + 10 * MIN, lMin: 40 },
  tip: { from: 1 * D + 3 * H + 7 * MIN, to: 1 * D + 5 * H },
};

function tip(t: number): Lis3dhAcceleration {
  if (t < EV.tip.from || t >= EV.tip.to + 5 * S) return { x: 0, y: 0, z: 1000 };
  const deg = t < EV.tip.to ? ramp(t, EV.tip.from, EV.tip.from + 2 * S, 0, 90) : ramp(t, EV.tip.to, EV.tip.to + 3 * S, 90, 0);
  const r = (deg * Math.PI) / 180;
  return { x: 1000 * Math.sin(r), y: 0, z: 1000 * Math.cos(r) };
}

describe("e2e: US915 DR0 (11 bytes), three nodes in one fleet: readings at DR0, alarms at DR1", function () {
  this.timeout(300_000);
  const network = quietNetwork("US915", "e2e-us915");
  const radio = { adr: false, dataRate: 0 };
  const air = new SimNode({
    type: "air", id: "air-us", seed: 401, network, position: { x: 40, y: 30 }, modem: "wio-e5", config: radio,
    environment: { air: (t) => ({ ...CLEAN_AIR, co2Ppm: Math.max(440, Math.min(ramp(t, EV.co2.from, EV.co2.from + 10 * MIN, 440, EV.co2.ppm), ramp(t, EV.co2.to - 10 * MIN, EV.co2.to, EV.co2.ppm, 440))) }) },
  });
  const water = new SimNode({
    type: "water", id: "water-us", seed: 402, network, position: { x: -60, y: 20 }, modem: "rak3172", config: { ...radio, meter: "fs400a" },
    environment: { flowLMin: (t) => ((t % D) >= 7 * H && (t % D) < 7 * H + 6 * MIN ? 8 : 0) + (t >= EV.burst.from && t < EV.burst.to ? EV.burst.lMin : 0) },
  });
  const bin = new SimNode({
    type: "level", id: "bin-us", seed: 403, network, position: { x: 10, y: -70 }, modem: "rak3172", config: { ...radio, variant: "bin" },
    environment: { target: (t) => (t >= EV.tip.from && t < EV.tip.to + 5 * S ? { distanceMm: 2500 } : { distanceMm: 900 }), acceleration: tip },
  });
  const fleet = new Fleet(network, [air, water, bin]);

  before(() => {
    fleet.runUntil(DAYS * D);
    for (const n of fleet.nodes) report(fleet, n, DAYS, `${n.id} (${n.modemModel}, US915 DR0)`);
    const report915 = network.finalize();
    console.log(`      network: ${report915.delivered} frames delivered, ${report915.lost} lost ${JSON.stringify(report915.byReason)}; fleet: ${JSON.stringify(summarize(fleet).map((s) => [s.id, s.uplinks, s.alarms]))}`);
  });

  it("routine readings arrive at DR0 (SF10), each frame within 11 bytes", () => {
    for (const n of fleet.nodes) {
      const pairs = matchReadings(n, fleet.eventsOf(n.id), DAYS * D - 2 * H);
      assert.ok(pairs.length >= 4, `${n.id}: ${pairs.length} readings`);
      for (const { arrival } of pairs) {
        const u = arrival.event.event.uplink_message;
        assert.equal(u.settings.data_rate.lora.spreading_factor, 10, `${n.id}: reading at SF${u.settings.data_rate.lora.spreading_factor}`);
        assert.ok(Buffer.from(u.frm_payload, "base64").length <= 11);
      }
    }
  });

  it("alarms and status messages, too long for DR0, go at DR1 (SF9), the alarms confirmed", () => {
    const expected: Record<string, { port: number; event: string; from: number }> = {
      "air-us": { port: 2, event: "co2High", from: EV.co2.from },
      "water-us": { port: 5, event: "burst", from: EV.burst.from },
      "bin-us": { port: 8, event: "tipped", from: EV.tip.from },
    };
    for (const n of fleet.nodes) {
      const e = expected[n.id];
      const got = matchAlarms(n, fleet.eventsOf(n.id), e.port);
      const hit = got.find((p) => p.alarm.data?.event === e.event && p.alarm.atMs >= e.from && p.alarm.atMs <= e.from + 30 * MIN);
      assert.ok(hit, `${n.id}: no ${e.event}: ${got.map((p) => `${p.alarm.data?.event} ${stamp(p.alarm.atMs)}`).join(", ")}`);
      for (const { event } of got) {
        const u = event.event.uplink_message;
        assert.equal(u.settings.data_rate.lora.spreading_factor, 9, `${n.id}: alarm at SF${u.settings.data_rate.lora.spreading_factor}`);
        assert.ok(Buffer.from(u.frm_payload, "base64").length > 11);
      }
      const status = fleet.eventsOf(n.id).filter((x) => x.event.uplink_message.f_port === 10);
      assert.ok(status.length >= DAYS, `${n.id}: ${status.length} status messages`);
      for (const s of status) assert.equal(s.event.uplink_message.settings.data_rate.lora.spreading_factor, 9);
      // After each DR1 uplink the node is back at DR0: the next routine uplink of the node goes at SF10.
      const events = fleet.eventsOf(n.id);
      events.forEach((x, i) => {
        const next = events.slice(i + 1).find((y) => [1, 4, 7, 3, 6, 9].includes(y.event.uplink_message.f_port));
        if (x.event.uplink_message.settings.data_rate.lora.spreading_factor === 9 && next) assert.equal(next.event.uplink_message.settings.data_rate.lora.spreading_factor, 10);
      });
    }
  });

  it("the fleet runner interleaves the nodes in virtual time", () => {
    const times = fleet.events.map((e) => e.atMs);
    let inversions = 0;
    for (let i = 1; i < times.length; i++) if (times[i] < times[i - 1]) inversions++;
    // A boot may transmit after another node's later boot started, so arrival order is only nearly sorted.
    assert.ok(inversions <= times.length / 10, `${inversions} of ${times.length} events out of order`);
    for (const n of fleet.nodes) assert.ok(Math.abs(n.clock.nowMs - DAYS * D) < 1, `${n.id} at ${n.clock.nowMs}`);
  });
});
