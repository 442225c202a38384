/**
 * `report.html`: one self-contained page about a run. Charts are SVG rendered
 * here (Vega-Lite → Vega → SVG) and inlined with the CSS; the page has no
 * script and references nothing outside itself, and its Content-Security-Policy
 * forbids loading anything, so it opens offline and never touches the network.
 *
 * Sections: summary, map, timelines, delivery, airtime, battery, detections,
 * nodes. The timelines read `readings.csv` back at the end of the run; the
 * rest comes from the summary.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { PER_NODE_LIMIT, TYPE_COLORS, airtimeSpec, batterySpec, capacitySpec, deliverySpec, mapSpec, renderSvg, timelineSpec } from "./charts.ts";
import { formatLife } from "./energy-model.ts";
import { fleetStats, type FleetStats, type NodeStats } from "./report-stats.ts";
import { DAY_MS, type NodeType, type RunSummary } from "./run-data.ts";
import { KEY_FIELDS, readTimelines, selectTimelineNodes, type SelectionOptions, type TimelinePoint } from "./timeline-data.ts";

/** Options of renderReport / writeReport. */
export interface ReportOptions {
  /** `readings.csv` to draw the timelines from (writeReport: the one in the run directory). Without it the timelines are empty. */
  readingsPath?: string;
  /** Time bins per timeline (default 400). */
  timelineBins?: number;
  /** Which nodes get timelines. */
  selection?: SelectionOptions;
  /** Rows listed in the detection and false-alarm tables before "… and N more" (default 200). */
  tableRows?: number;
  /** Collects the chart libraries' warnings (default: printed to the console). */
  warnings?: string[];
}

const TYPE_TITLES: Readonly<Record<NodeType, string>> = { air: "Air quality", water: "Water flow", level: "Fill level" };

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] as string);
}

const h = escapeHtml;

/** Unix ms as `2026-01-05 14:20 UTC`. */
export function formatTime(ms: number): string {
  if (!Number.isFinite(ms)) return "–";
  return new Date(ms).toISOString().slice(0, 16).replace("T", " ") + " UTC";
}

/** A duration in the largest unit that keeps it readable. */
export function formatDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return "–";
  const a = Math.abs(ms);
  const sign = ms < 0 ? "−" : "";
  if (a < 60_000) return `${sign}${(a / 1000).toFixed(a < 10_000 ? 1 : 0)} s`;
  if (a < 3_600_000) return `${sign}${(a / 60_000).toFixed(a < 600_000 ? 1 : 0)} min`;
  if (a < 2 * DAY_MS) return `${sign}${(a / 3_600_000).toFixed(1)} h`;
  return `${sign}${(a / DAY_MS).toFixed(1)} d`;
}

function pct(r: number | null): string {
  return r === null ? "–" : `${(r * 100).toFixed(1)} %`;
}

