/** Duty-cycle, fair-use and join back-off ledgers, checked against exact bookkeeping of what they allowed. */
import assert from "node:assert/strict";
import fc from "fast-check";
import { DutyCycleLedger, EU868_SUB_BANDS, UPLINK_SUB_BAND, subBandOf, DUTY_WORDS } from "../../../firmware/src/link/duty-cycle.ts";
import { FairUseLedger, TTN_FAIR_USE, effectiveIntervalS, routineShareUs, FAIR_USE_WORDS } from "../../../firmware/src/link/fair-use.ts";
import { JoinLedger, JOIN_FLASH_BYTES, JOIN_WORDS } from "../../../firmware/src/link/join.ts";
import { joinAirtimeAt, uplinkAirtimeAt } from "../../../firmware/src/link/regions.ts";
import { Rng } from "../../../simulator/src/core/rng.ts";

const HOUR = 3600000;
const DAY = 24 * HOUR;

describe("link duty-cycle ledger (EU868 sub-bands)", () => {
  it("knows the sub-bands and their limits", () => {
    assert.equal(subBandOf(868100), 2);
    assert.equal(subBandOf(868300), 2);
    assert.equal(subBandOf(868500), 2);
    assert.equal(subBandOf(867100), 1);
    assert.equal(subBandOf(864000), 0);
    assert.equal(subBandOf(868900), 3);
    assert.equal(subBandOf(869525), 4);
    assert.equal(subBandOf(869850), 5);
    assert.equal(subBandOf(868650), -1);
    assert.deepEqual(EU868_SUB_BANDS.map((b) => b.dutyPerMille), [1, 10, 10, 1, 100, 10]);
    assert.deepEqual(EU868_SUB_BANDS.map((b) => b.offFactor), [999, 99, 99, 999, 9, 99]);
    assert.equal(UPLINK_SUB_BAND, 2);
  });

  it("blocks a sub-band for T·(1/d − 1) after a transmission of T", () => {
    const d = new DutyCycleLedger("EU868");
    const t = uplinkAirtimeAt("EU868", 0, 11); // 1 482 752 µs
    d.record(t, 10000);
    assert.equal(d.readyMs(), 10000 + Math.ceil((t * 99) / 1000));
    const a = d.check(0, 11, 10001);
    assert.equal(a.now, false);
    assert.equal(a.readyMs, d.readyMs());
    assert.equal(a.airtimeUs, t);
    assert.equal(d.check(0, 11, d.readyMs()).now, true);
    d.record(1000000, 0, 0);
    assert.equal(d.readyMs(0), 999000);
    d.record(1000000, 0, 4);
    assert.equal(d.readyMs(4), 9000);
  });

  it("does not apply outside EU868", () => {
    for (const region of ["US915", "AU915", "AS923"] as const) {
      const d = new DutyCycleLedger(region);
      d.record(1000000, 5000);
      assert.equal(d.check(0, 11, 5000).now, true);
    }
  });

  it("keeps the 1 % limit for any sequence it allows (property)", () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 1, max: 51 }), fc.integer({ min: 0, max: 400000 })), { minLength: 1, maxLength: 60 }), (steps) => {
      const d = new DutyCycleLedger("EU868");
      let now = 0;
      let prevEnd = -Infinity;
      let prevT = 0;
      for (const [dr, len, gap] of steps) {
        now += gap;
        const a = d.check(dr, len, now);
        if (!a.now) continue;
        assert.ok(now >= prevEnd + (prevT * 99) / 1000, "sent inside the off time");
        const end = now + Math.ceil(a.airtimeUs / 1000);
        d.record(a.airtimeUs, end);
        prevEnd = end;
        prevT = a.airtimeUs;
        now = end;
      }
    }));
  });

  it("survives a round trip through RTC words", () => {
    const d = new DutyCycleLedger("EU868");
    d.record(1482752, 5e12);
    const w = new Int32Array(DUTY_WORDS);
    d.save(w, 0);
    const e = new DutyCycleLedger("EU868");
    e.load(w, 0);
    assert.equal(e.readyMs(), d.readyMs());
  });
});

