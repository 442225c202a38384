import assert from "node:assert/strict";
import fc from "fast-check";
import {
  AtCommandWriter, AtLineReader, compactHex, parseDecimal, parseHexBytes, type SerialInstance,
} from "../../../firmware/src/drivers/at-line-reader.ts";
import { ModemError } from "../../../firmware/src/drivers/lora-modem.ts";
import { boardWith, ScriptedModem } from "./scripted-modem.ts";
import { referenceLines } from "./reference-lines.ts";

/** A serial port whose reads return pre-cut chunks, one per read, then nothing. */
class ChunkedPort implements SerialInstance {
  readonly written: number[] = [];
  readonly #chunks: Uint8Array[];
  reads = 0;
  writable: number | undefined;
  constructor(chunks: Uint8Array[]) {
    this.#chunks = chunks.slice();
  }
  push(text: string | Uint8Array): void {
    this.#chunks.push(typeof text === "string" ? bytesOf(text) : text);
  }
  /** Like the ESP32's read(buffer): as much of the next chunk as fits, the rest kept for the next read. */
  read(into: Uint8Array): number | undefined {
    this.reads++;
    const c = this.#chunks.shift();
    if (c === undefined || c.length === 0) return undefined;
    const n = Math.min(c.length, into.length);
    into.set(c.subarray(0, n));
    if (n < c.length) this.#chunks.unshift(c.subarray(n));
    return n;
  }
  write(buffer: ArrayBuffer | ArrayBufferView): void {
    const view = buffer instanceof ArrayBuffer ? new Uint8Array(buffer) : new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    this.written.push(...view);
    if (this.writable !== undefined) this.writable -= view.length;
  }
  close(): void {}
}

function bytesOf(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0) & 0xff);
}

function allLines(reader: AtLineReader): string[] {
  const out: string[] = [];
  for (let line = reader.readLine(); line !== undefined; line = reader.readLine()) out.push(line);
  return out;
}

