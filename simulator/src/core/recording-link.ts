/**
 * A LinkPort that records what a node application hands to the link, for
 * tests of the sensing issue (the real LoRaWAN session replaces it on boards
 * and in full simulations). It lives outside the firmware, so it survives
 * deep sleep, and it can play queued downlinks back to the node.
 */
import type { LinkPort, LinkDownlink, MessageKind } from "../../../firmware/src/nodes/link-port.ts";
import { decodeUplink } from "../../../codecs/src/index.ts";
import type { VirtualClock } from "./clock.ts";

/** One message handed to the link. */
export interface LinkedMessage {
  atMs: number;
  port: number;
  bytes: number[];
  kind: MessageKind;
  data: Record<string, unknown> | undefined;
  errors: string[];
}

/** Records uplinks; offers downlinks. */
export class RecordingLink implements LinkPort {
  readonly messages: LinkedMessage[] = [];
  readonly downlinks: LinkDownlink[] = [];
  maxPayloadBytes: number;
  readonly #clock: VirtualClock;
  flushes = 0;

  constructor(clock: VirtualClock, maxPayloadBytes = 51) {
    this.#clock = clock;
    this.maxPayloadBytes = maxPayloadBytes;
  }

  submit(port: number, bytes: Uint8Array, length: number, kind: MessageKind): boolean {
    if (length > this.maxPayloadBytes) throw new Error(`node submitted ${length} bytes, more than the link's ${this.maxPayloadBytes}`);
    const copy = Array.from(bytes.subarray(0, length));
    const r = decodeUplink({ bytes: copy, fPort: port });
    this.messages.push({ atMs: this.#clock.nowMs, port, bytes: copy, kind, data: r.data as Record<string, unknown> | undefined, errors: r.errors });
    return true;
  }

  maxPayload(): number {
    return this.maxPayloadBytes;
  }

  takeDownlink(): LinkDownlink | undefined {
    return this.downlinks.shift();
  }

  downlinksWaiting(): number {
    return this.downlinks.length;
  }

  queueDepth(): number {
    return 0;
  }

  dropped(): number {
    return 0;
  }

  flush(): void {
    this.flushes++;
  }

  /** Messages of one type (`messageType` of the decoded data). */
  ofType(type: string): LinkedMessage[] {
    return this.messages.filter((m) => m.data?.messageType === type);
  }
}
