// Moddable desktop (lin/mac/win) build only: gives the simulator's native:sleep
// stand-in the specifier "native:sleep" while it keeps its repository path as
// its module name, so its relative imports (../core/board) still resolve in XS.
export * from "simulator/src/platform/native-sleep";
