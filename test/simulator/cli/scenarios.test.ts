import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { loadScenario, scenarioErrors, scenarioNames } from "../../../simulator/src/cli/scenario.ts";
// The report pulls in Vega, an ES module with top-level await: mocha's require() cannot load it, import() can.
type RunScenario = typeof import("../../../simulator/src/cli/run-scenario.ts").runScenario;
let runScenario: RunScenario;

describe("simulator CLI: scenarios", function () {
  this.timeout(300_000);
  before(async () => {
    ({ runScenario } = await import("../../../simulator/src/cli/run-scenario.ts"));
  });

  it("every shipped scenario is valid and runs at a reduced size", async () => {
    const names = scenarioNames();
    assert.ok(names.includes("city"), "the default scenario exists");
    for (const name of names) {
      const s = loadScenario(name);
      const r = await runScenario(s, { days: 0.25, nodes: 4 });
      assert.equal(r.summary.nodes.length, 4, name);
      assert.ok(r.summary.network.uplinks > 0, `${name}: nothing was sent`);
      assert.ok(r.summary.network.delivered > 0, `${name}: nothing arrived`);
    }
  });

  it("the battery projection charges every boot from deep sleep as hardware/<type>/power.json budgets it", async () => {
    const { AWAKE_MA, TX_MA } = await import("../../../simulator/src/cli/run-scenario.ts");
    const r = await runScenario(loadScenario("city"), { days: 1, nodes: 6 });
    for (const n of r.summary.nodes) {
      const p = JSON.parse(readFileSync(`hardware/${n.type}/power.json`, "utf8")) as { sleep: { uA: number }[]; states: { part: string; state: string; mA: number; s: number }[] };
      const boot = p.states.find((x) => x.part === "ESP32" && x.state.startsWith("boot from deep sleep"))!;
      const sleepMah = (p.sleep.reduce((a, x) => a + x.uA, 0) / 1000) * 24;
      const bootMah = (n.boots * boot.mA * boot.s) / 3600;
      const awakeMah = (n.awakeMs * AWAKE_MA + n.airtimeMsPerDay.reduce((a, x) => a + x, 0) * TX_MA) / 3_600_000;
      assert.ok(n.boots > 0 && bootMah > 0.01, `${n.id}: ${n.boots} boots`);
      assert.ok(Math.abs(n.energyMahPerDay - (sleepMah + awakeMah + bootMah)) < 0.002, `${n.id}: ${n.energyMahPerDay} mAh/day; sleep ${sleepMah.toFixed(3)}, awake and air ${awakeMah.toFixed(3)}, boots ${bootMah.toFixed(3)}`);
    }
  });

  it("an invalid scenario file gets messages naming each field and problem", () => {
    const bad = { name: "x", seed: -1, days: 0, region: "EU433", nodes: { air: 1.5, water: 0, bin: 0 }, colour: "red", firmware: { water: { leakDetector: "ai" }, level: { laser: true } } };
    const errors = scenarioErrors(bad);
    const text = errors.join("\n");
    assert.match(text, /seed: must be >= 0/);
    assert.match(text, /days: must be > 0/);
    assert.match(text, /region: must be one of EU868, US915, AU915, AS923/);
    assert.match(text, /nodes\.air: must be integer/);
    assert.match(text, /nodes\.drain: required/);
    assert.match(text, /colour: unknown field/);
    assert.match(text, /firmware\.water\.leakDetector: must be one of night, model/);
    assert.match(text, /firmware\.level\.laser: unknown field/);
    const dir = mkdtempSync(join(tmpdir(), "scenario-"));
    const file = join(dir, "bad.json");
    writeFileSync(file, JSON.stringify(bad));
    assert.throws(() => loadScenario(file), /invalid scenario[\s\S]*nodes\.drain: required/);
    writeFileSync(file, "{ not json");
    assert.throws(() => loadScenario(file), /not valid JSON/);
    assert.throws(() => loadScenario("no-such-scenario"), /no scenario "no-such-scenario": give a file or one of .*city/);
  });

  it("the same seed gives the same run, byte for byte; another seed does not", async () => {
    const s = loadScenario("city");
    const a = mkdtempSync(join(tmpdir(), "run-a-"));
    const b = mkdtempSync(join(tmpdir(), "run-b-"));
    const c = mkdtempSync(join(tmpdir(), "run-c-"));
    await runScenario(s, { days: 0.3, nodes: 5, out: a });
    await runScenario(s, { days: 0.3, nodes: 5, out: b });
    await runScenario(s, { days: 0.3, nodes: 5, out: c, seed: 99 });
    const events = (d: string) => readFileSync(join(d, "events.jsonl"), "utf8");
    assert.ok(events(a).length > 0);
    assert.equal(events(a), events(b));
    assert.equal(readFileSync(join(a, "readings.csv"), "utf8"), readFileSync(join(b, "readings.csv"), "utf8"));
    assert.notEqual(events(a), events(c));
    for (const f of ["events.jsonl", "readings.csv", "summary.json", "report.html"]) assert.ok(existsSync(join(a, f)), f);
  });

  it("--compare runs a second configuration and prints the two side by side", () => {
    const out = execFileSync(process.execPath, ["--import", "tsx", "simulator/src/cli/main.ts", "--days", "0.1", "--nodes", "3", "--no-out", "--compare", "network-outage"], { encoding: "utf8" });
    assert.match(out, /figure\s+city\s+network-outage/);
    assert.match(out, /delivery ratio\s+\d+\.\d %\s+\d+\.\d %/);
  });

  it("npm run sim's command line refuses bad options with a clear message", () => {
    const run = (...args: string[]) => {
      try {
        execFileSync(process.execPath, ["--import", "tsx", "simulator/src/cli/main.ts", ...args], { stdio: "pipe" });
        return "";
      } catch (e) {
        return String((e as { stderr: Buffer }).stderr);
      }
    };
    assert.match(run("--days", "0"), /--days must be a number from 0.01 to 366, got "0"/);
    assert.match(run("--region", "EU433"), /--region must be EU868, US915, AU915 or AS923/);
    assert.match(run("--scenario", "nowhere"), /no scenario "nowhere"/);
    assert.match(run("--bogus"), /Unknown option '--bogus'/);
  });
});
