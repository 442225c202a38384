import assert from "node:assert/strict";
import fc from "fast-check";
import { Board, setCurrentBoard } from "../../../simulator/src/core/board.ts";
import { powerCut, retain, retained } from "../../../simulator/src/platform/native-sleep.ts";
import { RetainedState } from "../../../firmware/src/nodes/retained-state.ts";

const MAGIC = 0x43535431;

/**
 * The blob a keep of `words` under `layout` leaves: the owner's segment
 * rewritten where it is when the blob is well formed and holds it once at this
 * size; otherwise rebuilt, the valid other segments in order, then this one.
 */
function referenceKeep(old: Int32Array, layout: number, words: Int32Array): Int32Array {
  const sum = (b: Int32Array, from: number, to: number) => {
    let h = 0x811c9dc5 | 0;
    for (let i = from; i < to; i++) h = Math.imul(h ^ b[i], 0x01000193);
    return h;
  };
  const segments: { at: number; layout: number; n: number }[] = [];
  let at = 0;
  while (at + 4 <= old.length) {
    const n = old[at + 2];
    if (old[at] !== MAGIC || !(n >= 0) || at + 4 + n > old.length) break;
    segments.push({ at, layout: old[at + 1], n });
    at += 4 + n;
  }
  const own = segments.filter((g) => g.layout === layout);
  if (at === old.length && own.length === 1 && own[0].n === words.length) {
    const out = Int32Array.from(old);
    out.set(words, own[0].at + 4);
    out[own[0].at + 3] = sum(out, own[0].at + 4, own[0].at + 4 + words.length);
    return out;
  }
  const parts = segments.filter((g) => g.layout !== layout && old[g.at + 3] === sum(old, g.at + 4, g.at + 4 + g.n)).map((g) => old.subarray(g.at, g.at + 4 + g.n));
  const mine = new Int32Array(4 + words.length);
  mine.set([MAGIC, layout, words.length, 0]);
  mine.set(words, 4);
  mine[3] = sum(mine, 4, mine.length);
  parts.push(mine);
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

  it("leaves the RTC bytes of the reference rule, through boots of owners keeping in any order and changing size", () => {
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

  it("an owner's words are its own: another owner's keep never carries them to RTC memory, and each reads RTC memory as it was when built", () => {
    const link = new RetainedState(2, 4);
    const node = new RetainedState(1, 8);
    link.words.fill(9);
    node.words.fill(7);
    link.keep();
    node.keep();
    // A wake: both restore; the node changes its words but sleeps without keeping them, the link keeps.
    const a = new RetainedState(2, 4);
    const b = new RetainedState(1, 8);
    assert.equal(a.restore(), true);
    assert.equal(b.restore(), true);
    b.words.fill(3);
    a.words.fill(5);
    a.keep();
    const a2 = new RetainedState(2, 4);
    const b2 = new RetainedState(1, 8);
    assert.equal(b2.restore(), true, "the node's segment still checks");
    assert.deepEqual([...b2.words], new Array(8).fill(7), "the node's unkept words stayed out of RTC memory");
    assert.deepEqual([...a2.words], new Array(4).fill(5));
    // Kept after another owner kept: both segments hold, in place.
    b2.words.fill(4);
    a2.words.fill(6);
    a2.keep();
    b2.keep();
    assert.deepEqual([...new RetainedState(1, 8).words], new Array(8).fill(4));
    assert.deepEqual([...new RetainedState(2, 4).words], new Array(4).fill(6));
    // Built before RTC memory changed: it has what was there when built.
    const c = new RetainedState(1, 8);
    retain(new Int32Array(0));
    assert.equal(c.restore(), true);
    assert.equal(new RetainedState(1, 8).restore(), false);
    assert.deepEqual([...new RetainedState(1, 8).words], new Array(8).fill(0), "a cold start's words are zeros");
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
