/**
 * Discrete Laplace (two-sided geometric) noise for the water node's privacy
 * mode, sampled with integer comparisons only.
 *
 * Target. For privacy parameter ε and sensitivity Δ (integer units), the noise
 * Z has P(Z = z) = (1 − α)/(1 + α) · α^|z| with α = e^(−λ), λ = ε/Δ. Then for
 * any output y and inputs x, x' with |x − x'| ≤ Δ,
 * P(y | x) / P(y | x') = α^(|y − x| − |y − x'|) ≤ α^(−Δ) = e^ε.
 *
 * Sampling. Z = G1 − G2 with G1, G2 independent geometric variables,
 * P(G = k) ∝ α^k (the difference of two such is exactly the discrete Laplace).
 * One geometric draw is G = Q·M + R with M = 2^m:
 * - R ∈ [0, M) has P(R = r) ∝ α^r, and because α^r factorises over the bits of
 *   r, its m bits are independent: bit j is 1 with probability
 *   β_j/(1 + β_j), β_j = α^(2^j). Each bit is one 32-bit draw compared with an
 *   integer threshold round(2^32 · β_j/(1 + β_j)).
 * - Q ≥ 0 is geometric with ratio s = α^M: count draws below round(2^32 · s)
 *   until the first that is not. m is the smallest with s ≤ 1/2, so this loop
 *   runs at most twice on average, and all bit probabilities lie in [1/3, 1/2].
 * Q has unbounded support, so Z can take every integer: no output is
 * impossible under one input and possible under a neighbouring one (a table or
 * truncated sampler would break pure ε-DP in its tails). The loop ends with
 * probability 1; it passes n iterations with probability s^n ≤ 2^−n.
 *
 * Integers only per draw. `sample()` does nothing but unsigned 32-bit
 * comparisons, shifts and one integer multiply. The thresholds are computed once
 * per (ε, Δ) by `configure()` in doubles, with + − × ÷ only (IEEE-754 rounds
 * those exactly the same in XS and V8, so the tables, and the uplinks, are
 * byte-identical on the node and in the simulator; Math.exp is not, so e^−x is
 * a Taylor series after halving x below 1/8, then squared back). The node keeps
 * the table in its retained state, so the floats run only when ε changes.
 *
 * Quantisation. Rounding a probability p ∈ [1/3, 1/2] to 1/2^32 moves its
 * log-odds by at most 2^−33/(p(1 − p)) < 2^−30, so the step of the implemented
 * log-pmf of G between neighbouring integers (a sum over at most m + 1 ≤ 31
 * bits) is off by less than 31·2^−30 < 2^−25. To keep the guarantee exact for
 * the pmf actually implemented, the table is built for
 * λ' = λ·(1 − 2^−10) − 2^−25: every step of the implemented log-pmf is then
 * at most λ (the tests check it for every ε the downlink accepts). A log-pmf
 * with steps ≤ λ gives P(G1 − G2 = z)/P(G1 − G2 = z') ≤ e^(λ|z − z'|), hence
 * P(y | x)/P(y | x') ≤ e^ε for |x − x'| ≤ Δ, exactly. The margin costs 0.16 %
 * of ε at Δ = 1000, ε = 0.05; it is why Δ is limited to 10,000.
 */

/** Most low bits a draw is split into (M ≤ 2^30). */
export const DLAP_MAX_BITS = 30;
/** Retained words: ε (centi), Δ, m, tail threshold, then DLAP_MAX_BITS bit thresholds. */
export const DLAP_STATE_WORDS = 4 + DLAP_MAX_BITS;
/** λ' = λ·DLAP_SLACK − DLAP_MARGIN: the margin for 32-bit rounding (see Quantisation). */
export const DLAP_SLACK = 1 - 1 / 1024;
export const DLAP_MARGIN = 1 / 33554432;
/** Largest sensitivity: keeps λ' within 1 % of λ at ε = 0.05. */
export const DLAP_MAX_SENSITIVITY = 10000;

const TWO32 = 4294967296;

/** e^(−x) for x ≥ 0 with + − × ÷ only (reproducible across IEEE-754 engines). */
export function expNeg(x: number): number {
  let k = 0;
  while (x > 0.125) {
    x = x / 2;
    k++;
  }
  // Taylor series of e^(−x), |x| ≤ 1/8: 14 terms reach far below one ulp.
  let term = 1;
  let sum = 1;
  for (let n = 1; n <= 14; n++) {
    term = (term * x) / n;
    sum = n & 1 ? sum - term : sum + term;
  }
  for (let i = 0; i < k; i++) sum = sum * sum;
  return sum;
}

