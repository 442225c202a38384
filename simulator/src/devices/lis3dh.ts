/**
 * Emulated ST LIS3DH (and register-compatible LIS2DH12) 3-axis accelerometer
 * on I2C (0x18 with SA0 low, 0x19 high), written from the datasheet facts.
 *
 * Bus: the first byte written is the register address; its bit 7 turns on
 * auto-increment, without it every byte of a burst goes to (or comes from) the
 * same register. WHO_AM_I 0x0F = 0x33.
 *
 * Modelled: CTRL_REG1 0x20 (ODR in bits 7:4: 1, 10, 25, 50, 100, 200, 400,
 * 1600 (low power), 1344/5376 Hz; LPen bit 3), CTRL_REG2 0x21 (high-pass mode,
 * cutoff, FDS, HP_IA2/HP_IA1), CTRL_REG3 0x22 (I1_IA1, I1_ZYXDA), CTRL_REG4 0x23
 * (BLE, full scale ±2/4/8/16 g, HR), CTRL_REG5 0x24 (BOOT, LIR_INT1, LIR_INT2),
 * CTRL_REG6 0x25 (I2_IA1, I2_IA2, INT_POLARITY), REFERENCE 0x26 (reading it
 * resets the high-pass filter in normal mode), STATUS 0x27 (ZYXDA, ZYXOR;
 * cleared by reading OUT_Z_H), OUT_X_L..OUT_Z_H 0x28–0x2D (left-justified
 * two's complement: 12-bit high resolution at 1/2/4/12 mg per digit, 10-bit
 * normal at 4/8/16/48, 8-bit low power at 16/32/64/192), and two inertial
 * interrupt generators INT1/INT2_CFG/SRC/THS/DURATION 0x30–0x37: OR/AND of
 * high/low events compared on absolute values (ST's free-fall recipe, an AND
 * of low events, only works that way), or 6D position/movement on signed
 * values; threshold LSB 16/32/62/186 mg by full scale; duration in 1/ODR;
 * latched until INTx_SRC is read when LIR is set.
 *
 * Physics: a sample every 1/ODR (first one 1/ODR + 1 ms after the ODR is set)
 * of `acceleration(t)` (mg, gravity included), with a per-axis zero-g offset
 * (sd 15 mg, within ±40), a sensitivity error (sd 1 %, within ±3 %), and noise
 * of 220 µg/√Hz over ODR/2 (high resolution 0.7×, low power 2.5×) clipped at 3.5 sd.
 *
 * Timing: 5 ms boot after power-up (NACK meanwhile). Large clock jumps are
 * replayed sample by sample while an interrupt generator is enabled, so events
 * during a node's sleep latch as on the chip; otherwise only the last 64 samples are.
 *
 * Steady stretches: while `acceleration` is known to stay constant
 * (`steadyUntil`), the interrupt generators' outcome over many samples is
 * decided without drawing the noise of each, when the noise bound cannot
 * change it: every enabled axis event is provably on or off for every sample
 * (measured data: |gain·a + offset| beyond the threshold by more than the
 * clipped noise; high-passed data: |deviation of the filter| + noise below
 * it, the deviation decaying geometrically and never exceeding
 * max(initial, noise bound)). Then all but the last sample of the stretch are
 * settled at once (duration counter, latches, overrun bit, filter reference
 * advanced by its decay) and the last sample is taken as usual. A stretch
 * where the outcome could depend on the noise is replayed sample by sample.
 *
 * Faults: `nack` (p per transfer, default 1), `disconnect` (a short read, then
 * every transfer NACKs), `stuck` (the output registers freeze while STATUS
 * still reports new data), `slow-start` (boot takes `ms`, default 200) and
 * `wrong-id` (WHO_AM_I reads `id`, default 0x32).
 */
import { BusError, type I2CDevice } from "../core/board.ts";
import type { VirtualClock } from "../core/clock.ts";
import type { Rng } from "../core/rng.ts";

/** True acceleration on the sensor's axes, mg (gravity included: lying flat, z = +1000). */
export interface Lis3dhAcceleration {
  x: number;
  y: number;
  z: number;
}

