/**
 * End to end, fill-level node (bin variant): the real firmware entry point
 * (nodes/level/main.ts) on a simulated ESP32-DevKitC with an emulated A02YYUW
 * ultrasonic sensor on the sensor UART and a LIS3DH whose INT1 line wakes the
 * node (ext0), a Wio-E5 emulator on the modem UART, the simulated network and
 * the application events. Three days of a scripted street bin: deposits
 * through the lid (some during an 8-hour outage), a full bin, a collection,
 * a tip-over, and a setInterval downlink.
 */
import assert from "node:assert/strict";
import type { A02yyuwTarget } from "../../simulator/src/devices/a02yyuw.ts";
import type { Lis3dhAcceleration } from "../../simulator/src/devices/lis3dh.ts";
import { SimNode } from "../../simulator/src/fleet/sim-node.ts";
import { Fleet } from "../../simulator/src/fleet/run-fleet.ts";
import { D, H, MIN, S, configAcks, matchAlarms, matchReadings, queueDownlink, quietNetwork, ramp, report, stamp, storedConfig, type Arrival } from "./harness.ts";

const DAYS = 3;
/** Factory geometry: sensor to the empty bottom, to the 100 % line. */
const DEPTH_MM = 1200;
const FULL_MM = 150;
const EV = {
  outage: { fromMs: 10 * H, toMs: 18 * H },
  collection: 2 * D + 6 * H + 37 * MIN,
  tip: { from: 2 * D + 14 * H + 3 * MIN, to: 2 * D + 15 * H + 3 * MIN },
  setInterval: 2 * D + 1 * H,
};
const COLLECTION_MS = 30 * S;
const DEPOSIT_MS = 6 * S;

/** Deposits every two hours from 07:00 to 21:00 on days 0 and 1 (the bin fills up), none on day 2 after the collection. */
const deposits: { t: number; fill: number }[] = [];
{
  let fill = 0.1;
  for (let d = 0; d < 2; d++) {
    for (let h = 7; h <= 21; h += 2) {
      fill += d === 0 ? 0.045 : 0.05;
      deposits.push({ t: d * D + h * H + 11 * MIN, fill });
    }
  }
}

/** True fill (0..1). */
function fillAt(t: number): number {
  if (t >= EV.collection + COLLECTION_MS / 2) return 0.03;
  let fill = 0.1;
  for (const d of deposits) if (t >= d.t + DEPOSIT_MS / 2) fill = d.fill;
  return fill;
}

const within = (t: number, from: number, ms: number) => t >= from && t < from + ms;

/** What the sensor in the lid sees: the surface, or nothing while the lid is open or the bin is turned. */
function target(t: number): A02yyuwTarget {
  if (within(t, EV.collection, COLLECTION_MS) || deposits.some((d) => within(t, d.t, DEPOSIT_MS))) return { distanceMm: 5000, surface: "none" };
  if (t >= EV.tip.from && t < EV.tip.to + 5 * S) return { distanceMm: 2500, surface: "hard" };
  return { distanceMm: Math.round(DEPTH_MM - fillAt(t) * (DEPTH_MM - FULL_MM)), surface: "hard" };
}

/** Gravity on the sensor tilted `deg` about its X axis (the lid's hinge), mg. */
function tilted(deg: number): Lis3dhAcceleration {
  const r = (deg * Math.PI) / 180;
  return { x: 0, y: 1000 * Math.sin(r), z: 1000 * Math.cos(r) };
}

