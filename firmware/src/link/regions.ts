/**
 * Uplink data rates of the regions the firmware supports, as the link needs
 * them: DR → modulation and the largest application payload (RP002-1.0.1
 * regional parameters, N without FOpts; AU915 and AS923 with dwell time 0),
 * plus what each region limits besides payload size.
 *
 * Written independently of the simulator's radio tables on purpose: both are
 * checked against the same RP002 vectors.
 *
 *   EU868  DR0–5 SF12–7/125, DR6 SF7/250, DR7 FSK 50 kbit/s; 51,51,51,115,222,222,222,222
 *   US915  DR0–3 SF10–7/125, DR4 SF8/500;                    11,53,125,222,222
 *   AU915  DR0–5 SF12–7/125, DR6 SF8/500;                    51,51,51,115,222,222,222
 *   AS923  DR0–5 SF12–7/125, DR6 SF7/250, DR7 FSK;           51,51,115,115,222,222,222,222
 *
 * Limits besides payload:
 *   EU868  duty cycle per sub-band (ETSI EN 300 220; see duty-cycle.ts).
 *   US915  no duty cycle; FCC dwell time ≤ 400 ms per transmission (every DR
 *          here stays under it with its maximum payload: DR0 11 B → 370.7 ms).
 *   AU915  no duty cycle; a 400 ms dwell limit applies only when the network
 *          sets UplinkDwellTime = 1 (then DR0/DR1 are unusable) — not modelled.
 *   AS923  no duty cycle modelled (some countries require listen-before-talk,
 *          which the modem does); with dwell time 1 (e.g. Japan) DR0–1 are
 *          unusable and DR2 carries 11, DR3 53 bytes — not modelled (dwell 0).
 */
import type { Region } from "../drivers/lora-modem.ts";
import { joinAirtimeUs, uplinkAirtimeUs, type Modulation } from "./airtime.ts";

/** One uplink data rate. */
export interface DataRate extends Modulation {
  /** Largest application payload (FRMPayload, no FOpts) in bytes. */
  maxPayload: number;
}

/** What the link knows about a region. */
export interface RegionPlan {
  /** Uplink data rates indexed by DR number. */
  rates: DataRate[];
  /** EU868-style sub-band duty cycle applies. */
  dutyCycle: boolean;
  /** Longest single transmission in µs (0: no dwell limit modelled). */
  dwellUs: number;
}

function lora(sf: number, bwKhz: number, maxPayload: number): DataRate {
  return { sf, bwKhz, maxPayload };
}

/** The four regional plans. */
export const REGIONS: { [R in Region]: RegionPlan } = {
  EU868: {
    rates: [lora(12, 125, 51), lora(11, 125, 51), lora(10, 125, 51), lora(9, 125, 115), lora(8, 125, 222), lora(7, 125, 222), lora(7, 250, 222), lora(0, 50, 222)],
    dutyCycle: true,
    dwellUs: 0,
  },
  US915: {
    rates: [lora(10, 125, 11), lora(9, 125, 53), lora(8, 125, 125), lora(7, 125, 222), lora(8, 500, 222)],
    dutyCycle: false,
    dwellUs: 400000,
  },
  AU915: {
    rates: [lora(12, 125, 51), lora(11, 125, 51), lora(10, 125, 51), lora(9, 125, 115), lora(8, 125, 222), lora(7, 125, 222), lora(8, 500, 222)],
    dutyCycle: false,
    dwellUs: 0,
  },
  AS923: {
    rates: [lora(12, 125, 51), lora(11, 125, 51), lora(10, 125, 115), lora(9, 125, 115), lora(8, 125, 222), lora(7, 125, 222), lora(7, 250, 222), lora(0, 50, 222)],
    dutyCycle: false,
    dwellUs: 0,
  },
};

/** The data rate `dr` of `region`, or undefined if the region has none by that number. */
export function dataRate(region: Region, dr: number): DataRate | undefined {
  const plan = REGIONS[region];
  return plan && dr >= 0 && dr < plan.rates.length ? plan.rates[dr] : undefined;
}

/** Largest application payload at `dr` (0 for an unknown data rate). */
export function maxAppPayload(region: Region, dr: number): number {
  const rate = dataRate(region, dr);
  return rate ? rate.maxPayload : 0;
}

/** Time on air in µs of an uplink with `appBytes` application bytes at `dr` (the slowest DR if `dr` is unknown: conservative). */
export function uplinkAirtimeAt(region: Region, dr: number, appBytes: number): number {
  return uplinkAirtimeUs(dataRate(region, dr) || REGIONS[region].rates[0], appBytes);
}

/** Time on air in µs of a join-request at `dr` (the slowest DR if `dr` is unknown). */
export function joinAirtimeAt(region: Region, dr: number): number {
  return joinAirtimeUs(dataRate(region, dr) || REGIONS[region].rates[0]);
}

/** Number of uplink data rates of `region` (DR0 … DR(n−1)). */
export function dataRateCount(region: Region): number {
  return REGIONS[region].rates.length;
}
