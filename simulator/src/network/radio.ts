/**
 * The boundary between modem emulators and the simulated LoRaWAN network: a
 * modem emulator hands each frame it transmits to the medium, which decides
 * (path loss, sensitivity, collisions, gateways, network server) whether and
 * what answers in RX1/RX2.
 */

/** One LoRa transmission from a device. */
export interface Transmission {
  /** Identifies the transmitting device (its DevEUI, hex). */
  devEui: string;
  /** Complete PHYPayload (MHDR … MIC), as built with real LoRaWAN crypto. */
  phyPayload: Uint8Array;
  region: string;
  dataRate: number;
  spreadingFactor: number;
  bandwidthHz: number;
  frequencyHz: number;
  txPowerDbm: number;
  /** Virtual start time (ms). */
  startMs: number;
  /** Time on air (ms), from the Semtech formula. */
  airtimeMs: number;
}

/** A downlink frame delivered to the device in one of its receive windows. */
export interface Reception {
  phyPayload: Uint8Array;
  window: 1 | 2;
  /** Virtual time at which the frame ends at the device (ms). */
  atMs: number;
  rssi: number;
  snr: number;
}

/**
 * What the modem emulator transmits into. A modem calls `transmit` as soon as
 * it decides to send, so `startMs` may lie ahead of the caller's clock, and
 * calls from different nodes of a fleet need not come in virtual-time order:
 * the medium resolves each frame against all frames it has seen so far (see
 * `SimNetwork` for what that approximation means).
 */
export interface RadioMedium {
  /** Transmits a frame; returns the downlink the device receives in RX1/RX2, if any (decided now, delivered at `atMs`). */
  transmit(tx: Transmission): Reception | undefined;
}
