import assert from "node:assert/strict";
import I2C from "embedded:io/i2c";
import { Board } from "../../../simulator/src/core/board.ts";
import { VirtualClock } from "../../../simulator/src/core/clock.ts";
import { Rng } from "../../../simulator/src/core/rng.ts";
import { NodeHost } from "../../../simulator/src/core/node-host.ts";
import { RecordingLink } from "../../../simulator/src/core/recording-link.ts";
import { Scd41Emulator } from "../../../simulator/src/devices/scd41.ts";
import { Sen5xEmulator } from "../../../simulator/src/devices/sen5x.ts";
import { CLEAN_AIR, type AirEnvironment } from "../../../simulator/src/devices/air-environment.ts";
import SCD41 from "../../../firmware/src/drivers/scd41.ts";
import SEN5x from "../../../firmware/src/drivers/sen5x.ts";
import { bootAir } from "../../../firmware/src/nodes/air/boot.ts";
import { AIR_WAKE_S, PM_PERIOD_MAX_S, pmFilterShifts } from "../../../firmware/src/nodes/air/air-node.ts";
import { platformRuntime } from "../../../firmware/src/nodes/runtime.ts";
import { encodeDownlink } from "../../../codecs/src/index.ts";

const H = 3600_000;
const D = 24 * H;

/** Ground truth of the month: a CO2 episode, a pollution episode, a dust spike, sensor faults. */
const EVENTS = {
  co2: { from: 5 * D + 9 * H, to: 5 * D + 13 * H, ppm: 2200 },
  pollution: { from: 12 * D, to: 14 * D, pm25: 90, pm10: 140 },
  spike: { from: 20 * D + 10 * H, to: 20 * D + 10 * H + 20 * 60_000, pm25: 180 },
  scdNack: { from: 25 * D + 12 * H, to: 25 * D + 13 * H },
};

function truth(t: number): AirEnvironment {
  const hour = (t % D) / H;
  // Traffic: morning and evening rush hours raise PM and CO2 a little.
  const rush = Math.exp(-((hour - 8) ** 2) / 2) + Math.exp(-((hour - 18) ** 2) / 2);
  const air = { ...CLEAN_AIR, co2Ppm: 430 + 40 * rush, pm25: 6 + 5 * rush, pm10: 10 + 8 * rush, temperatureC: 12 + 6 * Math.sin(((hour - 9) / 24) * 2 * Math.PI), humidityPct: 70 - 15 * Math.sin(((hour - 9) / 24) * 2 * Math.PI) };
  if (t >= EVENTS.co2.from && t < EVENTS.co2.to) air.co2Ppm = EVENTS.co2.ppm;
  if (t >= EVENTS.pollution.from && t < EVENTS.pollution.to) {
    air.pm25 = EVENTS.pollution.pm25;
    air.pm10 = EVENTS.pollution.pm10;
  }
  if (t >= EVENTS.spike.from && t < EVENTS.spike.to) air.pm25 = EVENTS.spike.pm25;
  air.pm1 = air.pm25 * 0.7;
  air.pm4 = air.pm25 * 1.1;
  air.pm10 = Math.max(air.pm10, air.pm4 * 1.05);
  return air;
}

