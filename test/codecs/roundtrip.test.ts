import assert from "node:assert/strict";
import fc from "fast-check";
import {
  UPLINKS, DOWNLINKS, encodeRecord, decodeUplink, encodeDownlink, decodeDownlink, byteWidth, validLengths, parseDownlink,
  type Field, type IntRecord,
} from "../../codecs/src/index.ts";
import { expectedValue, messageRecord, recordOf } from "./arbitraries.ts";

function expectFields(fields: Field[], rec: IntRecord, out: Record<string, unknown>, where: string): void {
  for (const f of fields) {
    if (f.name === "reserved") continue;
    const want = expectedValue(f, rec[f.key] as number | boolean | undefined);
    assert.deepEqual(out[f.name], want, `${where}${f.name}: sent ${String(rec[f.key])}`);
  }
}

describe("codecs: encode → decode returns the input quantized to the documented resolution", () => {
  for (const def of UPLINKS.filter((d) => !d.echo)) {
    it(`${def.name} (fPort ${def.port})`, () => {
      fc.assert(
        fc.property(messageRecord(def), (rec) => {
          const buf = new Uint8Array(64).fill(0xa5); // stale bytes must not leak into the message
          const n = encodeRecord(def.port, rec, buf, 3, 51);
          assert.ok(validLengths(def).includes(n), `length ${n}`);
          const r = decodeUplink({ bytes: Array.from(buf.subarray(3, 3 + n)), fPort: def.port });
          assert.deepEqual(r.errors, []);
          assert.deepEqual(r.warnings, []);
          const data = r.data as Record<string, unknown>;
          assert.equal(data.messageType, def.name);
          expectFields(def.head, rec, data, "");
          if (def.ext) {
            const hasExt = def.ext.some((f) => rec[f.key] !== undefined);
            assert.equal(n, byteWidth(def.head) + (hasExt ? byteWidth(def.ext) : 0));
            if (hasExt) expectFields(def.ext, rec, data, "ext.");
            else for (const f of def.ext) assert.equal(f.name in data, false);
          }
          if (def.entry) {
            const list = rec[def.listName!] as IntRecord[];
            const got = data[def.listName!] as Record<string, unknown>[];
            assert.equal(got.length, list.length);
            list.forEach((e, i) => expectFields(def.entry!, e, got[i], `${def.listName}[${i}].`));
          }
        }),
        { numRuns: 3000 },
      );
    });
  }

  it("extensions are dropped, never truncated, when maxBytes is 11 (US915 DR0)", () => {
    for (const def of UPLINKS.filter((d) => d.ext)) {
      fc.assert(
        fc.property(recordOf([...def.head, ...def.ext!]), (rec) => {
          const buf = new Uint8Array(11);
          const n = encodeRecord(def.port, rec, buf, 0, 11);
          assert.equal(n, byteWidth(def.head));
          assert.deepEqual(decodeUplink({ bytes: Array.from(buf), fPort: def.port }).errors, []);
        }),
        { numRuns: 500 },
      );
    }
  });

  it("batches hold only as many entries as fit in maxBytes", () => {
    for (const def of UPLINKS.filter((d) => d.entry && d.listName === "readings")) {
      const entry = byteWidth(def.entry!);
      const list = Array.from({ length: def.maxEntries! }, (_, i) => ({ ageS: i * 900, batteryMv: 3600 }));
      const buf = new Uint8Array(51);
      assert.equal(encodeRecord(def.port, { readings: list }, buf, 0, entry * 2), entry * 2);
      assert.equal(encodeRecord(def.port, { readings: list }, buf, 0, entry - 1), -1, "not even one entry fits");
      assert.equal(encodeRecord(def.port, { readings: [] }, buf, 0, 51), -1, "an empty batch is not a message");
    }
  });

  it("out-of-range readings saturate at the range edges", () => {
    const buf = new Uint8Array(17);
    const n = encodeRecord(1, { co2Ppm: 99999, temperatureDeciC: -999, pm25DeciUgm3: -5, humidityHalfPct: 1000 }, buf, 0, 17);
    const d = decodeUplink({ bytes: Array.from(buf.subarray(0, n)), fPort: 1 }).data!;
    assert.equal(d.co2Ppm, 40000);
    assert.equal(d.temperatureC, -40);
    assert.equal(d.pm2_5, 0);
    assert.equal(d.relativeHumidityPct, 100);
  });

  it("recvTime gives batch and alarm entries absolute timestamps", () => {
    const buf = new Uint8Array(51);
    const n = encodeRecord(6, { readings: [{ ageS: 3600, totalL: 10 }, { ageS: 0, totalL: 11 }] }, buf, 0, 51);
    const r = decodeUplink({ bytes: Array.from(buf.subarray(0, n)), fPort: 6, recvTime: new Date("2026-03-01T10:00:00Z") });
    const list = r.data!.readings as { time: string }[];
    assert.deepEqual(list.map((e) => e.time), ["2026-03-01T09:00:00.000Z", "2026-03-01T10:00:00.000Z"]);
    const a = encodeRecord(5, { event: 0, ageS: 30, leak: true }, buf, 0, 51);
    const alarm = decodeUplink({ bytes: Array.from(buf.subarray(0, a)), fPort: 5, recvTime: "2026-03-01T03:00:30Z" }).data!;
    assert.equal(alarm.event, "leak");
    assert.equal(alarm.time, "2026-03-01T03:00:00.000Z");
  });
});

