/**
 * The data model of a simulator run's outputs: what the fleet runner fills in
 * while it runs a scenario and hands to the report at the end (`summary.json`
 * is this object, as JSON).
 *
 * Conventions, for every field below:
 * - Times named `…Ms` are Unix milliseconds (UTC), not virtual milliseconds:
 *   the runner adds `startMs` to the virtual clock. `received_at` in
 *   `events.jsonl` and `time` in `readings.csv` are the same instants in ISO 8601.
 * - Positions are metres on a flat local grid (x east, y north) shared by nodes
 *   and gateways; the origin is the scenario's choice.
 * - Node ids are the `end_device_ids.device_id` the network server gives the
 *   node in `events.jsonl`, so the summary and the events join on them.
 * - Counts are whole numbers ≥ 0; every number is finite (JSON has no Infinity).
 */

/** What a node measures. */
export type NodeType = "air" | "water" | "level";

/** All node types, in the order the report lists them. */
export const NODE_TYPES: readonly NodeType[] = ["air", "water", "level"];

/** A place on the scenario's grid, in metres. */
export interface Position {
  /** Metres east of the scenario's origin. */
  x: number;
  /** Metres north of the scenario's origin. */
  y: number;
}

/** An alarm a node raised (an alarm uplink it sent, whether or not it was delivered). */
export interface NodeAlarm {
  /** The codec's event name, e.g. `co2High`, `leak`, `full` (the alarm message's `event`). */
  event: string;
  /** When the node measured what raised it (Unix ms; an alarm's `time`, not its receive time). */
  atMs: number;
}

/** One node over the whole run. */
export interface NodeSummary {
  /** Device id, as in `events.jsonl` (`end_device_ids.device_id`). */
  id: string;
  /** What the node measures. */
  type: NodeType;
  /** Where it stands. */
  position: Position;
  /** Modem model, e.g. `wio-e5` or `rak3172`. */
  modem: string;
  /** LoRaWAN data rate index the node ended the run on (region's DR table). */
  dataRate: number;
  /** Boots of the firmware: cold starts and deep-sleep wakes together. */
  boots: number;
  /** Total time the ESP32 was awake (not in deep sleep), ms. */
  awakeMs: number;
  /** Total time its switched sensor rail was on, ms (the air node's PM sensor, the level node's distance sensor). */
  railMs: number;
  /** Of that, the time its PM sensor ran its fan and laser, ms (PMS5003 builds only: asleep by command, it draws its standby current). */
  sensorActiveMs?: number;
  /** Application uplinks the node transmitted (each frame counted once, retransmissions of a confirmed frame not again). */
  uplinksSent: number;
  /** Of `uplinksSent`, those the network server accepted (they are the node's lines in `events.jsonl`). */
  uplinksDelivered: number;
  /** Join procedures completed (OTAA join accepts received). */
  joins: number;
  /** Time on air per day of the run, ms, index 0 = the day starting at `startMs`; `days` entries. Counts every transmission, joins and retransmissions included. */
  airtimeMsPerDay: number[];
  /** Mean energy drawn from the battery per day, mAh/day. */
  energyMahPerDay: number;
  /** Battery capacity, mAh. */
  batteryMah: number;
  /** Battery life projected from `energyMahPerDay` and `batteryMah` (and self-discharge, if the runner models it), years. */
  projectedBatteryYears: number;
  /** Alarms the node raised, in time order. */
  alarms: NodeAlarm[];
  /** The node's wall clock minus true time after its last wake, s (absent if its clock was never set): what the application's setTime and the RTC's drift left. */
  clockErrorS?: number;
  /** Rate error of the node's RTC, ppm (scenario `rtcDriftPpm`; absent when 0). */
  rtcPpm?: number;
}

/** A LoRaWAN gateway. */
export interface GatewaySummary {
  /** Gateway id, as in `rx_metadata[].gateway_ids.gateway_id`. */
  id: string;
  /** Metres east of the origin. */
  x: number;
  /** Metres north of the origin. */
  y: number;
}

