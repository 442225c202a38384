// Keeps codecs/device-repo/ (The Things Network device-repository layout) in
// step with the codec.
//
//   node scripts/device-repo.mjs             copy codecs/dist/lns.js to
//                                            vendor/citysense/citysense-codec.js
//   node scripts/device-repo.mjs --examples  also rewrite the three codec YAMLs:
//                                            inputs and descriptions come from
//                                            the lists below, every output from
//                                            running the codec on the input
//   node scripts/device-repo.mjs --check     write nothing there; exit 1 if the copy
//                                            or a codec YAML is out of date
//
// The codec is built first (scripts/build.mjs --if-needed) when its outputs
// are missing or older than its sources. The copy is committed: it is small,
// byte-for-byte deterministic, and the vendor folder is what gets submitted to
// the device repository, so it must be complete. test/codecs/device-repo.test.ts
// fails when the copy or an example no longer matches the codec.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { dump } from "js-yaml";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "codecs/dist");
const vendor = join(root, "codecs/device-repo/vendor/citysense");
const check = process.argv.includes("--check");
const writeExamples = process.argv.includes("--examples");

execFileSync(process.execPath, [join(root, "scripts/build.mjs"), "--if-needed"], { stdio: ["ignore", "ignore", "inherit"] });

const stale = [];

function put(file, text) {
  const path = join(vendor, file);
  let old;
  try {
    old = readFileSync(path, "utf8");
  } catch {
    old = null;
  }
  if (old === text) return;
  if (check) stale.push(file);
  else {
    writeFileSync(path, text);
    console.log(`device-repo: wrote vendor/citysense/${file}`);
  }
}

const lns = readFileSync(join(dist, "lns.js"), "utf8");
put("citysense-codec.js", lns);

// ---------------------------------------------------------------------------
// Examples. Uplinks are written in decoded form and encoded with the codec, so
// every byte array is one a node really sends; the generator then checks that
// decoding gives back exactly the values written here (plus the computed
// `time`/`applied`), so a value the wire format cannot carry fails loudly.

const codec = await import(pathToFileURL(join(dist, "index.js")).href);
const { encodeUplinkData, decodeUplink, normalizeUplink, encodeDownlink, decodeDownlink } = codec;

const FLAGS_OK = { sensorFault: false, lowBattery: false, queueOverflow: false, clockUnsynced: false };
const FW = { firmwareMajor: 0, firmwareMinor: 1, firmwarePatch: 0 };

/** Bytes of a decoded-form uplink. */
function bytesOf(data) {
  const warnings = [];
  const errors = [];
  const r = encodeUplinkData(data, undefined, warnings, errors);
  if (errors.length || warnings.length) throw new Error(`example ${data.messageType}: ${errors.concat(warnings).join("; ")}`);
  return r;
}

