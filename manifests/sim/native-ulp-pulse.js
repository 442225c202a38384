// Moddable desktop (lin/mac/win) build only: gives the simulator's native:ulp-pulse
// stand-in the specifier "native:ulp-pulse" while it keeps its repository path as
// its module name, so its relative imports (../core/board) resolve in XS.
export { default } from "simulator/src/platform/native-ulp-pulse";
