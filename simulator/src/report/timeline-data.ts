/**
 * The data behind the report's timelines: which nodes to draw, and their key
 * readings read back from `readings.csv` at the end of the run, binned in time
 * as the file streams past so that memory depends only on how many nodes are
 * drawn and how many bins each has, never on the length of the run or the size
 * of the fleet.
 */
import { createReadStream } from "node:fs";
import { CsvParser } from "./csv.ts";
import { READINGS_COLUMNS } from "./readings-writer.ts";
import { NODE_TYPES, type NodeSummary, type NodeType } from "./run-data.ts";

/** A reading drawn on the timelines. */
export interface KeyField {
  /** Field name in `readings.csv`. */
  field: string;
  /** Axis label, with the unit. */
  label: string;
}

/** The readings each node type's timeline shows. */
export const KEY_FIELDS: Readonly<Record<NodeType, readonly KeyField[]>> = {
  air: [
    { field: "co2Ppm", label: "CO2 (ppm)" },
    { field: "pm2_5", label: "PM2.5 (µg/m³)" },
  ],
  water: [
    { field: "flowMlPerMin", label: "flow (mL/min)" },
    { field: "volumeMl", label: "volume per reading (mL)" },
  ],
  level: [{ field: "fillPct", label: "fill (%)" }],
};

/** The nodes drawn for one type. */
export interface TypeSelection {
  type: NodeType;
  /** Nodes drawn, in the summary's order. */
  nodes: NodeSummary[];
  /** Nodes of this type in the fleet. */
  total: number;
  /** Nodes of this type that raised at least one alarm, and how many of them are drawn. */
  withAlarms: number;
  withAlarmsShown: number;
}

/** Which nodes the timelines show. */
export interface TimelineSelection {
  types: TypeSelection[];
  /** True when every node is drawn. */
  complete: boolean;
  /** One sentence saying what is shown, for the page. */
  note: string;
}

/** Options of selectTimelineNodes. */
export interface SelectionOptions {
  /** Fleets up to this many nodes are drawn whole (default 12). */
  allUpTo?: number;
  /** The first this many nodes of each type are always drawn (default 3). */
  firstPerType?: number;
  /** At most this many further nodes per type that raised alarms, most alarms first (default 5). */
  alarmNodesPerType?: number;
}

/** Picks the nodes to draw: all of a small fleet; else the first few of each type and the nodes that raised alarms. */
export function selectTimelineNodes(nodes: readonly NodeSummary[], options: SelectionOptions = {}): TimelineSelection {
  const allUpTo = options.allUpTo ?? 12;
  const first = options.firstPerType ?? 3;
  const alarmMax = options.alarmNodesPerType ?? 5;
  const complete = nodes.length <= allUpTo;
  const types: TypeSelection[] = [];
  for (const type of NODE_TYPES) {
    const ofType = nodes.filter((n) => n.type === type);
    if (ofType.length === 0) continue;
    const withAlarms = ofType.filter((n) => n.alarms.length > 0);
    let chosen: Set<NodeSummary>;
    if (complete) {
      chosen = new Set(ofType);
    } else {
      chosen = new Set(ofType.slice(0, first));
      const ranked = withAlarms
        .map((n, i) => ({ n, i }))
        .filter(({ n }) => !chosen.has(n))
        .sort((a, b) => b.n.alarms.length - a.n.alarms.length || a.i - b.i)
        .slice(0, alarmMax);
      for (const { n } of ranked) chosen.add(n);
    }
    const shown = ofType.filter((n) => chosen.has(n));
    types.push({ type, nodes: shown, total: ofType.length, withAlarms: withAlarms.length, withAlarmsShown: shown.filter((n) => n.alarms.length > 0).length });
  }
  const drawn = types.reduce((a, t) => a + t.nodes.length, 0);
  let note: string;
  if (complete) {
    note = `All ${nodes.length} nodes are shown.`;
  } else {
    const parts = types.map((t) => `${t.type}: ${t.nodes.length} of ${t.total} (${t.withAlarmsShown} of ${t.withAlarms} nodes with alarms)`);
    note =
      `Showing a selection of ${drawn} of ${nodes.length} nodes: the first ${first} of each type, plus up to ${alarmMax} more per type ` +
      `among the nodes that raised alarms, those with the most alarms first — ${parts.join("; ")}. Every reading is in readings.csv.`;
  }
  return { types, complete, note };
}

