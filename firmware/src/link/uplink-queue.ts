/**
 * Store-and-forward uplink queue in flash (Moddable `preference`, ESP32 NVS).
 *
 * "Acknowledged" means written to flash: `appendRoutine`/`appendPriority`
 * return true only after `Preference.set` of a value holding the message
 * returned. A power cut at any instant — before, during or after that write —
 * therefore loses nothing that was acknowledged, and recovery never depends on
 * RTC memory (that only caches indices between deep sleeps).
 *
 * Two stores, both in domain "lq":
 *
 * 1. Routine readings: a log of fixed 24-byte records, 16 to a page.
 *    record  [0] port  [1] length  [2..5] measurement time (link s, LE)  [6..23] payload (≤ 18 bytes)
 *    page    [0] 0xC5  [1] records per page (16)  [2] count  [3] 0
 *            [4..7] page number  [8..11] write counter  [12..15] delivered-through hint
 *            [16 ..] `count` records  [then] CRC-32 of everything before   (16 + 24·count + 4 bytes)
 *    Record n lives in page n / 16 at index n % 16; numbers only grow.
 *    The open (partly filled) page is rewritten whole on every append,
 *    alternately into keys "oa" and "ob" — always into the key that does NOT
 *    hold its newest version, so a torn write destroys at most the version
 *    being written, whose new record was not yet acknowledged. The append that
 *    fills a page writes it instead into ring key "p<page mod N>" (sealed);
 *    the next page starts in oa/ob again. Recovery reads oa, ob and the N ring
 *    keys, drops anything with a bad CRC or layout, keeps per page number the
 *    version with most records, and takes the newest as head. The ring slot a
 *    page seals into held the page N pages older; the capacity rule below makes
 *    sure every record of it was delivered or dropped by then.
 *    Capacity: N·16 readings (default N = 48: 768 readings, 8 days at 15 min).
 *    When full, the oldest reading is dropped first (counted: `dropped`, and
 *    the queueOverflow flag is raised for the next uplink).
 *
 * 2. Alarms, config acks and status messages ("priority"): one key per message,
 *    "a<slot>", slots 0..K−1 (default K = 16):
 *    [0] 0xA5 [1] kind (1 alarm, 2 ack, 3 status) [2] port [3] length
 *    [4..7] sequence  [8..11] submit time (link s)  [12 ..] payload (≤ 51)  [then] CRC-32.
 *    A slot is deleted once its message is delivered. They are sent ahead of
 *    routine readings: alarms by sequence, then acks, then status. When all
 *    slots are taken, a new alarm replaces the oldest status (else the oldest
 *    ack); an ack replaces the oldest status; a status replaces the oldest
 *    status; if there is nothing to replace the message is refused (false) —
 *    alarms are never dropped.
 *
 * Delivery: routine records move through three pointers, tail ≤ sent ≤ head.
 * [sent, head) are waiting; [tail, sent) went out unconfirmed and are kept
 * until a confirmed uplink (or any downlink) shows the network was hearing
 * the node (`verify`), or re-sent if it turns out it was not (`rewind`). Only
 * `tail` is persisted (by the session, and as a hint in every page written),
 * so after a power cut the unverified ones are sent again: at-least-once.
 *
 * Write budget (one routine reading per 15 min, 10 years = 350 640 readings):
 * NVS stores a blob as an index entry, a chunk header and ⌈size/32⌉ 32-byte
 * data entries. The k-th append of a page writes 16 + 24·k + 4 bytes (the
 * 16th one into the ring instead of oa/ob): 4 … 15 entries, 9.5 on average —
 * one `Preference.set` and ≈ 300 bytes of flash per reading. With the
 * session's snapshot (≈ 10 writes of 4 entries a day) that is ≈ 950 entries
 * (30 KB) a day, 3.5 M entries in ten years. NVS writes its pages (126
 * entries each) round-robin, so in a 64 KB NVS partition (16 pages) each 4 KB
 * sector is erased ≈ 1 700 times in ten years (≈ 4 600 in the default 24 KB
 * partition), ×2–3 for garbage collection of live data: far below the 100 000
 * cycles NOR flash is rated for. So every reading goes to flash at once and
 * is acknowledged only then; nothing waits in RTC memory for a batch write.
 *
 * Space: a sealed page is 404 bytes (15 entries); the default ring of 48
 * pages, the open copies, 16 priority slots and the snapshots take ≈ 830
 * entries (≈ 26 KB, 6.6 NVS pages). The default ESP32 NVS partition (24 KB,
 * 6 pages, one kept free) is too small for that: the manifest must enlarge it
 * (64 KB recommended), or pass `pages` ≤ 16 (256 readings) to fit 24 KB.
 */
