import assert from "node:assert/strict";
import fc from "fast-check";
import { UPLINKS, encodeRecord, decodeUplink, encodeDownlink, decodeDownlink, normalizeUplink, validLengths } from "../../codecs/src/index.ts";
import { messageRecord } from "./arbitraries.ts";

/** Valid messages of every type, as [fPort, bytes]. */
const validMessage = fc.constantFrom(...UPLINKS.filter((d) => !d.echo)).chain((def) =>
  messageRecord(def).map((rec) => {
    const buf = new Uint8Array(51);
    const n = encodeRecord(def.port, rec, buf, 0, 51);
    return { fPort: def.port, bytes: Array.from(buf.subarray(0, n)) };
  }),
);

/** A valid message damaged the ways radio links and bugs damage them. */
const mutated = fc.tuple(validMessage, fc.integer({ min: 0, max: 4 }), fc.nat(), fc.nat({ max: 255 })).map(([m, kind, at, byte]) => {
  const b = m.bytes.slice();
  const i = b.length ? at % b.length : 0;
  if (kind === 0 && b.length) b[i] ^= 1 << (byte & 7); // bit flip
  else if (kind === 1) b.length = i; // truncation
  else if (kind === 2) b.push(byte); // overlong
  else if (kind === 3) b.splice(i, 0, byte); // inserted byte
  else b.splice(i, 1); // dropped byte
  return { fPort: m.fPort, bytes: b };
});

function checkResult(r: ReturnType<typeof decodeUplink>, fPort: number, length: number): void {
  assert.ok(Array.isArray(r.errors) && Array.isArray(r.warnings));
  const def = UPLINKS.find((d) => d.port === fPort);
  const wellFormed = !!def && validLengths(def).includes(length);
  if (wellFormed) assert.deepEqual(r.errors, [], `fPort ${fPort} length ${length}`);
  else {
    assert.ok(r.errors.length > 0, `fPort ${fPort} length ${length} accepted`);
    assert.equal(r.data, undefined);
  }
}

