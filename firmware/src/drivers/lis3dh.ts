/**
 * ST LIS3DH / LIS2DH12 3-axis accelerometer on I2C (0x18, or 0x19 with SA0
 * high): the level node's lid and bin-position sensor.
 *
 * Opening waits out the 5 ms boot (NACKs meanwhile), checks WHO_AM_I (0x0F =
 * 0x33, else `SensorError("id")`) and writes CTRL_REG1..6 (0x20–0x25) in one
 * auto-increment burst (register address | 0x80): output rate, mode (12-bit
 * high resolution by default), full scale, block data update, interrupt
 * routing and latching.
 *
 * `sample()` reads STATUS (0x27) and returns undefined unless ZYXDA says a new
 * sample is there; otherwise it reads OUT_X_L..OUT_Z_H (0x28, auto-increment)
 * in one transfer and returns a fresh `{ x, y, z, tiltDeg }`: x, y, z in
 * integer mg (left-justified values shifted right by 4/6/8 for 12/10/8-bit
 * modes, times 1/2/4/12 mg per digit in high resolution at ±2/4/8/16 g, ×4 in
 * normal mode, ×16 in low power). These are mg, not the ECMA-419
 * Accelerometer's m/s², so everything stays integer. `tiltDeg` is the angle
 * between the measured acceleration and the sensor's +Z axis (0 upright, 90 on
 * its side, 180 upside down), integer degrees, from `tiltDegrees()`.
 *
 * Events (latched until read): interrupt generator 1 (INT1_CFG/SRC/THS/DURATION,
 * 0x30–0x33, routed to the INT1 pin) watches for motion such as a lid being
 * opened: high-pass-filtered data (the filter is reset by reading REFERENCE
 * 0x26 after configuring, so gravity does not count), OR of X/Y/Z high events,
 * |a| above `motionThresholdMg` for `motionDurationMs`. Generator 2 (0x34–0x37,
 * routed to INT2) watches for the bin being tipped: unfiltered Z low event,
 * |z| below cos(`tiltThresholdDeg`) g for `tiltDurationMs`; an upside-down bin
 * has passed through that band, so the latch catches it. Thresholds are
 * quantized to the generator's LSB (16/32/62/186 mg by full scale), durations
 * to 1/ODR and at most 127 samples (a default duration is capped to that at
 * high rates; an explicit longer one is a RangeError). `events()` reads INT1_SRC (0x31) and INT2_SRC (0x35), which clears
 * the latches, and reports which fired.
 *
 * Faults: bus failures are `SensorError("nack")`; with `stuckSamples` > 0 (off
 * by default: at ±8/16 g a still sensor's noise is below one digit, so
 * identical samples are normal), that many consecutive identical samples are
 * `SensorError("stuck")`.
 */
import Timer from "timer";
import { SensorError, busError, onBus } from "./sensor-error.ts";
import { initOrRelease } from "./bus-handle.ts";

/** The parts of an ECMA-419 I2C instance this driver uses. */
export interface I2CIO {
  write(buffer: ArrayBufferView, stop?: boolean): void;
  read(buffer: ArrayBufferView, stop?: boolean): unknown;
  close(): void;
}

/** An ECMA-419 I2C constructor (`embedded:io/i2c`). */
export type I2CConstructor = new (options: { data: number; clock: number; hz: number; address: number; port?: number }) => I2CIO;

/** Resolution mode: 12-bit, 10-bit or 8-bit output. */
export type Lis3dhMode = "high-resolution" | "normal" | "low-power";