/** Faults this emulator can inject. */
export type Lis3dhFault = "nack" | "disconnect" | "stuck" | "slow-start" | "wrong-id";

/** Options of `inject()`. */
export interface Lis3dhFaultOptions {
  /** nack: probability per transfer (default 1). */
  p?: number;
  /** slow-start: boot time, ms (default 200). */
  ms?: number;
  /** wrong-id: WHO_AM_I value (default 0x32). */
  id?: number;
}

/** Constructor options. */
export interface Lis3dhOptions {
  clock: VirtualClock;
  rng: Rng;
  /** The true acceleration at virtual time `tMs`, mg. */
  acceleration: (tMs: number) => Lis3dhAcceleration;
  /** Boot time after power-up, ms (default 5). */
  bootMs?: number;
  /**
   * Until when `acceleration` keeps the value it has at `tMs` (ms, > tMs;
   * Infinity: for ever). Lets long steady stretches be settled without
   * replaying every sample (see "Steady stretches" above). Default: never
   * known, every sample is replayed.
   */
  steadyUntil?: (tMs: number) => number;
}

const ODR_HZ = [0, 1, 10, 25, 50, 100, 200, 400, 1600];
const HR_MG = [1, 2, 4, 12];
const NORMAL_MG = [4, 8, 16, 48];
const LP_MG = [16, 32, 64, 192];
const THS_MG = [16, 32, 62, 186];
// High-pass cutoff as a fraction of ODR, by HPCF.
const HP_CUTOFF = [1 / 50, 1 / 100, 1 / 200, 1 / 500];
const CATCH_UP_LIMIT = 64;

interface Generator {
  count: number;
  active: boolean;
  src: number;
  position: number;
}

