/**
 * One shard of a scenario run: the city's world models (every shard builds
 * the same city from the seed), the network with its gateways, and the
 * `SimNode`s of the nodes this shard owns (city node i belongs to shard
 * i mod count), run epoch by epoch.
 *
 * Epochs. The run advances in one-hour epochs. In an epoch every shard runs
 * its own nodes on its own copy of the network, seeing the frames and
 * downlink bookings committed in earlier epochs (every node's) and its nodes'
 * own; at the barrier the shards' frames and bookings are merged in a fixed
 * order and committed to every copy (`SimNetwork` `epochs`). A node's view of
 * the network therefore never depends on which nodes share its shard, and a
 * run gives the same bytes whatever the number of shards. Within an hour a
 * transmission does not see other nodes' frames of the same hour: the
 * delivery figures (`finalize`, `prune`) judge every frame against all
 * frames, so collisions are counted, but a confirmed uplink that collided
 * with a frame of the same hour is still acknowledged at transmit time.
 *
 * Exact collisions. With `exactCollisions` (one shard only) the network is
 * not in epoch mode: a transmission is judged against every frame sent before
 * it (nodes run in virtual-time order), which matters for bursts of
 * confirmed traffic (a storm over many drains), at the cost of workers.
 *
 * Engines. With `engine: "xs"` the shard's nodes run in an XS engine of their
 * own (fleet/xs-node.ts) instead of as SimNodes in this thread; everything
 * else is the same, so both engines give the same bytes.
 */
import { City, nodeTruth, type CityNode, type GroundTruthEvent } from "../world/city.ts";
import { SimNetwork, type DeliveryLine, type EpochBatch } from "../network/network.ts";
import { SimNode, type ModemModel, type NodeType } from "../fleet/sim-node.ts";
import { Fleet, type FleetEvent } from "../fleet/run-fleet.ts";
import { ReadingsFormatter } from "../report/readings-writer.ts";
import { MAX_EARLY_MS } from "../report/alarm-scoring.ts";
import { clockSync } from "../network/clock-sync.ts";
import { XsEngine, XsFleet, type XsFigures, type XsNode } from "../fleet/xs-node.ts";
import { Rng } from "../core/rng.ts";
import type { Scenario } from "./scenario.ts";
import { buildConfig } from "./scenario-build.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Which shard of how many. */
export interface ShardSpec {
  index: number;
  count: number;
}

/** What a run needs beyond the scenario (structured-clone safe, for worker threads). */
export interface RunParams {
  seed: number;
  days: number;
  region: Scenario["region"];
  /** Total node count, spread over the kinds in the scenario's proportions. */
  nodes?: number;
  /** First boots spread evenly over this many ms (default: the SimNode default). */
  bootSpreadMs?: number;
  /** Run the nodes in Moddable's XS engine (simulator/src/xs/README.md); default Node. */
  engine?: "xs";
  /** Serialise each event for the run's files (`ShardEvent.line`, `readings`). */
  render?: boolean;
  /**
   * Every transmission sees every frame sent before it in virtual time, not
   * only those of earlier epochs: a confirmed uplink lost to a collision goes
   * unacknowledged and is retransmitted, as with a real modem. One shard only.
   */
  exactCollisions?: boolean;
}

/** A gateway of the run. */
export interface RunGateway {
  id: string;
  x: number;
  y: number;
}

/** The city and its gateways, as every shard and the coordinator build them. */
export interface RunWorld {
  city: City;
  gateways: RunGateway[];
}

/** A node's identity and counters, for the run's summary. */
export interface NodeFacts {
  /** Position in the city's node list. */
  index: number;
  id: string;
  type: NodeType;
  devEui: string;
  modem: ModemModel;
  dataRate: number;
  boots: number;
  awakeMs: number;
  /** Time its switched sensor rail was on, ms. */
  railMs: number;
  /** Time the PM sensor on that rail ran, ms (a PMS5003 build; `SimNodeCounters.sensorActiveMs`). */
  sensorActiveMs?: number;
  /** The node's wall clock minus true time at the end of its last wake, ms (absent while unset). */
  clockErrorMs?: number;
  /** Rate error of its RTC, ppm (absent when 0). */
  rtcPpm?: number;
}

/**
 * An uplink event as a shard hands it on: its place in the run's order, the
 * alarm it carries, and, when the run writes files, its `events.jsonl` line and
 * `readings.csv` rows, serialised in the shard (in parallel, and cheaper to
 * pass between threads than the event object).
 */
