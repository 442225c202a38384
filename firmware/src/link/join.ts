/**
 * OTAA join back-off (LoRaWAN 1.0.4 §7 "retransmission back-off", RP002):
 * the aggregate airtime of join-requests, counted from the first join-request
 * of a join procedure (T0), must stay within
 *
 *   36 s   in [T0, T0 + 1 h)
 *   36 s   in [T0 + 1 h, T0 + 11 h)
 *   8.7 s  in any 24 h after T0 + 11 h (rolling; attempts of the first 11 h are not counted in it)
 *
 * On top of that the link spaces attempts by a randomised exponential back-off
 * (base 15 s, doubling per failure, capped at 1 h; each delay drawn uniformly
 * from [d/2, d] with the hardware RNG), so a fleet restarting together after a
 * network outage does not join in lock-step, and puts the first join-request
 * of a procedure off by a random 0..base (waited for in the wake), so nodes
 * switched on together do not send it together (TR007 §4.7.2).
 *
 * A new procedure (fresh T0 and windows) starts only after a session that
 * lasted 24 h: a modem that keeps losing its session cannot buy itself a new
 * first hour every few minutes.
 *
 * Persistence: the ledger lives in RTC memory (survives deep sleep). A power
 * cut loses RTC memory, so the link also keeps a coarse copy in flash: before
 * a join-request would push the used airtime of the current window past what
 * the flash copy already claims, the link writes a new claim covering it.
 * After a power cut the claims are restored as used airtime — never less than
 * was spent — so a reboot loop cannot turn into a join burst; the failure
 * count is restored too, but the back-off deadline is not (the next attempt
 * waits one first step, 7.5–15 s). Claiming ahead (say four attempts per
 * write) would save writes, but every power cut would then burn the unused
 * part of the claim, and a node whose power keeps failing would talk itself
 * out of its join budget. The cost: one 60-byte flash write per join attempt,
 * and attempts are rare — about ten in the first hour, then at most one an
 * hour (the back-off cap) while the network stays away.
 *
 * Times are link ms (see session.ts): powered time on the RTC, which leaves
 * out the time the node was unpowered, and runs fast or slow by the RTC's
 * error (tenths of a percent on its RC oscillator).
 */
import { getHalf, getLong, putHalf, putLong } from "./state-words.ts";

/** Aggregate join airtime limits, ms. */
export const JOIN_FIRST_HOUR_MS = 36000;
export const JOIN_NEXT_10H_MS = 36000;
export const JOIN_PER_24H_MS = 8700;

const HOUR_MS = 3600000;
const DAY_MS = 86400000;
const BUCKETS = 25;

/** Exponential back-off parameters. */
export interface JoinBackoff {
  /** First delay after a failure, ms (default 15 000). */
  baseMs: number;
  /** Longest delay, ms (default 3 600 000). */
  maxMs: number;
}

export const DEFAULT_JOIN_BACKOFF: JoinBackoff = { baseMs: 15000, maxMs: 3600000 };

/** Words of RTC state the ledger takes. */
export const JOIN_WORDS = 2 + 1 + 1 + 13 + 1 + 1 + 2 + 2 + 3;
/** Bytes of the ledger's coarse flash copy. */
export const JOIN_FLASH_BYTES = 28;

/** Join airtime ledger with back-off. */
export class JoinLedger {
  readonly backoff: JoinBackoff;
  /** Link ms of the first join-request of the procedure, or −1. */
  #startMs = -1;
  #p1Ms = 0;
  #p2Ms = 0;
  readonly #p3 = new Int32Array(BUCKETS);
  #p3Hour = 0;
  #failures = 0;
  #nextMs = 0;
  /** Link ms of the last successful join, or −1. */
  #joinedMs = -1;
  /** What the flash copy claims was used in each window (phase 3: within any 24 h). */
  #claim1 = 0;
  #claim2 = 0;
  #claim3 = 0;

  constructor(backoff: JoinBackoff = DEFAULT_JOIN_BACKOFF) {
    this.backoff = backoff;
  }

  /** Consecutive failed attempts. */
  get failures(): number {
    return this.#failures;
  }

  /** Link ms of T0, or −1 when no procedure is under way. */
  get startMs(): number {
    return this.#startMs;
  }

