/**
 * A LoRaWAN gateway (SX1301/SX1302 class): a position, the uplink channels it
 * listens on, 8 demodulators (a frame whose preamble arrives while all 8 are
 * locked onto other frames is not received), reception metadata in The Things
 * Stack's shape, and a half of the downlink path: one transmission at a time
 * and the duty cycle of each EU868 sub-band over a sliding hour.
 */
import { isoTime } from "../core/iso-time.ts";
import type { Position } from "./channel.ts";
import { region as regionParams, subBandOf, type RegionName, type RegionParams } from "./regions.ts";

/** Options of a gateway. */
export interface GatewayOptions {
  /** Gateway id (The Things Stack `gateway_id`). */
  id: string;
  /** Gateway EUI, 16 hex digits (default: derived from the id). */
  eui?: string;
  position: Position;
  region?: RegionName;
  /** Antenna gain in dBi, applied both ways (default 0). */
  antennaGainDbi?: number;
  /** Concurrent demodulators (default 8). */
  demodulators?: number;
  /** Downlink transmit power in dBm (default 14, EU868 RX1 limit; 27 in the 10 % sub-band). */
  txPowerDbm?: number;
  /** Uplink frequencies listened on (default: the region's default channels plus the usual extra ones). */
  channelsHz?: readonly number[];
  /** Enforce the downlink duty cycle (default true). */
  dutyCycle?: boolean;
}

/** One reception at a gateway, in The Things Stack's `rx_metadata` shape. */
export interface RxMetadata {
  gateway_ids: { gateway_id: string; eui: string };
  /** Concentrator counter in µs at the end of the frame (32-bit, wraps). */
  timestamp: number;
  rssi: number;
  channel_rssi: number;
  snr: number;
  channel_index: number;
  received_at: string;
}

/** A scheduled downlink. */
export interface GatewayTx {
  startMs: number;
  endMs: number;
  frequencyHz: number;
  /** Booked for this device in the current epoch of a sharded run and not yet committed (other devices do not see it). */
  pendingFor?: string;
}

/** Frames competing for demodulators: an id, the start and the end. */
export interface DemodCandidate {
  id: number;
  startMs: number;
  endMs: number;
}

const SLIDING_WINDOW_MS = 3_600_000;

/** The usual 8-channel plan of a gateway for each region. */
export function defaultGatewayChannels(r: RegionParams): number[] {
  const base = r.defaultChannels.map((c) => c.frequencyHz);
  if (r.name === "EU868") return [...base, 867_100_000, 867_300_000, 867_500_000, 867_700_000, 867_900_000];
  if (r.name === "AS923") return [...base, 922_200_000, 922_400_000, 922_600_000, 922_800_000, 923_000_000, 922_000_000];
  return base;
}

/** A gateway. */
export class Gateway {
  readonly id: string;
  readonly eui: string;
  readonly position: Position;
  readonly region: RegionParams;
  readonly antennaGainDbi: number;
  readonly demodulators: number;
  readonly txPowerDbm: number;
  readonly channelsHz: readonly number[];
  readonly dutyCycle: boolean;
  /** Downlinks this gateway has transmitted or will transmit, by start time (add them with `book`). */
  readonly transmissions: GatewayTx[] = [];
  /** The longest of them, ms: nothing starting earlier than that before a time is on the air at it. */
  #longestMs = 0;

  constructor(o: GatewayOptions) {
    this.id = o.id;
    this.eui = (o.eui ?? euiFromId(o.id)).toUpperCase();
    this.position = o.position;
    this.region = regionParams(o.region ?? "EU868");
    this.antennaGainDbi = o.antennaGainDbi ?? 0;
    this.demodulators = o.demodulators ?? 8;
    this.txPowerDbm = o.txPowerDbm ?? 14;
    this.channelsHz = o.channelsHz ?? defaultGatewayChannels(this.region);
    this.dutyCycle = o.dutyCycle ?? true;
  }

  /** Whether the gateway listens on `frequencyHz`. */
  listens(frequencyHz: number): boolean {
    return this.channelsHz.includes(frequencyHz);
  }

