/**
 * A LoRaWAN 1.0.x network server with its join server and application server
 * in one: OTAA joins (MIC, DevNonce replay rejection, JoinNonce, DevAddr,
 * session keys), data uplinks (32-bit FCnt from the 16 on air, MIC, replay and
 * gap checks, de-duplication across gateways, confirmed retransmissions),
 * optional ADR, a downlink queue per device scheduled in RX1 or RX2, ACKs,
 * and application events shaped like The Things Stack's uplink messages with
 * the payload decoded by our codec.
 */
import { decodeUplink, type DecodeResult, type UplinkInput } from "../../../codecs/src/index.ts";
import { isoTime } from "../core/iso-time.ts";
import { formatAirtime } from "./airtime.ts";
import type { RxMetadata } from "./gateway.ts";
import {
  buildDataFrame,
  buildJoinAccept,
  deriveSessionKeys,
  expandFCnt,
  fromHex,
  joinRequestMicOk,
  mTypeOf,
  openDataFrame,
  parseJoinRequest,
  peekDataFrame,
  toHex,
  type SessionKeys,
} from "./lorawan-frames.ts";
import { airtimeAtDr, dataRate, encodeCfList, maxPayload, region as regionParams, rx1Dr, rx1Frequency, type RegionName, type RegionParams } from "./regions.ts";

/** Uplinks remembered for de-duplication (by PHYPayload), at most. */
const RECENT_KEPT = 4096;

/** A device the server knows (OTAA). */
export interface DeviceRegistration {
  devEui: string;
  /** JoinEUI/AppEUI the device joins with (default: any). */
  joinEui?: string;
  /** AppKey as 32 hex digits or bytes. */
  appKey: string | Uint8Array;
  /** `device_id` in events (default: "eui-" + DevEUI in lower case, as The Things Stack names them). */
  deviceId?: string;
  /**
   * A number unique to this device on the network (0..2^18 − 1): its DevAddrs
   * are then derived from it and the join count, so they do not depend on
   * the order in which devices join (sharded runs). Default: handed out in join order.
   */
  addressIndex?: number;
}

/** Options of the network server. */
export interface NetworkServerOptions {
  region?: RegionName;
  /** NetID (default 0x000013, The Things Network); DevAddrs get its NwkID prefix. */
  netId?: number;
  /** Wall-clock time of virtual 0, for `received_at` (default 2026-01-05, as the virtual clock). */
  epochUnixMs?: number;
  /** Application id in events. */
  applicationId?: string;
  /** RX1 data rate offset and RX2 data rate given in join accepts. */
  rx1DrOffset?: number;
  rx2Dr?: number;
  /** RECEIVE_DELAY1 in seconds given in join accepts (default 1). */
  rxDelayS?: number;
  /** Extra channels (Hz) sent in the join accept's CFList (EU868/AS923). */
  cfListHz?: readonly number[];
  /** Run ADR for devices that set the ADR bit (default true). */
  adr?: boolean;
  /** ADR installation margin in dB (default 10). */
  adrMarginDb?: number;
  /** Uplinks ADR looks at (default 20). */
  adrHistory?: number;
  /** Window in which copies of one frame from several gateways are merged (default 200 ms). */
  dedupWindowMs?: number;
  /** Largest jump of the frame counter accepted (LoRaWAN 1.0.x MAX_FCNT_GAP, default 16384). */
  maxFCntGap?: number;
  /** DevNonce rule: LoRaWAN 1.0.4 counter (must grow) or 1.0.2 (must not repeat). Default "counter". */
  devNonceRule?: "counter" | "unique";
  /** The payload formatter (default: our codec's decodeUplink). */
  decoder?: (input: UplinkInput) => DecodeResult;
  /** Entries kept in `log` (oldest dropped; default 10 000; 0: no log, which a fleet run does not read). */
  logLimit?: number;
  /**
   * An application fast enough to answer an uplink in its own RX windows (The Things Stack leaves applications
   * that chance with its 5 s RX1 delay): called with each decoded uplink before the server picks its downlink. A
   * downlink it returns replaces any queued on the same FPort (the queue's "replace"), then goes in this reply if it fits.
   */
  application?: (uplink: ApplicationUplink) => QueuedDownlink | undefined;
}

