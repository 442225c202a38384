/**
 * Pulse-output water meter on `embedded:io/pulsecount`: Hall turbines
 * (YF-S201, YF-B1, FS400A: pulses per litre) and utility meters' reed outputs
 * (1, 10, 100 or 1000 litres per pulse), turned into integer millilitres.
 *
 * K factor. Kept as an exact ratio, `ml` millilitres per `pulses` pulses
 * (450 P/L is 20 mL per 9 pulses), so no rounding error builds up. Set it from
 * a preset, from pulses per litre or litres per pulse (rounded to 1/1000), or
 * calibrate it from a known volume. Each term is capped at 1,000,000; a larger
 * calibration ratio is scaled down, which is the only inexact case.
 *
 * Counter wrap. The ESP32 PCNT count is a signed 16-bit value that wraps.
 * Each `sample()` adds `(count − previous) mod 65536` to a running total held
 * in a JavaScript number (exact to 2^53, so it does not overflow at 2^31).
 * That is unambiguous only while fewer than 65,536 pulses arrive between two
 * reads, so reads must come at least every `maxReadIntervalMs` =
 * 65,535 s / `maxPulseHz`: YF-S201 232 s, YF-B1 190 s, FS400A 182 s, reed
 * meters 32,767 s (9.1 h). A later read cannot tell how many times the counter
 * wrapped: it throws `SensorError("timeout")` and restarts from the current
 * count (those pulses are lost and counted in `overruns`).
 *
 * Debounce. The PCNT glitch filter holds at most 1023 APB cycles (12.5 ns
 * each), about 12.8 µs, far shorter than reed contact bounce (up to ~1 ms), so
 * it only removes EMI spikes; every preset sets it to that maximum (`filter`,
 * in ns). Reed presets also ask for a 10 ms debounce (`debounceUs`: a pulse
 * must stay active that long to count). The ESP32 PCNT cannot do that alone:
 * on the board it is an RC low-pass (e.g. 10 kΩ pull-up and 1 µF, τ = 10 ms)
 * into a Schmitt-trigger input, or the ULP counting program's stable-level
 * debounce; the simulator's pulse counter models the same option. Reed pulses
 * last at least 260 ms, so 10 ms never drops a real one. Both settings belong
 * to the counter and are fixed when the driver opens it. As a second line, a
 * read whose pulse count is physically impossible (more than
 * `maxPulseHz` × interval + 1; reeds manage at most 2 Hz) is rejected: its
 * pulses go to `rejectedPulses`, not to the volume, and `sample()` throws
 * `SensorError("range")`.
 *
 * Rounding. `volumeMl` is the floor of the exact volume since the previous
 * sample plus the fraction carried from earlier samples, so the sum of all
 * `volumeMl` always equals `totalMl` = floor(pulses × ml / pulses-per-ml): not
 * a millilitre is lost over any number of samples. `flowMlMin` is the exact
 * mean flow over the interval rounded half up (a rate; nothing to carry).
 *
 * Deep sleep. `save()`/`load()` carry the last count, the carried remainder
 * and the total from one wake's driver to the next one's, so a node that
 * builds the driver afresh at every boot loses nothing between wakes.
 */
import Time from "time";
import { SensorError, onBus } from "./sensor-error.ts";

/** The parts of an ECMA-419 PulseCount instance this driver uses. */
export interface PulseCountIO {
  read(): number;
  close(): void;
}

/** Options the driver passes to the PulseCount constructor. */
export interface PulseCountOpenOptions {
  signal: number;
  control?: number;
  /** PCNT glitch filter in ns (ESP32: at most 12,787). */
  filter: number;
  /** Minimum pulse width in µs (RC or ULP debounce; 0 = off). */
  debounceUs: number;
}

/** An ECMA-419 PulseCount constructor (`embedded:io/pulsecount`). */
export type PulseCountConstructor = new (options: PulseCountOpenOptions) => PulseCountIO;

