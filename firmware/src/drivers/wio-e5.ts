/**
 * Seeed Wio-E5 / LoRa-E5 LoRaWAN modem on a UART (9600 8N1, lines end CR LF),
 * driven with Seeed's AT command set. Every reply line carries the command's
 * name as prefix (`+JOIN: …`, `+MSGHEX: …`); lines of other commands, `+INFO:`
 * noise and empty lines are ignored while a command runs.
 *
 * Sequences:
 *   probe      AT → +AT: OK (asleep: +LOWPOWER: WAKEUP, pause, AT again)
 *   devEui     AT+ID → +ID: DevAddr …, +ID: DevEui, 2C:F7:…, +ID: AppEui …
 *   configure  AT+MODE=LWOTAA, AT+DR=<region>, [US915/AU915: AT+CH=NUM,8-15],
 *              [AT+ID=DevEui,"…"], [AT+ID=AppEui,"…"], AT+KEY=APPKEY,<hex>,
 *              AT+ADR=ON|OFF, [ADR off: AT+DR=<n>]; each reply echoes the value
 *   join       AT+JOIN → Start, NORMAL, Network joined, NetID … DevAddr …, Done
 *              (or Join failed, Done; or Joined already)
 *   send       [AT+PORT=<n> when the port changes] then AT+MSGHEX="<hex>" or
 *              AT+CMSGHEX="<hex>" → Start, [FPENDING], [Wait ACK], [ACK Received],
 *              [PORT: <n>; RX: "<hex>"], [RXWIN1, RSSI <dBm>, SNR <dB>], Done
 *   sleep      AT+LOWPOWER → +LOWPOWER: SLEEP; the next operation wakes it first
 *
 * Error lines (after the command's prefix) → fault:
 *   Please join network first → not-joined     LoRaWAN modem is busy → busy
 *   No free channel, No band in <n>ms → no-channel   DR error → dr
 *   Length error [<max>] → length               Not in OTAA mode → error
 *   ERROR(-1) invalid parameter, ERROR(-11) wrong format, ERROR(-20) too many
 *   parameters → param; ERROR(-21) command too long → length; ERROR(-10)
 *   unknown command, ERROR(-12) unavailable in this mode, ERROR(-22) no end of
 *   line, ERROR(-23) bad character, ERROR(-24), any other code → error.
 *   A confirmed uplink that ends in Done without ACK Received → nack.
 *
 * The modem has no command that reports whether it holds a session without
 * starting a join, so `joined()` is what the driver has seen: true after a
 * join succeeded (or the `joined` option says so after a deep sleep of the
 * MCU), false after a failed join, after `configure()`, and after a send was
 * refused with "Please join network first".
 */
import Timer from "timer";
import {
  AtCommandWriter, AtLineReader, compactHex, openModemSerial, parseHexBytes, roundDecimal,
  type ModemSerialBag, type SerialInstance,
} from "./at-line-reader.ts";
import { ModemError, checkRegion, checkHex, checkDataRate } from "./lora-modem.ts";
import type { LoRaModem, ModemDownlink, ModemFault, ModemSettings, SendResult } from "./lora-modem.ts";

/** Constructor options. Timeouts are in ms and sized for the real modem at SF12. */
export interface WioE5Options {
  /** The UART: serial class and pins (baud default 9600). */
  modem: ModemSerialBag;
  /** Reply to an ordinary command (default 2000). */
  commandTimeoutMs?: number;
  /** Whole join: request, JOIN_ACCEPT_DELAY2 (6 s), the RX2 window and margin (default 20000). */
  joinTimeoutMs?: number;
  /** Whole unconfirmed uplink up to Done: airtime, RX1/RX2 and a downlink (default 15000). */
  sendTimeoutMs?: number;
  /** Whole confirmed uplink including the modem's retransmissions (default 60000). */
  confirmedTimeoutMs?: number;
  /** Channels enabled in US915/AU915 (`AT+CH=NUM,<channels>`), default "8-15" (sub-band 2, as The Things Network uses). */
  channels?: string;
  /** The modem still holds a session from before the MCU slept (the modem keeps it while powered). */
  joined?: boolean;
  /** The modem was left in low-power mode before the MCU slept (the next command wakes it first). */
  asleep?: boolean;
  /** `waitFor` poll period (default 10). */
  pollMs?: number;
  /** Longest reply line kept (default 600). */
  maxLineLength?: number;
}

// After "+LOWPOWER: WAKEUP" the modem needs a moment before it takes a command (Seeed spec, LOWPOWER).
const WAKE_SETTLE_MS = 10;
const WAKE_REPLY_MS = 500;
const WAKE_ATTEMPTS = 3;
/** How long to wait for the trailing lines of a reply whose answer came early (e.g. `+JOIN: Done`). */
const TRAIL_MS = 500;
const MAX_PAYLOAD = 242;

