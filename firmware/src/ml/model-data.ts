// Decoders for the constant data of generated model modules.
//
// Large weight arrays are written as base64 strings (about 1.37 source bytes per
// weight instead of ~4 for decimal literals) and decoded when the module body
// runs. With the module preloaded that happens at build time and the resulting
// typed arrays are linked into flash; the string itself is bytecode in flash too.
// Integer-only; int32 values are little-endian, independent of the host.

// Value of each base64 character code (−1 for characters outside the alphabet).
const DIGITS = new Int8Array(128).fill(-1);
{
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (let i = 0; i < 64; i++) DIGITS[alphabet.charCodeAt(i)] = i;
}

/** Decodes standard base64 (with or without `=` padding) into bytes; throws on other characters. */
export function decodeBase64(text: string): Uint8Array {
  let length = text.length;
  while (length > 0 && text.charCodeAt(length - 1) === 61) length--; // "="
  const out = new Uint8Array((Math.imul(length, 3) >> 2));
  let bits = 0;
  let count = 0;
  let o = 0;
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i);
    const digit = code < 128 ? DIGITS[code] : -1;
    if (digit < 0) throw new RangeError(`invalid base64 character at ${i}`);
    bits = ((bits << 6) | digit) & 0xffffff;
    count += 6;
    if (count >= 8) {
      count -= 8;
      out[o++] = (bits >> count) & 0xff;
    }
  }
  return out;
}

/** Base64 → Int8Array (two's-complement bytes). */
export function int8FromBase64(text: string): Int8Array {
  const bytes = decodeBase64(text);
  return new Int8Array(bytes.buffer, 0, bytes.length);
}

/** Base64 of little-endian int32 values → Int32Array. */
export function int32FromBase64(text: string): Int32Array {
  const bytes = decodeBase64(text);
  const n = bytes.length >> 2;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const b = i << 2;
    out[i] = bytes[b] | (bytes[b + 1] << 8) | (bytes[b + 2] << 16) | (bytes[b + 3] << 24);
  }
  return out;
}
