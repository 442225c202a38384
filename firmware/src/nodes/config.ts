/**
 * Node configuration: defaults, persistence in flash (one `preference` value,
 * rewritten only when a downlink changes something, to spare the flash) and
 * atomic application of downlink commands with a config ack for every one.
 */
import { readRecord, writeRecord } from "./flash-record.ts";
import { parseDownlink, encodeRecord } from "../../../codecs/src/codec.ts";
import { ACK_RESULTS } from "../../../codecs/src/uplinks.ts";
import { ALARM_BITS } from "../../../codecs/src/downlinks.ts";

/** Every setting, as integers in the units of the downlink fields that set them. */
export interface NodeConfig {
  intervalS: number;
  heartbeatS: number;
  /** Enabled alarms, one bit per ALARM_BITS entry. */
  alarms: number;
  co2Ppm: number;
  co2HysteresisPpm: number;
  pmSpikeDeciUgm3: number;
  aqiAlarmCategory: number;
  leakFlowMlMin: number;
  burstFlowMlMin: number;
  burstDurationS: number;
  noPulseH: number;
  nightStartH: number;
  nightEndH: number;
  fullHalfPct: number;
  hysteresisHalfPct: number;
  rapidRiseHalfPctPerH: number;
  tiltDeg: number;
  depthMm: number;
  fullDistanceMm: number;
  privacy: number;
  epsilonCenti: number;
  /** Valve position commanded by downlink: 0 open, 1 closed. */
  valveCommand: number;
  /** +1 per applied command (wraps at 256, as in the wire format). */
  configSeq: number;
}

/** Order of the settings in flash; append only, so older flash contents still load. */
const ORDER: (keyof NodeConfig)[] = [
  "intervalS", "heartbeatS", "alarms", "co2Ppm", "co2HysteresisPpm", "pmSpikeDeciUgm3", "aqiAlarmCategory",
  "leakFlowMlMin", "burstFlowMlMin", "burstDurationS", "noPulseH", "nightStartH", "nightEndH",
  "fullHalfPct", "hysteresisHalfPct", "rapidRiseHalfPctPerH", "tiltDeg", "depthMm", "fullDistanceMm",
  "privacy", "epsilonCenti", "valveCommand", "configSeq",
];

const DOMAIN = "cfg";
const KEY = "v1";

/** Every alarm enabled: the factory mask (computed once, not at every wake's loadConfig). */
const ALL_ALARMS = ((): number => {
  let alarms = 0;
  for (let i = 0; i < ALARM_BITS.length; i++) alarms |= 1 << i;
  return alarms;
})();

/** Factory defaults for a node type. */
export function defaultConfig(nodeType: "air" | "water" | "level"): NodeConfig {
  const alarms = ALL_ALARMS;
  return {
    intervalS: nodeType === "level" ? 1800 : 900,
    heartbeatS: 21600,
    alarms,
    co2Ppm: 1500,
    co2HysteresisPpm: 200,
    pmSpikeDeciUgm3: 250,
    aqiAlarmCategory: 3,
    leakFlowMlMin: 30,
    burstFlowMlMin: 30000,
    burstDurationS: 120,
    noPulseH: 72,
    nightStartH: 2,
    nightEndH: 5,
    fullHalfPct: 160,
    hysteresisHalfPct: 20,
    rapidRiseHalfPctPerH: 100,
    tiltDeg: 45,
    depthMm: 1200,
    fullDistanceMm: 150,
    privacy: 0,
    epsilonCenti: 100,
    valveCommand: 0,
    configSeq: 0,
  };
}

/** Loads the configuration from flash over the defaults (missing or damaged flash keeps the defaults). */
export function loadConfig(nodeType: "air" | "water" | "level"): NodeConfig {
  const config = defaultConfig(nodeType);
  const words = readRecord(DOMAIN, KEY);
  if (words) for (let i = 0; i < ORDER.length && i < words.length; i++) config[ORDER[i]] = words[i];
  return config;
}