export interface ShardEvent {
  /** When the network server received it, virtual ms. */
  atMs: number;
  nodeId: string;
  fCnt: number;
  /** An alarm message's event, the age of its trigger, and the AQI category it names (AQI changes). */
  alarm?: { event: string; ageS?: number; aqiCategory?: string };
  line?: string;
  readings?: string;
  rows?: number;
}

/** An epoch to commit: every shard's batch of it, in shard order, and the time before which uplinks are settled and forgotten. */
export interface EpochCommit {
  batches: EpochBatch[];
  pruneBeforeMs?: number;
}

/** What a shard's step gives back: what committing the previous epoch settled (none at the first), and the new epoch's batch. */
export interface EpochStep {
  committed?: EpochResult;
  batch: EpochBatch;
}

/** What an epoch's barrier gives back: the application events and delivery lines settled in it. */
export interface EpochResult {
  events: ShardEvent[];
  lines: DeliveryLine[];
}

/** The end of a shard's run: what the last barrier gives, the nodes' counters, and the XS engine's figures (engine xs). */
export interface ShardEnd extends EpochResult {
  facts: NodeFacts[];
  /** Ground truth of this shard's nodes over the run (every event overlapping it), unsorted. */
  truth: GroundTruthEvent[];
  xs?: XsFigures;
}

function scaleCounts(s: Scenario, total: number | undefined): Scenario["nodes"] {
  if (total === undefined) return s.nodes;
  const kinds = ["air", "water", "bin", "drain"] as const;
  const sum = kinds.reduce((a, k) => a + s.nodes[k], 0) || 1;
  const out = { air: 0, water: 0, bin: 0, drain: 0 };
  let given = 0;
  for (const k of kinds) given += out[k] = Math.floor((total * s.nodes[k]) / sum);
  for (let i = 0; given < total; i = (i + 1) % kinds.length) {
    if (s.nodes[kinds[i]] > 0 || sum === 1) {
      out[kinds[i]]++;
      given++;
    }
  }
  return out;
}

/** Gateways on a grid over the district, about 900 m apart (the urban channel below reaches ~1 km at SF9). */
function gatewayGrid(widthM: number, heightM: number): { x: number; y: number }[] {
  const nx = Math.max(1, Math.ceil(widthM / 900));
  const ny = Math.max(1, Math.ceil(heightM / 900));
  const out: { x: number; y: number }[] = [];
  for (let i = 0; i < nx; i++) for (let j = 0; j < ny; j++) out.push({ x: Math.round(((i + 0.5) * widthM) / nx), y: Math.round(((j + 0.5) * heightM) / ny) });
  return out;
}

/** The node type that serves a city node. */
export function nodeType(n: CityNode): NodeType {
  return n.kind === "bin" || n.kind === "drain" ? "level" : n.kind;
}

/** Builds the city and places its gateways. */
export function buildWorld(scenario: Scenario, params: RunParams): RunWorld {
  const city = new City({
    seed: params.seed,
    counts: scaleCounts(scenario, params.nodes),
    weather: { storms: (scenario.storms ?? []).map((s) => ({ startMs: s.startH * HOUR, durationMs: s.durationH * HOUR, peakMmH: s.peakMmH })) },
    regionalAir: { episodes: (scenario.episodes ?? []).map((e) => ({ startMs: e.startH * HOUR, endMs: (e.startH + e.durationH) * HOUR, peakPm25: 70 })) },
  });
  const gateways = (scenario.gateways ?? gatewayGrid(city.widthM, city.heightM)).map((g, i) => ({ id: `gw-${String(i + 1).padStart(2, "0")}`, ...g }));
  return { city, gateways };
}

/** A scenario's network in epoch mode: its gateways on rooftops and its outages. */
function buildNetwork(scenario: Scenario, params: RunParams, gateways: readonly RunGateway[]): SimNetwork {
  const region = params.region;
  // An urban macro-cell channel (gateways on rooftops): the LoRaSim indoor defaults would give a 170 m range.
  const network = new SimNetwork({
    region,
    seed: `net-${params.seed}`,
    epochs: !params.exactCollisions,
    channel: { referenceLossDb: 100, referenceDistanceM: 40, pathLossExponent: 3.0, shadowingSdDb: 4, fadingSdDb: 2 },
    gateways: gateways.map((g) => ({ id: g.id, position: { x: g.x, y: g.y, z: 25 }, region, antennaGainDbi: 3 })),
    // The run reads the server's application events and delivery reports, not its log. The application answers
    // a node's clockUnsynced with setTime, as the firmware's deployments expect (unless the scenario says not to).
    server: { logLimit: 0, ...(scenario.syncClocks === false ? {} : { application: clockSync() }) },
  });
  for (const o of scenario.outages ?? []) network.addOutage({ fromMs: o.startH * HOUR, toMs: (o.startH + o.durationH) * HOUR });
  return network;
}

