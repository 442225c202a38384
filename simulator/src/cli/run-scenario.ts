/**
 * Runs a scenario: lays out the city, builds one SimNode per city node (the
 * real firmware of its type, on emulated chips that read the world models),
 * runs them on one simulated LoRaWAN network in virtual time, streams the
 * network's application events to the run's files, and scores the alarms
 * against the world's ground truth.
 */
import { existsSync, readFileSync } from "node:fs";
import { City, type CityNode } from "../world/city.ts";
import { SimNetwork, type DeliveryLine } from "../network/network.ts";
import { SimNode, type NodeType } from "../fleet/sim-node.ts";
import { Fleet } from "../fleet/run-fleet.ts";
import { XsEngine, XsFleet, type XsFigures, type XsNode } from "../fleet/xs-node.ts";
import { VirtualClock } from "../core/clock.ts";
import { Rng } from "../core/rng.ts";
import { RunOutput } from "../report/run-output.ts";
import type { RunSummary, NodeSummary, Detection, FalseAlarm, GroundTruthEvent, CapacityPoint } from "../report/run-data.ts";
import type { Scenario } from "./scenario.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** How a node's alarm events answer the world's ground-truth kinds. */
const ANSWERS: { [truthKind: string]: string[] } = {
  co2High: ["co2High"],
  aqiUnhealthy: ["aqiCategoryChange"],
  pmSpike: ["pmSpike"],
  leak: ["leak"],
  burst: ["burst"],
  full: ["full"],
  collection: ["emptied"],
  tipped: ["tipped"],
  lidOpen: ["lidOpen"],
  rapidRise: ["rapidRise"],
  obstruction: ["obstruction"],
};
const UNHEALTHY = new Set(["unhealthy", "veryUnhealthy", "hazardous"]);
/** Alarm events that claim something happened (their "cleared" twins and fault reports are not scored). */
const CLAIMS = new Set(Object.values(ANSWERS).flat());
/** How long after a ground-truth event ends an alarm still counts as detecting it (a leak is judged at the next night). */
const GRACE_MS: { [kind: string]: number } = { leak: 30 * HOUR, collection: 2 * HOUR, full: 2 * HOUR };

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
  /** First boots spread evenly over this many ms (default: the SimNode default, a random moment in the first minute). */
  bootSpreadMs?: number;
  /** Called with the run's summary and offered load just before the files are finished (the sweep adds its figures there). */
  beforeFinish?: (summary: RunSummary, load: CapacityPoint) => void;
  /** Where the nodes run: "node" (default) or "xs", Moddable's engine (simulator/src/xs/README.md). */
  engine?: "node" | "xs";
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

/** Battery figures of a node type from hardware/<type>/power.json (capacity × usable share, sleep current). */
function powerModel(type: NodeType): { batteryMah: number; sleepUa: number; selfDischargePctPerYear: number } {
  const file = new URL(`../../../hardware/${type}/power.json`, import.meta.url);
  const fallback = { batteryMah: 17000 * 0.7, sleepUa: 20, selfDischargePctPerYear: 1 };
  if (!existsSync(file)) return fallback;
  try {
    const p = JSON.parse(readFileSync(file, "utf8")) as { battery?: { capacityMah?: number; usableFraction?: number; selfDischargePctPerYear?: number }; sleep?: { uA?: number }[] };
    const sleepUa = (p.sleep ?? []).reduce((a, s) => a + (s.uA ?? 0), 0);
    return {
      batteryMah: (p.battery?.capacityMah ?? 17000) * (p.battery?.usableFraction ?? 0.7),
      sleepUa: sleepUa || fallback.sleepUa,
      selfDischargePctPerYear: p.battery?.selfDischargePctPerYear ?? 1,
    };
  } catch {
    return fallback;
  }
}

/** ESP32 running plus sensors, averaged over a wake (mA), and the modem transmitting at 14 dBm (mA). */
const AWAKE_MA = 45;
const TX_MA = 120;

