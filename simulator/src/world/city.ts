/**
 * A simulated city district: a street grid with main roads and parks on gently
 * rolling ground, one weather and one regional air over it, a waste-collection
 * round, and N sensor nodes, each with its world model and its ground truth.
 *
 * Layout (positions in metres on a plane, x east, y north, z height above
 * ground, for radio path loss and the report map):
 * - air nodes on lamp posts along roads (most on main roads, the traffic
 *   factor from the road), a share indoors (schools, offices) and a share in
 *   parks as urban background;
 * - water meters at houses inside the blocks that are not parks;
 * - bins along streets, and a share on park paths (weekend-heavy filling);
 * - drains at the lowest points of the streets, the lowest first, at least
 *   60 m apart.
 * Every node's placement and model come from the city stream forked by the
 * node's id, and drains are picked greedily in a fixed order, so adding a node
 * never changes another node's place or values. Parks are decided per block
 * and the terrain from the city seed alone.
 */
import { Rng } from "../core/rng.ts";
import { AirQuality, DEFAULT_AIR_THRESHOLDS, RegionalAir, type AirQualityOptions, type AirSetting, type AirThresholds, type RegionalAirOptions } from "./air-quality.ts";
import { Bin, CollectionRoute, type BinOptions, type BinSite, type CollectionRouteOptions } from "./bins.ts";
import { Calendar, type CalendarOptions } from "./calendar.ts";
import { DEFAULT_DRAIN_THRESHOLDS, Drain, type DrainOptions, type DrainThresholds } from "./drains.ts";
import type { GroundTruthKind, TruthEvent } from "./intervals.ts";
import { clamp, lognormal, uniform } from "./random.ts";
import { usAqi } from "../../../firmware/src/dsp/aqi.ts";
import { DEFAULT_NO_FLOW_H, WaterDemand, type WaterDemandOptions } from "./water-demand.ts";
import { Weather, type WeatherOptions } from "./weather.ts";

export type NodeKind = "air" | "water" | "bin" | "drain";

/** A point in metres: x east, y north, z above ground. */
export interface NodePosition {
  x: number;
  y: number;
  z: number;
}

interface NodeBase {
  id: string;
  position: NodePosition;
  /** Ground-truth events of this node in [fromMs, toMs), with the city's thresholds. */
  events(fromMs: number, toMs: number): TruthEvent[];
  /** The same with the thresholds lowered by the sensors' stated accuracy (`nearThresholds`): what a sensor within its accuracy could report. */
  nearEvents(fromMs: number, toMs: number): TruthEvent[];
}

export interface AirNode extends NodeBase {
  kind: "air";
  setting: AirSetting;
  model: AirQuality;
}

export interface WaterNode extends NodeBase {
  kind: "water";
  model: WaterDemand;
}

export interface BinNode extends NodeBase {
  kind: "bin";
  site: BinSite;
  model: Bin;
}

export interface DrainNode extends NodeBase {
  kind: "drain";
  /** Ground elevation, m. */
  elevationM: number;
  model: Drain;
}

export type CityNode = AirNode | WaterNode | BinNode | DrainNode;

export interface CityCounts {
  air?: number;
  water?: number;
  bin?: number;
  drain?: number;
}

/** Thresholds that turn signals into ground-truth events (defaults: the firmware's factory configuration). */
export interface CityThresholds extends AirThresholds, DrainThresholds {
  /** Bin fill counted as full, % (default 80). */
  fullPct: number;
  /** Hours without water counted as a meter gone quiet (noFlow; default 72, the firmware's noPulseH). */
  noFlowH: number;
}

export const DEFAULT_CITY_THRESHOLDS: Readonly<CityThresholds> = Object.freeze({
  ...DEFAULT_AIR_THRESHOLDS,
  ...DEFAULT_DRAIN_THRESHOLDS,
  fullPct: 80,
  noFlowH: DEFAULT_NO_FLOW_H,
});

// Lower PM2.5 and PM10 breakpoints of the US AQI categories, µg/m³ (EPA 2024; dsp/aqi.ts).
const PM25_CATEGORY_LO = [0, 9.1, 35.5, 55.5, 125.5, 225.5];
const PM10_CATEGORY_LO = [0, 55, 155, 255, 355, 425];

