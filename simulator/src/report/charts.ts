/**
 * The report's charts as Vega-Lite specifications, rendered to SVG on the
 * server (Vega's headless view, `renderer: "none"`), so the page needs no
 * script. Every chart stays readable from a handful of nodes to a thousand:
 * per-node marks up to `PER_NODE_LIMIT` nodes, distributions beyond.
 */
import * as vega from "vega";
import * as vl from "vega-lite";
import type { TopLevelSpec } from "vega-lite";
import { formatLife } from "./energy-model.ts";
import type { FleetStats } from "./report-stats.ts";
import { DAY_MS, NODE_TYPES, type NodeType, type RunSummary } from "./run-data.ts";
import { KEY_FIELDS, type TimelinePoint, type TypeSelection } from "./timeline-data.ts";

/** Fleets larger than this get distributions instead of one mark per node (the map always has one per node). */
export const PER_NODE_LIMIT = 60;

/** Colours and map symbols by node type. */
export const TYPE_COLORS: Readonly<Record<NodeType, string>> = { air: "#8e6bbf", water: "#1f77b4", level: "#2ca02c" };
const TYPE_SHAPES: Readonly<Record<NodeType, string>> = { air: "circle", water: "square", level: "diamond" };
const GATEWAY_COLOR = "#222222";
const ALARM_COLOR = "#d62728";
const LIMIT_COLOR = "#d62728";
const FONT = "DejaVu Sans, Liberation Sans, Helvetica, Arial, sans-serif";

const CONFIG = {
  font: FONT,
  background: "white",
  view: { stroke: "#d0d0d0" },
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: "normal", gridColor: "#ececec" },
  legend: { labelFontSize: 11, titleFontSize: 12, orient: "right" },
  header: { labelFontSize: 11, titleFontSize: 12 },
} as const;

const typeColor = {
  field: "type",
  type: "nominal",
  title: "node type",
  scale: { domain: [...NODE_TYPES], range: NODE_TYPES.map((t) => TYPE_COLORS[t]) },
} as const;

/**
 * Renders a Vega-Lite specification to an SVG string. Vega reports runtime
 * errors through its logger rather than by throwing; here they throw, so a
 * broken chart never passes silently. Warnings (of Vega-Lite and Vega) go to
 * `warnings` when given, else to the console.
 */
export async function renderSvg(spec: TopLevelSpec, warnings?: string[]): Promise<string> {
  const errors: string[] = [];
  const text = (args: readonly unknown[]): string => args.map((a) => (a instanceof Error ? a.message : typeof a === "string" ? a : JSON.stringify(a))).join(" ");
  const warn = (...args: unknown[]): void => {
    if (warnings) warnings.push(text(args));
    else console.warn(...args);
  };
  let level = 0;
  const logger: vega.LoggerInterface = {
    level(l?: number) {
      if (l === undefined) return level;
      level = l;
      return logger;
    },
    error(...args: readonly unknown[]) {
      errors.push(text(args));
      return logger;
    },
    warn(...args: readonly unknown[]) {
      warn(...args);
      return logger;
    },
    info() {
      return logger;
    },
    debug() {
      return logger;
    },
  } as vega.LoggerInterface;
  const compiled = vl.compile(spec, { logger });
  const view = new vega.View(vega.parse(compiled.spec), { renderer: "none", logger, logLevel: vega.Warn });
  try {
    const svg = await view.toSVG();
    if (errors.length) throw new Error(`chart failed to render: ${errors.join("; ")}`);
    return svg;
  } finally {
    view.finalize();
  }
}

/** The run's time axis, UTC. */
function timeAxis(s: RunSummary, title: string | null) {
  return {
    field: "t",
    type: "temporal" as const,
    title,
    scale: { type: "utc" as const },
    axis:
      s.days > 1
        ? { format: "%b %d", labelOverlap: true, tickCount: { interval: "day" as const, step: Math.max(1, Math.ceil(s.days / 6)) } }
        : { format: "%H:%M", labelOverlap: true, tickCount: { interval: "hour" as const, step: 6 } },
  };
}

