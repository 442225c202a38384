/**
 * The Things Network fair-use budget: at most 30 s of uplink airtime per device
 * per rolling 24 h, and at most 10 downlinks per 24 h (ACKs and join-accepts
 * count). Join-requests count as uplink airtime too.
 *
 * The ledger keeps 25 hourly buckets of airtime (ms, rounded up) and of
 * downlinks; a check sums all 25, i.e. the hours H−24 … H containing "now",
 * which cover more than the last 24 h: the sum is an upper bound, so a check
 * that passes holds for the exact rolling window too.
 *
 * Shares of the airtime budget:
 *   alarms           may use all of it (they go first, and only they may use the reserve);
 *   everything else  (routine, status, config acks, joins … except alarms) at most
 *                    (100 − alarmReservePct) % of it in any 24 h;
 *   routine readings are also paced by a token bucket that refills at the
 *                    routine share per day (burst: burstPct % of a day's share),
 *                    so a low data rate stretches routine reporting evenly over
 *                    the day instead of spending the budget in a morning burst.
 *
 * Confirmed uplinks (alarms, and the link's delivery checkpoints) are allowed
 * only while the downlinks of the last 24 h leave `downlinkReserve` for the
 * network's own commands. Every confirmed uplink is charged one downlink
 * whether or not its ACK arrived (a lost ACK was still sent), except the
 * probes of an outage after its first two (session.ts UNACKED_CHARGED): the
 * network heard none of them, and charging them would leave no downlink to
 * notice the end of a short outage with for the rest of the day.
 *
 * `effectiveIntervalS` turns the budget into the routine interval a node can
 * afford at the current data rate: never below the configured one.
 */
import { getHalf, getLong, putHalf, putLong } from "./state-words.ts";

/** The limits and how the link shares them. */
export interface FairUsePolicy {
  /** Uplink airtime per rolling 24 h, ms (TTN: 30 000). */
  uplinkAirtimeMsPerDay: number;
  /** Downlinks per rolling 24 h, ACKs included (TTN: 10). */
  downlinksPerDay: number;
  /** Share of the airtime kept for alarms, percent (default 20). */
  alarmReservePct: number;
  /** Downlinks left to the network's commands: confirmed uplinks stop before the day's count reaches downlinksPerDay − this. */
  downlinkReserve: number;
  /** Routine token bucket size in percent of the routine share per day (default 25). */
  burstPct: number;
}

/** The Things Network fair-use policy with a 20 % alarm reserve. */
export const TTN_FAIR_USE: FairUsePolicy = {
  uplinkAirtimeMsPerDay: 30000,
  downlinksPerDay: 10,
  alarmReservePct: 20,
  downlinkReserve: 2,
  burstPct: 25,
};

const DAY_MS = 86400000;
const HOUR_MS = 3600000;
const BUCKETS = 25;

/** Airtime in µs per 24 h that everything but alarms may use. */
export function routineShareUs(policy: FairUsePolicy): number {
  return Math.floor((policy.uplinkAirtimeMsPerDay * 1000 * (100 - policy.alarmReservePct)) / 100);
}

/**
 * The routine interval in seconds a node can afford: the configured one, or
 * longer when one reading costs `perReadingUs` of airtime (amortised over a
 * batch where readings are batched) and `otherUsPerDay` of the share goes to
 * other messages (the daily status). `usablePct` of the share is planned for
 * (default 100; the session plans 80 % so a backlog can still drain). One
 * reading a day if even that does not fit.
 */
export function effectiveIntervalS(configuredS: number, perReadingUs: number, otherUsPerDay: number, policy: FairUsePolicy = TTN_FAIR_USE, usablePct = 100): number {
  const budget = Math.floor((routineShareUs(policy) * usablePct) / 100) - otherUsPerDay;
  if (budget <= perReadingUs) return configuredS > 86400 ? configuredS : 86400;
  const needed = Math.floor((86400 * perReadingUs + budget - 1) / budget);
  return needed > configuredS ? needed : configuredS;
}

/** Words of RTC state the ledger takes. */
export const FAIR_USE_WORDS = 13 + 13 + 1 + 1 + 2;

/** Rolling 24 h airtime and downlink ledger with a routine token bucket. */
export class FairUseLedger {
  readonly policy: FairUsePolicy;
  readonly #airMs = new Int32Array(BUCKETS);
  readonly #down = new Int32Array(BUCKETS);
  /** Hour index (link ms / 1 h) of the newest bucket. */
  #hour = 0;
  #tokensUs: number;
  #tokensAtMs = 0;

  constructor(policy: FairUsePolicy = TTN_FAIR_USE) {
    this.policy = policy;
    this.#tokensUs = this.bucketCapacityUs;
  }

  /** Size of the routine token bucket, µs. */
  get bucketCapacityUs(): number {
    return Math.floor((routineShareUs(this.policy) * this.policy.burstPct) / 100);
  }

