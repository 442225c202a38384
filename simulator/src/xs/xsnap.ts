/**
 * A small Node client for Moddable's XS engine, run as the `xsnap-worker` binary
 * that `scripts/build-xs.mjs` builds from the sources in `@agoric/xsnap`.
 *
 * The worker reads netstrings (`<length>:<bytes>,`) on file descriptor 3 and
 * writes them on 4. The first byte of each message says what it is:
 *
 *   host → worker   `e<code>`   evaluate a script (indirect eval at global scope)
 *                   `?<bytes>`  call `globalThis.handleCommand(ArrayBuffer)`
 *                   `/<bytes>`  reply to the worker's `issueCommand`
 *                   `R`         are you ready?   `q` quit
 *   worker → host   `.<meter JSON>\x01<bytes>`  done; bytes are the ArrayBuffer result, if any
 *                   `!<text>`   uncaught exception, as `String(error)`
 *                   `?<bytes>`  `issueCommand(ArrayBuffer)` from JavaScript; the worker
 *                               blocks until the host answers with `/`
 *
 * One delivery runs at a time; this client queues them. After a delivery the
 * worker drains its promise jobs before replying, so the meter covers them too.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Readable, Writable } from "node:stream";

/** Path of the release binary built by `npm run build:xs`. */
export const XSNAP_WORKER_PATH = fileURLToPath(new URL("../../../build/xs/xsnap-worker", import.meta.url));

/**
 * Prefix of the `issueCommand` messages that the console shim of `bundleForXs`
 * sends: `CONSOLE_TAG + level + ":" + text`. The client routes them to `onConsole`.
 */
export const CONSOLE_TAG = "\u0000console:";

/** What xsnap reports after every delivery (evaluate or command). */
export interface XsnapMeter {
  /** XS bytecodes executed during this delivery, plus weighted native work (string, array, regexp, bigint ops); an unsigned 32-bit count. */
  compute: number;
  /** Bytes of chunk and slot memory the machine has taken from the OS since it started (cumulative, grows in blocks). */
  allocate: number;
  /** Slots (32-byte XS values) currently in use on the heap after this delivery; drops only when the GC runs. */
  currentHeapCount: number;
  /** Wall-clock instants in seconds (gettimeofday): delivery received, each issueCommand sent and answered, reply sent. */
  timestamps: number[];
}

/** Result of a delivery: the bytes the worker returned (empty unless the result was an ArrayBuffer) and the meter. */
export interface XsnapResult<T = Uint8Array> {
  reply: T;
  meter: XsnapMeter;
}

/** Answer to a worker's `issueCommand`; `undefined` sends an empty ArrayBuffer. */
export type XsnapCommandReply = Uint8Array | ArrayBuffer | string | undefined | void;

/** Options of `Xsnap.start`. */
export interface XsnapOptions {
  /** Worker name, used in error messages (must not start with "-"). */
  name?: string;
  /** Path of the xsnap-worker binary; default `XSNAP_WORKER_PATH`. */
  binary?: string;
  /** Compute budget per delivery; when exceeded the worker exits with "too much computation". 0 or absent: unlimited. */
  meteringLimit?: number;
  /** Parser buffer in kB (default 8192): the largest script `evaluate` accepts. */
  parserBufferSizeKb?: number;
  /** Answers the worker's `issueCommand(ArrayBuffer)` calls (other than console messages). Default: empty reply. */
  handleCommand?: (request: Uint8Array) => XsnapCommandReply | Promise<XsnapCommandReply>;
  /** Receives `console.*` output of bundles built by `bundleForXs`. Default: dropped. */
  onConsole?: (level: string, text: string) => void;
  /** Receives what the worker's `print()` writes to stdout, one line at a time. Default: dropped. */
  onPrint?: (line: string) => void;
  /** Receives the worker's stderr, one line at a time (it is also kept for error messages). Default: dropped. */
  onStderr?: (line: string) => void;
}

/** Why a delivery or the worker failed. */
export type XsnapErrorKind = "exception" | "exit" | "protocol" | "handler" | "closed";

