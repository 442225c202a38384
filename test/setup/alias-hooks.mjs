// Resolve hook: maps platform specifiers to the simulator's replacements.
import { pathToFileURL } from "node:url";
import { resolve as resolvePath, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { existsSync } from "node:fs";

const root = resolvePath(dirname(fileURLToPath(import.meta.url)), "../..");
const platformDir = resolvePath(root, "simulator/src/platform");

function target(specifier) {
  let name;
  if (specifier === "timer" || specifier === "time" || specifier === "preference") name = specifier;
  else if (specifier === "mc/config") name = "mc-config";
  else if (specifier.startsWith("embedded:")) name = specifier.slice("embedded:".length).replace(/\//g, "-");
  else if (specifier.startsWith("native:")) name = "native-" + specifier.slice("native:".length).replace(/\//g, "-");
  else return undefined;
  const file = resolvePath(platformDir, name + ".ts");
  return existsSync(file) ? pathToFileURL(file).href : undefined;
}

export async function resolve(specifier, context, next) {
  const url = target(specifier);
  if (url) return { url, shortCircuit: true };
  return next(specifier, context);
}
