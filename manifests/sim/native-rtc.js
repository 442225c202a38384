// Moddable desktop (lin/mac/win) build only: gives the simulator's native:rtc
// stand-in the specifier "native:rtc" while it keeps its repository path as its
// module name, so its relative imports (../core/board, ../core/rng) resolve in XS.
export * from "simulator/src/platform/native-rtc";
