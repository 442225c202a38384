/**
 * Byte-level emulator of a Plantower PMS5003 on a UART (9600 8N1), written from
 * the datasheet (and the command replies public drivers observe) independently of
 * the firmware driver.
 *
 * What it models: 32-byte data frames (0x42 0x4D, length 28, CF=1 and atmospheric
 * PM1/PM2.5/PM10, six cumulative particle counts per 0.1 L, version and error byte,
 * 16-bit sum of bytes 0–29); commands `42 4D CMD DH DL` + 16-bit sum (a wrong sum or
 * baud rate is ignored): mode E1 (00 passive / 01 active), passive read E2, sleep E4 00,
 * wake E4 01; 8-byte replies `42 4D 00 04 CMD DL` + sum to mode and sleep commands
 * (none to wake or read, which answers with a data frame); active mode at power-up
 * with a frame every ~2.3 s; a 30 s settling period after power-up and wake during
 * which the values are zero for the first seconds and then unstable; while asleep
 * only wake is heard.
 *
 * Power: with `powered: false` it starts unpowered and follows `setPower` (the node's
 * switched sensor rail): unpowered it neither sends nor hears; powered up it starts as at
 * power-up (active mode, settling). `poweredMs()` is how long it has been on.
 *
 * Active-mode frames are produced when the host transmits or when the simulation calls
 * `service()`, timestamped at their nominal times (the UART link has no scheduler);
 * at most the last four are kept, as a receive FIFO would.
 */
import { FaultBook } from "./fault-book.ts";
import { Supply } from "./supply.ts";
import type { SerialDevice, SerialLink } from "../core/board.ts";
import type { VirtualClock } from "../core/clock.ts";
import type { Rng } from "../core/rng.ts";
import type { AirSource } from "./air-environment.ts";

/** Faults the emulator can be told to show. */
export type Pms5003Fault = "nack" | "corrupt-checksum" | "stuck" | "disconnect" | "desync" | "garbage" | "slow-start";

/** Parameters of an injected fault. */
export interface Pms5003FaultOptions {
  /** corrupt-checksum, desync, garbage: number of data frames affected (default 1 unless `probability` is given). */
  count?: number;
  /** corrupt-checksum, desync, garbage: affect each data frame with this probability instead. */
  probability?: number;
  /** disconnect: bytes of the next transmission that still get out (default 10). */
  afterBytes?: number;
  /** garbage: number of random bytes before a frame (default 1–24 at random). */
  bytes?: number;
  /** slow-start: no data for this long after injection and after each wake (default 45000 ms). */
  delayMs?: number;
}

/** Construction parameters. */
export interface Pms5003EmulatorOptions {
  rng: Rng;
  environment: AirSource;
  clock: VirtualClock;
  /** Active-mode frame interval, ms (default 2300). */
  activeIntervalMs?: number;
  /** Version byte in each frame (default 0x97). */
  version?: number;
  /** Delay before a reply starts, ms (default 5). */
  replyLatencyMs?: number;
  /** Powered from the start (default true); false: off until `setPower(true)`. */
  powered?: boolean;
}

/** The values of one data frame (µg/m³ and counts per 0.1 L). */
export interface Pms5003Values {
  pm1Cf1: number;
  pm25Cf1: number;
  pm10Cf1: number;
  pm1: number;
  pm25: number;
  pm10: number;
  count0p3: number;
  count0p5: number;
  count1p0: number;
  count2p5: number;
  count5p0: number;
  count10: number;
}

const SETTLE_MS = 30000;
const ZERO_MS = 3000;
const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/** 16-bit sum of bytes [0, n). */
function sum16(bytes: ArrayLike<number>, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += bytes[i];
  return s & 0xffff;
}

/** Decodes the values of a data frame. */
export function pms5003Values(frame: Uint8Array): Pms5003Values {
  const w = (i: number) => (frame[4 + 2 * i] << 8) | frame[5 + 2 * i];
  return {
    pm1Cf1: w(0),
    pm25Cf1: w(1),
    pm10Cf1: w(2),
    pm1: w(3),
    pm25: w(4),
    pm10: w(5),
    count0p3: w(6),
    count0p5: w(7),
    count1p0: w(8),
    count2p5: w(9),
    count5p0: w(10),
    count10: w(11),
  };
}

