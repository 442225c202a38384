/**
 * RAKwireless RAK3172 with RUI3 firmware, byte-exact at the AT level: UART
 * 115200 8N1, `AT+X=?` reads (`AT+X=value`), `AT+X=v` writes, every command
 * answered by a status preceded and followed by CR LF (`\r\nOK\r\n`), and
 * asynchronous `+EVT:` lines for joins, uplinks and downlinks. Written from the
 * RUI3 AT command manual, not from our driver.
 *
 * RUI3 details we could not pin down and chose (each configurable or noted):
 * a failed join attempt prints its event before the next attempt starts; a
 * downlink's `+EVT:RX_…` line precedes the `TX_DONE`/`SEND_CONFIRMED_…` line;
 * hex in replies is lower case; the boot banner is the one below.
 */
import { AtModem, splitCommand, type AtModemOptions } from "./at-modem.ts";
import { dataRate, type RegionName } from "./regions.ts";
import { fromHex, toHex } from "./lorawan-frames.ts";

/** Options of the RAK3172 emulator. */
export interface Rak3172Options extends AtModemOptions {
  /** Print events in the older spaced form (`+EVT: SEND CONFIRMED OK`, `+EVT: JOIN FAILED`). */
  spacedEvents?: boolean;
  /** Firmware version reported by AT+VER. */
  version?: string;
  /** AppEUI at power-up (default all zero). */
  appEui?: string;
}

/** Time from the end of a command to its status line (ms). */
const REPLY_MS = 1;

/** AT+BAND numbers of the regions we emulate. */
const BAND_NUMBERS: { readonly [n: number]: RegionName } = { 4: "EU868", 5: "US915", 6: "AU915", 8: "AS923" };

const HELP: { readonly [name: string]: string } = {
  NWM: "get or set the network working mode (0 = P2P, 1 = LoRaWAN)",
  BAND: "get or set the active region (4 = EU868, 5 = US915, 6 = AU915, 8 = AS923-1)",
  DEVEUI: "get or set the device EUI",
  APPEUI: "get or set the application EUI",
  APPKEY: "get or set the application key",
  DEVADDR: "get the device address",
  NJM: "get or set the network join mode (0 = ABP, 1 = OTAA)",
  NJS: "get the join status",
  JOIN: "join network",
  CFM: "get or set the confirm mode",
  DR: "get or set the data rate",
  ADR: "get or set the adaptive data rate",
  RETY: "get or set the number of retransmissions of confirmed uplinks",
  SEND: "send data with the application port",
  SLEEP: "enter sleep mode for a period of time (ms)",
  VER: "get the version of the firmware",
  MASK: "get or set the channel mask to close or open the channel (only for US915, AU915, CN470)",
  LPM: "get or set the low power mode (0 = off, 1 = on)",
};

const SPACED: { readonly [event: string]: string } = {
  JOINED: "JOINED",
  JOIN_FAILED_RX_TIMEOUT: "JOIN FAILED",
  TX_DONE: "TX DONE",
  SEND_CONFIRMED_OK: "SEND CONFIRMED OK",
  SEND_CONFIRMED_FAILED: "SEND CONFIRMED FAILED",
};

/** A RAK3172 (RUI3) modem on a UART. */
export class Rak3172Emulator extends AtModem {
  readonly baud = 115200;
  readonly model = "rak3172";
  readonly spacedEvents: boolean;
  readonly version: string;
  #nwm = 1;
  #confirmed = false;
  /** AT+MASK sub-band mask (US915/AU915), as RUI3 reports it. */
  #mask = "0001";
  /** AT+LPM: RUI3 sleeps between commands and wakes on UART activity (this emulator never loses the waking byte). */
  #lowPower = false;
  #sleepingUntilMs = -1;

