/**
 * The fill-level node in the simulator core: the real drivers (A02YYUW, LIS3DH)
 * against their emulators, a fresh LevelNode at every boot (NodeHost), the
 * platform stand-ins for native:sleep/native:rtc/preference, and a
 * RecordingLink. A scripted bin (a month) and a scripted drain (ten days)
 * provide the ground truth every message is checked against.
 */
import assert from "node:assert/strict";
import Serial from "embedded:io/serial";
import I2C from "embedded:io/i2c";
import { Board, setCurrentBoard } from "../../../simulator/src/core/board.ts";
import { VirtualClock } from "../../../simulator/src/core/clock.ts";
import { Rng } from "../../../simulator/src/core/rng.ts";
import { NodeHost } from "../../../simulator/src/core/node-host.ts";
import { RecordingLink, type LinkedMessage } from "../../../simulator/src/core/recording-link.ts";
import { A02yyuw, type A02yyuwFault, type A02yyuwTarget } from "../../../simulator/src/devices/a02yyuw.ts";
import { Lis3dh, type Lis3dhAcceleration } from "../../../simulator/src/devices/lis3dh.ts";
import A02YYUW from "../../../firmware/src/drivers/a02yyuw.ts";
import LIS3DH from "../../../firmware/src/drivers/lis3dh.ts";
import { platformRuntime } from "../../../firmware/src/nodes/runtime.ts";
import { loadConfig, type NodeConfig } from "../../../firmware/src/nodes/config.ts";
import { bootLevel, type LevelBoot } from "../../../firmware/src/nodes/level/boot.ts";
import { jitterSpanMs } from "../../../firmware/src/nodes/wake-timing.ts";
import {
  BIN_PERIOD_S, CONFIRM_S, DRAIN_PERIOD_S, DRAIN_RATE_WINDOW_S, RECOVER_RUN, SETTLE_S, type LevelHardware, type LevelOptions, type LevelVariant,
} from "../../../firmware/src/nodes/level/level-node.ts";
import { encodeDownlink } from "../../../codecs/src/index.ts";
import { powerCut } from "../../../simulator/src/platform/native-sleep.ts";

const S = 1000;
const MIN = 60 * S;
const H = 60 * MIN;
const DAY = 24 * H;
const SENSOR_PORT = 1;
const INT1_PIN = 34;
/** How often the harness looks at the LIS3DH INT1 line while the node sleeps with the pin armed. */
const POLL_MS = 10 * S;

type Data = Record<string, unknown>;

/** One node on a simulated board, with a harness that turns the LIS3DH INT1 line into ext0 wakes. */
class Rig {
  readonly clock = new VirtualClock();
  readonly board: Board;
  readonly link: RecordingLink;
  readonly host: NodeHost;
  readonly sonar: A02yyuw;
  readonly lis: Lis3dh | undefined;
  last: LevelBoot | undefined;
  pinWakes = 0;
  readonly #actions: { atMs: number; fn: () => void }[] = [];

  constructor(seed: number, variant: LevelVariant, target: (t: number) => A02yyuwTarget, acceleration?: (t: number) => Lis3dhAcceleration, readonly options: LevelOptions = {}) {
    this.board = new Board(this.clock, seed);
    const rng = new Rng(seed);
    this.sonar = new A02yyuw({ clock: this.clock, rng: rng.fork("a02yyuw"), target });
    this.board.attachSerial(SENSOR_PORT, this.sonar, 9600);
    if (acceleration) {
      this.lis = new Lis3dh({ clock: this.clock, rng: rng.fork("lis3dh"), acceleration });
      this.board.attachI2C(0x18, this.lis);
    }
    this.link = new RecordingLink(this.clock, 51);
    this.host = new NodeHost(this.board, () => this.#main(variant), 1 * S);
  }

  /** The board's main: open the sensors, build the runtime, run one wake. */
  #main(variant: LevelVariant): void {
    const lis = this.lis;
    // The INT1 line as the RTC GPIO sees it at the wake.
    if (lis) this.board.pins.set(INT1_PIN, lis.int1);
    const hw: LevelHardware = {
      distance: () => new A02YYUW({ sensor: { io: Serial, port: SENSOR_PORT, receive: 26, transmit: 25 } }),
      temperatureDeciC: () => 85,
    };
    if (lis) {
      // 1 Hz keeps a month of replayed accelerometer samples quick; the motion and tip generators work the same at 50 Hz.
      hw.accel = (configured) => new LIS3DH({ sensor: { io: I2C, data: 21, clock: 22, hz: 100000 }, rateHz: 1, motionThresholdMg: 250, tiltThresholdDeg: 45, configured });
      hw.accelInt1 = { pin: INT1_PIN, level: 1 };
    }
    const rt = platformRuntime(this.link, () => 3600);
    this.last = bootLevel(hw, rt, variant, this.options);
    if (this.last.error) throw this.last.error;
  }

  /** Runs `fn` at virtual time `atMs` (fault injection, downlinks). */
  at(atMs: number, fn: () => void): void {
    this.#actions.push({ atMs, fn });
    this.#actions.sort((a, b) => a.atMs - b.atMs);
  }

  /** Runs the node until `untilMs`, waking it when INT1 rises while the pin wake is armed. */
  run(untilMs: number): void {
    for (;;) {
      const nextAction = this.#actions.length ? this.#actions[0].atMs : Infinity;
      const nextWake = this.host.nextWakeMs;
      const stop = Math.min(untilMs, nextAction, nextWake);
      const ext0 = this.last?.ext0;
      if (ext0 && this.lis) {
        let woke = false;
        for (let t = this.clock.nowMs + POLL_MS; t < stop; t += POLL_MS) {
          this.clock.advanceTo(t);
          if (this.lis.int1 === ext0.level) {
            this.host.wakeAt(t);
            this.pinWakes++;
            woke = true;
            break;
          }
        }
        if (woke) {
          this.host.bootOnce();
          continue;
        }
      }
      if (nextAction <= stop && nextAction < Infinity) {
        this.clock.advanceTo(nextAction);
        this.#actions.shift()!.fn();
        continue;
      }
      if (nextWake <= untilMs) {
        this.host.bootOnce();
        continue;
      }
      this.clock.advanceTo(untilMs);
      return;
    }
  }

  /** Queues a downlink command for the node's next wake. */
  downlink(data: Data): void {
    const r = encodeDownlink({ data: data as never });
    assert.deepEqual(r.errors, []);
    this.link.downlinks.push({ port: r.fPort, bytes: Uint8Array.from(r.bytes) });
  }

  /** The node's configuration as stored in its flash. */
  config(): NodeConfig {
    setCurrentBoard(this.board);
    try {
      return loadConfig("level");
    } finally {
      setCurrentBoard(undefined);
    }
  }

  alarms(event?: string): LinkedMessage[] {
    return this.link.ofType("levelAlarm").filter((m) => event === undefined || m.data?.event === event);
  }
}

