/**
 * Fill-level node: waste bins and drains, one wake per call of `cycle()`.
 *
 * A wake restores the working state from RTC memory, loads the configuration,
 * answers pending downlinks, reads the accelerometer (tilt, latched events) and
 * the distance sensor (several driver samples, their median), checks the
 * distance for plausibility, turns it into a fill level (0.5 % units) and a
 * rate of fill (0.5 %/h units), decides alarms, encodes and submits messages,
 * keeps the state and returns how long to sleep. Everything is an integer in
 * the unit its name says; hardware arrives only through `LevelHardware`.
 *
 * Variants (a build or configuration choice; the code is shared):
 * - "bin": full/fullCleared, emptied, tipped/upright, lidOpen/lidClosed;
 *   a sample every BIN_PERIOD_S.
 * - "drain": rapidRise/rapidRiseCleared (flooding) and full/fullCleared
 *   (water at the full line); tipped/upright if an accelerometer is fitted;
 *   a sample every DRAIN_PERIOD_S, every DRAIN_FAST_PERIOD_S while the level
 *   rises at more than half the rapid-rise threshold or a rapid rise is active.
 * Both: obstruction, sensorFault/sensorRecovered. The sample grid is shifted
 * by a phase drawn at the cold start (wake-timing.ts), so nodes switched on
 * together do not sample and report in the same seconds.
 *
 * Plausibility (a rejected reading is counted as a "range" fault of the
 * distance sensor and never becomes a fill; OBSTRUCTION_RUN consecutive
 * rejections raise `obstruction`, once per episode):
 * - closer than max(BLIND_MM, fullDistanceMm − MARGIN_MM) (something on or
 *   right under the sensor: a leaf, a spider, rubbish against the sensor) or
 *   farther than depthMm + MARGIN_MM;
 * - drains: closer than the full line (beyond the agreement tolerance)
 *   unless the last accepted reading was within GRATE_APPROACH of it, whatever
 *   confirms it: water reaches above the grate only through the full line,
 *   which the fast cadence samples, while debris caught under the sensor
 *   appears at once and stays (a stale anchor does not re-anchor onto it);
 * - a jump the container cannot make: bins rise by at most BIN_RISE_STEP per
 *   sample, fall by at most BIN_SMALL_FALL unless the lid or bin moved since
 *   the last accepted reading; drains change by at most DRAIN_MAX_RATE per
 *   hour (plus DRAIN_SLACK). A rise or drain jump is re-measured CONFIRM_S
 *   later and accepted if the second reading agrees; a bin fall without
 *   motion is only accepted after REANCHOR_RUN agreeing readings (a missed
 *   wake, a failed accelerometer), or when the last accepted reading is older
 *   than STALE_S, and never reports `emptied`. A reading after STALE_S is
 *   accepted whatever it is; with motion, a fall of the emptying step from the stale
 *   reading is still an emptying (an overfull bin's propped lid hides the
 *   level until the truck comes).
 *
 * Bin detector (`binDetector`, manifest `config`): "rules" judges a bin's
 * in-range reading by the rise/fall rules above; "model" replaces those rules
 * with one invoke of the int8 plausibility model (ml/models/bin.ts, features
 * in dsp/bin-features.ts) per wake with a reading: no confirming re-measure,
 * no re-anchoring and no STALE_S rule (the model sees the age of the last
 * accepted reading); the range check stays in front of it. An accepted fall
 * of the emptying step or more with motion since the last accepted reading (or blind
 * to motion) is an emptying. Drains always use the rules.
 *
 * Motion: the LIS3DH's INT1 (motion on high-passed data, latched) wakes the
 * node through ext0 when `LevelHardware.accelInt1` is given. That wake only
 * records the motion and sleeps SETTLE_S (no pin wake, so one collection
 * cannot cause a storm of wakes); the settle wake measures the result. At most
 * MOTION_WAKES_PER_HOUR such wakes are armed per hour; a sleep without the pin
 * armed leaves the node "blind" to motion, so a large fall then needs a
 * confirming reading instead of motion evidence. The driver's own latches are
 * cleared when it is opened at boot, so the wake cause (not `events()`) is
 * what normally carries the motion; `events()` still catches motion and tips
 * during the wake itself.
 *
 * Lid and posture model (bins): the A02YYUW/VL53L1X and the LIS3DH sit
 * together under the lid, looking down. Tilt from upright below LID_CLOSED_DEG
 * is a closed lid on an upright bin; LID_OPEN_DEG ≤ tilt < tiltDeg held for two
 * samples is a lid left open (propped up by an overfull bin, or not closed);
 * tilt ≥ tiltDeg held for two samples is a tipped bin (a fully opened lid
 * looks the same, which is why the open-lid band stops at tiltDeg). The second
 * sample is taken CONFIRM_S after the first, never sooner, and a motion wake
 * between them starts the count again, so a lid opened for a moment, lids
 * opened for deposits a couple of minutes apart, or the minute a truck tips
 * the bin into its hopper raise nothing. In the lid
 * band the distance is read along the tilted axis and its vertical part
 * (`verticalMm`) is the reading, so an overfull bin whose waste props the lid
 * still reads full; at tilt ≥ tiltDeg or tipped it is not read (with
 * `binDetector: "model"`, not in the lid band either).
 *
 * Decisions, one alarm per crossing with its cleared counterpart:
 * - full: fill ≥ fullHalfPct on 2 consecutive accepted samples; cleared at
 *   fill ≤ fullHalfPct − hysteresisHalfPct on 2 samples, or at once by an emptying;
 * - emptied (bins): an accepted fall ≥ the emptying step (EMPTY_STEP, or the
 *   manifest's `emptyStepPct`) to at most EMPTY_RESIDUAL, with motion since the last
 *   accepted reading (or, blind to motion, confirmed by a second reading);
 * - tipped/upright, lidOpen/lidClosed: as above; upright at tilt < tiltDeg − TILT_HYST_DEG;
 * - rapidRise (drains): rate ≥ rapidRiseHalfPctPerH, over a DRAIN_RATE_WINDOW_S
 *   endpoint slope (at least DRAIN_RATE_MIN_SPAN_S long); cleared at rate ≤
 *   half the threshold on 2 samples;
 * - sensorFault: FAULT_RUN consecutive wakes without a reading from a fitted
 *   sensor; sensorRecovered after RECOVER_RUN consecutive wakes in which every
 *   sensor read (so a flaky sensor does not flap).
 * Routine readings (fPort 7) go at intervalS when the fill moved ≥ CHANGE_HALF_PCT
 * or a flag changed, or when the heartbeat is due; status daily, after a cold
 * start and on request.
 */
