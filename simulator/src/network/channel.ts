/**
 * The radio channel between devices and gateways: log-distance path loss with
 * seeded log-normal shadowing, receiver sensitivity per SF/BW, SNR from the
 * thermal noise floor, LoRa collisions with the capture effect, random loss,
 * and outage windows. Figures follow LoRaSim (Bor et al., "Do LoRa Low-Power
 * Wide-Area Networks Scale?", MSWiM 2016): 127.41 dB at 40 m, exponent 2.08,
 * σ 3.57 dB, SX1272 sensitivities, 6 dB capture threshold, and a packet
 * surviving interference that ends before its last 5 preamble symbols.
 *
 * Every random draw is keyed by names (link, frame start, gateway) through
 * `Rng.fork`, never by call order, so the outcome of a frame does not depend
 * on which node the fleet simulator happened to run first.
 */
import { Rng, hashMore, hashString } from "../core/rng.ts";

/** A position in metres on the simulation's plane. */
export interface Position {
  x: number;
  y: number;
  /** Height above ground (m), used only in the distance. */
  z?: number;
}

/** A time window in which nothing gets through (optionally only at one gateway). */
export interface OutageWindow {
  fromMs: number;
  toMs: number;
  /** Only this gateway is deaf (default: the whole network, uplinks and downlinks). */
  gatewayId?: string;
}

/** A LoRa frame on the air, as the channel needs to see it. */
export interface AirFrame {
  /** Unique per frame, stable for the run (e.g. the order it was recorded in). */
  id: number;
  /** Who sent it: a DevEUI or a gateway id. */
  sender: string;
  frequencyHz: number;
  spreadingFactor: number;
  bandwidthHz: number;
  startMs: number;
  endMs: number;
  txPowerDbm: number;
  position: Position;
  /** Recorded in the current epoch of a sharded run and not yet committed: only its sender sees it. */
  pending?: boolean;
  /** Its link budget at each gateway of the network that recorded it, by gateway index, once worked out (`SimNetwork`). */
  budgets?: (LinkBudget | undefined)[];
}

/** Channel model parameters (defaults: LoRaSim). */
export interface ChannelOptions {
  /** Seed or stream for shadowing, fading and random loss. */
  seed?: number | string | Rng;
  /** Path loss at the reference distance (dB). */
  referenceLossDb?: number;
  referenceDistanceM?: number;
  pathLossExponent?: number;
  /** Standard deviation of the static log-normal shadowing per link (dB). */
  shadowingSdDb?: number;
  /** Standard deviation of an extra per-frame variation (dB), 0 = none. */
  fadingSdDb?: number;
  /** Receiver noise figure (dB). */
  noiseFigureDb?: number;
  /** Power advantage with which the stronger of two colliding frames survives (dB). */
  captureThresholdDb?: number;
  /** Preamble symbols left when an interferer may still end without harm (LoRaSim: the last 5 matter). */
  criticalPreambleSymbols?: number;
  /** Probability that a frame is lost at a gateway for no modelled reason. */
  lossProbability?: number;
  /** Highest SNR a receiver reports (dB): demodulators saturate. */
  snrCeilingDb?: number;
}

/**
 * Sensitivity (dBm) by SF (7–12) and bandwidth 125/250/500 kHz, SX1272 figures
 * as used by LoRaSim.
 */
export const SENSITIVITY_DBM: { readonly [sf: number]: readonly [number, number, number] } = {
  7: [-126.5, -124.25, -120.75],
  8: [-127.25, -126.75, -124.0],
  9: [-131.25, -128.25, -127.5],
  10: [-132.75, -130.25, -128.75],
  11: [-134.5, -132.75, -128.75],
  12: [-133.25, -132.25, -132.25],
};

/** Receiver sensitivity for a spreading factor and bandwidth (dBm). */
export function sensitivityDbm(spreadingFactor: number, bandwidthHz: number): number {
  const row = SENSITIVITY_DBM[spreadingFactor];
  if (!row) throw new RangeError(`no sensitivity for SF${spreadingFactor}`);
  return row[bandwidthHz >= 500_000 ? 2 : bandwidthHz >= 250_000 ? 1 : 0];
}

/** Thermal noise floor in a bandwidth with a receiver noise figure (dBm). */
export function noiseFloorDbm(bandwidthHz: number, noiseFigureDb = 6): number {
  return -174 + 10 * Math.log10(bandwidthHz) + noiseFigureDb;
}

/** Distance between two positions (m), at least 1 m. */
export function distanceM(a: Position, b: Position): number {
  return Math.max(1, Math.hypot(a.x - b.x, a.y - b.y, (a.z ?? 0) - (b.z ?? 0)));
}

/** Signal at a receiver. */
export interface LinkBudget {
  rssi: number;
  snr: number;
}

/** The shared radio channel. */
export class RadioChannel {
  readonly referenceLossDb: number;
  readonly referenceDistanceM: number;
  readonly pathLossExponent: number;
  readonly shadowingSdDb: number;
  readonly fadingSdDb: number;
  readonly noiseFigureDb: number;
  readonly captureThresholdDb: number;
  readonly criticalPreambleSymbols: number;
  readonly snrCeilingDb: number;
  lossProbability: number;
  readonly outages: OutageWindow[] = [];
  readonly #rng: Rng;
  /** Static shadowing by link: first end → second end (in string order) → dB. */
  readonly #shadow = new Map<string, Map<string, number>>();
  /** Hash of each prefix "fade:<sender>:" / "loss:<sender>:", so a frame's stream is forked without building its name. */
  readonly #prefixes = { "fade:": new Map<string, number>(), "loss:": new Map<string, number>() };

