import assert from "node:assert/strict";
import WioE5 from "../../../firmware/src/drivers/wio-e5.ts";
import type { ModemFault, ModemSettings } from "../../../firmware/src/drivers/lora-modem.ts";
import { boardWith, countingPolls, lines, ScriptedModem, type Step, throwsFault } from "./scripted-modem.ts";

const APPKEY = "2B7E151628AED2A6ABF7158809CF4F3C";
const SETTINGS: ModemSettings = { region: "EU868", appKey: APPKEY, adr: true, dataRate: 0 };

function colons(hex: string): string {
  return hex.match(/../g)!.join(":");
}

/** A Wio-E5 script that answers everything the way the AT specification shows. */
function wioDevice(): ScriptedModem {
  const d = new ScriptedModem(9600);
  d.wakeLine = "+LOWPOWER: WAKEUP";
  d.on("AT", lines("+AT: OK"));
  d.on("AT+ID", lines("+ID: DevAddr, 32:30:84:63", "+ID: DevEui, 2C:F7:F1:20:32:30:84:63", "+ID: AppEui, 80:00:00:00:00:00:00:06"));
  d.on("AT+MODE=LWOTAA", lines("+MODE: LWOTAA"));
  d.on(/^AT\+DR=(EU868|US915|AU915|AS923)$/, (m) => lines(`+DR: ${m[1]}`));
  d.on(/^AT\+CH=NUM,(.+)$/, (m) => lines(`+CH: NUM, ${m[1]}`));
  d.on(/^AT\+ID=(DevEui|AppEui),"(\w{16})"$/, (m) => lines(`+ID: ${m[1]}, ${colons(m[2])}`));
  d.on(/^AT\+KEY=APPKEY,(\w{32})$/, (m) => lines(`+KEY: APPKEY ${m[1]}`));
  d.on(/^AT\+ADR=(ON|OFF)$/, (m) => lines(`+ADR: ${m[1]}`));
  d.on(/^AT\+DR=(\d+)$/, (m) => lines(`+DR: DR${m[1]}`));
  d.on("AT+DR", lines("+DR: DR3", "+DR: EU868 DR3  SF9 BW125K"));
  d.on(/^AT\+PORT=(\d+)$/, (m) => lines(`+PORT: ${m[1]}`));
  d.on("AT+LOWPOWER", (_m, dev) => {
    dev.asleep = true;
    return lines("+LOWPOWER: SLEEP");
  });
  d.on("AT+JOIN", [
    { line: "+JOIN: Start" },
    { line: "+JOIN: NORMAL" },
    { line: "+JOIN: Network joined", afterMs: 6200 },
    { line: "+JOIN: NetID 000013 DevAddr 26:0B:12:34" },
    { line: "+JOIN: Done" },
  ]);
  d.on(/^AT\+MSGHEX(="[0-9A-F]*")?$/, [{ line: "+MSGHEX: Start" }, { line: "+MSGHEX: Done", afterMs: 3500 }]);
  d.on(/^AT\+CMSGHEX="[0-9A-F]*"$/, [
    { line: "+CMSGHEX: Start" },
    { line: "+CMSGHEX: Wait ACK", afterMs: 1500 },
    { line: "+CMSGHEX: ACK Received", afterMs: 1000 },
    { line: "+CMSGHEX: RXWIN1, RSSI -29, SNR 9.0" },
    { line: "+CMSGHEX: Done" },
  ]);
  return d;
}

function modemOn(d: ScriptedModem, options: Partial<ConstructorParameters<typeof WioE5>[0]> = {}) {
  const { board, io } = boardWith(d, 9600);
  const modem = new WioE5({ modem: { io }, ...options });
  return { board, modem };
}

