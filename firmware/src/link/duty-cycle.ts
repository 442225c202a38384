/**
 * EU868 duty-cycle ledger, kept as time-off per sub-band (ETSI EN 300 220 as
 * LoRaWAN stacks apply it): after a transmission of T on a sub-band with duty
 * cycle d, that sub-band is blocked for T·(1/d − 1) from the end of the
 * transmission. Sub-bands and their limits:
 *
 *   0  863.0–865.0 MHz   0.1 %   (off 999·T)
 *   1  865.0–868.0 MHz   1 %     (off  99·T)
 *   2  868.0–868.6 MHz   1 %     (off  99·T)   default channels 868.1/868.3/868.5
 *   3  868.7–869.2 MHz   0.1 %   (off 999·T)
 *   4  869.4–869.65 MHz  10 %    (off   9·T)   RX2 869.525 MHz (downlink)
 *   5  869.7–870.0 MHz   1 %     (off  99·T)
 *
 * The modem chooses the channel, not the link: it picks among the default
 * channels 868.1/868.3/868.5 MHz (and, after a CFList, 867.1–867.9 MHz in
 * sub-band 1, also 1 %). The link therefore charges every uplink and join to
 * sub-band 2 as if it were the only one: a modem that spreads over two 1 %
 * sub-bands gets at most twice the capacity this ledger grants, never less,
 * so the model is conservative. Times are link milliseconds (integers).
 *
 * Other regions: no duty cycle (US915 and AU915 limit dwell time instead —
 * 400 ms per transmission in US915, and in AU915/AS923 only when the network
 * signals UplinkDwellTime = 1; see regions.ts). The ledger then always allows.
 */
import type { Region } from "../drivers/lora-modem.ts";
import { uplinkAirtimeAt } from "./regions.ts";
import { getLong, putLong } from "./state-words.ts";

/** One EU868 sub-band: frequency range in kHz and the off-time factor 1/d − 1. */
export interface SubBand {
  loKhz: number;
  hiKhz: number;
  /** Duty cycle in units of 0.1 % (1 = 0.1 %, 10 = 1 %, 100 = 10 %). */
  dutyPerMille: number;
  /** 1/d − 1: blocked time per unit of airtime. */
  offFactor: number;
}

/** EU868 sub-bands (ETSI EN 300 220-2 / RP002 EU863-870). */
export const EU868_SUB_BANDS: SubBand[] = [
  { loKhz: 863000, hiKhz: 865000, dutyPerMille: 1, offFactor: 999 },
  { loKhz: 865000, hiKhz: 868000, dutyPerMille: 10, offFactor: 99 },
  { loKhz: 868000, hiKhz: 868600, dutyPerMille: 10, offFactor: 99 },
  { loKhz: 868700, hiKhz: 869200, dutyPerMille: 1, offFactor: 999 },
  { loKhz: 869400, hiKhz: 869650, dutyPerMille: 100, offFactor: 9 },
  { loKhz: 869700, hiKhz: 870000, dutyPerMille: 10, offFactor: 99 },
];

/** The sub-band every uplink is charged to: 868.0–868.6 MHz, home of the default channels. */
export const UPLINK_SUB_BAND = 2;

/** Index of the sub-band containing `khz`, or −1. */
export function subBandOf(khz: number): number {
  for (let i = 0; i < EU868_SUB_BANDS.length; i++) {
    const b = EU868_SUB_BANDS[i];
    if (khz >= b.loKhz && khz <= b.hiKhz) return i;
  }
  return -1;
}

/** Words of RTC state a ledger takes (two per sub-band). */
export const DUTY_WORDS = 2 * EU868_SUB_BANDS.length;

/** Answer to "can I send now, and when could I next". */
export interface DutyAnswer {
  /** The sub-band is free now. */
  now: boolean;
  /** Link ms from which the sub-band is free. */
  readyMs: number;
  /** Time on air of the frame asked about, µs. */
  airtimeUs: number;
}

/** Per-sub-band time-off ledger. */
export class DutyCycleLedger {
  readonly region: Region;
  /** Link ms until which each sub-band is blocked. */
  readonly #blockedUntil: number[] = [];

  constructor(region: Region) {
    this.region = region;
    for (let i = 0; i < EU868_SUB_BANDS.length; i++) this.#blockedUntil.push(0);
  }

  /** Whether the region has a duty cycle at all. */
  get applies(): boolean {
    return this.region === "EU868";
  }

  /** Charges a transmission of `airtimeUs` that ended at link ms `endMs` to `band`. */
  record(airtimeUs: number, endMs: number, band = UPLINK_SUB_BAND): void {
    if (!this.applies) return;
    const off = Math.floor((airtimeUs * EU868_SUB_BANDS[band].offFactor + 999) / 1000);
    const until = endMs + off;
    if (until > this.#blockedUntil[band]) this.#blockedUntil[band] = until;
  }

  /** Link ms from which `band` is free. */
  readyMs(band = UPLINK_SUB_BAND): number {
    return this.applies ? this.#blockedUntil[band] : 0;
  }

  /** Can an uplink of `appBytes` at `dr` go now on the uplink sub-band, and if not, when? */
  check(dr: number, appBytes: number, nowMs: number): DutyAnswer {
    const ready = this.readyMs();
    return { now: ready <= nowMs, readyMs: ready > nowMs ? ready : nowMs, airtimeUs: uplinkAirtimeAt(this.region, dr, appBytes) };
  }

  /** Blocks `band` until at least `untilMs` (restoring a coarse copy after a power cut). */
  blockUntil(untilMs: number, band = UPLINK_SUB_BAND): void {
    if (untilMs > this.#blockedUntil[band]) this.#blockedUntil[band] = untilMs;
  }

  save(words: Int32Array, at: number): void {
    for (let i = 0; i < this.#blockedUntil.length; i++) putLong(words, at + 2 * i, this.#blockedUntil[i]);
  }

  load(words: Int32Array, at: number): void {
    for (let i = 0; i < this.#blockedUntil.length; i++) this.#blockedUntil[i] = getLong(words, at + 2 * i);
  }
}
