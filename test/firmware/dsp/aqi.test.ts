import assert from "node:assert/strict";
import fc from "fast-check";
import {
  EU_AQI_BANDS, euAqiBand, euAqiBandPm10, euAqiBandPm25, US_AQI_CATEGORIES, usAqi, usAqiCategory, usAqiPm10, usAqiPm25,
} from "../../../firmware/src/dsp/aqi.ts";
import { reportMaxError } from "./error-report.ts";

// The EPA table in µg/m³ and the EPA formula in floating point.
const AQI_BANDS = [[0, 50], [51, 100], [101, 150], [151, 200], [201, 300], [301, 500]];
const PM25_BP = [[0, 9.0], [9.1, 35.4], [35.5, 55.4], [55.5, 125.4], [125.5, 225.4], [225.5, 325.4]];
const PM10_BP = [[0, 54], [55, 154], [155, 254], [255, 354], [355, 424], [425, 604]];

function epaFloat(c: number, table: number[][]): number {
  const i = table.findIndex(([, hi]) => c <= hi);
  if (i < 0) return 500;
  const [bpLo, bpHi] = table[i];
  const [iLo, iHi] = AQI_BANDS[i];
  return Math.round(((iHi - iLo) / (bpHi - bpLo)) * (c - bpLo) + iLo);
}
const pm25Float = (tenths: number) => epaFloat(Math.trunc(tenths) / 10, PM25_BP);
const pm10Float = (tenths: number) => epaFloat(Math.floor(tenths / 10), PM10_BP);

function euFloat(ugm3: number, limits: number[]): number {
  return limits.filter((limit) => ugm3 > limit).length;
}
const eu25Float = (tenths: number) => euFloat(tenths / 10, [5, 15, 50, 90, 140]);
const eu10Float = (tenths: number) => euFloat(tenths / 10, [15, 45, 120, 195, 270]);

describe("dsp/aqi", () => {
  it("US PM2.5 sub-index equals the float EPA formula for every 0..500.0 µg/m³ in 0.1 steps", () => {
    let worst = 0;
    for (let tenths = 0; tenths <= 5000; tenths++) {
      const got = usAqiPm25(tenths);
      worst = Math.max(worst, Math.abs(got - pm25Float(tenths)));
      assert.equal(got, pm25Float(tenths), `PM2.5 ${tenths / 10}`);
    }
    reportMaxError("US AQI PM2.5 (exhaustive 0..5000 tenths)", worst, 0);
  });

  it("US PM10 sub-index equals the float EPA formula for every 0..604.0 µg/m³ in 0.1 steps and beyond", () => {
    let worst = 0;
    for (let tenths = 0; tenths <= 70000; tenths++) {
      const got = usAqiPm10(tenths);
      worst = Math.max(worst, Math.abs(got - pm10Float(tenths)));
      assert.equal(got, pm10Float(tenths), `PM10 ${tenths / 10}`);
    }
    reportMaxError("US AQI PM10 (exhaustive 0..70000 tenths)", worst, 0);
  });

  it("matches published breakpoints", () => {
    const cases25: [number, number][] = [[0, 0], [90, 50], [91, 51], [120, 56], [354, 100], [355, 101], [554, 150],
      [555, 151], [1254, 200], [1255, 201], [2254, 300], [2255, 301], [3254, 500], [3255, 500], [-10, 0]];
    for (const [tenths, aqi] of cases25) assert.equal(usAqiPm25(tenths), aqi, `PM2.5 ${tenths}`);
    const cases10: [number, number][] = [[549, 50], [550, 51], [1549, 100], [1550, 101], [6049, 500], [6050, 500], [0xffff, 500]];
    for (const [tenths, aqi] of cases10) assert.equal(usAqiPm10(tenths), aqi, `PM10 ${tenths}`);
    const categories: [number, number][] = [[0, 0], [50, 0], [51, 1], [100, 1], [101, 2], [150, 2], [151, 3], [200, 3], [201, 4], [300, 4], [301, 5], [500, 5]];
    for (const [aqi, category] of categories) assert.equal(usAqiCategory(aqi), category, `AQI ${aqi}`);
    assert.equal(US_AQI_CATEGORIES[usAqiCategory(usAqi(355, 0))], "unhealthy for sensitive groups");
  });

  it("European bands equal a float reference exhaustively, a value at a limit staying in the lower band", () => {
    let worst = 0;
    for (let tenths = 0; tenths <= 6040; tenths++) {
      worst = Math.max(worst, Math.abs(euAqiBandPm25(tenths) - eu25Float(tenths)), Math.abs(euAqiBandPm10(tenths) - eu10Float(tenths)));
      assert.equal(euAqiBandPm25(tenths), eu25Float(tenths), `PM2.5 ${tenths}`);
      assert.equal(euAqiBandPm10(tenths), eu10Float(tenths), `PM10 ${tenths}`);
    }
    assert.deepEqual([50, 51, 150, 151, 1400, 1401].map(euAqiBandPm25), [0, 1, 1, 2, 4, 5]);
    assert.deepEqual([150, 151, 2700, 2701].map(euAqiBandPm10), [0, 1, 4, 5]);
    assert.equal(EU_AQI_BANDS[euAqiBand(10, 300)], "fair");
    reportMaxError("EU AQI bands (exhaustive)", worst, 0);
  });

  it("overall indices are the worse of the two pollutants for random pairs", () => {
    const tenths = fc.oneof(fc.integer({ min: 0, max: 6500 }), fc.integer({ min: 0, max: 0xffff }));
    fc.assert(fc.property(tenths, tenths, (pm25, pm10) => {
      assert.equal(usAqi(pm25, pm10), Math.max(pm25Float(pm25), pm10Float(pm10)));
      assert.equal(euAqiBand(pm25, pm10), Math.max(eu25Float(pm25), eu10Float(pm10)));
    }), { numRuns: 5000 });
  });
});
