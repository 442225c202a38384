/**
 * End to end, the water node's leak detectors side by side: the real firmware
 * entry point (nodes/water/main.ts) on simulated boards with an emulated
 * YF-S201 turbine (450 P/L, the meter the model was trained on) on the ULP
 * pulse counter, Wio-E5 modems, one simulated network. Four households of the
 * WaterDemand world model (no random incidents) over five days; two of them
 * get the same scripted toilet-flapper leak (60 mL/min) one morning, which
 * stops the next evening. One node of each pair runs the night rule
 * (`leakDetector: "night"`), the other the int8 model (`"model"`).
 */
import assert from "node:assert/strict";
import { SimNode } from "../../simulator/src/fleet/sim-node.ts";
import { Fleet } from "../../simulator/src/fleet/run-fleet.ts";
import { WaterDemand } from "../../simulator/src/world/water-demand.ts";
import { setCurrentBoard } from "../../simulator/src/core/board.ts";
import { RETAIN_MAX, retained } from "../../simulator/src/platform/native-sleep.ts";
import { D, H, matchAlarms, quietNetwork, stamp } from "./harness.ts";

const DAYS = 5;
const LEAK = { startMs: 1 * D + 9 * H + 20 * 60_000, endMs: 2 * D + 21 * H, flowLMin: 0.06 };

describe("e2e: water leak detection, night rule against the int8 model, through the simulated node", function () {
  this.timeout(300_000);
  const network = quietNetwork("EU868", "e2e-water-model");
  const make = (id: string, seed: number, detector: "night" | "model", leak: boolean, i: number): SimNode => {
    const world = new WaterDemand({ seed, randomIncidents: false, leaks: leak ? [LEAK] : [] });
    return new SimNode({
      type: "water", id, seed: 900 + i, network, position: { x: 40 * i, y: 30 },
      config: { meter: "yf-s201", valve: false, adr: false, dataRate: 5, leakDetector: detector },
      environment: { flowLMin: (t) => world.flowLMin(t) },
    });
  };
  const nodes = [
    make("leak-night", 11, "night", true, 0),
    make("leak-model", 11, "model", true, 1),
    make("quiet-night", 12, "night", false, 2),
    make("quiet-model", 12, "model", false, 3),
  ];
  const fleet = new Fleet(network, nodes);
  const alarms = new Map<string, { event: string; atMs: number }[]>();

  before(() => {
    fleet.runUntil(DAYS * D);
    for (const n of nodes) {
      // Every alarm the node raised arrived, confirmed; nothing else arrived on the alarm port.
      alarms.set(n.id, matchAlarms(n, fleet.eventsOf(n.id), 5).map((p) => ({ event: p.alarm.data!.event as string, atMs: p.alarm.atMs })));
      console.log(`      ${n.id}: ${alarms.get(n.id)!.map((a) => `${a.event} ${stamp(a.atMs)}`).join(", ") || "no alarms"}`);
    }
  });

  it("the model reports the leak within 2 hours; the night rule only at the end of the next night, 19 hours later", () => {
    const model = alarms.get("leak-model")!.find((a) => a.event === "leak");
    const night = alarms.get("leak-night")!.find((a) => a.event === "leak");
    assert.ok(model && night, JSON.stringify([...alarms]));
    const modelMin = (model.atMs - LEAK.startMs) / 60_000;
    const nightMin = (night.atMs - LEAK.startMs) / 60_000;
    console.log(`      latency: model ${modelMin.toFixed(0)} min, night rule ${(nightMin / 60).toFixed(1)} h`);
    // Four leak windows in a row, the first the one the leak starts in (09:15–09:30), judged a minute after each ends.
    assert.ok(modelMin >= 45 && modelMin <= 120, `model after ${modelMin} min`);
    // The night window ends at 05:00 of day 2.
    assert.ok(Math.abs(night.atMs - (2 * D + 5 * H)) <= 2 * 60_000, `night rule at ${stamp(night.atMs)}`);
    assert.ok(nightMin > 10 * modelMin);
  });

  it("the model clears the leak a day after it stops; neither detector raises anything else", () => {
    const model = alarms.get("leak-model")!;
    assert.deepEqual(model.map((a) => a.event), ["leak", "leakCleared"]);
    const clearedAfterH = (model[1].atMs - LEAK.endMs) / H;
    assert.ok(clearedAfterH >= 24 && clearedAfterH <= 25, `cleared ${clearedAfterH.toFixed(2)} h after the repair`);
    assert.deepEqual(alarms.get("leak-night")!.map((a) => a.event), ["leak", "leakCleared"]);
  });

  it("no alarm at all from either detector on five days of normal use", () => {
    assert.deepEqual(alarms.get("quiet-night"), []);
    assert.deepEqual(alarms.get("quiet-model"), []);
    // The quiet households did use water: the model saw windows to judge.
    assert.ok(nodes[3].readings.length > 100, `${nodes[3].readings.length} readings`);
  });

  it("the whole RTC blob (node and link segments) stays within RETAIN_MAX with the model's 34 extra words", () => {
    const bytes = nodes.map((n) => {
      setCurrentBoard(n.board);
      try {
        return retained()?.byteLength ?? 0;
      } finally {
        setCurrentBoard(undefined);
      }
    });
    console.log(`      RTC blob: night rule ${bytes[0]} B, model ${bytes[1]} B of ${RETAIN_MAX}`);
    assert.equal(bytes[1] - bytes[0], 34 * 4);
    assert.ok(bytes[1] <= RETAIN_MAX);
  });
});
