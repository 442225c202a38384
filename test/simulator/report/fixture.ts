/**
 * A synthetic run for the report tests: a few nodes of each type over a few
 * days, with real codec payloads in events shaped exactly as the network
 * server emits them, alarms (true, false and a missed event), a lost uplink,
 * a network outage with store-and-forward batches after it, and a node over
 * the fair-use limit. Node roles repeat every ten nodes of a type, so a
 * thousand-node fleet has a hundred of each.
 */
import { decodeUplink, encodeUplinkData } from "../../../codecs/src/index.ts";
import { formatAirtime, uplinkAirtimeMs } from "../../../simulator/src/network/airtime.ts";
import type { UplinkEvent } from "../../../simulator/src/network/network-server.ts";
import { Rng } from "../../../simulator/src/core/rng.ts";
import {
  DAY_MS,
  NODE_TYPES,
  TTN_FAIR_USE_AIRTIME_MS_PER_DAY,
  type Detection,
  type FalseAlarm,
  type GroundTruthEvent,
  type NodeSummary,
  type NodeType,
  type RunSummary,
} from "../../../simulator/src/report/run-data.ts";

export interface FixtureOptions {
  /** Nodes of each type (default 3). */
  perType?: number;
  days?: number;
  /** Minutes between routine readings (default: air and water 15, level 30). */
  intervalMin?: number;
  /** Gateways (default 2). */
  gateways?: number;
  /** Give one node an id that needs CSV quoting (default true). */
  oddId?: boolean;
}

export interface Fixture {
  summary: RunSummary;
  /** Delivered uplinks, in the order the server received them. */
  events: UplinkEvent[];
  /** The id that needs quoting, when there is one. */
  oddId: string | undefined;
}

export const START_MS = Date.UTC(2026, 0, 5);
const HOUR = 3_600_000;
const MIN = 60_000;

const SF_BY_DR = [12, 11, 10, 9, 8, 7];

interface Frame {
  atMs: number;
  data: Record<string, unknown>;
  confirmed?: boolean;
}

function bump(hourOfDay: number, centre: number, width: number): number {
  const d = Math.min(Math.abs(hourOfDay - centre), 24 - Math.abs(hourOfDay - centre));
  return Math.exp(-(d * d) / (2 * width * width));
}

