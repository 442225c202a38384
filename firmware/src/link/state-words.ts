/**
 * Helpers to keep link state in the Int32Array the node retains in RTC memory
 * through deep sleep: times in ms need more than 31 bits, so they take two
 * words; small counters are packed two (16-bit) to a word.
 */

const TWO_32 = 4294967296;

/** Stores a non-negative integer below 2^53 in words[at], words[at + 1]. */
export function putLong(words: Int32Array, at: number, value: number): void {
  const v = value > 0 ? value : 0;
  const hi = Math.floor(v / TWO_32);
  words[at] = hi | 0;
  words[at + 1] = (v - hi * TWO_32) | 0;
}

/** Reads what `putLong` stored. */
export function getLong(words: Int32Array, at: number): number {
  return (words[at] >>> 0) * TWO_32 + (words[at + 1] >>> 0);
}

/** Stores `value` (saturated to 0..65535) as the `index`-th 16-bit half-word from `at`. */
export function putHalf(words: Int32Array, at: number, index: number, value: number): void {
  const v = value < 0 ? 0 : value > 0xffff ? 0xffff : value | 0;
  const w = at + (index >> 1);
  if (index & 1) words[w] = (words[w] & 0xffff) | (v << 16);
  else words[w] = (words[w] & ~0xffff) | v;
}

/** Reads the `index`-th 16-bit half-word from `at`. */
export function getHalf(words: Int32Array, at: number, index: number): number {
  const w = words[at + (index >> 1)];
  return index & 1 ? w >>> 16 : w & 0xffff;
}

/** FNV-1a over words[from, to). */
export function wordsChecksum(words: Int32Array, from: number, to: number): number {
  let h = 0x811c9dc5 | 0;
  for (let i = from; i < to; i++) h = Math.imul(h ^ words[i], 0x01000193);
  return h;
}
