/**
 * Byte-level emulator of a Maxim DS18B20 1-Wire thermometer (externally
 * powered), written from the datasheet independently of the firmware driver.
 *
 * What it models: the 64-bit ROM code (family 0x28, a random 48-bit serial,
 * Dallas CRC-8); ROM commands READ ROM 0x33, MATCH ROM 0x55, SKIP ROM 0xCC
 * (SEARCH is answered by the bus stand-in from `romCode()`); function commands
 * CONVERT T 0x44 (93.75 / 187.5 / 375 / 750 ms at 9–12 bits, read slots low
 * until done), READ SCRATCHPAD 0xBE (9 bytes, the last a CRC of the eight
 * before; the host may stop early), WRITE SCRATCHPAD 0x4E (TH, TL, config),
 * COPY SCRATCHPAD 0x48 and RECALL E² 0xB8 (TH, TL and config in EEPROM),
 * READ POWER SUPPLY 0xB4. The temperature register holds 1/16 °C in two's
 * complement, with the bits below the resolution at 0, and reads +85 °C
 * (0x0550) after power-up until a conversion ends. The configuration register
 * is 0b0RR11111.
 *
 * Physics: the water temperature plus the chip's own offset (within the
 * datasheet's ±0.5 °C) and a little noise, quantised to the resolution.
 *
 * Power: with `powered: false` it starts unpowered and follows `setPower` (the
 * node's switched 3V3): unpowered it gives no presence pulse and leaves the
 * bus high; each power-up restores the scratchpad from EEPROM and the +85 °C
 * power-on value.
 *
 * Faults: "absent" (no presence pulse: a cut cable), "shorted" (DQ held low:
 * presence always, every read slot 0), "corrupt-crc" (a bit flipped in a
 * scratchpad read), "no-conversion" (CONVERT T is ignored, as after a brown-out
 * during it, so the power-on value stays).
 */
import { FaultBook } from "./fault-book.ts";
import type { OneWireDevice } from "../core/board.ts";
import type { VirtualClock } from "../core/clock.ts";
import type { Rng } from "../core/rng.ts";

/** Faults the emulator can be told to show. */
export type Ds18b20Fault = "absent" | "shorted" | "corrupt-crc" | "no-conversion";

/** Parameters of an injected fault. */
export interface Ds18b20FaultOptions {
  /** corrupt-crc: scratchpad reads to corrupt (default 1 unless `probability` is given). */
  count?: number;
  /** corrupt-crc: corrupt each read with this probability instead. */
  probability?: number;
}

/** Construction parameters. */
export interface Ds18b20Options {
  rng: Rng;
  clock: VirtualClock;
  /** The temperature at the probe, °C, at virtual time `tMs`. */
  temperatureC: (tMs: number) => number;
  /** Powered from the start (default true); false: off until `setPower(true)`. */
  powered?: boolean;
  /** The chip's calibration offset, °C (default: drawn within ±0.3). */
  offsetC?: number;
}

/** Dallas/Maxim CRC-8 (x^8 + x^5 + x^4 + 1), bit-serial LSB first from 0, as the chip computes it. */
export function dallasCrc8(bytes: ArrayLike<number>, length = bytes.length): number {
  let crc = 0;
  for (let i = 0; i < length; i++) {
    let b = bytes[i];
    for (let bit = 0; bit < 8; bit++) {
      const mix = (crc ^ b) & 1;
      crc >>>= 1;
      if (mix) crc ^= 0x8c;
      b >>>= 1;
    }
  }
  return crc;
}

const CONVERSION_MS = [93.75, 187.5, 375, 750];
const POWER_ON_RAW = 0x0550;

type Phase = "idle" | "rom" | "match" | "function" | "write-scratchpad";

/** A DS18B20 on a 1-Wire bus; attach with `board.attachOneWire(pin, emulator)`. */
export class Ds18b20Emulator implements OneWireDevice {
  readonly #rng: Rng;
  readonly #clock: VirtualClock;
  readonly #temperatureC: (tMs: number) => number;
  readonly #offsetC: number;
  readonly #rom = new Uint8Array(8);
  readonly #scratchpad = new Uint8Array(9);
  /** TH, TL, config as kept in EEPROM. */
  readonly #eeprom = new Uint8Array([0x4b, 0x46, 0x7f]);
  readonly #faults = new FaultBook<Ds18b20Fault, Ds18b20FaultOptions>();
  #powered: boolean;
  #phase: Phase = "idle";
  #matched = 0;
  #written = 0;
  /** Bytes the chip will drive in the next read slots. */
  #out: number[] = [];
  /** End of the conversion in progress, or -1. */
  #convertingUntil = -1;
  /** Conversions completed (what tests check the driver waited for). */
  conversions = 0;

