/**
 * RAKwireless RAK3172 LoRaWAN modem with RUI3 firmware on a UART (115200 8N1),
 * driven with RUI3's AT command set. `AT+X=?` reads a value (RUI3 4.x prints
 * `AT+X=<value>`, 3.x the bare value), `AT+X=<v>` writes it; every command ends
 * in one status line. Radio outcomes arrive later as `+EVT:` lines.
 *
 * Sequences:
 *   probe      AT → OK (retried: the first byte may only wake the module)
 *   devEui     AT+DEVEUI=? → [AT+DEVEUI=]<16 hex>, OK
 *   configure  AT+NWM=? (and AT+NWM=1 plus a reboot wait if not LoRaWAN), AT+NJM=1,
 *              AT+BAND=<4 EU868 | 5 US915 | 6 AU915 | 8 AS923-1>,
 *              [US915/AU915: AT+MASK=0002], [AT+DEVEUI=<hex>], [AT+APPEUI=<hex>],
 *              AT+APPKEY=<hex>, AT+ADR=0|1, [ADR off: AT+DR=<n>], AT+CFM=0; each → OK
 *   join       AT+JOIN=1:0:<interval s>:<retries> → OK, then +EVT:JOINED or
 *              +EVT:JOIN_FAILED_RX_TIMEOUT / +EVT:JOIN FAILED (one per attempt); RUI3
 *              counts the last field as retries after the first request
 *              (service_lora.c: it re-joins while ++retry_cnt <= it), so
 *              `joinAttempts` n is sent as n − 1
 *   joined     AT+NJS=? → [AT+NJS=]0|1, OK
 *   send       [AT+CFM=0|1 when it changes] then AT+SEND=<port>:<hex> → OK, then
 *              unconfirmed: +EVT:TX_DONE; confirmed: +EVT:SEND_CONFIRMED_OK or
 *              +EVT:SEND_CONFIRMED_FAILED(<n>); a downlink as
 *              +EVT:RX_1|RX_2|RX_B|RX_C:<rssi>:<snr>:UNICAST:<port>:<hex> before or just after
 *              (pre-RUI3 firmware: +EVT:RX_1, RSSI <r>, SNR <s> / +EVT:UNICAST / +EVT:<port>:<hex>)
 *   sleep      AT+LPM=1 → OK once: RUI3 then sleeps by itself whenever idle and wakes on UART input
 *   data rate  AT+DR=? / AT+DR=<n>
 * Events are matched with spaces read as underscores, so `+EVT: SEND CONFIRMED OK` counts.
 *
 * Status lines → fault: AT_PARAM_ERROR → param (length for AT+SEND, see below),
 * AT_BUSY_ERROR → busy, AT_NO_NETWORK_JOINED → not-joined, AT_TEST_PARAM_OVERFLOW
 * → length, AT_DUTYCYCLE_RESTRICTED (and the old firmware's AT_DUTYCYLE_RESTRICTED)
 * → no-channel, AT_ERROR, AT_RX_ERROR, AT_NO_CLASSB_ENABLE, AT_COMMAND_NOT_FOUND →
 * error. The driver checks port and hex itself, so AT_PARAM_ERROR to AT+SEND means
 * the payload does not fit the current data rate → length. SEND_CONFIRMED_FAILED → nack.
 * RUI3 does not print FPending, so `pending` is always false.
 */
import Timer from "timer";
import {
  AtCommandWriter, AtLineReader, openModemSerial, parseHexBytes, roundDecimal,
  type ModemSerialBag, type SerialInstance,
} from "./at-line-reader.ts";
import { ModemError, checkRegion, checkHex, checkDataRate } from "./lora-modem.ts";
import type { LoRaModem, ModemDownlink, ModemFault, ModemSettings, Region, SendResult } from "./lora-modem.ts";

