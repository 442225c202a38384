/**
 * Working state kept across deep sleep in RTC memory through `native:sleep`.
 * RTC memory holds one blob; several owners (the node application, the link)
 * each keep a segment in it, found by a layout tag. A segment carries its
 * length and a checksum, so a power cut (RTC memory lost), a torn write or a
 * firmware update that changed a layout makes its owner start cold instead of
 * trusting garbage, without disturbing the other segments.
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

/** Valid segments in a blob: [offset of header, words] pairs, by scanning headers. */
function segments(blob: Int32Array, found: (at: number, layout: number, words: number) => void): void {
  let at = 0;
  while (at + HEADER <= blob.length) {
    if (blob[at] !== MAGIC) return;
    const n = blob[at + 2];
    if (!(n >= 0) || at + HEADER + n > blob.length) return;
    if (blob[at + 3] === checksum(blob, at + HEADER, at + HEADER + n)) found(at, blob[at + 1], n);
    at += HEADER + n;
  }
}

/** One owner's retained words (`layout` changes whenever the meaning of the words does). */
export class RetainedState {
  /** The state words. */
  readonly words: Int32Array;
  readonly #layout: number;

  constructor(layout: number, size: number) {
    this.words = new Int32Array(size);
    this.#layout = layout | 0;
  }

  /** Loads this owner's words kept through the last deep sleep; false on a cold start. */
  restore(): boolean {
    const kept = retained();
    if (!kept || kept.byteLength & 3) return false;
    const blob = new Int32Array(kept);
    let ok = false;
    segments(blob, (at, layout, n) => {
      if (layout === this.#layout && n === this.words.length) {
        this.words.set(blob.subarray(at + HEADER, at + HEADER + n));
        ok = true;
      }
    });
    return ok;
  }

  /** Writes this owner's words into RTC memory, keeping the other owners' segments; call before deep sleep. */
  keep(): void {
    const kept = retained();
    const old = kept && (kept.byteLength & 3) === 0 ? new Int32Array(kept) : new Int32Array(0);
    let others = 0;
    segments(old, (_at, layout, n) => {
      if (layout !== this.#layout) others += HEADER + n;
    });
    const blob = new Int32Array(others + HEADER + this.words.length);
    let to = 0;
    segments(old, (at, layout, n) => {
      if (layout === this.#layout) return;
      blob.set(old.subarray(at, at + HEADER + n), to);
      to += HEADER + n;
    });
    blob[to] = MAGIC;
    blob[to + 1] = this.#layout;
    blob[to + 2] = this.words.length;
    blob.set(this.words, to + HEADER);
    blob[to + 3] = checksum(blob, to + HEADER, blob.length);
    retain(blob);
  }
}
