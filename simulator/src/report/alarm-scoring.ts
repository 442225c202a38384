/**
 * Scores the alarms that reached the network server against the world's
 * ground truth: which events each node detected, when, and which of its
 * alarms claimed something that did not happen.
 */
import type { Detection, FalseAlarm, GroundTruthEvent } from "./run-data.ts";
import { DEFAULT_NO_FLOW_H } from "../world/water-demand.ts";

const HOUR = 3_600_000;

/** How a node's alarm events answer the world's ground-truth kinds. */
const ANSWERS: { [truthKind: string]: string[] } = {
  co2High: ["co2High"],
  aqiUnhealthy: ["aqiCategoryChange"],
  pmSpike: ["pmSpike"],
  leak: ["leak"],
  burst: ["burst"],
  noFlow: ["noPulse"],
  full: ["full"],
  collection: ["emptied"],
  tipped: ["tipped"],
  lidOpen: ["lidOpen"],
  rapidRise: ["rapidRise"],
  obstruction: ["obstruction"],
};
/**
 * The alarms that end an answering alarm: until one arrives the node is still reporting the condition
 * (aqiUnhealthy ends with an AQI change out of the unhealthy range). Collections and obstructions are
 * reported once, not held.
 */
const ENDS: { [truthKind: string]: string[] } = {
  co2High: ["co2Normal"],
  aqiUnhealthy: ["aqiCategoryChange"],
  pmSpike: ["pmNormal"],
  leak: ["leakCleared"],
  burst: ["burstCleared"],
  noFlow: ["pulseResumed"],
  full: ["fullCleared"],
  tipped: ["upright"],
  lidOpen: ["lidClosed"],
  rapidRise: ["rapidRiseCleared"],
};
const UNHEALTHY = new Set(["unhealthy", "veryUnhealthy", "hazardous"]);
/** Alarm events that claim something happened (their "cleared" twins and fault reports are not scored). */
const CLAIMS = new Set(Object.values(ANSWERS).flat());
/** How long after a ground-truth event ends an alarm still counts as detecting it (a leak is judged at the next night). */
const GRACE_MS: { [kind: string]: number } = { leak: 30 * HOUR, collection: 2 * HOUR, full: 2 * HOUR };
/** How long before an event starts an alarm already counts (the world's thresholds and the node's differ). */
const EARLY_MS: { [kind: string]: number } = {
  // Any time after the household left: the node counts from its meter's last pulse, which came up to a pulse's
  // volume of use before they left (hours, on a 10 L output), so it may raise noPulse that much before the truth's 72 h.
  noFlow: DEFAULT_NO_FLOW_H * HOUR,
};
const DEFAULT_EARLY_MS = 15 * 60_000;
/** The longest early allowance: an event starting that long after a run can still answer an alarm in it. */
export const MAX_EARLY_MS = Math.max(DEFAULT_EARLY_MS, ...Object.values(EARLY_MS));
/** The longest grace, so that a window around an alarm holds every event that could answer it. */
const MAX_GRACE_MS = Math.max(HOUR, ...Object.values(GRACE_MS));

/** A node's ground-truth events in [fromMs, toMs) at thresholds lowered by its sensors' stated accuracy. */
export type NearTruth = (nodeId: string, fromMs: number, toMs: number) => readonly GroundTruthEvent[];

/** One alarm as scored: virtual times, and `clear` for an AQI change out of the unhealthy range (the all-clear, claiming nothing). */
export interface ScoredAlarm {
  event: string;
  /** When the node raised it (virtual ms). */
  atMs: number;
  /** When it reached the network server (virtual ms). */
  receivedMs: number;
  clear?: true;
}

/** An alarm event as scored, from its decoded event name and, for AQI changes, the new category. */
export function scoredAlarm(event: string, aqiCategory: string | undefined, atMs: number, receivedMs: number): ScoredAlarm {
  const clear = event === "aqiCategoryChange" && aqiCategory !== undefined && !UNHEALTHY.has(aqiCategory);
  return { event, atMs, receivedMs, ...(clear ? { clear: true as const } : {}) };
}

/** Whether some alarm answers ground-truth events of this kind (others are not scored). */
export function isAnswerable(kind: string): boolean {
  return ANSWERS[kind] !== undefined;
}

/**
 * Detections of `truth` (events starting in the run) and false alarms (claims matching no event of
 * `allTruth`, which includes events under way when the run began), from each node's alarms in the
 * order they arrived; times in the result are Unix ms (`epoch` + virtual). With `near`, a false alarm
 * that an event at the accuracy-lowered thresholds answers is marked `near`.
 */
export function scoreAlarms(truth: readonly GroundTruthEvent[], allTruth: readonly GroundTruthEvent[],
  alarmsOf: ReadonlyMap<string, readonly ScoredAlarm[]>, epoch: number, near?: NearTruth): { detections: Detection[]; falseAlarms: FalseAlarm[] } {
  const detections: Detection[] = [];
  for (const g of truth) {
    const alarms = alarmsOf.get(g.nodeId) ?? [];
    // The first alarm inside the event's window detects it; more alarms during the same event (a category
    // rising further, a re-trigger) are neither detections of other events nor false alarms.
    const hit = alarms.find((a) => within(a, g));
    // Or the node was still in alarm from an earlier event when this one began: the truth dipped under
    // its threshold between the two, and the node's hysteresis (rightly) did not clear.
    const held = hit ? undefined : heldAlarm(alarms, g);
    const by = hit ?? held;
    detections.push({ nodeId: g.nodeId, kind: g.kind, truthStartMs: epoch + g.startMs, detectedAtMs: by ? epoch + by.receivedMs : null, ...(held ? { held: true } : {}) });
  }
  const falseAlarms: FalseAlarm[] = [];
  for (const [nodeId, alarms] of alarmsOf) {
    for (const a of alarms) {
      if (a.clear || !CLAIMS.has(a.event) || allTruth.some((g) => g.nodeId === nodeId && within(a, g))) continue;
      const nearBy = near?.(nodeId, a.atMs - MAX_GRACE_MS, a.atMs + MAX_EARLY_MS + 1).some((g) => within(a, g)) ?? false;
      falseAlarms.push({ nodeId, event: a.event, atMs: epoch + a.atMs, ...(nearBy ? { near: true } : {}) });
    }
  }
  return { detections, falseAlarms };
}

function answers(a: ScoredAlarm, kind: string): boolean {
  // Kinds no alarm answers (away) can come with the accuracy-lowered truth: they answer nothing.
  return !a.clear && (ANSWERS[kind]?.includes(a.event) ?? false);
}

function within(a: ScoredAlarm, g: GroundTruthEvent): boolean {
  return answers(a, g.kind) && a.atMs >= g.startMs - (EARLY_MS[g.kind] ?? DEFAULT_EARLY_MS) && a.atMs <= g.endMs + (GRACE_MS[g.kind] ?? HOUR);
}

/** The node's answering alarm still in force when `g` began (raised before it, not ended since), if any. */
function heldAlarm(alarms: readonly ScoredAlarm[], g: GroundTruthEvent): ScoredAlarm | undefined {
  const ends = ENDS[g.kind];
  if (!ends) return undefined;
  let held: ScoredAlarm | undefined;
  for (const a of alarms) {
    if (a.atMs > g.startMs) continue;
    if (answers(a, g.kind)) held = a;
    else if (ends.includes(a.event)) held = undefined;
  }
  return held;
}
