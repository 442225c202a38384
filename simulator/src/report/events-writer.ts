/**
 * `events.jsonl`: every uplink the network server delivered, one per line, as
 * the exact object it emits (The Things Stack's `as.up.data` shape:
 * `end_device_ids`, `correlation_ids`, `received_at`, `uplink_message` with
 * `f_port`, `f_cnt`, `frm_payload` (base64), `decoded_payload`, `rx_metadata`,
 * `settings`, `consumed_airtime`, …), in the order the server emitted them.
 * Written as the run goes; nothing is kept in memory.
 */
import type { UplinkEvent } from "../network/network-server.ts";
import { LineFile } from "./line-file.ts";

export class EventsWriter {
  readonly #file: LineFile;
  #count = 0;

  /** Creates (or truncates) the file at `path`. */
  constructor(path: string) {
    this.#file = new LineFile(path);
  }

  get path(): string {
    return this.#file.path;
  }

  /** Events written so far. */
  get count(): number {
    return this.#count;
  }

  /** Appends one event as one line of JSON (JSON escapes line breaks inside strings, so a line is always one event). */
  write(event: UplinkEvent): void {
    this.append(JSON.stringify(event) + "\n");
  }

  /** Appends an event already serialised as its line (by a shard of the run). */
  append(line: string): void {
    this.#file.write(line);
    this.#count++;
  }

  close(): void {
    this.#file.close();
  }
}
