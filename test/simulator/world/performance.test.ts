import assert from "node:assert/strict";
import { DAY_MS } from "../../../simulator/src/world/calendar.ts";
import { Weather } from "../../../simulator/src/world/weather.ts";
import { AirQuality, RegionalAir } from "../../../simulator/src/world/air-quality.ts";
import { WaterDemand } from "../../../simulator/src/world/water-demand.ts";
import { Bin } from "../../../simulator/src/world/bins.ts";
import { Drain } from "../../../simulator/src/world/drains.ts";

const CALLS = 1_000_000;
/** A month of virtual time, so every call sees a new time (about 2.6 s apart). */
const SPAN_MS = 30 * DAY_MS;

/** Calls `f` CALLS times at increasing times from a fresh model (generation included); returns ms. */
function timeIt(f: (tMs: number) => unknown): number {
  const step = SPAN_MS / CALLS;
  let sink = 0;
  const t0 = performance.now();
  for (let i = 0; i < CALLS; i++) {
    const v = f(i * step);
    if (v !== undefined) sink++;
  }
  const ms = performance.now() - t0;
  assert.equal(sink, CALLS);
  return ms;
}

describe("world: performance (1e6 calls at increasing times over 30 days, fresh models)", function () {
  this.timeout(120000);
  const figures: string[] = [];
  after(() => console.log(`      ${figures.join("\n      ")}`));

  const cases: [string, () => (tMs: number) => unknown][] = [
    ["weather.at", () => {
      const w = new Weather({ seed: 1 });
      return (t) => w.at(t);
    }],
    ["air (roadside) at", () => {
      const w = new Weather({ seed: 1 });
      const a = new AirQuality({ seed: 2, weather: w, regional: new RegionalAir({ seed: 3, calendar: w.calendar }), spikesPer30Days: 5 });
      return (t) => a.at(t);
    }],
    ["air (indoor) at", () => {
      const w = new Weather({ seed: 1 });
      const a = new AirQuality({ seed: 2, weather: w, setting: "indoor" });
      return (t) => a.at(t);
    }],
    ["water flowLMin", () => new WaterDemand({ seed: 4, occupants: 5, leaksPerYear: 12, burstsPerYear: 12 }).flowLMin],
    ["bin target", () => new Bin({ seed: 5, weather: new Weather({ seed: 1 }), tipsPer30Days: 3, lidOpenPer30Days: 3 }).target],
    ["bin acceleration", () => new Bin({ seed: 5, weather: new Weather({ seed: 1 }), tipsPer30Days: 3, lidOpenPer30Days: 3 }).acceleration],
    ["drain target", () => new Drain({ seed: 6, weather: new Weather({ seed: 1, climate: { rainEventsPerDayWinter: 1.5 } }), obstructionsPer30Days: 3 }).target],
  ];
  for (const [name, make] of cases) {
    it(`${name} < 1 s`, () => {
      const ms = timeIt(make());
      figures.push(`${name.padEnd(20)} ${ms.toFixed(0).padStart(5)} ms per 1e6 calls (${((ms * 1e6) / CALLS).toFixed(0)} ns per call)`);
      assert.ok(ms < 1000, `${name}: ${ms.toFixed(0)} ms`);
    });
  }
});
