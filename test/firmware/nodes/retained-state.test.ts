import assert from "node:assert/strict";
import fc from "fast-check";
import { Board, setCurrentBoard } from "../../../simulator/src/core/board.ts";
import { powerCut, retain, retained } from "../../../simulator/src/platform/native-sleep.ts";
import { RetainedState } from "../../../firmware/src/nodes/retained-state.ts";

describe("nodes/retained-state: segments of RTC memory shared by the node and the link", () => {
  let board: Board;
  beforeEach(() => {
    board = new Board();
    setCurrentBoard(board);
  });
  afterEach(() => setCurrentBoard(undefined));

  it("each owner gets back its own words, whatever order they keep in", () => {
    fc.assert(
      fc.property(fc.array(fc.integer(), { minLength: 1, maxLength: 40 }), fc.array(fc.integer(), { minLength: 1, maxLength: 90 }), fc.boolean(), (a, b, order) => {
        const node = new RetainedState(1, a.length);
        const link = new RetainedState(2, b.length);
        node.words.set(a);
        link.words.set(b);
        if (order) { node.keep(); link.keep(); } else { link.keep(); node.keep(); }
        const n2 = new RetainedState(1, a.length);
        const l2 = new RetainedState(2, b.length);
        assert.equal(n2.restore(), true);
        assert.equal(l2.restore(), true);
        assert.deepEqual([...n2.words], a.map((x) => x | 0));
        assert.deepEqual([...l2.words], b.map((x) => x | 0));
      }),
    );
  });

  it("starts cold after a power cut, a changed layout or size, or a corrupted segment, without losing the other owner", () => {
    const node = new RetainedState(1, 8);
    const link = new RetainedState(2, 4);
    node.words.fill(7);
    link.words.fill(9);
    node.keep();
    link.keep();
    assert.equal(new RetainedState(3, 8).restore(), false, "other layout");
    assert.equal(new RetainedState(1, 9).restore(), false, "other size");
    // Corrupt one word of the node's segment (header 4 words, then 8 words).
    const blob = new Int32Array(retained()!);
    blob[6] ^= 1;
    retain(blob);
    assert.equal(new RetainedState(1, 8).restore(), false, "corrupted");
    assert.equal(new RetainedState(2, 4).restore(), true, "the link's segment survives");
    powerCut(board);
    assert.equal(new RetainedState(2, 4).restore(), false, "power cut");
  });
});
