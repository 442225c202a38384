/**
 * What a scenario's `firmware` section builds for each node type: the
 * manifest `config` the firmware reads, and the parts fitted in place of the
 * power budgets' default ones (which the energy figures charge).
 */
import type { Scenario } from "./scenario.ts";

/** A node type, as scenarios name them. */
export type BuiltType = "air" | "water" | "level";

/** The manifest `config` of a node type's build as the scenario sets it: `firmware.<type>`, with `pmSensor` turned into the `sensors` it fits. */
export function buildConfig(scenario: Scenario, type: BuiltType): { [key: string]: unknown } {
  if (type !== "air") return { ...scenario.firmware?.[type] };
  const { pmSensor, ...rest } = scenario.firmware?.air ?? {};
  return pmSensor === "pms5003" ? { ...rest, sensors: { sen5x: { fitted: false }, pms5003: { fitted: true } } } : rest;
}

/** The parts a node type's build fits in place of its power budget's default ones, as the budgets' optional entries name them in `fitted` (energy-model.ts). */
export function fittedParts(scenario: Scenario, type: BuiltType): string[] {
  if (type === "air") return scenario.firmware?.air?.pmSensor === "pms5003" ? ["pms5003"] : [];
  if (type === "level") return scenario.firmware?.level?.distanceSensor === "vl53l1x" ? ["vl53l1x"] : [];
  return [];
}
