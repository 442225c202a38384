/** LoRaWanLink against the scripted fake modem: joins, faults, alarms, batching, data rates, downlinks. */
import assert from "node:assert/strict";
import { decodeUplink } from "../../../codecs/src/index.ts";
import { JOIN_FIRST_HOUR_MS } from "../../../firmware/src/link/join.ts";
import {
  LINK_RETAINED_WORDS as WORDS, LoRaWanLink, linkMaxPayload, retainedDataRate, retainedDropped, retainedJoined, retainedLinkWarm,
  retainedQueueDepth, retainedSnapshotDue,
} from "../../../firmware/src/link/session.ts";
import { Rng } from "../../../simulator/src/core/rng.ts";
import { RetainedState } from "../../../firmware/src/nodes/retained-state.ts";
import { powerCut } from "../../../simulator/src/platform/native-sleep.ts";
import { setCurrentBoard } from "../../../simulator/src/core/board.ts";
import { LinkRig, airReading, arrivals, levelReading, waterAlarm, waterReading } from "./harness.ts";

const MIN15 = 15 * 60000;

/** Runs `wakes` wakes of a water node every 15 min, submitting one reading each; returns the ids submitted. */
function run(rig: LinkRig, wakes: number, first = 1, each?: (wake: number) => void): number[] {
  const ids: number[] = [];
  for (let w = 0; w < wakes; w++) {
    each?.(w);
    const start = rig.nowMs;
    rig.wake((link) => {
      const id = first + w;
      assert.equal(link.submit(4, waterReading(id), 11, "routine"), true);
      ids.push(id);
      link.flush();
    });
    rig.sleepUntil(start + MIN15);
  }
  return ids;
}

function assertFCntsUnique(rig: LinkRig): void {
  const seen = new Set<string>();
  let last = new Map<number, number>();
  for (const t of rig.modem.txs) {
    if (t.kind !== "data") continue;
    const key = t.session + ":" + t.fCnt;
    assert.ok(!seen.has(key), "FCnt reused: " + key);
    seen.add(key);
    assert.ok((last.get(t.session) ?? -1) < t.fCnt, "FCnt went backwards in session " + t.session);
    last = last.set(t.session, t.fCnt);
  }
}

