// The Things Network device-repository folder (codecs/device-repo/vendor/citysense):
// its YAML has the shape the repository's schema and validator demand, and every
// codec example gives exactly its `output` (and `normalizedOutput`) when run
//  (a) through the TypeScript codec in Node and
//  (b) through the single-file build inside QuickJS, called the way ChirpStack v4
//      calls it: fresh runtime per call, the script evaluated as a strict ES module
//      followed by code that calls the entry point with `chirpstack_input`
//      (recvTime a Date; no fPort for encodeDownlink).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { load } from "js-yaml";
import { getQuickJS, shouldInterruptAfterDeadline, type QuickJSWASMModule } from "quickjs-emscripten";
import { DOWNLINKS, UPLINKS, byteWidth, decodeDownlink, decodeUplink, encodeDownlink, normalizeUplink } from "../../codecs/src/index.ts";

const root = resolve(fileURLToPath(new URL("../..", import.meta.url)));
const vendorDir = join(root, "codecs/device-repo/vendor/citysense");
const lnsPath = join(root, "codecs/dist/lns.js");

type Obj = { [k: string]: unknown };

/** Identifier rule of the repository schema (`definitions.identifier`). */
const IDENTIFIER = /^[a-z0-9](?:-?[a-z0-9]){2,}$/;
/** Local file rule of the repository schema (`definitions.localFile`). */
const LOCAL_FILE = /^(([a-z0-9-]+\/)+)?([a-z0-9_-]+\.)+[a-z0-9]{1,}$/;
const REGIONS = ["EU863-870", "US902-928", "CN779-787", "EU433", "AU915-928", "CN470-510", "AS923", "KR920-923", "IN865-867", "RU864-870", "ISM2400"];
/** Sensor names every version of the repository schema accepts. */
const SENSORS = [
  "4-20 ma", "accelerometer", "altitude", "analog input", "auxiliary", "barometer", "battery", "button", "bvoc", "co2", "conductivity", "current",
  "digital input", "dissolved oxygen", "distance", "dust", "energy", "gps", "gyroscope", "humidity", "level", "light", "lightning", "link",
  "magnetometer", "moisture", "motion", "particulate matter", "ph", "pir", "potentiometer", "power", "precipitation", "pressure", "proximity",
  "pulse count", "pulse frequency", "radar", "rainfall", "rssi", "snr", "solar radiation", "sound", "strain", "surface temperature", "temperature",
  "tilt", "time", "tvoc", "uv", "vapor pressure", "velocity", "vibration", "voltage", "water potential", "water", "weight", "wifi ssid",
  "wind direction", "wind speed",
];
const DEVICE_TYPES = ["sensor", "devboard", "actuator", "module", "converter", "coveragetest", "display"];
const REGIONAL_PARAMETERS: { [mac: string]: string[] } = {
  "1.0": ["TS001-1.0"],
  "1.0.1": ["TS001-1.0.1"],
  "1.0.2": ["RP001-1.0.2", "RP001-1.0.2-RevB"],
  "1.0.3": ["RP001-1.0.3-RevA"],
  "1.0.4": ["RP002-1.0.0", "RP002-1.0.1"],
  "1.1": ["RP001-1.1-RevA", "RP001-1.1-RevB"],
};

function readYaml(file: string): Obj {
  const doc = load(readFileSync(join(vendorDir, file), "utf8"));
  assert.ok(doc && typeof doc === "object" && !Array.isArray(doc), `${file} is not a YAML mapping`);
  return doc as Obj;
}

const isObj = (v: unknown): v is Obj => !!v && typeof v === "object" && !Array.isArray(v);

/** What an example's `output` holds: the result without empty lists and the zero fPort (the repository leaves them out). */
function canonical(result: unknown): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(result as Obj)) {
    if (Array.isArray(v) && v.length === 0) continue;
    if (k === "fPort" && v === 0) continue;
    if (v !== undefined) out[k] = v;
  }
  return JSON.parse(JSON.stringify(out)) as Obj;
}

