/**
 * report.html in a real browser: Debian's Chromium, headless, driven by
 * playwright-core, with every network request blocked. The page must load
 * from the file alone (no request but the file itself), without console or
 * page errors, with an SVG full of marks in every chart and one map symbol
 * per node; for a 9-node and a 1,002-node fleet. Screenshots go next to the
 * report and to /tmp/report-screenshot.png.
 */
import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type Browser } from "playwright-core";
import { PER_NODE_LIMIT } from "../../../simulator/src/report/charts.ts";
import type { RunSummary } from "../../../simulator/src/report/run-data.ts";
import { RunOutput } from "../../../simulator/src/report/run-output.ts";
import { buildFixture } from "./fixture.ts";

const CHROMIUM = "/usr/bin/chromium";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const CHARTS = ["map", "timeline-air", "timeline-water", "timeline-level", "delivery", "airtime", "battery"];

interface PageCheck {
  requests: string[];
  blocked: string[];
  errors: string[];
  charts: { chart: string; svgs: number; marks: number; width: number }[];
  nodeMarks: number;
  gatewayMarks: number;
  alarmMarkers: Record<string, number>;
  text: string;
}

/**
 * What the page holds, run inside it. A string, not a function: tsx would
 * wrap a function's inner helpers in its `__name` shim, which the page lacks.
 */
const INSPECT = `(() => {
  const markCount = (root) => root.querySelectorAll("g[class~='role-mark'] > path, g[class~='role-mark'] > line").length;
  const charts = [...document.querySelectorAll("figure.chart")].map((f) => {
    const svg = f.querySelector("svg");
    return { chart: f.getAttribute("data-chart") || "", svgs: f.querySelectorAll("svg").length, marks: svg ? markCount(svg) : 0, width: svg ? svg.getBoundingClientRect().width : 0 };
  });
  const alarmMarkers = {};
  for (const f of document.querySelectorAll("figure.chart[data-chart^='timeline-']")) {
    alarmMarkers[f.getAttribute("data-chart")] = f.querySelectorAll(".alarm_markers_marks > path").length;
  }
  return {
    charts,
    nodeMarks: document.querySelectorAll("#chart-map .nodes_marks > path").length,
    gatewayMarks: document.querySelectorAll("#chart-map .gateways_marks > path").length,
    alarmMarkers,
    text: document.body.innerText,
  };
})()`;

/** Opens a page with all requests but its own file aborted and recorded; returns what the page did and holds. */
async function openPage(browser: Browser, file: string, screenshot?: string): Promise<PageCheck> {
  const url = pathToFileURL(file).href;
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, offline: true, javaScriptEnabled: true });
  const requests: string[] = [];
  const blocked: string[] = [];
  const errors: string[] = [];
  try {
    await context.route("**/*", (route) => {
      const u = route.request().url();
      if (u === url) return route.continue();
      blocked.push(u);
      return route.abort("blockedbyclient");
    });
    const page = await context.newPage();
    page.on("request", (r) => requests.push(r.url()));
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(`console: ${m.text()}`);
    });
    page.on("pageerror", (e) => errors.push(`page: ${e.message}`));
    const response = await page.goto(url, { waitUntil: "load", timeout: 15_000 });
    assert.ok(response === null || response.ok(), "the page loads");
    const found = (await page.evaluate(INSPECT)) as Omit<PageCheck, "requests" | "blocked" | "errors">;
    if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
    return { requests, blocked, errors, ...found };
  } finally {
    await context.close();
  }
}

function checkPage(p: PageCheck, file: string, s: RunSummary): void {
  const url = pathToFileURL(file).href;
  assert.deepEqual(p.blocked, [], "no request beyond the file was attempted");
  assert.deepEqual(p.requests, [url], "the file is the only request");
  assert.deepEqual(p.errors, [], "no console or page errors");
  assert.deepEqual(p.charts.map((c) => c.chart).sort(), [...CHARTS].sort(), "every chart is there");
  for (const c of p.charts) {
    assert.equal(c.svgs, 1, `${c.chart}: one <svg>`);
    assert.ok(c.marks > 0, `${c.chart}: has marks`);
    assert.ok(c.width > 200, `${c.chart}: is drawn (${c.width} px wide)`);
  }
  assert.equal(p.nodeMarks, s.nodes.length, "the map has one mark per node");
  assert.equal(p.gatewayMarks, s.gateways.length, "and one per gateway");
}

