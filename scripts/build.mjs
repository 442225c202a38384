// Builds what the tests and users need from source:
//   codecs/dist/index.js (ESM), index.cjs (CJS), *.d.ts (types)
//   codecs/dist/lns.js: one ES5.1 script for The Things Stack and ChirpStack.
// `--if-needed` skips the build when every output is newer than every source.
import { build, transform } from "esbuild";
import ts from "typescript";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const codecs = join(root, "codecs");
const src = join(codecs, "src");
const dist = join(codecs, "dist");
const outputs = ["index.js", "index.cjs", "index.d.ts", "lns.js"].map((f) => join(dist, f));

function newestSource() {
  let newest = statSync(join(root, "scripts/build.mjs")).mtimeMs;
  for (const f of readdirSync(src)) newest = Math.max(newest, statSync(join(src, f)).mtimeMs);
  return newest;
}

if (process.argv.includes("--if-needed") && outputs.every((f) => existsSync(f) && statSync(f).mtimeMs >= newestSource())) {
  console.log("codecs: up to date");
  process.exit(0);
}

mkdirSync(dist, { recursive: true });
const common = { entryPoints: [join(src, "index.ts")], bundle: true, platform: "neutral", target: "es2020", logLevel: "warning" };
await build({ ...common, format: "esm", outfile: join(dist, "index.js") });
await build({ ...common, format: "cjs", outfile: join(dist, "index.cjs") });
execFileSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", join(codecs, "tsconfig.build.json")], { stdio: "inherit" });

// LNS script: bundle to one closure, lower to ES5 with TypeScript (esbuild
// cannot lower let/const or classes to ES5), minify, then expose the four
// entry points as top-level function declarations, which is what both
// goja (The Things Stack) and QuickJS (ChirpStack, module scope) look for.
const bundled = await build({
  entryPoints: [join(src, "lns.ts")], bundle: true, write: false, format: "iife", globalName: "citysenseCodec",
  platform: "neutral", target: "es2017", logLevel: "warning",
});
const es5 = ts.transpileModule(bundled.outputFiles[0].text, {
  compilerOptions: { target: ts.ScriptTarget.ES5, module: ts.ModuleKind.None, ignoreDeprecations: "6.0", removeComments: true },
}).outputText;
const min = await transform(es5, { minify: true, target: "es5", charset: "utf8" });
const pkg = JSON.parse(readFileSync(join(codecs, "package.json"), "utf8"));
const header = `/* citysense LoRaWAN codec ${pkg.version} (${pkg.license}). Payload format: codecs/PAYLOAD.md. ES5.1; for The Things Stack and ChirpStack v4. */\n`;
const footer = ["decodeUplink", "encodeDownlink", "decodeDownlink", "normalizeUplink"]
  .map((f) => `function ${f}(input){return citysenseCodec.${f}(input)}`).join("\n");
writeFileSync(join(dist, "lns.js"), header + min.code + footer + "\n");
// The device repository ships the same script under its own name.
writeFileSync(join(codecs, "device-repo/vendor/citysense/citysense-codec.js"), readFileSync(join(dist, "lns.js")));
console.log(`codecs: built dist/ (lns.js ${statSync(join(dist, "lns.js")).size} bytes)`);
