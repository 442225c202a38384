/**
 * Bytes for the platform stand-ins. Views of the firmware's buffers (bus
 * transfers): a `Uint8Array` is used as it is, because taking the `.buffer` of
 * a small typed array makes V8 move it off its heap (an allocation each time).
 * Copies, which they hand the firmware (it may mutate what it gets) many times
 * per wake: the retained RTC blob, flash values. `new Uint8Array(view)` allocates without zero-filling
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

/** The bytes of `value` as a Uint8Array: itself if it is one, else a view (no copy). */
export function bytesView(value: ArrayBuffer | ArrayBufferView): Uint8Array {
  if (value instanceof Uint8Array) return value;
  return value instanceof ArrayBuffer ? new Uint8Array(value) : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
}
