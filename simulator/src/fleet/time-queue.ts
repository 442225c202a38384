/**
 * Items keyed by a virtual time, taken earliest first, ties in the order they
 * were put in (a binary heap with an insertion counter). The fleet runners use
 * it to let the node whose next event comes first take it.
 */
interface Entry<T> {
  t: number;
  order: number;
  item: T;
}

/** A min-queue on time, stable for equal times. */
export class TimeQueue<T> {
  readonly #heap: Entry<T>[] = [];
  #order = 0;

  /** Items queued. */
  get size(): number {
    return this.#heap.length;
  }

  /** Time of the earliest item (Infinity when empty). */
  get nextT(): number {
    return this.#heap.length ? this.#heap[0].t : Number.POSITIVE_INFINITY;
  }

  /** Queues `item` at time `t`; an infinite time is never due, so it is not queued. */
  push(item: T, t: number): void {
    if (t === Number.POSITIVE_INFINITY) return;
    const heap = this.#heap;
    heap.push({ t, order: this.#order++, item });
    let i = heap.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(heap[i], heap[p])) break;
      [heap[i], heap[p]] = [heap[p], heap[i]];
      i = p;
    }
  }

  /** Takes the earliest item (undefined when empty). */
  pop(): T | undefined {
    const heap = this.#heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length && last) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && less(heap[l], heap[m])) m = l;
        if (r < heap.length && less(heap[r], heap[m])) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m], heap[i]];
        i = m;
      }
    }
    return top?.item;
  }
}

function less<T>(a: Entry<T>, b: Entry<T>): boolean {
  return a.t < b.t || (a.t === b.t && a.order < b.order);
}
