/** Why a sensor read failed; node apps count these per sensor and report them in the status uplink. */
export type SensorFault = "nack" | "crc" | "checksum" | "timeout" | "frame" | "range" | "stuck" | "busy" | "id";

/** Typed error every driver throws instead of returning a corrupt reading. */
export class SensorError extends Error {
  /** Machine-readable cause. */
  readonly fault: SensorFault;

  constructor(fault: SensorFault, message: string) {
    super(message);
    this.name = "SensorError";
    this.fault = fault;
  }
}

/** What `onBus` throws for exception `e` of transfer `what`: a SensorError as is, anything else as `SensorError("nack")`. */
export function busError(what: string, e: unknown): SensorError {
  if (e instanceof SensorError) return e;
  return new SensorError("nack", `${what}: ${(e as Error)?.message ?? String(e)}`);
}

/** Runs a bus transfer and turns a bus exception (NACK, missing device) into a `SensorError("nack")`. */
export function onBus<T>(what: string, transfer: () => T): T {
  try {
    return transfer();
  } catch (e) {
    throw busError(what, e);
  }
}