// --- the folder, loaded at definition time so each example gets its own test --------------

const index = readYaml("index.yaml");
const deviceIds = (index.endDevices as string[]) || [];
const devices = new Map(deviceIds.map((id) => [id, readYaml(`${id}.yaml`)]));
const codecFiles = readdirSync(vendorDir).filter((f) => f.endsWith("-codec.yaml")).sort();
const codecs = new Map(codecFiles.map((f) => [f.replace(/\.yaml$/, ""), readYaml(f)]));
const SECTIONS = [
  ["uplinkDecoder", "decodeUplink"],
  ["downlinkEncoder", "encodeDownlink"],
  ["downlinkDecoder", "decodeDownlink"],
] as const;

interface Example {
  description: string;
  input: Obj;
  output: Obj;
  normalizedOutput?: Obj;
}

function examplesOf(codec: Obj, section: string): Example[] {
  const s = codec[section] as Obj | undefined;
  return s && Array.isArray(s.examples) ? (s.examples as Example[]) : [];
}

// --- QuickJS, as ChirpStack v4 runs codecs --------------------------------------------

let quickjs: QuickJSWASMModule;
let script = "";
const timings: { fn: string; loadMs: number; callMs: number }[] = [];

type Mode = "module" | "script";

/**
 * Runs `fn(input)` from lns.js in a fresh QuickJS runtime. "module": the script as a strict
 * ES module followed by an exported caller (how the brief and REFERENCE.md describe
 * ChirpStack v4). "script": the script followed by the call as its last expression,
 * evaluated as global code (how chirpstack/src/codec/js/mod.rs does it).
 */
function inQuickJS(fn: string, input: Obj, mode: Mode = "module"): { result: Obj; loadMs: number; callMs: number } {
  const rt = quickjs.newRuntime();
  const vm = rt.newContext();
  try {
    // Hang guard only; the time limit is asserted below with a clearer message.
    rt.setInterruptHandler(shouldInterruptAfterDeadline(Date.now() + 2000));
    const recv = typeof input.recvTime === "string" ? `chirpstack_input.recvTime = new Date(${Date.parse(input.recvTime)});` : "";
    const plain = { ...input };
    delete plain.recvTime;
    vm.unwrapResult(vm.evalCode(`globalThis.chirpstack_input = ${JSON.stringify(plain)}; chirpstack_input.variables = {}; ${recv}`, "input.js")).dispose();
    const t0 = performance.now();
    if (mode === "script") {
      const out = vm.unwrapResult(vm.evalCode(`${script}\n\nJSON.stringify(${fn}(chirpstack_input))\n`, "codec.js", { type: "global" }));
      const ms = performance.now() - t0;
      const json = vm.getString(out);
      out.dispose();
      return { result: JSON.parse(json) as Obj, loadMs: ms, callMs: 0 };
    }
    const ns = vm.unwrapResult(
      vm.evalCode(`${script}\nexport function main() { return JSON.stringify(${fn}(chirpstack_input)); }\n`, "codec.mjs", { type: "module", strict: true }),
    );
    const t1 = performance.now();
    const main = vm.getProp(ns, "main");
    const t2 = performance.now();
    const out = vm.unwrapResult(vm.callFunction(main, vm.undefined));
    const t3 = performance.now();
    const json = vm.getString(out);
    out.dispose();
    main.dispose();
    ns.dispose();
    return { result: JSON.parse(json) as Obj, loadMs: t1 - t0, callMs: t3 - t2 };
  } finally {
    vm.dispose();
    rt.dispose();
  }
}

