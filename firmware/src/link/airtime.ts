/**
 * Time on air of a LoRa (or EU868/AS923 DR7 FSK) frame, per Semtech AN1200.13,
 * in integer microseconds (exact for LoRa: Tsym = 2^SF / BW is a whole number
 * of µs at 125, 250 and 500 kHz, and the preamble's 12.25 symbols a whole
 * number too for SF ≥ 2).
 *
 *   Tsym      = 2^SF / BW
 *   Tpreamble = (8 + 4.25) · Tsym                    (preamble 8 symbols)
 *   nPayload  = 8 + max(ceil((8·PL − 4·SF + 28 + 16·CRC − 20·H) / (4·(SF − 2·DE))) · (CR + 4), 0)
 *   T         = Tpreamble + nPayload · Tsym
 *
 * with explicit header (H = 0), CRC on (CRC = 1), coding rate 4/5 (CR = 1) and
 * low-data-rate optimisation DE = 1 at SF11/SF12 on 125 kHz. PL is the PHY
 * payload: the application payload plus 13 bytes of MAC overhead (MHDR 1,
 * DevAddr 4, FCtrl 1, FCnt 2, FPort 1, MIC 4; no FOpts), or 23 bytes for a
 * join-request. Check values (24-byte PHY payload): SF7 61 696 µs, SF10
 * 370 688 µs, SF12 1 482 752 µs (all BW125).
 */

/** MAC overhead of a data frame without FOpts: MHDR, DevAddr, FCtrl, FCnt, FPort, MIC. */
export const MAC_OVERHEAD_BYTES = 13;
/** PHY payload of a LoRaWAN 1.0.x join-request. */
export const JOIN_REQUEST_BYTES = 23;

/** A modulation: LoRa spreading factor and bandwidth, or FSK (sf 0) at `bwKhz` kbit/s. */
export interface Modulation {
  /** Spreading factor 7..12, or 0 for FSK. */
  sf: number;
  /** LoRa bandwidth in kHz (125, 250, 500); for FSK the bit rate in kbit/s (50). */
  bwKhz: number;
}

/** µs per symbol at 2^0 for each LoRa bandwidth: 1000 / BW[kHz]. */
function usPerChip(bwKhz: number): number {
  switch (bwKhz) {
    case 125: return 8;
    case 250: return 4;
    case 500: return 2;
    default: throw new RangeError("unsupported LoRa bandwidth " + bwKhz + " kHz");
  }
}

/** LoRa time on air in µs of a frame with `phyBytes` PHY payload bytes. */
export function loraAirtimeUs(sf: number, bwKhz: number, phyBytes: number): number {
  if (sf < 6 || sf > 12 || (sf | 0) !== sf) throw new RangeError("spreading factor " + sf);
  if (phyBytes < 0 || (phyBytes | 0) !== phyBytes) throw new RangeError("payload length " + phyBytes);
  const tSym = (1 << sf) * usPerChip(bwKhz);
  const de = sf >= 11 && bwKhz === 125 ? 1 : 0;
  const num = 8 * phyBytes - 4 * sf + 28 + 16; // CRC on, explicit header (−20·H with H = 0)
  const den = 4 * (sf - 2 * de);
  const blocks = num > 0 ? Math.floor((num + den - 1) / den) : 0;
  const nPayload = 8 + blocks * 5; // CR 4/5
  // (12.25 + nPayload) · Tsym = (49 + 4·nPayload) · Tsym / 4; Tsym is a multiple of 4 µs for SF ≥ 6.
  return (49 + 4 * nPayload) * (tSym >> 2);
}

/**
 * FSK time on air in µs (EU868/AS923 DR7, 50 kbit/s): preamble 5 bytes, sync
 * word 3, length 1, payload, CRC 2, at `kbps` kbit/s.
 */
export function fskAirtimeUs(phyBytes: number, kbps = 50): number {
  const bits = (5 + 3 + 1 + phyBytes + 2) * 8;
  return Math.floor((bits * 1000 + kbps - 1) / kbps);
}

/** Time on air in µs of `phyBytes` PHY payload bytes with modulation `m`. */
export function airtimeUs(m: Modulation, phyBytes: number): number {
  return m.sf === 0 ? fskAirtimeUs(phyBytes, m.bwKhz) : loraAirtimeUs(m.sf, m.bwKhz, phyBytes);
}

/** Time on air in µs of a data uplink carrying `appBytes` application bytes (no FOpts). */
export function uplinkAirtimeUs(m: Modulation, appBytes: number): number {
  return airtimeUs(m, appBytes + MAC_OVERHEAD_BYTES);
}

/** Time on air in µs of one join-request. */
export function joinAirtimeUs(m: Modulation): number {
  return airtimeUs(m, JOIN_REQUEST_BYTES);
}