describe("air node: a month in the simulator core", function () {
  this.timeout(300_000);
  const clock = new VirtualClock();
  const board = new Board(clock, 11);
  const rng = new Rng(2026);
  const scd = new Scd41Emulator({ rng: rng.fork("scd41"), environment: () => truth(clock.nowMs), clock });
  const sen = new Sen5xEmulator({ rng: rng.fork("sen55"), environment: () => truth(clock.nowMs), clock, model: "SEN55" });
  board.attachI2C(0x62, scd);
  board.attachI2C(0x69, sen);
  const link = new RecordingLink(clock, 51);
  const main = () => {
    const rt = platformRuntime(link, () => 3600);
    bootAir({
      scd41: () => new SCD41({ sensor: { io: I2C, data: 21, clock: 22, hz: 100000 }, mode: "single-shot" }),
      sen5x: (running) => new SEN5x({ sensor: { io: I2C, data: 21, clock: 22, hz: 100000 }, model: "SEN55", running: running ? "all" : undefined, knownModel: running }),
    }, rt);
  };
  const host = new NodeHost(board, main);
  let alarms: { atMs: number; event: string }[] = [];

  before(() => {
    const t0 = Date.now();
    // Sync the clock on day 0 through a downlink, as a network server would.
    link.downlinks.push({ port: 26, bytes: Uint8Array.from(encodeDownlink({ data: { command: "setTime", unixTimeS: 1767571200 } }).bytes) });
    host.runUntil(EVENTS.scdNack.from);
    scd.inject("nack");
    host.runUntil(EVENTS.scdNack.to);
    scd.clear("nack");
    host.runUntil(26 * D);
    sen.inject("corrupt-crc", { probability: 0.2 });
    host.runUntil(27 * D);
    sen.clear("corrupt-crc");
    host.runUntil(30 * D);
    alarms = link.ofType("airAlarm").map((m) => ({ atMs: m.atMs, event: m.data!.event as string }));
    const perDay = (kind: string) => (link.messages.filter((m) => m.kind === kind).length / 30).toFixed(1);
    console.log(`      ${host.boots.length} boots in ${((Date.now() - t0) / 1000).toFixed(1)} s; per day: routine ${perDay("routine")}, alarm ${perDay("alarm")}, status ${perDay("status")}, ack ${perDay("ack")}`);
    console.log(`      alarms: ${alarms.map((a) => `${a.event}@${(a.atMs / D).toFixed(2)}d`).join(", ")}`);
  });

  it("every uplink decodes without errors and fits the link", () => {
    for (const m of link.messages) {
      assert.deepEqual(m.errors, [], JSON.stringify(m));
      assert.ok(m.bytes.length <= 51);
    }
  });

  it("the CO2 episode raises exactly one co2High within two wakes, and one co2Normal after it", () => {
    const high = alarms.filter((a) => a.event === "co2High");
    const normal = alarms.filter((a) => a.event === "co2Normal");
    assert.equal(high.length, 1);
    assert.equal(normal.length, 1);
    assert.ok(high[0].atMs >= EVENTS.co2.from && high[0].atMs - EVENTS.co2.from <= 3 * AIR_WAKE_S * 1000, `latency ${(high[0].atMs - EVENTS.co2.from) / 1000} s`);
    assert.ok(normal[0].atMs >= EVENTS.co2.to && normal[0].atMs - EVENTS.co2.to <= 4 * AIR_WAKE_S * 1000);
  });

  it("the pollution episode changes the AQI category into and out of the alarm range", () => {
    const changes = alarms.filter((a) => a.event === "aqiCategoryChange");
    assert.ok(changes.some((a) => a.atMs >= EVENTS.pollution.from && a.atMs - EVENTS.pollution.from <= 4 * AIR_WAKE_S * 1000), "no alarm entering the episode");
    assert.ok(changes.some((a) => a.atMs >= EVENTS.pollution.to && a.atMs - EVENTS.pollution.to <= 4 * AIR_WAKE_S * 1000), "no alarm leaving the episode");
    // The dust spike is short but real: it may change the category too. Nothing else may.
    const within = (a: { atMs: number }, e: { from: number; to: number }) => a.atMs >= e.from && a.atMs <= e.to + 4 * AIR_WAKE_S * 1000;
    for (const a of changes) assert.ok(within(a, EVENTS.pollution) || within(a, EVENTS.spike), `category alarm outside the episodes at ${a.atMs / D} d`);
    const inEpisode = link.ofType("airAlarm").find((m) => m.data!.event === "aqiCategoryChange")!;
    assert.equal(inEpisode.data!.aqiCategory, "unhealthy");
  });

  it("the dust spike raises pmSpike and pmNormal, and no other PM alarm fires", () => {
    const spikes = alarms.filter((a) => a.event === "pmSpike");
    assert.ok(spikes.some((a) => a.atMs >= EVENTS.spike.from && a.atMs - EVENTS.spike.from <= 2 * AIR_WAKE_S * 1000), "spike missed");
    assert.ok(alarms.some((a) => a.event === "pmNormal" && a.atMs > EVENTS.spike.from));
    // The pollution episode starts with a step, which is a spike too; nothing else may be.
    for (const a of spikes) {
      const nearStep = Math.abs(a.atMs - EVENTS.pollution.from) <= 2 * AIR_WAKE_S * 1000;
      const inSpike = a.atMs >= EVENTS.spike.from && a.atMs <= EVENTS.spike.to + AIR_WAKE_S * 1000;
      assert.ok(nearStep || inSpike, `false pmSpike at ${a.atMs / D} d`);
    }
  });

  it("a dead SCD41 is counted and alarmed, never turned into a reading, and its recovery reported", () => {
    assert.ok(alarms.some((a) => a.event === "sensorFault" && a.atMs >= EVENTS.scdNack.from && a.atMs <= EVENTS.scdNack.to));
    assert.ok(alarms.some((a) => a.event === "sensorRecovered" && a.atMs >= EVENTS.scdNack.to));
    const status = link.ofType("status").filter((m) => m.atMs > EVENTS.scdNack.to);
    const faults = status[0].data!.sensorFaults as { sensor: string; faults: number }[];
    const scdFaults = faults.find((f) => f.sensor === "scd41");
    assert.ok(scdFaults && scdFaults.faults >= 10, JSON.stringify(faults));
    for (const m of link.messages.filter((x) => x.atMs > EVENTS.scdNack.from + 60_000 && x.atMs < EVENTS.scdNack.to && x.data?.co2Ppm !== undefined)) {
      assert.fail(`CO2 reported while the SCD41 was dead: ${JSON.stringify(m.data)}`);
    }
  });

  it("a flaky sensor raises one fault alarm per episode, not one per glitch", () => {
    const day26 = alarms.filter((a) => a.atMs >= 26 * D && a.atMs < 28 * D && (a.event === "sensorFault" || a.event === "sensorRecovered"));
    assert.ok(day26.length <= 2, JSON.stringify(day26));
  });

  it("CRC errors on the SEN55 are counted and no corrupt PM value is ever reported", () => {
    const status = link.ofType("status").filter((m) => m.atMs > 27 * D)[0];
    const sen55 = (status.data!.sensorFaults as { sensor: string; faults: number; lastFault: string }[]).find((f) => f.sensor === "sen55");
    assert.ok(sen55 && sen55.faults > 0);
    for (const m of link.ofType("airReading").filter((x) => x.atMs > 26 * D && x.atMs < 27 * D)) {
      const pm25 = m.data!.pm2_5 as number | undefined;
      if (pm25 !== undefined) assert.ok(pm25 < 40, `implausible PM2.5 ${pm25}`);
    }
  });

  it("sends routine readings only when something changed or the heartbeat is due, and a status every day", () => {
    const routine = link.ofType("airReading");
    assert.ok(routine.length >= 4 * 30 && routine.length <= 96 * 30, `${routine.length} routine readings`);
    for (let i = 1; i < routine.length; i++) assert.ok(routine[i].atMs - routine[i - 1].atMs <= 6 * H + AIR_WAKE_S * 1000, "heartbeat gap");
    const status = link.ofType("status");
    assert.ok(status.length >= 29 && status.length <= 32, `${status.length} status messages`);
    assert.equal(link.ofType("configAck").length, 1);
    assert.equal(link.ofType("configAck")[0].data!.result, "applied");
  });

  it("reports what the air really was (within the chips' accuracy and the filter's lag)", () => {
    for (const m of link.ofType("airReading")) {
      const d = m.data!;
      const t = truth(m.atMs);
      if (d.temperatureC !== undefined) assert.ok(Math.abs((d.temperatureC as number) - t.temperatureC) < 2.5, `T ${d.temperatureC} vs ${t.temperatureC}`);
      if (d.co2Ppm !== undefined && Math.abs(m.atMs - EVENTS.co2.from) > 2 * H && Math.abs(m.atMs - EVENTS.co2.to) > 2 * H) {
        assert.ok(Math.abs((d.co2Ppm as number) - t.co2Ppm) < 120, `CO2 ${d.co2Ppm} vs ${t.co2Ppm}`);
      }
      assert.equal(d.clockUnsynced, false);
    }
  });
});

