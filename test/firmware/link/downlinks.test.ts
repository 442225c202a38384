/**
 * 10,000 random downlinks through the link to the node's configuration
 * (nodes/config.ts applyDownlink): the link hands each one over unchanged and
 * in order, and no setting changes unless the command is valid.
 */
import assert from "node:assert/strict";
import { encodeRecord, parseDownlink, downlinkByPort } from "../../../codecs/src/codec.ts";
import { ALARM_BITS } from "../../../codecs/src/downlinks.ts";
import type { ModemDownlink } from "../../../firmware/src/drivers/lora-modem.ts";
import { applyDownlink, defaultConfig, type DownlinkEffects, type NodeConfig } from "../../../firmware/src/nodes/config.ts";
import { Rng } from "../../../simulator/src/core/rng.ts";
import { encodeDownlink } from "../../../codecs/src/index.ts";
import { Board, setCurrentBoard } from "../../../simulator/src/core/board.ts";
import { VirtualClock } from "../../../simulator/src/core/clock.ts";
import { LinkRig, waterReading } from "./harness.ts";

/** Settings each command may change (config keys), besides configSeq. */
const MAY_CHANGE: { [port: number]: (keyof NodeConfig)[] } = {
  20: ["intervalS", "heartbeatS"],
  21: ["co2Ppm", "co2HysteresisPpm", "pmSpikeDeciUgm3", "aqiAlarmCategory"],
  22: ["leakFlowMlMin", "burstFlowMlMin", "burstDurationS", "noPulseH", "nightStartH", "nightEndH"],
  23: ["fullHalfPct", "hysteresisHalfPct", "rapidRiseHalfPctPerH", "tiltDeg", "depthMm", "fullDistanceMm"],
  24: ["alarms"],
  25: [],
  26: [],
  27: [],
  28: ["privacy", "epsilonCenti"],
  29: ["valveCommand"],
};

function randomDownlink(rng: Rng): ModemDownlink {
  const roll = rng.next();
  let port: number;
  let bytes: Uint8Array;
  if (roll < 0.25) {
    port = rng.int(1, 255);
    bytes = new Uint8Array(rng.int(0, 16)).map(() => rng.int(0, 255));
  } else if (roll < 0.65) {
    port = rng.int(20, 29);
    const need = Math.ceil(downlinkByPort(port)!.head.reduce((s, f) => s + f.bits, 0) / 8);
    bytes = new Uint8Array(rng.next() < 0.6 ? need : rng.int(0, need + 3)).map(() => rng.int(0, 255));
  } else {
    // In-range field values (cross-field rules may still refuse them).
    port = rng.int(20, 29);
    const def = downlinkByPort(port)!;
    const rec: Record<string, number | boolean> = {};
    for (const f of def.head) rec[f.key] = f.type === "bool" ? rng.next() < 0.5 : f.name === "reserved" ? 0 : rng.int(f.min, f.max);
    const buf = new Uint8Array(16);
    const n = encodeRecord(port, rec, buf, 0, 16);
    bytes = buf.slice(0, n);
  }
  return { port, bytes, rssi: -100, snr: 2 };
}

