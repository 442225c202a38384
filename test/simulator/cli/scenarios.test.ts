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

  it("the battery projection charges what the run counted, by hardware/<type>/power.json, and the air node's SEN55 all day", async () => {
    const { energyModel } = await import("../../../simulator/src/report/energy-model.ts");
    const r = await runScenario(loadScenario("city"), { days: 1, nodes: 6 });
    for (const n of r.summary.nodes) {
      const model = energyModel(n.type);
      // Frames: every uplink sent and every join; a join request that went unanswered is not in the summary,
      // and each costs the modem's exchange and RX windows (under 0.002 mAh), hence the tolerance.
      const counted = model.mAhPerDay({ days: 1, boots: n.boots, frames: n.uplinksSent + n.joins, awakeMs: n.awakeMs, airtimeMs: n.airtimeMsPerDay.reduce((a, x) => a + x, 0), railMs: n.railMs });
      assert.ok(n.boots > 0 && n.awakeMs > 0, `${n.id}: ${n.boots} boots`);
      assert.ok(n.energyMahPerDay >= counted - 0.001 && n.energyMahPerDay < counted + 0.01, `${n.id}: ${n.energyMahPerDay} mAh/day against ${counted.toFixed(3)} from its counts`);
      // Both figures are rounded to 3 decimals in the summary: half a unit each, the energy's scaled into years.
      const slack = 0.0005 + (0.0005 * n.projectedBatteryYears) / n.energyMahPerDay + 1e-9;
      assert.ok(Math.abs(n.projectedBatteryYears - model.lifeYears(n.energyMahPerDay)) <= slack, `${n.id}: ${n.projectedBatteryYears} years against ${model.lifeYears(n.energyMahPerDay)}`);
    }
    // The default (mains) build keeps its SEN55 measuring, its rail held on from the first boot (hardware/air/README.md):
    // the rail's time on is charged at the SEN55's current, days on a battery, not years.
    const p = JSON.parse(readFileSync("hardware/air/power.json", "utf8")) as { states: { part: string; mA: number; s: number; perDay?: number }[] };
    const sen55 = p.states.find((x) => x.part === "SEN55")!;
    const air = r.summary.nodes.filter((n) => n.type === "air");
    assert.ok(air.length > 0);
    for (const n of air) {
      // On from the first boot (within the quarter-hour boot spread) to the end of the last wake (within a wake period).
      assert.ok(n.railMs > 86_400_000 - 25 * 60_000 && n.railMs <= 86_400_000, `${n.id}: rail on ${n.railMs} ms`);
      assert.ok(n.energyMahPerDay > (sen55.mA * n.railMs) / 3_600_000, `${n.id}: ${n.energyMahPerDay} mAh/day`);
      assert.ok(n.projectedBatteryYears < 0.05, `${n.id}: ${n.projectedBatteryYears} years`);
    }
  });

  it("a scenario's firmware.level.emptyStepPct reaches the bins' mc/config: a smaller step reports more collections", async () => {
    const bins = (emptyStepPct: number) => ({ name: `bins-${emptyStepPct}`, seed: 2026, days: 7, region: "EU868" as const, nodes: { air: 0, water: 0, bin: 12, drain: 0 }, firmware: { level: { emptyStepPct } } });
    const emptied = async (step: number) => {
      const r = await runScenario(bins(step), {});
      return r.summary.nodes.reduce((a, n) => a + (n.alarms ?? []).filter((x) => x.event === "emptied").length, 0);
    };
    const [coarse, fine] = [await emptied(30), await emptied(8)];
    assert.ok(coarse > 0 && fine > coarse, `emptied: ${coarse} at 30 %, ${fine} at 8 %`);
  });

  it("a scenario's firmware.air.pmPeriodS makes a battery build: the SEN55's rail on about 33 s a period, months on a battery instead of days", async () => {
    const air = (pmPeriodS?: number) => ({ name: `air-${pmPeriodS ?? 0}`, seed: 2026, days: 2, region: "EU868" as const, nodes: { air: 4, water: 0, bin: 0, drain: 0 }, ...(pmPeriodS ? { firmware: { air: { pmPeriodS } } } : {}) });
    const mains = (await runScenario(air(), {})).summary.nodes;
    const battery = (await runScenario(air(900), {})).summary.nodes;
    for (const n of mains) assert.ok(n.projectedBatteryYears < 0.05 && n.railMs > 1.9 * 86_400_000, `${n.id}: ${n.projectedBatteryYears} years, rail ${n.railMs} ms`);
    for (const n of battery) {
      const perPeriodS = n.railMs / 1000 / ((2 * 86_400) / 900);
      assert.ok(perPeriodS > 30 && perPeriodS < 36, `${n.id}: rail on ${perPeriodS.toFixed(1)} s a period`);
      assert.ok(n.projectedBatteryYears > 0.2 && n.projectedBatteryYears < 0.3, `${n.id}: ${n.projectedBatteryYears} years`);
      assert.equal((n.alarms ?? []).filter((a) => a.event === "sensorFault").length, 0);
    }
  });

  it("a scenario's firmware.air.pmSensor fits a PMS5003, charged at its own currents: running only while awake on mains, the whole rail time on a battery", async () => {
    const { energyModel } = await import("../../../simulator/src/report/energy-model.ts");
    const p = JSON.parse(readFileSync("hardware/air/power.json", "utf8")) as { optional: { part: string; mA: number; sim?: string; fitted?: string }[] };
    const active = p.optional.find((x) => x.fitted === "pms5003" && x.sim === "active")!;
    const air = (firmware: { pmSensor?: "pms5003"; pmPeriodS?: number }) => ({ name: "pms", seed: 2026, days: 2, region: "EU868" as const, nodes: { air: 4, water: 0, bin: 0, drain: 0 }, firmware: { air: firmware } });
    const run = async (firmware: { pmSensor?: "pms5003"; pmPeriodS?: number }) => (await runScenario(air(firmware), {})).summary.nodes;
    const [mains, battery, sen55Battery] = [await run({ pmSensor: "pms5003" }), await run({ pmSensor: "pms5003", pmPeriodS: 900 }), await run({ pmPeriodS: 900 })];
    const model = energyModel("air", ["pms5003"]);
    for (const n of [...mains, ...battery]) {
      const counted = model.mAhPerDay({ days: 2, boots: n.boots, frames: n.uplinksSent + n.joins, awakeMs: n.awakeMs, airtimeMs: n.airtimeMsPerDay.reduce((a, x) => a + x, 0), railMs: n.railMs, sensorActiveMs: n.sensorActiveMs });
      assert.ok(Math.abs(n.energyMahPerDay - counted) < 0.01, `${n.id}: ${n.energyMahPerDay} mAh/day against ${counted.toFixed(3)} from its counts`);
      assert.equal((n.alarms ?? []).filter((a) => a.event === "sensorFault").length, 0, `${n.id}: the PMS5003 answered`);
    }
    for (const n of mains) {
      // Woken by command for its 30 s settling at each wake, asleep (standby) the rest of the day, the rail held on.
      const perWakeS = n.sensorActiveMs! / 1000 / n.boots;
      assert.ok(n.railMs > 1.9 * 86_400_000 && perWakeS > 20 && perWakeS < 35, `${n.id}: rail ${n.railMs} ms, running ${perWakeS.toFixed(1)} s a wake`);
      assert.ok(n.energyMahPerDay > (active.mA * n.sensorActiveMs!) / 2 / 3_600_000, `${n.id}: ${n.energyMahPerDay} mAh/day`);
      // Far less than a SEN55 measuring all day (about 4 days), yet weeks, not months.
      assert.ok(n.projectedBatteryYears > 0.04 && n.projectedBatteryYears < 0.15, `${n.id}: ${n.projectedBatteryYears} years`);
    }
    for (const n of battery) assert.ok(n.sensorActiveMs === n.railMs, `${n.id}: running ${n.sensorActiveMs} ms, rail ${n.railMs} ms: a duty-cycled PMS5003 runs whenever it is powered`);
    // A duty-cycled PMS5003 draws more than a duty-cycled SEN55 for the same 33 s a period: a shorter life.
    const life = (nodes: typeof battery) => nodes.reduce((a, n) => a + n.projectedBatteryYears, 0) / nodes.length;
    assert.ok(life(battery) < 0.9 * life(sen55Battery), `PMS5003 ${life(battery).toFixed(3)} years, SEN55 ${life(sen55Battery).toFixed(3)} years`);
    assert.ok(sen55Battery.every((n) => n.sensorActiveMs === undefined));
  });

  it("rtcDriftPpm: each node's RTC error and its clock error are in the summary; the water nodes' daily resync bounds theirs, set-once clocks drift on", async () => {
    const s = { ...loadScenario("city"), rtcDriftPpm: 5000 };
    const r = await runScenario(s, { days: 3, nodes: 12 });
    const nodes = r.summary.nodes;
    assert.ok(nodes.every((n) => n.clockErrorS !== undefined && n.rtcPpm !== undefined), JSON.stringify(nodes.map((n) => [n.id, n.rtcPpm, n.clockErrorS])));
    for (const n of nodes) {
      const dayDrift = (Math.abs(n.rtcPpm!) * 1e-6 * (86_400 + 7_200)) + 3;
      if (n.type === "water") assert.ok(Math.abs(n.clockErrorS!) <= dayDrift, `${n.id}: ${n.clockErrorS} s at ${n.rtcPpm} ppm`);
      // The others are set once, in their first hour: the error grows with the run.
      else assert.ok(Math.abs(n.clockErrorS!) >= Math.abs(n.rtcPpm!) * 1e-6 * 2.5 * 86_400 - 3, `${n.id}: ${n.clockErrorS} s at ${n.rtcPpm} ppm`);
    }
    // Ideal RTCs: the error is what the setTime stamp left, under the stamp's second and the arrival's.
    const ideal = await runScenario(loadScenario("city"), { days: 1, nodes: 6 });
    assert.ok(ideal.summary.nodes.every((n) => n.rtcPpm === undefined && Math.abs(n.clockErrorS!) < 3), JSON.stringify(ideal.summary.nodes.map((n) => n.clockErrorS)));
  });

  it("an invalid scenario file gets messages naming each field and problem", () => {
    const bad = { name: "x", seed: -1, days: 0, region: "EU433", nodes: { air: 1.5, water: 0, bin: 0 }, colour: "red", bootSpreadS: -60, syncClocks: "yes", rtcDriftPpm: -5, firmware: { water: { leakDetector: "ai" }, level: { laser: true, emptyStepPct: 3 }, air: { pmPeriodS: 120, pmSensor: "sds011" } } };
    const errors = scenarioErrors(bad);
    const text = errors.join("\n");
    assert.match(text, /seed: must be >= 0/);
    assert.match(text, /days: must be > 0/);
    assert.match(text, /region: must be one of EU868, US915, AU915, AS923/);
    assert.match(text, /nodes\.air: must be integer/);
    assert.match(text, /nodes\.drain: required/);
    assert.match(text, /colour: unknown field/);
    assert.match(text, /bootSpreadS: must be >= 0/);
    assert.match(text, /syncClocks: must be boolean/);
    assert.match(text, /rtcDriftPpm: must be >= 0/);
    assert.match(text, /firmware\.water\.leakDetector: must be one of night, model/);
    assert.match(text, /firmware\.level\.laser: unknown field/);
    assert.match(text, /firmware\.level\.emptyStepPct: must be >= 5/);
    assert.match(text, /firmware\.air\.pmPeriodS: must be 0 or 300\.\.86400$/m);
    assert.equal(errors.filter((e) => e.startsWith("firmware.air.pmPeriodS")).length, 1, "one message for the field, not one per range");
    assert.match(text, /firmware\.air\.pmSensor: must be one of sen55, pms5003/);
    const dir = mkdtempSync(join(tmpdir(), "scenario-"));
    const file = join(dir, "bad.json");
    writeFileSync(file, JSON.stringify(bad));
    assert.throws(() => loadScenario(file), /invalid scenario[\s\S]*nodes\.drain: required/);
    writeFileSync(file, "{ not json");
    assert.throws(() => loadScenario(file), /not valid JSON/);
    assert.throws(() => loadScenario("no-such-scenario"), /no scenario "no-such-scenario": give a file or one of .*city/);
  });

  it("bootSpreadS: a batch switched on within 10 s joins together, then reports spread over its periods (TR007 §4.7)", async () => {
    const s = { name: "batch", seed: 7, days: 1, region: "EU868" as const, nodes: { air: 4, water: 16, bin: 16, drain: 16 }, bootSpreadS: 10 };
    const dir = mkdtempSync(join(tmpdir(), "batch-"));
    const r = await runScenario(s, { out: dir });
    const events = readFileSync(join(dir, "events.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    const at = (e: { received_at: string }) => Date.parse(e.received_at) - r.summary.startMs;
    const heard = new Set(events.map((e) => e.end_device_ids.device_id));
    assert.equal(heard.size, 52, "every node was heard");
    // After the first hour, the largest share of a type's routine messages in any 30 s of its period. Without the
    // firmware's phases and jitter (wake-timing.ts) the batch kept its seconds: 85 % of the bins' readings, and
    // every drain's and water meter's, fell in one 30 s slot.
    const busiest = (type: string, periodS: number) => {
      const slots = new Map<number, number>();
      let n = 0;
      for (const e of events) {
        const t = at(e);
        if (t < 3_600_000 || !e.end_device_ids.device_id.startsWith(type) || e.uplink_message.decoded_payload.messageType === "status") continue;
        const slot = Math.floor((t % (periodS * 1000)) / 30_000);
        slots.set(slot, (slots.get(slot) ?? 0) + 1);
        n++;
      }
      assert.ok(n > 40, `${n} ${type} messages`);
      return Math.max(...slots.values()) / n;
    };
    for (const [type, periodS] of [["bin", 900], ["drain", 300], ["water", 900]] as const) {
      const share = busiest(type, periodS);
      assert.ok(share <= 0.35, `${(share * 100).toFixed(0)} % of the ${type} messages in one 30 s slot of ${periodS} s`);
    }
    assert.ok(r.summary.network.delivered >= 0.97 * r.summary.network.uplinks, `${r.summary.network.delivered} of ${r.summary.network.uplinks} delivered`);
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
