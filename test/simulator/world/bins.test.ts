import assert from "node:assert/strict";
import fc from "fast-check";
import { DAY_MS, HOUR_MS, MINUTE_MS, SECOND_MS } from "../../../simulator/src/world/calendar.ts";
import { Weather } from "../../../simulator/src/world/weather.ts";
import { Bin, CollectionRoute, type BinOptions, type CollectionSchedule } from "../../../simulator/src/world/bins.ts";
import type { Lis3dhAcceleration } from "../../../simulator/src/devices/lis3dh.ts";

const time = fc.integer({ min: 0, max: 45 * DAY_MS });

/** Tilt from upright, degrees. */
function tiltDeg(a: Lis3dhAcceleration): number {
  return (Math.atan2(Math.hypot(a.x, a.y), a.z) * 180) / Math.PI;
}

function bin(seed: number, extra: Partial<BinOptions> = {}): Bin {
  return new Bin({ seed, weather: new Weather({ seed: 1000 + seed }), tipsPer30Days: 2, lidOpenPer30Days: 3, ...extra });
}

describe("world: bins", () => {
  it("is deterministic in any query order and differs between seeds", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e6 }), fc.array(time, { minLength: 5, maxLength: 40 }), (seed, ts) => {
        const a = bin(seed);
        const b = bin(seed);
        const va = ts.map((t) => [a.target(t), a.acceleration(t), a.fillPct(t)]);
        const vb = ts.slice().reverse().map((t) => [b.target(t), b.acceleration(t), b.fillPct(t)]).reverse();
        assert.deepEqual(va, vb);
        const c = bin(seed + 1);
        const grid = Array.from({ length: 60 }, (_, i) => i * 12 * HOUR_MS);
        assert.ok(grid.some((t) => c.fillPct(t) !== a.fillPct(t)));
      }),
      { numRuns: 25 },
    );
  });

  it("keeps the fill within 0–100 % and the distance within the sensor's range or no echo", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e6 }), time, fc.constantFrom("street" as const, "park" as const), (seed, t, site) => {
        const b = bin(seed, { site, rateScale: 2 });
        const fill = b.fillPct(t);
        assert.ok(fill >= 0 && fill <= 100);
        const target = b.target(t);
        if (target.surface === "none") return;
        assert.ok(target.distanceMm >= 30 && target.distanceMm <= 4500);
        assert.ok(target.distanceMm >= b.fullDistanceMm - 1e-9 && target.distanceMm <= b.depthMm / Math.cos((40 * Math.PI) / 180));
        const a = b.acceleration(t);
        assert.ok(Math.abs(Math.hypot(a.x, a.y, a.z) - 1000) < 2000);
      }),
      { numRuns: 400 },
    );
  });

  it("fills on working days in streets and at weekends in parks", () => {
    // Emptied every night at 00:30, so each day's gain is what went in that day.
    const nightly: CollectionSchedule = { visitMs: (day) => day * DAY_MS + 30 * MINUTE_MS };
    const gain = { street: [0, 0], park: [0, 0] };
    for (const site of ["street", "park"] as const) {
      for (let seed = 0; seed < 30; seed++) {
        const b = new Bin({ seed, site, collection: nightly, tipsPer30Days: 0, lidOpenPer30Days: 0, rateScale: 1 });
        for (let d = 0; d < 28; d++) {
          const g = b.fillPct(d * DAY_MS + 23.9 * HOUR_MS) - b.fillPct(d * DAY_MS + 31 * MINUTE_MS);
          gain[site][d % 7 >= 5 ? 1 : 0] += g;
        }
      }
    }
    const rate = (site: "street" | "park", weekend: number) => gain[site][weekend] / (30 * (weekend ? 8 : 20));
    console.log(`      fill per day: street ${rate("street", 0).toFixed(1)} % weekdays, ${rate("street", 1).toFixed(1)} % weekends; park ${rate("park", 0).toFixed(1)} %, ${rate("park", 1).toFixed(1)} %`);
    assert.ok(rate("street", 0) > 1.2 * rate("street", 1));
    assert.ok(rate("park", 1) > 2 * rate("park", 0));
  });

  it("is emptied at each collection, with the tipping in the acceleration and no echo meanwhile", () => {
    for (let seed = 0; seed < 10; seed++) {
      const b = bin(seed);
      const collections = b.collections(0, 30 * DAY_MS);
      assert.ok(collections.length >= 8 && collections.length <= 9, `${collections.length} collections`);
      for (const c of collections) {
        const wd = Math.floor(c.startMs / DAY_MS) % 7;
        assert.ok(wd === 1 || wd === 4, "Tuesdays and Fridays");
        let maxTilt = 0;
        let minZ = Infinity;
        for (let t = c.startMs; t < c.endMs; t += 200) {
          const a = b.acceleration(t);
          maxTilt = Math.max(maxTilt, tiltDeg(a));
          minZ = Math.min(minZ, a.z);
          assert.equal(b.target(t).surface, "none");
        }
        assert.ok(maxTilt > 100 && minZ < -300, `tilt ${maxTilt} z ${minZ}`);
        assert.ok(b.fillPct(c.endMs + SECOND_MS) <= 3);
        assert.ok(Math.abs(b.fillPct(c.startMs - SECOND_MS) - c.fillBeforePct) < 0.1);
        assert.ok(tiltDeg(b.acceleration(c.endMs + SECOND_MS)) < 5);
      }
    }
  });

  it("lies on its side while tipped (no echo) and tilts the lid while it is left open", () => {
    let tips = 0;
    let lids = 0;
    for (let seed = 0; seed < 15; seed++) {
      const b = bin(seed);
      const truth = b.groundTruth(0, 30 * DAY_MS);
      for (const tip of truth.tips) {
        tips++;
        for (let t = tip.startMs + 3 * SECOND_MS; t < tip.endMs - 4 * SECOND_MS; t += 5 * MINUTE_MS) {
          assert.equal(b.target(t).surface, "none");
          assert.ok(tiltDeg(b.acceleration(t)) > 75);
        }
        assert.ok(tiltDeg(b.acceleration(tip.endMs + SECOND_MS)) < 45);
      }
      for (const lid of truth.lidOpen) {
        lids++;
        let echoes = 0;
        let samples = 0;
        for (let t = lid.startMs + SECOND_MS; t < lid.endMs; t += 2 * MINUTE_MS) {
          const tilt = tiltDeg(b.acceleration(t));
          samples++;
          if (tilt > 45) continue; // someone is throwing something in
          assert.ok(tilt >= 20, `lid ${lid.cause} at ${tilt}°`);
          if (b.target(t).surface !== "none") echoes++;
        }
        assert.ok(echoes >= 0.8 * samples, "the sensor still sees the waste, at a slant");
      }
    }
    assert.ok(tips > 5 && lids > 10, `${tips} tips, ${lids} lids`);
  });

  it("plays scripted tips and lids and reports full intervals that match the fill", () => {
    const tip = { startMs: 12 * DAY_MS + 22 * HOUR_MS, endMs: 13 * DAY_MS + 9 * HOUR_MS };
    const lid = { startMs: 17 * DAY_MS + 12 * HOUR_MS, endMs: 17 * DAY_MS + 15 * HOUR_MS };
    const b = new Bin({ seed: 3, rateScale: 1.8, tipsPer30Days: 0, lidOpenPer30Days: 0, tips: [tip], lidOpen: [lid] });
    const truth = b.groundTruth(0, 30 * DAY_MS, 80);
    assert.deepEqual(truth.tips.map((t) => [t.startMs, t.endMs, t.cause]), [[tip.startMs, tip.endMs, "scripted"]]);
    const scripted = truth.lidOpen.filter((l) => l.cause === "scripted");
    assert.deepEqual(scripted.map((l) => [l.startMs, l.endMs]), [[lid.startMs, lid.endMs]]);
    assert.ok(truth.full.length >= 3, `${truth.full.length} full intervals`);
    for (const f of truth.full) {
      for (let t = Math.max(0, f.startMs); t < f.endMs; t += 7 * MINUTE_MS) assert.ok(b.fillPct(t) >= 80 - 1e-9);
      if (f.startMs > 0) assert.ok(b.fillPct(f.startMs - 1) < 80);
      assert.ok(b.fillPct(f.endMs + 1) < 80 + 1e-9 || b.fillPct(f.endMs) < 80);
    }
    for (const o of truth.overflow) assert.ok(b.fillPct(o.startMs + 1) >= 99.999);
    const events = b.events(0, 30 * DAY_MS);
    for (const kind of ["full", "collection", "tipped", "lidOpen"]) assert.ok(events.some((e) => e.kind === kind), kind);
  });

  it("routes the truck through the district: visits in path order, independent of the other bins", () => {
    const route = new CollectionRoute({ seed: 4, widthM: 1000, laneM: 100, speedKmh: 10, skipChance: 0 });
    const a = route.visitMs({ x: 100, y: 50 }, 1)!;
    const b = route.visitMs({ x: 900, y: 50 }, 1)!;
    const c = route.visitMs({ x: 100, y: 150 }, 1)!;
    assert.ok(a < b && b < c, "first lane west to east, second east to west");
    assert.ok(Math.abs(b - a - (800 / 10000) * HOUR_MS) < 0.3 * (800 / 10000) * HOUR_MS);
    assert.equal(route.visitMs({ x: 100, y: 50 }, 0), undefined, "not on Mondays");
    assert.ok(a > DAY_MS + 5.5 * HOUR_MS && a < DAY_MS + 8 * HOUR_MS);
  });
});
