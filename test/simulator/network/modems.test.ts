import assert from "node:assert/strict";
import loraPacketModule from "lora-packet";
import { decodeUplink } from "../../../codecs/src/index.ts";
import type { UplinkEvent } from "../../../simulator/src/network/network-server.ts";
import { fromHex, toHex } from "../../../simulator/src/network/lorawan-frames.ts";
import { uplinkAirtimeMs } from "../../../simulator/src/network/airtime.ts";
import { AIR_READING_HEX, APP_KEY, JOIN_EUI, idleUntil, join, modemOn, quietNetwork, send, setUp, type ModemKind } from "./fixtures.ts";

const lp = (loraPacketModule as unknown as { default?: typeof loraPacketModule }).default ?? loraPacketModule;

/** Independent check with lora-packet: keys from the join request and accept on the air. */
function keysFromAir(joinRequest: Uint8Array, joinAccept: Uint8Array): { nwkSKey: string; appSKey: string } {
  const appKey = Buffer.from(APP_KEY, "hex");
  const req = lp.fromWire(Buffer.from(joinRequest));
  assert.ok(lp.verifyMIC(req, undefined, appKey), "join request MIC verifies with the AppKey");
  const accept = lp.fromWire(lp.decryptJoinAccept(lp.fromWire(Buffer.from(joinAccept)), appKey));
  assert.ok(lp.verifyMIC(accept, undefined, appKey), "join accept MIC verifies with the AppKey");
  const k = lp.generateSessionKeys10(appKey, accept.NetID!, accept.AppNonce!, req.DevNonce!);
  return { nwkSKey: k.NwkSKey.toString("hex").toUpperCase(), appSKey: k.AppSKey.toString("hex").toUpperCase() };
}

