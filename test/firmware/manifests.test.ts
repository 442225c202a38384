/**
 * Structural checks of the Moddable manifests (manifests/), and of the things
 * they must agree with: the board modules (firmware/src/boards), the pin
 * tables in hardware/<node>/README.md, the power budgets in
 * hardware/<node>/power.json, and the native:sleep contract on both sides
 * (firmware/native/sleep.js and the simulator stand-in).
 *
 * The module-path checks run scripts/check-manifests.mjs, the same check a
 * developer runs by hand. Module folders other work is still filling
 * (firmware/src/nodes, link, ml) are listed as pending tests, not failures.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { BOARDS, type BoardConfig } from "../../firmware/src/boards/index.ts";
import * as simSleep from "../../simulator/src/platform/native-sleep.ts";
import * as simRtc from "../../simulator/src/platform/native-rtc.ts";
import * as simUlpPulse from "../../simulator/src/platform/native-ulp-pulse.ts";
import { Board, MANIFEST_NVS_BYTES, setCurrentBoard } from "../../simulator/src/core/board.ts";
import { queuePagesFor } from "../../firmware/src/nodes/wiring.ts";
import { DEFAULT_QUEUE_PAGES } from "../../firmware/src/link/uplink-queue.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const NODES = ["air", "water", "level"] as const;
const ESP32_PLATFORMS = ["esp32/nodemcu", "esp32/esp32s3"];
const REQUIRED_PLATFORMS = [...ESP32_PLATFORMS, "lin", "mac", "win"];
/** Folders whose modules must exist whenever a manifest names them. */
const MUST_EXIST = ["firmware/src/drivers/", "firmware/src/boards/", "firmware/native/", "codecs/src/"];

