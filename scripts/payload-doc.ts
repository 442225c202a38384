// Writes the message tables of codecs/PAYLOAD.md from the codec's descriptors,
// between the GENERATED markers, so the document cannot drift from the code.
// `--check` exits 1 if the file is out of date instead of writing it.
import { readFileSync, writeFileSync } from "node:fs";
import { UPLINKS, DOWNLINKS, byteWidth, validLengths, type Field, type MessageDef } from "../codecs/src/index.ts";

const START = "<!-- GENERATED: message tables (npm run docs) -->";
const END = "<!-- END GENERATED -->";

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : String(+n.toFixed(3));
}

function rangeOf(f: Field): string {
  if (f.type === "bool") return "0 = false, 1 = true";
  if (f.type === "enum") return f.values!.map((v, i) => `${i} ${v}`).join(", ");
  return `${fmt(f.min / f.scale)} … ${fmt(f.max / f.scale)}`;
}

function codeOf(f: Field): string {
  if (f.type !== "int") return "code";
  const step = (2 ** f.shift) / f.scale;
  const zero = f.zero / f.scale;
  return `${zero ? `${fmt(zero)} + ` : ""}code${step !== 1 ? ` × ${fmt(step)}` : ""}`;
}

function table(fields: Field[], startBit = 0): string[] {
  const rows = ["| bits | field | width | value | unit | range | absent | meaning |", "|---|---|---|---|---|---|---|---|"];
  let bit = startBit;
  for (const f of fields) {
    const absent = f.absent ? `all ones (${2 ** f.bits - 1})` : "";
    rows.push(`| ${bit}–${bit + f.bits - 1} | \`${f.name}\` | ${f.bits} | ${codeOf(f)} | ${f.unit} | ${rangeOf(f)} | ${absent} | ${f.doc} |`);
    bit += f.bits;
  }
  const pad = ((8 - (bit & 7)) & 7);
  if (pad) rows.push(`| ${bit}–${bit + pad - 1} | padding | ${pad} | 0 | | | | must be zero; ignored |`);
  return rows;
}

function section(def: MessageDef, dir: "uplink" | "downlink"): string[] {
  const out = [`### fPort ${def.port}: ${def.title} (\`${def.name}\`)`, ""];
  const lengths = validLengths(def);
  const len = def.echo ? `${lengths[0]} … ${lengths[lengths.length - 1]}` : lengths.join(" or ");
  out.push(`${dir === "uplink" ? "Node → server" : "Server → node"}, ${len} bytes${def.node !== "any" ? `, ${def.node} nodes` : ""}.`, "");
  out.push(...table(def.head));
  if (def.ext) {
    out.push("", `Optional extension, present when the message is ${byteWidth(def.head) + byteWidth(def.ext)} bytes long (bit numbers count from the start of the extension, which begins at byte ${byteWidth(def.head)}):`, "");
    out.push(...table(def.ext));
  }
  if (def.entry) {
    out.push("", `Then ${def.minEntries} … ${def.maxEntries} entries of ${byteWidth(def.entry)} bytes each, decoded as the list \`${def.listName}\` (bit numbers count from the start of each entry):`, "");
    out.push(...table(def.entry));
  }
  if (def.echo) out.push("", "Then, when the command was applied, the command's own payload as the node applied it (decode it with the downlink table for `commandPort`), decoded as `applied`.");
  out.push("");
  return out;
}

const body = [START, "", "## Uplinks", ""];
for (const d of UPLINKS) body.push(...section(d, "uplink"));
body.push("## Downlinks", "");
for (const d of DOWNLINKS) body.push(...section(d, "downlink"));
body.push(END);

const file = new URL("../codecs/PAYLOAD.md", import.meta.url);
const text = readFileSync(file, "utf8");
const a = text.indexOf(START);
const b = text.indexOf(END);
if (a < 0 || b < 0) throw new Error("PAYLOAD.md lacks the GENERATED markers");
const next = text.slice(0, a) + body.join("\n") + text.slice(b + END.length);
if (process.argv.includes("--check")) {
  if (next !== text) {
    console.error("codecs/PAYLOAD.md is out of date: run `npm run docs`");
    process.exit(1);
  }
  console.log("codecs/PAYLOAD.md is up to date");
} else {
  writeFileSync(file, next);
  console.log("wrote codecs/PAYLOAD.md");
}
