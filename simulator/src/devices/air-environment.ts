/**
 * The true state of the air around an air-quality node at one instant, as the
 * world model knows it. Emulated chips sample it, add their own noise and
 * quantise to their resolution, so a test can compare what the firmware reports
 * with what was really there.
 */

/** Physical air values right now (floats, in the units named). */
export interface AirEnvironment {
  /** CO2 mole fraction in ppm. */
  co2Ppm: number;
  /** Air temperature in °C. */
  temperatureC: number;
  /** Relative humidity in % (0..100). */
  humidityPct: number;
  /** PM1.0 mass concentration in µg/m³. */
  pm1: number;
  /** PM2.5 mass concentration in µg/m³ (≥ pm1). */
  pm25: number;
  /** PM4.0 mass concentration in µg/m³ (≥ pm25). */
  pm4: number;
  /** PM10 mass concentration in µg/m³ (≥ pm4). */
  pm10: number;
  /** Sensirion VOC index (1..500, 100 = the sensor's learned average). */
  vocIndex: number;
  /** Sensirion NOx index (1..500, 1 = the learned average). */
  noxIndex: number;
}

/** Where an emulator reads the air: called at each measurement instant. */
export type AirSource = () => AirEnvironment;

/** Typical clean indoor air, a starting point for scenarios and tests. */
export const CLEAN_AIR: Readonly<AirEnvironment> = Object.freeze({
  co2Ppm: 450,
  temperatureC: 21,
  humidityPct: 45,
  pm1: 3,
  pm25: 5,
  pm4: 6,
  pm10: 8,
  vocIndex: 100,
  noxIndex: 1,
});

/** An `AirSource` that always returns the same values (clean air with `overrides`). */
export function steadyAir(overrides: Partial<AirEnvironment> = {}): AirSource {
  const air: AirEnvironment = { ...CLEAN_AIR, ...overrides };
  return () => ({ ...air });
}