/** What `NetworkServerOptions.application` sees of an uplink. */
export interface ApplicationUplink {
  devEui: string;
  fPort: number;
  /** The payload formatter's output (absent when it reported errors). */
  decoded: { [key: string]: unknown } | undefined;
  /** When the reply's RX1 window opens (Unix ms): what a time stamp sent in it should say. */
  rx1AtUnixMs: number;
  /** Downlinks already queued for the device. */
  queued: readonly QueuedDownlink[];
}

/** One copy of an uplink as a gateway heard it. */
export interface GatewayCopy {
  gatewayId: string;
  phyPayload: Uint8Array;
  rssi: number;
  snr: number;
  metadata: RxMetadata;
  frequencyHz: number;
  dataRate: number;
  spreadingFactor: number;
  bandwidthHz: number;
  /** Start of the frame on the air (virtual ms) and its time on air. */
  startMs: number;
  airtimeMs: number;
}

/** Books a downlink on a gateway; true if it was possible. */
export type DownlinkBooker = (gatewayId: string, startMs: number, airtimeMs: number, frequencyHz: number) => boolean;

/** A downlink the server decided to send. */
export interface DownlinkPlan {
  devEui: string;
  gatewayId: string;
  phyPayload: Uint8Array;
  window: 1 | 2;
  startMs: number;
  airtimeMs: number;
  frequencyHz: number;
  dataRate: number;
  spreadingFactor: number;
  bandwidthHz: number;
}

/** Why the server dropped an uplink. */
export type RejectReason =
  | "unknown-device"
  | "joineui-mismatch"
  | "mic"
  | "devnonce-replay"
  | "unknown-devaddr"
  | "fcnt-replay"
  | "fcnt-gap"
  | "not-lorawan";

/** What the server did with an uplink. */
export type UplinkStatus =
  | { status: "join-accepted"; devEui: string; devAddr: number; downlink: DownlinkPlan | undefined }
  | { status: "accepted"; devEui: string; fCnt: number; downlink: DownlinkPlan | undefined }
  | { status: "retransmission"; devEui: string; fCnt: number; downlink: DownlinkPlan | undefined }
  | { status: "duplicate" }
  | { status: "rejected"; reason: RejectReason; devEui?: string };

/** An entry in the server's log. */
export interface ServerLogEntry {
  atMs: number;
  kind: "join-accept" | "uplink" | "retransmission" | "duplicate" | "reject" | "downlink" | "downlink-unschedulable" | "decode-error" | "adr";
  devEui?: string;
  detail?: string;
}

/** The application event for an uplink, shaped like The Things Stack's `as.up.data` message. */
export interface UplinkEvent {
  end_device_ids: {
    device_id: string;
    application_ids: { application_id: string };
    dev_eui: string;
    join_eui: string;
    dev_addr: string;
  };
  correlation_ids: string[];
  received_at: string;
  uplink_message: {
    f_port: number;
    f_cnt: number;
    frm_payload: string;
    decoded_payload?: { [key: string]: unknown };
    decoded_payload_warnings?: string[];
    rx_metadata: RxMetadata[];
    settings: {
      data_rate: { lora: { bandwidth: number; spreading_factor: number; coding_rate: string } };
      frequency: string;
      timestamp: number;
    };
    received_at: string;
    confirmed?: boolean;
    consumed_airtime: string;
    network_ids: { net_id: string };
  };
}

/** A downlink waiting for the device's next uplink. */
export interface QueuedDownlink {
  fPort: number;
  bytes: Uint8Array;
}

/** Server-side session, exposed read-only for tests and reports. */
export interface ServerSession {
  devAddr: number;
  keys: SessionKeys;
  devNonce: number;
  /** Last uplink FCnt accepted (-1 before any). */
  fCntUp: number;
  /** Next downlink FCnt. */
  fCntDown: number;
  rx1DrOffset: number;
  rx2Dr: number;
  rxDelayMs: number;
  /** Channel count the device has (defaults + CFList), for LinkADRReq's ChMask. */
  channelCount: number;
}

interface AdrState {
  snrs: number[];
  /** Data rate and TXPower index the server asked for and is waiting to see acknowledged. */
  pending: boolean;
  txPowerIndex: number;
}