/** One time bin of one reading of one node. */
export interface TimelinePoint {
  nodeId: string;
  field: string;
  /** Middle of the bin (Unix ms). */
  t: number;
  /** Mean, smallest and largest value in the bin; `mean` is null on a gap marker (the line breaks there). */
  mean: number | null;
  min: number | null;
  max: number | null;
  /** Readings in the bin. */
  n: number;
}

/** Options of readTimelines. */
export interface TimelineReadOptions {
  /** Start and length of the time axis (Unix ms). */
  startMs: number;
  spanMs: number;
  /** Bins across the axis (default 400). */
  bins?: number;
  /** The line breaks where more than this many bins, and more than three times the series' median spacing, pass without a reading (default 6). */
  gapBins?: number;
}

class Series {
  readonly sum: Float64Array;
  readonly min: Float64Array;
  readonly max: Float64Array;
  readonly n: Uint32Array;
  constructor(bins: number) {
    this.sum = new Float64Array(bins);
    this.min = new Float64Array(bins).fill(Infinity);
    this.max = new Float64Array(bins).fill(-Infinity);
    this.n = new Uint32Array(bins);
  }
}

/**
 * Reads `readings.csv` once and returns, for each (node, field) asked for, the
 * binned series, with a gap marker (null mean) wherever the readings stop for a while (see `gapBins`).
 * Readings outside the axis are dropped.
 */
export async function readTimelines(csvPath: string, wanted: ReadonlyMap<string, readonly string[]>, options: TimelineReadOptions): Promise<TimelinePoint[]> {
  const bins = options.bins ?? 400;
  const gapBins = options.gapBins ?? 6;
  const binMs = options.spanMs / bins;
  // By node, then field: a row of a node not shown (nearly all of them) costs one lookup.
  const series = new Map<string, Map<string, Series>>();
  for (const [node, fields] of wanted) series.set(node, new Map(fields.map((f) => [f, new Series(bins)])));

  const parser = new CsvParser();
  let header: string[] | undefined;
  const take = (records: string[][]): void => {
    for (const r of records) {
      if (!header) {
        header = r;
        if (READINGS_COLUMNS.some((c, i) => r[i] !== c)) throw new Error(`${csvPath}: header is ${r.join(",")}, expected ${READINGS_COLUMNS.join(",")}`);
        continue;
      }
      const s = series.get(r[1])?.get(r[4]);
      if (!s) continue;
      const t = Date.parse(r[0]);
      const v = Number(r[5]);
      if (!Number.isFinite(t) || !Number.isFinite(v) || r[5] === "") continue;
      const b = Math.floor((t - options.startMs) / binMs);
      if (b < 0 || b >= bins) continue;
      s.sum[b] += v;
      s.n[b]++;
      if (v < s.min[b]) s.min[b] = v;
      if (v > s.max[b]) s.max[b] = v;
    }
  };
  // Rows of nodes not shown are dropped before they are split: the node is the second field.
  const wantedLine = (line: string): boolean => {
    if (!header) return true;
    const a = line.indexOf(",");
    const b = line.indexOf(",", a + 1);
    return b > a && series.has(line.slice(a + 1, b));
  };
  const stream = createReadStream(csvPath, { encoding: "utf8", highWaterMark: 1 << 16 });
  for await (const chunk of stream) take(parser.push(chunk as string, wantedLine));
  take(parser.end());

  const out: TimelinePoint[] = [];
  for (const [node, fields] of wanted) {
    for (const field of fields) {
      const s = series.get(node)!.get(field)!;
      const filled: number[] = [];
      for (let b = 0; b < bins; b++) if (s.n[b] > 0) filled.push(b);
      // A gap is a silence much longer than the series' usual spacing (a node reporting hourly is not broken up every hour).
      const spacing = filled.slice(1).map((b, i) => b - filled[i]).sort((a, b) => a - b);
      const usual = spacing.length ? spacing[Math.floor(spacing.length / 2)] : 1;
      const gap = Math.max(gapBins, 3 * usual);
      let last = -1;
      for (const b of filled) {
        if (last >= 0 && b - last > gap) {
          out.push({ nodeId: node, field, t: options.startMs + ((last + b + 1) / 2) * binMs, mean: null, min: null, max: null, n: 0 });
        }
        out.push({ nodeId: node, field, t: options.startMs + (b + 0.5) * binMs, mean: s.sum[b] / s.n[b], min: s.min[b], max: s.max[b], n: s.n[b] });
        last = b;
      }
    }
  }
  return out;
}