import Timer from "timer";
import { wakeCause, wakePins, resetReason } from "native:sleep";
import { HysteresisDetector, RateOfChange, TRANSITION_CLEARED, TRANSITION_ENTERED, binFeatureInputs, divTrunc, fillHalfPercent, verticalMm, type BinWakeInputs } from "../../dsp/index.ts";
import { Interpreter } from "../../ml/interpreter.ts";
import binModel from "../../ml/models/bin.ts";
import { encodeRecord, type IntRecord } from "../../../../codecs/src/codec.ts";
import { LEVEL_EVENTS, RESET_REASONS } from "../../../../codecs/src/uplinks.ts";
import { SensorError } from "../../drivers/sensor-error.ts";
import { alarmEnabled, applyDownlink, loadConfig, type DownlinkEffects, type NodeConfig } from "../config.ts";
import { FaultCounters } from "../fault-counters.ts";
import { ReportSchedule } from "../report-schedule.ts";
import { RetainedState } from "../retained-state.ts";
import type { NodeRuntime } from "../runtime.ts";
import { sinceArrivalS } from "../link-port.ts";
import { encodeStatus, wireResetReason } from "../status.ts";
import { drawPhaseS, gridAfter } from "../wake-timing.ts";

/** Anything with the distance part of the A02YYUW/VL53L1X sample shape; throws SensorError on a failed read. */
export interface DistanceSensor {
  sample(): { distanceMm: number } | undefined;
}

/** The parts of the LIS3DH driver the node uses. */
export interface AccelSensor {
  sample(): { tiltDeg: number } | undefined;
  events?(): { motion: boolean; tipped: boolean };
}

/** The node's sensors. A function instead of a sensor opens it inside the node, so a failing open is counted as a fault. */
export interface LevelHardware {
  distance: DistanceSensor | (() => DistanceSensor);
  /** Which chip `distance` is, for the fault counters (default "a02yyuw"). */
  distanceSensor?: "a02yyuw" | "vl53l1x";
  /** Called with whether the chip was configured at an earlier wake since power-on (and has not failed since). */
  accel?: AccelSensor | ((configured: boolean) => AccelSensor);
  /** The GPIO wired to LIS3DH INT1 and its active level: motion wakes the node through ext0. */
  accelInt1?: { pin: number; level: 0 | 1 };
  /** Temperature near the sensor, deci-°C, or undefined. */
  temperatureDeciC?: () => number | undefined;
  /**
   * Called once the wake's distance reading is over (taken, failed or skipped):
   * the sensor's rail can go off before the seconds the uplink spends on the radio.
   */
  distanceDone?: () => void;
  /** Called before deep sleep (e.g. to switch the sensor rail off). */
  powerDown?: () => void;
}

export type LevelVariant = "bin" | "drain";

/** How a bin's in-range readings are judged: the rise/fall rules or the int8 plausibility model. */
export type BinDetector = "rules" | "model";

/** Build options of the level node (the manifest's `config`). */
export interface LevelOptions {
  /** How a bin judges its readings (`binDetector`, default "rules"). */
  binDetector?: BinDetector;
  /** A bin's fall with motion that counts as an emptying, whole % (`emptyStepPct`, 5..100; default EMPTY_STEP / 2). */
  emptyStepPct?: number;
}

/** Sampling period of a bin, s. */
export const BIN_PERIOD_S = 900;
/** Sampling period of a drain, s. */
export const DRAIN_PERIOD_S = 300;
/** Sampling period of a drain while the level rises fast, s. */
export const DRAIN_FAST_PERIOD_S = 60;
/** Delay from a motion wake to the measurement of its result, s. */
export const SETTLE_S = 120;
/** Delay of a confirming measurement, s. */
export const CONFIRM_S = 60;
/** Pin wakes armed per hour at most. */
export const MOTION_WAKES_PER_HOUR = 6;
/** Driver samples wanted per wake (their median is the reading). */
export const DISTANCE_SAMPLES = 3;
/** Driver calls per wake at most; two timeouts (a silent sensor, 1.8 s each) end the attempt sooner. */
export const DISTANCE_ATTEMPTS = 5;
/** Blind zone of the distance sensors, mm. */
export const BLIND_MM = 30;
/** Margin beyond the full line and the bottom, mm. */
export const MARGIN_MM = 100;
/** Readings agree within max(AGREE_MM, distance / 32), mm. */
export const AGREE_MM = 20;
/** Largest rise of a bin between two samples without confirmation, 0.5 % units (40 %). */
export const BIN_RISE_STEP = 80;
/** Largest fall of a bin without motion (settling rubbish), 0.5 % units (10 %). */
export const BIN_SMALL_FALL = 20;
/**
 * Fall that counts as an emptying by default, 0.5 % units (30 %). Smaller falls with motion are taken
 * for rubbish pressed down; a smaller step (`emptyStepPct`) reports more collections of part-full bins
 * at the cost of more false `emptied` (firmware/src/nodes/README.md has the month's trade-off).
 */
export const EMPTY_STEP = 60;
/** Most a bin may hold after a fall for the fall to be an emptying, 0.5 % units (25 %). */
export const EMPTY_RESIDUAL = 50;
/** Fastest plausible drain level change, 0.5 %/h units (600 %/h), and the slack on top, 0.5 % units. */
export const DRAIN_MAX_RATE = 1200;
export const DRAIN_SLACK = 10;
/** How far below the full line (0.5 % units) a drain's last accepted level may be for water above the grate to be believed: one fast period at DRAIN_MAX_RATE plus DRAIN_SLACK. */
export const GRATE_APPROACH = DRAIN_SLACK + (DRAIN_MAX_RATE * DRAIN_FAST_PERIOD_S) / 3600;
/**
 * The bin model accepts a reading when its "real" output is at least this (int8,
 * probability (q + 128)/256: about 0.10). Chosen over 0.5 (argmax) and 0.25 on the
 * training bins run through the simulated node: after a long run of rejections
 * (an object lodged for a day while the bin filled) the model is slow to believe
 * the real surface again, and the lower bar recovers full episodes for a few
 * more wrong fills (scripts/ml/train/bin-node-compare.ts; ml/README.md).
 */
