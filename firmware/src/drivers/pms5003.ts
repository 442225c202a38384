/**
 * Plantower PMS5003 particulate sensor on a UART (9600 8N1), in passive mode:
 * the driver asks for each frame (`42 4D E2 00 00` + sum) instead of parsing the
 * unsolicited stream, so a reading is always fresh and the node can sleep between.
 *
 * Sample shape (choice of units): integers. Mass concentrations are the
 * "atmospheric environment" values, converted from µg/m³ to tenths of µg/m³ (×10)
 * so they share units with the SEN5x and the codecs; particle counts are per 0.1 L
 * ("PerDl") as the sensor gives them:
 *   pm1DeciUgm3, pm25DeciUgm3, pm10DeciUgm3
 *   count0p3PerDl, count0p5PerDl, count1p0PerDl, count2p5PerDl, count5p0PerDl, count10PerDl
 * ECMA-419 has no class that fits (its draft particulate class holds one unsized
 * value), so no spec properties are added.
 *
 * Framing: the parser scans for 0x42 0x4D, accepts a frame only with length 28 (data)
 * or 4 (the 8-byte reply to mode and sleep commands) and a matching 16-bit sum, and
 * otherwise resumes scanning one byte later, so garbage, partial frames and lost
 * bytes cost at most one frame. A data frame must also be physically plausible (PM1 ≤
 * PM2.5 ≤ PM10; counts never grow with size, as they are cumulative), which rejects a
 * spliced frame that happens to pass the sum. With no valid frame within `timeoutMs`
 * of a request the driver throws the most specific fault it saw: "checksum" (a frame
 * with a bad sum), else "range" (implausible), else "frame" (bad length), else "timeout".
 *
 * Settling: the fan needs 30 s after power-up or wake before values are stable; until
 * then `sample()` returns undefined (and `settling` is true) without touching the UART.
 */
import Timer from "timer";
import Time from "time";
import { SensorError } from "./sensor-error.ts";

/** An ECMA-419 Serial instance in buffer format, as much of it as the driver uses. */
interface SerialInstance {
  /** Copies the bytes that have arrived into `buffer` (as many as fit), returns their count; undefined when none. */
  read(buffer: Uint8Array): number | undefined;
  write(buffer: ArrayBuffer | ArrayBufferView): void;
  close(): void;
}

/** The ECMA-419 Serial IO class (`device.io.Serial`, or the simulator's stand-in). */
export type Pms5003SerialConstructor = new (options: { receive?: number; transmit?: number; baud: number; port?: number; format: "buffer" }) => SerialInstance;

/** The `sensor` IO bag: the Serial class plus its pins and port (baud is fixed by the sensor at 9600). */
export interface Pms5003SensorBag {
  io: Pms5003SerialConstructor;
  receive?: number;
  transmit?: number;
  port?: number;
  baud?: number;
}

/** Settings `configure()` accepts; omitted ones are left as they are. */
export interface Pms5003Configuration {
  /** true: send the sensor to sleep (fan off); false: wake it (30 s settling follows). */
  sleep?: boolean;
  /** Settling time after power-up or wake, ms (default 30000, the datasheet's "stable after 30 s"). */
  settleMs?: number;
  /** How long to wait for a frame after a request, ms (default 1000; a frame takes ~35 ms). */
  timeoutMs?: number;
  /** Throw `SensorError("stuck")` once this many consecutive frames carry identical data (0 disables; default 20). */
  stuckAfter?: number;
}

/** Constructor options. */
export interface Pms5003Options extends Pms5003Configuration {
  sensor: Pms5003SensorBag;
}

/** One reading; see the file comment for units. */
export interface Pms5003Sample {
  pm1DeciUgm3: number;
  pm25DeciUgm3: number;
  pm10DeciUgm3: number;
  count0p3PerDl: number;
  count0p5PerDl: number;
  count1p0PerDl: number;
  count2p5PerDl: number;
  count5p0PerDl: number;
  count10PerDl: number;
}

// Commands: 42 4D CMD DATAH DATAL SUMH SUML, the sum over the first five bytes.
const PASSIVE = Uint8Array.of(0x42, 0x4d, 0xe1, 0x00, 0x00, 0x01, 0x70);
const READ = Uint8Array.of(0x42, 0x4d, 0xe2, 0x00, 0x00, 0x01, 0x71);
const SLEEP = Uint8Array.of(0x42, 0x4d, 0xe4, 0x00, 0x00, 0x01, 0x73);
const WAKE = Uint8Array.of(0x42, 0x4d, 0xe4, 0x00, 0x01, 0x01, 0x74);

