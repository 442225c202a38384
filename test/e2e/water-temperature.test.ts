/**
 * End to end, water node with its optional DS18B20 water-temperature probe
 * (`waterTemperature` in the manifest; hardware/water/README.md): the probe on
 * the 1-Wire bus, powered from the switched 3V3 only for each reading, its
 * temperature in the routine readings' extension, and a cut probe cable
 * counted as a fault and never turned into a reading. A node without the probe
 * alongside, to show the option costs nothing when off.
 */
import assert from "node:assert/strict";
import { SimNode } from "../../simulator/src/fleet/sim-node.ts";
import { Fleet } from "../../simulator/src/fleet/run-fleet.ts";
import { dailyFlow, type WaterUse } from "../firmware/nodes/household.ts";
import { D, H, MIN, S, matchReadings, quietNetwork, stamp } from "./harness.ts";

const DAYS = 3;
const CUT = { from: 1 * D + 2 * H, to: 1 * D + 16 * H };
const USES: WaterUse[] = [
  [7 * 60, 8, 9],
  [12 * 60, 2, 6],
  [19 * 60, 10, 8],
];

/** The water in the pipe: 9 °C, warming by 1.5 °C a day, with a little daily swing. */
const waterC = (t: number) => 9 + (1.5 * t) / D + 0.3 * Math.sin((2 * Math.PI * t) / D);

describe("e2e: water node with a DS18B20 water-temperature probe on the switched 3V3", function () {
  this.timeout(300_000);
  const network = quietNetwork("EU868", "e2e-water-temp");
  const config = { meter: "reed-1l", adr: false, dataRate: 5 };
  const probe = new SimNode({
    type: "water", id: "water-probe", seed: 231, network, position: { x: -40, y: 60 },
    config: { ...config, waterTemperature: true },
    environment: { flowLMin: (t) => dailyFlow(USES, t), waterTemperatureC: waterC },
  });
  const plain = new SimNode({ type: "water", id: "water-plain", seed: 232, network, position: { x: -60, y: 60 }, config, environment: { flowLMin: (t) => dailyFlow(USES, t) } });
  const fleet = new Fleet(network, [probe, plain]);
  const readings = () => matchReadings(probe, fleet.eventsOf(probe.id), DAYS * D - 30 * MIN);

  before(() => {
    fleet.runUntil(CUT.from);
    probe.devices.ds18b20!.inject("absent");
    fleet.runUntil(CUT.to);
    probe.devices.ds18b20!.clear();
    fleet.runUntil(DAYS * D);
  });

  it("every routine reading outside the cut carries the water temperature, within the probe's ±0.5 °C", () => {
    const pairs = readings();
    let checked = 0;
    for (const { reading, arrival } of pairs) {
      if (reading.atMs >= CUT.from && reading.atMs < CUT.to + 20 * MIN) continue;
      const c = arrival.data.waterTemperatureC;
      assert.equal(typeof c, "number", `no water temperature at ${stamp(reading.atMs)}`);
      assert.ok(Math.abs((c as number) - waterC(reading.atMs)) <= 0.55, `${c} °C at ${stamp(reading.atMs)}, water ${waterC(reading.atMs).toFixed(2)}`);
      checked++;
    }
    // Readings go when the flow figures change or at the 6-hour heartbeat.
    assert.ok(checked >= 10, `${checked} readings checked`);
  });

  it("a cut probe cable is counted as a fault and flagged; no reading during it carries a temperature", () => {
    const during = readings().filter((p) => p.reading.atMs >= CUT.from + 20 * MIN && p.reading.atMs < CUT.to);
    assert.ok(during.length >= 2, `${during.length} readings during the cut`);
    for (const { reading, arrival } of during) {
      assert.equal(arrival.data.waterTemperatureC, undefined, `a temperature at ${stamp(reading.atMs)}`);
      assert.equal(arrival.data.sensorFault, true, `no fault flag at ${stamp(reading.atMs)}`);
    }
    const status = fleet.eventsOf(probe.id).map((e) => e.event.uplink_message.decoded_payload as { messageType?: string; faults?: Record<string, unknown> }).filter((d) => d.messageType === "status");
    assert.ok(status.some((d) => JSON.stringify(d).includes("waterTemperature")), JSON.stringify(status.at(-1)));
  });

  it("the probe's rail is on only for each reading, at most about 0.2 s (the 10-bit conversion); without the probe the rail stays off", () => {
    const n = probe.readings.length;
    const perReading = probe.counters.railMs / S / n;
    // Readings during the cut find no probe and switch the rail off at once.
    assert.ok(perReading > 0.1 && perReading < 0.25, `${perReading.toFixed(3)} s of rail a reading`);
    assert.equal(plain.counters.railMs, 0);
    for (const { arrival } of matchReadings(plain, fleet.eventsOf(plain.id), DAYS * D - 30 * MIN)) assert.equal(arrival.data.waterTemperatureC, undefined);
  });
});
