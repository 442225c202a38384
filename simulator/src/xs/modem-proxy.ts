/**
 * Inside XS, in place of the modem emulators (bundled instead of
 * network/wio-e5-emulator.ts and network/rak3172-emulator.ts): the node's
 * modem UART, forwarded to the real emulator on the Node side. The emulators
 * build and check LoRaWAN frames with lora-packet (Buffer, Node's crypto), so
 * they stay in Node with the network; the boundary is the UART, where the
 * bytes are the same on a real board.
 *
 * Every write of the firmware goes to the host with the board's virtual time;
 * the host answers with the reply lines the emulator queued (each with its
 * virtual start time), which are delivered to the board's serial link here.
 */
import type { SerialDevice, SerialLink } from "../core/board.ts";
import type { AtModemOptions, ModemFaultName } from "../network/at-modem.ts";
import { callHost } from "./host-call.ts";

/** What the modem printed during one call: [virtual start ms, hex bytes]. */
export type ModemOutput = [number, string][];

function toHex(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i++) s += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
  return s;
}

function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** The UART end of a modem emulator that runs on the Node side. */
class ModemProxy implements SerialDevice {
  readonly model: string;
  readonly devEui: string;
  /** UART rate of the emulated modem, as the host reports it. */
  readonly baud: number;
  #link: SerialLink | undefined;

  constructor(model: string, o: AtModemOptions) {
    if (!o.devEui) throw new Error("the XS modem proxy needs the DevEUI (SimNode always gives it)");
    this.model = model;
    this.devEui = o.devEui.toUpperCase();
    this.baud = callHost<{ baud: number }>({ op: "modem", model, devEui: this.devEui, region: o.region }).baud;
  }

  attach(link: SerialLink): void {
    this.#link = link;
  }

  serialWrite(bytes: Uint8Array, hostBaud: number): void {
    if (!this.#link) return;
    this.#deliver(callHost<ModemOutput>({ op: "uart", devEui: this.devEui, t: this.#link.clock.nowMs, hex: toHex(bytes), baud: hostBaud }));
  }

  /** Injects a fault into the emulator on the host (`reboot` prints its banner now). */
  inject(fault: ModemFaultName): void {
    this.#deliver(callHost<ModemOutput>({ op: "fault", devEui: this.devEui, t: this.#link?.clock.nowMs ?? 0, fault, on: true }));
  }

  /** Clears a fault of the emulator on the host. */
  clear(fault: ModemFaultName): void {
    this.#deliver(callHost<ModemOutput>({ op: "fault", devEui: this.devEui, t: this.#link?.clock.nowMs ?? 0, fault, on: false }));
  }

  #deliver(out: ModemOutput): void {
    for (const [atMs, hex] of out) this.#link?.deliver(fromHex(hex), atMs);
  }
}

/** The Wio-E5 on the modem UART, emulated on the Node side. */
export class WioE5Emulator extends ModemProxy {
  constructor(o: AtModemOptions) {
    super("wio-e5", o);
  }
}

/** The RAK3172 on the modem UART, emulated on the Node side. */
export class Rak3172Emulator extends ModemProxy {
  constructor(o: AtModemOptions) {
    super("rak3172", o);
  }
}
