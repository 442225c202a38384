/**
 * `--engine xs`: the nodes of a run in Moddable's XS engine (one xsnap-worker
 * for the whole fleet), the world and the LoRaWAN network in Node. See
 * simulator/src/xs/README.md for the boundary.
 *
 * In XS (simulator/src/xs/node-runtime.ts): each node's `SimNode` — its board,
 * emulated chips, modem emulator (with lora-packet on Buffer and crypto shims),
 * battery, pin wakes and firmware. In Node: the environment functions (world
 * models) and the network (radio channel, gateways, network server). The XS
 * side calls the Node side synchronously over `issueCommand` for environment
 * samples, each transmitted frame (answered with the RX1/RX2 downlink, if any)
 * and the node's registration; the Node side steps the nodes with commands.
 *
 * `XsFleet` runs the nodes in exactly the order `Fleet` (run-fleet.ts) does —
 * the earliest next event first, ties to the node that waited longest — so the
 * network sees the same transmissions in the same order and a run is byte for
 * byte the run of the Node engine. To save round trips, one command lets a node
 * take every event it would take in a row under `Fleet`: those before the next
 * other node's event.
 */
import { fileURLToPath } from "node:url";
import type { SimNetwork } from "../network/network.ts";
import type { Reception, Transmission } from "../network/radio.ts";
import type { RegionName } from "../network/regions.ts";
import type { Position } from "../network/channel.ts";
import type { DeviceRegistration } from "../network/network-server.ts";
import { bundleForXs } from "../xs/bundle.ts";
import { Xsnap, type XsnapMeter } from "../xs/xsnap.ts";
import { decodeWire, encodeWire } from "../xs/wire.ts";
import type { XsNodeSpec, XsRunReply } from "../xs/node-runtime.ts";
import { collectEvents, type FleetEvent, type FleetOptions } from "./run-fleet.ts";
import { TimeQueue } from "./time-queue.ts";
import type { ModemModel, NodeType, SimNodeCounters, SimNodeEnvironment, SimNodeOptions } from "./sim-node.ts";

const RUNTIME = fileURLToPath(new URL("../xs/node-runtime.ts", import.meta.url));
const SHIMS = fileURLToPath(new URL("../xs/shims/", import.meta.url));

let bundled: Promise<string> | undefined;

/** The XS side's script (built once per process: esbuild takes a moment). */
export function xsNodeRuntime(): Promise<string> {
  bundled ??= bundleForXs(RUNTIME, { replace: { crypto: SHIMS + "crypto.ts" }, inject: [SHIMS + "buffer.ts"] });
  return bundled;
}

/** XS figures of a run: compute per wake by node type and the heap. */
export interface XsFigures {
  /** Per node type: wakes measured, mean and largest XS compute of one wake (firmware, emulated chips and modem, SimNode's harness). */
  computePerWake: { [T in NodeType]?: { wakes: number; mean: number; max: number } };
  /** Largest `currentHeapCount` (32-byte slots) the worker reported after any command: all nodes together, garbage included (so near the heap's size). */
  peakHeapSlots: number;
  /** Largest live heap, slots: `currentHeapCount` after the full GC at the end of every `XsFleet.runUntil` (the CLI's: every simulated hour). */
  peakLiveHeapSlots: number;
  /** Commands sent to XS, and calls XS made back (environment samples, frames transmitted, registrations). */
  commands: number;
  hostCalls: number;
}

/** A node running in XS, as the Node side sees it (what the fleet runner and the reports read of a `SimNode`). */
export class XsNode {
  readonly type: NodeType;
  readonly id: string;
  readonly network: SimNetwork;
  readonly modemModel: ModemModel;
  readonly region: RegionName;
  /** What the reports read of the modem emulator in XS: its data rate (after every command). */
  readonly modem = { device: { dr: 0 } };
  devEui = "";
  counters: SimNodeCounters = { boots: 0, awakeMs: 0, pinWakes: 0, ulpWakes: 0, polls: 0, powerCuts: 0, railMs: 0 };
  /** Virtual time of the node's next event in XS. */
  nextEventMs = Number.POSITIVE_INFINITY;
  readonly index: number;
  readonly environment: SimNodeEnvironment;
  /** Rate error of the node's RTC, ppm (`SimNodeOptions.rtcPpm`). */
  readonly rtcPpm: number;

