import assert from "node:assert/strict";
import Rak3172 from "../../../firmware/src/drivers/rak3172.ts";
import type { ModemFault, ModemSettings } from "../../../firmware/src/drivers/lora-modem.ts";
import { boardWith, countingPolls, lines, ScriptedModem, throwsFault } from "./scripted-modem.ts";

const APPKEY = "2B7E151628AED2A6ABF7158809CF4F3C";
const SETTINGS: ModemSettings = { region: "EU868", appKey: APPKEY, adr: true, dataRate: 0 };
const OK = lines("OK");

/** A RUI3 script: every write answers OK, reads answer in the RUI3 4.x `AT+X=value` form. */
function rakDevice(): ScriptedModem {
  const d = new ScriptedModem(115200);
  d.on(/^AT(\+\w+=.*)?$/, OK);
  d.on("AT+DEVEUI=?", lines("AT+DEVEUI=ac1f09fffe000001", "OK"));
  d.on("AT+NWM=?", lines("AT+NWM=1", "OK"));
  d.on("AT+NJS=?", lines("AT+NJS=1", "OK"));
  d.on("AT+DR=?", lines("AT+DR=3", "OK"));
  d.on(/^AT\+JOIN=1:0:\d+:\d+$/, [{ line: "OK" }, { line: "+EVT:JOINED", afterMs: 6100 }]);
  d.on(/^AT\+SEND=\d+:[0-9A-F]+$/, [{ line: "OK" }, { line: "+EVT:TX_DONE", afterMs: 3200 }]);
  return d;
}

function modemOn(d: ScriptedModem, options: Partial<ConstructorParameters<typeof Rak3172>[0]> = {}) {
  const { board, io } = boardWith(d, 115200);
  const modem = new Rak3172({ modem: { io }, ...options });
  return { board, modem };
}

/** Sends with the CFM state already written, so `commands` shows only the send. */
function confirmedScript(d: ScriptedModem, steps: Parameters<ScriptedModem["on"]>[1]): void {
  d.on(/^AT\+SEND=/, steps);
}

