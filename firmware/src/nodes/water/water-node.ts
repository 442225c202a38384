/**
 * The water-flow node: at every wake it reads the pulse meter (volume, flow,
 * total), keeps night-flow and flow-run statistics, decides on alarms, reports
 * and sleeps. One `WaterNode` is constructed per boot (the ESP32 restarts from
 * main at every wake); everything that must outlive the wake is in retained
 * RTC words, the meter total also in flash.
 *
 * Wake rate. The ULP program that counts the meter's pulses in deep sleep
 * (native:ulp-pulse) also keeps the count at the end of every minute in a ring
 * in RTC memory, and wakes the CPU after ULP_WAKE_MINUTES = 15 minutes (at most
 * the reporting interval), after one minute while a burst may be under way, and
 * at the end of any minute whose pulses exceed the burst threshold. Each wake
 * runs the minutes it slept through, one by one at their own times, through the
 * same per-minute statistics, so the night minimum keeps the resolution of a
 * node awake every minute and a burst is seen within burstDurationS + 60 s (the valve
 * closes after at most ~3 min at the defaults), while the CPU boots 96 times a
 * day instead of 1440: 0.85 mAh/day instead of 12.8 (estimates from
 * hardware/water/power.json; the LS 33600 from about 1.6 to about 4.1 years at
 * SF10). Per-minute counts are far inside the 16-bit counter's wrap (at most
 * ~21,600 pulses). Without the ring (`WaterHardware.ulp` absent: a PCNT
 * counter, or a board without the ULP program) the node wakes every
 * WATER_WAKE_S = 60 s instead, within every Hall preset's wrap limit (182–232
 * s). Alarms other than bursts (leak, noPulse, sensor faults) go out at the
 * wake after the minute that raised them, up to 15 minutes later. The wakes
 * fall on the node's own phase (wake-timing.ts: its own minute of the 15, its
 * own second of the minute, its own moment in the ten minutes after the hour
 * in privacy mode), so meters switched on together do not report together.
 *
 * Decisions (each raises its alarm once per crossing and reports the crossing
 * back with its "cleared" counterpart; alarms go at once, kind "alarm"):
 * - leak: the minimum flow of the last complete night window (nightStartH ..
 *   nightEndH, local wall-clock hours; RTC hours while the clock is unset,
 *   with clockUnsynced set, which the node also sets a day after its last
 *   setTime to have it set again) is above leakFlowMlMin, or the flow has not
 *   dropped to zero for 24 h (NightFlowMonitor). It clears after a complete
 *   night whose minimum is at most leakFlowMlMin / 2 while the flow is not in
 *   an unbroken 24-hour run. A night is judged when it ends, so a leak that
 *   starts by day is reported at the end of the next night window.
 *   Equal start and end hours switch the night rule off (the 24-hour rule stays).
 *   Both rules judge flow at the meter's resolution: per minute where a pulse a
 *   minute is at most half of leakFlowMlMin, else averaged over buckets of up to
 *   an hour (nightBucketS); a 10 L reed output sees leaks from ~170 mL/min.
 *   With the `leakDetector: "model"` setting (manifest config) the int8 water
 *   model decides instead (leak-model.ts): the flow of every wake goes into
 *   15-minute windows of the local day (RTC time while the clock is unsynced,
 *   which shifts the model's hour feature; dsp/flow-window.ts: 8 integer codes,
 *   the same the model was trained on); when a window completes and a day of
 *   windows is known, the model classifies it; leak after MODEL_RAISE_WINDOWS
 *   leak windows in a row (1 h), leakCleared after MODEL_CLEAR_WINDOWS windows
 *   in a row without (24 h). Neither night rule applies then, and a leak
 *   cannot be reported in the first day after a cold start. The night minimum
 *   is still measured for the readings.
 * - burst: flow above burstFlowMlMin for burstDurationS in a row (summed over
 *   wakes). Cleared after BURST_CLEAR_S of flow at most half the threshold.
 *   With valveAutoClose enabled and a valve fitted, the node closes the valve
 *   itself (no network needed) unless the manual override is active, in which
 *   case it reports valveOverride and leaves the valve alone. The close is
 *   stored as the valve command in flash, so it survives a power cut; only a
 *   setValve downlink opens the valve again.
 * - noPulse (tamper, cut cable, or nobody home): no pulse for noPulseH hours;
 *   pulseResumed at the next pulse. Not sent in privacy mode (see README).
 * - sensorFault / sensorRecovered: the meter driver threw SensorError on
 *   SENSOR_FAULT_AFTER wakes in a row / then succeeded SENSOR_RECOVER_AFTER
 *   wakes in a row. Every SensorError is counted (FaultCounters, "pulseMeter")
 *   and sets the sensorFault flag of the next reading; a failed sample never
 *   becomes a reading.
 * - valve: valveClosed / valveOpened when the node moves the valve (auto-close
 *   or setValve), valveOverride when the override switch turns on.
 *
 * Reports. Routine reading (fPort 4) at intervalS if the volume since the last
 * one is non-zero or a flag changed (sensorFault, lowBattery, queueOverflow,
 * clockUnsynced, leak, burst, valve state), or when the heartbeat is due;
 * nothing otherwise. In privacy mode, exactly one reading per hour instead
 * (README: "Water node: privacy mode"). The extension (valve state, privacy
 * flag, water temperature) goes only when one of them exists and the link's
 * maxPayload allows (an 11-byte link gets the core only). A status uplink
 * after a cold start, once a day, and on request.
 *
 * Meter total through power cuts. The total is kept in the retained words at
 * every wake and written to flash (`preference` "water"/"total") whenever it
 * has grown by FLASH_STEP_ML since the last write. A power cut (RTC memory
 * lost) restarts from the flash value, so it loses less than FLASH_STEP_ML of
 * counted volume (the reported totalL can step back by at most 10 L), plus
 * whatever flowed while the node had no power, which nothing counts; it never
 * counts a pulse twice. Flash wear: each write is one 8-byte NVS blob (about
 * 3 entries of 32 bytes). At most one write per wake: 1440 a day in the worst
 * case (a flow of ≥ 10 L/min around the clock), 20–40 a day for a household
 * (200–400 L). The default 24 KB NVS partition leaves 5 pages × 126 entries
 * in rotation, 210 writes per erase of every page: the worst case is 6.9
 * erase cycles a day, 100,000 cycles (ESP32 flash endurance) last 40 years;
 * a household's 0.2 a day, far beyond the battery.
 */
