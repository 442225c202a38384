import assert from "node:assert/strict";
import { Board, setCurrentBoard, type SerialDevice, type SerialLink } from "../../../simulator/src/core/board.ts";
import { consoleWindow } from "../../../firmware/src/nodes/wiring.ts";
import { readKeys } from "../../../firmware/src/link/provisioning.ts";
import { BOARDS } from "../../../firmware/src/boards/index.ts";
import { deepSleep } from "../../../simulator/src/platform/native-sleep.ts";

/** A person at a terminal on the USB console: types lines at given times, keeps what the node prints. */
class Terminal implements SerialDevice {
  printed = "";
  #link: SerialLink | undefined;
  constructor(readonly lines: { atMs: number; text: string }[]) {}
  attach(link: SerialLink): void {
    this.#link = link;
    for (const l of this.lines) link.deliver(Array.from(l.text, (c) => c.charCodeAt(0)), l.atMs);
  }
  serialWrite(bytes: Uint8Array): void {
    this.printed += String.fromCharCode(...bytes);
    void this.#link;
  }
}

describe("nodes/wiring: the provisioning window on the USB console", () => {
  afterEach(() => setCurrentBoard(undefined));
  const board = BOARDS["esp32/nodemcu"];
  const appKey = "00112233445566778899AABBCCDDEEFF";
  const joinEui = "70B3D57ED0000001";

  it("an unprovisioned node prompts, accepts the keys typed within the window and stores them in flash", () => {
    const b = new Board();
    const term = new Terminal([{ atMs: 20_000, text: `provision ${appKey} ${joinEui}\r\nstatus\r\n` }]);
    b.attachSerial(board.console.port, term, 115200);
    setCurrentBoard(b);
    assert.equal(readKeys(), undefined);
    consoleWindow(board);
    assert.match(term.printed, /not provisioned: type provision/);
    assert.match(term.printed, /OK provisioned/);
    assert.deepEqual({ appKey: readKeys()!.appKey.toUpperCase(), joinEui: readKeys()!.joinEui.toUpperCase() }, { appKey, joinEui });
    assert.ok(b.clock.nowMs < 60_000, "the window closes once the node is provisioned");
    assert.doesNotMatch(term.printed, new RegExp(appKey), "the AppKey is never echoed");
  });

  it("a provisioned node listens only briefly after power-on and never after a deep-sleep wake", () => {
    const b = new Board();
    b.attachSerial(board.console.port, new Terminal([]), 115200);
    setCurrentBoard(b);
    const term = new Terminal([{ atMs: 1000, text: `provision ${appKey} ${joinEui}\r\n` }]);
    b.attachSerial(board.console.port, term, 115200);
    consoleWindow(board);
    const first = b.clock.nowMs;
    assert.ok(first <= 60_000);
    const t0 = b.clock.nowMs;
    consoleWindow(board); // still a power-on boot: a short window
    assert.ok(b.clock.nowMs - t0 <= 5_100, `window of ${b.clock.nowMs - t0} ms`);
    deepSleep(60_000);
    b.clock.advance(60_000);
    const t1 = b.clock.nowMs;
    consoleWindow(board); // a deep-sleep wake: no window at all
    assert.equal(b.clock.nowMs, t1);
  });
});
