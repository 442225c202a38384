import assert from "node:assert/strict";
import { TimeQueue } from "../../../simulator/src/fleet/time-queue.ts";
import { Rng } from "../../../simulator/src/core/rng.ts";

/** The order a stable sort on time gives: what the queue must reproduce whatever its heap layout. */
class Reference<T> {
  #items: { t: number; order: number; item: T }[] = [];
  #order = 0;
  push(item: T, t: number): void {
    if (t !== Number.POSITIVE_INFINITY) this.#items.push({ t, order: this.#order++, item });
  }
  pop(): T | undefined {
    if (!this.#items.length) return undefined;
    let m = 0;
    for (let i = 1; i < this.#items.length; i++) {
      const a = this.#items[i];
      const b = this.#items[m];
      if (a.t < b.t || (a.t === b.t && a.order < b.order)) m = i;
    }
    return this.#items.splice(m, 1)[0].item;
  }
}

describe("TimeQueue", () => {
  it("takes items earliest first, ties in the order they were put in, with push, pop and replaceTop mixed", () => {
    const rng = new Rng("time-queue");
    const q = new TimeQueue<number>();
    const ref = new Reference<number>();
    let popped = 0;
    for (let step = 0; step < 20000; step++) {
      const r = rng.next();
      // Coarse times so that ties are common; now and then an infinite time (never queued).
      const t = rng.next() < 0.05 ? Number.POSITIVE_INFINITY : rng.int(0, 50);
      if (r < 0.4 || q.size === 0) {
        q.push(step, t);
        ref.push(step, t);
      } else if (r < 0.7) {
        assert.equal(q.pop(), ref.pop());
        popped++;
      } else {
        const top = q.peek();
        assert.equal(top, ref.pop());
        q.replaceTop(top!, t);
        ref.push(top!, t);
        popped++;
      }
    }
    while (q.size) assert.equal(q.pop(), ref.pop());
    assert.equal(ref.pop(), undefined);
    assert.ok(popped > 10000);
  });

  it("reports the earliest time, Infinity when empty", () => {
    const q = new TimeQueue<string>();
    assert.equal(q.nextT, Number.POSITIVE_INFINITY);
    assert.equal(q.peek(), undefined);
    q.push("b", 20);
    q.push("a", 10);
    assert.equal(q.nextT, 10);
    q.replaceTop("a", Number.POSITIVE_INFINITY);
    assert.equal(q.size, 1);
    assert.equal(q.peek(), "b");
  });
});