/**
 * The air thresholds lowered by the sensors' stated accuracy, so that air a sensor within it could
 * read as over the threshold counts: SCD41 ±(40 ppm + 5 %) of the reading; SEN55 PM2.5 ±(5 µg/m³ +
 * 5 %) and PM10 ±(25 µg/m³ + 10 %) (their 0–100 µg/m³ figures), which move the AQI floor to the AQI of
 * the lower of the two concentrations that read as the category's breakpoints.
 */
export function nearAirThresholds(th: AirThresholds): AirThresholds {
  const cat = clamp(Math.round(th.aqiCategory), 0, 5);
  const pm25 = (PM25_CATEGORY_LO[cat] - 5) / 1.05;
  const pm10 = (PM10_CATEGORY_LO[cat] - 25) / 1.1;
  return {
    ...th,
    co2Ppm: (th.co2Ppm - 40) / 1.05,
    pmSpikeUgm3: (th.pmSpikeUgm3 - 5) / 1.05,
    aqiFloor: cat === 0 ? 0 : Math.min(usAqi(Math.max(0, Math.floor(pm25 * 10)), 0), usAqi(0, Math.max(0, Math.floor(pm10 * 10)))),
  };
}

/**
 * A fill threshold (% of the span from `depthMm` to `fullDistanceMm`) lowered by the A02YYUW's stated
 * accuracy, ±(1 cm + 0.3 %) of the distance, at the distance of that fill.
 */
export function nearFullPct(fullPct: number, depthMm: number, fullDistanceMm: number): number {
  const span = depthMm - fullDistanceMm;
  const distance = depthMm - (fullPct / 100) * span;
  return fullPct - (100 * (10 + 0.003 * distance)) / span;
}

/**
 * A drain's rapid-rise threshold (%/h of the span) lowered by what the A02YYUW's stated accuracy,
 * ±(1 cm + 0.3 %) of the distance, can do to the node's endpoint slope: both ends of the window off
 * in opposite directions, at the largest distance (`depthMm`).
 */
export function nearRapidRisePctPerH(rapidRisePctPerH: number, depthMm: number, fullDistanceMm: number, windowMs: number): number {
  const errorMm = 2 * (10 + 0.003 * depthMm);
  return rapidRisePctPerH - ((100 * errorMm) / (depthMm - fullDistanceMm)) * (3_600_000 / windowMs);
}

export interface CityOptions {
  seed: number | string;
  counts: CityCounts;
  /** District size, m (default 2000 × 1500), street spacing (default 150 m), every n-th street a main road (default 4). */
  widthM?: number;
  heightM?: number;
  blockM?: number;
  mainRoadEvery?: number;
  /** Share of blocks that are parks (default 0.12). */
  parkShare?: number;
  /** Shares of air nodes indoors (default 0.2) and in parks as background (default 0.1). */
  indoorAirShare?: number;
  backgroundAirShare?: number;
  /** Share of bins in parks (default 0.3). */
  parkBinShare?: number;
  calendar?: CalendarOptions;
  weather?: Omit<WeatherOptions, "seed" | "calendar">;
  regionalAir?: Omit<RegionalAirOptions, "seed" | "calendar">;
  route?: Omit<CollectionRouteOptions, "seed" | "calendar">;
  /** Options applied to every node of a kind (the city sets seed, weather, placement-derived values). */
  air?: Partial<Omit<AirQualityOptions, "seed" | "weather" | "regional">>;
  water?: Partial<Omit<WaterDemandOptions, "seed" | "calendar">>;
  bin?: Partial<Omit<BinOptions, "seed" | "weather" | "calendar" | "collection">>;
  drain?: Partial<Omit<DrainOptions, "seed" | "weather">>;
  thresholds?: Partial<CityThresholds>;
}

/** A ground-truth event of one node, for scoring detection latency, missed and false alarms. */
export interface GroundTruthEvent extends TruthEvent {
  nodeId: string;
}

const KIND_ORDER: readonly GroundTruthKind[] = [
  "co2High", "aqiUnhealthy", "pmSpike", "leak", "burst", "away", "noFlow", "full", "collection", "tipped", "lidOpen", "rapidRise", "flood", "obstruction",
];
const DRAIN_STEP_M = 25;
const DRAIN_SPACING_M = 60;

