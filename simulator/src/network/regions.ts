/**
 * Regional parameters (LoRaWAN RP002-1.0.1) for the regions the nodes support:
 * data rates, payload limits, default channels, receive windows and the EU868
 * duty-cycle sub-bands. Pure data and pure functions without Node imports, so
 * the table can move to the firmware's link budget unchanged.
 */
import { fskAirtimeMs, loraAirtimeMs } from "./airtime.ts";

/** Region names, as in the firmware's `Region`. */
export type RegionName = "EU868" | "US915" | "AU915" | "AS923";

/** One data rate: LoRa (SF, BW) or FSK, and the largest application payload it carries. */
export interface DataRate {
  modulation: "LORA" | "FSK";
  /** Spreading factor (LoRa only; 0 for FSK). */
  spreadingFactor: number;
  /** Bandwidth in Hz (LoRa only; 0 for FSK). */
  bandwidthHz: number;
  /** Bit rate (FSK only). */
  bitRate?: number;
  /** Maximum application payload N in bytes (no FOpts), RP002-1.0.1, dwell time off. */
  maxPayload: number;
}

/** An uplink channel. */
export interface Channel {
  frequencyHz: number;
  minDr: number;
  maxDr: number;
}

/** A regulatory sub-band with a transmit duty-cycle limit (fraction, e.g. 0.01 for 1 %). */
export interface SubBand {
  name: string;
  minHz: number;
  /** Exclusive upper edge. */
  maxHz: number;
  dutyCycle: number;
}

/** Everything a device and a network server need to know about a region. */
export interface RegionParams {
  name: RegionName;
  /** Data rates by index; undefined for RFU entries. */
  dataRates: readonly (DataRate | undefined)[];
  /** Every uplink channel the region defines (US915/AU915: 72; others: the default ones). */
  uplinkChannels: readonly Channel[];
  /** Channels a freshly joined device uses (EU868/AS923: the mandatory ones; US915/AU915: sub-band 2, as The Things Network). */
  defaultChannels: readonly Channel[];
  /** Lowest and highest data rate a device may use for uplinks. */
  uplinkDrRange: readonly [number, number];
  /** Data rate a device falls back to (and the Wio-E5 starts at). */
  defaultDr: number;
  rx2FrequencyHz: number;
  rx2Dr: number;
  /** RECEIVE_DELAY1 / 2, JOIN_ACCEPT_DELAY1 / 2 in ms. */
  receiveDelay1Ms: number;
  receiveDelay2Ms: number;
  joinAcceptDelay1Ms: number;
  joinAcceptDelay2Ms: number;
  /** Device transmit power used by default (dBm EIRP). */
  defaultTxPowerDbm: number;
  /** Highest RX1DROffset accepted. */
  maxRx1DrOffset: number;
  /** Duty-cycle sub-bands; empty where the region has no duty-cycle rule. */
  subBands: readonly SubBand[];
}

const lora = (spreadingFactor: number, bandwidthHz: number, maxPayload: number): DataRate => ({
  modulation: "LORA",
  spreadingFactor,
  bandwidthHz,
  maxPayload,
});
const fsk = (maxPayload: number): DataRate => ({ modulation: "FSK", spreadingFactor: 0, bandwidthHz: 0, bitRate: 50_000, maxPayload });

function range(n: number, f: (i: number) => Channel): Channel[] {
  return Array.from({ length: n }, (_, i) => f(i));
}

const EU868_SUBBANDS: readonly SubBand[] = [
  { name: "863-865", minHz: 863_000_000, maxHz: 865_000_000, dutyCycle: 0.001 },
  { name: "865-868", minHz: 865_000_000, maxHz: 868_000_000, dutyCycle: 0.01 },
  { name: "868.0-868.6", minHz: 868_000_000, maxHz: 868_600_000, dutyCycle: 0.01 },
  { name: "868.7-869.2", minHz: 868_700_000, maxHz: 869_200_000, dutyCycle: 0.001 },
  { name: "869.4-869.65", minHz: 869_400_000, maxHz: 869_650_000, dutyCycle: 0.1 },
  { name: "869.7-870", minHz: 869_700_000, maxHz: 870_000_000, dutyCycle: 0.01 },
];

const EU868_DEFAULT = [868_100_000, 868_300_000, 868_500_000].map((frequencyHz) => ({ frequencyHz, minDr: 0, maxDr: 5 }));

const US915_CHANNELS = [
  ...range(64, (i) => ({ frequencyHz: 902_300_000 + 200_000 * i, minDr: 0, maxDr: 3 })),
  ...range(8, (i) => ({ frequencyHz: 903_000_000 + 1_600_000 * i, minDr: 4, maxDr: 4 })),
];

