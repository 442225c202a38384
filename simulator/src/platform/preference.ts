/**
 * Simulator stand-in for Moddable's `preference`, with the ESP32 NVS limits
 * enforced (domain and key ≤ 15 characters, values ≤ 4000 bytes, no fractional
 * numbers) so firmware that breaks them fails in tests, not in the field.
 */
import { currentBoard } from "../core/board.ts";
import { bufferCopyOf, lentCopy } from "./bytes.ts";

type Value = string | boolean | number | ArrayBuffer;

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
    if (!d) board.flash.set(domain, (d = new Map()));
    d.set(key, value instanceof ArrayBuffer ? bufferCopyOf(value) : value);
    board.flashWrites++;
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
    if (board.flash.get(domain)?.delete(key)) board.flashWrites++;
  },
  keys(domain: string): string[] {
    return [...(currentBoard().flash.get(domain)?.keys() ?? [])];
  },
};

export default Preference;
