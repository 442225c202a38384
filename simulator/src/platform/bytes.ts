/**
 * Bytes for the platform stand-ins.
 * - Views of the firmware's buffers (bus transfers): a `Uint8Array` is used as
 *   it is, because taking the `.buffer` of a small typed array makes V8 move it
 *   off its heap (an allocation each time).
 * - Copies, which they hand the firmware (it may mutate what it gets) many
 *   times per wake: the retained RTC blob, flash values. `new Uint8Array(view)`
 *   allocates without zero-filling and copies in one step; in V8 that costs
 *   about half of `ArrayBuffer.prototype.slice` (a C++ runtime call) or
 *   `new ArrayBuffer` + `set`. Within a boot, `lentCopy` refills those of the
 *   last boot instead.
 */
import type { Board } from "../core/board.ts";

/** A new ArrayBuffer of exactly `view`'s bytes. */
export function bufferCopy(view: Uint8Array): ArrayBuffer {
  return new Uint8Array(view).buffer as ArrayBuffer;
}

/** A new ArrayBuffer of exactly the bytes of `b`. */
export function bufferCopyOf(b: ArrayBuffer): ArrayBuffer {
  return new Uint8Array(new Uint8Array(b)).buffer as ArrayBuffer;
}

/** The bytes of `value` as a Uint8Array: itself if it is one, else a view (no copy). */
export function bytesView(value: ArrayBuffer | ArrayBufferView): Uint8Array {
  if (value instanceof Uint8Array) return value;
  return value instanceof ArrayBuffer ? new Uint8Array(value) : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
}

/** Copies of one owner's bytes a boot may take without allocating (`lentCopy`): more are rare. */
const MAX_LENT = 4;

/** Copies handed out by `lentCopy`, by board and owner (RTC memory, a flash key): the boot they were lent to, and how many it took. */
const lentByBoard = new WeakMap<Board, Map<string, Lent>>();

/** One owner's lent copies (a byte view of each buffer, to refill it), and the boot that holds them. */
interface Lent {
  views: Uint8Array[];
  boot: number;
  taken: number;
}

/**
 * A copy of `bytes` for `board`'s boot in progress. The k-th asked for `owner`
 * in a boot refills the k-th handed to an earlier boot (no allocation): deep
 * sleep ended that boot and all it held. Each is still a copy of its own.
 * Outside a boot, and past a few per boot, copies are new.
 */
export function lentCopy(board: Board, owner: string, bytes: ArrayBuffer): ArrayBuffer {
  const boot = board.bootSerial;
  if (boot === 0) return bufferCopyOf(bytes);
  let owners = lentByBoard.get(board);
  if (!owners) lentByBoard.set(board, (owners = new Map()));
  let lent = owners.get(owner);
  if (!lent) owners.set(owner, (lent = { views: [], boot: 0, taken: 0 }));
  if (lent.boot !== boot) {
    lent.boot = boot;
    lent.taken = 0;
  }
  const k = lent.taken++;
  if (k >= MAX_LENT) return bufferCopyOf(bytes);
  const source = new Uint8Array(bytes);
  let view = lent.views[k];
  if (view === undefined || view.length !== source.length) view = lent.views[k] = new Uint8Array(source.length);
  view.set(source);
  return view.buffer as ArrayBuffer;
}
