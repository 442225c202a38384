/**
 * Byte-level emulator of the Sensirion SEN55 and SEN66 environmental modules on
 * I2C, written from the datasheets independently of the firmware driver.
 *
 * What it models: 16-bit commands with CRC-8 (poly 0x31, init 0xFF) on every word
 * both ways; execution times (the module NACKs until a command is done); start
 * (first data ~1 s later, then 1 Hz), SEN55 RHT/gas-only start (PM unknown), stop
 * (200 ms SEN55, 1000 ms SEN66), data-ready as [0x00, flag, CRC], measured values
 * (SEN55 0x03C4: 8 words; SEN66 0x0300: 9 words, CO2 last) with the "unknown"
 * sentinels 0xFFFF / 0x7FFF before the first measurement, for NOx during the first
 * 10 s after power-on or reset, for SEN66 CO2 during the first 5.5 s, and for every
 * channel whose sensor reports an error; the 32-bit status register with each model's
 * bit layout (errors sticky until read-and-clear or reset); fan cleaning (SEN55:
 * while measuring, 10 s without data, status bit 19, automatically every
 * `autoCleaningIntervalS`; SEN66: only while idle, starting a measurement during the
 * 10 s is NACKed); product name, serial number, version, reset (200 / 1200 ms).
 *
 * Power: with `powered: false` the module starts unpowered and follows `setPower` (the
 * node's switched sensor rail): unpowered it does not answer its address; powered up it
 * NACKs for `powerUpMs` (default 1000 ms, the wait Sensirion-based drivers such as
 * ESPHome's give it; the datasheet's figure is not in our reference) and then idles as after
 * a reset: measurement stopped, status cleared, NOx and CO2 warming up again at the next start.
 * The fan's auto-cleaning counter restarts with the power, so a module switched off between
 * readings is only cleaned when the host asks. `poweredMs()` is how long it has been on.
 *
 * Physics: the environment plus Gaussian noise, quantised to the module's words
 * (PM ×10, RH ×100, T ×200, indices ×10), PM made cumulative (PM1 ≤ PM2.5 ≤ PM4 ≤ PM10)
 * as the module computes it.
 */
import { FaultBook } from "./fault-book.ts";
import { Supply } from "./supply.ts";
import { BusError, i2cReply, type I2CDevice } from "../core/board.ts";
import type { VirtualClock } from "../core/clock.ts";
import type { Rng } from "../core/rng.ts";
import type { AirSource } from "./air-environment.ts";

/** Faults the emulator can be told to show. */
export type Sen5xFault = "nack" | "corrupt-crc" | "stuck" | "disconnect" | "slow-start";

/** Sensor conditions that drive the status register (and make the affected values unknown). */
export type Sen5xCondition = "fan-failure" | "laser-failure" | "gas-error" | "rht-error" | "co2-error" | "pm-error" | "fan-speed-warning";

/** Parameters of an injected fault. */
export interface Sen5xFaultOptions {
  /** corrupt-crc: number of replies to corrupt (default 1 unless `probability` is given). */
  count?: number;
  /** corrupt-crc: corrupt each reply with this probability instead. */
  probability?: number;
  /** disconnect: bytes the next read still delivers before the module vanishes (default 4). */
  afterBytes?: number;
  /** slow-start: extra delay of the first measurement after a start (default 10000 ms). */
  delayMs?: number;
}

/** Construction parameters. */
export interface Sen5xEmulatorOptions {
  rng: Rng;
  environment: AirSource;
  clock: VirtualClock;
  /** Default "SEN55". */
  model?: "SEN55" | "SEN66";
  /** Product name the module reports (default the model; set another to test identification). */
  productName?: string;
  /** Serial number string (default: random hex). */
  serial?: string;
  /** SEN55 fan auto-cleaning interval in s (default 604800). */
  autoCleaningIntervalS?: number;
  /** Calibration error of the SEN66 CO2 channel, ppm (default 0). */
  co2BiasPpm?: number;
  /** Powered from the start (default true); false: off until `setPower(true)`. */
  powered?: boolean;
  /** Time from power-on to the idle state, in which it answers commands, ms (default 1000). */
  powerUpMs?: number;
}

