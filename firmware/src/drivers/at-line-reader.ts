/**
 * Serial plumbing shared by the AT-command modem drivers (Wio-E5, RAK3172):
 * a line assembler over an ECMA-419 serial port, a preallocated command
 * writer, and strict parsers for the hex and decimal fields modems print.
 *
 * Lines end with `\n` (a `\r` just before it is dropped, so `\r\n` and bare
 * `\n` both work). The assembler never grows: bytes go into one fixed buffer,
 * and a line longer than `maxLineLength` is dropped whole (counted in
 * `overflows`) up to its newline, so a wire that babbles without newlines
 * costs no memory. Bytes outside printable ASCII before a line's first
 * printable character are skipped (a modem waking up often sends a stray
 * 0x00/0xFF); one in the middle of a line marks the line corrupt and it is
 * dropped (counted in `corrupt`), because a UART has no checksum and a mangled
 * downlink must never be reported as data.
 */
import Timer from "timer";
import Time from "time";
import { ModemError } from "./lora-modem.ts";

/** An ECMA-419 serial instance in "buffer" format, as much of it as the modem drivers use. */
export interface SerialInstance {
  /** Copies bytes received and not yet read into `into` (up to its length); their count, or undefined when none. */
  read(into: Uint8Array): number | undefined;
  write(buffer: ArrayBuffer | ArrayBufferView): void;
  close(): void;
  /** Free space in the transmit buffer, where the platform reports it. */
  readonly writable?: number;
}

/** Options handed to the serial constructor. */
export interface SerialOpenOptions {
  receive?: number;
  transmit?: number;
  port?: number;
  baud: number;
  format: "buffer";
}

/** The ECMA-419 serial IO class (`device.io.Serial`, or the simulator's stand-in). */
export type SerialConstructor = new (options: SerialOpenOptions) => SerialInstance;

/** The `modem` IO bag of a modem driver: the serial class plus its pins (baud defaults per modem). */
export interface ModemSerialBag {
  io: SerialConstructor;
  receive?: number;
  transmit?: number;
  port?: number;
  baud?: number;
}

/** Opens the modem's UART from its IO bag. */
export function openModemSerial(bag: ModemSerialBag, defaultBaud: number): SerialInstance {
  return new bag.io({
    receive: bag.receive,
    transmit: bag.transmit,
    port: bag.port,
    baud: bag.baud ?? defaultBaud,
    format: "buffer",
  });
}

/** Options for `AtLineReader`. */
export interface AtLineReaderOptions {
  /** Longest line kept, in bytes without the terminator (default 600: a 242-byte downlink in hex plus its prefix). */
  maxLineLength?: number;
  /** Poll period of `waitFor`, in ms (default 10: at 115200 baud that is ~115 bytes, well inside the UART FIFO). */
  pollMs?: number;
  /** Lines dropped as noise besides empty lines (default: `+INFO:` lines, the modem's chatter). */
  isNoise?: (line: string) => boolean;
}

const LF = 0x0a;
const CR = 0x0d;

function defaultNoise(line: string): boolean {
  return line.startsWith("+INFO:");
}

/** Assembles lines from a serial port, one at a time, without growing memory. */
export class AtLineReader {
  readonly #io: SerialInstance;
  readonly #line: Uint8Array;
  readonly #max: number;
  readonly #pollMs: number;
  readonly #isNoise: (line: string) => boolean;
  #length = 0;
  #discarding = false;
  #corrupt = false;
  // Bytes of the last read (read into this buffer, not a new ArrayBuffer per poll) and how far they are used.
  readonly #chunk = new Uint8Array(256);
  #chunkLength = 0;
  #position = 0;
  /** Lines dropped because they exceeded `maxLineLength`. */
  overflows = 0;
  /** Lines dropped because they held control or non-ASCII bytes. */
  corrupt = 0;

  constructor(io: SerialInstance, options: AtLineReaderOptions = {}) {
    this.#io = io;
    // One spare byte for the CR of a full-length line.
    this.#max = options.maxLineLength ?? 600;
    this.#line = new Uint8Array(this.#max + 1);
    this.#pollMs = options.pollMs ?? 10;
    this.#isNoise = options.isNoise ?? defaultNoise;
  }

