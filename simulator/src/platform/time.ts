/** Simulator stand-in for Moddable's `time`: ticks and wall clock come from the current board's virtual clock. */
import { currentBoard } from "../core/board.ts";

const Time = {
  /** Monotonic milliseconds. */
  get ticks(): number {
    return currentBoard().clock.nowMs;
  },
  /** Sets the wall clock, in Unix seconds (as an SNTP or LoRaWAN time sync would). */
  set(seconds: number): void {
    const board = currentBoard();
    board.wallOffsetMs = seconds * 1000 - board.clock.nowMs;
  },
  /** Milliseconds from `start` to `end` (default now). */
  delta(start: number, end?: number): number {
    return (end ?? currentBoard().clock.nowMs) - start;
  },
  timezone: 0,
  dst: 0,
};

export default Time;
