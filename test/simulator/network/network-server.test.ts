import assert from "node:assert/strict";
import { NetworkServer, type GatewayCopy, type UplinkEvent } from "../../../simulator/src/network/network-server.ts";
import { buildDataFrame, buildJoinRequest, fromHex, openDataFrame, openJoinAccept, deriveSessionKeys } from "../../../simulator/src/network/lorawan-frames.ts";
import { WioE5Emulator } from "../../../simulator/src/network/wio-e5-emulator.ts";
import { AtHarness } from "./at-harness.ts";
import { AIR_READING_HEX, APP_KEY, JOIN_EUI, idleUntil, join, modemOn, quietNetwork, send, setUp } from "./fixtures.ts";

const DEV_EUI = "0004A30B001C0530";
const appKey = fromHex(APP_KEY);

/** A copy of `phy` as one gateway heard it at `startMs` (SF7, 868.1 MHz). */
function copy(phy: Uint8Array, startMs: number, gatewayId = "gw-1", snr = 5): GatewayCopy {
  return {
    gatewayId,
    phyPayload: phy,
    rssi: -100,
    snr,
    metadata: { gateway_ids: { gateway_id: gatewayId, eui: "0000000000000001" }, timestamp: 0, rssi: -100, channel_rssi: -100, snr, channel_index: 0, received_at: "" },
    frequencyHz: 868_100_000,
    dataRate: 5,
    spreadingFactor: 7,
    bandwidthHz: 125_000,
    startMs,
    airtimeMs: 60,
  };
}

function serverWithDevice(o: ConstructorParameters<typeof NetworkServer>[0] = {}): NetworkServer {
  const ns = new NetworkServer(o);
  ns.addDevice({ devEui: DEV_EUI, joinEui: JOIN_EUI, appKey: APP_KEY });
  return ns;
}

function joinWith(ns: NetworkServer, devNonce: number, atMs: number, key = appKey) {
  return ns.handleUplink([copy(buildJoinRequest(JOIN_EUI, DEV_EUI, devNonce, key), atMs)]);
}

