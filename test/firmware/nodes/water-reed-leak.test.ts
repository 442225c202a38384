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
import { encodeDownlink } from "../../../codecs/src/index.ts";
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

/** Runs the household for `days`; `threshold` raises the leak threshold by downlink at a time. */
function run(meter: PulseFlowMeter, litresPerPulse: number, leakLMin: number, days: number, threshold?: { atMs: number; leakFlowMlPerMin: number }) {
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
  if (threshold) {
    host.runUntil(threshold.atMs);
    const r = encodeDownlink({ data: { command: "setWaterThresholds", leakFlowMlPerMin: threshold.leakFlowMlPerMin, burstFlowMlPerMin: 30000, burstDurationS: 120, noPulseH: 72, nightStartH: 2, nightEndH: 5 } as never });
    assert.deepEqual(r.errors, []);
    link.downlinks.push({ port: r.fPort, bytes: Uint8Array.from(r.bytes) });
  }
  host.runUntil(days * D);
  const acks = link.ofType("configAck").map((m) => m.data!.result);
  const nightMin = (fromMs: number, toMs: number) =>
    [...new Set(link.ofType("waterReading").filter((m) => m.atMs >= fromMs && m.atMs < toMs).map((m) => m.data!.minNightFlowMlPerMin as number))];
  return Object.assign(link.ofType("waterAlarm").map((m) => ({ atMs: m.atMs, event: m.data!.event as string })), { acks, nightMin });
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

  it("a leak threshold raised by downlink brings its own bucket: 60 mL/min under a 150 mL/min threshold clears at the next night", () => {
    // reed-1l: a 30 mL/min threshold averages over an hour, 150 mL/min over 15 minutes.
    const alarms = run("reed-1l", 1, 0.06, 5, { atMs: 3 * D + 12 * H, leakFlowMlPerMin: 150 });
    assert.deepEqual(alarms.acks, ["applied"]);
    // The night minimum of 1 L pulses: 3–4 an hour (50 or 66 mL/min) over hour buckets, none in some quarter hours.
    assert.ok(alarms.nightMin(3 * D + 6 * H, 3 * D + 12 * H).every((v) => v >= 50), JSON.stringify(alarms.nightMin(3 * D + 6 * H, 3 * D + 12 * H)));
    assert.deepEqual(alarms.nightMin(4 * D + 6 * H, 5 * D), [0]);
    assert.deepEqual(alarms.map((a) => a.event), ["leak", "leakCleared"], JSON.stringify(alarms));
    assert.ok(alarms[1].atMs >= 4 * D + 5 * H && alarms[1].atMs <= 4 * D + 5 * H + 15 * MIN, `cleared at ${(alarms[1].atMs / H).toFixed(2)} h`);
  });
});