const AU915_CHANNELS = [
  ...range(64, (i) => ({ frequencyHz: 915_200_000 + 200_000 * i, minDr: 0, maxDr: 5 })),
  ...range(8, (i) => ({ frequencyHz: 915_900_000 + 1_600_000 * i, minDr: 6, maxDr: 6 })),
];

/** Channels 8–15 and 65: sub-band 2, the one The Things Network uses in US915 and AU915. */
function subBand2(all: readonly Channel[]): Channel[] {
  return [...all.slice(8, 16), all[65]];
}

/** RECEIVE_DELAY1/2 and JOIN_ACCEPT_DELAY1/2: the same defaults in every region here. */
const BASE = {
  receiveDelay1Ms: 1000,
  receiveDelay2Ms: 2000,
  joinAcceptDelay1Ms: 5000,
  joinAcceptDelay2Ms: 6000,
};

/** DR8–DR13 of US915 and AU915: the 500 kHz downlink data rates, the same in both. */
const DOWNLINK_500K: DataRate[] = [
  lora(12, 500_000, 33),
  lora(11, 500_000, 109),
  lora(10, 500_000, 222),
  lora(9, 500_000, 222),
  lora(8, 500_000, 222),
  lora(7, 500_000, 222),
];

/** AS923's two mandatory channels, which are also all a device starts with. */
const AS923_CHANNELS: Channel[] = [923_200_000, 923_400_000].map((frequencyHz) => ({ frequencyHz, minDr: 0, maxDr: 5 }));

/** The regions' parameters, by name. */
export const REGIONS: { readonly [name in RegionName]: RegionParams } = {
  EU868: {
    name: "EU868",
    dataRates: [
      lora(12, 125_000, 51),
      lora(11, 125_000, 51),
      lora(10, 125_000, 51),
      lora(9, 125_000, 115),
      lora(8, 125_000, 222),
      lora(7, 125_000, 222),
      lora(7, 250_000, 222),
      fsk(222),
    ],
    uplinkChannels: EU868_DEFAULT,
    defaultChannels: EU868_DEFAULT,
    uplinkDrRange: [0, 7],
    defaultDr: 0,
    rx2FrequencyHz: 869_525_000,
    rx2Dr: 0,
    ...BASE,
    defaultTxPowerDbm: 14,
    maxRx1DrOffset: 5,
    subBands: EU868_SUBBANDS,
  },
  US915: {
    name: "US915",
    dataRates: [
      lora(10, 125_000, 11),
      lora(9, 125_000, 53),
      lora(8, 125_000, 125),
      lora(7, 125_000, 222),
      lora(8, 500_000, 222),
      undefined,
      undefined,
      undefined,
      ...DOWNLINK_500K,
    ],
    uplinkChannels: US915_CHANNELS,
    defaultChannels: subBand2(US915_CHANNELS),
    uplinkDrRange: [0, 4],
    defaultDr: 0,
    rx2FrequencyHz: 923_300_000,
    rx2Dr: 8,
    ...BASE,
    defaultTxPowerDbm: 20,
    maxRx1DrOffset: 3,
    subBands: [],
  },
  AU915: {
    name: "AU915",
    dataRates: [
      lora(12, 125_000, 51),
      lora(11, 125_000, 51),
      lora(10, 125_000, 51),
      lora(9, 125_000, 115),
      lora(8, 125_000, 222),
      lora(7, 125_000, 222),
      lora(8, 500_000, 222),
      undefined,
      ...DOWNLINK_500K,
    ],
    uplinkChannels: AU915_CHANNELS,
    defaultChannels: subBand2(AU915_CHANNELS),
    uplinkDrRange: [0, 6],
    defaultDr: 2,
    rx2FrequencyHz: 923_300_000,
    rx2Dr: 8,
    ...BASE,
    defaultTxPowerDbm: 20,
    maxRx1DrOffset: 5,
    subBands: [],
  },
  AS923: {
    name: "AS923",
    dataRates: [
      lora(12, 125_000, 51),
      lora(11, 125_000, 51),
      lora(10, 125_000, 115),
      lora(9, 125_000, 115),
      lora(8, 125_000, 222),
      lora(7, 125_000, 222),
      lora(7, 250_000, 222),
      fsk(222),
    ],
    uplinkChannels: AS923_CHANNELS,
    defaultChannels: AS923_CHANNELS,
    uplinkDrRange: [0, 7],
    defaultDr: 0,
    rx2FrequencyHz: 923_200_000,
    rx2Dr: 2,
    ...BASE,
    defaultTxPowerDbm: 16,
    maxRx1DrOffset: 5,
    subBands: [],
  },
};

/** The parameters of `name`; throws for an unknown region. */
export function region(name: string): RegionParams {
  const r = (REGIONS as { [k: string]: RegionParams | undefined })[name];
  if (!r) throw new RangeError(`unknown region ${name}`);
  return r;
}

