import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleForXs } from "../../simulator/src/xs/bundle.ts";
import { Xsnap } from "../../simulator/src/xs/xsnap.ts";
import { BUILD_TIMEOUT_MS, ensureXsBuilt, evaluateJson } from "./engine-build.ts";
import { crc8, digest } from "./fixtures/integer-math.ts";
import { bootTwice } from "./fixtures/platform-user.ts";

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

describe("bundleForXs", function () {
  let xs: Xsnap;
  const consoleLines: string[] = [];

  before(async function () {
    this.timeout(BUILD_TIMEOUT_MS);
    await ensureXsBuilt();
  });

  beforeEach(async function () {
    consoleLines.length = 0;
    xs = await Xsnap.start({ name: "bundle-test", onConsole: (level, text) => consoleLines.push(`${level}: ${text}`) });
  });

  afterEach(async function () {
    await xs.close();
  });

  it("produces one script without imports", async function () {
    const code = await bundleForXs(fixture("integer-math.ts"), { globalName: "IntegerMath" });
    assert.doesNotMatch(code, /^\s*import\s/m);
    assert.doesNotMatch(code, /\brequire\(/);
    assert.match(code, /var IntegerMath = /);
  });

  it("runs a TypeScript module in XS with the same results as in Node", async function () {
    await xs.evaluate(await bundleForXs(fixture("integer-math.ts"), { globalName: "IntegerMath" }));
    // Sensirion's datasheet example: CRC-8 of 0xBE 0xEF is 0x92.
    assert.equal(crc8([0xbe, 0xef]), 0x92);
    assert.equal(await evaluateJson<number>(xs, "IntegerMath.crc8([0xbe, 0xef])"), 0x92);
    for (const [seed, count] of [[1, 10], [0xc0ffee, 1000], [0xdeadbeef, 20000]]) {
      const inXs = await evaluateJson<ReturnType<typeof digest>>(xs, `IntegerMath.digest(${seed}, ${count})`);
      assert.deepEqual(inXs, digest(seed, count), `seed ${seed}, count ${count}`);
    }
  });

  it("maps timer, time and preference to the simulator's modules and routes console to the host", async function () {
    await xs.evaluate(await bundleForXs(fixture("platform-user.ts"), { globalName: "PlatformUser" }));
    const inXs = await evaluateJson<ReturnType<typeof bootTwice>>(xs, "PlatformUser.bootTwice(1500)");

    const nodeLines: string[] = [];
    const original = console.log;
    console.log = (...args: unknown[]) => void nodeLines.push(`log: ${args.join(" ")}`);
    let inNode: ReturnType<typeof bootTwice>;
    try {
      inNode = bootTwice(1500);
    } finally {
      console.log = original;
    }
    assert.deepEqual(inXs, inNode);
    assert.deepEqual(inXs, { ticks: 3000, boots: 2, keys: ["boots"], flashWrites: 2 });
    assert.deepEqual(consoleLines, nodeLines);
    assert.deepEqual(consoleLines, ["log: boot 0 at 1500", "log: boot 1 at 3000"]);
  });

  it("reports a platform module the simulator does not provide at bundle time", async function () {
    const dir = mkdtempSync(join(tmpdir(), "bundle-xs-"));
    try {
      const entry = join(dir, "uses-spi.ts");
      writeFileSync(entry, `import SPI from "embedded:io/spi";\nexport const spi = SPI;\n`);
      await assert.rejects(bundleForXs(entry), /no simulator stand-in for "embedded:io\/spi"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
