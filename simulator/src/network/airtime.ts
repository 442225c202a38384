/**
 * Time on air of LoRa (Semtech AN1200.13) and FSK frames. Pure functions with
 * no Node imports, so the link budget on the node can use the same code.
 * Arithmetic runs in integer microseconds: every standard bandwidth makes the
 * symbol time a whole number of µs, so the check values come out exact.
 */

/** LoRaWAN MAC overhead without FOpts: MHDR 1 + DevAddr 4 + FCtrl 1 + FCnt 2 + FPort 1 + MIC 4. */
export const MAC_OVERHEAD_BYTES = 13;

/** PHY payload of a join request: MHDR 1 + JoinEUI 8 + DevEUI 8 + DevNonce 2 + MIC 4. */
export const JOIN_REQUEST_BYTES = 23;

/** PHY payload of a join accept without CFList (with CFList: 33). */
export const JOIN_ACCEPT_BYTES = 17;

/** LoRa modulation settings that decide the time on air. */
export interface LoRaSettings {
  spreadingFactor: number;
  bandwidthHz: number;
  /** Coding rate 4/(4+cr): 1 = 4/5 (LoRaWAN), … 4 = 4/8. Default 1. */
  codingRate?: number;
  /** Programmed preamble symbols (LoRaWAN: 8). */
  preambleSymbols?: number;
  /** Explicit header (LoRaWAN: true). */
  explicitHeader?: boolean;
  /** Payload CRC (LoRaWAN uplinks: true; downlinks: false). */
  crc?: boolean;
  /** Low-data-rate optimisation; default: on when the symbol time is ≥ 16 ms (SF11/12 at 125 kHz). */
  lowDataRateOptimize?: boolean;
}

/** Symbol time in µs (2^SF / BW). */
export function symbolTimeUs(spreadingFactor: number, bandwidthHz: number): number {
  return (2 ** spreadingFactor * 1_000_000) / bandwidthHz;
}

/** Number of payload symbols (including the 8 fixed ones) for `phyBytes` bytes. */
export function payloadSymbols(phyBytes: number, s: LoRaSettings): number {
  const sf = s.spreadingFactor;
  const cr = s.codingRate ?? 1;
  const h = (s.explicitHeader ?? true) ? 0 : 1;
  const crc = (s.crc ?? true) ? 1 : 0;
  const de = (s.lowDataRateOptimize ?? symbolTimeUs(sf, s.bandwidthHz) >= 16_000) ? 1 : 0;
  const num = 8 * phyBytes - 4 * sf + 28 + 16 * crc - 20 * h;
  const den = 4 * (sf - 2 * de);
  return 8 + Math.max(Math.ceil(num / den) * (cr + 4), 0);
}

/** Time on air in µs of a LoRa frame carrying `phyBytes` bytes of PHY payload. */
export function loraAirtimeUs(phyBytes: number, s: LoRaSettings): number {
  const tsym = symbolTimeUs(s.spreadingFactor, s.bandwidthHz);
  const preamble = s.preambleSymbols ?? 8;
  // The preamble adds 4.25 symbols of sync word and start-of-frame to the programmed length.
  return ((preamble * 4 + 17) * tsym) / 4 + payloadSymbols(phyBytes, s) * tsym;
}

/** Time on air in ms of a LoRa frame carrying `phyBytes` bytes of PHY payload. */
export function loraAirtimeMs(phyBytes: number, s: LoRaSettings): number {
  return loraAirtimeUs(phyBytes, s) / 1000;
}

/** Time on air in ms of an FSK frame (preamble 5, sync word 3, length 1, CRC 2 bytes around the payload). */
export function fskAirtimeMs(phyBytes: number, bitRate = 50_000): number {
  return ((phyBytes + 11) * 8 * 1000) / bitRate;
}

/** Time on air in ms of an uplink carrying `appBytes` of application payload (PHY = app + 13). */
export function uplinkAirtimeMs(appBytes: number, spreadingFactor: number, bandwidthHz = 125_000): number {
  return loraAirtimeMs(appBytes + MAC_OVERHEAD_BYTES, { spreadingFactor, bandwidthHz });
}

/** Formats a time on air as The Things Stack does in `consumed_airtime` (seconds, e.g. "0.061696s"). */
export function formatAirtime(ms: number): string {
  const us = Math.round(ms * 1000);
  const whole = Math.floor(us / 1_000_000);
  let frac = String(us % 1_000_000).padStart(6, "0");
  while (frac.endsWith("0")) frac = frac.slice(0, -1);
  return frac ? `${whole}.${frac}s` : `${whole}s`;
}
