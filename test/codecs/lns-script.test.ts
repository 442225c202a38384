// codecs/dist/lns.js, the single-file codec for network servers, is ES5.1 in syntax
// and in the library it uses, fits The Things Stack's size limit, and behaves exactly
// like the TypeScript codec when run the way The Things Stack runs it: as a plain
// script (not a module) whose top-level functions are called with the input object,
// here in a Node `vm` realm stripped of everything ES2015 and later added.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import vm from "node:vm";
import { parse, type Node } from "acorn";
import fc from "fast-check";
import { DOWNLINKS, UPLINKS, byteWidth, decodeDownlink, decodeUplink, encodeDownlink, encodeRecord, normalizeUplink } from "../../codecs/src/index.ts";
import { messageRecord } from "./arbitraries.ts";

const root = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const lnsPath = join(root, "codecs/dist/lns.js");
const ENTRY_POINTS = ["decodeUplink", "encodeDownlink", "decodeDownlink", "normalizeUplink"];

/** Globals an ES5.1 engine (goja) may lack, or that only Node has. */
const FORBIDDEN_GLOBALS = [
  "require", "module", "exports", "process", "Buffer", "globalThis", "console", "Intl",
  "ArrayBuffer", "SharedArrayBuffer", "DataView", "Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array",
  "Int32Array", "Uint32Array", "Float32Array", "Float64Array", "BigInt", "BigInt64Array", "BigUint64Array",
  "Symbol", "Map", "Set", "WeakMap", "WeakSet", "WeakRef", "FinalizationRegistry", "Promise", "Reflect", "Proxy", "Atomics",
  "TextEncoder", "TextDecoder", "structuredClone", "setTimeout", "queueMicrotask",
];
/** ES2015+ static functions and constants, by constructor. */
const FORBIDDEN_STATICS: { [ctor: string]: string[] } = {
  Object: ["assign", "entries", "values", "fromEntries", "is", "getOwnPropertySymbols", "getOwnPropertyDescriptors", "setPrototypeOf", "hasOwn", "groupBy"],
  Array: ["from", "of"],
  Number: ["isInteger", "isFinite", "isNaN", "isSafeInteger", "parseFloat", "parseInt", "EPSILON", "MAX_SAFE_INTEGER", "MIN_SAFE_INTEGER"],
  Math: ["trunc", "sign", "log2", "log10", "log1p", "expm1", "cbrt", "hypot", "fround", "imul", "clz32", "cosh", "sinh", "tanh", "acosh", "asinh", "atanh"],
  String: ["fromCodePoint", "raw"],
};
/** ES2015+ prototype methods, by name (no property of ours is called this). */
const FORBIDDEN_METHODS = [
  "includes", "padStart", "padEnd", "startsWith", "endsWith", "repeat", "find", "findIndex", "findLast", "findLastIndex", "fill",
  "copyWithin", "flat", "flatMap", "at", "codePointAt", "normalize", "trimStart", "trimEnd", "matchAll", "replaceAll", "toSorted", "toReversed",
];

let script = "";

// --- a tiny AST walker (acorn-walk is not a dependency) ---------------------------------

interface Visit {
  node: Node & { [k: string]: unknown };
  parent?: Node & { [k: string]: unknown };
  key?: string;
}

function walk(node: Node, visit: (v: Visit) => void, parent?: Node, key?: string): void {
  visit({ node: node as Visit["node"], parent: parent as Visit["parent"], key });
  for (const [k, child] of Object.entries(node)) {
    if (Array.isArray(child)) {
      for (const c of child) if (c && typeof c.type === "string") walk(c, visit, node, k);
    } else if (child && typeof child === "object" && typeof (child as Node).type === "string") {
      walk(child as Node, visit, node, k);
    }
  }
}

/** Identifiers used as variables (not property names after a dot or object-literal keys). */
function references(ast: Node): Set<string> {
  const names = new Set<string>();
  walk(ast, ({ node, parent, key }) => {
    if (node.type !== "Identifier") return;
    if (parent && parent.type === "MemberExpression" && key === "property" && !parent.computed) return;
    if (parent && parent.type === "Property" && key === "key" && !parent.computed) return;
    names.add(node.name as string);
  });
  return names;
}

/** `a.b` accesses with a literal property name: [object name or "", property]. */
function memberAccesses(ast: Node): [string, string][] {
  const out: [string, string][] = [];
  walk(ast, ({ node }) => {
    if (node.type !== "MemberExpression") return;
    const obj = node.object as Node & { name?: string; type: string };
    const prop = node.property as Node & { name?: string; value?: unknown; type: string };
    const name = !node.computed && prop.type === "Identifier" ? prop.name : prop.type === "Literal" && typeof prop.value === "string" ? prop.value : undefined;
    if (name !== undefined) out.push([obj.type === "Identifier" ? (obj.name as string) : "", name]);
  });
  return out;
}

