/**
 * The drivers against the independently written modem emulators and the
 * simulated network: each side was written from the vendor's AT documentation
 * by a different hand, so their agreement is the test.
 */
import assert from "node:assert/strict";
import WioE5 from "../../../firmware/src/drivers/wio-e5.ts";
import Rak3172 from "../../../firmware/src/drivers/rak3172.ts";
import { ModemError, type LoRaModem, type Region } from "../../../firmware/src/drivers/lora-modem.ts";
import { WioE5Emulator } from "../../../simulator/src/network/wio-e5-emulator.ts";
import { Rak3172Emulator } from "../../../simulator/src/network/rak3172-emulator.ts";
import { SimNetwork } from "../../../simulator/src/network/network.ts";
import type { AtModem } from "../../../simulator/src/network/at-modem.ts";
import { boardWith } from "./scripted-modem.ts";

const APPKEY = "8D7FFEF938589D95AAD928C2E2E7E48F";
const JOIN_EUI = "70B3D57ED0000001";

interface Rig {
  modem: LoRaModem;
  emulator: AtModem;
  network: SimNetwork;
  devEui: string;
  region: Region;
  /** Lets the duty cycle recover between uplinks. */
  pause(ms: number): void;
}

function rig(kind: "wio" | "rak", options: { spacedEvents?: boolean; region?: Region } = {}): Rig {
  const region = options.region ?? "EU868";
  const network = new SimNetwork({ region, seed: `drivers-${kind}`, channel: { lossProbability: 0, shadowingSdDb: 0, fadingSdDb: 0 } });
  const devEui = kind === "wio" ? "2CF7F12032308463" : "AC1F09FFFE000001";
  const emulator = kind === "wio"
    ? new WioE5Emulator({ medium: network, devEui, seed: 7 })
    : new Rak3172Emulator({ medium: network, devEui, seed: 7, spacedEvents: options.spacedEvents });
  // LoRaSim path loss is steep (127 dB at 40 m): keep the node near the gateway so nothing is lost.
  network.placeDevice(devEui, { x: 30, y: 0, z: 2 });
  network.server.addDevice({ devEui, joinEui: JOIN_EUI, appKey: APPKEY });
  const { board, io } = boardWith(emulator, emulator.baud);
  const modem = kind === "wio" ? new WioE5({ modem: { io } }) : new Rak3172({ modem: { io } });
  return { modem, emulator, network, devEui, region, pause: (ms) => board.clock.advance(ms) };
}

function bringUp(r: Rig): void {
  r.modem.probe();
  assert.equal(r.modem.devEui(), r.devEui);
  const dr = r.region === "US915" ? 3 : 5; // SF7 BW125 in both plans
  r.modem.configure({ region: r.region, appKey: APPKEY, joinEui: JOIN_EUI, devEui: r.devEui, adr: false, dataRate: dr });
  assert.equal(r.modem.dataRate(), dr);
  assert.equal(r.modem.joined(), false);
  assert.equal(r.modem.join(), true);
  assert.equal(r.modem.joined(), true);
}

for (const [kind, label, options] of [["wio", "Wio-E5", {}], ["rak", "RAK3172", {}], ["rak", "RAK3172 (spaced events)", { spacedEvents: true }]] as const) {
  describe(`${label} driver against the ${kind === "wio" ? "Wio-E5" : "RAK3172"} emulator`, () => {
    it("joins, sends unconfirmed and confirmed uplinks, and receives downlinks in RX1", () => {
      const r = rig(kind, options);
      bringUp(r);
      const uplinks = () => r.network.uplinks.filter((u) => u.kind === "data").length;

      r.pause(60_000);
      assert.deepEqual(r.modem.send(2, Uint8Array.of(0x01, 0x02, 0x03), 3, false), { acked: true, pending: false });
      assert.equal(uplinks(), 1);

      r.pause(60_000);
      r.network.server.enqueueDownlink(r.devEui, { fPort: 10, bytes: Uint8Array.of(0xca, 0xfe) });
      const withDownlink = r.modem.send(2, Uint8Array.of(0x04), 1, false);
      assert.equal(withDownlink.acked, true);
      assert.ok(withDownlink.downlink, "downlink delivered");
      assert.equal(withDownlink.downlink.port, 10);
      assert.deepEqual([...withDownlink.downlink.bytes], [0xca, 0xfe]);
      assert.ok(withDownlink.downlink.rssi < 0);

      r.pause(60_000);
      const confirmed = r.modem.send(3, Uint8Array.of(0x05, 0x06), 2, true);
      assert.equal(confirmed.acked, true);
      assert.equal(confirmed.downlink, undefined);

      r.pause(60_000);
      r.network.server.enqueueDownlink(r.devEui, { fPort: 20, bytes: Uint8Array.of(0x11, 0x22, 0x33) });
      const both = r.modem.send(3, Uint8Array.of(0x07), 1, true);
      assert.equal(both.acked, true);
      assert.equal(both.downlink?.port, 20);
      assert.deepEqual([...(both.downlink?.bytes ?? [])], [0x11, 0x22, 0x33]);

      const received = r.network.uplinks.filter((u) => u.kind === "data" && u.server?.status === "accepted").length;
      assert.equal(uplinks(), 4);
      assert.equal(received, 4);
    });

    it("reports a send without a session as not-joined", () => {
      const r = rig(kind, options);
      r.modem.probe();
      r.modem.configure({ region: "EU868", appKey: APPKEY, joinEui: JOIN_EUI, devEui: r.devEui, adr: true, dataRate: 0 });
      assert.throws(() => r.modem.send(2, Uint8Array.of(1), 1, false), (e: unknown) => e instanceof ModemError && e.fault === "not-joined");
    });
  });
}

describe("Wio-E5 driver against the emulator: US915 and low power", () => {
  it("configures US915 on sub-band 2, joins and sends", () => {
    const r = rig("wio", { region: "US915" });
    bringUp(r);
    r.network.server.enqueueDownlink(r.devEui, { fPort: 4, bytes: Uint8Array.of(0x42) });
    const sent = r.modem.send(2, Uint8Array.of(1, 2), 2, false);
    assert.equal(sent.downlink?.port, 4);
    const freqs = r.network.uplinks.map((u) => u.tx.frequencyHz);
    assert.ok(freqs.every((f) => f >= 903_900_000 && f <= 905_300_000), `sub-band 2 only: ${freqs.join(", ")}`);
  });

  it("sleeps with AT+LOWPOWER and wakes the emulator for the next uplink", () => {
    const r = rig("wio");
    bringUp(r);
    r.modem.sleep();
    assert.equal((r.emulator as WioE5Emulator).sleeping, true);
    r.pause(120_000);
    assert.equal(r.modem.send(2, Uint8Array.of(9), 1, false).acked, true);
    assert.equal((r.emulator as WioE5Emulator).sleeping, false);
  });
});
