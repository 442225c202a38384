/**
 * Simulator stand-in for `native:sleep` (firmware/native/sleep.c on the board).
 *
 * State lives on the current board: `retained` holds the RTC-memory bytes and
 * `sleepUntilMs` the wake time `deepSleep` asks for (Infinity when only a pin
 * can wake the node). What the real chip would report after the reset — reset
 * reason, wake cause, wake pins — is derived from the board when the firmware
 * asks, so a runner only has to advance the clock and start the firmware again.
 * Other resets are injected with `powerCut()` (RTC memory lost) and
 * `resetBoard()` (software/panic/watchdog/brown-out resets; the bootloader
 * reinitialises RTC_DATA_ATTR memory, so retained bytes are lost too).
 */
import { currentBoard, padsAtReset, padsAtSleep, releasePads, rtcSpanToVirtualMs, type Board } from "../core/board.ts";
import { bufferCopy, bytesView, lentCopy } from "./bytes.ts";

export const RETAIN_MAX = 1024;

export type WakePull = "up" | "down" | "none";
export interface Ext0Wake {
  pin: number;
  level: 0 | 1;
  pull?: WakePull;
}
export interface Ext1Wake {
  pins: readonly number[];
  mode?: "any-high" | "all-low" | "any-low";
  pull?: WakePull;
}
export interface DeepSleepOptions {
  ext0?: Ext0Wake;
  ext1?: Ext1Wake;
  /** Output pins latched through the sleep; on the board their level stays as it was, as it does here. */
  hold?: readonly number[];
}
export type ResetReason =
  | "unknown" | "power-on" | "external" | "software" | "panic" | "interrupt-watchdog"
  | "task-watchdog" | "watchdog" | "deep-sleep" | "brownout" | "sdio" | "usb" | "jtag"
  | "efuse" | "power-glitch" | "cpu-lockup";
export type WakeCause = "timer" | "ext0" | "ext1" | "ulp" | "other" | "none";

interface SleepState {
  /** Reason the firmware sees for the boot in progress. */
  reason: ResetReason;
  /** Wake sources armed by the last `deepSleep` (kept after `sleepUntilMs` is cleared by a runner). */
  ext0: Ext0Wake | undefined;
  ext1: Ext1Wake | undefined;
  /** Timer wake time of the last `deepSleep`, Infinity without a timer. */
  untilMs: number;
}

const states = new WeakMap<Board, SleepState>();

function state(board: Board): SleepState {
  let s = states.get(board);
  if (!s) {
    s = { reason: "power-on", ext0: undefined, ext1: undefined, untilMs: Number.POSITIVE_INFINITY };
    states.set(board, s);
  }
  return s;
}

/** ESP-IDF's ESP_ERR_INVALID_STATE, as sleep.c reports it. */
const ESP_ERR_INVALID_STATE = 0x103;

function checkPin(pin: number): number {
  if (!Number.isInteger(pin) || pin < 0 || pin > 63) throw new RangeError(`invalid pin ${pin}`);
  return pin;
}

function checkPull(pull: string | undefined): void {
  if (pull !== undefined && pull !== "up" && pull !== "down" && pull !== "none") throw new RangeError(`invalid pull "${pull}"`);
}

/**
 * Records the wake time on the board (`sleepUntilMs`) and the armed wake pins,
 * then returns (the real chip never does): the firmware must return right after.
 */
export function deepSleep(ms: number, options?: DeepSleepOptions): void {
  const duration = ms === undefined ? 0 : Number(ms);
  if (!(duration >= 0)) throw new RangeError(`invalid sleep duration ${ms}`);
  const ext0 = options?.ext0;
  const ext1 = options?.ext1;
  if (ext0) {
    checkPin(ext0.pin);
    checkPull(ext0.pull);
  }
  if (ext1) {
    if (!ext1.pins?.length) throw new RangeError("ext1 needs at least one pin");
    ext1.pins.forEach(checkPin);
    checkPull(ext1.pull);
    const mode = ext1.mode ?? "any-high";
    if (mode !== "any-high" && mode !== "all-low" && mode !== "any-low") throw new RangeError(`invalid ext1 mode "${mode}"`);
  }
  if (options?.hold) {
    if (!options.hold.length) throw new RangeError("hold needs at least one pin");
    options.hold.forEach(checkPin);
  }
  if (duration === 0 && !ext0 && !ext1) throw new RangeError("deepSleep needs a duration or a wake pin");
  const board = currentBoard();
  // ext0 and ext1 wake the chip only from RTC pads (sleep.c: esp_sleep_is_valid_wakeup_gpio); a board that names its chip is held to that.
  const pads = board.rtcPads;
  if (pads) for (const pin of [...(ext0 ? [ext0.pin] : []), ...(ext1?.pins ?? [])]) if (!pads.has(pin)) throw new RangeError(`deepSleep: GPIO ${pin} cannot wake the chip`);
  // The ESP32 cannot arm ext0 with the ULP's wake: esp_sleep_enable_ext0_wakeup returns ESP_ERR_INVALID_STATE
  // ("Conflicting wake-up triggers: touch / ULP"), and sleep.c throws. The S3 can.
  if (ext0 && board.chip === "esp32" && board.ulp?.wakeArmed) throw new Error(`deepSleep: ext0 on GPIO ${ext0.pin} failed (${ESP_ERR_INVALID_STATE})`);
  const s = state(board);
  s.ext0 = ext0 ? { ...ext0 } : undefined;
  s.ext1 = ext1 ? { ...ext1, pins: [...ext1.pins] } : undefined;
  // The sleep timer counts RTC ticks: a fast RTC ends the sleep early.
  s.untilMs = duration > 0 ? board.clock.nowMs + rtcSpanToVirtualMs(board, duration) : Number.POSITIVE_INFINITY;
  s.reason = "deep-sleep";
  board.sleepUntilMs = s.untilMs;
  padsAtSleep(board, options?.hold);
}

