// The water node's privacy noise: the discrete Laplace sampler draws what its pmf
// says, is unbiased, and the pmf it actually implements (32-bit thresholds
// included) keeps P(y | x) / P(y | x + Δ) ≤ e^ε for every ε the downlink accepts.
import assert from "node:assert/strict";
import { Rng } from "../../../simulator/src/core/rng.ts";
import { DiscreteLaplace, DLAP_MARGIN, DLAP_MAX_SENSITIVITY, DLAP_SLACK, expNeg } from "../../../firmware/src/nodes/water/discrete-laplace.ts";
import { PRIVACY_CAP_L } from "../../../firmware/src/nodes/water/water-node.ts";

const TWO32 = 4294967296;

function dlap(epsilonCenti: number, sensitivity: number): DiscreteLaplace {
  const d = new DiscreteLaplace();
  d.configure(epsilonCenti, sensitivity);
  return d;
}

/** α of the pmf the table targets. */
function alphaOf(epsilonCenti: number, sensitivity: number): number {
  return Math.exp(-((epsilonCenti / 100 / sensitivity) * DLAP_SLACK - DLAP_MARGIN));
}

/** Ideal discrete Laplace pmf at z. */
function pmf(alpha: number, z: number): number {
  return ((1 - alpha) / (1 + alpha)) * alpha ** Math.abs(z);
}

/**
 * ln P(G = k) of the geometric the sampler implements, from its integer
 * thresholds: bits j < m independent with p_j = T_j / 2^32, then Q geometric with ratio s = S / 2^32.
 */
function implementedLogG(d: DiscreteLaplace): (k: number) => number {
  const m = d.bits;
  const p: number[] = [];
  for (let j = 0; j < m; j++) p.push(d.bitThreshold(j) / TWO32);
  const s = d.tailThreshold / TWO32;
  return (k: number) => {
    let l = 0;
    for (let j = 0; j < m; j++) l += (k >> j) & 1 ? Math.log(p[j]) : Math.log1p(-p[j]);
    const q = Math.floor(k / 2 ** m);
    return l + q * Math.log(s) + Math.log1p(-s);
  };
}

/**
 * Largest |ln P(G = k + 1) − ln P(G = k)| of the implemented geometric. It takes only m + 1
 * values: moving k → k + 1 clears t trailing one-bits and sets bit t (t < m), or carries into Q (t = m).
 */
function lipschitz(d: DiscreteLaplace): number {
  const m = d.bits;
  const lambda: number[] = [];
  for (let j = 0; j < m; j++) {
    const t = d.bitThreshold(j);
    lambda.push(Math.log((TWO32 - t) / t));
  }
  const mu = -Math.log(d.tailThreshold / TWO32);
  let worst = 0;
  let below = 0;
  for (let t = 0; t <= m; t++) {
    const step = below - (t < m ? lambda[t] : mu);
    worst = Math.max(worst, Math.abs(step));
    if (t < m) below += lambda[t];
  }
  return worst;
}

