/** What the report derives: the timeline selection, binned series read back from CSV, fleet figures, formatting. */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { csvLine } from "../../../simulator/src/report/csv.ts";
import { READINGS_COLUMNS } from "../../../simulator/src/report/readings-writer.ts";
import { escapeHtml, formatDuration, formatTime, renderReport } from "../../../simulator/src/report/report-html.ts";
import { fleetStats, quantile } from "../../../simulator/src/report/report-stats.ts";
import { readTimelines, selectTimelineNodes } from "../../../simulator/src/report/timeline-data.ts";
import { buildFixture, START_MS } from "./fixture.ts";

const MIN = 60_000;

describe("report: derived data", function () {
  describe("timeline selection", function () {
    it("draws every node of a small fleet", function () {
      const s = buildFixture().summary;
      const sel = selectTimelineNodes(s.nodes);
      assert.ok(sel.complete);
      assert.equal(sel.types.reduce((a, t) => a + t.nodes.length, 0), s.nodes.length);
      assert.match(sel.note, /^All 9 nodes/);
    });

    it("draws the first nodes of each type and the nodes with most alarms in a large fleet, and says so", function () {
      const s = buildFixture({ perType: 40, intervalMin: 720, oddId: false }).summary;
      const sel = selectTimelineNodes(s.nodes, { firstPerType: 2, alarmNodesPerType: 3 });
      assert.ok(!sel.complete);
      for (const t of sel.types) {
        const ofType = s.nodes.filter((n) => n.type === t.type);
        assert.equal(t.total, 40);
        for (const n of ofType.slice(0, 2)) assert.ok(t.nodes.includes(n), `${n.id}: the first of its type are drawn`);
        assert.ok(t.nodes.length <= 5);
        const extra = t.nodes.filter((n) => !ofType.slice(0, 2).includes(n));
        assert.ok(extra.every((n) => n.alarms.length > 0), "the rest raised alarms");
        const most = Math.max(...ofType.slice(2).map((n) => n.alarms.length));
        if (extra.length) assert.equal(extra.map((n) => n.alarms.length).sort((a, b) => b - a)[0], most);
        assert.deepEqual(t.nodes, ofType.filter((n) => t.nodes.includes(n)), "in the summary's order");
      }
      assert.match(sel.note, /selection of \d+ of 120 nodes/);
    });
  });

  describe("readTimelines", function () {
    let dir: string;
    before(() => (dir = mkdtempSync(join(tmpdir(), "citysense-timelines-"))));
    after(() => rmSync(dir, { recursive: true, force: true }));

    it("bins the wanted series, breaks lines at long silences and ignores the rest", async function () {
      const path = join(dir, "readings.csv");
      const iso = (ms: number) => new Date(ms).toISOString();
      let text = csvLine(READINGS_COLUMNS);
      // Node "a,1" every 10 min for 5 h, silent 5 h, then 5 h more; one reading before the start.
      for (let m = 0; m < 900; m += 10) if (m < 300 || m >= 600) text += csvLine([iso(START_MS + m * MIN), "a,1", "air", "airReading", "co2Ppm", 400 + m]);
      text += csvLine([iso(START_MS - MIN), "a,1", "air", "airReading", "co2Ppm", 99999]);
      text += csvLine([iso(START_MS), "a,1", "air", "airReading", "pm10", 5]);
      text += csvLine([iso(START_MS), "b", "air", "airReading", "co2Ppm", 5]);
      writeFileSync(path, text);
      const points = await readTimelines(path, new Map([["a,1", ["co2Ppm"]]]), { startMs: START_MS, spanMs: 15 * 60 * MIN, bins: 30 });
      assert.ok(points.every((p) => p.nodeId === "a,1" && p.field === "co2Ppm"));
      const real = points.filter((p) => p.mean !== null);
      assert.equal(real.length, 20, "30-minute bins with readings");
      assert.deepEqual([real[0].min, real[0].max, real[0].mean, real[0].n], [400, 420, 410, 3]);
      assert.equal(real[0].t, START_MS + 15 * MIN, "points sit in the middle of their bin");
      const gaps = points.filter((p) => p.mean === null);
      assert.equal(gaps.length, 1, "one break, in the silence");
      assert.ok(gaps[0].t > START_MS + 300 * MIN && gaps[0].t < START_MS + 600 * MIN);
      assert.ok(real.every((p) => (p.max as number) < 99999), "readings before the start are dropped");
    });

    it("rejects a file that is not readings.csv", async function () {
      const path = join(dir, "other.csv");
      writeFileSync(path, "a,b,c\n1,2,3\n");
      await assert.rejects(readTimelines(path, new Map(), { startMs: 0, spanMs: 1 }), /header/);
    });
  });

  describe("fleet figures", function () {
    it("delivery, losses, airtime, detections", function () {
      const s = buildFixture().summary;
      const st = fleetStats(s);
      assert.equal(st.overallDeliveryRatio, s.network.delivered / s.network.uplinks);
      assert.equal(st.unaccountedLosses, 0, "the fixture's books balance");
      assert.equal(st.nodesOverLimit, 1);
      assert.equal(st.missed, 1);
      assert.equal(st.detected, s.detections.length - 1);
      const burst = st.kinds.find((k) => k.kind === "burst");
      assert.deepEqual([burst?.events, burst?.detected, burst?.missed, burst?.medianLatencyMs], [1, 0, 1, null]);
      const leak = st.kinds.find((k) => k.kind === "leak");
      assert.ok((leak?.medianLatencyMs ?? 0) > 0);

      const odd = structuredClone(s);
      odd.nodes[0].uplinksSent = 0;
      odd.nodes[0].uplinksDelivered = 0;
      odd.network.lostByReason = {};
      const st2 = fleetStats(odd);
      assert.equal(st2.nodes[0].deliveryRatio, null);
      assert.equal(st2.unaccountedLosses, s.network.uplinks - s.network.delivered);
    });

    it("quantile interpolates", function () {
      assert.equal(quantile([], 0.5), null);
      assert.equal(quantile([1, 2, 3, 4], 0.5), 2.5);
      assert.equal(quantile([5], 0.9), 5);
    });
  });

  it("renders a run with no nodes and no readings without failing", async function () {
    const html = await renderReport(
      { scenario: "<empty>", seed: 1, region: "EU868", days: 1, startMs: START_MS, nodes: [], gateways: [], groundTruth: [], detections: [], falseAlarms: [], network: { uplinks: 0, delivered: 0, lostByReason: {} }, fairUseAirtimeMsPerDay: 30_000 },
      { warnings: [] },
    );
    assert.match(html, /Run report: &lt;empty&gt;/);
    assert.match(html, /No ground-truth events/);
  });

  it("formats times, durations and HTML text", function () {
    assert.equal(formatTime(Date.UTC(2026, 0, 5, 14, 20, 59)), "2026-01-05 14:20 UTC");
    assert.equal(formatDuration(4_500), "4.5 s");
    assert.equal(formatDuration(8 * MIN), "8.0 min");
    assert.equal(formatDuration(20 * MIN), "20 min");
    assert.equal(formatDuration(7 * 60 * MIN), "7.0 h");
    assert.equal(formatDuration(3 * 24 * 60 * MIN), "3.0 d");
    assert.equal(formatDuration(null), "–");
    assert.equal(escapeHtml(`<a href="x">&'</a>`), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
  });
});