/** A PMS5003 on a UART; attach with `board.attachSerial(port, emulator, 9600)`. */
export class Pms5003Emulator implements SerialDevice {
  readonly #rng: Rng;
  readonly #environment: AirSource;
  readonly #clock: VirtualClock;
  readonly #intervalMs: number;
  readonly #version: number;
  readonly #latencyMs: number;
  #link: SerialLink | undefined;
  #rx: number[] = [];
  #active = true;
  #wokeAt: number;
  #nextActiveAt: number;
  #slowUntil = -1;
  readonly #faults = new FaultBook<Pms5003Fault, Pms5003FaultOptions>();
  #gone = false;
  #frozen: Uint8Array | undefined;
  #previousFrame: Uint8Array | undefined;
  readonly #supply: Supply;
  /** Powered and not asleep: the fan and laser running (what draws the active current); asleep is powered and not running. */
  readonly #running: Supply;

  /** The most recent data frame transmitted, before any injected corruption. */
  lastFrame: Uint8Array | undefined;
  /** Data frames transmitted so far. */
  framesSent = 0;
  /** Valid commands heard, as `CMD << 8 | DL`. */
  readonly commandLog: number[] = [];
  /** Whether `commandLog` records commands: long runs that never read it turn it off. */
  keepCommandLog = true;

  constructor(options: Pms5003EmulatorOptions) {
    this.#rng = options.rng;
    this.#environment = options.environment;
    this.#clock = options.clock;
    this.#intervalMs = options.activeIntervalMs ?? 2300;
    this.#version = options.version ?? 0x97;
    this.#latencyMs = options.replyLatencyMs ?? 5;
    this.#wokeAt = this.#clock.nowMs;
    this.#nextActiveAt = this.#wokeAt + this.#intervalMs;
    this.#supply = new Supply(this.#clock, options.powered !== false);
    this.#running = new Supply(this.#clock, options.powered !== false);
  }

  /** Whether the module has power. */
  get powered(): boolean {
    return this.#supply.on;
  }

