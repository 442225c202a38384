// Air quality indices from particulate concentrations in tenths of µg/m³ (the unit
// the SEN5x and our codecs use). The US index follows the EPA 2024 revision; the
// European one returns the band of the EEA index. Both are for an instantaneous
// value: an official AQI uses 24-hour averages or NowCast, so label it an estimate.
import { divRound } from "./q.ts";

// US EPA breakpoints, one segment per AQI band: [BPlo, BPhi] in tenths of µg/m³
// (PM2.5) or whole µg/m³ (PM10), and [Ilo, Ihi].
const PM25_BP_LO = [0, 91, 355, 555, 1255, 2255];
const PM25_BP_HI = [90, 354, 554, 1254, 2254, 3254];
const PM10_BP_LO = [0, 55, 155, 255, 355, 425];
const PM10_BP_HI = [54, 154, 254, 354, 424, 604];
const AQI_LO = [0, 51, 101, 151, 201, 301];
const AQI_HI = [50, 100, 150, 200, 300, 500];

// European index upper limits per band in tenths of µg/m³; a value equal to a
// limit belongs to the lower band.
const EU_PM25_LIMIT = [50, 150, 500, 900, 1400];
const EU_PM10_LIMIT = [150, 450, 1200, 1950, 2700];

/** Top of the US AQI scale; concentrations above the last breakpoint give this. */
export const US_AQI_MAX = 500;

/** US AQI categories (index 0..5). */
export const US_AQI_CATEGORIES = ["good", "moderate", "unhealthy for sensitive groups", "unhealthy", "very unhealthy", "hazardous"] as const;
/** European AQI bands (index 0..5). */
export const EU_AQI_BANDS = ["good", "fair", "moderate", "poor", "very poor", "extremely poor"] as const;

// Linear interpolation inside the segment that holds c, rounded half up; exact
// because the product stays < 2^31 and divRound is exact.
function interpolate(c: number, lo: readonly number[], hi: readonly number[]): number {
  let i = 0;
  while (i < 5 && c > hi[i]) i++;
  if (c > hi[5]) return US_AQI_MAX;
  const span = hi[i] - lo[i];
  return AQI_LO[i] + divRound(Math.imul(AQI_HI[i] - AQI_LO[i], c - lo[i]), span);
}

/** US AQI (0..500) for PM2.5 in tenths of µg/m³; exact (error 0) against the EPA formula; negative input counts as 0. */
export function usAqiPm25(pm25Tenths: number): number {
  return interpolate(Math.max(0, pm25Tenths | 0), PM25_BP_LO, PM25_BP_HI);
}

/** US AQI (0..500) for PM10 in tenths of µg/m³, truncated to 1 µg/m³ first; exact (error 0); negative input counts as 0. */
export function usAqiPm10(pm10Tenths: number): number {
  // floor(x/10) as (x·52429) >> 19: exact for 0 ≤ x ≤ 65535 (error < x·3.9e-7 < 0.1);
  // larger inputs are clamped first since they are far past the top breakpoint anyway.
  const tenths = Math.max(0, Math.min(65535, pm10Tenths | 0));
  return interpolate(Math.imul(tenths, 52429) >>> 19, PM10_BP_LO, PM10_BP_HI);
}

/** Overall US AQI: the larger of the PM2.5 and PM10 sub-indices (inputs in tenths of µg/m³). */
export function usAqi(pm25Tenths: number, pm10Tenths: number): number {
  return Math.max(usAqiPm25(pm25Tenths), usAqiPm10(pm10Tenths));
}

/** US AQI category index 0..5 (see US_AQI_CATEGORIES) for an AQI value. */
export function usAqiCategory(aqi: number): number {
  let i = 0;
  while (i < 5 && aqi > AQI_HI[i]) i++;
  return i;
}

function euBand(c: number, limits: readonly number[]): number {
  let i = 0;
  while (i < 5 && c > limits[i]) i++;
  return i;
}

/** European AQI band 0..5 for PM2.5 in tenths of µg/m³ (limits 5/15/50/90/140 µg/m³, a value at a limit is in the lower band). */
export function euAqiBandPm25(pm25Tenths: number): number {
  return euBand(pm25Tenths | 0, EU_PM25_LIMIT);
}

/** European AQI band 0..5 for PM10 in tenths of µg/m³ (limits 15/45/120/195/270 µg/m³, a value at a limit is in the lower band). */
export function euAqiBandPm10(pm10Tenths: number): number {
  return euBand(pm10Tenths | 0, EU_PM10_LIMIT);
}

/** European AQI band 0..5 (see EU_AQI_BANDS): the worse of the PM2.5 and PM10 bands. */
export function euAqiBand(pm25Tenths: number, pm10Tenths: number): number {
  return Math.max(euAqiBandPm25(pm25Tenths), euAqiBandPm10(pm10Tenths));
}
