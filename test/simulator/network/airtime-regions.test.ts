import assert from "node:assert/strict";
import { formatAirtime, loraAirtimeMs, uplinkAirtimeMs, JOIN_REQUEST_BYTES } from "../../../simulator/src/network/airtime.ts";
import {
  REGIONS,
  airtimeAtDr,
  bandClosedMs,
  decodeCfList,
  encodeCfList,
  joinDutyCycle,
  maxPayload,
  rx1Dr,
  rx1Frequency,
  subBandOf,
  type RegionName,
} from "../../../simulator/src/network/regions.ts";

describe("network: time on air (Semtech AN1200.13)", () => {
  it("matches the check values for a 24-byte PHY payload", () => {
    const at = (sf: number) => loraAirtimeMs(24, { spreadingFactor: sf, bandwidthHz: 125_000 });
    assert.equal(at(7), 61.696);
    assert.equal(at(10), 370.688);
    assert.equal(at(12), 1482.752);
  });

  it("gives the uplink table for 11, 17 and 51 application bytes (PHY = app + 13)", () => {
    const table = [11, 17, 51].map((n) => [7, 10, 12].map((sf) => uplinkAirtimeMs(n, sf)));
    assert.deepEqual(table, [
      [61.696, 370.688, 1482.752],
      [71.936, 452.608, 1646.592],
      [118.016, 698.368, 2793.472],
    ]);
  });

  it("switches low-data-rate optimisation on at SF11/12 only at 125 kHz", () => {
    // SF12 at 250 kHz has a 16.384 ms symbol: LDRO on. SF11 at 250 kHz: 8.192 ms, off.
    const withLdro = loraAirtimeMs(30, { spreadingFactor: 11, bandwidthHz: 125_000 });
    const without = loraAirtimeMs(30, { spreadingFactor: 11, bandwidthHz: 125_000, lowDataRateOptimize: false });
    assert.ok(withLdro > without, "LDRO costs symbols at SF11/125");
    assert.equal(loraAirtimeMs(30, { spreadingFactor: 7, bandwidthHz: 125_000 }), loraAirtimeMs(30, { spreadingFactor: 7, bandwidthHz: 125_000, lowDataRateOptimize: false }));
  });

  it("grows by whole symbol groups and never shrinks with more bytes", () => {
    let last = 0;
    for (let n = 0; n <= 255; n++) {
      const t = loraAirtimeMs(n, { spreadingFactor: 9, bandwidthHz: 125_000 });
      assert.ok(t >= last, `${n} bytes`);
      last = t;
    }
  });

  it("formats consumed_airtime like The Things Stack", () => {
    assert.equal(formatAirtime(61.696), "0.061696s");
    assert.equal(formatAirtime(1482.752), "1.482752s");
    assert.equal(formatAirtime(2000), "2s");
  });

  it("prices a join request at DR0 EU868 like an SF12 frame of 23 bytes", () => {
    assert.equal(airtimeAtDr(REGIONS.EU868, 0, JOIN_REQUEST_BYTES), loraAirtimeMs(23, { spreadingFactor: 12, bandwidthHz: 125_000 }));
    // Downlinks carry no payload CRC: 16 bits fewer.
    assert.ok(airtimeAtDr(REGIONS.EU868, 5, 30, false) <= airtimeAtDr(REGIONS.EU868, 5, 30, true));
  });
});

