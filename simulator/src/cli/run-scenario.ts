/**
 * Runs a scenario: lays out the city, builds one SimNode per city node (the
 * real firmware of its type, on emulated chips that read the world models),
 * runs them on one simulated LoRaWAN network in virtual time, streams the
 * network's application events to the run's files, and scores the alarms
 * against the world's ground truth.
 */
import { energyModel } from "../report/energy-model.ts";
import { sortTruth, type City, type GroundTruthEvent as WorldTruthEvent } from "../world/city.ts";
import type { DeliveryLine } from "../network/network.ts";
import { VirtualClock } from "../core/clock.ts";
import { buildWorld, sortEvents, sortLines, type EpochCommit, type EpochResult, type NodeFacts, type RunParams } from "./scenario-shard.ts";
import { localShard, workerShard, type ShardPort } from "./shard-ports.ts";
import type { XsFigures } from "../fleet/xs-node.ts";
import { RunOutput } from "../report/run-output.ts";
import type { RunSummary, NodeSummary, GroundTruthEvent, CapacityPoint } from "../report/run-data.ts";
import { isAnswerable, scoreAlarms, scoredAlarm, type ScoredAlarm } from "../report/alarm-scoring.ts";
import type { Scenario } from "./scenario.ts";
import { fittedParts } from "./scenario-build.ts";
import { tuneGcForFleet } from "./gc-tuning.ts";

const HOUR = 3_600_000;
/**
 * First boots spread over a quarter of an hour, the longest default reporting
 * interval: nodes installed at different times report at different phases of
 * their interval. (All switched on in the same minute, as a batch on
 * installation day, their joins and first messages collide; after that the
 * firmware's phases and jitter, firmware/src/nodes/wake-timing.ts, keep their
 * reports apart. A scenario's `bootSpreadS`, or `bootSpreadMs`, models that.)
 */
const DEFAULT_BOOT_SPREAD_MS = 15 * 60_000;
const DAY = 24 * HOUR;

/** Run options. */
export interface RunOptions {
  /** Overrides of the scenario. */
  days?: number;
  seed?: number;
  region?: Scenario["region"];
  /** Total node count, spread over the kinds in the scenario's proportions. */
  nodes?: number;
  /** Output directory (events.jsonl, readings.csv, summary.json, report.html); none: nothing written. */
  out?: string;
  /** Called every simulated hour with the fraction done. */
  progress?: (fraction: number) => void;
  /** Frames starting earlier than this many minutes into the run are left out of `RunResult.load` (the joins). */
  warmupMin?: number;
  /** First boots spread evenly over this many ms (default: the scenario's `bootSpreadS`, else 15 min: see DEFAULT_BOOT_SPREAD_MS). */
  bootSpreadMs?: number;
  /**
   * Worker threads to spread the nodes over (default 1: all in this thread).
   * The run's results are the same bytes whatever the number (see scenario-shard.ts).
   */
  workers?: number;
  /** Called with the run's summary and offered load just before the files are finished (the sweep adds its figures there). */
  beforeFinish?: (summary: RunSummary, load: CapacityPoint) => void;
  /** Where the nodes run: "node" (default) or "xs", Moddable's engine (simulator/src/xs/README.md). */
  engine?: "node" | "xs";
  /** Judge each transmission against every earlier frame instead of hourly epochs (one worker only; see scenario-shard.ts). */
  exactCollisions?: boolean;
}

/** What a run produced. */
export interface RunResult {
  summary: RunSummary;
  files?: { dir: string; report: string };
  wallMs: number;
  /** Offered load and delivery of the frames after the warm-up (`scenario.sweep.warmupMin`), against pure ALOHA. */
  load: CapacityPoint;
  /** With `engine: "xs"`: XS compute per wake by node type and peak heap (also in summary.json as `xs`). */
  xs?: XsFigures;
}

