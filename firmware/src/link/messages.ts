/**
 * What the link needs to know about the wire format (codecs/src/uplinks.ts),
 * derived from the message descriptors so it cannot drift from them:
 *
 * - a routine reading on fPort 1/4/7 has a batch message on 3/6/9 whose
 *   entries are [ageS: 24 bits][the reading's core bytes], at most
 *   `maxEntries` of them;
 * - alarms (2/5/8) carry `ageS` at bits 8–31, which the link brings up to date
 *   when an alarm waited in the queue;
 * - readings, batch entries and alarms carry the `queueOverflow` flag, which
 *   the link raises in the next uplink after it dropped readings.
 */
import { uplinkByPort } from "../../../codecs/src/codec.ts";
import { UPLINKS } from "../../../codecs/src/uplinks.ts";
import { byteWidth, type Field } from "../../../codecs/src/fields.ts";

/** How a routine reading's port maps to batches. */
export interface RoutineLayout {
  port: number;
  /** Bytes of the reading without its optional extension. */
  coreBytes: number;
  /** The batch message's fPort, or 0 if the reading has none. */
  batchPort: number;
  /** Bytes per batch entry (3 + coreBytes). */
  entryBytes: number;
  /** Most entries the batch message allows. */
  maxEntries: number;
  /** Bit offset of queueOverflow in the reading, or −1. */
  overflowBit: number;
  /** Bit offset of queueOverflow in a batch entry, or −1. */
  entryOverflowBit: number;
}

/** Where an alarm keeps its age and flag. */
export interface AlarmLayout {
  /** Bit offset of the 24-bit ageS, or −1. */
  ageBit: number;
  ageBits: number;
  /** Bit offset of queueOverflow, or −1. */
  overflowBit: number;
}

/** Bit offset of the field `name` in `fields`, or −1. */
export function bitOffset(fields: Field[] | undefined, name: string): number {
  if (!fields) return -1;
  let at = 0;
  for (let i = 0; i < fields.length; i++) {
    if (fields[i].name === name) return at;
    at += fields[i].bits;
  }
  return -1;
}

const routineCache: { [port: number]: RoutineLayout | null } = {};
const alarmCache: { [port: number]: AlarmLayout | null } = {};

/** Batch layout for routine readings on `port`, or undefined for a port that is not a reading. */
export function routineLayout(port: number): RoutineLayout | undefined {
  const hit = routineCache[port];
  if (hit !== undefined) return hit || undefined;
  const def = uplinkByPort(port);
  let layout: RoutineLayout | null = null;
  if (def && !def.entry && !def.echo && def.node !== "any" && bitOffset(def.head, "event") < 0) {
    let batch = undefined;
    for (let i = 0; i < UPLINKS.length; i++) {
      const d = UPLINKS[i];
      if (d.entry && d.node === def.node) batch = d;
    }
    const coreBytes = byteWidth(def.head);
    layout = {
      port,
      coreBytes,
      batchPort: batch ? batch.port : 0,
      entryBytes: batch ? byteWidth(batch.entry) : 0,
      maxEntries: batch ? batch.maxEntries || 0 : 0,
      overflowBit: bitOffset(def.head, "queueOverflow"),
      entryOverflowBit: batch ? bitOffset(batch.entry, "queueOverflow") : -1,
    };
    // The batch entry must be literally [age 24 bits][core bytes]; anything else is sent as single readings.
    if (batch && (layout.entryBytes !== 3 + coreBytes || bitOffset(batch.entry, "ageS") !== 0)) layout.batchPort = 0;
  }
  routineCache[port] = layout;
  return layout || undefined;
}

/** Age/flag layout of an alarm on `port`, or undefined when the port carries no `ageS` head field. */
export function alarmLayout(port: number): AlarmLayout | undefined {
  const hit = alarmCache[port];
  if (hit !== undefined) return hit || undefined;
  const def = uplinkByPort(port);
  let layout: AlarmLayout | null = null;
  const ageBit = def && !def.entry ? bitOffset(def.head, "ageS") : -1;
  if (def && ageBit >= 0) {
    let bits = 0;
    for (let i = 0; i < def.head.length; i++) if (def.head[i].name === "ageS") bits = def.head[i].bits;
    layout = { ageBit, ageBits: bits, overflowBit: bitOffset(def.head, "queueOverflow") };
  }
  alarmCache[port] = layout;
  return layout || undefined;
}

/** Reads `n` (≤ 32) big-endian bits at bit `bit` of `bytes` from byte `offset`. */
export function getBits(bytes: Uint8Array, offset: number, bit: number, n: number): number {
  let v = 0;
  for (let i = 0; i < n; i++) {
    const b = bit + i;
    v = v * 2 + ((bytes[offset + (b >> 3)] >> (7 - (b & 7))) & 1);
  }
  return v;
}

/** Writes the low `n` bits of `value` big-endian at bit `bit` of `bytes` from byte `offset`. */
export function putBits(bytes: Uint8Array, offset: number, bit: number, n: number, value: number): void {
  let v = value;
  for (let i = n - 1; i >= 0; i--) {
    const b = bit + i;
    const at = offset + (b >> 3);
    const mask = 0x80 >> (b & 7);
    if (v & 1) bytes[at] |= mask;
    else bytes[at] &= ~mask;
    v = Math.floor(v / 2);
  }
}
