/**
 * The LoRaWAN session above the modem: `LoRaWanLink` implements the node's
 * `LinkPort`.
 *
 *   submit()  writes the message to the flash queue (uplink-queue.ts) and
 *             returns true only once it is there.
 *   flush()   once per wake: wakes the modem, joins if needed (join.ts back-off),
 *             sends alarms (confirmed while the downlink budget allows, bounded
 *             retries with back-off), config acks, status, then the routine
 *             backlog as batch messages (or single readings where a batch entry
 *             does not fit the data rate; an alarm, ack or status longer
 *             than the data rate allows goes at the lowest data rate where
 *             it fits, and the modem's rate is restored after it) — within the duty cycle
 *             (duty-cycle.ts) and the fair-use budget (fair-use.ts), waiting at
 *             most `maxFlushWaitMs` in all — and queues received downlinks for
 *             `takeDownlink()`.
 *
 * Delivery. Unconfirmed uplinks cannot tell whether the network heard them
 * (a gateway outage is silent), so routine readings that went out unconfirmed
 * stay in the queue, "in flight", until the network shows it was listening: a
 * confirmed uplink that was ACKed, or any downlink. Every `checkpointMs`
 * (default 4 h; sooner when 32 readings are in flight) one routine uplink goes
 * confirmed, if the downlink budget allows. A confirmed uplink without ACK
 * means an outage (one, not two in a row: on a day whose downlinks are spent a
 * second confirmed uplink may not go for hours, and readings sent unconfirmed
 * meanwhile would count as delivered at the next ACK): the in-flight readings are queued again, routine
 * sending stops (saving airtime), and only a confirmed probe — the oldest
 * alarm, or else the next routine batch — goes out, with exponential back-off
 * up to 4 h. The first ACK or downlink ends the outage and the backlog
 * follows in order, as batches carrying each reading's age.
 * Consequence: a reading is never lost, but one sent unconfirmed in the hours
 * between the last ACK and the start of an outage (or before a power cut) may
 * arrive twice; both copies carry the same measurement time (receive time −
 * ageS), so a backend can drop the second.
 *
 * Modem faults: busy / no-channel → stop, retry next wake; not-joined (the
 * modem rebooted and lost its session) → rejoin with back-off and go on;
 * length → retry with fewer batch entries; timeout → counted, retried (twice
 * per wake at most), except on a confirmed uplink, where it is a nack (no ACK
 * came in time: the modem's duty-cycle-paced retransmissions can outlast the
 * driver's wait); nack → back-off as above; anything else → next wake.
 *
 * Time. "Link time" is the RTC's ms since power-on plus a base kept in RTC
 * memory. After a power cut (RTC memory lost, RTC restarted) the base is set
 * so that link time resumes one second after the newest time found in flash:
 * the time the node was unpowered is unknown and not counted — ages of
 * readings queued before the cut come out too small by that time, and no
 * ledger window stretches over the cut. The RTC runs on the ESP32's RC
 * oscillator, which can run fast by its error (tenths of a percent), and a
 * window measured in link time is then that much shorter in real time: the
 * ledgers plan the traffic, and the modem, whose LoRaWAN stack enforces the
 * duty cycle on its own crystal, guards the regulatory limit.
 *
 * RTC memory. The node owns the one retained block (`native:sleep` retain);
 * it hands the link a slice of `LINK_RETAINED_WORDS` words of its
 * RetainedState. The link loads it in the constructor and writes it back at
 * the end of every `submit` and `flush`; the node keeps the block before deep
 * sleep. Without a slice (or after a power cut) the link starts cold from
 * flash. Received downlinks are held in RAM only: take them after `flush()`
 * in the same wake.
 *
 * Flash besides the queue: "sa"/"sb" in domain "lq" hold, alternately, a
 * 60-byte snapshot (delivered-through pointer, coarse fair-use, duty-cycle and
 * join-ledger copies; CRC-32), written before every join attempt (join.ts;
 * with the off time the attempt will cause), and after a flush in which the
 * delivered pointer moved or 5 s of airtime were spent since the last
 * snapshot — about ten a day once joined.
 */
import Preference from "preference";
import { ModemError, type LoRaModem, type ModemFault, type ModemSettings, type Region } from "../drivers/lora-modem.ts";
import type { LinkDownlink, LinkPort, MessageKind } from "../nodes/link-port.ts";
import { crc32 } from "./crc32.ts";
import { DUTY_WORDS, DutyCycleLedger } from "./duty-cycle.ts";
import { FAIR_USE_WORDS, FairUseLedger, TTN_FAIR_USE, effectiveIntervalS, type FairUsePolicy } from "./fair-use.ts";
import { DEFAULT_JOIN_BACKOFF, JOIN_FLASH_BYTES, JOIN_WORDS, JoinLedger, type JoinBackoff } from "./join.ts";
import { alarmLayout, getBits, putBits, routineLayout } from "./messages.ts";
import { REGIONS, dataRate, joinAirtimeAt, maxAppPayload, uplinkAirtimeAt } from "./regions.ts";
import { getLong, putLong, wordsChecksum } from "./state-words.ts";
import {
  DEFAULT_PRIORITY_SLOTS, DEFAULT_QUEUE_PAGES, PRIORITY_PAYLOAD_MAX, QUEUE_DOMAIN, QUEUE_WORDS, UplinkQueue, keptDropped, keptQueueDepth,
} from "./uplink-queue.ts";