export const BIN_MODEL_ACCEPT_Q = -102;
/** Consecutive rejected readings that raise `obstruction`. */
export const OBSTRUCTION_RUN = 3;
/** Consecutive agreeing rejected readings that re-anchor the level. */
export const REANCHOR_RUN = 8;
/** Age of the last accepted reading beyond which any in-range reading is accepted, s. */
export const STALE_S = 43200;
/** Consecutive wakes without a reading that raise `sensorFault`. */
export const FAULT_RUN = 2;
/** Consecutive good wakes that report `sensorRecovered`. */
export const RECOVER_RUN = 3;
/** Fill change that makes a routine reading worth sending, 0.5 % units (2 %). */
export const CHANGE_HALF_PCT = 4;
/** Tilt bands, degrees. */
export const LID_OPEN_DEG = 20;
export const LID_CLOSED_DEG = 12;
export const TILT_HYST_DEG = 10;
/** Status message period, s. */
export const STATUS_S = 86400;
/** Low-battery flag below this, mV. */
export const LOW_BATTERY_MV = 3300;
/** Rate windows: bins over 2 h, drains over 30 min. */
export const BIN_RATE_WINDOW_S = 7200;
export const DRAIN_RATE_WINDOW_S = 1800;
export const DRAIN_RATE_MIN_SPAN_S = 600;

const BIN_RATE_CAPACITY = 10;
const DRAIN_RATE_CAPACITY = 32;
/** Time slack for grid-aligned interval checks, s. */
const SCHEDULE_SLACK_S = 60;
/** Fallback sleep when the state cannot even be computed, ms. */
export const FALLBACK_SLEEP_MS = 300000;

// Retained words (after the framework's header).
const W_COLD_S = 0;
const W_RESET = 1;
const W_LAST_STATUS_S = 2;
const W_ACC_MM = 3; // accepted distance, −1 none
const W_ACC_S = 4;
const W_CAND_MM = 5; // rejected jump candidate, −1 none
const W_CAND_RUN = 6;
const W_REJECT_RUN = 7;
const W_FLAGS = 8;
const W_DIST_FAIL = 9;
const W_ACCEL_FAIL = 10;
const W_TIP_RUN = 11;
const W_LID_RUN = 12;
const W_REP_FILL = 13; // last reported fill, −1 absent
const W_REP_FLAGS = 14;
const W_REP_DROPPED = 15;
const W_MOTION_HOUR_S = 16;
const W_MOTION_WAKES = 17;
const W_DEPTH = 18;
const W_FULL = 19;
const W_GOOD_RUN = 20;
const W_PREV_MM = 21; // the previous wake's reading (accepted or not), −1 none
const W_PREV2_MM = 22; // the reading before that, −1 none
const W_PHASE_S = 23; // the sampling grid's phase (wake-timing.ts), drawn at the cold start
const W_DSP = 24;

// W_FLAGS bits.
const F_OBSTRUCTION = 1;
const F_FAULT = 2;
const F_TIPPED = 4;
const F_LID = 8;
const F_MOTION = 16; // motion since the last accepted reading
const F_BLIND = 32; // slept without the motion wake armed since the last accepted reading
const F_EMPTIED = 64; // emptied since the last routine reading
const F_ARMED = 128; // the last sleep had the motion wake armed
const F_CAND_FALL = 256; // the candidate is a bin fall without motion
const F_MOTION_PREV = 512; // motion since the previous wake with a reading (a model input)
const F_ACCEL_SET = 1024; // the accelerometer was configured at an earlier wake and has not failed since
/** Motion seen: both motion flags at once. */
const F_MOVED = F_MOTION | F_MOTION_PREV;

// Routine flag bits (for change detection).
const R_LID = 1;
const R_TIPPED = 2;
const R_EMPTIED = 4;
const R_FAULT = 8;
const R_LOWBAT = 16;
const R_OVERFLOW = 32;
const R_UNSYNCED = 64;
/** Flags that describe a state (a change is news) and flags that report an event since the last reading (news when set). */
const R_STATE = R_LID | R_TIPPED | R_FAULT | R_LOWBAT | R_UNSYNCED;
const R_EVENTS = R_EMPTIED | R_OVERFLOW;

const EV_FULL = LEVEL_EVENTS.indexOf("full");
const EV_FULL_CLEARED = LEVEL_EVENTS.indexOf("fullCleared");
const EV_EMPTIED = LEVEL_EVENTS.indexOf("emptied");
const EV_TIPPED = LEVEL_EVENTS.indexOf("tipped");
const EV_UPRIGHT = LEVEL_EVENTS.indexOf("upright");
const EV_LID_OPEN = LEVEL_EVENTS.indexOf("lidOpen");
const EV_LID_CLOSED = LEVEL_EVENTS.indexOf("lidClosed");
const EV_RAPID = LEVEL_EVENTS.indexOf("rapidRise");
const EV_RAPID_CLEARED = LEVEL_EVENTS.indexOf("rapidRiseCleared");
const EV_OBSTRUCTION = LEVEL_EVENTS.indexOf("obstruction");
const EV_FAULT = LEVEL_EVENTS.indexOf("sensorFault");
const EV_RECOVERED = LEVEL_EVENTS.indexOf("sensorRecovered");

/** Alarm name (ALARM_BITS) that enables each event. */
const EVENT_ALARM = ["full", "full", "emptied", "tipped", "tipped", "lid", "lid", "rapidRise", "rapidRise", "sensorFault", "sensorFault", "sensorFault"];