  constructor(o: Rak3172Options) {
    const version = o.version ?? "RUI_4.0.6_RAK3172-E";
    super(o, {
      devEuiPrefix: "AC1F09FF",
      banner: ["RAKwireless RAK3172 Example", "------------------------------------------------------", `Version: ${version}`, "Current Work Mode: LoRaWAN."],
      retries: 0,
    });
    this.version = version;
    this.spacedEvents = o.spacedEvents ?? false;
    this.device.joinEui = (o.appEui ?? "0000000000000000").toUpperCase();
  }

  /** Whether the modem is asleep at `atMs` (AT+SLEEP, until a byte or the period ends). */
  sleepingAt(atMs: number): boolean {
    return atMs < this.#sleepingUntilMs;
  }

  protected isLineEnd(b: number): boolean {
    return b === 10 || b === 13;
  }

  protected override onByteWhileAsleep(_b: number, at: number): boolean {
    // The UART wakes the MCU and the byte is kept (RUI3 keeps its UART clocked in sleep).
    if (at < this.#sleepingUntilMs) this.#sleepingUntilMs = at;
    return false;
  }

  protected override onReboot(): void {
    this.#sleepingUntilMs = -1;
  }

  #status(s: string, t: number): void {
    this.print("", t);
    this.print(s, t);
  }

