/**
 * `--fuzz`: a million decodeUplink calls (`--fuzz-count`) on random and damaged
 * inputs, through both the TypeScript decoder and the LNS script, seeded
 * (`--seed`) so any finding replays. Counts what must never happen (a throw, an
 * "internal codec error", a result of the wrong shape, a non-finite number, the
 * two builds disagreeing, a well-formed message refused or a malformed one
 * accepted) and what did (decoded, rejected, decoded with warnings).
 */
import {
  UPLINKS, DOWNLINKS, decodeUplink, encodeRecord, validLengths,
  type DecodeResult, type Field, type IntRecord, type MessageDef, type UplinkInput,
} from "../../codecs/src/index.ts";
import { Rng } from "../../simulator/src/core/rng.ts";
import { thousands, type BenchContext, type BenchModule, type BenchResult } from "./bench-module.ts";
import { loadLns } from "./codec-bench.ts";
import { SAMPLES, encodeOurs } from "./samples.ts";

const CATEGORIES = ["random", "randomAtValidLength", "bitFlip", "truncate", "extend", "insert", "delete", "portSwap", "hostile"] as const;
type Category = (typeof CATEGORIES)[number];
/** Share of inputs per category, in per mille. */
const WEIGHTS: Record<Category, number> = { random: 250, randomAtValidLength: 200, bitFlip: 150, truncate: 80, extend: 80, insert: 80, delete: 60, portSwap: 80, hostile: 20 };

interface Input {
  category: Category;
  input: UplinkInput;
  /** Whether the decoder must accept it (true), refuse it (false), or either (undefined: hostile inputs). */
  wellFormed?: boolean;
}

function randomField(rng: Rng, f: Field): number | boolean | undefined {
  if (f.type === "bool") return rng.chance(0.5);
  if (f.absent && rng.chance(0.1)) return undefined;
  // Edges are where bugs live.
  const r = rng.next();
  return r < 0.1 ? f.min : r < 0.2 ? f.max : rng.int(f.min, f.max);
}

function randomRecord(rng: Rng, fields: Field[]): IntRecord {
  const rec: IntRecord = {};
  for (const f of fields) rec[f.key] = randomField(rng, f);
  return rec;
}

/** A random well-formed message of any uplink type. */
function randomValid(rng: Rng): { bytes: number[]; fPort: number } {
  const def = UPLINKS[rng.int(0, UPLINKS.length - 1)];
  const buf = new Uint8Array(64);
  let rec: IntRecord;
  if (def.entry) {
    rec = randomRecord(rng, def.head);
    const list: IntRecord[] = [];
    for (let k = rng.int(def.minEntries || 0, def.maxEntries || 0); k > 0; k--) list.push(randomRecord(rng, def.entry));
    rec[def.listName!] = list;
  } else rec = randomRecord(rng, def.head.concat(def.ext && rng.chance(0.5) ? def.ext : []));
  let n = encodeRecord(def.port, rec, buf, 0, 51);
  if (def.echo && rng.chance(0.7)) {
    const cmd: MessageDef = DOWNLINKS[rng.int(0, DOWNLINKS.length - 1)];
    buf[0] = cmd.port; // commandPort is the first byte of a config ack
    n += encodeRecord(cmd.port, randomRecord(rng, cmd.head), buf, n, 51 - n);
  }
  return { bytes: Array.from(buf.subarray(0, n)), fPort: def.port };
}

function randomBytes(rng: Rng, n: number): number[] {
  const b: number[] = [];
  for (let i = 0; i < n; i++) b.push(rng.nextU32() & 0xff);
  return b;
}

/** fPorts 1–11 most of the time, otherwise anything 0–255. */
function randomPort(rng: Rng): number {
  const r = rng.next();
  return r < 0.7 ? rng.int(1, 11) : r < 0.75 ? 0 : rng.int(0, 255);
}

const uplinkByPort = new Map<number, MessageDef>(UPLINKS.map((d) => [d.port, d]));
const lengthsByPort = new Map<number, Set<number>>(UPLINKS.map((d) => [d.port, new Set(validLengths(d))]));

function wellFormed(fPort: number, length: number): boolean {
  const set = lengthsByPort.get(fPort);
  return !!set && set.has(length);
}

/** Hostile inputs: odd recvTimes, typed arrays, out-of-range byte values, non-integer fPorts. */
function hostile(rng: Rng, pool: { bytes: number[]; fPort: number }[]): Input {
  const m = pool[rng.int(0, pool.length - 1)];
  const k = rng.int(0, 4);
  if (k === 0) {
    const times: unknown[] = [new Date(Date.UTC(2026, 0, 1)), "2026-01-01T00:00:00Z", 1767225600000, "yesterday", NaN, 8.64e15, -8.64e15, 1e20, -1e20, Infinity, {}, null];
    return { category: "hostile", input: { ...m, recvTime: times[rng.int(0, times.length - 1)] as never } };
  }
  if (k === 1) return { category: "hostile", input: { bytes: Uint8Array.from(m.bytes), fPort: m.fPort }, wellFormed: wellFormed(m.fPort, m.bytes.length) };
  if (k === 2) {
    const b: unknown[] = m.bytes.slice();
    const bad: unknown[] = [256, -1, 1.5, NaN, "1", null, undefined, Infinity];
    b[rng.int(0, Math.max(0, b.length - 1))] = bad[rng.int(0, bad.length - 1)];
    return { category: "hostile", input: { bytes: b as number[], fPort: m.fPort }, wellFormed: false };
  }
  const ports: unknown[] = [1.5, NaN, "1", undefined, -1, 2 ** 32 + 1, Infinity];
  return { category: "hostile", input: { bytes: m.bytes, fPort: ports[rng.int(0, ports.length - 1)] as number }, wellFormed: false };
}

