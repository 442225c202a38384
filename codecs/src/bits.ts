/**
 * Big-endian, most-significant-bit-first bit packing over any indexable byte
 * store (a Uint8Array on the node, a plain array in network servers, where
 * typed arrays are not guaranteed). State is module-level so that encoding and
 * decoding allocate nothing per message; calls are not re-entrant, which is
 * fine for single-threaded engines.
 */

/** Anything we can read bytes from. */
export interface ByteSource {
  readonly length: number;
  readonly [index: number]: number;
}

/** Anything we can write bytes into (Uint8Array or number[]). */
export interface ByteSink {
  [index: number]: number;
}

let wBuf: ByteSink = [];
let wBit = 0;
let rBuf: ByteSource = [];
let rBit = 0;

/** Starts writing at byte `offset` of `buf`; the bytes touched are cleared as they are reached. */
export function writeStart(buf: ByteSink, offset: number): void {
  wBuf = buf;
  wBit = offset << 3;
}

/** Bit position of the writer. */
export function writePos(): number {
  return wBit;
}

/** Writes the low `n` bits (n ≤ 32) of the unsigned integer `v`. */
export function writeBits(v: number, n: number): void {
  while (n > 0) {
    const byteIndex = wBit >>> 3;
    const used = wBit & 7;
    const room = 8 - used;
    const take = n < room ? n : room;
    const shift = n - take;
    const chunk = (shift >= 32 ? 0 : v >>> shift) & ((1 << take) - 1);
    const prev = used === 0 ? 0 : wBuf[byteIndex] & 0xff;
    wBuf[byteIndex] = (prev | (chunk << (room - take))) & 0xff;
    wBit += take;
    n -= take;
  }
}

/** Pads the writer with zero bits to the next byte boundary and returns the byte position. */
export function writeAlign(): number {
  const pad = (8 - (wBit & 7)) & 7;
  if (pad) writeBits(0, pad);
  return wBit >>> 3;
}

/** Starts reading at byte `offset` of `buf`. */
export function readStart(buf: ByteSource, offset: number): void {
  rBuf = buf;
  rBit = offset << 3;
}

/** Bit position of the reader. */
export function readPos(): number {
  return rBit;
}

/** Moves the reader to the next byte boundary. */
export function readAlign(): void {
  rBit = (rBit + 7) & ~7;
}

/** Reads `n` bits (n ≤ 32) as an unsigned integer. The caller checks the length first. */
export function readBits(n: number): number {
  let v = 0;
  while (n > 0) {
    const byteIndex = rBit >>> 3;
    const used = rBit & 7;
    const room = 8 - used;
    const take = n < room ? n : room;
    const chunk = ((rBuf[byteIndex] & 0xff) >>> (room - take)) & ((1 << take) - 1);
    v = v * (1 << take) + chunk;
    rBit += take;
    n -= take;
  }
  return v;
}
