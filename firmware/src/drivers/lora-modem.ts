/**
 * The one interface above every LoRaWAN modem driver (Wio-E5, RAK3172), so a
 * node and the link session never know which modem is fitted. Calls are
 * synchronous: the driver polls its UART with `Timer.delay`, as on the board.
 */

/** LoRaWAN regions the firmware supports. */
export type Region = "EU868" | "US915" | "AU915" | "AS923";

/** Why a modem operation failed. */
export type ModemFault =
  | "not-joined" // network session missing (never joined, or the modem rebooted)
  | "busy" // modem busy (duty cycle wait, RX windows, previous command)
  | "no-channel" // no free channel (duty cycle)
  | "length" // payload too long for the data rate
  | "dr" // data rate not allowed
  | "param" // invalid parameter
  | "timeout" // no answer, or no final line, in time
  | "join-failed" // join request unanswered
  | "nack" // confirmed uplink got no ACK
  | "error"; // any other error line

/** Error thrown by modem drivers for a failed command. */
export class ModemError extends Error {
  readonly fault: ModemFault;
  constructor(fault: ModemFault, message: string) {
    super(message);
    this.name = "ModemError";
    this.fault = fault;
  }
}

/** Settings for `LoRaModem.configure`. Keys come from provisioning (preference), never from source. */
export interface ModemSettings {
  region: Region;
  /** 16-byte AppKey as 32 hex digits. */
  appKey: string;
  /** JoinEUI/AppEUI as 16 hex digits (optional: modem default). */
  joinEui?: string;
  /** DevEUI as 16 hex digits (optional: the modem's factory EUI). */
  devEui?: string;
  /** Adaptive data rate on/off. */
  adr: boolean;
  /** Data rate to use when ADR is off (region's DR numbering). */
  dataRate: number;
}

/** A downlink the modem received in RX1/RX2. */
export interface ModemDownlink {
  port: number;
  bytes: Uint8Array;
  rssi: number;
  snr: number;
}

/** Outcome of an uplink. */
export interface SendResult {
  /** For confirmed uplinks: whether the network acknowledged it. Unconfirmed uplinks report true once transmitted. */
  acked: boolean;
  /** Downlink received in the RX windows, if any. */
  downlink?: ModemDownlink;
  /** The network has more downlinks queued (FPending). */
  pending: boolean;
}

/** A LoRaWAN modem on a UART, speaking its AT command set. */
export interface LoRaModem {
  /** Model name, e.g. "wio-e5" or "rak3172". */
  readonly model: string;
  /** Wakes the modem and checks it answers; throws ModemError("timeout") if it does not. */
  probe(): void;
  /** The modem's DevEUI (16 hex digits, upper case). */
  devEui(): string;
  /** Applies region, keys, OTAA mode, ADR and data rate. */
  configure(settings: ModemSettings): void;
  /** Sends one join request and waits for the outcome; true when joined. Throws ModemError for other failures. */
  join(): boolean;
  /** Whether the modem holds a network session (false after a modem reboot). */
  joined(): boolean;
  /**
   * Sends `length` bytes of `bytes` on `port`; throws ModemError on failure (e.g. "nack" for an unacknowledged
   * confirmed uplink). `quietMs`: the modem reports nothing more about this uplink for at least this long once it
   * has taken it (its time on air and the RX1 delay), so the driver waits instead of polling the UART meanwhile.
   */
  send(port: number, bytes: Uint8Array, length: number, confirmed: boolean, quietMs?: number): SendResult;
  /** The data rate the modem will use next (after ADR). */
  dataRate(): number;
  /** Sets the data rate (with ADR off). */
  setDataRate(dr: number): void;
  /** Puts the modem in its low-power mode until the next command (nothing to do when it is known to be asleep). */
  sleep(): void;
  /** Whether the driver knows the modem to be in low-power mode (it put it there, or was told so at construction). */
  readonly asleep?: boolean;
  /** Releases the UART. */
  close(): void;
}

/** Checks a region name before it reaches the modem; throws ModemError("param"). */
export function checkRegion(region: Region): Region {
  if (region !== "EU868" && region !== "US915" && region !== "AU915" && region !== "AS923") {
    throw new ModemError("param", `unsupported region ${String(region)}`);
  }
  return region;
}

/** Checks an EUI or key of `digits` hex digits and returns it upper-case; throws ModemError("param"). */
export function checkHex(value: string, digits: number, what: string): string {
  if (typeof value !== "string" || value.length !== digits || !/^[0-9A-Fa-f]+$/.test(value)) {
    throw new ModemError("param", `${what} must be ${digits} hex digits`);
  }
  return value.toUpperCase();
}

/** Checks a data-rate index; throws ModemError("param"). */
export function checkDataRate(dr: number): void {
  if (!(Number.isInteger(dr) && dr >= 0 && dr <= 15)) throw new ModemError("param", `data rate ${dr} outside 0..15`);
}