/** Options of `LoRaWanLink`. */
export interface LoRaWanLinkOptions {
  modem: LoRaModem;
  /** Keys from provisioning (provisioning.ts), region, ADR, data rate. */
  settings: ModemSettings;
  /** Region (default `settings.region`). */
  region?: Region;
  /** RTC milliseconds since power-on, continuing through deep sleep (`native:rtc` rtcMs). */
  nowMs: () => number;
  /** Blocks for `ms` (Moddable `Timer.delay`). */
  delay: (ms: number) => void;
  /** 32 random bits (`native:rtc` randomU32). */
  random: () => number;
  /** `LINK_RETAINED_WORDS` words of RTC memory the node keeps through deep sleep. */
  retained?: Int32Array;
  /** Sealed queue pages (capacity = 16 × pages readings; default 48). */
  queuePages?: number;
  /** Slots for alarms, acks and status messages (default 16). */
  prioritySlots?: number;
  fairUse?: FairUsePolicy;
  joinBackoff?: JoinBackoff;
  /** Uplinks per flush at most (default 8). */
  maxUplinksPerFlush?: number;
  /** Longest total wait (duty cycle, back-off) inside one flush, ms (default 30 000). */
  maxFlushWaitMs?: number;
  /** Join attempts per flush at most (default 2). */
  maxJoinsPerFlush?: number;
  /** Confirmed checkpoint for routine readings at least this often, ms (default 4 h). */
  checkpointMs?: number;
  /** Checkpoint also when this many readings are in flight (default 32). */
  checkpointReadings?: number;
  /**
   * Confirmed routine uplinks as delivery checkpoints and outage probes
   * (default true). False: only alarms ever go confirmed; routine readings
   * count as delivered once sent and are never held back, so a silent outage
   * loses what was sent during it.
   */
  confirmRoutine?: boolean;
  /** Confirmed attempts of one alarm per flush (default 3). */
  alarmAttemptsPerFlush?: number;
  /** A lone reading this fresh (s) goes as a plain reading with its extension instead of a batch (default 120). */
  freshS?: number;
  /**
   * Transmissions a modem makes for one confirmed uplink that gets no ACK
   * (its own retries): charged to the fair-use ledger on a nack. Default: 4
   * for the Wio-E5 (AT+RETRY 3), 1 otherwise (RUI3's AT+RETY defaults to 0).
   */
  confirmedTransmissions?: number;
}

/** Counters of the current boot, for reports and tests. */
export interface LinkStats {
  uplinks: number;
  confirmed: number;
  acked: number;
  nacks: number;
  joinAttempts: number;
  joins: number;
  rejoins: number;
  busy: number;
  noChannel: number;
  timeouts: number;
  lengthErrors: number;
  otherErrors: number;
  downlinks: number;
  airtimeUs: number;
  snapshots: number;
  outages: number;
  /** Readings settled as delivered by an ACK or a downlink. */
  verified: number;
}

// RTC word layout.
/** LoRaWAN Class A RX1 delay at its shortest (RECEIVE_DELAY1 1 s; a Join-Accept's RxDelay 0 also means 1 s). */
const RX1_DELAY_MIN_MS = 1000;
/** Kept off the modem's quiet time after an uplink starts, against clock differences between MCU and modem. */
const QUIET_MARGIN_MS = 50;
const MAGIC = 0x4c4e4b31; // "LNK1"
const W_MAGIC = 0;
const W_SUM = 1;
const W_BASE = 2;
const W_FLAGS = 3;
const W_DR = 4;
const W_NACKS = 5;
const W_VERIFIED = 6; // 2 words
const W_CONFIRM_NEXT = 8; // 2 words
const W_SNAP_KEY = 10;
const W_SNAP_COUNT = 11;
const W_AIR_CLAIM = 12;
const W_SNAP_TAIL = 13;
const W_LAYOUT = 14;
const W_DOWN_CLAIM = 15;
const W_QUEUE = 16;
const W_DUTY = W_QUEUE + QUEUE_WORDS;
const W_FAIR = W_DUTY + DUTY_WORDS;
const W_JOIN = W_FAIR + FAIR_USE_WORDS;
/** Words of RTC memory the link needs (`retained` option). */
export const LINK_RETAINED_WORDS = W_JOIN + JOIN_WORDS;

const F_JOINED = 1;
const F_OUTAGE = 2;

// Flash snapshot layout.
const SNAP_MAGIC = 0x5b;
const SNAP_JOIN = 28;
const SNAP_BYTES = SNAP_JOIN + JOIN_FLASH_BYTES + 4;

const HOUR_MS = 3600000;
/**
 * Unacknowledged confirmed uplinks in a row that are charged a downlink. The
 * rest of a streak are not: the probe back-off (30 s, 1 min, 2 min, then
 * 15 min doubling to 4 h) bounds them to about a dozen a day, which is what
 * the ledger can undercount only if the network hears every probe and every
 * ACK is lost.
 */
const UNACKED_CHARGED = 2;
const MAX_DOWNLINKS = 8;
/** Airtime a fair-use claim covers beyond the transmission that needs it. */
const AIR_SLACK_MS = 3000;
/** Share of the routine budget `routineIntervalS` plans for. */
const PLAN_PCT = 80;
/** A join takes its airtime plus JOIN_ACCEPT_DELAY2 (6 s) and the RX2 window before the modem answers. */
const JOIN_WINDOW_MS = 7000;

/** What one flush is about to send. */
interface Outgoing {
  /** Priority slot, or −1 for routine readings. */
  slot: number;
  /** Routine readings carried. */
  count: number;
  port: number;
  length: number;
  /** 1 alarm, 2 ack, 3 status, 4 routine. */
  kind: number;
  confirmed: boolean;
  /** Link ms before which it may not go (confirmed back-off). */
  notBeforeMs: number;
  carriesOverflow: boolean;
  /** Data rate to send it at: the modem's, or a slower one's successor where a priority message needs more room (#fitDr). */
  dr: number;
}

function faultOf(e: unknown): ModemFault {
  return e instanceof ModemError ? e.fault : "error";
}

/**
 * The lowest data rate above `dr` that carries `length` bytes (payload limit
 * and dwell time), or −1. A priority message too long for the modem's data
 * rate goes there (US915 DR0 takes 11 bytes: alarms go at DR1).
 */
