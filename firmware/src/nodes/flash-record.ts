/**
 * A few int32 words in flash that survive a power cut during their write. Moddable's ESP32 preference erases a
 * key before it writes it (modules/files/preference/esp32/modPreference.c), so a cut between the two loses a
 * single-key value: the node's settings would come back as defaults (a valve the node closed after a burst would
 * reopen), its meter total as the last but one. A record therefore alternates between two keys, `<key>a` and
 * `<key>b`, each holding a generation, the words and a CRC-32; a read takes the newest copy that checks out, and
 * a write replaces the other one, so the copy being written is never the only one. A value stored the old way,
 * under `key` alone, is read when neither copy is there (a node updated in the field keeps its settings).
 */
import Preference from "preference";
import { crc32 } from "../link/crc32.ts";

/** Copy `suffix` of record `key` as words (generation first, CRC last), or undefined when absent or malformed. */
function copyOf(domain: string, key: string, suffix: string): Int32Array | undefined {
  const v = Preference.get(domain, key + suffix);
  return v instanceof ArrayBuffer && v.byteLength >= 12 && v.byteLength % 4 === 0 ? new Int32Array(v) : undefined;
}

/** Whether a copy's CRC-32 checks out. */
function intact(w: Int32Array): boolean {
  return w[w.length - 1] === (crc32(new Uint8Array(w.buffer, w.byteOffset, w.byteLength), 0, w.byteLength - 4) | 0);
}

/** The newest intact copy of record `key`: its generation, its words and which copy it is (undefined: none). The newer is checked first, so a boot usually checks one. */
function newest(domain: string, key: string): { generation: number; words: Int32Array; inB: boolean } | undefined {
  const a = copyOf(domain, key, "a");
  const b = copyOf(domain, key, "b");
  const first = a && b ? (b[0] - a[0] > 0 ? b : a) : (a ?? b);
  const second = first === a ? b : a;
  for (const w of [first, second]) if (w && intact(w)) return { generation: w[0], words: w.subarray(1, w.length - 1), inB: w === b };
  return undefined;
}

/** The record's words (the newest intact copy, else a value stored the old way under `key`), or undefined. */
export function readRecord(domain: string, key: string): Int32Array | undefined {
  const found = newest(domain, key);
  if (found) return found.words;
  const legacy = Preference.get(domain, key);
  return legacy instanceof ArrayBuffer && legacy.byteLength % 4 === 0 && legacy.byteLength > 0 ? new Int32Array(legacy) : undefined;
}

/** Writes `words` as the record's next generation, over the older copy. */
export function writeRecord(domain: string, key: string, words: Int32Array): void {
  const found = newest(domain, key);
  const generation = found ? (found.generation + 1) | 0 : 1;
  // The copy to replace: the one that is not the newest (with none yet, "a").
  const target = found && !found.inB ? "b" : "a";
  const out = new Int32Array(words.length + 2);
  out[0] = generation;
  out.set(words, 1);
  out[out.length - 1] = crc32(new Uint8Array(out.buffer), 0, out.byteLength - 4);
  Preference.set(domain, key + target, out.buffer);
}
