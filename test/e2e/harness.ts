/**
 * What the end-to-end tests share: a quiet simulated network, the readings
 * and alarms as the application server sees them, matched against what the
 * node queued in its flash (SimNode taps the link's queue), downlinks, and the
 * per-node summary printed by every test.
 */
import assert from "node:assert/strict";
import { encodeDownlink } from "../../codecs/src/index.ts";
import { routineLayout } from "../../firmware/src/link/messages.ts";
import { loadConfig, type NodeConfig } from "../../firmware/src/nodes/config.ts";
import { setCurrentBoard } from "../../simulator/src/core/board.ts";
import { SimNetwork } from "../../simulator/src/network/network.ts";
import type { RegionName } from "../../simulator/src/network/regions.ts";
import type { QueuedMessage, QueuedReading, SimNode } from "../../simulator/src/fleet/sim-node.ts";
import { airtimeMs, type Fleet, type FleetEvent } from "../../simulator/src/fleet/run-fleet.ts";

export const S = 1000;
export const MIN = 60 * S;
export const H = 60 * MIN;
export const D = 24 * H;

type Data = Record<string, unknown>;

/** A network with one gateway and no random loss or fading, so every lost frame has a scripted cause. */
export function quietNetwork(region: RegionName, seed: string): SimNetwork {
  return new SimNetwork({ region, seed, channel: { lossProbability: 0, shadowingSdDb: 0, fadingSdDb: 0 } });
}

/** `day 1 03:07:12` for messages. */
export function stamp(ms: number): string {
  const pad = (n: number) => String(Math.floor(n)).padStart(2, "0");
  return `day ${Math.floor(ms / D)} ${pad((ms % D) / H)}:${pad((ms % H) / MIN)}:${pad((ms % MIN) / S)}`;
}

/** Linear ramp from a to b over [t0, t1]. */
export function ramp(t: number, t0: number, t1: number, a: number, b: number): number {
  if (t <= t0) return a;
  if (t >= t1) return b;
  return a + ((b - a) * (t - t0)) / (t1 - t0);
}

/** A routine reading as the application server received it: plain (fPort 1/4/7) or one entry of a batch (3/6/9). */
export interface Arrival {
  /** Virtual receive time. */
  atMs: number;
  /** Measurement time the backend computes: receive time − ageS (batches), the receive time (plain readings). */
  measuredMs: number;
  /** The reading's fPort (1/4/7), also for batch entries. */
  port: number;
  batch: boolean;
  /** The reading's core bytes (what batches carry). */
  core: number[];
  /** Decoded reading (or batch entry). */
  data: Data;
  event: FleetEvent;
}

/** The routine readings in `events`, in arrival order. */
export function arrivals(events: readonly FleetEvent[]): Arrival[] {
  const out: Arrival[] = [];
  for (const e of events) {
    const u = e.event.uplink_message;
    const decoded = u.decoded_payload as Data | undefined;
    assert.ok(decoded, `undecodable uplink on fPort ${u.f_port}: ${JSON.stringify(u.decoded_payload_warnings)}`);
    const bytes = [...Buffer.from(u.frm_payload, "base64")];
    if (Array.isArray(decoded.readings)) {
      const port = u.f_port - 2;
      const layout = routineLayout(port)!;
      (decoded.readings as Data[]).forEach((entry, i) => {
        const at = i * layout.entryBytes;
        out.push({ atMs: e.atMs, measuredMs: e.atMs - (entry.ageS as number) * S, port, batch: true, core: bytes.slice(at + 3, at + layout.entryBytes), data: entry, event: e });
      });
    } else if (routineLayout(u.f_port)) {
      const layout = routineLayout(u.f_port)!;
      out.push({ atMs: e.atMs, measuredMs: e.atMs, port: u.f_port, batch: false, core: bytes.slice(0, layout.coreBytes), data: decoded, event: e });
    }
  }
  return out;
}

const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Pairs every routine reading the node queued with its arrival (same core
 * bytes; a batch entry's measurement time within a few seconds of the moment
 * it was queued, a plain reading received after it). Fails for a reading
 * queued before `untilMs` that never arrived.
 */
export function matchReadings(node: SimNode, events: readonly FleetEvent[], untilMs: number): { reading: QueuedReading; arrival: Arrival }[] {
  const got = arrivals(events);
  const pairs: { reading: QueuedReading; arrival: Arrival }[] = [];
  const lost: QueuedReading[] = [];
  for (const r of node.readings) {
    const layout = routineLayout(r.port)!;
    const core = r.bytes.slice(0, layout.coreBytes);
    const a = got.find((x) => x.port === r.port && same(x.core, core) && (x.batch ? x.measuredMs >= r.atMs - 2 * S && x.measuredMs <= r.atMs + 5 * S : x.atMs >= r.atMs - S));
    if (a) pairs.push({ reading: r, arrival: a });
    else if (r.atMs < untilMs) lost.push(r);
  }
  assert.deepEqual(lost.map((r) => `#${r.n} queued ${stamp(r.atMs)}`), [], `${node.id}: readings queued but never received`);
  return pairs;
}