function nextInput(rng: Rng, pool: { bytes: number[]; fPort: number }[], cumulative: number[]): Input {
  const r = rng.int(0, 999);
  let c = 0;
  while (r >= cumulative[c]) c++;
  const category = CATEGORIES[c];
  if (category === "hostile") return hostile(rng, pool);
  let fPort: number;
  let b: number[];
  if (category === "random") {
    fPort = randomPort(rng);
    b = randomBytes(rng, rng.int(0, 60));
  } else if (category === "randomAtValidLength") {
    fPort = rng.int(1, 11);
    const lengths = validLengths(uplinkByPort.get(fPort)!);
    b = randomBytes(rng, lengths[rng.int(0, lengths.length - 1)]);
  } else {
    const m = pool[rng.int(0, pool.length - 1)];
    fPort = m.fPort;
    b = m.bytes.slice();
    if (category === "bitFlip") {
      for (let k = rng.int(1, 4); k > 0 && b.length; k--) b[rng.int(0, b.length - 1)] ^= 1 << rng.int(0, 7);
    } else if (category === "truncate") b.length = rng.int(0, Math.max(0, b.length - 1));
    else if (category === "extend") b.push(...randomBytes(rng, rng.int(1, 8)));
    else if (category === "insert") {
      for (let k = rng.int(1, 3); k > 0; k--) b.splice(rng.int(0, b.length), 0, rng.nextU32() & 0xff);
    } else if (category === "delete") {
      for (let k = rng.int(1, 3); k > 0 && b.length; k--) b.splice(rng.int(0, b.length - 1), 1);
    } else fPort = randomPort(rng); // portSwap
  }
  return { category, input: { bytes: b, fPort }, wellFormed: wellFormed(fPort, b.length) };
}

/** Whether every number in a decoded value is finite. */
function allFinite(v: unknown): boolean {
  if (typeof v === "number") return isFinite(v);
  if (v && typeof v === "object") {
    for (const k in v as object) if (!allFinite((v as Record<string, unknown>)[k])) return false;
  }
  return true;
}

function stringArray(a: unknown): boolean {
  if (!Array.isArray(a)) return false;
  for (const s of a) if (typeof s !== "string") return false;
  return true;
}

/** What is wrong with one decoder result, or undefined. */
function problem(r: DecodeResult, expect: boolean | undefined): string | undefined {
  if (!r || typeof r !== "object") return "result is not an object";
  if (!stringArray(r.errors) || !stringArray(r.warnings)) return "errors/warnings are not arrays of strings";
  for (const e of r.errors) if (e.indexOf("internal codec error") === 0) return "internal: " + e;
  if ((r.errors.length === 0) !== (r.data !== undefined)) return "data must be present exactly when there are no errors";
  if (r.data !== undefined && !allFinite(r.data)) return "decoded data has a non-finite number";
  if (expect === true && r.errors.length) return "well-formed message refused: " + r.errors.join("; ");
  if (expect === false && !r.errors.length) return "malformed message accepted";
  return undefined;
}

function describe(i: Input): Record<string, unknown> {
  const b = i.input.bytes as ArrayLike<unknown>;
  const hex = Array.prototype.every.call(b, (x: unknown) => typeof x === "number" && x === ((x as number) & 0xff))
    ? Array.from(b as ArrayLike<number>, (x) => x.toString(16).padStart(2, "0")).join("")
    : undefined;
  return { category: i.category, fPort: String(i.input.fPort), bytesHex: hex, bytes: hex ? undefined : JSON.stringify(Array.from(b)), recvTime: i.input.recvTime === undefined ? undefined : String(i.input.recvTime) };
}