/** Error raised by the client: an uncaught exception in XS, the worker exiting, or a protocol fault. */
export class XsnapError extends Error {
  override name = "XsnapError";
  /** What went wrong. */
  readonly kind: XsnapErrorKind;
  /** The worker's exit code, when it exited. */
  readonly exitCode: number | null;
  /** The signal that killed the worker, if any. */
  readonly signal: NodeJS.Signals | null;
  /** The last lines the worker wrote to stderr. */
  readonly stderr: string;

  constructor(kind: XsnapErrorKind, message: string, details: { exitCode?: number | null; signal?: NodeJS.Signals | null; stderr?: string; cause?: unknown } = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.kind = kind;
    this.exitCode = details.exitCode ?? null;
    this.signal = details.signal ?? null;
    this.stderr = details.stderr ?? "";
  }
}

/** xsnap-worker exit codes (see @agoric/xsnap api.js). */
const EXIT_MESSAGES: Record<number, string> = {
  1: "bad argument usage",
  2: "I/O error",
  11: "not enough memory",
  12: "stack overflow",
  15: "unhandled exception",
  16: "property (key) name space exhausted",
  17: "too much computation",
  255: "unknown error",
};

const OK = 0x2e; // "."
const ERROR = 0x21; // "!"
const QUERY = 0x3f; // "?"
const METER_SEPARATOR = 0x01;
const STDERR_KEEP = 8192;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function toBytes(value: XsnapCommandReply): Uint8Array {
  if (value === undefined) return new Uint8Array(0);
  if (typeof value === "string") return encoder.encode(value);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  return value;
}

/** Splits a byte stream into netstrings. */
class NetstringParser {
  #buffer: Buffer = Buffer.alloc(0);

