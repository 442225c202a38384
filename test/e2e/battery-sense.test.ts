/**
 * End to end, the battery sense: the cell through the board's 1 MΩ / 1 MΩ divider on an ADC pin, read the way
 * Moddable's ESP32 Analog reads it (12 dB attenuation, calibrated, 4095 at 2450 mV). Status messages must
 * carry the cell's voltage, and readings must be flagged lowBattery once it is below 3300 mV, on both boards.
 */
import assert from "node:assert/strict";
import { SimNode } from "../../simulator/src/fleet/sim-node.ts";
import { Fleet } from "../../simulator/src/fleet/run-fleet.ts";
import { decodeUplink } from "../../codecs/src/index.ts";
import { D, H, quietNetwork } from "./harness.ts";

/** 3600 mV for a day, then down 200 mV a day. */
const cell = (t: number) => (t < D ? 3600 : 3600 - (200 * (t - D)) / D);

describe("e2e: the battery sense reports the cell's voltage and flags a low battery", function () {
  this.timeout(120_000);
  const network = quietNetwork("EU868", "e2e-battery");
  const nodes = [
    new SimNode({ type: "water", id: "water-esp32", seed: 401, network, position: { x: 40, y: 40 }, config: { adr: false, dataRate: 5 }, battery: cell }),
    new SimNode({ type: "level", id: "bin-esp32s3", seed: 402, network, position: { x: 60, y: 40 }, config: { adr: false, dataRate: 5, platform: "esp32/esp32s3", variant: "bin" }, battery: cell }),
    new SimNode({ type: "air", id: "air-esp32", seed: 403, network, position: { x: 80, y: 40 }, config: { adr: false, dataRate: 5 }, battery: cell }),
  ];
  // On mains: no cell on the divider, the sense pin at 0 V, which the calibrated ADC reads as about 142 mV.
  const mains = new SimNode({ type: "water", id: "water-mains", seed: 404, network, position: { x: 100, y: 40 }, config: { adr: false, dataRate: 5 }, battery: () => undefined });
  nodes.push(mains);
  before(() => new Fleet(network, nodes).runUntil(3 * D));

  it("a node on mains reports no battery voltage and never a low battery, though the calibrated ADC never reads 0", () => {
    const statuses = mains.queued.filter((m) => m.kind === "status");
    assert.ok(statuses.length >= 3);
    for (const s of statuses) assert.equal(s.data!.batteryMv, undefined, JSON.stringify(s.data));
    const flagged = mains.readings.filter((r) => (decodeUplink({ fPort: r.port, bytes: r.bytes }).data as { lowBattery?: boolean } | undefined)?.lowBattery);
    assert.equal(flagged.length, 0);
  });

  for (const i of [0, 1, 2]) {
    it(`${["water, ESP32", "level, ESP32-S3", "air, ESP32"][i]}: every status carries the cell's voltage within 5 mV`, () => {
      const statuses = nodes[i].queued.filter((m) => m.kind === "status");
      assert.ok(statuses.length >= 3, `${statuses.length} status messages`);
      for (const s of statuses) {
        const mv = s.data!.batteryMv as number;
        assert.ok(Math.abs(mv - cell(s.atMs)) <= 5, `${nodes[i].id} at ${(s.atMs / H).toFixed(1)} h: ${mv} mV against the cell's ${cell(s.atMs).toFixed(0)} mV`);
      }
    });

    it(`${["water, ESP32", "level, ESP32-S3", "air, ESP32"][i]}: readings are flagged lowBattery once the cell is below 3300 mV, and not before`, () => {
      const readings = nodes[i].readings.map((r) => ({ atMs: r.atMs, low: (decodeUplink({ fPort: r.port, bytes: r.bytes }).data as { lowBattery?: boolean } | undefined)?.lowBattery }));
      const before = readings.filter((r) => cell(r.atMs) > 3310);
      const after = readings.filter((r) => cell(r.atMs) < 3290);
      assert.ok(before.length > 0 && after.length > 0, `${before.length} readings before, ${after.length} after`);
      assert.ok(before.every((r) => r.low === false), "a healthy cell is flagged low");
      assert.ok(after.every((r) => r.low === true), "a low cell is not flagged");
    });
  }
});
