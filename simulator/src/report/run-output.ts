/**
 * A run's output directory, written as the run goes:
 *
 *     events.jsonl   every delivered uplink, as the network server emitted it (events-writer.ts)
 *     readings.csv   the decoded readings in long format (readings-writer.ts)
 *     summary.json   the RunSummary (run-data.ts), written at the end
 *     report.html    the page (report-html.ts), written at the end
 *
 * The fleet runner makes one, subscribes `uplink` to the network server
 * (`network.subscribe(out.uplink)`) and calls `finish(summary)` when the run
 * is over. Memory stays flat in the
 * number of days: events go straight to disk, and the report reads them back.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { UplinkEvent } from "../network/network-server.ts";
import { EventsWriter } from "./events-writer.ts";
import { ReadingsWriter, type ReadingsWriterOptions } from "./readings-writer.ts";
import { writeReport, type ReportOptions } from "./report-html.ts";
import type { RunSummary } from "./run-data.ts";

/** Where the files of a finished run are. */
export interface RunFiles {
  dir: string;
  events: string;
  readings: string;
  summary: string;
  report: string;
}

/** Writes `summary.json` (the summary as indented JSON). */
export function writeSummary(path: string, summary: RunSummary): void {
  writeFileSync(path, JSON.stringify(summary, null, 1) + "\n");
}

export class RunOutput {
  readonly dir: string;
  readonly events: EventsWriter;
  readonly readings: ReadingsWriter;
  #finished = false;

  /** Creates the directory if needed and opens `events.jsonl` and `readings.csv` (replacing earlier ones). */
  constructor(dir: string, options: ReadingsWriterOptions = {}) {
    this.dir = dir;
    mkdirSync(dir, { recursive: true });
    this.events = new EventsWriter(join(dir, "events.jsonl"));
    this.readings = new ReadingsWriter(join(dir, "readings.csv"), options);
  }

  /** Records one uplink event; bound, so it can be the listener itself: `network.subscribe(out.uplink)`. */
  readonly uplink = (event: UplinkEvent): void => {
    if (this.#finished) throw new Error("the run's output is already finished");
    this.events.write(event);
    this.readings.write(event);
  };

  /** Records one uplink event serialised elsewhere: its `events.jsonl` line and its `readings.csv` rows. */
  uplinkText(line: string, readings: string, rows: number): void {
    if (this.#finished) throw new Error("the run's output is already finished");
    this.events.append(line);
    this.readings.append(readings, rows);
  }

  /** Closes the streams and writes `summary.json` and `report.html`. */
  async finish(summary: RunSummary, options: ReportOptions = {}): Promise<RunFiles> {
    this.#finished = true;
    this.events.close();
    this.readings.close();
    const summaryPath = join(this.dir, "summary.json");
    writeSummary(summaryPath, summary);
    const report = await writeReport(this.dir, summary, options);
    return { dir: this.dir, events: this.events.path, readings: this.readings.path, summary: summaryPath, report };
  }
}
