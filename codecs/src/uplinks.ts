/** Uplink message definitions, one message type per fPort. */
import { bool, enumField, int, type Field, type MessageDef } from "./fields.ts";

/** EPA AQI categories (2024), in code order. */
export const AQI_CATEGORIES = ["good", "moderate", "unhealthyForSensitiveGroups", "unhealthy", "veryUnhealthy", "hazardous"];

/** Battery as carried in every reading: 64 mV steps from 1.8 V; the status message has exact millivolts. */
const battery = int("batteryV", "batteryMv", 6, 1800, 1800 + 62 * 64, "V", "battery voltage, 64 mV steps (exact value in the status message)", { shift: 6, scale: 1000, absent: true });

/** Status flags carried in every reading. */
const flags: Field[] = [
  bool("sensorFault", "a sensor failed (CRC, timeout, NACK) since the last report"),
  bool("lowBattery", "battery below the low-battery threshold"),
  bool("queueOverflow", "the uplink queue dropped routine readings since the last report"),
  bool("clockUnsynced", "the node's wall clock is unset (a water node says so again a day after the last setTime): answer with setTime"),
];

const temperature = (name: string, key: string, doc: string) => int(name, key, 11, -400, 850, "°C", doc, { scale: 10, absent: true });

/** Air-quality routine reading, core part (11 bytes). */
export const AIR_CORE: Field[] = [
  int("co2Ppm", "co2Ppm", 16, 0, 40000, "ppm", "CO2 concentration", { absent: true }),
  int("pm2_5", "pm25DeciUgm3", 14, 0, 10000, "µg/m³", "PM2.5 mass concentration", { scale: 10, absent: true }),
  int("pm10", "pm10DeciUgm3", 14, 0, 10000, "µg/m³", "PM10 mass concentration", { scale: 10, absent: true }),
  temperature("temperatureC", "temperatureDeciC", "air temperature"),
  int("relativeHumidityPct", "humidityHalfPct", 8, 0, 200, "%", "relative humidity", { scale: 2, absent: true }),
  int("aqi", "aqi", 9, 0, 500, "", "US EPA AQI (2024 breakpoints) from PM2.5 and PM10, computed on the node (instantaneous estimate)", { absent: true }),
  enumField("aqiCategory", 3, AQI_CATEGORIES, "category of `aqi`", true),
  battery,
  ...flags,
];

/** Air-quality extension (6 bytes), sent when the node has a SEN5x/SEN66 and the data rate allows. */
export const AIR_EXT: Field[] = [
  int("pm1_0", "pm1DeciUgm3", 14, 0, 10000, "µg/m³", "PM1.0 mass concentration", { scale: 10, absent: true }),
  int("pm4_0", "pm4DeciUgm3", 14, 0, 10000, "µg/m³", "PM4.0 mass concentration", { scale: 10, absent: true }),
  int("vocIndex", "vocIndex", 9, 0, 500, "", "Sensirion VOC index (1..500, 100 = typical)", { absent: true }),
  int("noxIndex", "noxIndex", 9, 0, 500, "", "Sensirion NOx index (1..500, 1 = typical)", { absent: true }),
];

/** Valve states reported by the water node. */
export const VALVE_STATES = ["open", "closed", "overridden"];

/** Water-flow routine reading, core part (11 bytes). */
export const WATER_CORE: Field[] = [
  int("flowMlPerMin", "flowMlMin", 17, 0, 131070, "mL/min", "mean flow rate over the last sampling interval", { absent: true }),
  int("volumeMl", "volumeMl", 22, 0, 4194302, "mL", "volume since the previous routine reading (saturates)", { absent: true }),
  int("totalL", "totalL", 27, 0, 134217726, "L", "meter total", { absent: true }),
  int("minNightFlowMlPerMin", "minNightFlowMlMin", 10, 0, 1022, "mL/min", "minimum flow in the last complete night window (saturates at 1022)", { absent: true }),
  bool("leak", "leak suspected: flow never reached zero in the night window"),
  bool("burst", "burst: flow above the burst threshold for the set duration"),
  battery,
  ...flags,
];

/** Water-flow extension (2 bytes): water temperature, valve, privacy mode. */
export const WATER_EXT: Field[] = [
  temperature("waterTemperatureC", "waterTemperatureDeciC", "water temperature, where the meter has a probe"),
  enumField("valve", 2, VALVE_STATES, "shut-off valve state (absent: no valve fitted)", true, "valveState"),
  bool("privacy", "privacy mode: volumes are hourly totals with added noise, flow is withheld"),
];

/** Fill-level routine reading (8 bytes). */
export const LEVEL_CORE: Field[] = [
  int("distanceMm", "distanceMm", 13, 0, 8190, "mm", "distance from sensor to surface (median-filtered)", { absent: true }),
  int("fillPct", "fillHalfPct", 8, 0, 200, "%", "fill level", { scale: 2, absent: true }),
  int("fillRatePctPerH", "fillRateHalfPctPerH", 10, -511, 511, "%/h", "rate of change of the fill level", { scale: 2, absent: true }),
  int("tiltDeg", "tiltDeg", 8, 0, 180, "°", "tilt from upright", { absent: true }),
  bool("lidOpen", "lid open now"),
  bool("tipped", "bin tipped over"),
  bool("emptied", "bin emptied since the previous reading"),
  temperature("temperatureC", "temperatureDeciC", "sensor temperature"),
  battery,
  ...flags,
];

