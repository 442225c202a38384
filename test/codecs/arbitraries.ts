/** fast-check generators of node records and decoded commands, derived from the codec's own descriptors. */
import fc from "fast-check";
import type { Field, MessageDef, IntRecord } from "../../codecs/src/index.ts";

/** A random integer value (or absence) for one field, in the node's fixed-point units. */
export function fieldValue(f: Field): fc.Arbitrary<number | boolean | undefined> {
  if (f.type === "bool") return fc.boolean();
  const v = fc.integer({ min: f.min, max: f.max });
  return f.absent ? fc.option(v, { nil: undefined, freq: 5 }) : v;
}

/** A random record for a field list. */
export function recordOf(fields: Field[]): fc.Arbitrary<IntRecord> {
  const shape: { [k: string]: fc.Arbitrary<number | boolean | undefined> } = {};
  for (const f of fields) shape[f.key] = fieldValue(f);
  return fc.record(shape) as fc.Arbitrary<IntRecord>;
}

/** A random node record for a whole uplink definition, entries included. */
export function messageRecord(def: MessageDef): fc.Arbitrary<IntRecord> {
  if (def.entry) {
    return fc
      .tuple(recordOf(def.head), fc.array(recordOf(def.entry), { minLength: def.minEntries ?? 0, maxLength: def.maxEntries ?? 0 }))
      .map(([head, list]) => ({ ...head, [def.listName as string]: list }));
  }
  if (def.ext) {
    return fc.tuple(recordOf(def.head), fc.option(recordOf(def.ext), { nil: undefined })).map(([h, e]) => ({ ...h, ...(e ?? {}) }));
  }
  return recordOf(def.head);
}

/** What decoding must give back for one field: the value quantized to the wire resolution, or nothing. */
export function expectedValue(f: Field, v: number | boolean | undefined): unknown {
  if (f.type === "bool") return v === true;
  if (v === undefined) return f.absent ? undefined : f.type === "enum" ? f.values![0] : f.min / f.scale;
  if (f.type === "enum") return f.values![v as number];
  const n = Math.min(f.max, Math.max(f.min, v as number));
  const q = (Math.floor((n - f.zero) / 2 ** f.shift) * 2 ** f.shift) + f.zero;
  return q / f.scale;
}