describe("network: network server", () => {
  it("accepts a join, rejects a reused or smaller DevNonce (LoRaWAN 1.0.4 counter), and a wrong MIC", () => {
    const ns = serverWithDevice();
    const first = joinWith(ns, 5, 0);
    assert.equal(first.status, "join-accepted");
    assert.ok(first.status === "join-accepted" && first.downlink);
    const accept = openJoinAccept(first.downlink.phyPayload, appKey)!;
    assert.equal(accept.devAddr, first.devAddr);
    assert.deepEqual(deriveSessionKeys(appKey, accept.joinNonce, accept.netId, 5), ns.session(DEV_EUI)!.keys);
    assert.deepEqual(joinWith(ns, 5, 10_000), { status: "rejected", reason: "devnonce-replay", devEui: DEV_EUI });
    assert.deepEqual(joinWith(ns, 3, 20_000), { status: "rejected", reason: "devnonce-replay", devEui: DEV_EUI });
    assert.deepEqual(joinWith(ns, 6, 30_000, new Uint8Array(16)), { status: "rejected", reason: "mic", devEui: DEV_EUI });
    assert.equal(joinWith(ns, 6, 40_000).status, "join-accepted");
    const unknown = ns.handleUplink([copy(buildJoinRequest(JOIN_EUI, "0004A30B00000000", 1, appKey), 50_000)]);
    assert.deepEqual(unknown, { status: "rejected", reason: "unknown-device", devEui: "0004A30B00000000" });
  });

  it("with the 1.0.2 rule only rejects a DevNonce it has seen", () => {
    const ns = serverWithDevice({ devNonceRule: "unique" });
    assert.equal(joinWith(ns, 5, 0).status, "join-accepted");
    assert.equal(joinWith(ns, 3, 10_000).status, "join-accepted");
    assert.equal(joinWith(ns, 5, 20_000).status, "rejected");
  });

  it("reconstructs 32-bit frame counters, rejects replays and jumps beyond MAX_FCNT_GAP", () => {
    const ns = serverWithDevice();
    const j = joinWith(ns, 1, 0);
    assert.ok(j.status === "join-accepted");
    const s = ns.session(DEV_EUI)!;
    const events: UplinkEvent[] = [];
    ns.subscribe((e) => events.push(e));
    const frame = (fCnt: number) =>
      buildDataFrame(
        { mType: "unconfirmed-up", devAddr: s.devAddr, fCnt, adr: false, adrAckReq: false, ack: false, fPending: false, fOpts: new Uint8Array(0), fPort: 1, payload: fromHex(AIR_READING_HEX) },
        s.keys,
      );
    let t = 10_000;
    const up = (fCnt: number) => ns.handleUplink([copy(frame(fCnt), (t += 10_000))]);
    assert.equal(up(0).status, "accepted");
    assert.equal(up(1).status, "accepted");
    assert.deepEqual(up(0), { status: "rejected", reason: "fcnt-replay", devEui: DEV_EUI });
    // Counters past 65535: only the low 16 bits travel, the server carries the rest.
    assert.equal(up(10_000).status, "accepted");
    assert.equal(up(26_000).status, "accepted");
    assert.equal(up(42_000).status, "accepted");
    assert.equal(up(58_000).status, "accepted");
    const wrapped = up(70_000);
    assert.deepEqual(wrapped, { status: "accepted", devEui: DEV_EUI, fCnt: 70_000, downlink: undefined });
    assert.equal(events.at(-1)!.uplink_message.f_cnt, 70_000);
    assert.deepEqual(up(69_999), { status: "rejected", reason: "fcnt-replay", devEui: DEV_EUI });
    assert.deepEqual(up(70_000 + 20_000), { status: "rejected", reason: "fcnt-gap", devEui: DEV_EUI });
    assert.equal(events.length, 7, "rejected frames raise no application event");
  });

  it("merges copies from several gateways and drops a late duplicate", () => {
    const ns = serverWithDevice();
    joinWith(ns, 1, 0);
    const s = ns.session(DEV_EUI)!;
    const events: UplinkEvent[] = [];
    ns.subscribe((e) => events.push(e));
    const phy = buildDataFrame(
      { mType: "confirmed-up", devAddr: s.devAddr, fCnt: 0, adr: false, adrAckReq: false, ack: false, fPending: false, fOpts: new Uint8Array(0), fPort: 1, payload: fromHex(AIR_READING_HEX) },
      s.keys,
    );
    const r = ns.handleUplink([copy(phy, 10_000, "gw-a", -3), copy(phy, 10_000, "gw-b", 7)]);
    assert.equal(r.status, "accepted");
    assert.ok(r.status === "accepted" && r.downlink);
    assert.equal(r.downlink.gatewayId, "gw-b", "the downlink goes through the gateway with the best SNR");
    assert.equal(events.length, 1);
    assert.deepEqual(
      events[0].uplink_message.rx_metadata.map((m) => m.gateway_ids.gateway_id),
      ["gw-b", "gw-a"],
    );
    assert.deepEqual(ns.handleUplink([copy(phy, 10_050, "gw-c")]), { status: "duplicate" });
    assert.equal(events.length, 1);
    // The ACK decrypts on the device side: ACK bit set, downlink FCnt 0.
    const ack = openDataFrame(r.downlink.phyPayload, s.keys, 0)!;
    assert.equal(ack.ack, true);
    assert.equal(ack.fPort, undefined);
  });

  it("falls back to RX2 (869.525 MHz, DR0) when RX1 cannot be booked", () => {
    const ns = serverWithDevice();
    const r = ns.handleUplink([copy(buildJoinRequest(JOIN_EUI, DEV_EUI, 1, appKey), 0)], (_gw, startMs) => startMs !== 5060);
    assert.ok(r.status === "join-accepted" && r.downlink);
    assert.equal(r.downlink.window, 2);
    assert.equal(r.downlink.startMs, 6060);
    assert.equal(r.downlink.frequencyHz, 869_525_000);
    assert.equal(r.downlink.spreadingFactor, 12);
    const none = serverWithDevice().handleUplink([copy(buildJoinRequest(JOIN_EUI, DEV_EUI, 1, appKey), 0)], () => false);
    assert.ok(none.status === "join-accepted" && none.downlink === undefined, "no slot: the accept is not sent");
  });

  it("keeps the old session until the device uses the new one", () => {
    const ns = serverWithDevice();
    joinWith(ns, 1, 0);
    const old = ns.session(DEV_EUI)!;
    const frame = (s: typeof old, fCnt: number) =>
      buildDataFrame({ mType: "unconfirmed-up", devAddr: s.devAddr, fCnt, adr: false, adrAckReq: false, ack: false, fPending: false, fOpts: new Uint8Array(0), fPort: 1, payload: fromHex("00") }, s.keys);
    assert.equal(ns.handleUplink([copy(frame(old, 0), 10_000)]).status, "accepted");
    joinWith(ns, 2, 20_000); // the accept is lost: the device goes on with its old session
    assert.equal(ns.handleUplink([copy(frame(old, 1), 30_000)]).status, "accepted");
    const fresh = ns.session(DEV_EUI)!;
    assert.notEqual(fresh.devAddr, old.devAddr);
    assert.equal(ns.handleUplink([copy(frame(fresh, 0), 40_000)]).status, "accepted");
    assert.equal(ns.handleUplink([copy(frame(old, 2), 50_000)]).status, "rejected", "the old session is gone once the new one is used");
  });
});

