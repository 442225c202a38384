/**
 * ST VL53L1X time-of-flight distance sensor on I2C (default address 0x29,
 * 16-bit register indices, MSB first).
 *
 * Opening: waits for the firmware boot flag (0x00E5 bit 0; NACKs while the
 * chip is still in reset are expected), checks the model id (0x010F = 0xEACC,
 * else `SensorError("id")`), then writes a minimal configuration rather than
 * ST's full 91-byte default block: data-ready interrupt active high (0x0030 =
 * 0x01), interrupt on new sample (0x0046 = 0x20), the distance-mode registers
 * (0x004B, 0x0060, 0x0063, 0x0069, 0x0078, 0x007A), the timing-budget
 * timeouts (0x005E, 0x0061, ST's table), and the inter-measurement period
 * (0x006C = budget × OSC_CALIBRATE_VAL × 1.075, so the period equals the
 * budget); then it runs ST's one-time VHV step (one range, clear, stop, 0x0008
 * = 0x09, 0x000B = 0). Registers it does not write keep their power-on values;
 * a production build may load ST's tuned default block first.
 *
 * Modes: "short" (up to ~1.3 m, better in sunlight; budgets 20–500 ms) and
 * "long" (up to ~4 m in the dark; budgets 33–500 ms); budgets are ST's steps
 * 20, 33, 50, 100, 200, 500 ms.
 *
 * `sample()` starts timed ranging (0x0087 = 0x40) if it is not running, polls
 * data ready (0x0031 bit 0 against the polarity), reads the result block from
 * 0x0089 in one transfer (range status, stream count, distance at 0x0096) and
 * clears the interrupt (0x0086 = 0x01). It blocks up to two periods plus 50 ms.
 * A range status other than valid (raw 9) is thrown as `SensorError("range")`
 * with ST's status number in the message and in `rangeStatus` (1 sigma fail,
 * 2 signal fail, 3 below minimum range, 4 phase out of bounds, 7 wrap-around,
 * …). If data-ready fires but the stream count never moves, the ranging core
 * is stuck: `SensorError("stuck")`. No data ready in time: `SensorError("timeout")`.
 *
 * Units: `distanceMm` integer mm; `distance` integer cm (rounded), the
 * ECMA-419 Proximity property; `max` in cm for the mode; `near` is distance ≤ `nearMm`.
 */
import Time from "time";
import Timer from "timer";
import { SensorError, onBus } from "./sensor-error.ts";
import { initOrRelease } from "./bus-handle.ts";

/** The parts of an ECMA-419 I2C instance this driver uses. */
export interface I2CIO {
  write(buffer: ArrayBufferView, stop?: boolean): void;
  read(buffer: ArrayBufferView, stop?: boolean): unknown;
  close(): void;
}

/** An ECMA-419 I2C constructor (`embedded:io/i2c`). */
export type I2CConstructor = new (options: { data: number; clock: number; hz: number; address: number; port?: number }) => I2CIO;

/** Distance mode. */
export type Vl53l1xDistanceMode = "short" | "long";

/** Settings that `configure()` accepts (all optional). */
export interface Vl53l1xConfig {
  /** Default "long". */
  distanceMode?: Vl53l1xDistanceMode;
  /** 20, 33, 50, 100, 200 or 500 ms (long: from 33); default 100. */
  timingBudgetMs?: number;
  /** `near` is true at or below this distance, mm (default 300). */
  nearMm?: number;
}

/** Constructor options. */
export interface Vl53l1xOptions extends Vl53l1xConfig {
  /** IO bag: the I2C constructor, pins, speed (default 400 kHz) and address (default 0x29). */
  sensor: { io: I2CConstructor; data: number; clock: number; hz?: number; address?: number; port?: number };
  /** Longest wait for the boot flag, ms (default 100). */
  bootTimeoutMs?: number;
}

/** One reading. */
export interface Vl53l1xSample {
  /** Distance to the target, integer mm. */
  distanceMm: number;
  /** ECMA-419 Proximity: distance in cm (integer, rounded). */
  distance: number;
  /** ECMA-419 Proximity: maximum range of the mode, cm. */
  max: number;
  /** ECMA-419 Proximity: target at or below `nearMm`. */
  near: boolean;
}

const MODEL_ID = 0xeacc;
const VALID = 9;
// ST's timeout codes for registers 0x005E and 0x0061, by mode and budget.
const TIMING: Record<Vl53l1xDistanceMode, Record<number, [number, number]>> = {
  short: { 20: [0x0051, 0x006e], 33: [0x00d6, 0x006e], 50: [0x01ae, 0x01e8], 100: [0x02e1, 0x0388], 200: [0x03e1, 0x0496], 500: [0x0591, 0x05c1] },
  long: { 33: [0x0060, 0x006e], 50: [0x00ad, 0x00c6], 100: [0x01cc, 0x01ea], 200: [0x02d9, 0x02f8], 500: [0x048f, 0x04a4] },
};
// 0x004B, 0x0060, 0x0063, 0x0069 (bytes) and 0x0078, 0x007A (words).
const MODE_REGS: Record<Vl53l1xDistanceMode, [number, number, number, number, number, number]> = {
  short: [0x14, 0x07, 0x05, 0x38, 0x0705, 0x0606],
  long: [0x0a, 0x0f, 0x0d, 0xb8, 0x0f0d, 0x0e0e],
};
// Raw range status (bits 4:0 of 0x0089) → ST's status numbers; 255 = undefined.
const STATUS = [255, 255, 255, 5, 2, 4, 1, 7, 3, 0, 255, 255, 9, 13, 255, 255, 255, 255, 10, 6, 255, 255, 11, 12];

