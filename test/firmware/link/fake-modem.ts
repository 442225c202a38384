/**
 * A scripted LoRaWAN modem for the link tests: implements `LoRaModem` without
 * any AT protocol, with a toy network behind it. It keeps its own books (every
 * transmission with start, airtime, frame counter and session), computed with
 * an independent floating-point AN1200.13 formula and its own DR table, so the
 * tests can check the link's ledgers against them:
 *
 * - joins succeed from the `joinAfter`-th attempt on (while the network is up);
 * - `outage(ms)` makes the network deaf: unconfirmed uplinks vanish silently
 *   (as with a real gateway outage), confirmed ones end in "nack", joins fail;
 * - random uplink loss and ACK loss;
 * - scripted faults for the next operations (busy, no-channel, timeout, …);
 * - `reboot()` loses the session: sends then fail with "not-joined";
 * - downlinks queued by the test (or generated per heard uplink) come back in RX1;
 * - ADR: `drAt(ms)` can move the data rate;
 * - like real modems it refuses a payload too long for the data rate ("length")
 *   and a transmission the EU868 duty cycle forbids ("no-channel", counted as a
 *   link bug in `dutyRefusals`).
 */
import { ModemError, type LoRaModem, type ModemDownlink, type ModemFault, type ModemSettings, type Region, type SendResult } from "../../../firmware/src/drivers/lora-modem.ts";
import type { VirtualClock } from "../../../simulator/src/core/clock.ts";
import { Rng } from "../../../simulator/src/core/rng.ts";

/** SF/BW per DR, written from RP002 independently of firmware/src/link/regions.ts. */
const SPEC: { [R in Region]: { sf: number; bw: number; max: number }[] } = {
  EU868: [[12, 125, 51], [11, 125, 51], [10, 125, 51], [9, 125, 115], [8, 125, 222], [7, 125, 222], [7, 250, 222]].map(([sf, bw, max]) => ({ sf, bw, max })),
  US915: [[10, 125, 11], [9, 125, 53], [8, 125, 125], [7, 125, 222], [8, 500, 222]].map(([sf, bw, max]) => ({ sf, bw, max })),
  AU915: [[12, 125, 51], [11, 125, 51], [10, 125, 51], [9, 125, 115], [8, 125, 222], [7, 125, 222], [8, 500, 222]].map(([sf, bw, max]) => ({ sf, bw, max })),
  AS923: [[12, 125, 51], [11, 125, 51], [10, 125, 115], [9, 125, 115], [8, 125, 222], [7, 125, 222], [7, 250, 222]].map(([sf, bw, max]) => ({ sf, bw, max })),
};

/** Float reference of AN1200.13 (ms), CR 4/5, preamble 8, explicit header, CRC on. */
export function referenceAirtimeMs(sf: number, bwKhz: number, phyBytes: number): number {
  const tSym = Math.pow(2, sf) / bwKhz; // ms
  const de = sf >= 11 && bwKhz === 125 ? 1 : 0;
  const n = 8 + Math.max(Math.ceil((8 * phyBytes - 4 * sf + 28 + 16) / (4 * (sf - 2 * de))) * 5, 0);
  return (8 + 4.25) * tSym + n * tSym;
}

export interface TxRecord {
  kind: "join" | "data";
  startMs: number;
  airtimeMs: number;
  dr: number;
  port: number;
  bytes: number[];
  confirmed: boolean;
  /** Session number (1, 2, … per successful join) and frame counter within it. */
  session: number;
  fCnt: number;
  /** The network heard it. */
  heard: boolean;
  acked: boolean;
  /** The network sent a downlink in reply (join-accept, ACK or command), heard or not: what TTN counts. */
  downlinkSent: boolean;
}

export interface Delivered {
  atMs: number;
  port: number;
  bytes: number[];
  session: number;
  fCnt: number;
}

export interface FakeModemOptions {
  /** An unacknowledged confirmed uplink ends in "timeout" (a driver that stopped waiting before the modem's retransmissions ended) instead of "nack". */
  unackedTimesOut?: boolean;
  clock: VirtualClock;
  region?: Region;
  seed?: number;
  /** Join succeeds from this attempt on (counted since construction or the last reboot). */
  joinAfter?: number;
  lossProbability?: number;
  ackLossProbability?: number;
  /** True while the network hears nothing. */
  outage?: (ms: number) => boolean;
  /** Data rate the network's ADR sets at a time (undefined: leave it). */
  drAt?: (ms: number) => number | undefined;
  /** Called for every heard uplink: a downlink to send in RX1, or undefined. */
  downlinkFor?: (tx: TxRecord) => ModemDownlink | undefined;
  /** Enforce the EU868 1 % duty cycle like a real modem (default true). */
  enforceDutyCycle?: boolean;
}

export class FakeModem implements LoRaModem {
  readonly model = "fake";
  readonly txs: TxRecord[] = [];
  readonly delivered: Delivered[] = [];
  /** Faults the next operations (send or join) throw, in order. */
  readonly script: ModemFault[] = [];
  /** Downlinks waiting for the next heard uplink. */
  readonly downlinks: ModemDownlink[] = [];
  readonly opts: FakeModemOptions;
  readonly region: Region;
  settings: ModemSettings | undefined;
  dutyRefusals = 0;
  /** ACKs to lose (the uplink is heard, its ACK is not): scripted nacks. */
  dropAcks = 0;
  configures = 0;
  probes = 0;
  #rng: Rng;
  #clock: VirtualClock;
  #joined = false;
  #session = 0;
  #fCnt = 0;
  #joinTries = 0;
  #dr = 0;
  #blockedUntil = 0;
  /** The modem is off (unpowered): every command times out. */
  off = false;

