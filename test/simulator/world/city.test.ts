import assert from "node:assert/strict";
import fc from "fast-check";
import { DAY_MS, HOUR_MS } from "../../../simulator/src/world/calendar.ts";
import { City, type CityNode } from "../../../simulator/src/world/city.ts";

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
      const allowed = { air: ["co2High", "aqiUnhealthy", "pmSpike"], water: ["leak", "burst", "away"], bin: ["full", "collection", "tipped", "lidOpen"], drain: ["rapidRise", "full", "flood", "obstruction"] }[n.kind];
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
});
