/**
 * `onewire`: Moddable's 1-Wire bus (modules/drivers/onewire; on ESP32 the
 * RMT-driven bus of ESP-IDF's onewire_bus component), as far as our drivers
 * use it. @moddable/typings 5.6 has no declaration for it.
 */
declare module "onewire" {
  export default class OneWire {
    /** Opens the bus on `pin`. */
    constructor(options: { pin: number });
    /** Reset pulse; true when a device answered with a presence pulse. */
    reset(): boolean;
    /** Writes one byte. */
    write(byte: number): void;
    /** Reads one byte. */
    read(): number;
    /** Reads `count` bytes into a new buffer. */
    read(count: number): ArrayBuffer;
    /** Reset, MATCH ROM, then the 8-byte ROM code as `search()` returns it. */
    select(rom: ArrayBuffer | ArrayBufferView): void;
    /** The ROM codes of the devices on the bus. */
    search(): ArrayBuffer[];
    close(): void;
    /** Dallas/Maxim CRC-8 of `buffer` (of its first `length` bytes). */
    static crc(buffer: ArrayBuffer | ArrayBufferView, length?: number): number;
  }
}
