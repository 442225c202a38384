/**
 * Bundles TypeScript for the XS engine: one plain script (IIFE), no imports left,
 * with Moddable's platform modules (`timer`, `time`, `preference`, `onewire`, `embedded:*`,
 * `native:*`) resolved to the simulator's stand-ins exactly as the Node tests
 * resolve them (the `paths` of tsconfig.json, which tsx applies), and a `console` for the worker,
 * which has none.
 */
import { build, type Plugin } from "esbuild";
import { existsSync } from "node:fs";
import { resolve as resolvePath } from "node:path";
import { fileURLToPath } from "node:url";
import { CONSOLE_TAG } from "./xsnap.ts";

const PLATFORM_DIR = fileURLToPath(new URL("../platform/", import.meta.url));

/** Options of `bundleForXs`. */
export interface BundleForXsOptions {
  /** Global variable that receives the entry module's exports (`var <name> = ...`); omit to run for side effects only. */
  globalName?: string;
  /** Minify the output (default false, so XS error messages stay readable). */
  minify?: boolean;
  /** Extra esbuild `define` substitutions, e.g. `{ DEBUG: "false" }`. */
  define?: Record<string, string>;
  /**
   * Modules to bundle in place of others: a key is an absolute path (a relative import
   * resolving to it is swapped) or a bare specifier such as `crypto`; the value is the file to bundle instead.
   */
  replace?: Record<string, string>;
  /** Files whose exports stand in for free identifiers of the same name (esbuild `inject`), e.g. a `Buffer` shim. */
  inject?: string[];
}

/** File of the simulator stand-in for a Moddable platform specifier, or undefined if it is not one. */
export function platformModulePath(specifier: string): string | undefined {
  let name: string;
  if (specifier === "timer" || specifier === "time" || specifier === "preference" || specifier === "onewire") name = specifier;
  else if (specifier === "mc/config") name = "mc-config";
  else if (specifier.startsWith("embedded:")) name = specifier.slice("embedded:".length).replace(/\//g, "-");
  else if (specifier.startsWith("native:")) name = "native-" + specifier.slice("native:".length).replace(/\//g, "-");
  else return undefined;
  return resolvePath(PLATFORM_DIR, name + ".ts");
}

/** esbuild plugin mapping Moddable platform specifiers to simulator/src/platform/*.ts. */
export function platformAliasPlugin(): Plugin {
  return {
    name: "citysense-platform-aliases",
    setup(b) {
      b.onResolve({ filter: /^(timer|time|preference|onewire|mc\/config|embedded:.*|native:.*)$/ }, (args) => {
        const path = platformModulePath(args.path);
        if (path && existsSync(path)) return { path };
        return { errors: [{ text: `no simulator stand-in for "${args.path}" (expected ${path})` }] };
      });
    },
  };
}

/** esbuild plugin bundling `replace[key]` for a relative import resolving to `key`, or for the bare specifier `key`. */
function replacePlugin(replace: Record<string, string>): Plugin {
  return {
    name: "citysense-replace-modules",
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        const key = args.path.startsWith(".") ? resolvePath(args.resolveDir, args.path) : args.path;
        const to = Object.hasOwn(replace, key) ? replace[key] : undefined;
        return to ? { path: to } : undefined;
      });
    },
  };
}

/**
 * Defines `console` when the engine lacks one: in xsnap each call becomes an
 * `issueCommand` that the host client routes to `onConsole`; elsewhere it falls
 * back to `print`, or drops the output.
 */
const CONSOLE_SHIM = `(function () {
  if (typeof globalThis.console !== "undefined") return;
  var tag = ${JSON.stringify(CONSOLE_TAG)};
  var send;
  if (typeof issueCommand === "function" && typeof TextEncoder === "function") {
    var encoder = new TextEncoder();
    send = function (level, text) {
      var bytes = encoder.encode(tag + level + ":" + text);
      issueCommand(bytes.byteLength === bytes.buffer.byteLength ? bytes.buffer : bytes.slice().buffer);
    };
  } else if (typeof print === "function") {
    send = function (level, text) { print(text); };
  } else {
    send = function () {};
  }
  function format(value) {
    if (typeof value === "string") return value;
    if (value instanceof Error) return value.name + ": " + value.message;
    try {
      var json = JSON.stringify(value);
      return json === undefined ? String(value) : json;
    } catch (e) {
      return String(value);
    }
  }
  function level(name) {
    return function () {
      var parts = [];
      for (var i = 0; i < arguments.length; i++) parts.push(format(arguments[i]));
      send(name, parts.join(" "));
    };
  }
  globalThis.console = { log: level("log"), info: level("info"), warn: level("warn"), error: level("error"), debug: level("debug"), trace: level("trace") };
})();`;

/** Bundles `entryPath` and its imports into one script for XS and returns its text. */
export async function bundleForXs(entryPath: string, options: BundleForXsOptions = {}): Promise<string> {
  const result = await build({
    entryPoints: [entryPath],
    bundle: true,
    write: false,
    format: "iife",
    globalName: options.globalName,
    platform: "neutral",
    mainFields: ["module", "main"],
    target: "es2022",
    minify: options.minify ?? false,
    define: options.define,
    banner: { js: CONSOLE_SHIM },
    plugins: [platformAliasPlugin(), ...(options.replace ? [replacePlugin(options.replace)] : [])],
    inject: options.inject,
    logLevel: "silent",
    legalComments: "none",
  });
  const output = result.outputFiles?.[0];
  if (!output) throw new Error(`esbuild produced no output for ${entryPath}`);
  return output.text;
}