/** Discrete Laplace noise source for one (ε, Δ). */
export class DiscreteLaplace {
  #epsilonCenti = 0;
  #sensitivity = 0;
  #bits = 0;
  /** Tail threshold: continue Q while a draw is below it (unsigned, stored as int32). */
  #tail = 0;
  /** Bit thresholds (unsigned, stored as int32), bit 0 first. */
  readonly #thresholds = new Int32Array(DLAP_MAX_BITS);

  /** ε · 100 the table was built for (0 before `configure`). */
  get epsilonCenti(): number {
    return this.#epsilonCenti;
  }

  /** Sensitivity Δ the table was built for. */
  get sensitivity(): number {
    return this.#sensitivity;
  }

  /** m: the number of independently drawn low bits (M = 2^m). */
  get bits(): number {
    return this.#bits;
  }

  /** Probability × 2^32 that bit j of R is 1 (j < bits). */
  bitThreshold(j: number): number {
    return this.#thresholds[j] >>> 0;
  }

  /** Probability × 2^32 that Q goes on counting (s = α^M). */
  get tailThreshold(): number {
    return this.#tail >>> 0;
  }

  /**
   * Builds the thresholds for ε = epsilonCenti/100 (5..1000, as setPrivacy allows)
   * and integer sensitivity Δ (1..DLAP_MAX_SENSITIVITY). Configuration time only: uses doubles.
   */
  configure(epsilonCenti: number, sensitivity: number): void {
    if (!Number.isInteger(epsilonCenti) || epsilonCenti < 5 || epsilonCenti > 1000) throw new RangeError(`ε·100 must be 5..1000, got ${epsilonCenti}`);
    if (!Number.isInteger(sensitivity) || sensitivity < 1 || sensitivity > DLAP_MAX_SENSITIVITY) {
      throw new RangeError(`sensitivity must be 1..${DLAP_MAX_SENSITIVITY}, got ${sensitivity}`);
    }
    const lambda = (epsilonCenti / 100 / sensitivity) * DLAP_SLACK - DLAP_MARGIN;
    let beta = expNeg(lambda);
    let m = 0;
    while (beta > 0.5 && m < DLAP_MAX_BITS) {
      this.#thresholds[m] = Math.floor((beta / (1 + beta)) * TWO32 + 0.5) | 0;
      beta = beta * beta;
      m++;
    }
    for (let j = m; j < DLAP_MAX_BITS; j++) this.#thresholds[j] = 0;
    this.#bits = m;
    this.#tail = Math.floor(beta * TWO32 + 0.5) | 0;
    this.#epsilonCenti = epsilonCenti;
    this.#sensitivity = sensitivity;
  }

  /** One geometric draw G ≥ 0 with P(G = k) ∝ α^k; `random` returns 32 random bits. */
  geometric(random: () => number): number {
    const m = this.#bits;
    let r = 0;
    for (let j = 0; j < m; j++) {
      if (random() >>> 0 < this.#thresholds[j] >>> 0) r |= 1 << j;
    }
    const tail = this.#tail >>> 0;
    let q = 0;
    while (random() >>> 0 < tail) q++;
    // r < 2^30; q·2^m is an exact integer product (no float rounding below 2^53).
    return q * (1 << m) + r;
  }

  /** One discrete Laplace draw: an integer, symmetric around 0. */
  sample(random: () => number): number {
    if (this.#epsilonCenti === 0) throw new Error("DiscreteLaplace used before configure()");
    return this.geometric(random) - this.geometric(random);
  }

  /** Writes the table at out[at …] for deep sleep; returns at + DLAP_STATE_WORDS. */
  save(out: Int32Array, at: number): number {
    out[at] = this.#epsilonCenti;
    out[at + 1] = this.#sensitivity;
    out[at + 2] = this.#bits;
    out[at + 3] = this.#tail;
    out.set(this.#thresholds, at + 4);
    return at + DLAP_STATE_WORDS;
  }

  /** Restores a table written by `save` (ε 0 = not configured); returns at + DLAP_STATE_WORDS. */
  load(src: Int32Array, at: number): number {
    const bits = src[at + 2];
    if (bits < 0 || bits > DLAP_MAX_BITS) throw new RangeError(`corrupt DiscreteLaplace state: ${bits} bits`);
    this.#epsilonCenti = src[at];
    this.#sensitivity = src[at + 1];
    this.#bits = bits;
    this.#tail = src[at + 3];
    for (let j = 0; j < DLAP_MAX_BITS; j++) this.#thresholds[j] = src[at + 4 + j];
    return at + DLAP_STATE_WORDS;
  }
}
