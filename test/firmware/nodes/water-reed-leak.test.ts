// A utility meter's reed output gives a pulse every 1 or 10 litres, so a minute
// reads 0 or 1,000–10,000 mL/min and a per-minute night minimum is 0 whatever
// leaks. The water node averages its night statistics over buckets long enough
// for the meter (nightBucketS): these households on reed meters get their leaks
// reported, and a night flush alone is not one.
import assert from "node:assert/strict";
import { Board, setCurrentBoard } from "../../../simulator/src/core/board.ts";
import { VirtualClock } from "../../../simulator/src/core/clock.ts";
import { Rng } from "../../../simulator/src/core/rng.ts";
import { NodeHost } from "../../../simulator/src/core/node-host.ts";
import { RecordingLink } from "../../../simulator/src/core/recording-link.ts";
import { PulseMeter } from "../../../simulator/src/devices/pulse-meter.ts";
import UlpPulseCount from "../../../simulator/src/platform/native-ulp-pulse.ts";
import PulseFlow, { type PulseCountConstructor, type PulseFlowMeter } from "../../../firmware/src/drivers/pulse-flow.ts";
import { bootWater } from "../../../firmware/src/nodes/water/boot.ts";
import { nightBucketS } from "../../../firmware/src/nodes/water/water-node.ts";
import { platformRuntime } from "../../../firmware/src/nodes/runtime.ts";
import { dailyFlow, type WaterUse } from "./household.ts";

const MIN = 60_000;
const H = 60 * MIN;
const D = 24 * H;
const PIN = 33;

// A day of two people, with a toilet refill in the night window (02:00–05:00) every night.
const USES: WaterUse[] = [
  [3 * 60 + 10, 1, 6],
  [7 * 60, 8, 8.5],
  [7 * 60 + 30, 1, 9],
  [8 * 60, 2, 5],
  [12 * 60 + 15, 1, 7],
  [18 * 60, 3, 6],
  [19 * 60 + 30, 1, 9],
  [21 * 60 + 45, 8, 8.5],
  [22 * 60 + 30, 1, 6],
];
const LEAK_FROM = D + 12 * H;

function run(meter: PulseFlowMeter, litresPerPulse: number, leakLMin: number, days: number) {
  const clock = new VirtualClock();
  const board = new Board(clock, 31);
  const flowLMin = (t: number) => dailyFlow(USES, t) + (t >= LEAK_FROM ? leakLMin : 0);
  const pulses = new PulseMeter({ clock, rng: new Rng(31).fork("meter"), litresPerPulse, kind: "reed", stepMs: 1000, flowLMin });
  board.attachPulses(PIN, pulses);
  const link = new RecordingLink(clock, 61);
  const host = new NodeHost(board, () => {
    const io = UlpPulseCount as unknown as PulseCountConstructor;
    bootWater({ meter: new PulseFlow({ sensor: { io, signal: PIN }, meter }), ulp: new UlpPulseCount({ signal: PIN }) }, platformRuntime(link, () => 3600));
  });
  host.runUntil(days * D);
  return link.ofType("waterAlarm").map((m) => ({ atMs: m.atMs, event: m.data!.event as string }));
}

describe("water node on a utility meter's reed output: leaks at the meter's resolution", function () {
  this.timeout(120_000);
  afterEach(() => setCurrentBoard(undefined));

  it("averages over the shortest divisor of an hour in which a pulse is at most half the leak threshold", () => {
    assert.equal(nightBucketS({ ml: 20, pulses: 9 }, 30), 0, "YF-S201: 2.2 mL a pulse, every minute on its own");
    assert.equal(nightBucketS({ ml: 125, pulses: 36 }, 30), 0, "FS400A");
    assert.equal(nightBucketS({ ml: 1000, pulses: 1 }, 100), 20 * 60, "1 L: 50 mL/min over 20 minutes");
    assert.equal(nightBucketS({ ml: 1000, pulses: 1 }, 30), 3600, "1 L: an hour at most");
    assert.equal(nightBucketS({ ml: 10000, pulses: 1 }, 30), 3600, "10 L: an hour at most");
    assert.equal(nightBucketS({ ml: 1000, pulses: 1 }, 2000), 0, "1 L against a 2 L/min threshold: every minute");
  });

  for (const [meter, litres, leak] of [["reed-1l", 1, 0.06], ["reed-10l", 10, 0.25]] as const) {
    it(`${meter}: a ${leak * 1000} mL/min leak from day 1 noon is reported by the end of the next night; no leak, no alarm`, () => {
      const leaking = run(meter, litres, leak, 4);
      const first = leaking.find((a) => a.event === "leak");
      assert.ok(first, JSON.stringify(leaking));
      assert.ok(first.atMs > LEAK_FROM && first.atMs <= 2 * D + 5 * H + 15 * MIN, `leak at ${(first.atMs / H).toFixed(2)} h`);
      const dry = run(meter, litres, 0, 7);
      assert.deepEqual(dry.filter((a) => a.event.startsWith("leak")), [], JSON.stringify(dry));
    });
  }
});
