/**
 * The XS side of `--engine xs` (bundled for XS by fleet/xs-node.ts, with the
 * Buffer and crypto shims lora-packet needs): the simulator's own `SimNode`s —
 * board, emulated chips, modem emulator with its LoRaWAN device, battery, pin
 * wakes, and the node's firmware booted afresh at every wake — driven by
 * commands from the Node side. What a node needs from outside comes over
 * `issueCommand` (host-call.ts): the world's environment samples, the radio
 * (each frame the modem transmits, answered with what it receives in RX1/RX2),
 * and its registration on the network.
 *
 * Commands (`handleCommand`, boundary text of wire.ts):
 *   {op:"add", node}                  build a node; answers {devEui, next}
 *   {op:"run", i, limit, until}       step node i once, then again while its next event
 *                                     comes before `limit` (the next other node's) and
 *                                     not after `until`; answers {next, counters, dr, wakes}
 *   {op:"advance", t}                 every node's clock to t (the end of a fleet run), then a
 *                                     full GC, so the heap count after it is the live heap
 */
import { SimNode, type SimNodeEnvironment, type SimNodeOptions } from "../fleet/sim-node.ts";
import type { SimNetwork } from "../network/network.ts";
import type { Reception, Transmission } from "../network/radio.ts";
import { callHost } from "./host-call.ts";
import { decodeWire, encodeWire } from "./wire.ts";

/** A node as the Node side describes it: SimNode options without functions, and which environment functions it has. */
export interface XsNodeSpec extends Omit<SimNodeOptions, "network" | "environment" | "faults" | "beforeBoot" | "afterBoot" | "clock" | "battery"> {
  environment: (keyof SimNodeEnvironment)[];
  /** Battery model; functions cannot cross, so only the linear one. */
  battery?: { startMv?: number; mvPerDay?: number };
}

/** Answer to "run". */
export interface XsRunReply {
  next: number;
  counters: SimNode["counters"];
  /** The modem's LoRaWAN data rate now. */
  dr: number;
  /** XS compute (meter units) of each boot in this call, in order. */
  wakes: number[];
}

/** Longest batch of environment samples asked for at once. */
const MAX_BATCH = 4096;

const nodes: SimNode[] = [];

type ResetMeter = (limit: number, index: number) => number;
const meterApi = globalThis as unknown as { resetMeter?: ResetMeter; currentMeterLimit?: () => number };

/** The worker's compute meter so far in this delivery (xsnap's resetMeter returns it; it is put back at once). */
function meterNow(): number {
  if (!meterApi.resetMeter || !meterApi.currentMeterLimit) return 0;
  const limit = meterApi.currentMeterLimit();
  const index = meterApi.resetMeter(limit, 0);
  meterApi.resetMeter(limit, index);
  return index >>> 0;
}

/**
 * An environment function of node `node` answered by the host. Emulators sample
 * on a grid (the pulse meter every 100 ms, the accelerometer at its data rate), so
 * a miss asks for a run of samples on the grid the last two calls suggest, and the
 * run doubles while the calls keep following it. Every value is the world's own
 * at exactly the time asked, so this changes nothing but the number of calls.
 */
function environmentFrom(node: number, key: string): (tMs: number) => unknown {
  let t0 = 0;
  let step = 0;
  let values: unknown[] = [];
  let lastT = Number.NaN;
  let count = 1;
  return (t: number) => {
    let continues = false;
    if (step > 0) {
      const k = Math.round((t - t0) / step);
      if (k >= 0 && t0 + k * step === t) {
        if (k < values.length) {
          lastT = t;
          return values[k];
        }
        continues = k === values.length;
      }
    }
    if (continues) {
      t0 = t;
      count = Math.min(count * 2, MAX_BATCH);
    } else {
      step = t > lastT ? t - lastT : 0;
      t0 = t;
      count = step > 0 ? 2 : 1;
    }
    values = callHost<unknown[]>({ op: "env", node, key, t: t0, step, count });
    lastT = t;
    return values[0];
  };
}

function toHex(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
  return s;
}

function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** A frame as it crosses the boundary: the PHYPayload in hex. */
type Wire<T> = Omit<T, "phyPayload"> & { phyPayload: string };

/** What SimNode and its modem need of the network (the radio medium, placing, registering), forwarded to the real one on the host. */
function networkStub(region: string): SimNetwork {
  return {
    transmit: (tx: Transmission): Reception | undefined => {
      const r = callHost<Wire<Reception> | null>({ op: "transmit", tx: { ...tx, phyPayload: toHex(tx.phyPayload) } });
      return r ? { ...r, phyPayload: fromHex(r.phyPayload) } : undefined;
    },
    placeDevice: (devEui: string, position: unknown) => callHost({ op: "place", devEui, position }),
    server: {
      region: { name: region },
      addDevice: (device: unknown) => callHost({ op: "register", device }),
    },
  } as unknown as SimNetwork;
}

function add(spec: XsNodeSpec): { devEui: string; next: number } {
  const i = nodes.length;
  const environment: SimNodeEnvironment = {};
  for (const key of spec.environment) (environment as Record<string, unknown>)[key] = environmentFrom(i, key);
  const { environment: _, ...rest } = spec;
  // No logs: nothing on the Node side can read them, and memory stays flat over the days.
  const node = new SimNode({ ...rest, logs: false, environment, network: networkStub(spec.region ?? "EU868") });
  nodes.push(node);
  return { devEui: node.devEui, next: node.nextEventMs };
}

function run(i: number, limit: number, until: number): XsRunReply {
  const node = nodes[i];
  const wakes: number[] = [];
  do {
    const before = meterNow();
    const record = node.step();
    if (record) wakes.push((meterNow() - before) >>> 0);
  } while (node.nextEventMs < limit && node.nextEventMs <= until);
  return { next: node.nextEventMs, counters: node.counters, dr: node.modem.device.dr, wakes };
}

type Command = { op: "add"; node: XsNodeSpec } | { op: "run"; i: number; limit: number; until: number } | { op: "advance"; t: number };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function handle(command: Command): unknown {
  switch (command.op) {
    case "add":
      return add(command.node);
    case "run":
      return run(command.i, command.limit, command.until);
    case "advance":
      for (const n of nodes) n.clock.advanceTo(command.t);
      // xsnap's gc(): only the heap figures change (nothing in the simulator or firmware observes collection).
      (globalThis as unknown as { gc?: () => void }).gc?.();
      return null;
    default:
      throw new Error(`node runtime: unknown command ${encodeWire(command)}`);
  }
}

(globalThis as unknown as { handleCommand: (request: ArrayBuffer) => ArrayBuffer }).handleCommand = (request) => {
  const bytes = encoder.encode(encodeWire(handle(decodeWire<Command>(decoder.decode(request)))));
  return bytes.byteLength === bytes.buffer.byteLength ? (bytes.buffer as ArrayBuffer) : (bytes.slice().buffer as ArrayBuffer);
};
