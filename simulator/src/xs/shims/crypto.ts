/**
 * Inside XS, in place of Node's `crypto`: `createCipheriv` for AES-128-CBC,
 * which aes-cmac (lora-packet's MIC) calls one block at a time. AES-128 as in
 * FIPS-197, written here because crypto-js (lora-packet's AES) asks for
 * `crypto` itself while it loads, so it cannot be used by this module. Whole
 * blocks only, no padding: `update` returns the ciphertext of the complete
 * blocks, `final` nothing — all that aes-cmac reads.
 */
import { alloc, from, type Buffer } from "./buffer.ts";

const SBOX = new Uint8Array(256);
{
  // Walk GF(2^8) by powers of the generator 3 (p) and its inverse (q): q = p⁻¹, then the affine map.
  let p = 1;
  let q = 1;
  const rotl8 = (x: number, k: number) => ((x << k) | (x >> (8 - k))) & 0xff;
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
}

const xtime = (x: number) => ((x << 1) ^ (x & 0x80 ? 0x1b : 0)) & 0xff;

/** The 11 round keys of AES-128, 176 bytes. */
function expandKey(key: Uint8Array): Uint8Array {
  const w = new Uint8Array(176);
  w.set(key);
  let rcon = 1;
  for (let i = 16; i < 176; i += 4) {
    let a = w[i - 4];
    let b = w[i - 3];
    let c = w[i - 2];
    let d = w[i - 1];
    if (i % 16 === 0) {
      [a, b, c, d] = [SBOX[b] ^ rcon, SBOX[c], SBOX[d], SBOX[a]];
      rcon = xtime(rcon);
    }
    w[i] = w[i - 16] ^ a;
    w[i + 1] = w[i - 15] ^ b;
    w[i + 2] = w[i - 14] ^ c;
    w[i + 3] = w[i - 13] ^ d;
  }
  return w;
}

/** Encrypts the 16 bytes of `s` in place with round keys `w`. */
function encryptBlock(s: Uint8Array, w: Uint8Array): void {
  const t = new Uint8Array(16);
  for (let i = 0; i < 16; i++) s[i] ^= w[i];
  for (let round = 1; round <= 10; round++) {
    // SubBytes and ShiftRows (byte i is row i % 4 of column i >> 2; row r moves r columns left).
    for (let c = 0; c < 4; c++) for (let r = 0; r < 4; r++) t[c * 4 + r] = SBOX[s[((c + r) % 4) * 4 + r]];
    if (round < 10) {
      for (let c = 0; c < 16; c += 4) {
        const [a0, a1, a2, a3] = [t[c], t[c + 1], t[c + 2], t[c + 3]];
        s[c] = xtime(a0) ^ xtime(a1) ^ a1 ^ a2 ^ a3;
        s[c + 1] = a0 ^ xtime(a1) ^ xtime(a2) ^ a2 ^ a3;
        s[c + 2] = a0 ^ a1 ^ xtime(a2) ^ xtime(a3) ^ a3;
        s[c + 3] = xtime(a0) ^ a0 ^ a1 ^ a2 ^ xtime(a3);
      }
    } else s.set(t);
    for (let i = 0; i < 16; i++) s[i] ^= w[round * 16 + i];
  }
}

/** An AES-128-CBC cipher over whole blocks. */
export function createCipheriv(algorithm: string, key: Uint8Array, iv: Uint8Array): { update(data: Uint8Array): Buffer; final(): Buffer } {
  if (algorithm !== "aes-128-cbc" || key.length !== 16 || iv.length !== 16) throw new Error(`crypto shim: only aes-128-cbc is provided in XS, not ${algorithm}`);
  const w = expandKey(key);
  const chain = from(iv);
  return {
    update(data: Uint8Array): Buffer {
      const out = alloc(data.length - (data.length % 16));
      for (let at = 0; at < out.length; at += 16) {
        for (let i = 0; i < 16; i++) chain[i] ^= data[at + i];
        encryptBlock(chain, w);
        out.set(chain, at);
      }
      return out;
    },
    final(): Buffer {
      return alloc(0);
    },
  };
}