interface DeviceState {
  reg: Required<Omit<DeviceRegistration, "joinEui" | "addressIndex">> & { joinEui: string | undefined; appKeyBytes: Uint8Array; addressIndex: number | undefined };
  lastDevNonce: number;
  /** JoinEUI of the last accepted join request. */
  joinEui: string;
  usedDevNonces: Set<number>;
  joinNonce: number;
  session: ServerSession | undefined;
  /** Session from a join accept the device may not have heard yet; it becomes active on its first uplink. */
  pendingSession: ServerSession | undefined;
  lastPhyHex: string | undefined;
  queue: QueuedDownlink[];
  mac: number[];
  adr: AdrState;
  uplinks: number;
}

const REQUIRED_SNR: { readonly [sf: number]: number } = { 7: -7.5, 8: -10, 9: -12.5, 10: -15, 11: -17.5, 12: -20 };

/** The network server. */
export class NetworkServer {
  readonly region: RegionParams;
  readonly netId: number;
  readonly epochUnixMs: number;
  readonly applicationId: string;
  readonly log: ServerLogEntry[] = [];
  readonly #o: Required<Omit<NetworkServerOptions, "region" | "netId" | "epochUnixMs" | "applicationId" | "decoder" | "cfListHz" | "application">> & {
    cfListHz: readonly number[];
    decoder: (input: UplinkInput) => DecodeResult;
    application: NetworkServerOptions["application"];
  };
  readonly #devices = new Map<string, DeviceState>();
  readonly #byAddr = new Map<number, string>();
  readonly #recent = new Map<string, number>();
  /**
   * `#recent`'s keys in a ring, in the order they were first set: the slot a new key takes holds the oldest once
   * the ring is full. (Taking a Map's first key walks over every entry deleted before it, thousands once it is full.)
   */
  readonly #recentRing: (string | undefined)[] = new Array<string | undefined>(RECENT_KEPT).fill(undefined);
  #recentNext = 0;
  readonly #listeners = new Set<(e: UplinkEvent) => void>();
  #nextNwkAddr = 1;

  constructor(o: NetworkServerOptions = {}) {
    this.region = regionParams(o.region ?? "EU868");
    this.netId = o.netId ?? 0x000013;
    this.epochUnixMs = o.epochUnixMs ?? Date.UTC(2026, 0, 5);
    this.applicationId = o.applicationId ?? "citysense";
    this.#o = {
      rx1DrOffset: o.rx1DrOffset ?? 0,
      rx2Dr: o.rx2Dr ?? this.region.rx2Dr,
      rxDelayS: o.rxDelayS ?? 1,
      cfListHz: o.cfListHz ?? [],
      adr: o.adr ?? true,
      adrMarginDb: o.adrMarginDb ?? 10,
      adrHistory: o.adrHistory ?? 20,
      dedupWindowMs: o.dedupWindowMs ?? 200,
      maxFCntGap: o.maxFCntGap ?? 16384,
      devNonceRule: o.devNonceRule ?? "counter",
      decoder: o.decoder ?? decodeUplink,
      logLimit: o.logLimit ?? 10_000,
      application: o.application,
    };
  }

  /** Registers an OTAA device. */
  addDevice(d: DeviceRegistration): void {
    const devEui = d.devEui.toUpperCase();
    const appKeyBytes = typeof d.appKey === "string" ? fromHex(d.appKey) : Uint8Array.from(d.appKey);
    if (appKeyBytes.length !== 16) throw new RangeError("AppKey must be 16 bytes");
    this.#devices.set(devEui, {
      reg: { devEui, joinEui: d.joinEui?.toUpperCase(), appKey: toHex(appKeyBytes), appKeyBytes, deviceId: d.deviceId ?? `eui-${devEui.toLowerCase()}`, addressIndex: d.addressIndex },
      lastDevNonce: -1,
      joinEui: d.joinEui?.toUpperCase() ?? "0000000000000000",
      usedDevNonces: new Set(),
      joinNonce: 0,
      session: undefined,
      pendingSession: undefined,
      lastPhyHex: undefined,
      queue: [],
      mac: [],
      adr: { snrs: [], pending: false, txPowerIndex: 0 },
      uplinks: 0,
    });
  }

  /** The active session of a device (after its first uplink on it), or the pending one from its last join. */
  session(devEui: string): ServerSession | undefined {
    const s = this.#devices.get(devEui.toUpperCase());
    return s?.pendingSession ?? s?.session;
  }

  /** Queues a downlink for the device's next uplink. */
  enqueueDownlink(devEui: string, d: QueuedDownlink): void {
    const s = this.#devices.get(devEui.toUpperCase());
    if (!s) throw new RangeError(`unknown device ${devEui}`);
    if (d.fPort < 1 || d.fPort > 223) throw new RangeError("downlink FPort must be 1–223");
    s.queue.push({ fPort: d.fPort, bytes: Uint8Array.from(d.bytes) });
  }

  /** Downlinks still queued for a device. */
  queued(devEui: string): readonly QueuedDownlink[] {
    return this.#devices.get(devEui.toUpperCase())?.queue ?? [];
  }

  /** Calls `listener` with every application uplink event; returns the unsubscribe function. */
  subscribe(listener: (e: UplinkEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Logs an entry (unless `logLimit` is 0); a `detail` given as a function is only built then (every uplink notes one). */
  #note(atMs: number, kind: ServerLogEntry["kind"], devEui?: string, detailOf?: string | (() => string)): void {
    if (this.#o.logLimit <= 0) return;
    const detail = typeof detailOf === "function" ? detailOf() : detailOf;
    this.log.push({ atMs, kind, ...(devEui ? { devEui } : {}), ...(detail ? { detail } : {}) });
    if (this.log.length > this.#o.logLimit) this.log.splice(0, this.log.length - this.#o.logLimit);
  }

  /**
   * Handles the copies of one frame heard by one or more gateways (all with
   * the same PHYPayload). A copy arriving in a later call within the
   * de-duplication window of an already handled one is a duplicate.
   */
  handleUplink(copies: readonly GatewayCopy[], book: DownlinkBooker = () => true): UplinkStatus {
    if (!copies.length) throw new RangeError("handleUplink needs at least one copy");
    const first = copies[0];
    const endMs = first.startMs + first.airtimeMs;
    const key = toHex(first.phyPayload);
    const seen = this.#recent.get(key);
    if (seen !== undefined && Math.abs(first.startMs - seen) < this.#o.dedupWindowMs) {
      this.#note(endMs, "duplicate");
      return { status: "duplicate" };
    }
    if (seen === undefined) this.#remember(key);
    this.#recent.set(key, first.startMs);
    const sorted = [...copies].sort((a, b) => b.snr - a.snr || b.rssi - a.rssi);
    const mType = mTypeOf(first.phyPayload);
    if (mType === "join-request") return this.#join(sorted, endMs, book);
    if (mType === "unconfirmed-up" || mType === "confirmed-up") return this.#data(sorted, endMs, book);
    this.#note(endMs, "reject", undefined, "not-lorawan");
    return { status: "rejected", reason: "not-lorawan" };
  }

  #reject(atMs: number, reason: RejectReason, devEui?: string): UplinkStatus {
    this.#note(atMs, "reject", devEui, reason);
    return { status: "rejected", reason, ...(devEui ? { devEui } : {}) };
  }

  #join(copies: GatewayCopy[], endMs: number, book: DownlinkBooker): UplinkStatus {
    const c = copies[0];
    const jr = parseJoinRequest(c.phyPayload);
    if (!jr) return this.#reject(endMs, "not-lorawan");
    const d = this.#devices.get(jr.devEui);
    if (!d) return this.#reject(endMs, "unknown-device", jr.devEui);
    if (d.reg.joinEui && d.reg.joinEui !== jr.joinEui) return this.#reject(endMs, "joineui-mismatch", jr.devEui);
    if (!joinRequestMicOk(c.phyPayload, d.reg.appKeyBytes)) return this.#reject(endMs, "mic", jr.devEui);
    const replay = this.#o.devNonceRule === "counter" ? jr.devNonce <= d.lastDevNonce : d.usedDevNonces.has(jr.devNonce);
    if (replay) return this.#reject(endMs, "devnonce-replay", jr.devEui);
    d.lastDevNonce = jr.devNonce;
    d.joinEui = jr.joinEui;
    d.usedDevNonces.add(jr.devNonce);
    d.joinNonce = (d.joinNonce + 1) & 0xffffff;
    const devAddr = d.reg.addressIndex === undefined ? this.#allocateDevAddr() : this.#indexedDevAddr(d.reg.addressIndex, d.joinNonce);
    const keys = deriveSessionKeys(d.reg.appKeyBytes, d.joinNonce, this.netId, jr.devNonce);
    const cfList = this.#o.cfListHz.length && (this.region.name === "EU868" || this.region.name === "AS923") ? encodeCfList(this.#o.cfListHz) : new Uint8Array(0);
    const session: ServerSession = {
      devAddr,
      keys,
      devNonce: jr.devNonce,
      fCntUp: -1,
      fCntDown: 0,
      rx1DrOffset: this.#o.rx1DrOffset,
      rx2Dr: this.#o.rx2Dr,
      rxDelayMs: Math.max(1, this.#o.rxDelayS) * 1000,
      channelCount: this.region.defaultChannels.length + (cfList.length ? this.#o.cfListHz.length : 0),
    };
    if (d.pendingSession) this.#byAddr.delete(d.pendingSession.devAddr);
    d.pendingSession = session;
    this.#byAddr.set(devAddr, d.reg.devEui);
    const phy = buildJoinAccept(
      { joinNonce: d.joinNonce, netId: this.netId, devAddr, rx1DrOffset: session.rx1DrOffset, rx2Dr: session.rx2Dr, rxDelay: this.#o.rxDelayS, cfList },
      d.reg.appKeyBytes,
    );
    // The device learns the new RX parameters from this very frame: the accept itself goes out with the defaults.
    const downlink = this.#schedule(d.reg.devEui, copies, endMs, phy, {
      rxDelayMs: this.region.joinAcceptDelay1Ms,
      rx1DrOffset: 0,
      rx2Dr: this.region.rx2Dr,
      fits: () => true,
    }, book);
    this.#note(endMs, "join-accept", d.reg.devEui, `DevAddr ${devAddr.toString(16).padStart(8, "0")} DevNonce ${jr.devNonce}${downlink ? "" : " (no downlink slot)"}`);
    return { status: "join-accepted", devEui: d.reg.devEui, devAddr, downlink };
  }

  #indexedDevAddr(index: number, joinNonce: number): number {
    // 18 bits of device index, 7 of join count: unique per device and join.
    return (((this.netId & 0x3f) << 25) | ((index & 0x3ffff) << 7) | (joinNonce & 0x7f)) >>> 0;
  }

  #allocateDevAddr(): number {
    // Type-0 NetID: DevAddr = 0 | NwkID (6 bits) | NwkAddr (25 bits).
    for (;;) {
      const addr = (((this.netId & 0x3f) << 25) | (this.#nextNwkAddr++ & 0x1ffffff)) >>> 0;
      if (!this.#byAddr.has(addr)) return addr;
    }
  }

  #data(copies: GatewayCopy[], endMs: number, book: DownlinkBooker): UplinkStatus {
    const c = copies[0];
    const h = peekDataFrame(c.phyPayload);
    if (!h) return this.#reject(endMs, "not-lorawan");
    const devEui = this.#byAddr.get(h.devAddr);
    const d = devEui ? this.#devices.get(devEui) : undefined;
    if (!d) return this.#reject(endMs, "unknown-devaddr");
    // Try the session the frame's DevAddr belongs to: the pending one (new join) or the active one.
    const candidates = [d.pendingSession, d.session].filter((s): s is ServerSession => !!s && s.devAddr === h.devAddr);
    for (const s of candidates) {
      const fCnt = expandFCnt(h.fCnt16, s.fCntUp);
      if (s.fCntUp >= 0 && fCnt === s.fCntUp) {
        // Same counter as the last accepted frame: a retransmission if it is the very same frame, else a replay.
        if (toHex(c.phyPayload) !== d.lastPhyHex || !openDataFrame(c.phyPayload, s.keys, fCnt)) return this.#reject(endMs, "fcnt-replay", d.reg.devEui);
        this.#note(endMs, "retransmission", d.reg.devEui, () => `FCnt ${fCnt}`);
        const downlink = h.mType === "confirmed-up" ? this.#reply(d, s, copies, endMs, true, false, book) : undefined;
        return { status: "retransmission", devEui: d.reg.devEui, fCnt, downlink };
      }
      const f = openDataFrame(c.phyPayload, s.keys, fCnt);
      if (!f) {
        // A frame from this session's current counter epoch but older than the last one: a replay.
        const older = s.fCntUp >= 0 ? ((fCnt - 0x10000) >>> 0) : -1;
        if (older >= 0 && older <= s.fCntUp && fCnt >= 0x10000 && openDataFrame(c.phyPayload, s.keys, older)) return this.#reject(endMs, "fcnt-replay", d.reg.devEui);
        continue;
      }
      if (s.fCntUp >= 0 && fCnt - s.fCntUp > this.#o.maxFCntGap) return this.#reject(endMs, "fcnt-gap", d.reg.devEui);
      if (s === d.pendingSession) {
        // First uplink on the new session: it replaces the old one.
        if (d.session && d.session.devAddr !== s.devAddr) this.#byAddr.delete(d.session.devAddr);
        d.session = s;
        d.pendingSession = undefined;
        d.mac = [];
        d.adr = { snrs: [], pending: false, txPowerIndex: 0 };
      }
      s.fCntUp = fCnt;
      d.lastPhyHex = toHex(c.phyPayload);
      d.uplinks++;
      this.#deviceMac(d, f.fOpts, endMs);
      if (f.fPort === 0) this.#deviceMac(d, f.payload, endMs);
      if (f.adr && this.#o.adr) this.#adr(d, s, copies, endMs);
      const confirmed = f.mType === "confirmed-up";
      // Decoded before the reply is picked, so that the application can answer in it.
      const receivedAt = f.fPort !== undefined && f.fPort > 0 ? isoTime(this.epochUnixMs + endMs) : undefined;
      const decoded = receivedAt ? this.#o.decoder({ bytes: Array.from(f.payload), fPort: f.fPort!, recvTime: receivedAt }) : undefined;
      if (decoded && this.#o.application) this.#answer(d, s, f.fPort!, decoded, endMs);
      const downlink = this.#reply(d, s, copies, endMs, confirmed, f.adrAckReq, book);
      this.#note(endMs, "uplink", d.reg.devEui, () => `FCnt ${fCnt} port ${f.fPort ?? "-"}`);
      if (decoded) this.#emit(d, s, f.fPort!, fCnt, f.payload, confirmed, copies, endMs, decoded, receivedAt!);
      return { status: "accepted", devEui: d.reg.devEui, fCnt, downlink };
    }
    return this.#reject(endMs, "mic", d.reg.devEui);
  }

  /** MAC commands from the device: LinkADRAns settles ADR, others need nothing from us. */
  #deviceMac(d: DeviceState, bytes: Uint8Array, atMs: number): void {
    for (let i = 0; i < bytes.length; ) {
      const cid = bytes[i];
      if (cid === 0x03 && i + 2 <= bytes.length) {
        d.adr.pending = false;
        if ((bytes[i + 1] & 0x07) !== 0x07) this.#note(atMs, "adr", d.reg.devEui, `LinkADRReq refused (status ${bytes[i + 1]})`);
        i += 2;
      } else if (cid === 0x06 && i + 3 <= bytes.length) {
        i += 3;
      } else if (cid === 0x02) {
        // LinkCheckReq: answer with the margin of the best copy and one gateway per copy.
        i += 1;
        d.mac.push(0x02, 20, 1);
      } else {
        break;
      }
    }
  }

  /** Semtech-style ADR: from the best SNR of the last uplinks, raise the data rate, then lower the power. */
  #adr(d: DeviceState, s: ServerSession, copies: GatewayCopy[], atMs: number): void {
    const a = d.adr;
    a.snrs.push(copies[0].snr);
    if (a.snrs.length > this.#o.adrHistory) a.snrs.shift();
    if (a.pending || a.snrs.length < this.#o.adrHistory) return;
    const dr = copies[0].dataRate;
    const rate = dataRate(this.region, dr);
    if (!rate || rate.modulation !== "LORA") return;
    const margin = Math.max(...a.snrs) - REQUIRED_SNR[rate.spreadingFactor] - this.#o.adrMarginDb;
    let steps = Math.floor(margin / 3);
    let newDr = dr;
    let power = a.txPowerIndex;
    const maxDr = Math.max(...this.region.defaultChannels.map((c) => c.maxDr));
    while (steps > 0 && newDr < maxDr) {
      newDr++;
      steps--;
    }
    while (steps > 0 && power < 5) {
      power++;
      steps--;
    }
    while (steps < 0 && power > 0) {
      power--;
      steps++;
    }
    if (newDr === dr && power === a.txPowerIndex) return;
    a.txPowerIndex = power;
    a.pending = true;
    a.snrs = [];
    const chMask = s.channelCount >= 16 ? 0xffff : (1 << s.channelCount) - 1;
    d.mac.push(0x03, (newDr << 4) | power, chMask & 0xff, chMask >> 8, 0x01);
    this.#note(atMs, "adr", d.reg.devEui, `LinkADRReq DR${newDr} TXPower ${power}`);
  }

  /** Builds and schedules the reply to an uplink, if one is due (ACK, queued data, MAC commands, ADRACKReq). */
  #reply(d: DeviceState, s: ServerSession, copies: GatewayCopy[], endMs: number, ack: boolean, adrAckReq: boolean, book: DownlinkBooker): DownlinkPlan | undefined {
    const item = d.queue[0];
    const fOpts = d.mac.slice(0, 15);
    if (!ack && !item && !fOpts.length && !adrAckReq) return undefined;
    const build = (withItem: boolean) =>
      buildDataFrame(
        {
          mType: "unconfirmed-down",
          devAddr: s.devAddr,
          fCnt: s.fCntDown,
          adr: this.#o.adr,
          adrAckReq: false,
          ack,
          fPending: d.queue.length > (withItem ? 1 : 0),
          fOpts: Uint8Array.from(fOpts),
          fPort: withItem && item ? item.fPort : undefined,
          payload: withItem && item ? item.bytes : new Uint8Array(0),
        },
        s.keys,
      );
    const params = { rxDelayMs: s.rxDelayMs, rx1DrOffset: s.rx1DrOffset, rx2Dr: s.rx2Dr };
    const itemFits = (dr: number) => !item || item.bytes.length + fOpts.length <= maxPayload(this.region, dr);
    let plan = this.#schedule(d.reg.devEui, copies, endMs, build(true), { ...params, fits: itemFits }, book);
    let sentItem = !!(plan && item);
    if (!plan && item) {
      // The data does not fit any window: send what must go (ACK, MAC) and keep the data for later.
      plan = ack || fOpts.length || adrAckReq ? this.#schedule(d.reg.devEui, copies, endMs, build(false), { ...params, fits: () => true }, book) : undefined;
      sentItem = false;
    }
    if (!plan) {
      this.#note(endMs, "downlink-unschedulable", d.reg.devEui);
      return undefined;
    }
    s.fCntDown = (s.fCntDown + 1) >>> 0;
    d.mac = d.mac.slice(fOpts.length);
    if (sentItem) d.queue.shift();
    this.#note(plan.startMs, "downlink", d.reg.devEui, () => `RX${plan.window} via ${plan.gatewayId}${ack ? " ACK" : ""}${sentItem ? ` port ${item!.fPort}` : ""}`);
    return plan;
  }

  /** Finds a gateway and window for a downlink: best gateway first, RX1 then RX2. */
  #schedule(
    devEui: string,
    copies: GatewayCopy[],
    endMs: number,
    phy: Uint8Array,
    p: { rxDelayMs: number; rx1DrOffset: number; rx2Dr: number; fits: (dr: number) => boolean },
    book: DownlinkBooker,
  ): DownlinkPlan | undefined {
    const up = copies[0];
    const windows: { window: 1 | 2; startMs: number; frequencyHz: number; dr: number }[] = [
      { window: 1, startMs: endMs + p.rxDelayMs, frequencyHz: rx1Frequency(this.region, up.frequencyHz), dr: rx1Dr(this.region, up.dataRate, p.rx1DrOffset) },
      { window: 2, startMs: endMs + p.rxDelayMs + 1000, frequencyHz: this.region.rx2FrequencyHz, dr: p.rx2Dr },
    ];
    for (const c of copies) {
      for (const w of windows) {
        const rate = dataRate(this.region, w.dr);
        if (!rate || !p.fits(w.dr)) continue;
        const airtimeMs = airtimeAtDr(this.region, w.dr, phy.length, false);
        if (!book(c.gatewayId, w.startMs, airtimeMs, w.frequencyHz)) continue;
        return {
          devEui,
          gatewayId: c.gatewayId,
          phyPayload: phy,
          window: w.window,
          startMs: w.startMs,
          airtimeMs,
          frequencyHz: w.frequencyHz,
          dataRate: w.dr,
          spreadingFactor: rate.spreadingFactor,
          bandwidthHz: rate.bandwidthHz,
        };
      }
    }
    return undefined;
  }

  /** Takes a new key's place in the ring, forgetting the oldest key when the ring is full. */
  #remember(key: string): void {
    const oldest = this.#recentRing[this.#recentNext];
    if (oldest !== undefined) this.#recent.delete(oldest);
    this.#recentRing[this.#recentNext] = key;
    this.#recentNext = this.#recentNext + 1 === RECENT_KEPT ? 0 : this.#recentNext + 1;
  }

  /** Lets the application answer this uplink: its downlink replaces any queued on the same FPort. */
  #answer(d: DeviceState, s: ServerSession, fPort: number, decoded: DecodeResult, endMs: number): void {
    const data = decoded.errors.length === 0 && decoded.data ? (decoded.data as { [key: string]: unknown }) : undefined;
    const a = this.#o.application!({ devEui: d.reg.devEui, fPort, decoded: data, rx1AtUnixMs: this.epochUnixMs + endMs + s.rxDelayMs, queued: d.queue });
    if (!a) return;
    const item = { fPort: a.fPort, bytes: Uint8Array.from(a.bytes) };
    const at = d.queue.findIndex((q) => q.fPort === a.fPort);
    if (at >= 0) d.queue[at] = item;
    else d.queue.push(item);
  }

  #emit(d: DeviceState, s: ServerSession, fPort: number, fCnt: number, payload: Uint8Array, confirmed: boolean, copies: GatewayCopy[], endMs: number, decoded: DecodeResult, receivedAt: string): void {
    const c = copies[0];
    if (decoded.errors.length) this.#note(endMs, "decode-error", d.reg.devEui, decoded.errors.join("; "));
    const event: UplinkEvent = {
      end_device_ids: {
        device_id: d.reg.deviceId,
        application_ids: { application_id: this.applicationId },
        dev_eui: d.reg.devEui,
        join_eui: d.joinEui,
        dev_addr: s.devAddr.toString(16).padStart(8, "0").toUpperCase(),
      },
      // Per device (DevEUI and its count of uplinks): independent of the order devices are served in.
      correlation_ids: [`as:up:${d.reg.devEui.toLowerCase()}:${String(d.uplinks).padStart(7, "0")}`],
      received_at: receivedAt,
      uplink_message: {
        f_port: fPort,
        f_cnt: fCnt,
        frm_payload: Buffer.from(payload).toString("base64"),
        ...(decoded.errors.length === 0 && decoded.data ? { decoded_payload: decoded.data as { [key: string]: unknown } } : {}),
        ...(decoded.warnings.length ? { decoded_payload_warnings: decoded.warnings } : {}),
        rx_metadata: copies.map((x) => x.metadata),
        settings: {
          data_rate: { lora: { bandwidth: c.bandwidthHz, spreading_factor: c.spreadingFactor, coding_rate: "4/5" } },
          frequency: String(c.frequencyHz),
          timestamp: c.metadata.timestamp,
        },
        received_at: receivedAt,
        ...(confirmed ? { confirmed: true } : {}),
        consumed_airtime: formatAirtime(c.airtimeMs),
        network_ids: { net_id: this.netId.toString(16).padStart(6, "0").toUpperCase() },
      },
    };
    for (const l of this.#listeners) l(event);
  }
}

