/**
 * The simulated LoRaWAN network as a `RadioMedium`: modem emulators transmit
 * into it; the channel decides at each gateway whether the frame arrives
 * (channel plan, outage, sensitivity, demodulators, collisions, random loss);
 * the network server gets the copies, answers, and the downlink travels back
 * through the channel to the device.
 *
 * Time: nodes of a fleet run one after another, each on its own board clock,
 * so frames reach the medium roughly but not strictly in virtual-time order.
 * `transmit` resolves each frame against every frame recorded so far, earlier
 * or later in virtual time, and the server's decisions (join accept, ACK,
 * downlink) are made then and cannot be taken back. A frame recorded later
 * can therefore collide with one that was already delivered: `finalize()`
 * re-evaluates every uplink with all frames known and reports, per uplink,
 * whether it got through and, if not, why (and where that differs from what
 * was decided at transmit time).
 */
import { isoTime } from "../core/iso-time.ts";
import { Rng } from "../core/rng.ts";
import { RadioChannel, type AirFrame, type ChannelOptions, type LinkBudget, type OutageWindow, type Position } from "./channel.ts";
import { Gateway, type GatewayOptions, type GatewayTx } from "./gateway.ts";
import { mTypeOf, peekDataFrame } from "./lorawan-frames.ts";
import { NetworkServer, type GatewayCopy, type NetworkServerOptions, type UplinkEvent, type UplinkStatus } from "./network-server.ts";
import type { RadioMedium, Reception, Transmission } from "./radio.ts";
import type { RegionName } from "./regions.ts";

/** Why a frame did not get through to a gateway (or to the network). */
export type LossReason = "outage" | "no-channel" | "below-sensitivity" | "no-demodulator" | "collision" | "loss";

/** How one gateway fared with one uplink. */
export interface GatewayReception {
  gatewayId: string;
  rssi: number;
  snr: number;
  ok: boolean;
  reason?: LossReason;
}

/** An uplink as the network recorded it. */
export interface UplinkRecord {
  id: number;
  devEui: string;
  kind: "join" | "data" | "other";
  /** FCnt (16 bits as on air) for data frames. */
  fCnt16?: number;
  tx: Transmission;
  frame: AirFrame;
  /** Per-gateway outcome when it was transmitted. */
  atTransmit: GatewayReception[];
  /** Frames around it (`#framesAround`) known when it was transmitted: the report judges it again only if more are known then. */
  framesAround: number;
  /** What the server did with it (absent when no gateway heard it). */
  server?: UplinkStatus;
  /** The downlink sent in reply, and whether the device heard it. */
  downlink?: { window: 1 | 2; gatewayId: string; startMs: number; heard: boolean; reason?: LossReason };
}

/** One line of the delivery report. */
export interface DeliveryLine {
  id: number;
  devEui: string;
  kind: UplinkRecord["kind"];
  startMs: number;
  /** Time on air, ms, and where it went (channel and spreading factor): enough to total the offered load once records are pruned. */
  airtimeMs: number;
  frequencyHz: number;
  spreadingFactor: number;
  fCnt16?: number;
  /** Heard by at least one gateway with all frames known. */
  delivered: boolean;
  /** Why not, taken from the gateway where it came closest (the one with the best RSSI). */
  reason?: LossReason;
  /** Gateways that decoded it. */
  gateways: string[];
  /** The server's verdict at transmit time, if it got the frame then. */
  server?: UplinkStatus["status"];
  /** The transmit-time decision was different (a frame recorded later collided with it, or vice versa). */
  changed: boolean;
}

/** The delivery report of `finalize()`. */
export interface DeliveryReport {
  uplinks: DeliveryLine[];
  delivered: number;
  lost: number;
  byReason: { [reason in LossReason]?: number };
  /** Uplinks whose verdict changed once every frame was known. */
  changed: number;
}

/** Options of the simulated network. */
export interface SimNetworkOptions {
  region?: RegionName;
  /** Seed of the channel's randomness (default "network"). */
  seed?: number | string;
  /** Channel model parameters, or a channel to use. */
  channel?: ChannelOptions | RadioChannel;
  /** Gateways (default: one, "gw-1", at the origin). */
  gateways?: GatewayOptions[];
  /** The network server, or options to build one. */
  server?: NetworkServer | NetworkServerOptions;
  /**
   * Epochs (sharded runs): a frame's fate at transmit time, and a downlink's
   * gateway booking, are decided against the committed frames and bookings
   * (earlier epochs, every device) and the sender's own pending ones only;
   * `takeEpoch()` / `commit()` merge the epoch's frames of every shard at a
   * barrier. Outcomes then do not depend on which devices share a process.
   * `finalize()` / `prune()` still judge every frame against all frames.
   */
  epochs?: boolean;
}