describe("link session against a scripted modem", () => {
  it("joins after several refused attempts with a randomised exponential back-off, then delivers in order", () => {
    const rig = new LinkRig({ seed: 11, joinAfter: 5 });
    const ids = run(rig, 12);
    const joins = rig.modem.txs.filter((t) => t.kind === "join");
    assert.equal(joins.length, 5);
    const gaps = joins.slice(1).map((j, i) => j.startMs - joins[i].startMs);
    // Each gap is at least the back-off's lower bound d/2 (d = 15 s · 2^(n−1)) and the 1 % off time.
    gaps.forEach((g, i) => assert.ok(g >= 7500 * 2 ** i, `gap ${i}: ${g} ms`));
    assert.equal(rig.modem.configures, rig.modem.txs.filter((t) => t.kind === "join").length > 0 ? rig.modem.configures : 0);
    const got = arrivals(rig.modem.delivered).map((a) => a.id);
    assert.deepEqual([...new Set(got)], ids);
  });

  it("retries after busy and no-channel at the next wake, as a batch with ages", () => {
    const rig = new LinkRig({ seed: 12 });
    run(rig, 1);
    rig.modem.script.push("busy");
    run(rig, 1, 2);
    rig.modem.script.push("no-channel");
    run(rig, 1, 3);
    assert.equal(arrivals(rig.modem.delivered).length, 1);
    run(rig, 1, 4);
    const last = rig.modem.delivered.at(-1)!;
    assert.equal(last.port, 6, "backlog goes as a water batch");
    const d = decodeUplink({ bytes: last.bytes, fPort: 6 }).data as { readings: { totalL: number; ageS: number }[] };
    assert.deepEqual(d.readings.map((r) => r.totalL), [2, 3, 4]);
    assert.ok(d.readings[0].ageS >= 1800 && d.readings[0].ageS < 1900, "age of the oldest ≈ 30 min");
    assert.ok(d.readings[2].ageS < 60);
  });

  it("rejoins when the modem lost its session, and never reuses a frame counter", () => {
    const rig = new LinkRig({ seed: 13, joinAfter: 2 });
    const ids = run(rig, 40, 1, (w) => {
      if (w % 9 === 5) rig.modem.reboot();
    });
    assert.ok(rig.modem.session >= 4, `sessions: ${rig.modem.session}`);
    assertFCntsUnique(rig);
    const got = new Set(arrivals(rig.modem.delivered).map((a) => a.id));
    for (const id of ids) assert.ok(got.has(id), `reading ${id} lost`);
  });

  it("sends alarms first and confirmed, with their age brought up to date; bounded retries on nack", () => {
    const rig = new LinkRig({ seed: 14 });
    run(rig, 2);
    rig.modem.off = true;
    const t0 = rig.nowMs;
    rig.wake((link) => {
      assert.equal(link.submit(5, waterAlarm(7777, 5), 15, "alarm"), true);
      link.flush();
    });
    run(rig, 3, 100);
    rig.modem.off = false;
    rig.modem.dropAcks = 4;
    run(rig, 1, 200);
    // Three confirmed attempts this wake, all refused: the alarm stays queued, nothing routine overtakes it.
    const tries = rig.modem.txs.filter((t) => t.kind === "data" && t.port === 5);
    assert.ok(tries.length >= 1 && tries.length <= 3, `${tries.length} attempts in one wake`);
    assert.equal(rig.modem.txs.filter((t) => t.kind === "data" && t.port !== 5 && t.startMs > t0).length, 0);
    rig.modem.dropAcks = 0;
    run(rig, 8, 300);
    const alarms = rig.modem.txs.filter((t) => t.kind === "data" && t.port === 5);
    const acked = alarms.find((t) => t.acked)!;
    assert.ok(acked, "alarm acknowledged eventually");
    assert.ok(alarms.every((t) => t.confirmed));
    const data = decodeUplink({ bytes: acked.bytes, fPort: 5 }).data as { ageS: number; totalL: number };
    assert.equal(data.totalL, 7777);
    assert.ok(Math.abs(data.ageS - (5 + (acked.startMs - t0) / 1000)) <= 2, `ageS ${data.ageS}`);
    // After the alarm, the routine backlog follows and nothing is lost.
    const got = new Set(arrivals(rig.modem.delivered).map((a) => a.id));
    for (const id of [1, 2, 100, 101, 102, 200, 300, 301]) assert.ok(got.has(id), `reading ${id}`);
  });

  it("splits a batch when the modem says it is too long", () => {
    const rig = new LinkRig({ seed: 15 });
    rig.modem.off = true;
    run(rig, 3);
    rig.modem.off = false;
    rig.modem.script.push("length");
    // Two wakes: how much of the backlog fits the first one's 30 s of duty-cycle waits depends on the channels drawn.
    run(rig, 2, 4);
    const sent = rig.modem.txs.filter((t) => t.kind === "data");
    assert.ok(sent.length >= 2 && sent[1].bytes.length < sent[0].bytes.length, "retried smaller");
    assert.deepEqual([...new Set(arrivals(rig.modem.delivered).map((a) => a.id))].sort((a, b) => a - b), [1, 2, 3, 4, 5]);
  });

  it("US915 DR0 (11 bytes): one reading per uplink, never a batch that does not fit", () => {
    for (const [port, make, core] of [[4, waterReading, 11], [7, levelReading, 8]] as const) {
      const rig = new LinkRig({ seed: 16, region: "US915", dataRate: 0 });
      rig.modem.off = true;
      for (let i = 1; i <= 5; i++) {
        rig.wake((link) => {
          // Routine readings get 11 bytes (their core); alarms, acks and status may take 51: they go at DR1 (data-rate-fit.test.ts).
          assert.equal(link.maxPayload(), 51);
          assert.equal(link.submit(port, make(i), core, "routine"), true);
          link.flush();
        });
        rig.sleepUntil(rig.nowMs + MIN15);
      }
      rig.modem.off = false;
      for (let i = 0; i < 10; i++) {
        rig.wake((link) => link.flush());
        rig.sleepUntil(rig.nowMs + MIN15);
      }
      const data = rig.modem.txs.filter((t) => t.kind === "data");
      assert.ok(data.every((t) => t.bytes.length <= 11));
      assert.deepEqual([...new Set(arrivals(rig.modem.delivered).map((a) => a.id))].sort((a, b) => a - b), [1, 2, 3, 4, 5].map((i) => (port === 7 ? i % 8000 : i)));
      if (port === 4) assert.ok(data.every((t) => t.port === 4), "water: single readings");
      else assert.ok(data.every((t) => t.port === 9 && t.bytes.length === 11), "level: one-entry batches (with age)");
    }
  });

  it("sizes batches to the data rate the network's ADR sets, and sends a fresh reading whole", () => {
    const rig = new LinkRig({ seed: 17, adr: true, drAt: (ms) => Math.floor(ms / (3 * 3600000)) % 6 });
    let lengthErrors = 0;
    for (let w = 0; w < 200; w++) {
      if (w % 17 === 3) rig.modem.off = true;
      if (w % 17 === 9) rig.modem.off = false;
      const start = rig.nowMs;
      rig.wake((link) => {
        link.submit(1, airReading(w + 1), 17, "routine");
        link.flush();
        lengthErrors += link.stats.lengthErrors;
      });
      rig.sleepUntil(start + MIN15);
    }
    assert.equal(lengthErrors, 0);
    const data = rig.modem.txs.filter((t) => t.kind === "data");
    assert.ok(data.some((t) => t.port === 1 && t.bytes.length === 17), "fresh readings go whole, with the extension");
    assert.ok(data.some((t) => t.port === 3), "backlogs go as batches");
    for (const t of data) assert.ok(t.bytes.length <= [51, 51, 51, 115, 222, 222][t.dr]);
    assert.equal(rig.modem.dutyRefusals, 0);
  });

  it("hands received downlinks to takeDownlink in order, in the same wake", () => {
    const rig = new LinkRig({ seed: 18 });
    rig.modem.downlinks.push({ port: 20, bytes: Uint8Array.of(0, 0x03, 0x84), rssi: -90, snr: 5 });
    let afterMs = 0;
    const got = rig.wake((link) => {
      link.submit(4, waterReading(1), 11, "routine");
      link.flush();
      afterMs = rig.nowMs;
      return [link.takeDownlink(), link.takeDownlink()];
    });
    const { atS, ...rest } = got[0]!;
    assert.deepEqual(rest, { port: 20, bytes: Uint8Array.of(0, 0x03, 0x84) });
    // Stamped with the second, on the link's `nowMs` clock (the RTC on a board), the exchange that brought it ended.
    const rtcS = Math.floor(afterMs / 1000);
    assert.ok(atS !== undefined && atS <= rtcS && atS >= rtcS - 10, `arrived at RTC ${atS} s, flush ended at ${rtcS} s`);
    assert.equal(got[1], undefined);
  });

  it("drops the oldest readings when full, counts them and raises queueOverflow in the next uplink", () => {
    const rig = new LinkRig({ seed: 19, link: { queuePages: 2 } });
    run(rig, 1);
    rig.modem.off = true;
    run(rig, 40, 2);
    const dropped = rig.wake((link) => link.dropped());
    // 41 readings for 32 places: the one sent before the outage (unverified) makes room first, then 2..9 go.
    assert.equal(dropped, 8);
    rig.modem.off = false;
    run(rig, 20, 100);
    const got = arrivals(rig.modem.delivered);
    const ids = [...new Set(got.map((a) => a.id))];
    // The wake the modem came back in added reading 100 to a full queue first: 10 went too.
    assert.deepEqual(ids.slice(0, 2), [1, 11], "readings 2..10 were the oldest and went first");
    const flagged = got.filter((a) => a.queueOverflow);
    assert.equal(flagged.length, 1);
    assert.equal(flagged[0].id, 11);
  });

  for (const dr of [0, 5]) it(`keeps the join ledger and the off time through power cuts: a reboot loop cannot burst join requests (DR${dr})`, () => {
    // Power fails every minute. Link time only counts powered time, so the ledgers' windows stretch over real
    // time: slow, but never a burst, and the modem never has to refuse a frame for the duty cycle.
    const rig = new LinkRig({ seed: 20, joinAfter: 1e9, dataRate: dr });
    for (let w = 0; w < 120; w++) {
      rig.wake((link) => {
        link.submit(4, waterReading(w), 11, "routine");
        link.flush();
      });
      rig.powerCut();
      rig.sleepUntil(rig.nowMs + 60000);
    }
    const joins = rig.modem.txs.filter((t) => t.kind === "join");
    const t0 = joins[0].startMs;
    const firstHour = joins.filter((j) => j.startMs < t0 + 3600000).reduce((s, j) => s + j.airtimeMs, 0);
    assert.ok(firstHour <= JOIN_FIRST_HOUR_MS, `first hour ${firstHour} ms`);
    // Each cold boot also blocks the sub-band for 4.6 min of link time (the off time of the longest frame,
    // since when the last one ended is unknown), which a loop of one-minute boots barely advances.
    assert.ok(joins.length >= 1, `${joins.length} join attempts`);
    assert.equal(rig.modem.dutyRefusals, 0);
  });

  it("uses only its slice of RTC memory and reports the queue through LinkPort", () => {
    const rig = new LinkRig({ seed: 21 });
    assert.equal(rig.retained.length, WORDS);
    assert.ok(WORDS * 4 <= 512, `${WORDS * 4} bytes of RTC memory`);
    rig.modem.off = true;
    rig.wake((link) => {
      assert.equal(link.maxPayload(), 51);
      link.submit(4, waterReading(1), 11, "routine");
      link.submit(10, new Uint8Array(20), 20, "status");
      link.submit(11, new Uint8Array(3), 3, "ack");
      assert.equal(link.queueDepth(), 3);
      assert.equal(link.submit(4, new Uint8Array(30), 30, "routine"), false, "longer than a routine record");
      assert.equal(link.submit(4, new Uint8Array(3), 5, "routine"), false, "length beyond the bytes");
      link.flush();
      assert.equal(link.queueDepth(), 3);
      assert.equal(link.dropped(), 0);
    });
  });

  it("lives in a slice of the node's RetainedState through deep sleep (native:sleep), and starts cold after a power cut", () => {
    const rig = new LinkRig({ seed: 22 });
    const NODE_WORDS = 10;
    const boot = () => {
      setCurrentBoard(rig.board);
      const state = new RetainedState(0x4e4f4445, NODE_WORDS + WORDS);
      const warm = state.restore();
      const link = new LoRaWanLink({ modem: rig.modem, settings: rig.settings, nowMs: () => rig.nowMs, delay: (ms) => rig.board.clock.advance(ms), random: () => 4, retained: state.words.subarray(NODE_WORDS) });
      return { state, warm, link };
    };
    const a = boot();
    assert.equal(a.warm, false);
    a.link.submit(4, waterReading(1), 11, "routine");
    a.link.flush();
    a.state.keep();
    rig.sleepUntil(rig.nowMs + 15 * 60000);
    const b = boot();
    assert.equal(b.warm, true);
    assert.equal(b.link.warm, true);
    assert.equal(b.link.joined, true);
    b.link.submit(4, waterReading(2), 11, "routine");
    b.state.keep();
    powerCut(rig.board);
    const c = boot();
    assert.equal(c.warm, false);
    assert.equal(c.link.warm, false);
    assert.equal(c.link.joined, false);
    // Reading 2 comes back from flash, and reading 1 too: it went out unconfirmed and was not verified yet.
    assert.equal(c.link.queueDepth(), 2);
    setCurrentBoard(undefined);
  });
});

