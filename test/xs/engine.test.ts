import assert from "node:assert/strict";
import { Xsnap } from "../../simulator/src/xs/xsnap.ts";
import { BUILD_TIMEOUT_MS, ensureXsBuilt } from "./engine-build.ts";

describe("xs engine (xsnap-worker)", function () {
  let xs: Xsnap;
  const fromWorker: string[] = [];
  const printed: string[] = [];

  before(async function () {
    this.timeout(BUILD_TIMEOUT_MS);
    await ensureXsBuilt();
  });

  beforeEach(async function () {
    fromWorker.length = 0;
    printed.length = 0;
    xs = await Xsnap.start({
      name: "engine-test",
      handleCommand: (request) => {
        const text = new TextDecoder().decode(request);
        fromWorker.push(text);
        return `host saw ${text.length} chars`;
      },
      onPrint: (line) => printed.push(line),
    });
  });

  afterEach(async function () {
    await xs.close();
  });

  it("computes inside XS and answers a command", async function () {
    await xs.evaluate(`
      globalThis.handleCommand = (buffer) => {
        const n = Number(new TextDecoder().decode(buffer));
        let sum = 0;
        for (let i = 1; i <= n; i++) sum += i * i;
        let a = 0n, b = 1n;
        for (let i = 0; i < n; i++) [a, b] = [b, a + b];
        return new TextEncoder().encode(sum + " " + a).buffer;
      };
    `);
    const { reply, meter } = await xs.command("1000");
    const [sum, fib] = reply.split(" ");
    assert.equal(Number(sum), (1000 * 1001 * 2001) / 6);
    // Fibonacci(1000) by BigInt, checked in Node.
    let a = 0n;
    let b = 1n;
    for (let i = 0; i < 1000; i++) [a, b] = [b, a + b];
    assert.equal(fib, a.toString());
    assert.ok(meter.compute > 1000);
  });

  it("returns the completion value of evaluate when it is an ArrayBuffer", async function () {
    const { reply } = await xs.evaluate(`new Uint8Array([1, 2, 3, 0xff]).buffer`);
    assert.deepEqual([...reply], [1, 2, 3, 255]);
    const { reply: none } = await xs.evaluate(`40 + 2`);
    assert.equal(none.byteLength, 0);
  });

  it("reports meter fields after every delivery", async function () {
    const { meter } = await xs.evaluate(`globalThis.kept = Array.from({ length: 10000 }, (_, i) => ({ i }));`);
    assert.equal(typeof meter.compute, "number");
    assert.equal(typeof meter.allocate, "number");
    assert.equal(typeof meter.currentHeapCount, "number");
    assert.ok(Array.isArray(meter.timestamps) && meter.timestamps.length >= 2);
    assert.ok(meter.timestamps[meter.timestamps.length - 1] >= meter.timestamps[0]);
    assert.ok(meter.allocate > 0);
    // 10 000 live objects need at least 10 000 slots.
    assert.ok(meter.currentHeapCount > 10000, `currentHeapCount ${meter.currentHeapCount}`);
  });

  it("meters compute in proportion to the work", async function () {
    const loop = (n: number) => `{ let s = 0; for (let i = 0; i < ${n}; i++) s = (s + i) | 0; }`;
    const small = (await xs.evaluate(loop(1e5))).meter.compute;
    const large = (await xs.evaluate(loop(1e6))).meter.compute;
    const again = (await xs.evaluate(loop(1e5))).meter.compute;
    assert.ok(large > small * 5 && large < small * 20, `1e5: ${small}, 1e6: ${large}`);
    assert.equal(again, small, "the meter restarts at every delivery and is deterministic");
  });

  it("lets the worker call the host with issueCommand", async function () {
    const { reply } = await xs.evaluate(`issueCommand(new TextEncoder().encode("ping from xs").buffer)`);
    assert.deepEqual(fromWorker, ["ping from xs"]);
    assert.equal(new TextDecoder().decode(reply), "host saw 12 chars");
  });

  it("forwards print() output line by line", async function () {
    await xs.evaluate(`print("hello", 42); print("second")`);
    // stdout is its own pipe: wait until it drains.
    for (let i = 0; i < 100 && printed.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(printed, ["hello 42", "second"]);
  });

  it("queues concurrent deliveries in order", async function () {
    await xs.evaluate(`globalThis.n = 0; globalThis.handleCommand = (b) => new TextEncoder().encode(String(++n) + new TextDecoder().decode(b)).buffer;`);
    const replies = await Promise.all(["a", "b", "c", "d"].map((s) => xs.command(s)));
    assert.deepEqual(replies.map((r) => r.reply), ["1a", "2b", "3c", "4d"]);
  });
});
