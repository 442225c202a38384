/** Simulator stand-in for Moddable's `mc/config` (the manifest's `config` section): the current board's `config`. */
import { currentBoard } from "../core/board.ts";

const config: { [key: string]: unknown } = new Proxy({}, {
  get: (_target, key) => (typeof key === "string" ? currentBoard().config[key] : undefined),
  has: (_target, key) => typeof key === "string" && key in currentBoard().config,
});

export default config;