/** Settings that `configure()` accepts (all optional; unspecified ones keep their current value). */
export interface Lis3dhConfig {
  /** Full scale, ±g: 2, 4, 8 or 16 (default 2). */
  rangeG?: 2 | 4 | 8 | 16;
  /** Output data rate, Hz: 1, 10, 25, 50, 100, 200 or 400 (default 10). */
  rateHz?: number;
  /** Default "high-resolution". */
  mode?: Lis3dhMode;
  /** Motion (lid) event threshold on high-passed data, mg; 0 disables (default 200). */
  motionThresholdMg?: number;
  /** Motion must last this long, ms (default 0: one sample). */
  motionDurationMs?: number;
  /** Tipped event when tilted beyond this many degrees from upright, 10–80; 0 disables (default 45). */
  tiltThresholdDeg?: number;
  /** Tipped must last this long, ms (default 1000). */
  tiltDurationMs?: number;
  /** Latch events until `events()` reads them (default true). */
  latch?: boolean;
  /** Consecutive identical samples that mean a stuck sensor; 0 = off (default). */
  stuckSamples?: number;
}

/** Constructor options. */
export interface Lis3dhOptions extends Lis3dhConfig {
  /** IO bag: the I2C constructor, pins, speed (default 400 kHz) and address (default 0x18). */
  sensor: { io: I2CConstructor; data: number; clock: number; hz?: number; address?: number; port?: number };
  /** Longest wait for the boot, ms (default 20). */
  bootTimeoutMs?: number;
  /**
   * The chip was given these same settings at an earlier wake and has stayed powered since (the node keeps
   * that across deep sleep). If CTRL_REG1 still reads as they set it (a power loss resets its data rate to
   * 0), the driver only re-arms the events (resets the high-pass filter, clears the latches) instead of
   * writing every register and waiting a sample (1/ODR + 2 ms: 102 ms at 10 Hz).
   */
  configured?: boolean;
}

/** One reading. */
export interface Lis3dhSample {
  /** Acceleration along X, integer mg. */
  x: number;
  /** Acceleration along Y, integer mg. */
  y: number;
  /** Acceleration along Z, integer mg (lying flat: about +1000). */
  z: number;
  /** Angle from the +Z axis, integer degrees 0–180 (within 0.51° of exact; 0 for a zero vector). */
  tiltDeg: number;
}

/** Which latched events fired since the last `events()`. */
export interface Lis3dhEvents {
  /** Generator 1: motion above the threshold (e.g. the lid opened). */
  motion: boolean;
  /** Generator 2: tilted beyond the threshold (the bin tipped). */
  tipped: boolean;
  /** INT1_SRC as read (IA bit 6, ZH ZL YH YL XH XL in bits 5–0). */
  int1Src: number;
  /** INT2_SRC as read. */
  int2Src: number;
}

const WHO_AM_I = 0x33;
const RATES = [1, 10, 25, 50, 100, 200, 400];
const RANGES = [2, 4, 8, 16];
const THS_MG = [16, 32, 62, 186];
const DIGIT_MG: Record<Lis3dhMode, number[]> = {
  "high-resolution": [1, 2, 4, 12],
  normal: [4, 8, 16, 48],
  "low-power": [16, 32, 64, 192],
};
const SHIFT: Record<Lis3dhMode, number> = { "high-resolution": 4, normal: 6, "low-power": 8 };

// CORDIC angle table: atan(2^-i) in degrees, Q16.
const ATAN_Q16 = [2949120, 1740967, 919879, 466945, 234379, 117304, 58666, 29335, 14668, 7334, 3667, 1833, 917, 458, 229, 115, 57, 29];

/**
 * Tilt from the +Z axis, atan2(√(x² + y²), z) in integer degrees 0–180, with
 * integer arithmetic only: inputs are scaled so the largest is in [2^27, 2^28),
 * one CORDIC vectoring pass gives √(x² + y²)·K, z is multiplied by the same
 * gain K (1 + 2649/4096), and a second pass gives the angle in Q16 degrees.
 * 18 iterations leave < 0.01° of error before rounding, so the result is within
 * 0.51° of the exact angle for any non-zero vector of integers below 2^30;
 * a zero vector gives 0.
 */
