/**
 * Sensirion's CRC-8 for I2C data words (SCD4x, SEN5x, SEN6x): polynomial 0x31
 * (x^8 + x^5 + x^4 + 1), initial value 0xFF, no reflection, no final XOR. Every
 * 16-bit word a Sensirion chip sends or receives is followed by this checksum.
 *
 * Bitwise rather than table-driven: it runs on two bytes at a time, so a 256-byte
 * table would cost more RAM on the ESP32 than it saves in cycles.
 */

/** CRC-8 of `length` bytes of `bytes` starting at `offset` (default: two bytes, one Sensirion word). */
export function sensirionCrc8(bytes: Uint8Array, offset = 0, length = 2): number {
  let crc = 0xff;
  for (let i = offset, end = offset + length; i < end; i++) {
    crc ^= bytes[i];
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x80 ? ((crc << 1) ^ 0x31) & 0xff : (crc << 1) & 0xff;
  }
  return crc;
}

/** CRC-8 of one 16-bit word sent MSB first (e.g. `crcOfWord(0xBEEF) === 0x92`). */
export function crcOfWord(word: number): number {
  let crc = 0xff ^ ((word >> 8) & 0xff);
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x80 ? ((crc << 1) ^ 0x31) & 0xff : (crc << 1) & 0xff;
  crc ^= word & 0xff;
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x80 ? ((crc << 1) ^ 0x31) & 0xff : (crc << 1) & 0xff;
  return crc;
}

/** Writes `word` and its CRC as three bytes at `offset` of `into` (the on-wire form of a command argument). */
export function putWord(into: Uint8Array, offset: number, word: number): void {
  into[offset] = (word >> 8) & 0xff;
  into[offset + 1] = word & 0xff;
  into[offset + 2] = crcOfWord(word & 0xffff);
}
