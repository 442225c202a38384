// A small fully-connected classifier (in → hidden ReLU → classes, softmax)
// trained with Adam on softmax cross-entropy, in plain TypeScript: a few
// hundred weights need no framework, and a seeded PRNG makes every run identical.

export interface Mlp {
  inputs: number;
  hidden: number;
  classes: number;
  /** Row-major [hidden][inputs], as TFLite's FullyConnected weights [out][in]. */
  w1: Float64Array;
  b1: Float64Array;
  /** [classes][hidden]. */
  w2: Float64Array;
  b2: Float64Array;
}

/** Deterministic PRNG (mulberry32). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function initMlp(inputs: number, hidden: number, classes: number, seed: number): Mlp {
  const r = mulberry32(seed);
  const u = (limit: number): number => (r() * 2 - 1) * limit;
  return {
    inputs, hidden, classes,
    w1: Float64Array.from({ length: hidden * inputs }, () => u(Math.sqrt(6 / inputs))),
    b1: new Float64Array(hidden),
    w2: Float64Array.from({ length: classes * hidden }, () => u(Math.sqrt(6 / (hidden + classes)))),
    b2: new Float64Array(classes),
  };
}

/** Hidden activations (after ReLU) and logits of one input. */
export function forward(m: Mlp, x: ArrayLike<number>, h = new Float64Array(m.hidden), z = new Float64Array(m.classes)): { h: Float64Array; z: Float64Array } {
  for (let j = 0; j < m.hidden; j++) {
    let a = m.b1[j];
    for (let i = 0; i < m.inputs; i++) a += m.w1[j * m.inputs + i] * x[i];
    h[j] = a > 0 ? a : 0;
  }
  for (let c = 0; c < m.classes; c++) {
    let a = m.b2[c];
    for (let j = 0; j < m.hidden; j++) a += m.w2[c * m.hidden + j] * h[j];
    z[c] = a;
  }
  return { h, z };
}

export function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
}

export function predict(m: Mlp, x: ArrayLike<number>): number {
  return argmax(forward(m, x).z);
}

export interface TrainOptions {
  seed: number;
  epochs: number;
  batch?: number;
  learningRate?: number;
  /** Loss weight per class (default 1 each). */
  classWeights?: readonly number[];
}

/** Trains in place with Adam (β1 0.9, β2 0.999) on mini-batches in a seeded order; returns the mean loss per epoch. */
export function train(m: Mlp, xs: readonly ArrayLike<number>[], ys: readonly number[], o: TrainOptions): number[] {
  const params = [m.w1, m.b1, m.w2, m.b2];
  const grads = params.map((p) => new Float64Array(p.length));
  const mom = params.map((p) => new Float64Array(p.length));
  const vel = params.map((p) => new Float64Array(p.length));
  const [gw1, gb1, gw2, gb2] = grads;
  const batch = o.batch ?? 64;
  const lr = o.learningRate ?? 0.005;
  const cw = o.classWeights ?? new Array<number>(m.classes).fill(1);
  const r = mulberry32(o.seed);
  const order = Array.from(xs, (_, i) => i);
  const h = new Float64Array(m.hidden);
  const z = new Float64Array(m.classes);
  const p = new Float64Array(m.classes);
  const dh = new Float64Array(m.hidden);
  let step = 0;
  const losses: number[] = [];
  for (let epoch = 0; epoch < o.epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    let lossSum = 0;
    for (let b0 = 0; b0 < order.length; b0 += batch) {
      for (const g of grads) g.fill(0);
      const b1 = Math.min(order.length, b0 + batch);
      let wsum = 0;
      for (let b = b0; b < b1; b++) wsum += cw[ys[order[b]]];
      for (let b = b0; b < b1; b++) {
        const x = xs[order[b]];
        const y = ys[order[b]];
        forward(m, x, h, z);
        const zmax = Math.max(...z);
        let s = 0;
        for (let c = 0; c < m.classes; c++) s += (p[c] = Math.exp(z[c] - zmax));
        const w = cw[y] / wsum;
        lossSum -= cw[y] * Math.log(p[y] / s);
        dh.fill(0);
        for (let c = 0; c < m.classes; c++) {
          const dz = w * (p[c] / s - (c === y ? 1 : 0));
          gb2[c] += dz;
          for (let j = 0; j < m.hidden; j++) {
            gw2[c * m.hidden + j] += dz * h[j];
            dh[j] += dz * m.w2[c * m.hidden + j];
          }
        }
        for (let j = 0; j < m.hidden; j++) {
          if (h[j] <= 0) continue;
          gb1[j] += dh[j];
          for (let i = 0; i < m.inputs; i++) gw1[j * m.inputs + i] += dh[j] * x[i];
        }
      }
      step++;
      const c1 = 1 - Math.pow(0.9, step);
      const c2 = 1 - Math.pow(0.999, step);
      for (let k = 0; k < params.length; k++) {
        const P = params[k], G = grads[k], M = mom[k], V = vel[k];
        for (let i = 0; i < P.length; i++) {
          M[i] = 0.9 * M[i] + 0.1 * G[i];
          V[i] = 0.999 * V[i] + 0.001 * G[i] * G[i];
          P[i] -= (lr * (M[i] / c1)) / (Math.sqrt(V[i] / c2) + 1e-8);
        }
      }
    }
    losses.push(lossSum / order.length);
  }
  return losses;
}
