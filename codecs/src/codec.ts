/**
 * Table-driven encoding and decoding of every message in uplinks.ts and
 * downlinks.ts. Encoders take the node's integer records and write into a
 * caller-supplied byte store without allocating; decoders build JSON for
 * network servers and never throw.
 */
import { readBits, readStart, writeBits, writeStart, type ByteSink, type ByteSource } from "./bits.ts";
import { byteWidth, validLengths, type Field, type MessageDef } from "./fields.ts";
import { UPLINKS } from "./uplinks.ts";
import { DOWNLINKS } from "./downlinks.ts";
import { crossCheck } from "./checks.ts";

/** The node's integer record for one message: keys are `Field.key`, values in fixed-point units. */
export interface IntRecord {
  [key: string]: number | boolean | undefined | IntRecord[];
}

/** Decoded values keyed by `Field.name`. */
export interface Decoded {
  [name: string]: unknown;
}

/** Largest code of a `bits`-wide field: also the "absent" code. */
export function allOnes(bits: number): number {
  return bits >= 32 ? 4294967295 : bits === 31 ? 2147483647 : (1 << bits) - 1;
}

/** Uplink definition for an fPort, or undefined. */
export function uplinkByPort(port: number): MessageDef | undefined {
  for (let i = 0; i < UPLINKS.length; i++) if (UPLINKS[i].port === port) return UPLINKS[i];
  return undefined;
}

/** Downlink definition for an fPort, or undefined. */
export function downlinkByPort(port: number): MessageDef | undefined {
  for (let i = 0; i < DOWNLINKS.length; i++) if (DOWNLINKS[i].port === port) return DOWNLINKS[i];
  return undefined;
}

/** Downlink definition by command name, or undefined. */
export function downlinkByName(name: string): MessageDef | undefined {
  for (let i = 0; i < DOWNLINKS.length; i++) if (DOWNLINKS[i].name === name) return DOWNLINKS[i];
  return undefined;
}

function writeFields(fields: Field[], rec: IntRecord): void {
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i];
    const v = rec[f.key];
    let code: number;
    if (f.type === "bool") {
      code = v ? 1 : 0;
    } else if (typeof v !== "number" || v !== v) {
      code = f.absent ? allOnes(f.bits) : 0;
    } else {
      // Saturate: a reading beyond the wire range is sent as the range's edge.
      const n = v < f.min ? f.min : v > f.max ? f.max : v;
      code = (n - f.zero) >>> f.shift;
    }
    writeBits(code, f.bits);
  }
}

function hasAny(fields: Field[], rec: IntRecord): boolean {
  for (let i = 0; i < fields.length; i++) if (rec[fields[i].key] !== undefined) return true;
  return false;
}

/**
 * Encodes uplink `port` from the node's integer record into `buf` at `offset`,
 * using at most `maxBytes`; returns the length, or −1 if even the shortest form
 * does not fit. Optional extension fields go only when present and room allows.
 * For batch and status messages, `rec[listName]` holds the entries.
 */
export function encodeRecord(port: number, rec: IntRecord, buf: ByteSink, offset: number, maxBytes: number): number {
  const def = uplinkByPort(port) || downlinkByPort(port);
  if (!def) return -1;
  const head = byteWidth(def.head);
  if (head > maxBytes) return -1;
  writeStart(buf, offset);
  writeFields(def.head, rec);
  let len = head;
  if (def.ext) {
    const ext = byteWidth(def.ext);
    if (head + ext <= maxBytes && hasAny(def.ext, rec)) {
      writeStart(buf, offset + head);
      writeFields(def.ext, rec);
      len += ext;
    }
  } else if (def.entry) {
    const list = rec[def.listName as string] as IntRecord[] | undefined;
    const size = byteWidth(def.entry);
    const count = list ? list.length : 0;
    const max = def.maxEntries || 0;
    let k = 0;
    for (; k < count && k < max && len + size <= maxBytes; k++) {
      writeStart(buf, offset + len);
      writeFields(def.entry, list![k]);
      len += size;
    }
    if (k < (def.minEntries || 0)) return -1;
  }
  return len;
}