describe("link downlinks into the node configuration", () => {
  it("10,000 random downlinks: handed over intact and in order; no setting changes unless valid", function () {
    this.timeout(300000);
    const rng = new Rng(424242);
    const sent: ModemDownlink[] = [];
    const rig = new LinkRig({
      seed: 77,
      downlinkFor: () => {
        if (sent.length >= 10000) return undefined;
        const d = randomDownlink(rng);
        sent.push(d);
        return d;
      },
    });
    const config = defaultConfig("water");
    const ack = new Uint8Array(51);
    const effects: DownlinkEffects = { status: false, rebootDelayS: -1, setTimeS: -1, settingsChanged: false };
    let received = 0;
    let applied = 0;
    let refused = 0;
    let id = 0;
    while (received < 10000) {
      const start = rig.nowMs;
      rig.wake((link) => {
        link.submit(4, waterReading(++id), 11, "routine");
        link.flush();
        for (let d = link.takeDownlink(); d; d = link.takeDownlink()) {
          const expected = sent[received++];
          assert.equal(d.port, expected.port, `downlink ${received}: port`);
          assert.deepEqual([...d.bytes], [...expected.bytes], `downlink ${received}: bytes`);
          const before = { ...config };
          const parsed = parseDownlink(d.bytes, d.port, true);
          const n = applyDownlink(config, "water", d.port, d.bytes, ack, effects);
          const ok = parsed.result === "applied" && ![21, 23].includes(d.port);
          if (!ok) {
            assert.deepEqual(config, before, `downlink ${received} (port ${d.port}, ${parsed.result}) changed a setting`);
            refused++;
          } else {
            applied++;
            assert.equal(config.configSeq, (before.configSeq + 1) & 0xff);
            for (const k of Object.keys(config) as (keyof NodeConfig)[]) {
              if (k === "configSeq" || config[k] === before[k]) continue;
              assert.ok(MAY_CHANGE[d.port].includes(k), `port ${d.port} changed ${k}`);
            }
            if (d.port === 24) {
              let mask = 0;
              ALARM_BITS.forEach((name, i) => (mask |= parsed.data[name] ? 1 << i : 0));
              assert.equal(config.alarms, mask);
            } else if (d.port !== 28 && d.port !== 29) {
              for (const [k, v] of Object.entries(parsed.data)) if (k !== "command" && MAY_CHANGE[d.port].includes(k as keyof NodeConfig)) assert.equal(config[k as keyof NodeConfig], v);
            }
          }
          assert.ok(n > 0 && n <= 51);
          // Only a command that sets something (not time, status or reboot) says settings changed, so detectors keep their runs.
          assert.equal(effects.settingsChanged, ok && ![25, 26, 27].includes(d.port), `downlink ${received} (port ${d.port}): settingsChanged`);
          // The config ack goes back through the link.
          assert.equal(link.submit(11, ack, n, "ack"), true);
        }
      });
      rig.sleepUntil(start + 15 * 60000);
    }
    assert.equal(received, 10000);
    assert.ok(applied > 1000 && refused > 5000, `${applied} applied, ${refused} refused`);
    const acks = rig.modem.delivered.filter((d) => d.port === 11).length;
    console.log(`      10000 downlinks: ${applied} applied, ${refused} refused; ${acks} config acks delivered`);
    assert.ok(acks >= 9990);
  });
});

describe("applyDownlink: commands applied a sleep after they arrived", () => {
  // The configuration is saved to flash: a board's.
  before(() => setCurrentBoard(new Board(new VirtualClock(), 5)));
  const apply = (command: { [k: string]: unknown }, waitedS: number) => {
    const r = encodeDownlink({ data: command });
    const effects: DownlinkEffects = { status: false, rebootDelayS: -1, setTimeS: -1, settingsChanged: false };
    const n = applyDownlink(defaultConfig("air"), "air", r.fPort!, Uint8Array.from(r.bytes!), new Uint8Array(51), effects, waitedS);
    assert.ok(n > 0);
    return effects;
  };

  it("a setTime is put forward, and a reboot's delay counts from the arrival", () => {
    assert.equal(apply({ command: "setTime", unixTimeS: 1_767_571_200 }, 0).setTimeS, 1_767_571_200);
    assert.equal(apply({ command: "setTime", unixTimeS: 1_767_571_200 }, 900).setTimeS, 1_767_572_100);
    assert.equal(apply({ command: "reboot", delayS: 600 }, 0).rebootDelayS, 600);
    assert.equal(apply({ command: "reboot", delayS: 600 }, 240).rebootDelayS, 360);
    assert.equal(apply({ command: "reboot", delayS: 60 }, 300).rebootDelayS, 0, "overdue: at once");
    assert.equal(apply({ command: "requestStatus", what: "status" }, 300).status, true);
  });
});
