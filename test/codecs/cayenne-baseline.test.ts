/**
 * The CayenneLPP baseline of `npm run bench` must be honest: Cayenne carries the
 * same readings as our messages, over each field's whole range, at equal or
 * finer resolution, and the package's own decoder gives them back. Then our
 * payloads must be at most 40 % of Cayenne's for every message type (the issue's
 * requirement).
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { UPLINKS, DOWNLINKS, decodeUplink, type Field, type IntRecord, type MessageDef } from "../../codecs/src/index.ts";
import { carrierFor, encodeCayenne, ourStep, readBackCayenne, type CayenneMessage } from "../bench/cayenne-map.ts";
import { RATIO_LIMIT, sizeRows } from "../bench/codec-bench.ts";
import { SAMPLES, checkSampleKeys, encodeOurs, type Sample } from "../bench/samples.ts";
import { messageRecord } from "./arbitraries.ts";

function fieldsOf(def: MessageDef): Field[] {
  return def.head.concat(def.ext || [], def.entry || []);
}

/** Asserts that the Cayenne decoder gives back every reading within the carrier's step. */
function assertReadBack(msg: CayenneMessage, where: string): void {
  for (const r of readBackCayenne(msg)) {
    const { slot } = r;
    assert.ok(Math.abs(r.got - slot.value) <= r.tolerance + 1e-9, `${where}: ${slot.path} sent ${slot.value}, Cayenne gave ${r.got} (${slot.carrier.id})`);
  }
}

/** Our decoded value at a path like "readings[1].co2Ppm" or "applied.intervalS". */
function at(data: unknown, path: string): unknown {
  let v = data;
  for (const part of path.split(".")) {
    const m = /^(\w+)(?:\[(\d+)\])?$/.exec(part)!;
    v = (v as Record<string, unknown>)[m[1]];
    if (m[2] !== undefined) v = (v as unknown[])[Number(m[2])];
  }
  return v;
}

describe("codecs: CayenneLPP baseline of the payload benchmark", () => {
  it("every field of every message has a Cayenne carrier covering its whole range at equal or finer resolution", () => {
    for (const def of [...UPLINKS, ...DOWNLINKS]) {
      for (const f of fieldsOf(def)) {
        if (f.name === "reserved") continue;
        const c = carrierFor(f);
        if (c.mode === "value") {
          assert.ok(f.min / f.scale >= c.lo && f.max / f.scale <= c.hi, `${def.name}.${f.name}: range exceeds ${c.id}`);
          assert.ok(c.step <= ourStep(f) + 1e-12, `${def.name}.${f.name}: ${c.id} step ${c.step} is coarser than ours ${ourStep(f)}`);
        } else {
          assert.ok(f.min >= c.lo && f.max <= c.hi, `${def.name}.${f.name}: ${f.min}..${f.max} exceeds ${c.id}`);
        }
      }
    }
  });

  for (const s of SAMPLES) {
    it(`${s.label}: Cayenne decodes back the very readings our message carries`, () => {
      checkSampleKeys(s);
      const msg = encodeCayenne(s);
      assertReadBack(msg, s.label);
      const r = decodeUplink({ bytes: encodeOurs(s), fPort: s.port });
      assert.deepEqual(r.errors, []);
      assert.deepEqual(r.warnings, []);
      for (const slot of msg.slots) {
        const f = slot.field;
        const ours = at(r.data, slot.path);
        if (f.type === "bool") assert.equal(ours, slot.value === 1, slot.path);
        else if (f.type === "enum") assert.equal(ours, f.values![slot.value], slot.path);
        else assert.ok(Math.abs((ours as number) - slot.value) < ourStep(f) + 1e-9, `${slot.path}: ours ${String(ours)}, reading ${slot.value}`);
      }
      // Nothing our message carries is missing from Cayenne's, except values we send as "absent".
      const sent = new Set(msg.slots.map((x) => x.path));
      const walk = (v: unknown, path: string): void => {
        if (Array.isArray(v)) v.forEach((e, i) => walk(e, `${path}[${i}]`));
        else if (v && typeof v === "object") for (const k of Object.keys(v)) walk((v as Record<string, unknown>)[k], path ? `${path}.${k}` : k);
        else if (path !== "messageType" && !/(^|\.)command$/.test(path)) assert.ok(sent.has(path), `${s.label}: ${path} has no Cayenne channel`);
      };
      walk(r.data, "");
    });
  }

  it("random records of every type, edges included, round-trip through Cayenne", () => {
    for (const def of UPLINKS.filter((d) => !d.echo)) {
      fc.assert(
        fc.property(messageRecord(def), (rec: IntRecord) => {
          const s: Sample = { label: def.name, type: def.name, port: def.port, rec };
          assertReadBack(encodeCayenne(s), def.name);
        }),
        { numRuns: 200 },
      );
    }
    for (const cmd of DOWNLINKS) {
      const head = cmd.head.filter((f) => f.name !== "reserved");
      for (const pick of [(f: Field) => f.min, (f: Field) => f.max]) {
        const rec: IntRecord = {};
        for (const f of head) rec[f.key] = f.type === "bool" ? pick(f) === 1 : pick(f);
        const s: Sample = { label: "configAck", type: "configAck", port: 11, rec: { cmdPort: cmd.port, result: 0, configSeq: 1 }, echo: { port: cmd.port, rec } };
        assertReadBack(encodeCayenne(s), `configAck echoing ${cmd.name}`);
      }
    }
  });

  describe(`our payload is at most ${RATIO_LIMIT * 100} % of Cayenne's`, () => {
    for (const r of sizeRows()) {
      it(`${r.label} (fPort ${r.port})`, () => {
        const need = Math.floor(RATIO_LIMIT * r.cayenne + 1e-9);
        assert.ok(r.pass, `${r.label}: ours ${r.ours} B / Cayenne ${r.cayenne} B = ${r.ratio.toFixed(3)} > ${RATIO_LIMIT}; it would need ≤ ${need} B (${r.ours - need} B less)`);
      });
    }
  });
});
