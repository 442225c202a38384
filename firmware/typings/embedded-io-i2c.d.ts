/**
 * `embedded:io/i2c` as Moddable implements it on ESP32 (modules/io/i2c/_i2c.js,
 * esp32/_i2c.c). Replaces @moddable/typings 5.6 embedded_io/i2c.d.ts, which
 * lacks `close()`, `writeRead()` and the `timeout`/`pullup` options. Written as
 * a module (not `declare module`) so it only takes effect where a tsconfig or
 * manifest maps the specifier here: firmware/tsconfig.json and
 * manifests/typings.json do; the simulator's tsconfig keeps its stand-in.
 */
type PinSpecifier = number;
type PortSpecifier = number;
type Bytes = ArrayBuffer | ArrayBufferView | SharedArrayBuffer;

export interface I2COptions {
  data: PinSpecifier;
  clock: PinSpecifier;
  /** Bus clock in Hz (required by ECMA-419). */
  hz: number;
  /** 7-bit device address. */
  address: number;
  port?: PortSpecifier;
  /** Milliseconds to wait for the bus (ESP32 default 400; -1 waits forever). */
  timeout?: number;
  /** Enable the chip's internal pull-ups (ESP32 default true; too weak for 100 kHz over a cable). */
  pullup?: boolean;
  format?: "buffer";
  target?: unknown;
}

export default class I2C {
  constructor(options: I2COptions);
  /** Reads `byteLength` bytes into a new ArrayBuffer. Throws on NACK. */
  read(byteLength: number, stop?: boolean): ArrayBuffer;
  /** Reads into `buffer`; returns its length (Moddable's ESP32 build). */
  read(buffer: Bytes, stop?: boolean): number;
  /** Writes `buffer`; `stop` false keeps the bus for a repeated start. Throws on NACK. */
  write(buffer: Bytes, stop?: boolean): void;
  /** Moddable extension: write then read with a repeated start. */
  writeRead(buffer: Bytes, count: number, stop?: boolean): ArrayBuffer;
  writeRead(buffer: Bytes, into: Bytes, stop?: boolean): void;
  close(): void;
  get format(): "buffer";
  set format(value: "buffer");
}