/** Per-node timelines of one node type: key readings (bin mean, with min–max band), alarms as red rules with a marker, outages shaded. */
export function timelineSpec(s: RunSummary, sel: TypeSelection, points: readonly TimelinePoint[]): TopLevelSpec {
  const fields = KEY_FIELDS[sel.type];
  const labelOf = new Map(fields.map((f) => [f.field, f.label]));
  const ids = new Set(sel.nodes.map((n) => n.id));
  const rows: Record<string, unknown>[] = [];
  for (const p of points) {
    const label = labelOf.get(p.field);
    if (label && ids.has(p.nodeId)) rows.push({ kind: "reading", node: p.nodeId, field: label, t: p.t, mean: p.mean, lo: p.min, hi: p.max });
  }
  const end = s.startMs + Math.max(1, s.days) * DAY_MS;
  for (const n of sel.nodes) {
    for (const f of fields) {
      // Every cell gets an invisible band over the whole run: it fixes the time axis to the run and
      // keeps the panel of a node without readings. (An explicit scale domain trips Vega-Lite's
      // scale merging in faceted layers.)
      rows.push({ kind: "frame", node: n.id, field: f.label, t: s.startMs, t2: end });
      for (const a of n.alarms) if (a.atMs >= s.startMs && a.atMs <= end) rows.push({ kind: "alarm", node: n.id, field: f.label, t: a.atMs, event: a.event });
      for (const o of s.outages ?? []) rows.push({ kind: "outage", node: n.id, field: f.label, t: Math.max(o.startMs, s.startMs), t2: Math.min(o.endMs, end) });
    }
  }
  const color = TYPE_COLORS[sel.type];
  // The scale and axis are given once (on the first layer); the other layers share them.
  const xFull = timeAxis(s, null);
  const x = { field: "t", type: "temporal" as const };
  const only = (kind: string) => [{ filter: `datum.kind === '${kind}'` }];
  const has = (kind: string) => rows.some((r) => r.kind === kind);
  const spec: TopLevelSpec = {
    config: CONFIG,
    data: { values: rows },
    facet: {
      row: { field: "node", type: "nominal", title: null, sort: sel.nodes.map((n) => n.id), header: { labelAngle: 0, labelAlign: "left", labelFontSize: 11, labelLimit: 130 } },
      column: { field: "field", type: "nominal", title: null, sort: fields.map((f) => f.label), header: { labelFontSize: 12, labelFontWeight: "bold" } },
    },
    spacing: { row: 6, column: 18 },
    spec: {
      width: fields.length > 1 ? 380 : 780,
      height: 58,
      // Layers with no rows at all are left out: Vega warns about the infinite extent of their empty domain.
      layer: [
        {
          name: "outages",
          transform: [{ filter: "datum.kind === 'outage' || datum.kind === 'frame'" }],
          mark: { type: "rect", color: "#9e9e9e" },
          encoding: { x: xFull, x2: { field: "t2" }, opacity: { condition: { test: "datum.kind === 'frame'", value: 0 }, value: 0.3 } },
        },
        ...(has("reading") ? [
          {
            name: "spread",
            transform: only("reading"),
            mark: { type: "area" as const, color, opacity: 0.22 },
            encoding: { x, y: { field: "lo", type: "quantitative" as const, title: null, axis: { tickCount: 3, format: ",.4~r" } }, y2: { field: "hi" } },
          },
          { name: "readings", transform: only("reading"), mark: { type: "line" as const, color, strokeWidth: 1.3 }, encoding: { x, y: { field: "mean", type: "quantitative" as const } } },
        ] : []),
        ...(has("alarm") ? [
          { name: "alarms", transform: only("alarm"), mark: { type: "rule" as const, color: ALARM_COLOR, strokeWidth: 1.2, opacity: 0.85 }, encoding: { x } },
          {
            name: "alarm_markers",
            transform: only("alarm"),
            mark: { type: "point" as const, shape: "triangle-down", filled: true, color: ALARM_COLOR, size: 36, opacity: 1 },
            encoding: { x, y: { value: 3 } },
          },
        ] : []),
      ],
    },
    resolve: { scale: { y: "independent" } },
  };
  return spec;
}

