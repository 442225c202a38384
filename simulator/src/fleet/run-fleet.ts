/**
 * Runs several `SimNode`s on one `SimNetwork` in virtual time. Every node has
 * its own board clock; the runner always lets the node whose next event
 * (boot, pin poll, scheduled action) comes first take it, using a binary heap
 * keyed by `nextEventMs`, so transmissions reach the network nearly in time
 * order (a boot that starts first may still transmit after a later one has
 * started: the network's `finalize()` settles collisions with every frame
 * known). The network's application events are collected with the virtual
 * time they were received and the node they came from.
 */
import type { UplinkEvent } from "../network/network-server.ts";
import type { DeliveryReport, SimNetwork } from "../network/network.ts";
import type { SimNode } from "./sim-node.ts";
import { TimeQueue } from "./time-queue.ts";

/** An application event from the network, with its virtual receive time and its node. */
export interface FleetEvent {
  /** Virtual ms at which the network server received the uplink (end of the frame). */
  atMs: number;
  /** The node's id (`SimNode.id`), or the device id in the event if the node is not in the fleet. */
  nodeId: string;
  event: UplinkEvent;
}

/** Options of `Fleet`. */
export interface FleetOptions {
  /**
   * Forget delivered uplink records of the network every this many virtual
   * ms (`SimNetwork.prune`), adding their delivery report to `delivery`; for
   * long runs of many nodes. Default: never (call `network.finalize()` at the end).
   */
  pruneEveryMs?: number;
  /** Receives each application event as it comes, instead of `events` collecting them (a long run can then keep only what it makes of them). */
  onEvent?: (e: FleetEvent) => void;
}

/** Delivery totals over the pruned parts of a run. */
export interface DeliveryTotals {
  delivered: number;
  lost: number;
  changed: number;
  byReason: DeliveryReport["byReason"];
}

/**
 * Hands the network's application events as `FleetEvent`s to `sink`,
 * naming each by `idOf(DevEUI)` (or the event's device id for a device not in the fleet).
 */
export function collectEvents(network: SimNetwork, sink: (e: FleetEvent) => void, idOf: (devEui: string) => string | undefined): void {
  const epochMs = network.server.epochUnixMs;
  network.subscribe((event) => {
    sink({ atMs: Date.parse(event.received_at) - epochMs, nodeId: idOf(event.end_device_ids.dev_eui.toUpperCase()) ?? event.end_device_ids.device_id, event });
  });
}

/** Several nodes on one network, run in global virtual-time order. */
export class Fleet {
  readonly network: SimNetwork;
  readonly nodes: SimNode[] = [];
  readonly events: FleetEvent[] = [];
  readonly delivery: DeliveryTotals = { delivered: 0, lost: 0, changed: 0, byReason: {} };
  readonly #byDevEui = new Map<string, SimNode>();
  /** The nodes by next event, for runs in time order (not `#oneAfterAnother`). */
  readonly #queue = new TimeQueue<SimNode>();
  readonly #pruneEveryMs: number;
  /** Whether `runUntil` runs the nodes one after another: on a network in epochs with no pruning of the fleet's own. */
  readonly #oneAfterAnother: boolean;
  #nextPruneMs: number;
  #nowMs = 0;