describe("air node: a setTime between two wakes above the CO2 threshold does not restart the alarm's debounce", () => {
  it("co2High comes at the second wake above 5000 ppm with a setTime applied at it, as without", () => {
    const co2At = (withSetTime: boolean) => {
      const clock = new VirtualClock();
      const board = new Board(clock, 12);
      const rng = new Rng(7);
      const from = 2 * H;
      const air = (): AirEnvironment => ({ ...CLEAN_AIR, co2Ppm: clock.nowMs >= from ? 5000 : 430, pm25: 5, pm10: 8, pm1: 3, pm4: 6 });
      board.attachI2C(0x62, new Scd41Emulator({ rng: rng.fork("scd41"), environment: air, clock }));
      board.attachI2C(0x69, new Sen5xEmulator({ rng: rng.fork("sen55"), environment: air, clock, model: "SEN55" }));
      const link = new RecordingLink(clock, 51);
      const host = new NodeHost(board, () => bootAir({
        scd41: () => new SCD41({ sensor: { io: I2C, data: 21, clock: 22, hz: 100000 }, mode: "single-shot" }),
        sen5x: (running) => new SEN5x({ sensor: { io: I2C, data: 21, clock: 22, hz: 100000 }, model: "SEN55", running: running ? "all" : undefined, knownModel: running }),
      }, platformRuntime(link, () => 3600)));
      // Run to just after the first wake that measures 5000 ppm (one run of the two the alarm needs).
      while (!host.boots.some((b) => b.atMs >= from + 6_000)) host.runUntil(clock.nowMs + 60_000);
      if (withSetTime) link.downlinks.push({ port: 26, bytes: Uint8Array.from(encodeDownlink({ data: { command: "setTime", unixTimeS: 1767571200 } }).bytes) });
      host.runUntil(from + 4 * AIR_WAKE_S * 1000);
      const wakes = host.boots.filter((b) => b.atMs >= from).map((b) => b.atMs);
      const alarm = link.ofType("airAlarm").find((m) => m.data!.event === "co2High");
      assert.ok(alarm, "no co2High");
      return wakes.findIndex((t) => t > alarm.atMs) - 1;
    };
    assert.equal(co2At(false), 1, "without a downlink: the second wake above");
    assert.equal(co2At(true), 1, "with a setTime applied at the second wake");
  });
});

