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

function one(kind: string, d: Decoded, battery: unknown): Normalized {
  const m: Normalized = {};
  if (typeof d.time === "string") m.time = d.time;
  if (kind === "air") {
    const air: Normalized["air"] = {};
    if (typeof d.temperatureC === "number") air.temperature = d.temperatureC;
    if (typeof d.relativeHumidityPct === "number") air.relativeHumidity = d.relativeHumidityPct;
    if (typeof d.co2Ppm === "number") air.co2 = d.co2Ppm;
    if (air.temperature !== undefined || air.relativeHumidity !== undefined || air.co2 !== undefined) m.air = air;
  } else if (kind === "water") {
    if (typeof d.leak === "boolean") m.water = { leak: d.leak };
    if (typeof d.totalL === "number") m.metering = { water: { total: d.totalL } };
  }
  if (typeof battery === "number") m.battery = battery;
  return m;
}

/** Normalizes decoded data; batches become one measurement per reading. */
export function normalizeData(data: Decoded): { data?: Normalized | Normalized[]; errors?: string[] } {
  const type = data && data.messageType;
  if (typeof type !== "string") return { errors: ["data.messageType is missing: pass the output of decodeUplink"] };
  const kind = type.indexOf("air") === 0 ? "air" : type.indexOf("water") === 0 ? "water" : type.indexOf("level") === 0 ? "level" : "";
  if (type === "status") return { data: typeof data.batteryMv === "number" ? { battery: (data.batteryMv as number) / 1000 } : {} };
  if (type === "configAck") return { data: {} };
  if (!kind) return { errors: ["unknown messageType " + type] };
  if (data.readings && typeof (data.readings as unknown[]).length === "number") {
    const list = data.readings as Decoded[];
    const out: Normalized[] = [];
    for (let i = 0; i < list.length; i++) out.push(one(kind, list[i], list[i].batteryV));
    return { data: out };
  }
  return { data: one(kind, data, data.batteryV) };
}
