// Sensirion CRC-8 (poly 0x31, init 0xFF): the datasheet vectors, and the
// properties the drivers rely on to turn any single-bit error into a CRC fault.
import assert from "node:assert/strict";
import fc from "fast-check";
import { crcOfWord, putWord, sensirionCrc8 } from "../../../firmware/src/drivers/sensirion-crc.ts";

const VECTORS: [number, number][] = [
  [0xbeef, 0x92],
  [0x0000, 0x81],
  [0x01f4, 0x33],
  [0x6666, 0x93],
  [0x8000, 0xa2],
];

describe("Sensirion CRC-8", () => {
  for (const [word, crc] of VECTORS) {
    it(`0x${word.toString(16).padStart(4, "0")} → 0x${crc.toString(16)}`, () => {
      assert.equal(crcOfWord(word), crc);
      assert.equal(sensirionCrc8(Uint8Array.of(word >> 8, word & 0xff)), crc);
    });
  }

  it("works at an offset inside a longer frame, and putWord writes the on-wire triple", () => {
    const frame = new Uint8Array(9);
    putWord(frame, 0, 0x1234);
    putWord(frame, 3, 0xbeef);
    putWord(frame, 6, 0x8000);
    assert.deepEqual([...frame.subarray(3, 6)], [0xbe, 0xef, 0x92]);
    assert.equal(sensirionCrc8(frame, 6), 0xa2);
    assert.equal(sensirionCrc8(frame, 0), frame[2]);
  });

  it("the one-word and the buffer forms agree for every word", () => {
    const b = new Uint8Array(2);
    for (let w = 0; w <= 0xffff; w++) {
      b[0] = w >> 8;
      b[1] = w & 0xff;
      if (crcOfWord(w) !== sensirionCrc8(b)) assert.fail(`mismatch at 0x${w.toString(16)}`);
    }
  });

  it("property: any single flipped bit in word or CRC is detected", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 23 }), (word, bit) => {
        const triple = new Uint8Array(3);
        putWord(triple, 0, word);
        triple[bit >> 3] ^= 1 << (bit & 7);
        assert.notEqual(sensirionCrc8(triple), triple[2]);
      }),
      { numRuns: 2000 },
    );
  });

  it("property: a CRC over n bytes matches a straightforward reference", () => {
    const reference = (bytes: number[]) => {
      let crc = 0xff;
      for (const x of bytes) {
        for (let i = 7; i >= 0; i--) {
          const top = ((crc >> 7) ^ (x >> i)) & 1;
          crc = ((crc << 1) & 0xff) ^ (top ? 0x31 : 0);
        }
      }
      return crc;
    };
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 32 }), (bytes) => {
        assert.equal(sensirionCrc8(Uint8Array.from(bytes), 0, bytes.length), reference(bytes));
      }),
    );
  });
});