  constructor(index: number, o: SimNodeOptions) {
    this.index = index;
    this.rtcPpm = o.rtcPpm ?? 0;
    this.type = o.type;
    this.id = o.id;
    this.network = o.network;
    this.modemModel = o.modem ?? "wio-e5";
    this.region = o.region ?? (o.network.server.region.name as RegionName);
    this.environment = o.environment ?? {};
  }
}

/** One xsnap-worker hosting the nodes of one network (given by the first node added). */
export class XsEngine {
  #network: SimNetwork | undefined;
  readonly nodes: XsNode[] = [];
  readonly figures: XsFigures = { computePerWake: {}, peakHeapSlots: 0, peakLiveHeapSlots: 0, commands: 0, hostCalls: 0 };
  readonly #xs: Xsnap;
  readonly #sums = new Map<NodeType, number>();
  #adding: XsNode | undefined;

  private constructor(xs: Xsnap) {
    this.#xs = xs;
  }

  /** The network of the nodes. */
  get network(): SimNetwork {
    if (!this.#network) throw new Error("no node added to the XS engine yet");
    return this.#network;
  }

  /** Starts a worker and loads the node runtime into it. */
  static async start(): Promise<XsEngine> {
    const code = await xsNodeRuntime();
    // The worker calls back only during commands, which come after the engine exists.
    const box: { engine?: XsEngine } = {};
    const xs = await Xsnap.start({
      name: "xs-nodes",
      handleCommand: (request) => box.engine!.#answer(new TextDecoder().decode(request)),
      onConsole: (level, text) => process.stderr.write(`xs ${level}: ${text}\n`),
    });
    const engine = (box.engine = new XsEngine(xs));
    try {
      engine.#meter((await xs.evaluate(code)).meter);
    } catch (e) {
      await xs.close();
      throw e;
    }
    return engine;
  }

  /** Builds a node in XS from the same options as a `SimNode` (no scheduled actions or hooks: functions of the node cannot cross). */
  async add(o: SimNodeOptions): Promise<XsNode> {
    if (o.faults?.length || o.beforeBoot || o.afterBoot || typeof o.battery === "function" || o.clock) {
      throw new Error(`node ${o.id}: the XS engine does not take faults, boot hooks, a battery curve or a clock`);
    }
    this.#network ??= o.network;
    if (o.network !== this.#network) throw new Error(`node ${o.id} belongs to another network`);
    const node = new XsNode(this.nodes.length, o);
    const spec: XsNodeSpec = {
      type: o.type, id: o.id, seed: o.seed, position: o.position, modem: node.modemModel, region: node.region,
      environment: Object.keys(node.environment) as (keyof SimNodeEnvironment)[],
      ...(o.config ? { config: o.config } : {}), ...(o.settings ? { settings: o.settings } : {}), ...(o.battery ? { battery: o.battery } : {}),
      ...(o.devEui ? { devEui: o.devEui } : {}), ...(o.addressIndex !== undefined ? { addressIndex: o.addressIndex } : {}), ...(o.firstBootMs !== undefined ? { firstBootMs: o.firstBootMs } : {}), ...(o.pollMs ? { pollMs: o.pollMs } : {}),
      ...(o.rtcPpm ? { rtcPpm: o.rtcPpm } : {}),
    };
    this.#adding = node;
    try {
      const r = await this.#command<{ devEui: string; next: number }>({ op: "add", node: spec });
      node.devEui = r.devEui;
      node.nextEventMs = r.next;
    } finally {
      this.#adding = undefined;
    }
    this.nodes.push(node);
    return node;
  }

  /** Lets node `node` take its next event, and every later one before `limitMs` and not after `untilMs`. */
  async run(node: XsNode, limitMs: number, untilMs: number): Promise<void> {
    const r = await this.#command<XsRunReply>({ op: "run", i: node.index, limit: limitMs, until: untilMs });
    node.nextEventMs = r.next;
    node.counters = r.counters;
    node.modem.device.dr = r.dr;
    if (r.wakes.length) {
      const f = (this.figures.computePerWake[node.type] ??= { wakes: 0, mean: 0, max: 0 });
      const sum = (this.#sums.get(node.type) ?? 0) + r.wakes.reduce((a, b) => a + b, 0);
      this.#sums.set(node.type, sum);
      f.wakes += r.wakes.length;
      f.mean = Math.round(sum / f.wakes);
      f.max = Math.max(f.max, ...r.wakes);
    }
  }

  /** Moves every node's clock to `tMs`, and collects the garbage to read the live heap. */
  async advance(tMs: number): Promise<void> {
    this.figures.commands++;
    const { meter } = await this.#xs.command(encodeWire({ op: "advance", t: tMs }));
    this.#meter(meter);
    if (meter.currentHeapCount > this.figures.peakLiveHeapSlots) this.figures.peakLiveHeapSlots = meter.currentHeapCount;
  }

  /** Stops the worker. */
  close(): Promise<void> {
    return this.#xs.close();
  }

  async #command<T>(message: unknown): Promise<T> {
    this.figures.commands++;
    const { reply, meter } = await this.#xs.command(encodeWire(message));
    this.#meter(meter);
    return decodeWire<T>(reply);
  }

  #meter(meter: XsnapMeter): void {
    if (meter.currentHeapCount > this.figures.peakHeapSlots) this.figures.peakHeapSlots = meter.currentHeapCount;
  }

  /** Answers a call from XS (see node-runtime.ts and modem-proxy.ts). */
  #answer(text: string): string {
    this.figures.hostCalls++;
    const m = decodeWire<{ op: string; [k: string]: unknown }>(text);
    switch (m.op) {
      case "env": {
        const node = this.nodes[m.node as number] ?? this.#adding!;
        const f = node.environment[m.key as keyof SimNodeEnvironment] as (t: number) => unknown;
        const t0 = m.t as number;
        const step = m.step as number;
        const values: unknown[] = [];
        for (let k = 0; k < (m.count as number); k++) values.push(f(t0 + k * step));
        return encodeWire(values);
      }
      case "transmit": {
        const tx = m.tx as Omit<Transmission, "phyPayload"> & { phyPayload: string };
        const r: Reception | undefined = this.network.transmit({ ...tx, phyPayload: fromHex(tx.phyPayload) });
        return r ? encodeWire({ ...r, phyPayload: toHex(r.phyPayload) }) : "null";
      }
      case "place":
        this.network.placeDevice(m.devEui as string, m.position as Position);
        return "null";
      case "register":
        this.network.server.addDevice(m.device as DeviceRegistration);
        return "null";
      default:
        throw new Error(`XS asked for unknown op ${m.op}`);
    }
  }
}

