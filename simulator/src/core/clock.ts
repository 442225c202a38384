/** Virtual time for one simulated world: milliseconds since the run's epoch, advanced only on purpose. */
export class VirtualClock {
  #nowMs = 0;
  /** Wall-clock time (Unix ms) that corresponds to virtual 0. */
  readonly epochUnixMs: number;

  constructor(epochUnixMs = Date.UTC(2026, 0, 5)) {
    this.epochUnixMs = epochUnixMs;
  }

  /** Current virtual time in ms since the run started. */
  get nowMs(): number {
    return this.#nowMs;
  }

  /** Moves time forward; time never runs backwards. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`clock cannot advance by ${ms} ms`);
    this.#nowMs += ms;
  }

  /** Jumps to an absolute virtual time not earlier than now. */
  advanceTo(ms: number): void {
    if (ms > this.#nowMs) this.#nowMs = ms;
  }
}
