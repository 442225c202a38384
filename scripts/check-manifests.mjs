#!/usr/bin/env node
// Checks the Moddable manifests in manifests/ without the Moddable SDK:
//  - every manifest is valid JSON with the structure the build relies on
//    (includes, platforms for both ESP32 boards and the desktop simulator,
//    native:sleep and native:rtc (and the water node's native:ulp-pulse) mapped per platform, creation.main, node config);
//  - every module path they list resolves to files the way mcconfig resolves
//    it (a `*` path needs its directory and at least one module file; a plain
//    path needs a file with that name and a module extension);
//  - every preload entry names a listed module.
// Paths under $(MODDABLE) are Moddable's and are not checked here.
//
// Usage: node scripts/check-manifests.mjs [--json] [--strict]
// Missing node, link and ml modules (firmware/src/nodes, link, ml) are
// reported as pending and do not fail the check unless --strict is given;
// anything else missing fails it. Nothing is skipped silently: every module
// path is printed with its status.
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const NODE_TYPES = ["air", "water", "level"];
export const REQUIRED_PLATFORMS = ["esp32/nodemcu", "esp32/esp32s3", "lin", "mac", "win"];
const ESP32_PLATFORMS = ["esp32/nodemcu", "esp32/esp32s3"];
/** XS-in-C modules in firmware/native every node uses (common.json), each with a simulator stand-in and a declaration. */
export const NATIVE_MODULES = ["sleep", "rtc"];
/** Native modules only one node uses, mapped in that node's manifest. */
export const NODE_NATIVE_MODULES = { water: ["ulp-pulse"] };
/** Moddable modules a node imports beyond common.json, by the manifest that brings each (the water node's DS18B20 bus). */
export const NODE_MODDABLE_INCLUDES = { water: { onewire: "$(MODULES)/drivers/onewire/manifest.json" } };
const DESKTOP_PLATFORMS = ["lin", "mac", "win"];
/** Extensions mcconfig turns into modules (ModulesRule in tools/mcmanifest.js), .d.ts included. */
const MODULE_EXTENSIONS = [".d.ts", ".ts", ".js", ".mjs", ".c", ".cc", ".cpp", ".h", ".json"];
/** Folders whose modules may legitimately not exist yet (written by other work in progress). */
const PENDING_PREFIXES = ["firmware/src/nodes/", "firmware/src/link/", "firmware/src/ml/"];

function splitName(file) {
  for (const ext of MODULE_EXTENSIONS) if (file.endsWith(ext)) return { name: file.slice(0, -ext.length), ext };
  return undefined;
}

function isDir(path) {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Module files a manifest source path stands for, as mcconfig's Rule.iterate finds them. */
function resolveSource(manifestDir, source) {
  const full = resolve(manifestDir, source);
  const dir = dirname(full);
  const base = full.slice(dir.length + 1);
  const repoPath = relative(ROOT, full).split("\\").join("/");
  if (!isDir(dir)) return { repoPath, kind: base.includes("*") ? "wildcard" : "file", dirExists: false, files: [] };
  const star = base.lastIndexOf("*");
  const files = [];
  for (const entry of readdirSync(dir)) {
    if (entry.startsWith(".")) continue;
    const parts = splitName(entry);
    if (!parts) continue;
    if (star >= 0 ? parts.name.startsWith(base.slice(0, star)) : parts.name === base) files.push(relative(ROOT, join(dir, entry)).split("\\").join("/"));
  }
  return { repoPath, kind: star >= 0 ? "wildcard" : "file", dirExists: true, files: files.sort() };
}

/** Every (target, source) pair of a `modules` object; `*` arrays included. */
function moduleEntries(modules) {
  const out = [];
  for (const [target, value] of Object.entries(modules ?? {})) {
    for (const item of [].concat(value)) {
      const source = typeof item === "string" ? item : item?.source;
      if (typeof source === "string") out.push({ target, source });
    }
  }
  return out;
}

/** Module names a (target, resolved files) pair defines, as the XS archive will name them. */
function definedNames(target, resolved) {
  if (target === "*") return resolved.files.map((f) => splitName(f.split("/").pop()).name);
  const star = target.lastIndexOf("*");
  if (star < 0) return [target];
  const head = target.slice(0, star);
  const sourceBase = resolved.repoPath.split("/").pop();
  const prefix = sourceBase.slice(0, sourceBase.lastIndexOf("*"));
  return resolved.files.filter((f) => !f.endsWith(".d.ts")).map((f) => head + splitName(f.split("/").pop()).name.slice(prefix.length));
}

function readJson(path, problems) {
  let text;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    problems.push(`${relative(ROOT, path)}: cannot read (${e.message})`);
    return undefined;
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    problems.push(`${relative(ROOT, path)}: invalid JSON (${e.message})`);
    return undefined;
  }
}