describe("codecs/dist/lns.js, the single-file network-server codec", () => {
before(function () {
  this.timeout(120000);
  // Builds when lns.js is missing or older than the codec sources.
  execFileSync(process.execPath, [join(root, "scripts/build.mjs"), "--if-needed"], { stdio: ["ignore", "ignore", "inherit"] });
  script = readFileSync(lnsPath, "utf8");
});

describe("ES5.1 only, within The Things Stack's limits", () => {
  it("the parser used here rejects ES2015 syntax (so passing it means something)", () => {
    for (const code of ["let a = 1;", "const a = 1;", "var f = () => 1;", "class A {}", "var s = `x`;", "var o = { a };", "for (var x of y);", "var [a] = b;", "function f(a = 1) {}", "var r = /a/u;", "var n = 0b1;", "f(...a);"]) {
      assert.throws(() => parse(code, { ecmaVersion: 5, sourceType: "script" }), SyntaxError, code);
    }
  });

  it("parses as an ES5 script", () => {
    parse(script, { ecmaVersion: 5, sourceType: "script" });
  });

  it("references no Node, typed-array or ES2015+ global", () => {
    const ast = parse(script, { ecmaVersion: 5, sourceType: "script" });
    const used = references(ast);
    assert.ok(used.has("decodeUplink") && used.has("Math"), "the walker sees the script's identifiers");
    const bad = FORBIDDEN_GLOBALS.filter((g) => used.has(g));
    assert.deepEqual(bad, [], `lns.js refers to ${bad.join(", ")}`);
  });

  it("calls no ES2015+ library function or method", () => {
    const ast = parse(script, { ecmaVersion: 5, sourceType: "script" });
    const accesses = memberAccesses(ast);
    assert.ok(accesses.some(([o, p]) => o === "Math" && p === "round"), "the walker sees member accesses");
    const bad: string[] = [];
    for (const [obj, prop] of accesses) {
      if (FORBIDDEN_STATICS[obj] && FORBIDDEN_STATICS[obj].includes(prop)) bad.push(`${obj}.${prop}`);
      if (FORBIDDEN_METHODS.includes(prop)) bad.push(`${obj || "…"}.${prop}`);
    }
    assert.deepEqual([...new Set(bad)], [], `lns.js uses ${bad.join(", ")}`);
  });

  it("is under The Things Stack's 40,960-byte script limit", () => {
    const size = statSync(lnsPath).size;
    assert.ok(size > 1000, `lns.js is suspiciously small (${size} bytes)`);
    assert.ok(size < 40960, `lns.js is ${size} bytes`);
  });

  it("defines the four entry points as top-level function declarations", () => {
    const ast = parse(script, { ecmaVersion: 5, sourceType: "script" }) as Node & { body: (Node & { id?: { name: string } })[] };
    const fns = ast.body.filter((n) => n.type === "FunctionDeclaration").map((n) => n.id!.name);
    for (const f of ENTRY_POINTS) assert.ok(fns.includes(f), f);
  });
});

// --- running it --------------------------------------------------------------------------

/** ES2015+ additions removed from the stripped realm, as `path` strings evaluated inside it. */
const STRIPPED = [
  ...FORBIDDEN_GLOBALS.filter((g) => !["require", "module", "exports", "process", "Buffer", "console", "setTimeout", "queueMicrotask", "structuredClone", "TextEncoder", "TextDecoder"].includes(g)),
  // Number.EPSILON and the safe-integer bounds are non-configurable constants: they cannot be deleted (the static check forbids them).
  ...Object.entries(FORBIDDEN_STATICS).flatMap(([ctor, names]) => names.filter((n) => !/^[A-Z_]+$/.test(n)).map((n) => `${ctor}.${n}`)),
  ...["includes", "find", "findIndex", "findLast", "findLastIndex", "fill", "copyWithin", "entries", "keys", "values", "flat", "flatMap", "at"].map((m) => `Array.prototype.${m}`),
  ...["includes", "padStart", "padEnd", "startsWith", "endsWith", "repeat", "codePointAt", "normalize", "trimStart", "trimEnd", "matchAll", "replaceAll", "at"].map((m) => `String.prototype.${m}`),
];

/** A Node realm without the ES2015+ library: a stand-in for a strict ES5.1 engine. */
function strippedRealm(): vm.Context {
  const ctx = vm.createContext({});
  const code = STRIPPED.map((p) => {
    const dot = p.lastIndexOf(".");
    return dot < 0 ? `delete this[${JSON.stringify(p)}];` : `delete ${p.slice(0, dot)}[${JSON.stringify(p.slice(dot + 1))}];`;
  }).join("\n");
  vm.runInContext(code, ctx);
  return ctx;
}

/** Runs `fn(input)` inside a realm and returns its result through JSON (objects of another realm never deep-equal ours). */
function callIn(ctx: vm.Context, fn: string, inputCode: string): unknown {
  return JSON.parse(vm.runInContext(`JSON.stringify(${fn}(${inputCode}))`, ctx) as string);
}

const json = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

interface Case {
  fn: string;
  /** Input as source text for the realm. */
  code: string;
  /** The same input for the TypeScript codec. */
  input: unknown;
}

const RECV_MS = Date.UTC(2025, 2, 14, 8, 0, 30);

/** Deterministic inputs: valid messages of every type, damaged and random bytes, every command, bad commands. */
function cases(): Case[] {
  const out: Case[] = [];
  const up = (bytes: number[], fPort: number, withTime: boolean) =>
    out.push({
      fn: "decodeUplink",
      code: `{ bytes: ${JSON.stringify(bytes)}, fPort: ${fPort}${withTime ? `, recvTime: new Date(${RECV_MS})` : ""} }`,
      input: withTime ? { bytes, fPort, recvTime: new Date(RECV_MS) } : { bytes, fPort },
    });
  for (const def of UPLINKS.filter((d) => !d.echo)) {
    fc.sample(messageRecord(def), { seed: def.port, numRuns: 8 }).forEach((rec, i) => {
      const buf: number[] = new Array(51).fill(0);
      const n = encodeRecord(def.port, rec, buf, 0, 51);
      const bytes = buf.slice(0, n);
      up(bytes, def.port, i % 2 === 0);
      if (i === 0) {
        up(bytes.slice(0, n - 1), def.port, true); // truncated
        up(bytes.concat([0x5a]), def.port, false); // overlong
      }
    });
  }
  up([20, 0, 255, 0, 9, 0, 2, 88, 0, 14, 16], 11, false); // config ack echoing setInterval
  up([20, 0, 255, 0, 9, 0, 0, 30, 0, 14, 16], 11, false); // echo that does not decode: warning
  fc.sample(fc.tuple(fc.integer({ min: 0, max: 255 }), fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 51 })), { seed: 7, numRuns: 40 })
    .forEach(([fPort, bytes]) => up(bytes, fPort <= 12 ? fPort : 1 + (fPort % 12), false));
  out.push({ fn: "decodeUplink", code: `{ bytes: [1, 256], fPort: 1 }`, input: { bytes: [1, 256], fPort: 1 } });
  out.push({ fn: "decodeUplink", code: `{ bytes: [1, 2], fPort: 1.5 }`, input: { bytes: [1, 2], fPort: 1.5 } });
  out.push({ fn: "decodeUplink", code: `{ bytes: [0, 7, 8], fPort: 3, recvTime: "not a time" }`, input: { bytes: [0, 7, 8], fPort: 3, recvTime: "not a time" } });
  out.push({ fn: "decodeUplink", code: `null`, input: null });

  for (const def of DOWNLINKS) {
    // Mostly the command's own length, so that many decode (and are then encoded back); some of other lengths.
    const n = byteWidth(def.head);
    const payload = fc.oneof(
      { weight: 4, arbitrary: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: n, maxLength: n }) },
      { weight: 1, arbitrary: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 10 }) },
    );
    fc.sample(payload, { seed: def.port, numRuns: 12 }).forEach((bytes) => {
      const input = { bytes, fPort: def.port };
      out.push({ fn: "decodeDownlink", code: JSON.stringify(input), input });
      const decoded = decodeDownlink(input);
      if (decoded.data) out.push({ fn: "encodeDownlink", code: JSON.stringify({ data: decoded.data }), input: { data: json(decoded.data) } });
    });
  }
  const badCommands = [
    { command: "setInterval", intervalS: 59.5, heartbeatS: 3600 },
    { command: "setInterval", intervalS: "600", heartbeatS: 3600 },
    { command: "setValve", valve: "ajar" },
    { command: "setPrivacy", enabled: "yes", epsilon: 0.123 },
    { command: "setAlarms", co2: true },
    { command: "nope" },
    { intervalS: 600 },
  ];
  for (const data of badCommands) out.push({ fn: "encodeDownlink", code: JSON.stringify({ data }), input: { data } });
  out.push({ fn: "encodeDownlink", code: JSON.stringify({ data: { intervalS: 600, heartbeatS: 3600 }, fPort: 20 }), input: { data: { intervalS: 600, heartbeatS: 3600 }, fPort: 20 } });

  // Normalize everything that decoded.
  for (const c of out.filter((x) => x.fn === "decodeUplink")) {
    const r = decodeUplink(c.input as never);
    if (r.data) out.push({ fn: "normalizeUplink", code: `{ data: JSON.parse(${JSON.stringify(JSON.stringify(r.data))}) }`, input: { data: json(r.data) } });
  }
  out.push({ fn: "normalizeUplink", code: `{ data: {} }`, input: { data: {} } });
  // Out of the schema's range (a frame no encoder sends: 100.5 % humidity), and a batch with a hole in it.
  const wet = decodeUplink({ fPort: 1, bytes: [3, 32, 1, 144, 9, 100, 177, 146, 255, 238, 0] }).data;
  out.push({ fn: "normalizeUplink", code: `{ data: JSON.parse(${JSON.stringify(JSON.stringify(wet))}) }`, input: { data: json(wet) } });
  const holed = { messageType: "airBatch", readings: [null] };
  out.push({ fn: "normalizeUplink", code: JSON.stringify({ data: holed }), input: { data: holed } });
  return out;
}