  #freshProcedure(nowMs: number): boolean {
    return this.#startMs < 0 || (this.#joinedMs >= this.#startMs && nowMs - this.#joinedMs >= DAY_MS);
  }

  #phase3Sum(hour: number): number {
    let s = 0;
    for (let h = hour - 24; h <= hour; h++) if (h >= 0 && h <= this.#p3Hour && this.#p3Hour - h < BUCKETS) s += this.#p3[h % BUCKETS];
    return s;
  }

  /** Used airtime (ms) in the window an attempt at `nowMs` falls in, and that window's limit. */
  #window(nowMs: number): { phase: number; used: number; limit: number } {
    if (this.#freshProcedure(nowMs)) return { phase: 1, used: 0, limit: JOIN_FIRST_HOUR_MS };
    const rel = nowMs - this.#startMs;
    if (rel < HOUR_MS) return { phase: 1, used: this.#p1Ms, limit: JOIN_FIRST_HOUR_MS };
    if (rel < 11 * HOUR_MS) return { phase: 2, used: this.#p2Ms, limit: JOIN_NEXT_10H_MS };
    return { phase: 3, used: this.#phase3Sum(Math.floor(nowMs / HOUR_MS)), limit: JOIN_PER_24H_MS };
  }

  /** Earliest link ms ≥ `nowMs` at which a join-request of `airtimeUs` fits the limits and the back-off. */
  earliestMs(nowMs: number, airtimeUs: number): number {
    const a = Math.floor((airtimeUs + 999) / 1000);
    let t = nowMs > this.#nextMs ? nowMs : this.#nextMs;
    if (this.#freshProcedure(t)) return t;
    const start = this.#startMs;
    if (t - start < HOUR_MS) {
      if (this.#p1Ms + a <= JOIN_FIRST_HOUR_MS) return t;
      t = start + HOUR_MS;
    }
    if (t - start < 11 * HOUR_MS) {
      if (this.#p2Ms + a <= JOIN_NEXT_10H_MS) return t;
      t = start + 11 * HOUR_MS;
    }
    let hour = Math.floor(t / HOUR_MS);
    for (let i = 0; i <= BUCKETS; i++) {
      if (this.#phase3Sum(hour) + a <= JOIN_PER_24H_MS) return t;
      hour++;
      t = hour * HOUR_MS;
    }
    return t;
  }

  /**
   * Before an attempt at `nowMs`: true if the flash copy must be rewritten
   * first (the attempt would exceed what it claims); the new claim is then
   * what `toFlash` writes.
   */
  needsFlashClaim(nowMs: number, airtimeUs: number): boolean {
    const a = Math.floor((airtimeUs + 999) / 1000);
    const w = this.#window(nowMs);
    if (w.phase === 1 && this.#freshProcedure(nowMs)) {
      this.#startMs = nowMs;
      this.#p1Ms = 0;
      this.#p2Ms = 0;
      this.#claim1 = 0;
      this.#claim2 = 0;
    }
    const claim = w.phase === 1 ? this.#claim1 : w.phase === 2 ? this.#claim2 : this.#claim3;
    if (w.used + a <= claim) return false;
    const next = w.used + a;
    if (w.phase === 1) this.#claim1 = next;
    else if (w.phase === 2) this.#claim2 = next;
    else this.#claim3 = next;
    return true;
  }

  /** Charges a join-request of `airtimeUs` started at link ms `nowMs` to its window. */
  recordAttempt(nowMs: number, airtimeUs: number): void {
    const a = Math.floor((airtimeUs + 999) / 1000);
    if (this.#freshProcedure(nowMs)) {
      this.#startMs = nowMs;
      this.#p1Ms = 0;
      this.#p2Ms = 0;
    }
    const rel = nowMs - this.#startMs;
    if (rel < HOUR_MS) this.#p1Ms += a;
    else if (rel < 11 * HOUR_MS) this.#p2Ms += a;
    else {
      const hour = Math.floor(nowMs / HOUR_MS);
      if (hour > this.#p3Hour) {
        const steps = hour - this.#p3Hour >= BUCKETS ? BUCKETS : hour - this.#p3Hour;
        for (let i = 1; i <= steps; i++) this.#p3[(hour - steps + i) % BUCKETS] = 0;
        this.#p3Hour = hour;
      }
      this.#p3[hour % BUCKETS] += a;
    }
  }

  /**
   * Before a join attempt at `nowMs`: the first join-request of a procedure (after power-on, or after a
   * session that lasted a day) is put off by a uniform 0..baseMs, drawn once, so nodes switched on together
   * (a batch on installation day) do not send it together (TR007 §4.7.2: a pseudo-random delay on every
   * periodic transmission, join-requests included). The retries are spread by the back-off already.
   * Returns the delay drawn, ms (0 when none was).
   */
  spreadFirst(nowMs: number, random: () => number): number {
    // nextMs is 0 only before the first attempt (restored so after a power cut without failures) and after a join.
    if (this.#failures !== 0 || this.#nextMs !== 0 || !this.#freshProcedure(nowMs)) return 0;
    const delay = (random() >>> 0) % (this.backoff.baseMs + 1);
    this.#nextMs = nowMs + delay;
    return delay;
  }

  /** The attempt at `nowMs` failed: back off. `random` gives 32 random bits. */
  failed(nowMs: number, random: () => number): void {
    this.#failures++;
    this.#nextMs = nowMs + this.delayMs(this.#failures, random);
  }

  /** Back-off delay after `failures` failures: uniform in [d/2, d], d = min(base·2^(failures−1), max). */
  delayMs(failures: number, random: () => number): number {
    let d = this.backoff.baseMs;
    for (let i = 1; i < failures && d < this.backoff.maxMs; i++) d *= 2;
    if (d > this.backoff.maxMs) d = this.backoff.maxMs;
    const half = Math.floor(d / 2);
    return half + ((random() >>> 0) % (d - half + 1));
  }

  /** The attempt at `nowMs` joined. */
  succeeded(nowMs: number): void {
    this.#failures = 0;
    this.#nextMs = 0;
    this.#joinedMs = nowMs;
  }

  /** Writes the coarse copy (claims, T0, failures) at `at` of `view`; times as link seconds. */
  toFlash(view: DataView, at: number): void {
    view.setUint32(at, this.#startMs < 0 ? 0 : Math.floor(this.#startMs / 1000) + 1, true);
    view.setUint32(at + 4, this.#claim1 > this.#p1Ms ? this.#claim1 : this.#p1Ms, true);
    view.setUint32(at + 8, this.#claim2 > this.#p2Ms ? this.#claim2 : this.#p2Ms, true);
    view.setUint32(at + 12, this.#claim3, true);
    view.setUint32(at + 16, 0, true);
    view.setUint32(at + 20, this.#joinedMs < 0 ? 0 : Math.floor(this.#joinedMs / 1000) + 1, true);
    view.setUint32(at + 24, this.#failures, true);
  }

  /** Restores from the coarse copy after a power cut, at link ms `nowMs`; the back-off restarts from its first step. */
  fromFlash(view: DataView, at: number, nowMs: number, random: () => number): void {
    const startS = view.getUint32(at, true);
    this.#startMs = startS === 0 ? -1 : (startS - 1) * 1000;
    this.#p1Ms = this.#claim1 = view.getUint32(at + 4, true);
    this.#p2Ms = this.#claim2 = view.getUint32(at + 8, true);
    // Every phase-3 attempt was checked against the claim with a window that held all later ones, so the
    // claim bounds the use in any 24 h ending now: charge it to the current hour, the latest it could be.
    this.#claim3 = view.getUint32(at + 12, true);
    this.#p3.fill(0);
    this.#p3Hour = Math.floor(nowMs / HOUR_MS);
    this.#p3[this.#p3Hour % BUCKETS] = this.#claim3;
    const joinedS = view.getUint32(at + 20, true);
    this.#joinedMs = joinedS === 0 ? -1 : (joinedS - 1) * 1000;
    this.#failures = view.getUint32(at + 24, true);
    // The deadline of the back-off is lost with RTC memory; restarting it at its shortest step keeps a node
    // whose power keeps failing able to join (the airtime windows above still bound what it may spend).
    this.#nextMs = this.#failures > 0 ? nowMs + this.delayMs(1, random) : 0;
  }

  save(words: Int32Array, at: number): void {
    putLong(words, at, this.#startMs + 1);
    words[at + 2] = this.#p1Ms;
    words[at + 3] = this.#p2Ms;
    for (let i = 0; i < BUCKETS; i++) putHalf(words, at + 4, i, this.#p3[i]);
    words[at + 17] = this.#p3Hour;
    words[at + 18] = this.#failures;
    putLong(words, at + 19, this.#nextMs);
    putLong(words, at + 21, this.#joinedMs + 1);
    words[at + 23] = this.#claim1;
    words[at + 24] = this.#claim2;
    words[at + 25] = this.#claim3;
  }

  load(words: Int32Array, at: number): void {
    this.#startMs = getLong(words, at) - 1;
    this.#p1Ms = words[at + 2];
    this.#p2Ms = words[at + 3];
    for (let i = 0; i < BUCKETS; i++) this.#p3[i] = getHalf(words, at + 4, i);
    this.#p3Hour = words[at + 17];
    this.#failures = words[at + 18];
    this.#nextMs = getLong(words, at + 19);
    this.#joinedMs = getLong(words, at + 21) - 1;
    this.#claim1 = words[at + 23];
    this.#claim2 = words[at + 24];
    this.#claim3 = words[at + 25];
  }
}
