/**
 * Random building blocks of the world models: draws from the usual
 * distributions on a seeded `Rng`, and `SmoothNoise`, a stationary smooth
 * random process for weather and pollution anomalies.
 */
import { Rng } from "../core/rng.ts";

/** A seed, or a stream already forked for the model. */
export type SeedLike = number | string | Rng;

/** The model's own stream: an `Rng` is used as given, a number or string seeds a new one. */
export function rngOf(seed: SeedLike): Rng {
  return seed instanceof Rng ? seed : new Rng(seed);
}

/** Uniform in [lo, hi). */
export function uniform(rng: Rng, lo: number, hi: number): number {
  return lo + (hi - lo) * rng.next();
}

/** Exponential with the given mean. */
export function exponential(rng: Rng, mean: number): number {
  return -mean * Math.log(1 - rng.next());
}

/** Log-normal with the given median and log-space standard deviation. */
export function lognormal(rng: Rng, median: number, sigma: number): number {
  return median * Math.exp(sigma * rng.normal());
}

/** `x` limited to [lo, hi]. */
export function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

/** Poisson count with the given mean (Knuth's product method below 30, a rounded normal above). */
export function poisson(rng: Rng, mean: number): number {
  if (!(mean > 0)) return 0;
  if (mean > 30) return Math.max(0, Math.round(rng.normal(mean, Math.sqrt(mean))));
  const limit = Math.exp(-mean);
  let k = 0;
  let p = rng.next();
  while (p > limit) {
    k++;
    p *= rng.next();
  }
  return k;
}

/** Index drawn from a cumulative weight table (`cdf` ascending, last entry the total). */
export function pickCdf(rng: Rng, cdf: ArrayLike<number>): number {
  const u = rng.next() * cdf[cdf.length - 1];
  let lo = 0;
  let hi = cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cdf[mid] > u) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Cumulative sums of `weights`. */
export function cumulative(weights: readonly number[]): Float64Array {
  const out = new Float64Array(weights.length);
  let s = 0;
  for (let i = 0; i < weights.length; i++) out[i] = s += weights[i];
  return out;
}

const CHUNK = 256;

/**
 * A stationary Gaussian process with unit variance and correlation time
 * `tauMs`: an AR(1) sequence on knots every `knotMs` (coefficient
 * exp(−knotMs/tauMs)), interpolated by Catmull–Rom splines so it is smooth.
 * Knots are generated on demand in index order from two forked streams (one
 * forwards from knot 0, one backwards), so a value never depends on which
 * times were asked for first. Evaluation is O(1) (amortised) and allocation-free.
 */
export class SmoothNoise {
  readonly #knotMs: number;
  readonly #inv: number;
  readonly #phi: number;
  readonly #innov: number;
  readonly #fwdRng: Rng;
  readonly #bwdRng: Rng;
  #fwd: Float64Array;
  #fwdLen = 0;
  #bwd: Float64Array;
  #bwdLen = 0;

  constructor(rng: Rng, knotMs: number, tauMs: number) {
    if (!(knotMs > 0) || !(tauMs > 0)) throw new RangeError("SmoothNoise: knotMs and tauMs must be positive");
    this.#knotMs = knotMs;
    this.#inv = 1 / knotMs;
    this.#phi = Math.exp(-knotMs / tauMs);
    this.#innov = Math.sqrt(1 - this.#phi * this.#phi);
    this.#fwdRng = rng.fork("forward");
    this.#bwdRng = rng.fork("backward");
    this.#fwd = new Float64Array(CHUNK);
    this.#bwd = new Float64Array(CHUNK);
    this.#fwd[0] = this.#fwdRng.normal();
    this.#fwdLen = 1;
  }

  /** Knot spacing, ms. */
  get knotMs(): number {
    return this.#knotMs;
  }

  /** Value (≈ N(0, 1)) at virtual time `tMs`. */
  at(tMs: number): number {
    const u = tMs * this.#inv;
    const k = Math.floor(u);
    const f = u - k;
    let p0: number;
    let p1: number;
    let p2: number;
    let p3: number;
    if (k >= 1 && k + 2 < this.#fwdLen) {
      const a = this.#fwd;
      p0 = a[k - 1];
      p1 = a[k];
      p2 = a[k + 1];
      p3 = a[k + 2];
    } else {
      p0 = this.#knot(k - 1);
      p1 = this.#knot(k);
      p2 = this.#knot(k + 1);
      p3 = this.#knot(k + 2);
    }
    return p1 + 0.5 * f * (p2 - p0 + f * (2 * p0 - 5 * p1 + 4 * p2 - p3 + f * (3 * (p1 - p2) + p3 - p0)));
  }

  #knot(k: number): number {
    if (k >= 0) {
      while (k >= this.#fwdLen) {
        if (this.#fwdLen === this.#fwd.length) this.#fwd = grow(this.#fwd);
        this.#fwd[this.#fwdLen] = this.#phi * this.#fwd[this.#fwdLen - 1] + this.#innov * this.#fwdRng.normal();
        this.#fwdLen++;
      }
      return this.#fwd[k];
    }
    const j = -1 - k;
    while (j >= this.#bwdLen) {
      if (this.#bwdLen === this.#bwd.length) this.#bwd = grow(this.#bwd);
      const prev = this.#bwdLen === 0 ? this.#fwd[0] : this.#bwd[this.#bwdLen - 1];
      this.#bwd[this.#bwdLen] = this.#phi * prev + this.#innov * this.#bwdRng.normal();
      this.#bwdLen++;
    }
    return this.#bwd[j];
  }
}

function grow(a: Float64Array): Float64Array {
  const b = new Float64Array(a.length * 2);
  b.set(a);
  return b;
}
