/**
 * What every node's `main` does before its application runs: open the
 * LoRaWAN modem on the board's UART, build the link from the provisioned keys
 * (its state kept in its own RTC-memory segment), and give the application a
 * runtime with the battery voltage and the clocks. After a deep-sleep wake
 * the modem and the link are built only if the wake needs them (KeptLink):
 * every wake is a boot, and most have nothing to send.
 */
import Digital from "embedded:io/digital";
import Serial from "embedded:io/serial";
import Analog from "embedded:io/analog";
import Timer from "timer";
import { rtcMs, randomU32 } from "native:rtc";
import type { BoardConfig } from "../boards/index.ts";
import type { LoRaModem, Region } from "../drivers/lora-modem.ts";
import WioE5 from "../drivers/wio-e5.ts";
import Rak3172 from "../drivers/rak3172.ts";
import {
  LoRaWanLink, LINK_RETAINED_WORDS, linkMaxPayload, retainedDataRate, retainedDropped, retainedJoined, retainedLinkWarm, retainedQueueDepth, retainedSnapshotDue,
} from "../link/session.ts";
import { readKeys, ProvisioningConsole, type LoRaWanKeys } from "../link/provisioning.ts";
import { resetReason } from "native:sleep";
import { RetainedState } from "./retained-state.ts";
import { platformRuntime, type NodeRuntime } from "./runtime.ts";
import type { LinkPort, LinkDownlink, MessageKind } from "./link-port.ts";

/** Radio settings from the manifest's `config`. */
export interface RadioConfig {
  modem: "wio-e5" | "rak3172";
  region: Region;
  adr: boolean;
  dataRate: number;
  /** Sealed pages of the flash queue, sized to the NVS partition (`queuePagesFor`). */
  queuePages: number;
}

/**
 * Queue pages that fit an NVS partition of `nvsBytes` (the manifest's `config.nvsBytes`, the partition table's
 * nvs size): the full ring of 48 (about 830 entries) needs the 64 KB partition manifests/partitions.csv gives;
 * in Moddable's default 24 KB (630 entries, one page kept free; also what a build without `nvsBytes` has) only
 * 16 fit (uplink-queue.ts). A ring that does
 * not fit stops sealing pages once the partition is full, and every routine reading is refused from then on.
 */
export function queuePagesFor(nvsBytes: unknown): number {
  return typeof nvsBytes === "number" && nvsBytes >= 0x10000 ? 48 : 16;
}

const LINK_LAYOUT = 0x4c4e4b03; // "LNK" v3: v2 (v1 plus the downlink stash) with each downlink's arrival time
/**
 * The modem remembers its session while the MCU sleeps, and stays in
 * low-power mode until it is spoken to; the driver is told both at each boot
 * (bit 0: joined, bit 1: asleep), so a wake with nothing to send never
 * touches the modem's UART.
 */
const MODEM_WORD = 0;
const MODEM_JOINED = 1;
const MODEM_ASLEEP = 2;
/** MODEM_WORD bits 4–7: flushes in a row whose probe the modem did not answer. */
const MODEM_SILENT_SHIFT = 4;
/** A modem silent this many flushes in a row is reset through its RST line (a locked-up module answers nothing until then). */
export const MODEM_RESET_AFTER = 3;
/** How long RST is held low, ms (the module's MCU needs microseconds; this leaves margin for the line's RC). */
const MODEM_RESET_MS = 10;
/**
 * Downlinks received during a flush, kept for the next boot: the node apps
 * take downlinks at the start of a wake, but the link holds what it received
 * in RAM only, which deep sleep clears. Word 1 counts them; each slot is a
 * word (port | length << 8), the RTC second it arrived (so a setTime can be
 * put forward by the sleep) and DOWNLINK_BYTES bytes. Longer downlinks are
 * cut (no command is longer than 11 bytes, so the app answers "malformed");
 * beyond DOWNLINK_SLOTS in one wake, later ones are dropped. A power cut
 * loses them: no config ack tells the operator to send the command again.
 */
const STASH_WORD = 1;
const DOWNLINK_SLOTS = 3;
const DOWNLINK_BYTES = 16;
const SLOT_WORDS = 2 + DOWNLINK_BYTES / 4;
const KEPT_WORDS = STASH_WORD + 1 + DOWNLINK_SLOTS * SLOT_WORDS;

