/**
 * `embedded:io/smbus` as Moddable implements it (modules/io/i2c/smbus.js).
 * Replaces @moddable/typings 5.6 embedded_io/smbus.d.ts, whose constructor
 * type (`ConstructorParameters<typeof I2C> & …`) rejects every options object.
 * Module-style for the same reason as embedded-io-i2c.d.ts.
 */
type PinSpecifier = number;
type PortSpecifier = number;
type Bytes = ArrayBuffer | ArrayBufferView | SharedArrayBuffer;

/** The I2C options (see embedded-io-i2c.d.ts) plus `stop`. */
export interface SMBusOptions {
  data: PinSpecifier;
  clock: PinSpecifier;
  hz: number;
  address: number;
  port?: PortSpecifier;
  timeout?: number;
  pullup?: boolean;
  format?: "buffer";
  target?: unknown;
  /** Send a stop (not a repeated start) between the register write and the read. */
  stop?: boolean;
}

export default class SMBus {
  constructor(options: SMBusOptions);
  readUint8(register: number): number;
  writeUint8(register: number, value: number): void;
  readUint16(register: number, bigEndian?: boolean): number;
  writeUint16(register: number, value: number, bigEndian?: boolean): void;
  readBuffer(register: number, buffer: Bytes): void;
  writeBuffer(register: number, buffer: Bytes): void;
  sendByte(command: number): void;
  receiveByte(): number;
  readQuick(): void;
  writeQuick(): void;
  read(byteLength: number, stop?: boolean): ArrayBuffer;
  read(buffer: Bytes, stop?: boolean): void;
  write(buffer: Bytes, stop?: boolean): void;
  close(): void;
  get format(): "buffer";
  set format(value: "buffer");
}