/** Delivery ratio: one dot per node and the overall ratio as a dashed rule; a stacked histogram beyond PER_NODE_LIMIT. */
export function deliverySpec(s: RunSummary, stats: FleetStats): TopLevelSpec {
  const rows = stats.nodes.filter((n) => n.deliveryRatio !== null).map((n) => ({ id: n.node.id, type: n.node.type, ratio: n.deliveryRatio as number }));
  const overall = stats.overallDeliveryRatio;
  const lowest = Math.min(overall ?? 1, ...rows.map((r) => r.ratio));
  const lo = Math.max(0, Math.floor((lowest - 0.02) * 20) / 20);
  const xTitle = "delivered / sent";
  const format = 1 - lo <= 0.1 ? ".1%" : ".0%";
  const overallLayers =
    overall === null
      ? []
      : [
          {
            data: { values: [{ ratio: overall, label: `overall ${(overall * 100).toFixed(1)} %` }] },
            mark: { type: "rule", color: "#333", strokeDash: [5, 3], strokeWidth: 1.5 },
            encoding: { x: { field: "ratio", type: "quantitative" } },
          },
          {
            data: { values: [{ ratio: overall, label: `overall ${(overall * 100).toFixed(1)} %` }] },
            mark: { type: "text", align: "right", dx: -4, dy: 0, baseline: "top", fontSize: 11, color: "#333" },
            encoding: { x: { field: "ratio", type: "quantitative" }, y: { value: 2 }, text: { field: "label" } },
          },
        ];
  if (s.nodes.length <= PER_NODE_LIMIT) {
    return {
      config: CONFIG,
      width: 620,
      height: { step: 15 },
      layer: [
        {
          data: { values: rows },
          mark: { type: "point", filled: true, size: 55, opacity: 0.95 },
          encoding: {
            y: { field: "id", type: "nominal", title: null, sort: s.nodes.map((n) => n.id), axis: { labelLimit: 140 } },
            x: { field: "ratio", type: "quantitative", title: xTitle, scale: { domain: [lo, 1], nice: false }, axis: { format, tickCount: 10 } },
            color: typeColor,
          },
        },
        ...overallLayers,
      ],
    } as TopLevelSpec;
  }
  return {
    config: CONFIG,
    width: 620,
    height: 260,
    layer: [
      {
        data: { values: rows },
        mark: { type: "bar", binSpacing: 0 },
        encoding: {
          x: { field: "ratio", type: "quantitative", bin: { extent: [lo, 1], step: (1 - lo) / 40 }, title: xTitle, scale: { domain: [lo, 1], nice: false }, axis: { format, tickCount: 10 } },
          y: { aggregate: "count", type: "quantitative", title: "nodes" },
          color: typeColor,
        },
      },
      ...overallLayers,
    ],
  } as TopLevelSpec;
}

/**
 * Time on air per node per day against the fair-use limit. Up to PER_NODE_LIMIT
 * nodes: one row per node, a tick for each day and a pale bar to the busiest
 * day, the limit as a red vertical line. Beyond: per type and day, the median
 * and the busiest node, the limit as a red horizontal line.
 */
export function airtimeSpec(s: RunSummary, stats: FleetStats): TopLevelSpec {
  const limitS = s.fairUseAirtimeMsPerDay / 1000;
  const top = Math.max(limitS * 1.15, (stats.maxAirtimeMs / 1000) * 1.05);
  const label = `fair-use limit ${limitS} s/day`;
  if (s.nodes.length <= PER_NODE_LIMIT) {
    const days: Record<string, unknown>[] = [];
    for (const n of s.nodes) n.airtimeMsPerDay.forEach((ms, d) => days.push({ id: n.id, type: n.type, day: d + 1, s: ms / 1000 }));
    const busiest = stats.nodes.map((n) => ({ id: n.node.id, type: n.node.type, s: n.maxAirtimeMs / 1000 }));
    const y = { field: "id", type: "nominal", title: null, sort: s.nodes.map((n) => n.id), axis: { labelLimit: 140 } };
    const x = { field: "s", type: "quantitative", title: "time on air per day (s)", scale: { domain: [0, top], nice: false } };
    return {
      config: CONFIG,
      width: 620,
      height: { step: 15 },
      layer: [
        { data: { values: busiest }, mark: { type: "bar", opacity: 0.28, height: { band: 0.7 } }, encoding: { y, x, color: typeColor } },
        { data: { values: days }, mark: { type: "tick", thickness: 2, bandSize: 11, opacity: 0.9 }, encoding: { y, x, color: typeColor } },
        { data: { values: [{ s: limitS }] }, mark: { type: "rule", color: LIMIT_COLOR, strokeWidth: 2 }, encoding: { x: { field: "s", type: "quantitative" } } },
        {
          data: { values: [{ s: limitS, label }] },
          mark: { type: "text", align: "left", baseline: "top", dx: 4, dy: 2, fontSize: 11, color: LIMIT_COLOR },
          encoding: { x: { field: "s", type: "quantitative" }, y: { value: 0 }, text: { field: "label" } },
        },
      ],
    } as TopLevelSpec;
  }
  const rows: Record<string, unknown>[] = [];
  for (const type of NODE_TYPES) {
    const of = s.nodes.filter((n) => n.type === type);
    if (!of.length) continue;
    for (let d = 0; d < s.days; d++) {
      const v = of.map((n) => n.airtimeMsPerDay[d] ?? 0).sort((a, b) => a - b);
      rows.push({ type, day: d + 1, stat: "median", s: v[Math.floor((v.length - 1) / 2)] / 1000 });
      rows.push({ type, day: d + 1, stat: "busiest", s: v[v.length - 1] / 1000 });
    }
  }
  return {
    config: CONFIG,
    width: 620,
    height: 260,
    layer: [
      {
        data: { values: rows },
        mark: { type: "line", strokeWidth: 1.8, point: s.days <= 14 ? { size: 18, filled: true } : false },
        encoding: {
          x: { field: "day", type: "quantitative", title: "day of the run", scale: { domain: [1, Math.max(2, s.days)] }, axis: { tickMinStep: 1, format: "d" } },
          y: { field: "s", type: "quantitative", title: "time on air per day (s)", scale: { domain: [0, top], nice: false } },
          color: typeColor,
          strokeDash: { field: "stat", type: "nominal", title: "per type", sort: ["busiest", "median"] },
        },
      },
      { data: { values: [{ s: limitS }] }, mark: { type: "rule", color: LIMIT_COLOR, strokeWidth: 2 }, encoding: { y: { field: "s", type: "quantitative" } } },
      {
        data: { values: [{ s: limitS, label }] },
        mark: { type: "text", align: "right", baseline: "bottom", dy: -3, fontSize: 11, color: LIMIT_COLOR },
        encoding: { y: { field: "s", type: "quantitative" }, x: { value: 618 }, text: { field: "label" } },
      },
    ],
  } as TopLevelSpec;
}

