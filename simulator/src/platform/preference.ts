/**
 * Simulator stand-in for Moddable's `preference`, with the ESP32 NVS limits
 * enforced (domain and key ≤ 15 characters, values ≤ 4000 bytes, no fractional
 * numbers) so firmware that breaks them fails in tests, not in the field.
 *
 * Capacity. ESP-IDF's NVS keeps 32-byte entries, 126 to a 4 KB page, one page
 * kept free for garbage collection: `(nvsBytes / 4096 − 1) × 126` entries. An
 * integer or boolean takes one, a string one plus its bytes (and the NUL) in
 * 32-byte entries, a blob two (its index and its data header) plus its bytes,
 * and each domain (namespace) one. A write that would not fit fails as on the
 * chip, and the way Moddable's ESP32 preference writes (modPreference.c: it
 * erases the key, then sets it): the old value is gone and `set` throws
 * "nvs set fail". (Entries never span pages, so a fragmented partition holds
 * somewhat less: the model is the optimistic bound.)
 */
import { currentBoard } from "../core/board.ts";
import { bufferCopyOf, lentCopy } from "./bytes.ts";

type Value = string | boolean | number | ArrayBuffer;

const ENTRY_BYTES = 32;
const ENTRIES_PER_PAGE = 126;
const PAGE_BYTES = 4096;

/** NVS entries a value takes. */
function entriesOf(value: Value): number {
  if (typeof value === "string") return 1 + Math.ceil((value.length + 1) / ENTRY_BYTES);
  if (value instanceof ArrayBuffer) return 2 + Math.ceil(value.byteLength / ENTRY_BYTES);
  return 1;
}

/** Entries the board's NVS partition holds. */
export function nvsCapacity(nvsBytes: number): number {
  return (Math.floor(nvsBytes / PAGE_BYTES) - 1) * ENTRIES_PER_PAGE;
}

function check(domain: string, key: string): void {
  if (domain.length > 15) throw new RangeError(`preference domain "${domain}" longer than 15 characters`);
  if (key.length > 15) throw new RangeError(`preference key "${key}" longer than 15 characters`);
}

/** The lent-copy owner of each domain and key, `domain/key`, built once (a new string per read costs its hashing in every lookup). */
const owners = new Map<string, Map<string, string>>();

function ownerOf(domain: string, key: string): string {
  let keys = owners.get(domain);
  if (!keys) owners.set(domain, (keys = new Map()));
  let owner = keys.get(key);
  if (owner === undefined) keys.set(key, (owner = `${domain}/${key}`));
  return owner;
}

const Preference = {
  /** Stores a value in flash. */
  set(domain: string, key: string, value: Value): void {
    check(domain, key);
    if (typeof value === "number" && !Number.isInteger(value)) throw new TypeError("preference numbers must be integers");
    if (value instanceof ArrayBuffer && value.byteLength > 4000) throw new RangeError(`preference value of ${value.byteLength} bytes exceeds 4000`);
    if (typeof value === "string" && value.length > 4000) throw new RangeError("preference string exceeds 4000 bytes");
    const board = currentBoard();
    let d = board.flash.get(domain);
    if (!d) {
      board.flash.set(domain, (d = new Map()));
      board.nvsEntries++;
    }
    // Moddable erases the key first (modPreference.c ERASE_KEY), then sets it.
    const old = d.get(key);
    if (old !== undefined) {
      d.delete(key);
      board.nvsEntries -= entriesOf(old);
    }
    board.flashWrites++;
    const cost = entriesOf(value);
    if (board.nvsEntries + cost > nvsCapacity(board.nvsBytes)) throw new Error("nvs set fail");
    d.set(key, value instanceof ArrayBuffer ? bufferCopyOf(value) : value);
    board.nvsEntries += cost;
  },
  /** Reads a value (ArrayBuffers are copies: a boot's first of a key refills the last boot's, see `lentCopy`), or undefined. */
  get(domain: string, key: string): Value | undefined {
    check(domain, key);
    const board = currentBoard();
    const v = board.flash.get(domain)?.get(key);
    return v instanceof ArrayBuffer ? lentCopy(board, ownerOf(domain, key), v) : v;
  },
  delete(domain: string, key: string): void {
    check(domain, key);
    const board = currentBoard();
    const d = board.flash.get(domain);
    const old = d?.get(key);
    if (d && old !== undefined) {
      d.delete(key);
      board.nvsEntries -= entriesOf(old);
      board.flashWrites++;
    }
  },
  keys(domain: string): string[] {
    return [...(currentBoard().flash.get(domain)?.keys() ?? [])];
  },
};

export default Preference;