  constructor(network: SimNetwork, nodes: readonly SimNode[] = [], options: FleetOptions = {}) {
    this.network = network;
    this.#pruneEveryMs = options.pruneEveryMs ?? 0;
    this.#nextPruneMs = this.#pruneEveryMs || Number.POSITIVE_INFINITY;
    this.#oneAfterAnother = network.epochs && !this.#pruneEveryMs;
    collectEvents(network, options.onEvent ?? ((e) => this.events.push(e)), (devEui) => this.#byDevEui.get(devEui)?.id);
    for (const n of nodes) this.add(n);
  }

  /** Virtual time the fleet has been run to. */
  get nowMs(): number {
    return this.#nowMs;
  }

  /** Adds a node (it must have been built on this fleet's network). */
  add(node: SimNode): void {
    if (node.network !== this.network) throw new Error(`node ${node.id} belongs to another network`);
    if (this.#byDevEui.has(node.devEui)) throw new Error(`DevEUI ${node.devEui} twice in the fleet`);
    this.nodes.push(node);
    this.#byDevEui.set(node.devEui, node);
    if (!this.#oneAfterAnother) this.#queue.push(node, node.nextEventMs);
  }

  /** The node with this id. */
  node(id: string): SimNode | undefined {
    return this.nodes.find((n) => n.id === id);
  }

  /** Events of one node, in arrival order. */
  eventsOf(id: string): FleetEvent[] {
    return this.events.filter((e) => e.nodeId === id);
  }

  /**
   * Runs every node until virtual time `untilMs`: the earliest next event
   * first, ties in the order nodes were added. On a network in epochs (with
   * no pruning of its own) no node sees another's frames or bookings before
   * the epoch is committed, so the nodes run one after another instead: the
   * same outcome, with each node's state kept in the CPU's caches through its
   * stretch rather than evicted by every other node's next event (a fleet of
   * 1,000 nodes takes one step of each in turn).
   */
  runUntil(untilMs: number): void {
    if (this.#oneAfterAnother) {
      for (const n of this.nodes) n.runUntil(untilMs);
      this.#nowMs = Math.max(this.#nowMs, untilMs);
      return;
    }
    const queue = this.#queue;
    while (queue.nextT <= untilMs) {
      const t = queue.nextT;
      const node = queue.peek()!;
      if (t >= this.#nextPruneMs) this.#prune(t);
      node.step();
      queue.replaceTop(node, node.nextEventMs);
    }
    for (const n of this.nodes) n.clock.advanceTo(untilMs);
    this.#nowMs = Math.max(this.#nowMs, untilMs);
  }

  #prune(t: number): void {
    // Every node's next transmission starts at or after its next event, so nothing before `t` can still collide.
    const r = this.network.prune(t);
    const d = this.delivery;
    d.delivered += r.delivered;
    d.lost += r.lost;
    d.changed += r.changed;
    for (const [k, v] of Object.entries(r.byReason)) d.byReason[k as keyof DeliveryTotals["byReason"]] = (d.byReason[k as keyof DeliveryTotals["byReason"]] ?? 0) + (v ?? 0);
    while (this.#nextPruneMs <= t) this.#nextPruneMs += this.#pruneEveryMs;
  }
}

/** Per-node figures of a run. */
export interface FleetNodeSummary {
  id: string;
  type: SimNode["type"];
  boots: number;
  awakeMs: number;
  pinWakes: number;
  /** Boots started by the ULP program (water nodes). */
  ulpWakes: number;
  /** Application events received from the node. */
  uplinks: number;
  /** Of which alarms (fPort 2, 5, 8). */
  alarms: number;
  /** Airtime of those uplinks, ms (`consumed_airtime`). */
  airtimeMs: number;
}

/** Sums of a run per node, from the node counters and the collected events. */
export function summarize(fleet: Fleet): FleetNodeSummary[] {
  return fleet.nodes.map((n) => {
    const events = fleet.eventsOf(n.id);
    return {
      id: n.id,
      type: n.type,
      boots: n.counters.boots,
      awakeMs: n.counters.awakeMs,
      pinWakes: n.counters.pinWakes,
      ulpWakes: n.counters.ulpWakes,
      uplinks: events.length,
      alarms: events.filter((e) => [2, 5, 8].includes(e.event.uplink_message.f_port)).length,
      airtimeMs: events.reduce((s, e) => s + airtimeMs(e.event.uplink_message.consumed_airtime), 0),
    };
  });
}

/** `consumed_airtime` ("0.061696s") in ms. */
export function airtimeMs(consumed: string): number {
  const s = Number.parseFloat(consumed);
  return Number.isFinite(s) ? s * 1000 : 0;
}

/** Runs `nodes` on `network` until `untilMs` and returns the fleet (events, nodes, delivery). */
export function runFleet(network: SimNetwork, nodes: readonly SimNode[], untilMs: number, options: FleetOptions = {}): Fleet {
  const fleet = new Fleet(network, nodes, options);
  fleet.runUntil(untilMs);
  return fleet;
}