/** VL53L1X driver (ECMA-419 sensor class pattern). */
export default class Vl53l1x {
  #io: I2CIO | undefined;
  #mode: Vl53l1xDistanceMode = "long";
  #budgetMs = 100;
  #nearMm = 300;
  #ranging = false;
  #lastStream = -1;
  #rangeStatus = 255;
  readonly #index = new Uint8Array(2);
  // Transfer buffers, allocated once: the sample path allocates only its result.
  readonly #out = new Uint8Array(6);
  readonly #w3 = this.#out.subarray(0, 3);
  readonly #w4 = this.#out.subarray(0, 4);
  readonly #one = new Uint8Array(1);
  readonly #two = new Uint8Array(2);
  readonly #block = new Uint8Array(17);

  constructor(options: Vl53l1xOptions) {
    const s = options.sensor;
    const open: { data: number; clock: number; hz: number; address: number; port?: number } = {
      data: s.data,
      clock: s.clock,
      hz: s.hz ?? 400000,
      address: s.address ?? 0x29,
    };
    if (s.port !== undefined) open.port = s.port;
    this.#io = new s.io(open);
    initOrRelease(this.#io, () => this.#init(options));
  }

  #init(options: Vl53l1xOptions): void {
    this.#waitBoot(options.bootTimeoutMs ?? 100);
    const id = this.#read16(0x010f);
    if (id !== MODEL_ID) throw new SensorError("id", `VL53L1X: model id 0x${id.toString(16)}, expected 0xeacc`);
    this.#write8(0x0030, 0x01);
    this.#write8(0x0046, 0x20);
    this.#apply(options.distanceMode ?? "long", options.timingBudgetMs ?? 100);
    // ST's one-time VHV (temperature) calibration run.
    this.#start();
    this.#waitReady();
    this.#write8(0x0086, 0x01);
    this.#stop();
    this.#write8(0x0008, 0x09);
    this.#write8(0x000b, 0x00);
    if (options.nearMm !== undefined) this.configure({ nearMm: options.nearMm });
  }

