// `npm run sim` runs the simulator from an esbuild bundle (scripts/sim.mjs):
// it must be the same program as the TypeScript the tests run through tsx.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, statSync, utimesSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildSim } from "../../../scripts/sim.mjs";

const FILES = ["events.jsonl", "readings.csv", "summary.json"];

describe("simulator CLI: the bundle npm run sim runs", function () {
  this.timeout(300_000);

  it("gives the same run as the TypeScript sources, byte for byte, with a worker thread", () => {
    const args = ["--nodes", "6", "--days", "0.5", "--workers", "2", "--seed", "77"];
    const bundled = mkdtempSync(join(tmpdir(), "bundle-"));
    const sources = mkdtempSync(join(tmpdir(), "tsx-"));
    execFileSync(process.execPath, ["scripts/sim.mjs", ...args, "--out", bundled], { stdio: "pipe" });
    execFileSync(process.execPath, ["--import", "tsx", "simulator/src/cli/main.ts", ...args, "--out", sources], { stdio: "pipe" });
    const events = readFileSync(join(bundled, "events.jsonl"), "utf8").trim().split("\n");
    assert.ok(events.length > 20, `${events.length} events`);
    for (const f of FILES) assert.equal(readFileSync(join(bundled, f), "utf8"), readFileSync(join(sources, f), "utf8"), f);
  });

  it("rebuilds when a source is newer than the bundle, and not otherwise", async () => {
    await buildSim();
    assert.equal(await buildSim(), false, "rebuilt an up-to-date bundle");
    const source = "simulator/src/cli/index.ts";
    const before = statSync("build/sim/main.mjs").mtimeMs;
    const newer = new Date(Math.max(Date.now(), before) + 2000);
    utimesSync(source, newer, newer);
    assert.equal(await buildSim(), true, "a newer source did not rebuild");
    assert.ok(statSync("build/sim/main.mjs").mtimeMs > before, "the bundle was not rewritten");
  });
});
