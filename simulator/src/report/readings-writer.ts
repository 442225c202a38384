/**
 * `readings.csv`: the decoded uplinks in long format, one row per numeric or
 * boolean field of each reading,
 *
 *     time,node_id,node_type,message_type,field,value
 *
 * - `time`: when the value was measured, ISO 8601 UTC with milliseconds: a
 *   batch entry's or an alarm's own `time` (receive time − `ageS`), otherwise
 *   the uplink's `received_at`.
 * - `node_id`: `end_device_ids.device_id`.
 * - `node_type`: `air`, `water` or `level`, from the message type (`status`
 *   says it in `nodeType`; a config ack takes the type the node showed before,
 *   or the one given to the writer); empty if unknown.
 * - `message_type`: the codec's `messageType` (`airReading`, `waterBatch`,
 *   `levelAlarm`, `status`, `configAck`, …).
 * - `field`: the decoded field's name; the entries of a batch are expanded into
 *   rows under their own names and times (so `co2Ppm` from an `airBatch` entry
 *   is a `co2Ppm` row at that entry's time); other nested values are named by
 *   their path (`applied.intervalS`, `sensorFaults.0.faults`).
 * - `value`: the number as decoded (in the unit the field's name says);
 *   booleans as `1` (true) and `0` (false) so the column is numeric throughout.
 *   String fields (enumerations such as `event` or `aqiCategory`) are left out.
 *
 * Rows come in the order the uplinks were received, so batch entries (measured
 * earlier) appear after later readings; sort by `time` for a time series. Fields
 * are escaped as `csv.ts` says. Uplinks the server could not decode give no rows.
 */
import { isoTime } from "../core/iso-time.ts";
import type { UplinkEvent } from "../network/network-server.ts";
import { csvField, csvLine } from "./csv.ts";
import { LineFile } from "./line-file.ts";
import { NODE_TYPES, type NodeType } from "./run-data.ts";

/** The header line's fields. */
export const READINGS_COLUMNS = ["time", "node_id", "node_type", "message_type", "field", "value"] as const;

/** One row of `readings.csv`. */
export interface ReadingRow {
  time: string;
  nodeId: string;
  nodeType: NodeType | "";
  messageType: string;
  field: string;
  value: number;
}

type Json = { [key: string]: unknown };

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The node type a decoded message reveals, if any. */
export function nodeTypeOf(decoded: Json): NodeType | undefined {
  const t = decoded.messageType;
  if (typeof t === "string") for (const n of NODE_TYPES) if (t.startsWith(n)) return n;
  const nt = decoded.nodeType;
  return typeof nt === "string" && (NODE_TYPES as readonly string[]).includes(nt) ? (nt as NodeType) : undefined;
}

/** Is this value a list of timed entries (a batch's readings)? */
function isEntryList(v: unknown): v is Json[] {
  return Array.isArray(v) && v.length > 0 && v.every((e) => isObject(e) && (typeof e.time === "string" || typeof e.ageS === "number"));
}

function addFields(out: [string, number][], value: unknown, path: string): void {
  if (typeof value === "number") {
    if (Number.isFinite(value)) out.push([path, value]);
  } else if (typeof value === "boolean") {
    out.push([path, value ? 1 : 0]);
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => addFields(out, v, `${path}.${i}`));
  } else if (isObject(value)) {
    for (const [k, v] of Object.entries(value)) addFields(out, v, path ? `${path}.${k}` : k);
  }
}

/** Turns `(ISO time | undefined, ageS | undefined)` into the entry's time, falling back on the receive time. */
function entryTime(entry: Json, receivedAt: string): string {
  if (typeof entry.time === "string") return entry.time;
  if (typeof entry.ageS === "number") {
    const t = Date.parse(receivedAt) - entry.ageS * 1000;
    if (Number.isFinite(t)) return isoTime(t);
  }
  return receivedAt;
}