/** Messages per day by kind, printed as a table; returns the rows. */
function perDay(link: RecordingLink, days: number, title: string): { routine: number; alarm: number; status: number; ack: number }[] {
  const rows = Array.from({ length: days }, () => ({ routine: 0, alarm: 0, status: 0, ack: 0 }));
  for (const m of link.messages) {
    const d = Math.floor(m.atMs / DAY);
    if (d < days) rows[d][m.kind]++;
  }
  const lines = rows.map((r, d) => {
    const events = link.messages.filter((m) => m.kind === "alarm" && Math.floor(m.atMs / DAY) === d).map((m) => `${m.data?.event}@${hhmm(m.atMs)}`);
    return `    day ${String(d).padStart(2)}  routine ${String(r.routine).padStart(2)}  alarm ${r.alarm}  status ${r.status}  ack ${r.ack}  ${events.join(" ")}`;
  });
  const total = rows.reduce((a, r) => ({ routine: a.routine + r.routine, alarm: a.alarm + r.alarm, status: a.status + r.status, ack: a.ack + r.ack }), { routine: 0, alarm: 0, status: 0, ack: 0 });
  console.log(`  ${title}: messages per day\n${lines.join("\n")}\n    total: ${JSON.stringify(total)}, ${(link.messages.length / days).toFixed(1)} a day`);
  return rows;
}

function hhmm(ms: number): string {
  const m = Math.floor((ms % DAY) / MIN);
  return `${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`;
}

function stamp(ms: number): string {
  return `day ${Math.floor(ms / DAY)} ${hhmm(ms)}:${String(Math.floor((ms % MIN) / S)).padStart(2, "0")}`;
}

/** Sensor accuracy (±(10 mm + 0.3 %), the A02YYUW datasheet) as a fill tolerance in %, plus the 0.5 % quantum. */
function fillTolerancePct(distanceMm: number, spanMm: number): number {
  return ((10 + 0.003 * distanceMm) / spanMm) * 100 + 0.5;
}

/** Gravity on a sensor tilted `deg` about its X axis (a lid hinge), mg. */
function tilted(deg: number): Lis3dhAcceleration {
  const r = (deg * Math.PI) / 180;
  return { x: 0, y: 1000 * Math.sin(r), z: 1000 * Math.cos(r) };
}

/** Linear ramp from a to b over [t0, t1]. */
function ramp(t: number, t0: number, t1: number, a: number, b: number): number {
  if (t <= t0) return a;
  if (t >= t1) return b;
  return a + ((b - a) * (t - t0)) / (t1 - t0);
}

// ---------------------------------------------------------------- the bin

const BIN_DEPTH = 1200;
const BIN_FULL = 150;
const BIN_SPAN = BIN_DEPTH - BIN_FULL;
/** Share of the bin filled per day, Monday first (scaled by 0.85–1.15 each day). */
const DAY_RATES = [0.2, 0.3, 0.34, 0.36, 0.27, 0.36, 0.3];
const COLLECTION_DAYS = [1, 4]; // Tuesday and Friday
const COLLECTION_DURATION = 30 * S;

interface Window {
  from: number;
  to: number;
}

/** A street bin over `days`: deposits through the lid, collections, a tip-over, a lid left open, a phantom far echo. */
class BinWorld {
  readonly steps: { t: number; fill: number }[] = [{ t: 0, fill: 0.15 }];
  readonly collections: number[] = [];
  readonly deposits: number[] = [];
  /** Blown over on a Saturday night, put back on Sunday morning. */
  readonly tip: Window = { from: 12 * DAY + 22 * H + 7 * MIN, to: 13 * DAY + 9 * H + 7 * MIN };
  readonly lidProp: Window = { from: 17 * DAY + 12 * H + 7 * MIN, to: 17 * DAY + 15 * H + 7 * MIN };
  /** The sensor sees the bottom through a gap for half an hour; nothing moves. */
  readonly phantom: Window = { from: 8 * DAY + 2 * H + 3 * MIN, to: 8 * DAY + 2 * H + 33 * MIN };
  /** One large dump that needs the confirming reading. */
  readonly bigDump = 15 * DAY + 10 * H;

  constructor(rng: Rng, days: number) {
    let fill = 0.15;
    const quiet = [this.tip, this.lidProp, this.phantom];
    for (let d = 0; d < days; d++) {
      const wd = d % 7;
      if (COLLECTION_DAYS.includes(wd)) {
        const t = d * DAY + 6 * H + 37 * MIN;
        this.collections.push(t);
        fill = 0.03;
        this.steps.push({ t: t + 12 * S, fill });
      }
      const rate = DAY_RATES[wd] * (0.85 + 0.3 * rng.next());
      const k = rng.int(6, 10);
      const events = Array.from({ length: k }, () => ({ t: d * DAY + 7 * H + Math.floor(rng.next() * 14 * H), amount: (rate / k) * (0.7 + 0.6 * rng.next()) }));
      if (d === Math.floor(this.bigDump / DAY)) events.push({ t: this.bigDump, amount: 0.45 });
      events.sort((a, b) => a.t - b.t);
      for (const { t, amount } of events) {
        if (quiet.some((w) => t > w.from - 20 * MIN && t < w.to + 20 * MIN)) continue;
        if (t !== this.bigDump && Math.abs(t - this.bigDump) < 20 * MIN) continue;
        if (this.deposits.length && t - this.deposits[this.deposits.length - 1] < 10 * MIN) continue;
        fill = Math.min(1, fill + amount);
        this.deposits.push(t);
        this.steps.push({ t: t + 3 * S, fill });
      }
    }
    this.steps.sort((a, b) => a.t - b.t);
  }

  /** True fill (0..1) at t. */
  fillAt(t: number): number {
    let lo = 0;
    let hi = this.steps.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.steps[mid].t <= t) lo = mid;
      else hi = mid - 1;
    }
    return this.steps[lo].fill;
  }

  trueDistance(t: number): number {
    return BIN_DEPTH - this.fillAt(t) * BIN_SPAN;
  }

  #inCollection(t: number): number {
    for (const c of this.collections) if (t >= c && t < c + COLLECTION_DURATION) return t - c;
    return -1;
  }

  #inDeposit(t: number): number {
    for (const d of this.deposits) if (t >= d && t < d + 6 * S) return t - d;
    return -1;
  }

  target = (t: number): A02yyuwTarget => {
    if (this.#inCollection(t) >= 0 || this.#inDeposit(t) >= 0) return { distanceMm: 5000, surface: "none" };
    if (t >= this.tip.from && t < this.tip.to + 5 * S) return { distanceMm: 2500, surface: "hard" };
    if (t >= this.lidProp.from && t < this.lidProp.to) return { distanceMm: Math.round(this.trueDistance(t) / Math.cos(Math.PI / 6)), surface: "hard" };
    if (t >= this.phantom.from && t < this.phantom.to) return { distanceMm: BIN_DEPTH, surface: "hard" };
    return { distanceMm: Math.round(this.trueDistance(t)), surface: "hard" };
  };

  acceleration = (t: number): Lis3dhAcceleration => {
    const c = this.#inCollection(t);
    if (c >= 0) {
      // Lifted, turned over the hopper, shaken, put back.
      const deg = c < 5 * S ? ramp(c, 0, 5 * S, 0, 30) : c < 12 * S ? ramp(c, 5 * S, 12 * S, 30, 180) : c < 22 * S ? 180 : ramp(c, 22 * S, 30 * S, 180, 0);
      const g = tilted(deg);
      if (c >= 12 * S && c < 22 * S) {
        const shake = 400 * Math.sin((2 * Math.PI * c) / 700);
        return { x: g.x + shake, y: g.y - shake, z: g.z + shake };
      }
      return g;
    }
    const d = this.#inDeposit(t);
    if (d >= 0) return tilted(d < 2 * S ? ramp(d, 0, 2 * S, 0, 70) : d < 4 * S ? 70 : ramp(d, 4 * S, 6 * S, 70, 0));
    if (t >= this.tip.from && t < this.tip.to + 5 * S) {
      const deg = t < this.tip.to ? ramp(t, this.tip.from, this.tip.from + 2 * S, 0, 90) : ramp(t, this.tip.to, this.tip.to + 3 * S, 90, 0);
      const r = (deg * Math.PI) / 180;
      return { x: 1000 * Math.sin(r), y: 0, z: 1000 * Math.cos(r) };
    }
    if (t >= this.lidProp.from && t < this.lidProp.to + 2 * S) {
      return tilted(t < this.lidProp.to ? ramp(t, this.lidProp.from, this.lidProp.from + 2 * S, 0, 30) : ramp(t, this.lidProp.to, this.lidProp.to + 2 * S, 30, 0));
    }
    return tilted(0);
  };
}

