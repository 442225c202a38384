/**
 * A scripted serial device for modem driver tests: it hears command lines and
 * answers them with exact line sequences at chosen virtual times, so a test
 * controls gaps, noise, lines split across reads and every error a modem prints.
 * It is not an emulator: it knows nothing about LoRaWAN, only the script.
 */
import assert from "node:assert/strict";
import type { SerialDevice, SerialLink } from "../../../simulator/src/core/board.ts";
import { ModemError, type ModemFault } from "../../../firmware/src/drivers/lora-modem.ts";
import { Board, setCurrentBoard } from "../../../simulator/src/core/board.ts";
import Serial from "../../../simulator/src/platform/io-serial.ts";
import { spying } from "../drivers/driver-helpers.ts";

/** One piece of a reply: a line (CR LF added) or raw bytes, `afterMs` after the previous piece was queued. */
export type Step = { line: string; afterMs?: number } | { raw: string | number[]; afterMs?: number };

/** A reply: fixed steps, or a function of the command's match (undefined: stay silent). */
export type Reply = Step[] | ((match: RegExpExecArray, device: ScriptedModem) => Step[] | undefined);

interface Rule {
  pattern: RegExp;
  reply: Reply;
  /** Uses left (Infinity: permanent). */
  uses: number;
}

/** Lines as steps, all at once. */
export function lines(...text: string[]): Step[] {
  return text.map((line) => ({ line }));
}

/** A serial device that answers commands from a script. */
export class ScriptedModem implements SerialDevice {
  /** Every command line heard, in order (without CR LF); swallowed wake-up lines appear as `(wake) <line>`. */
  readonly commands: string[] = [];
  /** Virtual time (ms) at which each entry of `commands` was heard. */
  readonly heardAtMs: number[] = [];
  /** Bytes heard at a baud rate other than the device's (garbled, ignored). */
  garbled = 0;
  /** Sleeping: the next line only wakes the device (and is lost); `wakeLine` is printed. */
  asleep = false;
  /** What a sleeping device prints when woken (undefined: nothing). */
  wakeLine: string | undefined;
  /** Lines to ignore completely (e.g. to model a lost first command after wake-up). */
  dropNext = 0;
  readonly baud: number;
  #link: SerialLink | undefined;
  #heard = "";
  readonly #rules: Rule[] = [];

  constructor(baud: number) {
    this.baud = baud;
  }

  /** Answers commands matching `pattern` (a string matches the whole line) with `reply`; later rules win. */
  on(pattern: string | RegExp, reply: Reply, uses = Infinity): this {
    const re = typeof pattern === "string" ? new RegExp(`^${pattern.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`) : pattern;
    this.#rules.unshift({ pattern: re, reply, uses });
    return this;
  }

  /** Like `on`, for the next matching command only. */
  once(pattern: string | RegExp, reply: Reply): this {
    return this.on(pattern, reply, 1);
  }

  attach(link: SerialLink): void {
    this.#link = link;
  }

  get link(): SerialLink {
    if (!this.#link) throw new Error("not attached");
    return this.#link;
  }

  serialWrite(bytes: Uint8Array, hostBaud: number): void {
    if (hostBaud !== this.baud) {
      this.garbled += bytes.length;
      return;
    }
    for (const b of bytes) {
      if (b !== 0x0a) {
        this.#heard += String.fromCharCode(b);
        continue;
      }
      const command = this.#heard.replace(/\r$/, "");
      this.#heard = "";
      this.#hear(command);
    }
  }

  /** Queues unsolicited steps now. */
  emit(steps: Step[]): void {
    let t = this.link.clock.nowMs;
    for (const step of steps) {
      t += step.afterMs ?? 0;
      const text = "line" in step ? `${step.line}\r\n` : step.raw;
      const bytes = typeof text === "string" ? Array.from(text, (c) => c.charCodeAt(0) & 0xff) : text;
      this.link.deliver(bytes, t);
    }
  }

  #hear(command: string): void {
    this.heardAtMs.push(this.link.clock.nowMs);
    if (this.dropNext > 0) {
      this.dropNext--;
      this.commands.push(`(lost) ${command}`);
      return;
    }
    if (this.asleep) {
      this.asleep = false;
      this.commands.push(`(wake) ${command}`);
      if (this.wakeLine !== undefined) this.emit([{ line: this.wakeLine }]);
      return;
    }
    this.commands.push(command);
    for (const rule of this.#rules) {
      if (rule.uses <= 0) continue;
      const m = rule.pattern.exec(command);
      if (!m) continue;
      rule.uses--;
      const steps = typeof rule.reply === "function" ? rule.reply(m, this) : rule.reply;
      if (steps) this.emit(steps);
      return;
    }
  }
}

/** A fresh current board with `device` on UART 1; returns the board and the serial class for the driver's IO bag. */
export function boardWith(device: SerialDevice, baud: number): { board: Board; io: typeof Serial } {
  const board = new Board();
  setCurrentBoard(board);
  board.attachSerial(1, device, baud);
  return { board, io: Serial };
}

/** Runs `fn`, counting the UART reads (polls) the driver makes meanwhile, and the virtual ms it takes on `board`. */
export function countingPolls<T>(board: Board, fn: () => T): { result: T; polls: number; ms: number } {
  let polls = 0;
  const t0 = board.clock.nowMs;
  const result = spying(Serial.prototype, "read", () => polls++, fn);
  return { result, polls, ms: board.clock.nowMs - t0 };
}

/** Asserts that `fn` throws a ModemError of kind `fault`. */
export function throwsFault(fn: () => unknown, fault: ModemFault): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ModemError, `expected ModemError, got ${String(e)}`);
    assert.equal(e.fault, fault, e.message);
    return true;
  });
}