  constructor(opts: FakeModemOptions) {
    this.opts = opts;
    this.region = opts.region ?? "EU868";
    this.#clock = opts.clock;
    this.#rng = new Rng(opts.seed ?? 1);
  }

  get session(): number {
    return this.#session;
  }

  /** The modem restarts: the session is lost. */
  reboot(): void {
    this.#joined = false;
    this.#joinTries = 0;
  }

  #check(): void {
    if (this.off) {
      this.#clock.advance(2000);
      throw new ModemError("timeout", "no answer");
    }
  }

  #scripted(): void {
    const f = this.script.shift();
    if (f) {
      this.#clock.advance(50);
      throw new ModemError(f, "scripted " + f);
    }
  }

  #airtime(dr: number, phyBytes: number): number {
    const s = SPEC[this.region][dr];
    return referenceAirtimeMs(s.sf, s.bw, phyBytes);
  }

  #dutyOk(airtimeMs: number): boolean {
    if (this.region !== "EU868" || this.opts.enforceDutyCycle === false) return true;
    if (this.#clock.nowMs < this.#blockedUntil) {
      this.dutyRefusals++;
      return false;
    }
    this.#blockedUntil = this.#clock.nowMs + airtimeMs * 100; // airtime + 99 × airtime off
    return true;
  }

  #up(ms: number): boolean {
    return !(this.opts.outage && this.opts.outage(ms));
  }

  probe(): void {
    this.probes++;
    this.#check();
  }

  devEui(): string {
    return "70B3D5FFFE000001";
  }

  configure(settings: ModemSettings): void {
    this.#check();
    this.configures++;
    this.settings = settings;
    this.#dr = settings.dataRate;
    this.#joined = false;
  }

  join(): boolean {
    this.#check();
    this.#scripted();
    if (!this.settings) throw new ModemError("error", "not configured");
    const start = this.#clock.nowMs;
    const airtimeMs = this.#airtime(this.#dr, 23);
    if (!this.#dutyOk(airtimeMs)) throw new ModemError("no-channel", "No free channel");
    this.#joinTries++;
    const heard = this.#up(start) && this.#rng.next() >= (this.opts.lossProbability ?? 0);
    const ok = heard && this.#joinTries >= (this.opts.joinAfter ?? 1);
    this.txs.push({ kind: "join", startMs: start, airtimeMs, dr: this.#dr, port: 0, bytes: [], confirmed: false, session: 0, fCnt: 0, heard, acked: ok, downlinkSent: ok });
    this.#clock.advance(Math.ceil(airtimeMs) + 6000);
    if (ok) {
      this.#joined = true;
      this.#session++;
      this.#fCnt = 0;
    }
    return ok;
  }

  joined(): boolean {
    this.#check();
    return this.#joined;
  }

  send(port: number, bytes: Uint8Array, length: number, confirmed: boolean): SendResult {
    this.#check();
    this.#scripted();
    if (!this.#joined) throw new ModemError("not-joined", "Please join network first");
    if (port < 1 || port > 223) throw new ModemError("param", "port");
    const drNow = this.opts.drAt?.(this.#clock.nowMs);
    if (drNow !== undefined && (this.settings?.adr ?? true)) this.#dr = drNow;
    if (length > SPEC[this.region][this.#dr].max) throw new ModemError("length", "Length error " + SPEC[this.region][this.#dr].max);
    const start = this.#clock.nowMs;
    const airtimeMs = this.#airtime(this.#dr, length + 13);
    if (!this.#dutyOk(airtimeMs)) throw new ModemError("no-channel", "No free channel");
    const heard = this.#up(start) && this.#rng.next() >= (this.opts.lossProbability ?? 0);
    const fCnt = this.#fCnt++;
    const tx: TxRecord = { kind: "data", startMs: start, airtimeMs, dr: this.#dr, port, bytes: Array.from(bytes.subarray(0, length)), confirmed, session: this.#session, fCnt, heard, acked: false, downlinkSent: false };
    this.txs.push(tx);
    let downlink: ModemDownlink | undefined;
    if (heard) {
      this.delivered.push({ atMs: start, port, bytes: tx.bytes, session: this.#session, fCnt });
      downlink = this.downlinks.shift() ?? this.opts.downlinkFor?.(tx);
      tx.downlinkSent = confirmed || downlink !== undefined;
    }
    let ackHeard = heard && this.#rng.next() >= (this.opts.ackLossProbability ?? 0) && this.#up(start + 1000);
    if (ackHeard && confirmed && this.dropAcks > 0) {
      this.dropAcks--;
      ackHeard = false;
    }
    if (!ackHeard) downlink = undefined;
    tx.acked = confirmed && ackHeard;
    this.#clock.advance(Math.ceil(airtimeMs) + (ackHeard && (confirmed || downlink) ? 1200 : 2200));
    if (confirmed && !tx.acked) throw new ModemError(this.opts.unackedTimesOut ? "timeout" : "nack", "no ACK");
    return downlink ? { acked: true, downlink, pending: false } : { acked: true, pending: false };
  }

  dataRate(): number {
    this.#check();
    const drNow = this.opts.drAt?.(this.#clock.nowMs);
    if (drNow !== undefined && (this.settings?.adr ?? true)) this.#dr = drNow;
    return this.#dr;
  }

  setDataRate(dr: number): void {
    this.#check();
    if (dr < 0 || dr >= SPEC[this.region].length) throw new ModemError("dr", "DR error");
    this.#dr = dr;
  }

  sleep(): void {}

  close(): void {}
}
