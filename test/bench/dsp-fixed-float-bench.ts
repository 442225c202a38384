/**
 * Fixed point against floating point, in the XS engine: two per-sample DSP
 * pipelines of the nodes (test/bench/fixtures/dsp-pipelines.ts), once with the
 * firmware's dsp/ code (integers, shifts, Math.imul) and once written with
 * doubles the plain way, both on the same input sequence in the same XS
 * machine. Compute per sample = (meter of N + K samples − meter of N) / K.
 * The baseline is the float version: `fixed/float` below 1 means the fixed-point
 * path costs fewer XS bytecodes. (The ESP32 and ESP32-S3 have a single-precision
 * FPU only, so XS's doubles are software-emulated there and the meter, which
 * counts bytecodes, understates the float version's real cost on the board.)
 * "Sum" is the sum of the pipeline's outputs over the first 1024 samples, to
 * show the two versions compute the same thing (equal or nearly, by rounding).
 */
import { fileURLToPath } from "node:url";
import { bundleForXs } from "../../simulator/src/xs/bundle.ts";
import { Xsnap } from "../../simulator/src/xs/xsnap.ts";
import { ensureXsBuilt, evaluateJson } from "../xs/engine-build.ts";
import { sig, thousands, type BenchContext, type BenchModule, type BenchResult } from "./bench-module.ts";

const ENTRY = fileURLToPath(new URL("./fixtures/dsp-pipelines.ts", import.meta.url));
const N = 64;
const K = 4096;
const PIPELINES = [
  { name: "air", label: "air: EWMA ×3, baseline EWMA, 2 hysteresis, US AQI + category", fixed: "airFixed", float: "airFloat" },
  { name: "level", label: "level: median of 5, fill ½ %, rate/h over 6 h, full hysteresis", fixed: "levelFixed", float: "levelFloat" },
];

async function perSample(xs: Xsnap, fn: string): Promise<number> {
  const a = await xs.evaluate(`Dsp.${fn}(${N})`);
  const b = await xs.evaluate(`Dsp.${fn}(${N + K})`);
  return (b.meter.compute - a.meter.compute) / K;
}

async function run(ctx: BenchContext): Promise<BenchResult> {
  await ensureXsBuilt();
  const xs = await Xsnap.start({ name: "dsp-bench" });
  try {
    await xs.evaluate(await bundleForXs(ENTRY, { globalName: "Dsp" }));
    const figures: { [name: string]: unknown } = { samplesMeasured: K };
    const rows: (string | number)[][] = [];
    for (const p of PIPELINES) {
      ctx.log(`dsp: ${p.name}, fixed and float in XS…`);
      const sumFixed = await evaluateJson<number>(xs, `Dsp.${p.fixed}(1024)`);
      const sumFloat = await evaluateJson<number>(xs, `Dsp.${p.float}(1024)`);
      const fixed = await perSample(xs, p.fixed);
      const float = await perSample(xs, p.float);
      figures[p.name] = {
        fixedComputePerSample: sig(fixed, 4), floatComputePerSample: sig(float, 4), fixedOverFloat: sig(fixed / float, 3),
        sumFixed, sumFloat,
      };
      rows.push([p.label, thousands(fixed), thousands(float), (fixed / float).toFixed(2), sumFixed, sumFloat]);
    }
    return {
      figures,
      tables: [{
        title: "DSP per sample in XS: fixed point (firmware dsp/) against a float version of the same pipeline",
        columns: ["pipeline", "fixed compute/sample", "float compute/sample", "fixed/float", "sum fixed", "sum float"],
        align: ["l", "r", "r", "r", "r", "r"],
        rows,
        notes: [
          `Compute is XS's meter (bytecodes plus weighted native work), averaged over ${thousands(K)} samples after ${N}.`,
          "XS on the desktop runs doubles in hardware; on an ESP32 (no double FPU) the float version also pays for soft-float, which the meter does not show.",
        ],
      }],
    };
  } finally {
    await xs.close();
  }
}

export const dspFixedFloatBench: BenchModule = {
  name: "dsp-fixed-float",
  title: "DSP: fixed point against float, XS compute per sample",
  run,
};
