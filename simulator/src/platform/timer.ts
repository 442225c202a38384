/** Simulator stand-in for Moddable's `timer`: `delay` advances the current board's virtual clock. */
import { currentBoard } from "../core/board.ts";

/** Subset of Moddable's Timer the firmware uses. */
const Timer = {
  /** Blocks for `ms` of virtual time (Moddable: busy-wait/sleep the task). */
  delay(ms: number): void {
    const board = currentBoard();
    board.clock.advance(ms + board.taskOverheadMs);
  },
};

export default Timer;