function toHex(bytes: Uint8Array | number[]): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += ((bytes[i] & 0xff) < 16 ? "0" : "") + (bytes[i] & 0xff).toString(16);
  return s;
}

function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** `Fleet` (run-fleet.ts) for nodes in XS: same order of events, same collected application events; `runUntil` is async. */
export class XsFleet {
  readonly network: SimNetwork;
  readonly engine: XsEngine;
  readonly events: FleetEvent[] = [];
  readonly #byDevEui = new Map<string, XsNode>();
  readonly #queue = new TimeQueue<XsNode>();
  #nowMs = 0;

  constructor(engine: XsEngine, network: SimNetwork, options: Pick<FleetOptions, "onEvent"> = {}) {
    this.engine = engine;
    this.network = network;
    collectEvents(network, options.onEvent ?? ((e) => this.events.push(e)), (devEui) => this.#byDevEui.get(devEui)?.id);
    for (const n of engine.nodes) {
      this.#byDevEui.set(n.devEui.toUpperCase(), n);
      this.#queue.push(n, n.nextEventMs);
    }
  }

  /** Virtual time the fleet has been run to. */
  get nowMs(): number {
    return this.#nowMs;
  }

  /** Runs every node until virtual time `untilMs`, in `Fleet`'s order. */
  async runUntil(untilMs: number): Promise<void> {
    const queue = this.#queue;
    while (queue.nextT <= untilMs) {
      const node = queue.pop()!;
      // Under Fleet the node would be popped again while its next event comes before the next other node's (ties go to the other).
      await this.engine.run(node, queue.nextT, untilMs);
      queue.push(node, node.nextEventMs);
    }
    await this.engine.advance(untilMs);
    this.#nowMs = Math.max(this.#nowMs, untilMs);
  }
}