describe("codecs: bad input never throws and is reported", () => {
  it("random byte strings on random fPorts (60,000 cases)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.oneof(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 1, max: 11 })), (bytes, fPort) => {
        const arr = Array.from(bytes);
        const r = decodeUplink({ bytes: arr, fPort });
        checkResult(r, fPort, arr.length);
        if (r.data) assert.deepEqual(normalizeUplink({ data: r.data }).errors, []);
      }),
      { numRuns: 60000 },
    );
  });

  it("mutated valid messages: flips, truncation, overlong, inserted and dropped bytes (40,000 cases)", () => {
    fc.assert(
      fc.property(mutated, (m) => checkResult(decodeUplink(m), m.fPort, m.bytes.length)),
      { numRuns: 40000 },
    );
  });

  it("inputs that are not what network servers send", () => {
    fc.assert(
      fc.property(fc.anything(), fc.anything(), (bytes, fPort) => {
        const r = decodeUplink({ bytes, fPort } as never);
        assert.ok(Array.isArray(r.errors));
        decodeUplink(bytes as never);
        decodeDownlink({ bytes, fPort } as never);
        encodeDownlink({ data: bytes } as never);
        encodeDownlink(bytes as never);
        normalizeUplink({ data: bytes } as never);
        normalizeUplink(bytes as never);
      }),
      { numRuns: 5000 },
    );
    for (const input of [undefined, null, 42, "0102", [], { bytes: null, fPort: 1 }, { bytes: [1.5], fPort: 1 }, { bytes: [256], fPort: 1 }, { bytes: [-1], fPort: 1 }, { bytes: [1, 2], fPort: "1" }, { bytes: [1], fPort: 1.5 }]) {
      const r = decodeUplink(input as never);
      assert.ok(r.errors.length > 0, JSON.stringify(input));
      assert.equal(r.data, undefined);
    }
    assert.match(decodeUplink({ bytes: [], fPort: 1 }).errors[0], /must be 11, 17 bytes long, got 0/);
    assert.match(decodeUplink({ bytes: [1, 2, 3], fPort: 200 }).errors[0], /unknown fPort 200/);
    assert.match(decodeUplink({ bytes: new Array(20).fill(0), fPort: 3 }).errors[0], /entries are 14 bytes each; truncated\?/);
  });

  it("normalizeUplink never hands The Things Stack a value outside its schema's ranges: it leaves it out, with a warning, and keeps the rest", () => {
    // lib/payload.json of the device repository: relative humidity 0..100 %, CO2 0..1,000,000 ppm, temperature >= -273.15 °C.
    const inSchema = (m: Record<string, unknown>): boolean => {
      const air = (m.air ?? {}) as { temperature?: number; relativeHumidity?: number; co2?: number };
      const total = ((m.metering ?? {}) as { water?: { total?: number } }).water?.total;
      const ok = (v: number | undefined, lo: number, hi: number) => v === undefined || (v >= lo && v <= hi);
      return ok(air.relativeHumidity, 0, 100) && ok(air.co2, 0, 1e6) && ok(air.temperature, -273.15, Infinity) && ok(total, 0, Infinity) && ok(m.battery as number | undefined, 0, Infinity);
    };
    // 100.5 % humidity: on the wire (the field reaches 127 %), never from an encoder.
    const wet = decodeUplink({ fPort: 1, bytes: [3, 32, 1, 144, 9, 100, 177, 146, 255, 238, 0] });
    assert.equal((wet.data as { relativeHumidityPct: number }).relativeHumidityPct, 100.5);
    const n = normalizeUplink({ data: wet.data! });
    assert.deepEqual(n.errors, []);
    const air = (n.data as { air: Record<string, number> }).air;
    assert.equal(air.relativeHumidity, undefined);
    assert.ok(air.temperature !== undefined && air.co2 !== undefined, JSON.stringify(n.data));
    assert.match(n.warnings.join("\n"), /air\.relativeHumidity 100\.5 is outside the normalized payload's 0\.\.100: left out/);
    // A batch with a hole in it is an error naming the hole, not an internal one.
    assert.deepEqual(normalizeUplink({ data: { messageType: "airBatch", readings: [null] } as never }).errors, ["data.readings[0] is not a reading"]);
    // Whatever decodes, valid or damaged, normalizes inside the schema.
    fc.assert(
      fc.property(fc.oneof(validMessage, mutated), (m) => {
        const r = decodeUplink(m);
        if (!r.data) return;
        const out = normalizeUplink({ data: r.data });
        assert.deepEqual(out.errors, []);
        for (const x of Array.isArray(out.data) ? out.data : [out.data]) assert.ok(inSchema(x as Record<string, unknown>), JSON.stringify(x));
      }),
      { numRuns: 20_000, seed: 5 },
    );
  });

  it("a bad recvTime costs the timestamps, never the reading", () => {
    const buf = new Uint8Array(15);
    const n = encodeRecord(2, { event: 0, ageS: 60, co2Ppm: 2100 }, buf, 0, 15);
    for (const recvTime of [Infinity, -Infinity, NaN, 1e20, -8.64e15, "yesterday", {}, new Date(NaN)]) {
      const r = decodeUplink({ bytes: Array.from(buf.subarray(0, n)), fPort: 2, recvTime: recvTime as never });
      assert.deepEqual(r.errors, [], String(recvTime));
      assert.equal(r.data!.co2Ppm, 2100);
      assert.equal(r.data!.time, undefined);
    }
  });

  it("typed arrays and Buffers are accepted as bytes (Node services)", () => {
    const buf = new Uint8Array(8);
    encodeRecord(7, { distanceMm: 420, fillHalfPct: 175 }, buf, 0, 8);
    assert.deepEqual(decodeUplink({ bytes: buf, fPort: 7 }).data, decodeUplink({ bytes: Array.from(buf), fPort: 7 }).data);
    assert.equal(decodeUplink({ bytes: Buffer.from(buf), fPort: 7 }).data!.fillPct, 87.5);
  });

  it("random downlink bytes are refused or decode within bounds, never throw (20,000 cases)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 10 }), fc.integer({ min: 18, max: 31 }), (bytes, fPort) => {
        const r = decodeDownlink({ bytes: Array.from(bytes), fPort });
        if (r.errors.length === 0) {
          const again = encodeDownlink({ data: r.data as Record<string, unknown> });
          assert.deepEqual(again.errors, []);
          assert.deepEqual(again.bytes, Array.from(bytes), "a downlink the node accepts re-encodes to the same bytes");
        } else assert.equal(r.data, undefined);
      }),
      { numRuns: 20000 },
    );
  });
});