for (const kind of ["wio-e5", "rak3172"] as const satisfies readonly ModemKind[]) {
  describe(`network: ${kind} emulator on the simulated network`, () => {
    it("joins with real crypto: device, server and lora-packet derive the same session keys", () => {
      const net = quietNetwork();
      const h = modemOn(net, kind, `${kind}-join`);
      setUp(h, kind);
      const lines = join(h, kind);
      if (kind === "wio-e5") {
        assert.deepEqual(lines.slice(0, 3), ["+JOIN: Start", "+JOIN: NORMAL", "+JOIN: Network joined"]);
        assert.match(lines[3], /^\+JOIN: NetID 000013 DevAddr 26:00:00:01$/);
        assert.equal(lines[4], "+JOIN: Done");
      } else {
        assert.deepEqual(lines, ["OK", "+EVT:JOINED"]);
      }
      const devEui = h.modem.device.devEui;
      const jr = net.uplinks[0];
      assert.equal(jr.kind, "join");
      assert.ok(jr.server && jr.server.status === "join-accepted" && jr.server.downlink, "server accepted and scheduled an accept");
      const air = keysFromAir(jr.tx.phyPayload, jr.server.downlink.phyPayload);
      const server = net.server.session(devEui)!;
      const device = h.modem.device.session!;
      assert.equal(toHex(server.keys.nwkSKey), air.nwkSKey);
      assert.equal(toHex(server.keys.appSKey), air.appSKey);
      assert.equal(toHex(device.keys.nwkSKey), air.nwkSKey);
      assert.equal(toHex(device.keys.appSKey), air.appSKey);
      assert.equal(device.devAddr, 0x26000001);
      // The join accept answered in RX1, JOIN_ACCEPT_DELAY1 after the request ended.
      assert.equal(jr.server.downlink.window, 1);
      assert.equal(jr.server.downlink.startMs, jr.tx.startMs + jr.tx.airtimeMs + 5000);
      if (kind === "rak3172") {
        assert.deepEqual(h.command("AT+NJS=?", /^OK$/), ["AT+NJS=1", "OK"]);
        assert.deepEqual(h.command("AT+NWKSKEY=?", /^OK$/), [`AT+NWKSKEY=${air.nwkSKey.toLowerCase()}`, "OK"]);
      } else {
        assert.match(h.command("AT+ID=DevAddr", /DevAddr/)[0], /^\+ID: DevAddr, 26:00:00:01$/);
      }
    });

    it("sends unconfirmed and confirmed uplinks; the server decodes them into The Things Stack's event shape", () => {
      const net = quietNetwork();
      const events: UplinkEvent[] = [];
      net.subscribe((e) => events.push(e));
      const h = modemOn(net, kind, `${kind}-up`);
      setUp(h, kind);
      join(h, kind);
      idleUntil(h, h.nowMs + 7000); // the join closed the 1 % sub-band for 100 × its airtime

      const unconfirmed = send(h, kind, AIR_READING_HEX);
      assert.deepEqual(unconfirmed, kind === "wio-e5" ? ['+MSGHEX: Start', '+MSGHEX: Done'] : ["OK", "+EVT:TX_DONE"]);
      assert.equal(events.length, 1);
      const e = events[0];
      const devEui = h.modem.device.devEui;
      assert.equal(e.end_device_ids.dev_eui, devEui);
      assert.equal(e.end_device_ids.device_id, `eui-${devEui.toLowerCase()}`);
      assert.equal(e.end_device_ids.join_eui, JOIN_EUI);
      assert.equal(e.end_device_ids.dev_addr, "26000001");
      assert.equal(e.uplink_message.f_port, 1);
      assert.equal(e.uplink_message.f_cnt, 0);
      assert.equal(e.uplink_message.frm_payload, Buffer.from(AIR_READING_HEX, "hex").toString("base64"));
      const expected = decodeUplink({ bytes: Array.from(fromHex(AIR_READING_HEX)), fPort: 1, recvTime: e.received_at });
      assert.deepEqual(e.uplink_message.decoded_payload, expected.data);
      assert.equal((e.uplink_message.decoded_payload as { co2Ppm: number }).co2Ppm, 612);
      assert.equal(e.uplink_message.decoded_payload_warnings, undefined);
      assert.equal(e.uplink_message.rx_metadata.length, 1);
      assert.equal(e.uplink_message.rx_metadata[0].gateway_ids.gateway_id, "gw-1");
      assert.ok(e.uplink_message.rx_metadata[0].rssi < -100 && e.uplink_message.rx_metadata[0].rssi > -127);
      assert.equal(typeof e.uplink_message.rx_metadata[0].snr, "number");
      assert.deepEqual(e.uplink_message.settings.data_rate.lora, { bandwidth: 125_000, spreading_factor: 7, coding_rate: "4/5" });
      assert.match(e.uplink_message.settings.frequency, /^868[135]00000$/);
      assert.equal(e.uplink_message.consumed_airtime, "0.061696s", "11 bytes at SF7");
      const up = net.uplinks[1];
      assert.equal(e.received_at, new Date(Date.UTC(2026, 0, 5) + up.tx.startMs + up.tx.airtimeMs).toISOString());
      assert.equal(e.uplink_message.confirmed, undefined);

      // The frame on the air verifies and decrypts with the server's keys (lora-packet, 32-bit FCnt 0).
      const keys = net.server.session(devEui)!.keys;
      const frame = lp.fromWire(Buffer.from(up.tx.phyPayload));
      assert.ok(lp.verifyMIC(frame, Buffer.from(keys.nwkSKey)));
      assert.equal(lp.decrypt(frame, Buffer.from(keys.appSKey), Buffer.from(keys.nwkSKey)).toString("hex").toUpperCase(), AIR_READING_HEX);
      assert.notEqual(toHex(frame.FRMPayload!), AIR_READING_HEX, "the payload travels encrypted");

      idleUntil(h, h.nowMs + 7000);
      const confirmed = send(h, kind, AIR_READING_HEX, true);
      if (kind === "wio-e5") {
        assert.deepEqual(confirmed.slice(0, 3), ["+CMSGHEX: Start", "+CMSGHEX: Wait ACK", "+CMSGHEX: ACK Received"]);
        assert.match(confirmed[3], /^\+CMSGHEX: RXWIN1, RSSI -\d+, SNR -?\d+\.\d+$/);
        assert.equal(confirmed[4], "+CMSGHEX: Done");
      } else {
        assert.deepEqual(confirmed, ["OK", "+EVT:SEND_CONFIRMED_OK"]);
      }
      assert.equal(events.length, 2);
      assert.equal(events[1].uplink_message.f_cnt, 1);
      assert.equal(events[1].uplink_message.confirmed, true);
    });

    it("receives a queued downlink in RX1 at the right virtual time", () => {
      const net = quietNetwork();
      const h = modemOn(net, kind, `${kind}-down`);
      setUp(h, kind);
      join(h, kind);
      idleUntil(h, h.nowMs + 7000);
      const devEui = h.modem.device.devEui;
      // setInterval 900 s / heartbeat 21600 s, as in codecs/PAYLOAD.md.
      net.server.enqueueDownlink(devEui, { fPort: 20, bytes: fromHex("000384005460") });
      net.server.enqueueDownlink(devEui, { fPort: 25, bytes: fromHex("00") });
      const before = h.received.length;
      const lines = send(h, kind, AIR_READING_HEX);
      const got = h.received.slice(before).filter((l) => l.text !== "");
      if (kind === "wio-e5") {
        assert.deepEqual(lines, ["+MSGHEX: Start", "+MSGHEX: FPENDING", '+MSGHEX: PORT: 20; RX: "000384005460"', lines[3], "+MSGHEX: Done"]);
        assert.match(lines[3], /^\+MSGHEX: RXWIN1, RSSI -\d+, SNR/);
      } else {
        assert.equal(lines.length, 3);
        assert.match(lines[1], /^\+EVT:RX_1:-\d+:-?\d+:UNICAST:20:000384005460$/);
        assert.equal(lines[2], "+EVT:TX_DONE");
      }
      const up = net.uplinks[1];
      const dl = up.downlink!;
      assert.equal(dl.window, 1);
      assert.equal(dl.heard, true);
      const upEnd = up.tx.startMs + up.tx.airtimeMs;
      assert.equal(dl.startMs, upEnd + 1000);
      // The downlink line is printed when the frame has been received: after RX1 opens and its airtime, before RX2.
      const rxLine = got.find((l) => /000384005460/.test(l.text))!;
      assert.ok(rxLine.atMs > upEnd + 1000 && rxLine.atMs < upEnd + 1200, `downlink line at ${rxLine.atMs - upEnd} ms after the uplink`);
      assert.equal(net.server.queued(devEui).length, 1, "the second downlink waits for the next uplink");
      idleUntil(h, h.nowMs + 7000);
      const next = send(h, kind, AIR_READING_HEX);
      assert.ok(next.some((l) => /(RX: "00"|UNICAST:25:00)$/.test(l)), next.join(" | "));
      assert.equal(net.server.queued(devEui).length, 0);
    });

    it("refuses a payload too long for the data rate", () => {
      const net = quietNetwork();
      const h = modemOn(net, kind, `${kind}-len`, 100);
      setUp(h, kind, 0);
      join(h, kind);
      idleUntil(h, h.nowMs + 200_000);
      const long = "00".repeat(52);
      const lines = send(h, kind, long);
      assert.deepEqual(lines.slice(-1), kind === "wio-e5" ? ["+MSGHEX: Length error"] : ["AT_PARAM_ERROR"]);
      assert.equal(net.uplinks.length, 1, "nothing went on the air");
      assert.equal(uplinkAirtimeMs(51, 12), 2793.472);
    });
  });
}