interface ModuleEntry {
  manifest: string;
  platform: string;
  target: string;
  source: string;
  path: string;
  kind: "file" | "wildcard";
  status: "ok" | "pending" | "missing";
  files: string[];
}
interface Report {
  ok: boolean;
  problems: string[];
  modules: ModuleEntry[];
  pending: ModuleEntry[];
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const readJson = (path: string): Json => JSON.parse(readFileSync(join(ROOT, path), "utf8"));

/** Runs the checker once, when mocha loads this file, so pending paths can become pending tests. */
const report: Report = (() => {
  let out: string;
  try {
    out = execFileSync(process.execPath, [join(ROOT, "scripts/check-manifests.mjs"), "--json"], { cwd: ROOT, encoding: "utf8" });
  } catch (e) {
    // exit code 1 still prints the report
    out = (e as { stdout?: string }).stdout ?? "";
  }
  return JSON.parse(out) as Report;
})();

describe("manifests", () => {
  describe("JSON", () => {
    for (const file of ["manifests/common.json", "manifests/typings.json", ...NODES.map((n) => `manifests/${n}/manifest.json`)]) {
      it(`${file} is valid JSON`, () => {
        assert.doesNotThrow(() => readJson(file));
      });
    }
  });

  describe("structure", () => {
    const common = readJson("manifests/common.json");

    it("the checker finds no structural problem and no missing module", () => {
      assert.deepEqual(report.problems, []);
      assert.equal(report.ok, true);
    });

    it("declares both ESP32 boards and the desktop simulator platforms, and rejects the rest", () => {
      for (const p of REQUIRED_PLATFORMS) assert.ok(common.platforms[p], `platform ${p}`);
      assert.ok(common.platforms["..."]?.error, 'a "..." platform that errors');
      assert.ok(common.platforms["esp32"]?.error, "other esp32 subplatforms error");
    });

    it("includes Moddable's base, typings and (on ESP32) IO manifests, with our typings first", () => {
      assert.equal(common.include[0], "./typings.json");
      assert.ok(common.include.includes("$(MODDABLE)/examples/manifest_base.json"));
      assert.ok(common.include.includes("$(MODDABLE)/examples/manifest_typings.json"));
      for (const p of ESP32_PLATFORMS) assert.ok(common.platforms[p].include.includes("$(MODDABLE)/modules/io/manifest.json"), p);
    });

    it("maps the native modules to C on ESP32 and to the simulator stand-ins on the desktop", () => {
      const water = readJson("manifests/water/manifest.json");
      for (const [name, m, up] of [["sleep", common, ".."], ["rtc", common, ".."], ["ulp-pulse", water, "../.."]] as const) {
        const sim = up === ".." ? "./sim" : "../sim";
        for (const p of ESP32_PLATFORMS) {
          assert.equal(m.platforms[p].modules[`native:${name}`], `${up}/firmware/native/${name}`);
          assert.ok(m.platforms[p].preload.includes(`native:${name}`));
        }
        for (const p of ["lin", "mac", "win"]) {
          assert.equal(m.platforms[p].modules[`native:${name}`], `${sim}/native-${name}`);
          assert.equal(m.platforms[p].modules[`simulator/src/platform/native-${name}`], `${up}/simulator/src/platform/native-${name}`);
        }
        assert.equal(readJson("manifests/typings.json").modules[`native:${name}`], `../firmware/typings/native-${name}`);
      }
      // the ULP program needs RTC memory reserved, or it would share it with native:sleep's retained block
      for (const p of ESP32_PLATFORMS) assert.equal(water.platforms[p].build.SDKCONFIGPATH, "./sdkconfig");
      assert.match(readFileSync(join(ROOT, "manifests/water/sdkconfig/sdkconfig.defaults"), "utf8"), /^CONFIG_ULP_COPROC_RESERVE_MEM=\d+$/m);
      // the C file is only ever listed for ESP32
      const cListed = report.modules.filter((m) => m.files.some((f) => f.endsWith(".c")));
      assert.ok(cListed.length > 0);
      for (const m of cListed) assert.ok(ESP32_PLATFORMS.includes(m.platform), `${m.target} on ${m.platform}`);
    });

    it("every ESP32 build uses manifests/partitions.csv, whose NVS partition holds the flash queue, and config.nvsBytes says its size", () => {
      for (const p of ESP32_PLATFORMS) assert.equal(common.platforms[p].build?.PARTITIONS_FILE, "./partitions.csv", p);
      const rows = readFileSync(join(ROOT, "manifests/partitions.csv"), "utf8").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#")).map((l) => l.split(",").map((x) => x.trim()));
      const num = (x: string) => Number.parseInt(x, 16);
      const nvs = rows.find((r) => r[0] === "nvs")!;
      assert.ok(nvs && nvs[1] === "data" && nvs[2] === "nvs");
      assert.equal(common.config.nvsBytes, num(nvs[4]), "config.nvsBytes is the nvs partition's size");
      assert.equal(MANIFEST_NVS_BYTES, num(nvs[4]), "the simulator's nodes get the shipped partition");
      assert.equal(queuePagesFor(common.config.nvsBytes), DEFAULT_QUEUE_PAGES, "the full ring fits");
      // Contiguous from the partition table's end (0x9000), the app 64 KB aligned, all within 4 MB of flash.
      let at = 0x9000;
      for (const r of rows) {
        assert.equal(num(r[3]), at, `${r[0]} starts where the one before ends`);
        if (r[1] === "app") assert.equal(num(r[3]) % 0x10000, 0, `${r[0]}: app partitions are 64 KB aligned`);
        at = num(r[3]) + num(r[4]);
        if (r[1] === "app") continue;
        const next = rows[rows.indexOf(r) + 1];
        if (next?.[1] === "app") at = Math.ceil(at / 0x10000) * 0x10000;
      }
      assert.ok(at <= 0x400000, `ends at 0x${at.toString(16)}`);
    });

    it("native:ulp-pulse's C implements the ULP program for every chip the water manifest builds it for (else its constructor throws at every boot)", () => {
      const target: { [platform: string]: string } = { "esp32/nodemcu": "CONFIG_IDF_TARGET_ESP32", "esp32/esp32s3": "CONFIG_IDF_TARGET_ESP32S3" };
      const c = readFileSync(join(ROOT, "firmware/native/ulp-pulse.c"), "utf8");
      const guard = /^#if (.+)\n#define ULP_PULSE 1$/m.exec(c);
      assert.ok(guard, "ulp-pulse.c defines ULP_PULSE under one #if naming its targets");
      const targets = guard[1].split("||").map((t) => t.trim());
      const water = readJson("manifests/water/manifest.json");
      for (const p of ESP32_PLATFORMS) {
        if (water.platforms[p].modules["native:ulp-pulse"] !== "../../firmware/native/ulp-pulse") continue;
        assert.ok(targets.includes(target[p]), `${p} builds native:ulp-pulse, but ulp-pulse.c implements it only for ${targets.join(", ")}`);
      }
      // A running program is kept only through a deep-sleep wake; after any other reset it is started again (a system reset stops the ULP's timer).
      assert.match(c, /if \(counting && ESP_RST_DEEPSLEEP == esp_reset_reason\(\)\)\s*return;/);
      // Every host function's body is the program's, or nothing: only the constructor refuses an unsupported chip.
      assert.equal((c.match(/^#if ULP_PULSE$/gm) ?? []).length, (c.match(/^void xs_ulp_pulse_(?!destructor|close)\w+\(/gm) ?? []).length);
    });

    for (const node of NODES) {
      it(`${node}: includes common.json, names its main module and its config`, () => {
        const m = readJson(`manifests/${node}/manifest.json`);
        assert.ok(m.include.includes("../common.json"));
        assert.equal(m.creation.main, `firmware/src/nodes/${node}/main`);
        assert.equal(m.modules[`firmware/src/nodes/${node}/*`], `../../firmware/src/nodes/${node}/*`);
        assert.equal(m.config.node, node);
        assert.equal(m.config.intervalS, node === "level" ? 1800 : 900);
      });
    }
  });

  describe("module paths that must exist", () => {
    const checked = report.modules.filter((m) => MUST_EXIST.some((prefix) => m.path.startsWith(prefix)));
    it("covers drivers, boards, native and codecs", () => {
      for (const prefix of MUST_EXIST) assert.ok(checked.some((m) => m.path.startsWith(prefix)), prefix);
    });
    for (const m of checked) {
      it(`${m.target} → ${m.path} [${m.platform}]`, () => {
        assert.equal(m.status, "ok", `${m.path}: ${m.status}`);
        assert.ok(m.files.length > 0);
      });
    }
  });

  describe("module paths not written yet (pending, listed by scripts/check-manifests.mjs)", () => {
    const seen = new Set<string>();
    for (const m of report.pending) {
      if (seen.has(m.path)) continue;
      seen.add(m.path);
      // a test without a body is reported as pending by mocha
      it(`${m.path} (${m.manifest})`);
    }
    it("nothing but node, link and ml modules may be pending", () => {
      for (const m of report.pending) assert.match(m.path, /^firmware\/src\/(nodes|link|ml)\//);
    });
  });
});

/** The board fields the manifests and READMEs repeat (everything but the descriptive ones). */
function pinFields(board: BoardConfig): Json {
  const { name: _name, platform: _platform, chip: _chip, ...rest } = board;
  return JSON.parse(JSON.stringify(rest));
}

function field(board: BoardConfig, path: string): unknown {
  return path.split(".").reduce<Json>((v, k) => v?.[k], board);
}

describe("boards agree with the manifests and the hardware READMEs", () => {
  const common = readJson("manifests/common.json");

  for (const platform of ESP32_PLATFORMS) {
    it(`${platform}: manifest config.board equals firmware/src/boards`, () => {
      const board = BOARDS[platform];
      assert.ok(board, `no board for ${platform}`);
      const { module, ...pins } = common.platforms[platform].config.board;
      assert.deepEqual(pins, pinFields(board));
      const file = `${module}.ts`;
      assert.ok(readFileSync(join(ROOT, file), "utf8").includes(`platform: "${platform}"`), `${file} is the ${platform} board`);
    });
  }

  it("board files import nothing", () => {
    for (const file of ["esp32-devkitc.ts", "esp32s3-devkitc.ts"]) {
      const text = readFileSync(join(ROOT, "firmware/src/boards", file), "utf8");
      assert.doesNotMatch(text, /^\s*import\s/m, file);
    }
  });

  it("no two signals of a board share a GPIO", () => {
    for (const board of Object.values(BOARDS)) {
      const pins = [
        board.i2c.data, board.i2c.clock, board.modem.transmit, board.modem.receive, board.modem.reset,
        board.sensorUart.transmit, board.sensorUart.receive, board.pulse.pin, board.valve.open, board.valve.close,
        board.valve.power, board.valveOverride.pin, board.accelInt1.pin, board.battery.pin, board.sensorPower, board.oneWire,
      ];
      assert.equal(new Set(pins).size, pins.length, `${board.name}: ${pins.join(", ")}`);
    }
  });

  it("pins avoid flash, strapping and (for outputs) input-only GPIOs; wake inputs are RTC GPIOs", () => {
    const esp32 = BOARDS["esp32/nodemcu"];
    const esp32Outputs = [esp32.i2c.data, esp32.i2c.clock, esp32.modem.transmit, esp32.modem.reset, esp32.sensorUart.transmit, esp32.valve.open, esp32.valve.close, esp32.valve.power, esp32.sensorPower, esp32.oneWire];
    const esp32All = [...esp32Outputs, esp32.modem.receive, esp32.sensorUart.receive, esp32.pulse.pin, esp32.valveOverride.pin, esp32.accelInt1.pin, esp32.battery.pin];
    for (const pin of esp32All) assert.ok(![0, 2, 5, 12, 15, 6, 7, 8, 9, 10, 11, 1, 3].includes(pin), `ESP32 GPIO ${pin}`);
    for (const pin of esp32Outputs) assert.ok(pin < 34, `ESP32 output on input-only GPIO ${pin}`);
    const esp32Rtc = [0, 2, 4, 12, 13, 14, 15, 25, 26, 27, 32, 33, 34, 35, 36, 37, 38, 39];
    // The sensor rail's enable too: only an RTC pad's hold lasts through the deep-sleep wake (the air node holds it).
    for (const pin of [esp32.valveOverride.pin, esp32.accelInt1.pin, esp32.pulse.pin, esp32.sensorPower]) assert.ok(esp32Rtc.includes(pin), `ESP32 GPIO ${pin} is not RTC`);
    assert.ok([32, 33, 34, 35, 36, 37, 38, 39].includes(esp32.battery.pin), "ESP32 battery on ADC1");

    const s3 = BOARDS["esp32/esp32s3"];
    const s3All = [s3.i2c.data, s3.i2c.clock, s3.modem.transmit, s3.modem.receive, s3.modem.reset, s3.sensorUart.transmit, s3.sensorUart.receive, s3.pulse.pin, s3.valve.open, s3.valve.close, s3.valve.power, s3.valveOverride.pin, s3.accelInt1.pin, s3.battery.pin, s3.sensorPower, s3.oneWire];
    for (const pin of s3All) {
      assert.ok(![0, 3, 45, 46, 19, 20, 43, 44, 38, 48].includes(pin), `S3 GPIO ${pin}`);
      assert.ok(pin < 26 || pin > 37, `S3 GPIO ${pin} is a flash/PSRAM pin`);
    }
    for (const pin of [s3.valveOverride.pin, s3.accelInt1.pin, s3.pulse.pin, s3.sensorPower]) assert.ok(pin <= 21, `S3 GPIO ${pin} is not RTC`);
    assert.ok(s3.battery.pin >= 1 && s3.battery.pin <= 10, "S3 battery on ADC1");
  });

  for (const node of NODES) {
    it(`hardware/${node}/README.md pin table matches both boards`, () => {
      const text = readFileSync(join(ROOT, "hardware", node, "README.md"), "utf8");
      const rows = text.split("\n").filter((l) => /^\| [^|]+ \| `[a-zA-Z.]+` \|/.test(l));
      assert.ok(rows.length >= 5, "pin table rows");
      for (const row of rows) {
        const cells = row.split("|").map((c) => c.trim());
        const path = cells[2].replace(/`/g, "");
        const num = (cell: string) => Number(cell.replace("GPIO", "").trim());
        assert.equal(num(cells[3]), field(BOARDS["esp32/nodemcu"], path), `${path} on ESP32-DevKitC`);
        assert.equal(num(cells[4]), field(BOARDS["esp32/esp32s3"], path), `${path} on ESP32-S3-DevKitC-1`);
      }
    });
  }
});

describe("hardware power budgets", () => {
  for (const node of NODES) {
    it(`hardware/${node}/power.json is self-consistent (schema, result recomputed)`, () => {
      const p = readJson(`hardware/${node}/power.json`);
      assert.equal(p.schema, "citysense-power/1");
      assert.equal(p.node, node);
      assert.equal(p.cyclesPerDay, 86400 / p.wakeIntervalS, "a cycle is a wake");
      assert.ok(p.wakeIntervalS <= p.intervalS, "wakes at least as often as it reports");
      const manifest = readJson(`manifests/${node}/manifest.json`);
      assert.equal(p.intervalS, manifest.config.intervalS, "power budget interval = manifest interval");
      const cap = p.battery.capacityMah;
      const selfDischarge = (cap * p.battery.selfDischargePctPerYear) / 100 / 365;
      const sleepUa = p.sleep.reduce((sum: number, s: Json) => sum + s.uA, 0);
      assert.ok(Math.abs(sleepUa - p.result.sleepUa) < 1e-3);
      for (const sf of p.spreadingFactors.map(String)) {
        let active = 0;
        for (const s of p.states) {
          assert.ok(typeof s.source === "string" && s.source.length > 0, `${s.part} has a source`);
          const seconds = typeof s.s === "number" ? s.s : s.s[sf];
          assert.equal(typeof seconds, "number", `${s.part} ${s.state} at SF${sf}`);
          active += (s.mA * seconds * ((s.perCycle ?? 0) * p.cyclesPerDay + (s.perDay ?? 0))) / 3600;
        }
        const total = active + (sleepUa / 1000) * 24;
        const r = p.result.bySf[sf];
        assert.ok(Math.abs(r.mAhPerDay - total) < 0.01, `SF${sf}: ${r.mAhPerDay} vs ${total}`);
        const days = (cap * p.battery.usableFraction) / (total + selfDischarge);
        assert.ok(Math.abs(r.lifeDays - days) <= 1, `SF${sf}: ${r.lifeDays} vs ${days}`);
        const reference: Record<string, number> = { "7": 0.061696, "10": 0.370688, "12": 1.482752 }; // REFERENCE.md, Semtech AN1200.13
        assert.ok(Math.abs(p.airtime.sBySf[sf] - reference[sf]) < 1e-9, `airtime SF${sf}`);
      }
    });
  }

  it("the READMEs' budget tables, headline figures and battery-life overview are those scripts/power-budget.ts writes from power.json", () => {
    try {
      execFileSync(process.execPath, ["--import", "tsx", join(ROOT, "scripts/power-budget.ts"), "--check"], { encoding: "utf8", stdio: "pipe" });
    } catch (e) {
      assert.fail((e as { stderr?: string }).stderr || String(e));
    }
  });
});

describe("native modules (native:sleep, native:rtc, native:ulp-pulse) contract", () => {
  const sleepJs = readFileSync(join(ROOT, "firmware/native/sleep.js"), "utf8");
  const sleepC = readFileSync(join(ROOT, "firmware/native/sleep.c"), "utf8");

  it("deepSleep disables only the wake sources it arms: ESP_SLEEP_WAKEUP_ALL would cancel the ULP wake native:ulp-pulse armed", () => {
    const code = sleepC.replace(/\/\*[\s\S]*?\*\//g, "");
    assert.doesNotMatch(code, /esp_sleep_disable_wakeup_source\(\s*ESP_SLEEP_WAKEUP_ALL\s*\)/);
    for (const source of ["TIMER", "EXT0", "EXT1"]) assert.match(code, new RegExp(`esp_sleep_disable_wakeup_source\\(ESP_SLEEP_WAKEUP_${source}\\)`));
    // ESP-IDF leaves wake pads in their RTC IO function after the wake: the first reset-reason or wake query hands them back.
    for (const fn of ["xs_sleep_reset_reason", "xs_sleep_wake_cause", "xs_sleep_wake_pins"]) {
      const body = new RegExp(`void ${fn}\\(xsMachine \\*the\\)\\s*\\{([\\s\\S]*?)\\n\\}`).exec(code)?.[1] ?? "";
      assert.match(body, /releaseWakePads\(\);/, fn);
    }
    assert.match(code, /rtc_gpio_deinit\(/);
  });

  const NATIVE = [
    { name: "sleep", sim: simSleep as Record<string, unknown> },
    { name: "rtc", sim: simRtc as Record<string, unknown> },
    { name: "ulp-pulse", sim: simUlpPulse as Record<string, unknown> },
  ];
  for (const { name, sim } of NATIVE) {
    const js = readFileSync(join(ROOT, `firmware/native/${name}.js`), "utf8");
    const c = readFileSync(join(ROOT, `firmware/native/${name}.c`), "utf8");
    const decl = readFileSync(join(ROOT, `firmware/typings/native-${name}.d.ts`), "utf8");

    it(`native:${name}: every host function ${name}.js binds is defined in ${name}.c`, () => {
      // either binding syntax: XS's `@ "name"` or the Native API `native("name").call(…)` / `Native("name")`
      const bound = [...js.matchAll(/@ "(\w+)"|[nN]ative\("(\w+)"\)/g)].map((m) => m[1] ?? m[2]);
      assert.ok(bound.length >= 3, `${bound.length} bindings`);
      for (const fn of bound) assert.match(c, new RegExp(`void ${fn}\\((xsMachine \\*the|void \\*\\w+)\\)`), fn);
    });

    it(`native:${name}: ${name}.js, the simulator stand-in and the declaration export the same functions`, () => {
      const names = (text: string) => [...text.matchAll(/export (?:(?:function|const) (\w+)|default\b)/g)].map((m) => m[1] ?? "default").sort();
      const jsExports = names(js);
      const dtsExports = names(decl);
      assert.deepEqual(jsExports, dtsExports);
      for (const fn of jsExports) assert.ok(fn in sim, `simulator lacks ${fn}`);
    });
  }

  it("RETAIN_MAX agrees between C define, sleep.js, simulator and manifests", () => {
    const js = Number(/export const RETAIN_MAX = (\d+)/.exec(sleepJs)?.[1]);
    const c = Number(/#define MODDEF_SLEEP_RETAIN_MAX \((\d+)\)/.exec(sleepC)?.[1]);
    assert.equal(js, c);
    assert.equal(simSleep.RETAIN_MAX, js);
    const common = readJson("manifests/common.json");
    for (const p of ESP32_PLATFORMS) assert.equal(common.platforms[p].defines.sleep.retain_max, js);
  });

  describe("native:sleep simulator stand-in", () => {
    let board: Board;
    beforeEach(() => {
      board = new Board();
      setCurrentBoard(board);
    });
    afterEach(() => setCurrentBoard(undefined));

    it("a cold boot reports power-on, no wake cause and nothing retained", () => {
      assert.equal(simSleep.resetReason(), "power-on");
      assert.equal(simSleep.wakeCause(), "none");
      assert.deepEqual(simSleep.wakePins(), []);
      assert.equal(simSleep.retained(), undefined);
    });

    it("retains bytes across deep sleep and reports a timer wake", () => {
      simSleep.retain(Uint8Array.of(1, 2, 3));
      simSleep.deepSleep(60_000);
      assert.equal(board.sleepUntilMs, 60_000);
      board.clock.advanceTo(60_000);
      assert.equal(simSleep.resetReason(), "deep-sleep");
      assert.equal(simSleep.wakeCause(), "timer");
      assert.deepEqual([...new Uint8Array(simSleep.retained()!)], [1, 2, 3]);
    });

    it("returns copies, so the caller cannot change what is retained", () => {
      const bytes = Uint8Array.of(9, 9);
      simSleep.retain(bytes);
      bytes[0] = 0;
      const back = new Uint8Array(simSleep.retained()!);
      back[1] = 0;
      assert.deepEqual([...new Uint8Array(simSleep.retained()!)], [9, 9]);
    });

    it("a power cut loses RTC memory and the next boot is a power-on", () => {
      simSleep.retain(Uint8Array.of(7));
      simSleep.deepSleep(1000);
      simSleep.powerCut(board);
      assert.equal(board.retained, undefined);
      assert.equal(board.sleepUntilMs, undefined);
      assert.equal(simSleep.retained(), undefined);
      assert.equal(simSleep.resetReason(), "power-on");
    });

    it("other resets lose the retained bytes too and report their reason", () => {
      simSleep.retain(Uint8Array.of(7));
      simSleep.resetBoard("task-watchdog", board);
      assert.equal(simSleep.retained(), undefined);
      assert.equal(simSleep.resetReason(), "task-watchdog");
      assert.equal(simSleep.wakeCause(), "none");
    });

    it("a wake pin at its level wins over the timer and is reported", () => {
      board.pins.set(34, 0);
      simSleep.deepSleep(900_000, { ext1: { pins: [34], mode: "any-high" } });
      board.clock.advance(10_000);
      board.pins.set(34, 1); // LIS3DH INT1 fires: the runner wakes the node early
      assert.equal(simSleep.wakeCause(), "ext1");
      assert.deepEqual(simSleep.wakePins(), [34]);
    });

    it("pin-only sleep records an infinite wake time; ext0 low level wakes", () => {
      board.pins.set(39, 1);
      simSleep.deepSleep(0, { ext0: { pin: 39, level: 0 } });
      assert.equal(board.sleepUntilMs, Number.POSITIVE_INFINITY);
      board.pins.set(39, 0);
      assert.equal(simSleep.wakeCause(), "ext0");
      assert.deepEqual(simSleep.wakePins(), [39]);
    });

    it("rejects what the chip rejects: no wake source, bad pins, oversized state", () => {
      assert.throws(() => simSleep.deepSleep(0), RangeError);
      assert.throws(() => simSleep.deepSleep(-1), RangeError);
      assert.throws(() => simSleep.deepSleep(1000, { ext1: { pins: [] } }), RangeError);
      assert.throws(() => simSleep.deepSleep(1000, { ext0: { pin: 64, level: 1 } }), RangeError);
      assert.throws(() => simSleep.retain(new Uint8Array(simSleep.RETAIN_MAX + 1)), RangeError);
      simSleep.retain(new Uint8Array(simSleep.RETAIN_MAX));
      assert.equal(simSleep.retained()!.byteLength, simSleep.RETAIN_MAX);
    });

    it("accepts held pins and releases them", () => {
      simSleep.deepSleep(30_000, { hold: [23] });
      simSleep.releaseHold([23]);
      assert.throws(() => simSleep.releaseHold([]), RangeError);
    });
  });
});
