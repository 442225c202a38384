import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { decodeUplink, encodeDownlink } from "../../codecs/src/index.ts";

const doc = readFileSync(new URL("../../codecs/PAYLOAD.md", import.meta.url), "utf8");

describe("codecs: PAYLOAD.md", () => {
  it("its message tables are generated from the current descriptors", () => {
    execFileSync(process.execPath, ["--import", "tsx", "scripts/payload-doc.ts", "--check"], { stdio: "pipe" });
  });

  it("its worked example decodes to the JSON it shows", () => {
    const section = doc.slice(doc.indexOf("## Worked example"));
    const hex = /```\n([0-9a-f ]+)\n```/.exec(section)![1];
    const json = JSON.parse(/```json\n(.+)\n```/.exec(section)![1]);
    const bytes = hex.split(" ").map((h) => parseInt(h, 16));
    assert.deepEqual(decodeUplink({ bytes, fPort: 1 }).data, json);
  });

  it("its downlink example encodes to the bytes it shows", () => {
    const m = /`(\{"command":"setInterval"[^`]+\})` → fPort (\d+), bytes `([0-9a-f ]+)`/.exec(doc)!;
    const r = encodeDownlink({ data: JSON.parse(m[1]) });
    assert.equal(r.fPort, Number(m[2]));
    assert.deepEqual(r.bytes, m[3].split(" ").map((h) => parseInt(h, 16)));
  });
});