function decodeFields(fields: Field[], out: Decoded, warnings: string[], strict: boolean, errors: string[], firstBad: number[], raw = false): void {
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i];
    const code = readBits(f.bits);
    if (f.absent && code === allOnes(f.bits)) continue;
    if (f.type === "bool") {
      out[raw ? f.key : f.name] = code === 1;
      continue;
    }
    if (f.type === "enum") {
      if (raw && code < (f.values as string[]).length) {
        out[f.key] = code;
        continue;
      }
      const values = f.values as string[];
      if (code < values.length) out[f.name] = values[code];
      else {
        const msg = f.name + ": unknown code " + code;
        if (strict) {
          errors.push(msg);
          if (firstBad[0] < 0) firstBad[0] = i;
        } else {
          warnings.push(msg);
          // Keep the field a string in every message, so typed stores downstream never see it change type.
          out[f.name] = "unknown-" + code;
        }
      }
      continue;
    }
    const value = code * (1 << f.shift) + f.zero;
    if (value > f.max || value < f.min) {
      const msg = f.name + ": " + value / f.scale + " is outside " + f.min / f.scale + ".." + f.max / f.scale + (f.unit ? " " + f.unit : "");
      if (strict) {
        errors.push(msg);
        if (firstBad[0] < 0) firstBad[0] = i;
        continue;
      }
      warnings.push(msg);
    }
    if (f.name !== "reserved") {
      if (raw) out[f.key] = value;
      else out[f.name] = value / f.scale;
    }
  }
}

function lengthError(def: MessageDef, n: number): string {
  const lengths = validLengths(def);
  const shown = def.echo ? lengths[0] + ".." + lengths[lengths.length - 1] : lengths.join(", ");
  return def.name + " (fPort " + def.port + ") must be " + shown + " bytes long, got " + n;
}

/** Checks that `bytes` is an array-like of byte values; returns an error message or undefined. */
export function checkBytes(bytes: unknown): string | undefined {
  if (bytes === null || typeof bytes !== "object" || typeof (bytes as ByteSource).length !== "number") return "bytes must be an array of integers 0..255";
  const b = bytes as ByteSource;
  for (let i = 0; i < b.length; i++) {
    const v = b[i];
    if (typeof v !== "number" || v !== (v & 0xff)) return "bytes[" + i + "] is not an integer 0..255";
  }
  return undefined;
}

/** Result of parsing a downlink on the node: the command or the reason to refuse it. */
export interface ParsedDownlink {
  data: Decoded;
  errors: string[];
  warnings: string[];
  /** ACK_RESULTS name. */
  result: string;
  /** Index of the refused field, or −1. */
  field: number;
}

/**
 * Parses downlink bytes strictly: anything malformed or out of range is refused with a reason.
 * With `raw`, `data` is keyed by `Field.key` with integer fixed-point values and enum indexes, as the node applies them.
 */
export function parseDownlink(bytes: ByteSource, fPort: number, raw = false): ParsedDownlink {
  const out: ParsedDownlink = { data: {}, errors: [], warnings: [], result: "applied", field: -1 };
  const def = downlinkByPort(fPort);
  if (!def) {
    out.errors.push("unknown downlink fPort " + fPort);
    out.result = "unknownCommand";
    return out;
  }
  const need = byteWidth(def.head);
  if (bytes.length !== need) {
    out.errors.push(lengthError(def, bytes.length));
    out.result = "malformed";
    return out;
  }
  const firstBad = [-1];
  const data: Decoded = { command: def.name };
  readStart(bytes, 0);
  decodeFields(def.head, data, out.warnings, true, out.errors, firstBad);
  if (out.errors.length) {
    out.result = "outOfRange";
    out.field = firstBad[0];
    return out;
  }
  const bad = crossCheck(def.name, data as { [k: string]: number });
  if (!bad && raw) {
    const rec: Decoded = { command: def.name };
    readStart(bytes, 0);
    decodeFields(def.head, rec, out.warnings, true, out.errors, firstBad, true);
    out.data = rec;
    return out;
  }
  if (bad) {
    out.errors.push(bad.message);
    out.result = "inconsistent";
    out.field = bad.field;
    return out;
  }
  out.data = data;
  return out;
}

