/**
 * Inside XS, in place of Node's `crypto`: `createCipheriv` for AES-128-CBC,
 * which aes-cmac (lora-packet's MIC) calls one block at a time, on the
 * simulator's own AES-128 (network/aes128.ts: crypto-js, lora-packet's AES,
 * asks for `crypto` itself while it loads, so it cannot serve here). Whole
 * blocks only, no padding: `update` returns the ciphertext of the complete
 * blocks, `final` nothing — all that aes-cmac reads.
 */
import { Aes128 } from "../../network/aes128.ts";
import { alloc, from, type Buffer } from "./buffer.ts";

/** An AES-128-CBC cipher over whole blocks. */
export function createCipheriv(algorithm: string, key: Uint8Array, iv: Uint8Array): { update(data: Uint8Array): Buffer; final(): Buffer } {
  if (algorithm !== "aes-128-cbc" || key.length !== 16 || iv.length !== 16) throw new Error(`crypto shim: only aes-128-cbc is provided in XS, not ${algorithm}`);
  const aes = new Aes128(key);
  const chain = from(iv);
  return {
    update(data: Uint8Array): Buffer {
      const out = alloc(data.length - (data.length % 16));
      for (let at = 0; at < out.length; at += 16) {
        for (let i = 0; i < 16; i++) chain[i] ^= data[at + i];
        aes.encryptBlock(chain, 0, chain, 0);
        out.set(chain, at);
      }
      return out;
    },
    final(): Buffer {
      return alloc(0);
    },
  };
}
