/**
 * LoRaWAN keys live in flash, never in source: AppKey, JoinEUI and
 * (optionally) DevEUI are read from `preference` domain "lorawan", keys
 * "appkey" (32 hex digits), "joineui" (16) and "deveui" (16; absent: the
 * modem's factory DevEUI). They get there once, at provisioning, through a
 * serial-console command (see README.md in this folder):
 *
 *   provision <appkey> <joineui> [deveui]   stores the keys      → "OK provisioned …"
 *   status                                  what is stored       → "provisioned joineui=… deveui=…" (never the AppKey)
 *   unprovision                             erases the keys      → "OK unprovisioned"
 *   help                                    the command list
 *
 * Hex digits may be upper or lower case; they are stored upper case. An
 * all-zero AppKey is refused (it is the value of an erased or unset key).
 */
import Preference from "preference";
import type { ModemSettings, Region } from "../drivers/lora-modem.ts";

/** Preference domain of the keys. */
export const PROVISION_DOMAIN = "lorawan";
const APPKEY = "appkey";
const JOINEUI = "joineui";
const DEVEUI = "deveui";

/** The keys as stored. */
export interface LoRaWanKeys {
  /** 32 hex digits. */
  appKey: string;
  /** 16 hex digits. */
  joinEui: string;
  /** 16 hex digits, or undefined to use the modem's own DevEUI. */
  devEui?: string;
}

/** Whether `s` is exactly `digits` hex digits. */
export function isHex(s: string, digits: number): boolean {
  if (typeof s !== "string" || s.length !== digits) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}

function allZero(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s[i] !== "0") return false;
  return true;
}

/** Why `keys` cannot be stored, or undefined when they can. */
export function checkKeys(keys: LoRaWanKeys): string | undefined {
  if (!isHex(keys.appKey, 32)) return "appkey must be 32 hex digits";
  if (allZero(keys.appKey)) return "appkey must not be all zeros";
  if (!isHex(keys.joinEui, 16)) return "joineui must be 16 hex digits";
  if (keys.devEui !== undefined && !isHex(keys.devEui, 16)) return "deveui must be 16 hex digits";
  return undefined;
}

/** The stored keys, or undefined when the node is not (completely) provisioned. */
export function readKeys(): LoRaWanKeys | undefined {
  const appKey = Preference.get(PROVISION_DOMAIN, APPKEY);
  const joinEui = Preference.get(PROVISION_DOMAIN, JOINEUI);
  const devEui = Preference.get(PROVISION_DOMAIN, DEVEUI);
  if (typeof appKey !== "string" || typeof joinEui !== "string") return undefined;
  const keys: LoRaWanKeys = { appKey, joinEui };
  if (typeof devEui === "string") keys.devEui = devEui;
  return checkKeys(keys) ? undefined : keys;
}

/** Stores `keys` (throws RangeError when they are malformed). */
export function writeKeys(keys: LoRaWanKeys): void {
  const bad = checkKeys(keys);
  if (bad) throw new RangeError(bad);
  Preference.set(PROVISION_DOMAIN, APPKEY, keys.appKey.toUpperCase());
  Preference.set(PROVISION_DOMAIN, JOINEUI, keys.joinEui.toUpperCase());
  if (keys.devEui !== undefined) Preference.set(PROVISION_DOMAIN, DEVEUI, keys.devEui.toUpperCase());
  else Preference.delete(PROVISION_DOMAIN, DEVEUI);
}

/** Erases the keys. */
export function eraseKeys(): void {
  Preference.delete(PROVISION_DOMAIN, APPKEY);
  Preference.delete(PROVISION_DOMAIN, JOINEUI);
  Preference.delete(PROVISION_DOMAIN, DEVEUI);
}

/** Modem settings from the stored keys, or undefined when the node is not provisioned. */
export function modemSettings(region: Region, adr: boolean, dataRate: number): ModemSettings | undefined {
  const keys = readKeys();
  if (!keys) return undefined;
  const s: ModemSettings = { region, appKey: keys.appKey, joinEui: keys.joinEui, adr, dataRate };
  if (keys.devEui) s.devEui = keys.devEui;
  return s;
}

const USAGE = "usage: provision <appkey:32 hex> <joineui:16 hex> [deveui:16 hex]";

/** Runs one console command line; returns the reply line. */
export function provisionCommand(line: string): string {
  const words = line.trim().split(/\s+/);
  const cmd = words[0] ? words[0].toLowerCase() : "";
  if (cmd === "") return "";
  if (cmd === "provision") {
    if (words.length < 3 || words.length > 4) return "ERROR " + USAGE;
    const keys: LoRaWanKeys = { appKey: words[1], joinEui: words[2] };
    if (words.length === 4) keys.devEui = words[3];
    const bad = checkKeys(keys);
    if (bad) return "ERROR " + bad;
    try {
      writeKeys(keys);
    } catch {
      return "ERROR flash write failed";
    }
    return "OK provisioned joineui=" + keys.joinEui.toUpperCase() + " deveui=" + (keys.devEui ? keys.devEui.toUpperCase() : "modem");
  }
  if (cmd === "status") {
    const keys = readKeys();
    return keys ? "provisioned joineui=" + keys.joinEui + " deveui=" + (keys.devEui || "modem") : "not provisioned";
  }
  if (cmd === "unprovision") {
    try {
      eraseKeys();
    } catch {
      return "ERROR flash write failed";
    }
    return "OK unprovisioned";
  }
  if (cmd === "help") return "commands: provision <appkey> <joineui> [deveui] | status | unprovision | help";
  return "ERROR unknown command (try help)";
}

/**
 * Line assembler for the serial console: feed it whatever the UART delivers;
 * every CR or LF ends a line, which is run by `provisionCommand` and answered
 * through `write` (with CR LF). Lines longer than `maxLine` are discarded with
 * an error, so noise cannot grow memory.
 */
export class ProvisioningConsole {
  readonly #write: (text: string) => void;
  readonly #maxLine: number;
  #line = "";
  #overflow = false;

  constructor(write: (text: string) => void, maxLine = 128) {
    this.#write = write;
    this.#maxLine = maxLine;
  }

  /** Feeds received bytes (or text). */
  feed(data: Uint8Array | ArrayBuffer | string): void {
    const bytes = typeof data === "string" ? undefined : data instanceof Uint8Array ? data : new Uint8Array(data);
    const n = bytes ? bytes.length : (data as string).length;
    for (let i = 0; i < n; i++) {
      const c = bytes ? bytes[i] : (data as string).charCodeAt(i);
      if (c === 13 || c === 10) {
        if (this.#overflow) this.#write("ERROR line too long\r\n");
        else if (this.#line.length) {
          const reply = provisionCommand(this.#line);
          if (reply) this.#write(reply + "\r\n");
        }
        this.#line = "";
        this.#overflow = false;
      } else if (!this.#overflow && c >= 32 && c <= 126) {
        // Control and non-ASCII bytes are ignored; an over-long line is dropped whole.
        if (this.#line.length >= this.#maxLine) {
          this.#overflow = true;
          this.#line = "";
        } else this.#line += String.fromCharCode(c);
      }
    }
  }
}