describe("link session: what its retained words tell a boot before the link is built", () => {
  it("queue depth, drops, data rate, joined and a snapshot owed are what the built link reports", () => {
    // Small queue (drops), outages and busy modems, alarms and status, ADR moving the data rate.
    const rig = new LinkRig({ seed: 31, adr: true, link: { queuePages: 2 } });
    const rng = new Rng(77);
    let checked = 0;
    let deep = 0;
    let drops = 0;
    for (let w = 0; w < 400; w++) {
      if (w % 97 === 50) rig.powerCut();
      rig.modem.off = w % 120 >= 60;
      const words = rig.retained;
      const warm = retainedLinkWarm(words, 2);
      const glance = warm
        ? { depth: retainedQueueDepth(words, 2), dropped: retainedDropped(words), max: linkMaxPayload("EU868", retainedDataRate(words)), joined: retainedJoined(words), snap: retainedSnapshotDue(words) }
        : undefined;
      rig.wake((link) => {
        assert.equal(warm, link.warm, `wake ${w}: warm`);
        if (glance) {
          assert.deepEqual(glance, { depth: link.queueDepth(), dropped: link.dropped(), max: link.maxPayload(), joined: link.joined, snap: false }, `wake ${w}`);
          checked++;
          if (glance.depth > 20) deep++;
          if (glance.dropped > 0) drops++;
        }
        const r = rng.int(0, 9);
        if (r < 6) link.submit(4, waterReading(w), 11, "routine");
        else if (r === 6) link.submit(5, waterAlarm(w), 15, "alarm");
        else if (r === 7) link.submit(10, new Uint8Array(13), 13, "status");
        if (r !== 9) link.flush();
      });
      rig.sleepUntil(rig.nowMs + MIN15);
    }
    assert.ok(checked > 350, `${checked} warm boots compared`);
    assert.ok(deep > 10, `${deep} boots with a deep queue`);
    assert.ok(drops > 10, `${drops} boots after drops`);
    assert.equal(retainedLinkWarm(new Int32Array(WORDS)), false, "zeroed words are not a warm link");
  });
});

