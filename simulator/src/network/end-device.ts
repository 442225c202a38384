/**
 * The LoRaWAN 1.0.x Class A end device inside both modem emulators: OTAA join
 * (DevNonce as a persistent counter, LoRaWAN 1.0.4), session keys, frame
 * counters, encrypted uplinks with MIC, RX1/RX2 reception, confirmed-uplink
 * retransmission, the EU868 duty cycle per sub-band, the join back-off, the
 * payload limit per data rate, and the MAC commands our network server sends
 * (LinkADRReq, DevStatusReq). The AT front ends only format what this returns.
 *
 * A transaction is computed in one go when the command arrives: the frames go
 * into the radio medium with their future virtual start times, and the result
 * carries the virtual times at which each step happens so the AT layer can
 * print its lines at those times.
 */
import type { Rng } from "../core/rng.ts";
import { JOIN_REQUEST_BYTES } from "./airtime.ts";
import type { RadioMedium, Reception, Transmission } from "./radio.ts";
import {
  airtimeAtDr,
  bandClosedMs,
  dataRate,
  decodeCfList,
  joinDutyCycle,
  maxPayload,
  region as regionParams,
  subBandOf,
  type Channel,
  type RegionName,
  type RegionParams,
} from "./regions.ts";
import { buildDataFrame, buildJoinRequest, deriveSessionKeys, expandFCnt, openDataFrame, openJoinAccept, peekDataFrame, type SessionKeys } from "./lorawan-frames.ts";

/** Time from the end of a command to the start of its transmission (radio setup), ms. */
const TX_SETUP_MS = 6;
/** Symbols the receiver waits for a preamble before closing a window. */
const RX_TIMEOUT_SYMBOLS = 8;
/** ADR_ACK_LIMIT and ADR_ACK_DELAY (LoRaWAN 1.0.x). */
const ADR_ACK_LIMIT = 64;
const ADR_ACK_DELAY = 32;

/** Options of an end device. */
export interface EndDeviceOptions {
  /** DevEUI, 16 hex digits. */
  devEui: string;
  /** JoinEUI/AppEUI, 16 hex digits (default all zero). */
  joinEui?: string;
  /** AppKey (default: all zero until configured). */
  appKey?: Uint8Array;
  region?: RegionName;
  /** Random stream for channel choice and ACK_TIMEOUT. */
  rng: Rng;
  /** First DevNonce (the counter persists across reboots). */
  devNonce?: number;
  /** Enforce the duty cycle and join back-off (default true). */
  dutyCycle?: boolean;
  /** Transmit power in dBm (default: the region's). */
  txPowerDbm?: number;
}

/** One frame the device put on the air. */
export interface TxRecord {
  startMs: number;
  endMs: number;
  frequencyHz: number;
  dataRate: number;
  airtimeMs: number;
}

/** The network session the device holds after a join. */
export interface DeviceSession {
  devAddr: number;
  netId: number;
  keys: SessionKeys;
  /** Next uplink frame counter. */
  fCntUp: number;
  /** Last downlink frame counter received (-1: none yet). */
  fCntDown: number;
  rx1DrOffset: number;
  rx2Dr: number;
  /** RECEIVE_DELAY1 in ms. */
  rxDelay1Ms: number;
  channels: Channel[];
  /** DevNonce used for this session. */
  devNonce: number;
}

/** Outcome of a join attempt. */
export type JoinOutcome =
  | { ok: true; tx: TxRecord; atMs: number; session: DeviceSession; window: 1 | 2; rssi: number; snr: number }
  | { ok: false; reason: "not-otaa" | "no-free-channel" | "dr"; atMs: number; freeAtMs?: number }
  | { ok: false; reason: "no-answer"; tx: TxRecord; atMs: number };

/** A downlink delivered to the application. */
export interface DeviceDownlink {
  /** FPort; undefined for a frame without payload (ACK or MAC only). */
  port: number | undefined;
  payload: Uint8Array;
  window: 1 | 2;
  atMs: number;
  rssi: number;
  snr: number;
  ack: boolean;
  fPending: boolean;
}