/** Decoded data without the fields the link rewrites on the way (age, overflow flag) and the time the decoder derives from the age. */
function stable(data: Data | undefined): Data {
  const { ageS: _a, queueOverflow: _q, time: _t, ...rest } = data ?? {};
  return rest;
}

/**
 * Every alarm the node queued arrived, unchanged but for its age, with a
 * measurement time (receive − ageS) at the moment it was raised, and
 * confirmed — except where `mayGoUnconfirmed` allows otherwise (the link
 * sends alarms unconfirmed once its share of the day's 10 downlinks is spent,
 * e.g. by outage probes). Returns the pairs.
 */
export function matchAlarms(
  node: SimNode, events: readonly FleetEvent[], alarmPort: number, mayGoUnconfirmed: (a: QueuedMessage) => boolean = () => false,
): { alarm: QueuedMessage; event: FleetEvent }[] {
  const received = events.filter((e) => e.event.uplink_message.f_port === alarmPort);
  const pairs: { alarm: QueuedMessage; event: FleetEvent }[] = [];
  for (const a of node.queued.filter((m) => m.kind === "alarm")) {
    const e = received.find((x) => {
      const d = x.event.uplink_message.decoded_payload;
      const measured = x.atMs - ((d?.ageS as number) ?? 0) * S;
      return measured >= a.atMs - 2 * S && measured <= a.atMs + 5 * S && JSON.stringify(stable(d)) === JSON.stringify(stable(a.data));
    });
    assert.ok(e, `${node.id}: alarm ${a.data?.event} raised ${stamp(a.atMs)} never received`);
    if (!mayGoUnconfirmed(a)) assert.equal(e.event.uplink_message.confirmed, true, `${node.id}: alarm ${a.data?.event} raised ${stamp(a.atMs)} not confirmed`);
    pairs.push({ alarm: a, event: e });
  }
  // Nothing arrives on the alarm port that the node did not raise.
  for (const x of received) assert.ok(pairs.some((p) => p.event === x || JSON.stringify(stable(p.event.event.uplink_message.decoded_payload)) === JSON.stringify(stable(x.event.uplink_message.decoded_payload))), `unexpected alarm ${JSON.stringify(x.event.uplink_message.decoded_payload)}`);
  return pairs;
}

/** Queues a downlink command on the network server for the node's next uplink. */
export function queueDownlink(node: SimNode, data: Data): { fPort: number; bytes: number[] } {
  const r = encodeDownlink({ data: data as never });
  assert.deepEqual(r.errors, []);
  const d = { fPort: r.fPort!, bytes: r.bytes! };
  node.network.server.enqueueDownlink(node.devEui, { fPort: d.fPort, bytes: Uint8Array.from(d.bytes) });
  return d;
}

/** The node's configuration as its flash holds it. */
export function storedConfig(node: SimNode): NodeConfig {
  setCurrentBoard(node.board);
  try {
    return loadConfig(node.type);
  } finally {
    setCurrentBoard(undefined);
  }
}

/** Config acks received from the node (decoded). */
export function configAcks(events: readonly FleetEvent[]): { atMs: number; data: Data }[] {
  return events.filter((e) => e.event.uplink_message.f_port === 11).map((e) => ({ atMs: e.atMs, data: e.event.uplink_message.decoded_payload as Data }));
}

/** Per-day figures of one node, printed and returned. */
export function report(fleet: Fleet, node: SimNode, days: number, title: string): { bootsPerDay: number; uplinksPerDay: number; alarms: number; airtimeMsPerDay: number } {
  const events = fleet.eventsOf(node.id);
  const alarms = events.filter((e) => [2, 5, 8].includes(e.event.uplink_message.f_port)).length;
  const airtime = events.reduce((s, e) => s + airtimeMs(e.event.uplink_message.consumed_airtime), 0);
  const r = { bootsPerDay: node.counters.boots / days, uplinksPerDay: events.length / days, alarms, airtimeMsPerDay: airtime / days };
  const ports: Record<number, number> = {};
  for (const e of events) ports[e.event.uplink_message.f_port] = (ports[e.event.uplink_message.f_port] ?? 0) + 1;
  console.log(
    `      ${title}: ${days} days, ${node.counters.boots} boots (${r.bootsPerDay.toFixed(0)}/day, ${node.counters.pinWakes} by pin, ${node.counters.ulpWakes} by the ULP, ` +
      `${(node.counters.awakeMs / days / 1000).toFixed(0)} s awake/day), ${events.length} uplinks (${r.uplinksPerDay.toFixed(1)}/day; by fPort ${JSON.stringify(ports)}), ` +
      `${alarms} alarms, airtime ${(r.airtimeMsPerDay / 1000).toFixed(2)} s/day`,
  );
  return r;
}