/** Fault for an error text printed after a command's prefix, or undefined if the text is not an error. */
export function wioE5Fault(rest: string): ModemFault | undefined {
  const error = /^ERROR\((-?\d{1,4})\)$/.exec(rest);
  if (error) {
    switch (Number.parseInt(error[1], 10)) {
      case -1:
      case -11:
      case -20:
        return "param";
      case -21:
        return "length";
      default:
        return "error";
    }
  }
  if (rest.startsWith("Please join network first")) return "not-joined";
  if (rest.startsWith("LoRaWAN modem is busy")) return "busy";
  if (rest.startsWith("No free channel") || rest.startsWith("No band")) return "no-channel";
  if (rest.startsWith("DR error")) return "dr";
  if (rest.startsWith("Length error")) return "length";
  if (rest.startsWith("Not in OTAA mode")) return "error";
  return undefined;
}

/** Seeed Wio-E5 driver. */
export default class WioE5 implements LoRaModem {
  readonly model = "wio-e5";
  readonly #io: SerialInstance;
  readonly #reader: AtLineReader;
  readonly #writer: AtCommandWriter;
  readonly #commandMs: number;
  readonly #joinMs: number;
  readonly #sendMs: number;
  readonly #confirmedMs: number;
  readonly #channels: string;
  #joined: boolean;
  #asleep = false;
  #closed = false;
  /** Port last set with AT+PORT (-1: unknown). */
  #port = -1;

  constructor(options: WioE5Options) {
    this.#io = openModemSerial(options.modem, 9600);
    this.#reader = new AtLineReader(this.#io, { maxLineLength: options.maxLineLength, pollMs: options.pollMs });
    this.#writer = new AtCommandWriter(this.#io, options.modem.baud ?? 9600);
    this.#commandMs = options.commandTimeoutMs ?? 2000;
    this.#joinMs = options.joinTimeoutMs ?? 20000;
    this.#sendMs = options.sendTimeoutMs ?? 15000;
    this.#confirmedMs = options.confirmedTimeoutMs ?? 60000;
    this.#channels = options.channels ?? "8-15";
    this.#joined = options.joined ?? false;
    this.#asleep = options.asleep ?? false;
  }

  get asleep(): boolean {
    return this.#asleep;
  }

  /** The line reader, for its overflow and corruption counters. */
  get reader(): AtLineReader {
    return this.#reader;
  }

  probe(): void {
    this.#open();
    this.#wake();
  }