  constructor(o: ChannelOptions = {}) {
    this.#rng = o.seed instanceof Rng ? o.seed : new Rng(o.seed ?? "channel");
    this.referenceLossDb = o.referenceLossDb ?? 127.41;
    this.referenceDistanceM = o.referenceDistanceM ?? 40;
    this.pathLossExponent = o.pathLossExponent ?? 2.08;
    this.shadowingSdDb = o.shadowingSdDb ?? 3.57;
    this.fadingSdDb = o.fadingSdDb ?? 0;
    this.noiseFigureDb = o.noiseFigureDb ?? 6;
    this.captureThresholdDb = o.captureThresholdDb ?? 6;
    this.criticalPreambleSymbols = o.criticalPreambleSymbols ?? 5;
    this.lossProbability = o.lossProbability ?? 0;
    this.snrCeilingDb = o.snrCeilingDb ?? 13.5;
  }

  /** Mean path loss at `distance` metres (dB), without shadowing. */
  pathLossDb(distance: number): number {
    return this.referenceLossDb + 10 * this.pathLossExponent * Math.log10(Math.max(distance, 1) / this.referenceDistanceM);
  }

  /** The static shadowing of the link between two named ends (dB, same both ways). */
  shadowingDb(a: string, b: string): number {
    if (this.shadowingSdDb === 0) return 0;
    const first = a < b ? a : b;
    const second = a < b ? b : a;
    let links = this.#shadow.get(first);
    if (links === undefined) this.#shadow.set(first, (links = new Map()));
    let s = links.get(second);
    if (s === undefined) {
      s = this.#rng.fork(`shadow:${first}|${second}`).normal(0, this.shadowingSdDb);
      links.set(second, s);
    }
    return s;
  }

  /** RSSI and SNR of `frame` at a receiver named `receiver` at `at`, with `gainDb` of antenna gains. */
  budget(frame: AirFrame, receiver: string, at: Position, gainDb = 0): LinkBudget {
    let loss = this.pathLossDb(distanceM(frame.position, at)) + this.shadowingDb(frame.sender, receiver);
    if (this.fadingSdDb > 0) loss += this.#frameStream("fade:", frame, receiver).normal(0, this.fadingSdDb);
    const rssi = frame.txPowerDbm + gainDb - loss;
    const snr = Math.min(this.snrCeilingDb, rssi - noiseFloorDbm(frame.bandwidthHz, this.noiseFigureDb));
    return { rssi, snr };
  }

  /** Whether a frame with this RSSI can be demodulated at all. */
  audible(frame: AirFrame, rssi: number): boolean {
    return rssi >= sensitivityDbm(frame.spreadingFactor, frame.bandwidthHz);
  }

  /** Adds an outage window. */
  addOutage(w: OutageWindow): void {
    this.outages.push(w);
  }

  /** Whether [startMs, endMs) overlaps an outage that concerns `gatewayId` (or the whole network). */
  inOutage(startMs: number, endMs: number, gatewayId?: string): boolean {
    return this.outages.some((w) => startMs < w.toMs && endMs > w.fromMs && (w.gatewayId === undefined || w.gatewayId === gatewayId));
  }

  /** Random loss of `frame` at `receiver` (seeded by the frame, not by call order). */
  randomlyLost(frame: AirFrame, receiver: string): boolean {
    return this.lossProbability > 0 && this.#frameStream("loss:", frame, receiver).chance(this.lossProbability);
  }

  /** `fork(`${kind}${sender}:${startMs}:${receiver}`)`, the stream of one frame at one receiver, without building that name. */
  #frameStream(kind: "fade:" | "loss:", frame: AirFrame, receiver: string): Rng {
    const prefixes = this.#prefixes[kind];
    let h = prefixes.get(frame.sender);
    if (h === undefined) prefixes.set(frame.sender, (h = hashString(`${kind}${frame.sender}:`)));
    return this.#rng.forkHashed(hashMore(hashMore(hashMore(h, String(frame.startMs)), ":"), receiver));
  }

  /**
   * Whether `other` can destroy `frame`: same SF, carriers closer than a
   * quarter of the bandwidth (LoRaSim: 30 kHz at 125 kHz), and `other` on the
   * air during the part of `frame` from its last critical preamble symbols on.
   */
  interferes(frame: AirFrame, other: AirFrame): boolean {
    if (other.id === frame.id || other.spreadingFactor !== frame.spreadingFactor) return false;
    if (Math.abs(other.frequencyHz - frame.frequencyHz) > Math.min(frame.bandwidthHz, other.bandwidthHz) * 0.24) return false;
    const tsym = (2 ** frame.spreadingFactor * 1000) / frame.bandwidthHz;
    const critical = frame.startMs + (8 - this.criticalPreambleSymbols) * tsym;
    return other.startMs < frame.endMs && other.endMs > critical;
  }

  /** Capture: `frame` at `rssi` survives an interferer at `otherRssi` only if it is at least the threshold stronger. */
  survives(rssi: number, otherRssi: number): boolean {
    return rssi - otherRssi >= this.captureThresholdDb;
  }
}
