/** Figures the report derives from a run summary: delivery ratios, airtime against the fair-use limit, battery, detection latency. */
import { NODE_TYPES, type Detection, type NodeSummary, type NodeType, type RunSummary } from "./run-data.ts";

/** Per-node figures. */
export interface NodeStats {
  node: NodeSummary;
  /** Delivered / sent, or null when the node sent nothing. */
  deliveryRatio: number | null;
  /** Largest and mean time on air of a day, ms. */
  maxAirtimeMs: number;
  meanAirtimeMs: number;
  /** Days over the fair-use limit. */
  daysOverLimit: number;
}

/** Detection figures for one kind of ground-truth event. */
export interface KindStats {
  kind: string;
  events: number;
  detected: number;
  missed: number;
  /** Latency (detected − truth start) over the detected events, ms; null when none was detected. */
  medianLatencyMs: number | null;
  maxLatencyMs: number | null;
  /** False alarms whose event name equals this kind. */
  falseAlarms: number;
}

/** Per-type counts. */
export interface TypeStats {
  type: NodeType;
  nodes: number;
  alarms: number;
  medianBatteryYears: number | null;
}

/** Everything derived, in one object. */
export interface FleetStats {
  nodes: NodeStats[];
  byType: TypeStats[];
  /** Delivered / sent over the network totals, or null when nothing was sent. */
  overallDeliveryRatio: number | null;
  /** Lost uplinks not covered by `lostByReason` (uplinks − delivered − Σ lost); 0 when the books balance. */
  unaccountedLosses: number;
  nodesOverLimit: number;
  maxAirtimeMs: number;
  minBatteryYears: number | null;
  medianBatteryYears: number | null;
  alarms: number;
  kinds: KindStats[];
  /** False alarms by event name. */
  falseAlarmsByEvent: { event: string; count: number }[];
  detected: number;
  missed: number;
}

/** The q-quantile (0…1) of ascending numbers, by linear interpolation; null for none. */
export function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (at - lo);
}

function ascending(values: Iterable<number>): number[] {
  return [...values].filter(Number.isFinite).sort((a, b) => a - b);
}

/**
 * Detection latencies (ms, ascending) of the detected events, leaving out those held from an earlier alarm.
 * An alarm that came before the event began, within its early allowance (a noPulse counted from a pulse
 * before the household left), detected it without delay: 0.
 */
export function detectionLatenciesMs(ds: readonly Detection[]): number[] {
  return ascending(ds.filter((d) => d.detectedAtMs !== null && !d.held).map((d) => Math.max(0, (d.detectedAtMs as number) - d.truthStartMs)));
}

/** A run's planner figures: per node and type, delivery, airtime, battery and detection by event kind. */
export function fleetStats(s: RunSummary): FleetStats {
  const limit = s.fairUseAirtimeMsPerDay;
  const nodes = s.nodes.map((node): NodeStats => {
    const days = node.airtimeMsPerDay;
    return {
      node,
      deliveryRatio: node.uplinksSent > 0 ? node.uplinksDelivered / node.uplinksSent : null,
      maxAirtimeMs: days.length ? Math.max(...days) : 0,
      meanAirtimeMs: days.length ? days.reduce((a, b) => a + b, 0) / days.length : 0,
      daysOverLimit: days.filter((d) => d > limit).length,
    };
  });
  const byType = NODE_TYPES.map((type): TypeStats => {
    const of = s.nodes.filter((n) => n.type === type);
    return {
      type,
      nodes: of.length,
      alarms: of.reduce((a, n) => a + n.alarms.length, 0),
      medianBatteryYears: quantile(ascending(of.map((n) => n.projectedBatteryYears)), 0.5),
    };
  }).filter((t) => t.nodes > 0);
  const lost = Object.values(s.network.lostByReason).reduce((a, b) => a + b, 0);
  const battery = ascending(s.nodes.map((n) => n.projectedBatteryYears));

  const kindNames = [...new Set([...s.groundTruth.map((g) => g.kind), ...s.detections.map((d) => d.kind)])].sort();
  const kinds = kindNames.map((kind): KindStats => {
    const ds = s.detections.filter((d) => d.kind === kind);
    const latencies = detectionLatenciesMs(ds);
    return {
      kind,
      events: Math.max(ds.length, s.groundTruth.filter((g) => g.kind === kind).length),
      detected: ds.filter((d) => d.detectedAtMs !== null).length,
      missed: ds.filter((d) => d.detectedAtMs === null).length,
      medianLatencyMs: quantile(latencies, 0.5),
      maxLatencyMs: latencies.length ? latencies[latencies.length - 1] : null,
      falseAlarms: s.falseAlarms.filter((f) => f.event === kind).length,
    };
  });
  const fa = new Map<string, number>();
  for (const f of s.falseAlarms) fa.set(f.event, (fa.get(f.event) ?? 0) + 1);

  return {
    nodes,
    byType,
    overallDeliveryRatio: s.network.uplinks > 0 ? s.network.delivered / s.network.uplinks : null,
    unaccountedLosses: s.network.uplinks - s.network.delivered - lost,
    nodesOverLimit: nodes.filter((n) => n.daysOverLimit > 0).length,
    maxAirtimeMs: nodes.reduce((a, n) => Math.max(a, n.maxAirtimeMs), 0),
    minBatteryYears: battery.length ? battery[0] : null,
    medianBatteryYears: quantile(battery, 0.5),
    alarms: s.nodes.reduce((a, n) => a + n.alarms.length, 0),
    kinds,
    falseAlarmsByEvent: [...fa].map(([event, count]) => ({ event, count })).sort((a, b) => b.count - a.count || a.event.localeCompare(b.event)),
    detected: s.detections.filter((d) => d.detectedAtMs !== null).length,
    missed: s.detections.filter((d) => d.detectedAtMs === null).length,
  };
}
