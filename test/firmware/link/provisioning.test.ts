/** Keys come from flash (preference domain "lorawan"), put there by the serial-console provisioning command. */
import assert from "node:assert/strict";
import fc from "fast-check";
import { Board, setCurrentBoard } from "../../../simulator/src/core/board.ts";
import { Rng } from "../../../simulator/src/core/rng.ts";
import { PROVISION_DOMAIN, ProvisioningConsole, modemSettings, provisionCommand, readKeys } from "../../../firmware/src/link/provisioning.ts";
import { randomKeys } from "./harness.ts";

function withBoard(body: (board: Board) => void): void {
  const board = new Board();
  setCurrentBoard(board);
  try {
    body(board);
  } finally {
    setCurrentBoard(undefined);
  }
}

describe("link provisioning", () => {
  it("stores keys from a `provision` line and builds modem settings from them; never prints the AppKey", () => {
    withBoard((board) => {
      const keys = randomKeys(new Rng(5));
      assert.equal(modemSettings("EU868", true, 0), undefined, "unprovisioned");
      const out: string[] = [];
      const console_ = new ProvisioningConsole((t) => out.push(t));
      console_.feed(`provision ${keys.appKey.toLowerCase()} ${keys.joinEui}\r\n`);
      assert.match(out[0], /^OK provisioned joineui=[0-9A-F]{16} deveui=modem\r\n$/);
      assert.deepEqual(readKeys(), { appKey: keys.appKey, joinEui: keys.joinEui });
      assert.deepEqual(modemSettings("EU868", false, 5), { region: "EU868", appKey: keys.appKey, joinEui: keys.joinEui, adr: false, dataRate: 5 });
      console_.feed(new TextEncoder().encode(`provision ${keys.appKey} ${keys.joinEui} ${keys.devEui}\nstatus\n`));
      assert.equal(out[2], `provisioned joineui=${keys.joinEui} deveui=${keys.devEui}\r\n`);
      assert.equal(modemSettings("US915", true, 0)!.devEui, keys.devEui);
      for (const line of out) assert.ok(!line.includes(keys.appKey), "AppKey echoed");
      for (const key of board.flash.get(PROVISION_DOMAIN)!.keys()) assert.ok(key.length <= 15);
      console_.feed("unprovision\r");
      assert.equal(out[3], "OK unprovisioned\r\n");
      assert.equal(readKeys(), undefined);
    });
  });

  it("refuses malformed keys and commands without touching flash", () => {
    withBoard((board) => {
      for (const line of ["provision", "provision 00 11", "provision " + "0".repeat(32) + " " + "1".repeat(16), "provision " + "G".repeat(32) + " " + "1".repeat(16), "provision " + "A".repeat(32) + " " + "1".repeat(15), "provision " + "A".repeat(32) + " " + "1".repeat(16) + " xyz", "frobnicate"]) {
        assert.match(provisionCommand(line), /^ERROR /, line);
      }
      assert.equal(board.flashWrites, 0);
    });
  });

  it("survives line noise: over-long lines are dropped, control bytes ignored (property)", () => {
    withBoard(() => {
      fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        const out: string[] = [];
        const c = new ProvisioningConsole((t) => out.push(t), 128);
        c.feed(bytes);
        c.feed("\n");
        for (const line of out) assert.ok(line.length <= 200 && line.endsWith("\r\n"));
      }));
      const out: string[] = [];
      const c = new ProvisioningConsole((t) => out.push(t), 16);
      c.feed("status status status status\n");
      assert.deepEqual(out, ["ERROR line too long\r\n"]);
    });
  });
});
