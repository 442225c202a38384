/** The boot path (nodes/wiring.ts openRuntime): a wake with nothing to send does not build the link. */
import assert from "node:assert/strict";
import { SimNetwork } from "../../../simulator/src/network/network.ts";
import { SimNode } from "../../../simulator/src/fleet/sim-node.ts";
import { PROVISION_DOMAIN, eraseKeys } from "../../../firmware/src/link/provisioning.ts";
import { setCurrentBoard } from "../../../simulator/src/core/board.ts";
import { QUEUE_DOMAIN } from "../../../firmware/src/link/uplink-queue.ts";
import { encodeDownlink } from "../../../codecs/src/index.ts";

/** A flash domain that counts its reads. */
class CountingDomain extends Map<string, string | boolean | number | ArrayBuffer> {
  reads = 0;
  override get(key: string): string | boolean | number | ArrayBuffer | undefined {
    this.reads++;
    return super.get(key);
  }
}

/** Replaces `domain` of the node's flash by a counting copy (after provisioning wrote it). */
function countReads(node: SimNode, domain: string): CountingDomain {
  const old = node.board.flash.get(domain);
  if (old instanceof CountingDomain) return old;
  const counting = new CountingDomain();
  if (old) for (const [k, v] of old) counting.set(k, v);
  node.board.flash.set(domain, counting);
  return counting;
}

describe("nodes/wiring: the boot path builds the LoRaWAN link only when a wake needs it", () => {
  it("a water node's quiet wakes read neither the keys nor the queue's flash and never speak to the modem", () => {
    const network = new SimNetwork({ region: "EU868", seed: "wiring", channel: { lossProbability: 0, shadowingSdDb: 0, fadingSdDb: 0 } });
    const node = new SimNode({ type: "water", id: "water-1", seed: 5, network, position: { x: 0, y: 50 }, environment: { flowLMin: (t) => (t % 21_600_000 < 120_000 ? 6 : 0) } });
    const keys = countReads(node, PROVISION_DOMAIN);
    let queue: CountingDomain | undefined;
    let quiet = 0;
    let busy = 0;
    for (let boots = 0; boots < 400; ) {
      const keyReads = keys.reads;
      const queueReads = queue?.reads ?? 0;
      const modemLines = node.modem.transcript.length;
      const record = node.step();
      if (!record) continue;
      boots++;
      // The queue domain exists once the link wrote to it (the first boot).
      queue ??= node.board.flash.get(QUEUE_DOMAIN) ? countReads(node, QUEUE_DOMAIN) : undefined;
      const spoke = node.modem.transcript.length > modemLines;
      if (boots === 1) {
        assert.ok(keys.reads > keyReads, "the power-on boot reads the keys");
        assert.ok(spoke, "the power-on boot joins");
        continue;
      }
      if (spoke) {
        busy++;
        assert.ok(keys.reads > keyReads, `boot ${boots} spoke to the modem: it built the link from the keys`);
      } else if (keys.reads === keyReads && (queue?.reads ?? 0) === queueReads) quiet++;
    }
    // Water flowing for 2 minutes every 6 hours: most of the 400 fifteen-minute wakes have nothing to send.
    assert.ok(busy >= 10, `${busy} wakes sent something`);
    assert.ok(quiet >= 300, `${quiet} quiet wakes`);
  });

  it("keys gone from flash between deep sleeps: the wake that needs the link sends nothing, and later boots run as unprovisioned", () => {
    const network = new SimNetwork({ region: "EU868", seed: "wiring-2", channel: { lossProbability: 0, shadowingSdDb: 0, fadingSdDb: 0 } });
    const node = new SimNode({ type: "water", id: "water-2", seed: 6, network, position: { x: 0, y: 50 }, environment: { flowLMin: () => 3 } });
    let boots = 0;
    while (boots < 30) if (node.step()) boots++;
    setCurrentBoard(node.board);
    eraseKeys();
    setCurrentBoard(undefined);
    const lines = node.modem.transcript.length;
    const awake: number[] = [];
    while (awake.length < 40) {
      const r = node.step();
      if (r) awake.push(r.awakeMs);
    }
    assert.equal(node.modem.transcript.length, lines, "nothing reaches the modem without keys");
    // Water flows, so a reading is due within 15 wakes: that wake finds the keys gone; from the next boot on the
    // console listens for a minute at every boot, as on a node that was never provisioned.
    const windows = awake.filter((ms) => ms >= 60_000).length;
    assert.ok(windows >= 20, `${windows} of 40 boots ran the unprovisioned console window`);
    assert.ok(awake[0] < 60_000, "the first boot after the erase still started from warm link words");
  });

  it("a setTime kept for the next boot is applied a second later, setting the clock as of its arrival", () => {
    const network = new SimNetwork({ region: "EU868", seed: "wiring-time", channel: { lossProbability: 0, shadowingSdDb: 0, fadingSdDb: 0 } });
    const node = new SimNode({ type: "air", id: "air-1", seed: 9, network, position: { x: 0, y: 50 } });
    while (node.board.clock.nowMs < 3_600_000) node.step();
    assert.equal(node.board.wallOffsetMs, undefined, "the clock starts unsynced");
    // The application stamps the time it sends; the server holds the downlink for the node's next uplink.
    const stampMs = network.server.epochUnixMs + 3_600_000;
    const r = encodeDownlink({ data: { command: "setTime", unixTimeS: stampMs / 1000 } });
    network.server.enqueueDownlink(node.devEui, { fPort: r.fPort!, bytes: Uint8Array.from(r.bytes!) });
    let arrivedMs = -1;
    // Steady air sends nothing until the 6 h heartbeat: the downlink waits hours for it.
    while (node.board.wallOffsetMs === undefined && node.board.clock.nowMs < 10 * 3_600_000) {
      node.step();
      const sent = network.server.log.find((e) => e.kind === "downlink" && e.atMs > 3_600_000);
      if (sent && arrivedMs < 0) arrivedMs = sent.atMs;
    }
    assert.ok(arrivedMs > 0 && node.board.wallOffsetMs !== undefined, "the downlink arrived and was applied");
    // Holding a downlink, the node sleeps a second (DOWNLINK_WAKE_MS), not its five minutes, and applies it then.
    const applied = node.host.boots.find((b) => b.atMs > arrivedMs)!;
    assert.ok(applied.atMs - arrivedMs < 10_000, `applied ${(applied.atMs - arrivedMs) / 1000} s after it arrived`);
    // It set its clock as if the stamp were the time of the arrival, from the second kept with the downlink in RTC
    // memory: to within the stamp's whole seconds and the exchange's RX windows.
    const expectedOffset = stampMs - arrivedMs;
    const error = node.board.wallOffsetMs! - expectedOffset;
    assert.ok(Math.abs(error) < 4_000, `clock off by ${error} ms`);
  });
});
