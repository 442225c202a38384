/**
 * Board descriptions: which GPIO, UART port and bus speed each signal of a
 * citysense node uses on a given ESP32 board. The board files are plain constant
 * modules that import nothing; this index checks them against `BoardConfig` and
 * offers them by Moddable platform name (`mcconfig -p <platform>`).
 *
 * Pins are GPIO numbers as ECMA-419 IO constructors take them (`PinSpecifier`).
 * Hardware wiring for each node type is in hardware/<type>/README.md and must
 * agree with these tables (test/firmware/manifests.test.ts checks the README
 * pin tables against them).
 */
import esp32DevkitC from "./esp32-devkitc.ts";
import esp32s3DevkitC from "./esp32s3-devkitc.ts";

/** A UART as `embedded:io/serial` takes it (baud rate comes from the attached device). */
export interface UartPins {
  /** ESP32 UART controller number (0 is the console on both chips). */
  readonly port: number;
  /** ESP32 TX, wired to the device's RX. */
  readonly transmit: number;
  /** ESP32 RX, wired to the device's TX. */
  readonly receive: number;
}

/** The LoRaWAN modem's UART plus its reset line (active low, open drain on Wio-E5 and RAK3172). */
export interface ModemPins extends UartPins {
  readonly reset: number;
}

/** A digital input that can wake the chip from deep sleep (must be an RTC GPIO). */
export interface WakeInput {
  readonly pin: number;
  /** Level that means "active" (and wakes the chip): 0 or 1. */
  readonly activeLevel: 0 | 1;
  /** Pull resistor to enable during sleep; "external" when the board provides one (ESP32 GPIO 34–39 have none). */
  readonly pull: "up" | "down" | "none" | "external";
}

/** Everything a node's firmware needs to know about the board it runs on. */
export interface BoardConfig {
  /** Human-readable board name. */
  readonly name: string;
  /** Moddable platform/subplatform this board is built with (`mcconfig -p`). */
  readonly platform: string;
  /** Chip family, for native code and the power model. */
  readonly chip: "esp32" | "esp32s3";
  /** Shared I2C bus (SCD41, SEN5x/SEN66, VL53L1X, LIS3DH). */
  readonly i2c: {
    readonly port: number;
    readonly data: number;
    readonly clock: number;
    /** Bus clock; 100 kHz because the SEN5x allows no more. */
    readonly hz: number;
  };
  /** LoRaWAN modem UART (Wio-E5 at 9600 baud, RAK3172 at 115200). */
  readonly modem: ModemPins;
  /** Second UART for a serial sensor (PMS5003 or A02YYUW, both 9600 8N1). */
  readonly sensorUart: UartPins;
  /** Water meter pulse input, counted by the PCNT unit (an RTC GPIO so the ULP could count it in deep sleep). */
  readonly pulse: { readonly pin: number; readonly pull: "up" | "down" | "none" | "external" };
  /** Latching valve H-bridge: a pulse on `open` or `close` moves the valve; `power` enables the H-bridge and its boost supply. */
  readonly valve: { readonly open: number; readonly close: number; readonly power: number };
  /** Manual valve override switch (wakes the node). */
  readonly valveOverride: WakeInput;
  /** LIS3DH INT1 (lid opened / bin tipped wakes the node). */
  readonly accelInt1: WakeInput;
  /** Battery sense through a resistive divider into an ADC1 channel. */
  readonly battery: {
    readonly pin: number;
    /** Battery voltage = ADC pin voltage × dividerNum / dividerDen (integers: no floats on the node). */
    readonly dividerNum: number;
    readonly dividerDen: number;
  };
  /** Drives the switched sensor rail (load switch / 5 V boost enable), active high, pulled down on the board. */
  readonly sensorPower: number;
  /** 1-Wire bus for the optional DS18B20 water temperature probe. */
  readonly oneWire: number;
  /** The USB serial console (UART0 behind the board's USB bridge), where the node is provisioned. */
  readonly console: UartPins;
}

/** Freezes a board table and everything in it, so XS can keep it in flash when the module is preloaded. */
function deepFreeze<T extends object>(value: T): T {
  for (const key of Object.keys(value)) {
    const child = (value as Record<string, unknown>)[key];
    if (typeof child === "object" && child !== null) deepFreeze(child);
  }
  return Object.freeze(value);
}

/** Boards by Moddable platform name. */
export const BOARDS: { readonly [platform: string]: BoardConfig } = deepFreeze({
  [esp32DevkitC.platform]: deepFreeze(esp32DevkitC),
  [esp32s3DevkitC.platform]: deepFreeze(esp32s3DevkitC),
});

export { esp32DevkitC, esp32s3DevkitC };
