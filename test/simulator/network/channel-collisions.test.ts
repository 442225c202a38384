import assert from "node:assert/strict";
import { loraAirtimeMs } from "../../../simulator/src/network/airtime.ts";
import { Rng, hashMore, hashString } from "../../../simulator/src/core/rng.ts";
import { RadioChannel, noiseFloorDbm, sensitivityDbm } from "../../../simulator/src/network/channel.ts";
import { SimNetwork, type SimNetworkOptions } from "../../../simulator/src/network/network.ts";
import type { Transmission } from "../../../simulator/src/network/radio.ts";

/** A flat world: gateway at the origin at ground level, no shadowing. */
function flat(o: SimNetworkOptions = {}): SimNetwork {
  return new SimNetwork({ seed: "flat", channel: { shadowingSdDb: 0 }, gateways: [{ id: "gw-1", position: { x: 0, y: 0 } }], ...o });
}

let counter = 0;
/** A proprietary-MType frame (the server ignores it; only the radio matters here). */
function frame(net: SimNetwork, o: { dev: string; startMs: number; sf?: number; hz?: number; power?: number; at?: number; bytes?: number }): Transmission {
  const devEui = o.dev.padStart(16, "0");
  net.placeDevice(devEui, { x: o.at ?? 100, y: 0 });
  const sf = o.sf ?? 7;
  const n = o.bytes ?? 20;
  const phy = new Uint8Array(n);
  phy[0] = 0xe0;
  phy[1] = counter++ & 0xff;
  return {
    devEui,
    phyPayload: phy,
    region: "EU868",
    dataRate: 12 - sf,
    spreadingFactor: sf,
    bandwidthHz: 125_000,
    frequencyHz: o.hz ?? 868_100_000,
    txPowerDbm: o.power ?? 14,
    startMs: o.startMs,
    airtimeMs: loraAirtimeMs(n, { spreadingFactor: sf, bandwidthHz: 125_000 }),
  };
}

/** Transmits and returns the gateway's transmit-time verdict. */
function send(net: SimNetwork, t: Transmission): { ok: boolean; reason?: string } {
  net.transmit(t);
  const r = net.uplinks.at(-1)!.atTransmit[0];
  return { ok: r.ok, ...(r.reason ? { reason: r.reason } : {}) };
}

function finalVerdicts(net: SimNetwork): (string | true)[] {
  return net.finalize().uplinks.map((u) => (u.delivered ? true : u.reason!));
}

describe("network: radio channel", () => {
  it("follows the log-distance model: 127.41 dB at 40 m, exponent 2.08", () => {
    const c = new RadioChannel({ shadowingSdDb: 0 });
    assert.equal(c.pathLossDb(40), 127.41);
    assert.ok(Math.abs(c.pathLossDb(400) - (127.41 + 20.8)) < 1e-9);
    assert.equal(sensitivityDbm(7, 125_000), -126.5);
    assert.equal(sensitivityDbm(12, 125_000), -133.25);
    assert.deepEqual([8, 9, 10, 11].map((sf) => sensitivityDbm(sf, 125_000)), [-127.25, -131.25, -132.75, -134.5]);
    assert.ok(Math.abs(noiseFloorDbm(125_000) - -117.03) < 0.01);
  });

  it("draws shadowing per link from the seed, the same whatever the call order", () => {
    const a = new RadioChannel({ seed: 7 });
    const b = new RadioChannel({ seed: 7 });
    const c = new RadioChannel({ seed: 8 });
    const x = a.shadowingDb("dev-1", "gw-1");
    b.shadowingDb("dev-2", "gw-1");
    assert.equal(b.shadowingDb("gw-1", "dev-1"), x, "same value both ways and regardless of earlier draws");
    assert.notEqual(c.shadowingDb("dev-1", "gw-1"), x);
    assert.notEqual(a.shadowingDb("dev-2", "gw-1"), x);
  });

  it("draws a frame's fading and random loss from the stream named after sender, start and receiver, whatever the call order", () => {
    const air = { sender: "DEV-1", startMs: 1234.5, frequencyHz: 868_100_000, spreadingFactor: 9, bandwidthHz: 125_000, endMs: 1400, txPowerDbm: 14, position: { x: 300, y: 0 }, id: 1 };
    const named = new Rng(7);
    const fade = named.fork(`fade:${air.sender}:${air.startMs}:gw-2`).normal(0, 2);
    const lost = named.fork(`loss:${air.sender}:${air.startMs}:gw-2`).chance(0.5);
    const ch = new RadioChannel({ seed: new Rng(7), shadowingSdDb: 0, fadingSdDb: 2, lossProbability: 0.5 });
    const still = new RadioChannel({ seed: new Rng(7), shadowingSdDb: 0, fadingSdDb: 0 });
    ch.budget({ ...air, sender: "DEV-2" }, "gw-1", { x: 0, y: 0 });
    const b = ch.budget(air, "gw-2", { x: 0, y: 0 });
    assert.ok(Math.abs(still.budget(air, "gw-2", { x: 0, y: 0 }).rssi - b.rssi - fade) < 1e-9, "the fading is the named stream's draw");
    assert.equal(ch.randomlyLost(air, "gw-2"), lost);
    for (const [a, s] of [["", "x"], ["fade:", "DEV-1:12:gw"], ["ü€", "ab"]]) assert.equal(hashMore(hashString(a), s), hashString(a + s));
  });

  it("loses frames below the sensitivity and frames on channels the gateway does not listen to", () => {
    const net = flat();
    assert.deepEqual(send(net, frame(net, { dev: "a", startMs: 0, at: 150 })), { ok: true });
    assert.deepEqual(send(net, frame(net, { dev: "b", startMs: 10_000, at: 2000 })), { ok: false, reason: "below-sensitivity" });
    assert.deepEqual(send(net, frame(net, { dev: "b", startMs: 20_000, at: 2000, sf: 12 })), { ok: false, reason: "below-sensitivity" });
    assert.deepEqual(send(net, frame(net, { dev: "c", startMs: 30_000, hz: 869_525_000 })), { ok: false, reason: "no-channel" });
  });
});

