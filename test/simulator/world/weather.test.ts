import assert from "node:assert/strict";
import fc from "fast-check";
import { Calendar, DAY_MS, HOUR_MS, MINUTE_MS } from "../../../simulator/src/world/calendar.ts";
import { Weather } from "../../../simulator/src/world/weather.ts";
import { Rng } from "../../../simulator/src/core/rng.ts";
import { SmoothNoise } from "../../../simulator/src/world/random.ts";

const time = fc.integer({ min: -2 * DAY_MS, max: 90 * DAY_MS });

describe("world: calendar", () => {
  it("starts on Monday 2026-01-05 and follows the time-zone offset", () => {
    const cal = new Calendar();
    assert.equal(cal.dayOfWeek(0), 0);
    assert.equal(cal.dayOfWeek(5), 5);
    assert.ok(cal.isWeekend(6) && !cal.isWeekend(7));
    assert.ok(Math.abs(cal.dayOfYear(0) - 4) < 1e-9);
    const cet = new Calendar({ tzOffsetMin: 60 });
    // 00:00 UTC is 01:00 local; local midnight was an hour before virtual 0.
    assert.equal(cet.hourOfDay(0), 1);
    assert.equal(cet.dayStartMs(0), -HOUR_MS);
    assert.equal(cet.dayIndex(23 * HOUR_MS), 1);
    assert.equal(cet.hourOfWeek(0), 1);
  });
});

describe("world: smooth noise", () => {
  it("does not depend on the order of evaluation, and is about N(0, 1)", () => {
    const a = new SmoothNoise(new Rng(3).fork("n"), HOUR_MS, 6 * HOUR_MS);
    const b = new SmoothNoise(new Rng(3).fork("n"), HOUR_MS, 6 * HOUR_MS);
    const ts = Array.from({ length: 200 }, (_, i) => (i - 50) * 37 * MINUTE_MS);
    const va = ts.map((t) => a.at(t));
    const vb = ts.slice().reverse().map((t) => b.at(t)).reverse();
    assert.deepEqual(va, vb);
    let s = 0;
    let s2 = 0;
    const n = 20000;
    for (let i = 0; i < n; i++) {
      const v = a.at(i * 3 * HOUR_MS);
      s += v;
      s2 += v * v;
    }
    const mean = s / n;
    const sd = Math.sqrt(s2 / n - mean * mean);
    assert.ok(Math.abs(mean) < 0.1 && sd > 0.8 && sd < 1.1, `mean ${mean} sd ${sd}`);
  });
});

describe("world: weather", () => {
  it("gives identical values for the same seed in any query order, different ones for another seed", () => {
    fc.assert(
      fc.property(fc.integer(), fc.array(time, { minLength: 5, maxLength: 40 }), (seed, ts) => {
        const a = new Weather({ seed });
        const b = new Weather({ seed });
        const c = new Weather({ seed: seed + 1 });
        const va = ts.map((t) => a.at(t));
        const vb = ts.slice().reverse().map((t) => b.at(t)).reverse();
        assert.deepEqual(va, vb);
        assert.ok(ts.some((t, i) => c.at(t).temperatureC !== va[i].temperatureC));
      }),
      { numRuns: 30 },
    );
  });

  it("keeps humidity within 0–100 %, the dew point below the temperature, rain and wind non-negative", () => {
    fc.assert(
      fc.property(fc.integer(), time, fc.integer({ min: 0, max: 364 }), (seed, t, day) => {
        const w = new Weather({ seed });
        const s = w.at(t + day * DAY_MS);
        assert.ok(s.humidityPct >= 0 && s.humidityPct <= 100, `RH ${s.humidityPct}`);
        assert.ok(s.dewPointC <= s.temperatureC);
        assert.ok(s.rainMmH >= 0 && s.windMs >= 0 && s.recentRainMmH >= 0);
        assert.ok(s.temperatureC > -30 && s.temperatureC < 45);
      }),
      { numRuns: 300 },
    );
  });

  it("has seasons, a daily cycle and humid nights", () => {
    const w = new Weather({ seed: 11 });
    const mean = (from: number, days: number, hour?: number) => {
      let s = 0;
      let n = 0;
      for (let d = 0; d < days; d++) {
        for (let h = 0; h < 24; h++) {
          if (hour !== undefined && h !== hour) continue;
          s += w.temperatureC(from + d * DAY_MS + h * HOUR_MS);
          n++;
        }
      }
      return s / n;
    };
    const january = mean(0, 26);
    const july = mean(177 * DAY_MS, 31);
    console.log(`      January mean ${january.toFixed(1)} °C, July mean ${july.toFixed(1)} °C`);
    assert.ok(july - january > 10, `July ${july} January ${january}`);
    assert.ok(mean(0, 60, 15) > mean(0, 60, 6) + 2);
    let rhNight = 0;
    let rhAfternoon = 0;
    for (let d = 0; d < 60; d++) {
      rhNight += w.humidityPct(d * DAY_MS + 5 * HOUR_MS);
      rhAfternoon += w.humidityPct(d * DAY_MS + 15 * HOUR_MS);
    }
    assert.ok(rhNight > rhAfternoon);
  });

  it("rains about 800 mm in 170 events a year, the series adds up to the events", () => {
    let total = 0;
    let events = 0;
    for (const seed of [1, 2, 3, 4]) {
      const w = new Weather({ seed });
      total += w.rainDepthMm(0, 365 * DAY_MS);
      events += w.rainEvents(0, 365 * DAY_MS).length;
    }
    console.log(`      mean ${(total / 4).toFixed(0)} mm in ${(events / 4).toFixed(0)} events a year`);
    assert.ok(total / 4 > 550 && total / 4 < 1000);
    assert.ok(events / 4 > 120 && events / 4 < 230);
    const w = new Weather({ seed: 5 });
    for (let d = 0; d < 20; d++) {
      const series = w.rainSeries(d, 10_000);
      const mm = series.reduce((a, v) => a + (v * 10_000) / HOUR_MS, 0);
      assert.ok(Math.abs(mm - w.rainDepthMm(d * DAY_MS, (d + 1) * DAY_MS)) < 1e-3);
    }
  });

  it("plays a scripted storm: rain peaks at its peak, the wind blows, the air is wet", () => {
    const start = 3 * DAY_MS + 14 * HOUR_MS;
    const w = new Weather({ seed: 9, randomRain: false, storms: [{ startMs: start, durationMs: HOUR_MS, peakMmH: 40, peakFraction: 0.25, windMs: 20 }] });
    const peak = start + HOUR_MS / 4;
    assert.ok(Math.abs(w.rainMmH(peak) - 40) < 1e-9);
    assert.equal(w.rainMmH(start - 1), 0);
    assert.equal(w.rainMmH(start + HOUR_MS), 0);
    assert.ok(w.windMs(peak) >= 19);
    assert.ok(Math.abs(w.rainDepthMm(0, 10 * DAY_MS) - 20) < 1e-9);
    assert.ok(w.humidityPct(peak + 10 * MINUTE_MS) > 95);
    assert.equal(w.rainEvents(0, 10 * DAY_MS).length, 1);
  });
});