/** The nodes of one shard on their network, run epoch by epoch. */
export class ShardRun {
  readonly network: SimNetwork;
  readonly nodes: (SimNode | XsNode)[] = [];
  readonly #indexes: number[] = [];
  readonly #fleet: Fleet | XsFleet;
  readonly #xs: XsEngine | undefined;
  readonly #city: City;
  readonly #endMs: number;
  readonly #readings: ReadingsFormatter | undefined;
  /** Events made into `ShardEvent`s as they came, not yet shipped by a commit. */
  readonly #shipped: ShardEvent[] = [];
  /** Virtual time the nodes have run to. */
  #ranToMs = 0;
  /** Ground truth scored ahead (`primeTruth`): the next day, and the next node of it (a position in #indexes). */
  #primeDay = 0;
  #primeNode = 0;
  /** Whether idle-time scoring is scheduled (`primeWhenIdle`), and whether `finish` has scored the rest. */
  #priming = false;
  #finished = false;

  private constructor(network: SimNetwork, nodes: (SimNode | XsNode)[], indexes: number[], xs: XsEngine | undefined, city: City, endMs: number, render: boolean) {
    this.network = network;
    this.nodes = nodes;
    this.#indexes = indexes;
    this.#xs = xs;
    this.#city = city;
    this.#endMs = endMs;
    this.#readings = render ? new ReadingsFormatter() : undefined;
    // Events become what the run keeps of them (a line of text, an alarm) as they come: an hour of event objects
    // would outlive every minor GC until the epoch's commit.
    const onEvent = (e: FleetEvent) => this.#shipped.push(this.#shard(e));
    this.#fleet = xs ? new XsFleet(xs, network, { onEvent }) : new Fleet(network, nodes as SimNode[], { onEvent });
  }

  /** Builds the shard: its network and its nodes (in a new XS engine with `params.engine` "xs"). */
  static async create(scenario: Scenario, params: RunParams, shard: ShardSpec, world: RunWorld = buildWorld(scenario, params)): Promise<ShardRun> {
    const { city, gateways } = world;
    const seed = params.seed;
    const region = params.region;
    const network = buildNetwork(scenario, params, gateways);
    const xs = params.engine === "xs" ? await XsEngine.start() : undefined;
    const nodes: (SimNode | XsNode)[] = [];
    const indexes: number[] = [];
    const bootRng = new Rng(`boots-${seed}`);
    const rtcSd = scenario.rtcDriftPpm ?? 0;
    const rtcRng = new Rng(`rtc-${seed}`);
    for (const [i, c] of city.nodes.entries()) {
      // Drawn for every node in every shard, so each node's first boot and RTC are the same whatever the shards.
      const firstBootMs = params.bootSpreadMs ? Math.floor(bootRng.next() * params.bootSpreadMs) : undefined;
      const rtcPpm = rtcSd > 0 ? Math.round(Math.max(-3, Math.min(3, rtcRng.normal())) * rtcSd) : 0;
      if (i % shard.count !== shard.index) continue;
      const type = nodeType(c);
      const env: ConstructorParameters<typeof SimNode>[0]["environment"] = {};
      const config = buildConfig(scenario, type);
      let settings: { [k: string]: number } = { ...(scenario.settings?.[type] ?? {}) };
      if (c.kind === "air") env.air = (t) => c.model.at(t);
      else if (c.kind === "water") {
        env.flowLMin = (t) => c.model.flowLMin(t);
        env.waterTemperatureC = (t) => city.weather.mainsWaterC(t);
        env.flowSteadyUntil = (t) => c.model.flowSteadyUntil(t);
      } else if (c.kind === "bin") {
        env.target = (t) => c.model.target(t);
        env.acceleration = (t) => c.model.acceleration(t);
        env.accelerationSteadyUntil = (t) => c.model.accelerationSteadyUntil(t);
        config.variant = "bin";
      } else {
        env.target = (t) => c.model.target(t);
        config.variant = "drain";
        settings = { depthMm: 1500, fullDistanceMm: 300, ...settings };
      }
      const options: ConstructorParameters<typeof SimNode>[0] = {
        type, id: c.id, seed: (seed * 7919 + i * 104729) >>> 0, network, addressIndex: i,
        ...(firstBootMs === undefined ? {} : { firstBootMs }), ...(rtcPpm ? { rtcPpm } : {}), position: { x: c.position.x, y: c.position.y, z: 2 },
        modem: scenario.modem ?? "wio-e5", logs: false, region, config: { ...config, adr: false, dataRate: scenario.dataRate ?? (region === "US915" ? 1 : 4) }, settings, environment: env,
      };
      try {
        const node = xs ? await xs.add(options) : new SimNode(options);
        nodes.push(node);
        indexes.push(i);
      } catch (e) {
        await xs?.close();
        throw e;
      }
    }
    return new ShardRun(network, nodes, indexes, xs, city, params.days * DAY, params.render === true);
  }