/** Cuts `bytes` at the given (sorted, deduplicated) offsets. */
function cut(bytes: Uint8Array, offsets: number[]): Uint8Array[] {
  const points = [...new Set(offsets.map((o) => o % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let last = 0;
  for (const p of [...points, bytes.length]) {
    if (p > last) chunks.push(bytes.slice(last, p));
    last = Math.max(last, p);
  }
  return chunks;
}

describe("firmware/drivers/at-line-reader", () => {
  it("splits on CR LF and on bare LF, across reads", () => {
    const port = new ChunkedPort([bytesOf("+AT: O"), bytesOf("K\r"), bytesOf("\n+ID: a\n+ID"), bytesOf(": b\r\n")]);
    const reader = new AtLineReader(port);
    assert.deepEqual(allLines(reader), ["+AT: OK", "+ID: a", "+ID: b"]);
  });

  it("returns lines one at a time, keeping the rest of a read for later", () => {
    const port = new ChunkedPort([bytesOf("a\r\nb\r\nc\r\n")]);
    const reader = new AtLineReader(port);
    assert.equal(reader.readLine(), "a");
    assert.equal(port.reads, 1);
    assert.equal(reader.readLine(), "b");
    assert.equal(reader.readLine(), "c");
    assert.equal(reader.readLine(), undefined);
  });

  it("drops empty lines and +INFO: noise, and honours a custom noise filter (empty lines always go)", () => {
    const text = "\r\n+INFO: Input timeout\r\n\n+MSGHEX: Done\r\n# comment\r\n";
    assert.deepEqual(allLines(new AtLineReader(new ChunkedPort([bytesOf(text)]))), ["+MSGHEX: Done", "# comment"]);
    const custom = new AtLineReader(new ChunkedPort([bytesOf(text)]), { isNoise: (l) => l.startsWith("#") });
    assert.deepEqual(allLines(custom), ["+INFO: Input timeout", "+MSGHEX: Done"]);
  });

  it("skips junk before a line's first printable byte but drops a line with junk inside", () => {
    const port = new ChunkedPort([Uint8Array.of(0x00, 0xff, 0x0d, ...bytesOf("+LOWPOWER: WAKEUP\r\n+MSG"), 0x00, ...bytesOf("HEX: Done\r\n+AT: OK\r\n"))]);
    const reader = new AtLineReader(port);
    assert.deepEqual(allLines(reader), ["+LOWPOWER: WAKEUP", "+AT: OK"]);
    assert.equal(reader.corrupt, 1);
  });

  it("drops an over-long line whole, counts it, and never stores more than maxLineLength bytes", () => {
    const max = 20;
    const port = new ChunkedPort([bytesOf("x".repeat(max) + "\r\n"), bytesOf("y".repeat(max + 1) + "\r\n"), bytesOf("z".repeat(100000)), bytesOf("tail\r\nnext\r\n")]);
    const reader = new AtLineReader(port, { maxLineLength: max });
    assert.deepEqual(allLines(reader), ["x".repeat(max), "next"]);
    assert.equal(reader.overflows, 2);
  });

  it("survives a megabyte of garbage without newlines, then reads the next line", () => {
    const port = new ChunkedPort([]);
    const reader = new AtLineReader(port);
    for (let i = 0; i < 256; i++) {
      port.push(new Uint8Array(4096).fill(0x41 + (i % 26)));
      assert.equal(reader.readLine(), undefined);
    }
    port.push("\r\n+AT: OK\r\n");
    assert.equal(reader.readLine(), "+AT: OK");
    assert.equal(reader.overflows, 1);
  });

  it("discardInput drops buffered bytes and a partial line", () => {
    const port = new ChunkedPort([bytesOf("+JOIN: Do")]);
    const reader = new AtLineReader(port);
    assert.equal(reader.readLine(), undefined);
    port.push("ne\r\nstale\r\n");
    port.push("more stale\r\n");
    reader.discardInput();
    port.push("+AT: OK\r\n");
    assert.deepEqual(allLines(reader), ["+AT: OK"]);
  });

  it("discardInput in the middle of a line drops the rest of it when it comes, not the lines after", () => {
    // Cut inside the buffered chunk, inside a drained read, and inside the assembler's partial line.
    for (const [before, read] of [["+EVT:RX_1:-10:0:UNICAST:100:00000000", false], ["done\r\n+EVT:2:AB", true], ["+EVT:2:AB", true]] as const) {
      const port = new ChunkedPort([bytesOf(before)]);
      const reader = new AtLineReader(port);
      if (read) reader.readLine();
      reader.discardInput();
      port.push("16\r\n");
      port.push("AT+DR=3\r\nOK\r\n");
      assert.deepEqual(allLines(reader), ["AT+DR=3", "OK"], before);
    }
    // Cut right after a line end (LF, or CR with its LF still to come): nothing of the next line is lost.
    for (const [before, next] of [["stale\r\n", "16\r\n"], ["stale\r", "\n16\r\n"]] as const) {
      const port = new ChunkedPort([bytesOf(before)]);
      const reader = new AtLineReader(port);
      reader.discardInput();
      port.push(next);
      assert.deepEqual(allLines(reader), ["16"], JSON.stringify(before));
    }
  });

  it("waitFor polls in small Timer.delay steps, consumes other lines, and gives up at the timeout", () => {
    const device = new ScriptedModem(9600);
    const { board, io } = boardWith(device, 9600);
    const serial = new io({ baud: 9600, port: 1, format: "buffer" });
    const reader = new AtLineReader(serial, { pollMs: 20 });
    device.emit([{ line: "+X: 1", afterMs: 100 }, { line: "+Y: 2", afterMs: 300 }]);
    assert.equal(reader.waitFor((l) => l.startsWith("+Y"), 1000), "+Y: 2");
    const when = board.clock.nowMs;
    assert.ok(when >= 400 && when <= 440, `matched at ${when} ms (line complete at ~413 ms, 20 ms polls)`);
    assert.equal(reader.readLine(), undefined, "the +X line was consumed");
    const t0 = board.clock.nowMs;
    assert.equal(reader.waitFor(() => true, 250), undefined);
    assert.equal(board.clock.nowMs - t0, 250, "the last step is shortened to end exactly at the timeout");
  });

  it("waitFor returns at once for a line that is already there, without delaying", () => {
    const port = new ChunkedPort([bytesOf("+A: 1\r\n")]);
    const reader = new AtLineReader(port);
    assert.equal(reader.waitFor((l) => l === "+A: 1", 0), "+A: 1");
  });

  it("writes commands from a fixed buffer, in hex, honouring a transmit buffer's free space", () => {
    const port = new ChunkedPort([]);
    new AtCommandWriter(port, 9600).begin("AT+SEND=2:").hex(Uint8Array.of(0x00, 0x9f, 0xab, 0xff), 3).send();
    assert.equal(String.fromCharCode(...port.written), "AT+SEND=2:009FAB\r\n");
    const tiny = new ChunkedPort([]);
    tiny.writable = 4;
    const device = new ScriptedModem(9600);
    boardWith(device, 9600); // a current board for Timer.delay
    let refills = 0;
    const write = tiny.write.bind(tiny);
    tiny.write = (b) => {
      const view = b as Uint8Array;
      assert.ok(view.length <= 4, `wrote ${view.length} into 4 free bytes`);
      write(b);
      if (tiny.writable === 0) {
        tiny.writable = 4;
        refills++;
      }
    };
    new AtCommandWriter(tiny, 9600).begin("AT+PORT=12").send();
    assert.equal(String.fromCharCode(...tiny.written), "AT+PORT=12\r\n");
    assert.ok(refills >= 2);
    assert.throws(() => new AtCommandWriter(port, 9600, 8).begin("AT+MSGHEX=").send(), (e: unknown) => e instanceof ModemError && e.fault === "length");
  });

  it("parses hex strictly", () => {
    const p = (t: string, spaced = false) => {
      const r = parseHexBytes(t, 0, t.length, spaced, 4);
      return r === undefined ? undefined : [...r];
    };
    assert.deepEqual(p("00fFa9"), [0, 255, 169]);
    assert.deepEqual(p(""), []);
    assert.equal(p("abc"), undefined);
    assert.equal(p("0g"), undefined);
    assert.equal(p("0102030405"), undefined, "more than maxBytes");
    assert.deepEqual(p("01 02 0A", true), [1, 2, 10]);
    assert.equal(p("01 02", false), undefined);
    assert.equal(p("0 102", true), undefined, "a space inside a byte");
    assert.equal(p("01  02", true), undefined, "two spaces");
    assert.equal(p(" 01", true), undefined);
    assert.equal(p("01 ", true), undefined);
    assert.equal(parseDecimal("-101"), -101);
    assert.equal(parseDecimal("1e3"), undefined);
    assert.equal(parseDecimal(""), undefined);
    assert.equal(compactHex("2c:f7 f1-20"), "2CF7F120");
  });

  it("property: however the bytes are cut into reads, the lines equal the reference split", () => {
    const piece = fc.oneof(
      fc.constantFrom("+AT: OK", "+INFO: Input timeout", "", "OK", "+EVT:TX_DONE", '+MSGHEX: PORT: 1; RX: "AB"', "\r", "\n", "\r\n"),
      fc.string({ maxLength: 40 }),
      fc.uint8Array({ maxLength: 30 }).map((a) => String.fromCharCode(...a)),
      fc.integer({ min: 25, max: 90 }).map((n) => "L".repeat(n)),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 40 }), fc.array(fc.nat(), { maxLength: 30 }), fc.integer({ min: 8, max: 64 }), (pieces, offsets, max) => {
        const text = pieces.join("\r\n");
        const bytes = Uint8Array.from(text, (c) => c.charCodeAt(0) & 0xff);
        const reader = new AtLineReader(new ChunkedPort(cut(bytes, offsets)), { maxLineLength: max });
        const expected = referenceLines(bytes, max);
        assert.deepEqual(allLines(reader), expected.lines);
        assert.equal(reader.overflows, expected.overflows);
        assert.equal(reader.corrupt, expected.corrupt);
      }),
      { numRuns: 1000 },
    );
  });
});