function fitDr(region: Region, dr: number, length: number): number {
  const plan = REGIONS[region];
  for (let d = dr + 1; d < plan.rates.length; d++) {
    if (plan.rates[d].maxPayload < length) continue;
    if (plan.dwellUs && uplinkAirtimeAt(region, d, length) > plan.dwellUs) continue;
    return d;
  }
  return -1;
}

/** `LoRaWanLink.maxPayload()` at data rate `dr`. */
export function linkMaxPayload(region: Region, dr: number): number {
  let n = maxAppPayload(region, dr);
  if (n < PRIORITY_PAYLOAD_MAX && fitDr(region, dr, PRIORITY_PAYLOAD_MAX) >= 0) n = PRIORITY_PAYLOAD_MAX;
  return n > PRIORITY_PAYLOAD_MAX ? PRIORITY_PAYLOAD_MAX : n;
}

/*
 * The link as its RTC words (`retained`) describe it, for a boot that may not
 * need the link at all (a wake with nothing to send): building it reads the
 * open queue page from flash and sets up ledgers, and the node's modem driver
 * with it. These read the words `#save` wrote, without flash or modem.
 */

/**
 * Whether `words` would restore warm in a link with `queuePages` and
 * `prioritySlots` (magic, layout, checksum, queue indices in order). The
 * queue's check of its open page against flash is left to the link, when it
 * is built: only the link writes that page. `checked`: the words come from a
 * RetainedState segment whose checksum covered them and only the link's
 * `#save` writes them, so the link's own checksum over the same words is
 * skipped.
 */
export function retainedLinkWarm(words: Int32Array, queuePages = DEFAULT_QUEUE_PAGES, prioritySlots = DEFAULT_PRIORITY_SLOTS, checked = false): boolean {
  if (words.length < LINK_RETAINED_WORDS || words[W_MAGIC] !== MAGIC || words[W_LAYOUT] !== ((queuePages << 8) | prioritySlots)) return false;
  if (!checked && words[W_SUM] !== wordsChecksum(words, 2, LINK_RETAINED_WORDS)) return false;
  return keptQueueDepth(words, W_QUEUE, queuePages, prioritySlots) >= 0;
}

/** `queueDepth()` of the link warm `words` describe. */
export function retainedQueueDepth(words: Int32Array, queuePages = DEFAULT_QUEUE_PAGES, prioritySlots = DEFAULT_PRIORITY_SLOTS): number {
  return keptQueueDepth(words, W_QUEUE, queuePages, prioritySlots);
}

/** `dropped()` of the link warm `words` describe. */
export function retainedDropped(words: Int32Array): number {
  return keptDropped(words, W_QUEUE);
}

/** `dataRate` of the link warm `words` describe. */
export function retainedDataRate(words: Int32Array): number {
  return words[W_DR];
}

/** `joined` of the link warm `words` describe. */
export function retainedJoined(words: Int32Array): boolean {
  return (words[W_FLAGS] & F_JOINED) !== 0;
}

/** Whether a flush would write the flash snapshot even with nothing to send (the delivered pointer moved since the last one). */
export function retainedSnapshotDue(words: Int32Array): boolean {
  return words[W_QUEUE + 1] !== words[W_SNAP_TAIL];
}

