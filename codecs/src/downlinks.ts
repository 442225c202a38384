/** Downlink command definitions, one command per fPort; field bounds are enforced, never clamped. */
import { bool, enumField, int as anyInt, type Field, type MessageDef } from "./fields.ts";
import { AQI_CATEGORIES } from "./uplinks.ts";

/** Downlink integers are sent as their plain value (code 0 = value 0) so operators can read and write the hex by hand. */
function int(name: string, key: string, bits: number, min: number, max: number, unit: string, doc: string, o: { scale?: number } = {}): Field {
  return anyInt(name, key, bits, min, max, unit, doc, { zero: 0, scale: o.scale });
}

/** Alarm kinds that `setAlarms` switches on or off, bit 0 first. */
export const ALARM_BITS = ["co2", "aqi", "pmSpike", "leak", "burst", "noPulse", "valveAutoClose", "full", "emptied", "tipped", "lid", "rapidRise", "sensorFault"];

/** All downlinks, by fPort. */
export const DOWNLINKS: MessageDef[] = [
  {
    port: 20, name: "setInterval", title: "Set reporting interval", node: "any",
    head: [
      int("intervalS", "intervalS", 24, 60, 86400, "s", "routine reading interval"),
      int("heartbeatS", "heartbeatS", 24, 600, 604800, "s", "longest silence: a reading is sent at least this often even when nothing changed (≥ intervalS)"),
    ],
  },
  {
    port: 21, name: "setAirThresholds", title: "Set air-quality thresholds", node: "air",
    head: [
      int("co2Ppm", "co2Ppm", 16, 400, 10000, "ppm", "CO2 alarm threshold"),
      int("co2HysteresisPpm", "co2HysteresisPpm", 16, 0, 2000, "ppm", "CO2 must fall this far below the threshold to clear"),
      int("pmSpikeUgm3", "pmSpikeDeciUgm3", 16, 10, 10000, "µg/m³", "PM2.5 rise over the filtered level that counts as a spike", { scale: 10 }),
      enumField("aqiAlarmCategory", 8, AQI_CATEGORIES, "alarm when the AQI category reaches this one"),
    ],
  },
  {
    port: 22, name: "setWaterThresholds", title: "Set water-flow thresholds", node: "water",
    head: [
      int("leakFlowMlPerMin", "leakFlowMlMin", 16, 1, 20000, "mL/min", "minimum night flow above which a leak is reported"),
      int("burstFlowMlPerMin", "burstFlowMlMin", 24, 1000, 500000, "mL/min", "flow rate that counts as a burst"),
      int("burstDurationS", "burstDurationS", 16, 5, 3600, "s", "how long the burst flow must last"),
      int("noPulseH", "noPulseH", 16, 1, 8760, "h", "hours without a pulse before a no-pulse (tamper) alarm"),
      int("nightStartH", "nightStartH", 8, 0, 23, "h", "night window start (local hour)"),
      int("nightEndH", "nightEndH", 8, 0, 23, "h", "night window end (local hour, may wrap past midnight)"),
    ],
  },
  {
    port: 23, name: "setLevelThresholds", title: "Set fill-level thresholds", node: "level",
    head: [
      int("fullPct", "fullHalfPct", 8, 0, 200, "%", "fill level that raises the full alarm", { scale: 2 }),
      int("hysteresisPct", "hysteresisHalfPct", 8, 0, 100, "%", "fill must fall this far below `fullPct` to clear", { scale: 2 }),
      int("rapidRisePctPerH", "rapidRiseHalfPctPerH", 16, 1, 1000, "%/h", "fill rise rate that raises the rapid-rise (flooding) alarm", { scale: 2 }),
      int("tiltDeg", "tiltDeg", 8, 5, 90, "°", "tilt that counts as tipped"),
      int("depthMm", "depthMm", 16, 100, 8000, "mm", "distance from the sensor to the empty bottom"),
      int("fullDistanceMm", "fullDistanceMm", 16, 0, 2000, "mm", "distance from the sensor to the 100 % line"),
    ],
  },
  {
    port: 24, name: "setAlarms", title: "Enable or disable alarms", node: "any",
    head: ALARM_BITS.map((n) => bool(n, "alarm enabled")).concat([int("reserved", "reserved", 3, 0, 0, "", "must be zero")]),
  },
  {
    port: 25, name: "requestStatus", title: "Request a status uplink", node: "any",
    head: [enumField("what", 8, ["status", "config"], "status: send a status uplink; config: send a config ack with the current settings")],
  },
  {
    port: 26, name: "setTime", title: "Set the wall clock", node: "any",
    head: [int("unixTimeS", "unixTimeS", 32, 1577836800, 4102444800, "s", "Unix time (2020-01-01..2100-01-01)")],
  },
  {
    port: 27, name: "reboot", title: "Reboot", node: "any",
    head: [int("delayS", "delayS", 16, 0, 3600, "s", "delay before rebooting (the queue is persisted first)")],
  },
  {
    port: 28, name: "setPrivacy", title: "Set water privacy mode", node: "water",
    head: [
      bool("enabled", "report hourly totals with discrete Laplace noise instead of readings"),
      int("reserved", "reserved", 7, 0, 0, "", "must be zero"),
      int("epsilon", "epsilonCenti", 16, 5, 1000, "", "differential-privacy ε per hourly total (0.05..10)", { scale: 100 }),
    ],
  },
  {
    port: 29, name: "setValve", title: "Open or close the shut-off valve", node: "water",
    head: [enumField("valve", 8, ["open", "closed"], "valve position to drive")],
  },
];
