/**
 * When a routine reading is due: at every reporting interval, but only if the
 * readings changed enough to matter, or if the heartbeat (the longest allowed
 * silence) is due. State lives in the node's retained words.
 */

/** Routine-report timing kept across deep sleep (times in RTC seconds). */
export class ReportSchedule {
  /** RTC seconds of the last interval check, −1 before the first. */
  lastCheckS = -1;
  /** RTC seconds of the last routine reading sent, −1 before the first. */
  lastSentS = -1;

  /** Whether the reporting interval has elapsed (always true before the first check). */
  intervalDue(nowS: number, intervalS: number): boolean {
    return this.lastCheckS < 0 || nowS - this.lastCheckS >= intervalS;
  }

  /** Whether the heartbeat forces a reading regardless of change. */
  heartbeatDue(nowS: number, heartbeatS: number): boolean {
    return this.lastSentS < 0 || nowS - this.lastSentS >= heartbeatS;
  }

  /** Records an interval check at `nowS`, and whether a reading was sent. */
  checked(nowS: number, sent: boolean): void {
    this.lastCheckS = nowS;
    if (sent) this.lastSentS = nowS;
  }

  /** Words in the retained state. */
  static readonly stateWords = 2;

  save(out: Int32Array, at: number): number {
    out[at] = this.lastCheckS;
    out[at + 1] = this.lastSentS;
    return at + 2;
  }

  load(src: Int32Array, at: number): number {
    this.lastCheckS = src[at];
    this.lastSentS = src[at + 1];
    return at + 2;
  }
}
