/**
 * Records in flash that a power cut during their write cannot lose (firmware/src/nodes/flash-record.ts), against
 * the way Moddable's ESP32 preference writes: it erases the key, then sets it; a cut between the two leaves no key.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import Preference from "../../../simulator/src/platform/preference.ts";
import { Board, setCurrentBoard } from "../../../simulator/src/core/board.ts";
import { readRecord, writeRecord } from "../../../firmware/src/nodes/flash-record.ts";
import { loadConfig, saveConfig, defaultConfig } from "../../../firmware/src/nodes/config.ts";

class PowerCut extends Error {}

/** Runs `body` with the power cut at Preference.set number `cutAt`: the key is erased, as by Moddable, and nothing is written. */
function cutAtSet<T>(cutAt: number, body: () => T): T | undefined {
  const set = Preference.set;
  let n = 0;
  Preference.set = (domain, key, value) => {
    if (++n === cutAt) {
      Preference.delete(domain, key);
      throw new PowerCut("power cut");
    }
    set(domain, key, value);
  };
  try {
    return body();
  } catch (e) {
    if (!(e instanceof PowerCut)) throw e;
    return undefined;
  } finally {
    Preference.set = set;
  }
}

describe("firmware/nodes: flash records", () => {
  beforeEach(() => setCurrentBoard(new Board()));
  afterEach(() => setCurrentBoard(undefined));

  it("a power cut during any write leaves the last complete value readable (a single key would be gone)", () => {
    fc.assert(
      fc.property(fc.array(fc.integer(), { minLength: 1, maxLength: 12 }), fc.integer({ min: 1, max: 12 }), (values, cut) => {
        setCurrentBoard(new Board());
        let complete: number | undefined;
        for (let i = 0; i < values.length; i++) {
          const done = cutAtSet(i + 1 === cut ? 1 : 0, () => {
            writeRecord("t", "rec", Int32Array.of(values[i], i));
            return true;
          });
          if (done) complete = values[i];
          const got = readRecord("t", "rec");
          if (complete === undefined) assert.equal(got, undefined);
          else assert.equal(got![0], complete);
        }
      }),
      { numRuns: 300, seed: 11 },
    );
    // The single key it replaces: the same cut loses it.
    Preference.set("t", "single", Int32Array.of(7).buffer);
    cutAtSet(1, () => Preference.set("t", "single", Int32Array.of(8).buffer));
    assert.equal(Preference.get("t", "single"), undefined);
  });

  it("a torn copy (bad CRC) is ignored; a value stored the old way, under the key alone, is still read", () => {
    writeRecord("t", "rec", Int32Array.of(1, 2));
    writeRecord("t", "rec", Int32Array.of(3, 4));
    const newest = new Uint8Array(Preference.get("t", "recb") as ArrayBuffer);
    newest[5] ^= 0x10;
    Preference.set("t", "recb", newest.buffer);
    assert.deepEqual([...readRecord("t", "rec")!], [1, 2]);
    Preference.set("t", "old", Int32Array.of(9, 10).buffer);
    assert.deepEqual([...readRecord("t", "old")!], [9, 10]);
    writeRecord("t", "old", Int32Array.of(11, 12));
    assert.deepEqual([...readRecord("t", "old")!], [11, 12]);
  });

  it("the settings: a valve command saved once survives a cut during the next save", () => {
    const config = defaultConfig("water");
    config.valveCommand = 1;
    saveConfig(config);
    config.intervalS = 600;
    cutAtSet(1, () => saveConfig(config));
    const back = loadConfig("water");
    assert.equal(back.valveCommand, 1, "the valve stays commanded closed");
    assert.equal(back.intervalS, 900, "the interrupted change is lost, not the settings");
  });
});