import { readRecord, writeRecord } from "../flash-record.ts";
import {
  FlowWindowFeatures, HysteresisDetector, NightFlowMonitor, TRANSITION_CLEARED, TRANSITION_ENTERED, DAY_S,
  addSat32, divRound, divTrunc, type HysteresisOptions, type NightFlowOptions, type Transition,
} from "../../dsp/index.ts";
import { encodeRecord, type IntRecord } from "../../../../codecs/src/codec.ts";
import { WATER_EVENTS } from "../../../../codecs/src/uplinks.ts";
import { SensorError } from "../../drivers/sensor-error.ts";
import type PulseFlow from "../../drivers/pulse-flow.ts";
import type { PulseFlowSample } from "../../drivers/pulse-flow.ts";
import { alarmEnabled, applyDownlink, loadConfig, saveConfig, type DownlinkEffects, type NodeConfig } from "../config.ts";
import { FaultCounters } from "../fault-counters.ts";
import { RetainedState } from "../retained-state.ts";
import { ReportSchedule } from "../report-schedule.ts";
import { encodeStatus, wireResetReason } from "../status.ts";
import type { NodeRuntime } from "../runtime.ts";
import { sinceArrivalS } from "../link-port.ts";
import { drawPhaseS, gridAfter, gridAtOrBefore } from "../wake-timing.ts";
import { DiscreteLaplace, DLAP_STATE_WORDS } from "./discrete-laplace.ts";
import { MODEL_CLEAR_WINDOWS, MODEL_CONTEXT_WINDOWS, MODEL_LEAK, MODEL_RAISE_WINDOWS, WaterLeakModel } from "./leak-model.ts";

/** How the node decides on leaks: the night-minimum and 24-hour rules, or the int8 water model. */
export type LeakDetector = "night" | "model";
/** The leak detector when the manifest's config names none. */
export const DEFAULT_LEAK_DETECTOR: LeakDetector = "night";

/** What a water node may carry. The board's main builds these at every boot. */
export interface WaterHardware {
  /** The pulse meter driver, configured with the meter's K (the node restores its counts and total). */
  meter: PulseFlow;
  /** Shut-off valve output: write(1) closes, write(0) opens; written only when the position must change. */
  valve?: { write(value: number): void };
  /** Manual override switch input; active at `overrideWake.activeLevel` (default 0: switch to GND). */
  override?: { read(): number };
  /** The override's pin and active level, for the wake on change (boot.ts). */
  overrideWake?: { pin: number; activeLevel: 0 | 1 };
  /** Water temperature in 0.1 °C, undefined when not ready; may throw SensorError. */
  waterTempDeciC?: () => number | undefined;
  /**
   * The ULP program counting the meter (`native:ulp-pulse`) with its minute
   * ring: the node then sleeps ULP_WAKE_MINUTES at a time and takes the
   * minutes it slept through; without it, it wakes every WATER_WAKE_S.
   */
  ulp?: UlpMinutes;
}

/** The minute ring of `native:ulp-pulse` (see firmware/typings/native-ulp-pulse.d.ts). */
export interface UlpMinutes {
  /** Counts at the ends of the minutes ended since the last call, oldest first; returns how many ended. */
  minutes(into: Int32Array): number;
  /** The count at the start of the minute under way. */
  minuteStart(): number;
  /** Milliseconds since the last minute ended. */
  msIntoMinute(): number;
  /** Wake conditions for the coming deep sleep. */
  wakeOn(wake: { minutes: number; burstPulses: number }): void;
}

/** Things of the boot that are not hardware. */
export interface WaterNodeOptions {
  /** `native:sleep` resetReason() of this boot (reported in status after a cold start). */
  resetReason?: string;
  /** Local time minus UTC in seconds (Moddable's Time.timezone + Time.dst). */
  utcOffsetS?: number;
  /** Leak detector (manifest config `leakDetector`; default DEFAULT_LEAK_DETECTOR). */
  leakDetector?: LeakDetector;
}

/** Seconds between wakes without the ULP's minute ring (see the energy note above). */
export const WATER_WAKE_S = 60;
/** Minutes between wakes with the ULP's minute ring, while no burst is under way (at most the ring's 16 − 1). */
export const ULP_WAKE_MINUTES = 15;
const MINUTE_MS = 60000;
const RING_WORDS = 16;
/** The meter total goes to flash every time it has grown this much (mL): the most a power cut loses. */
export const FLASH_STEP_ML = 10000;
/** A burst clears after this long at or below half the burst threshold. */
export const BURST_CLEAR_S = 120;
/** Failed meter reads in a row before a sensorFault alarm, good reads in a row before sensorRecovered. */
export const SENSOR_FAULT_AFTER = 2;
export const SENSOR_RECOVER_AFTER = 3;
/** Privacy mode: one household-hour contributes at most this many litres (the sensitivity Δ). */
export const PRIVACY_CAP_L = 1000;
/** Largest noisy hourly total the volume field can carry, in whole litres (field max 4,194,302 mL). */
export const PRIVACY_MAX_L = 4194;
/** Flash location of the meter total: Int32Array [litres, millilitres 0..999]. */
export const TOTAL_DOMAIN = "water";
export const TOTAL_KEY = "total";
const LOW_BATTERY_MV = 3300;
const STATUS_EVERY_S = 86400;
const HOUR_S = 3600;
const MAX_DOWNLINKS = 8;