/** Decodes uplink bytes into JSON; problems go to `errors`/`warnings`. May throw only on internal bugs. */
export function decodeUplinkBytes(bytes: ByteSource, fPort: number, recvTimeMs: number | undefined, warnings: string[], errors: string[]): Decoded | undefined {
  const def = uplinkByPort(fPort);
  if (!def) {
    errors.push("unknown fPort " + fPort + ": this codec decodes fPorts " + UPLINKS.map((d) => d.port).join(", "));
    return undefined;
  }
  const lengths = validLengths(def);
  let ok = false;
  for (let i = 0; i < lengths.length; i++) if (lengths[i] === bytes.length) ok = true;
  if (!ok) {
    const e = def.entry ? byteWidth(def.entry) : 0;
    if (def.entry && bytes.length > byteWidth(def.head) && (bytes.length - byteWidth(def.head)) % e !== 0) {
      errors.push(lengthError(def, bytes.length) + " (entries are " + e + " bytes each; truncated?)");
    } else {
      errors.push(lengthError(def, bytes.length));
    }
    return undefined;
  }
  const data: Decoded = { messageType: def.name };
  const noErrors: string[] = [];
  const firstBad = [-1];
  readStart(bytes, 0);
  decodeFields(def.head, data, warnings, false, noErrors, firstBad);
  const head = byteWidth(def.head);
  if (def.ext && bytes.length > head) {
    readStart(bytes, head);
    decodeFields(def.ext, data, warnings, false, noErrors, firstBad);
  }
  if (def.entry) {
    const size = byteWidth(def.entry);
    const list: Decoded[] = [];
    for (let at = head; at + size <= bytes.length; at += size) {
      const entry: Decoded = {};
      readStart(bytes, at);
      decodeFields(def.entry, entry, warnings, false, noErrors, firstBad);
      addTime(entry, recvTimeMs);
      list.push(entry);
    }
    data[def.listName as string] = list;
  }
  if (def.echo && bytes.length > head) {
    const rest: number[] = [];
    for (let i = head; i < bytes.length; i++) rest.push(bytes[i]);
    const parsed = parseDownlink(rest, data.commandPort as number);
    if (parsed.errors.length) warnings.push("echoed command does not decode: " + parsed.errors.join("; "));
    else data.applied = parsed.data;
  }
  addTime(data, recvTimeMs);
  return data;
}

function addTime(entry: Decoded, recvTimeMs: number | undefined): void {
  if (recvTimeMs === undefined || typeof entry.ageS !== "number") return;
  const t = recvTimeMs - (entry.ageS as number) * 1000;
  if (t >= -8.64e15 && t <= 8.64e15) entry.time = new Date(t).toISOString();
}

/** Turns a decoded-form downlink (`{ command, ...values }`) into bytes, or errors naming each problem. */
export function encodeDownlinkData(data: Decoded, fPort: number | undefined, warnings: string[], errors: string[]): { bytes: number[]; fPort: number } {
  let def: MessageDef | undefined;
  if (data && typeof data.command === "string") {
    def = downlinkByName(data.command);
    if (!def) errors.push("unknown command '" + data.command + "'; known: " + DOWNLINKS.map((d) => d.name).join(", "));
    else if (fPort !== undefined && fPort !== def.port) errors.push("command " + def.name + " goes on fPort " + def.port + ", not " + fPort);
  } else if (typeof fPort === "number") {
    def = downlinkByPort(fPort);
    if (!def) errors.push("no command given and fPort " + fPort + " is not a command port");
  } else {
    errors.push("data.command is required (one of " + DOWNLINKS.map((d) => d.name).join(", ") + ")");
  }
  if (!def || errors.length) return { bytes: [], fPort: def ? def.port : fPort || 0 };
  const known: { [k: string]: boolean } = { command: true };
  const rec: IntRecord = {};
  const values: { [k: string]: number | boolean | string } = {};
  for (let i = 0; i < def.head.length; i++) {
    const f = def.head[i];
    known[f.name] = true;
    if (f.name === "reserved") continue;
    const v = data[f.name];
    if (v === undefined) {
      errors.push(def.name + "." + f.name + " is required (" + f.doc + ")");
      continue;
    }
    if (f.type === "bool") {
      if (typeof v !== "boolean") errors.push(def.name + "." + f.name + " must be true or false");
      rec[f.key] = v === true;
      values[f.name] = v === true;
    } else if (f.type === "enum") {
      const idx = (f.values as string[]).indexOf(v as string);
      if (idx < 0) errors.push(def.name + "." + f.name + " must be one of " + (f.values as string[]).join(", "));
      rec[f.key] = idx;
      values[f.name] = v as string;
    } else {
      if (typeof v !== "number" || !isFinite(v)) {
        errors.push(def.name + "." + f.name + " must be a number");
        continue;
      }
      const scaled = v * f.scale;
      const n = Math.round(scaled);
      if (Math.abs(scaled - n) > 1e-6) warnings.push(def.name + "." + f.name + " rounded to " + n / f.scale + " (resolution " + 1 / f.scale + ")");
      if (n < f.min || n > f.max) errors.push(def.name + "." + f.name + " = " + v + " is outside " + f.min / f.scale + ".." + f.max / f.scale + (f.unit ? " " + f.unit : ""));
      rec[f.key] = n;
      values[f.name] = n / f.scale;
    }
  }
  for (const k in data) if (Object.prototype.hasOwnProperty.call(data, k) && !known[k]) errors.push("unknown setting '" + k + "' for " + def.name);
  if (!errors.length) {
    const bad = crossCheck(def.name, values);
    if (bad) errors.push(bad.message);
  }
  if (errors.length) return { bytes: [], fPort: def.port };
  const bytes: number[] = [];
  const n = byteWidth(def.head);
  for (let i = 0; i < n; i++) bytes.push(0);
  encodeRecord(def.port, rec, bytes, 0, n);
  return { bytes, fPort: def.port };
}

