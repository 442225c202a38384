// Worker threads do not inherit the parent's `--import tsx` hooks on every Node version: register tsx here, then load the TypeScript entry.
import { register } from "tsx/esm/api";
import { fileURLToPath } from "node:url";

register({ tsconfig: fileURLToPath(new globalThis.URL("../../../tsconfig.json", import.meta.url)) });
await import("./scenario-worker.ts");