const NONE = 0;
const DATA = 1;
const ACK = 2;
const POLL_MS = 10;

function be16(b: Uint8Array, offset: number): number {
  return (b[offset] << 8) | b[offset + 1];
}

/** PMS5003 driver (ECMA-419 sensor class pattern). */
export default class PMS5003 {
  #io: SerialInstance | undefined;
  /** Receive buffer: bytes not yet consumed by the frame scanner. */
  readonly #buf = new Uint8Array(128);
  #len = 0;
  /** The last valid frame the scanner found (32 bytes for data, 8 for a reply). */
  readonly #frame = new Uint8Array(32);
  readonly #previous = new Uint8Array(24);
  #sameCount = 0;
  #wokeAt: number;
  #asleep = false;
  #passive = false;
  #settleMs = 30000;
  #timeoutMs = 1000;
  #stuckAfter = 20;
  #sawChecksum = false;
  #sawRange = false;
  #sawFrame = false;

  constructor(options: Pms5003Options) {
    const bag = options.sensor;
    this.#io = new bag.io({ receive: bag.receive, transmit: bag.transmit, port: bag.port, baud: bag.baud ?? 9600, format: "buffer" });
    this.configure({ ...options, sleep: undefined });
    // The sensor may still be asleep from before an MCU reset: wake it, and ask for
    // passive mode at once so it stops streaming. The ack is checked on the first
    // sample after settling, so construction neither blocks nor throws.
    this.#io.write(WAKE);
    this.#io.write(PASSIVE);
    this.#wokeAt = Time.ticks;
    if (options.sleep) this.sleep();
  }

  /** True while the fan settles after power-up or wake (no readings then). */
  get settling(): boolean {
    return !this.#asleep && Time.ticks - this.#wokeAt < this.#settleMs;
  }

  /** Milliseconds until readings are available (0 when settled). */
  get settledInMs(): number {
    const left = this.#settleMs - (Time.ticks - this.#wokeAt);
    return left > 0 ? left : 0;
  }

  /** True after `sleep()` until `wake()`. */
  get asleep(): boolean {
    return this.#asleep;
  }

