/**
 * CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320) for the records the
 * link keeps in flash. Table-driven; the table is built once at module load
 * (1 KB), so checking a 400-byte page costs 400 table look-ups.
 */

const TABLE = new Int32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  TABLE[n] = c;
}

/** CRC-32 of `bytes[from, to)` as an unsigned 32-bit integer. */
export function crc32(bytes: Uint8Array, from: number, to: number): number {
  let c = -1;
  for (let i = from; i < to; i++) c = TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}