/** Status bit of each condition per model (undefined: the model has no such flag). */
const STATUS_BITS: Record<"SEN55" | "SEN66", Partial<Record<Sen5xCondition, number>>> = {
  SEN55: { "fan-speed-warning": 21, "gas-error": 7, "rht-error": 6, "laser-failure": 5, "fan-failure": 4 },
  SEN66: { "fan-speed-warning": 21, "pm-error": 11, "co2-error": 9, "gas-error": 7, "rht-error": 6, "fan-failure": 4 },
};
const CLEANING_BIT = 19;

// Own CRC, nibble-table driven (the driver computes it bitwise): poly 0x31, init 0xFF.
const NIBBLE = new Uint8Array(16);
for (let i = 0; i < 16; i++) {
  let c = i << 4;
  for (let b = 0; b < 4; b++) c = c & 0x80 ? ((c << 1) ^ 0x31) & 0xff : (c << 1) & 0xff;
  NIBBLE[i] = c;
}
function crcStep(crc: number, byte: number): number {
  crc ^= byte;
  crc = ((crc << 4) & 0xff) ^ NIBBLE[crc >> 4];
  return ((crc << 4) & 0xff) ^ NIBBLE[crc >> 4];
}
const crcOf = (hi: number, lo: number) => crcStep(crcStep(0xff, hi), lo);

function encode(words: number[]): Uint8Array {
  const out = new Uint8Array(words.length * 3);
  words.forEach((w, i) => {
    out[i * 3] = (w >> 8) & 0xff;
    out[i * 3 + 1] = w & 0xff;
    out[i * 3 + 2] = crcOf((w >> 8) & 0xff, w & 0xff);
  });
  return out;
}

