/** The flash queue: layout, order, overflow, priority, and power cuts at random instants of its writes. */
import assert from "node:assert/strict";
import Preference, { nvsCapacity } from "../../../simulator/src/platform/preference.ts";
import { Board, MANIFEST_NVS_BYTES, setCurrentBoard } from "../../../simulator/src/core/board.ts";
import { Rng } from "../../../simulator/src/core/rng.ts";
import {
  QUEUE_DOMAIN, QUEUE_WORDS, RECORDS_PER_PAGE, ROUTINE_PAYLOAD_MAX, UplinkQueue,
} from "../../../firmware/src/link/uplink-queue.ts";
import { decodeUplink } from "../../../codecs/src/index.ts";
import { LinkRig, arrivals, waterAlarm, waterReading } from "./harness.ts";
import { queuePagesFor } from "../../../firmware/src/nodes/wiring.ts";

function withBoard<T>(body: (board: Board) => T): T {
  const board = new Board();
  setCurrentBoard(board);
  try {
    return body(board);
  } finally {
    setCurrentBoard(undefined);
  }
}

function payload(id: number, len = 11): Uint8Array {
  const b = new Uint8Array(len);
  for (let i = 0; i < len; i++) b[i] = (id * 7 + i) & 0xff;
  b[0] = id & 0xff;
  b[1] = (id >> 8) & 0xff;
  return b;
}

function drainIds(q: UplinkQueue): number[] {
  const ids: number[] = [];
  for (let s = q.sent; s < q.head; s++) {
    const r = q.routineAt(s);
    if (r) ids.push(r.bytes[0] | (r.bytes[1] << 8));
  }
  return ids;
}

