/**
 * Long runs of the link against the fake modem, checked against the modem's
 * own books (its float airtime, its frame counters): a 7-day outage, and 30
 * days at each EU868 data rate DR0–DR5 with faults. Prints the airtime figures
 * per node type and the queue capacity.
 */
import assert from "node:assert/strict";
import { encodeRecord } from "../../../codecs/src/codec.ts";
import { uplinkAirtimeAt } from "../../../firmware/src/link/regions.ts";
import { DEFAULT_QUEUE_PAGES, RECORDS_PER_PAGE } from "../../../firmware/src/link/uplink-queue.ts";
import type { ModemDownlink } from "../../../firmware/src/drivers/lora-modem.ts";
import type { TxRecord } from "./fake-modem.ts";
import { LinkRig, arrivals, waterAlarm, waterReading } from "./harness.ts";

const MIN = 60000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

/** Largest airtime (ms) in any 24 h window, from the modem's log. */
function maxDailyAirtimeMs(txs: TxRecord[]): number {
  let max = 0;
  let lo = 0;
  let sum = 0;
  for (let hi = 0; hi < txs.length; hi++) {
    sum += txs[hi].airtimeMs;
    while (txs[lo].startMs <= txs[hi].startMs - DAY) sum -= txs[lo++].airtimeMs;
    if (sum > max) max = sum;
  }
  return max;
}

/** Largest number of downlinks the network sent in any 24 h window. */
function maxDailyDownlinks(txs: TxRecord[]): number {
  const d = txs.filter((t) => t.downlinkSent);
  let max = 0;
  let lo = 0;
  for (let hi = 0; hi < d.length; hi++) {
    while (d[lo].startMs <= d[hi].startMs - DAY) lo++;
    max = Math.max(max, hi - lo + 1);
  }
  return max;
}

/** Every transmission waited the 1 % off time of the one before (all on the 868.0–868.6 MHz sub-band). */
function checkDutyCycle(txs: TxRecord[]): void {
  for (let i = 1; i < txs.length; i++) {
    const p = txs[i - 1];
    assert.ok(txs[i].startMs >= p.startMs + p.airtimeMs * 100 - 1e-6, `tx at ${txs[i].startMs} inside the off time of the one at ${p.startMs}`);
  }
}

/** Join airtime per procedure (a procedure starts at the first join-request after power-on or after a join succeeded). */
function checkJoinBackoff(txs: TxRecord[]): void {
  const joins = txs.filter((t) => t.kind === "join");
  let start = 0;
  while (start < joins.length) {
    let end = start;
    while (end < joins.length && !joins[end].acked) end++;
    const proc = joins.slice(start, Math.min(end + 1, joins.length));
    const t0 = proc[0].startMs;
    const sum = (from: number, to: number) => proc.filter((j) => j.startMs >= from && j.startMs < to).reduce((s, j) => s + j.airtimeMs, 0);
    assert.ok(sum(t0, t0 + HOUR) <= 36000, "first hour");
    assert.ok(sum(t0 + HOUR, t0 + 11 * HOUR) <= 36000, "next 10 hours");
    for (const j of proc) if (j.startMs >= t0 + 11 * HOUR) assert.ok(sum(Math.max(t0 + 11 * HOUR, j.startMs - DAY + 1), j.startMs + 1) <= 8700, "24 h after 11 h");
    start = end + 1;
  }
}

function checkFCnt(txs: TxRecord[]): void {
  const last = new Map<number, number>();
  for (const t of txs) {
    if (t.kind !== "data") continue;
    assert.ok((last.get(t.session) ?? -1) < t.fCnt, `FCnt ${t.fCnt} reused in session ${t.session}`);
    last.set(t.session, t.fCnt);
  }
}

const statusBuf = new Uint8Array(51);
function statusMessage(): Uint8Array {
  const n = encodeRecord(10, { batteryMv: 3600, fwMajor: 0, fwMinor: 1, fwPatch: 0, uptimeS: 1000, resetReason: 4, nodeType: 1, queueDepth: 0, queueDropped: 0, configSeq: 0, sensorFaults: [] }, statusBuf, 0, 51);
  return statusBuf.slice(0, n);
}

