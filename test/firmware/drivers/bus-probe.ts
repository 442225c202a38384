/** A logic analyser's hands on the I2C bus: reads and writes a chip on the current board directly, beside the driver's own open instance (Moddable allows one per address). */
import { currentBoard } from "../../../simulator/src/core/board.ts";

/** Writes `bytes` to the chip at `address`, then reads `count` bytes (with a repeated start when `count` > 0). */
export function probe(address: number, bytes: Uint8Array, count = 0): number[] {
  const chip = currentBoard().i2c.get(address);
  if (!chip) throw new Error(`no chip at 0x${address.toString(16)}`);
  chip.i2cWrite(bytes, count === 0);
  if (count === 0) return [];
  const into = new Uint8Array(count);
  chip.i2cRead(into, true);
  return Array.from(into);
}