/** The rows one uplink event gives (`nodeType` when the message itself does not say). */
export function readingRows(event: UplinkEvent, nodeType?: NodeType): ReadingRow[] {
  const decoded = event.uplink_message.decoded_payload;
  if (!decoded) return [];
  const nodeId = event.end_device_ids.device_id;
  const type = nodeTypeOf(decoded) ?? nodeType ?? "";
  const messageType = typeof decoded.messageType === "string" ? decoded.messageType : `fPort${event.uplink_message.f_port}`;
  const receivedAt = isoTime(Date.parse(event.received_at));
  const headTime = entryTime(decoded, receivedAt);
  const rows: ReadingRow[] = [];
  const head: [string, number][] = [];
  for (const [key, value] of Object.entries(decoded)) {
    if (key === "messageType" || key === "time") continue;
    if (isEntryList(value)) {
      for (const entry of value) {
        const time = entryTime(entry, receivedAt);
        const fields: [string, number][] = [];
        for (const [k, v] of Object.entries(entry)) if (k !== "time") addFields(fields, v, k);
        for (const [field, v] of fields) rows.push({ time, nodeId, nodeType: type, messageType, field, value: v });
      }
    } else {
      addFields(head, value, key);
    }
  }
  const headRows = head.map(([field, value]): ReadingRow => ({ time: headTime, nodeId, nodeType: type, messageType, field, value }));
  return [...headRows, ...rows];
}

/** Options of a ReadingsWriter. */
export interface ReadingsWriterOptions {
  /** Node types by device id, for messages that do not reveal it (config acks before any reading). */
  nodeTypes?: ReadonlyMap<string, NodeType>;
}

/**
 * The CSV rows of uplink events, one node's events in the order they were
 * received: it learns each node's type from its messages for those that do
 * not say it (config acks). Kept apart from the file so a run's shards can
 * format their own nodes' rows in parallel (a node is in one shard).
 */
export class ReadingsFormatter {
  /** Types learnt from each node's messages: one entry per node, so bounded by the fleet, not the run. */
  readonly #types = new Map<string, NodeType>();

  constructor(nodeTypes?: ReadonlyMap<string, NodeType>) {
    for (const [id, t] of nodeTypes ?? []) this.#types.set(id, t);
  }

  /** The rows of one event as CSV text (line ends included), and how many there are. */
  format(event: UplinkEvent): { text: string; rows: number } {
    const id = event.end_device_ids.device_id;
    const decoded = event.uplink_message.decoded_payload;
    const seen = decoded ? nodeTypeOf(decoded) : undefined;
    if (seen) this.#types.set(id, seen);
    let text = "";
    const rows = readingRows(event, this.#types.get(id));
    // csvLine's bytes, with the columns an entry's rows share escaped once per entry (a number never needs escaping).
    let time: string | undefined;
    let head = "";
    for (const r of rows) {
      if (r.time !== time) {
        time = r.time;
        head = `${csvField(r.time)},${csvField(r.nodeId)},${csvField(r.nodeType)},${csvField(r.messageType)},`;
      }
      text += `${head}${csvField(r.field)},${r.value}\n`;
    }
    return { text, rows: rows.length };
  }
}

/** Streams `readings.csv` from uplink events as they arrive. */
export class ReadingsWriter {
  readonly #file: LineFile;
  readonly #formatter: ReadingsFormatter;
  #rows = 0;

  /** Creates (or truncates) the file and writes the header. */
  constructor(path: string, options: ReadingsWriterOptions = {}) {
    this.#file = new LineFile(path);
    this.#formatter = new ReadingsFormatter(options.nodeTypes);
    this.#file.write(csvLine(READINGS_COLUMNS));
  }

  get path(): string {
    return this.#file.path;
  }

  /** Rows written so far (header not counted). */
  get rows(): number {
    return this.#rows;
  }

  /** Appends the rows of one event. */
  write(event: UplinkEvent): void {
    const { text, rows } = this.#formatter.format(event);
    this.append(text, rows);
  }

  /** Appends rows a `ReadingsFormatter` made elsewhere (a shard of the run). */
  append(text: string, rows: number): void {
    if (rows === 0) return;
    this.#file.write(text);
    this.#rows += rows;
  }

  close(): void {
    this.#file.close();
  }
}
