/**
 * A node's energy per day from its type's power budget
 * (hardware/<type>/power.json), with what the run counted in place of the
 * budget's assumptions. Each budget entry says, in `sim`, what its charge
 * scales with:
 * - "boot": charged at every boot from deep sleep (the ESP32's boot, a sensor
 *   powered or measuring at each wake);
 * - "frame": charged for every frame the node sends, joins included (the
 *   modem's AT exchange, its wait for and its RX windows);
 * - "awake": a current drawn while the firmware is awake (the ESP32 running);
 * - "airtime": a current drawn while transmitting;
 * - "rail": a current drawn while the switched sensor rail is on (the air
 *   node's SEN55: all day on a mains build, one warm-up and reading per
 *   period on a duty-cycled one);
 * - "active": a current drawn while the sensor on that rail runs (a
 *   PMS5003's fan and laser, which it stops when sent to sleep while the
 *   rail stays on: its standby is then a "rail" entry);
 * - none: charged as budgeted, per day (a sensor kept running through deep
 *   sleep, the valve's weekly exercise).
 * Sleep currents are charged all day, as in the budget.
 *
 * The budget assumes a count of each per day (its boots, uplinks, awake
 * seconds and seconds on air); the run's counts scale each entry's daily
 * charge by run ÷ budget. So a run whose counts equal the budget's gives the
 * budget's own figure at its default spreading factor (tested), and a run that
 * boots more, wakes longer or sends at longer spreading factors is charged for
 * it. What the budget gives per spreading factor (RX windows) is taken at its
 * default spreading factor.
 *
 * A build that fits another part than the budget's default (a PMS5003 for
 * the SEN55, a VL53L1X for the A02YYUW) is charged that part's entries: the
 * budget's optional entries marked `fitted` with it replace the default
 * part's states (`statesFor`).
 */
import type { NodeType } from "../fleet/sim-node.ts";
import { DAYS_PER_YEAR, lifeDays, readBudget, sleepMahPerDay, stateSeconds, statesFor, timesPerDay, type PowerBudget } from "./power-budget.ts";

/** What a budget entry's charge scales with in a run (see the module comment). */
export type EnergyBasis = "boot" | "frame" | "awake" | "airtime" | "rail" | "active";
const BASES: readonly EnergyBasis[] = ["boot", "frame", "awake", "airtime", "rail", "active"];

/** What the run counted for one node. */
export interface NodeActivity {
  /** Simulated days. */
  days: number;
  boots: number;
  /** Frames sent, joins and retransmissions included. */
  frames: number;
  /** Time the firmware was awake, ms. */
  awakeMs: number;
  /** Time on air, ms. */
  airtimeMs: number;
  /** Time the switched sensor rail was on, ms (needed by budgets with "rail" entries). */
  railMs?: number;
  /** Time the sensor on that rail ran, ms (needed by builds with "active" entries: a PMS5003's time not asleep). */
  sensorActiveMs?: number;
}

/** One type's energy model. */
export interface EnergyModel {
  /** Usable battery charge, mAh (capacity × usable fraction). */
  batteryMah: number;
  /** The node's mean consumption, mAh a day. */
  mAhPerDay(a: NodeActivity): number;
  /** Battery life at `mAhPerDay`, years. */
  lifeYears(mAhPerDay: number): number;
}

const models = new Map<string, EnergyModel>();

/**
 * The energy model of `type`, from hardware/<type>/power.json (read once), for a build fitted with `fitted`
 * parts instead of the budget's default ones (lower-case part names: "pms5003", "vl53l1x"); throws naming the
 * file and field when it is not usable.
 */
export function energyModel(type: NodeType, fitted: readonly string[] = []): EnergyModel {
  const key = [type, ...fitted].join(" ");
  let m = models.get(key);
  if (!m) {
    m = modelOf(readBudget(type), `hardware/${type}/power.json`, fitted);
    models.set(key, m);
  }
  return m;
}

/** Builds the model of one budget for a build fitted with `fitted` parts; `name` is for error messages. */
export function modelOf(p: PowerBudget, name: string, fitted: readonly string[] = []): EnergyModel {
  const fail: (what: string) => never = (what) => {
    throw new Error(`${name}: ${what}`);
  };
  const sf = String(p.defaultSpreadingFactor);
  const sleepMah = sleepMahPerDay(p);
  // Per basis: the budget's count per day and its charge per day (mA·s).
  const count = { boot: 0, frame: 0, awake: 0, airtime: 0, rail: 0, active: 0 };
  const charge = { boot: 0, frame: 0, awake: 0, airtime: 0, rail: 0, active: 0 };
  let fixedMasPerDay = 0;
  for (const e of statesFor(p, fitted, name)) {
    const i = p.states.includes(e) ? `states[${p.states.indexOf(e)}]` : `optional[${(p.optional ?? []).indexOf(e)}]`;
    const s = stateSeconds(e, sf);
    if (s === undefined || !(s >= 0)) fail(`${i} (${e.part}, ${e.state}): no duration at SF${sf}`);
    const times = timesPerDay(p, e);
    const mas = e.mA * s * times;
    if (e.sim === undefined) {
      fixedMasPerDay += mas;
      continue;
    }
    const basis = e.sim as EnergyBasis;
    if (!BASES.includes(basis)) fail(`${i}.sim: must be one of ${BASES.join(", ")} (or absent), not ${JSON.stringify(e.sim)}`);
    charge[basis] += mas;
    // Events: every boot boots the ESP32, every frame runs the modem's exchange, so the most frequent entry is the count.
    // Times: the entries' durations add up (the ESP32 awake in the app and during the uplink).
    if (basis === "boot" || basis === "frame") count[basis] = Math.max(count[basis], times);
    else count[basis] += s * times;
  }
  for (const b of BASES) if (charge[b] > 0 && !(count[b] > 0)) fail(`entries with sim "${b}" are charged but never happen`);
  const per = (b: EnergyBasis) => (count[b] > 0 ? charge[b] / count[b] : 0);
  const perBoot = per("boot");
  const perFrame = per("frame");
  const awakeMa = per("awake");
  const airMa = per("airtime");
  const railMa = per("rail");
  const activeMa = per("active");
  return {
    batteryMah: p.battery.capacityMah * p.battery.usableFraction,
    mAhPerDay(a) {
      if (railMa > 0 && a.railMs === undefined) throw new Error(`${name}: charges the sensor rail, but the run did not count its time on`);
      if (activeMa > 0 && a.sensorActiveMs === undefined) throw new Error(`${name}: charges the sensor's active time, but the run did not count it`);
      const mas = perBoot * a.boots + perFrame * a.frames + (awakeMa * a.awakeMs + airMa * a.airtimeMs + railMa * (a.railMs ?? 0) + activeMa * (a.sensorActiveMs ?? 0)) / 1000;
      return sleepMah + (fixedMasPerDay + mas / a.days) / 3600;
    },
    lifeYears: (mAhPerDay) => lifeDays(p, mAhPerDay) / DAYS_PER_YEAR,
  };
}

/** A battery life for people: years to one decimal, or days when under a year ("4 days"). */
export function formatLife(years: number): string {
  return years >= 1 ? `${years.toFixed(1)} years` : `${Math.round(years * 365)} days`;
}
