import assert from "node:assert/strict";
import fc from "fast-check";
import { Board, setCurrentBoard } from "../../../simulator/src/core/board.ts";
import { powerCut, retain, retained } from "../../../simulator/src/platform/native-sleep.ts";
import { RetainedState } from "../../../firmware/src/nodes/retained-state.ts";

const MAGIC = 0x43535431;

/** The blob a keep of `words` under `layout` leaves, as the first RetainedState built it: valid other segments in order, then this one. */
function referenceKeep(old: Int32Array, layout: number, words: Int32Array): Int32Array {
  const sum = (b: Int32Array, from: number, to: number) => {
    let h = 0x811c9dc5 | 0;
    for (let i = from; i < to; i++) h = Math.imul(h ^ b[i], 0x01000193);
    return h;
  };
  const parts: Int32Array[] = [];
  for (let at = 0; at + 4 <= old.length; ) {
    const n = old[at + 2];
    if (old[at] !== MAGIC || !(n >= 0) || at + 4 + n > old.length) break;
    if (old[at + 1] !== layout && old[at + 3] === sum(old, at + 4, at + 4 + n)) parts.push(old.subarray(at, at + 4 + n));
    at += 4 + n;
  }
  const own = new Int32Array(4 + words.length);
  own.set([MAGIC, layout, words.length, 0]);
  own.set(words, 4);
  own[3] = sum(own, 4, own.length);
  parts.push(own);
  const out = new Int32Array(parts.reduce((k, p) => k + p.length, 0));
  let to = 0;
  for (const p of parts) {
    out.set(p, to);
    to += p.length;
  }
  return out;
}

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

  it("leaves the same RTC bytes as rebuilding the blob at every keep, through boots of owners keeping in any order and changing size", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ owner: fc.integer({ min: 0, max: 2 }), size: fc.integer({ min: 0, max: 3 }), fill: fc.integer(), restore: fc.boolean(), boot: fc.boolean() }), { minLength: 1, maxLength: 30 }),
        (steps) => {
          powerCut(board);
          const sizes = [5, 94, 30, 1];
          let owners = new Map<number, RetainedState>();
          for (const st of steps) {
            if (st.boot) owners = new Map(); // deep sleep: every owner is built again
            const size = st.owner === 2 ? sizes[st.size] : sizes[st.owner];
            let s = owners.get(st.owner);
            if (!s || s.words.length !== size) {
              s = new RetainedState(0x100 + st.owner, size);
              owners.set(st.owner, s);
              if (st.restore) s.restore();
            }
            s.words.fill(st.fill);
            const before = retained();
            const expected = referenceKeep(before ? new Int32Array(before) : new Int32Array(0), 0x100 + st.owner, s.words);
            s.keep();
            assert.deepEqual([...new Int32Array(retained()!)], [...expected]);
          }
        },
      ),
    );
  });

  it("hands the blob one owner read to the next owner's restore, once, and not after a keep", () => {
    const link = new RetainedState(2, 4);
    const node = new RetainedState(1, 8);
    link.words.fill(9);
    node.words.fill(7);
    link.keep();
    node.keep();
    const a = new RetainedState(2, 4);
    assert.equal(a.restore(), true);
    a.handOver();
    // RTC memory changed behind the owners' backs: only a restore that reads it again sees that.
    retain(new Int32Array(0));
    const b = new RetainedState(1, 8);
    assert.equal(b.restore(), true, "took the link's copy, read before the change");
    assert.deepEqual([...b.words], new Array(8).fill(7));
    assert.equal(new RetainedState(1, 8).restore(), false, "the offer is taken once");
    link.keep();
    node.keep();
    const c = new RetainedState(2, 4);
    assert.equal(c.restore(), true);
    c.handOver();
    retain(new Int32Array(0));
    assert.equal(new RetainedState(2, 4).restore(), false, "not taken by an owner of the layout that offered it: it reads RTC memory");
    assert.equal(new RetainedState(1, 8).restore(), false, "and its restore withdrew the offer");
    link.keep();
    node.keep();
    const d = new RetainedState(2, 4);
    assert.equal(d.restore(), true);
    d.handOver();
    node.words.fill(3);
    node.keep();
    const f = new RetainedState(1, 8);
    assert.equal(f.restore(), true);
    assert.deepEqual([...f.words], new Array(8).fill(3), "an offer made before a keep is void: the restore reads RTC memory");
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
