/** The phase and jitter that keep a fleet's wakes apart (firmware/src/nodes/wake-timing.ts). */
import assert from "node:assert/strict";
import fc from "fast-check";
import { MAX_JITTER_MS, PHASE_RANGE_S, DOWNLINK_WAKE_MS, drawPhaseS, gridAfter, gridAtOrBefore, jitterSpanMs, jitteredSleepMs, nextSleepMs } from "../../../firmware/src/nodes/wake-timing.ts";

/** A runtime whose RNG returns the given 32-bit words in turn. */
function rngOf(...words: number[]): { random(): number } {
  let i = 0;
  return { random: () => words[i++ % words.length] };
}

describe("wake timing", () => {
  it("jitter: a sleep only ever gets longer, by at most a sixteenth of it and MAX_JITTER_MS", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 24 * 3_600_000 }), fc.integer({ min: -0x80000000, max: 0xffffffff }), (ms, word) => {
        const out = jitteredSleepMs(ms, rngOf(word));
        const span = jitterSpanMs(ms);
        assert.ok(span <= MAX_JITTER_MS && span <= ms / 16);
        assert.ok(Number.isInteger(out) && out >= ms && out <= ms + span, `${ms} → ${out}`);
      }),
    );
  });

  it("jitter: the RNG's extremes reach both ends of the span, and a long sleep's span is capped", () => {
    assert.equal(jitteredSleepMs(300_000, rngOf(0)), 300_000);
    assert.equal(jitteredSleepMs(300_000, rngOf(18_750)), 318_750);
    assert.equal(jitteredSleepMs(300_000, rngOf(18_751)), 300_000);
    assert.equal(jitterSpanMs(900_000), MAX_JITTER_MS);
    assert.equal(jitterSpanMs(60_000), 3_750);
    // Signed and unsigned words are the same bits.
    assert.equal(jitteredSleepMs(60_000, rngOf(-1)), jitteredSleepMs(60_000, rngOf(0xffffffff)));
  });

  it("jitter: uniform enough that 1,000 nodes switched on together spread over the whole span", () => {
    let x = 12345;
    const rng = { random: () => (x = Math.imul(x, 1103515245) + 12345) >>> 0 };
    const seconds = new Set<number>();
    let late = 0;
    for (let i = 0; i < 1000; i++) {
      const d = jitteredSleepMs(900_000, rng) - 900_000;
      seconds.add(Math.floor(d / 1000));
      if (d >= MAX_JITTER_MS / 2) late++;
    }
    // Seconds 0..29 (the span's last millisecond, 30,000, is one value in 30,001).
    assert.ok(seconds.size >= 30, `${seconds.size} distinct seconds of the 30 s span`);
    assert.ok(late > 420 && late < 580, `${late} of 1,000 in the second half`);
  });

  it("the next sleep: a second when downlinks wait to be applied, else as asked; jittered either way", () => {
    const rt = (waiting: number) => ({ random: () => 0, link: { downlinksWaiting: () => waiting } as never });
    assert.equal(nextSleepMs(300_000, rt(0)), 300_000);
    assert.equal(nextSleepMs(300_000, rt(2)), DOWNLINK_WAKE_MS);
    assert.equal(nextSleepMs(500, rt(1)), 500, "never longer than asked");
    const late = { random: () => 0xffffffff, link: { downlinksWaiting: () => 1 } as never };
    assert.ok(nextSleepMs(900_000, late) <= DOWNLINK_WAKE_MS + jitterSpanMs(DOWNLINK_WAKE_MS));
  });

  it("phase: in [0, PHASE_RANGE_S), from the RNG's word", () => {
    fc.assert(
      fc.property(fc.integer({ min: -0x80000000, max: 0xffffffff }), (word) => {
        const p = drawPhaseS(rngOf(word));
        assert.ok(Number.isInteger(p) && p >= 0 && p < PHASE_RANGE_S);
        assert.equal(p, (word >>> 0) % PHASE_RANGE_S);
      }),
    );
  });

  it("grid: the slot a time falls in, and the next one, at most a period away", () => {
    fc.assert(
      fc.property(fc.integer({ min: -4000, max: 2 ** 31 - 4000 }), fc.constantFrom(1, 7, 15, 60, 300, 900, 3600), fc.integer({ min: 0, max: PHASE_RANGE_S - 1 }), (t, period, phase) => {
        const slot = gridAtOrBefore(t, period, phase);
        const next = gridAfter(t, period, phase);
        assert.ok(slot <= t && t - slot < period, `${t} ${period} ${phase} → ${slot}`);
        assert.equal(next, slot + period);
        assert.ok(next > t && next - t <= period);
        assert.equal((((next - phase) % period) + period) % period, 0);
      }),
    );
    // Phase 0 is the unshifted grid the level node used before phases.
    for (const now of [0, 1, 899, 900, 901, 123_456]) assert.equal(gridAfter(now, 900, 0), now - (now % 900) + 900);
    assert.equal(gridAfter(0, 900, 17), 17);
    assert.equal(gridAfter(17, 900, 17), 917);
    assert.equal(gridAfter(10, 300, 3599), 299);
    assert.equal(gridAtOrBefore(10, 60, 43), -17);
  });
});