/** Constructor options. Timeouts are in ms and sized for the real modem at SF12. */
export interface Rak3172Options {
  /** The UART: serial class and pins (baud default 115200). */
  modem: ModemSerialBag;
  /** Status line of an ordinary command (default 2000). */
  commandTimeoutMs?: number;
  /** One join attempt: request, JOIN_ACCEPT_DELAY2 (6 s), RX2 and margin (default 15000). */
  joinTimeoutMs?: number;
  /** Seconds between join attempts inside one AT+JOIN (7..255, default 10). */
  joinIntervalS?: number;
  /** Join requests per `join()` (default 1, so the link's back-off decides the rest). */
  joinAttempts?: number;
  /** Whole unconfirmed uplink (default 15000). */
  sendTimeoutMs?: number;
  /** Whole confirmed uplink including retransmissions (default 60000). */
  confirmedTimeoutMs?: number;
  /** How long to keep listening for a downlink line printed just after the final event (default 200). */
  rxGraceMs?: number;
  /** AT+MASK value for US915/AU915 (4 hex digits, a bit per sub-band; default "0002": sub-band 2, as TTN uses). */
  subBandMask?: string;
  /** How long the module may take to reboot after AT+NWM changes the work mode (default 5000). */
  bootTimeoutMs?: number;
  /**
   * `waitFor` poll period (default RAK3172_POLL_MS). Moddable's ESP32 serial reads the UART's 128-byte FIFO with
   * no driver buffer behind it (serial.c), and 115200 baud fills it in 11 ms: a 10 ms poll plus the wake's own
   * work between polls would overflow it during a long downlink line, which would then be dropped as corrupt.
   */
  pollMs?: number;
  /** Longest reply line kept (default 600). */
  maxLineLength?: number;
  /** The module was left in low-power mode (AT+LPM=1) before the MCU slept. */
  asleep?: boolean;
}

const BANDS: { readonly [R in Region]: number } = { EU868: 4, US915: 5, AU915: 6, AS923: 8 };
/** Poll period while waiting for the module, ms: a fifth of the time 115200 baud takes to fill the UART FIFO. */
export const RAK3172_POLL_MS = 2;
const WAKE_REPLY_MS = 300;
const WAKE_ATTEMPTS = 3;
const MAX_PAYLOAD = 242;

/** Fault for a RUI3 status line, or undefined if the line is not an error status. */
export function rak3172Fault(line: string): ModemFault | undefined {
  // RUI3 (service_lora.c) logs the duty cycle's wait before answering AT_BUSY_ERROR: the line that names the cause.
  if (line.startsWith("Restricted_Wait_") && /^Restricted_Wait_\d+_ms$/.test(line)) return "no-channel";
  switch (line) {
    case "AT_PARAM_ERROR":
      return "param";
    case "AT_BUSY_ERROR":
      return "busy";
    case "AT_NO_NETWORK_JOINED":
      return "not-joined";
    case "AT_TEST_PARAM_OVERFLOW":
      return "length";
    case "AT_DUTYCYCLE_RESTRICTED":
    case "AT_DUTYCYLE_RESTRICTED":
      return "no-channel";
    case "AT_ERROR":
    case "AT_UNSUPPORTED_BAND":
    case "AT_MODE_NO_SUPPORT":
    case "AT_RX_ERROR":
    case "AT_NO_CLASSB_ENABLE":
    case "AT_COMMAND_NOT_FOUND":
      return "error";
    default:
      return undefined;
  }
}

/** An `+EVT:` line's name with spaces as underscores, upper case (`SEND_CONFIRMED_OK`); undefined for other lines. */
function eventName(line: string): string | undefined {
  if (!line.startsWith("+EVT:")) return undefined;
  return line.slice(5).trim().replace(/ +/g, "_").toUpperCase();
}

