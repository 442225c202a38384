// Deep-sleep persistence. The ESP32 loses the JavaScript heap at every deep sleep
// and the firmware restarts from main, so each block can write its dynamic state
// (never its options) into an Int32Array that the node keeps in RTC memory, and a
// freshly constructed block with the same options can read it back. Saving and
// loading allocate nothing; a load validates every word and throws a RangeError,
// leaving the block untouched, rather than continue from a state the block could
// never have reached.

/** A block whose dynamic state survives deep sleep as `stateWords` int32 words. */
export interface Persistent {
  /** Words that save writes and load reads; fixed for a given set of options. */
  readonly stateWords: number;
  /** Writes the state at out[at …]; returns at + stateWords. */
  save(out: Int32Array, at: number): number;
  /** Restores a state written by save on a block with the same options; returns at + stateWords. Throws RangeError on corrupt words. */
  load(src: Int32Array, at: number): number;
}

/** Throws a RangeError unless buf[at … at + words − 1] exists. */
export function checkSpan(buf: Int32Array, at: number, words: number, block: string): void {
  if (!Number.isInteger(at) || at < 0 || at > buf.length - words) {
    throw new RangeError(`${block}: ${words} state words at ${at} do not fit a buffer of ${buf.length}`);
  }
}

/** Reads a saved boolean, which must be 0 or 1. */
export function readFlag(word: number, block: string, field: string): boolean {
  if (word === 0) return false;
  if (word === 1) return true;
  throw corrupt(block, `${field} must be 0 or 1, got ${word}`);
}

/** The RangeError a load throws for a word outside what the block can reach. */
export function corrupt(block: string, detail: string): RangeError {
  return new RangeError(`corrupt ${block} state: ${detail}`);
}