describe("water node privacy: discrete Laplace noise", () => {
  it("expNeg (+ − × ÷ only) matches Math.exp to 1e-13", () => {
    for (const x of [0, 1e-9, 5e-8, 1e-3, 0.1, 0.125, 0.13, 0.5, 0.6931, 1, 2.5, 7, 10, 20]) {
      const want = Math.exp(-x);
      assert.ok(Math.abs(expNeg(x) - want) <= 1e-13 * want, `e^-${x}: ${expNeg(x)} vs ${want}`);
    }
  });

  it("the implemented pmf is log-Lipschitz with λ = ε/Δ, so P(y|x)/P(y|x+Δ) ≤ e^ε, for every ε the downlink accepts", () => {
    for (const sensitivity of [1, 7, PRIVACY_CAP_L, DLAP_MAX_SENSITIVITY]) {
      for (let e = 5; e <= 1000; e++) {
        const d = dlap(e, sensitivity);
        const lambda = e / 100 / sensitivity;
        const l = lipschitz(d);
        assert.ok(l <= lambda, `ε ${e / 100}, Δ ${sensitivity}: implemented step ${l} > λ ${lambda}`);
        // …and not needlessly noisy: within the margin of the target.
        assert.ok(l >= lambda * DLAP_SLACK * (1 - 1e-6) - 2 * DLAP_MARGIN, `ε ${e / 100}, Δ ${sensitivity}: step ${l} far below λ ${lambda}`);
        // Every bit probability in [1/3, 1/2], the tail ratio in (0, 1/2]: the quantisation argument holds.
        for (let j = 0; j < d.bits; j++) {
          const p = d.bitThreshold(j) / TWO32;
          assert.ok(p >= 1 / 3 - 1e-9 && p <= 0.5 + 1e-9, `bit ${j} p ${p}`);
        }
        assert.ok(d.tailThreshold > 0 && d.tailThreshold <= TWO32 / 2, `tail ${d.tailThreshold}`);
      }
    }
  });

  it("the ratio bound holds on the implemented noise pmf P_Z itself (exact convolution, small Δ)", () => {
    for (const [e, sensitivity] of [[5, 1], [100, 1], [1000, 1], [100, 3], [300, 2], [50, 5]]) {
      const d = dlap(e, sensitivity);
      const logG = implementedLogG(d);
      // Enough of G's support that the rest is below 1e-30 of the mass.
      const alpha = alphaOf(e, sensitivity);
      const K = Math.ceil(70 / -Math.log(alpha)) + 2 ** d.bits;
      const g = new Float64Array(K);
      for (let k = 0; k < K; k++) g[k] = Math.exp(logG(k));
      const pz = (z: number) => {
        const a = Math.abs(z);
        let sum = 0;
        for (let k = 0; k + a < K; k++) sum += g[k + a] * g[k];
        return sum;
      };
      const bound = Math.exp(e / 100);
      const span = Math.min(K >> 2, 400);
      let worst = 0;
      for (let z = -span; z <= span; z++) {
        const r = pz(z) / pz(z + sensitivity);
        worst = Math.max(worst, r, 1 / r);
      }
      assert.ok(worst <= bound * (1 + 1e-12), `ε ${e / 100}, Δ ${sensitivity}: worst ratio ${worst} > e^ε ${bound}`);
      // The ideal pmf's worst ratio is exactly α'^-Δ; the implemented one is that close.
      assert.ok(Math.abs(worst - alpha ** -sensitivity) <= 1e-5 * worst, `worst ${worst} vs ideal ${alpha ** -sensitivity}`);
    }
  });

  for (const [e, sensitivity, n] of [[50, 1, 200000], [100, 1, 200000], [200, 1, 200000], [500, 1, 200000], [1000, PRIVACY_CAP_L, 100000], [100, PRIVACY_CAP_L, 100000]]) {
    it(`draws match the discrete Laplace pmf and are unbiased (ε ${e / 100}, Δ ${sensitivity}, ${n} draws)`, () => {
      const d = dlap(e, sensitivity);
      const rng = new Rng(`dlap-${e}-${sensitivity}`);
      const random = () => rng.nextU32();
      const alpha = alphaOf(e, sensitivity);
      // Bins: single values where the expected count is large, wider bins further out, two open tails.
      const b = 1 / -Math.log(alpha);
      const width = Math.max(1, Math.floor(b / 8));
      const edge = Math.ceil(4 * b / width) * width;
      const counts = new Map<number, number>();
      let sum = 0;
      let sumSq = 0;
      for (let i = 0; i < n; i++) {
        const z = d.sample(random);
        assert.ok(Number.isInteger(z), `draw ${z}`);
        sum += z;
        sumSq += z * z;
        const bin = z < -edge ? -Infinity : z >= edge ? Infinity : Math.floor(z / width);
        counts.set(bin, (counts.get(bin) ?? 0) + 1);
      }
      // Expected bin masses from the closed-form CDF.
      const cdf = (z: number) => (z < 0 ? alpha ** -z / (1 + alpha) : 1 - alpha ** (z + 1) / (1 + alpha)); // P(Z ≤ z)
      const bins: [number, number][] = [[-Infinity, cdf(-edge - 1)], [Infinity, 1 - cdf(edge - 1)]];
      for (let lo = -edge; lo < edge; lo += width) bins.push([Math.floor(lo / width), cdf(lo + width - 1) - cdf(lo - 1)]);
      let chi = 0;
      let df = -1;
      let maxDev = 0;
      for (const [bin, p] of bins) {
        const expected = p * n;
        const got = counts.get(bin) ?? 0;
        if (expected >= 5) {
          chi += (got - expected) ** 2 / expected;
          df++;
        }
        maxDev = Math.max(maxDev, Math.abs(got / n - p));
      }
      // Chi-square at p = 1e-5 (Wilson–Hilferty): z = 4.265.
      const crit = df * (1 - 2 / (9 * df) + 4.265 * Math.sqrt(2 / (9 * df))) ** 3;
      assert.ok(chi < crit, `chi-square ${chi.toFixed(1)} ≥ ${crit.toFixed(1)} with ${df} df`);
      assert.ok(maxDev < 5 / Math.sqrt(n), `max bin deviation ${maxDev}`);
      // Unbiased: Var Z = 2α/(1 − α)²; the mean is within 5 standard errors of 0.
      const variance = (2 * alpha) / (1 - alpha) ** 2;
      const mean = sum / n;
      assert.ok(Math.abs(mean) < 5 * Math.sqrt(variance / n), `mean ${mean}, se ${Math.sqrt(variance / n)}`);
      const sampleVar = sumSq / n - mean * mean;
      assert.ok(Math.abs(sampleVar / variance - 1) < 0.05, `variance ${sampleVar} vs ${variance}`);
      // Sanity of the closed form against the pmf.
      assert.ok(Math.abs(cdf(0) - cdf(-1) - pmf(alpha, 0)) < 1e-12, "cdf vs pmf");
    });
  }

  it("save/load round-trips the table, and draws use integer comparisons only (same draws after a reload)", () => {
    const d = dlap(137, PRIVACY_CAP_L);
    const words = new Int32Array(64);
    d.save(words, 3);
    const e = new DiscreteLaplace();
    e.load(words, 3);
    assert.equal(e.epsilonCenti, 137);
    const r1 = new Rng(5);
    const r2 = new Rng(5);
    for (let i = 0; i < 1000; i++) assert.equal(d.sample(() => r1.nextU32()), e.sample(() => r2.nextU32()));
    assert.throws(() => new DiscreteLaplace().sample(() => 0));
    assert.throws(() => d.configure(4, 1000), RangeError);
    assert.throws(() => d.configure(1001, 1000), RangeError);
    assert.throws(() => d.configure(100, DLAP_MAX_SENSITIVITY + 1), RangeError);
  });
});