/** Something that really happened at a node, from the world model (what the node should detect). */
export interface GroundTruthEvent {
  nodeId: string;
  /** What happened, e.g. `leak`, `burst`, `co2High`, `full`, `tipped`. */
  kind: string;
  /** When it began and ended (Unix ms); `endMs` ≥ `startMs`. */
  startMs: number;
  endMs: number;
}

/** How one ground-truth event was detected, or that it was missed. */
export interface Detection {
  nodeId: string;
  /** The ground-truth event's kind. */
  kind: string;
  /** The ground-truth event's `startMs`; (nodeId, kind, truthStartMs) names the event. */
  truthStartMs: number;
  /** When the matching alarm reached the network server (Unix ms), or null if the event was missed. Latency is `detectedAtMs − truthStartMs`, 0 when the alarm came early (`detectionLatenciesMs`). */
  detectedAtMs: number | null;
  /**
   * The node was still in alarm from an earlier event when this one began (the truth dipped under its
   * threshold between them; the node's hysteresis did not clear): `detectedAtMs` is that alarm's arrival,
   * before the event, and no latency is counted.
   */
  held?: true;
}

/** An alarm that matches no ground-truth event. */
export interface FalseAlarm {
  nodeId: string;
  /** The alarm's event name. */
  event: string;
  /** When the node raised it (Unix ms). */
  atMs: number;
  /**
   * The world crossed the threshold's tolerance band, lowered by the sensor's stated accuracy (a CO2,
   * PM or fill reading within its error of the threshold, or a drain's rise whose two ends could be off
   * by it), without crossing the threshold itself: the sensor's error, not a phantom.
   */
  near?: true;
}

/** A time the radio network could not deliver, for shading the timelines. */
export interface Outage {
  /** Gateway that was down, or `"*"` for all of them (a backhaul or network-server outage). */
  gatewayId: string;
  startMs: number;
  endMs: number;
}

/** The network's totals over the run. */
export interface NetworkTotals {
  /** Application uplinks all nodes transmitted (the sum of `uplinksSent`). */
  uplinks: number;
  /** Of those, the ones the network server accepted (the sum of `uplinksDelivered`, the lines of `events.jsonl`). */
  delivered: number;
  /**
   * Uplinks lost, by reason, e.g. `collision`, `below-sensitivity`, `outage`,
   * `no-gateway`, or a network-server reject reason (`mic`, `fcnt-replay`, …).
   * The counts should add up to `uplinks − delivered`; the report shows any
   * difference as `unaccounted`.
   */
  lostByReason: { [reason: string]: number };
}

/** Everything a run produced apart from the streamed files: `summary.json`. */
export interface RunSummary {
  /** Scenario name. */
  scenario: string;
  /** Random seed; the same scenario with the same seed replays the same run. */
  seed: number;
  /** LoRaWAN region, e.g. `EU868`. */
  region: string;
  /** Simulated days (the run covers [startMs, startMs + days × 86 400 000)). */
  days: number;
  /** Start of the run, Unix ms. */
  startMs: number;
  nodes: NodeSummary[];
  gateways: GatewaySummary[];
  /** What really happened, from the world model. */
  groundTruth: GroundTruthEvent[];
  /** One entry per ground-truth event that a node is expected to detect. */
  detections: Detection[];
  /** Alarms with no ground-truth event behind them. */
  falseAlarms: FalseAlarm[];
  /** Network outages the scenario injected (optional; empty when none). */
  outages?: Outage[];
  network: NetworkTotals;
  /** The Things Network fair-use limit: time on air per node per day, ms (30 000). */
  fairUseAirtimeMsPerDay: number;
  /** A capacity sweep's figures (optional; only sweep scenarios have it, and the rest of the summary is then its largest run). */
  capacity?: CapacitySection;
}

/** One run of a capacity sweep: offered load against delivery, with pure ALOHA's prediction. */
export interface CapacityPoint {
  /** Nodes per gateway. */
  nodes: number;
  /** Frames (joins and data) that started in the measured window. */
  frames: number;
  /** Of those, frames at least one gateway received with every frame known. */
  delivered: number;
  /** Frames lost to a collision, and to no free demodulator. */
  collisions: number;
  noDemodulator: number;
  /** (channel, spreading factor) pairs the frames used. */
  channels: number;
  /** Offered load G per channel and SF: time on air / (window × channels). */
  offeredLoad: number;
  /** delivered / (delivered + collisions + noDemodulator): of the frames the gateways could have heard, those they did (other losses, e.g. out of range, are not the channel's capacity). */
  deliveryRatio: number;
  /** Pure ALOHA's delivery ratio at that load, S/G = e^(−2G). */
  aloha: number;
}