/** One shard's frames and gateway bookings of an epoch, for `commit()` (structured-clone safe). */
export interface EpochBatch {
  frames: AirFrame[];
  bookings: { gatewayId: string; tx: GatewayTx }[];
}

/** A device's place in the world. */
interface Placement {
  position: Position;
  antennaGainDbi: number;
}

/** Longest frame we will ever see (SF12 at 125 kHz, 255 bytes), to bound the collision search. */
const MAX_AIRTIME_MS = 10_000;
/** Ids of pending frames start here: above every committed id, so ties sort committed frames first in every shard. */
const PROVISIONAL_ID = 2 ** 40;

/** The simulated LoRaWAN network. */
export class SimNetwork implements RadioMedium {
  readonly channel: RadioChannel;
  readonly server: NetworkServer;
  readonly gateways: Gateway[] = [];
  readonly uplinks: UplinkRecord[] = [];
  readonly #region: RegionName;
  readonly #devices = new Map<string, Placement>();
  /** Uplink frames sorted by start time, for the collision search. */
  readonly #byStart: AirFrame[] = [];
  /** Changes to #byStart so far (inserts, prunes): a window counted since none is still right. */
  #byStartChanges = 0;
  /** The last frame whose window `#demodulatorsBusy` counted (its receptions at every gateway ask in turn). */
  #window = { frame: undefined as AirFrame | undefined, changes: -1, first: 0, candidates: 0 };
  readonly #epochs: boolean;
  /** This shard's pending frames and their records, by provisional id (other shards number theirs from the same start: check the sender). */
  readonly #pending = new Map<number, { frame: AirFrame; record: UplinkRecord | undefined }>();
  #nextId = 1;
  #provisional = PROVISIONAL_ID;