/** Parses a RUI3 downlink line `+EVT:RX_<w>:<rssi>:<snr>:UNICAST:<port>:<hex>` (a space after `+EVT:` tolerated); undefined for anything else. */
function parseRx(line: string): ModemDownlink | undefined {
  const m = /^\+EVT: ?RX_[12BC]:(-?\d{1,3}):(-?\d{1,3}(?:\.\d{1,2})?):(?:UNICAST:)?(\d{1,3}):([0-9A-Fa-f]*)$/.exec(line);
  if (!m) return undefined;
  const port = Number.parseInt(m[3], 10);
  if (port < 1 || port > 255) return undefined;
  const start = line.length - m[4].length;
  const bytes = parseHexBytes(line, start, line.length, false, MAX_PAYLOAD);
  if (bytes === undefined) return undefined;
  return { port, bytes, rssi: Number.parseInt(m[1], 10), snr: roundDecimal(m[2]) as number } // the pattern above admits only what roundDecimal parses;
}

/** RAK3172 (RUI3) driver. */
export default class Rak3172 implements LoRaModem {
  readonly model = "rak3172";
  readonly #io: SerialInstance;
  readonly #reader: AtLineReader;
  readonly #writer: AtCommandWriter;
  readonly #commandMs: number;
  readonly #joinMs: number;
  readonly #joinIntervalS: number;
  readonly #joinAttempts: number;
  readonly #sendMs: number;
  readonly #confirmedMs: number;
  readonly #rxGraceMs: number;
  readonly #mask: string;
  readonly #bootMs: number;
  #asleep = false;
  #closed = false;
  #lowPower = false;
  /** Last AT+CFM value written (-1: unknown). */
  #cfm = -1;

