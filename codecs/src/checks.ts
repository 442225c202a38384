/** Cross-field rules for downlink commands, beyond each field's own bounds. */

/** A refused combination: which field (index in the command) and why. */
export interface Inconsistency {
  field: number;
  message: string;
}

type Values = { [name: string]: number | boolean | string };

/** Returns the first inconsistency in a command's values, or undefined. */
export function crossCheck(command: string, v: Values): Inconsistency | undefined {
  if (command === "setInterval" && (v.heartbeatS as number) < (v.intervalS as number)) {
    return { field: 1, message: "heartbeatS must be at least intervalS" };
  }
  if (command === "setWaterThresholds" && v.nightStartH === v.nightEndH) {
    return { field: 5, message: "nightEndH must differ from nightStartH" };
  }
  if (command === "setLevelThresholds") {
    if ((v.fullDistanceMm as number) >= (v.depthMm as number)) return { field: 5, message: "fullDistanceMm must be less than depthMm" };
    if ((v.hysteresisPct as number) > (v.fullPct as number)) return { field: 1, message: "hysteresisPct must not exceed fullPct" };
  }
  return undefined;
}
