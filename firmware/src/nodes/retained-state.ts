/**
 * Working state kept across deep sleep in RTC memory through `native:sleep`.
 * RTC memory holds one blob; several owners (the node application, the link)
 * each keep a segment in it, found by a layout tag. A segment carries its
 * length and a checksum, so a power cut (RTC memory lost), a torn write or a
 * firmware update that changed a layout makes its owner start cold instead of
 * trusting garbage, without disturbing the other segments.
 *
 * Cost per wake. Every `retained()` is a copy of the blob (a fresh ArrayBuffer
 * from RTC memory on the chip, a 1 KB copy in the simulator), so an owner reads
 * it once, in `restore()`, and keeps that copy: its `keep()` edits the copy in
 * place and writes it back, reading RTC memory again only when another owner
 * kept in between (a module-wide count of keeps says so). The boot path hands
 * the link's copy on to the application (`handOver`), so a wake that keeps
 * only the application's segment reads RTC memory once and writes it once. Only the owner's own
 * segment is checksummed (the others' are checked by their owners); a keep
 * moves the owner's segment to the end of the blob, as it always has, with a
 * copy inside the blob rather than a new one. Nothing else writes RTC memory
 * while the firmware runs: deep sleep, resets and power cuts end the boot and
 * with it every owner.
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
/** A blob one owner read, offered to the next restore() of an owner with another layout (`handOver`). */
let offered: Int32Array | undefined;
let offeredBy = 0;
let offeredAt = -1;

/** One owner's retained words (`layout` changes whenever the meaning of the words does). */
export class RetainedState {
  /** The state words. */
  readonly words: Int32Array;
  readonly #layout: number;
  /** This owner's copy of the RTC blob, current while `keeps` equals #seen. */
  #blob: Int32Array | undefined;
  #seen = -1;

  constructor(layout: number, size: number) {
    this.words = new Int32Array(size);
    this.#layout = layout | 0;
  }

  /** Loads this owner's words kept through the last deep sleep; false on a cold start. */
  restore(): boolean {
    const take = offered !== undefined && offeredAt === keeps && offeredBy !== this.#layout;
    const blob = take && offered !== undefined ? offered : readBlob();
    offered = undefined;
    this.#blob = blob;
    this.#seen = keeps;
    const end = validLength(blob);
    const n = this.words.length;
    let ok = false;
    for (let at = 0; at < end; at += HEADER + blob[at + 2]) {
      if (blob[at + 1] !== this.#layout || blob[at + 2] !== n) continue;
      if (blob[at + 3] !== checksum(blob, at + HEADER, at + HEADER + n)) continue;
      this.words.set(blob.subarray(at + HEADER, at + HEADER + n));
      ok = true;
    }
    return ok;
  }

  /**
   * Offers the blob this owner's restore() read to the next restore() by an
   * owner with another layout, which then reads no RTC memory: the boot path
   * calls it right before the application restores. The offer is taken once,
   * withdrawn by any restore, and void after any keep.
   */
  handOver(): void {
    if (this.#blob === undefined || this.#seen !== keeps) return;
    offered = this.#blob;
    offeredBy = this.#layout;
    offeredAt = keeps;
  }

  /** Writes this owner's words into RTC memory, keeping the other owners' segments; call before deep sleep. */
  keep(): void {
    let blob = this.#blob !== undefined && this.#seen === keeps ? this.#blob : readBlob();
    const end = validLength(blob);
    const n = this.words.length;
    // The other owners' segments stay in their order; this owner's (any size, any copies) goes last.
    let others = 0;
    let mine = 0;
    for (let at = 0; at < end; at += HEADER + blob[at + 2]) {
      if (blob[at + 1] === this.#layout) mine += HEADER + blob[at + 2];
      else others += HEADER + blob[at + 2];
    }
    const size = others + HEADER + n;
    if (mine !== HEADER + n || end !== blob.length) {
      // First keep of this owner, a changed size or a malformed tail: a blob of the new size.
      const grown = new Int32Array(size);
      let to = 0;
      for (let at = 0; at < end; at += HEADER + blob[at + 2]) {
        if (blob[at + 1] === this.#layout) continue;
        grown.set(blob.subarray(at, at + HEADER + blob[at + 2]), to);
        to += HEADER + blob[at + 2];
      }
      blob = grown;
    } else {
      // Same size: slide the segments after this owner's down over it, in place.
      let to = 0;
      for (let at = 0; at < end; ) {
        const len = HEADER + blob[at + 2];
        if (blob[at + 1] !== this.#layout) {
          if (to !== at) blob.copyWithin(to, at, at + len);
          to += len;
        }
        at += len;
      }
    }
    const to = others;
    blob[to] = MAGIC;
    blob[to + 1] = this.#layout;
    blob[to + 2] = n;
    blob.set(this.words, to + HEADER);
    blob[to + 3] = checksum(blob, to + HEADER, to + HEADER + n);
    retain(blob);
    keeps++;
    this.#blob = blob;
    this.#seen = keeps;
  }
}
