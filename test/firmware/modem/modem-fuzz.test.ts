/**
 * Line soup: both drivers answer every command with random mixes of real reply
 * lines, error lines, downlinks (well- and ill-formed), `+INFO:` noise, empty
 * lines, printable and binary garbage, very long lines without a newline, and
 * lines cut short, at random gaps. Whatever happens, a driver may only throw a
 * ModemError, and a downlink it reports must be one that a complete, well-formed
 * downlink line on the wire actually carried (judged by an independent parse of
 * the bytes the device sent).
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import WioE5 from "../../../firmware/src/drivers/wio-e5.ts";
import Rak3172 from "../../../firmware/src/drivers/rak3172.ts";
import { ModemError, type LoRaModem, type SendResult } from "../../../firmware/src/drivers/lora-modem.ts";
import { boardWith, ScriptedModem, type Step } from "./scripted-modem.ts";
import { referenceLines } from "./reference-lines.ts";

const APPKEY = "2B7E151628AED2A6ABF7158809CF4F3C";

const hexText = fc.uint8Array({ maxLength: 12 }).map((a) => Array.from(a, (b) => b.toString(16).padStart(2, "0")).join(""));
const anyHex = fc.oneof(hexText, hexText.map((h) => h.toUpperCase()), hexText.map((h) => h.slice(1)), fc.string({ maxLength: 8 }));
const port = fc.oneof(fc.integer({ min: 0, max: 300 }), fc.constantFrom(1, 2, 223));

const wioLines = fc.oneof(
  fc.constantFrom(
    "+AT: OK", "+LOWPOWER: WAKEUP", "+LOWPOWER: SLEEP", "+PORT: 1", "+PORT: 2", "+MODE: LWOTAA", "+DR: EU868", "+ADR: ON",
    `+KEY: APPKEY ${APPKEY}`, "+DR: DR3", "+DR: EU868 DR3  SF9 BW125K", "+ID: DevEui, 2C:F7:F1:20:32:30:84:63", "+ID: AppEui, 80:00:00:00:00:00:00:06",
    "+JOIN: Start", "+JOIN: NORMAL", "+JOIN: Network joined", "+JOIN: NetID 000013 DevAddr 26:0B:12:34", "+JOIN: Join failed", "+JOIN: Done", "+JOIN: Joined already",
    "+MSGHEX: Start", "+MSGHEX: FPENDING", "+MSGHEX: Done", "+CMSGHEX: Start", "+CMSGHEX: Wait ACK", "+CMSGHEX: ACK Received", "+CMSGHEX: FPENDING", "+CMSGHEX: Done",
    "+MSGHEX: RXWIN1, RSSI -101, SNR -16.0", "+CMSGHEX: RXWIN2, RSSI -50, SNR 7.5",
  ),
  fc.tuple(fc.constantFrom("+MSGHEX", "+CMSGHEX", "+JOIN", "+PORT", "+DR", "+ID", "+KEY", "+MODE", "+ADR", "+LOWPOWER"), fc.constantFrom(
    "Please join network first", "Length error 11", "No free channel", "No band in 13469ms", "DR error", "LoRaWAN modem is busy", "Not in OTAA mode",
    "ERROR(-1)", "ERROR(-10)", "ERROR(-11)", "ERROR(-12)", "ERROR(-20)", "ERROR(-21)", "ERROR(-22)", "ERROR(-23)", "ERROR(-24)",
  )).map(([p, e]) => `${p}: ${e}`),
  fc.tuple(fc.constantFrom("+MSGHEX", "+CMSGHEX"), port, anyHex, fc.boolean()).map(([p, n, h, spaced]) => `${p}: PORT: ${n}; RX: "${spaced ? (h.match(/../g) ?? []).join(" ") : h}"`),
);

const rakLines = fc.oneof(
  fc.constantFrom(
    "OK", "AT_ERROR", "AT_PARAM_ERROR", "AT_BUSY_ERROR", "AT_TEST_PARAM_OVERFLOW", "AT_NO_CLASSB_ENABLE", "AT_NO_NETWORK_JOINED", "AT_RX_ERROR", "AT_DUTYCYCLE_RESTRICTED",
    "+EVT:JOINED", "+EVT:JOIN_FAILED_RX_TIMEOUT", "+EVT:JOIN FAILED", "+EVT:TX_DONE", "+EVT:SEND_CONFIRMED_OK", "+EVT: SEND CONFIRMED OK", "+EVT:SEND_CONFIRMED_FAILED(4)",
    "+EVT:SEND CONFIRMED FAILED", "AT+NJS=1", "AT+NJS=0", "0", "1", "AT+NWM=1", "AT+DR=3", "5", "AT+DEVEUI=ac1f09fffe000001", "AC1F09FFFE000001",
    "+EVT:RX_1, RSSI -52, SNR 9", "+EVT:UNICAST", "+EVT:MULTICAST", "Current Work Mode: LoRaWAN.",
  ),
  fc.tuple(fc.constantFrom("RX_1", "RX_2", "RX_B", "RX_C", "RX_3"), fc.integer({ min: -140, max: 0 }), fc.integer({ min: -25, max: 15 }), fc.constantFrom("UNICAST:", "MULTICAST:", ""), port, anyHex)
    .chain(([w, r, s, cast, n, h]) => fc.constantFrom("+EVT:", "+EVT: ").map((evt) => `${evt}${w}:${r}:${s}:${cast}${n}:${h}`)),
  fc.tuple(port, anyHex).map(([n, h]) => `+EVT:${n}:${h}`),
);

/** One reply to one command: pieces with gaps. */
function soup(modemLines: fc.Arbitrary<string>): fc.Arbitrary<Step[]> {
  const piece: fc.Arbitrary<Step> = fc.oneof(
    { weight: 6, arbitrary: modemLines.map((line) => ({ line })) },
    { weight: 1, arbitrary: fc.constantFrom("+INFO: Input timeout", "", "+INFO: junk").map((line) => ({ line })) },
    { weight: 1, arbitrary: fc.string({ maxLength: 30 }).map((line) => ({ line })) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 20 }).map((a) => ({ raw: Array.from(a) })) },
    { weight: 1, arbitrary: modemLines.chain((l) => fc.nat({ max: l.length }).map((n) => ({ raw: l.slice(0, n) }))) },
    { weight: 1, arbitrary: fc.integer({ min: 600, max: 1500 }).map((n) => ({ raw: "G".repeat(n) })) },
  );
  return fc.array(
    fc.tuple(piece, fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 600 }))).map(([p, gap]) => ({ ...p, afterMs: gap })),
    { maxLength: 14 },
  );
}