/** Projected battery life: one bar per node, longest first; a stacked histogram beyond PER_NODE_LIMIT. */
export function batterySpec(s: RunSummary): TopLevelSpec {
  const rows = s.nodes.map((n) => ({ id: n.id, type: n.type, years: n.projectedBatteryYears, life: formatLife(n.projectedBatteryYears) }));
  if (s.nodes.length <= PER_NODE_LIMIT) {
    const order = [...rows].sort((a, b) => b.years - a.years || a.id.localeCompare(b.id)).map((r) => r.id);
    return {
      config: CONFIG,
      width: 620,
      height: { step: 15 },
      data: { values: rows },
      layer: [
        {
          mark: { type: "bar" },
          encoding: {
            y: { field: "id", type: "nominal", title: null, sort: order, axis: { labelLimit: 140 } },
            x: { field: "years", type: "quantitative", title: "projected battery life (years)" },
            color: typeColor,
          },
        },
        {
          mark: { type: "text", align: "left", dx: 3, fontSize: 10, color: "#333" },
          encoding: { y: { field: "id", type: "nominal", sort: order }, x: { field: "years", type: "quantitative" }, text: { field: "life", type: "nominal" } },
        },
      ],
    } as TopLevelSpec;
  }
  return {
    config: CONFIG,
    width: 620,
    height: 260,
    data: { values: rows },
    mark: { type: "bar", binSpacing: 0 },
    encoding: {
      x: { field: "years", type: "quantitative", bin: { maxbins: 40 }, title: "projected battery life (years)" },
      y: { aggregate: "count", type: "quantitative", title: "nodes" },
      color: typeColor,
    },
  } as TopLevelSpec;
}

/**
 * A capacity sweep: measured delivery ratio per sweep point against offered
 * load G (per channel and SF), over pure ALOHA's S/G = e^(−2G) as a line.
 */