/** A LinkPort for a node that has no keys yet: it senses and acts locally, and says why nothing is sent. */
class UnprovisionedLink implements LinkPort {
  submit(_port: number, _bytes: Uint8Array, _length: number, _kind: MessageKind): boolean {
    return false;
  }
  maxPayload(): number {
    return 51;
  }
  takeDownlink(): LinkDownlink | undefined {
    return undefined;
  }
  downlinksWaiting(): number {
    return 0;
  }
  queueDepth(): number {
    return 0;
  }
  dropped(): number {
    return 0;
  }
  flush(): void {}
}

/**
 * The LoRaWAN link, keeping its RTC-memory segment up to date after every
 * flush, and the downlinks it received for the next boot.
 *
 * Built lazily: after a deep-sleep wake with warm link words, the modem
 * driver and the LoRaWanLink (flash reads, ledgers, the keys) are built only
 * when the wake submits a message, or flushes with something to do: messages
 * queued, a flash snapshot owed, or a modem that is not asleep. Until then
 * the queue depth, dropped count and data rate come from the words, which are
 * exactly what the link would restore; a wake that does neither leaves the
 * link's words as they were and keeps the segment only if the downlink stash
 * changed.
 */
class KeptLink implements LinkPort {
  readonly #state: RetainedState;
  readonly #board: BoardConfig;
  readonly #radio: RadioConfig;
  /** The segment was restored from RTC memory (the modem word is valid). */
  readonly #warm: boolean;
  #keys: LoRaWanKeys | undefined;
  #link: LoRaWanLink | undefined;
  #modem: LoRaModem | undefined;
  /** The keys were gone when the link was needed: nothing is sent (as unprovisioned), and the next boot starts cold. */
  #dead = false;
  /** The stash held downlinks at boot (so the segment changes at the flush even if the link is not built). */
  readonly #stashed: boolean;
  /** Downlinks received before this boot, not yet taken. */
  readonly #kept: LinkDownlink[] = [];

  /** `keys` given: the link is built now; undefined: when first needed (warm words after a deep-sleep wake only). */
  constructor(state: RetainedState, warm: boolean, board: BoardConfig, radio: RadioConfig, keys: LoRaWanKeys | undefined) {
    this.#state = state;
    this.#warm = warm;
    this.#board = board;
    this.#radio = radio;
    this.#keys = keys;
    if (keys) this.#open();
    const w = state.words;
    const base = LINK_RETAINED_WORDS + STASH_WORD;
    const n = w[base] >= 0 && w[base] <= DOWNLINK_SLOTS ? w[base] : 0;
    for (let i = 0; i < n; i++) {
      const at = base + 1 + i * SLOT_WORDS;
      const port = w[at] & 0xff;
      const length = (w[at] >> 8) & 0xff;
      if (port < 1 || length > DOWNLINK_BYTES) continue;
      const bytes = new Uint8Array(length);
      for (let k = 0; k < length; k++) bytes[k] = (w[at + 2 + (k >> 2)] >>> ((k & 3) * 8)) & 0xff;
      this.#kept.push({ port, bytes, atS: w[at + 1] });
    }
    this.#stashed = w[base] !== 0;
    w[base] = 0;
  }

