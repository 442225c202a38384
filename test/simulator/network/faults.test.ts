import assert from "node:assert/strict";
import type { UplinkEvent } from "../../../simulator/src/network/network-server.ts";
import { parseJoinRequest } from "../../../simulator/src/network/lorawan-frames.ts";
import { DIALECT, idleUntil, join, modemOn, quietNetwork, send, setUp, type ModemKind } from "./fixtures.ts";

for (const kind of ["wio-e5", "rak3172"] as const satisfies readonly ModemKind[]) {
  describe(`network: ${kind} faults`, () => {
    it("reboot loses the session and FCnt; a rejoin works with the next DevNonce", () => {
      const net = quietNetwork();
      const events: UplinkEvent[] = [];
      net.subscribe((e) => events.push(e));
      const h = modemOn(net, kind, `${kind}-reboot`);
      setUp(h, kind);
      join(h, kind);
      idleUntil(h, h.nowMs + 7000);
      send(h, kind, "01");
      idleUntil(h, h.nowMs + 7000);
      send(h, kind, "02");
      const firstAddr = h.modem.device.session!.devAddr;

      h.modem.inject("reboot");
      const banner = h.waitFor(/Current Work Mode|^$/, 1000).map((l) => l.text);
      if (kind === "rak3172") assert.deepEqual(banner.slice(0, 1), ["RAKwireless RAK3172 Example"]);
      assert.equal(h.modem.device.session, undefined);
      const refused = send(h, kind, "03");
      assert.match(refused.at(-1)!, DIALECT[kind].notJoined);
      if (kind === "rak3172") assert.deepEqual(h.command("AT+NJS=?", /^OK$/), ["AT+NJS=0", "OK"]);
      // Keys and EUIs live in flash: no setup needed to rejoin.
      const again = join(h, kind);
      assert.ok(again.some((l) => DIALECT[kind].joined.test(l)), again.join(" | "));
      const joins = net.uplinks.filter((u) => u.kind === "join").map((u) => parseJoinRequest(u.tx.phyPayload)!.devNonce);
      assert.deepEqual(joins, [0, 1], "DevNonce is a persistent counter");
      assert.notEqual(h.modem.device.session!.devAddr, firstAddr);
      idleUntil(h, h.nowMs + 7000);
      send(h, kind, "04");
      assert.deepEqual(events.map((e) => e.uplink_message.f_cnt), [0, 1, 0], "FCnt restarts with the new session");
    });

    it("busy and no-free-channel faults refuse uplinks until cleared", () => {
      const net = quietNetwork();
      const h = modemOn(net, kind, `${kind}-busy`);
      setUp(h, kind);
      join(h, kind);
      idleUntil(h, h.nowMs + 7000);
      h.modem.inject("busy");
      assert.deepEqual(send(h, kind, "01").slice(-1), [kind === "wio-e5" ? "+MSGHEX: LoRaWAN modem is busy" : "AT_BUSY_ERROR"]);
      h.modem.clear("busy");
      h.modem.inject("no-free-channel");
      assert.deepEqual(send(h, kind, "01").slice(-1), [kind === "wio-e5" ? "+MSGHEX: No free channel" : "AT_BUSY_ERROR"]);
      h.modem.clear("no-free-channel");
      assert.equal(net.uplinks.length, 1, "only the join went on the air");
      assert.match(send(h, kind, "01").at(-1)!, /Done|TX_DONE/);
    });

    it("join-fail: requests go out but the answer is never heard", () => {
      const net = quietNetwork();
      const h = modemOn(net, kind, `${kind}-jf`);
      setUp(h, kind);
      h.modem.inject("join-fail");
      const failed = join(h, kind);
      assert.deepEqual(failed.slice(-2), kind === "wio-e5" ? ["+JOIN: Join failed", "+JOIN: Done"] : ["OK", "+EVT:JOIN_FAILED_RX_TIMEOUT"]);
      assert.equal(net.uplinks[0].server?.status, "join-accepted", "the network answered");
      assert.equal(net.uplinks[0].downlink?.heard, true, "and the accept reached the radio");
      h.modem.clear("join-fail");
      idleUntil(h, h.nowMs + 10_000);
      assert.ok(join(h, kind).some((l) => DIALECT[kind].joined.test(l)));
      // The failed join took ~6 s of listening; the first result line comes after both join windows.
      const lastJoin = net.uplinks[0];
      assert.ok(h.received.some((l) => /Join failed|JOIN_FAILED/.test(l.text) && l.atMs > lastJoin.tx.startMs + lastJoin.tx.airtimeMs + 6000));
    });

    it("silent: no answer at all until cleared", () => {
      const net = quietNetwork();
      const h = modemOn(net, kind, `${kind}-silent`);
      h.modem.inject("silent");
      assert.deepEqual(h.command("AT", /OK/, 2000), []);
      h.modem.clear("silent");
      assert.deepEqual(h.command("AT", /OK/, 2000), [kind === "wio-e5" ? "+AT: OK" : "OK"]);
    });

    it("RST: held low the modem is deaf; released it reboots (banner), and a lock-up is cured", () => {
      const net = quietNetwork();
      const h = modemOn(net, kind, `${kind}-rst`);
      h.modem.inject("silent");
      h.modem.setReset(true);
      assert.deepEqual(h.command("AT", /OK/, 2000), [], "in reset");
      h.read();
      h.modem.setReset(false);
      h.advanceTo(h.nowMs + 500);
      // The RAK3172 prints its boot banner; the Wio-E5 documents none.
      const printed = h.read().some((l) => l.text !== "");
      assert.equal(printed, kind === "rak3172", "boot output after the release");
      assert.equal(h.modem.hasFault("silent"), false);
      assert.deepEqual(h.command("AT", /OK/, 2000), [kind === "wio-e5" ? "+AT: OK" : "OK"]);
    });
  });
}

