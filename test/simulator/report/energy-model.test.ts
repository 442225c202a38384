import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { energyModel, formatLife, modelOf } from "../../../simulator/src/report/energy-model.ts";

type Entry = { part: string; state: string; mA: number; s: number | { [sf: string]: number }; perCycle?: number; perDay?: number; sim?: string; fitted?: string; replaces?: string };
type Budget = {
  defaultSpreadingFactor: number;
  cyclesPerDay: number;
  uplinksPerDay: number;
  airtime: { sBySf: { [sf: string]: number } };
  battery: { capacityMah: number; usableFraction: number; selfDischargePctPerYear: number };
  sleep: { uA: number }[];
  states: Entry[];
  optional: Entry[];
  result: { bySf: { [sf: string]: { mAhPerDay: number; lifeDays: number } } };
};

const read = (type: string): Budget => JSON.parse(readFileSync(`hardware/${type}/power.json`, "utf8")) as Budget;
const seconds = (e: Entry, sf: string) => (typeof e.s === "number" ? e.s : e.s[sf]);
const times = (b: Budget, e: Entry) => (e.perCycle ?? 0) * b.cyclesPerDay + (e.perDay ?? 0);

describe("simulator report: energy model from hardware/<type>/power.json", () => {
  for (const type of ["air", "water", "level"] as const) {
    it(`${type}: a run that counts what the budget assumes gets the budget's own mAh a day and battery life`, () => {
      const b = read(type);
      const sf = String(b.defaultSpreadingFactor);
      // The budget's assumptions, read from its entries by part, not from their sim tags.
      const boot = b.states.find((e) => e.part === "ESP32" && e.state.startsWith("boot from deep sleep"))!;
      const awakeS = b.states.filter((e) => e.part === "ESP32" && e !== boot).reduce((a, e) => a + seconds(e, sf) * times(b, e), 0);
      // The air node's SEN55 and the level node's A02YYUW are on the switched rail: the budget's time on is the rail's.
      const railS = b.states.filter((e) => e.part === "SEN55" || e.part === "A02YYUW").reduce((a, e) => a + seconds(e, sf) * times(b, e), 0);
      const activity = { days: 1, boots: times(b, boot), frames: b.uplinksPerDay, awakeMs: awakeS * 1000, airtimeMs: b.uplinksPerDay * b.airtime.sBySf[sf] * 1000, railMs: railS * 1000 };
      const model = energyModel(type);
      const mAh = model.mAhPerDay(activity);
      assert.ok(Math.abs(mAh - b.result.bySf[sf].mAhPerDay) < 0.01, `${mAh} against the budget's ${b.result.bySf[sf].mAhPerDay} mAh/day at SF${sf}`);
      assert.ok(Math.abs(model.lifeYears(mAh) * 365.25 - b.result.bySf[sf].lifeDays) <= 0.5, `${model.lifeYears(mAh) * 365.25} days`);
      // The same over ten days: the counts are totals, the figure a daily mean.
      const ten = model.mAhPerDay({ days: 10, boots: activity.boots * 10, frames: activity.frames * 10, awakeMs: activity.awakeMs * 10, airtimeMs: activity.airtimeMs * 10, railMs: activity.railMs * 10 });
      assert.ok(Math.abs(ten - mAh) < 1e-9);
    });
  }

  it("charges each count at its own rate: one more boot, frame, awake second, second on air or second of rail adds its part of the budget", () => {
    const b = read("level");
    const sf = String(b.defaultSpreadingFactor);
    const model = energyModel("level");
    const base = { days: 1, boots: 200, frames: 10, awakeMs: 600_000, airtimeMs: 4000, railMs: 500_000 };
    const at = (o: Partial<typeof base>) => model.mAhPerDay({ ...base, ...o }) - model.mAhPerDay(base);
    const esp = b.states.find((e) => e.part === "ESP32" && e.state.startsWith("boot"))!;
    const a02 = b.states.find((e) => e.part === "A02YYUW")!;
    assert.ok(Math.abs(at({ boots: 201 }) - (seconds(esp, sf) * esp.mA) / 3600) < 1e-9, "a boot: the ESP32's boot");
    assert.ok(Math.abs(at({ railMs: 501_000 }) - a02.mA / 3600) < 1e-9, "a second of the sensor rail at the A02YYUW's current");
    const tx = b.states.find((e) => e.sim === "airtime")!;
    assert.ok(Math.abs(at({ airtimeMs: 5000 }) - tx.mA / 3600) < 1e-9, "a second on air at the TX current");
    const awake = b.states.find((e) => e.part === "ESP32" && e.sim === "awake")!;
    assert.ok(Math.abs(at({ awakeMs: 601_000 }) - awake.mA / 3600) < 1e-9, "an awake second at the ESP32's current");
    const frameMas = b.states.filter((e) => e.sim === "frame").reduce((a, e) => a + e.mA * seconds(e, sf), 0);
    assert.ok(Math.abs(at({ frames: 11 }) - frameMas / 3600) < 1e-9, "a frame: the modem's exchange, wait and RX windows");
  });

  it("charges the sensor rail's time on at the SEN55's current, sleep all day, and refuses a run that did not count the rail", () => {
    const b = read("air");
    const model = energyModel("air");
    const idle = model.mAhPerDay({ days: 1, boots: 0, frames: 0, awakeMs: 0, airtimeMs: 0, railMs: 0 });
    const sleep = (b.sleep.reduce((a, s) => a + s.uA, 0) / 1000) * 24;
    assert.ok(Math.abs(idle - sleep) < 1e-9, `${idle} against ${sleep}`);
    const sen55 = b.states.find((e) => e.part === "SEN55")!;
    const hour = model.mAhPerDay({ days: 1, boots: 0, frames: 0, awakeMs: 0, airtimeMs: 0, railMs: 3_600_000 });
    assert.ok(Math.abs(hour - idle - sen55.mA) < 1e-9, `an hour of rail: ${hour - idle} mAh`);
    assert.throws(() => model.mAhPerDay({ days: 1, boots: 0, frames: 0, awakeMs: 0, airtimeMs: 0 }), /hardware\/air\/power\.json: charges the sensor rail/);
    // A budget without rail entries needs no rail count (the water node's).
    assert.ok(energyModel("water").mAhPerDay({ days: 1, boots: 96, frames: 10, awakeMs: 60_000, airtimeMs: 1000 }) > 0);
  });

  it("a PMS5003 build is charged the PMS5003's own currents: active while its fan runs, standby over the rest of its rail time, no SEN55", () => {
    const b = read("air");
    const fitted = b.optional.filter((e) => e.fitted === "pms5003");
    const active = fitted.find((e) => e.sim === "active")!;
    const standby = fitted.find((e) => e.sim === "rail")!;
    assert.ok(active && standby && fitted.every((e) => e.replaces === "SEN55"), "the budget's PMS5003 entries");
    assert.ok(active.mA > b.states.find((e) => e.part === "SEN55")!.mA, "the PMS5003 draws more than the SEN55 while it runs");
    const pms = energyModel("air", ["pms5003"]);
    const base = { days: 1, boots: 0, frames: 0, awakeMs: 0, airtimeMs: 0, railMs: 0, sensorActiveMs: 0 };
    const idle = pms.mAhPerDay(base);
    assert.ok(Math.abs(pms.mAhPerDay({ ...base, railMs: 3_600_000 }) - idle - standby.mA) < 1e-9, "an hour of rail, asleep: the standby current");
    assert.ok(Math.abs(pms.mAhPerDay({ ...base, sensorActiveMs: 3_600_000 }) - idle - active.mA) < 1e-9, "an hour running: the active current");
    assert.throws(() => pms.mAhPerDay({ days: 1, boots: 0, frames: 0, awakeMs: 0, airtimeMs: 0, railMs: 0 }), /hardware\/air\/power\.json: charges the sensor's active time/);
    // The default build is unchanged: the SEN55's current for all its rail time, no active count needed.
    const sen = energyModel("air");
    assert.ok(Math.abs(sen.mAhPerDay({ ...base, railMs: 3_600_000 }) - idle - b.states.find((e) => e.part === "SEN55")!.mA) < 1e-9);
    // The mains PMS5003 build at the budget's own counts (30 s running per wake, the rail on all day) gives the budget's sum of its states.
    const sf = String(b.defaultSpreadingFactor);
    const states = [...b.states.filter((e) => e.part !== "SEN55"), ...fitted];
    const expected = states.reduce((a, e) => a + (e.mA * seconds(e, sf) * times(b, e)) / 3600, 0) + (b.sleep.reduce((a, x) => a + x.uA, 0) / 1000) * 24;
    const boot = b.states.find((e) => e.sim === "boot" && e.part === "ESP32")!;
    const awakeS = b.states.filter((e) => e.sim === "awake").reduce((a, e) => a + seconds(e, sf) * times(b, e), 0);
    const run = { days: 1, boots: times(b, boot), frames: b.uplinksPerDay, awakeMs: awakeS * 1000, airtimeMs: b.uplinksPerDay * b.airtime.sBySf[sf] * 1000, railMs: 86_400_000, sensorActiveMs: seconds(active, sf) * times(b, active) * 1000 };
    assert.ok(Math.abs(pms.mAhPerDay(run) - expected) < 1e-6, `${pms.mAhPerDay(run)} against ${expected} mAh/day`);
  });

  it("a VL53L1X build's rail is charged at the VL53L1X's current, and a part the budget has no entry for is refused", () => {
    const b = read("level");
    const tof = b.optional.find((e) => e.fitted === "vl53l1x")!;
    assert.equal(tof.replaces, "A02YYUW");
    const model = energyModel("level", ["vl53l1x"]);
    const base = { days: 1, boots: 200, frames: 10, awakeMs: 600_000, airtimeMs: 4000, railMs: 50_000 };
    assert.ok(Math.abs(model.mAhPerDay({ ...base, railMs: 51_000 }) - model.mAhPerDay(base) - tof.mA / 3600) < 1e-9, "a second of rail at the VL53L1X's current");
    assert.throws(() => energyModel("level", ["sen66"]), /hardware\/level\/power\.json: no optional entry for a build fitted with sen66/);
  });

  it("a budget the model cannot read is an error naming the file and the entry", () => {
    const b = read("water");
    const bad = structuredClone(b);
    bad.states[1].sim = "wake";
    assert.throws(() => modelOf(bad as never, "hardware/water/power.json"), /hardware\/water\/power\.json: states\[1\]\.sim: must be one of boot, frame, awake, airtime, rail, active \(or absent\), not "wake"/);
    const noSf = structuredClone(b);
    noSf.states[3].s = { "7": 0.06 };
    assert.throws(() => modelOf(noSf as never, "x.json"), /x\.json: states\[3\] \(Wio-E5, TX \+14 dBm EU868\): no duration at SF10/);
  });

  it("formats a battery life in years, or in days under a year", () => {
    assert.equal(formatLife(5.26), "5.3 years");
    assert.equal(formatLife(1), "1.0 years");
    assert.equal(formatLife(0.011), "4 days");
    assert.equal(formatLife(0.5), "183 days");
  });
});
