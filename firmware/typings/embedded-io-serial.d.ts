/**
 * `embedded:io/serial` as Moddable implements it on ESP32 (modules/io/serial/esp32).
 * Replaces @moddable/typings 5.6 embedded_io/serial.d.ts, which misspells
 * `receive` in its transmit-only variant, makes `port` mandatory (the ESP32
 * implementation defaults it) and types `read()` the same for both formats.
 * Here the class is generic in its `format`, so a driver opening the port with
 * `format: "buffer"` gets `read(): ArrayBuffer | undefined`. Module-style for
 * the same reason as embedded-io-i2c.d.ts.
 */
type PinSpecifier = number;
type PortSpecifier = number;
type Bytes = ArrayBuffer | ArrayBufferView | SharedArrayBuffer;
type Format = "number" | "buffer";

export interface SerialOptions<F extends Format = Format> {
  /** At least one of `receive` and `transmit`. */
  receive?: PinSpecifier;
  transmit?: PinSpecifier;
  baud: number;
  /** UART number (ESP32: 0–2, ESP32-S3: 0–2). */
  port?: PortSpecifier;
  flowControl?: "hardware" | "none";
  dataTerminalReady?: PinSpecifier;
  requestToSend?: PinSpecifier;
  clearToSend?: PinSpecifier;
  dataSetReady?: PinSpecifier;
  onReadable?: (this: Serial<F>, bytes: number) => void;
  onWritable?: (this: Serial<F>, bytes: number) => void;
  onError?: (this: Serial<F>, error: Error) => void;
  /** "number" (the default) reads and writes single bytes; "buffer" ArrayBuffers. */
  format?: F;
  target?: unknown;
}

export default class Serial<F extends Format = "number"> {
  constructor(options: SerialOptions<F>);
  /** "buffer": all available bytes, or `byteLength` of them; "number": one byte. Undefined when nothing is waiting. */
  read(byteLength?: number): (F extends "buffer" ? ArrayBuffer : number) | undefined;
  /** Reads into `buffer`, returns the count. */
  read(buffer: Bytes): number | undefined;
  write(value: F extends "buffer" ? Bytes : number | Bytes): void;
  flush(): void;
  flush(input: number, output: number): void;
  set(options: { dataTerminalReady?: boolean; requestToSend?: boolean; break?: boolean }): void;
  close(): void;
  get format(): F;
  set format(value: F);
}