/** Bucket lengths (minutes) the night statistics may average over: the divisors of an hour. */
const BUCKET_MINUTES = [1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60];

/**
 * Seconds of flow the night statistics average (0: every minute on its own): the
 * shortest divisor of an hour over which one pulse is at most half the leak
 * threshold, so a leak at the threshold shows as such and a flow-free bucket
 * clears it; an hour at most (the coarse reed outputs: a 10 L pulse an hour is
 * 167 mL/min), so one night flush cannot fill every bucket of a night.
 */
export function nightBucketS(k: { readonly ml: number; readonly pulses: number }, leakFlowMlMin: number): number {
  for (const m of BUCKET_MINUTES) {
    if (2 * k.ml <= leakFlowMlMin * k.pulses * m) return m === 1 ? 0 : m * 60;
  }
  return HOUR_S;
}

const LAYOUT = 0x57545204; // "WTR" v4 (v3 did not keep when the clock was set, v2 had no wake phase, v1 no flow buckets)
const LAYOUT_MODEL = 0x57545304; // v4 followed by the model's window features
/** W_ULP_MINUTE wraps at a multiple of every ULP wake cadence (1..15 minutes), so the phase survives the wrap. */
const ULP_MINUTE_WRAP = 360360;
/** In privacy mode the node's hours begin up to this long after the wall clock's (its phase), so a fleet's meters do not all release their totals at the hour. */
export const PRIVACY_RELEASE_SPREAD_S = 600;
/**
 * A day after its last setTime the node says clockUnsynced again, so that the application (which answers that
 * flag with setTime) sets it again: the ESP32 keeps time in deep sleep on its internal RC oscillator, which
 * drifts with temperature (ESP-IDF recommends a 32 kHz crystal for accurate sleep time; field reports give
 * 0.6 %, some 9 minutes a day), and the night window and privacy hours are wall-clock hours.
 */
export const CLOCK_RESYNC_S = 86400;
// Retained words (the DSP blocks, counters and noise table follow W_FIXED).
const W_BOOT_S = 0; // RTC s of the cold start (uptime)
const W_RESET_REASON = 1; // wire reset reason of the cold start
const W_KEPT_S = 2; // RTC s when the state was kept (sleep length for the meter)
const W_FLAGS = 3; // F_* bits
const W_LAST_STATUS = 4;
const W_BURST_RUN_S = 5;
const W_BURST_CLEAR_S = 6;
const W_LAST_PULSE_S = 7;
const W_VOL_ACC = 8; // mL since the last routine reading (normal mode)
const W_LAST_FLAGS = 9; // flag word of the last routine reading, −1 none
const W_LAST_DROPPED = 10;
const W_VALVE = 11; // position last driven: −1 unknown, 0 open, 1 closed
const W_HOUR_KEY = 12; // privacy: local hour of day being accumulated, −1 none
const W_HOUR_START_S = 13;
const W_HOUR_ACC = 14; // privacy: mL in that hour
const W_TOTAL_L = 15; // meter total, whole litres …
const W_TOTAL_REM = 16; // … and mL 0..999
const W_FLASH_L = 17; // total at the last flash write
const W_FLASH_REM = 18;
const W_PHASE_S = 19; // the wake grids' phase (wake-timing.ts), drawn at the cold start
const W_ULP_MINUTE = 20; // ULP minutes ended since the cold start, mod ULP_MINUTE_WRAP
const W_CLOCK_SET_S = 21; // RTC s of the last setTime applied, −1 none
const W_VALVE_MOVED_S = 22; // RTC s the valve last moved (or was exercised), the cold start's at first
const W_FIXED = 23;

/** The clockUnsynced bit of a reading's flag word (#flagWord; not a W_FLAGS bit). */
const FW_CLOCK = 8;

/**
 * A valve left in place this long is exercised, closed and opened again, so that it cannot seize
 * (hardware/water/README.md, budgeted weekly in power.json) …
 */
const VALVE_EXERCISE_S = 7 * 86400;
/** … in the hour after 03:00 (local, or RTC time while the clock is unset) … */
const VALVE_EXERCISE_TOD_S = 3 * 3600;
/** … with no meter pulse for this long, so that nobody is drawing water. */
const VALVE_EXERCISE_QUIET_S = 600;

const F_BURST = 1;
const F_NO_PULSE = 2;
const F_OVERRIDE = 4;
const F_PRIVACY = 8;

/** Seconds into the day of a local time in seconds (also before 1970: RTC time while unsynced). */
function timeOfDay(localS: number): number {
  return ((localS % DAY_S) + DAY_S) % DAY_S;
}

/** The fault a failed meter read threw: a SensorError's own, anything else is a bus failure. */
function faultOf(e: unknown): string {
  return e instanceof SensorError ? e.fault : "nack";
}

/** One wake of the water node. Construct it fresh at every boot, then call `cycle()`. */
export class WaterNode {
  readonly #hw: WaterHardware;
  readonly #rt: NodeRuntime;
  readonly #config: NodeConfig;
  readonly #utcOffsetS: number;
  readonly #faults = new FaultCounters();
  readonly #schedule = new ReportSchedule();
  #night: NightFlowMonitor;
  #nightRule = true;
  readonly #leak: HysteresisDetector;
  readonly #sensor = new HysteresisDetector({ high: 1, low: 0, setCount: SENSOR_FAULT_AFTER, clearCount: SENSOR_RECOVER_AFTER });
  readonly #noise = new DiscreteLaplace();
  /** Window features of the model detector; undefined with the night rule. */
  #windows: FlowWindowFeatures | undefined;
  /** The model, built in a boot that completes a window (at most one in fifteen wakes). */
  #model: WaterLeakModel | undefined;
  readonly #state: RetainedState;
  readonly #w: Int32Array;
  readonly #atMeter = W_FIXED;
  readonly #buf = new Uint8Array(64);
  /** Counts of the ULP's minute ring taken at this wake. */
  readonly #ring = new Int32Array(RING_WORDS);
  readonly #rec: IntRecord = {};
  readonly #effects: DownlinkEffects = { status: false, rebootDelayS: -1, setTimeS: -1, settingsChanged: false };
  #cold = false;
  #statusWanted = false;
  #rebootAtS = -1;
  #overrideActive = false;
  /** Flow of this wake's sample (mL/min), −1 when there is none. */
  #flow = -1;
  /** The runtime's random source, bound once per boot (privacy noise). */
  readonly #random: () => number;