/** Runs `scenario` and returns its summary (and files, with `out`). */
export async function runScenario(scenario: Scenario, options: RunOptions = {}): Promise<RunResult> {
  tuneGcForFleet();
  if (scenario.sweep) return runSweep(scenario, scenario.sweep, { bootSpreadMs: (scenario.sweep.bootSpreadS ?? 300) * 1000, ...options });
  const started = Date.now();
  const seed = options.seed ?? scenario.seed;
  const days = options.days ?? scenario.days;
  const region = options.region ?? scenario.region;
  const epoch = new VirtualClock().epochUnixMs;
  const params: RunParams = { seed, days, region, ...(options.engine === "xs" ? { engine: "xs" as const } : {}), ...(options.exactCollisions ? { exactCollisions: true } : {}), ...(options.nodes === undefined ? {} : { nodes: options.nodes }), bootSpreadMs: options.bootSpreadMs ?? (scenario.bootSpreadS === undefined ? DEFAULT_BOOT_SPREAD_MS : scenario.bootSpreadS * 1000), ...(options.out ? { render: true } : {}) };
  // The coordinator's copy of the world: positions and gateways (each shard builds its own, and scores its nodes' ground truth).
  const world = buildWorld(scenario, params);
  const { city, gateways } = world;
  const workers = Math.max(1, Math.min(options.workers ?? 1, city.nodes.length));
  if (options.engine === "xs" && workers > 1) throw new Error("engine xs runs every node in one XS worker: use workers 1");
  if (options.exactCollisions && workers > 1) throw new Error("exact collisions need every node in one thread: use workers 1");
  // n workers: n − 1 worker threads and this thread, which runs the last shard (asked last, so the threads start first).
  const shards: ShardPort[] = [
    ...Array.from({ length: workers - 1 }, (_, index) => workerShard(scenario, params, { index, count: workers })),
    localShard(scenario, params, { index: workers - 1, count: workers }, world),
  ];
  let xsFigures: XsFigures | undefined;
  let shardTruth: WorldTruthEvent[] | undefined;

  const out = options.out ? new RunOutput(options.out) : undefined;
  let facts: NodeFacts[];
  try {
    facts = (await Promise.all(shards.map((s) => s.facts()))).flat().sort((a, b) => a.index - b.index);
  } catch (e) {
    await Promise.all(shards.map((s) => s.close()));
    throw e;
  }

  // Per node: what it sent (every frame, joins included, for airtime) and what arrived, from the network's
  // delivery reports. Frames, not application events: a confirmed uplink sent twice is two frames, so sent − delivered = lost.
  // Uplink records are settled and forgotten once a day (prune), so memory does not grow with the days.
  const sent = new Map<string, number>();
  const frames = new Map<string, number>();
  const deliveredFrames = new Map<string, number>();
  const joins = new Map<string, number>();
  const airtime = new Map<string, number[]>();
  const lostByReason: { [reason: string]: number } = {};
  const byEui = new Map(facts.map((n) => [n.devEui, n]));
  const endMs = days * DAY;
  const warmupMs = (options.warmupMin ?? 0) * 60_000;
  const load = { frames: 0, delivered: 0, collisions: 0, noDemodulator: 0, airtimeMs: 0, cells: new Set<string>(), windowMs: Math.max(0, endMs - warmupMs) };
  const addLine = (l: DeliveryLine) => {
    if (l.startMs >= warmupMs && l.startMs < endMs) {
      load.frames++;
      if (l.delivered) load.delivered++;
      else if (l.reason === "collision") load.collisions++;
      else if (l.reason === "no-demodulator") load.noDemodulator++;
      load.airtimeMs += l.airtimeMs;
      load.cells.add(`${l.frequencyHz}/${l.spreadingFactor}`);
    }
    const n = byEui.get(l.devEui);
    if (!n) return;
    const day = Math.min(Math.ceil(days) - 1, Math.max(0, Math.floor(l.startMs / DAY)));
    const a = airtime.get(n.id) ?? new Array(Math.ceil(days)).fill(0);
    a[day] += l.airtimeMs;
    airtime.set(n.id, a);
    frames.set(n.id, (frames.get(n.id) ?? 0) + 1);
    if (l.kind === "join") {
      if (l.delivered) joins.set(n.id, (joins.get(n.id) ?? 0) + 1);
      return;
    }
    sent.set(n.id, (sent.get(n.id) ?? 0) + 1);
    if (l.delivered) deliveredFrames.set(n.id, (deliveredFrames.get(n.id) ?? 0) + 1);
    else lostByReason[l.reason ?? "unknown"] = (lostByReason[l.reason ?? "unknown"] ?? 0) + 1;
  };
  const alarmsOf = new Map<string, ScoredAlarm[]>();
  const take = (results: EpochResult[]) => {
    for (const l of sortLines(results.flatMap((r) => r.lines))) addLine(l);
    for (const e of sortEvents(results.flatMap((r) => r.events))) {
      if (out) out.uplinkText(e.line ?? "", e.readings ?? "", e.rows ?? 0);
      const d = e.alarm;
      if (!d) continue;
      const list = alarmsOf.get(e.nodeId) ?? [];
      list.push(scoredAlarm(d.event, d.aqiCategory, e.atMs - (d.ageS ?? 0) * 1000, e.atMs));
      alarmsOf.set(e.nodeId, list);
    }
  };

  try {
    // Each step commits the epoch before (its events come back with the new epoch's batches) and runs the next.
    // The shards are sent the next step before this thread takes in (sorts and writes) what the last one
    // committed: the worker threads run their epoch meanwhile instead of waiting for the files.
    let previous: EpochCommit | undefined;
    let committed: EpochResult[] | undefined;
    /** Takes in `results` while the shards are `running`; if that fails, throws once they have settled. */
    const takeWhile = async <T>(results: EpochResult[] | undefined, running: Promise<T>): Promise<T> => {
      try {
        if (results) take(results);
      } catch (e) {
        await running.catch(() => undefined);
        throw e;
      }
      return running;
    };
    for (let t = HOUR; ; t += HOUR) {
      const until = Math.min(t, endMs);
      const steps = await takeWhile(committed, Promise.all(shards.map((s) => s.step(previous, until))));
      committed = previous ? steps.map((r) => r.committed!) : undefined;
      // Every node's clock has passed `until` and its next frame starts later: nothing older can still collide.
      const prune = until < endMs && until % DAY === 0 ? until : undefined;
      previous = { batches: steps.map((r) => r.batch), ...(prune === undefined ? {} : { pruneBeforeMs: prune }) };
      options.progress?.(until / endMs);
      if (until >= endMs) break;
    }
    const finals = await takeWhile(committed, Promise.all(shards.map((s) => s.finish(previous))));
    take(finals);
    shardTruth = finals.flatMap((f) => f.truth);
    facts = finals.flatMap((f) => f.facts).sort((a, b) => a.index - b.index);
    // Engine xs runs in one shard (checked above), so there is at most one set of figures.
    xsFigures = finals.find((f) => f.xs)?.xs;
  } finally {
    await Promise.all(shards.map((s) => s.close()));
  }

  // Every answerable event, also those starting before the run: an alarm during one is not a false alarm.
  const allTruth: GroundTruthEvent[] = sortTruth(shardTruth ?? []).filter((g) => isAnswerable(g.kind));
  const truth: GroundTruthEvent[] = allTruth.filter((g) => g.startMs >= 0 && g.startMs < endMs);
  // The coordinator's copy of the world tells a false alarm near a threshold from one far from any (a few windows, not a rescore).
  const near = (nodeId: string, fromMs: number, toMs: number) => (city.node(nodeId)?.nearEvents(fromMs, toMs) ?? []).map((e) => ({ nodeId, ...e }));
  const { detections, falseAlarms } = scoreAlarms(truth, allTruth, alarmsOf, epoch, near);

  const summaries: NodeSummary[] = facts.map((n) => {
    const power = energyModel(n.type, fittedParts(scenario, n.type));
    const air = airtime.get(n.id) ?? new Array(Math.ceil(days)).fill(0);
    const mAhPerDay = power.mAhPerDay({ days, boots: n.boots, frames: frames.get(n.id) ?? 0, awakeMs: n.awakeMs, airtimeMs: air.reduce((a, b) => a + b, 0), railMs: n.railMs, sensorActiveMs: n.sensorActiveMs });
    return {
      id: n.id,
      type: n.type,
      position: positionOf(city, n.id),
      modem: n.modem,
      dataRate: n.dataRate,
      boots: n.boots,
      awakeMs: n.awakeMs,
      railMs: Math.round(n.railMs),
      ...(n.sensorActiveMs === undefined ? {} : { sensorActiveMs: Math.round(n.sensorActiveMs) }),
      uplinksSent: sent.get(n.id) ?? 0,
      uplinksDelivered: deliveredFrames.get(n.id) ?? 0,
      joins: joins.get(n.id) ?? 0,
      airtimeMsPerDay: air.map((v) => Math.round(v * 1000) / 1000),
      energyMahPerDay: Math.round(mAhPerDay * 1000) / 1000,
      batteryMah: Math.round(power.batteryMah),
      projectedBatteryYears: Math.round(power.lifeYears(mAhPerDay) * 1000) / 1000,
      alarms: (alarmsOf.get(n.id) ?? []).filter((a) => !a.clear).map((a) => ({ event: a.event, atMs: epoch + a.atMs })),
      ...(n.clockErrorMs === undefined ? {} : { clockErrorS: n.clockErrorMs / 1000 }), ...(n.rtcPpm ? { rtcPpm: n.rtcPpm } : {}),
    };
  });
  const totalSent = summaries.reduce((a, s) => a + s.uplinksSent, 0);
  const totalDelivered = summaries.reduce((a, s) => a + s.uplinksDelivered, 0);
  const summary: RunSummary = {
    scenario: scenario.name,
    seed,
    region,
    days,
    startMs: epoch,
    nodes: summaries,
    gateways,
    groundTruth: truth.map((g) => ({ nodeId: g.nodeId, kind: g.kind, startMs: epoch + g.startMs, endMs: epoch + g.endMs })),
    detections,
    falseAlarms,
    outages: (scenario.outages ?? []).map((o) => ({ gatewayId: "*", startMs: epoch + o.startH * HOUR, endMs: epoch + (o.startH + o.durationH) * HOUR })),
    network: { uplinks: totalSent, delivered: totalDelivered, lostByReason },
    fairUseAirtimeMsPerDay: 30_000,
  };
  const G = load.windowMs > 0 && load.cells.size ? load.airtimeMs / (load.windowMs * load.cells.size) : 0;
  // Frames lost for reasons other than contention (out of range, outages, random loss) say nothing about the channel's capacity.
  const heard = load.delivered + load.collisions + load.noDemodulator;
  const point: CapacityPoint = {
    nodes: facts.length, frames: load.frames, delivered: load.delivered, collisions: load.collisions, noDemodulator: load.noDemodulator,
    channels: load.cells.size, offeredLoad: round4(G), deliveryRatio: round4(heard ? load.delivered / heard : 1), aloha: round4(Math.exp(-2 * G)),
  };
  if (xsFigures) (summary as RunSummary & { xs?: XsFigures }).xs = xsFigures;
  options.beforeFinish?.(summary, point);
  let files: RunResult["files"];
  if (out) {
    const f = await out.finish(summary);
    files = { dir: f.dir, report: f.report };
  }
  return { summary, files, wallMs: Date.now() - started, load: point, ...(xsFigures ? { xs: xsFigures } : {}) };
}

