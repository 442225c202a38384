/**
 * CSV as RFC 4180 writes it: fields separated by commas, records ended by
 * `\n`; a field holding a comma, a double quote, a line break or leading or
 * trailing spaces is enclosed in double quotes with its quotes doubled.
 * `CsvParser` reads that back from chunks of any size (quoted fields may span
 * lines and chunks), for reading `readings.csv` at the end of a run.
 */

/** One field, escaped if it needs to be. */
export function csvField(value: string | number | boolean): string {
  const s = String(value);
  if (/[",\r\n]/.test(s) || s !== s.trim()) return '"' + s.replace(/"/g, '""') + '"';
  return s;
}

/** One record, with its line end. */
export function csvLine(fields: readonly (string | number | boolean)[]): string {
  return fields.map(csvField).join(",") + "\n";
}

/**
 * Incremental CSV reader: `push` chunks, get the records completed so far;
 * `end` returns the last one. Lines without quotes (nearly all of a readings
 * file) are split directly; anything else goes through the full state machine.
 */
export class CsvParser {
  /** Text after the last line break, not yet parsed. */
  #rest = "";
  #field = "";
  #record: string[] = [];
  #quoted = false;
  /** Just saw a quote inside a quoted field: either its end or the first of a doubled pair. */
  #quoteSeen = false;
  /** Characters seen in the current record (to tell an empty last line from an empty field). */
  #started = false;
  /** Just ended a record on `\r`; a following `\n` belongs to it. */
  #afterCr = false;

  /**
   * Records completed by `chunk`. With `wanted`, a line without quotes for
   * which it is false is dropped unsplit (a reader after a few of many rows).
   */
  push(chunk: string, wanted?: (line: string) => boolean): string[][] {
    const out: string[][] = [];
    const text = this.#rest + chunk;
    let from = 0;
    for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n", from)) {
      const line = text.slice(from, nl);
      from = nl + 1;
      const cr = line.indexOf("\r");
      const simple = (cr < 0 || cr === line.length - 1) && !line.includes('"') && this.#atBoundary();
      if (simple) {
        if (wanted && !wanted(line)) continue;
        const body = line.endsWith("\r") ? line.slice(0, -1) : line;
        if (body !== "") out.push(body.split(","));
      } else {
        this.#scan(line + "\n", out);
      }
    }
    this.#rest = text.slice(from);
    return out;
  }

  /** The record left at the end of the input, if any. */
  end(): string[][] {
    const out: string[][] = [];
    this.#scan(this.#rest, out);
    this.#rest = "";
    if (this.#quoteSeen) {
      this.#quoteSeen = false;
      this.#quoted = false;
    }
    if (this.#started || this.#field !== "") out.push(this.#finish());
    return out;
  }

  #atBoundary(): boolean {
    return !this.#quoted && !this.#started && this.#field === "" && this.#record.length === 0;
  }

  #scan(chunk: string, out: string[][]): void {
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i];
      if (this.#afterCr) {
        this.#afterCr = false;
        if (c === "\n") continue;
      }
      if (this.#quoted) {
        if (this.#quoteSeen) {
          this.#quoteSeen = false;
          if (c === '"') {
            this.#field += '"';
            continue;
          }
          this.#quoted = false;
          // fall through: c follows the closing quote
        } else if (c === '"') {
          this.#quoteSeen = true;
          continue;
        } else {
          this.#field += c;
          continue;
        }
      }
      if (c === '"' && this.#field === "") {
        this.#quoted = true;
        this.#started = true;
      } else if (c === ",") {
        this.#record.push(this.#field);
        this.#field = "";
        this.#started = true;
      } else if (c === "\n" || c === "\r") {
        if (this.#started || this.#field !== "") out.push(this.#finish());
        this.#afterCr = c === "\r";
      } else {
        this.#field += c;
        this.#started = true;
      }
    }
  }

  #finish(): string[] {
    this.#record.push(this.#field);
    const r = this.#record;
    this.#record = [];
    this.#field = "";
    this.#started = false;
    return r;
  }
}

/** Parses a whole CSV text into records. */
export function parseCsv(text: string): string[][] {
  const p = new CsvParser();
  return [...p.push(text), ...p.end()];
}