  #roll(nowMs: number): void {
    const h = Math.floor(nowMs / HOUR_MS);
    if (h <= this.#hour) return;
    const steps = h - this.#hour >= BUCKETS ? BUCKETS : h - this.#hour;
    for (let i = 1; i <= steps; i++) {
      const slot = (h - steps + i) % BUCKETS;
      this.#airMs[slot] = 0;
      this.#down[slot] = 0;
    }
    this.#hour = h;
  }

  #refill(nowMs: number): void {
    if (nowMs <= this.#tokensAtMs) return;
    const elapsed = nowMs - this.#tokensAtMs > DAY_MS ? DAY_MS : nowMs - this.#tokensAtMs;
    const gained = Math.floor((elapsed * routineShareUs(this.policy)) / DAY_MS);
    const cap = this.bucketCapacityUs;
    this.#tokensUs = this.#tokensUs + gained > cap ? cap : this.#tokensUs + gained;
    this.#tokensAtMs = nowMs;
  }

  /** Charges an uplink (or join-request) of `airtimeUs` sent at link ms `nowMs`. */
  recordUplink(nowMs: number, airtimeUs: number): void {
    this.#roll(nowMs);
    const slot = Math.floor(nowMs / HOUR_MS) % BUCKETS;
    this.#airMs[slot] += Math.floor((airtimeUs + 999) / 1000);
  }

  /** Charges `count` downlinks (ACKs, join-accepts, data) at link ms `nowMs`. */
  recordDownlink(nowMs: number, count = 1): void {
    this.#roll(nowMs);
    this.#down[Math.floor(nowMs / HOUR_MS) % BUCKETS] += count;
  }

  /** Takes a routine uplink's airtime from the token bucket. */
  spendRoutine(nowMs: number, airtimeUs: number): void {
    this.#refill(nowMs);
    this.#tokensUs -= airtimeUs;
    if (this.#tokensUs < 0) this.#tokensUs = 0;
  }

  /** Upper bound of the uplink airtime in the 24 h before `nowMs`, ms. */
  airtimeMs(nowMs: number): number {
    this.#roll(nowMs);
    let s = 0;
    for (let i = 0; i < BUCKETS; i++) s += this.#airMs[i];
    return s;
  }

  /** Upper bound of the downlinks in the 24 h before `nowMs`. */
  downlinks(nowMs: number): number {
    this.#roll(nowMs);
    let s = 0;
    for (let i = 0; i < BUCKETS; i++) s += this.#down[i];
    return s;
  }

  /** An alarm of `airtimeUs` fits the whole budget. */
  allowsAlarm(nowMs: number, airtimeUs: number): boolean {
    return this.airtimeMs(nowMs) + Math.floor((airtimeUs + 999) / 1000) <= this.policy.uplinkAirtimeMsPerDay;
  }

  /** A non-alarm uplink (or join) of `airtimeUs` fits the share outside the alarm reserve. */
  allowsOther(nowMs: number, airtimeUs: number): boolean {
    return (this.airtimeMs(nowMs) + Math.floor((airtimeUs + 999) / 1000)) * 1000 <= routineShareUs(this.policy);
  }

  /** A routine uplink of `airtimeUs` fits the share and the token bucket. */
  allowsRoutine(nowMs: number, airtimeUs: number): boolean {
    this.#refill(nowMs);
    return this.#tokensUs >= airtimeUs && this.allowsOther(nowMs, airtimeUs);
  }

  /** Link ms when the token bucket will hold `airtimeUs` (now if it does). */
  routineReadyMs(nowMs: number, airtimeUs: number): number {
    this.#refill(nowMs);
    if (this.#tokensUs >= airtimeUs) return nowMs;
    if (airtimeUs > this.bucketCapacityUs) return Number.MAX_SAFE_INTEGER;
    const share = routineShareUs(this.policy);
    return nowMs + Math.floor(((airtimeUs - this.#tokensUs) * DAY_MS + share - 1) / share);
  }

  /** A confirmed uplink (one more downlink) still leaves the network its reserve. */
  confirmedAllowed(nowMs: number): boolean {
    return this.downlinks(nowMs) + 1 <= this.policy.downlinksPerDay - this.policy.downlinkReserve;
  }

  /** Empties the token bucket (after a power cut nothing is known about recent routine uplinks). */
  drainTokens(nowMs: number): void {
    this.#tokensUs = 0;
    this.#tokensAtMs = nowMs;
  }

  save(words: Int32Array, at: number): void {
    for (let i = 0; i < BUCKETS; i++) {
      putHalf(words, at, i, this.#airMs[i]);
      putHalf(words, at + 13, i, this.#down[i]);
    }
    words[at + 26] = this.#hour;
    words[at + 27] = this.#tokensUs;
    putLong(words, at + 28, this.#tokensAtMs);
  }

  load(words: Int32Array, at: number): void {
    for (let i = 0; i < BUCKETS; i++) {
      this.#airMs[i] = getHalf(words, at, i);
      this.#down[i] = getHalf(words, at + 13, i);
    }
    this.#hour = words[at + 26];
    this.#tokensUs = words[at + 27];
    this.#tokensAtMs = getLong(words, at + 28);
  }
}
