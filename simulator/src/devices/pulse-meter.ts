/**
 * Emulated pulse water meter: a Hall turbine (pulses per litre, e.g. 450 P/L
 * for a YF-S201) or a utility meter's reed output (litres per pulse), seen as
 * the pulses it puts on a GPIO. It implements the board's `PulseSource`, with
 * each pulse's width known so the pulse counter's glitch filter and debounce
 * (see `platform/io-pulsecount.ts`) decide what gets counted.
 *
 * Physics: the true volume is the trapezoid integral of `flowLMin(t)` over a
 * fixed time grid (`stepMs`), so the pulse train does not depend on when the
 * firmware reads it; pulse n is emitted when the volume crosses n / K, where K
 * is this unit's actual pulses per litre (the nominal K with a per-unit error,
 * Hall turbines being ±10 % parts). A pulse is high for `duty` of its period.
 *
 * Faults: `bounce` (reed contact bounce: 1..extraMax extra pulses of 20–800 µs
 * right after each closure), `glitch` (EMI spikes of 0.2–5 µs at `rateHz`),
 * `no-pulse` (meter stuck or tampered: water flows, no pulses) and
 * `disconnect` (cable cut: nothing at all reaches the pin).
 */
import type { PulseSource } from "../core/board.ts";
import type { VirtualClock } from "../core/clock.ts";
import type { Rng } from "../core/rng.ts";
import { roomAtEnd } from "../core/typed-queue.ts";

/** Faults this emulator can inject. */
export type PulseMeterFault = "bounce" | "glitch" | "no-pulse" | "disconnect";

/** Options of `inject("bounce", …)`. */
export interface BounceOptions {
  /** Probability that a closure bounces (default 1). */
  p?: number;
  /** Most extra pulses per bounce (default 4; at least 1 when it bounces). */
  extraMax?: number;
  /** Bounce pulse widths in µs, [min, max] (default [20, 800]). */
  widthUs?: [number, number];
}

/** Options of `inject("glitch", …)`. */
export interface GlitchOptions {
  /** Mean spike rate in Hz (Poisson; default 2). */
  rateHz?: number;
  /** Spike widths in µs, [min, max] (default [0.2, 5]). */
  widthUs?: [number, number];
}

/** Constructor options. */
export interface PulseMeterOptions {
  clock: VirtualClock;
  rng: Rng;
  /** True flow through the meter at virtual time `tMs`, in L/min (negative counts as 0). */
  flowLMin: (tMs: number) => number;
  /** Nominal K of a turbine meter, pulses per litre. */
  pulsesPerLitre?: number;
  /** Nominal volume per pulse of a reed output, in litres. */
  litresPerPulse?: number;
  /** Default from which of the two is given: "hall" for pulses per litre, "reed" for litres per pulse. */
  kind?: "hall" | "reed";
  /** Standard deviation of this unit's K error in percent, clipped to ±3 sd (default hall 3, reed 0). */
  kErrorPct?: number;
  /** Fraction of each period the output is active (default 0.5). */
  duty?: number;
  /** Integration grid in ms (default 100). */
  stepMs?: number;
  /**
   * Until when `flowLMin` keeps its value at `tMs` (ms, > tMs; Infinity: for
   * ever). Steady stretches are then integrated in one step instead of one
   * per grid point (the volume is linear there either way). The answer is
   * taken to hold for every time up to it, until `flowChanged()`. Default: unknown.
   */
  steadyUntil?: (tMs: number) => number;
}

/** What happened on the wire so far, for tests and reports. */
export interface PulseMeterStats {
  /** Meter pulses emitted (not counting bounce or glitches, nor those suppressed by faults). */
  realPulses: number;
  /** Bounce and glitch pulses emitted. */
  spuriousPulses: number;
  /** Meter pulses that a fault kept off the wire. */
  suppressedPulses: number;
  /** True volume through the meter, in litres. */
  litres: number;
}

interface PulseEvent {
  tMs: number;
  widthUs: number;
  real: boolean;
}

// Width histogram: log2 bins, 16 per octave, from 2^-8 µs to 2^36 µs.
const BINS_PER_OCTAVE = 16;
const MIN_LOG2_US = -8;
const BINS = 44 * BINS_PER_OCTAVE;

function binOf(widthUs: number): number {
  if (!(widthUs > 0)) return 0;
  const b = Math.floor((Math.log2(widthUs) - MIN_LOG2_US) * BINS_PER_OCTAVE);
  return Math.max(0, Math.min(BINS - 1, b));
}

function binLowerUs(bin: number): number {
  return 2 ** (bin / BINS_PER_OCTAVE + MIN_LOG2_US);
}

/** A flow meter's pulse output, driven by a flow-rate function of virtual time. */
export class PulseMeter implements PulseSource {
  readonly #clock: VirtualClock;
  readonly #rng: Rng;
  readonly #faultRng: Rng;
  readonly #flow: (tMs: number) => number;
  /** This unit's actual pulses per litre. */
  readonly pulsesPerLitre: number;
  readonly #duty: number;
  readonly #stepMs: number;
  readonly #steadyUntil: ((tMs: number) => number) | undefined;
  readonly #faults = new Map<PulseMeterFault, BounceOptions | GlitchOptions | undefined>();