  devEui(): string {
    this.#ready();
    this.#start("AT+ID");
    const eui = this.#transact((line) => {
      const rest = own(line, "+ID:");
      if (rest === undefined) return undefined;
      this.#throwOnError(rest, "AT+ID");
      if (!/^DevEui,/i.test(rest)) return undefined;
      const hex = compactHex(rest.slice(7));
      return /^[0-9A-F]{16}$/.test(hex) ? hex : undefined;
    }, this.#commandMs, "AT+ID");
    // The AppEui line follows; take it now so it does not trail into the next command.
    this.#reader.waitFor((line) => /^\+ID: AppEui/i.test(line), TRAIL_MS);
    return eui;
  }

  configure(settings: ModemSettings): void {
    const region = checkRegion(settings.region);
    const appKey = checkHex(settings.appKey, 32, "appKey");
    const devEui = settings.devEui === undefined ? undefined : checkHex(settings.devEui, 16, "devEui");
    const joinEui = settings.joinEui === undefined ? undefined : checkHex(settings.joinEui, 16, "joinEui");
    if (!settings.adr) checkDataRate(settings.dataRate);
    this.#ready();
    this.#joined = false;
    this.#port = -1;
    this.#command("AT+MODE=LWOTAA", (rest) => rest === "LWOTAA");
    this.#command(`AT+DR=${region}`, (rest) => rest === region);
    if (region === "US915" || region === "AU915") {
      // The spec's reply is "+CH: NUM, 8-15"; any other +CH: line that is not an error also means it took the mask.
      this.#command(`AT+CH=NUM,${this.#channels}`, () => true);
    }
    if (devEui !== undefined) this.#command(`AT+ID=DevEui,"${devEui}"`, idEcho("DevEui", devEui));
    if (joinEui !== undefined) this.#command(`AT+ID=AppEui,"${joinEui}"`, idEcho("AppEui", joinEui));
    this.#command(`AT+KEY=APPKEY,${appKey}`, (rest) => {
      if (!rest.startsWith("APPKEY")) return false;
      if (compactHex(rest.slice(6)) !== appKey) throw new ModemError("error", "AT+KEY: modem echoed a different AppKey");
      return true;
    }, "AT+KEY=APPKEY");
    const adr = settings.adr ? "ON" : "OFF";
    this.#command(`AT+ADR=${adr}`, (rest) => rest === adr);
    if (!settings.adr) this.#setDataRate(settings.dataRate);
  }

  join(): boolean {
    this.#ready();
    this.#start("AT+JOIN");
    let accepted = false;
    let done = false;
    const joined = this.#transact((line) => {
      const rest = own(line, "+JOIN:");
      if (rest === undefined) return undefined;
      if (rest === "Joined already") return true;
      if (rest === "Network joined") accepted = true;
      else if (rest.startsWith("Join failed")) return false;
      else if (rest === "Done") {
        done = true;
        return accepted;
      } else this.#throwOnError(rest, "AT+JOIN");
      return undefined;
    }, this.#joinMs, "AT+JOIN");
    // "Join failed" is followed by "Done"; take it so it does not trail into the next command.
    if (!joined && !done) this.#reader.waitFor((line) => line === "+JOIN: Done", TRAIL_MS);
    this.#joined = joined;
    return joined;
  }

  joined(): boolean {
    return this.#joined;
  }

  send(port: number, bytes: Uint8Array, length: number, confirmed: boolean, quietMs = 0): SendResult {
    if (!(Number.isInteger(port) && port >= 1 && port <= 223)) throw new ModemError("param", `port ${port} outside 1..223`);
    if (!(Number.isInteger(length) && length >= 0 && length <= bytes.length)) throw new ModemError("param", `length ${length} invalid`);
    if (length > MAX_PAYLOAD) throw new ModemError("length", `${length} bytes exceed ${MAX_PAYLOAD}`);
    this.#ready();
    if (port !== this.#port) {
      this.#port = -1;
      this.#command(`AT+PORT=${port}`, (rest) => rest === String(port));
      this.#port = port;
    }
    const name = confirmed ? "CMSGHEX" : "MSGHEX";
    const prefix = `+${name}:`;
    this.#reader.discardInput();
    if (length === 0) this.#writer.begin(`AT+${name}`).send();
    else this.#writer.begin(`AT+${name}="`).hex(bytes, length).text('"').send();
    let started = false;
    let acked = false;
    let pending = false;
    let downlink: { port: number; bytes: Uint8Array } | undefined;
    let rssi = 0;
    let snr = 0;
    let quiet = quietMs > 0;
    const handler = (line: string): boolean | undefined => {
      const rest = own(line, prefix);
      if (rest === undefined) return undefined;
      const fault = wioE5Fault(rest);
      if (fault !== undefined) {
        if (fault === "not-joined") this.#joined = false;
        throw new ModemError(fault, `AT+${name}: ${rest}`);
      }
      // Progress lines only count after "Start", so a stale reply cannot finish this uplink.
      if (rest.startsWith("Start")) {
        started = true;
        // The modem took the uplink: nothing more comes before its time on air and RX1 delay are over.
        if (quiet) return false;
      } else if (!started) return undefined;
      else if (rest === "Done") return true;
      else if (rest === "FPENDING") pending = true;
      else if (rest === "ACK Received") acked = true;
      else if (rest.startsWith("PORT:")) downlink = parseDownlink(rest) ?? downlink;
      else if (rest.startsWith("RXWIN")) {
        const m = /^RXWIN\w, RSSI (-?\d{1,3}), SNR (\S+)$/.exec(rest);
        const s = m ? roundDecimal(m[2]) : undefined;
        if (m && s !== undefined) {
          rssi = Number.parseInt(m[1], 10);
          snr = s;
        }
      }
      return undefined;
    };
    const timeoutMs = confirmed ? this.#confirmedMs : this.#sendMs;
    if (!this.#transact(handler, timeoutMs, `AT+${name}`)) {
      quiet = false;
      Timer.delay(quietMs);
      this.#transact(handler, Math.max(1, timeoutMs - quietMs), `AT+${name}`);
    }
    if (confirmed && !acked) throw new ModemError("nack", "confirmed uplink not acknowledged");
    this.#joined = true;
    const result: SendResult = { acked: true, pending };
    if (downlink !== undefined) {
      const dl: ModemDownlink = { port: downlink.port, bytes: downlink.bytes, rssi, snr };
      result.downlink = dl;
    }
    return result;
  }

  dataRate(): number {
    this.#ready();
    this.#start("AT+DR");
    let longForm = false;
    const dr = this.#transact((line) => {
      const rest = own(line, "+DR:");
      if (rest === undefined) return undefined;
      this.#throwOnError(rest, "AT+DR");
      // "+DR: DR0" and/or "+DR: EU868 DR0  SF12 BW125K".
      const m = /^(?:([A-Z]{2}\d{3}\S*) +)?DR(\d{1,2})\b/.exec(rest);
      if (!m) return undefined;
      longForm = m[1] !== undefined;
      return Number.parseInt(m[2], 10);
    }, this.#commandMs, "AT+DR");
    if (!longForm) this.#reader.waitFor((line) => /^\+DR: [A-Z]{2}\d{3}\S* +DR\d/.test(line), TRAIL_MS);
    return dr;
  }

  setDataRate(dr: number): void {
    checkDataRate(dr);
    this.#ready();
    this.#setDataRate(dr);
  }

  sleep(): void {
    if (this.#asleep) return;
    this.#ready();
    this.#command("AT+LOWPOWER", (rest) => rest === "SLEEP");
    this.#asleep = true;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#io.close();
  }

  #setDataRate(dr: number): void {
    this.#command(`AT+DR=${dr}`, (rest) => rest === `DR${dr}`);
  }

  #open(): void {
    if (this.#closed) throw new ModemError("error", "modem closed");
  }

  #ready(): void {
    this.#open();
    if (this.#asleep) this.#wake();
  }

  /** Sends AT until the modem answers; a sleeping modem answers the first byte with WAKEUP and swallows the line. */
  #wake(): void {
    for (let attempt = 0; attempt < WAKE_ATTEMPTS; attempt++) {
      this.#start("AT");
      const line = this.#reader.waitFor((l) => l === "+AT: OK" || l === "+LOWPOWER: WAKEUP", WAKE_REPLY_MS);
      if (line === "+AT: OK") {
        this.#asleep = false;
        return;
      }
      if (line !== undefined) Timer.delay(WAKE_SETTLE_MS);
    }
    throw new ModemError("timeout", "Wio-E5 does not answer AT");
  }

  /** Discards stale input and transmits one command. */
  #start(command: string): void {
    this.#reader.discardInput();
    this.#writer.begin(command).send();
  }

  /** Sends `command` and waits for its reply line that `expect` accepts; error replies throw. */
  #command(command: string, expect: (rest: string) => boolean, label = command): void {
    const prefix = `+${/^AT\+([A-Z]+)/.exec(command)![1]}:`;
    this.#start(command);
    this.#transact((line) => {
      const rest = own(line, prefix);
      if (rest === undefined) return undefined;
      this.#throwOnError(rest, label);
      return expect(rest) ? true : undefined;
    }, this.#commandMs, label);
  }

  #throwOnError(rest: string, label: string): void {
    const fault = wioE5Fault(rest);
    if (fault !== undefined) throw new ModemError(fault, `${label}: ${rest}`);
  }

  /** Feeds lines to `handler` until it returns a value; throws ModemError("timeout") when none comes in time. */
  #transact<T>(handler: (line: string) => T | undefined, timeoutMs: number, label: string): T {
    let result: T | undefined;
    const line = this.#reader.waitFor((l) => {
      result = handler(l);
      return result !== undefined;
    }, timeoutMs);
    if (line === undefined) throw new ModemError("timeout", `${label}: no reply in ${timeoutMs} ms`);
    return result as T;
  }
}

