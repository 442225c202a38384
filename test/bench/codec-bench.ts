/**
 * Codec benchmarks, each against a baseline measured in the same run:
 * 1. payload bytes per message type against CayenneLPP for the same readings
 *    (target: ours ≤ 40 % of Cayenne's, per type);
 * 2. uplinks decoded per second by our TypeScript decoder, by the single-file
 *    LNS build (codecs/dist/lns.js) and by the cayenne-lpp decoder;
 * 3. the size of codecs/dist/lns.js against The Things Stack's 40 KiB limit.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { decodeUplink, type DecodeResult, type UplinkInput } from "../../codecs/src/index.ts";
import { ROOT, sig, sink, thousands, timed, type BenchContext, type BenchModule, type BenchResult, type Table } from "./bench-module.ts";
import { encodeCayenne, lpp, mappingTable } from "./cayenne-map.ts";
import { SAMPLES, checkSampleKeys, encodeOurs, type Sample } from "./samples.ts";

/** The issue's target: our payload at most this fraction of Cayenne's. */
export const RATIO_LIMIT = 0.4;
/** The Things Stack's limit on a payload formatter script, in bytes. */
export const TTS_SCRIPT_LIMIT = 40960;
export const LNS_PATH = join(ROOT, "codecs/dist/lns.js");

/** One payload comparison. */
export interface SizeRow {
  label: string;
  type: string;
  port: number;
  ours: number;
  cayenne: number;
  ratio: number;
  pass: boolean;
}

/** Our bytes and Cayenne's for every sample. */
export function sizeRows(samples: Sample[] = SAMPLES): SizeRow[] {
  return samples.map((s) => {
    checkSampleKeys(s);
    const ours = encodeOurs(s).length;
    const cayenne = encodeCayenne(s).bytes.length;
    const ratio = ours / cayenne;
    return { label: s.label, type: s.type, port: s.port, ours, cayenne, ratio, pass: ratio <= RATIO_LIMIT };
  });
}