  constructor(options: Ds18b20Options) {
    this.#rng = options.rng;
    this.#clock = options.clock;
    this.#temperatureC = options.temperatureC;
    this.#offsetC = options.offsetC ?? (this.#rng.next() - 0.5) * 0.6;
    this.#rom[0] = 0x28;
    for (let i = 1; i < 7; i++) this.#rom[i] = this.#rng.int(0, 255);
    this.#rom[7] = dallasCrc8(this.#rom, 7);
    this.#powered = options.powered !== false;
    if (this.#powered) this.#powerOn();
  }

  /** The 64-bit ROM code, family code first, CRC last. */
  romCode(): Uint8Array {
    return this.#rom.slice();
  }

  /** The scratchpad as the chip holds it now (a copy). */
  get scratchpad(): Uint8Array {
    this.#finishConversion();
    return this.#scratchpad.slice();
  }

  /** Whether the chip has power. */
  get powered(): boolean {
    return this.#powered;
  }

  /** Switches the chip's supply; switching it on starts it as at power-up. */
  setPower(on: boolean): void {
    if (on === this.#powered) return;
    this.#powered = on;
    this.#phase = "idle";
    this.#out = [];
    this.#convertingUntil = -1;
    if (on) this.#powerOn();
  }

  /** Starts showing `fault` until `clear(fault)`. */
  inject(fault: Ds18b20Fault, options: Ds18b20FaultOptions = {}): void {
    this.#faults.arm(fault, options);
  }

  /** Stops showing `fault` (all faults when omitted). */
  clear(fault?: Ds18b20Fault): void {
    if (fault) this.#faults.delete(fault);
    else this.#faults.clear();
  }

  reset(): boolean {
    if (this.#faults.has("shorted")) return true;
    if (!this.#powered || this.#faults.has("absent")) return false;
    this.#finishConversion();
    this.#phase = "rom";
    this.#out = [];
    return true;
  }

  writeByte(byte: number): void {
    if (!this.#powered || this.#faults.has("absent") || this.#faults.has("shorted")) return;
    switch (this.#phase) {
      case "rom":
        if (byte === 0xcc) this.#phase = "function";
        else if (byte === 0x33) {
          this.#out = [...this.#rom];
          this.#phase = "function";
        } else if (byte === 0x55) {
          this.#phase = "match";
          this.#matched = 0;
        } else this.#phase = "idle";
        return;
      case "match":
        if (byte !== this.#rom[this.#matched]) {
          this.#phase = "idle";
          return;
        }
        if (++this.#matched === 8) this.#phase = "function";
        return;
      case "function":
        this.#function(byte);
        return;
      case "write-scratchpad":
        if (this.#written === 2) byte = (byte & 0x60) | 0x1f;
        this.#scratchpad[2 + this.#written] = byte;
        if (++this.#written === 3) {
          this.#scratchpad[8] = dallasCrc8(this.#scratchpad, 8);
          this.#phase = "idle";
        }
        return;
      default:
        return;
    }
  }

  readByte(): number {
    if (this.#faults.has("shorted")) return 0;
    if (!this.#powered || this.#faults.has("absent")) return 0xff;
    const next = this.#out.shift();
    if (next !== undefined) return next;
    // Read slots during a conversion: 0 until it is done, then 1.
    if (this.#convertingUntil >= 0) return this.#clock.nowMs < this.#convertingUntil ? 0 : 0xff;
    return 0xff;
  }

  #function(command: number): void {
    this.#phase = "idle";
    this.#finishConversion();
    if (command === 0x44) {
      if (this.#faults.has("no-conversion")) return;
      this.#convertingUntil = this.#clock.nowMs + CONVERSION_MS[(this.#scratchpad[4] >> 5) & 3];
    } else if (command === 0xbe) {
      const bytes = [...this.#scratchpad];
      if (this.#faults.fires("corrupt-crc", this.#rng)) bytes[this.#rng.int(0, 8)] ^= 1 << this.#rng.int(0, 7);
      this.#out = bytes;
    } else if (command === 0x4e) {
      this.#phase = "write-scratchpad";
      this.#written = 0;
    } else if (command === 0x48) {
      this.#eeprom.set(this.#scratchpad.subarray(2, 5));
    } else if (command === 0xb8) {
      this.#scratchpad.set(this.#eeprom, 2);
      this.#scratchpad[8] = dallasCrc8(this.#scratchpad, 8);
    } else if (command === 0xb4) {
      this.#out = [0xff]; // externally powered: read slots high
    }
  }

  /** Completes a conversion whose time is up: the temperature register takes the probe's temperature. */
  #finishConversion(): void {
    if (this.#convertingUntil < 0 || this.#clock.nowMs < this.#convertingUntil) return;
    const at = this.#convertingUntil;
    this.#convertingUntil = -1;
    this.conversions++;
    const bits = ((this.#scratchpad[4] >> 5) & 3) + 9;
    const c = this.#temperatureC(at) + this.#offsetC + this.#rng.normal(0, 0.03);
    const step = 1 << (12 - bits);
    let raw = Math.round((Math.max(-55, Math.min(125, c)) * 16) / step) * step;
    raw &= 0xffff;
    this.#scratchpad[0] = raw & 0xff;
    this.#scratchpad[1] = raw >> 8;
    this.#scratchpad[8] = dallasCrc8(this.#scratchpad, 8);
  }

  #powerOn(): void {
    const s = this.#scratchpad;
    s[0] = POWER_ON_RAW & 0xff;
    s[1] = POWER_ON_RAW >> 8;
    s.set(this.#eeprom, 2);
    s[5] = 0xff;
    s[6] = 0x0c;
    s[7] = 0x10;
    s[8] = dallasCrc8(s, 8);
  }
}