import Preference from "preference";
import { crc32 } from "./crc32.ts";

/** Preference domain of the queue. */
export const QUEUE_DOMAIN = "lq";
/** Routine records per page. */
export const RECORDS_PER_PAGE = 16;
/** Bytes of one routine record. */
export const ROUTINE_RECORD_BYTES = 24;
/** Largest routine payload (air reading with its extension is 17). */
export const ROUTINE_PAYLOAD_MAX = ROUTINE_RECORD_BYTES - 6;
/** Largest alarm/ack/status payload (EU868 DR0 carries 51). */
export const PRIORITY_PAYLOAD_MAX = 51;
/** Default number of sealed pages in the ring. */
export const DEFAULT_QUEUE_PAGES = 48;
/** Default number of priority slots. */
export const DEFAULT_PRIORITY_SLOTS = 16;
/** Words of RTC state the queue takes. */
export const QUEUE_WORDS = 10;

const PAGE_MAGIC = 0xc5;
const PRIORITY_MAGIC = 0xa5;
const HEADER = 16;
const PRIORITY_HEADER = 12;

/** Kinds of priority messages, in sending order. */
export type PriorityKind = "alarm" | "ack" | "status";
const KIND_CODES: { [k in PriorityKind]: number } = { alarm: 1, ack: 2, status: 3 };

/** A routine record as read back. */
export interface RoutineRecord {
  seq: number;
  port: number;
  length: number;
  /** Measurement time, link seconds. */
  timeS: number;
  /** The payload (a view; copy before keeping). */
  bytes: Uint8Array;
}

/** A priority message as read back. */
export interface PriorityRecord {
  slot: number;
  /** 1 alarm, 2 ack, 3 status. */
  kind: number;
  port: number;
  length: number;
  seq: number;
  /** Submit time, link seconds. */
  timeS: number;
  bytes: Uint8Array;
}

/** Queue size options. */
export interface QueueOptions {
  /** Sealed pages in the ring (capacity = pages · 16 readings). */
  pages?: number;
  /** Priority slots (≤ 31). */
  prioritySlots?: number;
}

function pageBytes(count: number): number {
  return HEADER + ROUTINE_RECORD_BYTES * count + 4;
}

/** Validates a stored page; returns its bytes or undefined. */
function parsePage(value: unknown, perPage: number): Uint8Array | undefined {
  if (!(value instanceof ArrayBuffer) || value.byteLength < pageBytes(1)) return undefined;
  const b = new Uint8Array(value);
  const count = b[2];
  if (b[0] !== PAGE_MAGIC || b[1] !== perPage || count < 1 || count > perPage || value.byteLength !== pageBytes(count)) return undefined;
  const end = HEADER + ROUTINE_RECORD_BYTES * count;
  const view = new DataView(value);
  if (view.getUint32(end, true) !== crc32(b, 0, end)) return undefined;
  for (let i = 0; i < count; i++) {
    const r = HEADER + i * ROUTINE_RECORD_BYTES;
    if (b[r] === 0 || b[r + 1] === 0 || b[r + 1] > ROUTINE_PAYLOAD_MAX) return undefined;
  }
  return b;
}

function parsePriority(value: unknown): Uint8Array | undefined {
  if (!(value instanceof ArrayBuffer) || value.byteLength < PRIORITY_HEADER + 1 + 4) return undefined;
  const b = new Uint8Array(value);
  const len = b[3];
  if (b[0] !== PRIORITY_MAGIC || b[1] < 1 || b[1] > 3 || len < 1 || len > PRIORITY_PAYLOAD_MAX || value.byteLength !== PRIORITY_HEADER + len + 4) return undefined;
  if (new DataView(value).getUint32(PRIORITY_HEADER + len, true) !== crc32(b, 0, PRIORITY_HEADER + len)) return undefined;
  return b;
}

/**
 * `routineWaiting() + priorityCount()` of a queue with `pages` and `slots` as
 * `restore` would load it from the indices `save` kept at `words[at]`, or −1
 * when `restore` would reject them on the indices alone. No flash is read.
 */
export function keptQueueDepth(words: Int32Array, at: number, pages: number, slots: number): number {
  const head = words[at] >>> 0;
  const sent = words[at + 2] >>> 0;
  if (!indicesValid(head, words[at + 1] >>> 0, sent, pages * RECORDS_PER_PAGE)) return -1;
  return head - sent + bitCount(words[at + 5] & ((1 << slots) - 1));
}

