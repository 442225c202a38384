/**
 * A node's life around the link for tests: a simulated board (flash via the
 * stand-in `preference`, virtual clock), the fake modem, RTC memory as an
 * Int32Array that survives "deep sleep" and is wiped by a power cut, and a
 * fresh `LoRaWanLink` per wake, as on the ESP32 where every wake is a boot.
 */
import { Board, MANIFEST_NVS_BYTES, setCurrentBoard } from "../../../simulator/src/core/board.ts";
import { Rng } from "../../../simulator/src/core/rng.ts";
import { LINK_RETAINED_WORDS, LoRaWanLink, type LoRaWanLinkOptions } from "../../../firmware/src/link/session.ts";
import type { ModemSettings, Region } from "../../../firmware/src/drivers/lora-modem.ts";
import { encodeRecord } from "../../../codecs/src/codec.ts";
import { decodeUplink } from "../../../codecs/src/index.ts";
import { FakeModem, type FakeModemOptions } from "./fake-modem.ts";

/** Random test keys (never real ones). */
export function randomKeys(rng: Rng): { appKey: string; joinEui: string; devEui: string } {
  const hex = (n: number) => {
    let s = "";
    for (let i = 0; i < n; i++) s += "0123456789ABCDEF"[rng.int(0, 15)];
    return s;
  };
  return { appKey: hex(32), joinEui: hex(16), devEui: hex(16) };
}

export interface RigOptions extends Omit<FakeModemOptions, "clock"> {
  seed?: number;
  region?: Region;
  dataRate?: number;
  adr?: boolean;
  link?: Partial<LoRaWanLinkOptions>;
}

export class LinkRig {
  readonly board: Board;
  readonly modem: FakeModem;
  readonly settings: ModemSettings;
  readonly retained = new Int32Array(LINK_RETAINED_WORDS);
  readonly rng: Rng;
  readonly options: RigOptions;
  link: LoRaWanLink | undefined;
  boots = 0;

  constructor(options: RigOptions = {}) {
    this.options = options;
    this.rng = new Rng(options.seed ?? 1);
    this.board = new Board(undefined, options.seed ?? 1);
    // The shipped builds' 64 KB NVS partition, which the link's default 48-page queue needs (manifests/partitions.csv).
    this.board.nvsBytes = MANIFEST_NVS_BYTES;
    this.modem = new FakeModem({ ...options, clock: this.board.clock, seed: (options.seed ?? 1) + 7 });
    const keys = randomKeys(this.rng);
    this.settings = { region: options.region ?? "EU868", ...keys, adr: options.adr ?? false, dataRate: options.dataRate ?? 5 };
  }

  get nowMs(): number {
    return this.board.clock.nowMs;
  }

  /** Boots the firmware: a new link from RTC memory and flash. */
  boot(): LoRaWanLink {
    setCurrentBoard(this.board);
    this.boots++;
    this.link = new LoRaWanLink({
      modem: this.modem,
      settings: this.settings,
      nowMs: () => Math.floor(this.board.clock.nowMs),
      delay: (ms) => this.board.clock.advance(ms),
      random: () => this.rng.nextU32(),
      retained: this.retained,
      ...this.options.link,
    });
    return this.link;
  }

  /** One wake: boot, run `body`, and (implicitly) deep sleep. */
  wake<T>(body: (link: LoRaWanLink) => T): T {
    const link = this.boot();
    try {
      return body(link);
    } finally {
      setCurrentBoard(undefined);
    }
  }

  /** The battery was disconnected: RTC memory is gone. */
  powerCut(): void {
    this.retained.fill(0);
  }

  sleepUntil(ms: number): void {
    this.board.clock.advanceTo(ms);
  }
}

const scratch = new Uint8Array(64);

/** A water-node routine reading (11 bytes) whose meter total carries `id`, so each reading is recognisable. */
export function waterReading(id: number): Uint8Array {
  const n = encodeRecord(4, { flowMlMin: 100, volumeMl: 1500, totalL: id, minNightFlowMlMin: 0, leak: false, burst: false, batteryMv: 3600 }, scratch, 0, 11);
  return scratch.slice(0, n);
}

/** A level-node routine reading (8 bytes) with `id` in its distance. */
export function levelReading(id: number): Uint8Array {
  const n = encodeRecord(7, { distanceMm: id % 8000, fillHalfPct: 100, fillRateHalfPctPerH: 0, tiltDeg: 2, lidOpen: false, tipped: false, emptied: false, temperatureDeciC: 150, batteryMv: 3600 }, scratch, 0, 8);
  return scratch.slice(0, n);
}

/** An air-node routine reading with extension (17 bytes); `id` in the CO2 value. */
export function airReading(id: number, withExt = true): Uint8Array {
  const rec = { co2Ppm: id % 40000, pm25DeciUgm3: 55, pm10DeciUgm3: 80, temperatureDeciC: 215, humidityHalfPct: 90, aqi: 23, aqiCategory: 0, batteryMv: 3600, pm1DeciUgm3: withExt ? 30 : undefined, pm4DeciUgm3: withExt ? 60 : undefined, vocIndex: withExt ? 100 : undefined, noxIndex: withExt ? 1 : undefined };
  const n = encodeRecord(1, rec, scratch, 0, 17);
  return scratch.slice(0, n);
}

/** A water alarm (15 bytes) with `id` as the meter total and `ageS` already elapsed. */
export function waterAlarm(id: number, ageS = 0): Uint8Array {
  const n = encodeRecord(5, { event: 0, ageS, flowMlMin: 50, volumeMl: 10, totalL: id, minNightFlowMlMin: 40, leak: true, burst: false, batteryMv: 3600 }, scratch, 0, 51);
  return scratch.slice(0, n);
}

/** A received reading as the backend sees it. */
export interface Arrival {
  /** What identifies the reading (meter total, distance or CO2). */
  id: number;
  /** Measurement time the backend computes: receive time − ageS (ms), or the receive time for plain readings. */
  measuredMs: number;
  port: number;
  queueOverflow: boolean;
}

/** Decodes what the network received into readings, in arrival order. */
export function arrivals(delivered: { atMs: number; port: number; bytes: number[] }[]): Arrival[] {
  const out: Arrival[] = [];
  for (const d of delivered) {
    const r = decodeUplink({ bytes: d.bytes, fPort: d.port });
    if (r.errors && r.errors.length) throw new Error("undecodable uplink on port " + d.port + ": " + r.errors.join("; "));
    const data = r.data as Record<string, unknown>;
    const idOf = (x: Record<string, unknown>) => (x.totalL ?? x.distanceMm ?? x.co2Ppm) as number;
    if (Array.isArray(data.readings)) {
      for (const e of data.readings as Record<string, unknown>[]) out.push({ id: idOf(e), measuredMs: d.atMs - (e.ageS as number) * 1000, port: d.port, queueOverflow: e.queueOverflow === true });
    } else if (d.port === 1 || d.port === 4 || d.port === 7) {
      out.push({ id: idOf(data), measuredMs: d.atMs, port: d.port, queueOverflow: data.queueOverflow === true });
    }
  }
  return out;
}
