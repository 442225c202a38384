/**
 * Inside XS: a synchronous call to the Node side of the engine, over xsnap's
 * `issueCommand` (the worker blocks until the host answers). Both ways carry
 * boundary text (wire.ts).
 */
import { decodeWire, encodeWire } from "./wire.ts";

type IssueCommand = (request: ArrayBuffer) => ArrayBuffer;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Sends `message` to the host and returns its answer. */
export function callHost<T>(message: unknown): T {
  const issue = (globalThis as unknown as { issueCommand?: IssueCommand }).issueCommand;
  if (!issue) throw new Error("callHost: not running in an xsnap worker (no issueCommand)");
  const bytes = encoder.encode(encodeWire(message));
  const reply = issue(bytes.byteLength === bytes.buffer.byteLength ? (bytes.buffer as ArrayBuffer) : (bytes.slice().buffer as ArrayBuffer));
  return decodeWire<T>(decoder.decode(reply));
}
