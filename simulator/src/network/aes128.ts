/**
 * AES-128 encryption (FIPS-197), the only AES direction LoRaWAN 1.0.x frames
 * need (FRMPayload keystream, CMAC), written for the simulator's rate of
 * frames: round keys expanded once per key, rounds as 32-bit table lookups
 * (the "T-table" form of SubBytes + ShiftRows + MixColumns, FIPS-197 §5.1 and
 * the AES proposal's §5.2). Node's `crypto` costs a native call, a Buffer and
 * a copy per block; this costs a few hundred nanoseconds, and the same code
 * runs inside XS (the `crypto` shim of simulator/src/xs/shims uses it).
 * Checked against FIPS-197 appendix C.1 and Node's AES in
 * test/simulator/network/lorawan-crypto.test.ts.
 */

const SBOX = new Uint8Array(256);
/** T0[x] = (2·S[x], S[x], S[x], 3·S[x]) as a big-endian word; T1..T3 are it rotated by 8, 16, 24 bits. */
const T0 = new Uint32Array(256);
const T1 = new Uint32Array(256);
const T2 = new Uint32Array(256);
const T3 = new Uint32Array(256);

/** Multiplication by x in GF(2^8) modulo x^8 + x^4 + x^3 + x + 1. */
function xtime(x: number): number {
  return ((x << 1) ^ (x & 0x80 ? 0x1b : 0)) & 0xff;
}

{
  // The S-box from its definition: walk GF(2^8) by powers of the generator 3 (p) and
  // of its inverse (q = p⁻¹), then apply the affine map.
  const rotl8 = (x: number, k: number) => ((x << k) | (x >> (8 - k))) & 0xff;
  let p = 1;
  let q = 1;
  do {
    p = (p ^ (p << 1) ^ (p & 0x80 ? 0x1b : 0)) & 0xff;
    q ^= q << 1;
    q ^= q << 2;
    q ^= q << 4;
    q &= 0xff;
    if (q & 0x80) q ^= 0x09;
    SBOX[p] = q ^ rotl8(q, 1) ^ rotl8(q, 2) ^ rotl8(q, 3) ^ rotl8(q, 4) ^ 0x63;
  } while (p !== 1);
  SBOX[0] = 0x63;
  for (let x = 0; x < 256; x++) {
    const s = SBOX[x];
    const s2 = xtime(s);
    const t = ((s2 << 24) | (s << 16) | (s << 8) | (s2 ^ s)) >>> 0;
    T0[x] = t;
    T1[x] = ((t >>> 8) | (t << 24)) >>> 0;
    T2[x] = ((t >>> 16) | (t << 16)) >>> 0;
    T3[x] = ((t >>> 24) | (t << 8)) >>> 0;
  }
}

/** One AES-128 key, expanded: encrypts 16-byte blocks. */
export class Aes128 {
  /** The 44 round-key words (FIPS-197 §5.2), big-endian. */
  readonly #w = new Uint32Array(44);

  constructor(key: Uint8Array) {
    if (key.length !== 16) throw new RangeError("AES-128 needs a 16-byte key");
    const w = this.#w;
    for (let i = 0; i < 4; i++) w[i] = ((key[4 * i] << 24) | (key[4 * i + 1] << 16) | (key[4 * i + 2] << 8) | key[4 * i + 3]) >>> 0;
    let rcon = 1;
    for (let i = 4; i < 44; i++) {
      let t = w[i - 1];
      if (i % 4 === 0) {
        // RotWord, SubWord, then Rcon on the first byte.
        t = ((SBOX[(t >>> 16) & 0xff] << 24) | (SBOX[(t >>> 8) & 0xff] << 16) | (SBOX[t & 0xff] << 8) | SBOX[t >>> 24]) ^ (rcon << 24);
        rcon = xtime(rcon);
      }
      w[i] = (w[i - 4] ^ t) >>> 0;
    }
  }

  /** Encrypts the block at `src[from..from+16)` into `dst[to..to+16)` (they may be the same bytes). */
  encryptBlock(src: Uint8Array, from: number, dst: Uint8Array, to: number): void {
    const w = this.#w;
    let s0 = ((src[from] << 24) | (src[from + 1] << 16) | (src[from + 2] << 8) | src[from + 3]) ^ w[0];
    let s1 = ((src[from + 4] << 24) | (src[from + 5] << 16) | (src[from + 6] << 8) | src[from + 7]) ^ w[1];
    let s2 = ((src[from + 8] << 24) | (src[from + 9] << 16) | (src[from + 10] << 8) | src[from + 11]) ^ w[2];
    let s3 = ((src[from + 12] << 24) | (src[from + 13] << 16) | (src[from + 14] << 8) | src[from + 15]) ^ w[3];
    let k = 4;
    for (let round = 1; round < 10; round++, k += 4) {
      const t0 = T0[s0 >>> 24] ^ T1[(s1 >>> 16) & 0xff] ^ T2[(s2 >>> 8) & 0xff] ^ T3[s3 & 0xff] ^ w[k];
      const t1 = T0[s1 >>> 24] ^ T1[(s2 >>> 16) & 0xff] ^ T2[(s3 >>> 8) & 0xff] ^ T3[s0 & 0xff] ^ w[k + 1];
      const t2 = T0[s2 >>> 24] ^ T1[(s3 >>> 16) & 0xff] ^ T2[(s0 >>> 8) & 0xff] ^ T3[s1 & 0xff] ^ w[k + 2];
      const t3 = T0[s3 >>> 24] ^ T1[(s0 >>> 16) & 0xff] ^ T2[(s1 >>> 8) & 0xff] ^ T3[s2 & 0xff] ^ w[k + 3];
      s0 = t0;
      s1 = t1;
      s2 = t2;
      s3 = t3;
    }
    // Last round: SubBytes and ShiftRows without MixColumns.
    const r0 = ((SBOX[s0 >>> 24] << 24) | (SBOX[(s1 >>> 16) & 0xff] << 16) | (SBOX[(s2 >>> 8) & 0xff] << 8) | SBOX[s3 & 0xff]) ^ w[40];
    const r1 = ((SBOX[s1 >>> 24] << 24) | (SBOX[(s2 >>> 16) & 0xff] << 16) | (SBOX[(s3 >>> 8) & 0xff] << 8) | SBOX[s0 & 0xff]) ^ w[41];
    const r2 = ((SBOX[s2 >>> 24] << 24) | (SBOX[(s3 >>> 16) & 0xff] << 16) | (SBOX[(s0 >>> 8) & 0xff] << 8) | SBOX[s1 & 0xff]) ^ w[42];
    const r3 = ((SBOX[s3 >>> 24] << 24) | (SBOX[(s0 >>> 16) & 0xff] << 16) | (SBOX[(s1 >>> 8) & 0xff] << 8) | SBOX[s2 & 0xff]) ^ w[43];
    put(dst, to, r0);
    put(dst, to + 4, r1);
    put(dst, to + 8, r2);
    put(dst, to + 12, r3);
  }
}

function put(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 24;
  b[at + 1] = (v >>> 16) & 0xff;
  b[at + 2] = (v >>> 8) & 0xff;
  b[at + 3] = v & 0xff;
}
