import assert from "node:assert/strict";
import fc from "fast-check";
import { RxQueue } from "../../../simulator/src/core/board.ts";

describe("simulator/core/typed-queue: queues in parallel typed arrays", () => {
  it("property: whatever the pushes and drops, the queue gives back what it was given, in order, and grows only when half full", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat({ max: 40 }), fc.nat({ max: 40 })), { maxLength: 60 }), (ops) => {
        const q = new RxQueue();
        const model: [number, number][] = [];
        let next = 0;
        for (const [push, drop] of ops) {
          for (let i = 0; i < push; i++, next++) {
            const before = q.times.length;
            q.push(next, next & 0xff);
            model.push([next, next & 0xff]);
            if (q.times.length !== before) assert.ok(model.length - 1 > before / 2, "grown only when more than half full");
          }
          const n = Math.min(drop, model.length);
          q.drop(n);
          model.splice(0, n);
          assert.equal(q.length, model.length);
          for (let i = 0; i < model.length; i++) {
            assert.equal(q.times[q.head + i], model[i][0]);
            assert.equal(q.bytes[q.head + i], model[i][1]);
          }
        }
      }),
    );
  });
});
