/**
 * Seeed Wio-E5 (LoRa-E5, STM32WLE5) emulator, byte-exact at the AT level:
 * UART 9600 8N1, commands end with LF (CR LF also fine), replies `+CMD: …`.
 * Written from Seeed's LoRa-E5 AT command specification and the RisingHF
 * specification it derives from, plus public session logs; not from our driver.
 *
 * Input timeout: a command line left without its LF for `inputTimeoutMs` is run
 * anyway after a `+INFO: Input timeout` line (what a terminal that sends only CR
 * sees). A line whose bytes trickle in with a longer gap gets cut in two.
 */
import { AtModem, splitCommand, type AtModemOptions } from "./at-modem.ts";
import type { DeviceDownlink } from "./end-device.ts";
import { dataRate, type RegionName } from "./regions.ts";
import { fromHex, toHex } from "./lorawan-frames.ts";

/** Options of the Wio-E5 emulator. */
export interface WioE5Options extends AtModemOptions {
  /** AppEui at power-up (factory: 80:00:00:00:00:00:00:06). */
  appEui?: string;
  /** Quiet time after which an unfinished command runs anyway (ms). */
  inputTimeoutMs?: number;
  /** Firmware version reported by AT+VER. */
  version?: string;
}

/** Bytes after the waking byte that are lost while the MCU comes out of stop mode (ms). */
const WAKE_MS = 5;
/** Time from the end of a command to its first reply line (ms). */
const REPLY_MS = 2;

const BANDS: readonly RegionName[] = ["EU868", "US915", "AU915", "AS923"];

/** A Wio-E5 modem on a UART. */
export class WioE5Emulator extends AtModem {
  readonly baud = 9600;
  readonly model = "wio-e5";
  readonly inputTimeoutMs: number;
  readonly version: string;
  #port = 8;
  #mode: "LWOTAA" | "LWABP" | "TEST" = "LWOTAA";
  #sleeping = false;
  #wakeUntilMs = -1;

  constructor(o: WioE5Options) {
    // No power-on output of the module is documented (only AT+RESET's "+RESET: OK"), so the default banner is empty.
    super(o, { devEuiPrefix: "2CF7F120", banner: [], retries: 3 });
    this.device.joinEui = (o.appEui ?? "8000000000000006").toUpperCase();
    this.inputTimeoutMs = o.inputTimeoutMs ?? 1000;
    this.version = o.version ?? "4.0.11";
  }

  /** Whether the modem is in AT+LOWPOWER sleep. */
  get sleeping(): boolean {
    return this.#sleeping;
  }

  protected override onReboot(): void {
    this.#sleeping = false;
  }

  protected isLineEnd(b: number): boolean {
    return b === 10;
  }

  protected override checkInputTimeout(at: number): void {
    const last = this.partialLastMs;
    if (last !== undefined && at - last > this.inputTimeoutMs) this.flushPartial(last + this.inputTimeoutMs, "+INFO: Input timeout");
  }

  protected override afterWrite(): void {
    // A line that ends in CR will get no LF: nothing else is coming for it, so the timeout will fire.
    const last = this.partialLastMs;
    if (last !== undefined && this.partialEndsInCr) this.flushPartial(last + this.inputTimeoutMs, "+INFO: Input timeout");
  }

