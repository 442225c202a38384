/**
 * End to end, air node: the real firmware entry point (nodes/air/main.ts) on a
 * simulated ESP32-DevKitC with an emulated SCD41 and SEN55, a Wio-E5 emulator
 * on the modem UART, the simulated radio, gateway and network server (real
 * LoRaWAN crypto), and the application events with the codec's
 * decoded_payload. Three days of scripted air with two CO2 episodes (one
 * during an 8-hour network outage) and a setInterval downlink.
 */
import assert from "node:assert/strict";
import { CLEAN_AIR, type AirEnvironment } from "../../simulator/src/devices/air-environment.ts";
import { SimNode } from "../../simulator/src/fleet/sim-node.ts";
import { Fleet } from "../../simulator/src/fleet/run-fleet.ts";
import { D, H, MIN, configAcks, matchAlarms, matchReadings, queueDownlink, quietNetwork, ramp, report, stamp, storedConfig, type Arrival } from "./harness.ts";

const DAYS = 3;
const EV = {
  outage: { fromMs: 1 * D + 30 * MIN, toMs: 1 * D + 8 * H + 30 * MIN },
  /** A crowded room at night, while the network is down. */
  co2Night: { from: 1 * D + 3 * H, to: 1 * D + 5 * H, ppm: 2000 },
  co2Day: { from: 2 * D + 14 * H, to: 2 * D + 16 * H, ppm: 1900 },
  setInterval: 2 * D + 18 * H,
};

/** Ground truth: a diurnal street (rush hours), two CO2 episodes with 10-minute ramps. */
function truth(t: number): AirEnvironment {
  const hour = (t % D) / H;
  const rush = Math.exp(-((hour - 8) ** 2) / 2) + Math.exp(-((hour - 18) ** 2) / 2);
  const day = Math.sin(((hour - 9) / 24) * 2 * Math.PI);
  let co2 = 430 + 60 * rush;
  for (const e of [EV.co2Night, EV.co2Day]) {
    co2 = Math.max(co2, Math.min(ramp(t, e.from, e.from + 10 * MIN, co2, e.ppm), ramp(t, e.to - 10 * MIN, e.to, e.ppm, co2)));
  }
  const pm25 = 6 + 4 * rush;
  return { ...CLEAN_AIR, co2Ppm: co2, temperatureC: 14 + 4 * day, humidityPct: 65 - 10 * day, pm1: 0.7 * pm25, pm25, pm4: 1.1 * pm25, pm10: Math.max(10 + 6 * rush, 1.2 * pm25) };
}

/** Range of a truth quantity over the hour before `t` (the node's EWMA forgets older values). */
function hourRange(t: number, f: (a: AirEnvironment) => number): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let x = t - H; x <= t; x += MIN) {
    const v = f(truth(x));
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  return [lo, hi];
}