function toRecord(fields: Field[], data: Decoded, rec: IntRecord, where: string, warnings: string[], errors: string[]): void {
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i];
    const v = data[f.name];
    if (v === undefined || v === null) {
      if (!f.absent && f.type !== "bool" && f.name !== "reserved") errors.push(where + f.name + " is required");
      continue;
    }
    if (f.type === "bool") rec[f.key] = v === true;
    else if (f.type === "enum") {
      const idx = (f.values as string[]).indexOf(v as string);
      if (idx < 0) errors.push(where + f.name + " must be one of " + (f.values as string[]).join(", "));
      rec[f.key] = idx;
    } else if (typeof v !== "number" || !isFinite(v)) errors.push(where + f.name + " must be a number");
    else {
      const n = Math.round(v * f.scale);
      if (n < f.min || n > f.max) warnings.push(where + f.name + " = " + v + " saturated to " + f.min / f.scale + ".." + f.max / f.scale);
      rec[f.key] = n;
    }
  }
}

/** Encodes a decoded-form uplink (as decodeUplink returns it) back to bytes: the inverse of decoding, for tools and tests. */
export function encodeUplinkData(data: Decoded, fPort: number | undefined, warnings: string[], errors: string[]): { bytes: number[]; fPort: number } {
  let def: MessageDef | undefined;
  if (data && typeof data.messageType === "string") {
    for (let i = 0; i < UPLINKS.length; i++) if (UPLINKS[i].name === data.messageType) def = UPLINKS[i];
  } else if (typeof fPort === "number") def = uplinkByPort(fPort);
  if (!def) {
    errors.push("data.messageType must name an uplink (one of " + UPLINKS.map((d) => d.name).join(", ") + ")");
    return { bytes: [], fPort: fPort || 0 };
  }
  const rec: IntRecord = {};
  toRecord(def.head, data, rec, "", warnings, errors);
  if (def.ext) toRecord(def.ext, data, rec, "", warnings, []);
  if (def.entry) {
    const list = data[def.listName as string];
    const recs: IntRecord[] = [];
    if (list && typeof (list as unknown[]).length === "number") {
      for (let i = 0; i < (list as Decoded[]).length; i++) {
        const r: IntRecord = {};
        toRecord(def.entry, (list as Decoded[])[i], r, def.listName + "[" + i + "].", warnings, errors);
        recs.push(r);
      }
    }
    if (recs.length < (def.minEntries || 0) || recs.length > (def.maxEntries || 0)) {
      errors.push(def.listName + " must have " + def.minEntries + ".." + def.maxEntries + " entries");
    }
    rec[def.listName as string] = recs;
  }
  if (errors.length) return { bytes: [], fPort: def.port };
  const bytes: number[] = [];
  for (let i = 0; i < 51; i++) bytes.push(0);
  let n = encodeRecord(def.port, rec, bytes, 0, 51);
  if (def.echo && data.applied) {
    const echo = encodeDownlinkData(data.applied as Decoded, data.commandPort as number, warnings, errors);
    for (let i = 0; i < echo.bytes.length; i++) bytes[n++] = echo.bytes[i];
  }
  bytes.length = n;
  return { bytes, fPort: def.port };
}