  /** The next complete line that has arrived (noise dropped), or undefined if none has yet. Never blocks. */
  readLine(): string | undefined {
    const chunk = this.#chunk;
    for (;;) {
      if (this.#position >= this.#chunkLength) {
        const got = this.#io.read(chunk);
        this.#position = 0;
        this.#chunkLength = got ?? 0;
        if (!got) return undefined;
      }
      while (this.#position < this.#chunkLength) {
        const byte = chunk[this.#position++];
        if (byte === LF) {
          const line = this.#finishLine();
          if (line !== undefined) return line;
          continue;
        }
        if (this.#discarding) continue;
        if (byte < 0x20 || byte > 0x7e) {
          // Before the first printable byte: wake-up junk, skipped. Later, flag the line:
          // a CR right before the LF is the usual line end, anything else corrupts it.
          if (this.#length === 0) continue;
          this.#corrupt = true;
        }
        if (this.#length >= this.#line.length) {
          this.#discarding = true;
          this.overflows++;
          continue;
        }
        this.#line[this.#length++] = byte;
      }
    }
  }

  #finishLine(): string | undefined {
    let length = this.#length;
    const dropped = this.#discarding;
    this.#length = 0;
    this.#discarding = false;
    if (dropped) {
      this.#corrupt = false;
      return undefined;
    }
    if (length > 0 && this.#line[length - 1] === CR) length--;
    if (length > this.#max) {
      this.#corrupt = false;
      this.overflows++;
      return undefined;
    }
    if (this.#corrupt) {
      this.#corrupt = false;
      let bad = false;
      for (let i = 0; i < length; i++) {
        const b = this.#line[i];
        if (b < 0x20 || b > 0x7e) bad = true;
      }
      if (bad) {
        this.corrupt++;
        return undefined;
      }
    }
    const line = String.fromCharCode.apply(null, this.#line.subarray(0, length) as unknown as number[]);
    return line.length === 0 || this.#isNoise(line) ? undefined : line;
  }

  /**
   * Polls (with `Timer.delay` in `pollMs` steps) until a line satisfies `predicate`
   * and returns it, or returns undefined after `timeoutMs`. Lines that do not match are consumed.
   */
  waitFor(predicate: (line: string) => boolean, timeoutMs: number): string | undefined {
    const start = Time.ticks;
    for (;;) {
      const line = this.readLine();
      if (line !== undefined && predicate(line)) return line;
      // Time.delta copes with the tick counter wrapping on a node that runs for weeks.
      const elapsed = Time.delta(start);
      if (elapsed >= timeoutMs) return undefined;
      if (line === undefined) Timer.delay(Math.min(this.#pollMs, timeoutMs - elapsed));
    }
  }

  /**
   * Drops everything received so far (stale replies before a new command). A line the modem was still
   * printing is dropped up to its newline too: the rest of it, arriving later, is no line of its own
   * (the tail `16` of `…:0000000016` would read as a data rate).
   */
  discardInput(): void {
    let midLine = this.#length > 0 || this.#discarding;
    if (this.#position < this.#chunkLength) midLine = this.#chunk[this.#chunkLength - 1] !== LF;
    this.#chunkLength = 0;
    this.#position = 0;
    this.#length = 0;
    this.#corrupt = false;
    let got: number | undefined;
    while ((got = this.#io.read(this.#chunk)) !== undefined) {
      if (got > 0) midLine = this.#chunk[got - 1] !== LF;
    }
    this.#discarding = midLine;
  }
}

/**
 * Bytes written to the UART at a time: half the ESP32's 128-byte transmit FIFO. Moddable's ESP32 serial
 * writes straight into that FIFO and throws "output full" for a write that does not fit, and it reports
 * no free space, so a longer command goes in chunks, each after the last one's wire time.
 */
const TX_CHUNK_BYTES = 64;

/** Builds AT command lines in one preallocated buffer and writes them to the port. */
export class AtCommandWriter {
  readonly #io: SerialInstance;
  readonly #buffer: Uint8Array;
  /** Wire time of a chunk at the port's baud rate (10 bits a byte), ms, rounded up. */
  readonly #chunkMs: number;
  #length = 0;

  /** A writer for `io` at `baud`, with room for a command of `capacity` bytes. */
  constructor(io: SerialInstance, baud: number, capacity = 560) {
    this.#io = io;
    this.#buffer = new Uint8Array(capacity);
    this.#chunkMs = Math.ceil((TX_CHUNK_BYTES * 10000) / baud);
  }

  /** Starts a new command with `text`. */
  begin(text: string): this {
    this.#length = 0;
    return this.text(text);
  }

  /** Appends ASCII text. */
  text(text: string): this {
    this.#room(text.length);
    for (let i = 0; i < text.length; i++) this.#buffer[this.#length++] = text.charCodeAt(i) & 0x7f;
    return this;
  }

  /** Appends `length` bytes as upper-case hex digits. */
  hex(bytes: Uint8Array, length: number): this {
    this.#room(length * 2);
    for (let i = 0; i < length; i++) {
      const b = bytes[i];
      this.#buffer[this.#length++] = hexDigit(b >> 4);
      this.#buffer[this.#length++] = hexDigit(b & 15);
    }
    return this;
  }

  /** Terminates the command with CR LF and transmits it. */
  send(): void {
    this.text("\r\n");
    const io = this.#io;
    let offset = 0;
    while (offset < this.#length) {
      // Respect a transmit buffer that reports its free space (ECMA-419 `writable`); else pace chunks by their wire time.
      const room = io.writable;
      let count = this.#length - offset;
      if (count > TX_CHUNK_BYTES) count = TX_CHUNK_BYTES;
      if (typeof room === "number") {
        if (room <= 0) {
          Timer.delay(1);
          continue;
        }
        if (room < count) count = room;
      } else if (offset > 0) {
        Timer.delay(this.#chunkMs);
      }
      io.write(this.#buffer.subarray(offset, offset + count));
      offset += count;
    }
  }

  #room(count: number): void {
    if (this.#length + count > this.#buffer.length) throw new ModemError("length", "AT command too long");
  }
}

function hexDigit(n: number): number {
  return n < 10 ? 0x30 + n : 0x37 + n;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/**
 * Parses `text[start, end)` as hex bytes, strictly: an even number of hex digits,
 * optionally with single spaces between bytes when `spaced`. Returns undefined for
 * anything else (odd digit count, stray characters, more than `maxBytes`).
 */
export function parseHexBytes(text: string, start: number, end: number, spaced: boolean, maxBytes: number): Uint8Array | undefined {
  let digits = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (hexValue(c) >= 0) {
      digits++;
      continue;
    }
    // A space may only separate two complete bytes.
    if (!spaced || c !== 0x20 || digits % 2 !== 0 || i === start || i === end - 1 || text.charCodeAt(i + 1) === 0x20) return undefined;
  }
  if (digits % 2 !== 0 || digits / 2 > maxBytes) return undefined;
  const out = new Uint8Array(digits / 2);
  let n = 0;
  let high = -1;
  for (let i = start; i < end; i++) {
    const v = hexValue(text.charCodeAt(i));
    if (v < 0) continue;
    if (high < 0) high = v;
    else {
      out[n++] = (high << 4) | v;
      high = -1;
    }
  }
  return out;
}

/** Parses `text` as a plain decimal integer (optional leading minus, at most 9 digits); undefined otherwise. */
export function parseDecimal(text: string): number | undefined {
  if (!/^-?\d{1,9}$/.test(text)) return undefined;
  return Number.parseInt(text, 10);
}

/** Rounds a printed decimal (`-16.0`, `7.5`, `9`) to the nearest integer, halves away from zero, without floating point; undefined if not a number. */
export function roundDecimal(text: string): number | undefined {
  const m = /^(-?)(\d{1,3})(?:\.(\d{1,3}))?$/.exec(text);
  if (!m) return undefined;
  let n = Number.parseInt(m[2], 10);
  if (m[3] !== undefined && m[3].charCodeAt(0) >= 0x35) n++;
  return m[1] === "-" ? -n : n;
}

/** Upper-case hex digits of an EUI or key as printed by a modem (`2C:F7:F1…`, `2c f7 …`), separators removed. */
export function compactHex(text: string): string {
  return text.replace(/[\s:-]/g, "").toUpperCase();
}
