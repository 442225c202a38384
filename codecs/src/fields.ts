/**
 * Field and message descriptors: the single source of truth for the wire
 * format. Encoders, decoders, bound checks, property tests and the tables in
 * PAYLOAD.md are all driven from these descriptors, so they cannot drift apart.
 */

/** How a field's wire code maps to a value. */
export type FieldType = "int" | "bool" | "enum";

/** One bit-packed field. */
export interface Field {
  /** Key in decoded JSON (engineering units). */
  name: string;
  /** Key in the node's integer record (fixed-point units, see `scale`). */
  key: string;
  /** Width on the wire. */
  bits: number;
  type: FieldType;
  /** Smallest integer value, in `key` units. */
  min: number;
  /** Largest integer value, in `key` units. */
  max: number;
  /** Wire code = (value − zero) >> shift: a power-of-two step avoids division on the node. */
  shift: number;
  /** The value that wire code 0 stands for: `min` in uplinks (no wasted codes), 0 in downlinks (hex readable by hand). */
  zero: number;
  /** Decoded value = integer value / scale. */
  scale: number;
  /** Whether the all-ones code means "not measured" (the key is then omitted when decoding). */
  absent: boolean;
  /** Names for enum codes. */
  values?: string[];
  /** Unit of the decoded value. */
  unit: string;
  /** One-line meaning. */
  doc: string;
}

/** A message: byte-aligned head, then a single body, a repeated entry or an echoed downlink. */
export interface MessageDef {
  port: number;
  /** `messageType` in decoded output, and the downlink `command`. */
  name: string;
  title: string;
  node: "air" | "water" | "level" | "any";
  /** Fields always present at the start. */
  head: Field[];
  /** Optional trailing fields, present only when the message is long enough for them. */
  ext?: Field[];
  /** Repeated entries after the head, each byte-aligned. */
  entry?: Field[];
  /** Name of the list of entries in decoded output. */
  listName?: string;
  minEntries?: number;
  maxEntries?: number;
  /** The rest of the message is the payload of the downlink on port `head.cmdPort`. */
  echo?: boolean;
}

interface IntOptions {
  zero?: number;
  scale?: number;
  shift?: number;
  absent?: boolean;
}

/** Integer field in fixed-point units. */
export function int(name: string, key: string, bits: number, min: number, max: number, unit: string, doc: string, o: IntOptions = {}): Field {
  return { name, key, bits, type: "int", min, max, shift: o.shift || 0, zero: o.zero === undefined ? min : o.zero, scale: o.scale || 1, absent: !!o.absent, unit, doc };
}

/** One-bit flag. */
export function bool(name: string, doc: string, key?: string): Field {
  return { name, key: key || name, bits: 1, type: "bool", min: 0, max: 1, shift: 0, zero: 0, scale: 1, absent: false, unit: "", doc };
}

/** Enumeration; its codes index `values`. */
export function enumField(name: string, bits: number, values: string[], doc: string, absent = false, key?: string): Field {
  return { name, key: key || name, bits, type: "enum", min: 0, max: values.length - 1, shift: 0, zero: 0, scale: 1, absent, values, unit: "", doc };
}

/** Total width of a field list in bits. */
export function bitWidth(fields: Field[]): number {
  let n = 0;
  for (let i = 0; i < fields.length; i++) n += fields[i].bits;
  return n;
}

/** Width of a field list in whole bytes. */
export function byteWidth(fields: Field[] | undefined): number {
  return fields ? (bitWidth(fields) + 7) >> 3 : 0;
}

/** Every byte length a well-formed message of this definition may have, ascending. */
export function validLengths(def: MessageDef): number[] {
  const head = byteWidth(def.head);
  const out: number[] = [];
  if (def.entry) {
    const e = byteWidth(def.entry);
    for (let k = def.minEntries || 0; k <= (def.maxEntries || 0); k++) out.push(head + k * e);
  } else if (def.echo) {
    for (let n = head; n <= 51; n++) out.push(n);
  } else {
    out.push(head);
    if (def.ext) out.push(head + byteWidth(def.ext));
  }
  return out;
}
