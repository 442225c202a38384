// Leak statistics for the water node. Two classic signs of a leak behind a meter:
// the minimum flow during the night (when nobody draws water) stays above zero, and
// the flow never stops at all for a day. Both need only comparisons and sums of
// integers, so the block is exact.
//
// A pulse meter only resolves a flow averaged over enough time: one pulse of a
// 10 L reed output in a minute reads as 10,000 mL/min and none as 0, so a
// per-minute minimum of such a meter is 0 whatever leaks. With `bucketS` the
// block judges flow averaged over buckets of that length instead, for both the
// night minimum and the run (the run then means "no bucket without flow", the
// continuous-flow rule of utility meters, which use hour buckets).
import { checkSpan, corrupt, readFlag } from "./persist.ts";
import { INT32_MAX, addSat32, divTrunc } from "./q.ts";

const STATE_WORDS = 8;
/** Longest bucket (s): an hour, the utilities' continuous-flow unit; it divides every whole-hour window edge. */
const MAX_BUCKET_S = 3600;

/** Seconds per day; times of day are 0..86399. */
export const DAY_S = 86400;
/** nightMinMlMin while no complete night has been observed. */
export const NIGHT_FLOW_UNAVAILABLE = -1;

/** Night window (times of day in seconds) and thresholds for NightFlowMonitor. */
export interface NightFlowOptions {
  /** Start of the night window, seconds after midnight (0..86399), inclusive. */
  nightStartS: number;
  /** End of the night window, seconds after midnight (0..86399), exclusive; below nightStartS the window wraps midnight. */
  nightEndS: number;
  /** Flow at or below this (mL/min) counts as "no flow" for run detection (default 0). */
  zeroFlowMlMin?: number;
  /** A flow run at least this long (seconds) is a leak (default 86400, one day). */
  leakRunS?: number;
  /**
   * Seconds of flow averaged before it is judged (default 0: each update on its own). Otherwise a
   * divisor of MAX_BUCKET_S that also divides both window edges; buckets start at multiples of it.
   */
  bucketS?: number;
}

/**
 * Minimum night flow and continuous-flow run from flow samples in mL/min (int32; negatives count as 0).
 * Each update(timeOfDayS, flowMlMin, dtS) covers the interval (t − dtS, t] ending at
 * time of day t, and consecutive updates are contiguous (dtS = time since the last one).
 * A sample belongs to the night if t is in [nightStartS, nightEndS). A night's minimum
 * is published when an update crosses the window's end, only if an earlier update
 * crossed its start (the whole window was watched), at least one sample fell inside,
 * and no update lasted a day or more; otherwise the statistic is unavailable until the
 * next complete night. The run grows by dtS for each sample above zeroFlowMlMin and
 * restarts at 0 on any other, saturating at 2^31 − 1 s. Error: 0 (no rounding).
 *
 * With bucketS = B > 0 the updates are summed into buckets that end at multiples
 * of B, and each bucket is judged as one sample instead: its flow is the mean
 * ⌊Σ flow·dt / Σ dt⌋ (mL/min, rounded down) over the updates in it, an update
 * counts in the bucket it starts in (so a bucket ends with the update that reaches
 * or crosses its end), a bucket is in the night if the window was open while it
 * ran (edges fall on bucket ends) and the update that ended it crossed no other
 * bucket end, and the run grows by the bucket's Σ dt at its end (or restarts).
 * Σ flow·dt saturates at 2^31 − 1 (a mean too low, only for flows of 600 L/min
 * held an hour).
 */
export class NightFlowMonitor {
  private readonly start: number;
  private readonly end: number;
  private readonly zero: number;
  private readonly leakRun: number;
  private readonly bucket: number;
  private open = false;
  private seen = false;
  private runningMin = 0;
  private lastMin = NIGHT_FLOW_UNAVAILABLE;
  private run = 0;
  private longest = 0;
  private bucketFlow = 0;
  private bucketDt = 0;

