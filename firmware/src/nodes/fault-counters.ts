/**
 * Per-sensor fault counters for the status uplink. A driver's SensorError is
 * counted here, never turned into a reading; the counts survive deep sleep
 * inside the node's retained state.
 */
import { SENSORS, FAULTS } from "../../../codecs/src/uplinks.ts";

/** Counts faults per sensor (saturating at 4095, the status field's range). */
export class FaultCounters {
  /** Fault count per sensor code. */
  readonly counts: Int32Array;
  /** Last fault code per sensor (0 = none). */
  readonly last: Int32Array;
  /** Faults since the last routine report (drives the `sensorFault` flag). */
  sinceReport = 0;

  constructor() {
    this.counts = new Int32Array(SENSORS.length);
    this.last = new Int32Array(SENSORS.length);
  }

  /** Records a fault of `sensor` (a name from codecs' SENSORS) of kind `fault` (SensorError fault name). */
  record(sensor: string, fault: string): void {
    const s = SENSORS.indexOf(sensor);
    if (s < 0) return;
    const f = FAULTS.indexOf(fault);
    if (this.counts[s] < 4095) this.counts[s]++;
    this.last[s] = f < 0 ? 0 : f;
    this.sinceReport++;
  }

  /** Entries for the status message: sensors with at least one fault, at most `max`. */
  entries(max: number): { sensor: number; faults: number; lastFault: number }[] {
    const out: { sensor: number; faults: number; lastFault: number }[] = [];
    for (let i = 0; i < this.counts.length && out.length < max; i++) {
      if (this.counts[i] > 0) out.push({ sensor: i, faults: this.counts[i], lastFault: this.last[i] });
    }
    return out;
  }

  /** Words needed in the retained state. */
  get stateWords(): number {
    return this.counts.length * 2 + 1;
  }

  /** Saves counters into `out` at `at`; returns the next index. */
  save(out: Int32Array, at: number): number {
    for (let i = 0; i < this.counts.length; i++) {
      out[at++] = this.counts[i];
      out[at++] = this.last[i];
    }
    out[at++] = this.sinceReport;
    return at;
  }

  /** Restores counters saved by `save`; returns the next index. */
  load(src: Int32Array, at: number): number {
    for (let i = 0; i < this.counts.length; i++) {
      this.counts[i] = Math.min(4095, Math.max(0, src[at++]));
      const f = src[at++];
      this.last[i] = f >= 0 && f < FAULTS.length ? f : 0;
    }
    this.sinceReport = Math.max(0, src[at++]);
    return at;
  }
}