  /** Changes distance mode, timing budget or the near threshold; ranging restarts at the next sample. */
  configure(options: Vl53l1xConfig): void {
    if (options.nearMm !== undefined) {
      if (!Number.isInteger(options.nearMm) || options.nearMm < 0 || options.nearMm > 4000) throw new RangeError(`nearMm must be an integer in 0..4000`);
      this.#nearMm = options.nearMm;
    }
    if (options.distanceMode !== undefined || options.timingBudgetMs !== undefined) {
      const mode = options.distanceMode ?? this.#mode;
      const budget = options.timingBudgetMs ?? this.#budgetMs;
      if (!TIMING[mode]) throw new RangeError(`unknown distance mode ${mode}`);
      if (!TIMING[mode][budget]) throw new RangeError(`timing budget ${budget} ms not available in ${mode} mode`);
      if (this.#ranging) this.#stop();
      this.#apply(mode, budget);
    }
  }

  /** Waits for the next range and returns it; throws `SensorError` for invalid ranges, timeouts, a stuck core or bus failures. */
  sample(): Vl53l1xSample {
    if (!this.#ranging) this.#start();
    const pollMs = Math.max(1, this.#budgetMs >> 3);
    const deadline = Time.ticks + 2 * this.#budgetMs + 50;
    let repeats = 0;
    for (;;) {
      if (this.#ready()) {
        this.#readBlock();
        this.#write8(0x0086, 0x01);
        const stream = this.#block[2];
        if (stream !== this.#lastStream) {
          this.#lastStream = stream;
          break;
        }
        repeats++;
      }
      if (Time.ticks >= deadline) {
        if (repeats > 0) throw new SensorError("stuck", `VL53L1X: data ready ${repeats} times without a new range`);
        this.#ranging = false;
        throw new SensorError("timeout", `VL53L1X: no data ready within ${2 * this.#budgetMs + 50} ms`);
      }
      Timer.delay(pollMs);
    }
    const b = this.#block;
    const raw = b[0] & 0x1f;
    this.#rangeStatus = raw < STATUS.length ? STATUS[raw] : 255;
    if (raw !== VALID) throw new SensorError("range", `VL53L1X: range status ${this.#rangeStatus} (raw ${raw})`);
    const mm = (b[13] << 8) | b[14];
    return { distanceMm: mm, distance: (mm * 6554 + 32768) >> 16, max: this.#mode === "short" ? 130 : 400, near: mm <= this.#nearMm };
  }

  /** ST range status of the last range read (0 = valid, 255 before any). */
  get rangeStatus(): number {
    return this.#rangeStatus;
  }

  /** Stops ranging (0x0087 = 0x80) to save power; the next `sample()` restarts it. */
  stop(): void {
    if (this.#ranging) this.#stop();
  }

  /** Stops ranging and releases the bus. */
  close(): void {
    if (this.#io && this.#ranging) {
      try {
        this.#stop();
      } catch {
        // Closing must not fail because the sensor has gone.
      }
    }
    this.#io?.close();
    this.#io = undefined;
  }

  #open(): I2CIO {
    if (!this.#io) throw new Error("VL53L1X closed");
    return this.#io;
  }

  #waitBoot(timeoutMs: number): void {
    const deadline = Time.ticks + timeoutMs;
    let answered = false;
    for (;;) {
      try {
        if (this.#read8(0x00e5) & 0x01) return;
        answered = true;
      } catch (e) {
        if (!(e instanceof SensorError) || e.fault !== "nack") throw e;
      }
      if (Time.ticks >= deadline) {
        if (answered) throw new SensorError("timeout", `VL53L1X: not booted after ${timeoutMs} ms`);
        throw new SensorError("nack", `VL53L1X: no answer at boot within ${timeoutMs} ms`);
      }
      Timer.delay(1);
    }
  }

  #apply(mode: Vl53l1xDistanceMode, budget: number): void {
    const m = MODE_REGS[mode];
    this.#write8(0x004b, m[0]);
    this.#write8(0x0060, m[1]);
    this.#write8(0x0063, m[2]);
    this.#write8(0x0069, m[3]);
    this.#write16(0x0078, m[4]);
    this.#write16(0x007a, m[5]);
    const t = TIMING[mode][budget];
    this.#write16(0x005e, t[0]);
    this.#write16(0x0061, t[1]);
    const pll = this.#read16(0x00de) & 0x3ff;
    const base = pll * budget;
    // × 1.075 as base + base·77/1024 (= × 1.0752).
    this.#write32(0x006c, base + ((base * 77) >> 10));
    this.#mode = mode;
    this.#budgetMs = budget;
  }

  #start(): void {
    this.#write8(0x0087, 0x40);
    this.#ranging = true;
    this.#lastStream = -1;
  }

  #stop(): void {
    this.#write8(0x0087, 0x80);
    this.#ranging = false;
  }

  /** Data ready: 0x0031 bit 0 equals the polarity (1 when 0x0030 bit 4 is clear); both bytes in one transfer. */
  #ready(): boolean {
    onBus("VL53L1X read", () => {
      this.#setIndex(0x0030);
      this.#open().read(this.#two);
    });
    const activeHigh = (this.#two[0] & 0x10) === 0;
    return (this.#two[1] & 0x01) === (activeHigh ? 1 : 0);
  }

  #waitReady(): void {
    const deadline = Time.ticks + 2 * this.#budgetMs + 50;
    while (!this.#ready()) {
      if (Time.ticks >= deadline) throw new SensorError("timeout", "VL53L1X: no data ready during initialisation");
      Timer.delay(Math.max(1, this.#budgetMs >> 3));
    }
  }

  #setIndex(reg: number): void {
    this.#index[0] = reg >> 8;
    this.#index[1] = reg & 0xff;
    this.#open().write(this.#index, false);
  }

  #read8(reg: number): number {
    return onBus("VL53L1X read", () => {
      this.#setIndex(reg);
      this.#open().read(this.#one);
      return this.#one[0];
    });
  }

  #read16(reg: number): number {
    return onBus("VL53L1X read", () => {
      this.#setIndex(reg);
      this.#open().read(this.#two);
      return (this.#two[0] << 8) | this.#two[1];
    });
  }

  #readBlock(): void {
    onBus("VL53L1X read", () => {
      this.#setIndex(0x0089);
      this.#open().read(this.#block);
    });
  }

  #write(buffer: Uint8Array): void {
    onBus("VL53L1X write", () => this.#open().write(buffer));
  }

  #write8(reg: number, value: number): void {
    const o = this.#out;
    o[0] = reg >> 8;
    o[1] = reg & 0xff;
    o[2] = value;
    this.#write(this.#w3);
  }

  #write16(reg: number, value: number): void {
    const o = this.#out;
    o[0] = reg >> 8;
    o[1] = reg & 0xff;
    o[2] = value >> 8;
    o[3] = value & 0xff;
    this.#write(this.#w4);
  }

  #write32(reg: number, value: number): void {
    const o = this.#out;
    o[0] = reg >> 8;
    o[1] = reg & 0xff;
    o[2] = (value >>> 24) & 0xff;
    o[3] = (value >>> 16) & 0xff;
    o[4] = (value >>> 8) & 0xff;
    o[5] = value & 0xff;
    this.#write(o);
  }
}
