/**
 * Seeded pseudo-random numbers (xoshiro128**), so every run with the same seed
 * is identical. Each emulator and world model takes its own stream, forked from
 * the scenario seed by name, so adding a device does not shift the others.
 */
export class Rng {
  #s0: number;
  #s1: number;
  #s2: number;
  #s3: number;
  readonly #seed: number;

  /** Seeds from a 32-bit integer or a string (hashed). */
  constructor(seed: number | string) {
    const h = typeof seed === "number" ? seed >>> 0 : hashString(seed);
    this.#seed = h;
    // splitmix32 expands the seed into four non-zero state words (the k-th from h + k·golden).
    this.#s0 = splitmix32(h, 1);
    this.#s1 = splitmix32(h, 2);
    this.#s2 = splitmix32(h, 3);
    this.#s3 = splitmix32(h, 4) || 1;
  }

  /** Next 32-bit unsigned integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.#s1, 5), 7), 9) >>> 0;
    const t = this.#s1 << 9;
    this.#s2 ^= this.#s0;
    this.#s3 ^= this.#s1;
    this.#s1 ^= this.#s2;
    this.#s0 ^= this.#s3;
    this.#s2 ^= t;
    this.#s3 = rotl(this.#s3, 11);
    return result;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** Standard normal (Box–Muller). */
  normal(mean = 0, sd = 1): number {
    const u = 1 - this.next();
    const v = this.next();
    return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** An independent stream derived from this generator's seed and a name (does not consume from this stream). */
  fork(name: string): Rng {
    return this.forkHashed(hashString(name));
  }

  /** `fork(name)` given `hashString(name)` (or the same hash built up with `hashMore`, without building the name). */
  forkHashed(nameHash: number): Rng {
    return new Rng((Math.imul(this.#seed ^ 0x5bd1e995, 0x01000193) ^ nameHash) >>> 0);
  }
}

/**
 * The k-th output of splitmix32 from state `h` (a plain function, not a closure in
 * the constructor: streams are forked often and tsx names every closure it creates).
 */
function splitmix32(h: number, k: number): number {
  let z = (h + Math.imul(k, 0x9e3779b9)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** FNV-1a 32-bit hash of a string. */
export function hashString(s: string): number {
  return hashMore(0x811c9dc5, s);
}

/** Continues an FNV-1a hash `h` with the characters of `s`: hashMore(hashString(a), b) === hashString(a + b). */
export function hashMore(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