function nodeType(n: CityNode): NodeType {
  return n.kind === "bin" || n.kind === "drain" ? "level" : n.kind;
}

/** Runs `scenario` and returns its summary (and files, with `out`). */
export async function runScenario(scenario: Scenario, options: RunOptions = {}): Promise<RunResult> {
  if (scenario.sweep) return runSweep(scenario, scenario.sweep, { bootSpreadMs: (scenario.sweep.bootSpreadS ?? 300) * 1000, ...options });
  if (options.engine !== "xs") return runSingle(scenario, options);
  const xs = await XsEngine.start();
  try {
    return await runSingle(scenario, options, xs);
  } finally {
    await xs.close();
  }
}

/** One run (not a sweep); with `xs`, the nodes run in that XS engine. */
async function runSingle(scenario: Scenario, options: RunOptions, xs?: XsEngine): Promise<RunResult> {
  const started = Date.now();
  const seed = options.seed ?? scenario.seed;
  const days = options.days ?? scenario.days;
  const region = options.region ?? scenario.region;
  const clock0 = new VirtualClock();
  const epoch = clock0.epochUnixMs;
  const city = new City({
    seed,
    counts: scaleCounts(scenario, options.nodes),
    weather: { storms: (scenario.storms ?? []).map((s) => ({ startMs: s.startH * HOUR, durationMs: s.durationH * HOUR, peakMmH: s.peakMmH })) },
    regionalAir: { episodes: (scenario.episodes ?? []).map((e) => ({ startMs: e.startH * HOUR, endMs: (e.startH + e.durationH) * HOUR, peakPm25: 70 })) },
  });
  const gateways = (scenario.gateways ?? gatewayGrid(city.widthM, city.heightM)).map((g, i) => ({ id: `gw-${String(i + 1).padStart(2, "0")}`, ...g }));
  // An urban macro-cell channel (gateways on rooftops): the LoRaSim indoor defaults would give a 170 m range.
  const network = new SimNetwork({
    region,
    seed: `net-${seed}`,
    channel: { referenceLossDb: 100, referenceDistanceM: 40, pathLossExponent: 3.0, shadowingSdDb: 4, fadingSdDb: 2 },
    gateways: gateways.map((g) => ({ id: g.id, position: { x: g.x, y: g.y, z: 25 }, region, antennaGainDbi: 3 })),
  });
  for (const o of scenario.outages ?? []) network.addOutage({ fromMs: o.startH * HOUR, toMs: (o.startH + o.durationH) * HOUR });

  const out = options.out ? new RunOutput(options.out) : undefined;
  if (out) network.subscribe(out.uplink);

  const nodeOptions: ConstructorParameters<typeof SimNode>[0][] = [];
  const bootRng = new Rng(`boots-${seed}`);
  for (const [i, c] of city.nodes.entries()) {
    const type = nodeType(c);
    const env: ConstructorParameters<typeof SimNode>[0]["environment"] = {};
    const config: { [k: string]: unknown } = {};
    let settings: { [k: string]: number } = { ...(scenario.settings?.[type] ?? {}) };
    if (c.kind === "air") env.air = (t) => c.model.at(t);
    else if (c.kind === "water") env.flowLMin = (t) => c.model.flowLMin(t);
    else if (c.kind === "bin") {
      env.target = (t) => c.model.target(t);
      env.acceleration = (t) => c.model.acceleration(t);
      config.variant = "bin";
    } else {
      env.target = (t) => c.model.target(t);
      config.variant = "drain";
      settings = { depthMm: 1500, fullDistanceMm: 300, ...settings };
    }
    nodeOptions.push({
      type, id: c.id, seed: (seed * 7919 + i * 104729) >>> 0, network,
      ...(options.bootSpreadMs ? { firstBootMs: Math.floor(bootRng.next() * options.bootSpreadMs) } : {}), position: { x: c.position.x, y: c.position.y, z: 2 },
      modem: scenario.modem ?? "wio-e5", region, config: { ...config, adr: false, dataRate: scenario.dataRate ?? (region === "US915" ? 1 : 4) }, settings, environment: env,
    });
  }
  const nodes: (SimNode | XsNode)[] = [];
  if (xs) for (const o of nodeOptions) nodes.push(await xs.add(o));
  else for (const o of nodeOptions) nodes.push(new SimNode(o));

  // Per node: what it sent (every frame, joins included, for airtime) and what arrived, from the network's
  // delivery reports. Frames, not application events: a confirmed uplink sent twice is two frames, so sent − delivered = lost.
  // Uplink records are settled and forgotten once a day (network.prune), so memory does not grow with the days.
  const sent = new Map<string, number>();
  const deliveredFrames = new Map<string, number>();
  const joins = new Map<string, number>();
  const airtime = new Map<string, number[]>();
  const lostByReason: { [reason: string]: number } = {};
  const byEui = new Map(nodes.map((n) => [n.devEui, n]));
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
    if (l.kind === "join") {
      if (l.delivered) joins.set(n.id, (joins.get(n.id) ?? 0) + 1);
      return;
    }
    sent.set(n.id, (sent.get(n.id) ?? 0) + 1);
    if (l.delivered) deliveredFrames.set(n.id, (deliveredFrames.get(n.id) ?? 0) + 1);
    else lostByReason[l.reason ?? "unknown"] = (lostByReason[l.reason ?? "unknown"] ?? 0) + 1;
  };
  const alarmsOf = new Map<string, { event: string; atMs: number; receivedMs: number }[]>();
  const takeEvents = () => {
    for (const e of fleet.events) {
      const d = e.event.uplink_message.decoded_payload as { messageType?: string; event?: string; ageS?: number; aqiCategory?: string } | undefined;
      if (!d || !/Alarm$/.test(d.messageType ?? "") || !d.event) continue;
      // An AQI change down out of the unhealthy range is the all-clear, not a claim.
      if (d.event === "aqiCategoryChange" && d.aqiCategory !== undefined && !UNHEALTHY.has(d.aqiCategory)) continue;
      const list = alarmsOf.get(e.nodeId) ?? [];
      list.push({ event: d.event, atMs: e.atMs - (d.ageS ?? 0) * 1000, receivedMs: e.atMs });
      alarmsOf.set(e.nodeId, list);
    }
    fleet.events.length = 0;
  };

  // Boot records are not needed here (the counters are): keep none.
  for (const n of nodes) n.host.maxRecords = 0;
  const fleet = xs ? new XsFleet(xs, network) : new Fleet(network, nodes as SimNode[]);
  for (let t = HOUR; ; t += HOUR) {
    const until = Math.min(t, endMs);
    await fleet.runUntil(until);
    options.progress?.(until / endMs);
    if (until >= endMs) break;
    if (until % DAY === 0) {
      // Every node's clock has passed `until` and its next frame starts later: nothing older can still collide.
      for (const l of network.prune(until).uplinks) addLine(l);
      takeEvents();
      forgetLogs(nodes, network, until - DAY);
    }
  }
  for (const l of network.finalize().uplinks) addLine(l);
  takeEvents();

  // Every answerable event, also those starting before the run: an alarm during one is not a false alarm.
  const allTruth: GroundTruthEvent[] = city.groundTruthEvents(0, endMs).filter((g) => ANSWERS[g.kind]);
  const truth: GroundTruthEvent[] = allTruth.filter((g) => g.startMs >= 0 && g.startMs < endMs);
  const within = (a: { event: string; atMs: number }, g: GroundTruthEvent) =>
    ANSWERS[g.kind].includes(a.event) && a.atMs >= g.startMs - 15 * 60_000 && a.atMs <= g.endMs + (GRACE_MS[g.kind] ?? HOUR);
  const detections: Detection[] = [];
  for (const g of truth) {
    // The first alarm inside the event's window detects it; more alarms during the same event (a category
    // rising further, a re-trigger) are neither detections of other events nor false alarms.
    const hit = (alarmsOf.get(g.nodeId) ?? []).find((a) => within(a, g));
    detections.push({ nodeId: g.nodeId, kind: g.kind, truthStartMs: epoch + g.startMs, detectedAtMs: hit ? epoch + hit.receivedMs : null });
  }
  const falseAlarms: FalseAlarm[] = [];
  for (const [nodeId, alarms] of alarmsOf) {
    for (const a of alarms) {
      if (CLAIMS.has(a.event) && !allTruth.some((g) => g.nodeId === nodeId && within(a, g))) falseAlarms.push({ nodeId, event: a.event, atMs: epoch + a.atMs });
    }
  }

  const summaries: NodeSummary[] = nodes.map((n) => {
    const power = powerModel(n.type);
    const air = airtime.get(n.id) ?? new Array(Math.ceil(days)).fill(0);
    const airTotal = air.reduce((a, b) => a + b, 0);
    const mAhPerDay = (power.sleepUa / 1000) * 24 + ((n.counters.awakeMs * AWAKE_MA + airTotal * TX_MA) / 3_600_000) / days;
    const selfPerYear = (power.batteryMah * power.selfDischargePctPerYear) / 100;
    return {
      id: n.id,
      type: n.type,
      position: positionOf(city, n.id),
      modem: n.modemModel,
      dataRate: n.modem.device.dr,
      boots: n.counters.boots,
      awakeMs: n.counters.awakeMs,
      uplinksSent: sent.get(n.id) ?? 0,
      uplinksDelivered: deliveredFrames.get(n.id) ?? 0,
      joins: joins.get(n.id) ?? 0,
      airtimeMsPerDay: air.map((v) => Math.round(v * 1000) / 1000),
      energyMahPerDay: Math.round(mAhPerDay * 1000) / 1000,
      batteryMah: Math.round(power.batteryMah),
      projectedBatteryYears: Math.round((power.batteryMah / (mAhPerDay * 365 + selfPerYear)) * 100) / 100,
      alarms: (alarmsOf.get(n.id) ?? []).map((a) => ({ event: a.event, atMs: epoch + a.atMs })),
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
    nodes: nodes.length, frames: load.frames, delivered: load.delivered, collisions: load.collisions, noDemodulator: load.noDemodulator,
    channels: load.cells.size, offeredLoad: round4(G), deliveryRatio: round4(heard ? load.delivered / heard : 1), aloha: round4(Math.exp(-2 * G)),
  };
  if (xs) (summary as RunSummary & { xs?: XsFigures }).xs = xs.figures;
  options.beforeFinish?.(summary, point);
  let files: RunResult["files"];
  if (out) {
    const f = await out.finish(summary);
    files = { dir: f.dir, report: f.report };
  }
  return { summary, files, wallMs: Date.now() - started, load: point, ...(xs ? { xs: xs.figures } : {}) };
}

/**
 * Drops what the nodes and the network log for tests and the run does not use
 * (queued messages and readings, AT transcripts, the server's log, downlinks booked before
 * `beforeMs`), so a run's memory stays flat in the number of days.
 */
function forgetLogs(nodes: readonly (SimNode | XsNode)[], network: SimNetwork, beforeMs: number): void {
  for (const n of nodes) {
    n.queued.length = 0;
    n.readings.length = 0;
    n.modem.transcript.length = 0;
  }
  network.server.log.length = 0;
  for (const g of network.gateways) {
    const keep = g.transmissions.filter((t) => t.endMs >= beforeMs);
    g.transmissions.length = 0;
    g.transmissions.push(...keep);
  }
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
      nodes: count * gateways,
      ...(options.bootSpreadMs === undefined ? {} : { bootSpreadMs: options.bootSpreadMs }),
      ...(options.engine ? { engine: options.engine } : {}),
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
