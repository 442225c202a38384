#!/usr/bin/env node
// Builds Moddable's XS engine as the `xsnap-worker` binary from the C sources that
// ship inside node_modules/@agoric/xsnap (npm does not run that package's install
// script, and its own build wants git and the network). Offline: needs only a C
// compiler and GNU make.
//
//   node scripts/build-xs.mjs [--force] [--jobs=N] [--quiet]
//
// Output: build/xs/xsnap-worker (release). Intermediates: build/xs/{bin,tmp}/.
// Idempotent: exits at once when the binary is newer than every source file and
// was built with the same configuration (compiler, version).
import { spawn, spawnSync } from "node:child_process";
import {
  closeSync,
  copyFileSync,
  chmodSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { platform as osPlatform } from "node:os";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const OUT_DIR = join(ROOT, "build", "xs");
/** Stable path of the release binary that the tests and benchmarks use. */
const XSNAP_WORKER = join(OUT_DIR, "xsnap-worker");
const STAMP = join(OUT_DIR, "build.config");
const LOCK = join(OUT_DIR, ".build.lock");

const args = process.argv.slice(2);
const force = args.includes("--force");
const quiet = args.includes("--quiet");
const jobsArg = args.find((a) => a.startsWith("--jobs="));
const jobs = jobsArg ? Number(jobsArg.slice("--jobs=".length)) : Number(process.env.XS_BUILD_JOBS ?? 2);

const log = (msg) => {
  if (!quiet) console.log(`build-xs: ${msg}`);
};
const fail = (msg) => {
  console.error(`build-xs: error: ${msg}`);
  process.exit(1);
};

/** Finds node_modules/@agoric/xsnap from the repo root upwards (workspaces may hoist). */
function findXsnapPackage() {
  for (let dir = ROOT; ; dir = dirname(dir)) {
    const candidate = join(dir, "node_modules", "@agoric", "xsnap");
    if (existsSync(join(candidate, "package.json"))) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

const XSNAP = findXsnapPackage();
if (!XSNAP) fail("node_modules/@agoric/xsnap not found; run `npm install` first");
const MODDABLE = join(XSNAP, "moddable");
const NATIVE = join(XSNAP, "xsnap-native", "xsnap");
const PLATFORM = { linux: "lin", darwin: "mac" }[osPlatform()];
if (!PLATFORM) fail(`unsupported OS ${osPlatform()} (xsnap builds on Linux and macOS only)`);
const MAKEFILE_DIR = join(NATIVE, "makefiles", PLATFORM);
const XSNAP_VERSION = JSON.parse(readFileSync(join(XSNAP, "package.json"), "utf8")).version;
const CC = process.env.CC || "cc";
const MAKE = process.env.MAKE || "make";

for (const required of [join(MODDABLE, "xs", "includes", "xs.h"), join(NATIVE, "sources", "xsnap-worker.c"), join(MAKEFILE_DIR, "xsnap-worker.mk")]) {
  if (!existsSync(required)) fail(`missing ${required}; is @agoric/xsnap installed completely (it ships its C sources)?`);
}
if (/\s/.test(OUT_DIR) || /\s/.test(XSNAP)) fail("make cannot handle spaces in paths; move the checkout to a path without spaces");

/** What goes into the binary besides the sources; a change forces a rebuild. */
const config = [`XSNAP_VERSION=${XSNAP_VERSION}`, `CC=${CC}`, `PLATFORM=${PLATFORM}`, "GOAL=release", ""].join("\n");

/** Newest modification time among the files the binary is built from. */
function newestSourceMtime() {
  const roots = [
    join(MODDABLE, "xs", "sources"),
    join(MODDABLE, "xs", "includes"),
    join(MODDABLE, "xs", "platforms"),
    join(MODDABLE, "modules", "data"),
    join(NATIVE, "sources"),
    MAKEFILE_DIR,
  ];
  let newest = 0;
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  for (const dir of roots) if (existsSync(dir)) walk(dir);
  return newest;
}

function upToDate() {
  if (!existsSync(XSNAP_WORKER) || !existsSync(STAMP)) return false;
  if (readFileSync(STAMP, "utf8") !== config) return false;
  return statSync(XSNAP_WORKER).mtimeMs >= newestSourceMtime();
}

/** Checks that a tool runs; `command` may carry arguments (CC="ccache gcc"). */
function requireTool(command, what) {
  const [exe, ...rest] = command.split(/\s+/).filter(Boolean);
  const probe = spawnSync(exe, [...rest, "--version"], { stdio: "ignore" });
  if (probe.error && probe.error.code === "ENOENT") {
    fail(`${what} \`${exe}\` not found on PATH. Building XS needs a C compiler and GNU make (Debian/Ubuntu: apt-get install build-essential; macOS: xcode-select --install) or set ${what === "C compiler" ? "CC" : "MAKE"}.`);
  }
  if (probe.error) fail(`${what} \`${exe}\` cannot run: ${probe.error.message}`);
}

/** Serializes concurrent builds (a mocha hook and `npm test`'s pretest, say). */
async function withLock(body) {
  mkdirSync(OUT_DIR, { recursive: true });
  for (let waited = 0; ; waited += 250) {
    try {
      const fd = openSync(LOCK, "wx");
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (error) {
      if (error.code !== "EEXIST") throw error;
      let holder;
      try {
        holder = Number(readFileSync(LOCK, "utf8"));
      } catch {
        continue;
      }
      let alive;
      if (!Number.isInteger(holder) || holder <= 0) {
        // Being written right now, or left empty by a crash a while ago.
        alive = Date.now() - statSync(LOCK, { throwIfNoEntry: false })?.mtimeMs < 5000;
      } else {
        try {
          process.kill(holder, 0);
          alive = true;
        } catch (e) {
          alive = e.code === "EPERM";
        }
      }
      if (!alive) {
        try {
          unlinkSync(LOCK);
        } catch {
          // another waiter removed it first
        }
        continue;
      }
      if (waited === 0) log(`another build (pid ${holder}) is running; waiting for it`);
      if (waited > 10 * 60 * 1000) fail(`gave up waiting for the build lock ${LOCK}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  try {
    return await body();
  } finally {
    try {
      unlinkSync(LOCK);
    } catch {
      // already gone
    }
  }
}

function run(command, argv, cwd) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, argv, { cwd, stdio: ["ignore", quiet ? "ignore" : "inherit", "inherit"] });
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      if (code === 0) resolvePromise();
      else reject(new Error(`${command} ${signal ? `killed by ${signal}` : `exited with code ${code}`}`));
    });
  });
}

async function build() {
  if (!force && upToDate()) {
    log(`up to date: ${XSNAP_WORKER}`);
    return;
  }
  requireTool(CC, "C compiler");
  requireTool(MAKE, "make");
  if (!Number.isInteger(jobs) || jobs < 1) fail(`--jobs must be a positive integer`);

  const started = Date.now();
  const binDir = join(OUT_DIR, "bin", PLATFORM, "release");
  const tmpDir = join(OUT_DIR, "tmp", PLATFORM, "release", "xsnap-worker");
  // The makefile creates these as prerequisites, which races under -j.
  mkdirSync(binDir, { recursive: true });
  mkdirSync(tmpDir, { recursive: true });
  if (!existsSync(STAMP) || readFileSync(STAMP, "utf8") !== config) writeFileSync(STAMP, config);

  log(`building xsnap-worker ${XSNAP_VERSION} with ${CC}, make -j${jobs} (20-60 s)`);
  await run(
    MAKE,
    [
      `-j${jobs}`,
      "-f",
      "xsnap-worker.mk",
      `MODDABLE=${MODDABLE}`,
      `BUILD_DIR=${OUT_DIR}`,
      `TLS_DIR=${join(NATIVE, "sources")}`,
      "GOAL=release",
      `XSNAP_VERSION=${XSNAP_VERSION}`,
      `CC=${CC}`,
      // Rebuilds every object when the configuration above changes.
      `EXTRA_DEPS=${STAMP}`,
    ],
    MAKEFILE_DIR,
  );

  const built = join(binDir, "xsnap-worker");
  if (!existsSync(built)) fail(`make succeeded but ${built} is missing`);
  // Install atomically so a concurrent reader never sees half a binary.
  const staging = `${XSNAP_WORKER}.${process.pid}.tmp`;
  copyFileSync(built, staging);
  chmodSync(staging, 0o755);
  renameSync(staging, XSNAP_WORKER);

  const version = spawnSync(XSNAP_WORKER, ["-v"], { encoding: "utf8" });
  if (version.status !== 0) fail(`built binary does not run: ${version.stderr || version.error?.message}`);
  log(`built ${XSNAP_WORKER} (${version.stdout.trim()}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

try {
  await withLock(build);
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}
