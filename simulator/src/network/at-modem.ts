/**
 * What both AT modem emulators share: a UART that assembles command lines from
 * bytes arriving at the wire rate, prints reply lines at the virtual times the
 * events happen, a LoRaWAN end device inside, and fault injection.
 *
 * Replies are queued on the board's serial link with future timestamps as soon
 * as a command arrives (the link keeps its queue in time order, so a reply to a
 * command sent in the middle of a transaction comes out after the lines already
 * queued for that transaction — the real modem would interleave them).
 */
import type { SerialDevice, SerialLink } from "../core/board.ts";
import { Rng } from "../core/rng.ts";
import { EndDevice } from "./end-device.ts";
import type { RadioMedium } from "./radio.ts";
import type { RegionName } from "./regions.ts";

/** Faults a modem emulator can be given. `reboot` acts once when injected. */
export type ModemFaultName =
  | "busy" // every LoRaWAN command answers "busy"
  | "no-free-channel" // every join/uplink is refused for lack of a free channel
  | "join-fail" // join requests go out but whatever answers is not heard
  | "reboot" // restart now: boot banner, session and FCnt lost, DevNonce kept
  | "silent"; // the modem stops answering (and acting) until cleared

/** A line the emulator heard or printed, for inspection in tests. */
export interface TranscriptLine {
  atMs: number;
  dir: "in" | "out";
  text: string;
}

/** Options shared by the modem emulators. */
export interface AtModemOptions {
  /** Where frames go: a `SimNetwork`, or any `RadioMedium`. */
  medium: RadioMedium;
  /** Factory DevEUI, 16 hex digits (default: derived from the seed). */
  devEui?: string;
  /** Seed (or stream) for channel choice, ACK timeouts and the derived DevEUI. */
  seed?: number | string | Rng;
  /** Region at power-up. */
  region?: RegionName;
  /** First DevNonce of the persistent counter. */
  devNonce?: number;
  /** Enforce the duty cycle and join back-off (default true). */
  dutyCycle?: boolean;
  /** Lines printed at power-up and after a reboot (default: the model's). */
  bootBanner?: readonly string[];
  /** Retransmissions of an unacknowledged confirmed uplink (default: the model's). */
  retries?: number;
}

/** Byte time on the wire: start bit, 8 data bits, stop bit. */
export function byteTimeMs(baud: number): number {
  return 10_000 / baud;
}

/** Base class of the modem emulators. */
export abstract class AtModem implements SerialDevice {
  /** The LoRaWAN device inside. */
  readonly device: EndDevice;
  readonly medium: RadioMedium;
  /** Every line heard and printed (while `keepTranscript`). */
  readonly transcript: TranscriptLine[] = [];
  /** Whether `transcript` records lines: long runs that never read it turn it off. */
  keepTranscript = true;
  /** Virtual time until which a LoRaWAN transaction is in progress. */
  busyUntilMs = 0;
  /** Retransmissions of an unacknowledged confirmed uplink. */
  retries: number;
  protected link: SerialLink | undefined;
  protected readonly faults = new Set<ModemFaultName>();
  protected readonly rng: Rng;
  protected readonly bootBanner: readonly string[];
  /** Bytes of the line being received (a string built byte by byte cost an allocation per byte). */
  #partial = new Uint8Array(256);
  #partialLength = 0;
  #partialLastMs = 0;
  #partialDirty = false;
  /** The RST line is held low. */
  #inReset = false;

  /** UART rate of the modem. */
  abstract readonly baud: number;
  /** Model name, as in `LoRaModem.model`. */
  abstract readonly model: string;

  constructor(o: AtModemOptions, defaults: { devEuiPrefix: string; banner: readonly string[]; retries: number }) {
    this.rng = o.seed instanceof Rng ? o.seed : new Rng(o.seed ?? o.devEui ?? "modem");
    const devEui = (o.devEui ?? defaults.devEuiPrefix + this.rng.fork("deveui").nextU32().toString(16).padStart(8, "0")).toUpperCase();
    this.device = new EndDevice({
      devEui,
      region: o.region ?? "EU868",
      rng: this.rng.fork("mac"),
      devNonce: o.devNonce,
      dutyCycle: o.dutyCycle,
    });
    this.medium = o.medium;
    this.bootBanner = o.bootBanner ?? defaults.banner;
    this.retries = o.retries ?? defaults.retries;
  }

  attach(link: SerialLink): void {
    this.link = link;
  }

  /** Current virtual time of the board the modem sits on (0 before it is attached). */
  get nowMs(): number {
    return this.link?.clock.nowMs ?? 0;
  }

  /** Whether a fault is active. */
  hasFault(fault: ModemFaultName): boolean {
    return this.faults.has(fault);
  }

  /** Injects a fault; `reboot` restarts the modem now. */
  inject(fault: ModemFaultName): void {
    if (fault === "reboot") this.reboot(this.nowMs);
    else this.faults.add(fault);
  }

  /** Clears a fault. */
  clear(fault: ModemFaultName): void {
    this.faults.delete(fault);
  }