/** Outcome of an uplink transaction. */
export type SendOutcome =
  | { ok: false; reason: "not-joined" | "length" | "no-free-channel" | "dr"; atMs: number; maxPayload?: number; freeAtMs?: number }
  | {
      ok: true;
      fCnt: number;
      attempts: TxRecord[];
      /** Confirmed: acknowledged. Unconfirmed: true. */
      acked: boolean;
      /** Downlinks received, one per attempt at most (the last one carries the ACK, if any). */
      downlinks: DeviceDownlink[];
      /** When the transaction is over (RX windows closed or frame received after the last attempt). */
      endMs: number;
    };

/** What `send` is asked to do. */
export interface SendRequest {
  port: number;
  payload: Uint8Array;
  confirmed: boolean;
  /** Retransmissions after the first transmission when no ACK arrives (confirmed only). */
  retries: number;
}

/** A LoRaWAN 1.0.x Class A end device. */
export class EndDevice {
  devEui: string;
  joinEui: string;
  appKey: Uint8Array;
  otaa = true;
  adr = false;
  dutyCycle: boolean;
  txPowerDbm: number;
  /** Next DevNonce; survives reboots like the modem's flash. */
  devNonce: number;
  #region: RegionParams;
  #dr: number;
  #rng: Rng;
  #session: DeviceSession | undefined;
  /** Sub-band name → virtual time from which it may transmit again. */
  readonly #bandFreeAt = new Map<string, number>();
  #joinFreeAtMs = 0;
  #firstJoinAtMs: number | undefined;
  /** MAC answers waiting for the next uplink's FOpts. */
  #pendingMac: number[] = [];
  #adrAckCnt = 0;
  #lastSnr = 0;

  constructor(o: EndDeviceOptions) {
    this.devEui = o.devEui.toUpperCase();
    this.joinEui = (o.joinEui ?? "0000000000000000").toUpperCase();
    this.appKey = o.appKey ?? new Uint8Array(16);
    this.#region = regionParams(o.region ?? "EU868");
    this.#dr = this.#region.defaultDr;
    this.#rng = o.rng;
    this.devNonce = o.devNonce ?? 0;
    this.dutyCycle = o.dutyCycle ?? true;
    this.txPowerDbm = o.txPowerDbm ?? this.#region.defaultTxPowerDbm;
  }

  /** The region's parameters. */
  get region(): RegionParams {
    return this.#region;
  }

  /** Switches region: channels and data rate back to the region's defaults, session dropped. */
  setRegion(name: RegionName): void {
    this.#region = regionParams(name);
    this.#dr = this.#region.defaultDr;
    this.txPowerDbm = this.#region.defaultTxPowerDbm;
    this.#session = undefined;
    this.#bandFreeAt.clear();
  }

  /** Current uplink data rate. */
  get dr(): number {
    return this.#dr;
  }

  /** Sets the uplink data rate (any defined index; channels decide later whether it can be used). */
  set dr(value: number) {
    this.#dr = value;
  }

  /** The session, if joined. */
  get session(): DeviceSession | undefined {
    return this.#session;
  }

  /** Channels the device may use now. */
  channels(): Channel[] {
    return this.#session?.channels ?? [...this.#region.defaultChannels];
  }