describe("network: wio-e5 UART behaviour", () => {
  it("runs a command left without LF after the input timeout, with an +INFO line", () => {
    const h = modemOn(quietNetwork(), "wio-e5", "timeout");
    const start = h.nowMs;
    h.write("AT\r");
    const lines = h.waitFor(/^\+AT: /, 5000);
    assert.deepEqual(lines.map((l) => l.text), ["+INFO: Input timeout", "+AT: OK"]);
    assert.ok(lines[0].atMs >= start + 1000, "not before the timeout");
  });

  it("splits a command whose bytes trickle in too slowly", () => {
    const h = modemOn(quietNetwork(), "wio-e5", "slow");
    h.write("AT+V");
    h.advanceTo(h.nowMs + 1500);
    h.write("ER\r\n");
    const lines = h.waitFor(/^\+(AT|ER)/, 5000).map((l) => l.text);
    assert.deepEqual(lines, ["+INFO: Input timeout", "+V: ERROR(-10)", "+AT: ERROR(-10)"]);
    assert.deepEqual(h.command("AT+VER", /VER/), ["+VER: 4.0.11"]);
  });

  it("sleeps on AT+LOWPOWER; the waking bytes are lost", () => {
    const h = modemOn(quietNetwork(), "wio-e5", "sleep");
    assert.deepEqual(h.command("AT+LOWPOWER", /LOWPOWER/), ["+LOWPOWER: SLEEP"]);
    assert.deepEqual(h.command("AT", /LOWPOWER|AT/), ["+LOWPOWER: WAKEUP"]);
    assert.deepEqual(h.command("AT", /AT/), ["+AT: OK"]);
  });

  it("hears garbage at the wrong baud rate", () => {
    const h = modemOn(quietNetwork(), "wio-e5", "baud");
    h.write("AT+ID\r\n", 115200);
    h.advanceTo(h.nowMs + 2000);
    const lines = h.command("AT", /^\+AT: OK$/).filter((l) => l !== "");
    assert.equal(lines[0], "+INFO: Input timeout");
    assert.match(lines[1], /ERROR/);
    assert.equal(lines.at(-1), "+AT: OK");
  });

  it("answers the configuration commands in the module's format", () => {
    const h = modemOn(quietNetwork(), "wio-e5", "cfg");
    assert.deepEqual(h.command("AT+DR", /BW/), ["+DR: DR0", "+DR: EU868 DR0  SF12 BW125K "]);
    assert.deepEqual(h.command("AT+DR=US915", /DR/), ["+DR: US915"]);
    assert.deepEqual(h.command("AT+DR", /BW/), ["+DR: DR0", "+DR: US915 DR0  SF10 BW125K "]);
    assert.deepEqual(h.command("AT+DR=5", /DR/), ["+DR: ERROR(-1)"], "US915 DR5 is RFU");
    assert.deepEqual(h.command("AT+DR=EU868", /DR/), ["+DR: EU868"]);
    assert.deepEqual(h.command("AT+ADR=OFF", /ADR/), ["+ADR: OFF"]);
    assert.deepEqual(h.command("AT+PORT=8", /PORT/), ["+PORT: 8"]);
    assert.deepEqual(h.command("AT+PORT=0", /PORT/), ["+PORT: ERROR(-1)"]);
    assert.deepEqual(h.command("AT+KEY=APPKEY,1234", /KEY/), ["+KEY: ERROR(-1)"]);
    assert.deepEqual(h.command('AT+ID=DevEui,"0004A30B001C0530"', /ID/), ["+ID: DevEui, 00:04:A3:0B:00:1C:05:30"]);
    assert.deepEqual(h.command("AT+CH", /CH/), ["+CH: 3; 0,868100000,DR0,DR5; 1,868300000,DR0,DR5; 2,868500000,DR0,DR5;"]);
    assert.deepEqual(h.command("AT+MODE=LWABP", /MODE/), ["+MODE: LWABP"]);
    assert.deepEqual(h.command("AT+JOIN", /JOIN/), ["+JOIN: Not in OTAA mode"]);
    assert.deepEqual(h.command("AT+FOO", /FOO/), ["+FOO: ERROR(-10)"]);
  });

  it("says DR error for a data rate no channel allows, and ERROR(-1) for bad hex", () => {
    const net = quietNetwork();
    const h = modemOn(net, "wio-e5", "drerr");
    setUp(h, "wio-e5");
    join(h, "wio-e5");
    idleUntil(h, h.nowMs + 7000);
    assert.deepEqual(h.command("AT+DR=6", /DR/), ["+DR: DR6"], "SF7/250 kHz exists in EU868");
    assert.deepEqual(h.command("AT+MSGHEX=01", /MSGHEX/), ["+MSGHEX: DR error"], "but the default channels stop at DR5");
    h.command("AT+DR=5", /DR/);
    assert.deepEqual(h.command('AT+MSGHEX="ABC"', /MSGHEX/), ["+MSGHEX: ERROR(-1)"]);
    assert.equal(net.uplinks.length, 1);
  });

  it("says Joined already, and is busy during a join (the reply queues behind the join's lines)", () => {
    const net = quietNetwork();
    const h = modemOn(net, "wio-e5", "again");
    setUp(h, "wio-e5");
    h.write("AT+JOIN\r\n");
    h.advanceTo(h.nowMs + 500);
    h.write("AT+MSGHEX=01\r\n");
    const lines = h.waitFor(/busy/, 30_000).map((l) => l.text);
    assert.deepEqual(lines.slice(-2), ["+JOIN: Done", "+MSGHEX: LoRaWAN modem is busy"]);
    assert.deepEqual(h.command("AT+JOIN", /JOIN/), ["+JOIN: Joined already"]);
  });
});

