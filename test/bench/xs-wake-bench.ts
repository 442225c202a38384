/**
 * XS compute and heap per wake, for each node type, in Moddable's XS engine.
 *
 * The bundle is test/bench/fixtures/wake-run.ts: one node of a type on a
 * simulated board (air: SCD41 + SEN55 emulators on I2C; water: an FS400A
 * pulse meter counted by the `native:ulp-pulse` stand-in; level: the bin
 * variant on an A02YYUW emulator on a UART, no accelerometer, so no pin
 * wakes), the platform stand-ins (flash, RTC memory, deep sleep) and a
 * RecordingLink in place of the LoRaWAN modem and session.
 *
 * Compute per wake = (meter of a fresh rig run for N + k wakes − meter of a
 * fresh rig run for N wakes) / k, so building the rig and the first (cold)
 * boots are excluded. "Total" is everything a wake runs in XS: the firmware
 * (node app, drivers, dsp, codecs, queue logic) and the simulated side it
 * drives (emulated chips answering bus transactions, the virtual clock, the
 * platform stand-ins, the recording link). The baseline, measured the same
 * way in the same engine, is the harness alone: the same board and emulators
 * with a main that only calls deepSleep. "Firmware + driven emulators" =
 * total − harness; the emulators cannot be separated further without
 * instrumenting their bus handlers.
 *
 * Heap: slots allocated per wake (live slots grown over a few wakes right
 * after a GC, minus what an empty delivery grows) and slots still held per
 * wake after a GC (what a long run would accumulate; the recorded uplinks
 * account for some).
 */
import { fileURLToPath } from "node:url";
import { bundleForXs } from "../../simulator/src/xs/bundle.ts";
import { Xsnap } from "../../simulator/src/xs/xsnap.ts";
import { ensureXsBuilt } from "../xs/engine-build.ts";
import { sig, thousands, type BenchContext, type BenchModule, type BenchResult } from "./bench-module.ts";

const ENTRY = fileURLToPath(new URL("./fixtures/wake-run.ts", import.meta.url));
const TYPES = ["air", "water", "level"] as const;
/** Wakes skipped (cold boot, first readings), wakes measured, wakes for the allocation figure. */
const N = 10;
const K = 200;
const ALLOC_WAKES = 4;
const SEED = 3;

interface Measure {
  computePerWake: number;
  heapSlotsAllocatedPerWake: number;
  heapSlotsRetainedPerWake: number;
}

async function measure(xs: Xsnap, type: string, stub: boolean): Promise<Measure> {
  await xs.evaluate(`Wake.start(${JSON.stringify(type)}, ${SEED}, ${stub})`);
  const a = await xs.evaluate(`Wake.wakes(${N})`);
  const heapA = (await xs.evaluate("gc()")).meter.currentHeapCount;
  await xs.evaluate(`Wake.start(${JSON.stringify(type)}, ${SEED}, ${stub})`);
  const b = await xs.evaluate(`Wake.wakes(${N + K})`);
  const heapB = (await xs.evaluate("gc()")).meter.currentHeapCount;
  const empty = (await xs.evaluate("Wake.wakes(0)")).meter.currentHeapCount - heapB;
  const heapC = (await xs.evaluate("gc()")).meter.currentHeapCount;
  const c = await xs.evaluate(`Wake.wakes(${ALLOC_WAKES})`);
  return {
    computePerWake: (b.meter.compute - a.meter.compute) / K,
    heapSlotsAllocatedPerWake: (c.meter.currentHeapCount - heapC - empty) / ALLOC_WAKES,
    heapSlotsRetainedPerWake: (heapB - heapA) / K,
  };
}

async function run(ctx: BenchContext): Promise<BenchResult> {
  await ensureXsBuilt();
  const xs = await Xsnap.start({ name: "wake-bench" });
  try {
    await xs.evaluate(await bundleForXs(ENTRY, { globalName: "Wake" }));
    const figures: { [type: string]: unknown } = {};
    const rows: (string | number)[][] = [];
    for (const type of TYPES) {
      ctx.log(`xs-wake: ${type}, ${N} and ${N + K} wakes, node and harness alone…`);
      const total = await measure(xs, type, false);
      const harness = await measure(xs, type, true);
      const firmware = total.computePerWake - harness.computePerWake;
      figures[type] = {
        computePerWake: Math.round(total.computePerWake),
        harnessComputePerWake: Math.round(harness.computePerWake),
        firmwareAndEmulatorsComputePerWake: Math.round(firmware),
        firmwareAndEmulatorsShare: sig(firmware / total.computePerWake, 3),
        totalVsHarness: sig(total.computePerWake / harness.computePerWake, 3),
        heapSlotsAllocatedPerWake: Math.round(total.heapSlotsAllocatedPerWake),
        heapSlotsRetainedPerWake: sig(total.heapSlotsRetainedPerWake, 3),
        harnessHeapSlotsAllocatedPerWake: Math.round(harness.heapSlotsAllocatedPerWake),
      };
      rows.push([
        type, thousands(total.computePerWake), thousands(harness.computePerWake), thousands(firmware),
        ((firmware / total.computePerWake) * 100).toFixed(1) + " %", (total.computePerWake / harness.computePerWake).toFixed(1) + "×",
        thousands(total.heapSlotsAllocatedPerWake), total.heapSlotsRetainedPerWake.toFixed(2),
      ]);
    }
    return {
      figures: { wakesSkipped: N, wakesMeasured: K, ...figures },
      tables: [{
        title: `XS compute and heap per wake (wakes ${N + 1}–${N + K} of a fresh node; baseline: the harness alone, a main that only sleeps, or for water reads the count and sleeps)`,
        columns: ["node", "compute/wake", "harness", "firmware+emulators", "share", "vs harness", "slots alloc/wake", "slots kept/wake"],
        align: ["l", "r", "r", "r", "r", "r", "r", "r"],
        rows,
        notes: [
          "Compute is XS's meter (bytecodes plus weighted native work). Total = firmware (app, drivers, dsp, codec, queue) + the emulated chips it talks to + clock, platform stand-ins and a RecordingLink (no modem/LoRaWAN session).",
          "Water: 15-minute wakes on the ULP minute ring (each takes 15 minutes of counts; the harness integrates the meter over them); level: bin variant, no accelerometer; air: SCD41 + SEN55 single-shot. Slots are 32-byte XS values; kept = still live after a GC.",
        ],
      }],
    };
  } finally {
    await xs.close();
  }
}

export const xsWakeBench: BenchModule = {
  name: "xs-wake",
  title: "XS: compute and heap per wake, per node type",
  run,
};
