/**
 * The one growth rule of the simulator's queues kept in parallel typed arrays
 * (a UART's bytes and their arrival times, a meter's pulses): entries live in
 * [head, tail) and are reused in place, so a queue that runs all day
 * allocates nothing once it has reached its working size.
 */

/** A column of a queue: one typed array per field. */
export type QueueColumn = Float64Array | Uint8Array;

/**
 * Room for one more entry after `tail`: slides the entries [head, tail) of every
 * column to the front in place, or copies them into columns twice as long when
 * they fill more than half. Returns the columns (the same or new ones), whose
 * entries now start at 0.
 */
export function roomAtEnd<T extends QueueColumn[]>(columns: T, head: number, tail: number): T {
  if ((tail - head) * 2 <= columns[0].length) {
    for (const c of columns) c.copyWithin(0, head, tail);
    return columns;
  }
  return columns.map((c) => {
    const grown = c instanceof Float64Array ? new Float64Array(c.length * 2) : new Uint8Array(c.length * 2);
    grown.set(c.subarray(head, tail));
    return grown;
  }) as T;
}