  // Integration state: generated up to #genMs (a grid point).
  #genMs: number;
  #flowAtGen: number;
  #litresAtGen = 0;
  #realIndex = 0;
  #nextGlitchMs = Infinity;
  // Events generated but not yet reached by the clock, in time order: [#head, #tail) of three
  // typed arrays (typed-queue.ts; a hall meter emits hundreds of thousands of pulses a day).
  #times = new Float64Array(256);
  #widths = new Float64Array(256);
  #isReal = new Uint8Array(256);
  #head = 0;
  #tail = 0;
  // Delivered pulses by width bin.
  readonly #bins = new Float64Array(BINS);
  #total = 0;
  #real = 0;
  #spurious = 0;
  #suppressed = 0;
  #consumedMs: number;
  #litresStepStart = 0;
  #stepStartMs: number;
  // The last answer of `steadyUntil` and the time it was asked for: the flow holds from one to the other,
  // so it is the answer for every time between (a water node's meter is integrated up to every ULP minute).
  #steadyFromMs = Number.POSITIVE_INFINITY;
  #steadyToMs = Number.NEGATIVE_INFINITY;

  constructor(options: PulseMeterOptions) {
    this.#clock = options.clock;
    this.#rng = options.rng;
    this.#faultRng = options.rng.fork("faults");
    this.#flow = options.flowLMin;
    const kind = options.kind ?? (options.litresPerPulse !== undefined ? "reed" : "hall");
    let nominal: number;
    if (options.pulsesPerLitre !== undefined) nominal = options.pulsesPerLitre;
    else if (options.litresPerPulse !== undefined) nominal = 1 / options.litresPerPulse;
    else throw new TypeError("PulseMeter needs pulsesPerLitre or litresPerPulse");
    if (!(nominal > 0) || !Number.isFinite(nominal)) throw new RangeError("pulses per litre must be positive");
    const sd = options.kErrorPct ?? (kind === "hall" ? 3 : 0);
    const err = Math.max(-3 * sd, Math.min(3 * sd, this.#rng.fork("k").normal(0, sd)));
    this.pulsesPerLitre = nominal * (1 + err / 100);
    this.#duty = options.duty ?? 0.5;
    if (!(this.#duty > 0 && this.#duty < 1)) throw new RangeError("duty must be in (0, 1)");
    this.#stepMs = options.stepMs ?? 100;
    this.#steadyUntil = options.steadyUntil;
    if (!(this.#stepMs > 0)) throw new RangeError("stepMs must be positive");
    const now = this.#clock.nowMs;
    this.#genMs = now;
    this.#stepStartMs = now;
    this.#consumedMs = now;
    this.#flowAtGen = Math.max(0, this.#flow(now));
  }

  /** Starts a fault; options apply to `bounce` and `glitch`. */
  inject(fault: PulseMeterFault, options?: BounceOptions | GlitchOptions): void {
    this.#faults.set(fault, options);
    if (fault === "glitch") {
      this.#nextGlitchMs = Math.max(this.#genMs, this.#clock.nowMs) + this.#glitchGapMs();
    }
  }

  /** Ends a fault. */
  clear(fault: PulseMeterFault): void {
    this.#faults.delete(fault);
    if (fault === "glitch") this.#nextGlitchMs = Infinity;
  }

  /**
   * The flow function changed from now on (a valve moved): the integration,
   * which has reached at most a grid step past now, goes on from the new
   * function's flow there, and forgets what `steadyUntil` said.
   */
  flowChanged(): void {
    this.#flowAtGen = Math.max(0, this.#flow(this.#genMs));
    this.#steadyFromMs = Number.POSITIVE_INFINITY;
    this.#steadyToMs = Number.NEGATIVE_INFINITY;
  }

  /** Total pulses at least `minWidthUs` wide emitted up to `nowMs` (monotonic). */
  pulsesUntil(nowMs: number, minWidthUs = 0): number {
    this.#advance(nowMs);
    if (!(minWidthUs > 0)) return this.#total;
    let n = 0;
    for (let b = binOf(minWidthUs); b < BINS; b++) {
      if (binLowerUs(b) >= minWidthUs) n += this.#bins[b];
    }
    return n;
  }

  /** What was emitted up to `nowMs` (default now). */
  stats(nowMs = this.#clock.nowMs): PulseMeterStats {
    this.#advance(nowMs);
    const span = this.#genMs - this.#stepStartMs;
    const frac = span > 0 ? Math.min(1, Math.max(0, (this.#consumedMs - this.#stepStartMs) / span)) : 1;
    const litres = this.#litresStepStart + (this.#litresAtGen - this.#litresStepStart) * frac;
    return { realPulses: this.#real, spuriousPulses: this.#spurious, suppressedPulses: this.#suppressed, litres };
  }

  #glitchGapMs(): number {
    const o = (this.#faults.get("glitch") as GlitchOptions | undefined) ?? {};
    const rate = o.rateHz ?? 2;
    return rate > 0 ? (-Math.log(1 - this.#faultRng.next()) / rate) * 1000 : Infinity;
  }

  #advance(nowMs: number): void {
    while (this.#genMs < nowMs) this.#generateStep(this.#stepEnd(nowMs));
    if (nowMs > this.#consumedMs) this.#consumedMs = nowMs;
    const times = this.#times;
    const end = this.#tail;
    let i = this.#head;
    while (i < end && times[i] <= nowMs) {
      this.#bins[binOf(this.#widths[i])]++;
      this.#total++;
      if (this.#isReal[i]) this.#real++;
      else this.#spurious++;
      i++;
    }
    if (i === end) this.#head = this.#tail = 0;
    else this.#head = i;
  }

  /** Queues a pulse after those already queued (it must not be earlier than they are). */
  #queue(tMs: number, widthUs: number, real: boolean): void {
    if (this.#tail === this.#times.length) {
      const n = this.#tail - this.#head;
      [this.#times, this.#widths, this.#isReal] = roomAtEnd([this.#times, this.#widths, this.#isReal], this.#head, this.#tail);
      this.#head = 0;
      this.#tail = n;
    }
    this.#times[this.#tail] = tMs;
    this.#widths[this.#tail] = widthUs;
    this.#isReal[this.#tail++] = real ? 1 : 0;
  }

  /**
   * End of the next integration step: the next grid point, or, while the flow
   * is steady, the last grid point before it changes (at most the first one at
   * or after `nowMs`).
   */
  #stepEnd(nowMs: number): number {
    const step = this.#stepMs;
    const next = (Math.floor(this.#genMs / step) + 1) * step;
    if (!this.#steadyUntil) return next;
    const t = this.#genMs;
    if (!(t >= this.#steadyFromMs && t < this.#steadyToMs)) {
      this.#steadyFromMs = t;
      this.#steadyToMs = this.#steadyUntil(t);
    }
    const until = this.#steadyToMs;
    const lastSteady = until === Number.POSITIVE_INFINITY ? Number.POSITIVE_INFINITY : (Math.ceil(until / step) - 1) * step;
    return Math.max(next, Math.min(lastSteady, Math.ceil(nowMs / step) * step));
  }

  #generateStep(t1: number): void {
    const t0 = this.#genMs;
    const f0 = this.#flowAtGen;
    const f1 = Math.max(0, this.#flow(t1));
    const dv = (((f0 + f1) / 2) * (t1 - t0)) / 60000;
    const v0 = this.#litresAtGen;
    const v1 = v0 + dv;
    const k = this.pulsesPerLitre;
    const n1 = Math.floor(v1 * k + 1e-9);
    // No fault: only real pulses, already in time order, queued as they come (no object each).
    const clean = this.#faults.size === 0;
    const cut = this.#faults.has("no-pulse") || this.#faults.has("disconnect");
    const events: PulseEvent[] = [];
    for (let n = this.#realIndex + 1; n <= n1; n++) {
      const frac = dv > 0 ? Math.min(1, Math.max(0, (n / k - v0) / dv)) : 1;
      const tMs = t0 + frac * (t1 - t0);
      const f = f0 + (f1 - f0) * frac;
      const periodMs = f > 0 ? 60000 / (f * k) : 1e9;
      if (clean) {
        this.#queue(tMs, this.#duty * periodMs * 1000, true);
        continue;
      }
      if (cut) {
        this.#suppressed++;
        continue;
      }
      events.push({ tMs, widthUs: this.#duty * periodMs * 1000, real: true });
      this.#bounce(tMs, events);
    }
    if (!clean) {
      while (this.#nextGlitchMs <= t1) {
        const o = (this.#faults.get("glitch") as GlitchOptions | undefined) ?? {};
        const [lo, hi] = o.widthUs ?? [0.2, 5];
        if (!this.#faults.has("disconnect")) {
          events.push({ tMs: this.#nextGlitchMs, widthUs: lo + (hi - lo) * this.#faultRng.next(), real: false });
        }
        this.#nextGlitchMs += this.#glitchGapMs();
      }
      events.sort((a, b) => a.tMs - b.tMs);
      for (const e of events) this.#queue(e.tMs, e.widthUs, e.real);
    }
    if (n1 > this.#realIndex) this.#realIndex = n1;
    this.#stepStartMs = t0;
    this.#litresStepStart = v0;
    this.#genMs = t1;
    this.#flowAtGen = f1;
    this.#litresAtGen = v1;
  }

  #bounce(tMs: number, events: PulseEvent[]): void {
    if (!this.#faults.has("bounce")) return;
    const o = (this.#faults.get("bounce") as BounceOptions | undefined) ?? {};
    if (!this.#faultRng.chance(o.p ?? 1)) return;
    const extra = this.#faultRng.int(1, Math.max(1, o.extraMax ?? 4));
    const [lo, hi] = o.widthUs ?? [20, 800];
    let t = tMs;
    for (let i = 0; i < extra; i++) {
      // Bounce follows the closing edge within about a millisecond.
      t += 0.05 + 0.2 * this.#faultRng.next();
      events.push({ tMs: t, widthUs: lo + (hi - lo) * this.#faultRng.next(), real: false });
    }
  }
}