  /** Switches the module's supply; switching it on starts it as at power-up. */
  setPower(on: boolean): void {
    if (on === this.#supply.on) return;
    this.#catchUp();
    this.#supply.switch(on);
    this.#running.switch(on);
    if (!on) return;
    const now = this.#clock.nowMs;
    this.#rx = [];
    this.#active = true;
    this.#wokeAt = now;
    this.#nextActiveAt = now + this.#intervalMs;
    const slow = this.#faults.get("slow-start");
    this.#slowUntil = slow ? now + (slow.delayMs ?? 45000) : -1;
  }

  /** Milliseconds the module has been powered, up to now. */
  poweredMs(): number {
    return this.#supply.onMs();
  }

  /** Milliseconds its fan and laser have run (powered and not asleep), up to now: the time it draws its active current. */
  activeMs(): number {
    return this.#running.onMs();
  }

  /** "active" (streaming) or "passive" (answers reads). */
  get mode(): "active" | "passive" {
    return this.#active ? "active" : "passive";
  }

  /** True while sleeping (fan off). */
  get asleep(): boolean {
    return this.#supply.on && !this.#running.on;
  }

  /** True during the 30 s after power-up or wake. */
  get settling(): boolean {
    return this.#running.on && this.#clock.nowMs - this.#wokeAt < SETTLE_MS;
  }

  attach(link: SerialLink): void {
    this.#link = link;
  }

  /** Lets active-mode frames that are due go out (call from a simulation loop). */
  service(): void {
    this.#catchUp();
  }

  /** Starts showing `fault` until `clear(fault)`. */
  inject(fault: Pms5003Fault, options: Pms5003FaultOptions = {}): void {
    this.#catchUp();
    this.#faults.arm(fault, options);
    if (fault === "stuck") this.#frozen = this.lastFrame?.slice(4, 28);
    if (fault === "disconnect") this.#gone = false;
    if (fault === "slow-start") this.#slowUntil = this.#clock.nowMs + (options.delayMs ?? 45000);
  }

  /** Stops showing `fault` (all faults when omitted). */
  clear(fault?: Pms5003Fault): void {
    if (fault) this.#faults.delete(fault);
    else this.#faults.clear();
    if (!this.#faults.has("stuck")) this.#frozen = undefined;
    if (!this.#faults.has("disconnect")) this.#gone = false;
    if (!this.#faults.has("slow-start")) this.#slowUntil = -1;
  }

  serialWrite(bytes: Uint8Array, hostBaud: number): void {
    this.#catchUp();
    if (hostBaud !== 9600) return; // garbled on the wire: nothing recognisable arrives
    if (this.#faults.has("nack") || this.#gone || !this.#supply.on) return; // dead, unplugged or unpowered: deaf as well as mute
    for (const b of bytes) this.#rx.push(b);
    const rx = this.#rx;
    while (rx.length >= 7) {
      if (rx[0] !== 0x42 || rx[1] !== 0x4d) {
        rx.shift();
        continue;
      }
      if (sum16(rx, 5) !== ((rx[5] << 8) | rx[6])) {
        rx.shift();
        continue;
      }
      const [, , cmd, , dl] = rx.splice(0, 7);
      this.#command(cmd, dl);
    }
  }

  #command(cmd: number, dl: number): void {
    const now = this.#clock.nowMs;
    const asleep = !this.#running.on;
    if (asleep && !(cmd === 0xe4 && dl === 1)) return;
    if (this.keepCommandLog) this.commandLog.push((cmd << 8) | dl);
    if (cmd === 0xe1) {
      const active = dl === 1;
      if (active && !this.#active) this.#nextActiveAt = now + this.#intervalMs;
      this.#active = active;
      this.#reply(cmd, dl);
    } else if (cmd === 0xe2) {
      if (!this.#active && !this.#slowed()) this.#sendData(now + this.#latencyMs);
    } else if (cmd === 0xe4) {
      if (dl === 0) {
        this.#running.switch(false);
        this.#reply(cmd, dl);
      } else if (asleep) {
        this.#running.switch(true);
        this.#wokeAt = now;
        this.#nextActiveAt = now + this.#intervalMs;
        const slow = this.#faults.get("slow-start");
        if (slow) this.#slowUntil = now + (slow.delayMs ?? 45000);
      }
    }
  }

  #slowed(): boolean {
    return this.#slowUntil >= 0 && this.#clock.nowMs < this.#slowUntil;
  }

  /** Emits the active-mode frames due by now (the last four at most). */
  #catchUp(): void {
    const now = this.#clock.nowMs;
    if (!this.#active || !this.#running.on) return;
    const due: number[] = [];
    while (this.#nextActiveAt <= now) {
      if (!(this.#slowUntil >= 0 && this.#nextActiveAt < this.#slowUntil)) due.push(this.#nextActiveAt);
      this.#nextActiveAt += this.#intervalMs;
    }
    for (const t of due.slice(-4)) this.#sendData(t);
  }

  #reply(cmd: number, dl: number): void {
    const frame = [0x42, 0x4d, 0x00, 0x04, cmd, dl, 0, 0];
    const s = sum16(frame, 6);
    frame[6] = s >> 8;
    frame[7] = s & 0xff;
    this.#transmit(Uint8Array.from(frame), this.#clock.nowMs + this.#latencyMs);
  }

  #transmit(bytes: Uint8Array, atMs: number): void {
    if (!this.#link || this.#faults.has("nack") || this.#gone) return;
    const disconnect = this.#faults.get("disconnect");
    if (disconnect) {
      this.#gone = true;
      bytes = bytes.subarray(0, Math.min(bytes.length, disconnect.afterBytes ?? 10));
    }
    this.#link.deliver(bytes, atMs);
  }

  #sendData(atMs: number): void {
    const frame = this.#buildFrame(atMs);
    this.lastFrame = frame.slice();
    this.framesSent++;
    const rng = this.#rng;
    const wire: number[] = [];
    if (this.#faults.fires("garbage", this.#rng)) {
      const n = this.#faults.get("garbage")?.bytes ?? rng.int(1, 24);
      const junk = Array.from({ length: n }, () => rng.int(0, 255));
      // Half the time the junk holds a fake start (and length), to make the parser resync.
      if (n >= 4 && rng.chance(0.5)) {
        const p = rng.int(0, n - 4);
        junk[p] = 0x42;
        junk[p + 1] = 0x4d;
        if (rng.chance(0.5)) {
          junk[p + 2] = 0x00;
          junk[p + 3] = 0x1c;
        }
      }
      wire.push(...junk);
    }
    if (this.#faults.fires("desync", this.#rng)) {
      // A partial frame (a lost tail) before the real one, sometimes with stray bytes.
      const source = this.#previousFrame ?? frame;
      wire.push(...source.subarray(0, rng.int(2, 31)));
      if (rng.chance(0.5)) for (let i = rng.int(1, 3); i > 0; i--) wire.push(rng.int(0, 255));
    }
    const sent = frame.slice();
    if (this.#faults.fires("corrupt-checksum", this.#rng)) {
      // Payload or sum only: start bytes and length stay intact, so it is a checksum error.
      sent[rng.int(4, 31)] ^= 1 << rng.int(0, 7);
    }
    wire.push(...sent);
    this.#previousFrame = frame;
    this.#transmit(Uint8Array.from(wire), atMs);
  }

  #buildFrame(atMs: number): Uint8Array {
    const frame = new Uint8Array(32);
    frame[0] = 0x42;
    frame[1] = 0x4d;
    frame[3] = 28;
    if (this.#faults.has("stuck") && this.#frozen) {
      frame.set(this.#frozen, 4);
    } else {
      const words = this.#measure(atMs);
      words.forEach((w, i) => {
        frame[4 + 2 * i] = w >> 8;
        frame[5 + 2 * i] = w & 0xff;
      });
      if (this.#faults.has("stuck")) this.#frozen = frame.slice(4, 28);
    }
    frame[28] = this.#version;
    frame[29] = 0;
    const s = sum16(frame, 30);
    frame[30] = s >> 8;
    frame[31] = s & 0xff;
    return frame;
  }

  /** The twelve data words for a frame measured at `atMs`. */
  #measure(atMs: number): number[] {
    const air = this.#environment();
    const rng = this.#rng;
    const sinceWake = atMs - this.#wokeAt;
    const noisy = (v: number) => Math.max(0, v * (1 + rng.normal(0, 0.05)) + rng.normal(0, 0.7));
    let pm1 = noisy(air.pm1);
    let pm25 = noisy(air.pm25);
    let pm10 = noisy(air.pm10);
    // The fan is spinning up: nothing at first, then unstable, under-reading values.
    if (sinceWake < ZERO_MS) return new Array<number>(12).fill(0);
    if (sinceWake < SETTLE_MS) {
      const f = (sinceWake / SETTLE_MS) * Math.max(0, 1 + rng.normal(0, 0.3));
      pm1 *= f;
      pm25 *= f;
      pm10 *= f;
    }
    const a1 = clamp(Math.round(pm1), 0, 1000);
    const a25 = clamp(Math.round(pm25), a1, 1000);
    const a10 = clamp(Math.round(pm10), a25, 1000);
    // Factory CF=1 values equal the atmospheric ones in clean air and read higher above ~30 µg/m³.
    const cf1 = (v: number) => (v < 30 ? v : Math.round(v + (v - 30) * 0.5));
    const fine = a1;
    const mid = a25 - a1;
    const coarse = a10 - a25;
    const jitter = (v: number) => clamp(Math.round(v * (1 + rng.normal(0, 0.05))), 0, 65535);
    const c10 = jitter(coarse * 0.6);
    const c5 = jitter(coarse * 2.8);
    const c25 = jitter(coarse * 7.8 + mid * 1.5);
    const c1 = jitter(coarse * 7.8 + mid * 13.5 + fine * 3);
    // Real air always holds some sub-micron particles: a small baseline below the PM resolution.
    const c05 = jitter(coarse * 7.8 + mid * 13.5 + fine * 48 + 8);
    const c03 = jitter(coarse * 7.8 + mid * 13.5 + fine * 160 + 30);
    // Counts are cumulative ("beyond x µm"), so they never grow with size.
    const counts = [c03, c05, c1, c25, c5, c10];
    for (let i = 1; i < counts.length; i++) counts[i] = Math.min(counts[i], counts[i - 1]);
    return [cf1(a1), cf1(a25), cf1(a10), a1, a25, a10, ...counts];
  }
}
