/** Maps decoded uplinks to The Things Stack normalized payload: only fields its schema defines. */
import type { Decoded } from "./codec.ts";

/** One normalized measurement. */
export interface Normalized {
  time?: string;
  air?: { temperature?: number; relativeHumidity?: number; co2?: number };
  water?: { leak?: boolean };
  metering?: { water?: { total?: number } };
  battery?: number;
}

/**
 * The schema's ranges (the device repository's lib/payload.json): a value outside them would make The Things
 * Stack reject the whole normalized result, so it is left out of it, with a warning; `data` keeps it.
 */
function inRange(name: string, v: number, lo: number, hi: number, warnings: string[]): boolean {
  if (v >= lo && v <= hi) return true;
  warnings.push(`${name} ${v} is outside the normalized payload's ${lo}..${hi}: left out`);
  return false;
}

function one(kind: string, d: Decoded, battery: unknown, warnings: string[]): Normalized {
  const m: Normalized = {};
  if (!d || typeof d !== "object") return m;
  if (typeof d.time === "string") m.time = d.time;
  if (kind === "air") {
    const air: Normalized["air"] = {};
    if (typeof d.temperatureC === "number" && inRange("air.temperature", d.temperatureC, -273.15, Infinity, warnings)) air.temperature = d.temperatureC;
    if (typeof d.relativeHumidityPct === "number" && inRange("air.relativeHumidity", d.relativeHumidityPct, 0, 100, warnings)) air.relativeHumidity = d.relativeHumidityPct;
    if (typeof d.co2Ppm === "number" && inRange("air.co2", d.co2Ppm, 0, 1_000_000, warnings)) air.co2 = d.co2Ppm;
    if (air.temperature !== undefined || air.relativeHumidity !== undefined || air.co2 !== undefined) m.air = air;
  } else if (kind === "water") {
    if (typeof d.leak === "boolean") m.water = { leak: d.leak };
    if (typeof d.totalL === "number" && inRange("metering.water.total", d.totalL, 0, Infinity, warnings)) m.metering = { water: { total: d.totalL } };
  }
  if (typeof battery === "number" && inRange("battery", battery, 0, Infinity, warnings)) m.battery = battery;
  return m;
}

/** Normalizes decoded data; batches become one measurement per reading. Values outside the schema's ranges are left out, with a warning each. */
export function normalizeData(data: Decoded): { data?: Normalized | Normalized[]; warnings?: string[]; errors?: string[] } {
  const type = data && data.messageType;
  if (typeof type !== "string") return { errors: ["data.messageType is missing: pass the output of decodeUplink"] };
  const kind = type.indexOf("air") === 0 ? "air" : type.indexOf("water") === 0 ? "water" : type.indexOf("level") === 0 ? "level" : "";
  const warnings: string[] = [];
  if (type === "status") {
    const v = typeof data.batteryMv === "number" ? data.batteryMv / 1000 : undefined;
    return { data: v !== undefined && inRange("battery", v, 0, Infinity, warnings) ? { battery: v } : {}, warnings };
  }
  if (type === "configAck") return { data: {}, warnings };
  if (!kind) return { errors: ["unknown messageType " + type] };
  if (data.readings && typeof (data.readings as unknown[]).length === "number") {
    const list = data.readings as Decoded[];
    const out: Normalized[] = [];
    for (let i = 0; i < list.length; i++) {
      if (!list[i] || typeof list[i] !== "object") return { errors: [`data.readings[${i}] is not a reading`] };
      out.push(one(kind, list[i], list[i].batteryV, warnings));
    }
    return { data: out, warnings };
  }
  return { data: one(kind, data, data.batteryV, warnings), warnings };
}