  /** Creates a monitor with no night observed and no flow run. */
  constructor(options: NightFlowOptions) {
    const { nightStartS, nightEndS } = options;
    const zero = options.zeroFlowMlMin ?? 0;
    const leakRun = options.leakRunS ?? DAY_S;
    const bucket = options.bucketS ?? 0;
    if (!isTimeOfDay(nightStartS) || !isTimeOfDay(nightEndS) || nightStartS === nightEndS) {
      throw new RangeError(`night window needs two different times of day 0..86399, got ${nightStartS}, ${nightEndS}`);
    }
    if (!Number.isInteger(zero) || zero < 0 || !Number.isInteger(leakRun) || leakRun < 1) {
      throw new RangeError(`need zeroFlowMlMin ≥ 0 and leakRunS ≥ 1, got ${zero}, ${leakRun}`);
    }
    if (!Number.isInteger(bucket) || bucket < 0 || bucket > MAX_BUCKET_S ||
        (bucket > 0 && (MAX_BUCKET_S % bucket !== 0 || nightStartS % bucket !== 0 || nightEndS % bucket !== 0))) {
      throw new RangeError(`bucketS must be 0 or divide ${MAX_BUCKET_S} and both window edges, got ${bucket}`);
    }
    this.start = nightStartS;
    this.end = nightEndS;
    this.zero = zero;
    this.leakRun = leakRun;
    this.bucket = bucket;
  }

  /** Feeds the flow (mL/min) of the dtS seconds (≥ 0) ending at timeOfDayS (0..86399). */
  update(timeOfDayS: number, flowMlMin: number, dtS: number): void {
    const t = timeOfDayS | 0;
    const dt = Math.max(0, dtS | 0);
    const flow = Math.max(0, flowMlMin | 0);
    const bucket = this.bucket;
    if (bucket > 0) {
      this.bucketFlow = addSat32(this.bucketFlow, mulSat(flow, dt));
      this.bucketDt = addSat32(this.bucketDt, dt);
      // A bucket end in (t − dt, t]: judge the bucket before the window edges move (an edge is a bucket end).
      // Only a bucket ended by an update that crosses no other bucket end can be a night sample.
      const sinceEnd = t % bucket;
      if (sinceEnd < dt) this.closeBucket(dt <= sinceEnd + bucket);
    }
    if (dt >= DAY_S) {
      // A day or more in one step swallows a whole window: nothing about it is known.
      this.open = false;
      this.seen = false;
      this.lastMin = NIGHT_FLOW_UNAVAILABLE;
    } else {
      // How long ago each window edge last occurred; it lies in this step iff that is < dt.
      const sinceStart = ago(t, this.start);
      const sinceEnd = ago(t, this.end);
      const crossedStart = sinceStart < dt;
      const crossedEnd = sinceEnd < dt;
      if (crossedStart && crossedEnd && sinceEnd > sinceStart) {
        this.closeNight();
        this.openNight();
      } else {
        if (crossedStart) this.openNight();
        if (crossedEnd) this.closeNight();
      }
    }
    if (bucket > 0) return;
    if (this.open && this.inWindow(t)) this.nightSample(flow);
    this.grow(flow, dt);
  }

  /** Whether the last night window was observed completely. */
  get nightMinAvailable(): boolean {
    return this.lastMin !== NIGHT_FLOW_UNAVAILABLE;
  }

  /** Minimum flow (mL/min) of the last complete night window, or NIGHT_FLOW_UNAVAILABLE (−1). */
  get nightMinMlMin(): number {
    return this.lastMin;
  }

  /** Seconds since the flow was last at or below zeroFlowMlMin (the ongoing run). */
  get flowRunS(): number {
    return this.run;
  }

  /** Longest run reached since construction or clearLongestFlowRun(), an ongoing run counted from its real start. */
  get longestFlowRunS(): number {
    return this.longest;
  }

  /** Starts a new reporting period for longestFlowRunS. */
  clearLongestFlowRun(): void {
    this.longest = 0;
  }

  /** Leak: the flow has not dropped to zero for leakRunS seconds (a day by default). */
  get leak(): boolean {
    return this.run >= this.leakRun;
  }

  /** Words save writes: 8 (window open 0/1, night sample seen 0/1, running minimum, last night's minimum, run, longest run, the bucket's Σ flow·dt and Σ dt). */
  get stateWords(): number {
    return STATE_WORDS;
  }

