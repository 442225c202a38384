// The water node's model leak detector across deep sleep: the node boots afresh at
// every 60-s wake (NodeHost) with the real pulse-flow driver on an emulated YF-S201
// turbine, keeping its window features in retained RTC words. A replica that never
// sleeps (one FlowWindowFeatures, one model, one debounce, fed the very samples the
// node's driver returned) must raise and clear the leak at exactly the same wakes:
// whatever the node carries through deep sleep mid-window, it carries exactly.
import assert from "node:assert/strict";
import PulseCount from "embedded:io/pulsecount";
import { Board, currentBoard } from "../../../simulator/src/core/board.ts";
import { VirtualClock } from "../../../simulator/src/core/clock.ts";
import { Rng } from "../../../simulator/src/core/rng.ts";
import { NodeHost } from "../../../simulator/src/core/node-host.ts";
import { RecordingLink } from "../../../simulator/src/core/recording-link.ts";
import { PulseMeter } from "../../../simulator/src/devices/pulse-meter.ts";
import { RETAIN_MAX, retained } from "../../../simulator/src/platform/native-sleep.ts";
import { WaterDemand } from "../../../simulator/src/world/water-demand.ts";
import PulseFlow, { type PulseCountConstructor, type PulseCountOpenOptions, type PulseFlowSample } from "../../../firmware/src/drivers/pulse-flow.ts";
import { FlowWindowFeatures, HysteresisDetector, TRANSITION_CLEARED, TRANSITION_ENTERED, divRound } from "../../../firmware/src/dsp/index.ts";
import { bootWater } from "../../../firmware/src/nodes/water/boot.ts";
import { MODEL_CLEAR_WINDOWS, MODEL_CONTEXT_WINDOWS, MODEL_LEAK, MODEL_RAISE_WINDOWS, WaterLeakModel } from "../../../firmware/src/nodes/water/leak-model.ts";
import { platformRuntime } from "../../../firmware/src/nodes/runtime.ts";
import type { LeakDetector } from "../../../firmware/src/nodes/water/water-node.ts";

const MIN = 60_000;
const H = 60 * MIN;
const D = 24 * H;
const PULSE_PIN = 33;
const DAYS = 4;
const LEAK = { startMs: 1 * D + 15 * H + 7 * MIN, endMs: 2 * D + 8 * H, flowLMin: 0.035 };

/** The ULP counter: one per board, counting through deep sleep. */
const counters = new WeakMap<Board, PulseCount>();
const UlpPulseCount = function (options: PulseCountOpenOptions) {
  const board = currentBoard();
  let c = counters.get(board);
  if (!c) counters.set(board, (c = new PulseCount(options)));
  return c;
} as unknown as PulseCountConstructor;

interface Seen {
  tod: number;
  sample: PulseFlowSample;
}

function run(detector: LeakDetector): { link: RecordingLink; seen: Seen[]; retainedBytes: number; boots: number } {
  const clock = new VirtualClock();
  const board = new Board(clock, 5);
  const world = new WaterDemand({ seed: 77, randomIncidents: false, leaks: [LEAK] });
  const meter = new PulseMeter({ clock, rng: new Rng(5).fork("meter"), pulsesPerLitre: 450, stepMs: 1000, flowLMin: (t) => world.flowLMin(t) });
  board.attachPulses(PULSE_PIN, meter);
  const link = new RecordingLink(clock, 51);
  const seen: Seen[] = [];
  let retainedBytes = 0;
  let boots = 0;
  const host = new NodeHost(board, () => {
    const rt = platformRuntime(link, () => 3600);
    const flow = new PulseFlow({ sensor: { io: UlpPulseCount, signal: PULSE_PIN }, meter: "yf-s201" });
    const sample = flow.sample.bind(flow);
    // The samples the node gets, with the time of day it computes (unsynced RTC: RTC seconds).
    flow.sample = () => {
      const s = sample();
      const unix = rt.unixS();
      const local = unix < 0 ? rt.nowS() : unix;
      if (s) seen.push({ tod: ((local % 86400) + 86400) % 86400, sample: s });
      return s;
    };
    bootWater({ meter: flow }, rt, { leakDetector: detector });
    retainedBytes = Math.max(retainedBytes, retained()?.byteLength ?? 0);
    boots++;
  });
  host.runUntil(DAYS * D);
  return { link, seen, retainedBytes, boots };
}

const leakAlarms = (link: RecordingLink) => link.messages.filter((m) => m.port === 5 && /^leak/.test(String(m.data?.event))).map((m) => ({ event: m.data!.event as string, atMs: m.atMs }));

describe("water node: the model leak detector through deep sleep", function () {
  this.timeout(300_000);
  let model: ReturnType<typeof run>;
  let night: ReturnType<typeof run>;

  before(() => {
    model = run("model");
    night = run("night");
  });

  it("raises and clears at the same wakes as a replica that never sleeps, fed the same samples", () => {
    const f = new FlowWindowFeatures();
    const net = new WaterLeakModel();
    const debounce = new HysteresisDetector({ high: 1, low: 0, setCount: MODEL_RAISE_WINDOWS, clearCount: MODEL_CLEAR_WINDOWS });
    const expected: string[] = [];
    let windows = 0;
    for (const { tod, sample } of model.seen) {
      if (!f.update(tod, sample.flowMlMin, divRound(sample.intervalMs, 1000)) || f.contextWindows < MODEL_CONTEXT_WINDOWS) continue;
      windows++;
      const t = debounce.update(net.classify(f) === MODEL_LEAK ? 1 : 0);
      if (t === TRANSITION_ENTERED) expected.push(`leak ${Math.floor(tod / 60)}`);
      else if (t === TRANSITION_CLEARED) expected.push(`leakCleared ${Math.floor(tod / 60)}`);
    }
    const got = leakAlarms(model.link);
    console.log(`      ${model.boots} boots, ${windows} windows judged; alarms: ${got.map((a) => `${a.event} d${Math.floor(a.atMs / D)} ${((a.atMs % D) / H).toFixed(2)} h`).join(", ")}`);
    assert.ok(windows > 2 * 96, `${windows} windows`);
    assert.deepEqual(got.map((a) => a.event), ["leak", "leakCleared"]);
    // The replica's transitions in the same minutes of the day (the node's RTC runs with the virtual clock).
    assert.deepEqual(expected, got.map((a) => `${a.event} ${Math.floor((a.atMs % D) / MIN)}`));
    // Raised an hour after the leak began (4 windows), cleared a day after it stopped (96).
    assert.ok(got[0].atMs - LEAK.startMs >= 45 * MIN && got[0].atMs - LEAK.startMs <= 75 * MIN);
    assert.ok(got[1].atMs - LEAK.endMs >= D && got[1].atMs - LEAK.endMs <= D + 30 * MIN);
  });

  it("the night rule on the same household reports the leak only when the night ends (05:00)", () => {
    const got = leakAlarms(night.link);
    assert.equal(got[0]?.event, "leak");
    assert.equal(got[0].atMs % D >= 5 * H && got[0].atMs % D < 5 * H + 2 * MIN, true, `night rule at ${got[0].atMs}`);
    assert.ok(got[0].atMs - LEAK.startMs > 12 * H);
  });

  it("keeps its retained words within RETAIN_MAX: 34 more words (136 bytes) than the night rule", () => {
    console.log(`      RTC blob: ${night.retainedBytes} B (night rule), ${model.retainedBytes} B (model), of ${RETAIN_MAX}`);
    assert.equal(model.retainedBytes - night.retainedBytes, 34 * 4);
    assert.ok(model.retainedBytes <= RETAIN_MAX);
  });
});