describe("air node: PM filters of a battery build keep their time constants", () => {
  it("a wake period keeps the mains filters; longer periods smooth no more than a mains node and keep the baseline at 80 minutes or more", () => {
    assert.deepEqual(pmFilterShifts(0), { pm: 1, baseline: 4 });
    assert.deepEqual(pmFilterShifts(AIR_WAKE_S), { pm: 1, baseline: 4 });
    assert.deepEqual(pmFilterShifts(900), { pm: 0, baseline: 3 });
    // Time constant of α = 2^-k at one reading every p seconds: about 2^k · p.
    const tau = (k: number, p: number) => 2 ** k * p;
    const mains = tau(4, AIR_WAKE_S);
    let last = 4;
    for (let p = AIR_WAKE_S; p <= PM_PERIOD_MAX_S; p += 150) {
      const { pm, baseline } = pmFilterShifts(p);
      assert.ok(baseline >= 1 && baseline <= last, `${p} s: baseline shift ${baseline} after ${last}`);
      last = baseline;
      assert.ok(tau(baseline, p) >= mains, `${p} s: baseline time constant ${tau(baseline, p)} s`);
      // Within a doubling of the mains constant, unless the baseline is already at its fastest.
      assert.ok(baseline === 1 || tau(baseline, p) < 2 * mains, `${p} s: baseline time constant ${tau(baseline, p)} s`);
      assert.equal(pm, p >= 2 * AIR_WAKE_S ? 0 : 1, `${p} s`);
    }
  });
});