function isObject(v) {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** Runs every check; returns a report (also what --json prints). */
export function checkManifests(root = ROOT) {
  if (root !== ROOT) throw new Error("checkManifests only checks this repository");
  const problems = [];
  const modules = [];
  const preloads = [];
  const manifests = {};
  const files = ["manifests/common.json", "manifests/typings.json", ...NODE_TYPES.map((t) => `manifests/${t}/manifest.json`)];
  for (const file of files) manifests[file] = readJson(join(ROOT, file), problems);

  // Structure: common.json
  const common = manifests["manifests/common.json"];
  if (common) {
    const inc = [].concat(common.include ?? []);
    if (inc[0] !== "./typings.json") problems.push("manifests/common.json: include must start with ./typings.json (its typings must reach mcconfig before $(MODDABLE)/typings)");
    for (const need of ["$(MODDABLE)/examples/manifest_base.json", "$(MODDABLE)/examples/manifest_typings.json"])
      if (!inc.includes(need)) problems.push(`manifests/common.json: include lacks ${need}`);
    if (!isObject(common.platforms)) problems.push("manifests/common.json: platforms missing");
    else {
      for (const p of REQUIRED_PLATFORMS) if (!isObject(common.platforms[p])) problems.push(`manifests/common.json: platform ${p} missing`);
      if (!common.platforms["..."]?.error) problems.push('manifests/common.json: platform "..." should be an error for unsupported platforms');
      for (const p of ESP32_PLATFORMS) {
        const entry = common.platforms[p];
        if (!entry) continue;
        if (![].concat(entry.include ?? []).includes("$(MODDABLE)/modules/io/manifest.json")) problems.push(`manifests/common.json: ${p} must include $(MODDABLE)/modules/io/manifest.json`);
        for (const m of NATIVE_MODULES)
          if (entry.modules?.[`native:${m}`] !== `../firmware/native/${m}`) problems.push(`manifests/common.json: ${p} must map native:${m} to ../firmware/native/${m}`);
        if (!Number.isInteger(entry.defines?.sleep?.retain_max)) problems.push(`manifests/common.json: ${p} needs defines.sleep.retain_max`);
        if (!isObject(entry.config?.board)) problems.push(`manifests/common.json: ${p} needs config.board (pins)`);
      }
      for (const p of DESKTOP_PLATFORMS) {
        const entry = common.platforms[p];
        for (const m of NATIVE_MODULES)
          if (entry && entry.modules?.[`native:${m}`] !== `./sim/native-${m}`) problems.push(`manifests/common.json: ${p} must map native:${m} to the simulator stand-in (./sim/native-${m})`);
      }
    }
    // RETAIN_MAX agreement between the C define, sleep.js and the simulator
    const js = existsSync(join(ROOT, "firmware/native/sleep.js")) ? readFileSync(join(ROOT, "firmware/native/sleep.js"), "utf8") : "";
    const jsMax = /export const RETAIN_MAX = (\d+)/.exec(js)?.[1];
    for (const p of ESP32_PLATFORMS) {
      const defined = common.platforms?.[p]?.defines?.sleep?.retain_max;
      if (jsMax && defined !== undefined && Number(jsMax) !== defined) problems.push(`manifests/common.json: ${p} defines.sleep.retain_max ${defined} differs from RETAIN_MAX ${jsMax} in firmware/native/sleep.js`);
    }
  }

  // Structure: node manifests
  for (const type of NODE_TYPES) {
    const file = `manifests/${type}/manifest.json`;
    const m = manifests[file];
    if (!m) continue;
    if (![].concat(m.include ?? []).includes("../common.json")) problems.push(`${file}: include must contain ../common.json`);
    const main = m.creation?.main;
    if (main !== `firmware/src/nodes/${type}/main`) problems.push(`${file}: creation.main must be firmware/src/nodes/${type}/main`);
    if (!isObject(m.modules) || !m.modules[`firmware/src/nodes/${type}/*`]) problems.push(`${file}: modules must list firmware/src/nodes/${type}/*`);
    if (m.config?.node !== type) problems.push(`${file}: config.node must be "${type}"`);
    if (!Number.isInteger(m.config?.intervalS) || m.config.intervalS <= 0) problems.push(`${file}: config.intervalS must be a positive integer`);
    if (m.build?.NAME !== `citysense-${type}`) problems.push(`${file}: build.NAME must be citysense-${type}`);
    for (const [name, inc] of Object.entries(NODE_MODDABLE_INCLUDES[type] ?? {}))
      if (![].concat(m.include ?? []).includes(inc)) problems.push(`${file}: include must contain ${inc} (the node imports "${name}")`);
    for (const n of NODE_NATIVE_MODULES[type] ?? []) {
      for (const p of ESP32_PLATFORMS)
        if (m.platforms?.[p]?.modules?.[`native:${n}`] !== `../../firmware/native/${n}`) problems.push(`${file}: ${p} must map native:${n} to ../../firmware/native/${n}`);
      for (const p of DESKTOP_PLATFORMS)
        if (m.platforms?.[p]?.modules?.[`native:${n}`] !== `../sim/native-${n}`) problems.push(`${file}: ${p} must map native:${n} to ../sim/native-${n}`);
    }
  }

  // Module paths, top level and per platform
  for (const [file, m] of Object.entries(manifests)) {
    if (!m) continue;
    const dir = dirname(join(ROOT, file));
    const scopes = [["*", m]];
    for (const [platform, entry] of Object.entries(m.platforms ?? {})) scopes.push([platform, entry]);
    for (const [platform, scope] of scopes) {
      for (const { target, source } of moduleEntries(scope.modules)) {
        if (source.includes("$(")) continue; // Moddable's own: checked by mcconfig
        const r = resolveSource(dir, source);
        const pending = PENDING_PREFIXES.some((p) => r.repoPath.startsWith(p));
        const ok = r.dirExists && r.files.length > 0;
        const status = ok ? "ok" : pending ? "pending" : "missing";
        modules.push({ manifest: file, platform, target, source, path: r.repoPath, kind: r.kind, status, files: r.files, names: ok ? definedNames(target, r) : [] });
      }
      for (const name of [].concat(scope.preload ?? [])) preloads.push({ manifest: file, platform, name });
    }
  }
  // creation.main must be a module that will exist
  for (const type of NODE_TYPES) {
    const main = manifests[`manifests/${type}/manifest.json`]?.creation?.main;
    if (main) {
      // the node folder is work in progress, so a main module not written yet is pending, not an error
      const defined = modules.some((e) => e.names.includes(main));
      modules.push({ manifest: `manifests/${type}/manifest.json`, platform: "*", target: "(creation.main)", source: main, path: `${main}.ts`, kind: "file", status: defined ? "ok" : "pending", files: defined ? [`${main}.ts`] : [], names: [] });
    }
  }
  // preloads must name listed modules (for every platform that lists them)
  const allNames = new Set(modules.flatMap((e) => e.names));
  for (const p of preloads) if (!allNames.has(p.name)) problems.push(`${p.manifest} [${p.platform}]: preload "${p.name}" is not a listed module`);

  const missing = modules.filter((e) => e.status === "missing");
  const pending = modules.filter((e) => e.status === "pending");
  for (const e of missing) problems.push(`${e.manifest} [${e.platform}]: ${e.target} → ${e.source}: ${e.kind === "wildcard" ? (existsSync(dirname(join(ROOT, e.path))) ? "no module files" : "directory missing") : "file missing"} (${e.path})`);
  return { ok: problems.length === 0, problems, modules, missing, pending, preloads };
}

function main(argv) {
  const json = argv.includes("--json");
  const strict = argv.includes("--strict");
  const report = checkManifests();
  const failed = !report.ok || (strict && report.pending.length > 0);
  if (json) {
    process.stdout.write(JSON.stringify(report, null, 2) + "\n");
  } else {
    for (const e of report.modules) {
      const what = e.status === "ok" ? `${e.files.length} file${e.files.length === 1 ? "" : "s"}` : e.status === "pending" ? "not written yet" : "MISSING";
      console.log(`${e.status.padEnd(7)} ${e.manifest} [${e.platform}] ${e.target} → ${e.source} (${what})`);
    }
    if (report.pending.length) console.log(`\n${report.pending.length} pending module path(s): ${[...new Set(report.pending.map((e) => e.path))].join(", ")}`);
    for (const p of report.problems) console.error(`error: ${p}`);
    console.log(failed ? "\nmanifest check FAILED" : "\nmanifest check passed");
  }
  process.exitCode = failed ? 1 : 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main(process.argv.slice(2));
