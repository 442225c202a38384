/**
 * The LoRaWAN 1.0.x data-frame crypto on Node's AES: FRMPayload encryption
 * (AES-128 in counter mode over the Ai blocks) and the MIC (AES-CMAC,
 * RFC 4493, over B0 | message), as in the LoRaWAN 1.0.x specification §4.3.3
 * and §4.4. Every uplink and downlink of a simulation goes through here twice
 * (device and server), so it is written for speed: a cipher call per
 * keystream block, one CBC call for the CMAC, subkeys and a running cipher
 * cached per key.
 * lora-packet stays the reference (test/simulator/network/lorawan-crypto.test.ts
 * checks every function against it) and still handles the rare join frames.
 */
// Only AES-128-CBC is asked of `crypto`: under `--engine xs` the bundle swaps in a shim that has just that (simulator/src/xs/shims).
import { createCipheriv } from "crypto";

const ZERO_IV = new Uint8Array(16);

/**
 * One AES-128-CBC cipher per key, kept across calls: making a cipher costs
 * several times more than a block through one, and every frame of a run needs
 * several. CBC chains each call on from the last ciphertext block, so `last`
 * is XORed into the first block of the next call, which makes every call
 * exactly a CBC from a zero IV (the results are those of a fresh cipher).
 */
interface RunningCbc {
  update(data: Uint8Array): Uint8Array;
  last: Uint8Array;
}

const runningCiphers = new Map<string, RunningCbc>();

/** The key's bytes as a string, to look caches up by. */
function keyId(key: Uint8Array): string {
  let id = "";
  for (let i = 0; i < key.length; i++) id += String.fromCharCode(key[i]);
  return id;
}

function runningCbc(key: Uint8Array): RunningCbc {
  const id = keyId(key);
  let c = runningCiphers.get(id);
  if (!c) {
    const cipher = createCipheriv("aes-128-cbc", key, ZERO_IV);
    c = { update: (data) => cipher.update(data), last: new Uint8Array(16) };
    if (runningCiphers.size > 16384) runningCiphers.clear();
    runningCiphers.set(id, c);
  }
  return c;
}

/** AES-128-CBC with a zero IV over whole blocks (no padding); the last block is the CBC-MAC. */
function cbc(key: Uint8Array, blocks: Uint8Array): Uint8Array {
  const c = runningCbc(key);
  const input = new Uint8Array(blocks);
  for (let i = 0; i < 16; i++) input[i] ^= c.last[i];
  // Encrypting, update() gives every complete block at once; final() (padding) is never called.
  const out = new Uint8Array(c.update(input));
  c.last.set(out.subarray(out.length - 16));
  return out;
}

/** AES-128 of each 16-byte block on its own (ECB, as one-block CBC runs with a zero IV). */
function ecb(key: Uint8Array, blocks: Uint8Array): Uint8Array {
  if (blocks.length === 16) return cbc(key, blocks);
  const out = new Uint8Array(blocks.length);
  for (let i = 0; i < blocks.length; i += 16) out.set(cbc(key, blocks.subarray(i, i + 16)), i);
  return out;
}

/** Doubling in GF(2^128) (RFC 4493 §2.3). */
function dbl(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = ((b[i] << 1) | (i < 15 ? b[i + 1] >> 7 : 0)) & 0xff;
  if (b[0] & 0x80) out[15] ^= 0x87;
  return out;
}

const subkeyCache = new Map<string, { k1: Uint8Array; k2: Uint8Array }>();

function subkeys(key: Uint8Array): { k1: Uint8Array; k2: Uint8Array } {
  const id = keyId(key);
  let s = subkeyCache.get(id);
  if (!s) {
    const l = ecb(key, new Uint8Array(16));
    const k1 = dbl(l);
    s = { k1, k2: dbl(k1) };
    if (subkeyCache.size > 4096) subkeyCache.clear();
    subkeyCache.set(id, s);
  }
  return s;
}

/** AES-CMAC (RFC 4493) of `message` under `key`: 16 bytes. */
export function aesCmac(key: Uint8Array, message: Uint8Array): Uint8Array {
  const { k1, k2 } = subkeys(key);
  const n = Math.max(1, Math.ceil(message.length / 16));
  const complete = message.length > 0 && message.length % 16 === 0;
  const m = new Uint8Array(n * 16);
  m.set(message);
  if (!complete) m[message.length] = 0x80;
  const k = complete ? k1 : k2;
  for (let i = 0; i < 16; i++) m[(n - 1) * 16 + i] ^= k[i];
  return cbc(key, m).subarray(n * 16 - 16);
}

/** A block of the B0 / Ai family: `first`, 4 zero bytes, direction, DevAddr and FCnt little-endian, 0, `last`. */
function block(first: number, down: boolean, devAddr: number, fCnt: number, last: number): Uint8Array {
  const b = new Uint8Array(16);
  b[0] = first;
  b[5] = down ? 1 : 0;
  for (let i = 0; i < 4; i++) {
    b[6 + i] = (devAddr >>> (8 * i)) & 0xff;
    b[10 + i] = (fCnt >>> (8 * i)) & 0xff;
  }
  b[15] = last;
  return b;
}

/** Encrypts or decrypts a FRMPayload (the same XOR with the Ai keystream). */
export function cryptFrmPayload(key: Uint8Array, down: boolean, devAddr: number, fCnt: number, payload: Uint8Array): Uint8Array {
  if (payload.length === 0) return new Uint8Array(0);
  const k = Math.ceil(payload.length / 16);
  const a = new Uint8Array(16 * k);
  for (let i = 0; i < k; i++) a.set(block(0x01, down, devAddr, fCnt, (i + 1) & 0xff), 16 * i);
  const s = ecb(key, a);
  const out = new Uint8Array(payload.length);
  for (let i = 0; i < payload.length; i++) out[i] = payload[i] ^ s[i];
  return out;
}

/** The 4-byte MIC of a data frame: `msg` is MHDR | FHDR | FPort | FRMPayload (encrypted). */
export function dataMic(nwkSKey: Uint8Array, down: boolean, devAddr: number, fCnt: number, msg: Uint8Array): Uint8Array {
  const b = new Uint8Array(16 + msg.length);
  b.set(block(0x49, down, devAddr, fCnt, msg.length & 0xff));
  b.set(msg, 16);
  return aesCmac(nwkSKey, b).subarray(0, 4);
}
