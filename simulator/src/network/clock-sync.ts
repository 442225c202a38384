/**
 * The application's side of the nodes' clock (codecs/PAYLOAD.md, "Setting the clock"): a node that reports
 * `clockUnsynced` is answered at once with a setTime stamped for the RX1 window the answer goes out in, as an
 * application on The Things Stack can within its 5 s RX1 delay. A fleet run's network server runs it unless the
 * scenario says `syncClocks: false`.
 */
import { encodeDownlink } from "../../../codecs/src/index.ts";
import { PORTS } from "../../../codecs/src/ports.ts";
import type { ApplicationUplink, QueuedDownlink } from "./network-server.ts";

/** How long the application waits for a node to apply its answer before answering clockUnsynced again. */
export const CLOCK_ANSWER_WAIT_MS = 3_600_000;

/**
 * An application answering `clockUnsynced` with setTime, once per CLOCK_ANSWER_WAIT_MS per node (the node applies it
 * at its next wake, and its uplinks in between still say unsynced). A setTime still queued (behind other downlinks,
 * or for want of a window) is stamped afresh at every uplink, so the one that goes out is never older than its reply.
 */
export function clockSync(): (u: ApplicationUplink) => QueuedDownlink | undefined {
  const answered = new Map<string, number>();
  return (u) => {
    const pending = u.queued.some((q) => q.fPort === PORTS.setTime);
    if (!pending) {
      if (u.decoded?.clockUnsynced !== true) return undefined;
      const last = answered.get(u.devEui);
      if (last !== undefined && u.rx1AtUnixMs - last < CLOCK_ANSWER_WAIT_MS) return undefined;
    }
    answered.set(u.devEui, u.rx1AtUnixMs);
    const r = encodeDownlink({ data: { command: "setTime", unixTimeS: Math.round(u.rx1AtUnixMs / 1000) } });
    return { fPort: r.fPort!, bytes: Uint8Array.from(r.bytes!) };
  };
}
