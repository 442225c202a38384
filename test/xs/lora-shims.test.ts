/** The Buffer and crypto shims that let lora-packet run in XS (simulator/src/xs/shims), against Node's own. */
import assert from "node:assert/strict";
import { createCipheriv } from "node:crypto";
import { Buffer as Shim, alloc, from } from "../../simulator/src/xs/shims/buffer.ts";
import { createCipheriv as shimCipheriv } from "../../simulator/src/xs/shims/crypto.ts";
import { Rng } from "../../simulator/src/core/rng.ts";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

describe("XS shims for lora-packet", () => {
  it("AES-128-CBC gives FIPS-197's example and Node's ciphertext", () => {
    const fips = shimCipheriv("aes-128-cbc", Buffer.from("000102030405060708090a0b0c0d0e0f", "hex"), alloc(16)).update(Buffer.from("00112233445566778899aabbccddeeff", "hex"));
    assert.equal(hex(fips), "69c4e0d86a7b0430d8cdb78070b4c55a");
    const rng = new Rng("aes");
    const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => rng.int(0, 255)));
    for (let i = 0; i < 200; i++) {
      const [key, iv, msg] = [bytes(16), bytes(16), bytes(16 * (1 + (i % 4)))];
      assert.equal(hex(shimCipheriv("aes-128-cbc", key, iv).update(msg)), hex(createCipheriv("aes-128-cbc", key, iv).update(msg)), `case ${i}`);
    }
    assert.throws(() => shimCipheriv("aes-256-cbc", bytes(32), bytes(16)), /only aes-128-cbc/);
  });

  it("Buffer: Node's encodings, views and integer access", () => {
    const node = Buffer.from("0102fe7f80ff", "hex");
    const shim = from("0102fe7f80ff", "hex");
    assert.equal(shim.toString("hex"), node.toString("hex"));
    assert.equal(shim.toString("base64"), node.toString("base64"));
    for (const s of ["", "QQ==", "QUI=", "QUJD", node.toString("base64")]) assert.equal(hex(from(s, "base64")), hex(Buffer.from(s, "base64")), s);
    for (const o of [0, 2, 4]) {
      assert.equal(shim.readUInt16LE(o), node.readUInt16LE(o));
      assert.equal(shim.readUInt16BE(o), node.readUInt16BE(o));
      assert.equal(shim.readInt8(o + 1), node.readInt8(o + 1));
    }
    assert.equal(shim.readUInt32BE(1), node.readUInt32BE(1));
    assert.equal(shim.readUInt32LE(2), node.readUInt32LE(2));
    // slice is a view, as in Node (lora-packet writes through it); from copies.
    const view = shim.slice(1, 3);
    view.writeUInt8(0xaa, 0);
    assert.equal(shim[1], 0xaa);
    const copy = from(shim);
    copy[0] = 0x55;
    assert.equal(shim[0], 0x01);
    assert.equal(hex(Shim.concat([from([1, 2]), from([3])])), "010203");
    assert.equal(Shim.compare(from([1, 2]), from([1, 3])), Buffer.compare(Buffer.from([1, 2]), Buffer.from([1, 3])));
    assert.equal(hex(from([1, 2, 3]).reverse()), "030201");
    const target = alloc(4);
    assert.equal(from([9, 8, 7]).copy(target, 2), 2);
    assert.equal(hex(target), "00000908");
  });
});