  /** Appends bytes; returns the complete messages, or throws on malformed framing. */
  push(chunk: Buffer): Buffer[] {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    const messages: Buffer[] = [];
    for (;;) {
      const colon = this.#buffer.indexOf(0x3a);
      if (colon < 0) {
        if (this.#buffer.length > 10 || !/^\d*$/.test(this.#buffer.toString("latin1"))) throw new Error(`bad netstring length prefix ${JSON.stringify(this.#buffer.subarray(0, 16).toString("latin1"))}`);
        return messages;
      }
      const digits = this.#buffer.subarray(0, colon).toString("latin1");
      if (!/^\d{1,10}$/.test(digits)) throw new Error(`bad netstring length prefix ${JSON.stringify(digits.slice(0, 16))}`);
      const length = Number(digits);
      const end = colon + 1 + length;
      if (this.#buffer.length < end + 1) return messages;
      if (this.#buffer[end] !== 0x2c) throw new Error("netstring not terminated by ','");
      messages.push(this.#buffer.subarray(colon + 1, end));
      this.#buffer = this.#buffer.subarray(end + 1);
    }
  }
}

/** Calls `sink` once per complete line of a text stream. */
function lines(stream: Readable, sink: (line: string) => void): void {
  let pending = "";
  stream.setEncoding("utf8");
  stream.on("data", (text: string) => {
    pending += text;
    let newline: number;
    while ((newline = pending.indexOf("\n")) >= 0) {
      sink(pending.slice(0, newline));
      pending = pending.slice(newline + 1);
    }
  });
  stream.on("end", () => {
    if (pending) sink(pending);
  });
}

interface Refable {
  ref?: () => void;
  unref?: () => void;
}

/** A running XS machine in an `xsnap-worker` process. */
export class Xsnap {
  /** The worker's name, as given in the options. */
  readonly name: string;
  readonly #child: ChildProcess;
  readonly #toWorker: Writable;
  readonly #options: XsnapOptions;
  readonly #parser = new NetstringParser();
  readonly #inbox: Buffer[] = [];
  #waiter: { resolve: (message: Buffer) => void; reject: (error: Error) => void } | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #busy = 0;
  #stderr = "";
  #failure: XsnapError | undefined;
  #closing = false;
  readonly #exited: Promise<void>;

  private constructor(child: ChildProcess, name: string, options: XsnapOptions) {
    this.#child = child;
    this.name = name;
    this.#options = options;
    const stdio = child.stdio as unknown as [null, Readable, Readable, Writable, Readable];
    this.#toWorker = stdio[3];
    // Writes after the worker died fail with EPIPE; the exit handler reports that.
    this.#toWorker.on("error", () => {});
    stdio[4].on("error", () => {});
    stdio[4].on("data", (chunk: Buffer) => this.#receive(chunk));
    lines(stdio[1], (line) => options.onPrint?.(line));
    lines(stdio[2], (line) => {
      this.#stderr = (this.#stderr + line + "\n").slice(-STDERR_KEEP);
      options.onStderr?.(line);
    });
    this.#exited = new Promise((resolve) => {
      child.once("error", (error) => {
        this.#fail(new XsnapError("exit", `${name}: cannot run ${options.binary ?? XSNAP_WORKER_PATH}: ${error.message}`, { cause: error }));
        resolve();
      });
      child.once("close", (code, signal) => {
        const stderr = this.#stderr.trim();
        const why = signal ? `killed by ${signal}` : `exited with code ${code}${code !== null && EXIT_MESSAGES[code] ? ` (${EXIT_MESSAGES[code]})` : ""}`;
        this.#fail(
          this.#closing
            ? new XsnapError("closed", `${name} is closed`, { exitCode: code, signal, stderr })
            : new XsnapError("exit", `${name} ${why}${stderr ? `: ${stderr}` : ""}`, { exitCode: code, signal, stderr }),
        );
        resolve();
      });
    });
  }

  /** Spawns a worker and waits until its XS machine answers. */
  static async start(options: XsnapOptions = {}): Promise<Xsnap> {
    const name = options.name ?? "xsnap";
    const binary = options.binary ?? XSNAP_WORKER_PATH;
    if (name.startsWith("-")) throw new TypeError(`xsnap name "${name}" must not start with "-"`);
    if (!existsSync(binary)) throw new XsnapError("exit", `${binary} does not exist; build it with \`npm run build:xs\``);
    const args = [name];
    const limit = options.meteringLimit ?? 0;
    if (!Number.isInteger(limit) || limit < 0 || limit > 0x7fffffff) throw new RangeError("meteringLimit must be an integer in [0, 2^31)");
    if (limit > 0) args.push("-l", String(limit));
    if (options.parserBufferSizeKb !== undefined) args.push("-s", String(options.parserBufferSizeKb));
    const env = { ...process.env };
    delete env.XSBUG_HOST; // would make the debug build of XS try to reach xsbug
    const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe", "pipe", "pipe"], env });
    const xs = new Xsnap(child, name, options);
    await xs.#deliver(Buffer.from("R"));
    return xs;
  }

  /** The worker's process id. */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  /**
   * Evaluates a script at global scope (sloppy mode, like indirect eval). The reply holds the
   * bytes of the completion value when it is an ArrayBuffer (or an object whose `result` is one),
   * else it is empty. Rejects with the XS error text when the script throws.
   */
  evaluate(code: string): Promise<XsnapResult> {
    return this.#deliver(Buffer.concat([Buffer.from("e"), Buffer.from(code, "utf8")]));
  }

  /**
   * Calls the worker's `globalThis.handleCommand(ArrayBuffer)` with the UTF-8 of `text` and decodes
   * the ArrayBuffer it returns as UTF-8.
   */
  async command(text: string): Promise<XsnapResult<string>> {
    const { reply, meter } = await this.commandBytes(encoder.encode(text));
    return { reply: decoder.decode(reply), meter };
  }

  /** Calls the worker's `globalThis.handleCommand(ArrayBuffer)` with raw bytes. */
  commandBytes(bytes: Uint8Array): Promise<XsnapResult> {
    return this.#deliver(Buffer.concat([Buffer.from("?"), bytes]));
  }

  /** Asks the worker to quit after the queued deliveries and waits for it to exit. */
  async close(): Promise<void> {
    if (this.#closing) return this.#exited;
    this.#closing = true;
    const quit = this.#queue.then(() => {
      if (!this.#failure) this.#write(Buffer.from("q"));
      this.#toWorker.end();
    });
    this.#queue = quit;
    this.#ref(true);
    await quit;
    await this.#exited;
  }

  /** Kills the worker at once; pending deliveries reject. */
  async terminate(): Promise<void> {
    this.#closing = true;
    this.#child.kill("SIGKILL");
    await this.#exited;
  }

  #deliver(message: Buffer): Promise<XsnapResult> {
    if (this.#closing) return Promise.reject(new XsnapError("closed", `${this.name} is closed`));
    const run = this.#queue.then(async () => {
      if (this.#failure) throw this.#failure;
      this.#busy++;
      this.#ref(true);
      try {
        this.#write(message);
        return await this.#runToIdle();
      } finally {
        if (--this.#busy === 0) this.#ref(false);
      }
    });
    this.#queue = run.catch(() => {});
    return run;
  }

  async #runToIdle(): Promise<XsnapResult> {
    for (;;) {
      const message = await this.#next();
      const kind = message[0];
      if (kind === OK) {
        const separator = message.indexOf(METER_SEPARATOR, 1);
        if (separator < 0) return { reply: new Uint8Array(0), meter: { compute: 0, allocate: 0, currentHeapCount: 0, timestamps: [] } };
        const meter = JSON.parse(message.subarray(1, separator).toString("utf8")) as XsnapMeter;
        return { reply: new Uint8Array(message.subarray(separator + 1)), meter };
      }
      if (kind === ERROR) {
        throw new XsnapError("exception", `${this.name}: ${message.subarray(1).toString("utf8") || "uncaught exception"}`);
      }
      if (kind === QUERY) {
        const reply = await this.#answer(message.subarray(1));
        this.#write(Buffer.concat([Buffer.from("/"), reply]));
        continue;
      }
      const error = new XsnapError("protocol", `${this.name}: unexpected message ${JSON.stringify(message.subarray(0, 40).toString("latin1"))}`);
      this.#fail(error);
      this.#child.kill("SIGKILL");
      throw error;
    }
  }

  async #answer(request: Buffer): Promise<Uint8Array> {
    const tag = CONSOLE_TAG;
    if (request.length >= tag.length && request.subarray(0, tag.length).toString("latin1") === tag) {
      const text = request.subarray(tag.length).toString("utf8");
      const colon = text.indexOf(":");
      this.#options.onConsole?.(text.slice(0, colon), text.slice(colon + 1));
      return new Uint8Array(0);
    }
    if (!this.#options.handleCommand) return new Uint8Array(0);
    try {
      return toBytes(await this.#options.handleCommand(new Uint8Array(request)));
    } catch (cause) {
      // The worker is blocked inside issueCommand and cannot be told of a failure: stop it.
      const error = new XsnapError("handler", `${this.name}: handleCommand failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
      this.#fail(error);
      this.#child.kill("SIGKILL");
      throw error;
    }
  }

  #write(payload: Uint8Array): void {
    this.#toWorker.write(Buffer.concat([Buffer.from(`${payload.length}:`), payload, Buffer.from(",")]));
  }

  #receive(chunk: Buffer): void {
    let messages: Buffer[];
    try {
      messages = this.#parser.push(chunk);
    } catch (cause) {
      this.#fail(new XsnapError("protocol", `${this.name}: ${(cause as Error).message}`));
      this.#child.kill("SIGKILL");
      return;
    }
    for (const message of messages) {
      if (this.#waiter) {
        const { resolve } = this.#waiter;
        this.#waiter = undefined;
        resolve(message);
      } else this.#inbox.push(message);
    }
  }

  #next(): Promise<Buffer> {
    const ready = this.#inbox.shift();
    if (ready) return Promise.resolve(ready);
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  #fail(error: XsnapError): void {
    if (!this.#failure) this.#failure = error;
    if (this.#waiter) {
      const { reject } = this.#waiter;
      this.#waiter = undefined;
      reject(this.#failure);
    }
  }

  /** Keeps Node alive while a delivery is in flight, and lets it exit while the worker idles. */
  #ref(on: boolean): void {
    const handles: Refable[] = [this.#child, ...(this.#child.stdio as unknown as Refable[]).filter(Boolean)];
    for (const handle of handles) (on ? handle.ref : handle.unref)?.call(handle);
  }
}
