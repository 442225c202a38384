/** What a node application hands its encoded messages to: the LoRaWAN link, or a recorder in tests. */

/** Routine readings may be batched, delayed or (when the queue is full) dropped; alarms never are, and go confirmed. */
export type MessageKind = "routine" | "alarm" | "status" | "ack";

/** A downlink waiting for the node. */
export interface LinkDownlink {
  port: number;
  bytes: Uint8Array;
  /**
   * RTC seconds when it arrived (the end of the exchange that brought it); absent: now. A node applies
   * downlinks at the start of the wake after the one that received them, so a setTime is put forward by the
   * sleep in between.
   */
  atS?: number;
}

/** Seconds from a downlink's arrival to RTC second `nowS` (0 when unknown). */
export function sinceArrivalS(d: LinkDownlink, nowS: number): number {
  return d.atS === undefined || nowS < d.atS ? 0 : nowS - d.atS;
}

/** The link as the node application sees it. */
export interface LinkPort {
  /**
   * Accepts a message for delivery; the bytes are copied before returning.
   * `ageS` is how old the measurement already is. Returns false only if the link refused it.
   */
  submit(port: number, bytes: Uint8Array, length: number, kind: MessageKind): boolean;
  /**
   * Largest application payload the link can send now (51 at EU868 DR0; 51 at US915 DR0 too, where
   * alarms, acks and status go at DR1 and routine readings as their 11-byte core, …).
   */
  maxPayload(): number;
  /** Next downlink received for the node, if any. */
  takeDownlink(): LinkDownlink | undefined;
  /** Downlinks received and not yet taken (after `flush()`: those the next boot will apply). */
  downlinksWaiting(): number;
  /** Readings waiting to be sent. */
  queueDepth(): number;
  /** Routine readings dropped from a full queue since boot. */
  dropped(): number;
  /** Sends what can be sent now (join, uplinks, retries); called once per wake after submitting. */
  flush(): void;
}