const age = int("ageS", "ageS", 24, 0, 16777215, "s", "seconds between the measurement and the uplink's transmission (saturates)");

/** Alarm/event codes per node type. */
export const AIR_EVENTS = ["co2High", "co2Normal", "aqiCategoryChange", "pmSpike", "pmNormal", "sensorFault", "sensorRecovered"];
export const WATER_EVENTS = ["leak", "leakCleared", "burst", "burstCleared", "noPulse", "pulseResumed", "valveClosed", "valveOpened", "valveOverride", "sensorFault", "sensorRecovered"];
export const LEVEL_EVENTS = ["full", "fullCleared", "emptied", "tipped", "upright", "lidOpen", "lidClosed", "rapidRise", "rapidRiseCleared", "obstruction", "sensorFault", "sensorRecovered"];

/** Sensors that status messages count faults for. */
export const SENSORS = ["scd41", "sen55", "sen66", "pms5003", "pulseMeter", "a02yyuw", "vl53l1x", "lis3dh", "modem", "battery", "waterTemperature"];
/** Last fault kinds (match the firmware's SensorError faults). */
export const FAULTS = ["none", "nack", "crc", "checksum", "timeout", "frame", "range", "stuck", "busy", "id"];
/** Reset reasons. */
export const RESET_REASONS = ["powerOn", "brownout", "watchdog", "software", "deepSleepWake", "panic", "external", "unknown"];
/** Node types. */
export const NODE_TYPES = ["air", "water", "level"];
/** Config ack results. */
export const ACK_RESULTS = ["applied", "malformed", "outOfRange", "unknownCommand", "unsupported", "busy", "inconsistent"];

function reading(port: number, name: string, title: string, node: "air" | "water" | "level", core: Field[], ext?: Field[]): MessageDef {
  return { port, name, title, node, head: core, ext };
}

function alarm(port: number, name: string, title: string, node: "air" | "water" | "level", events: string[], core: Field[]): MessageDef {
  return { port, name, title, node, head: [enumField("event", 8, events, "what happened"), age].concat(core) };
}

function batch(port: number, name: string, title: string, node: "air" | "water" | "level", core: Field[], maxEntries: number): MessageDef {
  return { port, name, title, node, head: [], entry: [age].concat(core), listName: "readings", minEntries: 1, maxEntries };
}

/** All uplinks, by fPort. */
export const UPLINKS: MessageDef[] = [
  reading(1, "airReading", "Air-quality reading", "air", AIR_CORE, AIR_EXT),
  alarm(2, "airAlarm", "Air-quality alarm", "air", AIR_EVENTS, AIR_CORE),
  batch(3, "airBatch", "Air-quality batch (store-and-forward backlog)", "air", AIR_CORE, 3),
  reading(4, "waterReading", "Water-flow reading", "water", WATER_CORE, WATER_EXT),
  alarm(5, "waterAlarm", "Water-flow alarm", "water", WATER_EVENTS, WATER_CORE),
  batch(6, "waterBatch", "Water-flow batch (store-and-forward backlog)", "water", WATER_CORE, 3),
  reading(7, "levelReading", "Fill-level reading", "level", LEVEL_CORE),
  alarm(8, "levelAlarm", "Fill-level alarm", "level", LEVEL_EVENTS, LEVEL_CORE),
  batch(9, "levelBatch", "Fill-level batch (store-and-forward backlog)", "level", LEVEL_CORE, 4),
  {
    port: 10,
    name: "status",
    title: "Status",
    node: "any",
    head: [
      int("batteryMv", "batteryMv", 13, 0, 8190, "mV", "battery voltage", { absent: true }),
      int("firmwareMajor", "fwMajor", 6, 0, 63, "", "firmware version, major"),
      int("firmwareMinor", "fwMinor", 6, 0, 63, "", "firmware version, minor"),
      int("firmwarePatch", "fwPatch", 8, 0, 255, "", "firmware version, patch"),
      int("uptimeS", "uptimeS", 32, 0, 4294967295, "s", "seconds since the last reset (saturates)"),
      enumField("resetReason", 3, RESET_REASONS, "cause of the last reset"),
      enumField("nodeType", 2, NODE_TYPES, "what the node measures"),
      int("queueDepth", "queueDepth", 12, 0, 4095, "", "readings waiting in the uplink queue (saturates)"),
      int("queueDropped", "queueDropped", 12, 0, 4095, "", "routine readings dropped from a full queue since boot (saturates)"),
      int("configSeq", "configSeq", 8, 0, 255, "", "configuration sequence number, +1 per applied downlink (wraps)"),
    ],
    entry: [
      enumField("sensor", 4, SENSORS, "which sensor"),
      int("faults", "faults", 12, 0, 4095, "", "faults since boot (saturates)"),
      enumField("lastFault", 4, FAULTS, "kind of the most recent fault"),
    ],
    listName: "sensorFaults",
    minEntries: 0,
    maxEntries: 12,
  },
  {
    port: 11,
    name: "configAck",
    title: "Configuration acknowledgement",
    node: "any",
    head: [
      int("commandPort", "cmdPort", 8, 0, 255, "", "fPort of the downlink being answered"),
      enumField("result", 3, ACK_RESULTS, "applied, or why it was refused"),
      int("field", "field", 5, 0, 30, "", "index of the refused field within the command (absent when applied or not field-specific)", { absent: true }),
      int("configSeq", "configSeq", 8, 0, 255, "", "configuration sequence number after this command (wraps)"),
    ],
    echo: true,
  },
];