describe("network: network server with modem emulators", () => {
  it("rejects a join that reuses a DevNonce (a second modem with the same EUI and a reset counter)", () => {
    const net = quietNetwork();
    const h = modemOn(net, "wio-e5", "nonce");
    setUp(h, "wio-e5");
    assert.ok(join(h, "wio-e5").includes("+JOIN: Network joined"));
    const clone = new WioE5Emulator({ medium: net, seed: "clone", devEui: h.modem.device.devEui, appEui: JOIN_EUI, devNonce: 0 });
    const h2 = new AtHarness(clone);
    idleUntil(h2, h.nowMs + 10_000);
    setUp(h2, "wio-e5");
    assert.deepEqual(join(h2, "wio-e5"), ["+JOIN: Start", "+JOIN: NORMAL", "+JOIN: Join failed", "+JOIN: Done"]);
    const last = net.uplinks.at(-1)!;
    assert.deepEqual(last.server, { status: "rejected", reason: "devnonce-replay", devEui: h.modem.device.devEui });
  });

  it("rejects a replayed uplink and raises no second event", () => {
    const net = quietNetwork();
    const events: UplinkEvent[] = [];
    net.subscribe((e) => events.push(e));
    const h = modemOn(net, "rak3172", "replay");
    setUp(h, "rak3172");
    join(h, "rak3172");
    idleUntil(h, h.nowMs + 7000);
    send(h, "rak3172", "0A");
    idleUntil(h, h.nowMs + 7000);
    send(h, "rak3172", "0B");
    assert.equal(events.length, 2);
    // An attacker records the first data frame and plays it back later.
    const recorded = net.uplinks[1];
    net.transmit({ ...recorded.tx, startMs: h.nowMs + 60_000 });
    assert.deepEqual(net.uplinks.at(-1)!.server, { status: "rejected", reason: "fcnt-replay", devEui: h.modem.device.devEui });
    // Playing back the last frame looks like a retransmission: no new event either.
    net.transmit({ ...net.uplinks[2].tx, startMs: h.nowMs + 120_000 });
    assert.equal(net.uplinks.at(-1)!.server?.status, "retransmission");
    assert.equal(events.length, 2);
  });

  it("re-acknowledges a confirmed retransmission whose first ACK was lost, with one application event", () => {
    const net = quietNetwork();
    const events: UplinkEvent[] = [];
    net.subscribe((e) => events.push(e));
    const h = modemOn(net, "wio-e5", "retrans");
    setUp(h, "wio-e5");
    join(h, "wio-e5");
    idleUntil(h, h.nowMs + 7000);
    // Both receive windows of the first attempt fall in an outage; the retransmission waits for the duty cycle (> 6 s).
    net.addOutage({ fromMs: h.nowMs + 600, toMs: h.nowMs + 3500 });
    const lines = send(h, "wio-e5", AIR_READING_HEX, true);
    assert.deepEqual(lines.slice(0, 3), ["+CMSGHEX: Start", "+CMSGHEX: Wait ACK", "+CMSGHEX: ACK Received"]);
    const data = net.uplinks.filter((u) => u.kind === "data");
    assert.equal(data.length, 2);
    assert.equal(data[0].fCnt16, data[1].fCnt16);
    assert.deepEqual(data[0].downlink && { heard: data[0].downlink.heard, reason: data[0].downlink.reason }, { heard: false, reason: "outage" });
    assert.equal(data[1].server?.status, "retransmission");
    assert.equal(data[1].downlink?.heard, true);
    assert.ok(data[1].tx.startMs - data[0].tx.startMs >= 100 * data[0].tx.airtimeMs, "the retransmission respected the 1 % duty cycle");
    assert.equal(events.length, 1);
  });

  it("gives up after the configured retransmissions when nothing answers", () => {
    const net = quietNetwork();
    const h = modemOn(net, "rak3172", "giveup");
    setUp(h, "rak3172");
    join(h, "rak3172");
    h.command("AT+RETY=2", /^OK$/);
    idleUntil(h, h.nowMs + 7000);
    net.addOutage({ fromMs: h.nowMs, toMs: h.nowMs + 3_600_000 });
    assert.deepEqual(send(h, "rak3172", "01", true), ["OK", "+EVT:SEND_CONFIRMED_FAILED"]);
    const data = net.uplinks.filter((u) => u.kind === "data");
    assert.equal(data.length, 3, "first transmission and two retransmissions");
    assert.ok(data.every((u) => u.atTransmit.every((g) => g.reason === "outage")));
  });

  it("runs ADR: a strong device on DR0 is moved up to DR5 and acknowledges with LinkADRAns", () => {
    const net = quietNetwork();
    const h = modemOn(net, "wio-e5", "adr", 20);
    setUp(h, "wio-e5", 0);
    h.command("AT+ADR=ON", /ADR/);
    join(h, "wio-e5");
    for (let i = 0; i < 21 && h.modem.device.dr === 0; i++) {
      idleUntil(h, h.nowMs + 160_000);
      send(h, "wio-e5", "01");
    }
    assert.equal(h.modem.device.dr, 5);
    assert.deepEqual(h.command("AT+DR", /BW/), ["+DR: DR5", "+DR: EU868 DR5  SF7 BW125K "]);
    assert.ok(net.server.log.some((l) => l.kind === "adr" && /LinkADRReq DR5/.test(l.detail ?? "")));
    idleUntil(h, h.nowMs + 160_000); // the last SF12 uplink closed the sub-band for 100 × its airtime
    assert.equal(send(h, "wio-e5", "01").at(-1), "+MSGHEX: Done");
    const last = net.uplinks.at(-1)!;
    assert.equal(last.tx.spreadingFactor, 7);
    // LinkADRAns (0x03, all bits OK) rides in the FOpts of the next uplink.
    assert.equal(last.tx.phyPayload[5] & 0x0f, 2);
    assert.deepEqual([...last.tx.phyPayload.subarray(8, 10)], [0x03, 0x07]);
  });
});