export function tiltDegrees(x: number, y: number, z: number): number {
  let ax = Math.abs(x);
  let ay = Math.abs(y);
  let zs = z;
  const m = Math.max(ax, ay, Math.abs(z));
  if (m === 0) return 0;
  const shift = Math.clz32(m) - 4;
  if (shift >= 0) {
    ax <<= shift;
    ay <<= shift;
    zs <<= shift;
  } else {
    ax >>= -shift;
    ay >>= -shift;
    zs >>= -shift;
  }
  // Pass 1: (ax, ay) → (|(x, y)|·K, 0).
  for (let i = 0; i < ATAN_Q16.length; i++) {
    const dx = ay >> i;
    const dy = ax >> i;
    if (ay > 0) {
      ax += dx;
      ay -= dy;
    } else {
      ax -= dx;
      ay += dy;
    }
  }
  // Pass 2: angle of (z·K, |(x, y)|·K).
  let px = zs + Math.imul(zs >> 12, 2649);
  let py = ax;
  let angle = 0;
  if (px < 0) {
    // Rotate by −90° so the vector starts in the first quadrant.
    const t = px;
    px = py;
    py = -t;
    angle = 90 << 16;
  }
  for (let i = 0; i < ATAN_Q16.length; i++) {
    const dx = py >> i;
    const dy = px >> i;
    if (py > 0) {
      px += dx;
      py -= dy;
      angle += ATAN_Q16[i];
    } else {
      px -= dx;
      py += dy;
      angle -= ATAN_Q16[i];
    }
  }
  return (angle + 32768) >> 16;
}

/** LIS3DH / LIS2DH12 driver (ECMA-419 sensor class pattern). */
export default class Lis3dh {
  #io: I2CIO | undefined;
  #rateHz = 10;
  #rangeG = 2;
  #mode: Lis3dhMode = "high-resolution";
  #motionMg = 200;
  #motionMs = 0;
  #tiltDeg = 45;
  #tiltMs = 1000;
  #latch = true;
  #stuckSamples = 0;
  #same = 0;
  // Transfer buffers, allocated once.
  readonly #burst = new Uint8Array(7);
  readonly #addr = new Uint8Array(1);
  readonly #pair = new Uint8Array(2);
  readonly #one = new Uint8Array(1);
  readonly #raw = new Uint8Array(6);
  readonly #prev = new Uint8Array(6);

