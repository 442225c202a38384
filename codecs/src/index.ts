/** @citysense/codecs: the wire format shared by the nodes, the network servers and the simulator. */
export { decodeUplink, encodeDownlink, decodeDownlink, normalizeUplink } from "./lns.ts";
export type { UplinkInput, DecodeResult, EncodeResult } from "./lns.ts";
export { encodeRecord, parseDownlink, encodeUplinkData, uplinkByPort, downlinkByPort, downlinkByName, allOnes } from "./codec.ts";
export type { IntRecord, Decoded, ParsedDownlink } from "./codec.ts";
export { normalizeData } from "./normalize.ts";
export type { Normalized } from "./normalize.ts";
export { UPLINKS, AIR_CORE, AIR_EXT, WATER_CORE, WATER_EXT, LEVEL_CORE, AIR_EVENTS, WATER_EVENTS, LEVEL_EVENTS, SENSORS, FAULTS, RESET_REASONS, NODE_TYPES, ACK_RESULTS, AQI_CATEGORIES, VALVE_STATES } from "./uplinks.ts";
export { DOWNLINKS, ALARM_BITS } from "./downlinks.ts";
export { byteWidth, bitWidth, validLengths } from "./fields.ts";
export type { Field, MessageDef } from "./fields.ts";
export { PORTS } from "./ports.ts";