describe("link uplink queue (flash)", () => {
  it("keeps routine readings in order across pages and reboots, within NVS limits", () => {
    withBoard((board) => {
      const q = new UplinkQueue({ pages: 4 });
      for (let i = 0; i < 50; i++) assert.equal(q.appendRoutine(4, payload(i), 11, 1000 + i), true);
      assert.equal(q.routineWaiting(), 50);
      assert.equal(board.flashWrites, 50, "one flash write per reading");
      for (const [key, v] of board.flash.get(QUEUE_DOMAIN)!) {
        assert.ok(key.length <= 15);
        assert.ok(!(v instanceof ArrayBuffer) || v.byteLength <= 4000);
      }
      // Cold boot: everything back from flash alone.
      const r = new UplinkQueue({ pages: 4 });
      r.scan(0);
      assert.deepEqual(drainIds(r), [...Array(50).keys()]);
      assert.equal(r.routineAt(3)!.timeS, 1003);
      assert.equal(r.maxTimeS, 1049);
      // Warm boot: indices from RTC words.
      const w = new Int32Array(QUEUE_WORDS);
      q.save(w, 0);
      const s = new UplinkQueue({ pages: 4 });
      assert.equal(s.restore(w, 0), true);
      assert.equal(s.appendRoutine(4, payload(50), 11, 2000), true);
      assert.deepEqual(drainIds(s), [...Array(51).keys()]);
    });
  });

  it("drops the oldest unsent reading first when full, counts it and raises the overflow flag", () => {
    withBoard(() => {
      const q = new UplinkQueue({ pages: 2 });
      assert.equal(q.capacity, 2 * RECORDS_PER_PAGE);
      for (let i = 0; i < 40; i++) assert.equal(q.appendRoutine(4, payload(i), 11, i), true);
      assert.equal(q.dropped, 8);
      assert.equal(q.overflow, true);
      assert.deepEqual(drainIds(q), [...Array(32).keys()].map((i) => i + 8));
      const r = new UplinkQueue({ pages: 2 });
      r.scan(0);
      assert.deepEqual(drainIds(r), [...Array(32).keys()].map((i) => i + 8));
      // Sent-but-unverified readings make room before unsent ones are dropped.
      q.markSent(10);
      q.appendRoutine(4, payload(40), 11, 40);
      assert.equal(q.dropped, 8);
      assert.equal(q.inFlight(), 9);
      q.rewind();
      assert.equal(q.routineWaiting(), 32);
    });
  });

  it("verifies and rewinds in-flight readings", () => {
    withBoard(() => {
      const q = new UplinkQueue({ pages: 2 });
      for (let i = 0; i < 5; i++) q.appendRoutine(4, payload(i), 11, i);
      q.markSent(3);
      assert.equal(q.inFlight(), 3);
      q.rewind();
      assert.equal(q.sent, 0);
      q.markSent(2);
      assert.equal(q.verify(), 2);
      assert.equal(q.tail, 2);
      assert.equal(q.routineAt(1), undefined);
    });
  });

  it("refuses malformed messages", () => {
    withBoard(() => {
      const q = new UplinkQueue();
      assert.equal(q.appendRoutine(0, payload(1), 11, 0), false);
      assert.equal(q.appendRoutine(4, payload(1), 0, 0), false);
      assert.equal(q.appendRoutine(4, payload(1, 30), ROUTINE_PAYLOAD_MAX + 1, 0), false);
      assert.equal(q.appendRoutine(4, payload(1, 5), 6, 0), false);
      assert.equal(q.appendPriority("alarm", 5, payload(1, 60), 52, 0), false);
      assert.equal(q.routineWaiting() + q.priorityCount(), 0);
    });
  });

  it("sends alarms first, then acks, then status; replaces status before refusing an alarm", () => {
    withBoard(() => {
      const q = new UplinkQueue({ prioritySlots: 4 });
      assert.equal(q.appendPriority("status", 10, payload(1, 20), 20, 0), true);
      assert.equal(q.appendPriority("ack", 11, payload(2, 3), 3, 0), true);
      assert.equal(q.appendPriority("alarm", 5, payload(3, 15), 15, 0), true);
      assert.equal(q.appendPriority("alarm", 5, payload(4, 15), 15, 0), true);
      assert.deepEqual([q.nextPriority()!.bytes[0], q.nextPriority(1 << q.nextPriority()!.slot)!.bytes[0]], [3, 4]);
      // Full: a new alarm takes the status' slot, the next one the ack's, then alarms are refused.
      assert.equal(q.appendPriority("alarm", 5, payload(5, 15), 15, 0), true);
      assert.equal(q.appendPriority("status", 10, payload(6, 20), 20, 0), false);
      assert.equal(q.appendPriority("alarm", 5, payload(7, 15), 15, 0), true);
      assert.equal(q.appendPriority("alarm", 5, payload(8, 15), 15, 0), false);
      const order: number[] = [];
      for (let p = q.nextPriority(); p; p = q.nextPriority()) {
        order.push(p.bytes[0]);
        q.removePriority(p.slot);
      }
      assert.deepEqual(order, [3, 4, 5, 7]);
      const r = new UplinkQueue({ prioritySlots: 4 });
      r.scan(0);
      assert.equal(r.priorityCount(), 0);
    });
  });

  it("ignores damaged or foreign values when it scans", () => {
    withBoard((board) => {
      const q = new UplinkQueue({ pages: 2 });
      for (let i = 0; i < 20; i++) q.appendRoutine(4, payload(i), 11, i);
      const d = board.flash.get(QUEUE_DOMAIN)!;
      // Damage the older open-page copy (the newest is never overwritten in place, so a torn write only hits the older).
      const counter = (k: string) => new DataView(d.get(k) as ArrayBuffer).getUint32(8, true);
      d.set(counter("oa") < counter("ob") ? "oa" : "ob", new ArrayBuffer(7));
      d.set("p1", "garbage");
      d.set("a3", new Uint8Array([0xa5, 1, 5, 200]).buffer);
      const r = new UplinkQueue({ pages: 2 });
      r.scan(0);
      // The newest open-page copy still holds everything.
      assert.deepEqual(drainIds(r), [...Array(20).keys()]);
      assert.equal(r.priorityCount(), 0);
    });
  });
});

/** Thrown by the hooked preference when the power goes. */
class PowerCut extends Error {}

/**
 * Replaces Preference.set/delete for one trial: write number `cutAt` (1-based)
 * is the instant the power goes — the value is either not written or written
 * torn (truncated or with flipped bits), then it and everything after it throws.
 */
