import assert from "node:assert/strict";
import fc from "fast-check";
import { DAY_MS, HOUR_MS, MINUTE_MS } from "../../../simulator/src/world/calendar.ts";
import { Weather, type StormScript } from "../../../simulator/src/world/weather.ts";
import { Drain } from "../../../simulator/src/world/drains.ts";

const time = fc.integer({ min: 0, max: 40 * DAY_MS });
/** A summer-like month: frequent, heavier rain (the default January has little). */
const WET = { rainEventsPerDayWinter: 1, rainPeakMeanMmHWinter: 6 };

describe("world: drains", () => {
  it("is deterministic in any query order and differs between seeds", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e6 }), fc.array(time, { minLength: 5, maxLength: 40 }), (seed, ts) => {
        const make = (s: number) => new Drain({ seed: s, weather: new Weather({ seed: s, climate: WET }), obstructionsPer30Days: 3 });
        const a = make(seed);
        const b = make(seed);
        const va = ts.map((t) => a.target(t));
        const vb = ts.slice().reverse().map((t) => b.target(t)).reverse();
        assert.deepEqual(va, vb);
        // Another seed has other rain and other debris (the dry-weather level alone is the same).
        const c = make(seed + 1);
        const grid = Array.from({ length: 120 }, (_, i) => i * 6 * HOUR_MS);
        assert.ok(grid.some((t) => c.target(t).distanceMm !== a.target(t).distanceMm));
      }),
      { numRuns: 20 },
    );
  });

  it("keeps the water between the dry level and the full line, seen as water within the sensor's range", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e6 }), time, (seed, t) => {
        const d = new Drain({ seed, weather: new Weather({ seed, climate: WET }), obstructionsPer30Days: 5 });
        const target = d.target(t);
        assert.ok(d.levelMm(t) >= 0 && d.levelMm(t) <= d.spanMm);
        assert.ok(d.storageL(t) >= 0);
        if (target.surface === "soft") {
          assert.ok(d.obstructions(t, t + 1).some((o) => o.distanceMm === target.distanceMm));
          assert.ok(target.distanceMm >= 40 && target.distanceMm <= 250);
        } else {
          assert.equal(target.surface, "water");
          assert.ok(target.distanceMm >= d.fullDistanceMm && target.distanceMm <= d.depthMm);
          assert.ok(target.distanceMm >= 30 && target.distanceMm <= 4500);
        }
      }),
      { numRuns: 200 },
    );
  });

  it("rises with rain and falls back afterwards", () => {
    let wet = 0;
    let wetN = 0;
    let dry = 0;
    let dryN = 0;
    for (let seed = 0; seed < 6; seed++) {
      const weather = new Weather({ seed, climate: WET });
      const d = new Drain({ seed, weather, randomIncidents: false });
      for (let t = 0; t < 30 * DAY_MS; t += 10 * MINUTE_MS) {
        if (weather.rainMmH(t) > 2) {
          wet += d.fillPct(t);
          wetN++;
        } else if (weather.recentRainMmH(t) < 0.01) {
          dry += d.fillPct(t);
          dryN++;
        }
      }
    }
    console.log(`      mean fill ${(wet / wetN).toFixed(1)} % in rain above 2 mm/h, ${(dry / dryN).toFixed(1)} % in dry weather`);
    assert.ok(wet / wetN > 2 * (dry / dryN));
    assert.ok(dry / dryN < 5);
  });

  it("floods in a scripted storm, with a rapid rise first, and not in light rain", () => {
    const storm: StormScript = { startMs: 4 * DAY_MS + 15 * HOUR_MS, durationMs: HOUR_MS, peakMmH: 50, peakFraction: 0.3 };
    const weather = new Weather({ seed: 2, randomRain: false, storms: [storm, { startMs: 8 * DAY_MS, durationMs: 3 * HOUR_MS, peakMmH: 5 }] });
    const d = new Drain({ seed: 2, weather, randomIncidents: false });
    const truth = d.groundTruth(0, 12 * DAY_MS);
    assert.equal(truth.floods.length, 1, JSON.stringify(truth.floods));
    const flood = truth.floods[0];
    assert.ok(flood.startMs > storm.startMs && flood.startMs < storm.startMs + storm.durationMs);
    assert.ok(flood.peak > 100, `${flood.peak} L ponded`);
    assert.equal(d.target(flood.startMs + 2 * MINUTE_MS).distanceMm, d.fullDistanceMm);
    assert.ok(d.target(flood.endMs + 30 * MINUTE_MS).distanceMm > d.fullDistanceMm + 100);
    assert.equal(truth.rapidRise.length, 1);
    const rise = truth.rapidRise[0];
    assert.ok(rise.startMs > storm.startMs && rise.startMs < flood.startMs);
    assert.ok(rise.peak >= 50);
    assert.ok(d.riseRatePctPerH(rise.startMs) >= 50 && d.riseRatePctPerH(rise.startMs - MINUTE_MS) < 50);
    // The light rain on day 8 raises the level without flooding it or rising fast.
    assert.ok(d.fillPct(8 * DAY_MS + 1.5 * HOUR_MS) > d.fillPct(7 * DAY_MS) + 5);
    assert.deepEqual(d.events(7 * DAY_MS, 12 * DAY_MS), []);
  });

  it("fills higher behind a blockage, and shows debris as a soft target close to the sensor", () => {
    const storm: StormScript = { startMs: 3 * DAY_MS + 10 * HOUR_MS, durationMs: 2 * HOUR_MS, peakMmH: 14 };
    const weather = new Weather({ seed: 5, randomRain: false, storms: [storm] });
    const clear = new Drain({ seed: 5, weather, randomIncidents: false });
    const blocked = new Drain({ seed: 5, weather, randomIncidents: false, blockages: [{ startMs: DAY_MS, endMs: 10 * DAY_MS, fraction: 0.6 }] });
    const peak = (d: Drain) => {
      let m = 0;
      for (let t = storm.startMs; t < storm.startMs + 6 * HOUR_MS; t += MINUTE_MS) m = Math.max(m, d.fillPct(t));
      return m;
    };
    assert.ok(peak(blocked) > peak(clear) + 15, `${peak(blocked)} vs ${peak(clear)}`);
    assert.deepEqual(blocked.groundTruth(0, 5 * DAY_MS).blockages.map((b) => b.fraction), [0.6]);
    const leaf = { startMs: 6 * DAY_MS, endMs: 6 * DAY_MS + 5 * HOUR_MS, distanceMm: 90 };
    const d = new Drain({ seed: 5, weather, randomIncidents: false, obstructions: [leaf] });
    assert.deepEqual(d.target(6 * DAY_MS + HOUR_MS), { distanceMm: 90, surface: "soft" });
    assert.equal(d.target(leaf.endMs).surface, "water");
    assert.deepEqual(d.events(0, 10 * DAY_MS).filter((e) => e.kind === "obstruction"), [{ kind: "obstruction", startMs: leaf.startMs, endMs: leaf.endMs, magnitude: 90 }]);
  });
});