describe("link long runs", function () {
  this.timeout(600000);

  it("a 7-day outage: every reading accepted before and during it arrives after it, in order, none lost", () => {
    let outageFrom = 0;
    let outageTo = 0;
    const rig = new LinkRig({ seed: 707, dataRate: 5, outage: (ms) => ms >= outageFrom && ms < outageTo });
    outageFrom = 2 * DAY + rig.rng.int(0, 4 * HOUR);
    outageTo = outageFrom + 7 * DAY;
    const submitted = new Map<number, number>();
    let id = 0;
    let dropped = 0;
    while (rig.nowMs < outageTo + 4 * DAY) {
      const start = rig.nowMs;
      rig.wake((link) => {
        if (start < outageTo + 3 * DAY) {
          assert.equal(link.submit(4, waterReading(++id), 11, "routine"), true);
          submitted.set(id, start);
        }
        link.flush();
        dropped = link.dropped();
      });
      rig.sleepUntil(start + 15 * MIN);
    }
    assert.equal(dropped, 0);
    const got = arrivals(rig.modem.delivered);
    const firstSeen = new Map<number, number>();
    const dupes: number[] = [];
    got.forEach((a, i) => (firstSeen.has(a.id) ? dupes.push(a.id) : firstSeen.set(a.id, i)));
    // Nothing lost.
    for (const [r] of submitted) assert.ok(firstSeen.has(r), `reading ${r} lost`);
    // In order: first arrivals in the order of acceptance.
    const order = [...firstSeen.keys()];
    for (let i = 1; i < order.length; i++) assert.ok(order[i] > order[i - 1]);
    // Measurement times come back right from the ages (±2 s), even after 7 days in the queue.
    for (const a of got) assert.ok(Math.abs(a.measuredMs - submitted.get(a.id)!) <= 2000 + 15 * MIN * (a.port === 4 ? 1 : 0), `reading ${a.id}`);
    // Readings accepted during the outage (or not yet sent when it began) arrive exactly once, all after it.
    const deliveredAt = new Map<number, number>();
    for (const d of rig.modem.delivered) for (const a of arrivals([d])) if (!deliveredAt.has(a.id)) deliveredAt.set(a.id, d.atMs);
    const during = [...submitted].filter(([, t]) => t >= outageFrom && t < outageTo).map(([r]) => r);
    assert.ok(during.length >= 670);
    for (const r of during) {
      assert.ok(deliveredAt.get(r)! >= outageTo, `reading ${r} arrived during the outage`);
      assert.ok(!dupes.includes(r), `reading ${r} duplicated`);
    }
    // Copies arrive twice only for readings sent unconfirmed between the last ACK and the outage, which the
    // network heard before it: re-sent because the link cannot know which of them the outage swallowed.
    const lastAckBefore = Math.max(...rig.modem.txs.filter((t) => t.acked && t.startMs < outageFrom).map((t) => t.startMs));
    for (const r of dupes) assert.ok(submitted.get(r)! >= lastAckBefore - 24 * HOUR && deliveredAt.get(r)! < outageFrom, `duplicate ${r}`);
    const backlogDone = Math.max(...during.map((r) => deliveredAt.get(r)!));
    const txs = rig.modem.txs;
    checkDutyCycle(txs);
    assert.ok(maxDailyAirtimeMs(txs) <= 30000);
    assert.ok(maxDailyDownlinks(txs) <= 10);
    checkFCnt(txs);
    console.log(`      outage ${((outageTo - outageFrom) / DAY).toFixed(0)} days from day ${(outageFrom / DAY).toFixed(2)}: ${submitted.size} readings, ${during.length} during it; its backlog delivered ${((backlogDone - outageTo) / HOUR).toFixed(1)} h after it ended; ${dupes.length} pre-outage readings re-sent (unverified window); ${rig.modem.txs.filter((t) => t.confirmed && t.startMs >= outageFrom && t.startMs < outageTo).length} probes during it`);
  });

  const report: string[] = [];
  for (let dr = 0; dr <= 5; dr++) {
    it(`30 days at EU868 DR${dr}: fair use, duty cycle, join back-off and frame counters hold; nothing lost`, () => {
      let outageFrom = 10 * DAY;
      let outageTo = outageFrom + 12 * HOUR;
      const rig: LinkRig = new LinkRig({
        seed: 3000 + dr,
        dataRate: dr,
        joinAfter: 3,
        ackLossProbability: 0.05,
        outage: (ms) => ms >= outageFrom && ms < outageTo,
        // The network sends a command now and then (about every third day).
        downlinkFor: (): ModemDownlink | undefined => (rig.rng.next() < 0.004 ? { port: 25, bytes: Uint8Array.of(0), rssi: -100, snr: 3 } : undefined),
      });
      outageFrom += rig.rng.int(0, DAY);
      outageTo = outageFrom + 12 * HOUR;
      const accepted: number[] = [];
      const alarms: number[] = [];
      let id = 0;
      let nextStatus = 0;
      let intervalS = 900;
      let dropped = 0;
      let wakes = 0;
      const days = 30;
      while (rig.nowMs < days * DAY) {
        const start = rig.nowMs;
        if (rig.rng.next() < 0.02) rig.modem.script.push(rig.rng.next() < 0.5 ? "busy" : "no-channel");
        if (rig.rng.next() < 0.003) rig.modem.script.push("timeout");
        if (Math.floor(start / DAY) !== Math.floor((start - intervalS * 1000) / DAY) && [5, 20].includes(Math.floor(start / DAY))) rig.modem.reboot();
        rig.wake((link) => {
          wakes++;
          if (link.submit(4, waterReading(++id), 11, "routine")) accepted.push(id);
          if (start >= nextStatus) {
            link.submit(10, statusMessage(), 13, "status");
            nextStatus += DAY;
          }
          if (rig.rng.next() < 0.01) {
            const a = 500000 + id;
            if (link.submit(5, waterAlarm(a), 15, "alarm")) alarms.push(a);
          }
          link.flush();
          while (link.takeDownlink());
          intervalS = link.routineIntervalS(900, 4);
          dropped = link.dropped();
        });
        rig.sleepUntil(start + intervalS * 1000);
      }
      // Drain: two more days without new readings.
      const end = rig.nowMs + 2 * DAY;
      while (rig.nowMs < end) {
        const start = rig.nowMs;
        rig.wake((link) => link.flush());
        rig.sleepUntil(start + intervalS * 1000);
      }
      const txs = rig.modem.txs;
      const airMax = maxDailyAirtimeMs(txs);
      const downMax = maxDailyDownlinks(txs);
      assert.ok(airMax <= 30000, `rolling 24 h airtime ${airMax} ms`);
      assert.ok(downMax <= 10, `rolling 24 h downlinks ${downMax}`);
      checkDutyCycle(txs);
      assert.equal(rig.modem.dutyRefusals, 0);
      checkJoinBackoff(txs);
      checkFCnt(txs);
      assert.equal(dropped, 0, "the stretched interval keeps the queue from overflowing");
      const seen = new Set(arrivals(rig.modem.delivered).map((a) => a.id));
      for (const r of accepted) assert.ok(seen.has(r), `reading ${r} lost`);
      const alarmSeen = new Set(rig.modem.delivered.filter((d) => d.port === 5).map((d) => d.bytes.join(",")));
      assert.equal(alarmSeen.size >= new Set(alarms).size, true);
      const data = txs.filter((t) => t.kind === "data");
      const airPerDay = data.reduce((s, t) => s + t.airtimeMs, 0) / (days + 2);
      report.push(`DR${dr} (SF${12 - dr}): interval ${intervalS} s, ${accepted.length} readings in ${wakes} wakes, ${data.length} uplinks (${data.filter((t) => t.port === 6).length} batches, ${data.filter((t) => t.confirmed).length} confirmed), ${txs.filter((t) => t.kind === "join").length} joins; airtime ${(airPerDay / 1000).toFixed(1)} s/day avg, max rolling 24 h ${(airMax / 1000).toFixed(1)} s; max downlinks/24 h ${downMax}; ${(rig.board.flashWrites / (days + 2)).toFixed(0)} flash writes/day`);
    });
  }

  after(() => {
    if (report.length) console.log("      30-day runs (water node, 12 h outage, 2 modem reboots, busy/no-channel/timeout faults, 5 % ACK loss):\n" + report.map((l) => "        " + l).join("\n"));
  });

  it("prints airtime per day per node type at SF7, SF10 and SF12, and the queue capacity", () => {
    const lines: string[] = [];
    const types = [
      { name: "air", bytes: 11, intervalS: 900, batchEntry: 14, maxEntries: 3 },
      { name: "water", bytes: 11, intervalS: 900, batchEntry: 14, maxEntries: 3 },
      { name: "level", bytes: 8, intervalS: 1800, batchEntry: 11, maxEntries: 4 },
    ];
    const statusBytes = 13;
    for (const [sf, dr] of [[7, 5], [10, 2], [12, 0]]) {
      for (const t of types) {
        const perDay = 86400 / t.intervalS;
        const single = uplinkAirtimeAt("EU868", dr, t.bytes);
        const status = uplinkAirtimeAt("EU868", dr, statusBytes);
        const totalMs = (perDay * single + status) / 1000;
        const batch = uplinkAirtimeAt("EU868", dr, t.maxEntries * t.batchEntry);
        const batchedMs = ((perDay / t.maxEntries) * batch + status) / 1000;
        lines.push(`SF${sf} ${t.name.padEnd(5)} ${t.bytes} B every ${t.intervalS / 60} min: ${(single / 1000).toFixed(1)} ms each, ${totalMs.toFixed(0).padStart(5)} ms/day with status (${((totalMs / 30000) * 100).toFixed(0)} % of 30 s); as batches of ${t.maxEntries}: ${batchedMs.toFixed(0)} ms/day`);
        assert.ok(Number.isFinite(totalMs));
      }
    }
    lines.push(`queue: ${DEFAULT_QUEUE_PAGES} pages × ${RECORDS_PER_PAGE} = ${DEFAULT_QUEUE_PAGES * RECORDS_PER_PAGE} routine readings (${((DEFAULT_QUEUE_PAGES * RECORDS_PER_PAGE) / 96).toFixed(1)} days at 15 min, ${((DEFAULT_QUEUE_PAGES * RECORDS_PER_PAGE) / 48).toFixed(1)} days at 30 min) + 16 alarm/ack/status slots`);
    console.log(lines.map((l) => "      " + l).join("\n"));
  });
});