function same(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** A well-formed uplink given by its decoded data; `recvTime` when the message carries ages. */
function up(description, data, recvTime) {
  const { bytes, fPort } = bytesOf(data);
  return { description, input: recvTime ? { fPort, bytes, recvTime } : { fPort, bytes }, expect: data };
}

/** An uplink given by raw bytes (damaged or hand-made input). */
function raw(description, fPort, bytes, recvTime) {
  return { description, input: recvTime ? { fPort, bytes, recvTime } : { fPort, bytes } };
}

/** `bytes` with the bit field at [bit, bit + width) replaced by `code` (MSB-first, as the codec packs). */
function patch(bytes, bit, width, code) {
  const out = bytes.slice();
  for (let i = 0; i < width; i++) {
    const b = bit + i;
    const mask = 0x80 >> (b & 7);
    if ((code >> (width - 1 - i)) & 1) out[b >> 3] |= mask;
    else out[b >> 3] &= ~mask;
  }
  return out;
}

// --- air -------------------------------------------------------------------

const airOffice = {
  messageType: "airReading", co2Ppm: 612, pm2_5: 12.3, pm10: 18.7, temperatureC: 21.5, relativeHumidityPct: 45.5,
  aqi: 57, aqiCategory: "moderate", batteryV: 3.72, ...FLAGS_OK,
};
const airOfficeExt = { ...airOffice, pm1_0: 8.1, pm4_0: 15.2, vocIndex: 112, noxIndex: 1 };
const airWarmup = {
  messageType: "airReading", pm2_5: 4.6, pm10: 6.1, temperatureC: 18.2, relativeHumidityPct: 61, aqi: 26, aqiCategory: "good",
  batteryV: 3.656, ...FLAGS_OK, sensorFault: true,
};
const airBatchData = {
  messageType: "airBatch",
  readings: [
    { ageS: 1800, co2Ppm: 540, pm2_5: 7.8, pm10: 11.2, temperatureC: 20.9, relativeHumidityPct: 44, aqi: 43, aqiCategory: "good", batteryV: 3.72, ...FLAGS_OK },
    { ageS: 1200, co2Ppm: 585, pm2_5: 8.4, pm10: 12, temperatureC: 21.2, relativeHumidityPct: 44.5, aqi: 47, aqiCategory: "good", batteryV: 3.72, ...FLAGS_OK },
    { ageS: 600, co2Ppm: 640, pm2_5: 9.1, pm10: 13.5, temperatureC: 21.6, relativeHumidityPct: 45, aqi: 51, aqiCategory: "moderate", batteryV: 3.72, ...FLAGS_OK },
  ],
};
const airOfficeBytes = bytesOf(airOffice).bytes;
const airBatchBytes = bytesOf(airBatchData).bytes;

const AIR_UPLINKS = [
  up("Routine reading, core only (SCD41 + PMS5003): CO2 612 ppm, PM2.5 12.3 µg/m³, PM10 18.7 µg/m³, 21.5 °C, 45.5 %RH, AQI 57 (moderate)", airOffice),
  up("Routine reading with the SEN5x extension: the same office air plus PM1.0 8.1 µg/m³, PM4.0 15.2 µg/m³, VOC index 112, NOx index 1", airOfficeExt),
  up("Routine reading while the CO2 sensor is unavailable: CO2 is absent (all-ones code) and the sensorFault flag is set", airWarmup),
  up(
    "CO2 alarm in a crowded classroom: 1520 ppm, raised 3 s before the uplink",
    {
      messageType: "airAlarm", event: "co2High", ageS: 3, co2Ppm: 1520, pm2_5: 6.2, pm10: 9.8, temperatureC: 23.8, relativeHumidityPct: 52,
      aqi: 34, aqiCategory: "good", batteryV: 3.72, ...FLAGS_OK,
    },
    "2025-03-12T10:41:07Z",
  ),
  up(
    "PM spike from wood smoke: PM2.5 58.4 µg/m³ puts the AQI at 153 (unhealthy); the alarm waited 95 s for a duty-cycle slot",
    {
      messageType: "airAlarm", event: "pmSpike", ageS: 95, co2Ppm: 455, pm2_5: 58.4, pm10: 71, temperatureC: 4.5, relativeHumidityPct: 83,
      aqi: 153, aqiCategory: "unhealthy", batteryV: 3.592, ...FLAGS_OK,
    },
    "2025-01-18T19:05:40Z",
  ),
  up("Batch of three 10-minute readings sent after a gateway outage; each gets its measurement time from recvTime − ageS", airBatchData, "2025-03-12T08:30:00Z"),
  up("Status: 3.702 V, firmware 0.1.0, up 14 days after a brownout, 2 readings queued, 3 SEN55 CRC errors and 1 SCD41 NACK since boot", {
    messageType: "status", batteryMv: 3702, ...FW, uptimeS: 1209600, resetReason: "brownout", nodeType: "air", queueDepth: 2, queueDropped: 0, configSeq: 7,
    sensorFaults: [{ sensor: "sen55", faults: 3, lastFault: "crc" }, { sensor: "scd41", faults: 1, lastFault: "nack" }],
  }),
  up("Config ack: new air thresholds applied (CO2 1400 ppm, hysteresis 200 ppm, PM spike 25 µg/m³, alarm from unhealthyForSensitiveGroups), echoed back", {
    messageType: "configAck", commandPort: 21, result: "applied", configSeq: 8,
    applied: { command: "setAirThresholds", co2Ppm: 1400, co2HysteresisPpm: 200, pmSpikeUgm3: 25, aqiAlarmCategory: "unhealthyForSensitiveGroups" },
  }),
  up("Config ack: a setAirThresholds command refused because its first field (co2Ppm) was out of range; configuration unchanged", {
    messageType: "configAck", commandPort: 21, result: "outOfRange", field: 0, configSeq: 8,
  }),
  raw("AQI category code 6 is not one this codec knows (newer firmware?): decoded with a warning, the raw code is kept", 1, patch(airOfficeBytes, 72, 3, 6)),
  raw("Truncated reading: 9 of the 11 core bytes arrived", 1, airOfficeBytes.slice(0, 9)),
  raw("Malformed reading: 14 bytes fit neither the core (11) nor core + extension (17)", 1, airOfficeBytes.concat([0, 0, 0])),
  raw("Truncated batch: the last reading lost 6 of its 14 bytes", 3, airBatchBytes.slice(0, 36), "2025-03-12T08:30:00Z"),
  raw("Unknown fPort", 42, [1, 2, 3]),
];

// --- water -----------------------------------------------------------------

const waterHour = {
  messageType: "waterReading", flowMlPerMin: 1850, volumeMl: 111000, totalL: 48213, minNightFlowMlPerMin: 0, leak: false, burst: false,
  batteryV: 3.592, ...FLAGS_OK,
};
const waterHourExt = { ...waterHour, waterTemperatureC: 12.4, valve: "open", privacy: false };
const waterPrivate = {
  messageType: "waterReading", volumeMl: 96000, totalL: 48309, minNightFlowMlPerMin: 0, leak: false, burst: false, batteryV: 3.592, ...FLAGS_OK, privacy: true,
};
const waterBatchData = {
  messageType: "waterBatch",
  readings: [
    { ageS: 10800, flowMlPerMin: 0, volumeMl: 0, totalL: 49410, minNightFlowMlPerMin: 0, leak: false, burst: false, batteryV: 3.592, ...FLAGS_OK },
    { ageS: 7200, flowMlPerMin: 520, volumeMl: 31200, totalL: 49441, minNightFlowMlPerMin: 0, leak: false, burst: false, batteryV: 3.592, ...FLAGS_OK },
    { ageS: 3600, flowMlPerMin: 2150, volumeMl: 129000, totalL: 49570, minNightFlowMlPerMin: 0, leak: false, burst: false, batteryV: 3.592, ...FLAGS_OK },
  ],
};
const waterHourBytes = bytesOf(waterHour).bytes;
const waterHourExtBytes = bytesOf(waterHourExt).bytes;
const waterBatchBytes = bytesOf(waterBatchData).bytes;

const WATER_UPLINKS = [
  up("Hourly reading, core only: mean flow 1.85 L/min, 111 L this hour, meter at 48213 L, no night flow, 3.592 V", waterHour),
  up("Hourly reading with the extension: the same plus water temperature 12.4 °C and the shut-off valve open", waterHourExt),
  up("Privacy mode: flow withheld, hourly volume 96 L with added noise; no temperature probe and no valve fitted (both absent)", waterPrivate),
  up(
    "Leak alarm at the end of the night window (01:00–05:00): the flow never reached zero, minimum 38 mL/min (a running toilet)",
    {
      messageType: "waterAlarm", event: "leak", ageS: 5, flowMlPerMin: 42, volumeMl: 2520, totalL: 48390, minNightFlowMlPerMin: 38, leak: true, burst: false,
      batteryV: 3.592, ...FLAGS_OK,
    },
    "2025-03-14T05:00:07Z",
  ),
  up(
    "Burst alarm: 24.5 L/min for longer than the burst duration, 735 L since the last reading",
    {
      messageType: "waterAlarm", event: "burst", ageS: 2, flowMlPerMin: 24500, volumeMl: 735000, totalL: 49286, minNightFlowMlPerMin: 0, leak: false, burst: true,
      batteryV: 3.592, ...FLAGS_OK,
    },
    "2025-03-15T14:27:02Z",
  ),
  up("Batch of three hourly readings after a gateway outage (05:00, 06:00, 07:00 UTC): the morning's first showers", waterBatchData, "2025-03-16T08:00:30Z"),
  up("Status: 3.59 V, firmware 0.1.0, up 30 days since power-on, nothing queued, no sensor faults", {
    messageType: "status", batteryMv: 3590, ...FW, uptimeS: 2592000, resetReason: "powerOn", nodeType: "water", queueDepth: 0, queueDropped: 0, configSeq: 3,
    sensorFaults: [],
  }),
  up("Config ack: valve closed on command (setValve), echoed back", {
    messageType: "configAck", commandPort: 29, result: "applied", configSeq: 4, applied: { command: "setValve", valve: "closed" },
  }),
  up("Config ack: setWaterThresholds refused as inconsistent (field 5, nightEndH, equal to nightStartH)", {
    messageType: "configAck", commandPort: 22, result: "inconsistent", field: 5, configSeq: 4,
  }),
  raw("Water temperature code 1300 (90.0 °C) is beyond the probe's −40..85 °C range: decoded with a warning", 4, patch(waterHourExtBytes, 88, 11, 1300)),
  raw("Truncated reading: 7 of the 11 core bytes arrived", 4, waterHourBytes.slice(0, 7)),
  raw("Malformed reading: 12 bytes fit neither the core (11) nor core + extension (13)", 4, waterHourBytes.concat([0])),
  raw("Truncated batch: the last reading lost 5 of its 14 bytes", 6, waterBatchBytes.slice(0, 37), "2025-03-16T08:00:30Z"),
  raw("Unknown fPort", 42, [1, 2, 3]),
];

// --- level -----------------------------------------------------------------
// A 1200 mm deep bin with its 100 % line 200 mm below the sensor: fill = (1200 − distance) / 10 %.

const levelRoutine = {
  messageType: "levelReading", distanceMm: 325, fillPct: 87.5, fillRatePctPerH: 2.5, tiltDeg: 2, lidOpen: false, tipped: false, emptied: false,
  temperatureC: 16.5, batteryV: 3.528, ...FLAGS_OK,
};
const levelEmptied = {
  messageType: "levelReading", distanceMm: 1195, fillPct: 0.5, fillRatePctPerH: -87, tiltDeg: 3, lidOpen: false, tipped: false, emptied: true,
  temperatureC: 15, batteryV: 3.528, ...FLAGS_OK,
};
const levelBatchData = {
  messageType: "levelBatch",
  readings: [
    { ageS: 14400, distanceMm: 600, fillPct: 60, fillRatePctPerH: 8.5, tiltDeg: 2, lidOpen: false, tipped: false, emptied: false, temperatureC: 14.5, batteryV: 3.528, ...FLAGS_OK },
    { ageS: 10800, distanceMm: 515, fillPct: 68.5, fillRatePctPerH: 8.5, tiltDeg: 2, lidOpen: false, tipped: false, emptied: false, temperatureC: 15.5, batteryV: 3.528, ...FLAGS_OK },
    { ageS: 7200, distanceMm: 430, fillPct: 77, fillRatePctPerH: 8.5, tiltDeg: 2, lidOpen: false, tipped: false, emptied: false, temperatureC: 16.5, batteryV: 3.528, ...FLAGS_OK },
    { ageS: 3600, distanceMm: 360, fillPct: 84, fillRatePctPerH: 7, tiltDeg: 2, lidOpen: false, tipped: false, emptied: false, temperatureC: 17, batteryV: 3.528, ...FLAGS_OK },
  ],
};
const levelRoutineBytes = bytesOf(levelRoutine).bytes;
const levelBatchBytes = bytesOf(levelBatchData).bytes;

const LEVEL_UPLINKS = [
  up("Routine reading: bin 87.5 % full (325 mm to the surface), filling at 2.5 %/h, upright, lid closed, 16.5 °C", levelRoutine),
  up("Routine reading right after collection: 0.5 % full, emptied flag set, level fell 87 %/h", levelEmptied),
  up(
    "Full alarm: 90.5 % full, above the 90 % threshold",
    {
      messageType: "levelAlarm", event: "full", ageS: 2, distanceMm: 295, fillPct: 90.5, fillRatePctPerH: 3, tiltDeg: 2, lidOpen: false, tipped: false,
      emptied: false, temperatureC: 17, batteryV: 3.528, ...FLAGS_OK,
    },
    "2025-03-14T17:48:12Z",
  ),
  up(
    "Tipped alarm: the bin lies at 84° with its lid open; distance, fill and fill rate are absent because the ultrasonic sensor no longer points at the contents",
    {
      messageType: "levelAlarm", event: "tipped", ageS: 1, tiltDeg: 84, lidOpen: true, tipped: true, emptied: false, temperatureC: 11.5,
      batteryV: 3.528, ...FLAGS_OK,
    },
    "2025-03-15T02:03:59Z",
  ),
  up("Batch of four hourly readings after a gateway outage: the bin filling from 60 % to 84 %", levelBatchData, "2025-03-14T16:00:20Z"),
  up("Status: 3.41 V with the low-battery threshold near, up 7 days after a watchdog reset, 12 readings dropped, 27 A02YYUW checksum errors", {
    messageType: "status", batteryMv: 3410, ...FW, uptimeS: 604800, resetReason: "watchdog", nodeType: "level", queueDepth: 0, queueDropped: 12, configSeq: 2,
    sensorFaults: [{ sensor: "a02yyuw", faults: 27, lastFault: "checksum" }],
  }),
  up("Config ack: new bin geometry and thresholds applied (full at 90 %, depth 1200 mm, 100 % line at 200 mm), echoed back", {
    messageType: "configAck", commandPort: 23, result: "applied", configSeq: 3,
    applied: { command: "setLevelThresholds", fullPct: 90, hysteresisPct: 10, rapidRisePctPerH: 30, tiltDeg: 45, depthMm: 1200, fullDistanceMm: 200 },
  }),
  up("Config ack: setPrivacy refused as unsupported (a water-node command sent to a level node)", {
    messageType: "configAck", commandPort: 28, result: "unsupported", configSeq: 3,
  }),
  raw(
    "Overfilled bin: rubbish piled 50 mm above the 100 % line (150 mm from the sensor) gives fill code 210, 105 %, outside 0..100 %: decoded with a warning",
    7,
    patch(patch(levelRoutineBytes, 0, 13, 150), 13, 8, 210),
  ),
  raw("Truncated reading: 5 of the 8 bytes arrived", 7, levelRoutineBytes.slice(0, 5)),
  raw("Malformed reading: 9 bytes instead of 8", 7, levelRoutineBytes.concat([0])),
  raw("Truncated batch: the last reading lost 3 of its 11 bytes", 9, levelBatchBytes.slice(0, 41), "2025-03-14T16:00:20Z"),
  raw("Unknown fPort", 42, [1, 2, 3]),
];

// --- downlinks ---------------------------------------------------------------

const allAlarms = (on) => ({
  co2: false, aqi: false, pmSpike: false, leak: false, burst: false, noPulse: false, valveAutoClose: false,
  full: false, emptied: false, tipped: false, lid: false, rapidRise: false, sensorFault: true, ...on,
});

/** Downlink examples every node type understands. */
function commonDownlinks(alarms, alarmsWhat) {
  return [
    { description: "Report every 10 minutes, and at least hourly when nothing changes", data: { command: "setInterval", intervalS: 600, heartbeatS: 3600 } },
    { description: `Enable the ${alarmsWhat} alarms and sensor-fault alarms, nothing else`, data: { command: "setAlarms", ...allAlarms(alarms) } },
    { description: "Ask for a status uplink", data: { command: "requestStatus", what: "status" } },
    { description: "Set the clock to 2025-03-14 09:12:45 UTC", data: { command: "setTime", unixTimeS: 1741943565 } },
    { description: "Reboot in 30 s (the queue is saved first)", data: { command: "reboot", delayS: 30 } },
    { description: "Interval of 30 s is below the 60 s minimum", data: { command: "setInterval", intervalS: 30, heartbeatS: 3600 } },
    { description: "Heartbeat shorter than the interval is inconsistent", data: { command: "setInterval", intervalS: 3600, heartbeatS: 900 } },
    { description: "Unknown setting: intervals are given in seconds (intervalS), not minutes", data: { command: "setInterval", intervalMinutes: 10, heartbeatS: 3600 } },
    { description: "Unknown command", data: { command: "selfDestruct" } },
  ];
}

const AIR_DOWN = [
  { description: "Air thresholds: CO2 alarm at 1400 ppm clearing below 1200 ppm, PM2.5 spike of 25 µg/m³, AQI alarm from unhealthyForSensitiveGroups", data: { command: "setAirThresholds", co2Ppm: 1400, co2HysteresisPpm: 200, pmSpikeUgm3: 25, aqiAlarmCategory: "unhealthyForSensitiveGroups" } },
  { description: "PM spike of 25.04 µg/m³ is rounded to the 0.1 µg/m³ resolution, with a warning", data: { command: "setAirThresholds", co2Ppm: 1400, co2HysteresisPpm: 200, pmSpikeUgm3: 25.04, aqiAlarmCategory: "unhealthy" } },
  { description: "CO2 threshold of 20000 ppm is above the 10000 ppm maximum", data: { command: "setAirThresholds", co2Ppm: 20000, co2HysteresisPpm: 200, pmSpikeUgm3: 25, aqiAlarmCategory: "unhealthy" } },
  ...commonDownlinks({ co2: true, aqi: true, pmSpike: true }, "CO2, AQI and PM-spike"),
];

const WATER_DOWN = [
  { description: "Water thresholds: leak above 30 mL/min night flow, burst at 20 L/min for 2 minutes, no-pulse after 72 h, night window 01:00–05:00", data: { command: "setWaterThresholds", leakFlowMlPerMin: 30, burstFlowMlPerMin: 20000, burstDurationS: 120, noPulseH: 72, nightStartH: 1, nightEndH: 5 } },
  { description: "Turn privacy mode on with ε = 1", data: { command: "setPrivacy", enabled: true, epsilon: 1 } },
  { description: "Close the shut-off valve", data: { command: "setValve", valve: "closed" } },
  { description: "A valve cannot be half open", data: { command: "setValve", valve: "half" } },
  { description: "Night window that starts and ends at the same hour is inconsistent", data: { command: "setWaterThresholds", leakFlowMlPerMin: 30, burstFlowMlPerMin: 20000, burstDurationS: 120, noPulseH: 72, nightStartH: 2, nightEndH: 2 } },
  ...commonDownlinks({ leak: true, burst: true, noPulse: true, valveAutoClose: true }, "leak, burst, no-pulse and valve auto-close"),
];

const LEVEL_DOWN = [
  { description: "Bin geometry and thresholds: full at 90 % clearing at 80 %, rapid rise at 30 %/h, tipped beyond 45°, depth 1200 mm, 100 % line at 200 mm", data: { command: "setLevelThresholds", fullPct: 90, hysteresisPct: 10, rapidRisePctPerH: 30, tiltDeg: 45, depthMm: 1200, fullDistanceMm: 200 } },
  { description: "Tilt threshold of 120° is above the 90° maximum", data: { command: "setLevelThresholds", fullPct: 90, hysteresisPct: 10, rapidRisePctPerH: 30, tiltDeg: 120, depthMm: 1200, fullDistanceMm: 200 } },
  { description: "100 % line below the bottom of the bin is inconsistent", data: { command: "setLevelThresholds", fullPct: 90, hysteresisPct: 10, rapidRisePctPerH: 30, tiltDeg: 45, depthMm: 800, fullDistanceMm: 900 } },
  ...commonDownlinks({ full: true, emptied: true, tipped: true, lid: true, rapidRise: true }, "full, emptied, tipped, lid and rapid-rise"),
];

/** Downlink-decoder examples: every valid encoder example read back, plus bad input. */
function downlinkDecodes(encodes, extra) {
  const out = [];
  for (const e of encodes) {
    const r = encodeDownlink({ data: e.data });
    if (r.errors.length || r.warnings.length) continue;
    out.push({ description: e.description, input: { fPort: r.fPort, bytes: r.bytes } });
  }
  return out.concat(extra, [
    { description: "setInterval payload cut to 5 of its 6 bytes", input: { fPort: 20, bytes: [0, 2, 88, 0, 14] } },
    { description: "Interval of 30 s (bytes 00 00 1e) is below the 60 s minimum: refused, as the node refuses it", input: { fPort: 20, bytes: [0, 0, 30, 0, 14, 16] } },
    { description: "fPort 30 carries no command", input: { fPort: 30, bytes: [1] } },
  ]);
}

const AIR_DOWN_DECODE_EXTRA = [
  { description: "AQI alarm category code 9 does not exist", input: { fPort: 21, bytes: [5, 120, 0, 200, 0, 250, 9] } },
];
const WATER_DOWN_DECODE_EXTRA = [
  { description: "Valve position code 2 does not exist (only 0 open, 1 closed)", input: { fPort: 29, bytes: [2] } },
];
const LEVEL_DOWN_DECODE_EXTRA = [
  { description: "Full threshold code 201 (100.5 %) is above 100 %", input: { fPort: 23, bytes: [201, 20, 0, 60, 45, 4, 176, 0, 200] } },
];

// ---------------------------------------------------------------------------

/** What an example's `output` holds: the result without empty lists and zero fPort, as the device repository writes them. */
function canonical(result) {
  const out = {};
  for (const k of Object.keys(result)) {
    const v = result[k];
    if (Array.isArray(v) && v.length === 0) continue;
    if (k === "fPort" && v === 0) continue;
    if (v !== undefined) out[k] = v;
  }
  return JSON.parse(JSON.stringify(out));
}

function withoutComputed(data) {
  const copy = JSON.parse(JSON.stringify(data));
  delete copy.time;
  if (copy.readings) for (const r of copy.readings) delete r.time;
  return copy;
}

function uplinkExamples(list) {
  return list.map((ex) => {
    const input = { ...ex.input };
    const result = decodeUplink({ ...input, recvTime: input.recvTime ? new Date(input.recvTime) : undefined });
    if (ex.expect && (result.errors.length || !same(withoutComputed(result.data), ex.expect))) {
      throw new Error(`"${ex.description}": decodes to ${JSON.stringify(result)}, not ${JSON.stringify(ex.expect)}`);
    }
    const out = { description: ex.description, input, output: canonical(result) };
    if (result.data && result.data.messageType !== "configAck") out.normalizedOutput = canonical(normalizeUplink({ data: result.data }));
    return out;
  });
}

function encoderExamples(list) {
  return list.map((ex) => ({ description: ex.description, input: { data: ex.data }, output: canonical(encodeDownlink({ data: ex.data })) }));
}

function decoderExamples(list) {
  return list.map((ex) => ({ description: ex.description, input: ex.input, output: canonical(decodeDownlink(ex.input)) }));
}

// --- YAML ------------------------------------------------------------------
// Block style, with byte arrays on one line as the device repository writes them.

function scalar(v) {
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (v === null) return "null";
  return dump(v, { lineWidth: -1 }).trimEnd();
}

function isScalar(v) {
  return v === null || typeof v !== "object";
}

function yamlLines(value, indent) {
  const pad = " ".repeat(indent);
  const lines = [];
  if (Array.isArray(value)) {
    for (const item of value) {
      if (isScalar(item)) lines.push(`${pad}- ${scalar(item)}`);
      else {
        const inner = yamlLines(item, indent + 2);
        lines.push(`${pad}- ${inner[0].slice(indent + 2)}`, ...inner.slice(1));
      }
    }
    return lines;
  }
  for (const [k, v] of Object.entries(value)) {
    if (isScalar(v)) lines.push(`${pad}${k}: ${scalar(v)}`);
    else if (Array.isArray(v) && v.length === 0) lines.push(`${pad}${k}: []`);
    else if (Array.isArray(v) && v.every((x) => typeof x === "number")) lines.push(`${pad}${k}: [${v.join(", ")}]`);
    else if (!Array.isArray(v) && Object.keys(v).length === 0) lines.push(`${pad}${k}: {}`);
    else lines.push(`${pad}${k}:`, ...yamlLines(v, indent + 2));
  }
  return lines;
}

function codecYaml(node, uplinks, encodes, decodes) {
  const doc = {
    uplinkDecoder: { fileName: "citysense-codec.js", examples: uplinkExamples(uplinks) },
    downlinkEncoder: { fileName: "citysense-codec.js", examples: encoderExamples(encodes) },
    downlinkDecoder: { fileName: "citysense-codec.js", examples: decoderExamples(decodes) },
  };
  const head = [
    `# Payload codec of the citysense ${node} node: one script (citysense-codec.js, the codec's single-file ES5.1 build)`,
    "# shared by all three node types; decodeUplink, normalizeUplink, encodeDownlink and decodeDownlink.",
    "# Payload format: codecs/PAYLOAD.md in the citysense repository.",
    "#",
    "# GENERATED by `node scripts/device-repo.mjs --examples`: edit the example lists there, not this file.",
    "# Inputs are real node payloads; every output is what the codec returns, with empty `warnings`/`errors`",
    "# lists (and the zero fPort of an unknown command) left out, as the device repository writes them.",
  ];
  return head.concat(yamlLines(doc, 0)).join("\n") + "\n";
}

if (writeExamples || check) {
  put("citysense-air-codec.yaml", codecYaml("air-quality", AIR_UPLINKS, AIR_DOWN, downlinkDecodes(AIR_DOWN, AIR_DOWN_DECODE_EXTRA)));
  put("citysense-water-codec.yaml", codecYaml("water-flow", WATER_UPLINKS, WATER_DOWN, downlinkDecodes(WATER_DOWN, WATER_DOWN_DECODE_EXTRA)));
  put("citysense-level-codec.yaml", codecYaml("fill-level", LEVEL_UPLINKS, LEVEL_DOWN, downlinkDecodes(LEVEL_DOWN, LEVEL_DOWN_DECODE_EXTRA)));
}

if (stale.length) {
  console.error(`device-repo: out of date: ${stale.join(", ")}; run node scripts/device-repo.mjs --examples`);
  process.exit(1);
}
