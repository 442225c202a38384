/**
 * Maxim DS18B20 1-Wire thermometer, the only device on its bus, externally
 * powered (on the node's switched 3V3).
 *
 * `measure()` blocks: reset, SKIP ROM, WRITE SCRATCHPAD (the resolution is
 * volatile: a chip powered only for the reading starts at its EEPROM setting),
 * reset, SKIP ROM, CONVERT T, wait the conversion time of the resolution
 * (93.75 ms × 2^(bits − 9)) and then poll read slots until the chip releases
 * the bus, reset, SKIP ROM, READ SCRATCHPAD (9 bytes). Temperatures are integer
 * tenths of °C, rounded half away from zero from the register's 1/16 °C
 * two's complement, with the bits below the resolution masked.
 *
 * Nothing corrupt becomes a reading. Outcomes other than a reading are thrown as
 * `SensorError`:
 * - "nack": no presence pulse (no chip, a cut cable, the rail off);
 * - "crc": the scratchpad's Dallas CRC-8 does not match;
 * - "frame": a scratchpad with a CRC that holds but a configuration register that
 *   cannot be (0b0RR11111): nine zero bytes have a CRC of 0;
 * - "timeout": the conversion did not end within twice its time (a DQ shorted to
 *   ground answers every reset and holds every read slot low);
 * - "range": +85 °C, the power-on value, which a completed conversion of water
 *   in a meter pit cannot give (the chip lost power during it), or beyond −55..125.
 */
import Timer from "timer";
import { SensorError } from "./sensor-error.ts";

/** The parts of Moddable's `onewire` bus this driver uses. */
export interface OneWireBus {
  reset(): boolean;
  write(byte: number): void;
  read(): number;
  read(count: number): ArrayBuffer;
  close(): void;
}

/** Moddable's `OneWire` class: the bus and its Dallas/Maxim CRC-8 (native on the board). */
export interface OneWireBusClass {
  new (options: { pin: number }): OneWireBus;
  crc(buffer: ArrayBuffer | ArrayBufferView, length?: number): number;
}

/** Constructor options. */
export interface Ds18b20Options {
  /** The bus: Moddable's `OneWire` class and its pin. */
  sensor: { io: OneWireBusClass; pin: number };
  /** Resolution, 9–12 bits (default 10: 0.25 °C, 187.5 ms). */
  resolution?: 9 | 10 | 11 | 12;
}

/** One reading. */
export interface Ds18b20Sample {
  /** Temperature, integer tenths of °C. */
  temperatureDeciC: number;
}

const SKIP_ROM = 0xcc;
const CONVERT_T = 0x44;
const READ_SCRATCHPAD = 0xbe;
const WRITE_SCRATCHPAD = 0x4e;
const POWER_ON_RAW = 0x0550;
const POLL_MS = 10;

/** Tenths of °C from the temperature register (1/16 °C, two's complement), rounded half away from zero. */
export function deciCFromRaw(raw: number): number {
  const v = raw & 0x8000 ? raw - 0x10000 : raw;
  const t = v * 10;
  return t >= 0 ? (t + 8) >> 4 : -((-t + 8) >> 4);
}

/** DS18B20 driver. */
export default class Ds18b20 {
  #bus: OneWireBus | undefined;
  readonly #io: OneWireBusClass;
  readonly #bits: number;
  readonly #scratchpad = new Uint8Array(9);

  constructor(options: Ds18b20Options) {
    const bits = options.resolution ?? 10;
    if (bits !== 9 && bits !== 10 && bits !== 11 && bits !== 12) throw new RangeError(`resolution must be 9..12, got ${bits}`);
    this.#bits = bits;
    this.#io = options.sensor.io;
    this.#bus = new options.sensor.io({ pin: options.sensor.pin });
  }

  /** Converts and reads the temperature; throws `SensorError` otherwise. Blocks for the conversion (187.5 ms at 10 bits). */
  measure(): Ds18b20Sample {
    const bus = this.#open();
    this.#command(bus, WRITE_SCRATCHPAD);
    // TH and TL (the alarm thresholds, unused) as the EEPROM defaults keep them, then the configuration.
    bus.write(0x4b);
    bus.write(0x46);
    bus.write(((this.#bits - 9) << 5) | 0x1f);
    this.#command(bus, CONVERT_T);
    const convMs = 93.75 * (1 << (this.#bits - 9));
    Timer.delay(Math.ceil(convMs));
    // Read slots stay low until the conversion is done.
    let waited = Math.ceil(convMs);
    while (bus.read() !== 0xff) {
      if (waited >= 2 * convMs) throw new SensorError("timeout", "DS18B20: conversion did not end");
      Timer.delay(POLL_MS);
      waited += POLL_MS;
    }
    this.#command(bus, READ_SCRATCHPAD);
    const s = this.#scratchpad;
    s.set(new Uint8Array(bus.read(9)));
    if (this.#io.crc(s, 8) !== s[8]) throw new SensorError("crc", "DS18B20: scratchpad CRC mismatch");
    if ((s[4] & 0x9f) !== 0x1f) throw new SensorError("frame", `DS18B20: configuration register 0x${s[4].toString(16)}`);
    let raw = s[0] | (s[1] << 8);
    const bits = ((s[4] >> 5) & 3) + 9;
    raw &= ~((1 << (12 - bits)) - 1) & 0xffff;
    if (raw === POWER_ON_RAW) throw new SensorError("range", "DS18B20: +85 °C, the power-on value (no conversion)");
    const deciC = deciCFromRaw(raw);
    if (deciC < -550 || deciC > 1250) throw new SensorError("range", `DS18B20: ${deciC / 10} °C`);
    return { temperatureDeciC: deciC };
  }

  close(): void {
    this.#bus?.close();
    this.#bus = undefined;
  }

  #open(): OneWireBus {
    if (!this.#bus) throw new SensorError("nack", "DS18B20 closed");
    return this.#bus;
  }

  /** Reset and SKIP ROM (the only chip on the bus), then `code`. */
  #command(bus: OneWireBus, code: number): void {
    if (!bus.reset()) throw new SensorError("nack", "DS18B20: no presence pulse");
    bus.write(SKIP_ROM);
    bus.write(code);
  }
}