describe("codecs: size limits", () => {
  it("every routine reading's core fits in 11 bytes (US915 DR0)", () => {
    for (const def of UPLINKS.filter((d) => /Reading$/.test(d.name))) assert.ok(byteWidth(def.head) <= 11, `${def.name}: ${byteWidth(def.head)} bytes`);
  });
  it("every message fits in 51 bytes (EU868 DR0)", () => {
    for (const def of [...UPLINKS, ...DOWNLINKS]) assert.ok(Math.max(...validLengths(def)) <= 51, def.name);
  });
  it("every field's absent code lies outside its value range", () => {
    for (const def of [...UPLINKS, ...DOWNLINKS]) {
      for (const f of [...def.head, ...(def.ext ?? []), ...(def.entry ?? [])]) {
        const codes = 2 ** f.bits;
        const top = (f.max - f.zero) / 2 ** f.shift;
        assert.ok(top <= codes - (f.absent ? 2 : 1), `${def.name}.${f.name}: range needs ${top + 1} codes of ${codes}`);
        assert.ok(Number.isInteger((f.max - f.min) / 2 ** f.shift), `${def.name}.${f.name}: range not a multiple of the step`);
        assert.ok(f.zero <= f.min, `${def.name}.${f.name}: values below code 0`);
      }
    }
  });
});

