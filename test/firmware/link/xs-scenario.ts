/**
 * A link scenario that runs the same in Node and in the XS engine (bundled by
 * the simulator's esbuild setup): wakes of a water node against the fake
 * modem with faults, an outage and a power cut. Returns a digest to compare.
 */
import { LinkRig, waterAlarm, waterReading } from "./harness.ts";

export interface ScenarioDigest {
  delivered: string[];
  flashWrites: number;
  txs: number;
  airtimeMs: number;
  dropped: number;
}

export function runScenario(seed: number, wakes: number): ScenarioDigest {
  let outage = false;
  const rig = new LinkRig({ seed, joinAfter: 2, ackLossProbability: 0.1, outage: () => outage, link: { queuePages: 3 } });
  let dropped = 0;
  for (let w = 0; w < wakes; w++) {
    if (w % 40 === 20) outage = true;
    if (w % 40 === 32) outage = false;
    if (w === Math.floor(wakes / 2)) {
      rig.powerCut();
      rig.modem.reboot();
    }
    if (w % 17 === 3) rig.modem.script.push("busy");
    const start = rig.nowMs;
    rig.wake((link) => {
      link.submit(4, waterReading(w + 1), 11, "routine");
      if (w % 23 === 7) link.submit(5, waterAlarm(100000 + w), 15, "alarm");
      link.flush();
      dropped = link.dropped();
    });
    rig.sleepUntil(start + 900000);
  }
  const hex = (b: number[]) => b.map((x) => (x < 16 ? "0" : "") + x.toString(16)).join("");
  return {
    delivered: rig.modem.delivered.map((d) => d.port + ":" + hex(d.bytes)),
    flashWrites: rig.board.flashWrites,
    txs: rig.modem.txs.length,
    airtimeMs: Math.round(rig.modem.txs.reduce((s, t) => s + t.airtimeMs, 0)),
    dropped,
  };
}
