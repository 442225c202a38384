import assert from "node:assert/strict";
import { Board } from "../../../simulator/src/core/board.ts";
import { NodeHost } from "../../../simulator/src/core/node-host.ts";
import { deepSleep, powerCut, retain, retained } from "../../../simulator/src/platform/native-sleep.ts";

describe("simulator/platform/native-sleep: RTC memory", () => {
  it("each boot reads what the last one retained, whatever it did to its own copy; a second read in a boot is a copy of its own", () => {
    const board = new Board();
    const seen: number[][] = [];
    let boot = 0;
    const host = new NodeHost(board, () => {
      const first = retained();
      const again = retained();
      seen.push(first ? [...new Uint8Array(first)] : []);
      if (first && again) {
        assert.notEqual(first, again);
        assert.deepEqual([...new Uint8Array(again)], [...new Uint8Array(first)]);
        // Scribbled on, never retained: the chip's RTC memory does not see it.
        new Uint8Array(first).fill(0xee);
        new Uint8Array(again).fill(0xdd);
      }
      boot++;
      if (boot % 2 === 1) retain(new Uint8Array([boot, boot + 1, boot + 2, boot + 3]));
      deepSleep(60_000);
    });
    for (let i = 0; i < 5; i++) host.bootOnce();
    assert.deepEqual(seen, [[], [1, 2, 3, 4], [1, 2, 3, 4], [3, 4, 5, 6], [3, 4, 5, 6]]);
    powerCut(board);
    host.wakeAt(board.clock.nowMs);
    host.bootOnce();
    assert.deepEqual(seen.at(-1), []);
  });
});