describe("codecs: downlinks", () => {
  for (const def of DOWNLINKS) {
    it(`${def.name} (fPort ${def.port}) encodes and decodes every valid setting exactly`, () => {
      const fields = def.head.filter((f) => f.name !== "reserved");
      const arb = fc.record(Object.fromEntries(fields.map((f) => [f.name,
        f.type === "bool" ? fc.boolean() : f.type === "enum" ? fc.constantFrom(...f.values!) : fc.integer({ min: f.min, max: f.max }).map((n) => n / f.scale)])));
      fc.assert(
        fc.property(arb, (settings) => {
          const enc = encodeDownlink({ data: { command: def.name, ...settings } });
          const dec = decodeDownlink({ bytes: enc.bytes, fPort: enc.fPort });
          if (enc.errors.length) {
            // Only cross-field rules may refuse values that are each in range.
            assert.equal(enc.bytes.length, 0);
            assert.ok(dec.errors.length > 0);
            return;
          }
          assert.equal(enc.fPort, def.port);
          assert.equal(enc.bytes.length, byteWidth(def.head));
          assert.deepEqual(dec.errors, []);
          assert.deepEqual(dec.data, { command: def.name, ...settings });
        }),
        { numRuns: 1000 },
      );
    });
  }

  it("out-of-range, unknown, missing and mistyped settings give errors and no bytes", () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ command: "setInterval", intervalS: 59, heartbeatS: 3600 }, /intervalS = 59 is outside 60..86400/],
      [{ command: "setInterval", intervalS: 900, heartbeatS: 600 }, /heartbeatS must be at least intervalS/],
      [{ command: "setInterval", intervalS: 900 }, /heartbeatS is required/],
      [{ command: "setInterval", intervalS: "900", heartbeatS: 3600 }, /intervalS must be a number/],
      [{ command: "setInterval", intervalS: 900, heartbeatS: 3600, colour: "red" }, /unknown setting 'colour'/],
      [{ command: "setValve", valve: "ajar" }, /valve must be one of open, closed/],
      [{ command: "selfDestruct" }, /unknown command 'selfDestruct'/],
      [{ intervalS: 900 }, /data.command is required/],
      [{ command: "setTime", unixTimeS: 100 }, /unixTimeS = 100 is outside/],
      [{ command: "setLevelThresholds", fullPct: 80, hysteresisPct: 10, rapidRisePctPerH: 20, tiltDeg: 45, depthMm: 1000, fullDistanceMm: 1200 }, /fullDistanceMm must be less than depthMm/],
    ];
    for (const [data, re] of cases) {
      const r = encodeDownlink({ data });
      assert.deepEqual(r.bytes, [], JSON.stringify(data));
      assert.ok(r.errors.some((e) => re.test(e)), `${JSON.stringify(data)} → ${JSON.stringify(r.errors)}`);
      assert.equal(typeof r.fPort, "number");
    }
  });

  it("always returns an fPort, even without one in the input (ChirpStack)", () => {
    const r = encodeDownlink({ data: { command: "reboot", delayS: 10 } });
    assert.equal(r.fPort, 27);
    assert.deepEqual(r.bytes, [0, 10]);
  });

  it("the node refuses downlinks with the field that is wrong", () => {
    const bad = decodeDownlink({ bytes: [0x00, 0x00, 0x10, 0x00, 0x02, 0x58], fPort: 20 }); // intervalS 16
    assert.match(bad.errors[0], /intervalS: 16 is outside 60..86400/);
    assert.match(decodeDownlink({ bytes: [1, 2], fPort: 20 }).errors[0], /must be 6 bytes long, got 2/);
    assert.match(decodeDownlink({ bytes: [1], fPort: 99 }).errors[0], /unknown downlink fPort 99/);
    assert.match(decodeDownlink({ bytes: [0xff, 0xff], fPort: 24 }).errors[0], /reserved/);
  });
});

describe("codecs: node-side downlink parsing", () => {
  it("raw parsing gives integer fixed-point values keyed as the node stores them", () => {
    const enc = encodeDownlink({ data: { command: "setAirThresholds", co2Ppm: 1200, co2HysteresisPpm: 150, pmSpikeUgm3: 25.5, aqiAlarmCategory: "unhealthy" } });
    const r = parseDownlink(enc.bytes, enc.fPort, true);
    assert.equal(r.result, "applied");
    assert.deepEqual(r.data, { command: "setAirThresholds", co2Ppm: 1200, co2HysteresisPpm: 150, pmSpikeDeciUgm3: 255, aqiAlarmCategory: 3 });
  });
  it("raw parsing refuses exactly what decoded parsing refuses", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 8 }), fc.integer({ min: 19, max: 30 }), (bytes, port) => {
        const a = parseDownlink(Array.from(bytes), port);
        const b = parseDownlink(Array.from(bytes), port, true);
        assert.equal(a.result, b.result);
        assert.equal(a.field, b.field);
      }),
      { numRuns: 5000 },
    );
  });
});