/** Meters with known K factors. */
export type PulseFlowMeter = "yf-s201" | "yf-b1" | "fs400a" | "reed-1l" | "reed-10l" | "reed-100l" | "reed-1000l";

/** Exact K factor: `ml` millilitres per `pulses` pulses. */
export interface MlPerPulse {
  ml: number;
  pulses: number;
}

/** Settings that `configure()` accepts (all optional). */
export interface PulseFlowConfig {
  /** Preset: sets K and `maxPulseHz`. */
  meter?: PulseFlowMeter;
  /** K of a turbine meter, pulses per litre (rounded to 1/1000). */
  pulsesPerLitre?: number;
  /** Volume per pulse of a reed output, in litres (rounded to 1/1000). */
  litresPerPulse?: number;
  /** K as an exact ratio. */
  mlPerPulse?: MlPerPulse;
  /** Highest physically possible pulse rate, integer Hz; faster counts are rejected. */
  maxPulseHz?: number;
  /** Sets the running total, e.g. restored from flash after a reboot, in mL. */
  totalMl?: number;
}

/** Constructor options. */
export interface PulseFlowOptions extends PulseFlowConfig {
  /** IO bag: the PulseCount constructor and its pin; `filter` (ns) and `debounceUs` override the preset's. */
  sensor: {
    io: PulseCountConstructor;
    signal: number;
    control?: number;
    filter?: number;
    debounceUs?: number;
  };
}

/** One reading: everything since the previous `sample()` (or since the driver opened). */
export interface PulseFlowSample {
  /** Volume since the previous sample, mL (floor, remainder carried). */
  volumeMl: number;
  /** Running total, mL. */
  totalMl: number;
  /** Running total, whole litres (floor). */
  totalL: number;
  /** Mean flow over the interval, mL/min (rounded half up). */
  flowMlMin: number;
  /** Pulses counted in the interval. */
  pulses: number;
  /** Length of the interval, ms. */
  intervalMs: number;
}

interface Preset {
  mlPerPulse: MlPerPulse;
  maxPulseHz: number;
  reed: boolean;
}

// Turbine limits: the rated maximum flow plus 25 %. Reeds: at most 2 Hz.
const PRESETS: Record<PulseFlowMeter, Preset> = {
  "yf-s201": { mlPerPulse: { ml: 20, pulses: 9 }, maxPulseHz: 282, reed: false }, // 450 P/L, 30 L/min
  "yf-b1": { mlPerPulse: { ml: 50, pulses: 33 }, maxPulseHz: 344, reed: false }, // 660 P/L, 25 L/min
  fs400a: { mlPerPulse: { ml: 125, pulses: 36 }, maxPulseHz: 360, reed: false }, // 288 P/L (K 4.8), 60 L/min
  "reed-1l": { mlPerPulse: { ml: 1000, pulses: 1 }, maxPulseHz: 2, reed: true },
  "reed-10l": { mlPerPulse: { ml: 10000, pulses: 1 }, maxPulseHz: 2, reed: true },
  "reed-100l": { mlPerPulse: { ml: 100000, pulses: 1 }, maxPulseHz: 2, reed: true },
  "reed-1000l": { mlPerPulse: { ml: 1000000, pulses: 1 }, maxPulseHz: 2, reed: true },
};

/** Longest PCNT glitch filter, ns (1023 × 12.5 ns). */
const MAX_FILTER_NS = 12787;
/** Debounce for reed contacts, µs: far above bounce (< 1 ms), far below a pulse (≥ 260 ms). */
const REED_DEBOUNCE_US = 10000;
const MAX_TERM = 1000000;
/** Saved state: the total in mL is split at 2^30 into two int32 words. */
const TOTAL_SPLIT = 1073741824;
const STATE_WORDS = 5;

/**
 * floor(n / d) for integers 0 ≤ n < 2^53, 0 < d: binary long division (double
 * d up to n, then subtract back down), exact where a floating-point quotient
 * can round up across an integer. Halving `m` is exact: it is d·2^k, k ≥ 1.
 */