/** Whether kept indices can describe a queue of `capacity` readings: delivered ≤ sent ≤ written, at most `capacity` apart. */
function indicesValid(head: number, tail: number, sent: number, capacity: number): boolean {
  return tail <= sent && sent <= head && head - tail <= capacity;
}

/** Set bits of a priority-slot mask: the slots in use. */
function bitCount(mask: number): number {
  let n = 0;
  for (let m = mask; m; m &= m - 1) n++;
  return n;
}

/** `dropped` of a queue restored from the indices kept at `words[at]`. */
export function keptDropped(words: Int32Array, at: number): number {
  return words[at + 7] >>> 0;
}

/** The flash-backed uplink queue. */
export class UplinkQueue {
  readonly pages: number;
  readonly slots: number;
  /** Routine readings the queue holds at most. */
  readonly capacity: number;
  #head = 0;
  #tail = 0;
  #sent = 0;
  /** 0: "oa", 1: "ob" holds the newest version of the open page. */
  #openKey = 1;
  #writes = 0;
  #prioMask = 0;
  #nextPseq = 1;
  #dropped = 0;
  #overflow = 0;
  /** Newest time seen in flash during a cold scan (link s). */
  #maxTimeS = 0;
  /** Working copy of the open page (full size). */
  readonly #open: Uint8Array;
  #openPage = -1;
  /** One sealed page cached for reading. */
  #cachePage = -1;
  #cache: Uint8Array | undefined;
  /** Priority slots read this boot: slot → record bytes. */
  readonly #prio: (Uint8Array | undefined)[] = [];
  #prioLoaded = 0;

  constructor(options: QueueOptions = {}) {
    this.pages = options.pages ?? DEFAULT_QUEUE_PAGES;
    this.slots = options.prioritySlots ?? DEFAULT_PRIORITY_SLOTS;
    if (this.pages < 2 || this.pages > 999) throw new RangeError("queue pages " + this.pages);
    if (this.slots < 1 || this.slots > 31) throw new RangeError("priority slots " + this.slots);
    this.capacity = this.pages * RECORDS_PER_PAGE;
    this.#open = new Uint8Array(pageBytes(RECORDS_PER_PAGE));
  }

  /** Next routine sequence number (one past the newest record). */
  get head(): number {
    return this.#head;
  }

  /** First routine record not known to be delivered. */
  get tail(): number {
    return this.#tail;
  }

  /** First routine record not yet sent. */
  get sent(): number {
    return this.#sent;
  }

  /** Unsent routine readings dropped from a full queue since power-on. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Readings were dropped since the flag was last cleared. */
  get overflow(): boolean {
    return this.#overflow !== 0;
  }

  clearOverflow(): void {
    this.#overflow = 0;
  }

  /** Newest measurement/submit time found in flash by `scan` (link s). */
  get maxTimeS(): number {
    return this.#maxTimeS;
  }

  /** Routine readings waiting to be sent. */
  routineWaiting(): number {
    return this.#head - this.#sent;
  }

  /** Routine readings sent but not yet known delivered. */
  inFlight(): number {
    return this.#sent - this.#tail;
  }

