/** Simulator stand-in for `native:rtc`: the board's virtual clock and a seeded stand-in for the hardware RNG. */
import { currentBoard, rtcClockMs, wallClockMs, type Board } from "../core/board.ts";
import { Rng } from "../core/rng.ts";

const rngs = new WeakMap<Board, Rng>();

/** Milliseconds on the RTC since the board's power-on (the RTC runs on through deep sleep, at `board.rtcPpm`; before any boot, since the simulation started). */
export function rtcMs(): number {
  const board = currentBoard();
  return Math.floor(rtcClockMs(board) - (board.powerOnMs ?? 0));
}

/** Unix time in ms once `Time.set` was called on this board (kept on the RTC, so it drifts with it), else -1. */
export function unixMs(): number {
  const wall = wallClockMs(currentBoard());
  return wall === undefined ? -1 : Math.floor(wall);
}

/** Deterministic per board (seeded from `board.seed`), so runs repeat exactly. */
export function randomU32(): number {
  const board = currentBoard();
  let rng = rngs.get(board);
  if (!rng) rngs.set(board, (rng = new Rng(board.seed).fork("hardware-rng")));
  return rng.nextU32();
}