/** The lid opened for a deposit, the bin turned over the truck's hopper and shaken, the bin on its side. */
function acceleration(t: number): Lis3dhAcceleration {
  if (within(t, EV.collection, COLLECTION_MS)) {
    const c = t - EV.collection;
    const deg = c < 5 * S ? ramp(c, 0, 5 * S, 0, 30) : c < 12 * S ? ramp(c, 5 * S, 12 * S, 30, 180) : c < 22 * S ? 180 : ramp(c, 22 * S, 30 * S, 180, 0);
    const g = tilted(deg);
    if (c >= 12 * S && c < 22 * S) {
      const shake = 400 * Math.sin((2 * Math.PI * c) / 700);
      return { x: g.x + shake, y: g.y - shake, z: g.z + shake };
    }
    return g;
  }
  const dep = deposits.find((d) => within(t, d.t, DEPOSIT_MS));
  if (dep) {
    const x = t - dep.t;
    return tilted(x < 2 * S ? ramp(x, 0, 2 * S, 0, 70) : x < 4 * S ? 70 : ramp(x, 4 * S, 6 * S, 70, 0));
  }
  if (t >= EV.tip.from && t < EV.tip.to + 5 * S) {
    const deg = t < EV.tip.to ? ramp(t, EV.tip.from, EV.tip.from + 2 * S, 0, 90) : ramp(t, EV.tip.to, EV.tip.to + 3 * S, 90, 0);
    const r = (deg * Math.PI) / 180;
    return { x: 1000 * Math.sin(r), y: 0, z: 1000 * Math.cos(r) };
  }
  return tilted(0);
}

/** The A02YYUW's accuracy, ±(10 mm + 0.3 %), as a fill tolerance in %, plus the 0.5 % quantum. */
function tolerancePct(distanceMm: number): number {
  return ((10 + 0.003 * distanceMm) / (DEPTH_MM - FULL_MM)) * 100 + 0.5;
}