/** Builds the LNS script if it is missing or older than the codec source, then loads its decodeUplink. */
export function loadLns(log: (line: string) => void): { decodeUplink: (input: UplinkInput) => DecodeResult; source: string } {
  try {
    const out = execFileSync(process.execPath, [join(ROOT, "scripts/build.mjs"), "--if-needed"], { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    if (out.trim()) log(out.trim());
  } catch (e) {
    if (!existsSync(LNS_PATH)) throw e;
    log(`warning: codec build failed, using the existing ${LNS_PATH}: ${(e as Error).message.split("\n")[0]}`);
  }
  const source = readFileSync(LNS_PATH, "utf8");
  // The script declares decodeUplink etc. at top level, as network servers expect; run it as a function body.
  const api = new Function(source + "\n;return { decodeUplink: decodeUplink };")() as { decodeUplink: (input: UplinkInput) => DecodeResult };
  return { decodeUplink: api.decodeUplink, source };
}

interface Decoder {
  name: string;
  label: string;
  /** Decodes the whole corpus once; returns the number of messages. */
  pass: () => number;
  items: number;
  ms: number;
}

function decoderOverCorpus(name: string, label: string, decode: (i: number) => number, n: number): Decoder {
  return {
    name, label, items: 0, ms: 0,
    pass: () => {
      let acc = 0;
      for (let i = 0; i < n; i++) acc += decode(i);
      sink.n ^= acc;
      return n;
    },
  };
}

function throughput(ctx: BenchContext, lnsDecode: (input: UplinkInput) => DecodeResult) {
  // Mixed corpus: every sample, as a network server passes it (plain byte arrays), and the same readings as Cayenne buffers.
  const ours: UplinkInput[] = SAMPLES.map((s) => ({ bytes: encodeOurs(s), fPort: s.port }));
  const cay: Buffer[] = SAMPLES.map((s) => encodeCayenne(s).bytes);
  for (const input of ours) {
    const a = decodeUplink(input);
    const b = lnsDecode(input);
    if (a.errors.length || JSON.stringify(a) !== JSON.stringify(b)) throw new Error(`corpus message on fPort ${input.fPort} does not decode identically: ${JSON.stringify(a.errors)}`);
  }
  const n = ours.length;
  const decoders: Decoder[] = [
    decoderOverCorpus("ts", "ours, TypeScript (codecs/src)", (i) => decodeUplink(ours[i]).errors.length + 1, n),
    decoderOverCorpus("lns", "ours, LNS script (dist/lns.js)", (i) => lnsDecode(ours[i]).errors.length + 1, n),
    decoderOverCorpus("cayenne", "cayenne-lpp decoder", (i) => lpp.decoder.decode(cay[i]).length, n),
  ];
  // Warm up each, then interleave rounds so drift (turbo, GC, other load) touches all three alike.
  const total = ctx.opts.timeMs;
  const rounds = 4;
  for (const d of decoders) timed(d.pass, Math.max(50, total * 0.3));
  for (let r = 0; r < rounds; r++) {
    for (const d of decoders) {
      const t = timed(d.pass, total / rounds);
      d.items += t.items;
      d.ms += t.ms;
    }
  }
  const perS = (d: Decoder) => (d.items * 1000) / d.ms;
  const [ts, lns, cayenne] = decoders.map(perS);
  return {
    decoders,
    figures: {
      corpusMessages: n,
      corpusOurBytes: ours.reduce((a, m) => a + m.bytes.length, 0),
      corpusCayenneBytes: cay.reduce((a, b) => a + b.length, 0),
      measuredMsPerDecoder: sig(decoders[0].ms, 4),
      tsPerS: Math.round(ts),
      lnsPerS: Math.round(lns),
      cayennePerS: Math.round(cayenne),
      tsVsCayenne: sig(ts / cayenne, 3),
      lnsVsCayenne: sig(lns / cayenne, 3),
    },
    perS,
    cayenne,
  };
}

async function run(ctx: BenchContext): Promise<BenchResult> {
  const tables: Table[] = [];

  // 1. Payload bytes.
  const rows = sizeRows();
  const types: { [type: string]: { port: number; worstRatio: number; pass: boolean } } = {};
  for (const r of rows) {
    const t = types[r.type] || (types[r.type] = { port: r.port, worstRatio: 0, pass: true });
    t.worstRatio = Math.max(t.worstRatio, sig(r.ratio, 4));
    t.pass = t.pass && r.pass;
  }
  const failing = Object.keys(types).filter((t) => !types[t].pass);
  tables.push({
    title: `Payload bytes against CayenneLPP, same readings (target: ours ≤ ${RATIO_LIMIT * 100} % of Cayenne's)`,
    columns: ["message", "fPort", "ours B", "Cayenne B", "ours/Cayenne", "result"],
    align: ["l", "r", "r", "r", "r", "l"],
    rows: rows.map((r) => [r.label, r.port, r.ours, r.cayenne, r.ratio.toFixed(3), r.pass ? "PASS" : `FAIL: needs ≤ ${Math.floor(RATIO_LIMIT * r.cayenne + 1e-9)} B (${Math.floor(RATIO_LIMIT * r.cayenne + 1e-9) - r.ours} B)`]),
    notes: [
      failing.length
        ? `Types over the limit: ${failing.map((t) => `${t} (worst ${types[t].worstRatio.toFixed(3)})`).join(", ")}.`
        : "Every message type is within the limit.",
      "Cayenne: one channel per field (wide values over several), whole field range at equal or finer resolution; --verbose prints the mapping.",
    ],
  });
  const figures: BenchResult["figures"] = {
    payload: {
      limit: RATIO_LIMIT,
      allPass: failing.length === 0,
      failingTypes: failing,
      types,
      cases: rows.map((r) => ({ ...r, ratio: sig(r.ratio, 4) })),
    },
  };
  if (ctx.opts.verbose) {
    const mapping = mappingTable(SAMPLES);
    tables.push({
      title: "CayenneLPP mapping (cayenne-lpp 1.0.2; every channel adds 2 header bytes)",
      columns: ["field", "ours", "Cayenne", "Cayenne step", "bytes", "in"],
      align: ["l", "l", "l", "l", "r", "l"],
      rows: mapping.map((m) => [m.field, m.ours, m.cayenne, m.cayenneStep, m.cayenneBytes, m.usedIn]),
    });
    figures.cayenneMapping = mapping;
  }

  // 3 (before 2, which needs the build). LNS script size.
  const lns = loadLns(ctx.log);
  const bytes = Buffer.byteLength(lns.source, "utf8");
  const gzip = gzipSync(lns.source, { level: 9 }).length;
  figures.lnsScript = { path: "codecs/dist/lns.js", bytes, gzipBytes: gzip, limitBytes: TTS_SCRIPT_LIMIT, fractionOfLimit: sig(bytes / TTS_SCRIPT_LIMIT, 3), pass: bytes <= TTS_SCRIPT_LIMIT };

  // 2. Decode throughput.
  ctx.log(`codec: measuring decode throughput (${ctx.opts.timeMs} ms per decoder)…`);
  const tp = throughput(ctx, lns.decodeUplink);
  figures.decode = tp.figures;
  tables.push({
    title: `Uplinks decoded per second (mixed corpus of ${tp.figures.corpusMessages} valid messages, one of each row above)`,
    columns: ["decoder", "msg/s", "vs cayenne-lpp"],
    align: ["l", "r", "r"],
    rows: tp.decoders.map((d) => [d.label, thousands(tp.perS(d)), (tp.perS(d) / tp.cayenne).toFixed(2) + "×"]),
    notes: [`Same readings: our corpus is ${tp.figures.corpusOurBytes} B, Cayenne's ${tp.figures.corpusCayenneBytes} B. Node ${process.version}.`],
  });

  tables.push({
    title: "LNS script size (The Things Stack limit: 40,960 bytes)",
    columns: ["file", "bytes", "of limit", "gzip bytes", "result"],
    align: ["l", "r", "r", "r", "l"],
    rows: [["codecs/dist/lns.js", thousands(bytes), ((bytes / TTS_SCRIPT_LIMIT) * 100).toFixed(1) + " %", thousands(gzip), bytes <= TTS_SCRIPT_LIMIT ? "PASS" : "FAIL"]],
  });
  return { figures, tables };
}

export const codecBench: BenchModule = {
  name: "codec",
  title: "Codec: payload size, decode speed, LNS script size",
  run,
};
