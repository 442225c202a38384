/**
 * The streamed run outputs: events.jsonl (one TTS-shaped uplink event per
 * line, exactly as emitted), readings.csv (long format, escaped, batches
 * expanded with each entry's own time) and summary.json, written through
 * RunOutput from a synthetic run.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { UplinkEvent } from "../../../simulator/src/network/network-server.ts";
import { CsvParser, csvField, csvLine, parseCsv } from "../../../simulator/src/report/csv.ts";
import { EventsWriter } from "../../../simulator/src/report/events-writer.ts";
import { READINGS_COLUMNS, ReadingsWriter, readingRows } from "../../../simulator/src/report/readings-writer.ts";
import { checkRunSummary, type RunSummary } from "../../../simulator/src/report/run-data.ts";
import { RunOutput, type RunFiles } from "../../../simulator/src/report/run-output.ts";
import { buildFixture, typesById, type Fixture } from "./fixture.ts";

describe("report: run outputs", function () {
  let dir: string;
  let fx: Fixture;
  let files: RunFiles;

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), "citysense-report-"));
    fx = buildFixture();
    const out = new RunOutput(dir);
    for (const e of fx.events) out.uplink(e);
    files = await out.finish(fx.summary, { warnings: [] });
  });

  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  it("the fixture is a sound run summary with what the tests need", function () {
    const s = fx.summary;
    assert.deepEqual(checkRunSummary(s), []);
    assert.deepEqual(new Set(s.nodes.map((n) => n.type)), new Set(["air", "water", "level"]));
    assert.ok(s.nodes.some((n) => n.alarms.length > 0));
    assert.equal(s.network.lostByReason.collision, 1, "one uplink lost to a collision");
    assert.ok((s.network.lostByReason.outage ?? 0) > 0, "uplinks lost in the outage");
    assert.ok(s.detections.some((d) => d.detectedAtMs === null), "a missed event");
    assert.ok(s.falseAlarms.length > 0);
    assert.equal(s.network.delivered, fx.events.length);
    assert.ok(fx.events.some((e) => String(e.uplink_message.decoded_payload?.messageType).endsWith("Batch")));
  });

  describe("events.jsonl", function () {
    let lines: string[];
    before(function () {
      const text = readFileSync(files.events, "utf8");
      assert.ok(text.endsWith("\n"), "ends with a line break");
      lines = text.slice(0, -1).split("\n");
    });

    it("has one line per delivered uplink, each the exact event object the network server emitted", function () {
      assert.equal(lines.length, fx.events.length);
      lines.forEach((line, i) => {
        const parsed: unknown = JSON.parse(line);
        assert.equal(typeof parsed, "object");
        assert.deepEqual(parsed, fx.events[i], `line ${i + 1}`);
      });
    });

    it("every line has The Things Stack's uplink shape", function () {
      for (const line of lines) {
        const e = JSON.parse(line) as UplinkEvent;
        assert.equal(typeof e.end_device_ids.device_id, "string");
        assert.match(e.end_device_ids.dev_eui, /^[0-9A-F]{16}$/);
        assert.match(e.end_device_ids.dev_addr, /^[0-9A-F]{8}$/);
        assert.equal(typeof e.end_device_ids.application_ids.application_id, "string");
        assert.equal(new Date(e.received_at).toISOString(), e.received_at, "received_at is ISO 8601 UTC");
        const m = e.uplink_message;
        assert.ok(Number.isInteger(m.f_port) && m.f_port >= 1 && m.f_port <= 223);
        assert.ok(Number.isInteger(m.f_cnt) && m.f_cnt >= 0);
        assert.match(m.frm_payload, /^[A-Za-z0-9+/]+=*$/);
        assert.ok(Buffer.from(m.frm_payload, "base64").length > 0);
        assert.equal(typeof m.decoded_payload?.messageType, "string");
        assert.ok(Array.isArray(m.rx_metadata) && m.rx_metadata.length > 0);
        for (const r of m.rx_metadata) {
          assert.equal(typeof r.gateway_ids.gateway_id, "string");
          assert.equal(typeof r.rssi, "number");
          assert.equal(typeof r.snr, "number");
        }
        assert.equal(typeof m.settings.data_rate.lora.spreading_factor, "number");
        assert.equal(m.settings.data_rate.lora.bandwidth, 125000);
        assert.match(m.settings.frequency, /^\d+$/);
        assert.match(m.consumed_airtime, /^\d+(\.\d+)?s$/);
        assert.equal(m.received_at, e.received_at);
      }
    });

    it("is written as the run goes, not held until the end", function () {
      const path = join(dir, "streaming.jsonl");
      const w = new EventsWriter(path);
      let i = 0;
      while (statSync(path).size === 0 && i < 10_000) w.write(fx.events[i++ % fx.events.length]);
      assert.ok(statSync(path).size > 0, "bytes reach the file before close");
      assert.ok(i < 200, `flushed after ${i} events`);
      w.close();
      assert.equal(readFileSync(path, "utf8").split("\n").length - 1, i);
    });
  });

  describe("readings.csv", function () {
    let text: string;
    let records: string[][];
    before(function () {
      text = readFileSync(files.readings, "utf8");
      records = parseCsv(text);
    });

    it("starts with the header and has six fields in every row", function () {
      assert.equal(text.slice(0, text.indexOf("\n")), "time,node_id,node_type,message_type,field,value");
      assert.deepEqual(records[0], [...READINGS_COLUMNS]);
      for (const r of records) assert.equal(r.length, 6, JSON.stringify(r));
    });

    it("has one row per numeric or boolean decoded field of every reading, in order", function () {
      const types = typesById(fx.summary);
      const expected = fx.events.flatMap((e) => readingRows(e, types.get(e.end_device_ids.device_id))).map((r) => [r.time, r.nodeId, r.nodeType, r.messageType, r.field, String(r.value)]);
      assert.equal(records.length - 1, expected.length);
      assert.deepEqual(records.slice(1), expected);
      for (const r of records.slice(1)) {
        assert.equal(new Date(r[0]).toISOString(), r[0], "time is ISO 8601 UTC");
        assert.ok(["air", "water", "level"].includes(r[2]), `node type ${r[2]}`);
        assert.ok(Number.isFinite(Number(r[5])) && r[5] !== "", `value ${r[5]} is a number`);
      }
      const fields = new Set(records.slice(1).map((r) => r[4]));
      for (const f of ["co2Ppm", "pm2_5", "flowMlPerMin", "volumeMl", "fillPct", "batteryMv", "sensorFaults.0.faults", "applied.intervalS"]) assert.ok(fields.has(f), f);
      for (const f of ["messageType", "aqiCategory", "event", "resetReason", "time", "readings"]) assert.ok(!fields.has(f), `string field ${f} is left out`);
    });

    it("writes booleans as 1 and 0", function () {
      const leak = records.filter((r) => r[4] === "leak").map((r) => r[5]);
      assert.ok(leak.includes("1") && leak.includes("0"));
      assert.ok(leak.every((v) => v === "0" || v === "1"));
    });

    it("escapes fields that need it, as RFC 4180 says", function () {
      const odd = fx.oddId as string;
      assert.ok(odd.includes(",") && odd.includes('"'));
      assert.ok(text.includes(`\n2026-`) && text.includes(`,"level-03,""market""",level,levelReading,fillPct,`), "quoted, with doubled quotes");
      assert.ok(records.some((r) => r[1] === odd), "reads back as the id");
      // Rows without quotes are plain: exactly five commas.
      for (const line of text.split("\n").slice(1, -1)) if (!line.includes('"')) assert.equal(line.split(",").length, 6, line);
      assert.equal(csvField('a "b", c'), '"a ""b"", c"');
      assert.equal(csvField("line\nbreak"), '"line\nbreak"');
      assert.equal(csvField(" padded"), '" padded"');
      assert.equal(csvField("plain-1.5"), "plain-1.5");
      assert.equal(csvField(-3.25), "-3.25");
      assert.deepEqual(parseCsv(csvLine(['a "b", c', "line\nbreak", "", "x"]) + csvLine(["", ""])), [['a "b", c', "line\nbreak", "", "x"], ["", ""]]);
      assert.deepEqual(parseCsv("a,b\r\nc,d\r\n"), [["a", "b"], ["c", "d"]], "CRLF line ends");
      assert.deepEqual(parseCsv("a\rb\n\nc"), [["a"], ["b"], ["c"]], "bare CR, blank lines, no final line end");
    });

    it("expands each batch into its entries, each at its own time", function () {
      const batches = fx.events.filter((e) => String(e.uplink_message.decoded_payload?.messageType).endsWith("Batch"));
      assert.ok(batches.length >= 3);
      for (const e of batches) {
        const decoded = e.uplink_message.decoded_payload as { messageType: string; readings: { time: string; ageS: number }[] };
        const id = e.end_device_ids.device_id;
        const rows = records.filter((r) => r[1] === id && r[3] === decoded.messageType);
        for (const entry of decoded.readings) {
          assert.equal(entry.time, new Date(Date.parse(e.received_at) - entry.ageS * 1000).toISOString());
          assert.ok(Date.parse(entry.time) < Date.parse(e.received_at));
          const at = rows.filter((r) => r[0] === entry.time);
          const key = decoded.messageType === "airBatch" ? "co2Ppm" : decoded.messageType === "waterBatch" ? "flowMlPerMin" : "fillPct";
          assert.equal(at.filter((r) => r[4] === key).length, 1, `${id} ${decoded.messageType} entry at ${entry.time} has one ${key} row`);
          assert.equal(at.find((r) => r[4] === "ageS")?.[5], String(entry.ageS));
        }
        assert.equal(new Set(decoded.readings.map((r) => r.time)).size, decoded.readings.length, "entries have distinct times");
      }
    });

    it("dates an alarm at its measurement and a routine reading at its receipt", function () {
      const alarm = fx.events.find((e) => e.uplink_message.f_port === 2) as UplinkEvent;
      const d = alarm.uplink_message.decoded_payload as { time: string; co2Ppm: number };
      const rows = records.filter((r) => r[1] === alarm.end_device_ids.device_id && r[3] === "airAlarm" && r[4] === "co2Ppm" && r[5] === String(d.co2Ppm));
      assert.ok(rows.some((r) => r[0] === d.time));
      const reading = fx.events.find((e) => e.uplink_message.f_port === 1) as UplinkEvent;
      assert.ok(records.some((r) => r[3] === "airReading" && r[1] === reading.end_device_ids.device_id && r[0] === reading.received_at));
    });

    it("takes a node's type from its earlier messages or the map given when the message does not say", function () {
      const ack = fx.events.find((e) => e.uplink_message.f_port === 11) as UplinkEvent;
      assert.ok(records.some((r) => r[3] === "configAck" && r[2] === "water"));
      assert.equal(readingRows(ack)[0].nodeType, "");
      const path = join(dir, "ack-only.csv");
      const w = new ReadingsWriter(path, { nodeTypes: new Map([[ack.end_device_ids.device_id, "water"]]) });
      w.write(ack);
      w.close();
      assert.ok(parseCsv(readFileSync(path, "utf8")).slice(1).every((r) => r[2] === "water"));
    });

    it("reads back the same whatever the chunk size", function () {
      const sample = text.slice(0, 20_000) + csvLine(["x", 'q"uo,te', "multi\r\nline"]);
      const whole = parseCsv(sample);
      for (const size of [1, 2, 3, 7, 64, 4096]) {
        const p = new CsvParser();
        const got: string[][] = [];
        for (let i = 0; i < sample.length; i += size) got.push(...p.push(sample.slice(i, i + size)));
        got.push(...p.end());
        assert.deepEqual(got, whole, `chunks of ${size}`);
      }
    });

    it("drops the unquoted lines a filter does not want, unsplit, and still reads every quoted one", function () {
      const sample = text.slice(0, 20_000) + csvLine(["x", 'q"uo,te', "multi\r\nline"]);
      const whole = parseCsv(sample);
      const second = (line: string) => line.split(",")[1];
      const node = whole[1][1];
      for (const size of [1, 7, 4096]) {
        const p = new CsvParser();
        const asked: string[] = [];
        const got: string[][] = [];
        const wanted = (line: string) => (asked.push(line), second(line) === node);
        for (let i = 0; i < sample.length; i += size) got.push(...p.push(sample.slice(i, i + size), wanted));
        got.push(...p.end());
        // Quoted lines are parsed whatever the filter says (their fields are not known without the state machine).
        assert.deepEqual(got, whole.filter((r) => r[1] === node || csvLine(r).includes('"')), `chunks of ${size}`);
        assert.ok(got.some((r) => r.includes("multi\r\nline")), "the quoted line");
        assert.ok(got.filter((r) => r[1] === node).length >= 1, "the wanted node's rows");
        assert.ok(got.length < whole.length / 2, `others dropped: ${got.length} of ${whole.length}`);
        assert.ok(asked.every((l) => !l.includes('"')), "quoted lines are not filtered");
      }
    });
  });

  describe("summary.json", function () {
    it("is the run summary, as JSON", function () {
      const parsed = JSON.parse(readFileSync(files.summary, "utf8")) as RunSummary;
      assert.deepEqual(parsed, fx.summary);
      assert.deepEqual(checkRunSummary(parsed), []);
      assert.equal(parsed.fairUseAirtimeMsPerDay, 30_000);
    });

    it("checkRunSummary names what is wrong", function () {
      const bad = structuredClone(fx.summary);
      bad.nodes[0].airtimeMsPerDay.pop();
      bad.nodes[1].uplinksDelivered = bad.nodes[1].uplinksSent + 1;
      bad.detections.push({ nodeId: "nobody", kind: "leak", truthStartMs: 0, detectedAtMs: null });
      const problems = checkRunSummary(bad);
      assert.equal(problems.length, 3, problems.join("\n"));
    });
  });

  it("the report page exists next to the data", function () {
    const html = readFileSync(files.report, "utf8");
    assert.match(html, /^<!doctype html>/);
  });
});
