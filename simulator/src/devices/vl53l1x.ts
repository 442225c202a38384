/**
 * Emulated ST VL53L1X time-of-flight ranging sensor on I2C (0x29), written
 * from the register-level facts: 16-bit register index sent MSB first, then
 * data written or read with auto-increment.
 *
 * Registers modelled: model id 0x010F/0x0110 (0xEA, 0xCC); firmware system
 * status 0x00E5 (bit 0 once booted); GPIO_HV_MUX__CTRL 0x0030 (bit 4: 1 =
 * interrupt active low); GPIO__TIO_HV_STATUS 0x0031 (bit 0 = data ready, in
 * the polarity 0x0030 selects); interrupt clear 0x0086 (bit 0); mode start
 * 0x0087 (0x40 timed, 0x10 single shot, 0x00 or 0x80 stop); distance mode
 * through VCSEL period A 0x0060 (0x07 short, 0x0F long); timing budget through
 * the macro-period timeouts 0x005E/0x0061 (ST's table for 15–500 ms; unknown
 * codes count as 100 ms); inter-measurement period 0x006C (32-bit, in units of
 * OSC_CALIBRATE_VAL 0x00DE × 1.075 per ms); soft reset 0x0000. The result block
 * from 0x0089: range status (bits 4:0; 9 = valid, 4 = signal fail, 6 = sigma
 * fail, 8 = below minimum range; bits 7:5 carry unrelated flags), report status,
 * stream count 0x008B (+1 per range, 255 rolls to 128), effective SPADs 0x008C,
 * ambient rate 0x0090, distance mm 0x0096, signal rate 0x0098. Everything else
 * is plain storage.
 *
 * Timing: 1.2 ms after power-up the chip answers I2C; its firmware boot ends
 * at `bootMs` (default 2 ms). In timed mode a range completes every
 * max(timing budget, inter-measurement period); results overwrite, and the
 * data-ready flag stays set until cleared.
 *
 * Measurement model (from the datasheet's ranging tables, simplified): maximum
 * range by surface and mode (long: white 4000, grey 2500, water 1500, dark
 * 1200 mm; short: 1360/1300/1000/900 mm), shrunk by ambient light (long mode
 * suffers most) and short budgets; noise sd (1.5 mm + 0.2 %)·√(50 ms / budget)
 * ·(1 + ambient); a range whose error would exceed 3.5 sd is flagged as a sigma
 * failure, as the chip's own sigma estimate would. Beyond 90 % of the maximum, sigma failures become likely;
 * beyond it, signal fail with a meaningless distance; below 40 mm, minimum
 * range fail.
 *
 * Faults: `nack` (p per transfer, default 1), `disconnect` (the next read
 * comes back short, then every transfer NACKs), `stuck` (the result block
 * freezes while data-ready keeps firing), `slow-start` (the firmware boot
 * restarts and takes `ms`, default 500) and `wrong-id` (the id reads `id`,
 * default 0xEEAA: another part on the address).
 */
import { BusError, type I2CDevice } from "../core/board.ts";
import type { VirtualClock } from "../core/clock.ts";
import type { Rng } from "../core/rng.ts";

/** What the laser meets; "none" means nothing within range. */
export type Vl53l1xSurface = "white" | "grey" | "dark" | "water" | "none";

/** The true scene in front of the sensor. */
export interface Vl53l1xTarget {
  /** True distance to the target, mm. */
  distanceMm: number;
  /** Default "white". */
  surface?: Vl53l1xSurface;
  /** Ambient infrared, 0 (dark) to 1 (direct sun); default 0. */
  ambient?: number;
}

/** Faults this emulator can inject. */
export type Vl53l1xFault = "nack" | "disconnect" | "stuck" | "slow-start" | "wrong-id";

/** Options of `inject()`. */
export interface Vl53l1xFaultOptions {
  /** nack: probability per transfer (default 1). */
  p?: number;
  /** slow-start: firmware boot time, ms (default 500). */
  ms?: number;
  /** wrong-id: the model id to report (default 0xEEAA). */
  id?: number;
}

/** Constructor options. */
export interface Vl53l1xOptions {
  clock: VirtualClock;
  rng: Rng;
  /** The true scene at virtual time `tMs`. */
  target: (tMs: number) => Vl53l1xTarget;
  /** Power-up to end of firmware boot, ms (default 2). */
  bootMs?: number;
}

const SHORT_BUDGET: Record<number, number> = { 0x001d: 15, 0x0051: 20, 0x00d6: 33, 0x01ae: 50, 0x02e1: 100, 0x03e1: 200, 0x0591: 500 };
const LONG_BUDGET: Record<number, number> = { 0x001e: 20, 0x0060: 33, 0x00ad: 50, 0x01cc: 100, 0x02d9: 200, 0x048f: 500 };
const MAX_RANGE = {
  long: { white: 4000, grey: 2500, water: 1500, dark: 1200 },
  short: { white: 1360, grey: 1300, water: 1000, dark: 900 },
};
const I2C_READY_MS = 1.2;