/** ST LIS3DH as seen on the I2C bus. */
export class Lis3dh implements I2CDevice {
  readonly #clock: VirtualClock;
  readonly #rng: Rng;
  readonly #faultRng: Rng;
  readonly #accel: (tMs: number) => Lis3dhAcceleration;
  readonly #steadyUntil: ((tMs: number) => number) | undefined;
  readonly #bootMs: number;
  readonly #faults = new Map<Lis3dhFault, Lis3dhFaultOptions>();
  readonly #reg = new Uint8Array(0x40);
  readonly #offset: number[];
  readonly #gain: number[];
  #sub = 0;
  #autoInc = false;
  #bootedAtMs: number;
  #nextSampleMs = Infinity;
  // Per-axis state and scratch, written in place: a level node's pin poll samples the chip every
  // 10 s of virtual time, so #sample and #settleSteady run about once per poll and allocate nothing.
  readonly #last = new Float64Array(3);
  readonly #hpRef = new Float64Array(3);
  readonly #measured = new Float64Array(3);
  readonly #hp = new Float64Array(3);
  readonly #base = new Float64Array(3);
  readonly #gen: [Generator, Generator] = [
    { count: 0, active: false, src: 0, position: 0 },
    { count: 0, active: false, src: 0, position: 0 },
  ];
  #dead = false;
  /** Samples taken, including those skipped over in a long unread gap (for tests). */
  samples = 0;

  constructor(options: Lis3dhOptions) {
    this.#clock = options.clock;
    this.#rng = options.rng;
    this.#faultRng = options.rng.fork("faults");
    this.#accel = options.acceleration;
    this.#steadyUntil = options.steadyUntil;
    this.#bootMs = options.bootMs ?? 5;
    const unit = options.rng.fork("unit");
    const clip = (v: number, lim: number) => Math.max(-lim, Math.min(lim, v));
    this.#offset = [0, 1, 2].map(() => clip(unit.normal(0, 15), 40));
    this.#gain = [0, 1, 2].map(() => 1 + clip(unit.normal(0, 0.01), 0.03));
    this.#bootedAtMs = this.#clock.nowMs + this.#bootMs;
    this.#reset();
  }

  inject(fault: Lis3dhFault, options: Lis3dhFaultOptions = {}): void {
    this.#faults.set(fault, options);
    if (fault === "slow-start") {
      this.#reset();
      this.#bootedAtMs = this.#clock.nowMs + (options.ms ?? 200);
    }
  }

  clear(fault: Lis3dhFault): void {
    this.#faults.delete(fault);
    if (fault === "disconnect") this.#dead = false;
  }

  /** Level of the INT1 pin now. */
  get int1(): number {
    this.#catchUp();
    const r = this.#reg;
    const on = (r[0x22] & 0x40 && this.#gen[0].active) || (r[0x22] & 0x10 && r[0x27] & 0x08);
    return (on ? 1 : 0) ^ (r[0x25] & 0x02 ? 1 : 0);
  }

  /** Level of the INT2 pin now. */
  get int2(): number {
    this.#catchUp();
    const r = this.#reg;
    const on = (r[0x25] & 0x20 && this.#gen[1].active) || (r[0x25] & 0x40 && this.#gen[0].active);
    return (on ? 1 : 0) ^ (r[0x25] & 0x02 ? 1 : 0);
  }

  i2cWrite(bytes: Uint8Array, _stop: boolean): void {
    this.#check();
    if (bytes.length === 0) throw new BusError("LIS3DH: empty write");
    this.#catchUp();
    this.#sub = bytes[0] & 0x7f;
    this.#autoInc = (bytes[0] & 0x80) !== 0;
    let n = bytes.length - 1;
    if (this.#faults.has("disconnect")) {
      n = this.#faultRng.int(0, n);
      this.#dead = true;
    }
    for (let i = 0; i < n; i++) {
      this.#store(this.#sub, bytes[1 + i]);
      if (this.#autoInc) this.#sub = (this.#sub + 1) & 0x7f;
    }
    if (this.#dead) throw new BusError("LIS3DH: disconnected");
  }

  i2cRead(into: Uint8Array, _stop: boolean): number {
    this.#check();
    this.#catchUp();
    const count = into.length;
    for (let i = 0; i < count; i++) {
      into[i] = this.#load(this.#sub);
      if (this.#autoInc) this.#sub = (this.#sub + 1) & 0x7f;
    }
    if (this.#faults.has("disconnect")) {
      this.#dead = true;
      return this.#faultRng.int(0, count - 1);
    }
    return count;
  }

  #check(): void {
    if (this.#dead) throw new BusError("LIS3DH: no ACK (disconnected)");
    if (this.#clock.nowMs < this.#bootedAtMs) throw new BusError("LIS3DH: no ACK (booting)");
    if (this.#faults.has("nack") && this.#faultRng.chance(this.#faults.get("nack")?.p ?? 1)) throw new BusError("LIS3DH: NACK");
  }

  #reset(): void {
    this.#reg.fill(0);
    this.#reg[0x0f] = 0x33;
    this.#reg[0x1e] = 0x10;
    this.#reg[0x20] = 0x07;
    this.#reg[0x2f] = 0x20;
    this.#nextSampleMs = Infinity;
    this.#hpRef.fill(0);
    for (const g of this.#gen) Object.assign(g, { count: 0, active: false, src: 0, position: 0 });
  }

  #odrHz(): number {
    const code = this.#reg[0x20] >> 4;
    if (code === 9) return this.#reg[0x20] & 0x08 ? 5376 : 1344;
    return ODR_HZ[code] ?? 0;
  }

  /** Output resolution in bits: 8 low power, 12 high resolution, 10 normal. */
  #bits(): number {
    if (this.#reg[0x20] & 0x08) return 8;
    return this.#reg[0x23] & 0x08 ? 12 : 10;
  }

  /** mg per digit of the output at the current resolution and full scale. */
  #mgPerDigit(): number {
    const fs = (this.#reg[0x23] >> 4) & 3;
    if (this.#reg[0x20] & 0x08) return LP_MG[fs];
    return this.#reg[0x23] & 0x08 ? HR_MG[fs] : NORMAL_MG[fs];
  }

  #load(sub: number): number {
    const r = this.#reg;
    if (sub === 0x0f && this.#faults.has("wrong-id")) return this.#faults.get("wrong-id")?.id ?? 0x32;
    if (sub === 0x26 && (r[0x21] >> 6) === 0) this.#hpRef.set(this.#last);
    if (sub === 0x2d) {
      const v = r[0x2d];
      r[0x27] = 0;
      return v;
    }
    if (sub === 0x31 || sub === 0x35) {
      const g = this.#gen[sub === 0x31 ? 0 : 1];
      const v = g.active ? 0x40 | g.src : g.src;
      const latched = r[0x24] & (sub === 0x31 ? 0x08 : 0x02);
      if (latched) {
        g.active = false;
        g.src = 0;
      }
      return v;
    }
    return sub < r.length ? r[sub] : 0;
  }

  #store(sub: number, value: number): void {
    const r = this.#reg;
    if (sub >= r.length) return;
    if (sub === 0x0f || sub === 0x27 || (sub >= 0x28 && sub <= 0x2d) || sub === 0x31 || sub === 0x35 || sub === 0x2f) return;
    if (sub === 0x24 && value & 0x80) {
      // BOOT: reload trimming; registers keep their values in this model.
      r[0x24] = value & 0x7f;
      return;
    }
    const oldOdr = this.#odrHz();
    r[sub] = value;
    if (sub === 0x20) {
      const odr = this.#odrHz();
      if (odr === 0) this.#nextSampleMs = Infinity;
      else if (odr !== oldOdr) this.#nextSampleMs = this.#clock.nowMs + 1000 / odr + 1;
    }
  }

  #catchUp(): void {
    const now = this.#clock.nowMs;
    if (now < this.#nextSampleMs) return;
    const period = 1000 / this.#odrHz();
    let due = Math.floor((now - this.#nextSampleMs) / period) + 1;
    const interrupts = (this.#reg[0x30] & 0x3f) !== 0 || (this.#reg[0x34] & 0x3f) !== 0;
    if (!interrupts && due > CATCH_UP_LIMIT) {
      this.samples += due - CATCH_UP_LIMIT;
      this.#nextSampleMs += (due - CATCH_UP_LIMIT) * period;
      this.#reg[0x27] |= 0xf0; // samples were overwritten unread
      due = CATCH_UP_LIMIT;
    }
    while (due > 0) {
      if (due > 1 && interrupts) {
        const settled = this.#settleSteady(due - 1, period);
        if (settled > 0) {
          due -= settled;
          continue;
        }
      }
      this.#sample(this.#nextSampleMs);
      this.#nextSampleMs += period;
      due--;
    }
  }

  /**
   * The noise-free output of a steady stretch from `t0` into #base (gain,
   * offset) and the clipped noise bound; −1 when no bound decides anything
   * (autoreset high-pass: the reference moves on every event).
   */
  #steadyBase(t0: number): number {
    if (this.#reg[0x21] >> 6 === 3) return -1;
    const a = this.#accel(t0);
    const bits = this.#bits();
    const base = this.#base;
    base[0] = a.x * this.#gain[0] + this.#offset[0];
    base[1] = a.y * this.#gain[1] + this.#offset[1];
    base[2] = a.z * this.#gain[2] + this.#offset[2];
    return 3.5 * 0.22 * Math.sqrt(this.#odrHz() / 2) * (bits === 12 ? 0.7 : bits === 8 ? 2.5 : 1);
  }

  /** Generator k's event bits on every sample of a steady stretch at #base, or −1 when the noise could change them. */
  #steadyHit(k: number, noise: number): number {
    const r = this.#reg;
    const base = this.#base;
    const cfg = r[k === 0 ? 0x30 : 0x34];
    const enabled = cfg & 0x3f;
    if (!enabled) return 0;
    if (cfg & 0xc0) return -1; // AND and 6D modes: replay
    const ths = (r[(k === 0 ? 0x30 : 0x34) + 2] & 0x7f) * THS_MG[(r[0x23] >> 4) & 3];
    const highPassed = (r[0x21] & (k === 0 ? 0x01 : 0x02)) !== 0;
    let hit = 0;
    for (let i = 0; i < 3; i++) {
      const want = enabled & (3 << (2 * i));
      if (!want) continue;
      let high: boolean;
      if (highPassed) {
        const bound = Math.max(Math.abs(base[i] - this.#hpRef[i]), noise) + noise;
        if (!(bound < ths)) return -1;
        high = false;
      } else {
        const m = Math.abs(base[i]);
        if (m - noise > ths) high = true;
        else if (m + noise <= ths) high = false;
        else return -1;
      }
      hit |= want & (high ? 2 << (2 * i) : 1 << (2 * i));
    }
    return hit;
  }

  /**
   * Virtual time until which INT1 provably keeps its level now: data-ready is
   * not routed to it, and the acceleration stays steady until then with no
   * event condition of generator 1 (IA1) holding on any sample, whatever the
   * noise, so nothing can count, latch or release. Now when that cannot be
   * shown. Lets a runner skip looking at the pin while it cannot change (the
   * samples in between are then settled in one step, not one per look, so the
   * noise stream is drawn at other samples: the same statistics, other draws).
   */
  quietUntilMs(): number {
    this.#catchUp();
    const now = this.#clock.nowMs;
    const r = this.#reg;
    if (r[0x22] & 0x10) return now; // data-ready on INT1 toggles with every sample
    if (!(r[0x22] & 0x40)) return Number.POSITIVE_INFINITY; // nothing drives INT1
    const g = this.#gen[0];
    const latched = (r[0x24] & 0x08) !== 0;
    if (g.active && !latched) return now; // an active, unlatched event drops at the next sample without its condition
    if (!this.#steadyUntil || !(r[0x20] >> 4)) return now;
    const t0 = this.#nextSampleMs;
    const until = this.#steadyUntil(t0);
    if (!(until > t0)) return now;
    const noise = this.#steadyBase(t0);
    if (noise < 0 || this.#steadyHit(0, noise) !== 0) return now;
    return until;
  }

  /**
   * Settles up to `max` samples from the next one on at once when the
   * acceleration stays constant over them and the noise cannot change any
   * interrupt generator's outcome; returns how many it settled (0: none).
   */
  #settleSteady(max: number, period: number): number {
    const t0 = this.#nextSampleMs;
    if (!this.#steadyUntil) return 0;
    const until = this.#steadyUntil(t0);
    // Samples at t0, t0 + period, … strictly before `until`.
    const n = Math.min(max, until === Number.POSITIVE_INFINITY ? max : Math.ceil((until - t0) / period));
    if (n < 2) return 0;
    const r = this.#reg;
    const noise = this.#steadyBase(t0);
    if (noise < 0) return 0;
    const hits0 = this.#steadyHit(0, noise);
    if (hits0 < 0) return 0;
    const hits1 = this.#steadyHit(1, noise);
    if (hits1 < 0) return 0;
    // Every generator's condition is fixed over the stretch: apply n samples' worth of it.
    for (let k = 0; k < 2; k++) {
      const g = this.#gen[k];
      const enabled = r[k === 0 ? 0x30 : 0x34] & 0x3f;
      const latched = (r[0x24] & (k === 0 ? 0x08 : 0x02)) !== 0;
      const hit = k === 0 ? hits0 : hits1;
      if (!enabled || hit === 0) {
        g.count = 0;
        if (!latched) {
          g.active = false;
          g.src = 0;
        }
        continue;
      }
      g.count += n;
      if (g.count > (r[(k === 0 ? 0x30 : 0x34) + 3] & 0x7f)) {
        g.active = true;
        g.src = hit;
      } else if (!latched) {
        g.active = false;
        g.src = hit;
      }
    }
    const alpha = 2 * Math.PI * HP_CUTOFF[(r[0x21] >> 4) & 3];
    const decay = Math.pow(1 - alpha, n);
    const base = this.#base;
    for (let i = 0; i < 3; i++) {
      this.#hpRef[i] = base[i] - decay * (base[i] - this.#hpRef[i]);
      this.#last[i] = base[i];
    }
    // New data n times over: the last of them overwrote unread data.
    r[0x27] = 0xff;
    this.samples += n;
    this.#nextSampleMs += n * period;
    return n;
  }

  #sample(tMs: number): void {
    this.samples++;
    const odr = this.#odrHz();
    const bits = this.#bits();
    const mg = this.#mgPerDigit();
    const a = this.#accel(tMs);
    const noiseSd = 0.22 * Math.sqrt(odr / 2) * (bits === 12 ? 0.7 : bits === 8 ? 2.5 : 1);
    const measured = this.#measured;
    // Noise drawn x, y, z in that order (the stream must not shift).
    for (let i = 0; i < 3; i++) {
      const n = Math.max(-3.5 * noiseSd, Math.min(3.5 * noiseSd, this.#rng.normal(0, noiseSd)));
      measured[i] = (i === 0 ? a.x : i === 1 ? a.y : a.z) * this.#gain[i] + this.#offset[i] + n;
    }
    const r = this.#reg;
    // New data on all axes; unread data being replaced sets the overrun bits.
    r[0x27] = (r[0x27] & 0x08 ? 0xf0 : r[0x27] & 0xf0) | 0x0f;
    const hpm = r[0x21] >> 6;
    const alpha = 2 * Math.PI * HP_CUTOFF[(r[0x21] >> 4) & 3];
    const hp = this.#hp;
    for (let i = 0; i < 3; i++) hp[i] = measured[i] - this.#hpRef[i];
    for (let i = 0; i < 3; i++) this.#hpRef[i] += alpha * (measured[i] - this.#hpRef[i]);
    this.#last.set(measured);
    if (!this.#faults.has("stuck")) {
      const out = r[0x21] & 0x08 ? hp : measured;
      const lim = (1 << (bits - 1)) - 1;
      const ble = (r[0x23] & 0x40) !== 0;
      for (let i = 0; i < 3; i++) {
        const digits = Math.max(-lim - 1, Math.min(lim, Math.round(out[i] / mg)));
        const word = (digits << (16 - bits)) & 0xffff;
        r[0x28 + 2 * i + (ble ? 1 : 0)] = word & 0xff;
        r[0x28 + 2 * i + (ble ? 0 : 1)] = word >> 8;
      }
    }
    const fired0 = this.#generator(0, r[0x21] & 0x01 ? hp : measured);
    const fired1 = this.#generator(1, r[0x21] & 0x02 ? hp : measured);
    if (hpm === 3 && (fired0 || fired1)) this.#hpRef.set(measured);
  }

  /** Runs inertial interrupt generator `k` on one sample; true when it fires. */
  #generator(k: number, v: Float64Array): boolean {
    const r = this.#reg;
    const base = k === 0 ? 0x30 : 0x34;
    const cfg = r[base];
    const g = this.#gen[k];
    const enabled = cfg & 0x3f;
    if (!enabled) {
      g.count = 0;
      if (!(r[0x24] & (k === 0 ? 0x08 : 0x02))) g.active = false;
      return false;
    }
    const ths = (r[base + 2] & 0x7f) * THS_MG[(r[0x23] >> 4) & 3];
    const dur = r[base + 3] & 0x7f;
    const aoi = (cfg & 0x80) !== 0;
    const sixD = (cfg & 0x40) !== 0;
    let bits = 0;
    if (sixD) {
      // Direction: one bit per axis and sign beyond the threshold.
      for (let i = 0; i < 3; i++) {
        if (v[i] > ths) bits |= 2 << (2 * i);
        else if (v[i] < -ths) bits |= 1 << (2 * i);
      }
    } else {
      for (let i = 0; i < 3; i++) bits |= Math.abs(v[i]) > ths ? 2 << (2 * i) : 1 << (2 * i);
    }
    const hit = bits & enabled;
    let condition: boolean;
    if (sixD && !aoi) {
      condition = hit !== 0 && hit !== g.position;
      g.position = hit;
    } else if (aoi && !sixD) {
      condition = hit === enabled;
    } else {
      condition = hit !== 0;
    }
    g.count = condition ? g.count + 1 : 0;
    const latched = (r[0x24] & (k === 0 ? 0x08 : 0x02)) !== 0;
    const fires = g.count > dur;
    if (fires) {
      g.active = true;
      g.src = hit;
    } else if (!latched) {
      g.active = false;
      g.src = condition ? hit : 0;
    }
    return fires;
  }
}
