// The serial stand-in's FIFOs, as Moddable's ESP32 serial (modules/io/serial/esp32/serial.c)
// uses the UART's: 128 bytes each way, no buffer behind them.
import assert from "node:assert/strict";
import { Board, setCurrentBoard, type SerialDevice, type SerialLink } from "../../../simulator/src/core/board.ts";
import { VirtualClock } from "../../../simulator/src/core/clock.ts";
import Serial, { UART_FIFO_BYTES } from "../../../simulator/src/platform/io-serial.ts";

/** A device that records what the host wrote and sends what it is told to. */
class Wire implements SerialDevice {
  link: SerialLink | undefined;
  written = 0;
  attach(link: SerialLink): void {
    this.link = link;
  }
  serialWrite(bytes: Uint8Array): void {
    this.written += bytes.length;
  }
}

function open(baud: number) {
  const clock = new VirtualClock();
  const board = new Board(clock, 1);
  const wire = new Wire();
  board.attachSerial(1, wire, baud);
  setCurrentBoard(board);
  return { clock, wire, serial: new Serial({ baud, port: 1, format: "buffer" }) };
}

describe("simulator/platform: embedded:io/serial's FIFOs", () => {
  afterEach(() => setCurrentBoard(undefined));

  it("a write that does not fit the 128-byte transmit FIFO throws 'output full'; it drains at the baud rate", () => {
    const { clock, wire, serial } = open(9600);
    assert.throws(() => serial.write(new Uint8Array(UART_FIFO_BYTES + 1)), /output full/);
    serial.write(new Uint8Array(100));
    // 100 bytes at 9600 baud take 104.2 ms; after 50 ms 52 are still queued, so 77 more do not fit, 76 do.
    clock.advanceTo(50);
    assert.throws(() => serial.write(new Uint8Array(77)), /output full/);
    serial.write(new Uint8Array(76));
    assert.equal(wire.written, 176);
  });

  it("bytes that arrive while the receive FIFO is full are lost, and those from before the port was opened", () => {
    const { clock, wire, serial } = open(115200);
    const at = clock.nowMs;
    wire.link!.deliver(Array.from({ length: 200 }, (_, i) => i & 0xff), at);
    clock.advanceTo(at + 50); // all 200 have arrived (17.4 ms), nobody read
    const first = new Uint8Array(serial.read() as ArrayBuffer);
    assert.equal(first.length, UART_FIFO_BYTES);
    assert.deepEqual([first[0], first[127]], [0, 127]);
    assert.equal(serial.read(), undefined, "bytes 128–199 came into a full FIFO");
    // Read as they come, nothing is lost.
    wire.link!.deliver(Array.from({ length: 200 }, (_, i) => i & 0xff), clock.nowMs);
    let got = 0;
    const from = clock.nowMs;
    for (let t = from; t < from + 30; t += 5) {
      clock.advanceTo(t);
      const b = serial.read();
      if (b) got += (b as ArrayBuffer).byteLength;
    }
    clock.advanceTo(from + 30);
    got += ((serial.read() as ArrayBuffer | undefined)?.byteLength ?? 0);
    assert.equal(got, 200);
    // Bytes that arrived before the port was opened (the CPU asleep, the UART off) are gone.
    wire.link!.deliver([1, 2, 3], clock.nowMs);
    clock.advanceTo(clock.nowMs + 5);
    const again = new Serial({ baud: 115200, port: 1, format: "buffer" });
    assert.equal(again.read(), undefined);
  });
});

describe("simulator/platform: embedded:io/serial's read forms, as Moddable's ESP32 serial.c has them", () => {
  afterEach(() => setCurrentBoard(undefined));

  it("read(buffer) takes only what arrived; read(count) returns count bytes whatever arrived, junk past it, and empties the FIFO", () => {
    const { clock, wire, serial } = open(9600);
    wire.link!.deliver([1, 2, 3], clock.nowMs);
    clock.advanceTo(clock.nowMs + 10); // 3 bytes at 9600 baud take 3.1 ms
    const into = new Uint8Array(8);
    assert.equal(serial.read(into), 3);
    assert.deepEqual([...into.subarray(0, 3)], [1, 2, 3]);
    assert.equal(serial.read(into), undefined);
    wire.link!.deliver([7, 8], clock.nowMs);
    clock.advanceTo(clock.nowMs + 10);
    const five = new Uint8Array(serial.read(5) as ArrayBuffer);
    assert.equal(five.length, 5, "the count asked for, not the two that arrived");
    assert.deepEqual([five[0], five[1]], [7, 8]);
    assert.equal(serial.read(5), undefined, "nothing waiting: nothing read");
  });
});