function inNode(c: Case): unknown {
  const i = c.input as never;
  return json(c.fn === "decodeUplink" ? decodeUplink(i) : c.fn === "decodeDownlink" ? decodeDownlink(i) : c.fn === "encodeDownlink" ? encodeDownlink(i) : normalizeUplink(i));
}

function sameAsNode(ctx: vm.Context): void {
  const all = cases();
  const counts: { [fn: string]: number } = {};
  for (const c of all) counts[c.fn] = (counts[c.fn] || 0) + 1;
  for (const fn of ENTRY_POINTS) assert.ok(counts[fn] >= 10, `only ${counts[fn]} ${fn} cases`);
  // Each kind of outcome is exercised: data, warnings, errors.
  const results = all.map((c) => inNode(c) as { data?: unknown; warnings: string[]; errors: string[] });
  assert.ok(results.some((r) => r.errors.length) && results.some((r) => r.warnings.length) && results.filter((r) => r.data).length > 100);
  all.forEach((c, i) => assert.deepStrictEqual(callIn(ctx, c.fn, c.code), results[i], `${c.fn}(${c.code})`));
}

describe("lns.js in a realm stripped to ES5.1", () => {
  let ctx: vm.Context;

  before(() => {
    ctx = strippedRealm();
    vm.runInContext(script, ctx, { filename: "lns.js" });
  });

  it("really lacks the ES2015+ library", () => {
    const fresh = strippedRealm();
    for (const p of STRIPPED) {
      const dot = p.lastIndexOf(".");
      const expr = dot < 0 ? `typeof this[${JSON.stringify(p)}]` : `typeof ${p.slice(0, dot)}[${JSON.stringify(p.slice(dot + 1))}]`;
      assert.equal(vm.runInContext(expr, fresh), "undefined", `${p} is still there`);
    }
    assert.equal(vm.runInContext("typeof JSON.stringify + typeof Object.defineProperty + typeof Array.prototype.indexOf", fresh), "functionfunctionfunction");
  });

  it("decodes, encodes and normalizes exactly as the TypeScript codec does", () => {
    sameAsNode(ctx);
  });
});

