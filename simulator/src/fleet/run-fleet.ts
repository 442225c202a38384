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
}

/** Delivery totals over the pruned parts of a run. */
export interface DeliveryTotals {
  delivered: number;
  lost: number;
  changed: number;
  byReason: DeliveryReport["byReason"];
}

interface Entry {
  t: number;
  order: number;
  node: SimNode;
}

/** Several nodes on one network, run in global virtual-time order. */
export class Fleet {
  readonly network: SimNetwork;
  readonly nodes: SimNode[] = [];
  readonly events: FleetEvent[] = [];
  readonly delivery: DeliveryTotals = { delivered: 0, lost: 0, changed: 0, byReason: {} };
  readonly #byDevEui = new Map<string, SimNode>();
  readonly #heap: Entry[] = [];
  readonly #pruneEveryMs: number;
  readonly #epochMs: number;
  #nextPruneMs: number;
  #order = 0;
  #nowMs = 0;

  constructor(network: SimNetwork, nodes: readonly SimNode[] = [], options: FleetOptions = {}) {
    this.network = network;
    this.#pruneEveryMs = options.pruneEveryMs ?? 0;
    this.#nextPruneMs = this.#pruneEveryMs || Number.POSITIVE_INFINITY;
    this.#epochMs = network.server.epochUnixMs;
    network.subscribe((event) => {
      const node = this.#byDevEui.get(event.end_device_ids.dev_eui.toUpperCase());
      this.events.push({ atMs: Date.parse(event.received_at) - this.#epochMs, nodeId: node ? node.id : event.end_device_ids.device_id, event });
    });
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
    this.#push(node);
  }

  /** The node with this id. */
  node(id: string): SimNode | undefined {
    return this.nodes.find((n) => n.id === id);
  }

  /** Events of one node, in arrival order. */
  eventsOf(id: string): FleetEvent[] {
    return this.events.filter((e) => e.nodeId === id);
  }

  /** Runs every node until virtual time `untilMs`: the earliest next event first, ties in the order nodes were added. */
  runUntil(untilMs: number): void {
    const heap = this.#heap;
    while (heap.length && heap[0].t <= untilMs) {
      const top = this.#pop();
      if (top.t >= this.#nextPruneMs) this.#prune(top.t);
      top.node.step();
      this.#push(top.node);
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

  #push(node: SimNode): void {
    const t = node.nextEventMs;
    if (t === Number.POSITIVE_INFINITY) return;
    const heap = this.#heap;
    const e: Entry = { t, order: this.#order++, node };
    heap.push(e);
    let i = heap.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(heap[i], heap[p])) break;
      [heap[i], heap[p]] = [heap[p], heap[i]];
      i = p;
    }
  }

  #pop(): Entry {
    const heap = this.#heap;
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && less(heap[l], heap[m])) m = l;
        if (r < heap.length && less(heap[r], heap[m])) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m], heap[i]];
        i = m;
      }
    }
    return top;
  }
}

function less(a: Entry, b: Entry): boolean {
  return a.t < b.t || (a.t === b.t && a.order < b.order);
}

/** Per-node figures of a run. */
export interface FleetNodeSummary {
  id: string;
  type: SimNode["type"];
  boots: number;
  awakeMs: number;
  pinWakes: number;
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