describe("network: collisions", () => {
  it("same SF and channel, overlapping, equal power: both lost", () => {
    const net = flat();
    assert.deepEqual(send(net, frame(net, { dev: "a", startMs: 1000 })), { ok: true }, "alone when it was sent");
    assert.deepEqual(send(net, frame(net, { dev: "b", startMs: 1030 })), { ok: false, reason: "collision" });
    assert.deepEqual(finalVerdicts(net), ["collision", "collision"]);
    assert.equal(net.finalize().changed, 1, "the first frame's verdict changed once the second was known");
  });

  it("capture: the frame at least 6 dB stronger survives, the weaker is lost; 5 dB is not enough", () => {
    const net = flat();
    send(net, frame(net, { dev: "a", startMs: 1000, power: 20 }));
    send(net, frame(net, { dev: "b", startMs: 1030, power: 14 }));
    send(net, frame(net, { dev: "c", startMs: 5000, power: 19 }));
    send(net, frame(net, { dev: "d", startMs: 5030, power: 14 }));
    assert.deepEqual(finalVerdicts(net), [true, "collision", "collision", "collision"]);
  });

  it("different spreading factors or channels do not collide", () => {
    const net = flat();
    send(net, frame(net, { dev: "a", startMs: 1000, sf: 7 }));
    send(net, frame(net, { dev: "b", startMs: 1000, sf: 8 }));
    send(net, frame(net, { dev: "c", startMs: 1000, sf: 7, hz: 868_300_000 }));
    assert.deepEqual(finalVerdicts(net), [true, true, true]);
  });

  it("an interferer that ends within the first preamble symbols does no harm", () => {
    const net = flat();
    const tsym = 1.024; // SF7 at 125 kHz
    const late = frame(net, { dev: "a", startMs: 1000 });
    const early = frame(net, { dev: "b", startMs: 0 });
    early.startMs = 1000 + 2.5 * tsym - early.airtimeMs; // ends 2.5 symbols into the other frame's preamble
    send(net, early);
    send(net, late);
    const v = finalVerdicts(net);
    assert.equal(v[1], true, "the later frame's last 5 preamble symbols were clear");
    assert.equal(v[0], "collision", "the early frame's tail was hit");
  });

  it("decodes at most 8 frames at once: the 9th finds no demodulator", () => {
    const net = flat();
    const channels = [868_100_000, 868_300_000, 868_500_000, 867_100_000, 867_300_000, 867_500_000, 867_700_000, 867_900_000];
    channels.forEach((hz, i) => send(net, frame(net, { dev: `c${i}`, startMs: 1000 + i, hz })));
    assert.deepEqual(send(net, frame(net, { dev: "ninth", startMs: 1008, sf: 9 })), { ok: false, reason: "no-demodulator" });
    const report = net.finalize();
    assert.equal(report.delivered, 8);
    assert.deepEqual(report.byReason, { "no-demodulator": 1 });
    // Once one has finished, a new frame gets its demodulator.
    assert.deepEqual(send(net, frame(net, { dev: "tenth", startMs: 1100, sf: 9, hz: 868_300_000 })), { ok: true });
  });

  it("an outage drops everything inside it, at one gateway or everywhere", () => {
    const net = flat({ gateways: [{ id: "gw-1", position: { x: 0, y: 0 } }, { id: "gw-2", position: { x: 200, y: 0 } }] });
    net.addOutage({ fromMs: 10_000, toMs: 20_000 });
    net.addOutage({ fromMs: 30_000, toMs: 40_000, gatewayId: "gw-1" });
    const at = (startMs: number) => {
      net.transmit(frame(net, { dev: "a", startMs }));
      return net.uplinks.at(-1)!.atTransmit.map((g) => (g.ok ? "ok" : g.reason));
    };
    assert.deepEqual(at(5_000), ["ok", "ok"]);
    assert.deepEqual(at(9_990), ["outage", "outage"], "overlapping the start of the window");
    assert.deepEqual(at(15_000), ["outage", "outage"]);
    assert.deepEqual(at(25_000), ["ok", "ok"]);
    assert.deepEqual(at(35_000), ["outage", "ok"]);
    const r = net.finalize();
    assert.deepEqual(r.uplinks.map((u) => u.delivered), [true, false, false, true, true]);
    assert.deepEqual(r.byReason, { outage: 2 });
  });

  it("injected random loss drops frames with the given probability, seeded", () => {
    const run = (seed: string) => {
      const net = flat({ seed, channel: { shadowingSdDb: 0, lossProbability: 0.3 } });
      for (let i = 0; i < 200; i++) net.transmit(frame(net, { dev: "a", startMs: i * 1000 }));
      return net.finalize();
    };
    const a = run("s1");
    assert.ok(a.lost > 30 && a.lost < 90, `${a.lost} of 200 lost`);
    assert.deepEqual(a.byReason, { loss: a.lost });
    assert.deepEqual(run("s1").uplinks.map((u) => u.delivered), a.uplinks.map((u) => u.delivered), "same seed, same losses");
    assert.notDeepEqual(run("s2").uplinks.map((u) => u.delivered), a.uplinks.map((u) => u.delivered));
  });

  it("resolves frames that arrive out of virtual-time order, and finalize() reports the difference", () => {
    const net = flat();
    // Node A's run reaches the medium first with a frame at t = 5000; node B, run later, sent at t = 4990.
    assert.deepEqual(send(net, frame(net, { dev: "a", startMs: 5000 })), { ok: true });
    assert.deepEqual(send(net, frame(net, { dev: "b", startMs: 4990 })), { ok: false, reason: "collision" });
    const r = net.finalize();
    assert.deepEqual(
      r.uplinks.map((u) => ({ dev: u.devEui.slice(-1).toLowerCase(), delivered: u.delivered, reason: u.reason, changed: u.changed })),
      [
        { dev: "a", delivered: false, reason: "collision", changed: true },
        { dev: "b", delivered: false, reason: "collision", changed: false },
      ],
    );
    assert.equal(r.lost, 2);
  });
});

describe("network: long runs", () => {
  it("prune() reports old uplinks as finalize() would and forgets them", () => {
    const net = flat();
    for (let i = 0; i < 50; i++) net.transmit(frame(net, { dev: "a", startMs: i * 10_000, power: i % 2 ? 14 : 20 }));
    // Two colliding frames near the cut: the later one must still see the earlier one after pruning.
    net.transmit(frame(net, { dev: "b", startMs: 400_000 + 5 }));
    const before = net.finalize();
    const pruned = net.prune(300_000);
    assert.equal(pruned.uplinks.length, 28, "uplinks ending before 280 s");
    assert.deepEqual(pruned.uplinks, before.uplinks.slice(0, 28));
    assert.equal(net.uplinks.length, 51 - 28);
    const rest = net.finalize();
    assert.deepEqual(rest.uplinks, before.uplinks.slice(28));
    assert.equal(rest.byReason.collision, 1, "the frame at 400 s still collides with its neighbour (capture: the 20 dBm one survives)");
  });
});