describe("network: regional parameters (RP002-1.0.1)", () => {
  it("has the maximum application payload per data rate", () => {
    const limits = (r: RegionName, drs: number[]) => drs.map((dr) => maxPayload(REGIONS[r], dr));
    assert.deepEqual(limits("EU868", [0, 1, 2, 3, 4, 5, 6, 7]), [51, 51, 51, 115, 222, 222, 222, 222]);
    assert.deepEqual(limits("US915", [0, 1, 2, 3, 4]), [11, 53, 125, 222, 222]);
    assert.deepEqual(limits("AU915", [0, 1, 2, 3, 4, 5, 6]), [51, 51, 51, 115, 222, 222, 222]);
    assert.deepEqual(limits("AS923", [0, 1, 2, 3, 4, 5, 6, 7]), [51, 51, 115, 115, 222, 222, 222, 222]);
    assert.equal(maxPayload(REGIONS.US915, 5), 0, "US915 DR5 is RFU");
  });

  it("maps data rates to spreading factor and bandwidth", () => {
    const sfbw = (r: RegionName, dr: number) => [REGIONS[r].dataRates[dr]?.spreadingFactor, REGIONS[r].dataRates[dr]?.bandwidthHz];
    assert.deepEqual(sfbw("EU868", 0), [12, 125_000]);
    assert.deepEqual(sfbw("EU868", 6), [7, 250_000]);
    assert.equal(REGIONS.EU868.dataRates[7]?.modulation, "FSK");
    assert.deepEqual(sfbw("US915", 0), [10, 125_000]);
    assert.deepEqual(sfbw("US915", 4), [8, 500_000]);
    assert.deepEqual(sfbw("AU915", 6), [8, 500_000]);
    assert.deepEqual(sfbw("AS923", 2), [10, 125_000]);
  });

  it("has the default channels and receive windows", () => {
    assert.deepEqual(
      REGIONS.EU868.defaultChannels.map((c) => c.frequencyHz),
      [868_100_000, 868_300_000, 868_500_000],
    );
    assert.equal(REGIONS.EU868.rx2FrequencyHz, 869_525_000);
    assert.equal(REGIONS.EU868.rx2Dr, 0);
    assert.equal(REGIONS.US915.uplinkChannels.length, 72);
    assert.equal(REGIONS.US915.defaultChannels[0].frequencyHz, 903_900_000, "sub-band 2 starts at channel 8");
    assert.equal(REGIONS.AS923.rx2Dr, 2);
    for (const r of Object.values(REGIONS)) {
      assert.equal(r.receiveDelay1Ms, 1000);
      assert.equal(r.joinAcceptDelay2Ms, 6000);
    }
  });

  it("computes RX1 data rate and frequency", () => {
    assert.equal(rx1Dr(REGIONS.EU868, 5, 0), 5);
    assert.equal(rx1Dr(REGIONS.EU868, 1, 3), 0);
    assert.equal(rx1Dr(REGIONS.US915, 0, 0), 10);
    assert.equal(rx1Dr(REGIONS.US915, 4, 0), 13);
    assert.equal(rx1Dr(REGIONS.US915, 0, 3), 8);
    assert.equal(rx1Dr(REGIONS.AU915, 5, 0), 13);
    assert.equal(rx1Frequency(REGIONS.EU868, 868_300_000), 868_300_000);
    assert.equal(rx1Frequency(REGIONS.US915, 903_900_000), 923_300_000);
    assert.equal(rx1Frequency(REGIONS.US915, 905_300_000), 927_500_000);
  });

  it("puts EU868 frequencies in their duty-cycle sub-bands", () => {
    const dc = (hz: number) => subBandOf(REGIONS.EU868, hz)?.dutyCycle;
    assert.equal(dc(868_100_000), 0.01);
    assert.equal(dc(868_500_000), 0.01);
    assert.equal(dc(869_525_000), 0.1);
    assert.equal(dc(867_100_000), 0.01);
    assert.equal(dc(864_000_000), 0.001);
    assert.equal(dc(868_800_000), 0.001);
    assert.equal(dc(869_300_000), undefined);
    assert.equal(subBandOf(REGIONS.US915, 903_900_000), undefined);
    assert.ok(Math.abs(bandClosedMs(61.696, 0.01) - 6169.6) < 1e-6, "1 % of 61.696 ms closes the band for 6.1696 s from the start");
  });

  it("backs joins off to 1 %, 0.1 % then 0.01 %", () => {
    assert.equal(joinDutyCycle(0), 0.01);
    assert.equal(joinDutyCycle(3_599_999), 0.01);
    assert.equal(joinDutyCycle(3_600_000), 0.001);
    assert.equal(joinDutyCycle(11 * 3_600_000), 0.0001);
  });

  it("round-trips a CFList", () => {
    const f = [867_100_000, 867_300_000, 867_500_000, 867_700_000, 867_900_000];
    assert.deepEqual(decodeCfList(encodeCfList(f)), f);
  });
});
