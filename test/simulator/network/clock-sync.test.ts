/** The application answering clockUnsynced with setTime (simulator/src/network/clock-sync.ts), through a real node and modem. */
import assert from "node:assert/strict";
import { SimNetwork } from "../../../simulator/src/network/network.ts";
import { SimNode } from "../../../simulator/src/fleet/sim-node.ts";
import { CLOCK_ANSWER_WAIT_MS, clockSync } from "../../../simulator/src/network/clock-sync.ts";
import type { ApplicationUplink } from "../../../simulator/src/network/network-server.ts";
import { CLOCK_RESYNC_S } from "../../../firmware/src/nodes/water/water-node.ts";
import { decodeDownlink, encodeDownlink } from "../../../codecs/src/index.ts";

const H = 3_600_000;

function setTimeOf(bytes: Uint8Array): number {
  const r = decodeDownlink({ bytes: [...bytes], fPort: 26 });
  return (r.data as { unixTimeS: number }).unixTimeS;
}

describe("simulator: the application's clock answer", () => {
  it("a water node that reports clockUnsynced gets the time in the reply to that uplink, right to the RX window", () => {
    const answers: ApplicationUplink[] = [];
    const answer = clockSync();
    const network = new SimNetwork({
      region: "EU868", seed: "clock", channel: { lossProbability: 0, shadowingSdDb: 0, fadingSdDb: 0 },
      server: { application: (u) => { answers.push(u); return answer(u); } },
    });
    const node = new SimNode({ type: "water", id: "water-1", seed: 3, network, position: { x: 0, y: 60 }, environment: { flowLMin: (t) => (t % H < 120_000 ? 5 : 0) } });
    while (node.board.wallOffsetMs === undefined && node.board.clock.nowMs < 2 * H) node.step();
    assert.notEqual(node.board.wallOffsetMs, undefined, "the node's clock was set");
    // Virtual 0 is the server's epoch: the node's wall clock should read epoch + virtual time, to within the stamp's
    // whole second, RX1 against RX2, and the node's seconds of arrival.
    const error = node.board.wallOffsetMs! - network.server.epochUnixMs;
    assert.ok(Math.abs(error) < 3_000, `the node's clock is off by ${error} ms`);
    assert.equal(network.server.queued(node.devEui).length, 0, "the answer went in the reply");
    // Synced, the node says so, and the application sends nothing more.
    const before = answers.length;
    while (node.board.clock.nowMs < 12 * H) node.step();
    const later = answers.slice(before);
    assert.ok(later.length > 5, `${later.length} uplinks after the sync`);
    assert.ok(later.every((u) => u.decoded?.clockUnsynced !== true), "clockUnsynced after the sync");
    assert.equal(network.server.queued(node.devEui).length, 0);
  });

  it("a water node asks again a day after the last setTime (CLOCK_RESYNC_S), and is answered again", () => {
    const given: number[] = [];
    const answer = clockSync();
    const network = new SimNetwork({
      region: "EU868", seed: "clock-3", channel: { lossProbability: 0, shadowingSdDb: 0, fadingSdDb: 0 },
      server: { application: (u) => { const a = answer(u); if (a) given.push(u.rx1AtUnixMs); return a; } },
    });
    const node = new SimNode({ type: "water", id: "water-2", seed: 6, network, position: { x: 0, y: 60 }, environment: { flowLMin: (t) => (t % H < 120_000 ? 5 : 0) } });
    while (node.board.clock.nowMs < 3 * 24 * H) node.step();
    // At the first reading, then a day after each setTime the node applied (a wake after it arrived).
    // (An answer can wait in the queue for a later uplink, freshly stamped at each: the day counts from its arrival.)
    const at = given.map((g) => ((g - network.server.epochUnixMs) / H).toFixed(2)).join(", ");
    assert.ok(given.length >= 3, `setTimes at ${at} h`);
    const gaps = given.slice(1).map((g, i) => g - given[i]);
    assert.ok(gaps.every((g) => g >= CLOCK_RESYNC_S * 1000), `setTimes at ${at} h: one sooner than a day after the last`);
    assert.ok(gaps.some((g) => g < CLOCK_RESYNC_S * 1000 + H), `setTimes at ${at} h: none a day after the last`);
    const error = node.board.wallOffsetMs! - network.server.epochUnixMs;
    assert.ok(Math.abs(error) < 3_000, `the node's clock is off by ${error} ms`);
  });

  it("a quiet water node's daily resync costs its asking reading and the config ack, not a reading to say it is synced", () => {
    const answer = clockSync();
    const uplinks: { atMs: number; type: unknown }[] = [];
    const given: number[] = [];
    const network = new SimNetwork({
      region: "EU868", seed: "clock-4", channel: { lossProbability: 0, shadowingSdDb: 0, fadingSdDb: 0 },
      server: {
        application: (u) => {
          uplinks.push({ atMs: u.rx1AtUnixMs, type: u.decoded?.messageType });
          const a = answer(u);
          if (a) given.push(u.rx1AtUnixMs);
          return a;
        },
      },
    });
    // Nobody home: no water, so readings come only for the heartbeat (6 h) and for news in the flags.
    const node = new SimNode({ type: "water", id: "water-3", seed: 8, network, position: { x: 0, y: 60 }, environment: { flowLMin: () => 0 } });
    while (node.board.clock.nowMs < 3 * 24 * H) node.step();
    assert.ok(given.length >= 3, `${given.length} setTimes`);
    for (const t of given.slice(1)) {
      const after = uplinks.filter((u) => u.atMs > t && u.atMs < t + 2 * H).map((u) => u.type);
      assert.deepEqual(after, ["configAck"], `within 2 h of the resync at ${((t - network.server.epochUnixMs) / H).toFixed(1)} h`);
    }
  });

  it("answers clockUnsynced once an hour per node, and stamps afresh a setTime still queued", () => {
    const answer = clockSync();
    const T = 1_767_571_203_400;
    const uplink = (devEui: string, atMs: number, decoded: { [k: string]: unknown } | undefined, queued: { fPort: number; bytes: Uint8Array }[] = []): ApplicationUplink =>
      ({ devEui, fPort: 4, decoded, rx1AtUnixMs: atMs, queued });
    assert.equal(answer(uplink("a", T, { clockUnsynced: false })), undefined);
    assert.equal(answer(uplink("a", T, undefined)), undefined);
    const a = answer(uplink("a", T, { clockUnsynced: true }))!;
    assert.equal(a.fPort, 26);
    assert.equal(setTimeOf(a.bytes), 1_767_571_203);
    // The node applies it at its next wake; until then its uplinks still say unsynced, and are not answered again.
    assert.equal(answer(uplink("a", T + 60_000, { clockUnsynced: true })), undefined);
    assert.notEqual(answer(uplink("b", T + 60_000, { clockUnsynced: true })), undefined, "another node");
    assert.notEqual(answer(uplink("a", T + CLOCK_ANSWER_WAIT_MS, { clockUnsynced: true })), undefined, "an hour on, still unsynced");
    // An old stamp still in the queue (no window for it yet) is replaced by one for this reply, even from a node now synced.
    const old = Uint8Array.from(encodeDownlink({ data: { command: "setTime", unixTimeS: 1_767_000_000 } }).bytes!);
    const b = answer(uplink("a", T + 2 * CLOCK_ANSWER_WAIT_MS + 600, { clockUnsynced: false }, [{ fPort: 26, bytes: old }]))!;
    assert.equal(setTimeOf(b.bytes), 1_767_578_404);
  });

  it("the server puts the answer in place of a queued downlink on its FPort, ahead of its reply", () => {
    const network = new SimNetwork({
      region: "EU868", seed: "clock-2", channel: { lossProbability: 0, shadowingSdDb: 0, fadingSdDb: 0 },
      server: { application: clockSync() },
    });
    const node = new SimNode({ type: "air", id: "air-1", seed: 4, network, position: { x: 0, y: 40 } });
    const stale = encodeDownlink({ data: { command: "setTime", unixTimeS: 1_700_000_000 } });
    network.server.enqueueDownlink(node.devEui, { fPort: 26, bytes: Uint8Array.from(stale.bytes!) });
    while (node.board.wallOffsetMs === undefined && node.board.clock.nowMs < 2 * H) node.step();
    const error = node.board.wallOffsetMs! - network.server.epochUnixMs;
    assert.ok(Math.abs(error) < 3_000, `the node's clock is off by ${error} ms: the stale stamp went out`);
  });

  it("with an RTC 0.6 % fast (8.6 min a day), the daily resync keeps a water node's clock within a day's drift; one setTime alone does not", () => {
    const run = (answerOnce: boolean) => {
      const answer = clockSync();
      let answered = false;
      const network = new SimNetwork({
        region: "EU868", seed: "clock-drift", channel: { lossProbability: 0, shadowingSdDb: 0, fadingSdDb: 0 },
        server: {
          application: (u) => {
            if (answerOnce && answered) return undefined;
            const a = answer(u);
            if (a) answered = true;
            return a;
          },
        },
      });
      const node = new SimNode({ type: "water", id: "water-d", seed: 9, network, position: { x: 0, y: 60 }, rtcPpm: 6000, environment: { flowLMin: (t) => (t % H < 120_000 ? 5 : 0) } });
      let worst = 0;
      while (node.board.clock.nowMs < 4 * 24 * H) {
        node.step();
        const error = node.counters.clockErrorMs;
        if (error !== undefined) worst = Math.max(worst, Math.abs(error));
      }
      return worst;
    };
    const daily = run(false);
    const once = run(true);
    // 0.6 % of CLOCK_RESYNC_S, plus the hour an unanswered or unapplied request can take and the stamp's seconds.
    assert.ok(daily < 0.006 * (CLOCK_RESYNC_S * 1000 + 2 * H) + 3_000, `resynced daily: off by up to ${(daily / 1000).toFixed(0)} s`);
    assert.ok(once > 0.006 * 3 * 24 * H, `set once: off by up to ${(once / 1000).toFixed(0)} s after four days`);
    console.log(`      worst clock error over 4 days: ${(daily / 1000).toFixed(0)} s with the daily resync, ${(once / 1000).toFixed(0)} s set once`);
  });
});
