// Leak statistics for the water node. Two classic signs of a leak behind a meter:
// the minimum flow during the night (when nobody draws water) stays above zero, and
// the flow never stops at all for a day. Both need only comparisons and sums of
// integers, so the block is exact.
import { checkSpan, corrupt, readFlag } from "./persist.ts";
import { INT32_MAX } from "./q.ts";

const STATE_WORDS = 6;

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
 */
export class NightFlowMonitor {
  private readonly start: number;
  private readonly end: number;
  private readonly zero: number;
  private readonly leakRun: number;
  private open = false;
  private seen = false;
  private runningMin = 0;
  private lastMin = NIGHT_FLOW_UNAVAILABLE;
  private run = 0;
  private longest = 0;

  /** Creates a monitor with no night observed and no flow run. */
  constructor(options: NightFlowOptions) {
    const { nightStartS, nightEndS } = options;
    const zero = options.zeroFlowMlMin ?? 0;
    const leakRun = options.leakRunS ?? DAY_S;
    if (!isTimeOfDay(nightStartS) || !isTimeOfDay(nightEndS) || nightStartS === nightEndS) {
      throw new RangeError(`night window needs two different times of day 0..86399, got ${nightStartS}, ${nightEndS}`);
    }
    if (!Number.isInteger(zero) || zero < 0 || !Number.isInteger(leakRun) || leakRun < 1) {
      throw new RangeError(`need zeroFlowMlMin ≥ 0 and leakRunS ≥ 1, got ${zero}, ${leakRun}`);
    }
    this.start = nightStartS;
    this.end = nightEndS;
    this.zero = zero;
    this.leakRun = leakRun;
  }

  /** Feeds the flow (mL/min) of the dtS seconds (≥ 0) ending at timeOfDayS (0..86399). */
  update(timeOfDayS: number, flowMlMin: number, dtS: number): void {
    const t = timeOfDayS | 0;
    const dt = Math.max(0, dtS | 0);
    const flow = Math.max(0, flowMlMin | 0);
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
    if (this.open && this.inWindow(t)) {
      if (!this.seen || flow < this.runningMin) this.runningMin = flow;
      this.seen = true;
    }
    if (flow > this.zero) {
      this.run = this.run > INT32_MAX - dt ? INT32_MAX : this.run + dt;
    } else {
      this.run = 0;
    }
    if (this.run > this.longest) this.longest = this.run;
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

  /** Words save writes: 6 (window open 0/1, night sample seen 0/1, running minimum, last night's minimum, run, longest run). */
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
    return at + STATE_WORDS;
  }

  /**
   * Restores a state saved by a monitor with the same options; returns the next index.
   * Throws RangeError (changing nothing) unless both flags are 0 or 1, a night sample
   * is only seen while the window is open, the running minimum, run and longest run
   * are ≥ 0 and the last minimum is ≥ −1 (NIGHT_FLOW_UNAVAILABLE).
   */
  load(src: Int32Array, at: number): number {
    checkSpan(src, at, STATE_WORDS, "NightFlowMonitor");
    const open = readFlag(src[at], "NightFlowMonitor", "open");
    const seen = readFlag(src[at + 1], "NightFlowMonitor", "seen");
    const runningMin = src[at + 2];
    const lastMin = src[at + 3];
    const run = src[at + 4];
    const longest = src[at + 5];
    if (seen && !open) throw corrupt("NightFlowMonitor", "night sample seen with the window closed");
    if (runningMin < 0) throw corrupt("NightFlowMonitor", `running minimum ${runningMin} < 0`);
    if (lastMin < NIGHT_FLOW_UNAVAILABLE) throw corrupt("NightFlowMonitor", `night minimum ${lastMin} < −1`);
    if (run < 0 || longest < 0) throw corrupt("NightFlowMonitor", `flow run ${run} or longest ${longest} < 0`);
    this.open = open;
    this.seen = seen;
    this.runningMin = runningMin;
    this.lastMin = lastMin;
    this.run = run;
    this.longest = longest;
    return at + STATE_WORDS;
  }

  private inWindow(t: number): boolean {
    return this.start < this.end ? t >= this.start && t < this.end : t >= this.start || t < this.end;
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

// Seconds from the latest occurrence of time of day `edge` up to time of day t, 0..86399.
function ago(t: number, edge: number): number {
  const d = t - edge;
  return d < 0 ? d + DAY_S : d;
}