function hookPreference(cutAt: number, torn: number, rng: Rng, onCut: () => void): { restore: () => void; writes: () => number; cut: () => boolean } {
  const set = Preference.set;
  const del = Preference.delete;
  let n = 0;
  let dead = false;
  const die = () => {
    dead = true;
    onCut();
    throw new PowerCut("power cut");
  };
  Preference.set = (domain, key, value) => {
    if (dead) throw new PowerCut("no power");
    n++;
    if (n === cutAt) {
      if (torn > 0 && value instanceof ArrayBuffer && value.byteLength > 0) {
        const b = new Uint8Array(value.slice(0));
        const bad = torn === 1 ? b.slice(0, rng.int(0, b.length - 1)) : b;
        if (torn === 2) bad[rng.int(0, bad.length - 1)] ^= 1 << rng.int(0, 7);
        set(domain, key, bad.buffer);
      }
      die();
    }
    set(domain, key, value);
  };
  Preference.delete = (domain, key) => {
    if (dead) throw new PowerCut("no power");
    n++;
    if (n === cutAt) die();
    del(domain, key);
  };
  return {
    restore: () => {
      Preference.set = set;
      Preference.delete = del;
    },
    writes: () => n,
    cut: () => dead,
  };
}

describe("link uplink queue under power cuts", () => {
  it("at 1,000 random instants of its writes loses nothing acknowledged and stays readable", function () {
    this.timeout(300000);
    const master = new Rng(20260105);
    let cuts = 0;
    let torn = 0;
    let acknowledged = 0;
    let duplicates = 0;
    for (let trial = 0; trial < 1000; trial++) {
      const seed = master.nextU32();
      const rng = new Rng(seed);
      // Every frame reaches the network (silent loss is the outage tests' subject), but ACKs get lost, the
      // modem goes deaf for a while or reboots: the link retries, rewinds and rejoins around the cuts.
      const rig = new LinkRig({ seed, ackLossProbability: 0.3, link: { queuePages: 3, prioritySlots: 4, checkpointReadings: 8 } });
      const ackedIds: number[] = [];
      const ackedAlarms: number[] = [];
      let id = 0;
      const cutAt = rng.int(1, 70);
      let offFor = 0;
      const tornMode = rng.int(0, 2);
      const hook = hookPreference(cutAt, tornMode, rng, () => {
        rig.modem.off = true;
      });
      try {
        for (let wake = 0; wake < 60 && !hook.cut(); wake++) {
          // Deaf spells of up to 8 wakes: the backlog (≤ 48 with 3 pages) never overflows, so every loss would be a bug.
          if (offFor > 0) offFor--;
          else if (rng.next() < 0.1) offFor = rng.int(1, 8);
          rig.modem.off = offFor > 0;
          if (rng.next() < 0.05) rig.modem.reboot();
          try {
            rig.wake((link) => {
              const r = ++id;
              if (link.submit(4, waterReading(r), 11, "routine")) ackedIds.push(r);
              if (rng.next() < 0.1) {
                const a = 100000 + r;
                if (link.submit(5, waterAlarm(a), 15, "alarm")) ackedAlarms.push(a);
              }
              link.flush();
            });
          } catch (e) {
            if (!(e instanceof PowerCut)) throw e;
          }
          rig.sleepUntil(rig.nowMs + 900000);
        }
      } finally {
        hook.restore();
      }
      if (hook.cut()) {
        cuts++;
        if (tornMode) torn++;
        rig.powerCut();
        rig.modem.reboot();
      }
      // Power back, modem on: the queue must come back readable and deliver everything it acknowledged.
      rig.modem.off = false;
      // (A suspected outage with the day's downlinks spent waits up to 24 h for its next probe: allow 3 days.)
      for (let wake = 0; wake < 300; wake++) {
        const left = rig.wake((link) => {
          link.flush();
          return link.queueDepth();
        });
        rig.sleepUntil(rig.nowMs + 900000);
        if (left === 0 && wake > 2) break;
      }
      const got = arrivals(rig.modem.delivered);
      const seen = new Set(got.map((a) => a.id));
      assert.equal(rig.link!.dropped(), 0);
      for (const r of ackedIds) assert.ok(seen.has(r), `trial ${trial} (seed ${seed}, cut at write ${cutAt}, torn ${tornMode}): reading ${r} lost`);
      const alarmIds = new Set(rig.modem.delivered.filter((d) => d.port === 5).map((d) => alarmTotal(d.bytes)));
      for (const a of ackedAlarms) assert.ok(alarmIds.has(a), `trial ${trial} (seed ${seed}): alarm ${a} lost`);
      // First arrivals keep the order of acceptance.
      const firsts: number[] = [];
      const once = new Set<number>();
      for (const a of got) {
        if (once.has(a.id)) {
          duplicates++;
          continue;
        }
        once.add(a.id);
        firsts.push(a.id);
      }
      for (let i = 1; i < firsts.length; i++) assert.ok(firsts[i] > firsts[i - 1], `trial ${trial}: order ${firsts[i - 1]} before ${firsts[i]}`);
      acknowledged += ackedIds.length + ackedAlarms.length;
      // The recovered queue takes new readings.
      rig.wake((link) => assert.equal(link.submit(4, waterReading(999999), 11, "routine"), true));
    }
    console.log(`      ${cuts} power cuts (${torn} with a torn value) in 1000 trials; ${acknowledged} messages acknowledged, none lost; ${duplicates} re-sent after a cut`);
    assert.ok(cuts >= 900, `only ${cuts} trials reached their cut`);
  });
});