describe("network: determinism", () => {
  it("replays identically from the same seeds (transcripts, frames on the air, events)", () => {
    const run = (seed: string) => {
      const net = quietNetwork({ seed, channel: { shadowingSdDb: 3.57, fadingSdDb: 1 } });
      const events: UplinkEvent[] = [];
      net.subscribe((e) => events.push(e));
      const h = modemOn(net, "wio-e5", "same-modem", 60);
      setUp(h, "wio-e5");
      join(h, "wio-e5");
      for (let i = 0; i < 5; i++) {
        idleUntil(h, h.nowMs + 7000);
        send(h, "wio-e5", AIR_READING_HEX, i % 2 === 1);
      }
      return {
        transcript: h.modem.transcript.map((l) => `${l.atMs.toFixed(3)} ${l.dir} ${l.text}`),
        air: net.uplinks.map((u) => `${u.tx.startMs} ${u.tx.frequencyHz} ${toHex(u.tx.phyPayload)}`),
        rssi: events.map((e) => e.uplink_message.rx_metadata[0].rssi),
      };
    };
    const a = run("world-1");
    assert.deepEqual(run("world-1"), a);
    assert.equal(a.air.length, 6);
    assert.notDeepEqual(run("world-2").rssi, a.rssi, "another channel seed, other shadowing and fading");
  });
});