describe("link session without confirmed routine uplinks (confirmRoutine: false)", () => {
  it("confirms only alarms, never holds routine readings back, and counts them delivered once sent", () => {
    let down = false;
    const rig = new LinkRig({ seed: 23, outage: () => down, link: { confirmRoutine: false } });
    run(rig, 30);
    down = true;
    rig.wake((link) => {
      link.submit(5, waterAlarm(1), 15, "alarm");
      link.flush();
    });
    run(rig, 10, 100);
    const held = rig.wake((link): [boolean, number, number] => [link.outage, link.inFlight(), link.queueDepth()]);
    // The outage is seen through the alarm; the alarm waits (and at most the reading of a wake whose probe just failed).
    assert.deepEqual(held.slice(0, 2), [true, 0]);
    assert.ok(held[2] >= 1 && held[2] <= 2, `queue depth ${held[2]}`);
    down = false;
    // The probes of the outage spent the day's downlinks (every confirmed uplink counts one): the alarm's next
    // attempt may wait until they leave the 24 h window.
    run(rig, 100, 200);
    const data = rig.modem.txs.filter((t) => t.kind === "data");
    assert.ok(data.filter((t) => t.confirmed).every((t) => t.port === 5), "only alarms confirmed");
    assert.ok(data.some((t) => t.port === 5 && t.acked));
    const got = new Set(arrivals(rig.modem.delivered).map((a) => a.id));
    let lost = 0;
    for (let i = 100; i < 110; i++) if (!got.has(i)) lost++;
    assert.ok(lost >= 5, `only ${lost} lost: readings sent during a silent outage are lost in this mode`);
    for (let i = 200; i < 300; i++) assert.ok(got.has(i));
  });
});