/** ST VL53L1X as seen on the I2C bus. */
export class Vl53l1x implements I2CDevice {
  readonly #clock: VirtualClock;
  readonly #rng: Rng;
  readonly #faultRng: Rng;
  readonly #target: (tMs: number) => Vl53l1xTarget;
  readonly #bootMs: number;
  readonly #faults = new Map<Vl53l1xFault, Vl53l1xFaultOptions>();
  readonly #reg = new Uint8Array(0x200);
  #index = 0;
  #powerOnMs: number;
  #bootedAtMs: number;
  #ranging: "off" | "timed" | "single" = "off";
  #nextRangeMs = 0;
  #pending = false;
  #stream = 0;
  #dead = false;
  /** Ranges completed (for tests). */
  ranges = 0;

  constructor(options: Vl53l1xOptions) {
    this.#clock = options.clock;
    this.#rng = options.rng;
    this.#faultRng = options.rng.fork("faults");
    this.#target = options.target;
    this.#bootMs = options.bootMs ?? 2;
    this.#powerOnMs = this.#clock.nowMs;
    this.#bootedAtMs = this.#powerOnMs + this.#bootMs;
    this.#reset();
  }

  inject(fault: Vl53l1xFault, options: Vl53l1xFaultOptions = {}): void {
    this.#faults.set(fault, options);
    if (fault === "slow-start") {
      this.#reset();
      this.#bootedAtMs = this.#clock.nowMs + (options.ms ?? 500);
    }
  }

  clear(fault: Vl53l1xFault): void {
    this.#faults.delete(fault);
    if (fault === "disconnect") this.#dead = false;
  }

  /** Interrupt pin level (GPIO1), as the polarity bit sets it. */
  get gpio1(): number {
    this.#catchUp();
    return this.#readyBit();
  }

  i2cWrite(bytes: Uint8Array, _stop: boolean): void {
    this.#check();
    if (bytes.length < 2) throw new BusError("VL53L1X: register index needs two bytes");
    this.#index = (bytes[0] << 8) | bytes[1];
    if (this.#faults.has("disconnect")) {
      // The wire goes mid-transfer: some data bytes land, then nothing answers.
      const n = this.#faultRng.int(0, Math.max(0, bytes.length - 2));
      for (let i = 0; i < n; i++) this.#store(this.#index++, bytes[2 + i]);
      this.#dead = true;
      throw new BusError("VL53L1X: disconnected");
    }
    this.#catchUp();
    for (let i = 2; i < bytes.length; i++) this.#store(this.#index++, bytes[i]);
  }

  i2cRead(into: Uint8Array, _stop: boolean): number {
    this.#check();
    this.#catchUp();
    const count = into.length;
    for (let i = 0; i < count; i++) into[i] = this.#load(this.#index++);
    if (this.#faults.has("disconnect")) {
      this.#dead = true;
      return this.#faultRng.int(0, count - 1);
    }
    return count;
  }

  #check(): void {
    const now = this.#clock.nowMs;
    if (this.#dead) throw new BusError("VL53L1X: no ACK (disconnected)");
    if (now < this.#powerOnMs + I2C_READY_MS) throw new BusError("VL53L1X: no ACK (in reset)");
    if (this.#faults.has("nack") && this.#faultRng.chance(this.#faults.get("nack")?.p ?? 1)) throw new BusError("VL53L1X: NACK");
  }

  #reset(): void {
    const r = this.#reg;
    r.fill(0);
    r[0x0000] = 0x01;
    r[0x0001] = 0x29;
    r[0x0030] = 0x11; // power-on polarity: active low until configured
    r[0x0031] = 0x02;
    r[0x0046] = 0x20;
    r[0x004b] = 0x0a;
    r[0x005e] = 0x01;
    r[0x005f] = 0xcc;
    r[0x0060] = 0x0f;
    r[0x0061] = 0x01;
    r[0x0062] = 0xea;
    r[0x0063] = 0x0d;
    r[0x0069] = 0xb8;
    r[0x006e] = 0x0f;
    r[0x006f] = 0x89;
    r[0x00de] = 0x01;
    r[0x00df] = 0xbb;
    r[0x010f] = 0xea;
    r[0x0110] = 0xcc;
    this.#ranging = "off";
    this.#pending = false;
    this.#stream = 0;
    this.#bootedAtMs = this.#clock.nowMs + this.#bootMs;
  }

  #booted(): boolean {
    return this.#clock.nowMs >= this.#bootedAtMs;
  }

