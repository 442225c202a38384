import assert from "node:assert/strict";
import fc from "fast-check";
import { DAY_MS, HOUR_MS, MINUTE_MS } from "../../../simulator/src/world/calendar.ts";
import { Weather } from "../../../simulator/src/world/weather.ts";
import { AirQuality, RegionalAir, trafficAt, type AirSetting } from "../../../simulator/src/world/air-quality.ts";
import { VirtualClock } from "../../../simulator/src/core/clock.ts";

const time = fc.integer({ min: 0, max: 60 * DAY_MS });
const setting = fc.constantFrom<AirSetting>("roadside", "background", "indoor");

function node(seed: number, s: AirSetting = "roadside", extra: Partial<ConstructorParameters<typeof AirQuality>[0]> = {}): AirQuality {
  const weather = new Weather({ seed: seed * 7 + 1 });
  const regional = new RegionalAir({ seed: seed * 7 + 2, calendar: weather.calendar });
  return new AirQuality({ seed, weather, regional, setting: s, ...extra });
}

describe("world: air quality", () => {
  it("is deterministic in any query order and differs between seeds", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e6 }), setting, fc.array(time, { minLength: 5, maxLength: 30 }), (seed, s, ts) => {
        const a = node(seed, s);
        const b = node(seed, s);
        const va = ts.map((t) => a.at(t));
        const vb = ts.slice().reverse().map((t) => b.at(t)).reverse();
        assert.deepEqual(va, vb);
        const c = node(seed + 1, s);
        assert.ok(ts.some((t, i) => c.at(t).pm25 !== va[i].pm25));
      }),
      { numRuns: 25 },
    );
  });

  it("keeps PM fractions ordered and every value in its physical range", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e6 }), setting, time, (seed, s, t) => {
        const a = node(seed, s, { spikesPer30Days: 10 }).at(t);
        assert.ok(a.pm1 >= 0 && a.pm1 <= a.pm25 && a.pm25 <= a.pm4 && a.pm4 <= a.pm10, JSON.stringify(a));
        assert.ok(a.humidityPct >= 0 && a.humidityPct <= 100);
        assert.ok(a.vocIndex >= 1 && a.vocIndex <= 500 && a.noxIndex >= 1 && a.noxIndex <= 500);
        assert.ok(a.co2Ppm >= 400 && a.co2Ppm < 5000);
        assert.ok(a.pm10 < 5000);
      }),
      { numRuns: 400 },
    );
  });

  it("gives the emulators the air at the clock's time", () => {
    const a = node(3);
    const clock = new VirtualClock();
    const source = a.source(clock);
    clock.advance(5 * HOUR_MS);
    assert.deepEqual(source(), a.at(5 * HOUR_MS));
  });

  it("has rush hours: roadside PM2.5 and NOx higher at 07:30–09:00 on weekdays than at 02:00–04:00, and weekend traffic is lower", () => {
    let rush = 0;
    let night = 0;
    let n = 0;
    let noxWeekday = 0;
    let noxWeekend = 0;
    for (let seed = 0; seed < 12; seed++) {
      const a = node(seed, "roadside", { randomSpikes: false });
      for (let d = 0; d < 28; d++) {
        const weekend = d % 7 >= 5;
        for (let m = 0; m < 90; m += 10) {
          const r = a.at(d * DAY_MS + 7.5 * HOUR_MS + m * MINUTE_MS);
          if (weekend) {
            noxWeekend += r.noxIndex;
            continue;
          }
          rush += r.pm25;
          noxWeekday += r.noxIndex;
          night += a.at(d * DAY_MS + 2 * HOUR_MS + (m / 90) * 2 * HOUR_MS).pm25;
          n++;
        }
      }
    }
    console.log(`      mean PM2.5 at rush hour ${(rush / n).toFixed(1)} µg/m³, at night ${(night / n).toFixed(1)} µg/m³`);
    assert.ok(rush / n > 1.15 * (night / n));
    assert.ok(noxWeekday / 20 > noxWeekend / 8);
    assert.ok(trafficAt(8) > 0.9 && trafficAt(3) < 0.15 && trafficAt(6 * 24 + 8) < 0.3);
  });

  it("lets rain wash particles out", () => {
    const storm = { startMs: 2 * DAY_MS + 10 * HOUR_MS, durationMs: 4 * HOUR_MS, peakMmH: 8 };
    const dry = new Weather({ seed: 4, randomRain: false });
    const wet = new Weather({ seed: 4, randomRain: false, storms: [storm] });
    const reg = () => new RegionalAir({ seed: 5, randomEpisodes: false });
    const a = new AirQuality({ seed: 6, weather: dry, regional: reg(), randomSpikes: false });
    const b = new AirQuality({ seed: 6, weather: wet, regional: reg(), randomSpikes: false });
    const t = storm.startMs + 2 * HOUR_MS;
    assert.ok(b.at(t).pm25 < 0.8 * a.at(t).pm25);
    assert.ok(b.at(t).pm10 - b.at(t).pm25 < 0.6 * (a.at(t).pm10 - a.at(t).pm25), "coarse washes out faster");
    assert.equal(b.at(storm.startMs - HOUR_MS).pm25, a.at(storm.startMs - HOUR_MS).pm25);
  });

  it("raises PM in a scripted episode, which the AQI ground truth covers", () => {
    const weather = new Weather({ seed: 8, randomRain: false });
    const episode = { startMs: 3 * DAY_MS, endMs: 6 * DAY_MS, peakPm25: 90 };
    const regional = new RegionalAir({ seed: 8, calendar: weather.calendar, randomEpisodes: false, episodes: [episode] });
    const a = new AirQuality({ seed: 8, weather, regional, setting: "background", randomSpikes: false });
    assert.ok(a.at(4.5 * DAY_MS).pm25 > 80);
    assert.deepEqual(a.groundTruth(0, 10 * DAY_MS).episodes.map((e) => [e.startMs, e.endMs]), [[episode.startMs, episode.endMs]]);
    const unhealthy = a.aqiUnhealthy(0, 10 * DAY_MS);
    assert.equal(unhealthy.length, 1, JSON.stringify(unhealthy));
    assert.ok(unhealthy[0].startMs > episode.startMs && unhealthy[0].startMs < episode.startMs + 12 * HOUR_MS);
    assert.ok(unhealthy[0].endMs < episode.endMs && unhealthy[0].endMs > episode.endMs - 12 * HOUR_MS);
    assert.ok(unhealthy[0].peak >= 151);
  });

  it("reports a scripted bonfire as a pmSpike with its times", () => {
    const spike = { kind: "bonfire" as const, startMs: 2 * DAY_MS + 18 * HOUR_MS, endMs: 2 * DAY_MS + 21 * HOUR_MS, peakPm25: 120 };
    const a = node(12, "roadside", { randomSpikes: false, spikes: [spike] });
    const b = node(12, "roadside", { randomSpikes: false });
    const mid = spike.startMs + 90 * MINUTE_MS;
    assert.ok(a.at(mid).pm25 - b.at(mid).pm25 > 60);
    assert.ok(a.at(mid).vocIndex > b.at(mid).vocIndex + 100);
    assert.equal(a.at(spike.startMs - 1).pm25, b.at(spike.startMs - 1).pm25);
    const spikes = a.events(0, 5 * DAY_MS).filter((e) => e.kind === "pmSpike");
    assert.deepEqual(spikes, [{ kind: "pmSpike", startMs: spike.startMs, endMs: spike.endMs, magnitude: 120 }]);
  });

  it("fills a classroom with CO2 on school days: co2High intervals match the signal", () => {
    const a = node(21, "indoor");
    const co2 = a.co2High(0, 14 * DAY_MS);
    assert.ok(co2.length >= 8, `${co2.length} intervals`);
    for (const iv of co2) {
      const day = Math.floor(iv.startMs / DAY_MS);
      assert.ok(day % 7 < 5, "only on working days");
      assert.ok(a.at(iv.startMs).co2Ppm >= 1500 && a.at(iv.endMs - MINUTE_MS).co2Ppm >= 1500);
      assert.ok(a.at(iv.startMs - MINUTE_MS).co2Ppm < 1500);
      assert.ok(iv.peak >= 1500 && iv.peak < 4000);
    }
    // The nights are clean.
    for (let d = 0; d < 14; d++) assert.ok(a.at(d * DAY_MS + 4 * HOUR_MS).co2Ppm < 600);
    // The same truth whatever range it was asked for.
    const part = a.co2High(3 * DAY_MS, 5 * DAY_MS);
    assert.deepEqual(part, co2.filter((iv) => iv.endMs > 3 * DAY_MS && iv.startMs < 5 * DAY_MS));
  });
});
