import assert from "node:assert/strict";
import fc from "fast-check";
import { DAY_MS, HOUR_MS, MINUTE_MS, SECOND_MS } from "../../../simulator/src/world/calendar.ts";
import { WaterDemand } from "../../../simulator/src/world/water-demand.ts";

const time = fc.integer({ min: 0, max: 60 * DAY_MS });

describe("world: water demand", () => {
  it("is deterministic in any query order and differs between seeds", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e6 }), fc.array(time, { minLength: 10, maxLength: 60 }), (seed, ts) => {
        const a = new WaterDemand({ seed, occupants: 3 });
        const b = new WaterDemand({ seed, occupants: 3 });
        const va = ts.map((t) => a.flowLMin(t));
        const vb = ts.slice().reverse().map((t) => b.flowLMin(t)).reverse();
        assert.deepEqual(va, vb);
        // (Without absences, which could empty both households' days.)
        const ua = new WaterDemand({ seed, occupants: 3, randomIncidents: false }).uses(0, 3 * DAY_MS).map((u) => u.startMs);
        const ub = new WaterDemand({ seed: seed + 1, occupants: 3, randomIncidents: false }).uses(0, 3 * DAY_MS).map((u) => u.startMs);
        assert.notDeepEqual(ua, ub);
      }),
      { numRuns: 30 },
    );
  });

  it("never gives a negative flow, and flows are whole mL/min", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e6 }), time, (seed, t) => {
        const w = new WaterDemand({ seed, leaksPerYear: 20, burstsPerYear: 20 });
        const f = w.flowLMin(t);
        assert.ok(f >= 0 && f < 200);
        assert.equal(Math.round(f * 1000), Math.round(f * 1000 * 1e6) / 1e6);
      }),
      { numRuns: 300 },
    );
  });

  it("is near zero at night without leaks: the 02:00–05:00 minimum is 0 every night", () => {
    let nights = 0;
    let sum = 0;
    let n = 0;
    for (let seed = 0; seed < 20; seed++) {
      const w = new WaterDemand({ seed, randomIncidents: false });
      for (let d = 0; d < 14; d++) {
        let min = Infinity;
        for (let t = d * DAY_MS + 2 * HOUR_MS; t < d * DAY_MS + 5 * HOUR_MS; t += 10 * SECOND_MS) {
          const f = w.flowLMin(t);
          min = Math.min(min, f);
          sum += f;
          n++;
        }
        assert.equal(min, 0);
        nights++;
      }
    }
    console.log(`      ${nights} nights, mean night flow ${(sum / n * 1000).toFixed(1)} mL/min`);
    assert.ok(sum / n < 0.05);
  });

  it("has household volumes of 80–160 L per person a day, morning and evening peaks, and a different weekend", () => {
    const hourWeekday = new Float64Array(24);
    const hourWeekend = new Float64Array(24);
    let weekday = 0;
    let weekend = 0;
    let people = 0;
    const HOUSES = 80;
    for (let seed = 0; seed < HOUSES; seed++) {
      const w = new WaterDemand({ seed, randomIncidents: false });
      people += w.occupants;
      for (let d = 0; d < 28; d++) {
        const isWeekend = d % 7 >= 5;
        const v = w.volumeL(d * DAY_MS, (d + 1) * DAY_MS);
        if (isWeekend) weekend += v;
        else weekday += v;
        for (let h = 0; h < 24; h++) (isWeekend ? hourWeekend : hourWeekday)[h] += w.volumeL(d * DAY_MS + h * HOUR_MS, d * DAY_MS + (h + 1) * HOUR_MS);
      }
    }
    const perPersonWeekday = weekday / 20 / people;
    const perPersonWeekend = weekend / 8 / people;
    console.log(`      ${(perPersonWeekday).toFixed(0)} L per person on weekdays, ${(perPersonWeekend).toFixed(0)} L at weekends`);
    assert.ok(perPersonWeekday > 80 && perPersonWeekday < 160);
    assert.ok(perPersonWeekend > perPersonWeekday * 1.04, "more water at weekends");
    const wd = (h: number) => hourWeekday[h] / 20;
    const we = (h: number) => hourWeekend[h] / 8;
    assert.ok(wd(6) > 2 * we(6), "weekday mornings start earlier");
    assert.ok(we(10) > 1.5 * wd(10), "weekend late mornings are busier");
    assert.ok(wd(7) > 3 * wd(3) && wd(20) > 3 * wd(3), "morning and evening peaks over the night");
    assert.ok(wd(3) < 0.05 * wd(7));
  });

  it("keeps the flow at or above every leak's and burst's flow while it lasts", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e6 }), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 5, maxLength: 20 }), (seed, us) => {
        const w = new WaterDemand({ seed, leaksPerYear: 30, burstsPerYear: 30 });
        const { leaks, bursts } = w.groundTruth(0, 30 * DAY_MS);
        for (const inc of [...leaks, ...bursts]) {
          const from = Math.max(inc.startMs, 0);
          const to = Math.min(inc.endMs, 30 * DAY_MS);
          for (const u of us) {
            const t = from + u * (to - from - 1);
            assert.ok(w.flowLMin(t) >= inc.flowLMin, `flow ${w.flowLMin(t)} below ${inc.flowLMin} at ${t}`);
          }
        }
      }),
      { numRuns: 40 },
    );
  });

  it("plays scripted leaks, bursts and absences, and stops all use while away", () => {
    const leak = { startMs: 2 * DAY_MS + 14 * HOUR_MS, endMs: 9 * DAY_MS, flowLMin: 0.04 };
    const burst = { startMs: 5 * DAY_MS + 13 * HOUR_MS, endMs: 5 * DAY_MS + 15 * HOUR_MS, flowLMin: 40 };
    const away = { startMs: 10 * DAY_MS + 9 * HOUR_MS, endMs: 15 * DAY_MS + 18 * HOUR_MS };
    const w = new WaterDemand({ seed: 3, occupants: 2, randomIncidents: false, leaks: [leak], bursts: [burst], away: [away] });
    const truth = w.groundTruth(0, 20 * DAY_MS);
    assert.deepEqual(truth.leaks.map((l) => [l.startMs, l.endMs, l.flowLMin]), [[leak.startMs, leak.endMs, 0.04]]);
    assert.deepEqual(truth.bursts.map((l) => [l.startMs, l.endMs, l.flowLMin]), [[burst.startMs, burst.endMs, 40]]);
    assert.deepEqual(truth.away, [away]);
    for (let t = 3 * DAY_MS + 2 * HOUR_MS; t < 3 * DAY_MS + 5 * HOUR_MS; t += MINUTE_MS) assert.ok(w.flowLMin(t) >= 0.04);
    assert.ok(w.flowLMin(burst.startMs + HOUR_MS) >= 40);
    for (let t = away.startMs + 2 * HOUR_MS; t < away.endMs; t += 10 * SECOND_MS) assert.equal(w.flowLMin(t), 0);
    assert.equal(w.uses(away.startMs + HOUR_MS, away.endMs).length, 0);
    assert.ok(w.uses(away.endMs, away.endMs + DAY_MS).length > 5);
    const events = w.events(0, 20 * DAY_MS);
    assert.deepEqual(events.map((e) => e.kind).sort(), ["away", "burst", "leak", "noFlow"]);
    // No water from the day the household left: 72 h of it is a meter gone quiet, until they come back.
    const quiet = events.find((e) => e.kind === "noFlow")!;
    assert.deepEqual([quiet.startMs, quiet.endMs], [away.startMs + 72 * HOUR_MS, away.endMs]);
    assert.deepEqual(w.events(0, 20 * DAY_MS, 200).filter((e) => e.kind === "noFlow"), [], "an absence shorter than the quiet time");
  });

  it("noFlow: stretches of an absence without a leak or burst, from the quiet time after they began", () => {
    const H = HOUR_MS;
    const away = { startMs: 2 * DAY_MS, endMs: 12 * DAY_MS };
    // A leak from day 5 to day 6 and a burst on day 9 split the absence into three quiet stretches: 3 d, 3 d and 3 d − 2 h.
    const leak = { startMs: 5 * DAY_MS, endMs: 6 * DAY_MS, flowLMin: 0.05 };
    const burst = { startMs: 9 * DAY_MS, endMs: 9 * DAY_MS + 2 * H, flowLMin: 30 };
    const w = new WaterDemand({ seed: 8, randomIncidents: false, leaks: [leak], bursts: [burst], away: [away] });
    const spans = (q: number) => w.noFlow(0, 20 * DAY_MS, q * H).map((i) => [i.startMs / H, i.endMs / H]);
    assert.deepEqual(spans(48), [[48 + 48, 120], [144 + 48, 216], [218 + 48, 288]]);
    assert.deepEqual(spans(71), [[48 + 71, 120], [144 + 71, 216]]);
    assert.deepEqual(spans(72), []);
    // Asked for a window, it gives the events overlapping it, whole, even when their quiet time began before it.
    assert.deepEqual(w.noFlow(100 * H, 110 * H, 48 * H).map((i) => [i.startMs / H, i.endMs / H]), [[96, 120]]);
    assert.deepEqual(w.noFlow(121 * H, 190 * H, 48 * H), []);
    // A meter installed during the absence counts from its installation.
    assert.deepEqual(w.noFlow(0, 20 * DAY_MS, 48 * H, 60 * H).map((i) => [i.startMs / H, i.endMs / H])[0], [60 + 48, 120]);
    assert.deepEqual(w.noFlow(0, 20 * DAY_MS, 48 * H, 96 * H).map((i) => i.startMs / H)[0], 144 + 48);
  });

  it("noFlow: the meter sees no water at all through each event and the quiet time before it", () => {
    let found = 0;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e6 }), (seed) => {
        const w = new WaterDemand({ seed, awayPerYear: 40, leaksPerYear: 6, burstsPerYear: 6 });
        for (const q of w.noFlow(0, 120 * DAY_MS, 48 * HOUR_MS)) {
          found++;
          assert.ok(q.endMs > q.startMs);
          // Uses under way when the household left may run for a few minutes into the absence.
          for (let t = q.startMs - 47 * HOUR_MS; t < q.endMs; t += 5 * MINUTE_MS) assert.equal(w.flowLMin(t), 0, `flow at ${t} in ${JSON.stringify(q)}`);
        }
      }),
      { numRuns: 25 },
    );
    assert.ok(found > 50, `${found} quiet stretches checked`);
  });

  it("integrates to the same volume as the flow it reports", () => {
    const w = new WaterDemand({ seed: 17, occupants: 4 });
    let sum = 0;
    for (let t = 2 * DAY_MS; t < 3 * DAY_MS; t += SECOND_MS) sum += w.flowLMin(t) / 60;
    const exact = w.volumeL(2 * DAY_MS, 3 * DAY_MS);
    assert.ok(Math.abs(sum - exact) < 0.01 * exact + 0.5, `${sum} vs ${exact}`);
  });
});
