/** Scenario files: what a run simulates, validated against a JSON Schema so a bad file gets a message naming the field. */
import Ajv from "ajv";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";

/** A run of the city twin. */
export interface Scenario {
  name: string;
  description?: string;
  seed: number;
  days: number;
  region: "EU868" | "US915" | "AU915" | "AS923";
  /** Nodes of each kind; bins and drains are fill-level nodes. */
  nodes: { air: number; water: number; bin: number; drain: number };
  /** Gateways in metres on the district plane; omitted: a grid that covers the district. */
  gateways?: { x: number; y: number }[];
  /** LoRaWAN modem fitted to the nodes. */
  modem?: "wio-e5" | "rak3172";
  /** Network outages (every gateway silent), hours from the start. */
  outages?: { startH: number; durationH: number }[];
  /** Scripted storms on top of the random weather. */
  storms?: { startH: number; durationH: number; peakMmH: number }[];
  /** Scripted regional pollution episodes. */
  episodes?: { startH: number; durationH: number }[];
  /** Node settings stored in flash before the first boot, per node type (as the setX downlinks would set them). */
  settings?: { air?: Record<string, number>; water?: Record<string, number>; level?: Record<string, number> };
  /** Data rate every node uses (ADR off); default DR4 (SF8) in EU868-like regions, DR1 in US915. */
  dataRate?: number;
  /**
   * First boots spread evenly over this many seconds (default 900: nodes
   * installed over a quarter of an hour). 60 is a batch switched on in one
   * minute on installation day; 0, all in the same instant.
   */
  bootSpreadS?: number;
  /**
   * Whether the application answers a node's `clockUnsynced` with setTime at once (default true: what the
   * firmware expects of a deployment; false: every node runs on its RTC's hours, as without an application).
   */
  syncClocks?: boolean;
  /**
   * Spread of the nodes' RTC rate errors, ppm: each node's RTC runs fast or slow by a normal draw with
   * this standard deviation (clipped at three of them), as the ESP32's RC oscillator does through deep sleep
   * (default 0: ideal RTCs). Sleeps, the ULP's minutes, the RTC count and the wall clock set on it drift.
   */
  rtcDriftPpm?: number;
  /**
   * Build options of the firmware per node type, as a manifest's `config`
   * sets them (manifests/<type>/manifest.json): the water meter fitted, the
   * leak detector and the DS18B20 water-temperature probe (`waterTemperature`);
   * the level node's distance sensor, bin detector and the fall a bin must
   * show to count as emptied (`emptyStepPct`, default 30); the air node's PM
   * period: 0 (the default) keeps the SEN55 measuring, as on mains power;
   * 300..86400 s powers it for one reading a period, as a battery build must
   * (`pmPeriodS`); and its PM sensor (`pmSensor`: the SEN55, the default, or
   * the cheaper Plantower PMS5003, which has no VOC/NOx index). The energy
   * figures charge the fitted parts' own currents (`fittedParts`).
   */
  firmware?: {
    air?: { pmPeriodS?: number; pmSensor?: "sen55" | "pms5003" };
    water?: { meter?: "yf-s201" | "yf-b1" | "fs400a" | "reed-1l" | "reed-10l" | "reed-100l" | "reed-1000l"; leakDetector?: "night" | "model"; waterTemperature?: boolean };
    level?: { distanceSensor?: "a02yyuw" | "vl53l1x"; binDetector?: "rules" | "model"; emptyStepPct?: number };
  };
  /**
   * A capacity sweep: instead of one run, one short run per entry of
   * `nodesPerGateway` (that many nodes, in the scenario's proportions), each
   * `hours` long; the offered load and delivery ratio of each are compared
   * with pure ALOHA. Frames starting in the first `warmupMin` minutes (the
   * joins) are left out of the figures. First boots are spread evenly over
   * `bootSpreadS` (default 300 s, an air node's wake period), so reports are
   * not bunched as when every node is switched on in the same minute.
   */
  sweep?: { nodesPerGateway: number[]; hours: number; warmupMin?: number; bootSpreadS?: number };
}

