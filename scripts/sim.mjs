// `npm run sim`: runs the simulator CLI (simulator/src/cli/main.ts) from an
// esbuild bundle in build/sim/, rebuilt whenever a source is newer than it.
// Why not tsx, as the tests do: a bundle starts in half the time (no
// per-module transpiling, in the main thread and again in every worker
// thread), and tsx's keepNames wraps every function created at run time in a
// naming helper, which costs the simulator, creating closures per boot, about
// a seventh of its time. Same code, same results, byte for byte (tested in
// test/simulator/cli/bundle.test.ts).
//   node scripts/sim.mjs [--build-only] [sim options…]
// `buildSim()` is exported for the benchmark, which runs build/sim/api.mjs
// (simulator/src/cli/index.ts) to measure what `npm run sim` runs.
import { build } from "esbuild";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "build/sim");
const entries = { main: "simulator/src/cli/main.ts", "scenario-worker": "simulator/src/cli/scenario-worker.ts", api: "simulator/src/cli/index.ts" };
const outputs = Object.keys(entries).map((name) => join(out, `${name}.mjs`));

function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** Every source the bundle is made of (the simulator, the firmware it runs, the codec) and this script. */
function newestSource() {
  const dirs = ["simulator/src", "firmware/src", "codecs/src"].map((d) => newest(join(root, d)));
  return Math.max(...dirs, statSync(join(root, "tsconfig.json")).mtimeMs, statSync(fileURLToPath(import.meta.url)).mtimeMs);
}

/**
 * Modules find files next to their source (scenarios, power budgets, the XS
 * runtime) through import.meta.url: in the bundle it must still be their own
 * source file's URL, not the bundle's.
 */
const ownUrl = {
  name: "own-import-meta-url",
  setup(b) {
    b.onLoad({ filter: /\.m?ts$/ }, (args) => {
      if (args.path.includes("node_modules")) return undefined;
      const text = readFileSync(args.path, "utf8").replace(/\bimport\.meta\.url\b/g, JSON.stringify(pathToFileURL(args.path).href));
      return { contents: text, loader: "ts" };
    });
  },
};

/** Bundles the simulator into build/sim/ unless it is up to date; returns whether it built, and where the API bundle is. */
export async function buildSim() {
  if (outputs.every((f) => existsSync(f) && statSync(f).mtimeMs >= newestSource())) return false;
  await build({
    entryPoints: Object.entries(entries).map(([name, path]) => ({ in: join(root, path), out: name })),
    bundle: true, platform: "node", format: "esm", target: "node20", packages: "external",
    tsconfig: join(root, "tsconfig.json"), outdir: out, outExtension: { ".js": ".mjs" },
    define: { SIM_WORKER_BUNDLE: JSON.stringify(pathToFileURL(outputs[1]).href) },
    plugins: [ownUrl], logLevel: "warning",
  });
  return true;
}

/** The bundled API module (simulator/src/cli/index.ts), for `import()`. */
export const API_BUNDLE = pathToFileURL(outputs[2]).href;

/** The worker count asked for on the command line (1 when not given or not a number). */
function workersAsked(args) {
  const i = args.findIndex((a) => a === "--workers" || a.startsWith("--workers="));
  if (i < 0) return 1;
  const n = Number(args[i].includes("=") ? args[i].slice(10) : args[i + 1]);
  return Number.isInteger(n) && n > 0 ? n : 1;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const buildOnly = process.argv.includes("--build-only");
  if (buildOnly) process.argv.splice(process.argv.indexOf("--build-only"), 1);
  const built = await buildSim();
  if (buildOnly) console.log(built ? "sim: built build/sim/" : "sim: up to date");
  else if (workersAsked(process.argv.slice(2)) > 1 && !process.execArgv.includes("--single-threaded-gc")) {
    // With worker threads on every core, V8's GC helper threads only compete with them: GC on each thread's own
    // time is about 9 % faster (1,000 nodes × 1 day, 2 workers, 2 cores). A V8 flag: it must be given at start-up.
    const r = spawnSync(process.execPath, ["--single-threaded-gc", ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: "inherit" });
    process.exit(r.status ?? 1);
  } else await import(pathToFileURL(outputs[0]).href);
}