  /** Writes the state at out[at …] for deep sleep; returns the next free index. */
  save(out: Int32Array, at: number): number {
    checkSpan(out, at, STATE_WORDS, "NightFlowMonitor");
    out[at] = this.open ? 1 : 0;
    out[at + 1] = this.seen ? 1 : 0;
    out[at + 2] = this.runningMin;
    out[at + 3] = this.lastMin;
    out[at + 4] = this.run;
    out[at + 5] = this.longest;
    out[at + 6] = this.bucketFlow;
    out[at + 7] = this.bucketDt;
    return at + STATE_WORDS;
  }

  /**
   * Restores a state saved by a monitor with the same options, or with other ones
   * (a monitor without buckets carries the bucket's sums unused); returns the next index.
   * Throws RangeError (changing nothing) unless both flags are 0 or 1, a night sample
   * is only seen while the window is open, the running minimum, run, longest run and
   * both bucket sums are ≥ 0 and the last minimum is ≥ −1 (NIGHT_FLOW_UNAVAILABLE).
   */
  load(src: Int32Array, at: number): number {
    checkSpan(src, at, STATE_WORDS, "NightFlowMonitor");
    const open = readFlag(src[at], "NightFlowMonitor", "open");
    const seen = readFlag(src[at + 1], "NightFlowMonitor", "seen");
    const runningMin = src[at + 2];
    const lastMin = src[at + 3];
    const run = src[at + 4];
    const longest = src[at + 5];
    const bucketFlow = src[at + 6];
    const bucketDt = src[at + 7];
    if (seen && !open) throw corrupt("NightFlowMonitor", "night sample seen with the window closed");
    if (runningMin < 0) throw corrupt("NightFlowMonitor", `running minimum ${runningMin} < 0`);
    if (lastMin < NIGHT_FLOW_UNAVAILABLE) throw corrupt("NightFlowMonitor", `night minimum ${lastMin} < −1`);
    if (run < 0 || longest < 0) throw corrupt("NightFlowMonitor", `flow run ${run} or longest ${longest} < 0`);
    if (bucketFlow < 0 || bucketDt < 0) throw corrupt("NightFlowMonitor", `bucket sums ${bucketFlow}, ${bucketDt} < 0`);
    this.open = open;
    this.seen = seen;
    this.runningMin = runningMin;
    this.lastMin = lastMin;
    this.run = run;
    this.longest = longest;
    this.bucketFlow = bucketFlow;
    this.bucketDt = bucketDt;
    return at + STATE_WORDS;
  }

  private inWindow(t: number): boolean {
    return this.start < this.end ? t >= this.start && t < this.end : t >= this.start || t < this.end;
  }

  private nightSample(flow: number): void {
    if (!this.seen || flow < this.runningMin) this.runningMin = flow;
    this.seen = true;
  }

  private grow(flow: number, dt: number): void {
    if (flow > this.zero) {
      this.run = this.run > INT32_MAX - dt ? INT32_MAX : this.run + dt;
    } else {
      this.run = 0;
    }
    if (this.run > this.longest) this.longest = this.run;
  }

  private closeBucket(whole: boolean): void {
    // Σ dt ≥ 1 here: the update that ends a bucket has dt > 0.
    const mean = divTrunc(this.bucketFlow, this.bucketDt);
    const span = this.bucketDt;
    this.bucketFlow = 0;
    this.bucketDt = 0;
    if (this.open && whole) this.nightSample(mean);
    this.grow(mean, span);
  }

  private openNight(): void {
    this.open = true;
    this.seen = false;
  }

  private closeNight(): void {
    this.lastMin = this.open && this.seen ? this.runningMin : NIGHT_FLOW_UNAVAILABLE;
    this.open = false;
    this.seen = false;
  }
}

function isTimeOfDay(s: number): boolean {
  return Number.isInteger(s) && s >= 0 && s < DAY_S;
}

// flow·dt for flow, dt ≥ 0, saturating at INT32_MAX (the quotient only off the common small-operand path).
function mulSat(flow: number, dt: number): number {
  if (flow < 0x8000 && dt < 0x10000) return Math.imul(flow, dt);
  return dt !== 0 && flow > divTrunc(INT32_MAX, dt) ? INT32_MAX : Math.imul(flow, dt);
}

// Seconds from the latest occurrence of time of day `edge` up to time of day t, 0..86399.
function ago(t: number, edge: number): number {
  const d = t - edge;
  return d < 0 ? d + DAY_S : d;
}
