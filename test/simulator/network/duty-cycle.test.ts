import assert from "node:assert/strict";
import { subBandOf, REGIONS } from "../../../simulator/src/network/regions.ts";
import { AIR_READING_HEX, idleUntil, join, modemOn, quietNetwork, send, setUp, type ModemKind } from "./fixtures.ts";

const REFUSED = { "wio-e5": "+MSGHEX: No free channel", rak3172: "AT_BUSY_ERROR" } as const;
const DONE = { "wio-e5": /^\+MSGHEX: Done$/, rak3172: /^\+EVT:TX_DONE$/ } as const;

for (const kind of ["wio-e5", "rak3172"] as const satisfies readonly ModemKind[]) {
  describe(`network: ${kind} EU868 duty cycle`, () => {
    it("refuses back-to-back uplinks until the 1 % sub-band reopens, then sends", () => {
      const net = quietNetwork();
      const h = modemOn(net, kind, `${kind}-dc`);
      setUp(h, kind);
      join(h, kind);
      // The join request itself closed the sub-band for 100 × its airtime.
      const j = net.uplinks[0].tx;
      assert.deepEqual(send(h, kind, AIR_READING_HEX).slice(-1), [REFUSED[kind]]);
      idleUntil(h, j.startMs + 100 * j.airtimeMs);
      assert.match(send(h, kind, AIR_READING_HEX).at(-1)!, DONE[kind]);

      const first = net.uplinks[1].tx;
      assert.equal(first.airtimeMs, 61.696);
      const reopens = first.startMs + 100 * first.airtimeMs; // 6.17 s after the start
      // Right after the transaction, and still 200 ms before the band reopens: refused, nothing transmitted.
      assert.deepEqual(send(h, kind, AIR_READING_HEX).slice(-1), [REFUSED[kind]]);
      idleUntil(h, reopens - 200);
      assert.deepEqual(send(h, kind, AIR_READING_HEX).slice(-1), [REFUSED[kind]]);
      assert.equal(net.uplinks.length, 2);
      idleUntil(h, reopens);
      assert.match(send(h, kind, AIR_READING_HEX).at(-1)!, DONE[kind]);
      const second = net.uplinks[2].tx;
      assert.ok(second.startMs >= reopens && second.startMs < reopens + 100, `sent ${second.startMs - reopens} ms after the band reopened`);
    });
  });
}

describe("network: duty cycle per sub-band", () => {
  it("with the CFList channels a second sub-band is free; when both are closed the modem refuses", () => {
    const net = quietNetwork({ server: { cfListHz: [867_100_000, 867_300_000, 867_500_000, 867_700_000, 867_900_000] } });
    const h = modemOn(net, "wio-e5", "cflist");
    setUp(h, "wio-e5");
    join(h, "wio-e5");
    const LONG = "00".repeat(51); // 118 ms at SF7: each uplink closes its sub-band for 11.8 s
    assert.equal(h.modem.device.channels().length, 8, "3 default + 5 CFList channels");
    assert.match(h.command("AT+CH", /CH/)[0], /^\+CH: 8; 0,868100000,DR0,DR5; .*867900000,DR0,DR5;$/);
    // The join used one of the three default channels (868.0–868.6), which stay closed for 6.2 s: the first uplink
    // must take a 867 MHz channel (865–868); the next one finds 868.0–868.6 open again; then both are closed.
    assert.equal(send(h, "wio-e5", LONG).at(-1), "+MSGHEX: Done");
    assert.equal(send(h, "wio-e5", LONG).at(-1), "+MSGHEX: Done");
    const bands = net.uplinks.map((u) => subBandOf(REGIONS.EU868, u.tx.frequencyHz)!.name);
    assert.deepEqual(bands, ["868.0-868.6", "865-868", "868.0-868.6"]);
    assert.equal(send(h, "wio-e5", LONG).at(-1), "+MSGHEX: No free channel");
    const reopen = Math.min(...net.uplinks.slice(1).map((u) => u.tx.startMs + 100 * u.tx.airtimeMs));
    idleUntil(h, reopen);
    assert.equal(send(h, "wio-e5", LONG).at(-1), "+MSGHEX: Done");
  });

  it("a gateway answering an SF12 device uses RX2 when its RX1 sub-band budget is spent", () => {
    // 36 s per hour in the 1 % sub-band: SF12 ACKs of ~1.2 s exhaust it; RX2 (10 %) takes over.
    const net = quietNetwork();
    const g = net.gateways[0];
    for (let t = 0; t < 30; t++) g.reserve(t * 2000, 1200, 868_100_000);
    assert.equal(g.canTransmit(70_000, 1200, 868_300_000), false, "868.0–868.6 MHz is at its 1 % limit");
    assert.equal(g.canTransmit(70_000, 1200, 869_525_000), true, "869.4–869.65 MHz still has its 10 %");
    assert.equal(g.canTransmit(3_700_000, 1200, 868_300_000), true, "an hour later the budget is back");
  });
});
