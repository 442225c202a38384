/**
 * Simulator stand-in for `embedded:io/pulsecount` as on Moddable's ESP32 port:
 * a PCNT unit whose hardware count is a signed 16-bit value that wraps, so the
 * driver has to handle wrap-around. It keeps counting while the CPU sleeps, as
 * the ULP co-processor does on the real board.
 *
 * Input conditioning is modelled so debounce settings matter in tests:
 * - `filter` (ns) is the PCNT glitch filter. The hardware register holds at most
 *   1023 APB cycles of 12.5 ns, so larger values are clamped to 12,787 ns, as
 *   the peripheral would; pulses narrower than the filter are not counted.
 * - `debounceUs` (µs, default 0 = off) is a minimum stable-level time that the
 *   ESP32 PCNT cannot provide by itself; on the board it comes from an RC
 *   low-pass in front of a Schmitt input or from the ULP counting program's
 *   debounce. Pulses narrower than it are not counted either.
 * Sources that know their pulse widths implement `pulsesUntil(nowMs, minWidthUs)`;
 * sources that ignore the second argument are counted unfiltered, as before.
 */
import { currentBoard, type Board, type PulseSource } from "../core/board.ts";

/** Longest PCNT glitch filter: 1023 cycles of the 80 MHz APB clock, in ns. */
export const MAX_FILTER_NS = 12787;

/** A pulse source that can leave out pulses narrower than a width (µs). */
interface FilteredPulseSource extends PulseSource {
  pulsesUntil(nowMs: number, minWidthUs?: number): number;
}

/** Pulse counter on `signal`; `read()` gives the 16-bit hardware count. */
export default class PulseCount {
  readonly #board: Board;
  readonly #pin: number;
  #base = 0;
  #closed = false;
  /** Glitch filter in ns (ESP32 PCNT: at most 1023 APB cycles, about 12.8 µs), after clamping. */
  readonly filterNs: number;
  /** Debounce (minimum pulse width) in µs; 0 when off. */
  readonly debounceUs: number;
  readonly #minWidthUs: number;

  constructor(options: { signal: number; control?: number; filter?: number; debounceUs?: number }) {
    this.#board = currentBoard();
    this.#pin = options.signal;
    const filter = options.filter ?? 1000;
    if (!(filter >= 0)) throw new RangeError(`invalid filter ${filter} ns`);
    this.filterNs = Math.min(filter, MAX_FILTER_NS);
    const debounce = options.debounceUs ?? 0;
    if (!(debounce >= 0)) throw new RangeError(`invalid debounce ${debounce} µs`);
    this.debounceUs = debounce;
    this.#minWidthUs = Math.max(this.filterNs / 1000, debounce);
    this.#base = this.#total();
  }

  #total(): number {
    const source = this.#board.pulses.get(this.#pin) as FilteredPulseSource | undefined;
    return source ? source.pulsesUntil(this.#board.clock.nowMs, this.#minWidthUs) : 0;
  }

  /** The hardware count, wrapping in the signed 16-bit range. */
  read(): number {
    if (this.#closed) throw new Error("pulsecount closed");
    const n = (this.#total() - this.#base) & 0xffff;
    return n >= 0x8000 ? n - 0x10000 : n;
  }

  /** Sets the count (only 0 is meaningful on ESP32). */
  write(value: number): void {
    this.#base = this.#total() - value;
  }

  close(): void {
    this.#closed = true;
  }
}
