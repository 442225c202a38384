/**
 * End to end, water node: the real firmware entry point (nodes/water/main.ts)
 * on a simulated ESP32-DevKitC with an emulated FS400A turbine meter on the
 * ULP pulse counter and a latching shut-off valve, a RAK3172 emulator on the
 * modem UART, the simulated network and the application events. Three days
 * of a scripted household with a burst (the node closes the valve itself), a
 * setValve and a setInterval downlink, and an 8-hour network outage over a
 * morning's showers.
 */
import assert from "node:assert/strict";
import { SimNode } from "../../simulator/src/fleet/sim-node.ts";
import { Fleet } from "../../simulator/src/fleet/run-fleet.ts";
import { dailyFlow, type WaterUse } from "../firmware/nodes/household.ts";
import { D, H, MIN, configAcks, matchAlarms, matchReadings, queueDownlink, quietNetwork, report, stamp, storedConfig, type Arrival } from "./harness.ts";

const DAYS = 3;
/** FS400A as the driver's preset counts it: 125 mL per 36 pulses. */
const ML_PER_PULSE = 125 / 36;
const EV = {
  burst: { from: 1 * D + 13 * H, to: 1 * D + 14 * H, lMin: 40 },
  setValveOpen: 1 * D + 15 * H,
  outage: { fromMs: 2 * D + 2 * H, toMs: 2 * D + 10 * H },
  setInterval: 2 * D + 12 * H,
};

const USES: WaterUse[] = [
  [7 * 60, 8, 9],
  [7 * 60 + 30, 1, 9],
  [12 * 60, 2, 6],
  [19 * 60, 10, 8],
  [21 * 60, 4, 6],
];

/** A household's day (L/min): showers, a flush, taps, the dishwasher; plus the burst. */
function flow(t: number): number {
  let f = dailyFlow(USES, t);
  if (t >= EV.burst.from && t < EV.burst.to) f += EV.burst.lMin;
  return f;
}