  constructor(options: Rak3172Options) {
    this.#io = openModemSerial(options.modem, 115200);
    this.#reader = new AtLineReader(this.#io, { maxLineLength: options.maxLineLength, pollMs: options.pollMs ?? RAK3172_POLL_MS });
    this.#writer = new AtCommandWriter(this.#io, options.modem.baud ?? 115200);
    this.#commandMs = options.commandTimeoutMs ?? 2000;
    this.#joinMs = options.joinTimeoutMs ?? 15000;
    this.#joinIntervalS = options.joinIntervalS ?? 10;
    this.#joinAttempts = options.joinAttempts ?? 1;
    this.#sendMs = options.sendTimeoutMs ?? 15000;
    this.#confirmedMs = options.confirmedTimeoutMs ?? 60000;
    this.#rxGraceMs = options.rxGraceMs ?? 200;
    this.#mask = options.subBandMask ?? "0002";
    this.#bootMs = options.bootTimeoutMs ?? 5000;
    this.#asleep = this.#lowPower = options.asleep ?? false;
    if (!(Number.isInteger(this.#joinIntervalS) && this.#joinIntervalS >= 7 && this.#joinIntervalS <= 255)) {
      throw new ModemError("param", "joinIntervalS outside 7..255");
    }
    if (!(Number.isInteger(this.#joinAttempts) && this.#joinAttempts >= 1 && this.#joinAttempts <= 255)) {
      throw new ModemError("param", "joinAttempts outside 1..255");
    }
    if (!/^[0-9A-Fa-f]{4}$/.test(this.#mask)) throw new ModemError("param", "subBandMask must be 4 hex digits");
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
    this.#wake(WAKE_ATTEMPTS, WAKE_REPLY_MS);
  }

  devEui(): string {
    this.#ready();
    return this.#query("DEVEUI", /^[0-9A-Fa-f]{16}$/).toUpperCase();
  }

  configure(settings: ModemSettings): void {
    const band = BANDS[checkRegion(settings.region)];
    const appKey = checkHex(settings.appKey, 32, "appKey");
    const devEui = settings.devEui === undefined ? undefined : checkHex(settings.devEui, 16, "devEui");
    const joinEui = settings.joinEui === undefined ? undefined : checkHex(settings.joinEui, 16, "joinEui");
    if (!settings.adr) checkDataRate(settings.dataRate);
    this.#ready();
    if (this.#query("NWM", /^\d$/) !== "1") {
      // Changing the work mode reboots the module: wait until it answers again.
      this.#command("AT+NWM=1");
      this.#wake(Math.max(1, Math.ceil(this.#bootMs / WAKE_REPLY_MS)), WAKE_REPLY_MS);
    }
    this.#command("AT+NJM=1");
    this.#command(`AT+BAND=${band}`);
    if (band === BANDS.US915 || band === BANDS.AU915) this.#command(`AT+MASK=${this.#mask}`);
    if (devEui !== undefined) this.#command(`AT+DEVEUI=${devEui}`);
    if (joinEui !== undefined) this.#command(`AT+APPEUI=${joinEui}`);
    this.#command(`AT+APPKEY=${appKey}`, this.#commandMs, "AT+APPKEY");
    this.#command(`AT+ADR=${settings.adr ? 1 : 0}`);
    if (!settings.adr) this.#command(`AT+DR=${settings.dataRate}`);
    this.#cfm = -1;
    this.#command("AT+CFM=0");
    this.#cfm = 0;
  }

  join(): boolean {
    this.#ready();
    const attempts = this.#joinAttempts;
    this.#command(`AT+JOIN=1:0:${this.#joinIntervalS}:${attempts - 1}`);
    let failures = 0;
    return this.#transact((line) => {
      const event = eventName(line);
      if (event === undefined) return undefined;
      if (event === "JOINED") return true;
      if (event.startsWith("JOIN_FAILED") && ++failures >= attempts) return false;
      return undefined;
    }, attempts * this.#joinMs + (attempts - 1) * this.#joinIntervalS * 1000, "AT+JOIN");
  }

  joined(): boolean {
    this.#ready();
    return this.#query("NJS", /^[01]$/) === "1";
  }

  send(port: number, bytes: Uint8Array, length: number, confirmed: boolean, quietMs = 0): SendResult {
    if (!(Number.isInteger(port) && port >= 1 && port <= 223)) throw new ModemError("param", `port ${port} outside 1..223`);
    if (!(Number.isInteger(length) && length >= 1 && length <= bytes.length)) throw new ModemError("param", `length ${length} invalid`);
    if (length > MAX_PAYLOAD) throw new ModemError("length", `${length} bytes exceed ${MAX_PAYLOAD}`);
    this.#ready();
    const cfm = confirmed ? 1 : 0;
    if (this.#cfm !== cfm) {
      this.#cfm = -1;
      this.#command(`AT+CFM=${cfm}`);
      this.#cfm = cfm;
    }
    this.#reader.discardInput();
    this.#writer.begin(`AT+SEND=${port}:`).hex(bytes, length).send();
    this.#transact((line) => {
      if (line === "OK") return true;
      const fault = rak3172Fault(line);
      if (fault === "param") throw new ModemError("length", `AT+SEND: ${line} (payload too long for the data rate)`);
      if (fault !== undefined) throw new ModemError(fault, `AT+SEND: ${line}`);
      return undefined;
    }, this.#commandMs, "AT+SEND");
    // OK means the modem took the uplink: nothing more comes before its time on air and RX1 delay are over.
    if (quietMs > 0) Timer.delay(quietMs);
    let downlink: ModemDownlink | undefined;
    // Pre-RUI3 firmware splits a downlink over three lines; this holds the first one's metrics.
    let split: { rssi: number; snr: number } | undefined;
    const outcome = this.#transact((line) => {
      const rx = parseRx(line);
      if (rx !== undefined) {
        downlink = rx;
        return undefined;
      }
      const event = eventName(line);
      if (event === undefined) return undefined;
      const old = /^RX_[12BC],_RSSI_(-?\d{1,3}),_SNR_(-?\d{1,3})$/.exec(event);
      if (old) split = { rssi: Number.parseInt(old[1], 10), snr: Number.parseInt(old[2], 10) };
      else if (event === "MULTICAST") split = undefined;
      else if (split !== undefined && /^\d{1,3}:[0-9A-F]*$/.test(event)) {
        const colon = event.indexOf(":");
        const p = Number.parseInt(event.slice(0, colon), 10);
        const b = parseHexBytes(event, colon + 1, event.length, false, MAX_PAYLOAD);
        if (p >= 1 && p <= 255 && b !== undefined) downlink = { port: p, bytes: b, rssi: split.rssi, snr: split.snr };
        split = undefined;
      } else if (confirmed ? event === "SEND_CONFIRMED_OK" : event === "TX_DONE") return "done";
      else if (event.startsWith("SEND_CONFIRMED_FAILED")) return "nack";
      return undefined;
    }, Math.max(1, (confirmed ? this.#confirmedMs : this.#sendMs) - quietMs), "AT+SEND");
    if (outcome === "nack") throw new ModemError("nack", "confirmed uplink not acknowledged");
    if (downlink === undefined && this.#rxGraceMs > 0) {
      this.#reader.waitFor((line) => {
        downlink = parseRx(line);
        return downlink !== undefined;
      }, this.#rxGraceMs);
    }
    const result: SendResult = { acked: true, pending: false };
    if (downlink !== undefined) result.downlink = downlink;
    return result;
  }

  dataRate(): number {
    this.#ready();
    return Number.parseInt(this.#query("DR", /^\d{1,2}$/), 10);
  }

  setDataRate(dr: number): void {
    checkDataRate(dr);
    this.#ready();
    this.#command(`AT+DR=${dr}`);
  }

  sleep(): void {
    if (this.#asleep) return;
    this.#ready();
    if (!this.#lowPower) {
      this.#command("AT+LPM=1");
      this.#lowPower = true;
    }
    this.#asleep = true;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#io.close();
  }

  #open(): void {
    if (this.#closed) throw new ModemError("error", "modem closed");
  }

  #ready(): void {
    this.#open();
    if (this.#asleep) this.#wake(WAKE_ATTEMPTS, WAKE_REPLY_MS);
  }

  /** Sends AT until OK: in low-power mode the first bytes may only wake the module. */
  #wake(attempts: number, replyMs: number): void {
    for (let attempt = 0; attempt < attempts; attempt++) {
      this.#start("AT");
      if (this.#reader.waitFor((line) => line === "OK", replyMs) !== undefined) {
        this.#asleep = false;
        return;
      }
    }
    throw new ModemError("timeout", "RAK3172 does not answer AT");
  }

  #start(command: string): void {
    this.#reader.discardInput();
    this.#writer.begin(command).send();
  }

  /** Sends `command` and waits for OK; an error status throws. */
  #command(command: string, timeoutMs = this.#commandMs, label = command): void {
    this.#start(command);
    this.#transact((line) => {
      if (line === "OK") return true;
      const fault = rak3172Fault(line);
      if (fault !== undefined) throw new ModemError(fault, `${label}: ${line}`);
      return undefined;
    }, timeoutMs, label);
  }

  /** Reads `AT+<name>=?`: the value line (with or without the `AT+<name>=` echo) that `valid` accepts, then OK. */
  #query(name: string, valid: RegExp): string {
    const label = `AT+${name}=?`;
    const echo = `AT+${name}=`;
    this.#start(label);
    let value: string | undefined;
    return this.#transact((line) => {
      if (line === "OK") {
        if (value === undefined) throw new ModemError("error", `${label}: OK without a value`);
        return value;
      }
      const fault = rak3172Fault(line);
      if (fault !== undefined) throw new ModemError(fault, `${label}: ${line}`);
      if (value === undefined) {
        const text = line.startsWith(echo) ? line.slice(echo.length) : line;
        if (valid.test(text)) value = text;
      }
      return undefined;
    }, this.#commandMs, label);
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