  /** Identity and counters of this shard's nodes. */
  facts(): NodeFacts[] {
    return this.nodes.map((n, k) => ({
      index: this.#indexes[k], id: n.id, type: n.type, devEui: n.devEui, modem: n.modemModel,
      dataRate: n.modem.device.dr, boots: n.counters.boots, awakeMs: n.counters.awakeMs, railMs: n.counters.railMs, ...(n.counters.sensorActiveMs === undefined ? {} : { sensorActiveMs: n.counters.sensorActiveMs }),
      ...(n.counters.clockErrorMs === undefined ? {} : { clockErrorMs: n.counters.clockErrorMs }), ...(n.rtcPpm ? { rtcPpm: n.rtcPpm } : {}),
    }));
  }

  /** Runs this shard's nodes until `untilMs` and returns what they put on the air and booked in the epoch. */
  async runEpoch(untilMs: number): Promise<EpochBatch> {
    const fleet = this.#fleet;
    if (fleet instanceof Fleet) {
      // No stack traces while the nodes run: the firmware turns every bus NACK and sensor
      // timeout into a SensorError it catches itself, and V8 capturing a stack for each
      // (and for each emulator BusError) was several % of a run. Messages are unchanged.
      const limit = Error.stackTraceLimit;
      Error.stackTraceLimit = 0;
      try {
        fleet.runUntil(untilMs);
      } catch (e) {
        if (e instanceof Error && e.stack !== undefined && !e.stack.includes("\n")) e.stack += "\n    (no stack: traces are off while a scenario's nodes run, see ShardRun.runEpoch; a test on one SimNode keeps them)";
        throw e;
      } finally {
        Error.stackTraceLimit = limit;
      }
    } else await fleet.runUntil(untilMs);
    this.#ranToMs = untilMs;
    return this.network.takeEpoch();
  }

