/**
 * Byte copies for the platform stand-ins, which hand the firmware copies (it
 * may mutate what it gets) many times per wake: the retained RTC blob, flash
 * values, bus transfers. `new Uint8Array(view)` allocates without zero-filling
 * and copies in one step; in V8 that costs about half of
 * `ArrayBuffer.prototype.slice` (a C++ runtime call) or `new ArrayBuffer` + `set`.
 */

/** A new ArrayBuffer of exactly `view`'s bytes. */
export function bufferCopy(view: Uint8Array): ArrayBuffer {
  return new Uint8Array(view).buffer as ArrayBuffer;
}

/** A new ArrayBuffer of exactly the bytes of `b`. */
export function bufferCopyOf(b: ArrayBuffer): ArrayBuffer {
  return new Uint8Array(new Uint8Array(b)).buffer as ArrayBuffer;
}