/** The LoRaWAN link. */
export class LoRaWanLink implements LinkPort {
  readonly region: Region;
  /**
   * Whether the modem answered the last flush's probe: false when it timed out (a module answering nothing is what
   * its reset line is for), undefined when that flush had nothing to send and asked nothing.
   */
  modemHeard: boolean | undefined;
  readonly stats: LinkStats = {
    uplinks: 0, confirmed: 0, acked: 0, nacks: 0, joinAttempts: 0, joins: 0, rejoins: 0, busy: 0, noChannel: 0,
    timeouts: 0, lengthErrors: 0, otherErrors: 0, downlinks: 0, airtimeUs: 0, snapshots: 0, outages: 0, verified: 0,
  };
  readonly #modem: LoRaModem;
  readonly #settings: ModemSettings;
  readonly #nowMs: () => number;
  readonly #delay: (ms: number) => void;
  readonly #random: () => number;
  readonly #words: Int32Array;
  readonly #external: Int32Array | undefined;
  readonly #queue: UplinkQueue;
  readonly #duty: DutyCycleLedger;
  readonly #fair: FairUseLedger;
  readonly #join: JoinLedger;
  readonly #opt: {
    maxUplinks: number; maxWaitMs: number; maxJoins: number; checkpointMs: number; checkpointReadings: number;
    alarmAttempts: number; freshS: number; confirmedTx: number; confirmRoutine: boolean;
  };
  readonly #downlinks: LinkDownlink[] = [];
  readonly #buf = new Uint8Array(256);
  readonly #out: Outgoing = { slot: -1, count: 0, port: 0, length: 0, kind: 0, confirmed: false, notBeforeMs: 0, carriesOverflow: false, dr: 0 };
  /** Whether this boot started from RTC memory. */
  readonly warm: boolean;
  #baseS = 0;
  #flags = 0;
  #dr: number;
  #nackStreak = 0;
  #verifiedMs = 0;
  #confirmNextMs = 0;
  #snapKey = 0;
  #snapCount = 0;
  /** Airtime (ms in 24 h) and downlinks the flash snapshot claims: after a power cut they count as spent. */
  #airClaimMs = 0;
  #downClaim = 0;
  #snapTail = 0;
  // Per flush.
  #waitLeft = 0;
  #capLen = 255;
  #skip = 0;
  #timeouts = 0;
  #alarmTries = 0;
  #configured = false;

  constructor(options: LoRaWanLinkOptions) {
    this.#modem = options.modem;
    this.#settings = options.settings;
    this.region = options.region ?? options.settings.region;
    if (!REGIONS[this.region]) throw new RangeError("unknown region " + this.region);
    this.#nowMs = options.nowMs;
    this.#delay = options.delay;
    this.#random = options.random;
    this.#opt = {
      maxUplinks: options.maxUplinksPerFlush ?? 8,
      maxWaitMs: options.maxFlushWaitMs ?? 30000,
      maxJoins: options.maxJoinsPerFlush ?? 2,
      checkpointMs: options.checkpointMs ?? 4 * HOUR_MS,
      checkpointReadings: options.checkpointReadings ?? 32,
      confirmRoutine: options.confirmRoutine ?? true,
      alarmAttempts: options.alarmAttemptsPerFlush ?? 3,
      freshS: options.freshS ?? 120,
      confirmedTx: options.confirmedTransmissions ?? (options.modem.model === "wio-e5" ? 4 : 1),
    };
    this.#queue = new UplinkQueue({ pages: options.queuePages, prioritySlots: options.prioritySlots });
    this.#duty = new DutyCycleLedger(this.region);
    this.#fair = new FairUseLedger(options.fairUse ?? TTN_FAIR_USE);
    this.#join = new JoinLedger(options.joinBackoff ?? DEFAULT_JOIN_BACKOFF);
    this.#dr = options.settings.dataRate;
    this.#external = options.retained;
    if (options.retained && options.retained.length < LINK_RETAINED_WORDS) throw new RangeError("retained needs " + LINK_RETAINED_WORDS + " words");
    this.#words = new Int32Array(LINK_RETAINED_WORDS);
    if (options.retained) this.#words.set(options.retained.subarray(0, LINK_RETAINED_WORDS));
    this.warm = this.#restoreWarm() || this.#restoreCold();
    this.#save();
  }

  // ---- time ----

  /** Link time in ms (see the module comment). */
  linkMs(): number {
    return this.#baseS * 1000 + this.#nowMs();
  }

  #linkS(): number {
    return Math.floor(this.linkMs() / 1000);
  }

  // ---- persistence ----

  #layoutTag(): number {
    return (this.#queue.pages << 8) | this.#queue.slots;
  }

  #restoreWarm(): boolean {
    const w = this.#words;
    if (!this.#external || w[W_MAGIC] !== MAGIC || w[W_LAYOUT] !== this.#layoutTag()) return false;
    if (w[W_SUM] !== wordsChecksum(w, 2, LINK_RETAINED_WORDS)) return false;
    // RTC indices that do not match flash (should not happen) only cost a scan; the ledgers stay.
    if (!this.#queue.restore(w, W_QUEUE)) this.#queue.scan(w[W_QUEUE + 1] >>> 0);
    this.#baseS = w[W_BASE];
    this.#flags = w[W_FLAGS];
    this.#dr = w[W_DR];
    this.#nackStreak = w[W_NACKS];
    this.#verifiedMs = getLong(w, W_VERIFIED);
    this.#confirmNextMs = getLong(w, W_CONFIRM_NEXT);
    this.#snapKey = w[W_SNAP_KEY] & 1;
    this.#snapCount = w[W_SNAP_COUNT] >>> 0;
    this.#airClaimMs = w[W_AIR_CLAIM];
    this.#downClaim = w[W_DOWN_CLAIM];
    this.#snapTail = w[W_SNAP_TAIL] >>> 0;
    this.#duty.load(w, W_DUTY);
    this.#fair.load(w, W_FAIR);
    this.#join.load(w, W_JOIN);
    return true;
  }

  #readSnapshot(): DataView | undefined {
    let best: DataView | undefined;
    for (let k = 0; k < 2; k++) {
      const v = Preference.get(QUEUE_DOMAIN, k ? "sb" : "sa");
      if (!(v instanceof ArrayBuffer) || v.byteLength !== SNAP_BYTES) continue;
      const b = new Uint8Array(v);
      const view = new DataView(v);
      if (b[0] !== SNAP_MAGIC || b[1] !== 1 || view.getUint32(SNAP_BYTES - 4, true) !== crc32(b, 0, SNAP_BYTES - 4)) continue;
      if (!best || view.getUint32(4, true) > best.getUint32(4, true)) {
        best = view;
        this.#snapKey = k;
      }
    }
    return best;
  }

  #restoreCold(): boolean {
    const snap = this.#readSnapshot();
    this.#queue.scan(snap ? snap.getUint32(12, true) : 0);
    let maxS = this.#queue.maxTimeS;
    if (snap && snap.getUint32(8, true) > maxS) maxS = snap.getUint32(8, true);
    this.#baseS = maxS + 1 - Math.floor(this.#nowMs() / 1000);
    const now = this.linkMs();
    this.#verifiedMs = now;
    if (snap) {
      this.#snapCount = snap.getUint32(4, true);
      this.#snapTail = snap.getUint32(12, true);
      // The claims, charged to now: every uplink since the snapshot was checked against them, so they bound
      // what was spent in any 24 h ending now (the argument of join.ts), and now is the latest it can count.
      this.#airClaimMs = snap.getUint32(16, true);
      this.#downClaim = snap.getUint32(20, true);
      this.#fair.recordUplink(now, this.#airClaimMs * 1000);
      this.#fair.recordDownlink(now, this.#downClaim);
      this.#fair.drainTokens(now);
      // When the last frame before the cut ended is unknown: treat the sub-band as if the longest frame the
      // region allows at its slowest rate (51 bytes at SF12: 2.8 s, 4.6 min off) had just ended.
      this.#duty.blockUntil(snap.getUint32(24, true) * 1000);
      this.#duty.record(uplinkAirtimeAt(this.region, 0, maxAppPayload(this.region, 0)), now);
      this.#join.fromFlash(snap, SNAP_JOIN, now, this.#random);
    }
    return false;
  }

  #save(): void {
    const w = this.#words;
    w[W_MAGIC] = MAGIC;
    w[W_BASE] = this.#baseS;
    w[W_FLAGS] = this.#flags;
    w[W_DR] = this.#dr;
    w[W_NACKS] = this.#nackStreak;
    putLong(w, W_VERIFIED, this.#verifiedMs);
    putLong(w, W_CONFIRM_NEXT, this.#confirmNextMs);
    w[W_SNAP_KEY] = this.#snapKey;
    w[W_SNAP_COUNT] = this.#snapCount | 0;
    w[W_AIR_CLAIM] = this.#airClaimMs;
    w[W_SNAP_TAIL] = this.#snapTail | 0;
    w[W_LAYOUT] = this.#layoutTag();
    w[W_DOWN_CLAIM] = this.#downClaim;
    this.#queue.save(w, W_QUEUE);
    this.#duty.save(w, W_DUTY);
    this.#fair.save(w, W_FAIR);
    this.#join.save(w, W_JOIN);
    w[W_SUM] = wordsChecksum(w, 2, LINK_RETAINED_WORDS);
    if (this.#external) this.#external.set(w);
  }

  /**
   * Writes the flash snapshot (into the older of sa/sb). `pendingMs`: link ms
   * until which a transmission about to start will block the sub-band, so a
   * power cut during it cannot forget the off time.
   */
  #writeSnapshot(pendingMs = 0): boolean {
    const now = this.linkMs();
    const b = new Uint8Array(SNAP_BYTES);
    const v = new DataView(b.buffer);
    b[0] = SNAP_MAGIC;
    b[1] = 1;
    v.setUint32(4, (this.#snapCount + 1) >>> 0, true);
    v.setUint32(8, Math.floor(now / 1000), true);
    v.setUint32(12, this.#queue.tail, true);
    const air = this.#fair.airtimeMs(now);
    const down = this.#fair.downlinks(now);
    if (air > this.#airClaimMs) this.#airClaimMs = air;
    if (down > this.#downClaim) this.#downClaim = down;
    v.setUint32(16, this.#airClaimMs, true);
    v.setUint32(20, this.#downClaim, true);
    const ready = this.#duty.readyMs() > pendingMs ? this.#duty.readyMs() : pendingMs;
    v.setUint32(24, Math.floor((ready + 999) / 1000), true);
    this.#join.toFlash(v, SNAP_JOIN);
    v.setUint32(SNAP_BYTES - 4, crc32(b, 0, SNAP_BYTES - 4), true);
    const key = this.#snapKey ^ 1;
    try {
      Preference.set(QUEUE_DOMAIN, key ? "sb" : "sa", b.buffer);
    } catch {
      return false;
    }
    this.#snapKey = key;
    this.#snapCount = (this.#snapCount + 1) >>> 0;
    this.#snapTail = this.#queue.tail;
    this.stats.snapshots++;
    return true;
  }

  // ---- LinkPort ----

  submit(port: number, bytes: Uint8Array, length: number, kind: MessageKind): boolean {
    if (!(length >= 1 && length <= bytes.length)) return false;
    const t = this.#linkS();
    let ok: boolean;
    try {
      ok = kind === "routine" ? this.#queue.appendRoutine(port, bytes, length, t) : this.#queue.appendPriority(kind, port, bytes, length, t);
    } catch {
      ok = false;
    }
    this.#save();
    return ok;
  }

  /**
   * The longest message the link can send: the current data rate's maximum,
   * or more where alarms, acks and status go at a faster rate (#fitDr; US915
   * DR0: 51, not 11), capped at 51. Routine readings longer than the current
   * rate allows go as their core bytes.
   */
  maxPayload(): number {
    return linkMaxPayload(this.region, this.#dr);
  }

  takeDownlink(): LinkDownlink | undefined {
    return this.#downlinks.shift();
  }

  downlinksWaiting(): number {
    return this.#downlinks.length;
  }

  queueDepth(): number {
    return this.#queue.routineWaiting() + this.#queue.priorityCount();
  }

  dropped(): number {
    return this.#queue.dropped;
  }

  /** Routine readings sent but not yet known to be delivered (kept until verified). */
  inFlight(): number {
    return this.#queue.inFlight();
  }

  /** The link suspects a network outage and holds routine readings back. */
  get outage(): boolean {
    return (this.#flags & F_OUTAGE) !== 0;
  }

  /** The modem holds a session, as far as the link knows. */
  get joined(): boolean {
    return (this.#flags & F_JOINED) !== 0;
  }

  /** Data rate last reported by the modem. */
  get dataRate(): number {
    return this.#dr;
  }

  /** Routine readings the queue holds at most. */
  get capacity(): number {
    return this.#queue.capacity;
  }

  /**
   * The routine interval the node can afford at the current data rate under
   * the fair-use budget: `configuredS`, or longer (fair-use.ts), planned on
   * 80 % of the routine share so that a backlog (after an outage) still drains.
   * `port` is the routine reading's fPort; `statusBytes` the daily status
   * message's size. The node should sample at this interval: the link never
   * exceeds the budget anyway, but readings beyond it would pile up and the
   * oldest would be dropped.
   */
  routineIntervalS(configuredS: number, port: number, statusBytes = 13): number {
    const max = maxAppPayload(this.region, this.#dr);
    const layout = routineLayout(port);
    const core = layout ? layout.coreBytes : 11;
    const status = uplinkAirtimeAt(this.region, this.#dr, statusBytes);
    const single = uplinkAirtimeAt(this.region, this.#dr, core);
    const policy = this.#fair.policy;
    const plain = effectiveIntervalS(configuredS, single, status, policy, PLAN_PCT);
    if (plain === configuredS || !layout || !layout.batchPort || layout.entryBytes > max) return plain;
    let k = Math.floor(max / layout.entryBytes);
    if (k > layout.maxEntries) k = layout.maxEntries;
    const perReading = Math.floor((uplinkAirtimeAt(this.region, this.#dr, k * layout.entryBytes) + k - 1) / k);
    return effectiveIntervalS(configuredS, perReading, status, policy, PLAN_PCT);
  }

  flush(): void {
    this.modemHeard = undefined;
    this.#waitLeft = this.#opt.maxWaitMs;
    this.#capLen = 255;
    this.#skip = 0;
    this.#timeouts = 0;
    this.#alarmTries = 0;
    this.#configured = false;
    let awake = false;
    try {
      if (this.queueDepth() === 0) return;
      try {
        this.#modem.probe();
        awake = true;
        this.modemHeard = true;
      } catch (e) {
        const fault = faultOf(e);
        this.#count(fault);
        this.modemHeard = fault !== "timeout";
        return;
      }
      if (!this.joined) {
        let has = false;
        try {
          has = this.#modem.joined();
        } catch {
          has = false;
        }
        if (has) this.#flags |= F_JOINED;
        else if (!this.#joinNow()) return;
      }
      this.#sendLoop();
    } finally {
      if (awake) {
        try {
          this.#modem.sleep();
        } catch {
          // The modem wakes on the next command anyway.
        }
      }
      if (this.#queue.tail !== this.#snapTail) this.#writeSnapshot();
      this.#save();
    }
  }

  // ---- internals ----

  #count(fault: ModemFault): void {
    const s = this.stats;
    if (fault === "busy") s.busy++;
    else if (fault === "no-channel") s.noChannel++;
    else if (fault === "timeout") s.timeouts++;
    else if (fault === "length") s.lengthErrors++;
    else if (fault === "nack") s.nacks++;
    else s.otherErrors++;
  }

  /** Waits until link ms `t` if that fits what is left of the flush's waiting budget. */
  #waitUntil(t: number): boolean {
    const now = this.linkMs();
    if (t <= now) return true;
    if (t - now > this.#waitLeft) return false;
    this.#waitLeft -= t - now;
    this.#delay(t - now);
    return true;
  }

  #readDr(): number {
    try {
      const dr = this.#modem.dataRate();
      if (dataRate(this.region, dr)) this.#dr = dr;
    } catch (e) {
      this.#count(faultOf(e));
      return -1;
    }
    return this.#dr;
  }

  /** Join attempts within the back-off; true once joined. */
  #joinNow(): boolean {
    if (!this.#configured) {
      try {
        this.#modem.configure(this.#settings);
        this.#configured = true;
      } catch (e) {
        this.#count(faultOf(e));
        return false;
      }
    }
    // The spread is waited for in this wake, on top of the flush's budget for duty-cycle waits.
    this.#waitLeft += this.#join.spreadFirst(this.linkMs(), this.#random);
    for (let i = 0; i < this.#opt.maxJoins; i++) {
      const dr = this.#readDr();
      if (dr < 0) return false;
      const airtime = joinAirtimeAt(this.region, dr);
      const now = this.linkMs();
      let t = this.#join.earliestMs(now, airtime);
      if (this.#duty.readyMs() > t) t = this.#duty.readyMs();
      if (!this.#fair.allowsOther(t, airtime)) return false;
      if (!this.#waitUntil(t)) return false;
      const start = this.linkMs();
      // The flash copy must cover this attempt before it goes on air (a power cut must not forget it).
      const joinClaim = this.#join.needsFlashClaim(start, airtime);
      this.#claim(start, airtime, 1, joinClaim, this.#duty.applies ? start + JOIN_WINDOW_MS + Math.floor((airtime * 100 + 999) / 1000) : 0);
      this.#join.recordAttempt(start, airtime);
      this.#fair.recordUplink(start, airtime);
      this.stats.joinAttempts++;
      this.stats.airtimeUs += airtime;
      let ok = false;
      try {
        ok = this.#modem.join();
      } catch (e) {
        this.#count(faultOf(e));
      }
      const end = this.linkMs();
      this.#duty.record(airtime, end);
      if (ok) {
        this.#join.succeeded(end);
        this.#fair.recordDownlink(end);
        this.#flags |= F_JOINED;
        this.stats.joins++;
        // A join-accept shows the network hears the node now; earlier in-flight readings stay unverified.
        this.#flags &= ~F_OUTAGE;
        this.#nackStreak = 0;
        this.#confirmNextMs = 0;
        this.#readDr();
        return true;
      }
      this.#join.failed(end, this.#random);
    }
    return false;
  }

  /**
   * Before a transmission of `airtimeUs` at `t` that may bring `downlinks`
   * downlinks: makes the flash snapshot claim enough airtime and downlinks to
   * cover it (with 3 s and one downlink of slack, so about one write per 3 s
   * of airtime), or writes it anyway when `force` (a join claim).
   */
  #claim(t: number, airtimeUs: number, downlinks: number, force: boolean, pendingMs = 0): void {
    const air = this.#fair.airtimeMs(t) + Math.floor((airtimeUs + 999) / 1000);
    const down = this.#fair.downlinks(t) + downlinks;
    if (!force && air <= this.#airClaimMs && down <= this.#downClaim) return;
    if (air > this.#airClaimMs) this.#airClaimMs = air + AIR_SLACK_MS;
    if (down > this.#downClaim) this.#downClaim = down + 1;
    this.#writeSnapshot(pendingMs);
  }

  /** Back-off before the next confirmed uplink after `streak` unacknowledged ones: 30 s, 60 s, 120 s, then 15 min doubling to 4 h; jittered. */
  #confirmBackoffMs(streak: number): number {
    let d: number;
    if (streak <= 3) d = 30000 << (streak - 1);
    else {
      d = 15 * 60000;
      for (let i = 4; i < streak && d < 4 * HOUR_MS; i++) d *= 2;
      if (d > 4 * HOUR_MS) d = 4 * HOUR_MS;
    }
    const half = d >> 1;
    return half + ((this.#random() >>> 0) % (d - half + 1));
  }

  #sendLoop(): void {
    for (let n = 0; n < this.#opt.maxUplinks; n++) {
      const dr = this.#readDr();
      if (dr < 0) return;
      let maxLen = maxAppPayload(this.region, dr);
      if (maxLen > this.#capLen) maxLen = this.#capLen;
      const now = this.linkMs();
      if (!this.#prepare(maxLen, now, dr)) return;
      const out = this.#out;
      let airtime = uplinkAirtimeAt(this.region, out.dr, out.length);
      const plan = REGIONS[this.region];
      if (plan.dwellUs && airtime > plan.dwellUs) {
        this.#capLen = out.length - 1;
        n--;
        if (this.#capLen < 1) return;
        continue;
      }
      let t = out.notBeforeMs;
      if (out.kind === 1) {
        if (!this.#fair.allowsAlarm(now, airtime)) return;
      } else if (out.kind === 4) {
        const ready = this.#fair.routineReadyMs(now, airtime);
        if (ready > t) t = ready;
        if (!this.#fair.allowsOther(now, airtime)) return;
      } else if (!this.#fair.allowsOther(now, airtime)) return;
      if (this.#duty.readyMs() > t) t = this.#duty.readyMs();
      if (!this.#waitUntil(t)) return;
      // Ages count to the moment of sending: build the frame again after the wait (same selection, same length).
      if (t > now) {
        if (!this.#prepare(maxLen, this.linkMs(), dr)) return;
        airtime = uplinkAirtimeAt(this.region, out.dr, out.length);
      }
      if (out.kind === 4 && !this.#fair.allowsRoutine(this.linkMs(), airtime)) return;
      if (!this.#transmit(airtime, dr)) return;
    }
  }

  #fitDr(dr: number, length: number): number {
    return fitDr(this.region, dr, length);
  }

  /** Fills `#out` and `#buf` with the next message at most `maxLen` bytes at the modem's rate `dr`; false when nothing can go now. */
  #prepare(maxLen: number, now: number, dr: number): boolean {
    const q = this.#queue;
    const out = this.#out;
    const buf = this.#buf;
    const outage = this.outage;
    const nowS = Math.floor(now / 1000);
    const confirmable = this.#fair.confirmedAllowed(now);
    const probeDue = confirmable && now >= this.#confirmNextMs;
    out.notBeforeMs = 0;
    out.carriesOverflow = false;
    out.dr = dr;
    // Alarms, acks, status.
    for (;;) {
      const p = q.nextPriority(this.#skip);
      if (!p) break;
      out.dr = dr;
      if (p.length > maxLen) {
        // Too long for this data rate: send it at the lowest one where it fits (then ADR's rate resumes).
        const up = p.length <= this.#capLen ? this.#fitDr(dr, p.length) : -1;
        if (up < 0) {
          this.#skip |= 1 << p.slot; // waits for a faster data rate; others may go meanwhile
          continue;
        }
        out.dr = up;
      }
      const probe = outage && (p.kind === 1 || this.#opt.confirmRoutine);
      if (probe && !probeDue) {
        if (this.#opt.confirmRoutine) return false; // hold everything until the next probe
        this.#skip |= 1 << p.slot; // only alarms wait for it; the rest goes unconfirmed
        continue;
      }
      out.slot = p.slot;
      out.count = 0;
      out.port = p.port;
      out.length = p.length;
      out.kind = p.kind;
      out.confirmed = probe || (p.kind === 1 && confirmable);
      if (out.confirmed && p.kind === 1 && !outage) {
        if (this.#alarmTries >= this.#opt.alarmAttempts) return false;
        out.notBeforeMs = this.#confirmNextMs;
      }
      buf.fill(0, 0, p.length);
      buf.set(p.bytes.subarray(0, p.length));
      const layout = p.kind === 1 ? alarmLayout(p.port) : undefined;
      if (layout) {
        if (layout.ageBit >= 0) {
          const max = layout.ageBits >= 31 ? 0x7fffffff : (1 << layout.ageBits) - 1;
          const waited = nowS > p.timeS ? nowS - p.timeS : 0;
          let age = getBits(buf, 0, layout.ageBit, layout.ageBits) + waited;
          if (age > max) age = max;
          putBits(buf, 0, layout.ageBit, layout.ageBits, age);
        }
        if (q.overflow && layout.overflowBit >= 0) {
          putBits(buf, 0, layout.overflowBit, 1, 1);
          out.carriesOverflow = true;
        }
      }
      return true;
    }
    // Routine backlog.
    out.dr = dr;
    while (q.routineWaiting() > 0 && !q.routineAt(q.sent)) q.skipUnreadable();
    if (q.routineWaiting() === 0) return false;
    const hold = outage && this.#opt.confirmRoutine;
    if (hold && !probeDue) return false;
    const first = q.routineAt(q.sent)!;
    const layout = routineLayout(first.port);
    const waiting = q.routineWaiting();
    const fresh = waiting === 1 && nowS - first.timeS <= this.#opt.freshS;
    out.slot = -1;
    out.kind = 4;
    if (!layout || !layout.batchPort || first.length < layout.coreBytes || fresh || layout.entryBytes > maxLen) {
      // One plain reading: whole (with its extension) if it fits, else its core.
      let len = first.length;
      if (len > maxLen) len = layout && layout.coreBytes <= maxLen && first.length >= layout.coreBytes ? layout.coreBytes : 0;
      if (len === 0) return false;
      buf.set(first.bytes.subarray(0, len));
      if (q.overflow && layout && layout.overflowBit >= 0) {
        putBits(buf, 0, layout.overflowBit, 1, 1);
        out.carriesOverflow = true;
      }
      out.port = first.port;
      out.length = len;
      out.count = 1;
    } else {
      let max = Math.floor(maxLen / layout.entryBytes);
      if (max > layout.maxEntries) max = layout.maxEntries;
      let k = 0;
      let at = 0;
      for (; k < max && k < waiting; k++) {
        const r = q.routineAt(q.sent + k);
        if (!r || r.port !== first.port || r.length < layout.coreBytes) break;
        let age = nowS > r.timeS ? nowS - r.timeS : 0;
        if (age > 0xffffff) age = 0xffffff;
        buf[at] = (age >>> 16) & 0xff;
        buf[at + 1] = (age >>> 8) & 0xff;
        buf[at + 2] = age & 0xff;
        buf.set(r.bytes.subarray(0, layout.coreBytes), at + 3);
        at += layout.entryBytes;
      }
      if (q.overflow && layout.entryOverflowBit >= 0) {
        putBits(buf, 0, layout.entryOverflowBit, 1, 1);
        out.carriesOverflow = true;
      }
      out.port = layout.batchPort;
      out.length = at;
      out.count = k;
    }
    const inFlight = q.inFlight() + out.count;
    const due = now - this.#verifiedMs >= this.#opt.checkpointMs || inFlight >= this.#opt.checkpointReadings;
    out.confirmed = this.#opt.confirmRoutine && (hold || (due && probeDue));
    return true;
  }

  /** Sends `#out` (the modem is at `dr`); true to go on with the next message. */
  #transmit(airtime: number, dr: number): boolean {
    const out = this.#out;
    const q = this.#queue;
    const boosted = out.dr !== dr;
    if (boosted) {
      try {
        this.#modem.setDataRate(out.dr);
      } catch (e) {
        this.#count(faultOf(e));
        return false;
      }
    }
    const start = this.linkMs();
    this.#claim(start, out.confirmed ? airtime * this.#opt.confirmedTx : airtime, out.confirmed ? 1 : 0, false);
    let fault: ModemFault | undefined;
    let downlink: LinkDownlink | undefined;
    if (out.confirmed) {
      this.stats.confirmed++;
      if (out.kind === 1) this.#alarmTries++;
    }
    try {
      // The earliest the modem can report more: the frame's time on air and the RX1 delay (≥ 1 s in every region).
      const r = this.#modem.send(out.port, this.#buf, out.length, out.confirmed, Math.floor(airtime / 1000) + RX1_DELAY_MIN_MS - QUIET_MARGIN_MS);
      const acked = r.acked;
      if (r.downlink) downlink = { port: r.downlink.port, bytes: r.downlink.bytes.slice() };
      // A downlink answers only an uplink the network heard, ACK or not.
      if (out.confirmed && !acked && !r.downlink) fault = "nack";
    } catch (e) {
      fault = faultOf(e);
    }
    if (boosted) {
      // Back to ADR's (or the configured) rate, unless the network moved the modem's rate meanwhile (LinkADRReq).
      try {
        if (this.#modem.dataRate() === out.dr) this.#modem.setDataRate(dr);
      } catch (e) {
        this.#count(faultOf(e));
      }
    }
    const end = this.linkMs();
    const onAir = !fault || fault === "nack" || fault === "timeout" || fault === "error";
    // A confirmed uplink that timed out saw no ACK in time either: the modem's retransmissions, each waiting for the
    // duty cycle, can outlast the driver's wait (4 tries of a 40-byte frame at SF8 take ~60 s in EU868).
    const unacked = fault === "nack" || (fault === "timeout" && out.confirmed);
    if (onAir) {
      // An unacknowledged confirmed uplink may have gone out once per modem retry (an ACKed one is counted once:
      // the modem does not say whether it needed a retry first).
      const spent = out.confirmed && fault ? airtime * this.#opt.confirmedTx : airtime;
      this.#fair.recordUplink(start, spent);
      if (out.kind === 4) this.#fair.spendRoutine(start, spent);
      // An unacknowledged confirmed uplink is charged a downlink (its ACK may have been lost), but only the first
      // UNACKED_CHARGED of a streak: after that the network is not hearing us and sends nothing, and charging every
      // probe of an outage spent the day's budget, leaving the node unable to probe for a day after a short outage.
      if (out.confirmed && !(unacked && this.#nackStreak >= UNACKED_CHARGED)) this.#fair.recordDownlink(start);
      this.#duty.record(airtime, end);
      this.stats.airtimeUs += spent;
    }
    if (downlink) {
      // In the clock the node runs on (`nowMs`, the RTC on a board), not link time: the node compares it with its own.
      downlink.atS = Math.floor(this.#nowMs() / 1000);
      if (!out.confirmed) this.#fair.recordDownlink(end);
      this.stats.downlinks++;
      if (this.#downlinks.length >= MAX_DOWNLINKS) this.#downlinks.shift();
      this.#downlinks.push(downlink);
    }
    if (!fault) {
      this.stats.uplinks++;
      if (out.confirmed) this.stats.acked++;
      if (out.slot >= 0) q.removePriority(out.slot);
      else {
        q.markSent(out.count);
        if (!this.#opt.confirmRoutine) q.verify();
      }
      if (out.carriesOverflow) q.clearOverflow();
      if (out.confirmed || downlink) this.#heard(end);
      return true;
    }
    this.#count(fault);
    switch (unacked ? "nack" : fault) {
      case "nack":
        this.#nackStreak++;
        this.#confirmNextMs = end + this.#confirmBackoffMs(this.#nackStreak);
        if (this.#nackStreak >= 1 && !this.outage) {
          this.#flags |= F_OUTAGE;
          this.stats.outages++;
          q.rewind();
        }
        return !this.outage;
      case "not-joined":
        this.#flags &= ~F_JOINED;
        this.stats.rejoins++;
        return this.#joinNow();
      case "length":
        this.#capLen = out.length - 1;
        return this.#capLen > 0;
      case "timeout":
        this.#timeouts++;
        return this.#timeouts < 2;
      default:
        return false;
    }
  }

  /** The network heard the node at link ms `t`. */
  #heard(t: number): void {
    this.stats.verified += this.#queue.verify();
    this.#verifiedMs = t;
    this.#nackStreak = 0;
    this.#confirmNextMs = 0;
    this.#flags &= ~F_OUTAGE;
  }
}