describe("e2e: air node (Wio-E5, EU868) → link → modem emulator → radio → network server → decoded events", function () {
  this.timeout(300_000);
  const network = quietNetwork("EU868", "e2e-air");
  network.addOutage(EV.outage);
  const node = new SimNode({ type: "air", id: "air-1", seed: 101, network, position: { x: 60, y: 40 }, modem: "wio-e5", config: { adr: false, dataRate: 5 }, environment: { air: truth } });
  const fleet = new Fleet(network, [node]);
  let pairs: { reading: { atMs: number }; arrival: Arrival }[] = [];
  let unconfirmed = 0;

  before(() => {
    fleet.runUntil(EV.setInterval);
    queueDownlink(node, { command: "setInterval", intervalS: 600, heartbeatS: 3600 });
    fleet.runUntil(DAYS * D);
    pairs = matchReadings(node, fleet.eventsOf(node.id), DAYS * D - 30 * MIN);
    report(fleet, node, DAYS, "air (Wio-E5, EU868)");
  });

  it("every application event decodes, and every reading the node queued arrives", () => {
    const events = fleet.eventsOf(node.id);
    assert.ok(events.length > 30, `${events.length} events`);
    for (const e of events) assert.ok(e.event.uplink_message.decoded_payload, JSON.stringify(e.event.uplink_message));
    assert.ok(pairs.length >= 40, `${pairs.length} readings`);
    assert.equal(pairs.length, node.readings.length);
  });

  it("decoded CO2, PM2.5 and temperature match the scripted air within the chips' accuracy", () => {
    let co2 = 0;
    for (const { reading, arrival } of pairs) {
      const d = arrival.data;
      const t = reading.atMs;
      if (typeof d.co2Ppm === "number") {
        const [lo, hi] = hourRange(t, (a) => a.co2Ppm);
        // SCD41: ±(40 ppm + 5 % of the reading).
        const tol = 40 + 0.05 * hi;
        assert.ok(d.co2Ppm >= lo - tol && d.co2Ppm <= hi + tol, `CO2 ${d.co2Ppm} at ${stamp(t)}, truth ${lo.toFixed(0)}..${hi.toFixed(0)}`);
        co2++;
      }
      if (typeof d.pm2_5 === "number") {
        const [lo, hi] = hourRange(t, (a) => a.pm25);
        assert.ok(d.pm2_5 >= lo - 5 - 0.1 * hi && d.pm2_5 <= hi + 5 + 0.1 * hi, `PM2.5 ${d.pm2_5} at ${stamp(t)}`);
      }
      if (typeof d.temperatureC === "number") {
        const [lo, hi] = hourRange(t, (a) => a.temperatureC);
        assert.ok(d.temperatureC >= lo - 1 && d.temperatureC <= hi + 1, `T ${d.temperatureC} at ${stamp(t)}, truth ${lo.toFixed(1)}..${hi.toFixed(1)}`);
      }
    }
    assert.ok(co2 >= 30, `${co2} CO2 values checked`);
  });

  it("both CO2 episodes raise co2High and co2Normal; every alarm the node raised arrives, confirmed but where outage probes spent the day's downlinks", () => {
    // After the outage, the first alarm goes as the confirmed probe that finds the network again; the outage's
    // probes used up the day's downlink share (the link charges each, heard or not), so the next may go unconfirmed.
    const inOutage = (a: { atMs: number }) => a.atMs >= EV.outage.fromMs && a.atMs < EV.outage.toMs;
    const firstInOutage = node.queued.find((m) => m.kind === "alarm" && inOutage(m));
    const got = matchAlarms(node, fleet.eventsOf(node.id), 2, (a) => inOutage(a) && a !== firstInOutage);
    unconfirmed = got.filter((p) => !p.event.event.uplink_message.confirmed).length;
    const events = got.map((p) => ({ event: p.alarm.data!.event as string, atMs: p.alarm.atMs, receivedMs: p.event.atMs }));
    for (const e of [EV.co2Night, EV.co2Day]) {
      const high = events.filter((a) => a.event === "co2High" && a.atMs >= e.from && a.atMs <= e.from + 30 * MIN);
      const normal = events.filter((a) => a.event === "co2Normal" && a.atMs >= e.to && a.atMs <= e.to + 45 * MIN);
      assert.equal(high.length, 1, JSON.stringify(events));
      assert.equal(normal.length, 1, JSON.stringify(events));
    }
    // The night episode's alarms were raised during the outage and reached the server after it.
    const night = events.filter((a) => a.atMs >= EV.outage.fromMs && a.atMs < EV.outage.toMs);
    assert.equal(night.length, 2);
    for (const a of night) assert.ok(a.receivedMs >= EV.outage.toMs, `${a.event} received ${stamp(a.receivedMs)}`);
    console.log(`      alarms: ${events.map((a) => `${a.event} raised ${stamp(a.atMs)} received ${stamp(a.receivedMs)}`).join("; ")}; ${unconfirmed} sent unconfirmed`);
  });

  it("readings measured during the 8-hour outage arrive after it, in batches, with times inside it", () => {
    const during = pairs.filter((p) => p.reading.atMs >= EV.outage.fromMs && p.reading.atMs < EV.outage.toMs);
    assert.ok(during.length >= 8, `${during.length} readings during the outage`);
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
    assert.ok(acks[0].atMs > EV.setInterval);
    const c = storedConfig(node);
    assert.equal(c.intervalS, 600);
    assert.equal(c.heartbeatS, 3600);
    // The new heartbeat: no silence over an hour (plus a wake) after the ack.
    const after = pairs.map((p) => p.reading.atMs).filter((t) => t > acks[0].atMs + 10 * MIN);
    for (let i = 1; i < after.length; i++) assert.ok(after[i] - after[i - 1] <= H + 6 * MIN, `gap ${stamp(after[i - 1])} → ${stamp(after[i])}`);
  });
});