describe("report: the page in headless Chromium", function () {
  this.timeout(60_000);
  let browser: Browser;
  let dir: string;

  before(async function () {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `Chromium is not installed at ${CHROMIUM}; the report page test needs it. On Debian/Ubuntu: sudo apt-get update && sudo apt-get install -y chromium`,
      );
    }
    dir = mkdtempSync(join(tmpdir(), "citysense-report-page-"));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 30_000 });
  });

  after(async function () {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("blocking catches a page that reaches out (control)", async function () {
    const file = join(dir, "control.html");
    writeFileSync(file, `<!doctype html><title>control</title><img src="http://example.invalid/pixel.png"><link rel="stylesheet" href="https://example.invalid/a.css">`);
    const p = await openPage(browser, file);
    assert.ok(p.blocked.length >= 1, "the blocked requests are seen");
  });

  it("a small fleet: self-contained, no requests, no errors, every chart drawn, one map mark per node", async function () {
    const fx = buildFixture();
    const out = new RunOutput(join(dir, "small"));
    for (const e of fx.events) out.uplink(e);
    const warnings: string[] = [];
    const files = await out.finish(fx.summary, { warnings });
    assert.deepEqual(warnings, [], "the chart libraries had nothing to warn about");

    const html = readFileSync(files.report, "utf8");
    assert.doesNotMatch(html, /<script|<link|<img|<iframe|<object|@import|url\(/i, "nothing to load");
    const urls = (html.match(/https?:\/\/[^"' )]+/g) ?? []).filter((u) => u !== "http://www.w3.org/2000/svg" && u !== "http://www.w3.org/1999/xlink");
    assert.deepEqual(urls, [], "no address other than the SVG namespaces");
    assert.match(html, /Content-Security-Policy" content="default-src 'none'/);

    const shot = join(files.dir, "report.png");
    const p = await openPage(browser, files.report, shot);
    copyFileSync(shot, "/tmp/report-screenshot.png");
    checkPage(p, files.report, fx.summary);

    // Alarm markers: each alarm once per reading column of its node type.
    const alarms = (t: string) => fx.summary.nodes.filter((n) => n.type === t).reduce((a, n) => a + n.alarms.length, 0);
    assert.equal(p.alarmMarkers["timeline-air"], alarms("air") * 2);
    assert.equal(p.alarmMarkers["timeline-water"], alarms("water") * 2);
    assert.equal(p.alarmMarkers["timeline-level"], alarms("level"));
    // The page says what it shows: all nodes, the missed event, the false alarm, the odd id as text.
    assert.match(p.text, /All 9 nodes are shown/);
    assert.match(p.text, /missed/);
    assert.match(p.text, /pmSpike/);
    assert.ok(p.text.includes(`level-03,"market"`), "ids are escaped, not interpreted");
    assert.match(p.text, /lost: collision\s+1/);
    assert.match(p.text, /1 node went over it/);
  });

  it("a 1,002-node fleet: the same, with a selection on the timelines and distributions elsewhere", async function () {
    const fx = buildFixture({ perType: 334, intervalMin: 360, gateways: 8, oddId: false });
    assert.ok(fx.summary.nodes.length > PER_NODE_LIMIT);
    const out = new RunOutput(join(dir, "large"));
    for (const e of fx.events) out.uplink(e);
    const warnings: string[] = [];
    const files = await out.finish(fx.summary, { warnings });
    assert.deepEqual(warnings, []);
    const size = readFileSync(files.report).length;
    assert.ok(size < 3_000_000, `the page stays small (${size} bytes)`);

    const p = await openPage(browser, files.report, join(files.dir, "report.png"));
    checkPage(p, files.report, fx.summary);
    assert.match(p.text, /Showing a selection of \d+ of 1,?002 nodes/);
    assert.ok(Object.values(p.alarmMarkers).every((n) => n > 0), "selected nodes with alarms show them");
    // Distributions, not 1,002 rows: the delivery and battery charts hold far fewer marks than nodes.
    for (const c of p.charts.filter((c) => c.chart === "delivery" || c.chart === "battery")) assert.ok(c.marks < 200, `${c.chart}: ${c.marks} marks`);
  });
});