describe("lns.js as The Things Stack runs it (plain ES5.1 script, not a module)", () => {
  it("declares the entry points as globals and leaks nothing but its bundle object and TypeScript helpers", () => {
    const ctx = vm.createContext({});
    const before = new Set(vm.runInContext("Object.getOwnPropertyNames(this)", ctx) as string[]);
    vm.runInContext(script, ctx, { filename: "lns.js" });
    const added = [...(vm.runInContext("Object.getOwnPropertyNames(this)", ctx) as string[])].filter((n) => !before.has(n));
    for (const f of ENTRY_POINTS) assert.equal(vm.runInContext(`typeof ${f}`, ctx), "function", f);
    const extra = added.filter((n) => !ENTRY_POINTS.includes(n) && n !== "citysenseCodec" && !/^__[A-Za-z]+$/.test(n));
    assert.deepEqual(extra, [], `lns.js leaks globals: ${extra.join(", ")}`);
  });

  it("gives the TypeScript codec's results, recvTime passed as a Date", () => {
    const ctx = vm.createContext({});
    vm.runInContext(script, ctx, { filename: "lns.js" });
    sameAsNode(ctx);
  });

  it("gives the same results in strict mode too", () => {
    const ctx = strippedRealm();
    vm.runInContext(`"use strict";\n${script}`, ctx, { filename: "lns.js" });
    const air = [2, 100, 1, 236, 11, 180, 206, 182, 57, 47, 0];
    assert.deepStrictEqual(callIn(ctx, "decodeUplink", `{ bytes: ${JSON.stringify(air)}, fPort: 1, recvTime: new Date(${RECV_MS}) }`), json(decodeUplink({ bytes: air, fPort: 1, recvTime: new Date(RECV_MS) })));
  });
});
});
