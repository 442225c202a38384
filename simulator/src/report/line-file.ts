/**
 * An append-only text file written synchronously in chunks: text is gathered
 * up to `chunkChars` and then written with one `writeSync`, so memory stays
 * bounded however long the run is and however rarely the event loop turns
 * (the simulator runs whole days without yielding, which would let an
 * asynchronous stream's buffer grow without limit).
 */
import { closeSync, openSync, writeSync } from "node:fs";

export class LineFile {
  readonly path: string;
  #fd: number | undefined;
  #parts: string[] = [];
  #chars = 0;
  readonly #chunkChars: number;

  /** Creates (or truncates) the file. */
  constructor(path: string, chunkChars = 1 << 16) {
    this.path = path;
    this.#chunkChars = chunkChars;
    this.#fd = openSync(path, "w");
  }

  /** Appends text (the caller supplies line ends). */
  write(text: string): void {
    if (this.#fd === undefined) throw new Error(`${this.path} is closed`);
    this.#parts.push(text);
    this.#chars += text.length;
    if (this.#chars >= this.#chunkChars) this.flush();
  }

  /** Writes out what is gathered. */
  flush(): void {
    if (this.#fd === undefined || this.#parts.length === 0) return;
    writeSync(this.#fd, this.#parts.join(""));
    this.#parts = [];
    this.#chars = 0;
  }

  /** Flushes and closes; further writes throw. Closing twice is harmless. */
  close(): void {
    if (this.#fd === undefined) return;
    this.flush();
    closeSync(this.#fd);
    this.#fd = undefined;
  }

  get closed(): boolean {
    return this.#fd === undefined;
  }
}