  /** Index of the channel in the gateway's plan (-1 if not listened on). */
  channelIndex(frequencyHz: number): number {
    return this.channelsHz.indexOf(frequencyHz);
  }

  /**
   * Which frames get no demodulator: in order of arrival, a frame finding all
   * demodulators locked onto frames still on the air is lost. Frames that
   * get one keep it to their end even if a collision later spoils them.
   */
  rejectedForDemodulators(frames: readonly DemodCandidate[]): Set<number> {
    const sorted = [...frames].sort((a, b) => a.startMs - b.startMs || a.id - b.id);
    const busyUntil: number[] = [];
    const rejected = new Set<number>();
    for (const f of sorted) {
      for (let i = busyUntil.length - 1; i >= 0; i--) if (busyUntil[i] <= f.startMs) busyUntil.splice(i, 1);
      if (busyUntil.length >= this.demodulators) rejected.add(f.id);
      else busyUntil.push(f.endMs);
    }
    return rejected;
  }

  /** Whether a downlink of `airtimeMs` at `startMs` on `frequencyHz` fits: radio free and duty cycle respected. */
  canTransmit(startMs: number, airtimeMs: number, frequencyHz: number, forDevice?: string): boolean {
    const endMs = startMs + airtimeMs;
    const a = this.transmissions;
    const band = this.dutyCycle ? subBandOf(this.region, frequencyHz) : undefined;
    // Only downlinks on the air in the duty-cycle hour before `startMs`, or overlapping this one, matter.
    let used = airtimeMs;
    for (let i = this.#firstStartingFrom(startMs - SLIDING_WINDOW_MS - this.#longestMs); i < a.length && a[i].startMs < endMs; i++) {
      const t = a[i];
      if (t.pendingFor !== undefined && t.pendingFor !== forDevice) continue;
      if (startMs < t.endMs) return false;
      if (band && t.endMs > startMs - SLIDING_WINDOW_MS && subBandOf(this.region, t.frequencyHz) === band) used += t.endMs - t.startMs;
    }
    if (!this.dutyCycle) return true;
    if (!band) return this.region.subBands.length === 0;
    return used <= band.dutyCycle * SLIDING_WINDOW_MS;
  }

  /** Adds a downlink to `transmissions`, after those starting no later. */
  book(tx: GatewayTx): void {
    const a = this.transmissions;
    const at = this.#firstStartingFrom(tx.startMs, true);
    if (at === a.length) a.push(tx);
    else a.splice(at, 0, tx);
    if (tx.endMs - tx.startMs > this.#longestMs) this.#longestMs = tx.endMs - tx.startMs;
  }

  /** Index of the first downlink starting at or after `ms` (after `ms` with `after`). */
  #firstStartingFrom(ms: number, after = false): number {
    const a = this.transmissions;
    let lo = 0;
    let hi = a.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (a[mid].startMs < ms || (after && a[mid].startMs === ms)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Books a downlink if it fits; true when booked. With `pendingFor` (a
   * DevEUI) the booking belongs to that device's current epoch: it sees its
   * own pending bookings and committed ones, nobody else's.
   */
  reserve(startMs: number, airtimeMs: number, frequencyHz: number, pendingFor?: string): boolean {
    if (!this.canTransmit(startMs, airtimeMs, frequencyHz, pendingFor)) return false;
    this.book({ startMs, endMs: startMs + airtimeMs, frequencyHz, ...(pendingFor === undefined ? {} : { pendingFor }) });
    return true;
  }

  /** Reception metadata for a frame ending at `endMs` with this RSSI/SNR. */
  metadata(rssi: number, snr: number, frequencyHz: number, endMs: number, epochUnixMs: number, receivedAt = isoTime(epochUnixMs + endMs)): RxMetadata {
    return {
      gateway_ids: { gateway_id: this.id, eui: this.eui },
      timestamp: Math.round(endMs * 1000) % 4294967296,
      rssi: Math.round(rssi),
      channel_rssi: Math.round(rssi),
      snr: Math.round(snr * 4) / 4,
      channel_index: Math.max(0, this.channelIndex(frequencyHz)),
      received_at: receivedAt,
    };
  }
}

function euiFromId(id: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return "B827EBFF" + (h >>> 0).toString(16).padStart(8, "0");
}