  /** Builds the modem driver and the link (once); undefined when the keys are gone. */
  #open(): LoRaWanLink | undefined {
    if (this.#link || this.#dead) return this.#link;
    const keys = this.#keys ?? readKeys();
    if (!keys) {
      // Only flash damage gets here (keys change only on the console, which runs after a power-on). Make the
      // next boot a cold one, which runs the console window and treats the node as unprovisioned.
      this.#dead = true;
      this.#state.words.fill(0, 0, LINK_RETAINED_WORDS);
      return undefined;
    }
    const state = this.#state;
    const radio = this.#radio;
    const pins = this.#board.modem;
    const word = this.#warm ? state.words[LINK_RETAINED_WORDS + MODEM_WORD] : 0;
    const joined = (word & MODEM_JOINED) !== 0;
    const asleep = (word & MODEM_ASLEEP) !== 0;
    const modem: LoRaModem = radio.modem === "rak3172"
      ? new Rak3172({ modem: { io: Serial, receive: pins.receive, transmit: pins.transmit, port: pins.port }, asleep })
      : new WioE5({ modem: { io: Serial, receive: pins.receive, transmit: pins.transmit, port: pins.port }, joined, asleep });
    this.#modem = modem;
    this.#link = new LoRaWanLink({
      modem,
      settings: { region: radio.region, appKey: keys.appKey, joinEui: keys.joinEui, devEui: keys.devEui, adr: radio.adr, dataRate: radio.dataRate },
      nowMs: rtcMs,
      delay,
      random: randomU32,
      retained: state.words.subarray(0, LINK_RETAINED_WORDS),
      queuePages: radio.queuePages,
    });
    return this.#link;
  }

  submit(port: number, bytes: Uint8Array, length: number, kind: MessageKind): boolean {
    const link = this.#open();
    return link ? link.submit(port, bytes, length, kind) : false;
  }
  maxPayload(): number {
    if (this.#link) return this.#link.maxPayload();
    return this.#dead ? 51 : linkMaxPayload(this.#radio.region, retainedDataRate(this.#state.words));
  }
  takeDownlink(): LinkDownlink | undefined {
    return this.#kept.shift() ?? this.#link?.takeDownlink();
  }
  downlinksWaiting(): number {
    return this.#kept.length + (this.#link?.downlinksWaiting() ?? 0);
  }
  queueDepth(): number {
    if (this.#link) return this.#link.queueDepth();
    return this.#dead ? 0 : retainedQueueDepth(this.#state.words, this.#radio.queuePages);
  }
  dropped(): number {
    if (this.#link) return this.#link.dropped();
    return this.#dead ? 0 : retainedDropped(this.#state.words);
  }
  flush(): void {
    const w = this.#state.words;
    if (!this.#link && !this.#dead) {
      // What LoRaWanLink.flush would do besides saving the same words: send, write a snapshot, or put the modem to sleep.
      const word = w[LINK_RETAINED_WORDS + MODEM_WORD];
      const recorded = (retainedJoined(w) ? MODEM_JOINED : 0) | MODEM_ASLEEP;
      if (retainedQueueDepth(w, this.#radio.queuePages) > 0 || retainedSnapshotDue(w) || word !== recorded) this.#open();
    }
    const link = this.#link;
    const modem = this.#modem;
    if (link) {
      link.flush();
      for (let d = link.takeDownlink(); d; d = link.takeDownlink()) this.#kept.push(d);
    }
    const base = LINK_RETAINED_WORDS + STASH_WORD;
    let n = 0;
    for (; n < this.#kept.length && n < DOWNLINK_SLOTS; n++) {
      const d = this.#kept[n];
      const at = base + 1 + n * SLOT_WORDS;
      const length = d.bytes.length < DOWNLINK_BYTES ? d.bytes.length : DOWNLINK_BYTES;
      w[at] = (d.port & 0xff) | (length << 8);
      w[at + 1] = d.atS ?? Math.floor(rtcMs() / 1000);
      for (let k = 0; k < SLOT_WORDS - 2; k++) w[at + 2 + k] = 0;
      for (let k = 0; k < length; k++) w[at + 2 + (k >> 2)] |= d.bytes[k] << ((k & 3) * 8);
    }
    w[base] = n;
    if (!link || !modem) {
      // The link's words are as restored and the modem word what a flush would write (joined as recorded, asleep):
      // RTC memory holds all of it already, unless the stash moved (or the keys were found gone).
      if (this.#dead || this.#stashed || n > 0) this.#state.keep();
      return;
    }
    let silent = (w[LINK_RETAINED_WORDS + MODEM_WORD] >> MODEM_SILENT_SHIFT) & 15;
    if (link.modemHeard === false) silent++;
    else if (link.modemHeard) silent = 0;
    let asleep = false;
    if (silent >= MODEM_RESET_AFTER) {
      resetModem(this.#board.modem.reset);
      // It boots awake and without its session; the link finds that out at its next send and joins again.
      silent = 0;
    } else {
      try {
        modem.sleep();
      } catch {
        // A modem that will not sleep costs power, not data; the next boot probes it again.
      }
      asleep = modem.asleep === true;
    }
    modem.close();
    w[LINK_RETAINED_WORDS + MODEM_WORD] = (link.joined ? MODEM_JOINED : 0) | (asleep ? MODEM_ASLEEP : 0) | (silent << MODEM_SILENT_SHIFT);
    this.#state.keep();
  }
}

function delay(ms: number): void {
  Timer.delay(ms);
}

/** Pulses the modem's RST line (open drain, active low; the module pulls it up). */
function resetModem(pin: number): void {
  const rst = new Digital({ pin, mode: Digital.OutputOpenDrain });
  rst.write(0);
  Timer.delay(MODEM_RESET_MS);
  rst.write(1);
  rst.close();
}

/**
 * Full scale of the battery pin's ADC, mV. Moddable's ESP32 Analog (modules/io/analog/esp32/_analog.c) reads
 * at 12 dB attenuation by default, calibrates the raw count to millivolts and scales those back so that
 * 2^resolution − 1 is the attenuation's range, 2450 mV: the cell's 3.6 V halved by the divider is 1.8 V there.
 */
const BATTERY_ADC_FULL_SCALE_MV = 2450;

/**
 * Below this at the cell there is no battery (a mains node's grounded sense pin): the calibrated ESP32 ADC never
 * reads 0, its line fit puts about 142 mV at the pin for 0 V (ESP-IDF adc_cali_line_fitting, 12 dB), and no cell
 * that powers the node reads under 2 V.
 */
const NO_BATTERY_MV = 1000;

/** Battery voltage in mV from the board's divider, or undefined when the ADC reads nothing (mains power). */
function batteryReader(board: BoardConfig): () => number | undefined {
  return () => {
    const adc = new Analog({ pin: board.battery.pin, esp32: { attenuation: 12 } });
    const raw = adc.read();
    const max = (1 << adc.resolution) - 1;
    adc.close();
    const mv = Math.trunc((raw * BATTERY_ADC_FULL_SCALE_MV * board.battery.dividerNum) / (max * board.battery.dividerDen));
    return mv < NO_BATTERY_MV ? undefined : mv;
  };
}

/** After a power-on the console listens this long for provisioning commands; while unprovisioned, longer. */
const CONSOLE_WINDOW_MS = 5000;
const UNPROVISIONED_WINDOW_MS = 60000;

function ascii(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0x7f;
  return out;
}

/**
 * The provisioning window on the USB serial console (115200 8N1): after a
 * power-on (not after deep-sleep wakes) the node prompts and accepts
 * `provision …`, `status` and `unprovision` lines for a few seconds, and for a
 * minute at a time while it has no keys. See firmware/src/link/README.md.
 */
export function consoleWindow(board: BoardConfig): void {
  if (resetReason() === "deep-sleep" && readKeys()) return;
  let serial: InstanceType<typeof Serial>;
  try {
    serial = new Serial({ receive: board.console.receive, transmit: board.console.transmit, port: board.console.port, baud: 115200, format: "buffer" });
  } catch {
    return; // the console is in use (e.g. by the debugger): provision over xsbug's console instead
  }
  const write = (text: string) => serial.write(ascii(text));
  const prov = new ProvisioningConsole(write);
  const provisioned = !!readKeys();
  write(provisioned ? "citysense: provisioned; commands: status, provision, unprovision\r\n" : "citysense: not provisioned: type provision <appkey> <joineui> [deveui]\r\n");
  const windowMs = provisioned ? CONSOLE_WINDOW_MS : UNPROVISIONED_WINDOW_MS;
  for (let waited = 0; waited < windowMs; waited += 50) {
    const data = serial.read();
    if (data) prov.feed(data as ArrayBuffer);
    if (!provisioned && readKeys()) break;
    Timer.delay(50);
  }
  serial.close();
}

/**
 * Opens the link for this boot and returns the node's runtime. After a
 * deep-sleep wake with the link's words warm in RTC memory the node was
 * provisioned when it last slept and no console has run since (it runs only
 * after a power-on or while unprovisioned), so neither the console nor the
 * keys are looked at; the link is built when the wake needs it (KeptLink).
 */
export function openRuntime(board: BoardConfig, radio: RadioConfig): NodeRuntime {
  const battery = batteryReader(board);
  const state = new RetainedState(LINK_LAYOUT, LINK_RETAINED_WORDS + KEPT_WORDS);
  const warm = state.restore();
  if (warm && resetReason() === "deep-sleep" && retainedLinkWarm(state.words, radio.queuePages, undefined, true)) {
    return platformRuntime(new KeptLink(state, warm, board, radio, undefined), battery);
  }
  consoleWindow(board);
  const keys = readKeys();
  if (!keys) {
    // Moddable's trace() goes to the serial console / xsbug; the simulator has none.
    (globalThis as { trace?: (text: string) => void }).trace?.("citysense: not provisioned: run `provision <appkey> <joineui>` on the console; sensing continues, nothing is sent\n");
    return platformRuntime(new UnprovisionedLink(), battery);
  }
  return platformRuntime(new KeptLink(state, warm, board, radio, keys), battery);
}

/** Reads the radio settings from `mc/config`, with EU868 Wio-E5 defaults. */
export function radioConfig(config: { readonly [key: string]: unknown }): RadioConfig {
  return {
    modem: config.modem === "rak3172" ? "rak3172" : "wio-e5",
    region: (["EU868", "US915", "AU915", "AS923"].indexOf(config.region as string) >= 0 ? config.region : "EU868") as Region,
    adr: config.adr !== false,
    dataRate: typeof config.dataRate === "number" ? config.dataRate : 5,
    queuePages: queuePagesFor(config.nvsBytes),
  };
}
