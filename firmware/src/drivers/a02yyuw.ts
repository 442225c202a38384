/**
 * DFRobot A02YYUW ultrasonic distance sensor (UART auto-output version):
 * 9600 8N1, frames `FF H L SUM`, SUM = (0xFF + H + L) & 0xFF, distance mm =
 * H·256 + L, usable range 30–4500 mm.
 *
 * `sample()` blocks: it discards bytes already buffered (they may be old), then
 * collects `frames` fresh frames (default 5, about 0.5–1.5 s) or gives up after
 * `timeoutMs`. When some of them carried no echo (a soft target such as
 * rubbish bags misses a share of pings) and fewer than `agree` did, it reads
 * on, up to three times `frames` (at most 15) and 300 ms a frame more, rather
 * than count a fault for a target that answers most of the time. The parser resynchronises on 0xFF: after a bad checksum it
 * restarts at the next 0xFF inside the failed window, so a dropped byte costs
 * one frame. A frame only counts if its checksum holds.
 *
 * Nothing corrupt becomes a reading: the result is the median of the in-range
 * frames that agree with the median within max(`toleranceMm`, 1/64 of the
 * distance), and needs at least `agree` such frames (default 4 of 5). That
 * rejects intermittent spurious echoes (a lid edge, a wall), a frame that a
 * double bit error left with a valid checksum, and chance 0xFF alignments in
 * line noise. How far that goes: up to `frames − agree` spurious frames in a
 * sample cannot move the reading; fewer than `agree` that land near the target
 * can pull it by up to twice the tolerance; `agree` or more that agree among
 * themselves are, to any driver, what the sensor measured (the level node takes
 * the median of several samples and holds a large step back until the next wake
 * confirms it). Outcomes other than a reading are thrown as `SensorError`:
 * - "range": most frames carried no echo (distance outside 30–4500 mm; the
 *   module sends 0 then, as modelled: no target, blind zone, soft target), or
 *   the echoes disagree;
 * - "checksum": no valid frame, but frames with bad checksums arrived;
 * - "frame": no valid frame, only bytes without frame structure;
 * - "timeout": nothing at all arrived;
 * - "stuck": `stuckFrames` (0 = off, the default) consecutive frames had the
 *   same value, which a live sensor's jitter makes unlikely; off by default
 *   because a perfectly still target in processed mode could trip it.
 *
 * Mode: the module's RX pin level at power-up selects processed (high or
 * floating) or real-time (low) output. With `modePin` the driver drives that
 * pin (the UART then needs no TX); it sets the level when it opens, so the
 * module must be powered up after that, or power-cycled after `configure({ realTime })`.
 *
 * Units: `distanceMm` integer mm; `distance` integer cm (rounded), the
 * ECMA-419 Proximity property; `max` 450 cm; `near` is distance ≤ `nearMm`.
 */
import Time from "time";
import Timer from "timer";
import { SensorError, busError } from "./sensor-error.ts";

/** The parts of an ECMA-419 Serial instance (buffer format) this driver uses. */
export interface SerialIO {
  /** Copies the bytes waiting (up to the buffer's length) into `into`; their count, or undefined when none. */
  read(into: Uint8Array): number | undefined;
  close(): void;
}

/** An ECMA-419 Serial constructor (`embedded:io/serial`). */
export type SerialConstructor = new (options: { baud: number; port?: number; receive?: number; transmit?: number; format: "buffer" }) => SerialIO;

/** The parts of an ECMA-419 Digital instance this driver uses. */
export interface DigitalIO {
  write(value: number): void;
  close(): void;
}

/** An ECMA-419 Digital constructor (`embedded:io/digital`) with its `Output` mode constant. */
export interface DigitalConstructor {
  new (options: { pin: number; mode: number }): DigitalIO;
  readonly Output: number;
}

