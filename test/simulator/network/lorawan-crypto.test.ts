import assert from "node:assert/strict";
import fc from "fast-check";
import loraPacketModule from "lora-packet";
import { createCipheriv } from "node:crypto";
import { Aes128 } from "../../../simulator/src/network/aes128.ts";
import { aesCmac } from "../../../simulator/src/network/lorawan-crypto.ts";
import { buildDataFrame, fromHex, openDataFrame, peekDataFrame, toHex, type DataFrame } from "../../../simulator/src/network/lorawan-frames.ts";

const lp = (loraPacketModule as unknown as { default?: typeof loraPacketModule }).default ?? loraPacketModule;
const MTYPES = { "unconfirmed-up": "Unconfirmed Data Up", "unconfirmed-down": "Unconfirmed Data Down", "confirmed-up": "Confirmed Data Up", "confirmed-down": "Confirmed Data Down" } as const;
const be = (v: number, n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (v >>> (8 * (n - 1 - i))) & 0xff));

/** The same frame through lora-packet, the reference implementation. */
function referenceFrame(f: DataFrame, keys: { nwkSKey: Uint8Array; appSKey: Uint8Array }): Uint8Array {
  const nwk = Buffer.from(keys.nwkSKey);
  const msb = Buffer.from([(f.fCnt >>> 16) & 0xff, (f.fCnt >>> 24) & 0xff]);
  const p = lp.fromFields(
    {
      MType: MTYPES[f.mType],
      DevAddr: be(f.devAddr >>> 0, 4),
      FCtrl: { ADR: f.adr, ADRACKReq: f.adrAckReq, ACK: f.ack, FPending: f.fPending },
      FCnt: be(f.fCnt & 0xffff, 2),
      FOpts: Buffer.from(f.fOpts),
      payload: f.fPort === undefined ? Buffer.alloc(0) : Buffer.from(f.payload),
      ...(f.fPort === undefined ? {} : { FPort: f.fPort }),
    },
    Buffer.from(keys.appSKey),
    nwk,
    undefined,
    msb,
  );
  lp.recalculateMIC(p, nwk, undefined, msb);
  return new Uint8Array(p.getPHYPayload()!);
}

const key = fc.uint8Array({ minLength: 16, maxLength: 16 });
const frame = fc.record({
  mType: fc.constantFrom("unconfirmed-up", "confirmed-up", "unconfirmed-down", "confirmed-down") as fc.Arbitrary<DataFrame["mType"]>,
  devAddr: fc.nat({ max: 0xffffffff }),
  fCnt: fc.oneof(fc.nat({ max: 0xffff }), fc.nat({ max: 0xffffffff })),
  adr: fc.boolean(),
  adrAckReq: fc.boolean(),
  ack: fc.boolean(),
  fPending: fc.boolean(),
  fOpts: fc.uint8Array({ maxLength: 15 }),
  fPort: fc.option(fc.nat({ max: 255 }), { nil: undefined }),
  payload: fc.uint8Array({ maxLength: 242 }),
}).map((f) => (f.fPort === undefined ? { ...f, payload: new Uint8Array(0) } : f.fPort === 0 ? { ...f, fOpts: new Uint8Array(0) } : f));

