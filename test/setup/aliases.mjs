// Registers the module aliases that stand in for Moddable's platform modules
// (`timer`, `time`, `preference`, `embedded:*`) when the firmware runs under Node
// in tests, mirroring the esbuild alias the simulator bundles with.
import { register } from "node:module";

register("./alias-hooks.mjs", import.meta.url);