/** One wake of a fill-level node. Construct fresh on every boot, call `cycle()` once. */
export class LevelNode {
  readonly #hw: LevelHardware;
  readonly #rt: NodeRuntime;
  readonly #variant: LevelVariant;
  readonly #useModel: boolean;
  /** A fall with motion at least this large is an emptying, 0.5 % units. */
  readonly #emptyStep: number;
  /** The bin model, created at the first wake that needs it (its arena is the only allocation). */
  #net: Interpreter | undefined;
  readonly #inputs: BinWakeInputs = {
    medianMm: 0, spreadMm: 0, prevMm: -1, prev2Mm: -1, fullMm: 0, accMm: -1, rejections: 0, accAgeQuarters: 0,
    motionSinceAccepted: false, tiltDeg: 0, motionSincePrevious: false,
  };
  readonly #state: RetainedState;
  readonly #w: Int32Array;
  readonly #faults = new FaultCounters();
  readonly #schedule = new ReportSchedule();
  readonly #full = new HysteresisDetector({ high: 160, low: 140, setCount: 2, clearCount: 2 });
  readonly #rapid = new HysteresisDetector({ high: 100, low: 50, setCount: 1, clearCount: 2 });
  readonly #rate: RateOfChange;
  readonly #buf = new Uint8Array(64);
  readonly #ack = new Uint8Array(64);
  readonly #readings = new Int32Array(DISTANCE_SAMPLES);
  readonly #rec: IntRecord = {};
  readonly #effects: DownlinkEffects = { status: false, rebootDelayS: -1, setTimeS: -1, settingsChanged: false };
  #config!: NodeConfig;
  #startS = 0;
  #sensorName: string;
  // This wake's observations.
  #distanceMm = -1;
  #spreadMm = 0;
  #fill = -1;
  #tilt = -1;
  #confirm = false;
  #sensorFailed = false;
  /** Whether the sleep that follows `cycle()` should arm the motion wake. */
  armMotionWake = false;
  /** Whether this boot started without retained state. */
  coldStart = false;

  constructor(hw: LevelHardware, rt: NodeRuntime, variant: LevelVariant, options: LevelOptions = {}) {
    this.#hw = hw;
    this.#rt = rt;
    this.#variant = variant;
    this.#useModel = variant === "bin" && options.binDetector === "model";
    const pct = options.emptyStepPct;
    this.#emptyStep = pct !== undefined && Number.isInteger(pct) && pct >= 5 && pct <= 100 ? pct * 2 : EMPTY_STEP;
    this.#sensorName = hw.distanceSensor ?? "a02yyuw";
    this.#rate = variant === "drain"
      ? new RateOfChange({ windowS: DRAIN_RATE_WINDOW_S, capacity: DRAIN_RATE_CAPACITY, minSpanS: DRAIN_RATE_MIN_SPAN_S })
      : new RateOfChange({ windowS: BIN_RATE_WINDOW_S, capacity: BIN_RATE_CAPACITY, minSpanS: 1800 });
    const words = W_DSP + ReportSchedule.stateWords + this.#faults.stateWords + this.#full.stateWords + this.#rapid.stateWords + this.#rate.stateWords;
    // The layout tag changes with the variant (rate capacity) and with this file's word map.
    this.#state = new RetainedState(0x4c560003 + (variant === "drain" ? 0x100 : 0), words);
    this.#w = this.#state.words;
  }

  /** Runs one wake; returns the time to sleep, ms. */
  cycle(): number {
    const rt = this.#rt;
    const w = this.#w;
    this.#startS = rt.nowS();
    this.#config = loadConfig("level");
    this.#configureDetectors();
    this.coldStart = !this.#restore();
    if (this.coldStart) this.#coldInit();
    const now = this.#startS;

    // A motion wake only records the motion; the settle wake measures what it left.
    const int1 = this.#hw.accelInt1;
    const pinWake = int1 !== undefined && (w[W_FLAGS] & F_ARMED) !== 0 && wakeCause() === "ext0" && wakePins().indexOf(int1.pin) >= 0;
    if (pinWake && !this.coldStart) {
      w[W_FLAGS] |= F_MOVED;
      // Two samples make a posture only with no motion between them: a lid opened for one deposit and
      // again for the next, two minutes later (this wake's settle time), is not a tipped bin.
      w[W_TIP_RUN] = 0;
      w[W_LID_RUN] = 0;
      return this.#finish(this.#startS + SETTLE_S, false);
    }

    const statusRequested = this.#downlinks();
    this.#checkGeometry();
    this.#readAccel();
    this.#postureDecisions();
    this.#readDistance();
    try {
      this.#hw.distanceDone?.();
    } catch {
      // The rail switch failing must not stop the wake: powerDown tries again before sleep.
    }
    this.#faultDecisions();
    if (this.#distanceMm >= 0) {
      this.#judge(now);
      w[W_PREV2_MM] = w[W_PREV_MM];
      w[W_PREV_MM] = this.#distanceMm;
      w[W_FLAGS] &= ~F_MOTION_PREV;
    }
    this.#routine(now);
    if (this.coldStart || statusRequested || now - w[W_LAST_STATUS_S] >= STATUS_S) {
      const n = encodeStatus(this.#buf, "level", rt, this.#faults, this.#config, w[W_RESET], Math.max(0, now - w[W_COLD_S]), rt.link.maxPayload());
      if (n > 0) rt.link.submit(10, this.#buf, n, "status");
      w[W_LAST_STATUS_S] = now;
    }
    rt.link.flush();
    return this.#finish(this.#nextWake(now), true);
  }

  // ---- state

  #configureDetectors(): void {
    const c = this.#config;
    const high = c.fullHalfPct;
    const low = Math.max(0, high - c.hysteresisHalfPct);
    this.#full.configure({ high, low: Math.min(low, high), setCount: 2, clearCount: 2 });
    const rise = Math.max(1, c.rapidRiseHalfPctPerH);
    this.#rapid.configure({ high: rise, low: rise >> 1, setCount: 1, clearCount: 2 });
  }

  #restore(): boolean {
    if (!this.#state.restore()) return false;
    const w = this.#w;
    try {
      let at = W_DSP;
      at = this.#schedule.load(w, at);
      at = this.#faults.load(w, at);
      at = this.#full.load(w, at);
      at = this.#rapid.load(w, at);
      this.#rate.load(w, at);
    } catch {
      return false; // words a block could never have written: start cold
    }
    return true;
  }

  #coldInit(): void {
    const w = this.#w;
    w.fill(0);
    w[W_COLD_S] = this.#startS;
    w[W_RESET] = wireResetReason(resetReason());
    w[W_LAST_STATUS_S] = this.#startS;
    w[W_ACC_MM] = -1;
    w[W_CAND_MM] = -1;
    w[W_PREV_MM] = -1;
    w[W_PHASE_S] = drawPhaseS(this.#rt);
    w[W_PREV2_MM] = -1;
    w[W_REP_FILL] = -2; // never reported
    w[W_REP_FLAGS] = -1;
    w[W_DEPTH] = this.#config.depthMm;
    w[W_FULL] = this.#config.fullDistanceMm;
    w[W_MOTION_HOUR_S] = this.#startS;
    this.#schedule.lastCheckS = -1;
    this.#schedule.lastSentS = -1;
    this.#faults.counts.fill(0);
    this.#faults.last.fill(0);
    this.#faults.sinceReport = 0;
    this.#full.reset(false, 0);
    this.#rapid.reset(false, 0);
    this.#rate.reset();
  }

  #finish(wakeS: number, measured: boolean): number {
    const w = this.#w;
    const rt = this.#rt;
    // Motion wake: armed unless the hourly budget is spent or this sleep is a settle.
    let arm = false;
    if (this.#hw.accelInt1 && this.#hw.accel && measured) {
      if (this.#startS - w[W_MOTION_HOUR_S] >= 3600) {
        w[W_MOTION_HOUR_S] = this.#startS;
        w[W_MOTION_WAKES] = 0;
      }
      arm = w[W_MOTION_WAKES] < MOTION_WAKES_PER_HOUR;
    }
    if (!measured) w[W_MOTION_WAKES]++;
    if (arm) w[W_FLAGS] |= F_ARMED;
    else w[W_FLAGS] &= ~F_ARMED;
    // Motion that nothing would have caught: no pin wake armed, or an accelerometer that does not answer.
    if (this.#hw.accel && (!arm || w[W_ACCEL_FAIL] > 0)) w[W_FLAGS] |= F_BLIND;
    this.armMotionWake = arm;
    let at = W_DSP;
    at = this.#schedule.save(w, at);
    at = this.#faults.save(w, at);
    at = this.#full.save(w, at);
    at = this.#rapid.save(w, at);
    this.#rate.save(w, at);
    this.#state.keep();
    const sleepS = wakeS - rt.nowS();
    return (sleepS < 1 ? 1 : sleepS) * 1000;
  }

  #nextWake(now: number): number {
    let period = BIN_PERIOD_S;
    if (this.#variant === "drain") {
      const threshold = Math.max(1, this.#config.rapidRiseHalfPctPerH);
      const fast = this.#rapid.active || (this.#rate.available && this.#rate.perHour >= threshold >> 1);
      period = fast ? DRAIN_FAST_PERIOD_S : DRAIN_PERIOD_S;
    }
    const grid = gridAfter(now, period, this.#w[W_PHASE_S]);
    // The confirming sample comes CONFIRM_S on, or at the grid wake if that is not much later; never sooner,
    // or two samples seconds apart could both see one lid held open. (Late wakes still make their interval check.)
    if (this.#confirm && (grid - now < CONFIRM_S || now + CONFIRM_S < grid - CONFIRM_S / 2)) return now + CONFIRM_S;
    return grid;
  }

  // ---- downlinks and geometry

  /** Applies every pending downlink, answering each with a config ack; true when a status was requested. */
  #downlinks(): boolean {
    const rt = this.#rt;
    let status = false;
    let changed = false;
    for (let i = 0; i < 8; i++) {
      const d = rt.link.takeDownlink();
      if (!d) break;
      const n = applyDownlink(this.#config, "level", d.port, d.bytes, this.#ack, this.#effects, sinceArrivalS(d, this.#startS));
      if (n > 0) rt.link.submit(11, this.#ack, Math.min(n, rt.link.maxPayload()), "ack");
      if (this.#effects.status) status = true;
      if (this.#effects.settingsChanged) changed = true;
      if (this.#effects.setTimeS >= 0) rt.setUnixS(this.#effects.setTimeS);
      if (this.#effects.rebootDelayS >= 0) {
        // No restart call reaches the app: a reboot restarts the application state
        // (counters, detectors, schedule) at once, and the status says "software".
        this.#coldInit();
        this.#w[W_RESET] = RESET_REASONS.indexOf("software");
        this.coldStart = true;
      }
    }
    // Reconfiguring restarts the debounce runs, so only after a downlink that changed settings (not a setTime).
    if (changed) this.#configureDetectors();
    return status;
  }

  /** A new geometry changes the meaning of fills: forget the rate window and candidates. */
  #checkGeometry(): void {
    const w = this.#w;
    const c = this.#config;
    if (w[W_DEPTH] !== c.depthMm || w[W_FULL] !== c.fullDistanceMm) {
      w[W_DEPTH] = c.depthMm;
      w[W_FULL] = c.fullDistanceMm;
      this.#rate.reset();
      w[W_CAND_MM] = -1;
      w[W_CAND_RUN] = 0;
    }
  }

  #geometryOk(): boolean {
    const c = this.#config;
    return c.fullDistanceMm >= 0 && c.depthMm > c.fullDistanceMm;
  }

  // ---- sensors

  #readAccel(): void {
    const hw = this.#hw;
    const w = this.#w;
    this.#tilt = -1;
    if (!hw.accel) return;
    let tippedEvent = false;
    try {
      const accel = typeof hw.accel === "function" ? hw.accel((w[W_FLAGS] & F_ACCEL_SET) !== 0) : hw.accel;
      let s = accel.sample();
      for (let i = 0; !s && i < 60; i++) {
        Timer.delay(25);
        s = accel.sample();
      }
      if (accel.events) {
        const e = accel.events();
        if (e.motion) w[W_FLAGS] |= F_MOVED;
        tippedEvent = e.tipped;
      }
      if (!s) throw new SensorError("timeout", "LIS3DH: no sample");
      this.#tilt = s.tiltDeg;
      w[W_ACCEL_FAIL] = 0;
      w[W_FLAGS] |= F_ACCEL_SET;
    } catch (e) {
      // Its state is unknown after a failure: the next wake configures it from scratch.
      w[W_FLAGS] &= ~F_ACCEL_SET;
      this.#faults.record("lis3dh", faultOf(e));
      w[W_ACCEL_FAIL]++;
      this.#sensorFailed = true;
      // Without a tilt the latched tipped event is the best evidence left.
      if (tippedEvent) this.#tilt = this.#config.tiltDeg;
    }
  }

  #readDistance(): void {
    const hw = this.#hw;
    const w = this.#w;
    this.#distanceMm = -1;
    // The sensor is not looking into the bin while it lies on its side or the lid is fully open. With the lid
    // propped (the lid band) it looks in along the tilted axis, and the reading's vertical part is the surface:
    // an overfull bin's waste under the lid it props, or a lid left open. The bin model was trained on
    // readings of a closed lid only, so with it the node still reads nothing then.
    const tilt = this.#tilt;
    if ((w[W_FLAGS] & F_TIPPED) !== 0 || tilt >= this.#config.tiltDeg || (tilt >= LID_OPEN_DEG && this.#useModel)) return;
    const r = this.#readings;
    let n = 0;
    let silent = 0;
    let sensor: DistanceSensor;
    try {
      sensor = typeof hw.distance === "function" ? hw.distance() : hw.distance;
    } catch (e) {
      this.#faults.record(this.#sensorName, faultOf(e));
      w[W_DIST_FAIL]++;
      this.#sensorFailed = true;
      return;
    }
    for (let i = 0; i < DISTANCE_ATTEMPTS && n < DISTANCE_SAMPLES && silent < 2; i++) {
      try {
        const s = sensor.sample();
        if (!s) throw new SensorError("timeout", "no distance sample");
        // Insertion into the sorted readings.
        let k = n++;
        while (k > 0 && r[k - 1] > s.distanceMm) {
          r[k] = r[k - 1];
          k--;
        }
        r[k] = s.distanceMm;
      } catch (e) {
        const fault = faultOf(e);
        this.#faults.record(this.#sensorName, fault);
        if (fault === "timeout" || fault === "none") silent++;
      }
    }
    if (n === 0) {
      w[W_DIST_FAIL]++;
      this.#sensorFailed = true;
      return;
    }
    w[W_DIST_FAIL] = 0;
    const median = r[(n - 1) >> 1];
    this.#spreadMm = r[n - 1] - r[0];
    // With two readings the median is one of them: they must agree. With three, two must.
    let agree = 0;
    for (let i = 0; i < n; i++) if (Math.abs(r[i] - median) <= agreementMm(median)) agree++;
    if (n > 1 && agree < 2) {
      this.#faults.record(this.#sensorName, "range");
      return;
    }
    // The lid's hinge is not at the sensor, so propping it also lifts the sensor: the vertical part is then
    // longer than the surface's depth under the rim, and the fill reads low, never high.
    this.#distanceMm = tilt >= LID_OPEN_DEG ? verticalMm(median, tilt) : median;
  }

  // ---- decisions

  #postureDecisions(): void {
    const w = this.#w;
    const tilt = this.#tilt;
    if (tilt < 0) return;
    const c = this.#config;
    let flags = w[W_FLAGS];
    if (tilt >= LID_OPEN_DEG || tilt >= c.tiltDeg) flags |= F_MOVED; // the sensor moved since it last looked down
    // Tipped / upright.
    if ((flags & F_TIPPED) === 0) {
      if (tilt >= c.tiltDeg) {
        w[W_TIP_RUN]++;
        if (w[W_TIP_RUN] >= 2) {
          flags |= F_TIPPED;
          w[W_TIP_RUN] = 0;
          if (flags & F_LID) {
            flags &= ~F_LID;
            w[W_LID_RUN] = 0;
          }
          w[W_FLAGS] = flags;
          this.#alarm(EV_TIPPED);
        } else this.#confirm = true;
      } else w[W_TIP_RUN] = 0;
    } else if (tilt < c.tiltDeg - TILT_HYST_DEG) {
      flags &= ~F_TIPPED;
      w[W_TIP_RUN] = 0;
      w[W_FLAGS] = flags;
      this.#alarm(EV_UPRIGHT);
    }
    w[W_FLAGS] = flags;
    if (this.#variant !== "bin" || (flags & F_TIPPED) !== 0) return;
    // Lid: a sustained tilt in the band below tipped.
    if ((flags & F_LID) === 0) {
      if (tilt >= LID_OPEN_DEG && tilt < c.tiltDeg) {
        w[W_LID_RUN]++;
        if (w[W_LID_RUN] >= 2) {
          w[W_FLAGS] |= F_LID;
          w[W_LID_RUN] = 0;
          this.#alarm(EV_LID_OPEN);
        } else this.#confirm = true;
      } else w[W_LID_RUN] = 0;
    } else if (tilt < LID_CLOSED_DEG) {
      w[W_FLAGS] &= ~F_LID;
      w[W_LID_RUN] = 0;
      this.#alarm(EV_LID_CLOSED);
    }
  }

  #faultDecisions(): void {
    const w = this.#w;
    const failing = w[W_DIST_FAIL] >= FAULT_RUN || (this.#hw.accel !== undefined && w[W_ACCEL_FAIL] >= FAULT_RUN);
    const active = (w[W_FLAGS] & F_FAULT) !== 0;
    w[W_GOOD_RUN] = this.#sensorFailed ? 0 : w[W_GOOD_RUN] + 1;
    if (failing && !active) {
      w[W_FLAGS] |= F_FAULT;
      this.#alarm(EV_FAULT);
    } else if (active && !failing && w[W_GOOD_RUN] >= RECOVER_RUN) {
      w[W_FLAGS] &= ~F_FAULT;
      this.#alarm(EV_RECOVERED);
    }
  }

  /** Accepts or rejects this wake's distance. */
  #judge(now: number): void {
    const w = this.#w;
    const c = this.#config;
    const d = this.#distanceMm;
    if (!this.#geometryOk()) return;
    const tooClose = Math.max(BLIND_MM, c.fullDistanceMm - MARGIN_MM);
    if (d < tooClose || d > c.depthMm + MARGIN_MM) {
      this.#reject(false, false);
      return;
    }
    const fill = fillHalfPercent(d, c.depthMm, c.fullDistanceMm);
    const accMm = w[W_ACC_MM];
    if (this.#useModel) {
      this.#judgeByModel(now, fill);
      return;
    }
    if (this.#variant === "drain" && d < c.fullDistanceMm - agreementMm(c.fullDistanceMm) && !nearGrate(accMm, c.depthMm, c.fullDistanceMm)) {
      // Water above the grate spreads over the street, so it gets there only through the full line, which
      // the fast cadence samples on the way. Anything else that close is under the sensor (a leaf, debris
      // caught at the grate) and stays put, so neither a confirming reading nor a stale anchor makes it water.
      this.#reject(false, false);
      return;
    }
    const flags = w[W_FLAGS];
    if (accMm < 0) {
      this.#accept(now, fill, false);
      return;
    }
    const step = fill - fillHalfPercent(accMm, c.depthMm, c.fullDistanceMm);
    if (now - w[W_ACC_S] > STALE_S) {
      // Re-anchored whatever it reads; the bin moving and a fall of the emptying step is still an emptying, as
      // below: an overfull bin's propped lid hides the level until the truck comes, often for more than STALE_S.
      this.#accept(now, fill, this.#variant === "bin" && (flags & F_MOTION) !== 0 && this.#emptying(step, fill));
      return;
    }
    // Agreement with the candidate a previous wake held back.
    const cand = w[W_CAND_MM];
    const confirmed = cand >= 0 && Math.abs(d - cand) <= agreementMm(cand);
    if (this.#variant === "bin") {
      if (step >= -BIN_SMALL_FALL && step <= BIN_RISE_STEP) {
        this.#accept(now, fill, false);
      } else if (step > BIN_RISE_STEP) {
        if (confirmed) this.#accept(now, fill, false);
        else this.#reject(true, false);
      } else if ((flags & F_MOTION) !== 0) {
        this.#accept(now, fill, this.#emptying(step, fill));
      } else if (!this.#hw.accel || (flags & F_BLIND) !== 0) {
        // Blind to motion: a confirmed fall is believed.
        if (confirmed) this.#accept(now, fill, this.#emptying(step, fill));
        else this.#reject(true, false);
      } else if (confirmed && (flags & F_CAND_FALL) !== 0 && w[W_CAND_RUN] + 1 >= REANCHOR_RUN) {
        this.#accept(now, fill, false);
      } else {
        this.#reject(false, true);
      }
      return;
    }
    // DRAIN_MAX_RATE over the time since the last accepted reading (capped at 10 h), 0.5 % units.
    const allowed = DRAIN_SLACK + divTrunc(Math.imul(Math.min(now - w[W_ACC_S], 36000), DRAIN_MAX_RATE), 3600);
    if (step <= allowed && step >= -allowed) this.#accept(now, fill, false);
    else if (confirmed) this.#accept(now, fill, false);
    else this.#reject(true, false);
  }

  /** One invoke of the bin model on this wake's reading; accepts or rejects it through the same paths as the rules. */
  #judgeByModel(now: number, fill: number): void {
    const w = this.#w;
    const c = this.#config;
    const flags = w[W_FLAGS];
    const accMm = w[W_ACC_MM];
    const x = this.#inputs;
    x.medianMm = this.#distanceMm;
    x.spreadMm = this.#spreadMm;
    x.prevMm = w[W_PREV_MM];
    x.prev2Mm = w[W_PREV2_MM];
    x.fullMm = c.fullDistanceMm;
    x.accMm = accMm;
    x.rejections = w[W_REJECT_RUN];
    x.accAgeQuarters = accMm < 0 ? 0 : divTrunc(now - w[W_ACC_S], BIN_PERIOD_S);
    x.motionSinceAccepted = (flags & F_MOTION) !== 0;
    x.tiltDeg = this.#tilt > 0 ? this.#tilt : 0;
    x.motionSincePrevious = (flags & F_MOTION_PREV) !== 0;
    if (!this.#net) this.#net = new Interpreter(binModel);
    const net = this.#net;
    binFeatureInputs(x, net.input());
    net.invoke();
    const p = net.output();
    // Output 0 is "real".
    if (p[0] < BIN_MODEL_ACCEPT_Q) {
      this.#reject(false, false);
      return;
    }
    const step = accMm < 0 ? 0 : fill - fillHalfPercent(accMm, c.depthMm, c.fullDistanceMm);
    const evidence = (flags & F_MOTION) !== 0 || !this.#hw.accel || (flags & F_BLIND) !== 0;
    this.#accept(now, fill, evidence && this.#emptying(step, fill));
  }

  /**
   * Forgets the held-back candidate unless this wake's reading agrees with it. A
   * jump candidate that nothing confirmed was a bad reading after all: it is
   * counted now (a fall without motion was counted when it was rejected).
   */
  #settleCandidate(agrees: boolean): void {
    const w = this.#w;
    const cand = w[W_CAND_MM];
    if (cand < 0 || agrees) return;
    if ((w[W_FLAGS] & F_CAND_FALL) === 0) this.#faults.record(this.#sensorName, "range");
    w[W_CAND_MM] = -1;
    w[W_CAND_RUN] = 0;
    w[W_FLAGS] &= ~F_CAND_FALL;
  }

  /**
   * Whether a fall of `step` to `fill` (0.5 % units) is an emptying, given the motion that lets a fall count:
   * at least the emptying step, and down to EMPTY_RESIDUAL. A truck turns the bin over its hopper and leaves a
   * few percent; a fall that leaves more is waste spilled from a tipped bin, or taken out by hand.
   */
  #emptying(step: number, fill: number): boolean {
    return step <= -this.#emptyStep && fill <= EMPTY_RESIDUAL;
  }

  #accept(now: number, fill: number, emptied: boolean): void {
    const w = this.#w;
    const d = this.#distanceMm;
    const cand = w[W_CAND_MM];
    this.#settleCandidate(cand >= 0 && Math.abs(d - cand) <= agreementMm(cand));
    w[W_ACC_MM] = d;
    w[W_ACC_S] = now;
    w[W_CAND_MM] = -1;
    w[W_CAND_RUN] = 0;
    w[W_REJECT_RUN] = 0;
    w[W_FLAGS] &= ~(F_OBSTRUCTION | F_MOTION | F_BLIND | F_CAND_FALL);
    this.#fill = fill;
    if (emptied && this.#variant === "bin") {
      w[W_FLAGS] |= F_EMPTIED;
      this.#rate.reset();
      this.#rate.push(now, fill);
      this.#alarm(EV_EMPTIED);
      if (this.#full.active) {
        this.#full.reset(false, 0);
        this.#alarm(EV_FULL_CLEARED);
      }
      return;
    }
    this.#rate.push(now, fill);
    const t = this.#full.update(fill);
    if (t === TRANSITION_ENTERED) this.#alarm(EV_FULL);
    else if (t === TRANSITION_CLEARED) this.#alarm(EV_FULL_CLEARED);
    if (this.#variant === "drain" && this.#rate.available) {
      const r = this.#rapid.update(this.#rate.perHour);
      if (r === TRANSITION_ENTERED) this.#alarm(EV_RAPID);
      else if (r === TRANSITION_CLEARED) this.#alarm(EV_RAPID_CLEARED);
    }
  }

  /**
   * Rejects this wake's distance. `jump`: hold it back as a candidate and measure
   * again CONFIRM_S later (counted as a fault only if nothing confirms it);
   * `fall`: a bin fall without motion, counted now and kept as a candidate for
   * re-anchoring; neither: out of range, counted now.
   */
  #reject(jump: boolean, fall: boolean): void {
    const w = this.#w;
    const d = this.#distanceMm;
    const cand = w[W_CAND_MM];
    const agrees = cand >= 0 && Math.abs(d - cand) <= agreementMm(cand);
    this.#settleCandidate(agrees && (jump || fall));
    if (jump || fall) {
      w[W_CAND_RUN] = agrees ? w[W_CAND_RUN] + 1 : 1;
      w[W_CAND_MM] = d;
      if (fall) {
        w[W_FLAGS] |= F_CAND_FALL;
        this.#faults.record(this.#sensorName, "range");
      } else {
        w[W_FLAGS] &= ~F_CAND_FALL;
        this.#confirm = true;
      }
    } else {
      this.#faults.record(this.#sensorName, "range");
    }
    w[W_REJECT_RUN]++;
    if (w[W_REJECT_RUN] >= OBSTRUCTION_RUN && (w[W_FLAGS] & F_OBSTRUCTION) === 0) {
      w[W_FLAGS] |= F_OBSTRUCTION;
      this.#alarm(EV_OBSTRUCTION);
    }
  }

  // ---- messages

  #flags(): number {
    const w = this.#w;
    const rt = this.#rt;
    const mv = rt.batteryMv();
    let f = 0;
    if (w[W_FLAGS] & F_LID) f |= R_LID;
    if (w[W_FLAGS] & F_TIPPED) f |= R_TIPPED;
    if (w[W_FLAGS] & F_EMPTIED) f |= R_EMPTIED;
    if (this.#faults.sinceReport > 0) f |= R_FAULT;
    if (mv !== undefined && mv < LOW_BATTERY_MV) f |= R_LOWBAT;
    if (rt.link.dropped() > w[W_REP_DROPPED]) f |= R_OVERFLOW;
    if (rt.unixS() < 0) f |= R_UNSYNCED;
    return f;
  }

  /** Fills the shared record with this wake's values. */
  #record(): IntRecord {
    const rec = this.#rec;
    const f = this.#flags();
    const rate = this.#rate;
    rec.distanceMm = this.#fill >= 0 ? this.#distanceMm : undefined;
    rec.fillHalfPct = this.#fill >= 0 ? this.#fill : undefined;
    rec.fillRateHalfPctPerH = this.#fill >= 0 && rate.available ? rate.perHour : undefined;
    rec.tiltDeg = this.#tilt >= 0 ? this.#tilt : undefined;
    rec.lidOpen = (f & R_LID) !== 0;
    rec.tipped = (f & R_TIPPED) !== 0;
    rec.emptied = (f & R_EMPTIED) !== 0;
    rec.temperatureDeciC = this.#hw.temperatureDeciC ? this.#hw.temperatureDeciC() : undefined;
    rec.batteryMv = this.#rt.batteryMv();
    rec.sensorFault = (f & R_FAULT) !== 0;
    rec.lowBattery = (f & R_LOWBAT) !== 0;
    rec.queueOverflow = (f & R_OVERFLOW) !== 0;
    rec.clockUnsynced = (f & R_UNSYNCED) !== 0;
    return rec;
  }

  #alarm(event: number): void {
    if (!alarmEnabled(this.#config, EVENT_ALARM[event])) return;
    const rec = this.#record();
    rec.event = event;
    rec.ageS = 0;
    const link = this.#rt.link;
    const n = encodeRecord(8, rec, this.#buf, 0, link.maxPayload());
    if (n > 0) link.submit(8, this.#buf, n, "alarm");
  }

  #routine(now: number): void {
    const w = this.#w;
    const c = this.#config;
    const schedule = this.#schedule;
    if (!schedule.intervalDue(now + SCHEDULE_SLACK_S, c.intervalS)) return;
    const flags = this.#flags();
    const last = w[W_REP_FILL];
    const fill = this.#fill;
    const moved = fill >= 0 ? last < 0 || Math.abs(fill - last) >= CHANGE_HALF_PCT : last !== -1;
    const flagNews = ((flags ^ w[W_REP_FLAGS]) & R_STATE) !== 0 || (flags & R_EVENTS) !== 0;
    const send = moved || flagNews || schedule.heartbeatDue(now + SCHEDULE_SLACK_S, c.heartbeatS);
    let sent = false;
    if (send) {
      const rec = this.#record();
      rec.event = undefined;
      rec.ageS = undefined;
      const link = this.#rt.link;
      const n = encodeRecord(7, rec, this.#buf, 0, link.maxPayload());
      if (n > 0 && link.submit(7, this.#buf, n, "routine")) {
        sent = true;
        w[W_REP_FILL] = fill >= 0 ? fill : -1;
        w[W_REP_FLAGS] = flags;
        w[W_REP_DROPPED] = link.dropped();
        w[W_FLAGS] &= ~F_EMPTIED;
        this.#faults.sinceReport = 0;
      }
    }
    schedule.checked(now, sent);
  }
}

/** Agreement tolerance around a distance, mm: two readings within it agree. */
export function agreementMm(mm: number): number {
  return Math.max(AGREE_MM, mm >> 5);
}

/**
 * Whether a drain's last accepted reading (mm, −1 for none) is close enough to the full line for water to
 * rise over the grate by the next sample: within what DRAIN_MAX_RATE allows in one DRAIN_FAST_PERIOD_S, plus DRAIN_SLACK.
 */
export function nearGrate(accMm: number, depthMm: number, fullMm: number): boolean {
  return accMm >= 0 && fillHalfPercent(accMm, depthMm, fullMm) >= 200 - GRATE_APPROACH;
}

/** The SensorError fault of `e`, or "none" for anything else. */
function faultOf(e: unknown): string {
  return e instanceof SensorError ? e.fault : "none";
}