export function buildFixture(options: FixtureOptions = {}): Fixture {
  const perType = options.perType ?? 3;
  const days = options.days ?? 3;
  const endMs = START_MS + days * DAY_MS;
  const rng = new Rng("report-fixture");
  const outage = { gatewayId: "*", startMs: START_MS + DAY_MS + 12 * HOUR, endMs: START_MS + DAY_MS + 18 * HOUR };
  const inOutage = (t: number) => t >= outage.startMs && t < outage.endMs;
  const nGateways = options.gateways ?? 2;
  const gateways = Array.from({ length: nGateways }, (_, i) => ({
    id: `gw-${String(i + 1).padStart(2, "0")}`,
    x: Math.round(((i % 4) + 0.5) * (2400 / Math.min(4, nGateways))),
    y: Math.round((Math.floor(i / 4) + 0.5) * (1600 / Math.ceil(nGateways / 4))),
  }));

  const events: UplinkEvent[] = [];
  const nodes: NodeSummary[] = [];
  const groundTruth: GroundTruthEvent[] = [];
  const detections: Detection[] = [];
  const falseAlarms: FalseAlarm[] = [];
  const lost: { [reason: string]: number } = {};
  let oddId: string | undefined;
  let correlation = 0;

  for (const type of NODE_TYPES) {
    for (let k = 0; k < perType; k++) {
      const role = k % 10;
      let id = `${type}-${String(k + 1).padStart(perType > 99 ? 4 : 2, "0")}`;
      if (type === "level" && k === 2 && options.oddId !== false) id = oddId = `level-03,"market"`;
      const r = rng.fork(id);
      const devEui = (0x70b3d5_7ed0_000000n + BigInt(nodes.length)).toString(16).toUpperCase().padStart(16, "0");
      const dr = type === "level" && role === 2 ? 0 : k % 7 === 3 ? 3 : 5;
      const sf = SF_BY_DR[dr];
      const interval = (options.intervalMin ?? (type === "level" ? 30 : 15)) * MIN;
      const frames: Frame[] = [];
      const alarms: { event: string; atMs: number }[] = [];
      const alarm = (event: string, atMs: number, data: Record<string, unknown>) => {
        alarms.push({ event, atMs });
        frames.push({ atMs, data: { messageType: `${type}Alarm`, event, ageS: 0, ...data }, confirmed: true });
      };
      const reading = (t: number): Record<string, unknown> => {
        const hour = ((t - START_MS) % DAY_MS) / HOUR;
        if (type === "air") {
          let co2 = 460 + 220 * bump(hour, 10, 3) + r.normal(0, 12);
          if (role === 1 && t >= START_MS + DAY_MS + 9 * HOUR && t < START_MS + DAY_MS + 11 * HOUR) co2 = 1450 + r.normal(0, 40);
          let pm = 7 + 5 * bump(hour, 8, 2) + 4 * bump(hour, 18, 2) + Math.abs(r.normal(0, 0.8));
          if (role === 2 && t >= START_MS + 17 * HOUR && t < START_MS + 17 * HOUR + interval) pm = 64;
          return { co2Ppm: Math.round(co2), pm2_5: Math.round(pm * 10) / 10, pm10: Math.round(pm * 16) / 10, temperatureC: 6.5, relativeHumidityPct: 71, aqi: 30, aqiCategory: "good", batteryV: 3.584 };
        }
        if (type === "water") {
          let flow = Math.max(0, 2600 * bump(hour, 7.5, 1) + 2100 * bump(hour, 19.5, 1.5) + r.normal(0, 60));
          if (role === 0 && t >= START_MS + 22 * HOUR) flow += 180;
          if (role === 2 && t >= START_MS + 2 * DAY_MS + 14 * HOUR && t < START_MS + 2 * DAY_MS + 14.5 * HOUR) flow = 42_000;
          return { flowMlPerMin: Math.round(flow), volumeMl: Math.round((flow * interval) / MIN), totalL: 1200 + Math.round((t - START_MS) / HOUR), minNightFlowMlPerMin: 0, leak: role === 0 && t >= START_MS + DAY_MS + 5 * HOUR, burst: false, batteryV: 3.2 };
        }
        const hoursIn = (t - START_MS) / HOUR;
        let fill = role === 0 ? ((hoursIn + 18) % 24) * 3 : role === 1 ? 8 + hoursIn * 1.4 : 20 + hoursIn * 0.3;
        fill = Math.min(100, Math.max(0, fill + r.normal(0, 0.6)));
        return { distanceMm: Math.round(1200 - fill * 10), fillPct: Math.round(fill * 2) / 2, fillRatePctPerH: 1, tiltDeg: 2, lidOpen: false, tipped: false, emptied: false, temperatureC: 4, batteryV: 3.5 };
      };

      let attemptsInOutage = 0;
      const backlog: { t: number; data: Record<string, unknown> }[] = [];
      let wasFull = false;
      let co2High = false;
      const phase = Math.floor(r.next() * interval);
      for (let t = START_MS + phase; t < endMs; t += interval) {
        const data = reading(t);
        if (inOutage(t)) {
          if (attemptsInOutage++ < 2) {
            frames.push({ atMs: t, data: { messageType: `${type}Reading`, ...data } });
          } else {
            backlog.push({ t, data });
          }
        } else {
          if (backlog.length) {
            const max = type === "level" ? 4 : 3;
            for (let i = 0; i < backlog.length; i += max) {
              const sendAt = t - 30_000 + i;
              frames.push({ atMs: sendAt, data: { messageType: `${type}Batch`, readings: backlog.slice(i, i + max).map((b) => ({ ageS: Math.round((sendAt - b.t) / 1000), ...b.data })) } });
            }
            backlog.length = 0;
          }
          frames.push({ atMs: t, data: { messageType: `${type}Reading`, ...data } });
        }
        // Alarms, raised on the reading that shows them.
        if (type === "air" && role === 1 && !co2High && (data.co2Ppm as number) > 1200) {
          co2High = true;
          alarm("co2High", t + 2000, data);
        } else if (type === "air" && role === 1 && co2High && (data.co2Ppm as number) < 1000) {
          co2High = false;
          alarm("co2Normal", t + 2000, data);
        }
        if (type === "air" && role === 2 && (data.pm2_5 as number) > 50) alarm("pmSpike", t + 2000, data);
        if (type === "water" && role === 0 && data.leak && !alarms.length) alarm("leak", t + 2000, data);
        if (type === "level" && role === 1 && !wasFull && (data.fillPct as number) >= 90) {
          wasFull = true;
          alarm("full", t + 2000, data);
        }
      }
      // A status message each day and, on the first water node, a config ack.
      for (let d = 0; d < days; d++) {
        const t = START_MS + d * DAY_MS + 3 * HOUR + 17 * MIN + k * 1000;
        frames.push({ atMs: t, data: { messageType: "status", batteryMv: 3580, firmwareMajor: 1, firmwareMinor: 4, firmwarePatch: 0, uptimeS: Math.round((t - START_MS) / 1000), resetReason: "deepSleepWake", nodeType: type, queueDepth: 0, queueDropped: 0, configSeq: 1, sensorFaults: type === "water" ? [{ sensor: "pulseMeter", faults: d, lastFault: "timeout" }] : [] } });
      }
      if (type === "water" && k === 0) frames.push({ atMs: START_MS + 6 * HOUR + 7 * MIN, data: { messageType: "configAck", commandPort: 20, result: "applied", configSeq: 2, applied: { command: "setInterval", intervalS: 900, heartbeatS: 21600 } } });
      frames.sort((a, b) => a.atMs - b.atMs);

      const airtimeMsPerDay = new Array<number>(days).fill(0);
      let fCnt = 0;
      let sent = 0;
      let delivered = 0;
      for (const f of frames) {
        const w: string[] = [];
        const e: string[] = [];
        const enc = encodeUplinkData(f.data, undefined, w, e);
        if (e.length) throw new Error(`fixture: ${id}: ${e.join("; ")}`);
        const airtimeMs = uplinkAirtimeMs(enc.bytes.length, sf);
        const day = Math.floor((f.atMs - START_MS) / DAY_MS);
        if (day < days) airtimeMsPerDay[day] += airtimeMs;
        sent++;
        fCnt++;
        let reason: string | undefined;
        if (inOutage(f.atMs)) reason = "outage";
        else if (type === "water" && role === 1 && fCnt === 7) reason = "collision";
        if (reason) {
          lost[reason] = (lost[reason] ?? 0) + 1;
          continue;
        }
        delivered++;
        const endAt = f.atMs + airtimeMs;
        const receivedAt = new Date(endAt).toISOString();
        const decoded = decodeUplink({ bytes: enc.bytes, fPort: enc.fPort, recvTime: receivedAt });
        const gw = gateways[(k + nodes.length) % gateways.length];
        events.push({
          end_device_ids: {
            device_id: id,
            application_ids: { application_id: "citysense-sim" },
            dev_eui: devEui,
            join_eui: "70B3D57ED0000000",
            dev_addr: (0x26000000 + nodes.length).toString(16).toUpperCase().padStart(8, "0"),
          },
          correlation_ids: [`as:up:${String(++correlation).padStart(8, "0")}`],
          received_at: receivedAt,
          uplink_message: {
            f_port: enc.fPort,
            f_cnt: fCnt,
            frm_payload: Buffer.from(enc.bytes).toString("base64"),
            ...(decoded.errors.length === 0 && decoded.data ? { decoded_payload: decoded.data as { [key: string]: unknown } } : {}),
            rx_metadata: [
              {
                gateway_ids: { gateway_id: gw.id, eui: "B827EBFF0000" + String(gateways.indexOf(gw)).padStart(4, "0") },
                timestamp: Math.round((endAt - START_MS) * 1000) % 4294967296,
                rssi: -100 - (k % 17),
                channel_rssi: -100 - (k % 17),
                snr: 6.25 - dr,
                channel_index: fCnt % 3,
                received_at: receivedAt,
              },
            ],
            settings: {
              data_rate: { lora: { bandwidth: 125000, spreading_factor: sf, coding_rate: "4/5" } },
              frequency: String(868_100_000 + (fCnt % 3) * 200_000),
              timestamp: Math.round((endAt - START_MS) * 1000) % 4294967296,
            },
            received_at: receivedAt,
            ...(f.confirmed ? { confirmed: true } : {}),
            consumed_airtime: formatAirtime(airtimeMs),
            network_ids: { net_id: "000013" },
          },
        });
      }

      // Ground truth and how it was detected.
      const firstAlarm = (event: string) => {
        const a = alarms.find((x) => x.event === event);
        return a ? a.atMs + uplinkAirtimeMs(15, sf) : null;
      };
      const truth = (kind: string, startMs: number, endMsOf: number, detectedAtMs: number | null) => {
        groundTruth.push({ nodeId: id, kind, startMs, endMs: endMsOf });
        detections.push({ nodeId: id, kind, truthStartMs: startMs, detectedAtMs });
      };
      if (type === "air" && role === 1) truth("co2High", START_MS + DAY_MS + 9 * HOUR, START_MS + DAY_MS + 11 * HOUR, firstAlarm("co2High"));
      if (type === "water" && role === 0) truth("leak", START_MS + 22 * HOUR, endMs, firstAlarm("leak"));
      if (type === "water" && role === 2) truth("burst", START_MS + 2 * DAY_MS + 14 * HOUR, START_MS + 2 * DAY_MS + 14.5 * HOUR, null);
      if (type === "level" && role === 1 && wasFull) truth("full", (alarms[0]?.atMs ?? endMs) - 20 * MIN, endMs, firstAlarm("full"));
      for (const a of alarms) if (a.event === "pmSpike") falseAlarms.push({ nodeId: id, event: a.event, atMs: a.atMs });

      const wakes = frames.length + Math.round((endMs - START_MS) / interval);
      const awakePerWakeMs = type === "air" ? 5600 : 900;
      const energy = (type === "air" ? 3.1 : type === "water" ? 0.42 : 0.55) + airtimeMsPerDay.reduce((a, b) => a + b, 0) / days / 1000 * 0.012;
      const batteryMah = type === "air" ? 19_000 : 3_400;
      nodes.push({
        id,
        type,
        position: { x: Math.round(r.next() * 2400), y: Math.round(r.next() * 1600) },
        modem: k % 2 ? "rak3172" : "wio-e5",
        dataRate: dr,
        boots: wakes + 1,
        awakeMs: wakes * awakePerWakeMs,
        railMs: type === "air" ? endMs - START_MS : wakes * 3000,
        uplinksSent: sent,
        uplinksDelivered: delivered,
        joins: 1,
        airtimeMsPerDay: airtimeMsPerDay.map((v) => Math.round(v * 10) / 10),
        energyMahPerDay: Math.round(energy * 1000) / 1000,
        batteryMah,
        projectedBatteryYears: Math.round((batteryMah / energy / 365) * 100) / 100,
        alarms,
      });
    }
  }
  events.sort((a, b) => Date.parse(a.received_at) - Date.parse(b.received_at));
  const total = nodes.reduce((a, n) => a + n.uplinksSent, 0);
  const summary: RunSummary = {
    scenario: perType > 10 ? "district-1000" : "riverside-small",
    seed: 42,
    region: "EU868",
    days,
    startMs: START_MS,
    nodes,
    gateways,
    groundTruth,
    detections,
    falseAlarms,
    outages: [outage],
    network: { uplinks: total, delivered: events.length, lostByReason: lost },
    fairUseAirtimeMsPerDay: TTN_FAIR_USE_AIRTIME_MS_PER_DAY,
  };
  return { summary, events, oddId };
}

/** The node type of each node, for tests. */
export function typesById(summary: RunSummary): Map<string, NodeType> {
  return new Map(summary.nodes.map((n) => [n.id, n.type]));
}