  /**
   * Commits every shard's epoch; with `pruneBeforeMs`, settles and forgets
   * this shard's uplinks ended before it (and the gateways' bookings of a day
   * before), so memory stays flat in the number of days.
   */
  commit(batches: readonly EpochBatch[], pruneBeforeMs?: number): EpochResult {
    this.network.commit(batches);
    let lines: DeliveryLine[] = [];
    if (pruneBeforeMs !== undefined) {
      lines = this.network.prune(pruneBeforeMs).uplinks;
      this.#forgetBookings(pruneBeforeMs - 24 * HOUR);
    }
    return { events: this.#ship(), lines };
  }

  /**
   * One barrier's work: commits the previous epoch (every shard's batches,
   * pruning before `previous.pruneBeforeMs`), then runs the next to `untilMs`.
   * One call instead of two saves a barrier per epoch: a shard that commits
   * sooner runs on instead of waiting for the others to commit.
   */
  async step(previous: EpochCommit | undefined, untilMs: number): Promise<EpochStep> {
    const committed = previous ? this.commit(previous.batches, previous.pruneBeforeMs) : undefined;
    const batch = await this.runEpoch(untilMs);
    return committed ? { committed, batch } : { batch };
  }

  /** Commits the last epoch (if given), settles every remaining uplink with all frames known; the nodes' counters and the XS figures. */
  finish(previous?: EpochCommit): ShardEnd {
    // A commit ships the events so far and settles what it prunes; the uplinks left are settled here.
    const last = previous ? this.commit(previous.batches, previous.pruneBeforeMs) : { events: this.#ship(), lines: [] };
    // Each shard scores its own nodes' world, in parallel with the others (a month of a district's air is seconds of
    // work); the days `primeTruth` scored ahead are only merged here.
    this.#finished = true;
    // A water node's noPulse may come days before its event (counted from the meter's last pulse), so its truth
    // reaches past the run by the longest early allowance; for the others' 15 minutes it is not worth the work.
    const truth = this.#indexes.flatMap((i) => {
      const node = this.#city.nodes[i];
      return nodeTruth(node, 0, this.#endMs + (node.kind === "water" ? MAX_EARLY_MS : 0));
    });
    return { events: last.events, lines: [...last.lines, ...this.network.finalize().uplinks], facts: this.facts(), truth, ...(this.#xs ? { xs: this.#xs.figures } : {}) };
  }

  /**
   * Scores the ground truth of the days the nodes have run through, a node-day at a time, for about `budgetMs`
   * of wall time; true while more is left. The air and drain models keep each day's sampled intervals, so
   * `finish` then only merges them. The truth is the world's alone: scoring it sooner changes no result.
   */
  primeTruth(budgetMs: number): boolean {
    const start = performance.now();
    const days = Math.min(Math.floor(this.#ranToMs / DAY), Math.ceil(this.#endMs / DAY));
    while (!this.#finished && this.#primeDay < days) {
      const node = this.#city.nodes[this.#indexes[this.#primeNode]];
      if (node.kind === "air" || node.kind === "drain") {
        node.events(this.#primeDay * DAY, Math.min((this.#primeDay + 1) * DAY, this.#endMs));
      }
      if (++this.#primeNode === this.#indexes.length) {
        this.#primeNode = 0;
        this.#primeDay++;
      }
      if (performance.now() - start >= budgetMs) return this.#primeDay < days;
    }
    return false;
  }

  /**
   * Runs `primeTruth` in slices of about a millisecond between turns of the event loop: while this thread
   * waits for the other shards at the barrier, not while it has a step to run (messages come in between slices).
   */
  primeWhenIdle(): void {
    if (this.#priming) return;
    this.#priming = true;
    const slice = () => {
      if (this.primeTruth(1)) setImmediate(slice);
      else this.#priming = false;
    };
    setImmediate(slice);
  }

  /** Takes the fleet's events so far as `ShardEvent`s, in the order they came (a node's in its own order, as the readings formatter needs). */
  #ship(): ShardEvent[] {
    return this.#shipped.splice(0);
  }

  /** What the run keeps of one event: its time, node and count, an alarm, and (rendering) its JSON line and readings rows. */
  #shard(e: FleetEvent): ShardEvent {
    const readings = this.#readings;
    const m = e.event.uplink_message;
    const d = m.decoded_payload as { messageType?: string; event?: string; ageS?: number; aqiCategory?: string } | undefined;
    const out: ShardEvent = { atMs: e.atMs, nodeId: e.nodeId, fCnt: m.f_cnt };
    if (d && /Alarm$/.test(d.messageType ?? "") && d.event) {
      out.alarm = { event: d.event, ...(d.ageS === undefined ? {} : { ageS: d.ageS }), ...(d.aqiCategory === undefined ? {} : { aqiCategory: d.aqiCategory }) };
    }
    if (readings) {
      const r = readings.format(e.event);
      out.line = JSON.stringify(e.event) + "\n";
      out.readings = r.text;
      out.rows = r.rows;
    }
    return out;
  }

  /** Stops the XS engine, if any. */
  async close(): Promise<void> {
    await this.#xs?.close();
  }

  /**
   * Drops the gateways' downlinks booked before `beforeMs`. (The nodes and
   * the server keep no logs in a run: `logs: false`, `logLimit: 0`.)
   */
  #forgetBookings(beforeMs: number): void {
    for (const g of this.network.gateways) {
      const keep = g.transmissions.filter((t) => t.endMs >= beforeMs);
      g.transmissions.length = 0;
      g.transmissions.push(...keep);
    }
  }
}

/** Orders an epoch's events as every shard count gives them: by receive time, then node, then frame counter. */
export function sortEvents(events: ShardEvent[]): ShardEvent[] {
  return events.sort((a, b) => a.atMs - b.atMs || (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0) || a.fCnt - b.fCnt);
}

/** Orders delivery lines by start, then device, then frame counter. */
export function sortLines(lines: DeliveryLine[]): DeliveryLine[] {
  return lines.sort((a, b) => a.startMs - b.startMs || (a.devEui < b.devEui ? -1 : a.devEui > b.devEui ? 1 : 0) || (a.fCnt16 ?? -1) - (b.fCnt16 ?? -1));
}
