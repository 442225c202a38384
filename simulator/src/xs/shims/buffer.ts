/**
 * Inside XS: the part of Node's `Buffer` that lora-packet, aes-cmac and
 * network/lorawan-frames.ts use, so the modem emulators' LoRaWAN device runs
 * in XS. bundle.ts injects it for the free identifier `Buffer`. As in Node,
 * `slice` is a view (lora-packet relies on it) and `from` copies.
 */
const HEX = "0123456789abcdef";
const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

function decodeBase64(s: string): number[] {
  const out: number[] = [];
  let bits = 0;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const v = B64.indexOf(s[i]);
    if (v < 0) continue; // padding and whitespace
    bits = (bits << 6) | v;
    n += 6;
    if (n >= 8) {
      n -= 8;
      out.push((bits >> n) & 0xff);
    }
  }
  return out;
}

function encodeBase64(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i += 3) {
    const x = (b[i] << 16) | ((b[i + 1] ?? 0) << 8) | (b[i + 2] ?? 0);
    s += B64[(x >> 18) & 63] + B64[(x >> 12) & 63] + (i + 1 < b.length ? B64[(x >> 6) & 63] : "=") + (i + 2 < b.length ? B64[x & 63] : "=");
  }
  return s;
}

/** Node's Buffer's bytes, as far as the LoRaWAN frame code needs them (the static side is added below). */
class Bytes extends Uint8Array {
  /** Hex, base64 or UTF-8 text of the bytes. */
  override toString(encoding?: string): string {
    if (encoding === "hex") {
      let s = "";
      for (let i = 0; i < this.length; i++) s += HEX[this[i] >> 4] + HEX[this[i] & 15];
      return s;
    }
    if (encoding === "base64") return encodeBase64(this);
    return new TextDecoder().decode(this);
  }

  /** A view of bytes `start`..`end` (Node's semantics, not Uint8Array's copy). */
  override slice(start?: number, end?: number): Bytes {
    return this.subarray(start, end) as Bytes;
  }

  /** Copies into `target` at `targetStart`; returns the count. */
  copy(target: Uint8Array, targetStart = 0, sourceStart = 0, sourceEnd = this.length): number {
    const part = this.subarray(sourceStart, Math.min(sourceEnd, sourceStart + target.length - targetStart));
    target.set(part, targetStart);
    return part.length;
  }

  equals(other: Uint8Array): boolean {
    return compare(this, other) === 0;
  }

  readUInt8(o: number): number {
    return this[o];
  }

  readInt8(o: number): number {
    return (this[o] << 24) >> 24;
  }

  readUInt16LE(o: number): number {
    return this[o] | (this[o + 1] << 8);
  }

  readUInt16BE(o: number): number {
    return (this[o] << 8) | this[o + 1];
  }

  readUInt32LE(o: number): number {
    return (this[o] | (this[o + 1] << 8) | (this[o + 2] << 16) | (this[o + 3] << 24)) >>> 0;
  }

  readUInt32BE(o: number): number {
    return ((this[o] << 24) | (this[o + 1] << 16) | (this[o + 2] << 8) | this[o + 3]) >>> 0;
  }

  writeUInt8(v: number, o: number): number {
    this[o] = v;
    return o + 1;
  }

  writeUInt16LE(v: number, o: number): number {
    this[o] = v;
    this[o + 1] = v >>> 8;
    return o + 2;
  }

  writeUInt16BE(v: number, o: number): number {
    this[o] = v >>> 8;
    this[o + 1] = v;
    return o + 2;
  }

  writeUInt32LE(v: number, o: number): number {
    for (let i = 0; i < 4; i++) this[o + i] = v >>> (8 * i);
    return o + 4;
  }

  writeUInt32BE(v: number, o: number): number {
    for (let i = 0; i < 4; i++) this[o + i] = v >>> (24 - 8 * i);
    return o + 4;
  }
}

/** `n` bytes, all `fill`. */
export function alloc(n: number, fill = 0): Bytes {
  const b = new Bytes(n);
  if (fill) b.fill(fill);
  return b;
}

/** A copy of bytes, or the bytes of a hex, base64 or UTF-8 string. */
export function from(v: ArrayLike<number> | ArrayBuffer | string, encoding?: string): Bytes {
  if (typeof v === "string") {
    if (encoding === "hex") {
      const b = new Bytes(v.length >> 1);
      for (let i = 0; i < b.length; i++) b[i] = parseInt(v.slice(2 * i, 2 * i + 2), 16);
      return b;
    }
    if (encoding === "base64") return from(decodeBase64(v));
    return from(new TextEncoder().encode(v));
  }
  if (v instanceof ArrayBuffer) return new Bytes(v);
  const b = new Bytes(v.length);
  for (let i = 0; i < v.length; i++) b[i] = v[i];
  return b;
}

/** The bytes of `list` one after the other. */
function concat(list: readonly Uint8Array[], total?: number): Bytes {
  const length = total ?? list.reduce((a, b) => a + b.length, 0);
  const out = new Bytes(length);
  let at = 0;
  for (const b of list) {
    if (at >= length) break;
    out.set(b.subarray(0, length - at), at);
    at += b.length;
  }
  return out;
}

/** Byte-wise order, then length (-1, 0, 1). */
function compare(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length && i < b.length; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

function isBuffer(v: unknown): v is Bytes {
  return v instanceof Bytes;
}

/** The shim: the byte class with Node's static helpers (its own `from` shadows Uint8Array's). */
export const Buffer = Object.assign(Bytes, { alloc, from, concat, compare, isBuffer });
/** A shim Buffer. */
export type Buffer = Bytes;
