/**
 * A driver's start-up on the bus handle it just opened. Moddable's ESP32 I2C
 * keeps one open instance per pins and address, so a constructor that throws
 * (NACK, wrong id, boot timeout) must close its handle, or a retry in the same
 * wake gets "duplicate address" until the garbage collector frees the first.
 */

/** Runs `init`; if it throws, closes `io` (without a word to a chip that may not answer) and rethrows. */
export function initOrRelease(io: { close(): void }, init: () => void): void {
  try {
    init();
  } catch (e) {
    io.close();
    throw e;
  }
}
