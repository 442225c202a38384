import assert from "node:assert/strict";
import { Xsnap, XsnapError } from "../../simulator/src/xs/xsnap.ts";
import { BUILD_TIMEOUT_MS, ensureXsBuilt } from "./engine-build.ts";

describe("xs engine errors", function () {
  before(async function () {
    this.timeout(BUILD_TIMEOUT_MS);
    await ensureXsBuilt();
  });

  it("rejects evaluate with the message of an error thrown in XS, and keeps the machine usable", async function () {
    const xs = await Xsnap.start({ name: "throws" });
    try {
      await assert.rejects(xs.evaluate(`throw new RangeError("sensor out of range: 9999")`), (error: unknown) => {
        assert.ok(error instanceof XsnapError);
        assert.equal(error.kind, "exception");
        assert.match(error.message, /RangeError: sensor out of range: 9999/);
        return true;
      });
      await assert.rejects(xs.evaluate(`let = ;`), /SyntaxError/);
      const { reply } = await xs.evaluate(`new Uint8Array([7]).buffer`);
      assert.deepEqual([...reply], [7]);
    } finally {
      await xs.close();
    }
  });

  it("rejects a command with the error thrown by handleCommand, or when there is none", async function () {
    const xs = await Xsnap.start({ name: "command-throws" });
    try {
      await assert.rejects(xs.command("x"), XsnapError);
      await xs.evaluate(`globalThis.handleCommand = (b) => { throw new TypeError("bad frame " + new Uint8Array(b)[0]); }`);
      await assert.rejects(xs.command("A"), /TypeError: bad frame 65/);
    } finally {
      await xs.close();
    }
  });

  it("rejects with the exit reason when the worker exceeds its compute budget", async function () {
    const xs = await Xsnap.start({ name: "spinner", meteringLimit: 1_000_000 });
    await assert.rejects(xs.evaluate(`for (;;) {}`), (error: unknown) => {
      assert.ok(error instanceof XsnapError);
      assert.equal(error.kind, "exit");
      assert.equal(error.exitCode, 17);
      assert.match(error.message, /too much computation/);
      return true;
    });
    await assert.rejects(xs.evaluate(`1`), XsnapError);
    await xs.close();
  });

  it("rejects pending and later deliveries when the worker dies", async function () {
    const xs = await Xsnap.start({ name: "victim" });
    const pending = xs.evaluate(`for (let i = 0; i < 1e9; i++) {}`);
    await new Promise((r) => setTimeout(r, 50));
    process.kill(xs.pid!, "SIGKILL");
    await assert.rejects(pending, /victim killed by SIGKILL/);
    await assert.rejects(xs.evaluate(`1`), /victim killed by SIGKILL/);
    await xs.close();
  });

  it("stops the worker when the host's command handler throws", async function () {
    const xs = await Xsnap.start({
      name: "bad-host",
      handleCommand: () => {
        throw new Error("host broke");
      },
    });
    await assert.rejects(xs.evaluate(`issueCommand(new ArrayBuffer(1))`), (error: unknown) => {
      assert.ok(error instanceof XsnapError);
      assert.equal(error.kind, "handler");
      assert.match(error.message, /host broke/);
      return true;
    });
    await xs.close();
  });

  it("refuses deliveries after close, and explains a missing binary", async function () {
    const xs = await Xsnap.start({ name: "closing" });
    await xs.close();
    await assert.rejects(xs.evaluate(`1`), /closing is closed/);
    await assert.rejects(Xsnap.start({ binary: "/nonexistent/xsnap-worker" }), /npm run build:xs/);
  });
});