/** Settings that `configure()` accepts (all optional). */
export interface A02yyuwConfig {
  /** Real-time output (mode pin low) instead of processed; needs `modePin` and a sensor power cycle. */
  realTime?: boolean;
  /** Frames collected per sample, 1–15 (default 5). */
  frames?: number;
  /** Frames that must agree, 1–frames (default: frames − 1, at least 1). */
  agree?: number;
  /** Least agreement tolerance, mm (default 20). */
  toleranceMm?: number;
  /** Longest wait for the frames, ms (default 300 · (frames + 1)). */
  timeoutMs?: number;
  /** Consecutive identical frames that count as a stuck sensor; 0 = off (default). */
  stuckFrames?: number;
  /** `near` is true at or below this distance, mm (default 300). */
  nearMm?: number;
}

/** Constructor options. */
export interface A02yyuwOptions extends A02yyuwConfig {
  /** IO bag: the Serial constructor and its port/pins; baud defaults to 9600. */
  sensor: { io: SerialConstructor; port?: number; receive?: number; transmit?: number; baud?: number };
  /** Optional output driving the module's RX (mode select) pin. */
  modePin?: { io: DigitalConstructor; pin: number };
}

/** One reading. */
export interface A02yyuwSample {
  /** Distance to the target, integer mm. */
  distanceMm: number;
  /** ECMA-419 Proximity: distance in cm (integer, rounded). */
  distance: number;
  /** ECMA-419 Proximity: maximum range, cm. */
  max: number;
  /** ECMA-419 Proximity: target at or below `nearMm`. */
  near: boolean;
}

const MIN_MM = 30;
const MAX_MM = 4500;
const MAX_FRAMES = 15;
const POLL_MS = 20;
/**
 * The module's shortest output period (real-time output: a frame every 100 ms;
 * processed: 100–300 ms). A frame read at a poll ended at most POLL_MS earlier,
 * so the next cannot end sooner than this minus POLL_MS after that poll, and
 * the k-th next no sooner than k − 1 periods after the next: the driver waits
 * until the frame that could decide the sample may have come instead of polling
 * through the wait (fewer wake-ups of the task, no later reading).
 */
const FRAME_GAP_MS = 100;

/** A02YYUW driver (ECMA-419 sensor class pattern). */
export default class A02yyuw {
  #io: SerialIO | undefined;
  #mode: DigitalIO | undefined;
  #frames = 5;
  #agree = 4;
  #toleranceMm = 20;
  #timeoutMs = 1800;
  #timeoutSet = false;
  #stuckFrames = 0;
  #nearMm = 300;
  #realTime = false;
  // Parser state: a partial frame.
  readonly #buf = new Uint8Array(4);
  // Receive buffer: read into it, not into a new ArrayBuffer per poll (the ESP32's RX FIFO holds 128 bytes).
  readonly #rx = new Uint8Array(128);
  #len = 0;
  /** Frame windows completed by the parser (good or bad checksum), to tell a poll that ended a frame. */
  #ends = 0;
  // Collected frame values for one sample.
  readonly #values = new Int32Array(MAX_FRAMES);
  #count = 0;
  /** Frames of this sample with a distance in range (an echo). */
  #echoes = 0;
  #checksumErrors = 0;
  #junk = 0;
  #lastRaw = -1;
  #same = 0;