  constructor(hw: WaterHardware, rt: NodeRuntime, options: WaterNodeOptions = {}) {
    this.#hw = hw;
    this.#rt = rt;
    this.#random = () => rt.random();
    this.#utcOffsetS = options.utcOffsetS ?? 0;
    this.#config = loadConfig("water");
    if ((options.leakDetector ?? DEFAULT_LEAK_DETECTOR) === "model") this.#windows = new FlowWindowFeatures();
    this.#night = this.#nightMonitor();
    this.#leak = new HysteresisDetector(this.#leakOptions());
    const words = W_FIXED + hw.meter.stateWords + this.#faults.stateWords + ReportSchedule.stateWords +
      this.#night.stateWords + this.#leak.stateWords + this.#sensor.stateWords + DLAP_STATE_WORDS +
      (this.#windows ? this.#windows.stateWords : 0);
    // Each detector has its own layout: switching detectors (a firmware update) starts cold.
    this.#state = new RetainedState(this.#windows ? LAYOUT_MODEL : LAYOUT, words);
    this.#w = this.#state.words;
    if (!this.#state.restore() || !this.#load()) this.#coldStart(options.resetReason ?? "unknown");
  }

  /** True when this boot found no usable retained state (power cut, reset, first boot). */
  get wasColdStart(): boolean {
    return this.#cold;
  }

  /** Whether the manual override read active at this wake. */
  get overrideActive(): boolean {
    return this.#overrideActive;
  }

  /** Runs one wake; returns the milliseconds to sleep. */
  cycle(): number {
    const rt = this.#rt;
    const w = this.#w;
    const c = this.#config;
    const now = rt.nowS();
    this.#downlinks(now);
    this.#privacyMode();
    this.#readOverride();

    // Measure; a failed read is counted and leaves no trace in the readings.
    const unix = rt.unixS();
    const local = unix < 0 ? now : unix + this.#utcOffsetS;
    const tod = timeOfDay(local);
    if (this.#hw.ulp) this.#minutes(this.#hw.ulp, now, local);
    else {
      const s = this.#sample();
      if (s) this.#statistics(s, tod, now);
    }

    this.#driveValve();
    this.#exerciseValve(now, tod);

    // Report.
    if (c.privacy === 1) {
      const hour = divTrunc(timeOfDay(local - this.#releaseShiftS()), HOUR_S);
      if (w[W_HOUR_KEY] < 0) {
        w[W_HOUR_KEY] = hour;
        w[W_HOUR_START_S] = now;
      } else if (hour !== w[W_HOUR_KEY] || now - w[W_HOUR_START_S] >= HOUR_S) {
        this.#privateReading(now);
        w[W_HOUR_KEY] = hour;
        w[W_HOUR_START_S] = now;
        w[W_HOUR_ACC] = 0;
      }
    } else {
      const slot = this.#slot(now);
      if (this.#schedule.intervalDue(slot, c.intervalS)) {
        const flags = this.#flagWord();
        const send = w[W_VOL_ACC] !== 0 || this.#flagsNews(flags) || this.#schedule.heartbeatDue(slot, c.heartbeatS);
        if (send) this.#reading(flags);
        this.#schedule.checked(slot, send);
      }
    }
    if (this.#statusWanted || w[W_LAST_STATUS] < 0 || now - w[W_LAST_STATUS] >= STATUS_EVERY_S) this.#status(now);

    // A reboot command: persist the total first, as for a power cut.
    this.#flashTotal(this.#rebootAtS >= 0);
    rt.link.flush();
    const end = rt.nowS();
    this.#save(end);
    if (this.#rebootAtS >= 0) return Math.max(1, this.#rebootAtS - end) * 1000;
    if (this.#hw.ulp) return this.#ulpSleep(this.#hw.ulp, local + (end - now));
    return (gridAfter(end, WATER_WAKE_S, w[W_PHASE_S]) - end) * 1000;
  }

  /**
   * The wake's slot for the reporting schedule: without the ULP, the minute of the node's grid the wake
   * belongs to, so the sleep's jitter (wake-timing.ts) neither lets the interval drift nor shortens it.
   * The ULP's wakes fall on minute ends, unjittered.
   */
  #slot(now: number): number {
    if (this.#hw.ulp) return now;
    const slot = gridAtOrBefore(now, WATER_WAKE_S, this.#w[W_PHASE_S]);
    // Just after power-on the slot may start before the RTC did; the schedule takes negative times as "never".
    return slot < 0 ? 0 : slot;
  }

  /** How far the node's privacy hours start after the wall clock's, s. */
  #releaseShiftS(): number {
    return this.#w[W_PHASE_S] % PRIVACY_RELEASE_SPREAD_S;
  }

  // ---- the ULP's minute ring ----

  /** Runs the minutes the ULP recorded since the last wake through the statistics, each at its own time. */
  #minutes(ulp: UlpMinutes, now: number, local: number): void {
    const meter = this.#hw.meter;
    const ring = this.#ring;
    const ended = ulp.minutes(ring);
    this.#flow = -1;
    if (this.#cold) {
      // The ring holds minutes from before this driver's count: start at the minute under way.
      meter.rebase(ulp.minuteStart(), ulp.msIntoMinute());
      return;
    }
    this.#w[W_ULP_MINUTE] = (this.#w[W_ULP_MINUTE] + ended) % ULP_MINUTE_WRAP;
    const n = ended < RING_WORDS ? ended : RING_WORDS;
    let first = 0;
    if (ended > n) {
      // The ring overflowed (the CPU slept through more than 16 minutes): what flowed before the oldest count kept is unknown.
      this.#meterRead("timeout");
      meter.rebase(ring[0]);
      first = 1;
    }
    const into = ulp.msIntoMinute();
    for (let k = first; k < n; k++) {
      const ageS = divRound(into + (n - 1 - k) * MINUTE_MS, 1000);
      let s: PulseFlowSample;
      try {
        s = meter.sampleCount(ring[k], MINUTE_MS);
      } catch (e) {
        this.#meterRead(faultOf(e));
        this.#flow = -1;
        continue;
      }
      this.#meterRead(undefined);
      this.#statistics(s, timeOfDay(local - ageS), now - ageS);
    }
    // The ULP keeps the minutes' time; the driver's clock only has to say when its interval started.
    if (n > 0) meter.rebase(ring[n - 1], into);
  }

  /**
   * Arms the ULP wake and returns the backstop timer (ms): every minute while
   * a burst may be under way, every ULP_WAKE_MINUTES (at most the reporting
   * interval) otherwise, and at once at the end of a minute over the burst
   * threshold. In privacy mode the timer also wakes the node on the hour, when
   * the hour's total is released.
   */
  #ulpSleep(ulp: UlpMinutes, local: number): number {
    const w = this.#w;
    const c = this.#config;
    const watching = (w[W_FLAGS] & F_BURST) !== 0 || w[W_BURST_RUN_S] > 0;
    const perInterval = divTrunc(c.intervalS, 60);
    const cadence = watching ? 1 : perInterval < 1 ? 1 : perInterval < ULP_WAKE_MINUTES ? perInterval : ULP_WAKE_MINUTES;
    // The ULP wakes the CPU at the end of a minute: wake on the node's own minute of the cadence (its phase),
    // so meters switched on together do not report at the same minute's end.
    const minutes = gridAfter(w[W_ULP_MINUTE], cadence, divTrunc(w[W_PHASE_S], 60)) - w[W_ULP_MINUTE];
    // A minute over the threshold: flow > burstFlowMlMin ⇔ pulses × ml > burstFlowMlMin × pulsesPerMl (the driver's exact K).
    const k = this.#hw.meter.mlPerPulse;
    const burst = Math.floor((c.burstFlowMlMin * k.pulses) / k.ml) + 1;
    ulp.wakeOn({ minutes, burstPulses: burst > 0xffff ? 0xffff : burst });
    let ms = minutes * MINUTE_MS - ulp.msIntoMinute() + MINUTE_MS;
    if (c.privacy === 1) {
      const toHour = (gridAfter(local, HOUR_S, this.#releaseShiftS()) - local) * 1000;
      if (toHour < ms) ms = toHour;
    }
    return ms > 0 ? ms : 1000;
  }

  // ---- state ----

  #coldStart(resetReason: string): void {
    const w = this.#w;
    const now = this.#rt.nowS();
    w.fill(0);
    w[W_BOOT_S] = now;
    w[W_RESET_REASON] = wireResetReason(resetReason);
    w[W_LAST_STATUS] = -1;
    w[W_LAST_PULSE_S] = now;
    w[W_LAST_FLAGS] = -1;
    w[W_VALVE] = -1;
    w[W_HOUR_KEY] = -1;
    w[W_PHASE_S] = drawPhaseS(this.#rt);
    w[W_CLOCK_SET_S] = -1;
    w[W_VALVE_MOVED_S] = now;
    w[W_LAST_DROPPED] = this.#rt.link.dropped();
    if (this.#config.privacy === 1) w[W_FLAGS] |= F_PRIVACY;
    // The meter total from flash; the driver counts on from the counter as it finds it.
    const t = readRecord(TOTAL_DOMAIN, TOTAL_KEY);
    if (t && t.length === 2) {
      if (t[0] >= 0 && t[1] >= 0 && t[1] < 1000) {
        w[W_TOTAL_L] = t[0];
        w[W_TOTAL_REM] = t[1];
      }
    }
    w[W_FLASH_L] = w[W_TOTAL_L];
    w[W_FLASH_REM] = w[W_TOTAL_REM];
    this.#hw.meter.configure({ totalMl: w[W_TOTAL_L] * 1000 + w[W_TOTAL_REM] });
    // Fresh blocks: the constructor's are untouched unless a load failed half-way.
    this.#faults.load(new Int32Array(this.#faults.stateWords), 0);
    this.#schedule.lastCheckS = -1;
    this.#schedule.lastSentS = -1;
    this.#night = this.#nightMonitor();
    this.#leak.reset(false);
    this.#sensor.reset(false);
    this.#noise.load(new Int32Array(DLAP_STATE_WORDS), 0);
    if (this.#windows) this.#windows = new FlowWindowFeatures();
    this.#cold = true;
  }

  /** Loads the blocks from the retained words; false if any word is corrupt (then the node starts cold). */
  #load(): boolean {
    const w = this.#w;
    try {
      const slept = Math.max(0, this.#rt.nowS() - w[W_KEPT_S]);
      let at = this.#hw.meter.load(w, this.#atMeter, slept * 1000);
      at = this.#faults.load(w, at);
      at = this.#schedule.load(w, at);
      at = this.#night.load(w, at);
      at = this.#leak.load(w, at);
      at = this.#sensor.load(w, at);
      at = this.#noise.load(w, at);
      if (this.#windows) this.#windows.load(w, at);
    } catch (e) {
      if (e instanceof RangeError) return false;
      throw e;
    }
    return true;
  }

  #save(now: number): void {
    const w = this.#w;
    w[W_KEPT_S] = now;
    let at = this.#hw.meter.save(w, this.#atMeter);
    at = this.#faults.save(w, at);
    at = this.#schedule.save(w, at);
    at = this.#night.save(w, at);
    at = this.#leak.save(w, at);
    at = this.#sensor.save(w, at);
    at = this.#noise.save(w, at);
    if (this.#windows) this.#windows.save(w, at);
    this.#state.keep();
  }

  #nightMonitor(): NightFlowMonitor {
    const c = this.#config;
    const o: NightFlowOptions = { nightStartS: c.nightStartH * HOUR_S, nightEndS: c.nightEndH * HOUR_S, bucketS: nightBucketS(this.#hw.meter.mlPerPulse, c.leakFlowMlMin) };
    this.#nightRule = o.nightStartS !== o.nightEndS;
    if (!this.#nightRule) o.nightEndS = (o.nightStartS + HOUR_S) % DAY_S;
    return new NightFlowMonitor(o);
  }

  #leakOptions(): HysteresisOptions {
    // The model's verdict per window is 1 (leak) or 0 (anything else).
    if (this.#windows) return { high: 1, low: 0, setCount: MODEL_RAISE_WINDOWS, clearCount: MODEL_CLEAR_WINDOWS };
    const l = this.#config.leakFlowMlMin;
    return { high: l + 1, low: l >> 1, setCount: 1, clearCount: 1 };
  }

  // ---- measuring and deciding ----

  #sample(): PulseFlowSample | undefined {
    this.#flow = -1;
    let s: PulseFlowSample | undefined;
    try {
      s = this.#hw.meter.sample();
    } catch (e) {
      this.#meterRead(faultOf(e));
      return undefined;
    }
    if (s) this.#meterRead(undefined);
    return s;
  }

  /** A meter read's outcome: a fault is counted and goes to the sensorFault detector, as does a good read. */
  #meterRead(fault: string | undefined): void {
    if (fault !== undefined) this.#faults.record("pulseMeter", fault);
    this.#sensorTransition(this.#sensor.update(fault === undefined ? 0 : 1));
  }

  #sensorTransition(t: Transition): void {
    if (!alarmEnabled(this.#config, "sensorFault")) return;
    if (t === TRANSITION_ENTERED) this.#alarm("sensorFault");
    else if (t === TRANSITION_CLEARED) this.#alarm("sensorRecovered");
  }

  #statistics(s: PulseFlowSample, tod: number, now: number): void {
    const w = this.#w;
    const c = this.#config;
    const dt = divRound(s.intervalMs, 1000);
    const flow = s.flowMlMin;
    this.#flow = flow;
    w[W_TOTAL_L] = s.totalL;
    w[W_TOTAL_REM] = s.totalMl - s.totalL * 1000;
    if (c.privacy === 1) w[W_HOUR_ACC] = addSat32(w[W_HOUR_ACC], s.volumeMl);
    else w[W_VOL_ACC] = addSat32(w[W_VOL_ACC], s.volumeMl);

    // No pulse for noPulseH hours: tamper, a cut cable, or nobody home.
    if (s.pulses > 0) {
      w[W_LAST_PULSE_S] = now;
      if (w[W_FLAGS] & F_NO_PULSE) {
        w[W_FLAGS] &= ~F_NO_PULSE;
        if (alarmEnabled(c, "noPulse") && c.privacy !== 1) this.#alarm("pulseResumed");
      }
    } else if (!(w[W_FLAGS] & F_NO_PULSE) && now - w[W_LAST_PULSE_S] >= c.noPulseH * HOUR_S) {
      w[W_FLAGS] |= F_NO_PULSE;
      if (alarmEnabled(c, "noPulse") && c.privacy !== 1) this.#alarm("noPulse");
    }

    // Leak: the night's minimum, judged when the window ends, or a day without a flow-free moment.
    const sinceEnd = tod - c.nightEndH * HOUR_S;
    const nightEnded = this.#nightRule && (sinceEnd < 0 ? sinceEnd + DAY_S : sinceEnd) < dt;
    this.#night.update(tod, flow, dt);
    if (this.#windows) this.#modelLeak(this.#windows, tod, flow, dt);
    else if (nightEnded && this.#night.nightMinAvailable) {
      const min = this.#night.nightMinMlMin;
      // While the flow is in an unbroken 24-hour run, a clean-looking minimum cannot clear the leak.
      const t = this.#leak.update(this.#night.leak ? Math.max(min, c.leakFlowMlMin + 1) : min);
      if (t === TRANSITION_ENTERED) this.#leakAlarm("leak");
      else if (t === TRANSITION_CLEARED) this.#leakAlarm("leakCleared");
    }
    if (!this.#windows && this.#night.leak && !this.#leak.active) {
      this.#leak.reset(true);
      this.#leakAlarm("leak");
    }

    // Burst: above the threshold for burstDurationS in a row.
    if (flow > c.burstFlowMlMin) {
      w[W_BURST_RUN_S] = addSat32(w[W_BURST_RUN_S], dt);
      w[W_BURST_CLEAR_S] = 0;
    } else {
      w[W_BURST_RUN_S] = 0;
      w[W_BURST_CLEAR_S] = flow + flow <= c.burstFlowMlMin ? addSat32(w[W_BURST_CLEAR_S], dt) : 0;
    }
    if (!(w[W_FLAGS] & F_BURST) && w[W_BURST_RUN_S] >= c.burstDurationS) {
      w[W_FLAGS] |= F_BURST;
      if (alarmEnabled(c, "burst")) this.#alarm("burst");
      if (this.#hw.valve && alarmEnabled(c, "valveAutoClose")) {
        if (this.#overrideActive) this.#alarm("valveOverride");
        else if (c.valveCommand !== 1) {
          // Kept in flash with the configuration: a power cut must not reopen the valve on a burst.
          c.valveCommand = 1;
          saveConfig(c);
        }
      }
    } else if ((w[W_FLAGS] & F_BURST) && w[W_BURST_CLEAR_S] >= BURST_CLEAR_S) {
      w[W_FLAGS] &= ~F_BURST;
      if (alarmEnabled(c, "burst")) this.#alarm("burstCleared");
    }
  }

  /** The model detector: one classification per completed window once a day of windows is known. */
  #modelLeak(windows: FlowWindowFeatures, tod: number, flow: number, dt: number): void {
    if (!windows.update(tod, flow, dt) || windows.contextWindows < MODEL_CONTEXT_WINDOWS) return;
    this.#model ??= new WaterLeakModel();
    const t = this.#leak.update(this.#model.classify(windows) === MODEL_LEAK ? 1 : 0);
    if (t === TRANSITION_ENTERED) this.#leakAlarm("leak");
    else if (t === TRANSITION_CLEARED) this.#leakAlarm("leakCleared");
  }

  #leakAlarm(event: string): void {
    if (alarmEnabled(this.#config, "leak")) this.#alarm(event);
  }

  #readOverride(): void {
    const hw = this.#hw;
    const w = this.#w;
    const active = hw.override !== undefined && hw.valve !== undefined && hw.override.read() === (hw.overrideWake?.activeLevel ?? 0);
    this.#overrideActive = active;
    if (active === ((w[W_FLAGS] & F_OVERRIDE) !== 0)) return;
    if (active) {
      w[W_FLAGS] |= F_OVERRIDE;
      this.#alarm("valveOverride");
    } else w[W_FLAGS] &= ~F_OVERRIDE;
  }

  /**
   * The weekly exercise of an open valve: closed and opened again (about two seconds without water) in the small
   * hours while nothing flows. Silent: no alarm, as the valve ends where it was.
   */
  #exerciseValve(now: number, tod: number): void {
    const valve = this.#hw.valve;
    const w = this.#w;
    if (!valve || this.#overrideActive || w[W_VALVE] !== 0) return;
    if (now - w[W_VALVE_MOVED_S] < VALVE_EXERCISE_S || now - w[W_LAST_PULSE_S] < VALVE_EXERCISE_QUIET_S) return;
    if (tod < VALVE_EXERCISE_TOD_S || tod >= VALVE_EXERCISE_TOD_S + HOUR_S) return;
    valve.write(1);
    valve.write(0);
    w[W_VALVE_MOVED_S] = now;
  }

  /** Moves the valve to the commanded position when it is not there (never while overridden). */
  #driveValve(): void {
    const valve = this.#hw.valve;
    const w = this.#w;
    if (!valve || this.#overrideActive) return;
    const want = this.#config.valveCommand === 1 ? 1 : 0;
    if (w[W_VALVE] === want) return;
    valve.write(want);
    const before = w[W_VALVE];
    w[W_VALVE] = want;
    w[W_VALVE_MOVED_S] = this.#rt.nowS();
    // After a cold start the position is re-asserted silently; a real move is reported.
    if (before >= 0) this.#alarm(want ? "valveClosed" : "valveOpened");
  }

  // ---- privacy mode ----

  /** Handles privacy mode switching on or off, and builds the noise table for a new ε. */
  #privacyMode(): void {
    const w = this.#w;
    const c = this.#config;
    const on = c.privacy === 1;
    if (on !== ((w[W_FLAGS] & F_PRIVACY) !== 0)) {
      // Volume counted under the other mode is never released exactly: both accumulators restart.
      w[W_FLAGS] ^= F_PRIVACY;
      w[W_VOL_ACC] = 0;
      w[W_HOUR_ACC] = 0;
      w[W_HOUR_KEY] = -1;
    }
    if (on && this.#noise.epsilonCenti !== c.epsilonCenti) {
      // Configuration time: the only floating-point arithmetic, once per ε (the table is retained).
      this.#noise.configure(c.epsilonCenti, PRIVACY_CAP_L);
    }
  }

  /** The hour's total, clamped to PRIVACY_CAP_L, in litres plus discrete Laplace noise; nothing else measured. */
  #privateReading(now: number): void {
    const w = this.#w;
    const flags = this.#flagWord();
    const litres = Math.min(PRIVACY_CAP_L, divRound(w[W_HOUR_ACC], 1000));
    const noisy = litres + this.#noise.sample(this.#random);
    const rec = this.#core(true);
    rec.volumeMl = (noisy < 0 ? 0 : noisy > PRIVACY_MAX_L ? PRIVACY_MAX_L : noisy) * 1000;
    rec.privacy = true;
    rec.valveState = this.#valveState();
    this.#send(rec, flags);
    this.#schedule.checked(now, true);
  }

  // ---- messages ----

  #reading(flags: number): void {
    const rec = this.#core(false);
    rec.valveState = this.#valveState();
    if (this.#hw.waterTempDeciC) {
      try {
        rec.waterTemperatureDeciC = this.#hw.waterTempDeciC();
      } catch (e) {
        this.#faults.record("waterTemperature", faultOf(e));
        // This reading reports it: sending it clears the faults since the last one, this fault included.
        rec.sensorFault = true;
      }
    }
    if (this.#send(rec, flags)) this.#w[W_VOL_ACC] = 0;
  }

  /** Submits a routine reading; on success starts the next reporting period of the flags. */
  #send(rec: IntRecord, flags: number): boolean {
    const rt = this.#rt;
    const n = encodeRecord(4, rec, this.#buf, 0, rt.link.maxPayload());
    if (n <= 0 || !rt.link.submit(4, this.#buf, n, "routine")) return false;
    const w = this.#w;
    w[W_LAST_FLAGS] = flags;
    w[W_LAST_DROPPED] = rt.link.dropped();
    this.#faults.sinceReport = 0;
    return true;
  }

  /**
   * Whether the flag word differs from the last reading's in a way worth a reading of its own: a clock just set
   * again is not (the next reading says so), or every daily resync would cost a reading besides its config ack.
   */
  #flagsNews(flags: number): boolean {
    const last = this.#w[W_LAST_FLAGS];
    if (last < 0) return true;
    return (flags & ~FW_CLOCK) !== (last & ~FW_CLOCK) || ((flags & FW_CLOCK) !== 0 && (last & FW_CLOCK) === 0);
  }

  /** The wall clock is unset, or was set longer than CLOCK_RESYNC_S ago (or before this state's cold start). */
  #clockStale(): boolean {
    const set = this.#w[W_CLOCK_SET_S];
    return this.#rt.unixS() < 0 || set < 0 || this.#rt.nowS() - set >= CLOCK_RESYNC_S;
  }

  #valveState(): number | undefined {
    if (!this.#hw.valve) return undefined;
    if (this.#overrideActive) return 2;
    const v = this.#w[W_VALVE];
    return v < 0 ? undefined : v;
  }

  /** Status bits of a reading, plus the states whose change makes a reading worth sending. */
  #flagWord(): number {
    const rt = this.#rt;
    const w = this.#w;
    const mv = rt.batteryMv();
    const valve = this.#valveState();
    return (this.#faults.sinceReport > 0 ? 1 : 0) | (mv !== undefined && mv < LOW_BATTERY_MV ? 2 : 0) |
      (rt.link.dropped() !== w[W_LAST_DROPPED] ? 4 : 0) | (this.#clockStale() ? FW_CLOCK : 0) |
      (this.#leak.active ? 16 : 0) | (w[W_FLAGS] & F_BURST ? 32 : 0) | ((valve === undefined ? 0 : valve + 1) << 6);
  }

  /** The core fields as they stand; in privacy mode flow, volume, total and night minimum are withheld. */
  #core(privacy: boolean): IntRecord {
    const rec = this.#rec;
    const w = this.#w;
    const flags = this.#flagWord();
    rec.flowMlMin = privacy || this.#flow < 0 ? undefined : this.#flow;
    rec.volumeMl = privacy ? undefined : w[W_VOL_ACC];
    rec.totalL = privacy ? undefined : w[W_TOTAL_L];
    rec.minNightFlowMlMin = privacy || !this.#night.nightMinAvailable ? undefined : this.#night.nightMinMlMin;
    rec.leak = this.#leak.active;
    rec.burst = (w[W_FLAGS] & F_BURST) !== 0;
    rec.batteryMv = this.#rt.batteryMv();
    rec.sensorFault = (flags & 1) !== 0;
    rec.lowBattery = (flags & 2) !== 0;
    rec.queueOverflow = (flags & 4) !== 0;
    rec.clockUnsynced = (flags & FW_CLOCK) !== 0;
    rec.waterTemperatureDeciC = undefined;
    rec.valveState = undefined;
    rec.privacy = undefined;
    rec.event = undefined;
    rec.ageS = undefined;
    return rec;
  }

  #alarm(event: string): void {
    const rt = this.#rt;
    const rec = this.#core(this.#config.privacy === 1);
    rec.event = WATER_EVENTS.indexOf(event);
    rec.ageS = 0;
    // 15 bytes: on a link that cannot carry them now (US915 DR0) the link layer has to raise the data rate.
    const n = encodeRecord(5, rec, this.#buf, 0, rt.link.maxPayload());
    if (n > 0) rt.link.submit(5, this.#buf, n, "alarm");
  }

  #status(now: number): void {
    const rt = this.#rt;
    const w = this.#w;
    const n = encodeStatus(this.#buf, "water", rt, this.#faults, this.#config, w[W_RESET_REASON], now - w[W_BOOT_S], rt.link.maxPayload());
    if (n > 0) rt.link.submit(10, this.#buf, n, "status");
    w[W_LAST_STATUS] = now;
    this.#statusWanted = false;
  }

  #downlinks(now: number): void {
    const rt = this.#rt;
    const c = this.#config;
    const e = this.#effects;
    for (let i = 0; i < MAX_DOWNLINKS; i++) {
      const d = rt.link.takeDownlink();
      if (!d) break;
      const seq = c.configSeq;
      const nightStart = c.nightStartH;
      const nightEnd = c.nightEndH;
      const leakFlow = c.leakFlowMlMin;
      const ack = this.#buf.subarray(0, Math.min(this.#buf.length, rt.link.maxPayload()));
      const n = applyDownlink(c, "water", d.port, d.bytes, ack, e, sinceArrivalS(d, now));
      if (n > 0) rt.link.submit(11, this.#buf, n, "ack");
      if (c.configSeq === seq) continue;
      // Applied. New thresholds take effect now (reconfiguring restarts the leak detector's run, so only then); a new
      // night window or bucket keeps the statistics gathered so far.
      if (e.settingsChanged) this.#leak.configure(this.#leakOptions());
      if (c.nightStartH !== nightStart || c.nightEndH !== nightEnd || c.leakFlowMlMin !== leakFlow) {
        const keep = new Int32Array(this.#night.stateWords);
        this.#night.save(keep, 0);
        this.#night = this.#nightMonitor();
        this.#night.load(keep, 0);
      }
      if (e.setTimeS >= 0) {
        rt.setUnixS(e.setTimeS);
        this.#w[W_CLOCK_SET_S] = now;
      }
      if (e.status) this.#statusWanted = true;
      if (e.rebootDelayS >= 0) this.#rebootAtS = now + e.rebootDelayS;
      // setValve: the command is in the configuration now; #driveValve moves the valve this wake.
    }
  }

  /** Writes the meter total to flash when it grew by FLASH_STEP_ML (or always, with `force`). */
  #flashTotal(force: boolean): void {
    const w = this.#w;
    const grown = (w[W_TOTAL_L] - w[W_FLASH_L]) * 1000 + (w[W_TOTAL_REM] - w[W_FLASH_REM]);
    if (grown === 0 || (!force && grown < FLASH_STEP_ML)) return;
    writeRecord(TOTAL_DOMAIN, TOTAL_KEY, Int32Array.of(w[W_TOTAL_L], w[W_TOTAL_REM]));
    w[W_FLASH_L] = w[W_TOTAL_L];
    w[W_FLASH_REM] = w[W_TOTAL_REM];
  }
}
