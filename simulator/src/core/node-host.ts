/**
 * Runs one node's firmware the way the ESP32 does: every wake is a fresh boot
 * that runs `main` to completion; `main` ends by asking for deep sleep, and the
 * host jumps the board's virtual clock to the requested wake time. Nothing of
 * the firmware's JavaScript state survives between boots, only what it kept in
 * RTC memory (`native:sleep` retain) and flash (`preference`).
 *
 * A ULP program on the board (`board.ulp`, see native-ulp-pulse.ts) runs at
 * its minute boundaries while the node sleeps; when it wakes the CPU, that
 * boundary is the next boot. `nextEventMs`/`step()` interleave both.
 */
import { setCurrentBoard, type Board } from "./board.ts";

/** Runs one boot of the firmware on the current board. */
export type FirmwareMain = () => void;

/** Record of one boot, for tests and reports. */
export interface BootRecord {
  atMs: number;
  /** How long the firmware ran before sleeping (virtual ms). */
  awakeMs: number;
  /** Requested wake time, or Infinity if only a pin can wake it. */
  sleepUntilMs: number;
}

/** Drives one node's boots over virtual time. */
export class NodeHost {
  readonly board: Board;
  readonly #main: FirmwareMain;
  readonly boots: BootRecord[] = [];
  /** Keep at most this many boot records (long runs). */
  maxRecords = 100000;
  #nextWakeMs: number;

  constructor(board: Board, main: FirmwareMain, firstBootMs = board.clock.nowMs) {
    this.board = board;
    this.#main = main;
    this.#nextWakeMs = firstBootMs;
  }

  /** Virtual time of the next boot. */
  get nextWakeMs(): number {
    return this.#nextWakeMs;
  }

  /** Virtual time of the ULP program's next minute boundary (Infinity without one). */
  get ulpBoundaryMs(): number {
    return this.board.ulp ? this.board.ulp.nextBoundaryMs : Number.POSITIVE_INFINITY;
  }

  /** The next thing this host does: a boot or a ULP boundary. */
  get nextEventMs(): number {
    return Math.min(this.#nextWakeMs, this.ulpBoundaryMs);
  }

  /**
   * Runs the ULP boundary due now (the clock must be there, before the next
   * boot); if the program wakes the CPU, the next boot is now.
   */
  ulpBoundary(): boolean {
    const board = this.board;
    if (!board.ulp!.boundary()) return false;
    this.#nextWakeMs = board.clock.nowMs;
    board.wokeByUlp = true;
    return true;
  }

  /** Handles the next event (`nextEventMs`): a ULP boundary before the next boot, or the boot; returns the boot record if one ran. */
  step(): BootRecord | undefined {
    const ulpAt = this.ulpBoundaryMs;
    if (ulpAt < this.#nextWakeMs) {
      this.board.clock.advanceTo(ulpAt);
      if (!this.ulpBoundary()) return undefined;
    }
    return this.bootOnce();
  }

  /** Boots once now (at the next wake time, or now if that has passed) and returns when the firmware sleeps. */
  bootOnce(): BootRecord {
    const board = this.board;
    board.clock.advanceTo(this.#nextWakeMs);
    const start = board.clock.nowMs;
    board.sleepUntilMs = undefined;
    board.booting(true);
    setCurrentBoard(board);
    try {
      this.#main();
    } finally {
      setCurrentBoard(undefined);
      board.booting(false);
      board.wokeByUlp = false;
      board.ulp?.catchUp();
    }
    const until = board.sleepUntilMs;
    if (until === undefined) throw new Error(`firmware returned at ${start} ms without asking for deep sleep`);
    if (!(until > board.clock.nowMs)) throw new Error(`firmware asked to wake at ${until} ms, not after now (${board.clock.nowMs} ms)`);
    const record = { atMs: start, awakeMs: board.clock.nowMs - start, sleepUntilMs: until };
    if (this.boots.length < this.maxRecords) this.boots.push(record);
    this.#nextWakeMs = until;
    return record;
  }

  /** Boots repeatedly until the next wake lies beyond `untilMs`, then advances the clock to `untilMs`. */
  runUntil(untilMs: number): void {
    while (this.nextEventMs <= untilMs) this.step();
    this.board.clock.advanceTo(untilMs);
  }

  /** Makes the next boot happen at `atMs` (e.g. a wake pin, or a power restore after a cut). */
  wakeAt(atMs: number): void {
    this.#nextWakeMs = Math.max(atMs, this.board.clock.nowMs);
  }
}