// ---------------------------------------------------------------- the drain

const DRAIN_DEPTH = 1600;
const DRAIN_FULL = 400;
const DRAIN_SPAN = DRAIN_DEPTH - DRAIN_FULL;

interface Flood {
  name: string;
  onset: number;
  /** End of the rise. */
  peak: number;
}

/** A street drain: dry-weather trickle, two rain events, two flash floods and a leaf on the sensor. */
class DrainWorld {
  /** Knots of the water level (fill 0..1), linear between. */
  readonly knots: [number, number][] = [];
  readonly rains: Window[] = [];
  readonly floods: Flood[] = [];
  readonly leaf: Window = { from: 6 * DAY + 9 * H, to: 6 * DAY + 15 * H };

  constructor() {
    const k = this.knots;
    const base = 0.06;
    k.push([0, base]);
    const rain = (at: number, peakFill: number, riseH: number, holdH: number, fallH: number) => {
      k.push([at, base], [at + riseH * H, peakFill], [at + (riseH + holdH) * H, peakFill], [at + (riseH + holdH + fallH) * H, base]);
      this.rains.push({ from: at, to: at + (riseH + holdH + fallH) * H });
    };
    const flood = (name: string, at: number, peakFill: number, riseMin: number, holdMin: number, fallMin: number) => {
      k.push([at, base], [at + riseMin * MIN, peakFill], [at + (riseMin + holdMin) * MIN, peakFill], [at + (riseMin + holdMin + fallMin) * MIN, base]);
      this.floods.push({ name, onset: at, peak: at + riseMin * MIN });
    };
    rain(1 * DAY + 10 * H, 0.3, 3, 1, 4); // 8 %/h
    rain(3 * DAY + 16 * H, 0.45, 4, 2, 5); // 10 %/h
    flood("flash flood", 5 * DAY + 14 * H + 2 * MIN, 0.88, 20, 30, 120); // 246 %/h
    flood("fast rise", 8 * DAY + 3 * H + 7 * MIN, 0.7, 48, 60, 180); // 80 %/h
    k.push([20 * DAY, base]);
  }

  fillAt(t: number): number {
    const k = this.knots;
    let i = 0;
    while (i < k.length - 2 && k[i + 1][0] <= t) i++;
    const diurnal = 0.008 * Math.sin((2 * Math.PI * t) / DAY);
    return ramp(t, k[i][0], k[i + 1][0], k[i][1], k[i + 1][1]) + diurnal;
  }

  trueDistance(t: number): number {
    return DRAIN_DEPTH - this.fillAt(t) * DRAIN_SPAN;
  }

  target = (t: number): A02yyuwTarget => {
    if (t >= this.leaf.from && t < this.leaf.to) return { distanceMm: 150, surface: "hard" };
    return { distanceMm: Math.round(this.trueDistance(t)), surface: "water" };
  };

  /** First time at or after `from` when the true rise over the preceding window reaches `thresholdPctPerH`. */
  windowedCrossing(from: number, to: number, thresholdPctPerH: number): number {
    for (let t = from; t < to; t += 5 * S) {
      const rise = (this.fillAt(t) - this.fillAt(t - DRAIN_RATE_WINDOW_S * S)) * 100;
      if ((rise * 3600) / DRAIN_RATE_WINDOW_S >= thresholdPctPerH) return t;
    }
    return Infinity;
  }
}

/** Checks every reported fill against the truth at the time of the measurement; returns the worst error, %. */
function checkFills(link: RecordingLink, trueDistance: (t: number) => number, span: number, depth: number, full: number): number {
  let worst = 0;
  let checked = 0;
  for (const m of link.messages) {
    const fill = m.data?.fillPct;
    if (typeof fill !== "number") continue;
    checked++;
    // The wake measures during its first seconds; the deposit steps are instantaneous, so look at the last 15 s.
    let best = Infinity;
    let tol = 0;
    for (let t = m.atMs - 15 * S; t <= m.atMs; t += S) {
      const d = trueDistance(t);
      const truth = Math.max(0, Math.min(100, ((depth - d) / (depth - full)) * 100));
      const err = Math.abs(fill - truth);
      if (err < best) {
        best = err;
        tol = fillTolerancePct(d, span);
      }
    }
    assert.ok(best <= tol, `${m.data?.messageType} ${m.data?.event ?? ""} at ${stamp(m.atMs)} reported ${fill} %, truth differs by ${best.toFixed(2)} % (> ${tol.toFixed(2)} %)`);
    worst = Math.max(worst, best);
  }
  assert.ok(checked > 50, `only ${checked} fills reported`);
  return worst;
}

function only(messages: LinkedMessage[], within: Window, what: string): LinkedMessage {
  const hits = messages.filter((m) => m.atMs >= within.from && m.atMs <= within.to);
  assert.equal(hits.length, 1, `expected one ${what} in ${stamp(within.from)}..${stamp(within.to)}, got ${hits.length} (${messages.map((m) => stamp(m.atMs)).join(", ")})`);
  return hits[0];
}

