// Public API of the fixed-point DSP blocks; see README.md for formats and error bounds.
export {
  INT16_MAX, INT16_MIN, INT32_MAX, INT32_MIN,
  addSat32, divRound, divTrunc, isqrt, mulQ15, mulQ16, sat16, sat32, shrRound,
} from "./q.ts";
export { MEDIAN_MAX_SIZE, MedianFilter } from "./median.ts";
export { Ewma } from "./ewma.ts";
export {
  HysteresisDetector, TRANSITION_CLEARED, TRANSITION_ENTERED, TRANSITION_NONE,
} from "./hysteresis.ts";
export type { HysteresisOptions, Transition } from "./hysteresis.ts";
export { RATE_MAX_WINDOW_S, RateOfChange } from "./rate.ts";
export type { RateOptions } from "./rate.ts";
export {
  EU_AQI_BANDS, US_AQI_CATEGORIES, US_AQI_MAX,
  euAqiBand, euAqiBandPm10, euAqiBandPm25, usAqi, usAqiCategory, usAqiPm10, usAqiPm25,
} from "./aqi.ts";
export { FILL_MAX_DEPTH_MM, VERTICAL_MAX_MM, fillHalfPercent, verticalMm } from "./fill.ts";
export { BIN_FEATURE_COUNT, binFeatureInputs, signedLogCode } from "./bin-features.ts";
export { logCode } from "./log-code.ts";
export type { BinWakeInputs } from "./bin-features.ts";
export { DAY_S, NIGHT_FLOW_UNAVAILABLE, NightFlowMonitor } from "./night-flow.ts";
export type { NightFlowOptions } from "./night-flow.ts";
export {
  FLOW_DAY_WINDOWS, FLOW_FEATURES, FLOW_RECENT_WINDOWS, FLOW_WINDOW_MIN_MINUTES, FLOW_WINDOW_S, FlowWindowFeatures, HIGH_FLOW_ML_MIN,
} from "./flow-window.ts";
export type { Persistent } from "./persist.ts";