/** The text after `prefix` (trimmed) if `line` belongs to that command; bare `ERROR(n)` lines belong to every command. */
function own(line: string, prefix: string): string | undefined {
  if (line.startsWith(prefix)) return line.slice(prefix.length).trim();
  if (line.startsWith("ERROR(")) return line.trim();
  return undefined;
}

/** Checks the echo of AT+ID=<name>,"<hex>": `<name>, xx:xx:…`. */
function idEcho(name: string, hex: string): (rest: string) => boolean {
  return (rest) => {
    if (rest.slice(0, name.length + 1).toLowerCase() !== `${name.toLowerCase()},`) return false;
    if (compactHex(rest.slice(name.length + 1)) !== hex) throw new ModemError("error", `AT+ID: modem echoed a different ${name}`);
    return true;
  };
}

/** Parses `PORT: <n>; RX: "<hex>"`; undefined when anything about it is off. */
function parseDownlink(rest: string): { port: number; bytes: Uint8Array } | undefined {
  const m = /^PORT: ?(\d{1,3}); ?RX: ?"([0-9A-Fa-f ]*)"$/.exec(rest);
  if (!m) return undefined;
  const port = Number.parseInt(m[1], 10);
  if (port < 1 || port > 255) return undefined;
  const start = rest.indexOf('"') + 1;
  const bytes = parseHexBytes(rest, start, start + m[2].length, true, MAX_PAYLOAD);
  return bytes === undefined ? undefined : { port, bytes };
}