function round4(v: number): number {
  return Math.round(v * 10_000) / 10_000;
}

/**
 * A capacity sweep: one run of `sweep.hours` per node count (smallest first,
 * each with the scenario's gateways, so "per gateway" holds with one
 * gateway), measuring offered load G and delivery; the last and largest run
 * writes the files, with every point in the summary's `capacity` section.
 */
async function runSweep(scenario: Scenario, sweep: NonNullable<Scenario["sweep"]>, options: RunOptions): Promise<RunResult> {
  const started = Date.now();
  // --nodes sets the largest point (the others in proportion), --days each run's length.
  const asked = [...new Set(sweep.nodesPerGateway)].sort((a, b) => a - b);
  const gateways = Math.max(1, scenario.gateways?.length ?? 1);
  const scale = options.nodes === undefined ? 1 : options.nodes / gateways / asked[asked.length - 1];
  const counts = [...new Set(asked.map((n) => Math.max(1, Math.round(n * scale))))];
  const hours = options.days === undefined ? sweep.hours : options.days * 24;
  const single: Scenario = { ...scenario, days: hours / 24 };
  const points: CapacityPoint[] = [];
  let last: RunResult | undefined;
  for (const [i, count] of counts.entries()) {
    const final = i === counts.length - 1;
    last = await runScenario({ ...single, sweep: undefined }, {
      seed: options.seed,
      region: options.region,
      ...(options.workers === undefined ? {} : { workers: options.workers }),
      ...(options.exactCollisions ? { exactCollisions: true } : {}),
      nodes: count * gateways,
      ...(options.bootSpreadMs === undefined ? {} : { bootSpreadMs: options.bootSpreadMs }),
      warmupMin: sweep.warmupMin ?? 0,
      out: final ? options.out : undefined,
      progress: options.progress && ((f) => options.progress!((i + f) / counts.length)),
      beforeFinish: (summary, load) => {
        points.push({ ...load, nodes: count });
        if (final) summary.capacity = { hours, warmupMin: sweep.warmupMin ?? 0, points };
      },
    });
  }
  return { ...last!, wallMs: Date.now() - started };
}

function positionOf(city: City, id: string): { x: number; y: number } {
  const n = city.node(id);
  return n ? { x: Math.round(n.position.x), y: Math.round(n.position.y) } : { x: 0, y: 0 };
}
