/** Simulator stand-in for Moddable's `time`: ticks and wall clock come from the current board's virtual clock. */
import { currentBoard, rtcClockMs } from "../core/board.ts";

const Time = {
  /** Monotonic milliseconds since this boot (on the ESP32 esp_timer, which starts again at every wake from deep sleep). */
  get ticks(): number {
    const board = currentBoard();
    return board.clock.nowMs - board.bootStartMs;
  },
  /** Sets the wall clock, in Unix seconds (as an SNTP or LoRaWAN time sync would). */
  set(seconds: number): void {
    const board = currentBoard();
    board.wallOffsetMs = seconds * 1000 - rtcClockMs(board);
  },
  /** Milliseconds from `start` to `end` (default now), both in `ticks`. */
  delta(start: number, end?: number): number {
    return (end ?? Time.ticks) - start;
  },
  timezone: 0,
  dst: 0,
};

export default Time;