describe("e2e: water node (RAK3172, EU868) → link → modem emulator → radio → network server → decoded events", function () {
  this.timeout(300_000);
  const network = quietNetwork("EU868", "e2e-water");
  network.addOutage(EV.outage);
  /** Pulses on the wire at the start and the end of every boot. */
  const truth: { startMs: number; endMs: number; startPulses: number; endPulses: number }[] = [];
  /** Valve lines (power, open, close) high at the end of a boot, and as the node sleeps: the bridge awake, the coil driven. */
  const lineHigh: string[] = [];
  const node = new SimNode({
    type: "water", id: "water-1", seed: 202, network, position: { x: -50, y: 70 }, modem: "rak3172",
    config: { meter: "fs400a", valve: true, adr: false, dataRate: 5 },
    environment: { flowLMin: flow },
    beforeBoot: (n) => truth.push({ startMs: n.clock.nowMs, endMs: n.clock.nowMs, startPulses: n.devices.meter!.stats().realPulses, endPulses: 0 }),
    afterBoot: (n) => {
      const t = truth[truth.length - 1];
      t.endMs = n.clock.nowMs;
      t.endPulses = n.devices.meter!.stats().realPulses;
      const v = n.table.valve;
      for (const [name, pin] of [["power", v.power], ["open", v.open], ["close", v.close]] as const) if (n.board.pins.get(pin)) lineHigh.push(`${name} at ${stamp(n.clock.nowMs)}`);
    },
  });
  const fleet = new Fleet(network, [node]);
  let pairs: { reading: { atMs: number }; arrival: Arrival }[] = [];

  before(() => {
    fleet.runUntil(EV.setValveOpen);
    queueDownlink(node, { command: "setValve", valve: "open" });
    fleet.runUntil(EV.setInterval);
    queueDownlink(node, { command: "setInterval", intervalS: 600, heartbeatS: 3600 });
    fleet.runUntil(DAYS * D);
    pairs = matchReadings(node, fleet.eventsOf(node.id), DAYS * D - 30 * MIN);
    report(fleet, node, DAYS, "water (RAK3172, EU868)");
  });

  it("every application event decodes, and every reading the node queued arrives", () => {
    for (const e of fleet.eventsOf(node.id)) assert.ok(e.event.uplink_message.decoded_payload);
    assert.ok(pairs.length >= 20, `${pairs.length} readings`);
    assert.equal(pairs.length, node.readings.length);
  });

  it("decoded meter totals match the pulses on the wire, and the volumes add up to them", () => {
    let checked = 0;
    for (const { reading, arrival } of pairs) {
      const boot = [...truth].reverse().find((b) => b.startMs <= reading.atMs)!;
      assert.ok(reading.atMs <= boot.endMs, `reading ${stamp(reading.atMs)} outside a boot`);
      const lo = Math.floor((boot.startPulses * ML_PER_PULSE) / 1000) - 1;
      const hi = Math.ceil((boot.endPulses * ML_PER_PULSE) / 1000) + 1;
      const total = arrival.data.totalL as number;
      assert.ok(total >= lo && total <= hi, `totalL ${total} at ${stamp(reading.atMs)}, pulses say ${lo + 1}..${hi - 1} L`);
      checked++;
    }
    assert.ok(checked >= 20);
    // Each reading's volume is what flowed since the previous one: their sum is the last total.
    const sorted = [...pairs].sort((a, b) => a.reading.atMs - b.reading.atMs);
    const volume = sorted.reduce((s, p) => s + ((p.arrival.data.volumeMl as number) ?? 0), 0);
    const last = sorted[sorted.length - 1].arrival.data.totalL as number;
    assert.ok(Math.abs(volume / 1000 - last) <= 1, `volumes ${volume / 1000} L, total ${last} L`);
    const pulses = node.devices.meter!.stats().realPulses;
    console.log(`      meter: ${pulses} pulses (${((pulses * ML_PER_PULSE) / 1000).toFixed(1)} L nominal, ${node.devices.meter!.stats().litres.toFixed(1)} L true), last reported total ${last} L`);
  });

  it("a burst raises burst and valveClosed, the valve closes and stays closed until setValve opens it; every alarm arrives confirmed", () => {
    const got = matchAlarms(node, fleet.eventsOf(node.id), 5);
    const events = got.map((p) => ({ event: p.alarm.data!.event as string, atMs: p.alarm.atMs }));
    console.log(`      alarms: ${events.map((a) => `${a.event} ${stamp(a.atMs)}`).join(", ")}`);
    const burst = events.find((a) => a.event === "burst");
    assert.ok(burst && burst.atMs >= EV.burst.from && burst.atMs <= EV.burst.from + 5 * MIN, JSON.stringify(events));
    const closed = events.find((a) => a.event === "valveClosed");
    assert.ok(closed && closed.atMs >= burst.atMs && closed.atMs <= burst.atMs + 2 * MIN);
    // The valve itself: closed by the node, opened by the downlink.
    assert.deepEqual(node.valveLog.map((v) => v.closed), [true, false]);
    assert.ok(Math.abs(node.valveLog[0].atMs - closed.atMs) <= MIN);
    const opened = events.find((a) => a.event === "valveOpened");
    assert.ok(opened && opened.atMs > EV.setValveOpen && Math.abs(node.valveLog[1].atMs - opened.atMs) <= MIN);
    // Nothing flowed while it was closed: the burst ran for minutes, not the scripted hour.
    assert.ok(node.valveLog[0].atMs - EV.burst.from < 5 * MIN);
  });

  it("the valve's lines are low whenever the node sleeps: the H-bridge asleep, no coil current, after every move too", () => {
    assert.ok(node.valveLog.length >= 2);
    assert.deepEqual(lineHigh, []);
  });

  it("readings measured during the 8-hour outage arrive after it, in batches, with times inside it", () => {
    const during = pairs.filter((p) => p.reading.atMs >= EV.outage.fromMs && p.reading.atMs < EV.outage.toMs);
    assert.ok(during.length >= 2, `${during.length} readings during the outage`);
    for (const { reading, arrival } of during) {
      assert.ok(arrival.batch, `reading of ${stamp(reading.atMs)} arrived as a plain reading`);
      assert.ok(arrival.atMs >= EV.outage.toMs);
      assert.ok(arrival.measuredMs >= EV.outage.fromMs && arrival.measuredMs < EV.outage.toMs, `measured ${stamp(arrival.measuredMs)}`);
    }
  });

  it("applies setValve and setInterval downlinks and answers each with a configAck 'applied'", () => {
    const acks = configAcks(fleet.eventsOf(node.id));
    assert.deepEqual(acks.map((a) => [a.data.commandPort, a.data.result]), [[29, "applied"], [20, "applied"]]);
    assert.ok(acks[0].atMs > EV.setValveOpen && acks[1].atMs > EV.setInterval);
    const c = storedConfig(node);
    assert.equal(c.intervalS, 600);
    assert.equal(c.heartbeatS, 3600);
    assert.equal(c.valveCommand, 0);
  });
});
