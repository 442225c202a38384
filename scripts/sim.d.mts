/** Bundles the simulator into build/sim/ unless it is up to date; resolves to whether it built. */
export function buildSim(): Promise<boolean>;
/** The bundled API module (simulator/src/cli/index.ts), for `import()`. */
export const API_BUNDLE: string;