  protected override onByteWhileAsleep(_b: number, at: number): boolean {
    if (at <= this.#wakeUntilMs) return true;
    if (!this.#sleeping) return false;
    this.#sleeping = false;
    this.#wakeUntilMs = at + WAKE_MS;
    this.print("+LOWPOWER: WAKEUP", at + WAKE_MS);
    return true;
  }

  protected command(line: string, at: number): void {
    const t = at + REPLY_MS;
    const c = splitCommand(line);
    if (!c) {
      this.print("+AT: ERROR(-10)", t);
      return;
    }
    const args = c.args === undefined ? undefined : c.args.trim();
    const say = (text: string) => this.print(`+${c.name || "AT"}: ${text}`, t);
    switch (c.name) {
      case "":
        say("OK");
        return;
      case "VER":
        say(this.version);
        return;
      case "ID":
        return this.#id(args, t);
      case "KEY":
        return this.#key(args, t);
      case "MODE":
        if (args !== undefined) {
          const m = args.toUpperCase();
          if (m !== "LWOTAA" && m !== "LWABP" && m !== "TEST") return say("ERROR(-1)");
          if (m !== this.#mode) this.device.leave();
          this.#mode = m;
          this.device.otaa = m === "LWOTAA";
        }
        say(this.#mode);
        return;
      case "DR":
        return this.#dr(args, t);
      case "ADR":
        if (args !== undefined) {
          const v = args.toUpperCase();
          if (v !== "ON" && v !== "OFF") return say("ERROR(-1)");
          this.device.adr = v === "ON";
        }
        say(this.device.adr ? "ON" : "OFF");
        return;
      case "PORT":
        if (args !== undefined) {
          const n = Number(args);
          if (!/^\d+$/.test(args) || n < 1 || n > 223) return say("ERROR(-1)");
          this.#port = n;
        }
        say(String(this.#port));
        return;
      case "RETRY":
        if (args !== undefined) {
          const n = Number(args);
          if (!/^\d+$/.test(args) || n > 254) return say("ERROR(-1)");
          this.retries = n;
        }
        say(String(this.retries));
        return;
      case "CH":
        return this.#channels(t);
      case "JOIN":
        return this.#join(args, t);
      case "MSG":
      case "CMSG":
      case "MSGHEX":
      case "CMSGHEX":
        return this.#message(c.name, args, t);
      case "LOWPOWER":
        say("SLEEP");
        this.#sleeping = true;
        return;
      case "RESET":
        say("OK");
        this.reboot(t + 10);
        return;
      default:
        say("ERROR(-10)");
    }
  }

  #id(args: string | undefined, t: number): void {
    const d = this.device;
    const addr = d.session?.devAddr ?? parseInt(d.devEui.slice(8), 16);
    const lines: { [k: string]: string } = {
      DEVADDR: `+ID: DevAddr, ${colons(addr.toString(16).padStart(8, "0"))}`,
      DEVEUI: `+ID: DevEui, ${colons(d.devEui)}`,
      APPEUI: `+ID: AppEui, ${colons(d.joinEui)}`,
    };
    if (args === undefined) {
      for (const k of ["DEVADDR", "DEVEUI", "APPEUI"]) this.print(lines[k], t);
      return;
    }
    const [rawKey, rawValue] = splitArgs(args);
    const key = rawKey.toUpperCase();
    if (!(key in lines)) return this.print("+ID: ERROR(-1)", t);
    if (rawValue !== undefined) {
      const hex = unquote(rawValue).replace(/[\s:]/g, "");
      const want = key === "DEVADDR" ? 8 : 16;
      if (hex.length !== want || /[^0-9a-f]/i.test(hex)) return this.print("+ID: ERROR(-1)", t);
      if (key === "DEVEUI") d.devEui = hex.toUpperCase();
      else if (key === "APPEUI") d.joinEui = hex.toUpperCase();
      else return this.print("+ID: ERROR(-12)", t); // DevAddr comes from the join in OTAA
      d.leave();
      lines[key] = key === "DEVEUI" ? `+ID: DevEui, ${colons(d.devEui)}` : `+ID: AppEui, ${colons(d.joinEui)}`;
    }
    this.print(lines[key], t);
  }

  #key(args: string | undefined, t: number): void {
    if (args === undefined) return this.print("+KEY: ERROR(-1)", t);
    const [rawKey, rawValue] = splitArgs(args);
    const key = rawKey.toUpperCase();
    const hex = rawValue === undefined ? "" : unquote(rawValue).replace(/[\s:]/g, "");
    if (!["APPKEY", "NWKSKEY", "APPSKEY"].includes(key) || hex.length !== 32 || /[^0-9a-f]/i.test(hex)) return this.print("+KEY: ERROR(-1)", t);
    if (key === "APPKEY") {
      this.device.appKey = fromHex(hex);
      this.device.leave();
    }
    this.print(`+KEY: ${key} ${hex.toUpperCase()}`, t);
  }

  #dr(args: string | undefined, t: number): void {
    const d = this.device;
    if (args === undefined) {
      const r = dataRate(d.region, d.dr);
      this.print(`+DR: DR${d.dr}`, t);
      const desc = !r ? "RFU" : r.modulation === "FSK" ? `FSK ${(r.bitRate ?? 0) / 1000}KBPS` : `SF${r.spreadingFactor} BW${r.bandwidthHz / 1000}K`;
      // The module pads with two spaces after the DR and leaves a trailing space.
      this.print(`+DR: ${d.region.name} DR${d.dr}  ${desc} `, t);
      return;
    }
    const a = args.toUpperCase();
    if ((BANDS as readonly string[]).includes(a)) {
      d.setRegion(a as RegionName);
      this.print(`+DR: ${a}`, t);
      return;
    }
    const m = /^(?:DR)?(\d{1,2})$/.exec(a);
    if (!m || !dataRate(d.region, Number(m[1]))) return this.print("+DR: ERROR(-1)", t);
    d.dr = Number(m[1]);
    this.print(`+DR: DR${d.dr}`, t);
  }

  #channels(t: number): void {
    const chans = this.device.channels();
    const all = this.device.region.uplinkChannels;
    const parts = chans.map((c) => {
      const i = all.findIndex((a) => a.frequencyHz === c.frequencyHz);
      return `${i < 0 ? chans.indexOf(c) : i},${c.frequencyHz},DR${c.minDr},DR${c.maxDr}`;
    });
    this.print(`+CH: ${chans.length}; ${parts.join("; ")};`, t);
  }

  #join(args: string | undefined, t: number): void {
    const say = (text: string, at = t) => this.print(`+JOIN: ${text}`, at);
    const force = args !== undefined && args.toUpperCase() === "FORCE";
    if (args !== undefined && !force) return say("ERROR(-1)");
    if (this.#mode !== "LWOTAA") return say("Not in OTAA mode");
    if (this.busyAt(t)) return say("LoRaWAN modem is busy");
    if (this.device.session && !force) return say("Joined already");
    if (this.faults.has("no-free-channel")) return say("No free channel");
    const r = this.device.join(t, this.medium, this.faults.has("join-fail"));
    if (!r.ok && r.reason !== "no-answer") return say(r.reason === "dr" ? "DR error" : r.reason === "not-otaa" ? "Not in OTAA mode" : "No free channel");
    say("Start");
    say(force ? "FORCE" : "NORMAL", t + 1);
    if (r.ok) {
      say("Network joined", r.atMs);
      say(`NetID ${r.session.netId.toString(16).padStart(6, "0").toUpperCase()} DevAddr ${colons(r.session.devAddr.toString(16).padStart(8, "0"))}`, r.atMs);
      say("Done", r.atMs + 1);
    } else {
      say("Join failed", r.atMs);
      say("Done", r.atMs + 1);
    }
    this.busyUntilMs = r.atMs + 1;
  }

  #message(name: string, args: string | undefined, t: number): void {
    const say = (text: string, at = t) => this.print(`+${name}: ${text}`, at);
    const hex = name.endsWith("HEX");
    const confirmed = name.startsWith("C");
    let payload: Uint8Array;
    const raw = args === undefined ? "" : unquote(args);
    if (hex) {
      const clean = raw.replace(/\s/g, "");
      if (clean.length % 2 || /[^0-9a-f]/i.test(clean)) return say("ERROR(-1)");
      payload = fromHex(clean);
    } else {
      payload = Uint8Array.from(raw, (ch) => ch.charCodeAt(0) & 0xff);
    }
    if (this.busyAt(t)) return say("LoRaWAN modem is busy");
    if (!this.device.session) return say("Please join network first");
    if (this.faults.has("no-free-channel")) return say("No free channel");
    const r = this.device.send(t, this.medium, { port: this.#port, payload, confirmed, retries: this.retries });
    if (!r.ok) {
      const text = { "not-joined": "Please join network first", length: "Length error", "no-free-channel": "No free channel", dr: "DR error" }[r.reason];
      return say(text);
    }
    say("Start");
    if (confirmed) say("Wait ACK", r.attempts[0].endMs);
    for (const dl of r.downlinks) this.#downlinkLines(say, dl, confirmed);
    say("Done", r.endMs + 1);
    this.busyUntilMs = r.endMs + 1;
  }

  #downlinkLines(say: (text: string, at?: number) => void, dl: DeviceDownlink, confirmed: boolean): void {
    if (dl.fPending) say("FPENDING", dl.atMs);
    if (confirmed && dl.ack) say("ACK Received", dl.atMs);
    if (dl.port !== undefined) say(`PORT: ${dl.port}; RX: "${toHex(dl.payload)}"`, dl.atMs);
    say(`RXWIN${dl.window}, RSSI ${Math.round(dl.rssi)}, SNR ${formatSnr(dl.snr)}`, dl.atMs);
  }
}

/** SNR as the module prints it: quarter-dB steps, at least one decimal ("-16.0", "13.5", "13.75"). */
export function formatSnr(snr: number): string {
  const q = Math.round(snr * 4) / 4;
  return Number.isInteger(q) ? q.toFixed(1) : String(q);
}

function colons(hex: string): string {
  return hex.toUpperCase().match(/../g)!.join(":");
}

function unquote(s: string): string {
  const t = s.trim();
  return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1) : t;
}

function splitArgs(args: string): [string, string | undefined] {
  const i = args.indexOf(",");
  return i < 0 ? [args.trim(), undefined] : [args.slice(0, i).trim(), args.slice(i + 1).trim()];
}