/** What the modem prints for `command` when all goes well (a downlink when `dl` is given). */
function happyReply(kind: "wio" | "rak", command: string, dl: [number, string] | null): string[] {
  if (kind === "wio") {
    const downlink = (p: string) => (dl ? [`+${p}: PORT: ${dl[0]}; RX: "${dl[1]}"`, `+${p}: RXWIN1, RSSI -99, SNR -3.5`] : []);
    let m: RegExpExecArray | null;
    if (command === "AT") return ["+AT: OK"];
    if (command === "AT+ID") return ["+ID: DevAddr, 32:30:84:63", "+ID: DevEui, 2C:F7:F1:20:32:30:84:63", "+ID: AppEui, 80:00:00:00:00:00:00:06"];
    if (command === "AT+DR") return ["+DR: DR3", "+DR: US915 DR3  SF7 BW125K"];
    if (command === "AT+JOIN") return ["+JOIN: Start", "+JOIN: NORMAL", "+JOIN: Network joined", "+JOIN: NetID 000013 DevAddr 26:0B:12:34", "+JOIN: Done"];
    if (command === "AT+LOWPOWER") return ["+LOWPOWER: SLEEP"];
    if ((m = /^AT\+KEY=APPKEY,(\w+)$/.exec(command))) return [`+KEY: APPKEY ${m[1]}`];
    if ((m = /^AT\+CH=(.*)$/.exec(command))) return [`+CH: ${m[1]}`];
    if ((m = /^AT\+DR=(\d+)$/.exec(command))) return [`+DR: DR${m[1]}`];
    if (/^AT\+MSGHEX/.test(command)) return ["+MSGHEX: Start", "+MSGHEX: FPENDING", ...downlink("MSGHEX"), "+MSGHEX: Done"];
    if (/^AT\+CMSGHEX/.test(command)) return ["+CMSGHEX: Start", "+CMSGHEX: Wait ACK", "+CMSGHEX: ACK Received", ...downlink("CMSGHEX"), "+CMSGHEX: Done"];
    if ((m = /^AT\+(\w+)=(.*)$/.exec(command))) return [`+${m[1]}: ${m[2]}`];
    return [];
  }
  let m: RegExpExecArray | null;
  if ((m = /^AT\+(\w+)=\?$/.exec(command))) {
    const values: { [k: string]: string } = { NWM: "1", NJS: "1", DR: "3", DEVEUI: "ac1f09fffe000001" };
    return [`AT+${m[1]}=${values[m[1]] ?? "0"}`, "OK"];
  }
  if (/^AT\+JOIN=/.test(command)) return ["OK", "+EVT:JOINED"];
  if (/^AT\+SEND=/.test(command)) return ["OK", ...(dl ? [`+EVT:RX_1:-80:5:UNICAST:${dl[0]}:${dl[1]}`] : []), "+EVT:TX_DONE", "+EVT:SEND_CONFIRMED_OK"];
  return ["OK"];
}