describe("level node", function () {
  this.timeout(600000);

  describe("a bin over a month", () => {
    const DAYS = 30;
    const world = new BinWorld(new Rng(7).fork("bin-world"), DAYS);
    const rig = new Rig(11, "bin", world.target, world.acceleration);
    const echo: Window = { from: 5 * DAY, to: 7 * DAY };
    const garbage: Window[] = [{ from: 12 * DAY + 8 * H, to: 12 * DAY + 14 * H }, { from: 22 * DAY + 9 * H, to: 22 * DAY + 12 * H }];
    const corrupt: Window = { from: 24 * DAY + 13 * H, to: 24 * DAY + 16 * H };
    const disconnect: Window = { from: 20 * DAY + 10 * H, to: 20 * DAY + 12 * H };
    let configBeforeMalformed: NodeConfig;
    const FULL_PCT = 75;
    const powerCutAt = 26 * DAY + 3 * H + 20 * MIN;

    before(() => {
      const inject = (w: Window, faults: [A02yyuwFault, number][]) => {
        rig.at(w.from, () => faults.forEach(([f, p]) => rig.sonar.inject(f, { p })));
        rig.at(w.to, () => faults.forEach(([f]) => rig.sonar.clear(f)));
      };
      inject(echo, [["echo", 0.3]]);
      for (const w of garbage) inject(w, [["garbage", 0.5], ["desync", 0.3]]);
      inject(corrupt, [["corrupt-checksum", 0.02]]);
      inject(disconnect, [["disconnect", 1]]);
      rig.at(30 * MIN, () => rig.downlink({ command: "setTime", unixTimeS: Math.floor(rig.clock.epochUnixMs / 1000) + 1800 }));
      rig.at(12 * H, () => {
        configBeforeMalformed = rig.config();
        // setLevelThresholds is 9 bytes; 5 is malformed.
        rig.link.downlinks.push({ port: 23, bytes: Uint8Array.of(150, 20, 0, 100, 45) });
      });
      rig.at(12 * H + 30 * MIN, () => rig.downlink({ command: "setLevelThresholds", fullPct: FULL_PCT, hysteresisPct: 10, rapidRisePctPerH: 50, tiltDeg: 45, depthMm: BIN_DEPTH, fullDistanceMm: BIN_FULL }));
      // The encoder refuses a full line at the bottom; the node must too (bytes: 75 %, 10 %, 50 %/h, 45°, 1200 mm, 1200 mm).
      rig.at(13 * H, () => rig.link.downlinks.push({ port: 23, bytes: Uint8Array.of(150, 20, 0, 100, 45, 0x04, 0xb0, 0x04, 0xb0) }));
      rig.at(25 * DAY + 12 * H, () => rig.downlink({ command: "requestStatus", what: "status" }));
      // The battery is swapped on a Saturday night: RTC memory is lost, the flash keeps the configuration.
      rig.at(powerCutAt, () => {
        powerCut(rig.board);
        rig.host.wakeAt(rig.clock.nowMs + 2 * S);
      });
      const t0 = Date.now();
      rig.run(DAYS * DAY);
      console.log(`  bin: ${rig.host.boots.length} boots (${rig.pinWakes} by INT1), ${rig.link.messages.length} messages, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      perDay(rig.link, DAYS, "bin");
    });

    it("answers every downlink with an ack: malformed refused with the config unchanged, thresholds applied", () => {
      const acks = rig.link.ofType("configAck").map((m) => m.data!);
      assert.deepEqual(acks.map((a) => [a.commandPort, a.result]), [[26, "applied"], [23, "malformed"], [23, "applied"], [23, "inconsistent"], [25, "applied"]]);
      assert.equal(acks[1].configSeq, acks[0].configSeq, "a refused command leaves the sequence number");
      assert.equal(acks[2].configSeq, (acks[0].configSeq as number) + 1);
      const now = rig.config();
      assert.equal(configBeforeMalformed.fullHalfPct, 160);
      assert.equal(now.fullHalfPct, FULL_PCT * 2);
      assert.equal(now.hysteresisHalfPct, 20);
      assert.equal(now.fullDistanceMm, BIN_FULL, "the inconsistent geometry was not applied");
      const routine = rig.link.ofType("levelReading");
      assert.ok(routine.filter((m) => m.atMs > H && m.atMs < powerCutAt).every((m) => m.data?.clockUnsynced === false), "setTime synced the clock");
      // The battery swap took the system time with the RTC: unsynced until the next setTime.
      const after = routine.filter((m) => m.atMs > powerCutAt);
      assert.ok(after.length > 0 && after.every((m) => m.data?.clockUnsynced === true), "the clock is unsynced after the power cut");
    });

    it("raises one full alarm after each true crossing of the new threshold, before each collection", () => {
      const fulls = rig.alarms("full");
      // Within the sensor's accuracy of the threshold the alarm may come or not; beyond it, it must.
      const band = fillTolerancePct(BIN_FULL + (1 - FULL_PCT / 100) * BIN_SPAN, BIN_SPAN);
      const latencies: number[] = [];
      let previous = 13 * H; // thresholds applied
      let expected = 0;
      for (const c of world.collections) {
        const first = (pct: number) => world.steps.find((s) => s.t >= previous && s.t < c && s.fill * 100 >= pct)?.t ?? Infinity;
        const earliest = first(FULL_PCT - band);
        const certain = first(FULL_PCT + band);
        const exact = first(FULL_PCT);
        const inSegment = fulls.filter((m) => m.atMs >= previous && m.atMs < c);
        assert.ok(inSegment.length <= 1, `one full alarm at most before the collection at ${stamp(c)}`);
        if (certain < Infinity) {
          expected++;
          assert.equal(inSegment.length, 1, `a full alarm before the collection at ${stamp(c)} (crossing ${stamp(certain)})`);
          const latency = inSegment[0].atMs - certain;
          assert.ok(latency <= 2 * BIN_PERIOD_S * S + SETTLE_S * S + POLL_MS, `full alarm ${latency / MIN} min after the crossing`);
          latencies.push(inSegment[0].atMs - exact);
        }
        if (inSegment.length) {
          assert.ok(inSegment[0].atMs >= earliest, `full alarm at ${stamp(inSegment[0].atMs)} before the fill came near the threshold (${stamp(earliest)})`);
          assert.ok((inSegment[0].data!.fillPct as number) >= FULL_PCT);
        }
        previous = c;
      }
      assert.ok(expected >= world.collections.length - 2, `full before ${expected} of ${world.collections.length} collections`);
      console.log(`    full alarm time after the true crossing of ${FULL_PCT} % (negative: the fill sat within ±${band.toFixed(1)} % of it): ${latencies.map((l) => (l / MIN).toFixed(0)).join(", ")} min`);
      // Every full alarm is cleared by the following collection's emptying, at the same wake.
      const cleared = rig.alarms("fullCleared");
      assert.equal(cleared.length, fulls.filter((m) => m.atMs < world.collections[world.collections.length - 1]).length);
      for (const m of cleared) assert.ok(rig.alarms("emptied").some((e) => e.atMs === m.atMs));
    });

    it("reports one emptied event at each collection and none when the distance jumps without lid motion", () => {
      const emptied = rig.alarms("emptied");
      const latencies = world.collections.map((c) => only(emptied, { from: c, to: c + SETTLE_S * S + CONFIRM_S * S + 2 * POLL_MS }, "emptied").atMs - c);
      assert.equal(emptied.length, world.collections.length, "no other emptied events");
      console.log(`    emptied latency after the collection: ${latencies.map((l) => (l / S).toFixed(0)).join(", ")} s`);
      for (const m of emptied) assert.ok((m.data!.fillPct as number) < 10);
      // The phantom far echo: no emptied, no fill from it.
      const during = rig.link.messages.filter((m) => m.atMs >= world.phantom.from && m.atMs < world.phantom.to + 15 * MIN);
      assert.ok(during.every((m) => m.data?.event !== "emptied" && m.data?.event !== "fullCleared"));
      assert.ok(during.every((m) => typeof m.data?.fillPct !== "number" || (m.data.fillPct as number) > 50));
      // The emptied flag reaches the next routine reading.
      for (const e of emptied) {
        const next = rig.link.ofType("levelReading").find((m) => m.atMs >= e.atMs);
        assert.equal(next?.data?.emptied, true, `routine reading after the emptying at ${stamp(e.atMs)}`);
      }
    });

    it("reports tipped and upright once each, and never as lid events", () => {
      const tipped = only(rig.alarms("tipped"), { from: world.tip.from, to: world.tip.from + SETTLE_S * S + CONFIRM_S * S + 2 * POLL_MS }, "tipped");
      assert.equal(rig.alarms("tipped").length, 1);
      const upright = only(rig.alarms("upright"), { from: world.tip.to, to: world.tip.to + SETTLE_S * S + CONFIRM_S * S + 2 * POLL_MS }, "upright");
      assert.equal(rig.alarms("upright").length, 1);
      assert.ok((tipped.data!.tiltDeg as number) >= 80);
      assert.equal(tipped.data!.tipped, true);
      console.log(`    tipped after ${((tipped.atMs - world.tip.from) / S).toFixed(0)} s, upright after ${((upright.atMs - world.tip.to) / S).toFixed(0)} s`);
      const duringTip = rig.link.ofType("levelReading").filter((m) => m.atMs > tipped.atMs && m.atMs < upright.atMs);
      assert.ok(duringTip.every((m) => m.data!.tipped === true && m.data!.fillPct === undefined));
    });

    it("reports a lid left open and its closing once each; lid openings for deposits raise nothing", () => {
      const open = only(rig.alarms("lidOpen"), { from: world.lidProp.from, to: world.lidProp.from + SETTLE_S * S + CONFIRM_S * S + 2 * POLL_MS }, "lidOpen");
      only(rig.alarms("lidClosed"), { from: world.lidProp.to, to: world.lidProp.to + SETTLE_S * S + 2 * POLL_MS }, "lidClosed");
      assert.equal(rig.alarms("lidOpen").length, 1);
      assert.equal(rig.alarms("lidClosed").length, 1);
      const tilt = open.data!.tiltDeg as number;
      assert.ok(tilt >= 25 && tilt <= 35, `lid tilt ${tilt}`);
      assert.ok(rig.pinWakes >= world.deposits.length * 0.8, `${rig.pinWakes} pin wakes for ${world.deposits.length} deposits`);
    });

    it("never turns echoes, garbage or desync into fills: every reported fill matches the truth within the sensor's accuracy", () => {
      const worst = checkFills(rig.link, (t) => world.trueDistance(t), BIN_SPAN, BIN_DEPTH, BIN_FULL);
      console.log(`    worst reported fill error: ${worst.toFixed(2)} %`);
      assert.equal(rig.alarms("obstruction").length, 0);
      // The big dump was measured after its confirming reading.
      const dump = rig.link.messages.find((m) => m.atMs > world.bigDump && typeof m.data?.fillPct === "number");
      assert.ok(dump && Math.abs((dump.data!.fillPct as number) - world.fillAt(world.bigDump + 10 * S) * 100) < 3);
    });

    it("reports the sensor disconnect as a fault and its recovery, and counts the faults in the status", () => {
      const faults = rig.alarms("sensorFault");
      only(faults, { from: disconnect.from, to: disconnect.from + 3 * BIN_PERIOD_S * S }, "sensorFault");
      only(rig.alarms("sensorRecovered"), { from: disconnect.to, to: disconnect.to + RECOVER_RUN * BIN_PERIOD_S * S + MIN }, "sensorRecovered");
      const windows = [disconnect, corrupt, echo, ...garbage];
      for (const m of faults) assert.ok(windows.some((w) => m.atMs >= w.from && m.atMs <= w.to + BIN_PERIOD_S * S), `sensorFault at ${stamp(m.atMs)} outside any fault window`);
      const status = rig.link.ofType("status");
      const after = status.find((m) => m.atMs > disconnect.to)!;
      const entry = (after.data!.sensorFaults as Data[]).find((e) => e.sensor === "a02yyuw");
      assert.ok(entry && (entry.faults as number) >= 8, `status counts the disconnect: ${JSON.stringify(after.data!.sensorFaults)}`);
      const before = status.filter((m) => m.atMs < disconnect.from).pop()!;
      const entryBefore = (before.data!.sensorFaults as Data[]).find((e) => e.sensor === "a02yyuw");
      assert.ok((entry.faults as number) > ((entryBefore?.faults as number) ?? 0) + 6);
      console.log(`    status a02yyuw faults: ${entryBefore?.faults ?? 0} before the disconnect, ${entry.faults} (last ${entry.lastFault}) after`);
    });

    it("sends a status at the cold start, daily and on request, and a bounded number of routine readings", () => {
      const status = rig.link.ofType("status");
      assert.equal(status[0].data!.resetReason, "powerOn");
      assert.equal(status[0].data!.nodeType, "level");
      for (let d = 1; d < DAYS; d++) {
        const n = status.filter((m) => Math.floor(m.atMs / DAY) === d).length;
        assert.ok(n >= 1 && n <= 2, `day ${d}: ${n} status messages`);
      }
      assert.ok(status.some((m) => m.atMs >= 25 * DAY + 12 * H && m.atMs < 25 * DAY + 12 * H + BIN_PERIOD_S * S), "requested status");
      for (let d = 0; d < DAYS; d++) {
        const routine = rig.link.messages.filter((m) => m.kind === "routine" && Math.floor(m.atMs / DAY) === d).length;
        assert.ok(routine >= 4 && routine <= 48, `day ${d}: ${routine} routine readings`);
      }
      assert.ok(rig.link.messages.every((m) => m.errors.length === 0));
    });

    it("starts cold after a power cut: a powerOn status, the flash configuration, no alarm from the lost state", () => {
      const status = rig.link.ofType("status").find((m) => m.atMs >= powerCutAt)!;
      assert.ok(status.atMs < powerCutAt + MIN, `status ${stamp(status.atMs)}`);
      assert.equal(status.data!.resetReason, "powerOn");
      assert.ok((status.data!.uptimeS as number) < 60);
      assert.deepEqual(status.data!.sensorFaults, [], "counters restart with the RTC memory");
      assert.equal(status.data!.configSeq, rig.link.ofType("configAck").pop()!.data!.configSeq);
      const after = rig.link.messages.filter((m) => m.atMs >= powerCutAt && m.atMs < powerCutAt + 3 * H);
      assert.ok(after.every((m) => m.kind !== "alarm"), after.filter((m) => m.kind === "alarm").map((m) => String(m.data?.event)).join());
      const reading = after.find((m) => m.kind === "routine");
      assert.ok(reading && typeof reading.data!.fillPct === "number", "the first reading after the cut has a fill");
    });
  });

  describe("a drain over ten days", () => {
    const DAYS = 10;
    const world = new DrainWorld();
    const rig = new Rig(23, "drain", world.target);
    const RAPID_PCT_PER_H = 50;

    before(() => {
      rig.downlink({ command: "setLevelThresholds", fullPct: 80, hysteresisPct: 10, rapidRisePctPerH: RAPID_PCT_PER_H, tiltDeg: 45, depthMm: DRAIN_DEPTH, fullDistanceMm: DRAIN_FULL });
      const t0 = Date.now();
      rig.run(DAYS * DAY);
      console.log(`  drain: ${rig.host.boots.length} boots, ${rig.link.messages.length} messages, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      perDay(rig.link, DAYS, "drain");
    });

    it("raises rapidRise within two wakes of the true crossing of the threshold, and clears it after", () => {
      const rapid = rig.alarms("rapidRise");
      const cleared = rig.alarms("rapidRiseCleared");
      assert.equal(rapid.length, world.floods.length, `rapidRise at ${rapid.map((m) => stamp(m.atMs)).join(", ")}`);
      assert.equal(cleared.length, world.floods.length);
      for (const f of world.floods) {
        const crossing = world.windowedCrossing(f.onset, f.peak + H, RAPID_PCT_PER_H);
        assert.ok(crossing < Infinity);
        const alarm = only(rapid, { from: f.onset, to: crossing + 2 * DRAIN_PERIOD_S * S }, `rapidRise (${f.name})`);
        const clear = only(cleared, { from: f.peak, to: f.peak + 3 * H }, `rapidRiseCleared (${f.name})`);
        console.log(`    ${f.name}: onset ${stamp(f.onset)}, true ${DRAIN_RATE_WINDOW_S / 60}-min rate crossing +${((crossing - f.onset) / MIN).toFixed(1)} min, alarm +${((alarm.atMs - f.onset) / MIN).toFixed(1)} min (latency ${((alarm.atMs - crossing) / MIN).toFixed(1)} min after the crossing), cleared ${((clear.atMs - f.peak) / MIN).toFixed(0)} min after the peak, rate ${alarm.data!.fillRatePctPerH} %/h`);
      }
      for (const r of world.rains) assert.ok(rapid.every((m) => m.atMs < r.from || m.atMs > r.to), "no rapidRise in ordinary rain");
    });

    it("raises full once for the flood that reaches the full line, not for the leaf", () => {
      const full = rig.alarms("full");
      assert.equal(full.length, 1);
      assert.ok(full[0].atMs > world.floods[0].onset && full[0].atMs < world.floods[0].peak + 30 * MIN);
      only(rig.alarms("fullCleared"), { from: world.floods[0].peak, to: world.floods[0].peak + 3 * H }, "fullCleared");
    });

    it("reports the leaf as an obstruction, never as a fill", () => {
      const obstruction = rig.alarms("obstruction");
      const alarm = only(obstruction, { from: world.leaf.from, to: world.leaf.from + 3 * DRAIN_PERIOD_S * S + 10 * S }, "obstruction");
      assert.equal(obstruction.length, 1);
      console.log(`    obstruction alarm ${((alarm.atMs - world.leaf.from) / MIN).toFixed(1)} min after the leaf landed`);
      const during = rig.link.messages.filter((m) => m.atMs >= world.leaf.from && m.atMs < world.leaf.to);
      assert.ok(during.every((m) => m.data?.fillPct === undefined));
      assert.ok(during.some((m) => m.kind === "routine" && m.data?.sensorFault === true));
      const after = rig.link.messages.find((m) => m.atMs > world.leaf.to && typeof m.data?.fillPct === "number");
      assert.ok(after && after.atMs < world.leaf.to + 45 * MIN, "fills resume after the leaf is gone");
    });

    it("reports fills that match the water level within the sensor's accuracy", () => {
      const worst = checkFills(rig.link, (t) => world.trueDistance(t), DRAIN_SPAN, DRAIN_DEPTH, DRAIN_FULL);
      console.log(`    worst reported fill error: ${worst.toFixed(2)} %`);
      assert.equal(rig.alarms("sensorFault").length, 0);
      assert.deepEqual(rig.link.ofType("configAck").map((m) => m.data!.result), ["applied"]);
    });

    it("samples every 5 minutes, every minute while the level rises fast", () => {
      const gaps = rig.host.boots.slice(1).map((b, i) => b.atMs - rig.host.boots[i].atMs);
      // Each wake is up to a sixteenth of the period late (wake-timing.ts), never early.
      const slowest = DRAIN_PERIOD_S * S + jitterSpanMs(DRAIN_PERIOD_S * S) + S;
      assert.ok(gaps.every((g) => g <= slowest), "never slower than the period");
      const fast = gaps.filter((g) => g <= 60 * S + jitterSpanMs(60 * S) + S).length;
      assert.ok(fast > 20 && fast < 400, `${fast} fast wakes`);
    });
  });
});

describe("level node: a drain with debris just above the grate, and water that ponds over it", function () {
  this.timeout(60_000);
  // Debris caught 60 mm above the full line (inside MARGIN_MM, so the range check passes it) for 14 h: longer
  // than STALE_S, so a stale anchor would re-anchor onto it. Then a cloudburst lifts the water through the full
  // line at 120 %/h to 5 % above it (water ponding on the street) for half an hour.
  const DEBRIS = { from: 1 * H, to: 15 * H };
  const DEBRIS_MM = DRAIN_FULL - 60;
  const STORM = 20 * H;
  const POND = { from: STORM + 55 * MIN, to: STORM + 85 * MIN };
  const fillAt = (t: number) => ramp(t, STORM, STORM + 55 * MIN, 0.05, 1.05) - ramp(t, POND.to, POND.to + 2 * H, 0, 1);
  const target = (t: number): A02yyuwTarget =>
    t >= DEBRIS.from && t < DEBRIS.to ? { distanceMm: DEBRIS_MM, surface: "soft" } : { distanceMm: Math.round(DRAIN_DEPTH - fillAt(t) * DRAIN_SPAN), surface: "water" };
  let rig: Rig;

  before(() => {
    rig = new Rig(29, "drain", target);
    rig.downlink({ command: "setLevelThresholds", fullPct: 80, hysteresisPct: 10, rapidRisePctPerH: 50, tiltDeg: 45, depthMm: DRAIN_DEPTH, fullDistanceMm: DRAIN_FULL });
    rig.run(STORM + 4 * H);
  });

  it("reports the debris as an obstruction, never as a fill, a rapid rise or a full drain", () => {
    const events = rig.alarms().map((m) => `${String(m.data?.event)}@${stamp(m.atMs)}`);
    only(rig.alarms("obstruction"), { from: DEBRIS.from, to: DEBRIS.from + 3 * DRAIN_PERIOD_S * S + 2 * MIN }, "obstruction");
    assert.ok(rig.alarms().every((m) => m.atMs >= STORM || m.data?.event === "obstruction"), events.join(", "));
    const during = rig.link.messages.filter((m) => m.atMs >= DEBRIS.from && m.atMs < DEBRIS.to);
    assert.ok(during.length > 0 && during.every((m) => m.data?.fillPct === undefined), "no fill while the debris is there");
    const after = rig.link.messages.find((m) => m.atMs > DEBRIS.to && typeof m.data?.fillPct === "number");
    assert.ok(after && after.atMs < DEBRIS.to + 45 * MIN && (after.data!.fillPct as number) < 10, "fills resume, at the water's level");
  });

  it("believes water over the grate that rose through the full line", () => {
    only(rig.alarms("rapidRise"), { from: STORM, to: POND.from }, "rapidRise");
    only(rig.alarms("full"), { from: STORM, to: POND.to }, "full");
    const ponding = rig.link.messages.filter((m) => m.atMs >= POND.from + 2 * MIN && m.atMs < POND.to && typeof m.data?.fillPct === "number");
    assert.ok(ponding.length > 0 && ponding.every((m) => m.data!.fillPct === 100), JSON.stringify(ponding.map((m) => m.data!.fillPct)));
    const obstructions = rig.alarms("obstruction").filter((m) => m.atMs >= STORM);
    assert.deepEqual(obstructions, [], "the pond is not taken for debris");
  });
});

describe("level node: the emptying step (manifest emptyStepPct)", function () {
  this.timeout(60_000);
  // A bin 22 % full, collected at 5 h: the truck lifts it, turns it over the hopper and puts it back, 3 % left.
  const TRUCK = 5 * H;
  const fillAt = (t: number) => (t < TRUCK + 12 * S ? 0.22 : 0.03);
  const target = (t: number): A02yyuwTarget =>
    t >= TRUCK && t < TRUCK + COLLECTION_DURATION ? { distanceMm: 5000, surface: "none" } : { distanceMm: Math.round(BIN_DEPTH - fillAt(t) * BIN_SPAN), surface: "hard" };
  const acceleration = (t: number): Lis3dhAcceleration => {
    const c = t - TRUCK;
    if (c < 0 || c >= COLLECTION_DURATION) return tilted(0);
    return tilted(c < 12 * S ? ramp(c, 0, 12 * S, 0, 180) : c < 22 * S ? 180 : ramp(c, 22 * S, 30 * S, 180, 0));
  };
  const emptied = (options: LevelOptions) => {
    const rig = new Rig(31, "bin", target, acceleration, options);
    rig.run(TRUCK + 2 * H);
    return rig.alarms("emptied");
  };

  it("by default a 19-point fall with motion is rubbish pressed down, not an emptying", () => {
    assert.deepEqual(emptied({}).map((m) => stamp(m.atMs)), []);
    assert.deepEqual(emptied({ emptyStepPct: 20 }).map((m) => stamp(m.atMs)), []);
  });

  it("a deployment that sets a smaller step hears of the collection", () => {
    const alarms = emptied({ emptyStepPct: 15 });
    assert.equal(alarms.length, 1);
    assert.ok(alarms[0].atMs >= TRUCK && alarms[0].atMs < TRUCK + SETTLE_S * S + CONFIRM_S * S + 2 * POLL_MS, stamp(alarms[0].atMs));
    assert.ok((alarms[0].data!.fillPct as number) < 6);
  });

  it("a step outside 5..100 % leaves the default", () => {
    for (const emptyStepPct of [0, 4, 101, 12.5]) assert.deepEqual(emptied({ emptyStepPct }).map((m) => stamp(m.atMs)), [], String(emptyStepPct));
  });
});

describe("level node: deposits two minutes apart are not a tipped bin", function () {
  this.timeout(120_000);
  // A busy bin: people open the lid wide (85°) for half a minute, each about two minutes after the last one closed
  // it. Each lid closing wakes the node (INT1), and the settle wake two minutes on falls in the next deposit, so
  // the node keeps seeing an open lid, but never twice without the lid moving in between. Swept over 20 phases.
  const T0 = 2 * H;

  it("raises neither tipped nor lidOpen, whatever the deposits' phase against the node's wakes", () => {
    let tipped = 0;
    let lids = 0;
    let seenOpen = 0;
    for (let k = 0; k < 20; k++) {
      const deposits = [{ from: T0 + k * 7 * S, to: T0 + k * 7 * S + 8 * S }];
      for (let i = 1; i < 4; i++) {
        const last = deposits[i - 1].to;
        deposits.push({ from: last + 115 * S, to: last + 145 * S });
      }
      const open = (t: number) => deposits.some((d) => t >= d.from && t < d.to);
      const target = (t: number): A02yyuwTarget => (open(t) ? { distanceMm: 5000, surface: "none" } : { distanceMm: Math.round(BIN_DEPTH - 0.5 * BIN_SPAN), surface: "soft" });
      const rig = new Rig(41, "bin", target, (t) => tilted(open(t) ? 85 : 0));
      rig.run(deposits[3].to + 10 * MIN);
      tipped += rig.alarms("tipped").length;
      lids += rig.alarms("lidOpen").length;
      // A measuring wake that saw the lid wide open asks for its confirming sample a minute on; a motion wake sleeps SETTLE_S.
      seenOpen += rig.host.boots.filter((b) => open(b.atMs) && b.sleepUntilMs - b.atMs < (CONFIRM_S + 10) * S).length;
    }
    console.log(`    20 phases: ${seenOpen} measuring wakes saw an open lid`);
    assert.equal(tipped, 0, `${tipped} tipped alarms`);
    assert.ok(seenOpen >= 20, `only ${seenOpen} measuring wakes saw an open lid: the deposits missed the settle wakes`);
    assert.equal(lids, 0, `${lids} lidOpen alarms`);
  });
});

describe("level node: a bin tipped overnight, righted with part of its waste spilled, then collected", function () {
  this.timeout(60_000);
  // 90 % full; tipped at 2 h (lying on its side: no echo), put back at 8 h with 60 % left, emptied by the truck at 9 h.
  const TIP = { from: 2 * H, to: 8 * H };
  const TRUCK = 9 * H;
  const fillAt = (t: number) => (t < TIP.to ? 0.9 : t < TRUCK + 12 * S ? 0.6 : 0.02);
  const target = (t: number): A02yyuwTarget =>
    (t >= TIP.from && t < TIP.to) || (t >= TRUCK && t < TRUCK + COLLECTION_DURATION) ? { distanceMm: 5000, surface: "none" } : { distanceMm: Math.round(BIN_DEPTH - fillAt(t) * BIN_SPAN), surface: "soft" };
  const acceleration = (t: number): Lis3dhAcceleration => {
    if (t >= TIP.from && t < TIP.to) return tilted(t < TIP.from + 2 * S ? ramp(t, TIP.from, TIP.from + 2 * S, 0, 90) : t >= TIP.to - 3 * S ? ramp(t, TIP.to - 3 * S, TIP.to, 90, 0) : 90);
    const c = t - TRUCK;
    if (c >= 0 && c < COLLECTION_DURATION) return tilted(c < 12 * S ? ramp(c, 0, 12 * S, 0, 180) : c < 22 * S ? 180 : ramp(c, 22 * S, 30 * S, 180, 0));
    return tilted(0);
  };

  it("reports the righting as upright and the truck as the one emptying", () => {
    const rig = new Rig(37, "bin", target, acceleration);
    rig.run(TRUCK + 2 * H);
    const events = JSON.stringify(rig.alarms().map((m) => [m.data?.event, stamp(m.atMs)]));
    // Each within the settle and confirm wakes, and their jitter (wake-timing.ts).
    const soon = SETTLE_S * S + CONFIRM_S * S + 2 * POLL_MS + 2 * MIN;
    only(rig.alarms("tipped"), { from: TIP.from, to: TIP.from + soon }, "tipped");
    only(rig.alarms("upright"), { from: TIP.to, to: TIP.to + soon }, "upright");
    const emptied = only(rig.alarms("emptied"), { from: TRUCK, to: TRUCK + soon }, "emptied");
    assert.ok((emptied.data!.fillPct as number) < 6, events);
    assert.equal(rig.alarms("emptied").length, 1, events);
    // The spill shows as a reading at the level left.
    const after = rig.link.messages.find((m) => m.atMs > TIP.to && m.atMs < TRUCK && typeof m.data?.fillPct === "number");
    assert.ok(after && Math.abs((after.data!.fillPct as number) - 60) < 3, events);
  });
});

describe("level node: an overfull bin whose waste props the lid open", function () {
  this.timeout(60_000);
  // 60 % full; at 2 h a big dump overfills it and the waste props the lid at 30° until the truck comes at 10 h.
  // Along the tilted axis the sensor reads the waste 1/cos 30° farther than it lies under the rim.
  const PROP = { from: 2 * H, to: 10 * H };
  const TRUCK = 10 * H;
  const fillAt = (t: number) => (t < PROP.from ? 0.6 : t < TRUCK + 12 * S ? 1 : 0.03);
  const target = (t: number): A02yyuwTarget => {
    if (t >= TRUCK && t < TRUCK + COLLECTION_DURATION) return { distanceMm: 5000, surface: "none" };
    const d = BIN_DEPTH - fillAt(t) * BIN_SPAN;
    return { distanceMm: Math.round(t >= PROP.from && t < PROP.to ? d / Math.cos(Math.PI / 6) : d), surface: "soft" };
  };
  const acceleration = (t: number): Lis3dhAcceleration => {
    const c = t - TRUCK;
    if (c >= 0 && c < COLLECTION_DURATION) return tilted(c < 12 * S ? ramp(c, 0, 12 * S, 0, 180) : c < 22 * S ? 180 : ramp(c, 22 * S, 30 * S, 180, 0));
    // The dump itself opens the lid wide for a few seconds before it settles on the waste.
    if (t >= PROP.from && t < PROP.from + 6 * S) return tilted(100);
    return tilted(t >= PROP.from && t < PROP.to ? 30 : 0);
  };
  let rig: Rig;
  before(() => {
    rig = new Rig(19, "bin", target, acceleration);
    rig.run(TRUCK + 2 * H);
  });

  it("reads the fill along the tilted lid and raises full, as well as lidOpen", () => {
    const events = JSON.stringify(rig.alarms().map((m) => [m.data?.event, stamp(m.atMs)]));
    only(rig.alarms("lidOpen"), { from: PROP.from, to: PROP.from + SETTLE_S * S + 2 * CONFIRM_S * S + 2 * POLL_MS }, "lidOpen");
    // Two samples at or over the threshold: the settle wake and its confirmation, or the next period's wake.
    const full = only(rig.alarms("full"), { from: PROP.from, to: PROP.from + SETTLE_S * S + CONFIRM_S * S + BIN_PERIOD_S * S + 2 * MIN }, "full");
    assert.ok((full.data!.fillPct as number) >= 98, events);
    const fills = rig.link.messages.filter((m) => typeof m.data?.fillPct === "number" && m.atMs > PROP.from + 10 * MIN && m.atMs < TRUCK);
    assert.ok(fills.length > 0 && fills.every((m) => (m.data!.fillPct as number) >= 98), JSON.stringify(fills.map((m) => m.data!.fillPct)));
  });

  it("reports the collection as an emptying, and the lid closed", () => {
    only(rig.alarms("emptied"), { from: TRUCK, to: TRUCK + SETTLE_S * S + CONFIRM_S * S + 2 * POLL_MS }, "emptied");
    only(rig.alarms("lidClosed"), { from: TRUCK, to: TRUCK + SETTLE_S * S + CONFIRM_S * S + 2 * POLL_MS }, "lidClosed");
    only(rig.alarms("fullCleared"), { from: TRUCK, to: TRUCK + SETTLE_S * S + CONFIRM_S * S + 2 * POLL_MS }, "fullCleared");
  });
});

describe("level node: an overfull bin whose propped lid hides the level for more than STALE_S", function () {
  this.timeout(60_000);
  // Filled to 97 % by 2 h, the lid propped on the rubbish (30°) from 2 h until the truck comes at 28 h, then 3 %.
  // Propped, the sensor gets no echo (a bag slanting away across its beam), so no fill is read for 26 h.
  const PROP = { from: 2 * H, to: 28 * H };
  const TRUCK = 28 * H;
  const fillAt = (t: number) => (t < 1 * H ? 0.6 : t < TRUCK + 12 * S ? 0.97 : 0.03);
  const target = (t: number): A02yyuwTarget => {
    if (t >= TRUCK && t < TRUCK + COLLECTION_DURATION) return { distanceMm: 5000, surface: "none" };
    if (t >= PROP.from && t < PROP.to) return { distanceMm: 5000, surface: "none" };
    return { distanceMm: Math.round(BIN_DEPTH - fillAt(t) * BIN_SPAN), surface: "hard" };
  };
  const acceleration = (t: number): Lis3dhAcceleration => {
    const c = t - TRUCK;
    if (c >= 0 && c < COLLECTION_DURATION) {
      // The lid falls shut as the bin is lifted, the bin is turned over the hopper and shaken, then put back.
      const deg = c < 12 * S ? ramp(c, 0, 12 * S, 0, 180) : c < 22 * S ? 180 : ramp(c, 22 * S, 30 * S, 180, 0);
      return tilted(deg);
    }
    return tilted(t >= PROP.from && t < PROP.to ? ramp(t, PROP.from, PROP.from + 2 * S, 0, 30) : 0);
  };

  it("reports the collection that ends it as an emptying, from the fill before the lid went up", () => {
    const rig = new Rig(17, "bin", target, acceleration);
    rig.run(TRUCK + 3 * H);
    assert.ok(rig.alarms("lidOpen").length === 1, JSON.stringify(rig.alarms().map((m) => m.data?.event)));
    // No fill was accepted for longer than STALE_S while the lid was up.
    const fills = rig.link.messages.filter((m) => typeof m.data?.fillPct === "number" && m.atMs > PROP.from + 10 * MIN && m.atMs < TRUCK);
    assert.deepEqual(fills, []);
    const emptied = rig.alarms("emptied");
    assert.equal(emptied.length, 1, JSON.stringify(rig.alarms().map((m) => [m.data?.event, stamp(m.atMs)])));
    assert.ok(emptied[0].atMs >= TRUCK && emptied[0].atMs < TRUCK + SETTLE_S * S + CONFIRM_S * S + 2 * POLL_MS, stamp(emptied[0].atMs));
    assert.ok((emptied[0].data!.fillPct as number) < 10);
  });
});