/** The data rate `dr` of a region, or undefined when it is RFU or out of range. */
export function dataRate(r: RegionParams, dr: number): DataRate | undefined {
  return Number.isInteger(dr) && dr >= 0 ? r.dataRates[dr] : undefined;
}

/** Largest application payload (no FOpts) at `dr`; 0 for an undefined data rate. */
export function maxPayload(r: RegionParams, dr: number): number {
  return dataRate(r, dr)?.maxPayload ?? 0;
}

/** Time on air in ms of a PHY payload of `phyBytes` sent at `dr`; `crc` false for downlinks. */
export function airtimeAtDr(r: RegionParams, dr: number, phyBytes: number, crc = true): number {
  const d = dataRate(r, dr);
  if (!d) throw new RangeError(`${r.name} has no DR${dr}`);
  if (d.modulation === "FSK") return fskAirtimeMs(phyBytes, d.bitRate);
  return loraAirtimeMs(phyBytes, { spreadingFactor: d.spreadingFactor, bandwidthHz: d.bandwidthHz, crc });
}

/** The data rate index with these LoRa settings, if the region has one (uplink range first). */
export function drFor(r: RegionParams, spreadingFactor: number, bandwidthHz: number): number | undefined {
  for (let i = 0; i < r.dataRates.length; i++) {
    const d = r.dataRates[i];
    if (d && d.modulation === "LORA" && d.spreadingFactor === spreadingFactor && d.bandwidthHz === bandwidthHz) return i;
  }
  return undefined;
}

/** RX1 data rate for an uplink at `uplinkDr` with `offset` (RP002 tables, clamped to the region's range). */
export function rx1Dr(r: RegionParams, uplinkDr: number, offset: number): number {
  switch (r.name) {
    case "US915":
      return Math.max(8, Math.min(13, 10 + Math.min(uplinkDr, 3)) - offset);
    case "AU915":
      return Math.max(8, 8 + Math.min(uplinkDr, 5) - offset);
    case "AS923":
      // Dwell time off: the RX1 data rate never goes above DR5 nor below DR0.
      return Math.min(5, Math.max(0, uplinkDr - offset));
    default:
      return Math.max(0, uplinkDr - offset);
  }
}

/** RX1 frequency for an uplink on `uplinkHz`: the same channel, or in US915/AU915 one of the 8 downlink channels. */
export function rx1Frequency(r: RegionParams, uplinkHz: number): number {
  if (r.name === "US915" || r.name === "AU915") {
    const index = r.uplinkChannels.findIndex((c) => c.frequencyHz === uplinkHz);
    if (index < 0) throw new RangeError(`${uplinkHz} Hz is not a ${r.name} uplink channel`);
    return 923_300_000 + 600_000 * (index % 8);
  }
  return uplinkHz;
}

/** The duty-cycle sub-band containing `frequencyHz`, if the region has one there. */
export function subBandOf(r: RegionParams, frequencyHz: number): SubBand | undefined {
  return r.subBands.find((b) => frequencyHz >= b.minHz && frequencyHz < b.maxHz);
}

/**
 * How long after the start of a transmission of `airtimeMs` the sub-band stays
 * closed: airtime / duty cycle (ETSI: T_off = T_air · (1/dc − 1) after the end).
 */
export function bandClosedMs(airtimeMs: number, dutyCycle: number): number {
  return airtimeMs / dutyCycle;
}

/**
 * Join back-off (LoRaWAN 1.0.4 §7 / RP002): the aggregate join airtime allowed
 * as a duty cycle, by time since the first join attempt after power-up.
 */
export function joinDutyCycle(sinceFirstJoinMs: number): number {
  if (sinceFirstJoinMs < 3_600_000) return 0.01; // 36 s per hour
  if (sinceFirstJoinMs < 11 * 3_600_000) return 0.001; // 36 s over the next 10 h
  return 0.0001; // 8.7 s per 24 h
}

/** Decodes a CFList of type 0 (EU868/AS923: five extra channel frequencies, 24-bit little-endian in 100 Hz). */
export function decodeCfList(cfList: Uint8Array): number[] {
  if (cfList.length !== 16 || cfList[15] !== 0) return [];
  const out: number[] = [];
  for (let i = 0; i < 5; i++) {
    const f = (cfList[3 * i] | (cfList[3 * i + 1] << 8) | (cfList[3 * i + 2] << 16)) * 100;
    if (f) out.push(f);
  }
  return out;
}

/** Encodes up to five extra channel frequencies as a CFList of type 0. */
export function encodeCfList(frequenciesHz: readonly number[]): Uint8Array {
  const out = new Uint8Array(16);
  frequenciesHz.slice(0, 5).forEach((hz, i) => {
    const f = Math.round(hz / 100);
    out[3 * i] = f & 0xff;
    out[3 * i + 1] = (f >> 8) & 0xff;
    out[3 * i + 2] = (f >> 16) & 0xff;
  });
  return out;
}