async function run(ctx: BenchContext): Promise<BenchResult> {
  const count = ctx.opts.raw["fuzz-count"] !== undefined ? Math.floor(Number(ctx.opts.raw["fuzz-count"])) : 1_000_000;
  if (!(count > 0)) throw new Error("--fuzz-count needs a positive number");
  const lns = loadLns(ctx.log);
  const rng = new Rng(ctx.opts.seed).fork("fuzz");
  const pool = SAMPLES.map((s) => ({ bytes: encodeOurs(s), fPort: s.port }));
  for (let i = 0; i < 3000; i++) pool.push(randomValid(rng));
  const cumulative: number[] = [];
  let acc = 0;
  for (const c of CATEGORIES) cumulative.push((acc += WEIGHTS[c]));

  const perCategory = {} as Record<Category, { inputs: number; decoded: number; withWarnings: number; rejected: number; findings: number }>;
  for (const c of CATEGORIES) perCategory[c] = { inputs: 0, decoded: 0, withWarnings: 0, rejected: 0, findings: 0 };
  const bad = { throwsTs: 0, throwsLns: 0, internalErrors: 0, badResults: 0, contractViolations: 0, tsLnsMismatches: 0 };
  /** The first input of each kind of finding, to replay. */
  const firsts: { [kind: string]: Record<string, unknown> } = {};
  const note = (kind: string, i: Input, decoder: string, what: string) => {
    perCategory[i.category].findings++;
    if (!firsts[kind]) firsts[kind] = { ...describe(i), decoder, problem: what };
  };

  ctx.log(`fuzz: ${thousands(count)} inputs, seed ${ctx.opts.seed}…`);
  const t0 = performance.now();
  for (let n = 0; n < count; n++) {
    const i = nextInput(rng, pool, cumulative);
    const results: (DecodeResult | undefined)[] = [];
    for (const [name, decode] of [["ts", decodeUplink], ["lns", lns.decodeUplink]] as const) {
      let r: DecodeResult | undefined;
      try {
        r = decode(i.input);
      } catch (e) {
        if (name === "ts") bad.throwsTs++;
        else bad.throwsLns++;
        note("throw", i, name, "threw: " + ((e as Error).stack || String(e)));
      }
      results.push(r);
      if (!r) continue;
      const p = problem(r, i.wellFormed);
      if (p) {
        const kind = p.startsWith("internal: ") ? "internalErrors" : p.startsWith("well-formed") || p.startsWith("malformed") ? "contractViolations" : "badResults";
        bad[kind]++;
        note(kind, i, name, p);
      }
    }
    const [a, b] = results;
    if (a && b && JSON.stringify(a) !== JSON.stringify(b)) {
      bad.tsLnsMismatches++;
      note("tsLnsMismatches", i, "ts vs lns", `TypeScript and LNS builds disagree: ${JSON.stringify(a).slice(0, 300)} vs ${JSON.stringify(b).slice(0, 300)}`);
    }
    const s = perCategory[i.category];
    s.inputs++;
    if (a) {
      if (a.errors.length) s.rejected++;
      else {
        s.decoded++;
        if (a.warnings.length) s.withWarnings++;
      }
    }
  }
  const ms = performance.now() - t0;
  const throws = bad.throwsTs + bad.throwsLns;
  const totalBad = throws + bad.internalErrors + bad.badResults + bad.contractViolations + bad.tsLnsMismatches;
  const totals = { inputs: 0, decoded: 0, withWarnings: 0, rejected: 0, findings: 0 };
  for (const c of CATEGORIES) for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += perCategory[c][k];

  return {
    figures: { seed: ctx.opts.seed, decodeCalls: count * 2, throws, ...bad, ...totals, perCategory, firstThrow: firsts.throw ?? null, firstByKind: firsts, ms: Math.round(ms) },
    failed: totalBad ? `${totalBad} fuzz finding(s): ${Object.keys(firsts).join(", ")}` : undefined,
    tables: [
      {
        title: `Decoder fuzzing: ${thousands(count)} inputs × 2 decoders (TypeScript, LNS script), seed ${ctx.opts.seed}, ${(ms / 1000).toFixed(1)} s`,
        columns: ["inputs", "count", "decoded", "with warnings", "rejected", "findings"],
        align: ["l", "r", "r", "r", "r", "r"],
        rows: [
          ...CATEGORIES.map((c) => [c, thousands(perCategory[c].inputs), thousands(perCategory[c].decoded), thousands(perCategory[c].withWarnings), thousands(perCategory[c].rejected), thousands(perCategory[c].findings)]),
          ["all", thousands(totals.inputs), thousands(totals.decoded), thousands(totals.withWarnings), thousands(totals.rejected), thousands(totals.findings)],
        ],
        notes: [
          `throws: ${throws} (TypeScript ${bad.throwsTs}, LNS ${bad.throwsLns}) ${throws ? "FAIL" : "PASS"}`,
          `internal codec errors: ${bad.internalErrors}; malformed results: ${bad.badResults}; accepted/refused wrongly: ${bad.contractViolations}; TypeScript/LNS disagreements: ${bad.tsLnsMismatches}`,
          firsts.throw ? `first throwing input: ${JSON.stringify(firsts.throw)}` : "no input made a decoder throw",
          ...Object.keys(firsts).filter((k) => k !== "throw").map((k) => `first of ${k}: ${JSON.stringify(firsts[k])}`),
        ],
      },
    ],
  };
}

export const fuzzBench: BenchModule = {
  name: "fuzz",
  title: "Codec: decoder fuzzing",
  enabled: (opts) => opts.raw.fuzz === true,
  run,
};