describe("link fair-use budget (TTN: 30 s/24 h uplink, 10 downlinks/24 h)", () => {
  it("stretches the routine interval as the data rate drops, never below the configured one", () => {
    const status = uplinkAirtimeAt("EU868", 0, 20);
    assert.equal(effectiveIntervalS(900, uplinkAirtimeAt("EU868", 5, 11), uplinkAirtimeAt("EU868", 5, 20)), 900);
    const sf12 = effectiveIntervalS(900, uplinkAirtimeAt("EU868", 0, 11), status);
    assert.ok(sf12 > 900);
    // 24 s share minus one status a day, one 1.48 s reading per interval.
    assert.equal(sf12, Math.ceil((86400 * 1482752) / (routineShareUs(TTN_FAIR_USE) - status)));
    fc.assert(fc.property(fc.integer({ min: 60, max: 86400 }), fc.integer({ min: 1000, max: 3000000 }), fc.integer({ min: 0, max: 5000000 }), (cfg, per, other) => {
      const s = effectiveIntervalS(cfg, per, other);
      assert.ok(s >= cfg);
      const budget = routineShareUs(TTN_FAIR_USE) - other;
      if (budget > per) assert.ok((86400 / s) * per <= budget + 1e-6, "readings per day fit the share");
    }));
  });

  it("never lets the rolling 24 h airtime exceed 30 s nor non-alarm traffic exceed 24 s (property against exact windows)", () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 1e9 }), (seed) => {
      const rng = new Rng(seed);
      const f = new FairUseLedger();
      const sent: { t: number; us: number; alarm: boolean }[] = [];
      let t = rng.int(0, 10 * DAY);
      for (let i = 0; i < 400; i++) {
        t += rng.int(0, 40 * 60000);
        const us = uplinkAirtimeAt("EU868", rng.int(0, 5), rng.int(1, 51));
        const alarm = rng.next() < 0.1;
        const ok = alarm ? f.allowsAlarm(t, us) : rng.next() < 0.5 ? f.allowsOther(t, us) : f.allowsRoutine(t, us);
        if (!ok) continue;
        f.recordUplink(t, us);
        if (!alarm) f.spendRoutine(t, us);
        sent.push({ t, us, alarm });
        let all = 0;
        let other = 0;
        for (const s of sent) if (s.t > t - DAY) {
          all += s.us;
          if (!s.alarm) other += s.us;
        }
        assert.ok(all <= 30e6, `rolling airtime ${all} µs`);
        if (!alarm) assert.ok(other <= 24e6, `non-alarm airtime ${other} µs`);
      }
    }), { numRuns: 60 });
  });

  it("allows confirmed uplinks only while the downlinks of 24 h leave the reserve", () => {
    const f = new FairUseLedger();
    let t = 5 * DAY;
    let n = 0;
    while (f.confirmedAllowed(t)) {
      f.recordDownlink(t);
      n++;
      t += 60000;
    }
    assert.equal(n, TTN_FAIR_USE.downlinksPerDay - TTN_FAIR_USE.downlinkReserve);
    assert.equal(f.confirmedAllowed(t + DAY - 60000 * n), false);
    assert.equal(f.confirmedAllowed(t + DAY + HOUR), true);
  });

  it("paces routine uplinks with a token bucket", () => {
    const f = new FairUseLedger();
    const us = uplinkAirtimeAt("EU868", 0, 51);
    let t = 0;
    let n = 0;
    while (f.allowsRoutine(t, us)) {
      f.recordUplink(t, us);
      f.spendRoutine(t, us);
      n++;
    }
    assert.equal(n, Math.floor(f.bucketCapacityUs / us));
    const ready = f.routineReadyMs(t, us);
    assert.ok(ready > t);
    t = ready;
    assert.equal(f.allowsRoutine(t, us), true);
  });

  it("survives a round trip through RTC words", () => {
    const f = new FairUseLedger();
    f.recordUplink(100 * HOUR + 5, 1482752);
    f.recordDownlink(101 * HOUR);
    const w = new Int32Array(FAIR_USE_WORDS);
    f.save(w, 0);
    const g = new FairUseLedger();
    g.load(w, 0);
    assert.equal(g.airtimeMs(102 * HOUR), 1483);
    assert.equal(g.downlinks(102 * HOUR), 1);
  });
});

