/**
 * The network-server interface (The Things Stack payload formatters, ChirpStack
 * v4 codecs, LoRaWAN device repository): decodeUplink, encodeDownlink,
 * decodeDownlink, normalizeUplink. None of them throws, whatever the input.
 */
import { checkBytes, decodeUplinkBytes, encodeDownlinkData, parseDownlink, type Decoded } from "./codec.ts";
import { normalizeData, type Normalized } from "./normalize.ts";

/** Input of decodeUplink, as network servers pass it. */
export interface UplinkInput {
  bytes: ArrayLike<number>;
  fPort: number;
  recvTime?: Date | string | number;
  variables?: { [name: string]: string };
}

/** Output of decodeUplink / decodeDownlink. */
export interface DecodeResult {
  data?: Decoded;
  warnings: string[];
  errors: string[];
}

/** Output of encodeDownlink. */
export interface EncodeResult {
  bytes: number[];
  fPort: number;
  warnings: string[];
  errors: string[];
}

function timeMs(t: unknown): number | undefined {
  if (t === undefined || t === null) return undefined;
  const ms = t instanceof Date ? t.getTime() : typeof t === "number" ? t : typeof t === "string" ? Date.parse(t) : NaN;
  // Date accepts ±8.64e15 ms; anything else cannot timestamp a reading.
  return ms >= -8.64e15 && ms <= 8.64e15 ? ms : undefined;
}

function fail(e: unknown): string {
  return "internal codec error: " + (e && (e as Error).message ? (e as Error).message : String(e));
}

/** Decodes an uplink: `{ data, warnings, errors }`; `errors` is non-empty for anything malformed. */
export function decodeUplink(input: UplinkInput): DecodeResult {
  const warnings: string[] = [];
  const errors: string[] = [];
  try {
    if (!input || typeof input !== "object") return { warnings, errors: ["input must be an object { bytes, fPort }"] };
    const bad = checkBytes(input.bytes);
    if (bad) return { warnings, errors: [bad] };
    if (typeof input.fPort !== "number" || input.fPort !== (input.fPort | 0)) return { warnings, errors: ["fPort must be an integer"] };
    const recv = timeMs(input.recvTime);
    if (input.recvTime !== undefined && recv === undefined) warnings.push("recvTime is not a valid time; readings carry no timestamps");
    const data = decodeUplinkBytes(input.bytes, input.fPort, recv, warnings, errors);
    return errors.length ? { warnings, errors } : { data, warnings, errors };
  } catch (e) {
    return { warnings, errors: [fail(e)] };
  }
}

/** Encodes a downlink command `{ command, ...settings }`; always returns an fPort (ChirpStack passes none). */
export function encodeDownlink(input: { data: Decoded; fPort?: number; variables?: unknown }): EncodeResult {
  const warnings: string[] = [];
  const errors: string[] = [];
  try {
    if (!input || typeof input !== "object" || !input.data || typeof input.data !== "object") {
      return { bytes: [], fPort: 0, warnings, errors: ["input.data must be an object { command, ...settings }"] };
    }
    const fPort = typeof input.fPort === "number" ? input.fPort : undefined;
    const r = encodeDownlinkData(input.data, fPort, warnings, errors);
    return { bytes: errors.length ? [] : r.bytes, fPort: r.fPort, warnings, errors };
  } catch (e) {
    return { bytes: [], fPort: 0, warnings, errors: [fail(e)] };
  }
}

/** Decodes a downlink the way the node will: strictly, refusing anything out of range. */
export function decodeDownlink(input: { bytes: ArrayLike<number>; fPort: number }): DecodeResult {
  try {
    if (!input || typeof input !== "object") return { warnings: [], errors: ["input must be an object { bytes, fPort }"] };
    const bad = checkBytes(input.bytes);
    if (bad) return { warnings: [], errors: [bad] };
    const r = parseDownlink(input.bytes, input.fPort);
    return r.errors.length ? { warnings: r.warnings, errors: r.errors } : { data: r.data, warnings: r.warnings, errors: [] };
  } catch (e) {
    return { warnings: [], errors: [fail(e)] };
  }
}

/** Maps decoded data to The Things Stack's normalized payload (air, water, metering, battery). */
export function normalizeUplink(input: { data: Decoded }): { data?: Normalized | Normalized[]; warnings: string[]; errors: string[] } {
  try {
    if (!input || typeof input !== "object") return { warnings: [], errors: ["input must be an object { data }"] };
    const r = normalizeData(input.data);
    return r.errors ? { warnings: [], errors: r.errors } : { data: r.data, warnings: r.warnings ?? [], errors: [] };
  } catch (e) {
    return { warnings: [], errors: [fail(e)] };
  }
}
