/**
 * Working state kept across deep sleep in RTC memory through `native:sleep`.
 * RTC memory holds one blob; several owners (the node application, the link)
 * each keep a segment in it, found by a layout tag. A segment carries its
 * length and a checksum, so a power cut (RTC memory lost), a torn write or a
 * firmware update that changed a layout makes its owner start cold instead of
 * trusting garbage, without disturbing the other segments.
 *
 * Cost per wake. Each owner reads the blob once, when it is built (`retained()`
 * is a copy: a fresh ArrayBuffer from RTC memory on the chip), and its words
 * are a view of its own segment in that copy: no second buffer and no copy of
 * the words. `keep()` checksums the segment in place and writes the copy back,
 * reading RTC memory again only when another owner kept in between (a
 * module-wide count of keeps says so). A segment stays where it is while its
 * size does; a new or resized one goes at the end, after the others in their
 * order. Only the owner's own segment is checksummed (the others' are checked
 * by their owners). Owners never share a copy, so what one keeps never carries
 * another's unkept words. Nothing else writes RTC memory while the firmware
 * runs: deep sleep, resets and power cuts end the boot and with it every owner.
 */
import { retain, retained } from "native:sleep";

const MAGIC = 0x43535431; // "CST1"
const HEADER = 4; // magic, layout, words, checksum

/** FNV-1a over int32 words. */
function checksum(words: Int32Array, from: number, to: number): number {
  let h = 0x811c9dc5 | 0;
  for (let i = from; i < to; i++) h = Math.imul(h ^ words[i], 0x01000193);
  return h;
}

/** Words of `blob` that hold well-formed segment headers back to back (what follows a bad header is garbage). */
function validLength(blob: Int32Array): number {
  let at = 0;
  while (at + HEADER <= blob.length) {
    if (blob[at] !== MAGIC) return at;
    const n = blob[at + 2];
    if (!(n >= 0) || at + HEADER + n > blob.length) return at;
    at += HEADER + n;
  }
  return at;
}

/** The RTC blob as int32 words, or an empty array when there is none (power-on, reset) or it is malformed. */
function readBlob(): Int32Array {
  const kept = retained();
  return kept && (kept.byteLength & 3) === 0 ? new Int32Array(kept) : new Int32Array(0);
}

/** Keeps made by any owner so far: an owner's copy of the blob is current while this has not moved since. */
let keeps = 0;

/** One owner's retained words (`layout` changes whenever the meaning of the words does). */
export class RetainedState {
  /** The state words: from construction on, those kept through the last deep sleep if `restore()` says so, else zeros. */
  readonly words: Int32Array;
  readonly #layout: number;
  /** This owner's copy of the RTC blob, current while `keeps` equals #seen. */
  #blob: Int32Array;
  #seen: number;
  readonly #restored: boolean;

  constructor(layout: number, size: number) {
    this.#layout = layout | 0;
    const blob = readBlob();
    this.#blob = blob;
    this.#seen = keeps;
    // The last well-formed segment of this layout and size whose checksum holds.
    const end = validLength(blob);
    let found = -1;
    for (let at = 0; at < end; at += HEADER + blob[at + 2]) {
      if (blob[at + 1] === this.#layout && blob[at + 2] === size && blob[at + 3] === checksum(blob, at + HEADER, at + HEADER + size)) found = at;
    }
    this.#restored = found >= 0;
    this.words = found >= 0 ? blob.subarray(found + HEADER, found + HEADER + size) : new Int32Array(size);
  }

  /** Whether `words` hold this owner's words kept through the last deep sleep (false: a cold start, they are zeros). */
  restore(): boolean {
    return this.#restored;
  }

  /** Writes this owner's words into RTC memory, keeping the other owners' segments; call before deep sleep. */
  keep(): void {
    let blob = this.#seen === keeps ? this.#blob : readBlob();
    const end = validLength(blob);
    const n = this.words.length;
    let mine = -1;
    let copies = 0;
    let others = 0;
    for (let at = 0; at < end; at += HEADER + blob[at + 2]) {
      if (blob[at + 1] !== this.#layout) others += HEADER + blob[at + 2];
      else if (copies++ === 0 && blob[at + 2] === n) mine = at;
    }
    if (mine < 0 || copies !== 1 || end !== blob.length) {
      // First keep of this owner, a changed size or a malformed tail: a blob of the new size, this segment last.
      const grown = new Int32Array(others + HEADER + n);
      let to = 0;
      for (let at = 0; at < end; at += HEADER + blob[at + 2]) {
        if (blob[at + 1] === this.#layout) continue;
        grown.set(blob.subarray(at, at + HEADER + blob[at + 2]), to);
        to += HEADER + blob[at + 2];
      }
      blob = grown;
      mine = others;
      blob[mine] = MAGIC;
      blob[mine + 1] = this.#layout;
      blob[mine + 2] = n;
    }
    const w = this.words;
    if (w.buffer !== blob.buffer || w.byteOffset !== (mine + HEADER) * 4) blob.set(w, mine + HEADER);
    blob[mine + 3] = checksum(blob, mine + HEADER, mine + HEADER + n);
    retain(blob);
    keeps++;
    this.#blob = blob;
    this.#seen = keeps;
  }
}