  /** Priority messages waiting. */
  priorityCount(): number {
    return bitCount(this.#prioMask);
  }

  // ---- recovery ---------------------------------------------------------

  /** Rebuilds the queue from flash alone (cold boot); `persistedTail` is the delivered-through pointer the session kept. */
  scan(persistedTail: number): void {
    const R = RECORDS_PER_PAGE;
    let best: Uint8Array | undefined;
    let bestNo = -1;
    let tail = persistedTail;
    let maxTime = 0;
    const consider = (b: Uint8Array | undefined) => {
      if (!b) return;
      const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
      const no = view.getUint32(4, true);
      const hint = view.getUint32(12, true);
      if (hint > tail) tail = hint;
      if (view.getUint32(8, true) > this.#writes) this.#writes = view.getUint32(8, true);
      for (let i = 0; i < b[2]; i++) {
        const t = view.getUint32(HEADER + i * ROUTINE_RECORD_BYTES + 2, true);
        if (t > maxTime) maxTime = t;
      }
      if (no > bestNo || (no === bestNo && best && b[2] > best[2])) {
        best = b;
        bestNo = no;
      }
    };
    this.#writes = 0;
    const a = parsePage(Preference.get(QUEUE_DOMAIN, "oa"), R);
    const b = parsePage(Preference.get(QUEUE_DOMAIN, "ob"), R);
    consider(a);
    consider(b);
    const wa = a ? new DataView(a.buffer).getUint32(8, true) : -1;
    const wb = b ? new DataView(b.buffer).getUint32(8, true) : -1;
    this.#openKey = wa > wb ? 0 : 1;
    for (let i = 0; i < this.pages; i++) {
      const p = parsePage(Preference.get(QUEUE_DOMAIN, "p" + i), R);
      if (p && new DataView(p.buffer).getUint32(4, true) % this.pages === i) consider(p);
    }
    this.#head = best ? bestNo * R + best[2] : 0;
    if (tail < this.#head - this.capacity) tail = this.#head - this.capacity;
    if (tail > this.#head) tail = this.#head;
    if (tail < 0) tail = 0;
    this.#tail = this.#sent = tail;
    this.#openPage = -1;
    if (best && best[2] < R) this.#loadOpen(best);
    this.#cachePage = -1;
    // Priority slots.
    this.#prioMask = 0;
    this.#nextPseq = 1;
    for (let s = 0; s < this.slots; s++) {
      const rec = parsePriority(Preference.get(QUEUE_DOMAIN, "a" + s));
      this.#prio[s] = rec;
      if (!rec) continue;
      this.#prioMask |= 1 << s;
      const v = new DataView(rec.buffer);
      if (v.getUint32(4, true) >= this.#nextPseq) this.#nextPseq = v.getUint32(4, true) + 1;
      if (v.getUint32(8, true) > maxTime) maxTime = v.getUint32(8, true);
    }
    this.#prioLoaded = (1 << this.slots) - 1;
    this.#maxTimeS = maxTime;
  }

  #loadOpen(page: Uint8Array): void {
    this.#open.fill(0);
    this.#open.set(page.subarray(0, HEADER + ROUTINE_RECORD_BYTES * page[2]));
    this.#openPage = new DataView(page.buffer, page.byteOffset).getUint32(4, true);
  }

  /** Restores indices kept in RTC memory (warm boot); false if they do not match flash (then call `scan`). */
  restore(words: Int32Array, at: number): boolean {
    this.#head = words[at] >>> 0;
    this.#tail = words[at + 1] >>> 0;
    this.#sent = words[at + 2] >>> 0;
    this.#openKey = words[at + 3] & 1;
    this.#writes = words[at + 4] >>> 0;
    this.#prioMask = words[at + 5] & ((1 << this.slots) - 1);
    this.#nextPseq = words[at + 6] >>> 0;
    this.#dropped = words[at + 7] >>> 0;
    this.#overflow = words[at + 8] & 1;
    this.#prioLoaded = 0;
    this.#openPage = -1;
    this.#cachePage = -1;
    if (!indicesValid(this.#head, this.#tail, this.#sent, this.capacity)) return false;
    const idx = this.#head % RECORDS_PER_PAGE;
    if (idx === 0) return true;
    const page = parsePage(Preference.get(QUEUE_DOMAIN, this.#openKey ? "ob" : "oa"), RECORDS_PER_PAGE);
    if (!page || page[2] !== idx || new DataView(page.buffer).getUint32(4, true) !== Math.floor(this.#head / RECORDS_PER_PAGE)) return false;
    this.#loadOpen(page);
    return true;
  }

  /** Keeps the indices in RTC memory words. */
  save(words: Int32Array, at: number): void {
    words[at] = this.#head | 0;
    words[at + 1] = this.#tail | 0;
    words[at + 2] = this.#sent | 0;
    words[at + 3] = this.#openKey;
    words[at + 4] = this.#writes | 0;
    words[at + 5] = this.#prioMask;
    words[at + 6] = this.#nextPseq | 0;
    words[at + 7] = this.#dropped | 0;
    words[at + 8] = this.#overflow;
    words[at + 9] = 0;
  }

  // ---- routine ----------------------------------------------------------

  /**
   * Appends a routine reading measured at link second `timeS`. True once it is
   * in flash; false (nothing changed) if it is malformed or the write failed.
   */
  appendRoutine(port: number, bytes: Uint8Array, length: number, timeS: number): boolean {
    if (port < 1 || port > 223 || length < 1 || length > ROUTINE_PAYLOAD_MAX || length > bytes.length) return false;
    const R = RECORDS_PER_PAGE;
    const seq = this.#head;
    const pageNo = Math.floor(seq / R);
    const idx = seq % R;
    // Make room: the oldest sent-but-unverified reading goes first (it most likely arrived), then the oldest unsent (dropped).
    let tail = this.#tail;
    let sent = this.#sent;
    let dropped = 0;
    while (seq + 1 - tail > this.capacity) {
      if (tail >= sent) {
        sent++;
        dropped++;
      }
      tail++;
    }
    const open = this.#open;
    if (idx === 0) {
      open.fill(0);
      this.#openPage = pageNo;
    } else if (this.#openPage !== pageNo) {
      return false; // lost track of the open page (should not happen): refuse rather than write a page without its first records
    }
    const view = new DataView(open.buffer);
    open[0] = PAGE_MAGIC;
    open[1] = R;
    open[2] = idx + 1;
    open[3] = 0;
    view.setUint32(4, pageNo, true);
    view.setUint32(8, (this.#writes + 1) >>> 0, true);
    view.setUint32(12, tail, true);
    const r = HEADER + idx * ROUTINE_RECORD_BYTES;
    open.fill(0, r, r + ROUTINE_RECORD_BYTES);
    open[r] = port;
    open[r + 1] = length;
    view.setUint32(r + 2, timeS >>> 0, true);
    for (let i = 0; i < length; i++) open[r + 6 + i] = bytes[i];
    const end = r + ROUTINE_RECORD_BYTES;
    view.setUint32(end, crc32(open, 0, end), true);
    const sealing = idx + 1 === R;
    const key = sealing ? "p" + (pageNo % this.pages) : this.#openKey ? "oa" : "ob";
    try {
      Preference.set(QUEUE_DOMAIN, key, open.slice(0, end + 4).buffer);
    } catch {
      open[2] = idx;
      return false;
    }
    this.#writes = (this.#writes + 1) >>> 0;
    if (!sealing) this.#openKey ^= 1;
    if (sealing) this.#cachePage = -1; // the ring slot changed (and the cached copy of this page may be a partial one)
    this.#head = seq + 1;
    this.#tail = tail;
    this.#sent = sent;
    if (dropped) {
      this.#dropped += dropped;
      this.#overflow = 1;
    }
    return true;
  }

  /** The routine record `seq` (tail ≤ seq < head), or undefined if flash no longer holds it. */
  routineAt(seq: number): RoutineRecord | undefined {
    if (seq < this.#tail || seq >= this.#head) return undefined;
    const R = RECORDS_PER_PAGE;
    const pageNo = Math.floor(seq / R);
    const idx = seq % R;
    let page: Uint8Array | undefined;
    if (pageNo === this.#openPage && idx < this.#open[2]) page = this.#open;
    else {
      if (this.#cachePage !== pageNo) {
        this.#cache = undefined;
        this.#cachePage = pageNo;
        const sealed = parsePage(Preference.get(QUEUE_DOMAIN, "p" + (pageNo % this.pages)), R);
        if (sealed && new DataView(sealed.buffer).getUint32(4, true) === pageNo) this.#cache = sealed;
        else {
          // Not sealed (or damaged): an open-page copy may still hold it.
          for (const k of ["oa", "ob"]) {
            const p = parsePage(Preference.get(QUEUE_DOMAIN, k), R);
            if (p && new DataView(p.buffer).getUint32(4, true) === pageNo && (!this.#cache || p[2] > this.#cache[2])) this.#cache = p;
          }
        }
      }
      page = this.#cache;
    }
    if (!page || idx >= page[2]) return undefined;
    const r = HEADER + idx * ROUTINE_RECORD_BYTES;
    return {
      seq,
      port: page[r],
      length: page[r + 1],
      timeS: new DataView(page.buffer, page.byteOffset).getUint32(r + 2, true),
      bytes: page.subarray(r + 6, r + 6 + page[r + 1]),
    };
  }

  /** `n` more routine readings went out (unconfirmed: kept until verified). */
  markSent(n: number): void {
    this.#sent += n;
    if (this.#sent > this.#head) this.#sent = this.#head;
  }

  /** The network was hearing the node: everything sent is delivered. Returns how many readings that settled. */
  verify(): number {
    const n = this.#sent - this.#tail;
    this.#tail = this.#sent;
    return n;
  }

  /** The network was not hearing the node: send the unverified readings again. */
  rewind(): void {
    this.#sent = this.#tail;
  }

  /** Skips one unreadable record (flash damage beyond a power cut); counted as dropped. */
  skipUnreadable(): void {
    if (this.#sent < this.#head) {
      this.#sent++;
      if (this.#tail === this.#sent - 1) this.#tail = this.#sent;
      this.#dropped++;
      this.#overflow = 1;
    }
  }

  // ---- priority ---------------------------------------------------------

  #slot(s: number): Uint8Array | undefined {
    if (!(this.#prioLoaded & (1 << s))) {
      this.#prio[s] = this.#prioMask & (1 << s) ? parsePriority(Preference.get(QUEUE_DOMAIN, "a" + s)) : undefined;
      this.#prioLoaded |= 1 << s;
      if (!this.#prio[s]) this.#prioMask &= ~(1 << s);
    }
    return this.#prio[s];
  }

  #oldest(kind: number): number {
    let found = -1;
    let seq = 0;
    for (let s = 0; s < this.slots; s++) {
      const r = this.#slot(s);
      if (!r || r[1] !== kind) continue;
      const q = new DataView(r.buffer).getUint32(4, true);
      if (found < 0 || q < seq) {
        found = s;
        seq = q;
      }
    }
    return found;
  }

  /** Stores an alarm, ack or status message submitted at link second `timeS`. True once it is in flash. */
  appendPriority(kind: PriorityKind, port: number, bytes: Uint8Array, length: number, timeS: number): boolean {
    const code = KIND_CODES[kind];
    if (!code || port < 1 || port > 223 || length < 1 || length > PRIORITY_PAYLOAD_MAX || length > bytes.length) return false;
    let slot = -1;
    for (let s = 0; s < this.slots && slot < 0; s++) if (!(this.#prioMask & (1 << s))) slot = s;
    if (slot < 0) {
      slot = this.#oldest(KIND_CODES.status);
      if (slot < 0 && code !== KIND_CODES.status) slot = this.#oldest(KIND_CODES.ack);
      if (slot >= 0 && code === KIND_CODES.ack && this.#slot(slot)![1] === KIND_CODES.ack) slot = -1;
      if (slot < 0) return false;
    }
    const rec = new Uint8Array(PRIORITY_HEADER + length + 4);
    const view = new DataView(rec.buffer);
    rec[0] = PRIORITY_MAGIC;
    rec[1] = code;
    rec[2] = port;
    rec[3] = length;
    view.setUint32(4, this.#nextPseq >>> 0, true);
    view.setUint32(8, timeS >>> 0, true);
    for (let i = 0; i < length; i++) rec[PRIORITY_HEADER + i] = bytes[i];
    view.setUint32(PRIORITY_HEADER + length, crc32(rec, 0, PRIORITY_HEADER + length), true);
    try {
      Preference.set(QUEUE_DOMAIN, "a" + slot, rec.buffer);
    } catch {
      // The slot may now hold garbage (torn write): reread it next time it is needed.
      this.#prioLoaded &= ~(1 << slot);
      return false;
    }
    this.#nextPseq++;
    this.#prioMask |= 1 << slot;
    this.#prio[slot] = rec;
    this.#prioLoaded |= 1 << slot;
    return true;
  }

  /** The next priority message to send (alarms, then acks, then status; oldest first), skipping slots in `skipMask`. */
  nextPriority(skipMask = 0): PriorityRecord | undefined {
    let best: Uint8Array | undefined;
    let bestSlot = -1;
    for (let s = 0; s < this.slots; s++) {
      if (!(this.#prioMask & (1 << s)) || skipMask & (1 << s)) continue;
      const r = this.#slot(s);
      if (!r) continue;
      if (!best || r[1] < best[1] || (r[1] === best[1] && new DataView(r.buffer).getUint32(4, true) < new DataView(best.buffer).getUint32(4, true))) {
        best = r;
        bestSlot = s;
      }
    }
    if (!best) return undefined;
    const v = new DataView(best.buffer);
    return {
      slot: bestSlot,
      kind: best[1],
      port: best[2],
      length: best[3],
      seq: v.getUint32(4, true),
      timeS: v.getUint32(8, true),
      bytes: best.subarray(PRIORITY_HEADER, PRIORITY_HEADER + best[3]),
    };
  }

  /** The message in `slot` was delivered: forget it. */
  removePriority(slot: number): void {
    try {
      Preference.delete(QUEUE_DOMAIN, "a" + slot);
    } catch {
      // Still in flash: it will be sent again after a reboot (at-least-once); forget it for this boot.
    }
    this.#prioMask &= ~(1 << slot);
    this.#prio[slot] = undefined;
    this.#prioLoaded |= 1 << slot;
  }
}
