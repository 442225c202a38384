/** Shared set-ups for the network tests: a network with one gateway and modems registered on it. */
import { SimNetwork, type SimNetworkOptions } from "../../../simulator/src/network/network.ts";
import { WioE5Emulator, type WioE5Options } from "../../../simulator/src/network/wio-e5-emulator.ts";
import { Rak3172Emulator, type Rak3172Options } from "../../../simulator/src/network/rak3172-emulator.ts";
import type { AtModem } from "../../../simulator/src/network/at-modem.ts";
import { AtHarness } from "./at-harness.ts";

export const APP_KEY = "2B7E151628AED2A6ABF7158809CF4F3C";
export const JOIN_EUI = "70B3D57ED0001234";

/** A quiet channel (no shadowing) so outcomes depend on geometry only. */
export function quietNetwork(o: SimNetworkOptions = {}): SimNetwork {
  return new SimNetwork({ seed: "test", channel: { shadowingSdDb: 0 }, ...o });
}

/** The air-quality worked example of codecs/PAYLOAD.md (fPort 1). */
export const AIR_READING_HEX = "026401EC0C94CEB63A2E20";

export type ModemKind = "wio-e5" | "rak3172";

/** A modem of `kind` on a board, placed `distanceM` from the gateway and registered with the server. */
export function modemOn(net: SimNetwork, kind: ModemKind, seed: string, distanceM = 100, extra: Partial<WioE5Options & Rak3172Options> = {}): AtHarness {
  const options = { medium: net, seed, appEui: JOIN_EUI, ...extra };
  const modem: AtModem = kind === "wio-e5" ? new WioE5Emulator(options) : new Rak3172Emulator(options);
  const h = new AtHarness(modem);
  net.placeDevice(modem.device.devEui, { x: distanceM, y: 0 });
  net.server.addDevice({ devEui: modem.device.devEui, joinEui: JOIN_EUI, appKey: APP_KEY });
  return h;
}

/** Reply patterns per modem for the common steps. */
export const DIALECT = {
  "wio-e5": {
    setup: (dr: number) => [`AT+KEY=APPKEY,"${APP_KEY}"`, "AT+MODE=LWOTAA", "AT+DR=EU868", `AT+DR=${dr}`, "AT+PORT=1"],
    setupDone: /^\+(KEY|MODE|DR|PORT): /,
    join: "AT+JOIN",
    joinDone: /^\+JOIN: Done$/,
    joined: /^\+JOIN: Network joined$/,
    send: (hex: string, confirmed: boolean) => `AT+${confirmed ? "C" : ""}MSGHEX="${hex}"`,
    sendDone: /^\+C?MSGHEX: (Done|.*error|.*first|No free channel|LoRaWAN modem is busy)/,
    notJoined: /Please join network first/,
  },
  rak3172: {
    setup: (dr: number) => ["AT+NWM=1", "AT+BAND=4", `AT+APPEUI=${JOIN_EUI}`, `AT+APPKEY=${APP_KEY}`, "AT+NJM=1", "AT+ADR=0", `AT+DR=${dr}`],
    setupDone: /^(OK|AT_[A-Z_]+)$/,
    join: "AT+JOIN=1:0:10:0",
    joinDone: /^\+EVT:(JOINED|JOIN_FAILED_RX_TIMEOUT)$/,
    joined: /^\+EVT:JOINED$/,
    send: (hex: string, confirmed: boolean) => `AT+CFM=${confirmed ? 1 : 0}\r\nAT+SEND=1:${hex}`,
    sendDone: /^(\+EVT:(TX_DONE|SEND_CONFIRMED_OK|SEND_CONFIRMED_FAILED)|AT_[A-Z_]+)$/,
    notJoined: /^AT_NO_NETWORK_JOINED$/,
  },
} as const;

/** Runs the setup commands of a modem (keys, OTAA, EU868, data rate). */
export function setUp(h: AtHarness, kind: ModemKind, dr = 5): void {
  const d = DIALECT[kind];
  for (const c of d.setup(dr)) h.command(c, d.setupDone, 5_000);
}

/** Joins; returns the reply lines. */
export function join(h: AtHarness, kind: ModemKind): string[] {
  return h.command(DIALECT[kind].join, DIALECT[kind].joinDone, 30_000);
}

/** Sends one uplink; returns the reply lines (for the RAK, the CFM line's OK comes first). */
export function send(h: AtHarness, kind: ModemKind, hex: string, confirmed = false): string[] {
  const d = DIALECT[kind];
  if (kind === "rak3172") {
    h.command(`AT+CFM=${confirmed ? 1 : 0}`, d.setupDone, 5_000);
    return h.command(`AT+SEND=1:${hex}`, d.sendDone, 120_000);
  }
  return h.command(d.send(hex, confirmed), d.sendDone, 120_000);
}

/** Lets virtual time run to `atMs` and drops whatever arrived meanwhile. */
export function idleUntil(h: AtHarness, atMs: number): void {
  h.advanceTo(atMs);
  h.read();
}
