/**
 * Realistic readings for every uplink type, as the nodes hold them: integer
 * records keyed by `Field.key`, in fixed-point units. The payload-size and
 * throughput benchmarks and the Cayenne baseline test all use these, so "the
 * same readings" means the very same numbers on both sides.
 */
import { UPLINKS, DOWNLINKS, encodeRecord, type Field, type IntRecord, type MessageDef } from "../../codecs/src/index.ts";

/** One message to encode: an uplink record, and for config acks the echoed command. */
export interface Sample {
  /** Row label, e.g. "airReading +ext". */
  label: string;
  /** Uplink message name (`MessageDef.name`). */
  type: string;
  port: number;
  rec: IntRecord;
  /** Config ack only: the downlink command echoed after the head. */
  echo?: { port: number; rec: IntRecord };
}

const airCore = (o: IntRecord = {}): IntRecord => ({
  co2Ppm: 612, pm25DeciUgm3: 84, pm10DeciUgm3: 131, temperatureDeciC: 217, humidityHalfPct: 97,
  aqi: 47, aqiCategory: 0, batteryMv: 3650, sensorFault: false, lowBattery: false, queueOverflow: false, clockUnsynced: false, ...o,
});
const airExt: IntRecord = { pm1DeciUgm3: 52, pm4DeciUgm3: 110, vocIndex: 112, noxIndex: 1 };

const waterCore = (o: IntRecord = {}): IntRecord => ({
  flowMlMin: 5400, volumeMl: 81000, totalL: 1284377, minNightFlowMlMin: 0, leak: false, burst: false,
  batteryMv: 3580, sensorFault: false, lowBattery: false, queueOverflow: false, clockUnsynced: false, ...o,
});
const waterExt: IntRecord = { waterTemperatureDeciC: 124, valveState: 0, privacy: false };

const levelCore = (o: IntRecord = {}): IntRecord => ({
  distanceMm: 842, fillHalfPct: 125, fillRateHalfPctPerH: 3, tiltDeg: 2, lidOpen: false, tipped: false, emptied: false,
  temperatureDeciC: 83, batteryMv: 3410, sensorFault: false, lowBattery: false, queueOverflow: false, clockUnsynced: false, ...o,
});

const statusHead: IntRecord = {
  batteryMv: 3612, fwMajor: 1, fwMinor: 4, fwPatch: 2, uptimeS: 1209600, resetReason: 4, nodeType: 0,
  queueDepth: 3, queueDropped: 0, configSeq: 7,
};

