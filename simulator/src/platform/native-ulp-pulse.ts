/**
 * Simulator stand-in for `native:ulp-pulse` (firmware/native/ulp-pulse.c): the
 * ESP32's ULP co-processor counting meter pulses on an RTC GPIO through deep
 * sleep, where the PCNT peripheral is powered down. It offers the same API as
 * `embedded:io/pulsecount` (a 16-bit wrapping count), but its count lives in
 * RTC memory: it survives every wake and is lost only with the power.
 *
 * Minute ring. The program also counts its 1 ms periods; every
 * MINUTE_PERIODS of them it writes the count into a ring of RING_MINUTES
 * words, and it wakes the CPU when the minute just ended had at least
 * `burstPulses` pulses, or when `minutes` minutes have ended since the CPU
 * last took the ring (both set by `wakeOn`, each boot). The simulator runs
 * that logic at the minute boundaries (board.ulp, driven by NodeHost): one
 * step per simulated minute instead of a firmware boot.
 */
import { currentBoard, rtcSpanToVirtualMs, type Board, type UlpProgram } from "../core/board.ts";

/** Minutes the ring holds (RTC words), as in ulp-pulse.c and ulp-pulse.js. */
export const RING_MINUTES = 16;
/** Program periods per ring minute: 60,000 × 1 ms. */
export const MINUTE_MS = 60_000;

/** Wake conditions of `wakeOn` (0 switches one off). */
export interface UlpWake {
  /** Wake the CPU once this many minutes have ended since the ring was last taken (1..RING_MINUTES − 1). */
  minutes: number;
  /** Wake the CPU at the end of a minute with at least this many pulses (0..65535). */
  burstPulses: number;
}

function total(board: Board, pin: number): number {
  const source = board.pulses.get(pin);
  return source ? source.pulsesUntil(board.clock.nowMs) : 0;
}

/** The ULP program of one power-on: its count and minute ring in RTC memory. */
class Program implements UlpProgram {
  readonly #board: Board;
  readonly pin: number;
  /** Pulses already on the wire when the count was last cleared. */
  base: number;
  readonly #startMs: number;
  /** Minutes ended since the program started (the C side keeps it mod 2^16). */
  ended = 0;
  /** `ended` when the CPU last took the ring. */
  taken = 0;
  readonly ring = new Int32Array(RING_MINUTES);
  /** Count at the start of the minute under way. */
  minuteStart = 0;
  wakeMinutes = 0;
  burstPulses = 0;
  /** The firmware armed the ULP wake for the sleep it is in (reset at every boot, as on the chip). */
  wakeArmed = false;

  constructor(board: Board, pin: number) {
    this.#board = board;
    this.pin = pin;
    this.base = total(board, pin);
    this.#startMs = board.clock.nowMs;
  }

  /** The 16-bit count now. */
  count(): number {
    return (total(this.#board, this.pin) - this.base) & 0xffff;
  }

  get nextBoundaryMs(): number {
    // The ULP's timer counts RTC ticks, so its minutes drift with the RTC.
    return this.#startMs + rtcSpanToVirtualMs(this.#board, (this.ended + 1) * MINUTE_MS);
  }

  boundary(): boolean {
    return this.#endMinute() && this.wakeArmed;
  }

  /** Runs the boundaries the clock has passed (those that fell while the CPU was awake: no wake then). */
  catchUp(): void {
    while (this.nextBoundaryMs <= this.#board.clock.nowMs) this.#endMinute();
  }

  /** Records the minute ending now in the ring; true if its wake conditions hold (they wake a sleeping CPU only). */
  #endMinute(): boolean {
    const c = this.count();
    this.ring[this.ended % RING_MINUTES] = c;
    this.ended++;
    const pulses = (c - this.minuteStart) & 0xffff;
    this.minuteStart = c;
    return (this.burstPulses > 0 && pulses >= this.burstPulses) || (this.wakeMinutes > 0 && this.ended - this.taken >= this.wakeMinutes);
  }

  /** Milliseconds on the RTC since the last minute boundary. */
  get msIntoMinute(): number {
    const board = this.#board;
    if (board.rtcPpm === 0) return board.clock.nowMs - (this.nextBoundaryMs - MINUTE_MS);
    const last = this.#startMs + rtcSpanToVirtualMs(board, this.ended * MINUTE_MS);
    return (board.clock.nowMs - last) * (1 + board.rtcPpm / 1e6);
  }
}

/** A pulse counter kept by the ULP: `new UlpPulseCount({ signal })`; `read()` gives the 16-bit wrapping count. */
export default class UlpPulseCount {
  readonly #program: Program;

  constructor(options: { signal: number; filter?: number; debounceUs?: number }) {
    const board = currentBoard();
    // The ULP reads only RTC pads (ulp-pulse.c: rtc_io_number_get); a board that names its chip is held to that.
    if (board.rtcPads && !board.rtcPads.has(options.signal)) throw new RangeError(`pin ${options.signal} is not an RTC GPIO`);
    const running = board.ulp;
    // The ULP program starts counting at power-on (approximated by its first use after one); a power cut stops it (board.ulp cleared).
    if (running instanceof Program && running.pin === options.signal) this.#program = running;
    else board.ulp = this.#program = new Program(board, options.signal);
    this.#program.wakeArmed = false; // wake sources are configured anew at every boot
    this.#program.catchUp();
  }

  /** The count, wrapping in the signed 16-bit range like a PCNT unit. */
  read(): number {
    this.#program.catchUp();
    const n = this.#program.count();
    return n >= 0x8000 ? n - 0x10000 : n;
  }

  /** Sets the count (0 clears it). */
  write(value: number): void {
    const p = this.#program;
    p.catchUp();
    const delta = ((value & 0xffff) - p.count()) & 0xffff;
    // The count moves by `delta` mod 2^16, and the minute under way with it; the ring keeps the counts it recorded.
    p.base -= delta;
    p.minuteStart = (p.minuteStart + delta) & 0xffff;
  }

  /**
   * Copies the counts at the ends of the minutes that ended since the last
   * call, oldest first, into `into` (at most RING_MINUTES and `into.length`),
   * and returns how many minutes ended: more than were copied when the ring
   * overflowed (the older ones are gone).
   */
  minutes(into: Int32Array): number {
    const p = this.#program;
    p.catchUp();
    const n = p.ended - p.taken;
    const copy = Math.min(n, RING_MINUTES, into.length);
    for (let i = 0; i < copy; i++) into[i] = p.ring[(p.ended - copy + i) % RING_MINUTES];
    p.taken = p.ended;
    return n;
  }

  /** The count at the start of the minute under way. */
  minuteStart(): number {
    this.#program.catchUp();
    return this.#program.minuteStart;
  }

  /** Milliseconds since the last minute ended. */
  msIntoMinute(): number {
    this.#program.catchUp();
    return this.#program.msIntoMinute;
  }

  /** Sets the wake conditions and enables the ULP wake for the coming deep sleep. */
  wakeOn(wake: UlpWake): void {
    const minutes = wake.minutes | 0;
    const burst = wake.burstPulses | 0;
    if (minutes < 0 || minutes >= RING_MINUTES) throw new RangeError(`ULP wake after ${wake.minutes} minutes: 0..${RING_MINUTES - 1}`);
    if (burst < 0 || burst > 0xffff) throw new RangeError(`ULP burst threshold ${wake.burstPulses}: 0..65535`);
    const p = this.#program;
    p.wakeMinutes = minutes;
    p.burstPulses = burst;
    p.wakeArmed = minutes > 0 || burst > 0;
  }

  close(): void {}
}