/** Meter total of a water alarm (fPort 5). */
function alarmTotal(bytes: number[]): number {
  return (decodeUplink({ bytes, fPort: 5 }).data as { totalL: number }).totalL;
}

describe("link uplink queue and the NVS partition's size", () => {
  it("the full 48-page ring does not fit Moddable's default 24 KB NVS: once it is full every reading is refused; queuePagesFor's 16 pages keep wrapping", () => {
    const fill = (pages: number, nvsBytes: number) =>
      withBoard((board) => {
        board.nvsBytes = nvsBytes;
        const q = new UplinkQueue({ pages });
        let refused = 0;
        for (let i = 0; i < 1200; i++) if (!q.appendRoutine(4, payload(i), 11, 1000 + i)) refused++;
        return { refused, waiting: q.routineWaiting() };
      });
    const small = fill(48, 0x6000);
    assert.ok(small.refused > 400, `48 pages in 24 KB: ${small.refused} of 1200 refused`);
    const fitted = fill(queuePagesFor(0x6000), 0x6000);
    assert.equal(fitted.refused, 0, "16 pages in 24 KB: the ring wraps, dropping the oldest, and takes every reading");
    assert.ok(fitted.waiting <= 16 * RECORDS_PER_PAGE);
    const shipped = fill(queuePagesFor(MANIFEST_NVS_BYTES), MANIFEST_NVS_BYTES);
    assert.equal(queuePagesFor(MANIFEST_NVS_BYTES), 48);
    assert.equal(shipped.refused, 0, "48 pages in the shipped 64 KB partition");
    assert.ok(shipped.waiting > 16 * RECORDS_PER_PAGE);
  });

  it("a preference write that does not fit fails as on the chip: 'nvs set fail', the key erased first as Moddable's ESP32 preference does", () => {
    withBoard((board) => {
      const capacity = nvsCapacity(board.nvsBytes);
      Preference.set("t", "keep", new ArrayBuffer(100));
      let i = 0;
      assert.throws(() => {
        for (;; i++) Preference.set("t", `k${i}`, new ArrayBuffer(200));
      }, /nvs set fail/);
      assert.ok(board.nvsEntries <= capacity && board.nvsEntries > capacity - 10, `${board.nvsEntries} of ${capacity} entries`);
      // Rewriting a key with a value that no longer fits loses the old value.
      assert.throws(() => Preference.set("t", "keep", new ArrayBuffer(2000)), /nvs set fail/);
      assert.equal(Preference.get("t", "keep"), undefined);
      // Deleting frees room again.
      Preference.delete("t", "k0");
      Preference.set("t", "small", 7);
      assert.equal(Preference.get("t", "small"), 7);
    });
  });
});