function num(v: number | null, digits = 0): string {
  if (v === null || !Number.isFinite(v)) return "–";
  return v.toLocaleString("en-GB", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** A battery life in years as `formatLife` gives it, or a dash when there is none. */
function life(years: number | null): string {
  return years === null ? "–" : formatLife(years);
}

function typeBadge(t: NodeType): string {
  return `<span class="badge" style="background:${TYPE_COLORS[t]}">${t}</span>`;
}

/** A table: header cells, then rows of already-escaped HTML cells; columns listed in `numeric` align right. */
function table(head: readonly string[], rows: readonly (readonly string[])[], numeric: readonly number[] = [], cls = ""): string {
  const align = (i: number): string => (numeric.includes(i) ? ' class="num"' : "");
  return (
    `<table${cls ? ` class="${cls}"` : ""}><thead><tr>${head.map((c, i) => `<th${align(i)}>${h(c)}</th>`).join("")}</tr></thead><tbody>` +
    rows.map((r) => `<tr>${r.map((c, i) => `<td${align(i)}>${c}</td>`).join("")}</tr>`).join("") +
    `</tbody></table>`
  );
}

function figure(chart: string, svg: string, caption: string): string {
  return `<figure class="chart" id="chart-${chart}" data-chart="${chart}">${svg}<figcaption>${caption}</figcaption></figure>`;
}

function summarySection(s: RunSummary, st: FleetStats): string {
  const lost = Object.entries(s.network.lostByReason).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const run = table(
    ["", ""],
    [
      ["scenario", h(s.scenario)],
      ["seed", h(String(s.seed))],
      ["region", h(s.region)],
      ["simulated", `${num(s.days)} days from ${h(formatTime(s.startMs))}`],
      ["nodes", `${num(s.nodes.length)} (${st.byType.map((t) => `${num(t.nodes)} ${t.type}`).join(", ") || "none"})`],
      ["gateways", num(s.gateways.length)],
      ["outages", (s.outages ?? []).length ? (s.outages ?? []).map((o) => `${h(o.gatewayId === "*" ? "all gateways" : o.gatewayId)} ${h(formatTime(o.startMs))} for ${formatDuration(o.endMs - o.startMs)}`).join("<br>") : "none"],
    ],
    [],
    "kv",
  );
  const network = table(
    ["", ""],
    [
      ["uplinks sent", num(s.network.uplinks)],
      ["delivered", `${num(s.network.delivered)} (${pct(st.overallDeliveryRatio)})`],
      ...lost.map(([reason, n]) => [`lost: ${h(reason)}`, num(n)]),
      ...(st.unaccountedLosses !== 0 ? [["lost: unaccounted", num(st.unaccountedLosses)]] : []),
      ["joins", num(s.nodes.reduce((a, n) => a + n.joins, 0))],
      ["busiest node-day on air", `${(st.maxAirtimeMs / 1000).toFixed(1)} s of ${num(s.fairUseAirtimeMsPerDay / 1000)} s allowed`],
      ["nodes over the fair-use limit", `${num(st.nodesOverLimit)}`],
    ],
    [],
    "kv",
  );
  const outcomes = table(
    ["", ""],
    [
      ["alarms raised", num(st.alarms)],
      ["ground-truth events", num(s.groundTruth.length)],
      ["detected", `${num(st.detected)} of ${num(st.detected + st.missed)}`],
      ["missed", num(st.missed)],
      ["false alarms", falseAlarmsText(s.falseAlarms)],
      ["battery life (shortest)", life(st.minBatteryYears)],
      ["battery life (median)", life(st.medianBatteryYears)],
    ],
    [],
    "kv",
  );
  const types = table(
    ["type", "nodes", "alarms", "median battery life"],
    st.byType.map((t) => [typeBadge(t.type), num(t.nodes), num(t.alarms), life(t.medianBatteryYears)]),
    [1, 2, 3],
  );
  return (
    `<section id="summary"><h2>Summary</h2><div class="cards">` +
    `<div class="card"><h3>Run</h3>${run}</div><div class="card"><h3>Network</h3>${network}</div>` +
    `<div class="card"><h3>Outcomes</h3>${outcomes}</div><div class="card"><h3>By type</h3>${types}</div></div></section>`
  );
}

function detectionSection(s: RunSummary, st: FleetStats, maxRows: number): string {
  const kinds = st.kinds.length
    ? table(
        ["event kind", "events", "detected", "missed", "median latency", "longest latency", "false alarms"],
        st.kinds.map((k) => [h(k.kind), num(k.events), num(k.detected), k.missed ? `<span class="bad">${num(k.missed)}</span>` : "0", formatDuration(k.medianLatencyMs), formatDuration(k.maxLatencyMs), num(k.falseAlarms)]),
        [1, 2, 3, 4, 5, 6],
      )
    : `<p>No ground-truth events in this run.</p>`;
  const truthEnd = new Map(s.groundTruth.map((g) => [JSON.stringify([g.nodeId, g.kind, g.startMs]), g.endMs]));
  const list = [...s.detections].sort((a, b) => a.truthStartMs - b.truthStartMs || a.nodeId.localeCompare(b.nodeId));
  const typeOf = new Map(s.nodes.map((n) => [n.id, n.type]));
  const detRows = list.slice(0, maxRows).map((d) => {
    const end = truthEnd.get(JSON.stringify([d.nodeId, d.kind, d.truthStartMs]));
    const t = typeOf.get(d.nodeId);
    return [
      `${t ? typeBadge(t) + " " : ""}${h(d.nodeId)}`,
      h(d.kind),
      h(formatTime(d.truthStartMs)),
      end === undefined ? "–" : formatDuration(end - d.truthStartMs),
      d.detectedAtMs === null ? `<span class="bad">missed</span>` : h(formatTime(d.detectedAtMs)),
      d.detectedAtMs === null ? "–" : d.held ? "already in alarm" : formatDuration(d.detectedAtMs - d.truthStartMs),
    ];
  });
  const more = (n: number, what: string): string => (n > maxRows ? `<p class="note">… and ${num(n - maxRows)} more ${what}; all are in summary.json.</p>` : "");
  const dets = list.length
    ? table(["node", "event", "started", "lasted", "detected at", "latency"], detRows, [3, 5]) + more(list.length, "events")
    : "";
  const fas = [...s.falseAlarms].sort((a, b) => a.atMs - b.atMs || a.nodeId.localeCompare(b.nodeId));
  const faTable = fas.length
    ? table(
        ["node", "alarm", "raised at", "the world"],
        fas.slice(0, maxRows).map((f) => {
          const t = typeOf.get(f.nodeId);
          return [`${t ? typeBadge(t) + " " : ""}${h(f.nodeId)}`, h(f.event), h(formatTime(f.atMs)), f.near ? "near the threshold" : "far from it"];
        }),
      ) + more(fas.length, "false alarms")
    : `<p>No false alarms.</p>`;
  return (
    `<section id="detections"><h2>Detections</h2>` +
    `<p>Ground truth (what the city model made happen) against the alarms that reached the network server. Latency runs from the start of the event to the alarm's arrival. An event that began while the node was still in alarm from an earlier one (the truth dipped under its threshold between them, the node's hysteresis held) counts as detected, "already in alarm", with no latency. A false alarm is "near the threshold" when the world crossed it lowered by the sensor's stated accuracy (SCD41 CO2, SEN55 PM, A02YYUW distance), so a reading within that accuracy could claim it (for a drain's rise rate: both ends of its window off by it).</p>` +
    kinds +
    (dets ? `<h3>Ground-truth events</h3>${dets}` : "") +
    `<h3>False alarms</h3>${faTable}</section>`
  );
}

function nodesSection(s: RunSummary, st: FleetStats): string {
  let shown: NodeStats[] = st.nodes;
  let note = "";
  if (st.nodes.length > 100) {
    shown = [...st.nodes].sort((a, b) => (a.deliveryRatio ?? 2) - (b.deliveryRatio ?? 2) || a.node.projectedBatteryYears - b.node.projectedBatteryYears).slice(0, 50);
    note = `<p class="note">The 50 nodes with the lowest delivery ratio of ${num(st.nodes.length)}; every node is in summary.json.</p>`;
  }
  const limit = s.fairUseAirtimeMsPerDay;
  const rows = shown.map((n) => [
    h(n.node.id),
    typeBadge(n.node.type),
    h(n.node.modem),
    `DR${num(n.node.dataRate)}`,
    num(n.node.boots),
    formatDuration(n.node.awakeMs),
    num(n.node.joins),
    num(n.node.uplinksSent),
    num(n.node.uplinksDelivered),
    pct(n.deliveryRatio),
    `<span${n.maxAirtimeMs > limit ? ' class="bad"' : ""}>${(n.maxAirtimeMs / 1000).toFixed(1)} s</span>`,
    num(n.node.energyMahPerDay, 2),
    formatLife(n.node.projectedBatteryYears),
    n.node.clockErrorS === undefined ? "unset" : `${n.node.clockErrorS > 0 ? "+" : ""}${formatDuration(n.node.clockErrorS * 1000)}`,
    n.node.alarms.length ? num(n.node.alarms.length) : "",
  ]);
  return (
    `<section id="nodes"><h2>Nodes</h2>${note}<p class="note">Clock: the node's wall clock minus true time after its last wake, what the application's setTime and the RTC's drift left ("unset": never set).</p>` +
    table(["node", "type", "modem", "data rate", "boots", "awake", "joins", "sent", "delivered", "delivery", "max air/day", "mAh/day", "battery life", "clock", "alarms"], rows, [4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14], "nodes") +
    `</section>`
  );
}

const CSS = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 "DejaVu Sans", "Liberation Sans", Helvetica, Arial, sans-serif; color: #1d1d1f; background: #f6f7f9; }
header { background: #1f2a36; color: #fff; padding: 18px 32px 12px; }
header h1 { margin: 0 0 4px; font-size: 24px; font-weight: 600; }
header .meta { margin: 0 0 10px; color: #cfd8e3; }
nav a { color: #9fd0ff; margin-right: 16px; text-decoration: none; font-size: 14px; }
main { max-width: 1160px; margin: 0 auto; padding: 8px 32px 40px; }
section { background: #fff; border: 1px solid #e1e4e8; border-radius: 6px; padding: 14px 22px 18px; margin: 18px 0; }
h2 { margin: 4px 0 10px; font-size: 20px; font-weight: 600; }
h3 { margin: 14px 0 6px; font-size: 16px; font-weight: 600; }
p { margin: 6px 0 10px; max-width: 80ch; }
.note { color: #555; font-size: 13px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(460px, 1fr)); gap: 10px 28px; }
.card h3 { margin-top: 0; }
table { border-collapse: collapse; font-size: 13px; margin: 6px 0 10px; }
th, td { padding: 3px 9px; border-bottom: 1px solid #e6e8eb; text-align: left; vertical-align: top; }
thead th { border-bottom: 2px solid #c9cdd2; font-weight: 600; background: #fafbfc; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.kv { width: 100%; }
table.kv td:first-child { width: 45%; }
table.kv thead { display: none; }
table.kv td:first-child { color: #555; }
table.nodes { font-size: 12px; }
table.nodes td:first-child { white-space: nowrap; }
.badge { display: inline-block; color: #fff; border-radius: 3px; padding: 0 5px; font-size: 11px; line-height: 16px; }
.bad { color: #c62828; font-weight: 600; }
figure.chart { margin: 8px 0 14px; overflow-x: auto; }
figure.chart svg { max-width: 100%; height: auto; display: block; }
figcaption { font-size: 13px; color: #555; margin-top: 4px; max-width: 90ch; }
footer { text-align: center; color: #777; font-size: 12px; padding: 0 0 30px; }
`;

/** A capacity sweep's chart and table (the rest of the page is about its largest run). */
function capacitySection(s: RunSummary, svg: string): string {
  const c = s.capacity!;
  const rows = c.points.map((p) => [num(p.nodes), num(p.frames), num(p.channels), num(p.offeredLoad, 3), num(p.collisions), num(p.noDemodulator), pct(p.deliveryRatio), pct(p.aloha)]);
  return (
    `<section id="capacity"><h2>Capacity</h2><p>One run of ${num(c.hours, 1)} h per point, the first ${num(c.warmupMin)} min (joins) left out; the rest of this report is the largest run. ` +
    `Offered load G is time on air over time and (channel, SF) pairs used; the delivery ratio counts the frames the gateway could have heard (in range, no outage).</p>` +
    figure("capacity", svg, "Dots: measured delivery ratio per run, labelled with its nodes per gateway; dashed line: pure ALOHA, S/G = e<sup>−2G</sup>. Above the line: the capture effect; below it at high load: the gateway's 8 demodulators.") +
    table(["nodes/gateway", "frames", "channels", "G", "collisions", "no demodulator", "delivery ratio", "ALOHA e^-2G"], rows, [0, 1, 2, 3, 4, 5, 6, 7]) +
    `</section>`
  );
}

/** Renders the page. */
export async function renderReport(s: RunSummary, options: ReportOptions = {}): Promise<string> {
  const st = fleetStats(s);
  const selection = selectTimelineNodes(s.nodes, options.selection);
  const spanMs = Math.max(1, s.days) * DAY_MS;
  const bins = options.timelineBins ?? 400;
  let points: TimelinePoint[] = [];
  if (options.readingsPath) {
    const wanted = new Map<string, readonly string[]>();
    for (const t of selection.types) for (const n of t.nodes) wanted.set(n.id, KEY_FIELDS[t.type].map((f) => f.field));
    points = await readTimelines(options.readingsPath, wanted, { startMs: s.startMs, spanMs, bins });
  }
  const perNode = s.nodes.length <= PER_NODE_LIMIT;
  const [mapSvg, deliverySvg, airtimeSvg, batterySvg, capacitySvg, ...timelineSvgs] = await Promise.all([
    renderSvg(mapSpec(s), options.warnings),
    renderSvg(deliverySpec(s, st), options.warnings),
    renderSvg(airtimeSpec(s, st), options.warnings),
    renderSvg(batterySpec(s), options.warnings),
    s.capacity ? renderSvg(capacitySpec(s), options.warnings) : Promise.resolve(""),
    // A timeline that Vega cannot draw (seen with some one-day runs) must not cost the whole report: say so in its place.
    ...selection.types.map((t) =>
      renderSvg(timelineSpec(s, t, points), options.warnings).catch((e: Error) => {
        options.warnings?.push(`timeline of ${t.type} nodes not drawn: ${e.message}`);
        return `<p class="note">This timeline could not be drawn (${escapeText(e.message)}); the readings are in readings.csv.</p>`;
      }),
    ),
  ]);
  const binText = formatDuration(spanMs / bins);
  const timelines = selection.types
    .map((t, i) =>
      `<h3>${TYPE_TITLES[t.type]}</h3>` +
      figure(
        `timeline-${t.type}`,
        timelineSvgs[i],
        `${KEY_FIELDS[t.type].map((f) => h(f.label)).join(" and ")} of ${num(t.nodes.length)} ${t.type} node${t.nodes.length === 1 ? "" : "s"}` +
          (t.nodes.length < t.total ? ` (of ${num(t.total)})` : "") +
          `. Line: mean over ${binText}; band: smallest to largest reading in that time; red rule with ▼: an alarm the node raised; grey band: a network outage; a break in the line: no readings.`,
      ),
    )
    .join("");
  const limitS = num(s.fairUseAirtimeMsPerDay / 1000);
  const meta = `seed ${h(String(s.seed))} · ${h(s.region)} · ${num(s.days)} days from ${h(formatTime(s.startMs))} · ${num(s.nodes.length)} nodes · ${num(s.gateways.length)} gateways`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>citysense run: ${h(s.scenario)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>Run report: ${h(s.scenario)}</h1>
<p class="meta">${meta}</p>
<nav><a href="#summary">Summary</a><a href="#map">Map</a><a href="#timelines">Timelines</a><a href="#delivery">Delivery</a><a href="#airtime">Airtime</a><a href="#battery">Battery</a><a href="#detections">Detections</a><a href="#nodes">Nodes</a></nav>
</header>
<main>
${summarySection(s, st)}
<section id="map"><h2>Map</h2>${figure("map", mapSvg, `Every node (${num(s.nodes.length)}), coloured and shaped by type, and every gateway (${num(s.gateways.length)}, ▲). Both axes in metres at the same scale.`)}</section>
<section id="timelines"><h2>Timelines</h2><p class="note">${h(selection.note)}</p>${timelines || "<p>No nodes.</p>"}</section>
<section id="delivery"><h2>Delivery</h2><p>Uplinks the network server accepted out of those each node sent; overall ${pct(st.overallDeliveryRatio)} (${num(s.network.delivered)} of ${num(s.network.uplinks)}).</p>${figure(
    "delivery",
    deliverySvg,
    perNode ? "One dot per node; the dashed line is the fleet's overall ratio." : `How many nodes delivered what share of their uplinks (${num(s.nodes.length)} nodes, stacked by type); the dashed line is the fleet's overall ratio. The nodes table lists the lowest.`,
  )}</section>
<section id="airtime"><h2>Airtime</h2><p>Time on air per node and day, against The Things Network's fair-use limit of ${limitS} s per node per day (red line). ${st.nodesOverLimit ? `<span class="bad">${num(st.nodesOverLimit)} node${st.nodesOverLimit === 1 ? "" : "s"} went over it.</span>` : "No node went over it."}</p>${figure(
    "airtime",
    airtimeSvg,
    perNode ? "One row per node: a tick for each day, and a pale bar out to the node's busiest day." : "Per type and day: the median node (dashed) and the busiest node (solid).",
  )}</section>
<section id="battery"><h2>Battery</h2><p>Battery life projected from each node's mean daily consumption and its battery's capacity. The consumption is its type's power budget (<code>hardware/&lt;type&gt;/power.json</code>) charged by what the node did in the run: its boots, frames, time awake, time on air and the time its sensor rail was on (the air node's SEN55: all day on a mains build, a warm-up and a reading per period on a battery build), plus what the budget keeps on all day. Lives under a year are given in days.</p>${figure(
    "battery",
    batterySvg,
    perNode ? "One bar per node, longest first." : `How many nodes reach each projected life (${num(s.nodes.length)} nodes, stacked by type).`,
  )}</section>
${s.capacity ? capacitySection(s, capacitySvg) : ""}${detectionSection(s, st, options.tableRows ?? 200)}
${nodesSection(s, st)}
</main>
<footer>Generated by the citysense simulator from summary.json and readings.csv; every uplink is in events.jsonl.</footer>
</body>
</html>
`;
}

/** Writes `report.html` into a run directory, drawing the timelines from its `readings.csv`; returns the page's path. */
export async function writeReport(dir: string, s: RunSummary, options: ReportOptions = {}): Promise<string> {
  const path = join(dir, "report.html");
  const html = await renderReport(s, { readingsPath: join(dir, "readings.csv"), ...options });
  writeFileSync(path, html);
  return path;
}

function escapeText(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** The false-alarm count, with how many were near a threshold (within the sensor's accuracy). */
function falseAlarmsText(fas: readonly { near?: true }[]): string {
  const near = fas.filter((f) => f.near).length;
  return near ? `${num(fas.length)} (${num(near)} near a threshold)` : num(fas.length);
}