export class City {
  readonly calendar: Calendar;
  readonly weather: Weather;
  readonly regionalAir: RegionalAir;
  readonly route: CollectionRoute;
  readonly widthM: number;
  readonly heightM: number;
  readonly blockM: number;
  readonly thresholds: Readonly<CityThresholds>;
  readonly nodes: readonly CityNode[];
  readonly #rng: Rng;
  readonly #mainEvery: number;
  readonly #parkShare: number;
  readonly #parks = new Map<string, boolean>();
  readonly #terrain: { kx: number; ky: number; phase: number; amp: number }[];
  readonly #slope: { x: number; y: number };
  readonly #byId = new Map<string, CityNode>();

  constructor(options: CityOptions) {
    this.#rng = new Rng(options.seed);
    const rng = this.#rng;
    this.calendar = new Calendar(options.calendar);
    this.widthM = options.widthM ?? 2000;
    this.heightM = options.heightM ?? 1500;
    this.blockM = options.blockM ?? 150;
    this.#mainEvery = Math.max(1, Math.round(options.mainRoadEvery ?? 4));
    this.#parkShare = options.parkShare ?? 0.12;
    this.thresholds = Object.freeze({ ...DEFAULT_CITY_THRESHOLDS, ...options.thresholds });
    this.weather = new Weather({ ...options.weather, seed: rng.fork("weather"), calendar: this.calendar });
    this.regionalAir = new RegionalAir({ ...options.regionalAir, seed: rng.fork("regional-air"), calendar: this.calendar });
    this.route = new CollectionRoute({ laneM: this.blockM, widthM: this.widthM, ...options.route, seed: rng.fork("route"), calendar: this.calendar });
    const tr = rng.fork("terrain");
    // Rolling ground: a few long waves (wavelengths 0.5–3 km, 1–4 m each) on a gentle tilt.
    this.#terrain = Array.from({ length: 4 }, () => {
      const wl = uniform(tr, 500, 3000);
      const dir = uniform(tr, 0, 2 * Math.PI);
      return { kx: (2 * Math.PI * Math.cos(dir)) / wl, ky: (2 * Math.PI * Math.sin(dir)) / wl, phase: uniform(tr, 0, 2 * Math.PI), amp: uniform(tr, 1, 4) };
    });
    this.#slope = { x: tr.normal(0, 0.004), y: tr.normal(0, 0.004) };

    const counts = options.counts;
    const nodes: CityNode[] = [];
    const th = this.thresholds;
    for (let i = 0; i < (counts.air ?? 0); i++) nodes.push(this.#airNode(nodeId("air", i), options, th));
    for (let i = 0; i < (counts.water ?? 0); i++) nodes.push(this.#waterNode(nodeId("water", i), options, th));
    for (let i = 0; i < (counts.bin ?? 0); i++) nodes.push(this.#binNode(nodeId("bin", i), options, th));
    const drainSpots = this.#drainSpots(counts.drain ?? 0);
    for (let i = 0; i < drainSpots.length; i++) nodes.push(this.#drainNode(nodeId("drain", i), drainSpots[i], options, th));
    this.nodes = nodes;
    for (const n of nodes) this.#byId.set(n.id, n);
  }

  // ---------------------------------------------------------- geography

  /** Ground elevation at (x, y), m. */
  elevationM(x: number, y: number): number {
    let h = 20 + this.#slope.x * x + this.#slope.y * y;
    for (const w of this.#terrain) h += w.amp * Math.sin(w.kx * x + w.ky * y + w.phase);
    return h;
  }

  /** Whether block (i, j) (the one with its south-west corner at i·blockM, j·blockM) is a park. */
  isParkBlock(i: number, j: number): boolean {
    const key = `${i}:${j}`;
    let p = this.#parks.get(key);
    if (p === undefined) {
      p = this.#rng.fork(`park:${key}`).chance(this.#parkShare);
      this.#parks.set(key, p);
    }
    return p;
  }

  /** Whether (x, y) lies in a park. */
  isPark(x: number, y: number): boolean {
    return this.isParkBlock(Math.floor(x / this.blockM), Math.floor(y / this.blockM));
  }

  get #blocksX(): number {
    return Math.max(1, Math.floor(this.widthM / this.blockM));
  }

  get #blocksY(): number {
    return Math.max(1, Math.floor(this.heightM / this.blockM));
  }

  /** A point on a street: main road or not, offset from the centre line by `offsetM`. */
  #streetPoint(r: Rng, main: boolean, offsetM: number): { x: number; y: number; main: boolean } {
    const vertical = r.chance(this.widthM / (this.widthM + this.heightM));
    const lines = vertical ? this.#blocksX + 1 : this.#blocksY + 1;
    const mains: number[] = [];
    const sides: number[] = [];
    for (let k = 0; k < lines; k++) (k % this.#mainEvery === 0 ? mains : sides).push(k);
    const pool = main || sides.length === 0 ? mains : sides;
    const k = pool[r.int(0, pool.length - 1)];
    const along = uniform(r, 0, vertical ? this.heightM : this.widthM);
    const side = r.chance(0.5) ? offsetM : -offsetM;
    const at = clamp(k * this.blockM + side, 0, vertical ? this.widthM : this.heightM);
    return vertical ? { x: at, y: along, main: pool === mains } : { x: along, y: at, main: pool === mains };
  }

  /** A point inside a block (away from the streets), in a park or not (if any such block exists). */
  #blockPoint(r: Rng, park: boolean): { x: number; y: number } {
    const margin = Math.min(15, this.blockM / 4);
    let best: { x: number; y: number } | undefined;
    for (let attempt = 0; attempt < 40; attempt++) {
      const i = r.int(0, this.#blocksX - 1);
      const j = r.int(0, this.#blocksY - 1);
      const p = { x: i * this.blockM + uniform(r, margin, this.blockM - margin), y: j * this.blockM + uniform(r, margin, this.blockM - margin) };
      best ??= p;
      if (this.isParkBlock(i, j) === park) return p;
    }
    return best!;
  }

  // ---------------------------------------------------------- nodes

  #airNode(id: string, o: CityOptions, th: CityThresholds): AirNode {
    const r = this.#rng.fork(`${id}:place`);
    const u = r.next();
    const indoorShare = o.indoorAirShare ?? 0.2;
    const bgShare = o.backgroundAirShare ?? 0.1;
    let setting: AirSetting;
    let pos: { x: number; y: number };
    let traffic: number;
    let z = 4;
    if (u < indoorShare) {
      setting = "indoor";
      pos = this.#blockPoint(r, false);
      traffic = 0.3 * lognormal(r, 1, 0.3);
      z = uniform(r, 1, 10);
    } else if (u < indoorShare + bgShare) {
      setting = "background";
      pos = this.#blockPoint(r, true);
      traffic = 0.12 * lognormal(r, 1, 0.3);
      z = 3;
    } else {
      setting = "roadside";
      const p = this.#streetPoint(r, r.chance(0.6), 4);
      pos = p;
      traffic = (p.main ? 1 : 0.35) * lognormal(r, 1, 0.25);
    }
    const model = new AirQuality({ trafficFactor: traffic, ...o.air, setting, seed: this.#rng.fork(id), weather: this.weather, regional: this.regionalAir });
    const near = nearAirThresholds(th);
    return { id, kind: "air", setting, position: { x: pos.x, y: pos.y, z }, model, events: (a, b) => model.events(a, b, th), nearEvents: (a, b) => model.events(a, b, near) };
  }

  #waterNode(id: string, o: CityOptions, th: CityThresholds): WaterNode {
    const r = this.#rng.fork(`${id}:place`);
    const pos = this.#blockPoint(r, false);
    const model = new WaterDemand({ ...o.water, seed: this.#rng.fork(id), calendar: this.calendar });
    // A pulse count has no reading error to speak of: no tolerance band.
    return { id, kind: "water", position: { x: pos.x, y: pos.y, z: 0.5 }, model, events: (a, b) => model.events(a, b, th.noFlowH), nearEvents: (a, b) => model.events(a, b, th.noFlowH) };
  }

  #binNode(id: string, o: CityOptions, th: CityThresholds): BinNode {
    const r = this.#rng.fork(`${id}:place`);
    const inPark = r.chance(o.parkBinShare ?? 0.3);
    const pos = inPark ? this.#blockPoint(r, true) : this.#streetPoint(r, r.chance(0.4), 3);
    const site: BinSite = inPark && this.isPark(pos.x, pos.y) ? "park" : "street";
    const model = new Bin({ site, ...o.bin, seed: this.#rng.fork(id), weather: this.weather, calendar: this.calendar, collection: this.route.scheduleFor(pos) });
    const nearFull = nearFullPct(th.fullPct, model.depthMm, model.fullDistanceMm);
    return { id, kind: "bin", site, position: { x: pos.x, y: pos.y, z: 1 }, model, events: (a, b) => model.events(a, b, th.fullPct), nearEvents: (a, b) => model.events(a, b, nearFull) };
  }

  #drainNode(id: string, spot: { x: number; y: number; h: number }, o: CityOptions, th: CityThresholds): DrainNode {
    const r = this.#rng.fork(`${id}:place`);
    const model = new Drain({ catchmentM2: 250 * lognormal(r, 1, 0.3), ...o.drain, seed: this.#rng.fork(id), weather: this.weather });
    const near = {
      ...th,
      fullPct: nearFullPct(th.fullPct, model.depthMm, model.fullDistanceMm),
      rapidRisePctPerH: nearRapidRisePctPerH(th.rapidRisePctPerH, model.depthMm, model.fullDistanceMm, th.rateWindowMs),
    };
    return { id, kind: "drain", elevationM: spot.h, position: { x: spot.x, y: spot.y, z: -0.5 }, model, events: (a, b) => model.events(a, b, th), nearEvents: (a, b) => model.events(a, b, near) };
  }

  /** The lowest street points, greedily at least DRAIN_SPACING_M apart (then closer if more are wanted). */
  #drainSpots(count: number): { x: number; y: number; h: number }[] {
    if (count <= 0) return [];
    const cand: { x: number; y: number; h: number }[] = [];
    const seen = new Set<string>();
    const add = (x: number, y: number) => {
      const key = `${Math.round(x)}:${Math.round(y)}`;
      if (seen.has(key)) return;
      seen.add(key);
      cand.push({ x, y, h: this.elevationM(x, y) });
    };
    for (let k = 0; k <= this.#blocksX; k++) for (let y = 0; y <= this.heightM; y += DRAIN_STEP_M) add(k * this.blockM, y);
    for (let k = 0; k <= this.#blocksY; k++) for (let x = 0; x <= this.widthM; x += DRAIN_STEP_M) add(x, k * this.blockM);
    cand.sort((a, b) => a.h - b.h || a.x - b.x || a.y - b.y);
    const out: { x: number; y: number; h: number }[] = [];
    const taken = new Set<number>();
    for (const spacing of [DRAIN_SPACING_M, DRAIN_SPACING_M / 2, 0]) {
      for (let i = 0; i < cand.length && out.length < count; i++) {
        if (taken.has(i)) continue;
        const c = cand[i];
        if (spacing > 0 && out.some((p) => Math.hypot(p.x - c.x, p.y - c.y) < spacing)) continue;
        taken.add(i);
        out.push(c);
      }
      if (out.length >= count) break;
    }
    // More drains than street points: stack the rest on the lowest ones (offset a metre each).
    for (let i = 0; out.length < count; i++) {
      const c = cand[i % cand.length];
      out.push({ x: c.x + 1 + Math.floor(i / cand.length), y: c.y, h: c.h });
    }
    return out;
  }

  // ---------------------------------------------------------- ground truth

  /** The node with `id`. */
  node(id: string): CityNode | undefined {
    return this.#byId.get(id);
  }

  /** Nodes of one kind. */
  nodesOf<K extends NodeKind>(kind: K): Extract<CityNode, { kind: K }>[] {
    return this.nodes.filter((n): n is Extract<CityNode, { kind: K }> => n.kind === kind);
  }

  /**
   * Every node's ground-truth events overlapping [fromMs, toMs), flat and
   * sorted by start (then node id, kind, end): for scoring detection latency,
   * missed and false alarms.
   */
  groundTruthEvents(fromMs: number, toMs: number): GroundTruthEvent[] {
    return sortTruth(this.nodes.flatMap((n) => nodeTruth(n, fromMs, toMs)));
  }
}

/** One node's ground-truth events overlapping [fromMs, toMs), tagged with its id (unsorted). */
export function nodeTruth(n: CityNode, fromMs: number, toMs: number): GroundTruthEvent[] {
  return n.events(fromMs, toMs).map((e) => ({ nodeId: n.id, ...e }));
}

/** Sorts ground-truth events by start, then node id, kind and end: the order `groundTruthEvents` gives, however they were gathered. */
export function sortTruth(events: GroundTruthEvent[]): GroundTruthEvent[] {
  return events.sort(
    (a, b) =>
      a.startMs - b.startMs ||
      (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0) ||
      KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) ||
      a.endMs - b.endMs,
  );
}

function nodeId(kind: NodeKind, i: number): string {
  return `${kind}-${String(i).padStart(4, "0")}`;
}