  constructor(options: A02yyuwOptions) {
    const s = options.sensor;
    const open: { baud: number; port?: number; receive?: number; transmit?: number; format: "buffer" } = { baud: s.baud ?? 9600, format: "buffer" };
    if (s.port !== undefined) open.port = s.port;
    if (s.receive !== undefined) open.receive = s.receive;
    if (s.transmit !== undefined) open.transmit = s.transmit;
    if (options.modePin) this.#mode = new options.modePin.io({ pin: options.modePin.pin, mode: options.modePin.io.Output });
    this.configure(options);
    if (this.#mode) this.#mode.write(this.#realTime ? 0 : 1);
    this.#io = new s.io(open);
  }

  /** Changes collection, agreement, timeout, stuck detection or mode (see the module comment for mode timing). */
  configure(options: A02yyuwConfig): void {
    if (options.frames !== undefined) {
      checkInteger("frames", options.frames, 1, MAX_FRAMES);
      this.#frames = options.frames;
      if (options.agree === undefined) this.#agree = Math.max(1, options.frames - 1);
      if (!this.#timeoutSet) this.#timeoutMs = 300 * (this.#frames + 1);
    }
    if (options.agree !== undefined) {
      checkInteger("agree", options.agree, 1, this.#frames);
      this.#agree = options.agree;
    }
    if (this.#agree > this.#frames) this.#agree = this.#frames;
    if (options.toleranceMm !== undefined) {
      checkInteger("toleranceMm", options.toleranceMm, 1, MAX_MM);
      this.#toleranceMm = options.toleranceMm;
    }
    if (options.timeoutMs !== undefined) {
      checkInteger("timeoutMs", options.timeoutMs, 1, 600000);
      this.#timeoutMs = options.timeoutMs;
      this.#timeoutSet = true;
    }
    if (options.stuckFrames !== undefined) {
      checkInteger("stuckFrames", options.stuckFrames, 0, 100000);
      this.#stuckFrames = options.stuckFrames;
    }
    if (options.nearMm !== undefined) {
      checkInteger("nearMm", options.nearMm, 0, MAX_MM);
      this.#nearMm = options.nearMm;
    }
    if (options.realTime !== undefined) {
      this.#realTime = options.realTime;
      if (this.#mode) this.#mode.write(options.realTime ? 0 : 1);
    }
  }

  /** Collects fresh frames and returns their agreed distance; throws `SensorError` otherwise. Blocks up to `timeoutMs`. */
  sample(): A02yyuwSample {
    const io = this.#open();
    // Bytes buffered before this call may be seconds old: drop them.
    while (this.#read(io) !== undefined);
    this.#len = 0;
    this.#count = 0;
    this.#echoes = 0;
    this.#checksumErrors = 0;
    this.#junk = 0;
    const frames = this.#frames;
    const agree = this.#agree;
    const limit = frames * 3 < MAX_FRAMES ? frames * 3 : MAX_FRAMES;
    let deadline = Time.ticks + this.#timeoutMs;
    let extended = false;
    // The last wait: a frame read after it ended at most that long ago.
    let waited = POLL_MS;
    for (;;) {
      const ends = this.#ends;
      const got = this.#read(io);
      if (got) this.#parse(this.#rx, got);
      const n = this.#count;
      // Enough: the frames asked for with `agree` echoes, or none at all (no target), or too few left possible; else read on.
      const echoes = this.#echoes;
      if (n >= limit || (n >= frames && (echoes >= agree || echoes === 0)) || n - echoes > limit - agree) break;
      if (n >= frames && !extended) {
        // Frames are arriving: the extra ones get their own time (a silent sensor still times out at timeoutMs).
        deadline += 300 * (limit - frames);
        extended = true;
      }
      const left = deadline - Time.ticks;
      if (left <= 0) break;
      // Frames still to come before any condition above can hold; they come at least FRAME_GAP_MS apart,
      // the first of them FRAME_GAP_MS − POLL_MS from now if one ended since a poll POLL_MS ago. Frames
      // before the deciding one wait in the UART's FIFO (16 bytes for four): reading them later changes nothing.
      const k = framesToDecide(n, echoes, frames, agree, limit);
      let wait = (k > 1 ? (k - 1) * FRAME_GAP_MS : 0) + (this.#ends !== ends && waited <= POLL_MS ? FRAME_GAP_MS - POLL_MS : 0);
      if (wait < POLL_MS) wait = POLL_MS;
      waited = wait < left ? wait : left;
      Timer.delay(waited);
    }
    return this.#decide();
  }

  /** Releases the UART and the mode pin. */
  close(): void {
    this.#io?.close();
    this.#mode?.close();
    this.#io = undefined;
    this.#mode = undefined;
  }

  /** `io.read(#rx)` with a bus exception as `SensorError("nack")`, as `onBus` would, without a closure per poll (tens per sample). */
  #read(io: SerialIO): number | undefined {
    try {
      return io.read(this.#rx);
    } catch (e) {
      throw busError("serial read", e);
    }
  }

  #open(): SerialIO {
    if (!this.#io) throw new Error("A02YYUW closed");
    return this.#io;
  }

  #parse(bytes: Uint8Array, length: number): void {
    const buf = this.#buf;
    for (let i = 0; i < length; i++) {
      const b = bytes[i];
      if (this.#len === 0) {
        if (b === 0xff) buf[this.#len++] = b;
        else this.#junk++;
        continue;
      }
      buf[this.#len++] = b;
      if (this.#len < 4) continue;
      this.#ends++;
      if (((0xff + buf[1] + buf[2]) & 0xff) === buf[3]) {
        this.#frame((buf[1] << 8) | buf[2]);
        this.#len = 0;
        continue;
      }
      this.#checksumErrors++;
      // Resync: restart at the next 0xFF inside the failed window.
      let j = 1;
      while (j < 4 && buf[j] !== 0xff) j++;
      for (let k = j; k < 4; k++) buf[k - j] = buf[k];
      this.#len = 4 - j;
    }
  }

  #frame(raw: number): void {
    if (raw === this.#lastRaw) this.#same++;
    else {
      this.#lastRaw = raw;
      this.#same = 1;
    }
    if (this.#count < MAX_FRAMES) {
      this.#values[this.#count++] = raw;
      if (raw >= MIN_MM && raw <= MAX_MM) this.#echoes++;
    }
  }

  #decide(): A02yyuwSample {
    if (this.#stuckFrames > 0 && this.#same >= this.#stuckFrames) {
      throw new SensorError("stuck", `A02YYUW: ${this.#same} identical frames`);
    }
    const n = this.#count;
    if (n === 0) {
      if (this.#checksumErrors > 0) throw new SensorError("checksum", `A02YYUW: ${this.#checksumErrors} frames with bad checksums, none valid`);
      if (this.#junk > 0) throw new SensorError("frame", `A02YYUW: ${this.#junk} bytes without a frame`);
      throw new SensorError("timeout", `A02YYUW: no data in ${this.#timeoutMs} ms`);
    }
    // Sort the in-range values to the front (insertion sort; at most 15).
    const v = this.#values;
    let inRange = 0;
    for (let i = 0; i < n; i++) {
      const x = v[i];
      if (x < MIN_MM || x > MAX_MM) continue;
      let k = inRange++;
      while (k > 0 && v[k - 1] > x) {
        v[k] = v[k - 1];
        k--;
      }
      v[k] = x;
    }
    if (inRange > 0) {
      const median = v[(inRange - 1) >> 1];
      const tol = Math.max(this.#toleranceMm, median >> 6);
      let lo = 0;
      while (median - v[lo] > tol) lo++;
      let hi = inRange - 1;
      while (v[hi] - median > tol) hi--;
      if (hi - lo + 1 >= this.#agree) {
        const mm = v[(lo + hi) >> 1];
        return { distanceMm: mm, distance: (mm * 6554 + 32768) >> 16, max: 450, near: mm <= this.#nearMm };
      }
    }
    if (n - inRange >= this.#agree) throw new SensorError("range", `A02YYUW: no echo in ${n - inRange} of ${n} frames`);
    if (n < this.#frames && this.#checksumErrors > 0) throw new SensorError("checksum", `A02YYUW: only ${n} valid frames, ${this.#checksumErrors} bad checksums`);
    throw new SensorError("range", `A02YYUW: echoes disagree (${inRange} in range of ${n})`);
  }
}

/**
 * The fewest further frames after which `sample`'s stop condition can hold, with `n` frames read and
 * `echoes` of them in range: the limit; `frames` with `agree` echoes; `frames` with no echo at all; or
 * more misses than `agree` echoes leave room for.
 */
function framesToDecide(n: number, echoes: number, frames: number, agree: number, limit: number): number {
  let k = limit - n;
  const toAgree = frames - n > agree - echoes ? frames - n : agree - echoes;
  if (toAgree < k) k = toAgree;
  if (echoes === 0 && frames - n < k) k = frames - n;
  const toMisses = limit - agree + 1 - (n - echoes);
  return toMisses < k ? toMisses : k;
}

function checkInteger(name: string, v: number, min: number, max: number): void {
  if (!Number.isInteger(v) || v < min || v > max) throw new RangeError(`${name} must be an integer in ${min}..${max}, got ${v}`);
}
