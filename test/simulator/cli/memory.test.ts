import assert from "node:assert/strict";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { loadScenario } from "../../../simulator/src/cli/scenario.ts";
// The report pulls in Vega (top-level await): import() it.
type RunScenario = typeof import("../../../simulator/src/cli/run-scenario.ts").runScenario;
let runScenario: RunScenario;

/** A full garbage collection, with or without --expose-gc. */
function collect(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) return g();
  setFlagsFromString("--expose-gc");
  (runInNewContext("gc") as () => void)();
}

describe("simulator CLI: memory over the days of a run", function () {
  this.timeout(300_000);
  before(async () => {
    ({ runScenario } = await import("../../../simulator/src/cli/run-scenario.ts"));
  });

  it("the heap does not grow from day to day of a run", async () => {
    // Heap in use at the end of each day, measured in the run's hourly progress callback after a full collection.
    const heapAtDay: number[] = [];
    const days = 5;
    const r = await runScenario(loadScenario("city"), {
      days,
      nodes: 4,
      progress: (f) => {
        const day = f * days;
        if (Math.abs(day - Math.round(day)) < 1e-9 && day >= 1) {
          collect();
          heapAtDay[Math.round(day)] = process.memoryUsage().heapUsed;
        }
      },
    });
    const frames = r.summary.network.uplinks;
    assert.ok(frames > 400, `${frames} uplinks in ${days} days`);
    // Least-squares slope of the heap over days 1..5. Keeping every uplink (network record, application event,
    // AT transcript, queue log), as runs did before, grew it by ~1.6 MiB a day here; garbage collection noise is
    // a few hundred KiB either way, and what may still grow (alarms, bounded caches) is far less.
    const xs = heapAtDay.map((_, d) => d).filter((d) => heapAtDay[d] !== undefined);
    assert.equal(xs.length, days);
    const mx = xs.reduce((a, d) => a + d, 0) / xs.length;
    const my = xs.reduce((a, d) => a + heapAtDay[d], 0) / xs.length;
    const slope = xs.reduce((a, d) => a + (d - mx) * (heapAtDay[d] - my), 0) / xs.reduce((a, d) => a + (d - mx) ** 2, 0);
    const kib = (v: number) => Math.round(v / 1024);
    assert.ok(slope < 400 * 1024, `heap grew ${kib(slope)} KiB a day (${xs.map((d) => kib(heapAtDay[d])).join(", ")} KiB at the ends of days)`);
  });
});