  #readyBit(): number {
    const activeLow = (this.#reg[0x0030] & 0x10) !== 0;
    return (this.#pending ? 1 : 0) ^ (activeLow ? 1 : 0);
  }

  #load(index: number): number {
    if (index === 0x00e5) return this.#booted() ? 0x01 : 0x00;
    if (index === 0x0031) return (this.#reg[0x0031] & 0xfe) | this.#readyBit();
    if ((index === 0x010f || index === 0x0110) && this.#faults.has("wrong-id")) {
      const id = this.#faults.get("wrong-id")?.id ?? 0xeeaa;
      return index === 0x010f ? id >> 8 : id & 0xff;
    }
    return index < this.#reg.length ? this.#reg[index] : 0;
  }

  #store(index: number, value: number): void {
    if (index >= this.#reg.length) return;
    switch (index) {
      case 0x0000:
        if (value & 1 && !(this.#reg[0] & 1)) this.#reset();
        else this.#reg[0] = value;
        return;
      case 0x0086:
        if (value & 1) this.#pending = false;
        return;
      case 0x0087:
        this.#reg[0x0087] = value;
        if (!this.#booted()) return;
        if (value === 0x40 || value === 0x10) {
          this.#ranging = value === 0x40 ? "timed" : "single";
          this.#stream = 0;
          this.#nextRangeMs = this.#clock.nowMs + (value === 0x40 ? this.#periodMs() : this.#budgetMs());
        } else if (value === 0x00 || value === 0x80) {
          this.#ranging = "off";
        }
        return;
      case 0x00e5:
      case 0x010f:
      case 0x0110:
        return; // read-only
      default:
        if (index >= 0x0089 && index <= 0x0099) return; // results are read-only
        this.#reg[index] = value;
    }
  }

  #word(index: number): number {
    return (this.#reg[index] << 8) | this.#reg[index + 1];
  }

  #short(): boolean {
    return this.#reg[0x0060] < 0x0b;
  }

  #budgetMs(): number {
    const code = this.#word(0x005e);
    return (this.#short() ? SHORT_BUDGET : LONG_BUDGET)[code] ?? 100;
  }

  #periodMs(): number {
    const imp = ((this.#reg[0x006c] << 24) | (this.#reg[0x006d] << 16) | (this.#reg[0x006e] << 8) | this.#reg[0x006f]) >>> 0;
    const pll = this.#word(0x00de) & 0x3ff;
    const impMs = pll ? imp / (pll * 1.075) : 0;
    return Math.max(this.#budgetMs(), impMs);
  }

  #catchUp(): void {
    const now = this.#clock.nowMs;
    if (this.#ranging === "off" || now < this.#nextRangeMs) return;
    if (this.#ranging === "single") {
      this.#range(this.#nextRangeMs, 1);
      this.#ranging = "off";
      return;
    }
    const period = this.#periodMs();
    const n = Math.floor((now - this.#nextRangeMs) / period) + 1;
    this.#range(this.#nextRangeMs + (n - 1) * period, n);
    this.#nextRangeMs += n * period;
  }

  /** Completes `n` ranges, the last one at `tMs` (earlier ones were overwritten). */
  #range(tMs: number, n: number): void {
    this.ranges += n;
    this.#pending = true;
    if (this.#faults.has("stuck")) return;
    for (let i = 0; i < n; i++) this.#stream = this.#stream === 255 ? 128 : this.#stream + 1;
    const scene = this.#target(tMs);
    const surface = scene.surface ?? "white";
    const ambient = Math.max(0, Math.min(1, scene.ambient ?? 0));
    const budget = this.#budgetMs();
    const short = this.#short();
    const d = scene.distanceMm;
    const sd = (1.5 + 0.002 * d) * Math.sqrt(50 / budget) * (1 + ambient);
    const noise = this.#rng.normal(0, sd);
    const roll = this.#rng.next();
    const max = surface === "none" ? 0 : MAX_RANGE[short ? "short" : "long"][surface] * (1 - (short ? 0.2 : 0.8) * ambient) * (0.8 + 0.2 * Math.min(1, budget / 100));
    let status: number;
    let mm: number;
    if (surface === "none" || d > max) {
      status = 4;
      mm = this.#rng.int(0, 8000);
    } else if (d < 40) {
      status = 8;
      mm = Math.max(0, Math.round(d + noise));
    } else if ((d > 0.9 * max && roll < (d - 0.9 * max) / (0.1 * max)) || Math.abs(noise) > 3.5 * sd) {
      status = 6;
      mm = Math.max(0, Math.round(d + 5 * noise));
    } else {
      status = 9;
      mm = Math.max(0, Math.round(d + noise));
    }
    const r = this.#reg;
    r[0x0089] = status | (this.#rng.int(0, 7) << 5);
    r[0x008a] = 0;
    r[0x008b] = this.#stream;
    const spads = status === 9 ? 0x40 + this.#rng.int(0, 0x60) : 0x10;
    r[0x008c] = spads;
    r[0x008d] = 0;
    const amb = Math.round(ambient * 4000 + this.#rng.int(0, 20));
    r[0x0090] = amb >> 8;
    r[0x0091] = amb & 0xff;
    r[0x0096] = (mm >> 8) & 0xff;
    r[0x0097] = mm & 0xff;
    const signal = status === 9 ? Math.round(Math.min(0xffff, 4e6 / Math.max(100, d))) : 20;
    r[0x0098] = signal >> 8;
    r[0x0099] = signal & 0xff;
  }
}
