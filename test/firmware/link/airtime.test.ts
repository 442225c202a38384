/** Time on air (AN1200.13) in integer µs and the RP002 regional tables. */
import assert from "node:assert/strict";
import fc from "fast-check";
import { airtimeUs, fskAirtimeUs, joinAirtimeUs, loraAirtimeUs, uplinkAirtimeUs, MAC_OVERHEAD_BYTES, JOIN_REQUEST_BYTES } from "../../../firmware/src/link/airtime.ts";
import { REGIONS, dataRate, dataRateCount, joinAirtimeAt, maxAppPayload, uplinkAirtimeAt } from "../../../firmware/src/link/regions.ts";
import type { Region } from "../../../firmware/src/drivers/lora-modem.ts";
import { referenceAirtimeMs } from "./fake-modem.ts";

describe("link airtime (AN1200.13, integer µs)", () => {
  it("matches the check values for a 24-byte PHY payload", () => {
    assert.equal(loraAirtimeUs(7, 125, 24), 61696);
    assert.equal(loraAirtimeUs(10, 125, 24), 370688);
    assert.equal(loraAirtimeUs(12, 125, 24), 1482752);
    // 11 application bytes + 13 bytes MAC overhead = 24.
    assert.equal(uplinkAirtimeUs({ sf: 12, bwKhz: 125 }, 11), 1482752);
    assert.equal(MAC_OVERHEAD_BYTES, 13);
    assert.equal(JOIN_REQUEST_BYTES, 23);
  });

  it("equals the floating-point formula for every SF, bandwidth and PHY length 0..255", () => {
    for (const bw of [125, 250, 500]) {
      for (let sf = 7; sf <= 12; sf++) {
        for (let pl = 0; pl <= 255; pl++) {
          const ref = referenceAirtimeMs(sf, bw, pl) * 1000;
          assert.equal(loraAirtimeUs(sf, bw, pl), Math.round(ref), `SF${sf} BW${bw} PL${pl}`);
          assert.ok(Number.isInteger(loraAirtimeUs(sf, bw, pl)));
        }
      }
    }
  });

  it("never decreases with payload length, and grows with SF at BW125", () => {
    fc.assert(fc.property(fc.integer({ min: 7, max: 12 }), fc.integer({ min: 0, max: 254 }), (sf, pl) => {
      assert.ok(loraAirtimeUs(sf, 125, pl + 1) >= loraAirtimeUs(sf, 125, pl));
      if (sf < 12) assert.ok(loraAirtimeUs(sf + 1, 125, pl) > loraAirtimeUs(sf, 125, pl));
    }));
  });

  it("uses low-data-rate optimisation only at SF11/SF12 on 125 kHz", () => {
    // With DE = 1 the payload takes more symbols than the same SF without it would.
    const withDe = loraAirtimeUs(12, 125, 51 + 13);
    const tSym = 4096 * 8;
    const nNoDe = 8 + Math.ceil((8 * 64 - 48 + 44) / 48) * 5;
    assert.ok(withDe > (12.25 + nNoDe) * tSym);
    assert.equal(loraAirtimeUs(12, 250, 24), Math.round(referenceAirtimeMs(12, 250, 24) * 1000));
  });

  it("computes FSK (DR7) airtime from 50 kbit/s and 11 bytes of framing", () => {
    assert.equal(fskAirtimeUs(24), (11 + 24) * 8 * 20);
    assert.equal(airtimeUs({ sf: 0, bwKhz: 50 }, 24), 5600);
  });

  it("computes the join-request airtime from 23 bytes", () => {
    assert.equal(joinAirtimeUs({ sf: 7, bwKhz: 125 }), loraAirtimeUs(7, 125, 23));
    assert.equal(joinAirtimeAt("EU868", 0), loraAirtimeUs(12, 125, 23));
    assert.equal(joinAirtimeAt("US915", 0), loraAirtimeUs(10, 125, 23));
  });

  it("rejects what it cannot compute", () => {
    assert.throws(() => loraAirtimeUs(13, 125, 10), RangeError);
    assert.throws(() => loraAirtimeUs(7, 200, 10), RangeError);
    assert.throws(() => loraAirtimeUs(7, 125, -1), RangeError);
  });
});

describe("link regional tables (RP002-1.0.1, no FOpts, dwell time 0)", () => {
  const expected: { [R in Region]: { sfbw: [number, number][]; max: number[] } } = {
    EU868: { sfbw: [[12, 125], [11, 125], [10, 125], [9, 125], [8, 125], [7, 125], [7, 250], [0, 50]], max: [51, 51, 51, 115, 222, 222, 222, 222] },
    US915: { sfbw: [[10, 125], [9, 125], [8, 125], [7, 125], [8, 500]], max: [11, 53, 125, 222, 222] },
    AU915: { sfbw: [[12, 125], [11, 125], [10, 125], [9, 125], [8, 125], [7, 125], [8, 500]], max: [51, 51, 51, 115, 222, 222, 222] },
    AS923: { sfbw: [[12, 125], [11, 125], [10, 125], [9, 125], [8, 125], [7, 125], [7, 250], [0, 50]], max: [51, 51, 115, 115, 222, 222, 222, 222] },
  };
  for (const region of Object.keys(expected) as Region[]) {
    it(`${region}: DR → SF/BW and max application payload`, () => {
      const e = expected[region];
      assert.equal(dataRateCount(region), e.max.length);
      for (let dr = 0; dr < e.max.length; dr++) {
        const r = dataRate(region, dr)!;
        assert.deepEqual([r.sf, r.bwKhz], e.sfbw[dr], `${region} DR${dr}`);
        assert.equal(maxAppPayload(region, dr), e.max[dr], `${region} DR${dr} max payload`);
      }
      assert.equal(maxAppPayload(region, e.max.length), 0);
      assert.equal(dataRate(region, -1), undefined);
    });
  }

  it("duty cycle only in EU868; US915 max payloads stay under the 400 ms dwell time", () => {
    assert.equal(REGIONS.EU868.dutyCycle, true);
    assert.equal(REGIONS.US915.dutyCycle || REGIONS.AU915.dutyCycle || REGIONS.AS923.dutyCycle, false);
    for (let dr = 0; dr < dataRateCount("US915"); dr++) {
      assert.ok(uplinkAirtimeAt("US915", dr, maxAppPayload("US915", dr)) <= REGIONS.US915.dwellUs, `US915 DR${dr}`);
    }
    assert.equal(uplinkAirtimeAt("US915", 0, 11), 370688);
  });

  it("charges an unknown data rate at the slowest one (conservative)", () => {
    assert.equal(uplinkAirtimeAt("EU868", 99, 11), uplinkAirtimeAt("EU868", 0, 11));
  });
});