  /** Neither hearing nor answering: locked up (`silent`) or held in reset. */
  get #mute(): boolean {
    return this.#inReset || this.faults.has("silent");
  }

  /**
   * The RST line (active low): held low, the modem is in reset, deaf and mute; released, it boots again, a lock-up
   * (`silent`) cured, as its MCU restarts.
   */
  setReset(low: boolean): void {
    if (low === this.#inReset) return;
    this.#inReset = low;
    if (low) return;
    this.faults.delete("silent");
    this.reboot(this.nowMs);
  }

  /** Restarts the modem at `atMs`: RAM state gone, flash (keys, EUIs, DevNonce counter) kept, banner printed. */
  reboot(atMs: number): void {
    this.device.reboot();
    this.busyUntilMs = 0;
    this.#partialLength = 0;
    this.#partialDirty = false;
    this.onReboot();
    // Boot takes a moment before the banner comes out.
    for (const line of this.bootBanner) this.print(line, atMs + 50);
  }

  /** Model-specific state reset on reboot. */
  protected onReboot(): void {}

  serialWrite(bytes: Uint8Array, hostBaud: number): void {
    if (!this.link || this.#mute) return;
    const byteMs = byteTimeMs(this.baud);
    // A rate mismatch above ~3 % corrupts every byte; model it as a fixed scramble that never forms a line end.
    const garbled = Math.abs(hostBaud - this.baud) > this.baud * 0.03;
    const start = this.link.clock.nowMs;
    for (let i = 0; i < bytes.length; i++) {
      const at = start + (i + 1) * byteMs;
      this.#byte(garbled ? scramble(bytes[i]) : bytes[i], at);
    }
    this.afterWrite();
  }

  #byte(b: number, at: number): void {
    if (this.#partialDirty) this.checkInputTimeout(at);
    if (this.onByteWhileAsleep(b, at)) return;
    if (this.isLineEnd(b)) {
      const line = this.#takePartial();
      if (line.trim()) this.#run(line, at);
      return;
    }
    if (this.#partialLength === this.#partial.length) {
      const grown = new Uint8Array(this.#partial.length * 2);
      grown.set(this.#partial);
      this.#partial = grown;
    }
    this.#partial[this.#partialLength++] = b;
    this.#partialLastMs = at;
    this.#partialDirty = true;
  }

  #run(line: string, at: number): void {
    if (this.keepTranscript) this.transcript.push({ atMs: at, dir: "in", text: line });
    this.command(line.trim(), at);
  }

  /** When the last byte of the unfinished line came (for the input-timeout rule), or undefined when there is none. */
  protected get partialLastMs(): number | undefined {
    return this.#partialDirty ? this.#partialLastMs : undefined;
  }

  /** Whether the unfinished line ends in CR. */
  protected get partialEndsInCr(): boolean {
    return this.#partialDirty && this.#partialLength > 0 && this.#partial[this.#partialLength - 1] === 13;
  }

  /** The unfinished line as text (bytes as Latin-1 characters). */
  #partialText(): string {
    let text = "";
    for (let i = 0; i < this.#partialLength; i++) text += String.fromCharCode(this.#partial[i]);
    return text;
  }

  /** Takes the unfinished line, without trailing CRs, and starts a new one. */
  #takePartial(): string {
    let n = this.#partialLength;
    while (n > 0 && this.#partial[n - 1] === 13) n--;
    this.#partialLength = n;
    const line = n <= 1024 ? String.fromCharCode.apply(null, this.#partial.subarray(0, n) as unknown as number[]) : this.#partialText();
    this.#partialLength = 0;
    this.#partialDirty = false;
    return line;
  }

  /** Runs an unfinished line as a command at `at` (input timeout), first printing `notice`. */
  protected flushPartial(at: number, notice?: string): void {
    const line = this.#takePartial();
    if (notice) this.print(notice, at);
    if (line.trim()) this.#run(line, at);
  }

  /** Called before each byte while an unfinished line is pending; models that time out input override it. */
  protected checkInputTimeout(_at: number): void {}

  /** Called after each write from the host. */
  protected afterWrite(): void {}

  /** Handles a byte while the modem sleeps; true if the byte was consumed. */
  protected onByteWhileAsleep(_b: number, _at: number): boolean {
    return false;
  }

  /** Whether `b` ends a command line. */
  protected abstract isLineEnd(b: number): boolean;

  /** Executes one command line that arrived complete at `at`. */
  protected abstract command(line: string, at: number): void;

  /** Prints one line (CR LF appended) starting at virtual time `atMs`. */
  protected print(text: string, atMs: number): void {
    if (!this.link || this.#mute) return;
    if (this.keepTranscript) this.transcript.push({ atMs, dir: "out", text });
    const bytes = new Uint8Array(text.length + 2);
    for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i) & 0xff;
    bytes[text.length] = 13;
    bytes[text.length + 1] = 10;
    this.link.deliver(bytes, Math.max(atMs, this.link.clock.nowMs));
  }

  /** Whether a LoRaWAN transaction is running at `at` (or the busy fault is on). */
  protected busyAt(at: number): boolean {
    return this.faults.has("busy") || at < this.busyUntilMs;
  }
}

function scramble(b: number): number {
  const x = (Math.imul(b, 0x9d) ^ 0x5a) & 0xff;
  return x === 10 || x === 13 ? 0xff : x;
}

/** Splits `AT+CMD=args` into its name (upper case, without `AT+`) and the argument text. */
export function splitCommand(line: string): { name: string; query: boolean; help: boolean; args: string | undefined } | undefined {
  const m = /^AT(?:\+([A-Za-z0-9_]+))?(\?)?(?:=(.*))?$/i.exec(line.trim());
  if (!m) {
    // `ATZ` and friends: AT followed directly by letters.
    const z = /^AT([A-Za-z]+)$/i.exec(line.trim());
    return z ? { name: z[1].toUpperCase(), query: false, help: false, args: undefined } : undefined;
  }
  const name = (m[1] ?? "").toUpperCase();
  const args = m[3];
  return { name, help: m[2] === "?", query: args === "?", args: args === "?" ? undefined : args };
}