export function capacitySpec(s: RunSummary): TopLevelSpec {
  const points = s.capacity?.points ?? [];
  const top = Math.max(0.05, ...points.map((p) => p.offeredLoad)) * 1.1;
  const curve = Array.from({ length: 101 }, (_, i) => {
    const g = (top * i) / 100;
    return { g, ratio: Math.exp(-2 * g) };
  });
  const x = { field: "g", type: "quantitative" as const, title: "offered load G per channel and SF", scale: { domain: [0, top], nice: false } };
  const y = { field: "ratio", type: "quantitative" as const, title: "delivered / heard", scale: { domain: [0, 1] }, axis: { format: ".0%" } };
  return {
    config: CONFIG,
    width: 620,
    height: 300,
    layer: [
      { data: { values: curve }, mark: { type: "line", color: "#888", strokeDash: [5, 3] }, encoding: { x, y } },
      {
        data: { values: points.map((p) => ({ g: p.offeredLoad, ratio: p.deliveryRatio, nodes: p.nodes })) },
        mark: { type: "point", filled: true, size: 70, color: TYPE_COLORS.air },
        encoding: { x, y, tooltip: [{ field: "nodes", type: "quantitative", title: "nodes per gateway" }] },
      },
      {
        data: { values: points.map((p) => ({ g: p.offeredLoad, ratio: p.deliveryRatio, label: String(p.nodes) })) },
        mark: { type: "text", dy: -10, fontSize: 10, color: "#333" },
        encoding: { x, y, text: { field: "label" } },
      },
    ],
  } as TopLevelSpec;
}

/** The map: nodes coloured and shaped by type (one symbol each), gateways as black triangles, equal metres on both axes. */
export function mapSpec(s: RunSummary): TopLevelSpec {
  const xs = [...s.nodes.map((n) => n.position.x), ...s.gateways.map((g) => g.x)];
  const ys = [...s.nodes.map((n) => n.position.y), ...s.gateways.map((g) => g.y)];
  let [x0, x1] = xs.length ? [Math.min(...xs), Math.max(...xs)] : [0, 1];
  let [y0, y1] = ys.length ? [Math.min(...ys), Math.max(...ys)] : [0, 1];
  const pad = Math.max(20, 0.05 * Math.max(x1 - x0, y1 - y0));
  x0 -= pad;
  x1 += pad;
  y0 -= pad;
  y1 += pad;
  // Equal scale on both axes: pick the plot's shape from the area, within limits, then widen one domain to match.
  const width = 640;
  const height = Math.round(Math.min(640, Math.max(300, (width * (y1 - y0)) / (x1 - x0))));
  const mPerPx = Math.max((x1 - x0) / width, (y1 - y0) / height);
  const cx = (x0 + x1) / 2;
  const cy = (y0 + y1) / 2;
  const xDomain = [cx - (mPerPx * width) / 2, cx + (mPerPx * width) / 2];
  const yDomain = [cy - (mPerPx * height) / 2, cy + (mPerPx * height) / 2];
  const big = s.nodes.length > 200;
  const shapeScale = { domain: [...NODE_TYPES, "gateway"], range: [...NODE_TYPES.map((t) => TYPE_SHAPES[t]), "triangle-up"] };
  const colorScale = { domain: [...NODE_TYPES, "gateway"], range: [...NODE_TYPES.map((t) => TYPE_COLORS[t]), GATEWAY_COLOR] };
  const x = { field: "x", type: "quantitative", title: "x (m)", scale: { domain: xDomain, nice: false, zero: false } };
  const y = { field: "y", type: "quantitative", title: "y (m)", scale: { domain: yDomain, nice: false, zero: false } };
  const layers: unknown[] = [
    {
      name: "nodes",
      data: { values: s.nodes.map((n) => ({ id: n.id, type: n.type, x: n.position.x, y: n.position.y, alarms: n.alarms.length })) },
      mark: { type: "point", filled: true, size: big ? 14 : 60, opacity: big ? 0.75 : 0.9, stroke: "white", strokeWidth: big ? 0 : 0.6 },
      encoding: { x, y, color: { field: "type", type: "nominal", title: null, scale: colorScale }, shape: { field: "type", type: "nominal", title: null, scale: shapeScale } },
    },
    {
      name: "gateways",
      data: { values: s.gateways.map((g) => ({ id: g.id, type: "gateway", x: g.x, y: g.y })) },
      mark: { type: "point", filled: true, size: 190, stroke: "white", strokeWidth: 1.2 },
      encoding: { x, y, color: { field: "type", type: "nominal", title: null, scale: colorScale }, shape: { field: "type", type: "nominal", title: null, scale: shapeScale } },
    },
  ];
  if (s.gateways.length <= 20) {
    layers.push({
      data: { values: s.gateways.map((g) => ({ id: g.id, x: g.x, y: g.y })) },
      mark: { type: "text", dy: -14, fontSize: 11, fontWeight: "bold", color: GATEWAY_COLOR },
      encoding: { x, y, text: { field: "id" } },
    });
  }
  return { config: CONFIG, width, height, layer: layers } as TopLevelSpec;
}