describe("link join back-off (LoRaWAN 1.0.4 §7)", () => {
  /** Checks the three windows exactly from the attempts made (start ms, airtime µs) since T0. */
  function checkWindows(attempts: { t: number; us: number }[], t0: number): void {
    let p1 = 0;
    let p2 = 0;
    for (const a of attempts) {
      if (a.t < t0 + HOUR) p1 += a.us;
      else if (a.t < t0 + 11 * HOUR) p2 += a.us;
    }
    assert.ok(p1 <= 36e6, `first hour ${p1} µs`);
    assert.ok(p2 <= 36e6, `next 10 h ${p2} µs`);
    const late = attempts.filter((a) => a.t >= t0 + 11 * HOUR);
    for (const a of late) {
      let s = 0;
      for (const b of late) if (b.t > a.t - DAY && b.t <= a.t) s += b.us;
      assert.ok(s <= 8.7e6, `24 h window ending ${a.t}: ${s} µs`);
    }
  }

  it("keeps join airtime within 36 s / 36 s / 8.7 s per 24 h whatever the data rate (property)", () => {
    let phase3 = 0;
    fc.assert(fc.property(fc.integer({ min: 1, max: 1e9 }), fc.boolean(), (seed, greedy) => {
      const rng = new Rng(seed);
      const j = new JoinLedger(greedy ? { baseMs: 1, maxMs: 2 } : undefined);
      const attempts: { t: number; us: number }[] = [];
      let t = rng.int(0, DAY);
      while (attempts.length < 300 && t < 5 * DAY) {
        const us = joinAirtimeAt("EU868", rng.int(0, 5));
        t = Math.max(t, j.earliestMs(t, us));
        j.needsFlashClaim(t, us);
        j.recordAttempt(t, us);
        attempts.push({ t, us });
        j.failed(t + 7000, () => rng.nextU32());
        t += 7000 + (rng.next() < 0.05 ? rng.int(0, 3 * HOUR) : 0);
      }
      checkWindows(attempts, attempts[0].t);
      phase3 += attempts.filter((a) => a.t >= attempts[0].t + 11 * HOUR).length;
    }), { numRuns: 40 });
    assert.ok(phase3 > 100, "the runs reach the 24 h regime");
  });

  it("backs off exponentially with jitter, capped", () => {
    const j = new JoinLedger();
    const rng = new Rng(9);
    for (let f = 1; f <= 12; f++) {
      const d = Math.min(15000 * 2 ** (f - 1), 3600000);
      for (let k = 0; k < 50; k++) {
        const x = j.delayMs(f, () => rng.nextU32());
        assert.ok(x >= Math.floor(d / 2) && x <= d, `failures ${f}: ${x}`);
      }
    }
  });

  it("a power cut at any join neither forgets spent airtime nor allows a burst (property)", () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 1e9 }), (seed) => {
      const rng = new Rng(seed);
      const backoff = { baseMs: 1, maxMs: 2 };
      let j = new JoinLedger(backoff);
      let flash = new DataView(new ArrayBuffer(JOIN_FLASH_BYTES));
      let writes = 0;
      const attempts: { t: number; us: number }[] = [];
      let t = 1000;
      while (attempts.length < 200 && t < 4 * DAY) {
        const us = joinAirtimeAt("EU868", rng.int(0, 5));
        t = Math.max(t, j.earliestMs(t, us));
        if (j.needsFlashClaim(t, us)) {
          const copy = new DataView(new ArrayBuffer(JOIN_FLASH_BYTES));
          j.toFlash(copy, 0);
          flash = copy;
          writes++;
        }
        j.recordAttempt(t, us);
        attempts.push({ t, us });
        t += 7000 + (rng.next() < 0.05 ? rng.int(0, 3 * HOUR) : 0);
        j.failed(t, () => rng.nextU32());
        if (rng.next() < 0.3) {
          // Power cut: RTC memory gone, the ledger comes back from the flash copy.
          j = new JoinLedger(backoff);
          j.fromFlash(flash, 0, t, () => rng.nextU32());
        }
      }
      checkWindows(attempts, attempts[0].t);
      assert.ok(writes <= attempts.length, `${writes} flash writes for ${attempts.length} attempts`);
    }), { numRuns: 40 });
  });

  it("puts the first join-request of a procedure off by 0..base, once; not the retries, nor a rejoin within a day", () => {
    const rng = new Rng(21);
    const random = () => rng.nextU32();
    const seen = new Set<number>();
    for (let k = 0; k < 400; k++) {
      const j = new JoinLedger();
      const now = 1000 + k;
      const d = j.spreadFirst(now, random);
      assert.ok(d >= 0 && d <= 15000, `${d}`);
      seen.add(Math.min(14, Math.floor(d / 1000)));
      assert.equal(j.earliestMs(now, 1482752), now + d);
      // Drawn once: a later flush in the same procedure (the wait did not fit) keeps the deadline.
      assert.equal(j.spreadFirst(now + 20000, random), 0);
      assert.equal(j.earliestMs(now + 20000, 1482752), now + 20000);
    }
    assert.equal(seen.size, 15, "every second of the 15 s is used");
    const j = new JoinLedger();
    j.spreadFirst(0, () => 5000);
    j.needsFlashClaim(5000, 1482752);
    j.recordAttempt(5000, 1482752);
    j.failed(7000, () => 0);
    assert.equal(j.spreadFirst(8000, () => 0xffffffff), 0, "a retry is spread by the back-off");
    j.needsFlashClaim(20000, 1482752);
    j.recordAttempt(20000, 1482752);
    j.succeeded(22000);
    assert.equal(j.spreadFirst(22000 + HOUR, () => 3000), 0, "a rejoin after a short session continues the procedure");
    assert.equal(j.spreadFirst(22000 + DAY, () => 3000), 3000, "after a day-long session a new procedure is spread again");
    // After a power cut the flash copy brings no deadline back: spread unless the node was failing.
    const flash = new DataView(new ArrayBuffer(JOIN_FLASH_BYTES));
    j.toFlash(flash, 0);
    const k = new JoinLedger();
    k.fromFlash(flash, 0, 30 * DAY, () => 0);
    assert.equal(k.spreadFirst(30 * DAY, () => 7000), 7000);
  });

  it("survives a round trip through RTC words", () => {
    const j = new JoinLedger();
    j.needsFlashClaim(5000, 1482752);
    j.recordAttempt(5000, 1482752);
    j.failed(12000, () => 0);
    const w = new Int32Array(JOIN_WORDS);
    j.save(w, 0);
    const k = new JoinLedger();
    k.load(w, 0);
    assert.equal(k.failures, 1);
    assert.equal(k.startMs, 5000);
    assert.equal(k.earliestMs(12000, 1482752), j.earliestMs(12000, 1482752));
  });
});