  constructor(o: SimNetworkOptions = {}) {
    this.#region = o.region ?? "EU868";
    this.#epochs = o.epochs ?? false;
    const seed = o.seed ?? "network";
    this.channel = o.channel instanceof RadioChannel ? o.channel : new RadioChannel({ seed: new Rng(seed).fork("channel"), ...o.channel });
    this.server = o.server instanceof NetworkServer ? o.server : new NetworkServer({ region: this.#region, ...o.server });
    for (const g of o.gateways ?? [{ id: "gw-1", position: { x: 0, y: 0, z: 15 } }]) this.addGateway(g);
  }

  /** Adds a gateway. */
  addGateway(o: GatewayOptions): Gateway {
    const g = new Gateway({ region: this.#region, ...o });
    this.gateways.push(g);
    return g;
  }

  /** Places a device (by DevEUI) in the world; it must be placed before it transmits. */
  placeDevice(devEui: string, position: Position, antennaGainDbi = 0): void {
    this.#devices.set(devEui.toUpperCase(), { position, antennaGainDbi });
  }

  /** Adds an outage window (nothing gets through, up or down, at one gateway or everywhere). */
  addOutage(w: OutageWindow): void {
    this.channel.addOutage(w);
  }

  /** Whether the network runs in epochs (see `SimNetworkOptions.epochs`): no device sees another's frames or bookings of the open epoch. */
  get epochs(): boolean {
    return this.#epochs;
  }

  /** Subscribes to application uplink events. */
  subscribe(listener: (e: UplinkEvent) => void): () => void {
    return this.server.subscribe(listener);
  }

  transmit(tx: Transmission): Reception | undefined {
    const devEui = tx.devEui.toUpperCase();
    const place = this.#devices.get(devEui);
    if (!place) throw new Error(`device ${devEui} transmitted but was never placed: call placeDevice() first`);
    const frame: AirFrame = {
      id: this.#epochs ? this.#provisional++ : this.#nextId++,
      sender: devEui,
      frequencyHz: tx.frequencyHz,
      spreadingFactor: tx.spreadingFactor,
      bandwidthHz: tx.bandwidthHz,
      startMs: tx.startMs,
      endMs: tx.startMs + tx.airtimeMs,
      txPowerDbm: tx.txPowerDbm + place.antennaGainDbi,
      position: place.position,
      // Every frame has the same fields from the start (V8 then keeps one shape for them in the collision loops).
      pending: this.#epochs,
      budgets: undefined,
    };
    this.#insert(frame);
    const mType = mTypeOf(tx.phyPayload);
    const record: UplinkRecord = {
      id: frame.id,
      devEui,
      kind: mType === "join-request" ? "join" : mType === "unconfirmed-up" || mType === "confirmed-up" ? "data" : "other",
      tx,
      frame,
      atTransmit: this.gateways.map((_, gi) => this.#receive(frame, gi)),
      framesAround: this.#framesAround(frame, false),
    };
    const fCnt16 = record.kind === "data" ? peekDataFrame(tx.phyPayload)?.fCnt16 : undefined;
    if (fCnt16 !== undefined) record.fCnt16 = fCnt16;
    this.uplinks.push(record);
    if (frame.pending) this.#pending.set(frame.id, { frame, record });

    const copies: GatewayCopy[] = [];
    // Every gateway stamps the frame's end with the same time.
    let receivedAt: string | undefined;
    for (const r of record.atTransmit) {
      if (!r.ok) continue;
      const g = this.gateways.find((x) => x.id === r.gatewayId)!;
      receivedAt ??= isoTime(this.server.epochUnixMs + frame.endMs);
      copies.push({
        gatewayId: g.id,
        phyPayload: tx.phyPayload,
        rssi: r.rssi,
        snr: r.snr,
        metadata: g.metadata(r.rssi, r.snr, tx.frequencyHz, frame.endMs, this.server.epochUnixMs, receivedAt),
        frequencyHz: tx.frequencyHz,
        dataRate: tx.dataRate,
        spreadingFactor: tx.spreadingFactor,
        bandwidthHz: tx.bandwidthHz,
        startMs: tx.startMs,
        airtimeMs: tx.airtimeMs,
      });
    }
    if (!copies.length) return undefined;
    const owner = this.#epochs ? devEui : undefined;
    const status = this.server.handleUplink(copies, (id, startMs, airtimeMs, frequencyHz) => this.gateways.find((g) => g.id === id)?.reserve(startMs, airtimeMs, frequencyHz, owner) ?? false);
    record.server = status;
    const plan = "downlink" in status ? status.downlink : undefined;
    if (!plan) return undefined;
    const g = this.gateways.find((x) => x.id === plan.gatewayId)!;
    // The downlink goes back over the same link; gateways in the 10 % RX2 sub-band may use more power, we keep one figure.
    const down: AirFrame = {
      id: 0,
      sender: g.id,
      frequencyHz: plan.frequencyHz,
      spreadingFactor: plan.spreadingFactor,
      bandwidthHz: plan.bandwidthHz,
      startMs: plan.startMs,
      endMs: plan.startMs + plan.airtimeMs,
      txPowerDbm: g.txPowerDbm + g.antennaGainDbi,
      position: g.position,
    };
    const b = this.channel.budget(down, devEui, place.position, place.antennaGainDbi);
    let reason: LossReason | undefined;
    if (this.channel.inOutage(down.startMs, down.endMs, g.id)) reason = "outage";
    else if (!this.channel.audible(down, b.rssi)) reason = "below-sensitivity";
    else if (this.channel.randomlyLost(down, devEui)) reason = "loss";
    record.downlink = { window: plan.window, gatewayId: g.id, startMs: plan.startMs, heard: !reason, ...(reason ? { reason } : {}) };
    if (reason) return undefined;
    return { phyPayload: plan.phyPayload, window: plan.window, atMs: down.endMs, rssi: b.rssi, snr: b.snr };
  }

  #insert(frame: AirFrame): void {
    const a = this.#byStart;
    let lo = 0;
    let hi = a.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (a[mid].startMs <= frame.startMs) lo = mid + 1;
      else hi = mid;
    }
    a.splice(lo, 0, frame);
    this.#byStartChanges++;
  }

  /** Index in the by-start list of the first frame that can overlap [fromMs, …): none starting earlier can. */
  #firstOverlapping(fromMs: number): number {
    const a = this.#byStart;
    let lo = 0;
    let hi = a.length;
    const earliest = fromMs - MAX_AIRTIME_MS;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (a[mid].startMs < earliest) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Whether `f` makes it to `g` among the frames known now (or all of them, in
   * `finalize`); at transmit time in epochs, other senders' pending frames are not known.
   */
  #receive(f: AirFrame, gi: number, all = false): GatewayReception {
    const g = this.gateways[gi];
    const b = this.#budgetAt(f, gi);
    let reason: LossReason | undefined;
    if (this.channel.inOutage(f.startMs, f.endMs, g.id)) reason = "outage";
    else if (!g.listens(f.frequencyHz)) reason = "no-channel";
    else if (!this.channel.audible(f, b.rssi)) reason = "below-sensitivity";
    else if (this.#demodulatorsBusy(f, gi, all)) reason = "no-demodulator";
    else if (this.#collides(f, gi, all, b.rssi)) reason = "collision";
    else if (this.channel.randomlyLost(f, g.id)) reason = "loss";
    return reason ? { gatewayId: g.id, rssi: b.rssi, snr: b.snr, ok: false, reason } : { gatewayId: g.id, rssi: b.rssi, snr: b.snr, ok: true };
  }

  /** `channel.budget` of frame `x` at gateway `gi`: fixed for the frame, so worked out once and kept on it (every later frame overlapping it asks again). */
  #budgetAt(x: AirFrame, gi: number): LinkBudget {
    const budgets = (x.budgets ??= []);
    let b = budgets[gi];
    if (b === undefined) {
      const g = this.gateways[gi];
      b = budgets[gi] = this.channel.budget(x, g.id, g.position, g.antennaGainDbi);
    }
    return b;
  }

  /**
   * Frames known to a reception of `f` judged now that lie in the window a
   * reception looks at (`#demodulatorsBusy`'s, which holds `#collides`'s),
   * `f` included. Frames only join that window, so the same count later
   * means the same frames, and the same outcome.
   */
  #framesAround(f: AirFrame, all: boolean, first = this.#firstOverlapping(f.startMs - MAX_AIRTIME_MS)): number {
    const a = this.#byStart;
    const fromMs = f.startMs - MAX_AIRTIME_MS;
    let n = 0;
    for (let i = first; i < a.length && a[i].startMs < f.endMs; i++) if (a[i].endMs > fromMs && this.#known(a[i], f, all)) n++;
    return n;
  }

  /** Whether frame `x` is known to a reception of `f` judged now (all frames in `finalize`; at transmit time in epochs, not other senders' pending ones). */
  #known(x: AirFrame, f: AirFrame, all: boolean): boolean {
    return all || !x.pending || x.sender === f.sender;
  }

  /**
   * Where the window `#demodulatorsBusy` looks at for `f` begins in the by-start list, and how many frames of
   * every sender it holds (`#framesAround` of all): the same at every gateway, so worked out once per frame
   * while the index stands still.
   */
  #windowOf(f: AirFrame): { first: number; candidates: number } {
    const w = this.#window;
    if (w.frame !== f || w.changes !== this.#byStartChanges) {
      w.frame = f;
      w.changes = this.#byStartChanges;
      w.first = this.#firstOverlapping(f.startMs - MAX_AIRTIME_MS);
      w.candidates = this.#framesAround(f, true, w.first);
    }
    return w;
  }

  /** Whether every demodulator of `g` is taken by frames that locked on before `f` (listened, audible, no outage, started no later). */
  #demodulatorsBusy(f: AirFrame, gi: number, all: boolean): boolean {
    const g = this.gateways[gi];
    const a = this.#byStart;
    const fromMs = f.startMs - MAX_AIRTIME_MS;
    // `f` is refused only behind `demodulators` others: with no more frames than that on the air at all, it is not.
    const { first, candidates } = this.#windowOf(f);
    if (candidates <= g.demodulators) return false;
    const locking: AirFrame[] = [];
    for (let i = first; i < a.length && a[i].startMs < f.endMs; i++) {
      const x = a[i];
      if (
        x.endMs > fromMs &&
        this.#known(x, f, all) &&
        x.startMs <= f.startMs &&
        g.listens(x.frequencyHz) &&
        !this.channel.inOutage(x.startMs, x.endMs, g.id) &&
        this.channel.audible(x, this.#budgetAt(x, gi).rssi)
      ) {
        locking.push(x);
      }
    }
    return g.rejectedForDemodulators(locking).has(f.id);
  }

  /** Whether a known frame overlapping `f` at `g` destroys it (capture lost). */
  #collides(f: AirFrame, gi: number, all: boolean, rssi: number): boolean {
    const a = this.#byStart;
    for (let i = this.#firstOverlapping(f.startMs); i < a.length && a[i].startMs < f.endMs; i++) {
      const x = a[i];
      if (x.endMs <= f.startMs || !this.#known(x, f, all) || !this.channel.interferes(f, x)) continue;
      if (!this.channel.survives(rssi, this.#budgetAt(x, gi).rssi)) return true;
    }
    return false;
  }

  /** This shard's pending frames and gateway bookings of the current epoch (epochs only). */
  takeEpoch(): EpochBatch {
    // Without their budgets: the other shards work out their own when they need them.
    const frames = [...this.#pending.values()].map(({ frame: { budgets: _budgets, ...f } }) => f);
    const bookings: EpochBatch["bookings"] = [];
    for (const g of this.gateways) for (const tx of g.transmissions) if (tx.pendingFor !== undefined) bookings.push({ gatewayId: g.id, tx: { ...tx } });
    return { frames, bookings };
  }

  /**
   * Ends an epoch: the frames and bookings of every shard (this one's
   * included) become known to every device. Frames get their final ids in
   * the order (start, sender, provisional id), the same in every shard.
   */
  commit(batches: readonly EpochBatch[]): void {
    const frames = batches.flatMap((b) => b.frames);
    frames.sort((a, b) => a.startMs - b.startMs || (a.sender < b.sender ? -1 : a.sender > b.sender ? 1 : 0) || a.id - b.id);
    for (const f of frames) {
      const id = this.#nextId++;
      const own = this.#pending.get(f.id);
      if (own && own.frame.sender === f.sender) {
        own.frame.id = id;
        own.frame.pending = false;
        if (own.record) own.record.id = id;
      } else {
        this.#insert({
          id,
          sender: f.sender,
          frequencyHz: f.frequencyHz,
          spreadingFactor: f.spreadingFactor,
          bandwidthHz: f.bandwidthHz,
          startMs: f.startMs,
          endMs: f.endMs,
          txPowerDbm: f.txPowerDbm,
          position: f.position,
          pending: false,
          budgets: undefined,
        });
      }
    }
    this.#pending.clear();
    for (const g of this.gateways) for (const tx of g.transmissions) delete tx.pendingFor;
    for (const b of batches) {
      for (const { gatewayId, tx } of b.bookings) {
        if (tx.pendingFor !== undefined && this.#devices.has(tx.pendingFor)) continue; // booked here
        this.gateways.find((g) => g.id === gatewayId)?.book({ startMs: tx.startMs, endMs: tx.endMs, frequencyHz: tx.frequencyHz });
      }
    }
  }

  /**
   * Re-evaluates every uplink with all frames known and reports per uplink
   * whether it was delivered (heard by at least one gateway) and why not.
   */
  finalize(): DeliveryReport {
    return this.#report(this.uplinks);
  }

  /**
   * For long fleet runs: reports (as `finalize` would) and forgets the uplinks
   * that ended more than 20 s before `beforeMs`. Call it only once every
   * node's clock has passed `beforeMs`, so no frame that could still collide
   * with them is missing.
   */
  prune(beforeMs: number): DeliveryReport {
    const cutoff = beforeMs - 2 * MAX_AIRTIME_MS;
    const old: UplinkRecord[] = [];
    const keep: UplinkRecord[] = [];
    for (const r of this.uplinks) (r.frame.endMs < cutoff ? old : keep).push(r);
    const report = this.#report(old);
    this.uplinks.length = 0;
    this.uplinks.push(...keep);
    // Frames stay in the collision index a little longer: newer frames look back up to 10 s before they start.
    const keepFrom = beforeMs - 4 * MAX_AIRTIME_MS;
    let drop = 0;
    while (drop < this.#byStart.length && this.#byStart[drop].startMs + MAX_AIRTIME_MS < keepFrom) drop++;
    this.#byStart.splice(0, drop);
    this.#byStartChanges++;
    return report;
  }

  #report(records: readonly UplinkRecord[]): DeliveryReport {
    const lines: DeliveryLine[] = [];
    const byReason: DeliveryReport["byReason"] = {};
    let delivered = 0;
    let changed = 0;
    for (const r of records) {
      // Counted by the window its receptions then judge in, not a second time.
      const results = this.#windowOf(r.frame).candidates === r.framesAround ? r.atTransmit : this.gateways.map((_, gi) => this.#receive(r.frame, gi, true));
      const ok = results.filter((x) => x.ok);
      const wasOk = r.atTransmit.some((x) => x.ok);
      const best = [...results].sort((a, b) => b.rssi - a.rssi)[0];
      const line: DeliveryLine = {
        id: r.id,
        devEui: r.devEui,
        kind: r.kind,
        startMs: r.tx.startMs,
        airtimeMs: r.tx.airtimeMs,
        frequencyHz: r.tx.frequencyHz,
        spreadingFactor: r.tx.spreadingFactor,
        delivered: ok.length > 0,
        gateways: ok.map((x) => x.gatewayId),
        changed: wasOk !== ok.length > 0,
      };
      if (r.fCnt16 !== undefined) line.fCnt16 = r.fCnt16;
      if (r.server) line.server = r.server.status;
      if (!line.delivered && best?.reason) {
        line.reason = best.reason;
        byReason[best.reason] = (byReason[best.reason] ?? 0) + 1;
      }
      if (line.delivered) delivered++;
      if (line.changed) changed++;
      lines.push(line);
    }
    return { uplinks: lines, delivered, lost: lines.length - delivered, byReason, changed };
  }
}
