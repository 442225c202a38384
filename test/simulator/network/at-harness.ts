/**
 * Drives a modem emulator with raw AT lines, as a terminal would: write a
 * line, then let virtual time run until the reply lines we wait for arrive.
 */
import { Board } from "../../../simulator/src/core/board.ts";
import type { AtModem } from "../../../simulator/src/network/at-modem.ts";

/** One reply line and the virtual time its last byte arrived. */
export interface Line {
  atMs: number;
  text: string;
}

/** A modem on a board's UART 1 and a host that types at it. */
export class AtHarness {
  readonly board: Board;
  readonly modem: AtModem;
  /** Every line received so far. */
  readonly received: Line[] = [];
  #buffer = "";

  constructor(modem: AtModem, board = new Board()) {
    this.board = board;
    this.modem = modem;
    board.attachSerial(1, modem, modem.baud);
  }

  get nowMs(): number {
    return this.board.clock.nowMs;
  }

  /** Sends bytes now at the modem's baud rate (or `baud`). */
  write(text: string, baud = this.modem.baud): void {
    this.modem.serialWrite(Uint8Array.from(text, (c) => c.charCodeAt(0)), baud);
  }

  /** Lines that have arrived by now and were not read yet. */
  read(): Line[] {
    const rx = this.board.serialRx.get(1)!;
    const now = this.nowMs;
    const out: Line[] = [];
    while (rx.length && rx.times[rx.head] <= now) {
      const atMs = rx.times[rx.head];
      this.#buffer += String.fromCharCode(rx.bytes[rx.head]);
      rx.drop(1);
      if (this.#buffer.endsWith("\r\n")) {
        const line = { atMs, text: this.#buffer.slice(0, -2) };
        this.#buffer = "";
        out.push(line);
        this.received.push(line);
      }
    }
    return out;
  }

  /** Advances virtual time to `atMs` (never backwards). */
  advanceTo(atMs: number): void {
    this.board.clock.advanceTo(atMs);
  }

  /**
   * Lets time run until a line matching `until` arrives or `timeoutMs` passes;
   * returns the non-empty lines received meanwhile (the last one matching, if any).
   */
  waitFor(until: RegExp, timeoutMs = 60_000): Line[] {
    const deadline = this.nowMs + timeoutMs;
    const got: Line[] = [];
    for (;;) {
      for (const l of this.read()) {
        if (l.text !== "") got.push(l);
        if (until.test(l.text)) return got;
      }
      const rx = this.board.serialRx.get(1)!;
      const next = rx.length ? rx.times[rx.head] : Infinity;
      if (next > deadline) {
        this.advanceTo(deadline);
        for (const l of this.read()) if (l.text !== "") got.push(l);
        return got;
      }
      this.advanceTo(next);
    }
  }

  /** Writes `line` + CR LF and waits for a line matching `until`; returns the reply texts. */
  command(line: string, until: RegExp, timeoutMs = 60_000): string[] {
    this.write(line + "\r\n");
    return this.waitFor(until, timeoutMs).map((l) => l.text);
  }
}