  constructor(options: Lis3dhOptions) {
    const s = options.sensor;
    const open: { data: number; clock: number; hz: number; address: number; port?: number } = {
      data: s.data,
      clock: s.clock,
      hz: s.hz ?? 400000,
      address: s.address ?? 0x18,
    };
    if (s.port !== undefined) open.port = s.port;
    this.#io = new s.io(open);
    initOrRelease(this.#io, () => {
      const id = this.#waitBoot(options.bootTimeoutMs ?? 20);
      if (id !== WHO_AM_I) throw new SensorError("id", `LIS3DH: WHO_AM_I 0x${id.toString(16)}, expected 0x33`);
      this.#configure(options, options.configured === true);
    });
  }

  /**
   * Applies settings. With an event enabled it waits for the first sample
   * (1/ODR + 2 ms) to reset the high-pass filter and clear stale latches.
   */
  configure(options: Lis3dhConfig): void {
    this.#configure(options, false);
  }

  /** `configure`, or with `kept` only a check that the chip still holds the settings and a re-arm of its events. */
  #configure(options: Lis3dhConfig, kept: boolean): void {
    const rate = options.rateHz ?? this.#rateHz;
    const range = options.rangeG ?? this.#rangeG;
    const mode = options.mode ?? this.#mode;
    const motionMg = options.motionThresholdMg ?? this.#motionMg;
    const motionMs = options.motionDurationMs ?? this.#motionMs;
    const tiltDeg = options.tiltThresholdDeg ?? this.#tiltDeg;
    const tiltMs = options.tiltDurationMs ?? this.#tiltMs;
    const rateCode = RATES.indexOf(rate) + 1;
    if (rateCode === 0) throw new RangeError(`rateHz must be one of ${RATES.join(", ")}`);
    const fs = RANGES.indexOf(range);
    if (fs < 0) throw new RangeError(`rangeG must be one of ${RANGES.join(", ")}`);
    if (!DIGIT_MG[mode]) throw new RangeError(`unknown mode ${mode}`);
    checkInteger("motionDurationMs", motionMs, 0, 600000);
    checkInteger("tiltDurationMs", tiltMs, 0, 600000);
    checkInteger("motionThresholdMg", motionMg, 0, 127 * THS_MG[fs]);
    if (!(tiltDeg === 0 || (Number.isInteger(tiltDeg) && tiltDeg >= 10 && tiltDeg <= 80))) throw new RangeError("tiltThresholdDeg must be 0 or an integer in 10..80");
    if (options.stuckSamples !== undefined) checkInteger("stuckSamples", options.stuckSamples, 0, 100000);
    const motionThs = motionMg ? Math.max(1, Math.ceil(motionMg / THS_MG[fs])) : 0;
    // cos θ in mg, quantized to the generator's LSB (configuration path: floating point is fine here).
    const tiltThs = tiltDeg ? Math.round((1000 * Math.cos((tiltDeg * Math.PI) / 180)) / THS_MG[fs]) : 0;
    // The duration registers hold 127 samples: an explicit longer request is an error, a carried-over one is capped.
    let motionDur = Math.ceil((motionMs * rate) / 1000);
    let tiltDur = Math.ceil((tiltMs * rate) / 1000);
    const cap = `event durations must be at most 127 samples (${Math.floor(127000 / rate)} ms at ${rate} Hz)`;
    if ((motionDur > 127 && options.motionDurationMs !== undefined) || (tiltDur > 127 && options.tiltDurationMs !== undefined)) throw new RangeError(cap);
    motionDur = Math.min(127, motionDur);
    tiltDur = Math.min(127, tiltDur);

    this.#rateHz = rate;
    this.#rangeG = range;
    this.#mode = mode;
    this.#motionMg = motionMg;
    this.#motionMs = motionMs;
    this.#tiltDeg = tiltDeg;
    this.#tiltMs = tiltMs;
    if (options.latch !== undefined) this.#latch = options.latch;
    if (options.stuckSamples !== undefined) this.#stuckSamples = options.stuckSamples;
    this.#same = 0;

    const b = this.#burst;
    b[0] = 0x20 | 0x80;
    b[1] = (rateCode << 4) | (mode === "low-power" ? 0x08 : 0) | 0x07; // CTRL_REG1: ODR, LPen, Z Y X on
    b[2] = motionThs ? 0x01 : 0x00; // CTRL_REG2: normal high-pass (reset by REFERENCE) for generator 1 only
    b[3] = motionThs ? 0x40 : 0x00; // CTRL_REG3: I1_IA1
    b[4] = 0x80 | (fs << 4) | (mode === "high-resolution" ? 0x08 : 0); // CTRL_REG4: BDU, FS, HR
    b[5] = this.#latch ? 0x0a : 0x00; // CTRL_REG5: LIR_INT1, LIR_INT2
    b[6] = tiltThs ? 0x20 : 0x00; // CTRL_REG6: I2_IA2, active high
    if (kept && this.#read8(0x20) === b[1]) {
      // Still running as set: samples are flowing, so the high-pass filter can be reset and the latches cleared now.
      if (motionThs || tiltThs) {
        this.#read8(0x26);
        this.#read8(0x31);
        this.#read8(0x35);
      }
      return;
    }
    // Interrupt generators off while the rest changes.
    this.#write8(0x30, 0);
    this.#write8(0x34, 0);
    onBus("LIS3DH write", () => this.#open().write(b));
    this.#write8(0x32, motionThs);
    this.#write8(0x33, motionDur);
    this.#write8(0x36, tiltThs);
    this.#write8(0x37, tiltDur);
    if (motionThs || tiltThs) {
      Timer.delay(Math.ceil(1000 / rate) + 2);
      this.#read8(0x26); // resets the high-pass filter to the current acceleration
      this.#write8(0x30, motionThs ? 0x2a : 0); // OR of X, Y, Z high events
      this.#write8(0x34, tiltThs ? 0x10 : 0); // Z low event
      this.#read8(0x31);
      this.#read8(0x35);
    }
  }

  /** The newest sample if one arrived since the last read, else undefined. */
  sample(): Lis3dhSample | undefined {
    if (!(this.#read8(0x27) & 0x08)) return undefined;
    const raw = this.#raw;
    onBus("LIS3DH read", () => {
      this.#addr[0] = 0x28 | 0x80;
      this.#open().write(this.#addr, false);
      this.#open().read(raw);
    });
    if (this.#stuckSamples > 0) {
      let same = true;
      for (let i = 0; i < 6; i++) {
        if (raw[i] !== this.#prev[i]) same = false;
        this.#prev[i] = raw[i];
      }
      this.#same = same ? this.#same + 1 : 1;
      if (this.#same >= this.#stuckSamples) throw new SensorError("stuck", `LIS3DH: ${this.#same} identical samples`);
    }
    const shift = SHIFT[this.#mode];
    const mg = DIGIT_MG[this.#mode][RANGES.indexOf(this.#rangeG)];
    // Little-endian 16-bit words; << 16 >> shift sign-extends and drops the unused low bits.
    const x = Math.imul((((raw[1] << 8) | raw[0]) << 16) >> (16 + shift), mg);
    const y = Math.imul((((raw[3] << 8) | raw[2]) << 16) >> (16 + shift), mg);
    const z = Math.imul((((raw[5] << 8) | raw[4]) << 16) >> (16 + shift), mg);
    return { x, y, z, tiltDeg: tiltDegrees(x, y, z) };
  }

  /** Reads and clears the latched events (INT1_SRC 0x31, INT2_SRC 0x35). */
  events(): Lis3dhEvents {
    const int1Src = this.#read8(0x31);
    const int2Src = this.#read8(0x35);
    return { motion: (int1Src & 0x40) !== 0, tipped: (int2Src & 0x40) !== 0, int1Src, int2Src };
  }

  /** Powers the sensor down (ODR 0) and releases the bus. */
  close(): void {
    if (this.#io) {
      try {
        this.#write8(0x20, 0x07);
      } catch {
        // Closing must not fail because the sensor has gone.
      }
      this.#io.close();
    }
    this.#io = undefined;
  }

  #open(): I2CIO {
    if (!this.#io) throw new Error("LIS3DH closed");
    return this.#io;
  }

  /** Polls WHO_AM_I until the chip answers; returns it. */
  #waitBoot(timeoutMs: number): number {
    let waited = 0;
    for (;;) {
      try {
        return this.#read8(0x0f);
      } catch (e) {
        if (!(e instanceof SensorError) || waited >= timeoutMs) throw e;
      }
      Timer.delay(1);
      waited++;
    }
  }

  // Register transfers catch bus errors as onBus does, without a closure per transfer (a dozen per wake).
  #read8(reg: number): number {
    this.#addr[0] = reg;
    try {
      this.#open().write(this.#addr, false);
      this.#open().read(this.#one);
    } catch (e) {
      throw busError("LIS3DH read", e);
    }
    return this.#one[0];
  }

  #write8(reg: number, value: number): void {
    this.#pair[0] = reg;
    this.#pair[1] = value;
    try {
      this.#open().write(this.#pair);
    } catch (e) {
      throw busError("LIS3DH write", e);
    }
  }
}

function checkInteger(name: string, v: number, min: number, max: number): void {
  if (!Number.isInteger(v) || v < min || v > max) throw new RangeError(`${name} must be an integer in ${min}..${max}, got ${v}`);
}