describe("firmware/drivers/wio-e5", () => {
  it("probes with AT at 9600 baud", () => {
    const d = wioDevice();
    const { modem } = modemOn(d);
    modem.probe();
    assert.deepEqual(d.commands, ["AT"]);
    assert.equal(modem.model, "wio-e5");
  });

  it("times out when the UART runs at the wrong baud rate (the modem hears garbage)", () => {
    const d = wioDevice();
    const { io, board } = boardWith(d, 9600);
    const modem = new WioE5({ modem: { io, baud: 115200 } });
    const t0 = board.clock.nowMs;
    throwsFault(() => modem.probe(), "timeout");
    assert.ok(d.garbled > 0);
    assert.equal(d.commands.length, 0);
    assert.ok(board.clock.nowMs - t0 >= 1500, "three wake attempts of 500 ms");
  });

  it("reads the DevEUI from the AT+ID lines", () => {
    const d = wioDevice();
    const { modem } = modemOn(d);
    assert.equal(modem.devEui(), "2CF7F12032308463");
    assert.deepEqual(d.commands, ["AT+ID"]);
  });

  it("configures EU868 with EUIs, key, ADR off and a data rate, each reply checked", () => {
    const d = wioDevice();
    const { modem } = modemOn(d);
    modem.configure({ region: "EU868", appKey: APPKEY.toLowerCase(), devEui: "2cf7f12032308463", joinEui: "70B3D57ED0000001", adr: false, dataRate: 5 });
    assert.deepEqual(d.commands, [
      "AT+MODE=LWOTAA",
      "AT+DR=EU868",
      'AT+ID=DevEui,"2CF7F12032308463"',
      'AT+ID=AppEui,"70B3D57ED0000001"',
      `AT+KEY=APPKEY,${APPKEY}`,
      "AT+ADR=OFF",
      "AT+DR=5",
    ]);
  });

  for (const region of ["US915", "AU915"] as const) {
    it(`configures ${region} on sub-band 2 (AT+CH=NUM,8-15)`, () => {
      const d = wioDevice();
      const { modem } = modemOn(d);
      modem.configure({ ...SETTINGS, region });
      assert.deepEqual(d.commands, ["AT+MODE=LWOTAA", `AT+DR=${region}`, "AT+CH=NUM,8-15", `AT+KEY=APPKEY,${APPKEY}`, "AT+ADR=ON"]);
    });
  }

  it("fails a US915 configure whose channel mask is refused", () => {
    const d = wioDevice();
    d.on(/^AT\+CH=/, lines("+CH: ERROR(-1)"));
    const { modem } = modemOn(d);
    throwsFault(() => modem.configure({ ...SETTINGS, region: "US915" }), "param");
  });

  it("configures AS923 without a channel mask, and other channels when asked", () => {
    const d = wioDevice();
    const { modem } = modemOn(d, { channels: "0-7,64" });
    modem.configure({ ...SETTINGS, region: "AS923" });
    assert.deepEqual(d.commands, ["AT+MODE=LWOTAA", "AT+DR=AS923", `AT+KEY=APPKEY,${APPKEY}`, "AT+ADR=ON"]);
    modem.configure({ ...SETTINGS, region: "US915" });
    assert.ok(d.commands.includes("AT+CH=NUM,0-7,64"));
  });

  it("rejects bad settings before touching the UART", () => {
    const d = wioDevice();
    const { modem } = modemOn(d);
    throwsFault(() => modem.configure({ ...SETTINGS, appKey: "00" }), "param");
    throwsFault(() => modem.configure({ ...SETTINGS, devEui: "XYZ0000000000000" }), "param");
    throwsFault(() => modem.configure({ ...SETTINGS, region: "CN470" as never }), "param");
    throwsFault(() => modem.configure({ ...SETTINGS, adr: false, dataRate: 16 }), "param");
    assert.deepEqual(d.commands, []);
  });

  it("fails configure when the modem echoes a different key", () => {
    const d = wioDevice();
    d.on(/^AT\+KEY=APPKEY,/, lines(`+KEY: APPKEY ${"00".repeat(16)}`));
    const { modem } = modemOn(d);
    throwsFault(() => modem.configure(SETTINGS), "error");
  });

  it("joins: waits through JOIN_ACCEPT_DELAY for Network joined and Done", () => {
    const d = wioDevice();
    const { modem, board } = modemOn(d);
    assert.equal(modem.joined(), false);
    assert.equal(modem.join(), true);
    assert.equal(modem.joined(), true);
    assert.ok(board.clock.nowMs >= 6200, `joined at ${board.clock.nowMs} ms`);
    assert.deepEqual(d.commands, ["AT+JOIN"]);
  });

  it("reports a failed join as false, and the trailing Done does not leak into the next command", () => {
    const d = wioDevice();
    d.on("AT+JOIN", [
      { line: "+JOIN: Start" },
      { line: "+JOIN: NORMAL" },
      { line: "+JOIN: Join failed", afterMs: 8000 },
      { line: "+JOIN: Done", afterMs: 40 },
    ]);
    const { modem } = modemOn(d);
    assert.equal(modem.join(), false);
    assert.equal(modem.joined(), false);
    assert.equal(modem.devEui(), "2CF7F12032308463");
  });

  it("treats Joined already as joined", () => {
    const d = wioDevice();
    d.on("AT+JOIN", lines("+JOIN: Joined already"));
    const { modem } = modemOn(d);
    assert.equal(modem.join(), true);
    assert.equal(modem.joined(), true);
  });

  it("starts out joined when told the session survived the MCU's deep sleep", () => {
    const { modem } = modemOn(wioDevice(), { joined: true });
    assert.equal(modem.joined(), true);
  });

  const joinErrors: [string, ModemFault][] = [
    ["+JOIN: LoRaWAN modem is busy", "busy"],
    ["+JOIN: Not in OTAA mode", "error"],
    ["+JOIN: No free channel", "no-channel"],
    ["+JOIN: No band in 13469ms", "no-channel"],
    ["+JOIN: ERROR(-12)", "error"],
  ];
  for (const [line, fault] of joinErrors) {
    it(`maps "${line}" to ${fault}`, () => {
      const d = wioDevice();
      d.on("AT+JOIN", lines(line));
      const { modem } = modemOn(d);
      throwsFault(() => modem.join(), fault);
    });
  }

  it("times out a join that never finishes, after joinTimeoutMs", () => {
    const d = wioDevice();
    d.on("AT+JOIN", lines("+JOIN: Start", "+JOIN: NORMAL"));
    const { modem, board } = modemOn(d, { joinTimeoutMs: 12000 });
    throwsFault(() => modem.join(), "timeout");
    assert.ok(board.clock.nowMs >= 12000 && board.clock.nowMs < 12100, `gave up at ${board.clock.nowMs}`);
  });

  it("sends an unconfirmed uplink: AT+PORT once, then AT+MSGHEX with the payload in hex", () => {
    const d = wioDevice();
    const { modem } = modemOn(d);
    const bytes = Uint8Array.of(0x01, 0x02, 0xa0, 0xff);
    assert.deepEqual(modem.send(8, bytes, 3, false), { acked: true, pending: false });
    assert.deepEqual(modem.send(8, bytes, 4, false), { acked: true, pending: false });
    modem.send(9, bytes, 0, false);
    assert.deepEqual(d.commands, ["AT+PORT=8", 'AT+MSGHEX="0102A0"', 'AT+MSGHEX="0102A0FF"', "AT+PORT=9", "AT+MSGHEX"]);
    assert.equal(modem.joined(), true, "a delivered uplink proves the session");
  });

  it("returns a downlink and FPENDING, with noise, a line split across reads and metrics before the data", () => {
    const d = wioDevice();
    const downlinkLine = '+MSGHEX: PORT: 15; RX: "48656C6C6F"\r\n';
    d.on(/^AT\+MSGHEX=/, [
      { line: "+MSGHEX: Start" },
      { line: "+INFO: Input timeout", afterMs: 5 },
      { line: "+MSGHEX: FPENDING", afterMs: 1500 },
      { line: "+MSGHEX: RXWIN1, RSSI -101, SNR -16.0", afterMs: 1000 },
      { raw: downlinkLine.slice(0, 17) },
      { raw: "" },
      { raw: downlinkLine.slice(17), afterMs: 120 },
      { line: "" },
      { line: "+MSGHEX: Done" },
    ]);
    const { modem } = modemOn(d);
    const r = modem.send(2, Uint8Array.of(1), 1, false);
    assert.equal(r.acked, true);
    assert.equal(r.pending, true);
    assert.ok(r.downlink);
    assert.equal(r.downlink.port, 15);
    assert.deepEqual([...r.downlink.bytes], [0x48, 0x65, 0x6c, 0x6c, 0x6f]);
    assert.equal(r.downlink.rssi, -101);
    assert.equal(r.downlink.snr, -16);
  });

  it("waits out the quiet time after Start instead of polling it: the same result, read as soon as without", () => {
    const script = (d: ScriptedModem) =>
      d.on(/^AT\+C?MSGHEX=/, [
        { line: "+MSGHEX: Start" },
        { line: "+INFO: Input timeout", afterMs: 5 },
        { line: "+MSGHEX: FPENDING", afterMs: 1100 },
        { line: '+MSGHEX: PORT: 15; RX: "48656C6C6F"' },
        { line: "+MSGHEX: RXWIN1, RSSI -101, SNR -16.0" },
        { line: "+MSGHEX: Done", afterMs: 30 },
      ]);
    const run = (quietMs?: number) => {
      const d = wioDevice();
      script(d);
      const { board, modem } = modemOn(d);
      modem.send(2, Uint8Array.of(1), 1, false); // AT+PORT out of the way
      const { result: r, polls, ms } = countingPolls(board, () => modem.send(2, Uint8Array.of(1), 1, false, quietMs));
      return { r, ms, polls };
    };
    const polled = run();
    const quiet = run(1000);
    assert.deepEqual(quiet.r, polled.r);
    assert.ok(quiet.r.downlink && quiet.r.pending);
    assert.ok(quiet.ms <= polled.ms, `${quiet.ms} ms against ${polled.ms} ms`);
    assert.ok(quiet.polls < polled.polls / 2, `${quiet.polls} polls against ${polled.polls}`);
  });

  it("sends a confirmed uplink: Wait ACK, FPENDING, ACK Received, downlink, RX2 metrics", () => {
    const d = wioDevice();
    d.on(/^AT\+CMSGHEX=/, [
      { line: "+CMSGHEX: Start" },
      { line: "+CMSGHEX: Wait ACK", afterMs: 1200 },
      { line: "+CMSGHEX: FPENDING", afterMs: 1000 },
      { line: "+CMSGHEX: ACK Received" },
      { line: '+CMSGHEX: PORT: 1; RX: "00 FF 10"' },
      { line: "+CMSGHEX: RXWIN2, RSSI -88, SNR 7.5" },
      { line: "+CMSGHEX: Done" },
    ]);
    const { modem } = modemOn(d);
    const r = modem.send(3, Uint8Array.of(0xde, 0xad), 2, true);
    assert.deepEqual(d.commands, ["AT+PORT=3", 'AT+CMSGHEX="DEAD"']);
    assert.equal(r.acked, true);
    assert.equal(r.pending, true);
    assert.deepEqual(r.downlink, { port: 1, bytes: Uint8Array.of(0, 0xff, 0x10), rssi: -88, snr: 8 });
  });

  it("reports a confirmed uplink that ends without ACK Received as nack", () => {
    const d = wioDevice();
    d.on(/^AT\+CMSGHEX=/, [{ line: "+CMSGHEX: Start" }, { line: "+CMSGHEX: Wait ACK", afterMs: 1500 }, { line: "+CMSGHEX: Done", afterMs: 9000 }]);
    const { modem } = modemOn(d);
    throwsFault(() => modem.send(3, Uint8Array.of(1), 1, true), "nack");
  });

  it("ignores a malformed downlink line rather than report wrong bytes", () => {
    for (const bad of ['PORT: 1; RX: "ABC"', 'PORT: 0; RX: "AB"', 'PORT: 1; RX: "AB  CD"', 'PORT: 1; RX: "ZZ"', 'PORT: 1; RX: "AB', 'PORT: 300; RX: "AB"']) {
      const d = wioDevice();
      d.on(/^AT\+MSGHEX=/, lines("+MSGHEX: Start", `+MSGHEX: ${bad}`, "+MSGHEX: RXWIN1, RSSI -50, SNR 3.0", "+MSGHEX: Done"));
      const { modem } = modemOn(d);
      const r = modem.send(2, Uint8Array.of(1), 1, false);
      assert.equal(r.downlink, undefined, bad);
    }
  });

  it("does not let a stale Done before Start finish the uplink", () => {
    const d = wioDevice();
    d.on(/^AT\+MSGHEX=/, [
      { line: "+MSGHEX: Done" },
      { line: "+MSGHEX: FPENDING" },
      { line: "+MSGHEX: Start", afterMs: 50 },
      { line: '+MSGHEX: PORT: 7; RX: "01"', afterMs: 2000 },
      { line: "+MSGHEX: Done" },
    ]);
    const { modem } = modemOn(d);
    const r = modem.send(2, Uint8Array.of(1), 1, false);
    assert.equal(r.pending, false);
    assert.equal(r.downlink?.port, 7);
  });

  const sendErrors: [string, ModemFault][] = [
    ["Please join network first", "not-joined"],
    ["Length error 11", "length"],
    ["Length error", "length"],
    ["No free channel", "no-channel"],
    ["No band in 13469ms", "no-channel"],
    ["DR error", "dr"],
    ["LoRaWAN modem is busy", "busy"],
    ["ERROR(-1)", "param"],
    ["ERROR(-10)", "error"],
    ["ERROR(-11)", "param"],
    ["ERROR(-12)", "error"],
    ["ERROR(-20)", "param"],
    ["ERROR(-21)", "length"],
    ["ERROR(-22)", "error"],
    ["ERROR(-23)", "error"],
    ["ERROR(-24)", "error"],
    ["ERROR(-99)", "error"],
  ];
  for (const confirmed of [false, true]) {
    const name = confirmed ? "CMSGHEX" : "MSGHEX";
    for (const [text, fault] of sendErrors) {
      it(`maps "+${name}: ${text}" to ${fault}`, () => {
        const d = wioDevice();
        d.on(new RegExp(`^AT\\+${name}=`), lines(`+${name}: ${text}`));
        const { modem } = modemOn(d, { joined: true });
        throwsFault(() => modem.send(1, Uint8Array.of(1, 2), 2, confirmed), fault);
        assert.equal(modem.joined(), fault !== "not-joined");
      });
    }
  }

  it("maps a bare ERROR(n) line and errors of setup commands", () => {
    const d = wioDevice();
    d.on(/^AT\+PORT=/, lines("ERROR(-1)"));
    d.on(/^AT\+KEY=/, lines("+KEY: ERROR(-1)"));
    d.on("AT+MODE=LWOTAA", lines("+MODE: ERROR(-12)"), 1);
    const { modem } = modemOn(d);
    throwsFault(() => modem.send(1, Uint8Array.of(1), 1, false), "param");
    throwsFault(() => modem.configure(SETTINGS), "error");
    throwsFault(() => modem.configure(SETTINGS), "param");
  });

  it("rejects bad send arguments before touching the UART", () => {
    const d = wioDevice();
    const { modem } = modemOn(d);
    throwsFault(() => modem.send(0, Uint8Array.of(1), 1, false), "param");
    throwsFault(() => modem.send(224, Uint8Array.of(1), 1, false), "param");
    throwsFault(() => modem.send(1, Uint8Array.of(1), 2, false), "param");
    throwsFault(() => modem.send(1, new Uint8Array(243), 243, false), "length");
    assert.deepEqual(d.commands, []);
  });

  it("sends the largest payload in one command line", () => {
    const d = wioDevice();
    const { modem } = modemOn(d);
    const bytes = new Uint8Array(242).map((_, i) => i);
    modem.send(1, bytes, 242, false);
    assert.equal(d.commands[1].length, 'AT+MSGHEX=""'.length + 484);
  });

  it("times out an uplink whose Done never comes, after sendTimeoutMs", () => {
    const d = wioDevice();
    const { modem, board } = modemOn(d, { sendTimeoutMs: 9000 });
    modem.send(1, Uint8Array.of(1), 1, false); // port set, and one uplink done at the default reply
    const t0 = board.clock.nowMs;
    d.on(/^AT\+MSGHEX=/, lines("+MSGHEX: Start"));
    throwsFault(() => modem.send(1, Uint8Array.of(1), 1, false), "timeout");
    assert.ok(board.clock.nowMs - t0 >= 9000);
  });

  it("reads the data rate from either AT+DR reply form and sets it", () => {
    const d = wioDevice();
    const { modem } = modemOn(d);
    assert.equal(modem.dataRate(), 3);
    d.on("AT+DR", lines("+DR: US915 DR2  SF8 BW125K"));
    assert.equal(modem.dataRate(), 2);
    d.on("AT+DR", lines("+DR: DR4"));
    assert.equal(modem.dataRate(), 4);
    modem.setDataRate(1);
    assert.deepEqual(d.commands, ["AT+DR", "AT+DR", "AT+DR", "AT+DR=1"]);
    d.on(/^AT\+DR=\d+$/, lines("+DR: DR error"));
    throwsFault(() => modem.setDataRate(12), "dr");
    throwsFault(() => modem.setDataRate(-1), "param");
  });

  it("sleeps with AT+LOWPOWER and wakes with a swallowed AT, a pause after WAKEUP, then AT again", () => {
    const d = wioDevice();
    const { modem } = modemOn(d);
    modem.sleep();
    modem.sleep(); // already asleep: nothing sent
    assert.equal(d.asleep, true);
    const r = modem.send(5, Uint8Array.of(0x42), 1, false);
    assert.equal(r.acked, true);
    assert.deepEqual(d.commands, ["AT+LOWPOWER", "(wake) AT", "AT", "AT+PORT=5", 'AT+MSGHEX="42"']);
    // WAKEUP takes 19 bytes (~20 ms at 9600 baud) to arrive; the driver then waits 10 ms more.
    const gap = d.heardAtMs[2] - d.heardAtMs[1];
    assert.ok(gap >= 30, `second AT ${gap} ms after the first`);
  });

  it("probe wakes a sleeping modem", () => {
    const d = wioDevice();
    const { modem } = modemOn(d);
    modem.sleep();
    modem.probe();
    assert.deepEqual(d.commands, ["AT+LOWPOWER", "(wake) AT", "AT"]);
    modem.probe();
    assert.equal(d.commands.length, 4);
  });

  it("survives a long run of garbage without newlines before the reply", () => {
    const d = wioDevice();
    const garbage: Step = { raw: "x".repeat(2000) };
    d.on("AT+MODE=LWOTAA", [garbage, { raw: "\r\n" }, { line: "+MODE: LWOTAA" }]);
    const { modem } = modemOn(d, { commandTimeoutMs: 5000 });
    modem.configure(SETTINGS);
    assert.equal(modem.reader.overflows, 1);
  });

  it("refuses to work after close", () => {
    const { modem } = modemOn(wioDevice());
    modem.close();
    modem.close();
    throwsFault(() => modem.probe(), "error");
    throwsFault(() => modem.send(1, Uint8Array.of(1), 1, false), "error");
  });
});