/** A capacity sweep. */
export interface CapacitySection {
  /** Length of each run and the warm-up left out of its figures. */
  hours: number;
  warmupMin: number;
  points: CapacityPoint[];
}

/** The Things Network fair-use policy: 30 s of time on air per node per day. */
export const TTN_FAIR_USE_AIRTIME_MS_PER_DAY = 30_000;

/** One day in milliseconds. */
export const DAY_MS = 86_400_000;

/**
 * Checks a summary against the rules above; returns the problems found (empty
 * when it is sound). For the runner's tests: the report itself copes with gaps.
 */
export function checkRunSummary(s: RunSummary): string[] {
  const problems: string[] = [];
  const finite = (v: unknown, what: string): void => {
    if (typeof v !== "number" || !Number.isFinite(v)) problems.push(`${what} is not a finite number`);
  };
  const count = (v: unknown, what: string): void => {
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0) problems.push(`${what} is not a count`);
  };
  finite(s.seed, "seed");
  count(s.days, "days");
  finite(s.startMs, "startMs");
  finite(s.fairUseAirtimeMsPerDay, "fairUseAirtimeMsPerDay");
  const ids = new Set<string>();
  for (const n of s.nodes) {
    const at = `node ${n.id}`;
    if (ids.has(n.id)) problems.push(`${at} appears twice`);
    ids.add(n.id);
    if (!NODE_TYPES.includes(n.type)) problems.push(`${at}: type ${String(n.type)} is not air, water or level`);
    finite(n.position?.x, `${at}: position.x`);
    finite(n.position?.y, `${at}: position.y`);
    for (const k of ["boots", "uplinksSent", "uplinksDelivered", "joins", "dataRate"] as const) count(n[k], `${at}: ${k}`);
    for (const k of ["awakeMs", "energyMahPerDay", "batteryMah", "projectedBatteryYears"] as const) finite(n[k], `${at}: ${k}`);
    if (n.uplinksDelivered > n.uplinksSent) problems.push(`${at}: more uplinks delivered than sent`);
    if (n.airtimeMsPerDay.length !== s.days) problems.push(`${at}: airtimeMsPerDay has ${n.airtimeMsPerDay.length} entries for ${s.days} days`);
    n.airtimeMsPerDay.forEach((v, i) => finite(v, `${at}: airtimeMsPerDay[${i}]`));
    n.alarms.forEach((a, i) => finite(a.atMs, `${at}: alarms[${i}].atMs`));
  }
  const known = (id: string, what: string): void => {
    if (!ids.has(id)) problems.push(`${what} names unknown node ${id}`);
  };
  s.groundTruth.forEach((g, i) => {
    known(g.nodeId, `groundTruth[${i}]`);
    if (!(g.endMs >= g.startMs)) problems.push(`groundTruth[${i}] ends before it starts`);
  });
  s.detections.forEach((d, i) => {
    known(d.nodeId, `detections[${i}]`);
    if (d.detectedAtMs !== null) finite(d.detectedAtMs, `detections[${i}].detectedAtMs`);
    if (d.held !== undefined && (d.held !== true || d.detectedAtMs === null)) problems.push(`detections[${i}]: held must be true and come with detectedAtMs`);
  });
  s.falseAlarms.forEach((f, i) => {
    known(f.nodeId, `falseAlarms[${i}]`);
    if (f.near !== undefined && f.near !== true) problems.push(`falseAlarms[${i}]: near must be true when present`);
  });
  count(s.network.uplinks, "network.uplinks");
  count(s.network.delivered, "network.delivered");
  for (const [reason, v] of Object.entries(s.network.lostByReason)) count(v, `network.lostByReason.${reason}`);
  return problems;
}