describe("e2e: level node, bin (Wio-E5, EU868) → link → modem emulator → radio → network server → decoded events", function () {
  this.timeout(300_000);
  const network = quietNetwork("EU868", "e2e-level");
  network.addOutage(EV.outage);
  const node = new SimNode({
    type: "level", id: "bin-1", seed: 303, network, position: { x: 80, y: -30 }, modem: "wio-e5",
    config: { variant: "bin", adr: false, dataRate: 5 },
    environment: { target, acceleration },
  });
  const fleet = new Fleet(network, [node]);
  let pairs: { reading: { atMs: number }; arrival: Arrival }[] = [];
  // The sensor rail's level whenever this node's modem puts a frame on the air.
  const railAtTx: number[] = [];
  const transmit = network.transmit.bind(network);
  network.transmit = (tx) => {
    railAtTx.push(node.board.pins.get(node.table.sensorPower) ?? 0);
    return transmit(tx);
  };

  before(() => {
    fleet.runUntil(EV.setInterval);
    queueDownlink(node, { command: "setInterval", intervalS: 900, heartbeatS: 3600 });
    fleet.runUntil(DAYS * D);
    pairs = matchReadings(node, fleet.eventsOf(node.id), DAYS * D - H);
    report(fleet, node, DAYS, "level/bin (Wio-E5, EU868)");
  });

  it("switches the distance sensor's rail off before the radio: it is off at every transmission", () => {
    assert.ok(railAtTx.length >= 50, `${railAtTx.length} transmissions`);
    assert.deepEqual(railAtTx.filter((level) => level !== 0), []);
  });

  it("every application event decodes, and every reading the node queued arrives", () => {
    for (const e of fleet.eventsOf(node.id)) assert.ok(e.event.uplink_message.decoded_payload);
    assert.ok(pairs.length >= 15, `${pairs.length} readings`);
    assert.equal(pairs.length, node.readings.length);
    assert.ok(node.counters.pinWakes >= 10, `${node.counters.pinWakes} pin wakes`);
  });

  it("decoded fill levels match the scripted fill within the sensor's accuracy", () => {
    let checked = 0;
    for (const { reading, arrival } of pairs) {
      const fill = arrival.data.fillPct;
      if (typeof fill !== "number" || arrival.data.tipped) continue;
      // The wake measures in its first seconds; deposits are steps: take the best match over the last 15 s.
      let best = Infinity;
      let tol = 0;
      for (let t = reading.atMs - 15 * S; t <= reading.atMs; t += S) {
        const truth = fillAt(t) * 100;
        if (Math.abs(fill - truth) < best) {
          best = Math.abs(fill - truth);
          tol = tolerancePct(DEPTH_MM - fillAt(t) * (DEPTH_MM - FULL_MM));
        }
      }
      assert.ok(best <= tol, `fill ${fill} % at ${stamp(reading.atMs)}, truth ${(fillAt(reading.atMs) * 100).toFixed(1)} %`);
      checked++;
    }
    assert.ok(checked >= 15, `${checked} fills checked`);
  });

  it("full, emptied and tipped raise their alarms, and every alarm the node raised arrives confirmed", () => {
    const got = matchAlarms(node, fleet.eventsOf(node.id), 8);
    const events = got.map((p) => ({ event: p.alarm.data!.event as string, atMs: p.alarm.atMs, receivedMs: p.event.atMs, confirmed: p.event.event.uplink_message.confirmed === true }));
    console.log(`      alarms: ${events.map((a) => `${a.event} raised ${stamp(a.atMs)}${a.receivedMs - a.atMs > MIN ? ` received ${stamp(a.receivedMs)}` : ""}${a.confirmed ? "" : " (unconfirmed)"}`).join("; ")}`);
    const full = events.find((a) => a.event === "full");
    const crossing = deposits.find((d) => d.fill >= 0.8)!.t;
    assert.ok(full && full.atMs >= crossing && full.atMs <= crossing + 45 * MIN, `full ${JSON.stringify(full)} vs crossing ${stamp(crossing)}`);
    const emptied = events.find((a) => a.event === "emptied");
    assert.ok(emptied && emptied.atMs >= EV.collection && emptied.atMs <= EV.collection + 20 * MIN, JSON.stringify(events));
    const tipped = events.find((a) => a.event === "tipped");
    assert.ok(tipped && tipped.atMs >= EV.tip.from && tipped.atMs <= EV.tip.from + 20 * MIN, JSON.stringify(events));
    assert.ok(events.some((a) => a.event === "upright" && a.atMs >= EV.tip.to));
  });

  it("readings measured during the 8-hour outage arrive after it, in batches, with times inside it", () => {
    const during = pairs.filter((p) => p.reading.atMs >= EV.outage.fromMs && p.reading.atMs < EV.outage.toMs);
    assert.ok(during.length >= 3, `${during.length} readings during the outage`);
    for (const { reading, arrival } of during) {
      assert.ok(arrival.batch, `reading of ${stamp(reading.atMs)} arrived as a plain reading`);
      assert.ok(arrival.atMs >= EV.outage.toMs);
      assert.ok(arrival.measuredMs >= EV.outage.fromMs && arrival.measuredMs < EV.outage.toMs, `measured ${stamp(arrival.measuredMs)}`);
    }
  });

  it("applies a setInterval downlink and answers it with a configAck 'applied'", () => {
    const acks = configAcks(fleet.eventsOf(node.id));
    assert.equal(acks.length, 1, JSON.stringify(acks));
    assert.equal(acks[0].data.result, "applied");
    assert.equal(acks[0].data.commandPort, 20);
    const c = storedConfig(node);
    assert.equal(c.intervalS, 900);
    assert.equal(c.heartbeatS, 3600);
    // The new heartbeat: a reading at least every hour (and a sampling period) once the ack went out.
    const after = pairs.map((p) => p.reading.atMs).filter((t) => t > acks[0].atMs + 20 * MIN).sort((a, b) => a - b);
    assert.ok(after.length >= 4, `${after.length} readings after the ack of ${stamp(acks[0].atMs)}: ${after.map(stamp).join(", ")}`);
    for (let i = 1; i < after.length; i++) assert.ok(after[i] - after[i - 1] <= H + 16 * MIN, `gap ${stamp(after[i - 1])} → ${stamp(after[i])}`);
  });
});
