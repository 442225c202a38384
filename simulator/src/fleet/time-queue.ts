/**
 * Items keyed by a virtual time, taken earliest first, ties in the order they
 * were put in (a binary heap with an insertion counter). The fleet runners use
 * it to let the node whose next event comes first take it.
 *
 * Every (time, order) key is unique, so the order items come out in depends
 * only on the keys, not on how the heap is laid out. The heap moves a hole
 * instead of swapping entries, and `replaceTop` (take the earliest, put it
 * back at a new time: what a runner does at every event) sifts once instead of
 * twice; it runs at every node event of a fleet run.
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

  /** The earliest item, left in the queue (undefined when empty). */
  peek(): T | undefined {
    return this.#heap.length ? this.#heap[0].item : undefined;
  }

  /** Queues `item` at time `t`; an infinite time is never due, so it is not queued. */
  push(item: T, t: number): void {
    if (t === Number.POSITIVE_INFINITY) return;
    const heap = this.#heap;
    heap.push({ t, order: this.#order++, item });
    this.#siftUp(heap.length - 1);
  }

  /** Takes the earliest item (undefined when empty). */
  pop(): T | undefined {
    const heap = this.#heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length && last) {
      heap[0] = last;
      this.#siftDown(0);
    }
    return top?.item;
  }

  /** Same as `pop()` then `push(item, t)`, in one pass (the queue must not be empty). */
  replaceTop(item: T, t: number): void {
    if (t === Number.POSITIVE_INFINITY) {
      this.pop();
      return;
    }
    const top = this.#heap[0];
    // The entry object is reused: it left the heap with the pop this stands for.
    top.t = t;
    top.order = this.#order++;
    top.item = item;
    this.#siftDown(0);
  }

  #siftUp(at: number): void {
    const heap = this.#heap;
    const e = heap[at];
    let i = at;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(e, heap[p])) break;
      heap[i] = heap[p];
      i = p;
    }
    heap[i] = e;
  }

  #siftDown(at: number): void {
    const heap = this.#heap;
    const n = heap.length;
    const e = heap[at];
    let i = at;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && less(heap[r], heap[l]) ? r : l;
      if (!less(heap[c], e)) break;
      heap[i] = heap[c];
      i = c;
    }
    heap[i] = e;
  }
}

function less<T>(a: Entry<T>, b: Entry<T>): boolean {
  return a.t < b.t || (a.t === b.t && a.order < b.order);
}