/** The TypeScript codec, with the input as a network server passes it (recvTime a Date). */
function inNode(fn: string, input: Obj): Obj {
  const i = { ...input } as Obj;
  if (typeof i.recvTime === "string") i.recvTime = new Date(i.recvTime);
  const r =
    fn === "decodeUplink" ? decodeUplink(i as never)
    : fn === "encodeDownlink" ? encodeDownlink(i as never)
    : fn === "decodeDownlink" ? decodeDownlink(i as never)
    : normalizeUplink(i as never);
  assert.ok(Array.isArray(r.warnings) && Array.isArray(r.errors), `${fn} must always return warnings and errors lists`);
  return JSON.parse(JSON.stringify(r)) as Obj;
}

function timed(fn: string, input: Obj): Obj {
  const r = inQuickJS(fn, input);
  timings.push({ fn, loadMs: r.loadMs, callMs: r.callMs });
  assert.ok(r.callMs < 50, `${fn} took ${r.callMs.toFixed(1)} ms in QuickJS (limit 50 ms; network servers allow 100 ms)`);
  assert.ok(r.loadMs + r.callMs < 100, `loading the script and calling ${fn} took ${(r.loadMs + r.callMs).toFixed(1)} ms in QuickJS (limit 100 ms)`);
  return r.result;
}

