import assert from "node:assert/strict";
import fc from "fast-check";
import { DAY_MS, HOUR_MS } from "../../../simulator/src/world/calendar.ts";
import { City, DEFAULT_CITY_THRESHOLDS, nearAirThresholds, nearFullPct, nearRapidRisePctPerH, type CityNode } from "../../../simulator/src/world/city.ts";

const time = fc.integer({ min: 0, max: 30 * DAY_MS });

/** Everything a node's emulators would read at t. */
function reading(n: CityNode, t: number): unknown {
  switch (n.kind) {
    case "air":
      return n.model.at(t);
    case "water":
      return n.model.flowLMin(t);
    case "bin":
      return [n.model.target(t), n.model.acceleration(t)];
    case "drain":
      return n.model.target(t);
  }
}

describe("world: city", function () {
  this.timeout(120000);

  it("builds the same city from the same seed, and another from another seed", () => {
    fc.assert(
      fc.property(fc.integer(), fc.array(time, { minLength: 3, maxLength: 10 }), (seed, ts) => {
        const counts = { air: 4, water: 4, bin: 4, drain: 3 };
        const a = new City({ seed, counts });
        const b = new City({ seed, counts });
        assert.deepEqual(a.nodes.map((n) => [n.id, n.position]), b.nodes.map((n) => [n.id, n.position]));
        for (const t of ts) assert.deepEqual(a.nodes.map((n) => reading(n, t)), b.nodes.map((n) => reading(n, t)));
        const c = new City({ seed: seed + 1, counts });
        assert.notDeepEqual(a.nodes.map((n) => n.position), c.nodes.map((n) => n.position));
      }),
      { numRuns: 10 },
    );
  });

  it("does not change a node when others are added: each node has its own forked streams", () => {
    fc.assert(
      fc.property(fc.integer(), fc.array(time, { minLength: 3, maxLength: 10 }), (seed, ts) => {
        const small = new City({ seed, counts: { air: 3, water: 3, bin: 3, drain: 3 } });
        const large = new City({ seed, counts: { air: 5, water: 6, bin: 7, drain: 6 } });
        for (const n of small.nodes) {
          const m = large.node(n.id)!;
          assert.deepEqual(m.position, n.position, n.id);
          // Query the larger city's extra nodes first: shared weather caches must not leak into values.
          for (const extra of large.nodes) if (!small.node(extra.id)) reading(extra, ts[0]);
          for (const t of ts) assert.deepEqual(reading(m, t), reading(n, t), `${n.id} at ${t}`);
        }
        assert.deepEqual(large.groundTruthEvents(0, 10 * DAY_MS).filter((e) => small.node(e.nodeId)), small.groundTruthEvents(0, 10 * DAY_MS));
      }),
      { numRuns: 6 },
    );
  });

  it("lays nodes out sensibly: inside the district, meters off the parks, park bins in parks, drains low", () => {
    const city = new City({ seed: 5, counts: { air: 60, water: 80, bin: 60, drain: 40 } });
    assert.equal(city.nodes.length, 240);
    assert.equal(new Set(city.nodes.map((n) => n.id)).size, 240);
    for (const n of city.nodes) {
      assert.ok(n.position.x >= 0 && n.position.x <= city.widthM && n.position.y >= 0 && n.position.y <= city.heightM, n.id);
    }
    for (const w of city.nodesOf("water")) assert.ok(!city.isPark(w.position.x, w.position.y));
    for (const b of city.nodesOf("bin")) if (b.site === "park") assert.ok(city.isPark(b.position.x, b.position.y));
    assert.ok(city.nodesOf("bin").some((b) => b.site === "park") && city.nodesOf("bin").some((b) => b.site === "street"));
    const settings = new Set(city.nodesOf("air").map((a) => a.setting));
    assert.deepEqual([...settings].sort(), ["background", "indoor", "roadside"]);
    let mean = 0;
    for (let i = 0; i < 400; i++) mean += city.elevationM((i % 20) * 100, Math.floor(i / 20) * 75) / 400;
    const drains = city.nodesOf("drain");
    const drainMean = drains.reduce((s, d) => s + d.elevationM, 0) / drains.length;
    assert.ok(drainMean < mean - 1, `drains at ${drainMean.toFixed(1)} m, ground ${mean.toFixed(1)} m`);
    for (let i = 0; i < drains.length; i++) {
      for (let j = 0; j < i; j++) assert.ok(Math.hypot(drains[i].position.x - drains[j].position.x, drains[i].position.y - drains[j].position.y) >= 30);
    }
    // All bins on one round: visits in route order.
    const visits = city.nodesOf("bin").map((b) => b.model.collections(DAY_MS, 2 * DAY_MS)[0]?.startMs).filter((t) => t !== undefined);
    assert.ok(visits.length > 50);
    assert.ok(Math.max(...visits) - Math.min(...visits) > HOUR_MS, "the round takes hours");
  });

  it("lists every node's ground truth, flat and sorted, consistent with each node's own", () => {
    const city = new City({ seed: 8, counts: { air: 30, water: 60, bin: 30, drain: 20 }, weather: { storms: [{ startMs: 9 * DAY_MS + 16 * HOUR_MS, durationMs: HOUR_MS, peakMmH: 55 }] } });
    const from = 0;
    const to = 21 * DAY_MS;
    const events = city.groundTruthEvents(from, to);
    for (let i = 1; i < events.length; i++) assert.ok(events[i - 1].startMs <= events[i].startMs);
    const kinds = new Map<string, number>();
    for (const e of events) {
      kinds.set(e.kind, (kinds.get(e.kind) ?? 0) + 1);
      assert.ok(e.endMs > from && e.startMs < to && e.endMs > e.startMs);
      const n = city.node(e.nodeId)!;
      const allowed = { air: ["co2High", "aqiUnhealthy", "pmSpike"], water: ["leak", "burst", "away", "noFlow"], bin: ["full", "collection", "tipped", "lidOpen"], drain: ["rapidRise", "full", "flood", "obstruction"] }[n.kind];
      assert.ok(allowed.includes(e.kind), `${e.kind} on ${n.kind}`);
    }
    console.log(`      ${events.length} events in 21 days: ${[...kinds].map(([k, v]) => `${k} ${v}`).join(", ")}`);
    for (const kind of ["co2High", "collection", "full", "flood", "rapidRise"]) assert.ok(kinds.has(kind), kind);
    // Every drain floods in the storm... at least most of them.
    const floods = events.filter((e) => e.kind === "flood" && e.startMs >= 9 * DAY_MS + 16 * HOUR_MS && e.startMs < 9 * DAY_MS + 17 * HOUR_MS);
    assert.ok(floods.length >= 10, `${floods.length} drains flooded`);
    // A sub-range gives the same events (those overlapping it).
    const part = city.groundTruthEvents(5 * DAY_MS, 7 * DAY_MS);
    assert.deepEqual(part, events.filter((e) => e.endMs > 5 * DAY_MS && e.startMs < 7 * DAY_MS));
  });

  it("near events: thresholds lowered by the sensors' stated accuracy, so each event lies within one of its kind, and more come", () => {
    const th = nearAirThresholds(DEFAULT_CITY_THRESHOLDS);
    // SCD41 ±(40 ppm + 5 %): air at 1390.5 ppm can read 1500; SEN55 ±(5 µg/m³ + 5 %): a 19 µg/m³ spike can read 25.
    assert.ok(Math.abs(th.co2Ppm - 1390.48) < 0.01 && Math.abs(th.pmSpikeUgm3 - 19.05) < 0.01, JSON.stringify(th));
    // "Unhealthy" from PM2.5 55.5 or PM10 255 µg/m³: the AQI of 48.0 µg/m³ PM2.5 (131) or 209 µg/m³ PM10 (128), the lower.
    assert.equal(th.aqiFloor, 128);
    // A02YYUW ±(1 cm + 0.3 %) at 360 mm, the 80 % line of a 1200 mm bin full at 150 mm: 11.1 mm of a 1050 mm span.
    assert.ok(Math.abs(nearFullPct(80, 1200, 150) - 78.9448) < 0.0001);
    // The same at both ends of a drain's 30-minute rate window, 1500 mm deep and full at 300 mm: 29 mm of 1200 mm per half hour.
    assert.ok(Math.abs(nearRapidRisePctPerH(50, 1500, 300, 30 * 60_000) - 45.1667) < 0.0001);
    const city = new City({ seed: 8, counts: { air: 12, water: 6, bin: 12, drain: 8 }, weather: { storms: [{ startMs: 3 * DAY_MS + 16 * HOUR_MS, durationMs: HOUR_MS, peakMmH: 40 }] } });
    let events = 0;
    let near = 0;
    for (const n of city.nodes) {
      const real = n.events(0, 6 * DAY_MS);
      const band = n.nearEvents(0, 6 * DAY_MS);
      events += real.length;
      near += band.length;
      for (const e of real) {
        if (n.kind === "water" || e.kind === "collection" || e.kind === "tipped" || e.kind === "lidOpen" || e.kind === "flood" || e.kind === "obstruction") {
          // No band: the same events.
          assert.ok(band.some((b) => b.kind === e.kind && b.startMs === e.startMs && b.endMs === e.endMs), `${n.id} ${e.kind}`);
        } else {
          assert.ok(band.some((b) => b.kind === e.kind && b.startMs <= e.startMs && b.endMs >= e.endMs), `${n.id} ${e.kind} at ${e.startMs} has no near event around it`);
        }
      }
    }
    assert.ok(near > events, `${near} near events, ${events} events`);
  });
});
