/** Builds the shared status uplink (fPort 10): battery, firmware version, uptime, reset reason, queue and fault counters. */
import { encodeRecord, type IntRecord } from "../../../codecs/src/codec.ts";
import { NODE_TYPES, RESET_REASONS } from "../../../codecs/src/uplinks.ts";
import type { FaultCounters } from "./fault-counters.ts";
import type { NodeConfig } from "./config.ts";
import type { NodeRuntime } from "./runtime.ts";

/** Firmware version reported in status messages. */
export const FIRMWARE_VERSION = { major: 0, minor: 1, patch: 0 };

/** Maps `native:sleep` reset reasons to the wire format's RESET_REASONS. */
export function wireResetReason(reason: string): number {
  switch (reason) {
    case "power-on": return RESET_REASONS.indexOf("powerOn");
    case "brownout": return RESET_REASONS.indexOf("brownout");
    case "watchdog": case "task-watchdog": case "interrupt-watchdog": return RESET_REASONS.indexOf("watchdog");
    case "software": return RESET_REASONS.indexOf("software");
    case "deep-sleep": return RESET_REASONS.indexOf("deepSleepWake");
    case "panic": case "cpu-lockup": return RESET_REASONS.indexOf("panic");
    case "external": return RESET_REASONS.indexOf("external");
    default: return RESET_REASONS.indexOf("unknown");
  }
}

/** Encodes a status message into `buf`; returns its length. */
export function encodeStatus(
  buf: Uint8Array, nodeType: "air" | "water" | "level", rt: NodeRuntime, faults: FaultCounters,
  config: NodeConfig, resetReason: number, uptimeS: number, maxBytes: number,
): number {
  const entries = faults.entries(12) as unknown as IntRecord[];
  const rec: IntRecord = {
    batteryMv: rt.batteryMv(),
    fwMajor: FIRMWARE_VERSION.major,
    fwMinor: FIRMWARE_VERSION.minor,
    fwPatch: FIRMWARE_VERSION.patch,
    uptimeS,
    resetReason,
    nodeType: NODE_TYPES.indexOf(nodeType),
    queueDepth: rt.link.queueDepth(),
    queueDropped: rt.link.dropped(),
    configSeq: config.configSeq,
    sensorFaults: entries,
  };
  return encodeRecord(10, rec, buf, 0, maxBytes);
}