describe("device repository (TTN layout) and its codec examples", () => {
before(async function () {
  this.timeout(120000);
  execFileSync(process.execPath, [join(root, "scripts/build.mjs"), "--if-needed"], { stdio: ["ignore", "ignore", "inherit"] });
  script = readFileSync(lnsPath, "utf8");
  quickjs = await getQuickJS();
  // Warm the WebAssembly engine up so the timings measure QuickJS, not V8 compiling QuickJS.
  for (let i = 0; i < 10; i++) inQuickJS("decodeUplink", { fPort: 1, bytes: [1, 2, 3] });
});

describe("device repository: codecs/device-repo/vendor/citysense", () => {
  it("ships the built codec script unchanged (run `node scripts/device-repo.mjs` after changing the codec)", () => {
    const copy = readFileSync(join(vendorDir, "citysense-codec.js"), "utf8");
    assert.equal(copy.length, script.length, "citysense-codec.js differs in length from codecs/dist/lns.js");
    assert.ok(copy === script, "citysense-codec.js differs from codecs/dist/lns.js");
  });

  it("codec YAMLs are exactly what `node scripts/device-repo.mjs --examples` generates", function () {
    this.timeout(60000);
    // --check writes nothing and exits 1 naming the stale files.
    execFileSync(process.execPath, [join(root, "scripts/device-repo.mjs"), "--check"], { stdio: ["ignore", "ignore", "pipe"] });
  });

  it("every file name is lower case and a valid repository file name", () => {
    for (const f of readdirSync(vendorDir)) {
      assert.equal(f, f.toLowerCase(), f);
      assert.match(f, LOCAL_FILE, f);
    }
  });

  it("index.yaml lists the three node types by valid identifiers, each with its device file", () => {
    assert.deepEqual(deviceIds, ["citysense-air", "citysense-water", "citysense-level"]);
    for (const id of deviceIds) {
      assert.match(id, IDENTIFIER, id);
      assert.ok(id.length <= 36, id);
      assert.ok(existsSync(join(vendorDir, `${id}.yaml`)), `${id}.yaml is missing`);
    }
  });

  for (const id of deviceIds) {
    it(`${id}.yaml is a valid end device whose profiles and codecs exist`, () => {
      const d = devices.get(id) as Obj;
      assert.ok(typeof d.name === "string" && d.name.length > 0, "name is required");
      assert.ok(!/citysense/i.test(d.name as string), "the device name may not contain the vendor name");
      assert.ok(typeof d.description === "string" && d.description.length > 20, "description");
      const hw = (d.hardwareVersions as Obj[] | undefined) || [];
      for (const h of hw) assert.ok(typeof h.version === "string" && h.version.length > 0, "hardware version");
      const fws = d.firmwareVersions as Obj[];
      assert.ok(Array.isArray(fws) && fws.length >= 1, "at least one firmware version");
      for (const fw of fws) {
        assert.ok(typeof fw.version === "string" && fw.version.length > 0, "firmware version");
        // The repository's validator: hardware versions in the device iff in each firmware version, and they must exist.
        assert.equal(Boolean(fw.hardwareVersions), hw.length > 0, "hardwareVersions must be used in both the device and its firmware versions, or in neither");
        for (const v of (fw.hardwareVersions as string[]) || []) assert.ok(hw.some((h) => h.version === v), `hardware version ${v} is not declared`);
        for (const f of (fw.features as string[]) || []) assert.ok(["remote rejoin", "transmission interval"].includes(f), f);
        const profiles = fw.profiles as Obj;
        assert.deepEqual(Object.keys(profiles).sort(), ["AS923", "AU915-928", "EU863-870", "US902-928"]);
        for (const [region, p] of Object.entries(profiles) as [string, Obj][]) {
          assert.ok(REGIONS.includes(region), region);
          assert.match(p.id as string, IDENTIFIER);
          assert.ok((p.id as string).length <= 36);
          assert.ok(existsSync(join(vendorDir, `${p.id}.yaml`)), `profile ${p.id}.yaml is missing`);
          assert.match(p.codec as string, IDENTIFIER);
          assert.ok((p.codec as string).length <= 36);
          assert.ok(codecs.has(p.codec as string), `codec ${p.codec}.yaml is missing`);
          assert.equal(p.codec, `${id}-codec`, "each node type uses its own codec YAML");
          if (p.lorawanCertified !== undefined) assert.equal(typeof p.lorawanCertified, "boolean");
        }
      }
      const sensors = d.sensors as string[];
      assert.ok(Array.isArray(sensors) && sensors.length > 0, "sensors");
      for (const s of sensors) assert.ok(SENSORS.includes(s), `sensor "${s}" is not a repository sensor name`);
      assert.ok(sensors.includes("battery"), "every node reports its battery");
      for (const t of (d.devicetype as string[]) || []) assert.ok(DEVICE_TYPES.includes(t), t);
    });
  }

  it("citysense-profile.yaml: LoRaWAN 1.0.3, OTAA, class A, max EIRP and 32-bit frame counters", () => {
    const p = readYaml("citysense-profile.yaml");
    for (const k of ["supportsClassB", "supportsClassC", "macVersion", "regionalParametersVersion", "supportsJoin", "maxEIRP"]) assert.ok(k in p, `${k} is required`);
    assert.equal(p.macVersion, "1.0.3");
    assert.ok(REGIONAL_PARAMETERS[p.macVersion as string].includes(p.regionalParametersVersion as string), "regional parameters version must match the MAC version");
    assert.equal(p.supportsJoin, true);
    assert.equal(p.supportsClassB, false);
    assert.equal(p.supportsClassC, false);
    assert.equal(p.supports32bitFCnt, true);
    assert.ok(Number.isInteger(p.maxEIRP) && (p.maxEIRP as number) > 0, "maxEIRP must be a positive integer (dBm)");
  });

  it("every codec YAML is used by a device", () => {
    const used = new Set([...devices.values()].flatMap((d) => (d.firmwareVersions as Obj[]).flatMap((fw) => Object.values(fw.profiles as Obj).map((p) => (p as Obj).codec))));
    for (const id of codecs.keys()) assert.ok(used.has(id), `${id}.yaml is not referenced by any device`);
  });
});

/** Message types and commands each node type's examples must show. */
const NODE_OF: { [codec: string]: "air" | "water" | "level" } = { "citysense-air-codec": "air", "citysense-water-codec": "water", "citysense-level-codec": "level" };

for (const [codecId, codec] of codecs) {
  const node = NODE_OF[codecId];
  describe(`${codecId}.yaml`, () => {
    it("has the structure the repository schema requires", () => {
      for (const [section] of SECTIONS) {
        const s = codec[section] as Obj;
        assert.ok(isObj(s), `${section} is missing`);
        assert.equal(s.fileName, "citysense-codec.js");
        assert.match(s.fileName as string, LOCAL_FILE);
        assert.ok(existsSync(join(vendorDir, s.fileName as string)), `${s.fileName} is missing`);
        const examples = examplesOf(codec, section);
        assert.ok(examples.length >= 6, `${section}: at least 6 examples`);
        for (const e of examples) {
          const where = `${section}: "${e.description}"`;
          assert.ok(typeof e.description === "string" && e.description.length > 0, `${where}: description`);
          assert.ok(isObj(e.input), `${where}: input`);
          assert.ok(isObj(e.output), `${where}: output`);
          const out = e.output;
          for (const k of ["warnings", "errors"]) {
            if (k in out) assert.ok(Array.isArray(out[k]) && (out[k] as unknown[]).length > 0 && (out[k] as unknown[]).every((m) => typeof m === "string"), `${where}: ${k}`);
          }
          const failed = Array.isArray(out.errors);
          if (section === "downlinkEncoder") {
            assert.ok(isObj(e.input.data), `${where}: input.data`);
            assert.ok(!("fPort" in e.input), `${where}: ChirpStack passes no fPort to encodeDownlink, so the examples do not either`);
            if (!failed) checkBytes(out.bytes, where);
            if ("fPort" in out) checkFPort(out.fPort, where);
            if (failed) assert.ok(!("bytes" in out), `${where}: no bytes when encoding fails`);
          } else {
            checkBytes(e.input.bytes, where);
            checkFPort(e.input.fPort, where);
            if (e.input.recvTime !== undefined) assert.ok(!Number.isNaN(Date.parse(e.input.recvTime as string)), `${where}: recvTime`);
            if (!failed) assert.ok(isObj(out.data), `${where}: data is required when there are no errors`);
            else assert.ok(!("data" in out), `${where}: no data when decoding fails`);
          }
          if (e.normalizedOutput !== undefined) {
            assert.equal(section, "uplinkDecoder", `${where}: normalizedOutput belongs to uplinkDecoder examples`);
            assert.ok("data" in e.normalizedOutput, `${where}: normalizedOutput.data`);
          }
        }
      }
    });

    it(`covers every ${node}-node uplink, bad input, and every command the node takes`, () => {
      const ups = examplesOf(codec, "uplinkDecoder");
      const types = ups.filter((e) => isObj(e.output.data)).map((e) => (e.output.data as Obj).messageType);
      for (const def of UPLINKS.filter((d) => d.node === node || d.node === "any")) assert.ok(types.includes(def.name), `no ${def.name} example`);
      const reading = UPLINKS.find((d) => d.node === node && d.name === `${node}Reading`)!;
      const lengths = ups.filter((e) => e.input.fPort === reading.port && !e.output.errors).map((e) => (e.input.bytes as number[]).length);
      assert.ok(lengths.includes(byteWidth(reading.head)), `no ${reading.name} without extension`);
      if (reading.ext) assert.ok(lengths.includes(byteWidth(reading.head) + byteWidth(reading.ext)), `no ${reading.name} with extension`);
      const errors = ups.filter((e) => e.output.errors).map((e) => (e.output.errors as string[]).join(" "));
      assert.ok(errors.some((m) => /truncated/.test(m)), "no truncated batch");
      assert.ok(errors.some((m) => /^unknown fPort/.test(m)), "no unknown fPort");
      assert.ok(errors.length >= 4, "at least four bad inputs");
      assert.ok(ups.some((e) => e.output.warnings && e.output.data), "no example decoded with warnings");
      assert.ok(ups.filter((e) => e.input.recvTime !== undefined).every((e) => e.output.errors || JSON.stringify(e.output.data).includes('"time"')), "recvTime only where timestamps matter");

      const enc = examplesOf(codec, "downlinkEncoder");
      const commands = enc.filter((e) => e.output.bytes).map((e) => (e.input.data as Obj).command);
      for (const def of DOWNLINKS.filter((d) => d.node === node || d.node === "any")) assert.ok(commands.includes(def.name), `no valid ${def.name} example`);
      assert.ok(enc.some((e) => e.output.errors && /outside/.test((e.output.errors as string[]).join())), "no out-of-range setting");
      assert.ok(enc.some((e) => e.output.errors && /unknown setting/.test((e.output.errors as string[]).join())), "no unknown setting");
      assert.ok(enc.some((e) => e.output.errors && /unknown command/.test((e.output.errors as string[]).join())), "no unknown command");

      // The decoder reads back every valid encoder example (the repository asks for symmetry).
      const dec = examplesOf(codec, "downlinkDecoder");
      for (const e of enc.filter((x) => x.output.bytes && !x.output.warnings)) {
        assert.ok(dec.some((d) => d.input.fPort === e.output.fPort && JSON.stringify(d.input.bytes) === JSON.stringify(e.output.bytes) && JSON.stringify(d.output.data) === JSON.stringify(e.input.data)), `downlinkDecoder lacks "${e.description}"`);
      }
      assert.ok(dec.filter((d) => d.output.errors).length >= 3, "at least three refused downlinks");
    });

    for (const [section, fn] of SECTIONS) {
      for (const e of examplesOf(codec, section)) {
        it(`${fn}: ${e.description}`, () => {
          assert.deepStrictEqual(canonical(inNode(fn, e.input)), e.output, "TypeScript codec in Node");
          const q = timed(fn, e.input);
          assert.deepStrictEqual(canonical(q), e.output, "lns.js in QuickJS (strict ES module)");
          if (fn === "decodeUplink") {
            assert.deepStrictEqual(canonical(inQuickJS(fn, e.input, "script").result), e.output, "lns.js in QuickJS (global script)");
          }
          if (e.normalizedOutput !== undefined) {
            const data = (e.output as Obj).data as Obj;
            assert.deepStrictEqual(canonical(inNode("normalizeUplink", { data })), e.normalizedOutput, "normalizeUplink in Node");
            assert.deepStrictEqual(canonical(timed("normalizeUplink", { data })), e.normalizedOutput, "normalizeUplink in QuickJS");
          } else if (fn === "decodeUplink" && isObj(e.output.data)) {
            assert.equal((e.output.data as Obj).messageType, "configAck", "every decoded reading, alarm, batch and status example has a normalizedOutput");
          }
        });
      }
    }
  });
}

after(() => {
  if (!timings.length) return;
  const calls = timings.map((t) => t.callMs).sort((a, b) => a - b);
  const loads = timings.map((t) => t.loadMs + t.callMs).sort((a, b) => a - b);
  const med = (a: number[]) => a[a.length >> 1].toFixed(2);
  console.log(
    `      QuickJS, ${timings.length} calls: call median ${med(calls)} ms, max ${calls[calls.length - 1].toFixed(2)} ms; ` +
      `fresh runtime + script load + call median ${med(loads)} ms, max ${loads[loads.length - 1].toFixed(2)} ms`,
  );
});
});

function checkBytes(bytes: unknown, where: string): void {
  assert.ok(Array.isArray(bytes), `${where}: bytes must be a list`);
  assert.ok(bytes.length >= 1 && bytes.length <= 256, `${where}: bytes must have 1..256 items`);
  for (const b of bytes) assert.ok(Number.isInteger(b) && b >= 0 && b <= 255, `${where}: byte ${b}`);
}

function checkFPort(fPort: unknown, where: string): void {
  assert.ok(Number.isInteger(fPort) && (fPort as number) >= 1 && (fPort as number) <= 255, `${where}: fPort ${fPort} must be 1..255`);
}