/** Every case the payload table shows: each uplink type, with and without its optional parts. */
export const SAMPLES: Sample[] = [
  { label: "airReading", type: "airReading", port: 1, rec: airCore() },
  { label: "airReading +ext", type: "airReading", port: 1, rec: { ...airCore(), ...airExt } },
  { label: "airAlarm", type: "airAlarm", port: 2, rec: airCore({ event: 0, ageS: 12, co2Ppm: 1450, aqi: 61, aqiCategory: 1, pm25DeciUgm3: 112 }) },
  {
    label: "airBatch ×3", type: "airBatch", port: 3,
    rec: {
      readings: [
        airCore({ ageS: 2700, co2Ppm: 588, pm25DeciUgm3: 71, temperatureDeciC: 209 }),
        airCore({ ageS: 1800, co2Ppm: 603, pm25DeciUgm3: 79, temperatureDeciC: 213 }),
        airCore({ ageS: 900, co2Ppm: 612, pm25DeciUgm3: 84, temperatureDeciC: 217, clockUnsynced: true }),
      ],
    },
  },
  { label: "waterReading", type: "waterReading", port: 4, rec: waterCore() },
  { label: "waterReading +ext", type: "waterReading", port: 4, rec: { ...waterCore(), ...waterExt } },
  { label: "waterAlarm", type: "waterAlarm", port: 5, rec: waterCore({ event: 0, ageS: 3, flowMlMin: 240, volumeMl: 3600, minNightFlowMlMin: 240, leak: true }) },
  {
    label: "waterBatch ×3", type: "waterBatch", port: 6,
    rec: {
      readings: [
        waterCore({ ageS: 2700, flowMlMin: 0, volumeMl: 0, totalL: 1284296 }),
        waterCore({ ageS: 1800, flowMlMin: 5100, volumeMl: 76500, totalL: 1284373 }),
        waterCore({ ageS: 900, flowMlMin: 5400, volumeMl: 81000, totalL: 1284454 }),
      ],
    },
  },
  { label: "levelReading", type: "levelReading", port: 7, rec: levelCore() },
  { label: "levelAlarm", type: "levelAlarm", port: 8, rec: levelCore({ event: 0, ageS: 40, distanceMm: 212, fillHalfPct: 181, fillRateHalfPctPerH: 9 }) },
  {
    label: "levelBatch ×4", type: "levelBatch", port: 9,
    rec: {
      readings: [
        levelCore({ ageS: 10800, distanceMm: 901, fillHalfPct: 115 }),
        levelCore({ ageS: 7200, distanceMm: 880, fillHalfPct: 119 }),
        levelCore({ ageS: 3600, distanceMm: 861, fillHalfPct: 122, lidOpen: true }),
        levelCore({ ageS: 60, distanceMm: 842, fillHalfPct: 125, fillRateHalfPctPerH: -2, temperatureDeciC: -15 }),
      ],
    },
  },
  { label: "status", type: "status", port: 10, rec: { ...statusHead, sensorFaults: [] } },
  {
    label: "status +3 faults", type: "status", port: 10,
    rec: {
      ...statusHead,
      sensorFaults: [
        { sensor: 0, faults: 2, lastFault: 2 },
        { sensor: 3, faults: 14, lastFault: 4 },
        { sensor: 8, faults: 1, lastFault: 8 },
      ],
    },
  },
  {
    label: "configAck applied +echo", type: "configAck", port: 11,
    rec: { cmdPort: 20, result: 0, configSeq: 8 },
    echo: { port: 20, rec: { intervalS: 900, heartbeatS: 21600 } },
  },
  { label: "configAck refused", type: "configAck", port: 11, rec: { cmdPort: 23, result: 2, field: 3, configSeq: 7 } },
];

/** Definition of an uplink or downlink by fPort. */
export function defByPort(port: number): MessageDef {
  const def = UPLINKS.find((d) => d.port === port) || DOWNLINKS.find((d) => d.port === port);
  if (!def) throw new Error(`no message on fPort ${port}`);
  return def;
}

function checkKeys(label: string, rec: IntRecord, fields: Field[], extra: string[], where: string): void {
  const known = new Set(fields.map((f) => f.key).concat(extra));
  for (const k of Object.keys(rec)) if (!known.has(k)) throw new Error(`sample "${label}": ${where}${k} is not a field key of this message`);
}

/** Throws if a sample names a key its message does not have, so the samples follow the codec when it changes. */
export function checkSampleKeys(s: Sample): void {
  const def = defByPort(s.port);
  checkKeys(s.label, s.rec, def.head.concat(def.ext || []), def.listName ? [def.listName] : [], "");
  if (def.entry) for (const e of (s.rec[def.listName!] as IntRecord[]) || []) checkKeys(s.label, e, def.entry, [], `${def.listName}[].`);
  if (s.echo) checkKeys(s.label, s.echo.rec, defByPort(s.echo.port).head, [], "echo.");
}

/** Our bytes for a sample: the node's own encoder, plus the echoed command for config acks. */
export function encodeOurs(s: Sample): number[] {
  const buf = new Uint8Array(64);
  let n = encodeRecord(s.port, s.rec, buf, 0, 51);
  if (n < 0) throw new Error(`sample "${s.label}" does not encode`);
  if (s.echo) {
    const m = encodeRecord(s.echo.port, s.echo.rec, buf, n, 51 - n);
    if (m < 0) throw new Error(`sample "${s.label}": echoed command does not encode`);
    n += m;
  }
  return Array.from(buf.subarray(0, n));
}