function divFloor(n: number, d: number): number {
  if (n < d) return 0;
  let m = d;
  let k = 0;
  while (n - m >= m) {
    m += m;
    k++;
  }
  let q = 0;
  let r = n;
  for (;;) {
    q += q;
    if (r >= m) {
      r -= m;
      q += 1;
    }
    if (k === 0) return q;
    k--;
    m *= 0.5;
  }
}

function gcd(a: number, b: number): number {
  while (b) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}

function checkInteger(name: string, v: number, min: number, max: number): void {
  if (!Number.isInteger(v) || v < min || v > max) throw new RangeError(`${name} must be an integer in ${min}..${max}, got ${v}`);
}

/** Reduced exact ratio, scaled down if a term exceeds the cap. */
function reduce(ml: number, pulses: number): MlPerPulse {
  const g = gcd(ml, pulses);
  ml = ml / g;
  pulses = pulses / g;
  while (ml > MAX_TERM || pulses > MAX_TERM) {
    ml = Math.round(ml / 2);
    pulses = Math.round(pulses / 2);
  }
  if (ml < 1 || pulses < 1) throw new RangeError("K factor out of range");
  return { ml, pulses };
}

/** Pulse flow meter driver (ECMA-419 sensor class pattern). */
export default class PulseFlow {
  #io: PulseCountIO | undefined;
  #lastCount: number;
  #lastMs: number;
  #ml = 20;
  #pulses = 9;
  #maxPulseHz = 282;
  #remainder = 0;
  #totalMl = 0;
  #totalPulses = 0;
  #rejected = 0;
  #overruns = 0;
  #calibrationStart: number | undefined;

  constructor(options: PulseFlowOptions) {
    const preset = PRESETS[options.meter ?? "yf-s201"];
    if (!preset) throw new RangeError(`unknown meter ${options.meter}`);
    const s = options.sensor;
    const open: PulseCountOpenOptions = {
      signal: s.signal,
      filter: s.filter ?? MAX_FILTER_NS,
      debounceUs: s.debounceUs ?? (preset.reed ? REED_DEBOUNCE_US : 0),
    };
    if (s.control !== undefined) open.control = s.control;
    this.#io = new s.io(open);
    this.configure({ meter: options.meter ?? "yf-s201" });
    this.configure(options);
    this.#lastCount = onBus("pulse count", () => this.#open().read());
    this.#lastMs = Time.ticks;
  }

  /** Changes K, the rate limit or the running total; other options are ignored. */
  configure(options: PulseFlowConfig): void {
    if (options.meter !== undefined) {
      const preset = PRESETS[options.meter];
      if (!preset) throw new RangeError(`unknown meter ${options.meter}`);
      this.#setK(preset.mlPerPulse);
      this.#maxPulseHz = preset.maxPulseHz;
    }
    if (options.pulsesPerLitre !== undefined) {
      const milli = Math.round(options.pulsesPerLitre * 1000);
      if (!(milli >= 1)) throw new RangeError(`invalid pulsesPerLitre ${options.pulsesPerLitre}`);
      this.#setK(reduce(1000000, milli));
    }
    if (options.litresPerPulse !== undefined) {
      const ml = Math.round(options.litresPerPulse * 1000);
      if (!(ml >= 1)) throw new RangeError(`invalid litresPerPulse ${options.litresPerPulse}`);
      this.#setK(reduce(ml, 1));
    }
    if (options.mlPerPulse !== undefined) {
      checkInteger("mlPerPulse.ml", options.mlPerPulse.ml, 1, Number.MAX_SAFE_INTEGER);
      checkInteger("mlPerPulse.pulses", options.mlPerPulse.pulses, 1, Number.MAX_SAFE_INTEGER);
      this.#setK(reduce(options.mlPerPulse.ml, options.mlPerPulse.pulses));
    }
    if (options.maxPulseHz !== undefined) {
      checkInteger("maxPulseHz", options.maxPulseHz, 1, 40000);
      this.#maxPulseHz = options.maxPulseHz;
    }
    if (options.totalMl !== undefined) {
      checkInteger("totalMl", options.totalMl, 0, Number.MAX_SAFE_INTEGER);
      this.#totalMl = options.totalMl;
      this.#remainder = 0;
    }
  }