/** Releases held pins: each takes the level the firmware last wrote to it (a pin not held is left alone). */
export function releaseHold(pins: readonly number[]): void {
  if (!pins.length) throw new RangeError("releaseHold needs at least one pin");
  pins.forEach(checkPin);
  releasePads(currentBoard(), pins);
}

/** Keeps a copy of `bytes` in the board's RTC memory. */
export function retain(bytes: ArrayBuffer | ArrayBufferView): void {
  const view = bytesView(bytes);
  if (view.byteLength > RETAIN_MAX) throw new RangeError(`retain: ${view.byteLength} bytes exceed ${RETAIN_MAX}`);
  const board = currentBoard();
  // Into the board's RTC copy when the size is unchanged (every wake of a node whose layouts are stable): no allocation.
  const kept = board.retained;
  if (kept && kept.byteLength === view.byteLength) new Uint8Array(kept).set(view);
  else board.retained = bufferCopy(view);
}

/**
 * A copy of the retained bytes, or undefined after a power cut or a reset
 * other than a deep-sleep wake. A boot's first call refills the board's copy
 * from its last boot (`lentCopy`) instead of allocating one.
 */
export function retained(): ArrayBuffer | undefined {
  const board = currentBoard();
  const r = board.retained;
  return r ? lentCopy(board, "rtc", r) : undefined;
}

export function clearRetained(): void {
  currentBoard().retained = undefined;
}

export function resetReason(): ResetReason {
  return state(currentBoard()).reason;
}

/** Armed wake pins that are at their wake level on the board now, and which source they belong to. */
function activeWake(board: Board, s: SleepState): { cause: WakeCause; pins: number[] } | undefined {
  const level = (pin: number) => (board.pins.get(pin) ? 1 : 0);
  if (s.ext0 && level(s.ext0.pin) === s.ext0.level) return { cause: "ext0", pins: [s.ext0.pin] };
  if (s.ext1) {
    const mode = s.ext1.mode ?? "any-high";
    const pins = s.ext1.pins;
    if (mode === "any-high") {
      const high = pins.filter((p) => level(p) === 1);
      if (high.length) return { cause: "ext1", pins: high };
    } else if (mode === "any-low") {
      const low = pins.filter((p) => level(p) === 0);
      if (low.length) return { cause: "ext1", pins: low };
    } else if (pins.every((p) => level(p) === 0)) {
      return { cause: "ext1", pins: [...pins] };
    }
  }
  return undefined;
}

/** What ended the last deep sleep: a wake pin at its level wins over the timer, as on the chip when both fire. */
export function wakeCause(): WakeCause {
  const board = currentBoard();
  const s = state(board);
  if (s.reason !== "deep-sleep") return "none";
  const pin = activeWake(board, s);
  if (pin) return pin.cause;
  if (board.clock.nowMs >= s.untilMs) return "timer";
  return board.wokeByUlp ? "ulp" : "other";
}

export function wakePins(): number[] {
  const board = currentBoard();
  const s = state(board);
  if (s.reason !== "deep-sleep") return [];
  return activeWake(board, s)?.pins ?? [];
}

/** Simulation control: the battery was disconnected. RTC memory is lost and the next boot is a power-on. */
export function powerCut(board: Board = currentBoard()): void {
  loseRtcMemory(board, "power-on");
  // The RTC and the system time restart at the next power-on: the clock counts from it, and wall time is unset.
  board.powerOnMs = undefined;
  board.wallOffsetMs = undefined;
}

/**
 * Simulation control: a reset other than a deep-sleep wake (watchdog, panic,
 * software restart, brown-out). ESP-IDF's bootloader reloads RTC_DATA_ATTR
 * memory on these, so the retained bytes are gone as after a power cut; the
 * RTC timer, and the system time ESP-IDF keeps on it, run on.
 */
export function resetBoard(reason: Exclude<ResetReason, "deep-sleep">, board: Board = currentBoard()): void {
  loseRtcMemory(board, reason);
}

/** What every reset but a deep-sleep wake loses: RTC memory, the ULP program, the wake request; the next boot reports `reason`. */
function loseRtcMemory(board: Board, reason: ResetReason): void {
  board.retained = undefined;
  padsAtReset(board);
  board.powerCuts++; // the ULP's pulse count and everything else in RTC memory is gone
  board.ulp = undefined; // and the ULP stops with the power
  board.wokeByUlp = false;
  board.sleepUntilMs = undefined;
  states.set(board, { reason, ext0: undefined, ext1: undefined, untilMs: Number.POSITIVE_INFINITY });
}