interface Plan {
  happy: boolean;
  noise: Step[];
  at: number[];
  downlink: [number, string] | null;
  radioMs: number;
}

function plans(kind: "wio" | "rak"): fc.Arbitrary<Plan[]> {
  const plan = fc.record({
    happy: fc.oneof({ weight: 5, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
    noise: fc.oneof(fc.constant<Step[]>([]), soup(kind === "wio" ? wioLines : rakLines)),
    at: fc.array(fc.nat(), { maxLength: 14 }),
    // Mostly well-formed downlinks, some with a bad port or bad hex in the right place.
    downlink: fc.option(fc.oneof(
      { weight: 3, arbitrary: fc.tuple(fc.integer({ min: 1, max: 223 }), hexText.filter((h) => h.length > 0)) },
      { weight: 1, arbitrary: fc.tuple(port, anyHex) },
    ), { nil: null }),
    radioMs: fc.integer({ min: 0, max: 1200 }),
  });
  return fc.array(plan, { minLength: 1, maxLength: 16 });
}

/** The reply to one command under one plan: the happy lines with the plan's noise spliced in, or noise alone. */
function reply(kind: "wio" | "rak", command: string, plan: Plan): Step[] {
  if (!plan.happy) return plan.noise;
  const happy: Step[] = happyReply(kind, command, plan.downlink).map((line, i) => ({ line, afterMs: i === 1 ? plan.radioMs : 0 }));
  const out = happy.slice();
  plan.noise.forEach((step, i) => out.splice((plan.at[i] ?? 0) % (out.length + 1), 0, step));
  return out;
}

/** Every byte the device put on the wire. */
function wireLog(device: ScriptedModem): number[] {
  const log: number[] = [];
  const deliver = device.link.deliver.bind(device.link);
  (device.link as { deliver: typeof deliver }).deliver = (bytes, atMs) => {
    log.push(...Array.from(bytes, (b) => b & 0xff));
    deliver(bytes, atMs);
  };
  return log;
}

/** (port, bytes) pairs carried by complete well-formed downlink lines, parsed independently of the drivers. */
function downlinksOnWire(wire: number[], kind: "wio" | "rak"): string[] {
  const found: string[] = [];
  for (const line of referenceLines(Uint8Array.from(wire)).lines) {
    const m = kind === "wio"
      ? /^\+C?MSGHEX: PORT: ?(\d+); ?RX: ?"((?:[0-9A-Fa-f]{2})(?: ?[0-9A-Fa-f]{2})*|)"$/.exec(line)
      : /^\+EVT: ?(?:RX_[12BC]:-?\d+:-?\d+(?:\.\d+)?:(?:UNICAST:)?)?(\d+):((?:[0-9A-Fa-f]{2})*)$/.exec(line);
    if (m) found.push(`${Number(m[1])}:${m[2].replace(/ /g, "").toUpperCase()}`);
  }
  return found;
}

type Op = "probe" | "devEui" | "configure" | "join" | "joined" | "send" | "sendConfirmed" | "dataRate" | "setDataRate" | "sleep";
const OPS: Op[] = ["probe", "devEui", "configure", "join", "joined", "send", "sendConfirmed", "dataRate", "setDataRate", "sleep"];

function run(modem: LoRaModem, op: Op): unknown {
  switch (op) {
    case "probe": return modem.probe();
    case "devEui": return modem.devEui();
    case "configure": return modem.configure({ region: "US915", appKey: APPKEY, adr: false, dataRate: 2 });
    case "join": return modem.join();
    case "joined": return modem.joined();
    case "send": return modem.send(2, Uint8Array.of(1, 2, 3), 3, false);
    case "sendConfirmed": return modem.send(2, Uint8Array.of(1, 2, 3), 3, true);
    case "dataRate": return modem.dataRate();
    case "setDataRate": return modem.setDataRate(3);
    case "sleep": return modem.sleep();
  }
}

for (const kind of ["wio", "rak"] as const) {
  describe(`firmware/drivers ${kind === "wio" ? "wio-e5" : "rak3172"} under line soup`, () => {
    it("property: throws only ModemError and never reports a downlink that no well-formed line carried", () => {
      const stats = { ok: 0, errors: 0, sends: 0, downlinks: 0 };
      fc.assert(
        fc.property(plans(kind), fc.array(fc.constantFrom(...OPS), { minLength: 1, maxLength: 4 }), (script, ops) => {
          const device = new ScriptedModem(kind === "wio" ? 9600 : 115200);
          let next = 0;
          device.on(/^.*$/, (m) => reply(kind, m[0], script[next++ % script.length]));
          const { io } = boardWith(device, device.baud);
          const wire = wireLog(device);
          const timeouts = { commandTimeoutMs: 400, joinTimeoutMs: 1500, sendTimeoutMs: 1500, confirmedTimeoutMs: 2500 };
          const modem: LoRaModem = kind === "wio"
            ? new WioE5({ modem: { io }, ...timeouts })
            : new Rak3172({ modem: { io }, ...timeouts, rxGraceMs: 100 });
          for (const op of ops) {
            let result: unknown;
            try {
              result = run(modem, op);
              stats.ok++;
            } catch (e) {
              assert.ok(e instanceof ModemError, `${op} threw ${String(e)}`);
              stats.errors++;
              continue;
            }
            if (op === "send" || op === "sendConfirmed") {
              const r = result as SendResult;
              assert.equal(r.acked, true);
              assert.equal(typeof r.pending, "boolean");
              stats.sends++;
              if (r.downlink) {
                stats.downlinks++;
                const got = `${r.downlink.port}:${Array.from(r.downlink.bytes, (b) => b.toString(16).padStart(2, "0")).join("").toUpperCase()}`;
                assert.ok(downlinksOnWire(wire, kind).includes(got), `reported ${got}, wire carried ${downlinksOnWire(wire, kind).join(", ") || "none"}`);
                assert.ok(Number.isInteger(r.downlink.rssi) && Number.isInteger(r.downlink.snr));
              }
            }
            if (op === "devEui") assert.match(result as string, /^[0-9A-F]{16}$/);
            if (op === "dataRate") assert.ok(Number.isInteger(result) && (result as number) >= 0 && (result as number) <= 15);
            if (op === "join" || op === "joined") assert.equal(typeof result, "boolean");
          }
        }),
        { numRuns: 1000 },
      );
      // The soup must not drown every operation: successes and downlinks have to be exercised too.
      assert.ok(stats.ok > 300 && stats.errors > 300, JSON.stringify(stats));
      assert.ok(stats.sends > 50 && stats.downlinks > 20, JSON.stringify(stats));
    });
  });
}