describe("network: rak3172 UART behaviour", () => {
  it("answers reads as AT+X=value and writes with a status between CR LFs", () => {
    const h = modemOn(quietNetwork(), "rak3172", "fmt");
    h.write("AT\r\n");
    h.advanceTo(h.nowMs + 50);
    assert.deepEqual(h.read().map((l) => l.text), ["", "OK"]);
    assert.deepEqual(h.command("AT+BAND=?", /^OK$/), ["AT+BAND=4", "OK"]);
    assert.deepEqual(h.command("AT+BAND=5", /^OK$/), ["OK"]);
    assert.deepEqual(h.command("AT+DR=5", /^AT_/), ["AT_PARAM_ERROR"], "US915 uplinks stop at DR4");
    assert.deepEqual(h.command("AT+BAND=4", /^OK$/), ["OK"]);
    assert.deepEqual(h.command("AT+DEVEUI=0004A30B001C0530", /^OK$/), ["OK"]);
    assert.deepEqual(h.command("AT+DEVEUI=?", /^OK$/), ["AT+DEVEUI=0004a30b001c0530", "OK"]);
    assert.deepEqual(h.command("AT+APPKEY=12", /^AT_/), ["AT_PARAM_ERROR"]);
    assert.deepEqual(h.command("AT+SEND=1:0102", /^AT_/), ["AT_NO_NETWORK_JOINED"]);
    assert.deepEqual(h.command("AT+SEND=0:0102", /^AT_/), ["AT_PARAM_ERROR"]);
    assert.deepEqual(h.command("AT+JOIN=1:0:5:1", /^AT_/), ["AT_PARAM_ERROR"], "interval below 7 s");
    assert.deepEqual(h.command("AT+NJS?", /^OK$/), ["AT+NJS: get the join status", "OK"]);
    assert.deepEqual(h.command("AT+FOO=1", /^AT_/), ["AT_COMMAND_NOT_FOUND"]);
  });

  it("prints the spaced event variants when asked", () => {
    const net = quietNetwork();
    const h = modemOn(net, "rak3172", "spaced", 100, { spacedEvents: true });
    setUp(h, "rak3172");
    assert.deepEqual(h.command("AT+JOIN=1:0:10:0", /^\+EVT/), ["OK", "+EVT: JOINED"]);
    idleUntil(h, h.nowMs + 7000);
    h.command("AT+CFM=1", /^OK$/);
    assert.deepEqual(h.command("AT+SEND=2:0102", /^\+EVT/), ["OK", "+EVT: SEND CONFIRMED OK"]);
  });

  it("a join's last field counts retries: AT+JOIN=1:0:10:2 makes three attempts, spaced by the interval and the join back-off", () => {
    const net = quietNetwork();
    const h = modemOn(net, "rak3172", "attempts");
    setUp(h, "rak3172");
    h.modem.inject("join-fail");
    h.write("AT+JOIN=1:0:10:2\r\n");
    h.waitFor(/JOIN_FAILED/, 30_000);
    h.waitFor(/JOIN_FAILED/, 60_000);
    h.waitFor(/JOIN_FAILED/, 60_000);
    const starts = net.uplinks.map((u) => u.tx.startMs);
    assert.equal(starts.length, 3);
    for (let i = 1; i < 3; i++) {
      const gap = starts[i] - starts[i - 1];
      assert.ok(gap >= 6000 + 10_000, `attempt ${i} waits for both join windows and the 10 s interval (${gap} ms)`);
      assert.ok(gap >= net.uplinks[i - 1].tx.airtimeMs * 100, "and for the 1 % join back-off");
    }
    // And no fourth: RUI3 stops once the retries are spent.
    idleUntil(h, h.nowMs + 120_000);
    assert.equal(net.uplinks.length, 3);
  });
});
