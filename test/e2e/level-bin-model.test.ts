/**
 * End to end, fill-level node (bin variant) with `binDetector: "model"`
 * against the rules: the real firmware on a SimNode with the emulated A02YYUW
 * and LIS3DH, driven by the Bin world model, with injected lodged objects and
 * lids not quite shut (scripts/ml/train/bin-node-compare.ts); and a steady wrong
 * reading from the A02YYUW emulator's own `echo` fault at a fixed distance.
 */
import assert from "node:assert/strict";
import { decodeUplinkBytes } from "../../codecs/src/codec.ts";
import { Fleet } from "../../simulator/src/fleet/run-fleet.ts";
import { SimNode } from "../../simulator/src/fleet/sim-node.ts";
import { Bin } from "../../simulator/src/world/bins.ts";
import { Weather } from "../../simulator/src/world/weather.ts";
import { emptyBinNodeScore, runBinNode, type BinNodeScore } from "../../scripts/ml/train/bin-node-compare.ts";
import { D, H, quietNetwork } from "./harness.ts";

describe("e2e: level node, bin, int8 plausibility model vs rules through the simulated node", function () {
  this.timeout(300_000);

  describe("a simulated month of 4 bins, 4 injected failures per 30 days", () => {
    const rules = emptyBinNodeScore();
    const model = emptyBinNodeScore();
    before(() => {
      for (const seed of [300, 301, 302, 303]) {
        runBinNode(seed, 30, "rules", 4, rules);
        runBinNode(seed, 30, "model", 4, model);
      }
      const line = (n: string, s: BinNodeScore) => `${n}: wrong fills ${s.wrongReadings}/${s.readings}, full ${s.fullAlarms} (false ${s.falseFull}), episodes ${s.fullDetected}/${s.fullEpisodes}, emptied ${s.collectionsEmptied}/${s.collections} (false ${s.falseEmptied}), obstruction ${s.obstructionAlarms}, lidOpen ${s.lidOpenAlarms}/${s.lidsLeftOpen}, tipped ${s.tippedAlarms}/${s.tips}`;
      console.log(`      ${line("rules", rules)}\n      ${line("model", model)}`);
    });

    it("the model reports fewer wrong fills and no more false full alarms than the rules", () => {
      assert.ok(rules.wrongReadings > 0, "the injected failures fooled nothing: the test shows nothing");
      assert.ok(model.wrongReadings < rules.wrongReadings, `${model.wrongReadings} vs ${rules.wrongReadings}`);
      assert.ok(model.falseFull <= rules.falseFull, `${model.falseFull} vs ${rules.falseFull}`);
    });

    it("no regression on full, emptied, tipped and lidOpen alarms", () => {
      assert.ok(model.fullEpisodes > 0 && model.collections > 0);
      assert.ok(model.fullDetected >= rules.fullDetected, `full episodes ${model.fullDetected} vs ${rules.fullDetected} of ${model.fullEpisodes}`);
      assert.ok(model.collectionsEmptied >= rules.collectionsEmptied, `emptied ${model.collectionsEmptied} vs ${rules.collectionsEmptied} of ${model.collections}`);
      assert.ok(model.falseEmptied <= rules.falseEmptied, `false emptied ${model.falseEmptied} vs ${rules.falseEmptied}`);
      assert.equal(model.tippedAlarms, rules.tippedAlarms);
      assert.equal(model.lidOpenAlarms, rules.lidOpenAlarms);
    });
  });

  describe("a steady wrong reading: the A02YYUW's echo fault at a fixed 300 mm for 12 hours (the bin 66 → 85 % full)", () => {
    const FROM = 3 * D + 10 * H;
    const TO = FROM + 12 * H;
    /** Routine readings during the echo more than 40 mm off the true surface, and the alarms with the true fill when raised, of one 5-day run. */
    function run(detector: "rules" | "model"): { wrong: number; during: number; alarms: { event: string; truePct: number }[] } {
      const weather = new Weather({ seed: 7 });
      const bin = new Bin({ seed: 304, weather, site: "street", lidOpenPer30Days: 0, tipsPer30Days: 0 });
      const node = new SimNode({
        type: "level", id: `echo-${detector}`, seed: 41, network: quietNetwork("EU868", `echo-${detector}`), position: { x: 20, y: 10 },
        config: { variant: "bin", binDetector: detector, adr: false, dataRate: 5 },
        environment: { target: bin.target, acceleration: bin.acceleration, accelerationSteadyUntil: bin.accelerationSteadyUntil },
        faults: [
          { atMs: FROM, run: (n) => n.devices.sonar?.inject("echo", { p: 1, distanceMm: [300, 300] }) },
          { atMs: TO, run: (n) => n.devices.sonar?.clear("echo") },
        ],
      });
      new Fleet(node.network, [node]).runUntil(5 * D);
      let wrong = 0;
      let during = 0;
      for (const r of node.readings) {
        if (r.atMs < FROM || r.atMs >= TO) continue;
        during++;
        const d = decodeUplinkBytes(r.bytes, r.port, r.atMs, [], [])?.distanceMm;
        const surfaceMm = bin.depthMm - (bin.fillPct(r.atMs) / 100) * (bin.depthMm - bin.fullDistanceMm);
        if (typeof d === "number" && Math.abs(d - surfaceMm) > 40) wrong++;
      }
      const alarms = node.queued.filter((m) => m.kind === "alarm" && m.atMs >= FROM && m.atMs < TO + H).map((m) => ({ event: String(m.data?.event), truePct: bin.fillPct(m.atMs) }));
      return { wrong, during, alarms };
    }

    it("the rules report the echo as the fill and a false full alarm; the model rejects it, raises obstruction and full only once the bin is full", () => {
      const rules = run("rules");
      const model = run("model");
      const show = (a: { event: string; truePct: number }[]) => a.map((x) => `${x.event} at ${x.truePct.toFixed(0)} %`).join(", ");
      console.log(`      rules: ${rules.wrong} of ${rules.during} readings wrong, alarms ${show(rules.alarms)}; model: ${model.wrong} of ${model.during}, alarms ${show(model.alarms)}`);
      assert.ok(rules.wrong > 0, "the rules rejected the echo too: nothing to compare");
      assert.ok(rules.alarms.some((a) => a.event === "full" && a.truePct < 70), "the rules raised no false full alarm");
      assert.ok(model.during > 0);
      assert.equal(model.wrong, 0);
      assert.ok(model.alarms.some((a) => a.event === "obstruction"), show(model.alarms));
      for (const a of model.alarms) if (a.event === "full") assert.ok(a.truePct >= 80, show(model.alarms));
    });
  });
});
