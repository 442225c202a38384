/**
 * A chip's supply on a switched rail, as its emulator keeps it: whether it is
 * powered, and how long it has been over the run (the time an energy budget
 * charges the chip's current for).
 */
import type { VirtualClock } from "../core/clock.ts";

/** Whether a chip is powered, since when, and for how long in all. */
export class Supply {
  readonly #clock: VirtualClock;
  /** Virtual time it was last switched on, or -1 while off. */
  #onSince: number;
  #onMs = 0;

  constructor(clock: VirtualClock, on: boolean) {
    this.#clock = clock;
    this.#onSince = on ? clock.nowMs : -1;
  }

  /** Whether it is powered now. */
  get on(): boolean {
    return this.#onSince >= 0;
  }

  /** Switches it on or off (as it already is: nothing changes). */
  switch(on: boolean): void {
    if (on === this.#onSince >= 0) return;
    const now = this.#clock.nowMs;
    if (on) this.#onSince = now;
    else {
      this.#onMs += now - this.#onSince;
      this.#onSince = -1;
    }
  }

  /** Milliseconds powered, up to now. */
  onMs(): number {
    return this.#onMs + (this.#onSince >= 0 ? this.#clock.nowMs - this.#onSince : 0);
  }
}