  #value(name: string, v: string | number, t: number): void {
    this.print(`AT+${name}=${v}`, t);
    this.#status("OK", t);
  }

  #event(name: string, t: number, fields = ""): void {
    if (this.spacedEvents) this.print(`+EVT: ${SPACED[name] ?? name}${fields}`, t);
    else this.print(`+EVT:${name}${fields}`, t);
  }

  protected command(line: string, at: number): void {
    const t = at + REPLY_MS;
    const c = splitCommand(line);
    if (!c) return this.#status("AT_COMMAND_NOT_FOUND", t);
    if (c.help) {
      const h = c.name === "" ? "attention" : HELP[c.name];
      if (!h) return this.#status("AT_COMMAND_NOT_FOUND", t);
      this.print(`AT${c.name ? "+" + c.name : ""}: ${h}`, t);
      return this.#status("OK", t);
    }
    const d = this.device;
    const args = c.args?.trim();
    const setBit = (apply: (v: number) => void): void => {
      if (args !== "0" && args !== "1") return this.#status("AT_PARAM_ERROR", t);
      apply(Number(args));
      this.#status("OK", t);
    };
    const setHex = (digits: number, apply: (hex: string) => void): void => {
      if (args === undefined || args.length !== digits || /[^0-9a-f]/i.test(args)) return this.#status("AT_PARAM_ERROR", t);
      if (this.busyAt(t)) return this.#status("AT_BUSY_ERROR", t);
      apply(args.toUpperCase());
      this.#status("OK", t);
    };
    switch (c.name) {
      case "":
        return this.#status("OK", t);
      case "Z":
        // ATZ resets the MCU without a status line.
        return this.reboot(t);
      case "VER":
        return c.query ? this.#value("VER", this.version, t) : this.#status("AT_PARAM_ERROR", t);
      case "NWM":
        if (c.query) return this.#value("NWM", this.#nwm, t);
        return setBit((v) => {
          if (v !== this.#nwm) d.leave();
          this.#nwm = v;
        });
      case "BAND": {
        if (c.query) return this.#value("BAND", Number(Object.keys(BAND_NUMBERS).find((k) => BAND_NUMBERS[Number(k)] === d.region.name)), t);
        const r = args !== undefined && /^\d+$/.test(args) ? BAND_NUMBERS[Number(args)] : undefined;
        if (!r) return this.#status("AT_PARAM_ERROR", t);
        if (this.busyAt(t)) return this.#status("AT_BUSY_ERROR", t);
        if (r !== d.region.name) d.setRegion(r);
        return this.#status("OK", t);
      }
      case "DEVEUI":
        if (c.query) return this.#value("DEVEUI", d.devEui.toLowerCase(), t);
        return setHex(16, (h) => {
          d.devEui = h;
          d.leave();
        });
      case "APPEUI":
      case "JOINEUI":
        if (c.query) return this.#value(c.name, d.joinEui.toLowerCase(), t);
        return setHex(16, (h) => {
          d.joinEui = h;
          d.leave();
        });
      case "APPKEY":
        if (c.query) return this.#value("APPKEY", toHex(d.appKey).toLowerCase(), t);
        return setHex(32, (h) => {
          d.appKey = fromHex(h);
          d.leave();
        });
      case "DEVADDR":
        if (!c.query) return this.#status("AT_PARAM_ERROR", t);
        return this.#value("DEVADDR", (d.session?.devAddr ?? 0).toString(16).padStart(8, "0"), t);
      case "NWKSKEY":
      case "APPSKEY": {
        if (!c.query) return this.#status("AT_PARAM_ERROR", t);
        const k = d.session ? (c.name === "NWKSKEY" ? d.session.keys.nwkSKey : d.session.keys.appSKey) : new Uint8Array(16);
        return this.#value(c.name, toHex(k).toLowerCase(), t);
      }
      case "NJM":
        if (c.query) return this.#value("NJM", d.otaa ? 1 : 0, t);
        return setBit((v) => {
          if ((v === 1) !== d.otaa) d.leave();
          d.otaa = v === 1;
        });
      case "NJS":
        return c.query ? this.#value("NJS", d.session ? 1 : 0, t) : this.#status("AT_PARAM_ERROR", t);
      case "CFM":
        if (c.query) return this.#value("CFM", this.#confirmed ? 1 : 0, t);
        return setBit((v) => (this.#confirmed = v === 1));
      case "ADR":
        if (c.query) return this.#value("ADR", d.adr ? 1 : 0, t);
        return setBit((v) => (d.adr = v === 1));
      case "DR": {
        if (c.query) return this.#value("DR", d.dr, t);
        const n = args !== undefined && /^\d{1,2}$/.test(args) ? Number(args) : -1;
        const [lo, hi] = d.region.uplinkDrRange;
        if (n < lo || n > hi || !dataRate(d.region, n)) return this.#status("AT_PARAM_ERROR", t);
        d.dr = n;
        return this.#status("OK", t);
      }
      case "MASK": {
        // RUI3: 4 hex digits, one bit per 8-channel sub-band; only in regions with 64+8 channels.
        if (d.region.name !== "US915" && d.region.name !== "AU915") return this.#status("AT_ERROR", t);
        if (c.query) return this.#value("MASK", this.#mask, t);
        if (args === undefined || !/^[0-9a-fA-F]{4}$/.test(args) || args === "0000") return this.#status("AT_PARAM_ERROR", t);
        this.#mask = args.toLowerCase();
        return this.#status("OK", t);
      }
      case "LPM":
        if (c.query) return this.#value("LPM", this.#lowPower ? 1 : 0, t);
        return setBit((v) => (this.#lowPower = v === 1));
      case "RETY": {
        if (c.query) return this.#value("RETY", this.retries, t);
        if (args === undefined || !/^[0-7]$/.test(args)) return this.#status("AT_PARAM_ERROR", t);
        this.retries = Number(args);
        return this.#status("OK", t);
      }
      case "JOIN":
        return this.#join(args, t);
      case "SEND":
        return this.#send(args, t);
      case "SLEEP": {
        const ms = args === undefined ? Infinity : /^\d+$/.test(args) ? Number(args) : NaN;
        if (!(ms >= 0)) return this.#status("AT_PARAM_ERROR", t);
        if (this.busyAt(t)) return this.#status("AT_BUSY_ERROR", t);
        this.#status("OK", t);
        this.#sleepingUntilMs = t + ms;
        return;
      }
      default:
        return this.#status("AT_COMMAND_NOT_FOUND", t);
    }
  }

  #join(args: string | undefined, t: number): void {
    const d = this.device;
    const parts = (args ?? "1:0:8:0").split(":");
    const nums = parts.map((p) => (/^\d+$/.test(p) ? Number(p) : NaN));
    // The last field counts retries after the first request (RUI3 service_lora.c: re-join while ++retry_cnt <= it).
    const [join, auto = 0, intervalS = 8, retries = 0] = nums;
    if (nums.some((n) => Number.isNaN(n)) || (join !== 0 && join !== 1) || (auto !== 0 && auto !== 1) || intervalS < 7 || intervalS > 255 || retries > 255) {
      return this.#status("AT_PARAM_ERROR", t);
    }
    if (this.#nwm !== 1 || !d.otaa) return this.#status("AT_ERROR", t);
    if (this.busyAt(t) || this.faults.has("no-free-channel")) return this.#status("AT_BUSY_ERROR", t);
    if (join === 0) return this.#status("OK", t);
    const first = d.join(t, this.medium, this.faults.has("join-fail"));
    if (!first.ok && first.reason === "dr") return this.#status("AT_ERROR", t);
    this.#status("OK", t);
    let r = first;
    let next = t;
    let end = t;
    const tries = retries + 1;
    for (let attempt = 0; attempt < tries; attempt++) {
      if (attempt > 0) r = d.join(next, this.medium, this.faults.has("join-fail"));
      // Held back by the duty cycle or the join back-off: the stack waits for the band, then sends.
      if (!r.ok && r.reason === "no-free-channel" && r.freeAtMs !== undefined) r = d.join(r.freeAtMs, this.medium, this.faults.has("join-fail"));
      end = r.atMs;
      if (r.ok) {
        this.#event("JOINED", r.atMs);
        break;
      }
      this.#event("JOIN_FAILED_RX_TIMEOUT", r.atMs);
      if (r.reason !== "no-answer") break;
      next = r.atMs + intervalS * 1000;
    }
    this.busyUntilMs = end + 1;
  }

  #send(args: string | undefined, t: number): void {
    const d = this.device;
    const m = args === undefined ? null : /^(\d{1,3}):([0-9a-fA-F]*)$/.exec(args);
    if (!m) return this.#status("AT_PARAM_ERROR", t);
    const port = Number(m[1]);
    if (port < 1 || port > 223 || m[2].length === 0 || m[2].length % 2) return this.#status("AT_PARAM_ERROR", t);
    if (this.#nwm !== 1) return this.#status("AT_ERROR", t);
    if (!d.session) return this.#status("AT_NO_NETWORK_JOINED", t);
    if (this.busyAt(t) || this.faults.has("no-free-channel")) return this.#status("AT_BUSY_ERROR", t);
    const r = d.send(t, this.medium, { port, payload: fromHex(m[2]), confirmed: this.#confirmed, retries: this.retries });
    if (!r.ok) {
      const status = { "not-joined": "AT_NO_NETWORK_JOINED", length: "AT_PARAM_ERROR", "no-free-channel": "AT_BUSY_ERROR", dr: "AT_ERROR" }[r.reason];
      // RUI3 logs how long the duty cycle holds the band before it answers busy.
      if (r.reason === "no-free-channel" && r.freeAtMs !== undefined) this.print(`Restricted_Wait_${Math.max(0, Math.ceil(r.freeAtMs - t))}_ms`, t);
      return this.#status(status, t);
    }
    this.#status("OK", t);
    for (const dl of r.downlinks) {
      if (dl.port === undefined) continue;
      this.#event(`RX_${dl.window}`, dl.atMs, `:${Math.round(dl.rssi)}:${Math.round(dl.snr)}:UNICAST:${dl.port}:${toHex(dl.payload).toLowerCase()}`);
    }
    if (this.#confirmed) this.#event(r.acked ? "SEND_CONFIRMED_OK" : "SEND_CONFIRMED_FAILED", r.endMs + 1);
    else this.#event("TX_DONE", r.endMs + 1);
    this.busyUntilMs = r.endMs + 1;
  }
}
