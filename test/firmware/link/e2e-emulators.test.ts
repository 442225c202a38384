/**
 * End to end: LoRaWanLink → the real modem drivers (Wio-E5, RAK3172) → the
 * independently written modem emulators → the simulated radio channel,
 * gateway and network server (real LoRaWAN crypto). Three days of a water
 * node with a 12-hour network outage, a modem reboot and a downlink; every
 * reading reaches the application server, the emulators never have to refuse
 * a frame for the duty cycle, and the frames stay within the fair-use budget.
 */
import assert from "node:assert/strict";
import { Board, setCurrentBoard } from "../../../simulator/src/core/board.ts";
import { Rng } from "../../../simulator/src/core/rng.ts";
import Serial from "../../../simulator/src/platform/io-serial.ts";
import { SimNetwork } from "../../../simulator/src/network/network.ts";
import { WioE5Emulator } from "../../../simulator/src/network/wio-e5-emulator.ts";
import { Rak3172Emulator } from "../../../simulator/src/network/rak3172-emulator.ts";
import type { AtModem } from "../../../simulator/src/network/at-modem.ts";
import WioE5 from "../../../firmware/src/drivers/wio-e5.ts";
import Rak3172 from "../../../firmware/src/drivers/rak3172.ts";
import type { LoRaModem } from "../../../firmware/src/drivers/lora-modem.ts";
import { LINK_RETAINED_WORDS, LoRaWanLink } from "../../../firmware/src/link/session.ts";
import { arrivals, randomKeys, waterReading } from "./harness.ts";

const MIN = 60000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

for (const kind of ["wio", "rak"] as const) {
  describe(`link end to end through the ${kind === "wio" ? "Wio-E5" : "RAK3172"} driver, emulator and simulated network`, () => {
    it("3 days with a 12 h outage, a modem reboot and a downlink: every reading arrives, limits hold", function () {
      this.timeout(300000);
      const rng = new Rng(kind === "wio" ? 51 : 52);
      const network = new SimNetwork({ region: "EU868", seed: "link-e2e-" + kind, channel: { lossProbability: 0, shadowingSdDb: 0, fadingSdDb: 0 } });
      const keys = randomKeys(rng);
      const devEui = kind === "wio" ? "2CF7F12032300001" : "AC1F09FFFE000002";
      const emulator: AtModem = kind === "wio" ? new WioE5Emulator({ medium: network, devEui, seed: 5 }) : new Rak3172Emulator({ medium: network, devEui, seed: 5 });
      network.placeDevice(devEui, { x: 30, y: 0, z: 2 });
      network.server.addDevice({ devEui, joinEui: keys.joinEui, appKey: keys.appKey });
      const board = new Board(undefined, 9);
      board.attachSerial(1, emulator, emulator.baud);
      const received: { atMs: number; port: number; bytes: number[] }[] = [];
      network.subscribe((e) => {
        received.push({ atMs: board.clock.nowMs, port: e.uplink_message.f_port, bytes: [...Buffer.from(e.uplink_message.frm_payload, "base64")] });
      });
      const outageFrom = DAY + 3 * HOUR;
      network.addOutage({ fromMs: outageFrom, toMs: outageFrom + 12 * HOUR });
      const retained = new Int32Array(LINK_RETAINED_WORDS);
      const settings = { region: "EU868" as const, appKey: keys.appKey, joinEui: keys.joinEui, devEui, adr: false, dataRate: 5 };
      let joined = false;
      let id = 0;
      const accepted: number[] = [];
      const downlinks: { port: number; bytes: number[] }[] = [];
      let dutyRefusals = 0;
      while (board.clock.nowMs < 3 * DAY) {
        const start = board.clock.nowMs;
        if (start >= 2 * DAY && start < 2 * DAY + 15 * MIN) emulator.inject("reboot");
        if (start >= 2 * DAY + 6 * HOUR && start < 2 * DAY + 6 * HOUR + 15 * MIN) network.server.enqueueDownlink(devEui, { fPort: 25, bytes: Uint8Array.of(0) });
        setCurrentBoard(board);
        try {
          // Every wake is a boot: a new driver (told whether the modem kept its session) and a new link.
          const modem: LoRaModem = kind === "wio" ? new WioE5({ modem: { io: Serial }, joined }) : new Rak3172({ modem: { io: Serial } });
          const link = new LoRaWanLink({ modem, settings, nowMs: () => Math.floor(board.clock.nowMs), delay: (ms) => board.clock.advance(ms), random: () => rng.nextU32(), retained });
          if (link.submit(4, waterReading(++id), 11, "routine")) accepted.push(id);
          link.flush();
          for (let d = link.takeDownlink(); d; d = link.takeDownlink()) downlinks.push({ port: d.port, bytes: [...d.bytes] });
          dutyRefusals += link.stats.noChannel;
          joined = link.joined;
          modem.close();
        } finally {
          setCurrentBoard(undefined);
        }
        board.clock.advanceTo(start + 15 * MIN);
      }
      // A quiet day to drain.
      for (let i = 0; i < 96; i++) {
        const start = board.clock.nowMs;
        setCurrentBoard(board);
        try {
          const modem: LoRaModem = kind === "wio" ? new WioE5({ modem: { io: Serial }, joined }) : new Rak3172({ modem: { io: Serial } });
          const link = new LoRaWanLink({ modem, settings, nowMs: () => Math.floor(board.clock.nowMs), delay: (ms) => board.clock.advance(ms), random: () => rng.nextU32(), retained });
          link.flush();
          joined = link.joined;
          modem.close();
        } finally {
          setCurrentBoard(undefined);
        }
        board.clock.advanceTo(start + 15 * MIN);
      }
      const got = arrivals(received);
      const seen = new Set(got.map((a) => a.id));
      for (const r of accepted) assert.ok(seen.has(r), `reading ${r} lost`);
      const order = [...new Set(got.map((a) => a.id))];
      for (let i = 1; i < order.length; i++) assert.ok(order[i] > order[i - 1], "first arrivals in order");
      assert.deepEqual(downlinks, [{ port: 25, bytes: [0] }]);
      assert.equal(dutyRefusals, 0, "the modem never had to refuse a frame for the duty cycle");
      // Fair use from the network's own records (its Semtech airtime per frame).
      const frames = network.uplinks.filter((u) => u.devEui === devEui).map((u) => ({ t: u.tx.startMs, ms: u.tx.airtimeMs }));
      let max = 0;
      for (const f of frames) max = Math.max(max, frames.filter((g) => g.t > f.t - DAY && g.t <= f.t).reduce((s, g) => s + g.ms, 0));
      assert.ok(max <= 30000, `rolling 24 h airtime ${max} ms`);
      const joins = network.uplinks.filter((u) => u.devEui === devEui && u.kind === "join").length;
      console.log(`      ${accepted.length} readings, ${received.length} uplinks at the server (${got.length - seen.size} re-sent copies), ${joins} join-requests, max ${(max / 1000).toFixed(1)} s airtime per 24 h`);
    });
  });
}