  /** Volume and flow since the previous call; undefined if no time has passed. */
  sample(): PulseFlowSample | undefined {
    const io = this.#open();
    const now = Time.ticks;
    const intervalMs = now - this.#lastMs;
    if (!(intervalMs > 0)) return undefined;
    const count = onBus("pulse count", () => io.read());
    this.#lastMs = now;
    return this.#take(count, intervalMs);
  }

  /**
   * Volume and flow between the previous sample and a count the counter had
   * `intervalMs` after it: a minute of the ULP's ring (native:ulp-pulse), read
   * after the fact. The next interval starts at that count and instant.
   */
  sampleCount(count: number, intervalMs: number): PulseFlowSample {
    checkInteger("intervalMs", intervalMs, 1, 0x7fffffff);
    this.#lastMs += intervalMs;
    return this.#take(count, intervalMs);
  }

  /** Starts the next interval at `count`, `agoMs` before now (pulses before it are not this driver's). */
  rebase(count: number, agoMs = 0): void {
    this.#lastCount = count;
    this.#lastMs = Time.ticks - agoMs;
  }

  #take(count: number, intervalMs: number): PulseFlowSample {
    const pulses = (count - this.#lastCount) & 0xffff;
    this.#lastCount = count;
    if (intervalMs > this.maxReadIntervalMs) {
      this.#overruns++;
      this.#calibrationStart = undefined;
      throw new SensorError("timeout", `pulse counter read after ${intervalMs} ms, over the ${this.maxReadIntervalMs} ms wrap limit`);
    }
    const allowed = divFloor(intervalMs * this.#maxPulseHz, 1000) + 1;
    if (pulses > allowed) {
      this.#rejected += pulses;
      this.#calibrationStart = undefined;
      throw new SensorError("range", `${pulses} pulses in ${intervalMs} ms exceed ${this.#maxPulseHz} Hz`);
    }
    this.#totalPulses += pulses;
    const exact = pulses * this.#ml + this.#remainder;
    const volumeMl = divFloor(exact, this.#pulses);
    this.#remainder = exact - volumeMl * this.#pulses;
    this.#totalMl += volumeMl;
    const den = this.#pulses * intervalMs;
    const flowMlMin = divFloor(pulses * this.#ml * 120000 + den, den + den);
    return {
      volumeMl,
      totalMl: this.#totalMl,
      totalL: divFloor(this.#totalMl, 1000),
      flowMlMin,
      pulses,
      intervalMs,
    };
  }

  /** Words `save` writes: 5 (raw count and age in ms of the last read, carried remainder, total mL in 30-bit halves). */
  get stateWords(): number {
    return STATE_WORDS;
  }

  /**
   * Deep sleep. The ESP32 loses the JavaScript heap at every deep sleep and the
   * app restarts from main, so a node constructs this driver at every wake. To
   * carry on, it saves the driver's dynamic state before sleeping and loads it
   * into the fresh driver after waking. The counter must have kept counting
   * meanwhile without being cleared (the ULP's count in RTC memory on the
   * board). Writes at out[at …]; returns at + stateWords. K and the rate limit
   * are options, not state: configure the fresh driver the same way.
   */
  save(out: Int32Array, at: number): number {
    if (!Number.isInteger(at) || at < 0 || at > out.length - STATE_WORDS) throw new RangeError(`pulse-flow: ${STATE_WORDS} words at ${at} do not fit ${out.length}`);
    const hi = divFloor(this.#totalMl, TOTAL_SPLIT);
    out[at] = this.#lastCount;
    const age = Time.ticks - this.#lastMs;
    out[at + 1] = age < 0 ? 0 : age > 0x7fffffff ? 0x7fffffff : age;
    out[at + 2] = this.#remainder;
    out[at + 3] = this.#totalMl - hi * TOTAL_SPLIT;
    out[at + 4] = hi;
    return at + STATE_WORDS;
  }

  /**
   * Restores a state written by `save`, `sleptMs` after it was written (measured
   * on a clock that runs through deep sleep: Time.ticks restarts at every boot on
   * the ESP32). The next `sample()` then covers the time since the last read
   * before the sleep. Returns at + stateWords; throws RangeError, changing
   * nothing, on words `save` cannot have written for this K.
   */
  load(src: Int32Array, at: number, sleptMs: number): number {
    if (!Number.isInteger(at) || at < 0 || at > src.length - STATE_WORDS) throw new RangeError(`pulse-flow: ${STATE_WORDS} words at ${at} do not fit ${src.length}`);
    const count = src[at];
    const ageMs = src[at + 1];
    const remainder = src[at + 2];
    const lo = src[at + 3];
    const hi = src[at + 4];
    if (count < -32768 || count > 65535 || ageMs < 0 || remainder < 0 || remainder >= this.#pulses || lo < 0 || lo >= TOTAL_SPLIT || hi < 0 || !(sleptMs >= 0)) {
      throw new RangeError("pulse-flow: corrupt saved state");
    }
    this.#lastCount = count;
    this.#lastMs = Time.ticks - ageMs - sleptMs;
    this.#remainder = remainder;
    this.#totalMl = hi * TOTAL_SPLIT + lo;
    this.#calibrationStart = undefined;
    return at + STATE_WORDS;
  }

  /** Marks the start of a calibration run (counts pulses from now). */
  startCalibration(): void {
    this.#calibrationStart = this.#totalPulses + this.#pending();
  }

  /**
   * Sets K from a known volume: `pulses` counted for it, or (if omitted) the
   * pulses since `startCalibration()`. Returns the new exact ratio.
   */
  calibrate(knownVolumeMl: number, pulses?: number): MlPerPulse {
    checkInteger("knownVolumeMl", knownVolumeMl, 1, Number.MAX_SAFE_INTEGER);
    let n = pulses;
    if (n === undefined) {
      if (this.#calibrationStart === undefined) throw new RangeError("calibrate() without pulses needs startCalibration() first");
      n = this.#totalPulses + this.#pending() - this.#calibrationStart;
      this.#calibrationStart = undefined;
    }
    checkInteger("pulses", n, 1, Number.MAX_SAFE_INTEGER);
    this.#setK(reduce(knownVolumeMl, n));
    return this.mlPerPulse;
  }

  /** The K factor in use, as an exact ratio. */
  get mlPerPulse(): MlPerPulse {
    return { ml: this.#ml, pulses: this.#pulses };
  }

  /** Longest safe time between samples before counter wrap becomes ambiguous, ms. */
  get maxReadIntervalMs(): number {
    return divFloor(65535000, this.#maxPulseHz);
  }

  /** Pulses rejected as physically impossible since the driver opened. */
  get rejectedPulses(): number {
    return this.#rejected;
  }

  /** Reads that came too late to resolve counter wrap. */
  get overruns(): number {
    return this.#overruns;
  }

  /** Pulses accepted since the driver opened. */
  get totalPulses(): number {
    return this.#totalPulses;
  }

  /** Releases the counter. */
  close(): void {
    this.#io?.close();
    this.#io = undefined;
  }

  #open(): PulseCountIO {
    if (!this.#io) throw new Error("pulse flow sensor closed");
    return this.#io;
  }

  /** Pulses counted since the last sample, without consuming them. */
  #pending(): number {
    const io = this.#open();
    return (onBus("pulse count", () => io.read()) - this.#lastCount) & 0xffff;
  }

  #setK(k: MlPerPulse): void {
    if (k.ml !== this.#ml || k.pulses !== this.#pulses) this.#remainder = 0;
    this.#ml = k.ml;
    this.#pulses = k.pulses;
  }
}
