/**
 * The node's working state across deep sleep: a fixed-size Int32Array kept in
 * RTC memory through `native:sleep`. A checksum and a layout tag detect a power
 * cut (RTC memory lost) or a firmware update that changed the layout; then the
 * node starts cold instead of trusting garbage.
 */
import { retain, retained } from "native:sleep";

const MAGIC = 0x43535431; // "CST1"

/** FNV-1a over int32 words. */
function checksum(words: Int32Array, from: number, to: number): number {
  let h = 0x811c9dc5 | 0;
  for (let i = from; i < to; i++) {
    h = Math.imul(h ^ words[i], 0x01000193);
  }
  return h;
}

/** Retained state of `size` words for one layout (`layout` changes whenever the meaning of the words does). */
export class RetainedState {
  /** The state words, after the 4-word header. */
  readonly words: Int32Array;
  readonly #all: Int32Array;
  readonly #layout: number;

  constructor(layout: number, size: number) {
    this.#all = new Int32Array(size + 4);
    this.words = this.#all.subarray(4);
    this.#layout = layout | 0;
  }

  /** Loads the state kept through the last deep sleep; false on a cold start (power cut, reset, other layout). */
  restore(): boolean {
    const kept = retained();
    if (!kept || kept.byteLength !== this.#all.byteLength) return false;
    const w = new Int32Array(kept);
    if (w[0] !== MAGIC || w[1] !== this.#layout || w[2] !== this.#all.length) return false;
    if (w[3] !== checksum(w, 4, w.length)) return false;
    this.#all.set(w);
    return true;
  }

  /** Hands the state to RTC memory; call right before deep sleep. */
  keep(): void {
    const a = this.#all;
    a[0] = MAGIC;
    a[1] = this.#layout;
    a[2] = a.length;
    a[3] = checksum(a, 4, a.length);
    retain(a);
  }
}