  /** Applies settings. */
  configure(options: Pms5003Configuration = {}): void {
    if (options.settleMs !== undefined) this.#settleMs = options.settleMs;
    if (options.timeoutMs !== undefined) this.#timeoutMs = options.timeoutMs;
    if (options.stuckAfter !== undefined) this.#stuckAfter = options.stuckAfter;
    if (options.sleep === true && !this.#asleep) this.sleep();
    if (options.sleep === false && this.#asleep) this.wake();
  }

  /** A fresh reading, or undefined while asleep or settling. */
  sample(): Pms5003Sample | undefined {
    if (this.#asleep || this.settling) return undefined;
    if (!this.#passive) {
      this.#request(PASSIVE);
      this.#await(ACK, 0xe1, 0x00);
      this.#passive = true;
    }
    this.#request(READ);
    this.#await(DATA, 0, 0);
    const f = this.#frame;
    let same = true;
    const previous = this.#previous;
    for (let i = 0; i < 24; i++) {
      if (previous[i] !== f[4 + i]) same = false;
      previous[i] = f[4 + i];
    }
    if (same) {
      this.#sameCount++;
      if (this.#stuckAfter > 0 && this.#sameCount >= this.#stuckAfter) throw new SensorError("stuck", `${this.#sameCount + 1} identical frames`);
    } else {
      this.#sameCount = 0;
    }
    return {
      pm1DeciUgm3: be16(f, 10) * 10,
      pm25DeciUgm3: be16(f, 12) * 10,
      pm10DeciUgm3: be16(f, 14) * 10,
      count0p3PerDl: be16(f, 16),
      count0p5PerDl: be16(f, 18),
      count1p0PerDl: be16(f, 20),
      count2p5PerDl: be16(f, 22),
      count5p0PerDl: be16(f, 24),
      count10PerDl: be16(f, 26),
    };
  }

  /** Sends the sensor to sleep (fan off) and waits for its reply. */
  sleep(): void {
    this.#asleep = true;
    this.#request(SLEEP);
    this.#await(ACK, 0xe4, 0x00);
  }

  /** Wakes the sensor (it does not reply); readings resume after the settling time. */
  wake(): void {
    this.#write(WAKE);
    this.#wokeAt = Time.ticks;
    this.#asleep = false;
    // Some firmware wakes into active mode: passive mode is asserted again before the next read.
    this.#passive = false;
  }

  /** Releases the UART (the sensor keeps its state). */
  close(): void {
    this.#io?.close();
    this.#io = undefined;
  }

  /** Discards stale input, then sends a command. */
  #request(command: Uint8Array): void {
    const io = this.#io;
    if (!io) throw new SensorError("timeout", "PMS5003 closed");
    // Drain: bytes that arrived before the request belong to no answer of ours. Into a buffer, never read(count):
    // Moddable's ESP32 read(count) returns `count` bytes whatever the FIFO holds (serial.c), the rest junk.
    while (io.read(this.#buf) !== undefined) {
      // nothing to keep
    }
    this.#len = 0;
    io.write(command);
  }

  #write(command: Uint8Array): void {
    if (!this.#io) throw new SensorError("timeout", "PMS5003 closed");
    this.#io.write(command);
  }

  /** Reads and scans until a frame of `kind` (and, for replies, command `cmd` with `data`) arrives, or throws. */
  #await(kind: number, cmd: number, data: number): void {
    const io = this.#io!;
    const deadline = Time.ticks + this.#timeoutMs;
    this.#sawChecksum = false;
    this.#sawRange = false;
    this.#sawFrame = false;
    for (;;) {
      for (;;) {
        // Into the free end of the buffer: read(buffer) takes only what has arrived (read(count) would not, see #request).
        const got = io.read(this.#buf.subarray(this.#len));
        if (got === undefined) break;
        this.#len += got;
        for (let found = this.#next(); found !== NONE; found = this.#next()) {
          if (found === kind && (kind === DATA || (this.#frame[4] === cmd && this.#frame[5] === data))) return;
        }
        if (this.#len === this.#buf.length) this.#drop(1); // cannot happen after a scan; guards the loop
      }
      if (Time.ticks >= deadline) {
        if (this.#sawChecksum) throw new SensorError("checksum", "PMS5003 frame with a bad checksum, no valid frame");
        if (this.#sawRange) throw new SensorError("range", "PMS5003 frame with implausible values, no valid frame");
        if (this.#sawFrame) throw new SensorError("frame", "PMS5003 frame with a bad length, no valid frame");
        throw new SensorError("timeout", `PMS5003: no frame within ${this.#timeoutMs} ms`);
      }
      Timer.delay(POLL_MS);
    }
  }

  /**
   * Finds the next valid frame in the buffer, copies it to `#frame` and consumes it
   * with everything before it; returns its kind, or NONE when more bytes are needed.
   */
  #next(): number {
    const b = this.#buf;
    const len = this.#len;
    let i = 0;
    let kind = NONE;
    while (len - i >= 2) {
      if (b[i] !== 0x42 || b[i + 1] !== 0x4d) {
        i++;
        continue;
      }
      if (len - i < 4) break;
      const length = be16(b, i + 2);
      if (length !== 28 && length !== 4) {
        this.#sawFrame = true;
        i++;
        continue;
      }
      const total = length + 4;
      if (len - i < total) break;
      let sum = 0;
      for (let k = i, end = i + total - 2; k < end; k++) sum += b[k];
      if ((sum & 0xffff) !== be16(b, i + total - 2)) {
        this.#sawChecksum = true;
        i++;
        continue;
      }
      if (length === 28 && !plausible(b, i)) {
        this.#sawRange = true;
        i++;
        continue;
      }
      this.#frame.set(b.subarray(i, i + total));
      kind = length === 28 ? DATA : ACK;
      i += total;
      break;
    }
    this.#drop(i);
    return kind;
  }

  #drop(n: number): void {
    if (n <= 0) return;
    this.#buf.copyWithin(0, n, this.#len);
    this.#len -= n;
  }
}

/** Cumulative quantities must not grow with particle size: PM1 ≤ PM2.5 ≤ PM10 (atmospheric) and counts descending. */
function plausible(b: Uint8Array, i: number): boolean {
  if (be16(b, i + 10) > be16(b, i + 12) || be16(b, i + 12) > be16(b, i + 14)) return false;
  for (let o = i + 16; o < i + 26; o += 2) if (be16(b, o) < be16(b, o + 2)) return false;
  return true;
}
