/**
 * The LoRaWAN 1.0.x data-frame crypto: FRMPayload encryption (AES-128 in
 * counter mode over the Ai blocks) and the MIC (AES-CMAC, RFC 4493, over
 * B0 | message), as in the LoRaWAN 1.0.x specification §4.3.3 and §4.4. Every
 * uplink and downlink of a simulation goes through here twice (device and
 * server), so it is written for speed: AES in JavaScript (aes128.ts: no native
 * call, Buffer or copy per block), round keys and CMAC subkeys cached per key.
 * lora-packet stays the reference (test/simulator/network/lorawan-crypto.test.ts
 * checks every function against it) and still handles the rare join frames.
 */
import { Aes128 } from "./aes128.ts";

/** A key's expanded cipher and, once a CMAC needs them, its subkeys (RFC 4493 §2.3). */
interface KeyState {
  aes: Aes128;
  k1?: Uint8Array;
  k2?: Uint8Array;
}

/**
 * Each key array's state, with the bytes it was made from: a session's keys are the same arrays frame
 * after frame (device and server each keep theirs), and an array changed in place gets a new state.
 */
const byArray = new WeakMap<Uint8Array, { bytes: Uint8Array; state: KeyState }>();

function keyState(key: Uint8Array): KeyState {
  const hit = byArray.get(key);
  if (hit && sameBytes(hit.bytes, key)) return hit.state;
  const state: KeyState = { aes: new Aes128(key) };
  byArray.set(key, { bytes: new Uint8Array(key), state });
  return state;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function aes(key: Uint8Array): Aes128 {
  return keyState(key).aes;
}

/** AES-128-CBC with a zero IV over whole blocks (no padding); the last block is the CBC-MAC. */
function cbc(key: Uint8Array, blocks: Uint8Array): Uint8Array {
  const c = aes(key);
  const out = new Uint8Array(blocks);
  for (let at = 0; at < out.length; at += 16) {
    if (at > 0) for (let i = 0; i < 16; i++) out[at + i] ^= out[at - 16 + i];
    c.encryptBlock(out, at, out, at);
  }
  return out;
}

/** AES-128 of each 16-byte block on its own (ECB). */
function ecb(key: Uint8Array, blocks: Uint8Array): Uint8Array {
  const c = aes(key);
  const out = new Uint8Array(blocks);
  for (let at = 0; at < out.length; at += 16) c.encryptBlock(out, at, out, at);
  return out;
}

/** Doubling in GF(2^128) (RFC 4493 §2.3). */
function dbl(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = ((b[i] << 1) | (i < 15 ? b[i + 1] >> 7 : 0)) & 0xff;
  if (b[0] & 0x80) out[15] ^= 0x87;
  return out;
}

function subkeys(key: Uint8Array): { k1: Uint8Array; k2: Uint8Array } {
  const state = keyState(key);
  if (!state.k1 || !state.k2) {
    const l = ecb(key, new Uint8Array(16));
    state.k1 = dbl(l);
    state.k2 = dbl(state.k1);
  }
  return { k1: state.k1, k2: state.k2 };
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
  // Copies, not views: a view of a small typed array makes V8 move it off its heap (an allocation each).
  return cbc(key, m).slice(n * 16 - 16);
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
  return aesCmac(nwkSKey, b).slice(0, 4);
}