describe("network: LoRaWAN data-frame crypto", () => {
  it("property: toHex is Node's upper-case hex, and fromHex reads it back, in either case and with separators; non-hex is refused", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        const hex = toHex(bytes);
        assert.equal(hex, Buffer.from(bytes).toString("hex").toUpperCase());
        assert.deepEqual(fromHex(hex), bytes);
        assert.deepEqual(fromHex(hex.toLowerCase().replace(/(..)(?!$)/g, "$1:")), bytes);
      }),
    );
    for (const bad of ["0", "0g", "zz", "0x12"]) assert.throws(() => fromHex(bad), RangeError, bad);
  });

  it("AES-128 gives FIPS-197's example (appendix C.1) and agrees with Node's AES on random keys and blocks", () => {
    const out = new Uint8Array(16);
    new Aes128(fromHex("000102030405060708090a0b0c0d0e0f")).encryptBlock(fromHex("00112233445566778899aabbccddeeff"), 0, out, 0);
    assert.equal(toHex(out).toLowerCase(), "69c4e0d86a7b0430d8cdb78070b4c55a");
    fc.assert(
      fc.property(key, fc.uint8Array({ minLength: 16, maxLength: 16 }), (k, block) => {
        const mine = new Uint8Array(20);
        mine.set(block, 3);
        new Aes128(k).encryptBlock(mine, 3, mine, 3); // in place, at an offset
        const node = createCipheriv("aes-128-ecb", k, null).update(block);
        assert.deepEqual(mine.subarray(3, 19), new Uint8Array(node));
      }),
      { numRuns: 300 },
    );
  });

  it("a key array changed in place is not served the cipher of its old bytes", () => {
    const k = fromHex("2b7e151628aed2a6abf7158809cf4f3c");
    const m = fromHex("6bc1bee22e409f96e93d7e117393172a");
    const before = toHex(aesCmac(k, m));
    k[0] ^= 1;
    assert.equal(toHex(aesCmac(k, m)), toHex(aesCmac(new Uint8Array(k), m)));
    assert.notEqual(toHex(aesCmac(k, m)), before);
  });

  it("AES-CMAC gives RFC 4493's test vectors", () => {
    const k = fromHex("2b7e151628aed2a6abf7158809cf4f3c");
    const m = fromHex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e5130c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710");
    assert.equal(toHex(aesCmac(k, m.subarray(0, 0))).toLowerCase(), "bb1d6929e95937287fa37d129b756746");
    assert.equal(toHex(aesCmac(k, m.subarray(0, 16))).toLowerCase(), "070a16b46b4d4144f79bdd9dd04a287c");
    assert.equal(toHex(aesCmac(k, m.subarray(0, 40))).toLowerCase(), "dfa66747de9ae63030ca32611497c827");
    assert.equal(toHex(aesCmac(k, m)).toLowerCase(), "51f0bebf7e3b9d92fc49741779363cfe");
  });

  it("builds every data frame byte for byte as lora-packet does (random frames, keys, 32-bit counters)", () => {
    fc.assert(
      fc.property(frame, key, key, (f, nwkSKey, appSKey) => {
        const keys = { nwkSKey, appSKey };
        assert.equal(toHex(buildDataFrame(f, keys)), toHex(referenceFrame(f, keys)));
      }),
      { numRuns: 2000 },
    );
  });

  it("opens what it builds, and rejects a wrong counter, key or any flipped bit", () => {
    fc.assert(
      fc.property(frame, key, key, fc.nat(), (f, nwkSKey, appSKey, flip) => {
        const keys = { nwkSKey, appSKey };
        const phy = buildDataFrame(f, keys);
        const opened = openDataFrame(phy, keys, f.fCnt >>> 0);
        assert.ok(opened, "own frame did not open");
        assert.deepEqual({ ...opened, payload: toHex(opened.payload), fOpts: toHex(opened.fOpts) }, { ...f, fCnt: f.fCnt >>> 0, payload: toHex(f.payload), fOpts: toHex(f.fOpts) });
        assert.equal(openDataFrame(phy, keys, (f.fCnt + 0x10000) >>> 0), undefined, "opened with the wrong upper counter bits");
        const wrong = { nwkSKey: appSKey.map((b, i) => b ^ (i === 0 ? 1 : 0)), appSKey };
        assert.equal(openDataFrame(phy, wrong, f.fCnt >>> 0), undefined, "opened with a wrong NwkSKey");
        const bad = phy.slice();
        const bit = flip % (bad.length * 8);
        bad[bit >> 3] ^= 1 << (bit & 7);
        const r = openDataFrame(bad, keys, f.fCnt >>> 0);
        // A flipped MHDR bit can turn it into another frame type (not a data frame): rejected either way.
        assert.equal(r, undefined, `bit ${bit} flipped and still accepted`);
      }),
      { numRuns: 1000 },
    );
  });

  it("reads headers as lora-packet does, and never throws on garbage", () => {
    fc.assert(
      fc.property(frame, key, (f, k) => {
        const phy = buildDataFrame(f, { nwkSKey: k, appSKey: k });
        const h = peekDataFrame(phy)!;
        const p = lp.fromWire(Buffer.from(phy));
        assert.equal(h.devAddr, p.DevAddr!.readUInt32BE(0));
        assert.equal(h.fCnt16, p.FCnt!.readUInt16BE(0));
        assert.equal(toHex(h.fOpts), toHex(p.FOpts ?? Buffer.alloc(0)));
        assert.equal(h.fPort, p.FPort && p.FPort.length ? p.FPort[0] : undefined);
      }),
      { numRuns: 1000 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), key, (bytes, k) => {
        peekDataFrame(bytes);
        openDataFrame(bytes, { nwkSKey: k, appSKey: k }, 0);
      }),
      { numRuns: 5000 },
    );
  });
});