/** Writes the configuration to flash (as a record that a power cut during the write cannot lose: flash-record.ts). */
export function saveConfig(config: NodeConfig): void {
  const words = new Int32Array(ORDER.length);
  for (let i = 0; i < ORDER.length; i++) words[i] = config[ORDER[i]];
  writeRecord(DOMAIN, KEY, words);
}

/** Whether alarm `name` (an ALARM_BITS entry) is enabled. */
export function alarmEnabled(config: NodeConfig, name: string): boolean {
  const bit = ALARM_BITS.indexOf(name);
  return bit >= 0 && (config.alarms & (1 << bit)) !== 0;
}

/** What a downlink asked for beyond changing settings. */
export interface DownlinkEffects {
  /** Send a status uplink. */
  status: boolean;
  /** Reboot after this many seconds from now (−1: no reboot): the command's delay less the time since it arrived. */
  rebootDelayS: number;
  /** Wall clock to set (Unix seconds), or −1. */
  setTimeS: number;
  /** The command changed a setting (thresholds, interval, alarms, privacy, valve), not only asked for an action (time, status, reboot). */
  settingsChanged: boolean;
}

const NODE_COMMANDS: { [command: string]: string } = {
  setAirThresholds: "air",
  setWaterThresholds: "water",
  setLevelThresholds: "level",
  setPrivacy: "water",
  setValve: "water",
};

/**
 * Applies one downlink atomically: either every setting of the command changes,
 * or none does. Writes the config ack into `ack` and returns its length; fills `effects`.
 * `waitedS`: seconds since the downlink arrived, by which a setTime is put forward and a reboot's delay shortened.
 */
export function applyDownlink(
  config: NodeConfig, nodeType: string, port: number, bytes: Uint8Array, ack: Uint8Array, effects: DownlinkEffects, waitedS = 0,
): number {
  effects.status = false;
  effects.rebootDelayS = -1;
  effects.setTimeS = -1;
  effects.settingsChanged = false;
  const parsed = parseDownlink(bytes, port, true);
  let result = parsed.result;
  const cmd = parsed.data.command as string | undefined;
  if (result === "applied" && cmd && NODE_COMMANDS[cmd] && NODE_COMMANDS[cmd] !== nodeType) result = "unsupported";
  if (result === "applied") {
    const d = parsed.data as { [k: string]: number | boolean | string };
    if (cmd === "setAlarms") {
      let mask = 0;
      for (let i = 0; i < ALARM_BITS.length; i++) if (d[ALARM_BITS[i]] === true) mask |= 1 << i;
      config.alarms = mask;
    } else if (cmd === "requestStatus") {
      effects.status = d.what === 0;
    } else if (cmd === "setTime") {
      effects.setTimeS = (d.unixTimeS as number) + waitedS;
    } else if (cmd === "reboot") {
      const left = (d.delayS as number) - waitedS;
      effects.rebootDelayS = left > 0 ? left : 0;
    } else if (cmd === "setPrivacy") {
      config.privacy = d.enabled ? 1 : 0;
      config.epsilonCenti = d.epsilonCenti as number;
    } else if (cmd === "setValve") {
      config.valveCommand = d.valve as number;
    } else {
      for (const key in d) {
        if (key === "command") continue;
        const k = key as keyof NodeConfig;
        config[k] = d[key] as number;
      }
    }
    // Every applied command but the three that ask for an action sets something.
    effects.settingsChanged = cmd !== "requestStatus" && cmd !== "setTime" && cmd !== "reboot";
    config.configSeq = (config.configSeq + 1) & 0xff;
    // The sequence number must survive reboots too; downlinks are rare (≤ 10 a day), so one flash write each is cheap.
    saveConfig(config);
  }
  const ackRecord = {
    cmdPort: port,
    result: ACK_RESULTS.indexOf(result),
    field: parsed.field >= 0 ? parsed.field : undefined,
    configSeq: config.configSeq,
  };
  let n = encodeRecord(11, ackRecord, ack, 0, ack.length);
  if (result === "applied") for (let i = 0; i < bytes.length && n < ack.length; i++) ack[n++] = bytes[i];
  return n;
}