  /** Largest application payload at the current data rate, less pending MAC answers. */
  maxPayload(): number {
    return Math.max(0, maxPayload(this.#region, this.#dr) - this.#pendingMac.length);
  }

  /** Restart: the session, duty-cycle timers and pending MAC answers live in RAM and are lost; the DevNonce counter is in flash. */
  reboot(): void {
    this.#session = undefined;
    this.#bandFreeAt.clear();
    this.#joinFreeAtMs = 0;
    this.#firstJoinAtMs = undefined;
    this.#pendingMac = [];
    this.#adrAckCnt = 0;
  }

  /** Forgets the session (e.g. mode change). */
  leave(): void {
    this.#session = undefined;
  }

  /** Earliest time at or after `atMs` when some channel that supports `dr` may transmit. */
  earliestFreeMs(atMs: number, dr = this.#dr): number | undefined {
    let best: number | undefined;
    for (const ch of this.channels()) {
      if (dr < ch.minDr || dr > ch.maxDr) continue;
      const t = Math.max(atMs, this.#channelFreeAt(ch));
      if (best === undefined || t < best) best = t;
    }
    return best;
  }

  #channelFreeAt(ch: Channel): number {
    if (!this.dutyCycle) return 0;
    const band = subBandOf(this.#region, ch.frequencyHz);
    return band ? (this.#bandFreeAt.get(band.name) ?? 0) : 0;
  }

  /** Picks a random channel that supports `dr` and is free at `atMs`: the channel, or why none. */
  #pick(atMs: number, dr: number): Channel | { none: "dr" } | { none: "busy"; freeAtMs: number } {
    const usable = this.channels().filter((c) => dr >= c.minDr && dr <= c.maxDr);
    if (!usable.length || !dataRate(this.#region, dr)) return { none: "dr" };
    const free = usable.filter((c) => this.#channelFreeAt(c) <= atMs);
    if (!free.length) return { none: "busy", freeAtMs: Math.min(...usable.map((c) => this.#channelFreeAt(c))) };
    return free[this.#rng.int(0, free.length - 1)];
  }

  #transmit(medium: RadioMedium, phy: Uint8Array, ch: Channel, dr: number, startMs: number): { tx: TxRecord; reception: Reception | undefined } {
    const d = dataRate(this.#region, dr)!;
    const airtimeMs = airtimeAtDr(this.#region, dr, phy.length);
    const band = subBandOf(this.#region, ch.frequencyHz);
    if (band && this.dutyCycle) this.#bandFreeAt.set(band.name, startMs + bandClosedMs(airtimeMs, band.dutyCycle));
    const t: Transmission = {
      devEui: this.devEui,
      phyPayload: phy,
      region: this.#region.name,
      dataRate: dr,
      spreadingFactor: d.spreadingFactor,
      bandwidthHz: d.bandwidthHz,
      frequencyHz: ch.frequencyHz,
      txPowerDbm: this.txPowerDbm,
      startMs,
      airtimeMs,
    };
    const reception = medium.transmit(t);
    return { tx: { startMs, endMs: startMs + airtimeMs, frequencyHz: ch.frequencyHz, dataRate: dr, airtimeMs }, reception };
  }

  /** How long a receive window at `dr` stays open when no preamble comes. */
  #rxTimeoutMs(dr: number): number {
    const d = dataRate(this.#region, dr);
    if (!d || d.modulation !== "LORA") return 10;
    return (RX_TIMEOUT_SYMBOLS * 2 ** d.spreadingFactor * 1000) / d.bandwidthHz;
  }

  /**
   * Sends one join request at `atMs` (command time) and listens in the join
   * windows. `deaf` drops whatever the network answers (the join-fail fault).
   */
  join(atMs: number, medium: RadioMedium, deaf = false): JoinOutcome {
    if (!this.otaa) return { ok: false, reason: "not-otaa", atMs };
    const start = atMs + TX_SETUP_MS;
    if (this.dutyCycle && start < this.#joinFreeAtMs) return { ok: false, reason: "no-free-channel", atMs, freeAtMs: this.#joinFreeAtMs };
    const ch = this.#pick(start, this.#dr);
    if ("none" in ch) {
      return ch.none === "dr" ? { ok: false, reason: "dr", atMs } : { ok: false, reason: "no-free-channel", atMs, freeAtMs: ch.freeAtMs };
    }
    const devNonce = this.devNonce;
    this.devNonce = (this.devNonce + 1) & 0xffff;
    const phy = buildJoinRequest(this.joinEui, this.devEui, devNonce, this.appKey);
    const { tx, reception } = this.#transmit(medium, phy, ch, this.#dr, start);
    this.#firstJoinAtMs ??= start;
    // Join back-off: the aggregate join airtime is held to 1 %, then 0.1 %, then 0.01 % (RP002 / 1.0.4).
    this.#joinFreeAtMs = start + tx.airtimeMs / joinDutyCycle(start - this.#firstJoinAtMs);
    const accept = reception && !deaf ? openJoinAccept(reception.phyPayload, this.appKey) : undefined;
    if (!accept || !reception) {
      const end = tx.endMs + this.#region.joinAcceptDelay2Ms + this.#rxTimeoutMs(this.#region.rx2Dr);
      return { ok: false, reason: "no-answer", tx, atMs: end };
    }
    const { nwkSKey, appSKey } = deriveSessionKeys(this.appKey, accept.joinNonce, accept.netId, devNonce);
    const extra = decodeCfList(accept.cfList).map((frequencyHz) => ({ frequencyHz, minDr: 0, maxDr: 5 }));
    this.#session = {
      devAddr: accept.devAddr,
      netId: accept.netId,
      keys: { nwkSKey, appSKey },
      fCntUp: 0,
      fCntDown: -1,
      rx1DrOffset: accept.rx1DrOffset,
      rx2Dr: accept.rx2Dr,
      rxDelay1Ms: Math.max(1, accept.rxDelay) * 1000,
      channels: [...this.#region.defaultChannels, ...extra],
      devNonce,
    };
    this.#pendingMac = [];
    this.#adrAckCnt = 0;
    return { ok: true, tx, atMs: reception.atMs, session: this.#session, window: reception.window, rssi: reception.rssi, snr: reception.snr };
  }

  /** Sends an uplink at `atMs` (command time), with retransmissions for confirmed frames, and listens in RX1/RX2. */
  send(atMs: number, medium: RadioMedium, req: SendRequest): SendOutcome {
    const s = this.#session;
    if (!s) return { ok: false, reason: "not-joined", atMs };
    const dr = this.#dr;
    if (!dataRate(this.#region, dr) || !this.channels().some((c) => dr >= c.minDr && dr <= c.maxDr)) return { ok: false, reason: "dr", atMs };
    const fOpts = this.#pendingMac.slice(0, 15);
    const limit = maxPayload(this.#region, dr);
    if (req.payload.length + fOpts.length > limit) return { ok: false, reason: "length", atMs, maxPayload: limit - fOpts.length };
    let start = atMs + TX_SETUP_MS;
    let ch = this.#pick(start, dr);
    if ("none" in ch) return ch.none === "dr" ? { ok: false, reason: "dr", atMs } : { ok: false, reason: "no-free-channel", atMs, freeAtMs: ch.freeAtMs };
    this.#pendingMac = [];
    const fCnt = s.fCntUp;
    s.fCntUp = (s.fCntUp + 1) >>> 0;
    this.#adrAckCnt++;
    const adrAckReq = this.adr && this.#adrAckCnt >= ADR_ACK_LIMIT;
    const phy = buildDataFrame(
      {
        mType: req.confirmed ? "confirmed-up" : "unconfirmed-up",
        devAddr: s.devAddr,
        fCnt,
        adr: this.adr,
        adrAckReq,
        ack: false,
        fPending: false,
        fOpts: Uint8Array.from(fOpts),
        fPort: req.port,
        payload: req.payload,
      },
      s.keys,
    );
    const attempts: TxRecord[] = [];
    const downlinks: DeviceDownlink[] = [];
    const tries = req.confirmed ? 1 + Math.max(0, req.retries) : 1;
    let acked = !req.confirmed;
    let endMs = start;
    for (let i = 0; i < tries; i++) {
      const { tx, reception } = this.#transmit(medium, phy, ch as Channel, dr, start);
      attempts.push(tx);
      const dl = reception ? this.#receive(reception) : undefined;
      if (dl) {
        downlinks.push(dl);
        endMs = dl.atMs;
        if (dl.ack) acked = true;
      } else {
        endMs = tx.endMs + s.rxDelay1Ms + 1000 + this.#rxTimeoutMs(s.rx2Dr);
      }
      if (acked || i === tries - 1) break;
      // ACK_TIMEOUT: 2 ± 1 s after the second window, then the next free channel.
      start = endMs + this.#rng.int(1000, 3000);
      let next = this.#pick(start, dr);
      if ("none" in next && next.none === "busy") {
        start = next.freeAtMs;
        next = this.#pick(start, dr);
      }
      if ("none" in next) break;
      ch = next;
    }
    if (downlinks.length) this.#adrAckCnt = 0;
    else if (this.adr && this.#adrAckCnt >= ADR_ACK_LIMIT + ADR_ACK_DELAY) {
      // No answer for too long: step the data rate down so the network can hear us again.
      this.#dr = Math.max(this.#region.uplinkDrRange[0], this.#dr - 1);
      this.#adrAckCnt = ADR_ACK_LIMIT;
    }
    return { ok: true, fCnt, attempts, acked, downlinks, endMs };
  }

  /** Opens a downlink for our session; undefined if it is not for us, fails its MIC or replays a counter. */
  #receive(r: Reception): DeviceDownlink | undefined {
    const s = this.#session;
    if (!s) return undefined;
    const h = peekDataFrame(r.phyPayload);
    if (!h || h.devAddr !== s.devAddr || (h.mType !== "unconfirmed-down" && h.mType !== "confirmed-down")) return undefined;
    const fCnt = expandFCnt(h.fCnt16, s.fCntDown);
    if (s.fCntDown >= 0 && fCnt <= s.fCntDown) return undefined;
    const f = openDataFrame(r.phyPayload, s.keys, fCnt);
    if (!f) return undefined;
    s.fCntDown = fCnt;
    this.#lastSnr = r.snr;
    this.#macCommands(f.fOpts);
    if (f.fPort === 0) this.#macCommands(f.payload);
    return {
      port: f.fPort === 0 ? undefined : f.fPort,
      payload: f.fPort === 0 ? new Uint8Array(0) : f.payload,
      window: r.window,
      atMs: r.atMs,
      rssi: r.rssi,
      snr: r.snr,
      ack: f.ack,
      fPending: f.fPending,
    };
  }

  /** Applies MAC commands from the network and queues their answers. Unknown commands end the list (their length is unknown). */
  #macCommands(bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length; ) {
      const cid = bytes[i];
      if (cid === 0x03 && i + 5 <= bytes.length) {
        // LinkADRReq: DataRate_TXPower, ChMask (2), Redundancy. We accept DR and power, keep our channels.
        const drTx = bytes[i + 1];
        const dr = drTx >> 4;
        const power = drTx & 0x0f;
        const drOk = dr === 0x0f || !!dataRate(this.#region, dr);
        if (this.adr && drOk) {
          if (dr !== 0x0f) this.#dr = dr;
          // TXPower index: max EIRP − 2·index dB.
          if (power !== 0x0f) this.txPowerDbm = this.#region.defaultTxPowerDbm - 2 * power;
        }
        this.#pendingMac.push(0x03, this.adr && drOk ? 0x07 : 0x05);
        i += 5;
      } else if (cid === 0x06) {
        // DevStatusReq → DevStatusAns: battery unknown (255), margin = last SNR clamped to 6 bits.
        const margin = Math.max(-32, Math.min(31, Math.round(this.#lastSnr))) & 0x3f;
        this.#pendingMac.push(0x06, 255, margin);
        i += 1;
      } else if (cid === 0x02 && i + 3 <= bytes.length) {
        i += 3; // LinkCheckAns: nothing to answer
      } else {
        break;
      }
    }
  }
}

/** Time on air of a join request at `dr` in `region` (ms). */
export function joinAirtimeMs(r: RegionParams, dr: number): number {
  return airtimeAtDr(r, dr, JOIN_REQUEST_BYTES);
}