/** The JSON Schema of scenario files. */
export const SCENARIO_SCHEMA = {
  $schema: "http://json-schema.org/draft-07/schema#",
  type: "object",
  additionalProperties: false,
  required: ["name", "seed", "days", "region", "nodes"],
  properties: {
    $schema: { type: "string" },
    name: { type: "string", minLength: 1, maxLength: 80 },
    description: { type: "string" },
    seed: { type: "integer", minimum: 0, maximum: 4294967295 },
    days: { type: "number", exclusiveMinimum: 0, maximum: 366 },
    region: { enum: ["EU868", "US915", "AU915", "AS923"] },
    nodes: {
      type: "object",
      additionalProperties: false,
      required: ["air", "water", "bin", "drain"],
      properties: {
        air: { type: "integer", minimum: 0, maximum: 2000 },
        water: { type: "integer", minimum: 0, maximum: 2000 },
        bin: { type: "integer", minimum: 0, maximum: 2000 },
        drain: { type: "integer", minimum: 0, maximum: 2000 },
      },
    },
    gateways: {
      type: "array",
      minItems: 1,
      maxItems: 100,
      items: { type: "object", additionalProperties: false, required: ["x", "y"], properties: { x: { type: "number" }, y: { type: "number" } } },
    },
    modem: { enum: ["wio-e5", "rak3172"] },
    outages: { type: "array", items: { $ref: "#/definitions/window" } },
    episodes: { type: "array", items: { $ref: "#/definitions/window" } },
    storms: {
      type: "array",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["startH", "durationH", "peakMmH"],
        properties: { startH: { type: "number", minimum: 0 }, durationH: { type: "number", exclusiveMinimum: 0 }, peakMmH: { type: "number", exclusiveMinimum: 0, maximum: 300 } },
      },
    },
    settings: {
      type: "object",
      additionalProperties: false,
      properties: {
        air: { type: "object", additionalProperties: { type: "integer" } },
        water: { type: "object", additionalProperties: { type: "integer" } },
        level: { type: "object", additionalProperties: { type: "integer" } },
      },
    },
    dataRate: { type: "integer", minimum: 0, maximum: 15 },
    bootSpreadS: { type: "number", minimum: 0, maximum: 86400 },
    syncClocks: { type: "boolean" },
    rtcDriftPpm: { type: "number", minimum: 0, maximum: 20000 },
    firmware: {
      type: "object",
      additionalProperties: false,
      properties: {
        air: {
          type: "object",
          additionalProperties: false,
          properties: {
            pmPeriodS: { type: "integer", anyOf: [{ const: 0 }, { minimum: 300, maximum: 86400 }], description: "0 or 300..86400" },
            pmSensor: { enum: ["sen55", "pms5003"] },
          },
        },
        water: {
          type: "object",
          additionalProperties: false,
          properties: {
            meter: { enum: ["yf-s201", "yf-b1", "fs400a", "reed-1l", "reed-10l", "reed-100l", "reed-1000l"] },
            leakDetector: { enum: ["night", "model"] },
            waterTemperature: { type: "boolean" },
          },
        },
        level: {
          type: "object",
          additionalProperties: false,
          properties: { distanceSensor: { enum: ["a02yyuw", "vl53l1x"] }, binDetector: { enum: ["rules", "model"] }, emptyStepPct: { type: "integer", minimum: 5, maximum: 100 } },
        },
      },
    },
    sweep: {
      type: "object",
      additionalProperties: false,
      required: ["nodesPerGateway", "hours"],
      properties: {
        nodesPerGateway: { type: "array", minItems: 1, maxItems: 50, items: { type: "integer", minimum: 1, maximum: 5000 } },
        hours: { type: "number", exclusiveMinimum: 0, maximum: 168 },
        warmupMin: { type: "number", minimum: 0, maximum: 1440 },
        bootSpreadS: { type: "number", minimum: 0, maximum: 86400 },
      },
    },
  },
  definitions: {
    window: {
      type: "object",
      additionalProperties: false,
      required: ["startH", "durationH"],
      properties: { startH: { type: "number", minimum: 0 }, durationH: { type: "number", exclusiveMinimum: 0 } },
    },
  },
} as const;

const ajv = new Ajv({ allErrors: true, verbose: true });
const validate = ajv.compile(SCENARIO_SCHEMA);

/** Problems with a scenario object, one message per problem naming the field ("nodes.air: must be integer"); empty when valid. */
export function scenarioErrors(value: unknown): string[] {
  if (validate(value)) return [];
  const errors = validate.errors ?? [];
  // A field whose values are one of several ranges says so once, in its own words, not once per range.
  const anyOf = new Set(errors.filter((e) => e.keyword === "anyOf").map((e) => e.instancePath));
  return errors.filter((e) => e.keyword === "anyOf" || e.keyword === "type" || !anyOf.has(e.instancePath)).map((e) => {
    const field = (e.instancePath || "").replace(/^\//, "").replace(/\//g, ".") || "(scenario)";
    if (e.keyword === "anyOf") return `${field}: must be ${(e.parentSchema as { description?: string }).description ?? "one of the allowed ranges"}`;
    if (e.keyword === "additionalProperties") return `${field === "(scenario)" ? "" : field + "."}${(e.params as { additionalProperty: string }).additionalProperty}: unknown field`;
    if (e.keyword === "required") return `${field === "(scenario)" ? "" : field + "."}${(e.params as { missingProperty: string }).missingProperty}: required`;
    if (e.keyword === "enum") return `${field}: must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.join(", ")}`;
    return `${field}: ${e.message}`;
  });
}

const DIR = fileURLToPath(new URL("../../scenarios/", import.meta.url));

/** Names of the scenarios shipped in simulator/scenarios/. */
export function scenarioNames(): string[] {
  return readdirSync(DIR).filter((f) => f.endsWith(".json")).map((f) => basename(f, ".json")).sort();
}

/** Loads a scenario by name or path; throws an Error listing every problem if it is invalid. */
export function loadScenario(nameOrPath: string): Scenario {
  const path = existsSync(nameOrPath) ? nameOrPath : join(DIR, nameOrPath + ".json");
  if (!existsSync(path)) throw new Error(`no scenario "${nameOrPath}": give a file or one of ${scenarioNames().join(", ")}`);
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new Error(`${path}: not valid JSON (${(e as Error).message})`, { cause: e });
  }
  const errors = scenarioErrors(value);
  if (errors.length) throw new Error(`${path}: invalid scenario\n  ${errors.join("\n  ")}`);
  return value as Scenario;
}
