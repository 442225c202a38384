/** The simulator's programmatic API: load a scenario and run it (what `npm run sim` does, without the printing). */
export { runScenario, type RunOptions, type RunResult } from "./run-scenario.ts";
export { loadScenario, scenarioNames, scenarioErrors, type Scenario } from "./scenario.ts";