/** A string as 16 words (32 bytes, NUL padded). */
function stringWords(s: string): number[] {
  const bytes = new Uint8Array(32);
  for (let i = 0; i < Math.min(31, s.length); i++) bytes[i] = s.charCodeAt(i) & 0x7f;
  const words: number[] = [];
  for (let i = 0; i < 32; i += 2) words.push((bytes[i] << 8) | bytes[i + 1]);
  return words;
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
const U16 = 0xffff;
const I16 = 0x7fff;

type Mode = "idle" | "all" | "rht-gas";

interface Command {
  ms: number;
  run(args: number[]): void;
}

/** A SEN55 or SEN66 on the bus; attach with `board.attachI2C(0x69 or 0x6B, emulator)`. */
export class Sen5xEmulator implements I2CDevice {
  readonly #rng: Rng;
  readonly #environment: AirSource;
  readonly #clock: VirtualClock;
  readonly #model: "SEN55" | "SEN66";
  readonly #productName: string;
  readonly #serial: string;
  readonly #co2BiasPpm: number;
  readonly #commands = new Map<number, Command>();
  #mode: Mode = "idle";
  #busyUntil = 0;
  #reply: Uint8Array | undefined;
  #replyIsValues = false;
  #nextAt = 0;
  #dataReady = false;
  #values: number[] | undefined;
  /** Time of the first start after power-on or reset (warm-up of NOx and CO2), or -1. */
  #warmSince = -1;
  #cleaningUntil = -1;
  #cleanBase = 0;
  #autoIntervalS: number;
  #sticky = 0;
  readonly #conditions = new Set<Sen5xCondition>();
  readonly #faults = new FaultBook<Sen5xFault, Sen5xFaultOptions>();
  #gone = false;
  #frozen: number[] | undefined;
  readonly #powerUpMs: number;
  readonly #supply: Supply;

  /** The most recent measurement (words, sentinels included). */
  lastMeasurement: number[] | undefined;
  /** The words of the most recent measured-values reply, before any injected corruption. */
  lastReadout: number[] | undefined;
  /** Every command the module accepted, in order. */
  readonly commandLog: number[] = [];
  /** Whether `commandLog` records commands: long runs that never read it turn it off. */
  keepCommandLog = true;

  constructor(options: Sen5xEmulatorOptions) {
    this.#rng = options.rng;
    this.#environment = options.environment;
    this.#clock = options.clock;
    this.#model = options.model ?? "SEN55";
    this.#productName = options.productName ?? this.#model;
    this.#serial = options.serial ?? Array.from({ length: 16 }, () => "0123456789ABCDEF"[this.#rng.int(0, 15)]).join("");
    this.#autoIntervalS = options.autoCleaningIntervalS ?? 604800;
    this.#co2BiasPpm = options.co2BiasPpm ?? 0;
    this.#powerUpMs = options.powerUpMs ?? 1000;
    this.#supply = new Supply(this.#clock, options.powered !== false);
    this.#defineCommands();
  }

  /** Whether the module has power. */
  get powered(): boolean {
    return this.#supply.on;
  }

  /** Switches the module's supply; switching it on starts it from its power-on state. */
  setPower(on: boolean): void {
    if (on === this.#supply.on) return;
    this.#update();
    this.#supply.switch(on);
    // Off, everything it held is gone; on, it starts from there once powered up.
    this.#idleAfterReset();
    if (!on) return;
    const now = this.#clock.nowMs;
    this.#cleanBase = now;
    this.#reply = undefined;
    this.#busyUntil = now + this.#powerUpMs;
  }

  /** Milliseconds the module has been powered, up to now. */
  poweredMs(): number {
    return this.#supply.onMs();
  }

  /** What the module is doing: "idle", "all" or "rht-gas". */
  get mode(): Mode {
    this.#update();
    return this.#mode;
  }

  /** True while the fan is being cleaned. */
  get cleaning(): boolean {
    this.#update();
    return this.#cleaningUntil >= 0;
  }

  /** The status register as a read would return it now. */
  get statusRegister(): number {
    this.#update();
    return this.#status();
  }

  /** SEN55 fan auto-cleaning interval in s. */
  get autoCleaningIntervalS(): number {
    return this.#autoIntervalS;
  }

  /** Sets or clears a sensor condition; error flags latch in the status register. */
  setCondition(condition: Sen5xCondition, active: boolean): void {
    if (STATUS_BITS[this.#model][condition] === undefined) throw new Error(`${this.#model} has no ${condition} flag`);
    this.#update();
    if (active) this.#conditions.add(condition);
    else this.#conditions.delete(condition);
    this.#latch();
  }

  /** Starts showing `fault` until `clear(fault)`. */
  inject(fault: Sen5xFault, options: Sen5xFaultOptions = {}): void {
    this.#update();
    this.#faults.arm(fault, options);
    if (fault === "stuck") this.#frozen = this.lastMeasurement;
    if (fault === "disconnect") this.#gone = false;
    if (fault === "slow-start" && this.#mode !== "idle") this.#nextAt = Math.max(this.#nextAt, this.#clock.nowMs + (options.delayMs ?? 10000));
  }

  /** Stops showing `fault` (all faults when omitted). */
  clear(fault?: Sen5xFault): void {
    if (fault) this.#faults.delete(fault);
    else this.#faults.clear();
    if (!this.#faults.has("stuck")) this.#frozen = undefined;
    if (!this.#faults.has("disconnect")) this.#gone = false;
  }

  i2cWrite(bytes: Uint8Array, _stop: boolean): void {
    this.#update();
    this.#present();
    const now = this.#clock.nowMs;
    if (now < this.#busyUntil) throw new BusError(`${this.#model} busy: NACK`);
    if (bytes.length < 2 || (bytes.length - 2) % 3 !== 0) throw new BusError(`${this.#model}: malformed write`);
    const code = (bytes[0] << 8) | bytes[1];
    const args: number[] = [];
    for (let i = 2; i < bytes.length; i += 3) {
      if (crcOf(bytes[i], bytes[i + 1]) !== bytes[i + 2]) throw new BusError(`${this.#model}: argument CRC mismatch, NACK`);
      args.push((bytes[i] << 8) | bytes[i + 1]);
    }
    const command = this.#commands.get(code);
    if (!command) throw new BusError(`${this.#model}: unknown command 0x${code.toString(16)}`);
    this.#reply = undefined;
    this.#replyIsValues = false;
    command.run(args);
    this.#busyUntil = now + command.ms;
    if (this.keepCommandLog) this.commandLog.push(code);
  }

  i2cRead(out: Uint8Array, _stop: boolean): number {
    this.#update();
    this.#present();
    if (this.#clock.nowMs < this.#busyUntil) throw new BusError(`${this.#model} busy: NACK`);
    const reply = this.#reply;
    if (!reply) throw new BusError(`${this.#model}: nothing to read, NACK`);
    this.#reply = undefined;
    const count = out.length;
    i2cReply(out, reply);
    if (this.#replyIsValues) {
      // The data-ready flag clears when the values are read out.
      this.#dataReady = false;
    }
    if (this.#faults.fires("corrupt-crc", this.#rng)) {
      const i = this.#rng.int(0, Math.min(count, reply.length) - 1);
      out[i] ^= 1 << this.#rng.int(0, 7);
    }
    const disconnect = this.#faults.get("disconnect");
    if (disconnect && !this.#gone) {
      this.#gone = true;
      return Math.min(count, disconnect.afterBytes ?? 4);
    }
    return count;
  }

  #present(): void {
    if (!this.#supply.on) throw new BusError(`${this.#model}: unpowered, no ACK`);
    if (this.#faults.has("nack")) throw new BusError(`${this.#model}: no ACK (injected)`);
    if (this.#gone) throw new BusError(`${this.#model}: disconnected (injected)`);
  }

  /** Catches up with virtual time: cleaning windows and the 1 Hz measurements. */
  #update(): void {
    const now = this.#clock.nowMs;
    if (this.#mode === "idle" || !this.#supply.on) {
      if (this.#cleaningUntil >= 0 && now >= this.#cleaningUntil) this.#cleaningUntil = -1;
      return;
    }
    for (;;) {
      if (this.#cleaningUntil >= 0) {
        if (now < this.#cleaningUntil) return;
        this.#nextAt = Math.max(this.#nextAt, this.#cleaningUntil + 1000);
        this.#cleanBase = this.#cleaningUntil;
        this.#cleaningUntil = -1;
      }
      const autoClean = this.#model === "SEN55" && this.#mode === "all" && this.#autoIntervalS > 0;
      const due = autoClean ? this.#cleanBase + this.#autoIntervalS * 1000 : Infinity;
      if (due <= now && due <= this.#nextAt) {
        this.#startCleaning(due);
        continue;
      }
      const limit = Math.min(now, due - 1);
      if (this.#nextAt > limit) return;
      const t = this.#nextAt + Math.floor((limit - this.#nextAt) / 1000) * 1000;
      this.#measure(t);
      this.#nextAt = t + 1000;
    }
  }

  #startCleaning(at: number): void {
    this.#cleaningUntil = at + 10000;
    this.#dataReady = false;
  }

  #measure(t: number): void {
    let words: number[];
    if (this.#faults.has("stuck") && this.#frozen) {
      words = [...this.#frozen];
    } else {
      const air = this.#environment();
      const rng = this.#rng;
      const pm = (v: number) => Math.max(0, v + rng.normal(0, 0.3 + 0.02 * v));
      const pm1 = clamp(Math.round(pm(air.pm1) * 10), 0, 10000);
      const pm25 = clamp(Math.round(pm(air.pm25) * 10), pm1, 10000);
      const pm4 = clamp(Math.round(pm(air.pm4) * 10), pm25, 10000);
      const pm10 = clamp(Math.round(pm(air.pm10) * 10), pm4, 10000);
      const rh = clamp(Math.round((air.humidityPct + rng.normal(0, 0.1)) * 100), 0, 10000);
      const temp = clamp(Math.round((air.temperatureC + rng.normal(0, 0.02)) * 200), -8000, 12000);
      const voc = clamp(Math.round((air.vocIndex + rng.normal(0, 1)) * 10), 10, 5000);
      const nox = clamp(Math.round((air.noxIndex + rng.normal(0, 0.3)) * 10), 10, 5000);
      const co2 = clamp(Math.round(air.co2Ppm + this.#co2BiasPpm + rng.normal(0, 10)), 0, 40000);
      words = [pm1, pm25, pm4, pm10, rh & 0xffff, temp & 0xffff, voc, nox];
      if (this.#model === "SEN66") words.push(co2);
      const c = this.#conditions;
      if (this.#mode === "rht-gas" || c.has("fan-failure") || c.has("laser-failure") || c.has("pm-error")) words.fill(U16, 0, 4);
      if (c.has("rht-error")) words.fill(I16, 4, 6);
      if (c.has("gas-error")) words.fill(I16, 6, 8);
      if (t - this.#warmSince < 10000) words[7] = I16;
      if (this.#model === "SEN66" && (c.has("co2-error") || t - this.#warmSince < 5500)) words[8] = U16;
      if (this.#faults.has("stuck")) this.#frozen = words;
    }
    this.#values = words;
    this.lastMeasurement = words;
    this.#dataReady = true;
    this.#latch();
  }

  /** Error conditions that hold now set their sticky bits. */
  #latch(): void {
    const bits = STATUS_BITS[this.#model];
    for (const c of this.#conditions) if (c !== "fan-speed-warning") this.#sticky |= 1 << bits[c]!;
  }

  #status(): number {
    let status = this.#sticky;
    if (this.#conditions.has("fan-speed-warning")) status |= 1 << 21;
    if (this.#model === "SEN55" && this.#cleaningUntil >= 0 && this.#mode === "all") status |= 1 << CLEANING_BIT;
    return status >>> 0;
  }

  #start(mode: Mode): void {
    if (this.#model === "SEN66" && this.#cleaningUntil >= 0) throw new BusError("SEN66: fan cleaning in progress, NACK");
    if (this.#mode !== "idle") return; // already measuring: no effect
    const now = this.#clock.nowMs;
    const slow = this.#faults.get("slow-start");
    this.#mode = mode;
    this.#nextAt = now + 1000 + (slow ? slow.delayMs ?? 10000 : 0);
    this.#dataReady = false;
    this.#cleanBase = now;
    if (this.#warmSince < 0) this.#warmSince = now;
  }

  #setReply(words: number[], values = false): void {
    this.#reply = encode(words);
    this.#replyIsValues = values;
  }

  #defineCommands(): void {
    const c = this.#commands;
    const sen66 = this.#model === "SEN66";
    c.set(0x0021, { ms: 50, run: () => this.#start("all") });
    if (!sen66) c.set(0x0037, { ms: 50, run: () => this.#start("rht-gas") });
    c.set(0x0104, {
      ms: sen66 ? 1000 : 200,
      run: () => {
        this.#mode = "idle";
        this.#dataReady = false;
        this.#values = undefined;
        if (!sen66) this.#cleaningUntil = -1;
      },
    });
    c.set(0x0202, { ms: 20, run: () => this.#setReply([this.#dataReady && this.#mode !== "idle" ? 1 : 0]) });
    c.set(sen66 ? 0x0300 : 0x03c4, {
      ms: 20,
      run: () => {
        const words = this.#values ?? (sen66 ? [U16, U16, U16, U16, I16, I16, I16, I16, U16] : [U16, U16, U16, U16, I16, I16, I16, I16]);
        this.lastReadout = words;
        this.#setReply(words, true);
      },
    });
    c.set(0x5607, {
      ms: 20,
      run: () => {
        if (sen66) {
          if (this.#mode !== "idle") throw new BusError("SEN66: fan cleaning only while idle, NACK");
          if (this.#cleaningUntil < 0) this.#cleaningUntil = this.#clock.nowMs + 10000;
        } else if (this.#mode === "all" && this.#cleaningUntil < 0) {
          this.#startCleaning(this.#clock.nowMs);
        }
      },
    });
    if (!sen66) {
      c.set(0x8004, {
        ms: 20,
        run: (args) => {
          if (args.length === 2) this.#autoIntervalS = args[0] * 65536 + args[1];
          else if (args.length === 0) this.#setReply([this.#autoIntervalS >>> 16, this.#autoIntervalS & 0xffff]);
          else throw new BusError("SEN55: bad argument count");
        },
      });
    }
    c.set(0xd014, { ms: sen66 ? 20 : 50, run: () => this.#setReply(stringWords(this.#productName)) });
    c.set(0xd033, { ms: sen66 ? 20 : 50, run: () => this.#setReply(stringWords(this.#serial)) });
    c.set(0xd100, { ms: 20, run: () => this.#setReply(sen66 ? [0x0400] : [0x0200, 0x0100, 0x0100, 0x0000]) });
    c.set(0xd206, { ms: 20, run: () => this.#setStatusReply(false) });
    c.set(0xd210, { ms: 20, run: () => this.#setStatusReply(true) });
    c.set(0xd304, { ms: sen66 ? 1200 : 200, run: () => this.#idleAfterReset() });
  }

  /** The state after a reset or a power-on: idle, nothing measured, status clear, warm-up to come. */
  #idleAfterReset(): void {
    this.#mode = "idle";
    this.#dataReady = false;
    this.#values = undefined;
    this.#cleaningUntil = -1;
    this.#warmSince = -1;
    this.#sticky = 0;
  }

  #setStatusReply(clear: boolean): void {
    const status = this.#status();
    this.#setReply([status >>> 16, status & 0xffff]);
    if (clear) this.#sticky = 0;
  }
}