describe("firmware/drivers/rak3172", () => {
  it("probes with AT at 115200 baud", () => {
    const d = rakDevice();
    const { modem } = modemOn(d);
    modem.probe();
    assert.deepEqual(d.commands, ["AT"]);
    assert.equal(modem.model, "rak3172");
  });

  it("times out at the wrong baud rate", () => {
    const d = rakDevice();
    const { io } = boardWith(d, 115200);
    const modem = new Rak3172({ modem: { io, baud: 9600 } });
    throwsFault(() => modem.probe(), "timeout");
    assert.ok(d.garbled > 0);
  });

  it("retries AT when the first one only wakes the module", () => {
    const d = rakDevice();
    d.dropNext = 1;
    const { modem } = modemOn(d);
    modem.probe();
    assert.deepEqual(d.commands, ["(lost) AT", "AT"]);
  });

  it("reads the DevEUI in both the RUI3 4.x and 3.x forms", () => {
    const d = rakDevice();
    const { modem } = modemOn(d);
    assert.equal(modem.devEui(), "AC1F09FFFE000001");
    d.on("AT+DEVEUI=?", lines("AT+DEVEUI=?", "", "AC1F09FFFE0000AB", "", "OK"));
    assert.equal(modem.devEui(), "AC1F09FFFE0000AB");
    d.on("AT+DEVEUI=?", lines("OK"));
    throwsFault(() => modem.devEui(), "error");
  });

  it("configures EU868 with EUIs, key, ADR off and a data rate", () => {
    const d = rakDevice();
    const { modem } = modemOn(d);
    modem.configure({ region: "EU868", appKey: APPKEY.toLowerCase(), devEui: "ac1f09fffe000001", joinEui: "70B3D57ED0000001", adr: false, dataRate: 3 });
    assert.deepEqual(d.commands, [
      "AT+NWM=?",
      "AT+NJM=1",
      "AT+BAND=4",
      "AT+DEVEUI=AC1F09FFFE000001",
      "AT+APPEUI=70B3D57ED0000001",
      `AT+APPKEY=${APPKEY}`,
      "AT+ADR=0",
      "AT+DR=3",
      "AT+CFM=0",
    ]);
  });

  const bands: [ModemSettings["region"], string[]][] = [
    ["US915", ["AT+BAND=5", "AT+MASK=0002"]],
    ["AU915", ["AT+BAND=6", "AT+MASK=0002"]],
    ["AS923", ["AT+BAND=8"]],
  ];
  for (const [region, expected] of bands) {
    it(`configures ${region} as ${expected.join(", ")}`, () => {
      const d = rakDevice();
      const { modem } = modemOn(d);
      modem.configure({ ...SETTINGS, region });
      assert.deepEqual(d.commands, ["AT+NWM=?", "AT+NJM=1", ...expected, `AT+APPKEY=${APPKEY}`, "AT+ADR=1", "AT+CFM=0"]);
    });
  }

  it("switches a module in P2P mode to LoRaWAN and waits for its reboot", () => {
    const d = rakDevice();
    d.on("AT+NWM=?", lines("AT+NWM=0", "OK"), 1);
    d.on("AT+NWM=1", (_m, dev) => {
      // The module reboots: it ignores the next two ATs, then prints its banner.
      dev.dropNext = 2;
      return [{ line: "OK" }, { line: "Current Work Mode: LoRaWAN.", afterMs: 700 }];
    });
    const { modem } = modemOn(d);
    modem.configure(SETTINGS);
    assert.deepEqual(d.commands.slice(0, 5), ["AT+NWM=?", "AT+NWM=1", "(lost) AT", "(lost) AT", "AT"]);
    assert.equal(d.commands[5], "AT+NJM=1");
  });

  it("rejects bad settings and options before touching the UART", () => {
    const d = rakDevice();
    const { modem } = modemOn(d);
    throwsFault(() => modem.configure({ ...SETTINGS, appKey: APPKEY.slice(1) }), "param");
    throwsFault(() => modem.configure({ ...SETTINGS, joinEui: "0011" }), "param");
    throwsFault(() => modem.configure({ ...SETTINGS, region: "KR920" as never }), "param");
    assert.deepEqual(d.commands, []);
    const { io } = boardWith(rakDevice(), 115200);
    throwsFault(() => new Rak3172({ modem: { io }, joinIntervalS: 3 }), "param");
    throwsFault(() => new Rak3172({ modem: { io }, joinAttempts: 0 }), "param");
    throwsFault(() => new Rak3172({ modem: { io }, subBandMask: "2" }), "param");
  });

  it("joins with AT+JOIN=1:0:10:0 (one request: RUI3 counts retries) and waits for +EVT:JOINED", () => {
    const d = rakDevice();
    const { modem, board } = modemOn(d);
    assert.equal(modem.join(), true);
    assert.deepEqual(d.commands, ["AT+JOIN=1:0:10:0"]);
    assert.ok(board.clock.nowMs >= 6100);
  });

  for (const failure of ["+EVT:JOIN_FAILED_RX_TIMEOUT", "+EVT:JOIN FAILED", "+EVT: JOIN FAILED"]) {
    it(`reports ${failure} as a failed join`, () => {
      const d = rakDevice();
      d.on(/^AT\+JOIN=/, [{ line: "OK" }, { line: failure, afterMs: 8000 }]);
      const { modem } = modemOn(d);
      assert.equal(modem.join(), false);
    });
  }

  it("counts one failure event per attempt when several attempts are asked for", () => {
    const d = rakDevice();
    d.on(/^AT\+JOIN=/, [
      { line: "OK" },
      { line: "+EVT:JOIN_FAILED_RX_TIMEOUT", afterMs: 8000 },
      { line: "+EVT:JOIN_FAILED_RX_TIMEOUT", afterMs: 18000 },
      { line: "+EVT:JOINED", afterMs: 18000 },
    ]);
    const { modem } = modemOn(d, { joinAttempts: 3, joinIntervalS: 12 });
    assert.equal(modem.join(), true);
    assert.deepEqual(d.commands, ["AT+JOIN=1:0:12:2"], "three attempts are the first request and two retries");
    d.on(/^AT\+JOIN=/, [{ line: "OK" }, { line: "+EVT:JOIN_FAILED_RX_TIMEOUT", afterMs: 8000 }, { line: "+EVT:JOIN_FAILED_RX_TIMEOUT", afterMs: 18000 }, { line: "+EVT:JOIN_FAILED_RX_TIMEOUT", afterMs: 18000 }]);
    assert.equal(modem.join(), false);
  });

  it("maps join status errors and times out without an event", () => {
    const d = rakDevice();
    d.on(/^AT\+JOIN=/, lines("AT_BUSY_ERROR"), 1);
    const { modem, board } = modemOn(d, { joinTimeoutMs: 9000 });
    throwsFault(() => modem.join(), "busy");
    d.on(/^AT\+JOIN=/, OK, 1);
    const t0 = board.clock.nowMs;
    throwsFault(() => modem.join(), "timeout");
    assert.ok(board.clock.nowMs - t0 >= 9000);
  });

  it("asks AT+NJS=? whether a session exists, in both value forms", () => {
    const d = rakDevice();
    const { modem } = modemOn(d);
    assert.equal(modem.joined(), true);
    d.on("AT+NJS=?", lines("0", "OK"));
    assert.equal(modem.joined(), false);
  });

  it("sends unconfirmed: AT+CFM=0 once, AT+SEND=<port>:<hex>, OK, +EVT:TX_DONE", () => {
    const d = rakDevice();
    const { modem } = modemOn(d);
    const bytes = Uint8Array.of(0x01, 0xab, 0xff);
    assert.deepEqual(modem.send(2, bytes, 3, false), { acked: true, pending: false });
    assert.deepEqual(modem.send(2, bytes, 2, false), { acked: true, pending: false });
    assert.deepEqual(d.commands, ["AT+CFM=0", "AT+SEND=2:01ABFF", "AT+SEND=2:01AB"]);
  });

  it("sends confirmed: AT+CFM=1, then SEND_CONFIRMED_OK, and catches a downlink printed right after it", () => {
    const d = rakDevice();
    confirmedScript(d, [{ line: "OK" }, { line: "+EVT:SEND_CONFIRMED_OK", afterMs: 3000 }, { line: "+EVT:RX_1:-46:10:UNICAST:111:48454c4c4f0a", afterMs: 5 }]);
    const { modem } = modemOn(d);
    const r = modem.send(7, Uint8Array.of(9), 1, true);
    assert.deepEqual(d.commands, ["AT+CFM=1", "AT+SEND=7:09"]);
    assert.deepEqual(r, { acked: true, pending: false, downlink: { port: 111, bytes: Uint8Array.of(0x48, 0x45, 0x4c, 0x4c, 0x4f, 0x0a), rssi: -46, snr: 10 } });
  });

  it("a 242-byte downlink at 115200 baud arrives whole though each poll costs the wake 8 ms of its own work; polled every 10 ms it overflows the 128-byte FIFO", () => {
    const payload = Array.from({ length: 242 }, (_, i) => (i * 37 + 11) & 0xff);
    const hex = payload.map((b) => b.toString(16).padStart(2, "0")).join("");
    const run = (pollMs?: number) => {
      const d = rakDevice();
      confirmedScript(d, [{ line: "OK" }, { line: "+EVT:SEND_CONFIRMED_OK", afterMs: 1400 }, { line: `+EVT:RX_1:-46:10:UNICAST:9:${hex}`, afterMs: 5 }]);
      const { board, modem } = modemOn(d, pollMs === undefined ? {} : { pollMs });
      board.taskOverheadMs = 8;
      return modem.send(7, Uint8Array.of(9), 1, true);
    };
    const whole = run();
    assert.deepEqual(whole.downlink && [...whole.downlink.bytes], payload, "the default poll keeps up");
    assert.equal(run(10).downlink, undefined, "a 10 ms poll loses the line");
  });

  it("waits out the quiet time after OK instead of polling it: the same result, read as soon as without", () => {
    const run = (quietMs?: number) => {
      const d = rakDevice();
      confirmedScript(d, [{ line: "OK" }, { line: "+EVT:SEND_CONFIRMED_OK", afterMs: 1400 }, { line: "+EVT:RX_1:-46:10:UNICAST:111:48454c4c4f0a", afterMs: 5 }]);
      const { board, modem } = modemOn(d);
      const { result: r, polls, ms } = countingPolls(board, () => modem.send(7, Uint8Array.of(9), 1, true, quietMs));
      return { r, ms, polls };
    };
    const polled = run();
    const quiet = run(1100);
    assert.deepEqual(quiet.r, polled.r);
    assert.ok(quiet.r.downlink);
    assert.ok(quiet.ms <= polled.ms, `${quiet.ms} ms against ${polled.ms} ms`);
    assert.ok(quiet.polls < polled.polls / 2, `${quiet.polls} polls against ${polled.polls}`);
  });

  it("accepts the spaced event variants", () => {
    const d = rakDevice();
    confirmedScript(d, [{ line: "OK" }, { line: "+EVT: SEND CONFIRMED OK", afterMs: 3000 }]);
    const { modem } = modemOn(d);
    assert.equal(modem.send(7, Uint8Array.of(9), 1, true).acked, true);
    confirmedScript(d, [{ line: "OK" }, { line: "+EVT:SEND CONFIRMED FAILED", afterMs: 3000 }]);
    throwsFault(() => modem.send(7, Uint8Array.of(9), 1, true), "nack");
  });

  it("reports SEND_CONFIRMED_FAILED(<n>) as nack", () => {
    const d = rakDevice();
    confirmedScript(d, [{ line: "OK" }, { line: "+EVT:SEND_CONFIRMED_FAILED(4)", afterMs: 12000 }]);
    const { modem } = modemOn(d);
    throwsFault(() => modem.send(7, Uint8Array.of(9), 1, true), "nack");
  });

  for (const window of ["RX_1", "RX_2", "RX_B", "RX_C"]) {
    it(`returns a ${window} downlink printed before TX_DONE`, () => {
      const d = rakDevice();
      d.on(/^AT\+SEND=/, [{ line: "OK" }, { line: `+EVT:${window}:-101:-7:UNICAST:3:00ff`, afterMs: 2500 }, { line: "+EVT:TX_DONE", afterMs: 2 }]);
      const { modem } = modemOn(d);
      const r = modem.send(1, Uint8Array.of(1), 1, false);
      assert.deepEqual(r.downlink, { port: 3, bytes: Uint8Array.of(0, 0xff), rssi: -101, snr: -7 });
    });
  }

  it("tolerates a space after +EVT: in a downlink line", () => {
    const d = rakDevice();
    d.on(/^AT\+SEND=/, [{ line: "OK" }, { line: "+EVT: RX_1:-60:4:UNICAST:9:abcd", afterMs: 2500 }, { line: "+EVT: TX DONE" }]);
    const { modem } = modemOn(d);
    assert.deepEqual(modem.send(1, Uint8Array.of(1), 1, false).downlink, { port: 9, bytes: Uint8Array.of(0xab, 0xcd), rssi: -60, snr: 4 });
  });

  it("ignores multicast, port-0 and malformed RX lines", () => {
    for (const bad of ["+EVT:RX_1:-50:5:MULTICAST:3:00", "+EVT:RX_1:-50:5:UNICAST:0:00", "+EVT:RX_1:-50:5:UNICAST:3:0", "+EVT:RX_1:-50:5:UNICAST:3:0g", "+EVT:RX_3:-50:5:UNICAST:3:00", "+EVT:RX_1:-50:UNICAST:3:00"]) {
      const d = rakDevice();
      d.on(/^AT\+SEND=/, [{ line: "OK" }, { line: bad, afterMs: 2500 }, { line: "+EVT:TX_DONE" }]);
      const { modem } = modemOn(d);
      assert.equal(modem.send(1, Uint8Array.of(1), 1, false).downlink, undefined, bad);
    }
  });

  it("understands the three-line downlink of pre-RUI3 firmware", () => {
    const d = rakDevice();
    d.on(/^AT\+SEND=/, [{ line: "OK" }, { line: "+EVT:RX_1, RSSI -52, SNR 9", afterMs: 2500 }, { line: "+EVT:UNICAST" }, { line: "+EVT:3:4321" }, { line: "+EVT:TX_DONE" }]);
    const { modem } = modemOn(d);
    assert.deepEqual(modem.send(2, Uint8Array.of(0x12, 0x34), 2, false).downlink, { port: 3, bytes: Uint8Array.of(0x43, 0x21), rssi: -52, snr: 9 });
  });

  const sendStatus: [string, ModemFault][] = [
    ["AT_PARAM_ERROR", "length"],
    ["AT_TEST_PARAM_OVERFLOW", "length"],
    ["AT_BUSY_ERROR", "busy"],
    ["AT_NO_NETWORK_JOINED", "not-joined"],
    ["AT_ERROR", "error"],
    ["AT_RX_ERROR", "error"],
    ["AT_NO_CLASSB_ENABLE", "error"],
    ["AT_COMMAND_NOT_FOUND", "error"],
    ["AT_DUTYCYCLE_RESTRICTED", "no-channel"],
    ["AT_DUTYCYLE_RESTRICTED", "no-channel"],
    ["AT_UNSUPPORTED_BAND", "error"],
    ["AT_MODE_NO_SUPPORT", "error"],
  ];
  it("takes RUI3's Restricted_Wait_<ms>_ms line before AT_BUSY_ERROR as the duty cycle holding the band (no-channel), not a busy modem", () => {
    const d = rakDevice();
    d.on(/^AT\+SEND=/, lines("Restricted_Wait_41234_ms", "AT_BUSY_ERROR"));
    const { modem } = modemOn(d);
    throwsFault(() => modem.send(1, Uint8Array.of(1), 1, false), "no-channel");
  });

  for (const [status, fault] of sendStatus) {
    it(`maps ${status} after AT+SEND to ${fault}`, () => {
      const d = rakDevice();
      d.on(/^AT\+SEND=/, lines(status));
      const { modem } = modemOn(d);
      throwsFault(() => modem.send(1, Uint8Array.of(1), 1, false), fault);
    });
  }

  it("maps status lines of other commands (AT_PARAM_ERROR is param there)", () => {
    const d = rakDevice();
    d.on(/^AT\+DR=\d+$/, lines("AT_PARAM_ERROR"));
    d.on("AT+DR=?", lines("AT_BUSY_ERROR"));
    d.on("AT+NJM=1", lines("AT_ERROR"));
    const { modem } = modemOn(d);
    throwsFault(() => modem.setDataRate(9), "param");
    throwsFault(() => modem.dataRate(), "busy");
    throwsFault(() => modem.configure(SETTINGS), "error");
  });

  it("does not read a status word from Object.prototype", () => {
    const d = rakDevice();
    d.on(/^AT\+SEND=/, [{ line: "constructor" }, { line: "__proto__" }, { line: "toString" }, { line: "OK" }, { line: "+EVT:TX_DONE" }]);
    const { modem } = modemOn(d);
    assert.equal(modem.send(1, Uint8Array.of(1), 1, false).acked, true);
  });

  it("rejects bad send arguments before touching the UART", () => {
    const d = rakDevice();
    const { modem } = modemOn(d);
    throwsFault(() => modem.send(0, Uint8Array.of(1), 1, false), "param");
    throwsFault(() => modem.send(224, Uint8Array.of(1), 1, false), "param");
    throwsFault(() => modem.send(1, Uint8Array.of(1), 0, false), "param");
    throwsFault(() => modem.send(1, Uint8Array.of(1), 2, false), "param");
    throwsFault(() => modem.send(1, new Uint8Array(300), 243, false), "length");
    assert.deepEqual(d.commands, []);
  });

  it("times out when TX_DONE never comes", () => {
    const d = rakDevice();
    d.on(/^AT\+SEND=/, OK);
    const { modem, board } = modemOn(d, { sendTimeoutMs: 11000 });
    throwsFault(() => modem.send(1, Uint8Array.of(1), 1, false), "timeout");
    assert.ok(board.clock.nowMs >= 11000);
  });

  it("reads and sets the data rate", () => {
    const d = rakDevice();
    const { modem } = modemOn(d);
    assert.equal(modem.dataRate(), 3);
    d.on("AT+DR=?", lines("5", "OK"));
    assert.equal(modem.dataRate(), 5);
    modem.setDataRate(2);
    assert.deepEqual(d.commands, ["AT+DR=?", "AT+DR=?", "AT+DR=2"]);
    throwsFault(() => modem.setDataRate(1.5), "param");
  });

  it("enables RUI3 auto sleep once (AT+LPM=1) and probes with AT before the next command", () => {
    const d = rakDevice();
    const { modem } = modemOn(d);
    modem.sleep();
    d.dropNext = 1; // the byte that wakes the module is lost
    modem.send(1, Uint8Array.of(1), 1, false);
    modem.sleep();
    modem.joined();
    assert.deepEqual(d.commands, ["AT+LPM=1", "(lost) AT", "AT", "AT+CFM=0", "AT+SEND=1:01", "AT", "AT+NJS=?"]);
  });

  it("refuses to work after close", () => {
    const { modem } = modemOn(rakDevice());
    modem.close();
    throwsFault(() => modem.joined(), "error");
  });
});
