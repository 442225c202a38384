// Input codes of the waste bin plausibility model (firmware/src/ml/models/bin.ts),
// computed on the node exactly as scripts/ml/train/bin-data.ts `wakeFeatures`
// computes them in training: int32 only (shifts, clz32, comparisons), no allocation.

import { logCode } from "./log-code.ts";

export { logCode };

/** Number of model inputs. */
export const BIN_FEATURE_COUNT = 12;

/** Signed log code, 0..255 around 128: 128 ± logCode(|v|)/2 (a negative v below 128). */
export function signedLogCode(v: number): number {
  const c = logCode(v < 0 ? -v : v) >> 1;
  return v < 0 ? 128 - c : Math.min(255, 128 + c);
}

/** What the node knows at a bin wake with a reading; every field an integer in the unit its name says. */
export interface BinWakeInputs {
  /** This wake's median distance, mm (> 0). */
  medianMm: number;
  /** Largest minus smallest of the samples behind the median, mm. */
  spreadMm: number;
  /** The previous wake's median distance, mm; −1 if none (then this wake's is used). */
  prevMm: number;
  /** The median of the wake before the previous one, mm; −1 if none (then the code is 128). */
  prev2Mm: number;
  /** Sensor to the full line, mm. */
  fullMm: number;
  /** Last accepted distance, mm; −1 if none (then this wake's is used). */
  accMm: number;
  /** Rejected readings since the last accepted one. */
  rejections: number;
  /** Whole quarter-hours since the last accepted reading (0 if none). */
  accAgeQuarters: number;
  /** The lid or the bin moved since the last accepted reading. */
  motionSinceAccepted: boolean;
  /** Tilt from upright, whole degrees (0 without an accelerometer). */
  tiltDeg: number;
  /** The lid or the bin moved since the previous wake with a reading. */
  motionSincePrevious: boolean;
}

/**
 * Writes the 12 model inputs into `out` as int8 (code − 128: input scale 1/32,
 * zero point −128): 0 reading/8; 1 reading − last accepted (signed log);
 * 2 spread (log); 3 reading − previous reading (signed log); 4 reading − full
 * line (signed log); 5 rejections in a row ×16 (capped at 15); 6 quarter-hours
 * since the last accepted reading (capped at 255); 7 last accepted/8; 8 motion
 * since the last accepted reading (0 / 255); 9 reading − the reading two
 * wakes back (signed log; 128 without one); 10 tilt ×8;
 * 11 motion since the previous wake (0 / 255).
 */
export function binFeatureInputs(x: BinWakeInputs, out: Int8Array): void {
  const d = x.medianMm | 0;
  const prev = x.prevMm >= 0 ? x.prevMm | 0 : d;
  const a = x.accMm >= 0 ? x.accMm | 0 : d;
  const tilt = x.tiltDeg > 0 ? x.tiltDeg | 0 : 0;
  out[0] = Math.min(255, d >> 3) - 128;
  out[1] = signedLogCode(d - a) - 128;
  out[2] = logCode(x.spreadMm | 0) - 128;
  out[3] = signedLogCode(d - prev) - 128;
  out[4] = signedLogCode(d - (x.fullMm | 0)) - 128;
  out[5] = (Math.min(15, x.rejections | 0) << 4) - 128;
  out[6] = Math.min(255, x.accAgeQuarters | 0) - 128;
  out[7] = Math.min(255, a >> 3) - 128;
  out[8] = x.motionSinceAccepted ? 127 : -128;
  out[9] = x.prev2Mm >= 0 ? signedLogCode(d - (x.prev2Mm | 0)) - 128 : 0;
  out[10] = Math.min(255, tilt << 3) - 128;
  out[11] = x.motionSincePrevious ? 127 : -128;
}
