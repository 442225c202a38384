/**
 * The air-quality node: every wake it takes one CO2/T/RH single shot (SCD41)
 * and one particulate reading (SEN5x kept measuring through the MCU's deep
 * sleep, or a PMS5003 woken for its 30 s settling), filters them, computes the
 * US EPA AQI on the node, and decides what is worth sending: a routine reading
 * at the interval when something changed (or the heartbeat is due), an alarm
 * at once when CO2, the AQI category or a PM spike crosses its threshold.
 *
 * The PM sensor sits on a switched 5 V rail (`pmRail`), which the node keeps on
 * through deep sleep by holding its pin. A mains-powered node leaves the SEN5x
 * measuring all the time (`pmPeriodS` 0, the default), or sends a PMS5003 to
 * sleep by command between wakes. A battery node cannot afford either: the
 * SEN55 alone draws about 2.7 Ah a day. With `pmPeriodS` set, the node powers
 * the sensor for one reading per period: a short wake switches the rail on
 * (and starts a SEN5x), the node sleeps through the 30 s warm-up, and the next
 * wake, one of the 5-minute ones, reads it and switches the rail off. Between
 * readings its reports carry the last filtered PM. A SEN5x switched off never
 * runs long enough for its VOC/NOx indices (an hour) or its weekly fan
 * auto-cleaning, so those indices are not sent and the node starts the cleaning
 * itself once a week.
 */
import Timer from "timer";
import { Ewma, HysteresisDetector, TRANSITION_ENTERED, TRANSITION_CLEARED, usAqi, usAqiCategory, divRound } from "../../dsp/index.ts";
import { encodeRecord, type IntRecord } from "../../../../codecs/src/codec.ts";
import { AIR_EVENTS, RESET_REASONS } from "../../../../codecs/src/uplinks.ts";
import { SensorError } from "../../drivers/sensor-error.ts";
import type SCD41 from "../../drivers/scd41.ts";
import type SEN5x from "../../drivers/sen5x.ts";
import type { Sen5xSample } from "../../drivers/sen5x.ts";
import type PMS5003 from "../../drivers/pms5003.ts";
import { loadConfig, applyDownlink, alarmEnabled, type NodeConfig, type DownlinkEffects } from "../config.ts";
import { FaultCounters } from "../fault-counters.ts";
import { RetainedState } from "../retained-state.ts";
import { ReportSchedule } from "../report-schedule.ts";
import { encodeStatus, wireResetReason } from "../status.ts";
import type { NodeRuntime } from "../runtime.ts";
import { sinceArrivalS } from "../link-port.ts";
import type { PowerRail } from "../power-rail.ts";

/**
 * The sensors an air node may carry, as factories: the node opens them after
 * restoring its state (so it can tell the SEN5x driver the module is still
 * measuring), and a chip that fails to open is counted as a fault like any other.
 */
export interface AirHardware {
  /** `idle`: the last wake's single shot succeeded, so the chip is an idle SCD41 (the driver's `knownIdle`). */
  scd41?: (idle: boolean) => SCD41;
  sen5x?: (running: boolean) => SEN5x;
  /** The SEN5x model the build fits, as faults name it (default "sen55"): a start that fails never learns it from the chip. */
  sen5xName?: "sen55" | "sen66";
  pms5003?: () => PMS5003;
  /** The PM sensor's switched supply; absent on a board whose PM sensor is always powered. */
  pmRail?: PowerRail;
}

/** Build choices of an air node (the manifest's `config`). */
export interface AirOptions {
  /**
   * Seconds between PM readings with the PM sensor switched off between them (`pmPeriodS`, a battery
   * build: 300..86400); 0 or absent keeps it powered all the time (a mains build).
   */
  pmPeriodS?: number;
}

/** Seconds between wakes: one CO2 single shot (5 s at ~15 mA) every 5 min keeps the SCD41 near 0.5 mA average. */
export const AIR_WAKE_S = 300;
/** PM readings within this long of the SEN5x starting are excluded (fan spin-up, first frames). */
export const PM_WARMUP_S = 30;
/** VOC/NOx indices within this long of the SEN5x starting are excluded (the module's algorithms are still learning). */
export const GAS_WARMUP_S = 3600;
/** Time from switching the SEN5x's rail on to its idle state, ms (Sensirion-based drivers such as ESPHome's wait 1 s). */
export const SEN5X_POWER_UP_MS = 1000;
/** Shortest and longest `pmPeriodS` of a duty-cycled PM sensor, s: no shorter than a wake period, at least a reading a day. */
export const PM_PERIOD_MIN_S = AIR_WAKE_S;
export const PM_PERIOD_MAX_S = 86400;
/** A duty-cycled SEN5x's fan is cleaned this often (the module's own weekly cleaning needs it measuring for a week). */
export const PM_CLEAN_EVERY_S = 604800;
/** The SEN5x's fan cleaning lasts 10 s; the node waits a little longer before switching the rail off. */
const PM_CLEAN_MS = 10500;
/** A sensor failing this many wakes in a row raises a sensorFault alarm. */
export const FAULT_ALARM_AFTER = 3;
/** …and it is reported recovered after this many good wakes in a row (an hour), so a flaky sensor does not flap. */
export const RECOVER_AFTER = 12;
/** Routine readings are sent when a value moved at least this much since the last one sent. */
const DELTA_CO2_PPM = 50;
const DELTA_PM_DECI = 20;
const DELTA_T_DECI = 5;
const DELTA_RH_CENTI = 300;
const LOW_BATTERY_MV = 3300;
const STATUS_EVERY_S = 86400;

const LAYOUT = 0x41495201; // "AIR" v1
// Retained words, in order (see save/restore below).
const W_FLAGS = 0; // 2 scd warmed up, F_PM_ON, 8 scd fault alarm, 16 pm fault alarm, F_SCD_IDLE, F_RAIL
/** W_FLAGS: the PM sensor is running (a SEN5x measuring, or a duty-cycled PMS5003 powered) since W_PM_START. */
const F_PM_ON = 4;
/** W_FLAGS: the last wake's single shot succeeded, so the SCD41 is idle (it skips its 0.5 s reopening). */
const F_SCD_IDLE = 32;
/** W_FLAGS: the PM sensor's rail is on (held through the sleep). */
const F_RAIL = 64;
const W_PM_START = 1;
const W_LAST_STATUS = 2;
const W_BOOT_S = 3;
const W_REPORTED_CAT = 4;
const W_CAT_CANDIDATE = 5;
const W_CAT_COUNT = 6;
const W_LAST_CO2 = 7;
const W_LAST_PM25 = 8;
const W_LAST_PM10 = 9;
const W_LAST_T = 10;
const W_LAST_RH = 11;
const W_LAST_FLAGS = 12;
const W_FAIL_SCD = 13;
const W_FAIL_PM = 14;
const W_LAST_DROPPED = 15;
const W_RESET_REASON = 16;
/** Duty-cycled PM sensor: when its next reading is due, s. */
const W_PM_DUE = 17;
/** Duty-cycled SEN5x: when its fan was last cleaned, s. */
const W_PM_CLEANED = 18;
const W_FIXED = 19;

const NONE = -0x7fffffff;

/** One wake of the air node. Construct it fresh at every boot, then call `cycle()`. */
export class AirNode {
  readonly #hw: AirHardware;
  readonly #rt: NodeRuntime;
  readonly #config: NodeConfig;
  readonly #faults = new FaultCounters();
  readonly #schedule = new ReportSchedule();
  readonly #co2 = new Ewma(1);
  readonly #pm25: Ewma;
  readonly #pm10: Ewma;
  readonly #pmBaseline: Ewma;
  readonly #co2Alarm: HysteresisDetector;
  readonly #spike: HysteresisDetector;
  readonly #state: RetainedState;
  readonly #w: Int32Array;
  readonly #buf = new Uint8Array(51);
  readonly #effects: DownlinkEffects = { status: false, rebootDelayS: -1, setTimeS: -1, settingsChanged: false };
  #aqiPm25 = -1;
  #aqiPm10 = -1;
  #aqi = 0;
  #statusWanted = false;
  /** Seconds between readings of a duty-cycled PM sensor, or 0 when it is powered all the time. */
  readonly #pmPeriodS: number;
  /** Wake time of the reboot a downlink asked for, or −1. */
  rebootAtS = -1;

  constructor(hw: AirHardware, rt: NodeRuntime, resetReason: string, options: AirOptions = {}) {
    this.#hw = hw;
    this.#rt = rt;
    const p = options.pmPeriodS;
    this.#pmPeriodS = (hw.sen5x || hw.pms5003) && p !== undefined && Number.isInteger(p) && p >= PM_PERIOD_MIN_S && p <= PM_PERIOD_MAX_S ? p : 0;
    // The PM filters keep their time constants, not their weight per reading, when readings come less often than wakes.
    const shifts = pmFilterShifts(this.#pmPeriodS);
    this.#pm25 = new Ewma(shifts.pm);
    this.#pm10 = new Ewma(shifts.pm);
    this.#pmBaseline = new Ewma(shifts.baseline);
    this.#config = loadConfig("air");
    const c = this.#config;
    this.#co2Alarm = new HysteresisDetector({ high: c.co2Ppm, low: c.co2Ppm - c.co2HysteresisPpm, setCount: 2, clearCount: 2 });
    this.#spike = new HysteresisDetector({ high: c.pmSpikeDeciUgm3, low: c.pmSpikeDeciUgm3 >> 1, setCount: 1, clearCount: 2 });
    const words = W_FIXED + this.#faults.stateWords + ReportSchedule.stateWords + this.#co2.stateWords * 4 + this.#co2Alarm.stateWords * 2;
    this.#state = new RetainedState(LAYOUT, words);
    this.#w = this.#state.words;
    if (!this.#state.restore()) this.#coldStart(resetReason);
    else this.#load();
  }

  #coldStart(resetReason: string): void {
    const w = this.#w;
    w.fill(0);
    w[W_PM_START] = -1;
    w[W_LAST_STATUS] = -1;
    w[W_BOOT_S] = this.#rt.nowS();
    w[W_REPORTED_CAT] = -1;
    w[W_CAT_CANDIDATE] = -1;
    for (let i = W_LAST_CO2; i <= W_LAST_RH; i++) w[i] = NONE;
    w[W_LAST_FLAGS] = -1;
    w[W_RESET_REASON] = wireResetReason(resetReason);
    w[W_PM_DUE] = w[W_BOOT_S];
    w[W_PM_CLEANED] = w[W_BOOT_S];
  }

  /** Whether the PM sensor's rail should stay on through the coming sleep (`deepSleep`'s `hold`). */
  get railOn(): boolean {
    return (this.#w[W_FLAGS] & F_RAIL) !== 0;
  }

  #load(): void {
    let at = W_FIXED;
    at = this.#faults.load(this.#w, at);
    at = this.#schedule.load(this.#w, at);
    at = this.#co2.load(this.#w, at);
    at = this.#pm25.load(this.#w, at);
    at = this.#pm10.load(this.#w, at);
    at = this.#pmBaseline.load(this.#w, at);
    at = this.#co2Alarm.load(this.#w, at);
    this.#spike.load(this.#w, at);
    this.#w[W_RESET_REASON] = RESET_REASONS.indexOf("deepSleepWake");
  }

  #save(): void {
    let at = W_FIXED;
    at = this.#faults.save(this.#w, at);
    at = this.#schedule.save(this.#w, at);
    at = this.#co2.save(this.#w, at);
    at = this.#pm25.save(this.#w, at);
    at = this.#pm10.save(this.#w, at);
    at = this.#pmBaseline.save(this.#w, at);
    at = this.#co2Alarm.save(this.#w, at);
    this.#spike.save(this.#w, at);
    this.#state.keep();
  }

  /** Runs one wake; returns the milliseconds to sleep. */
  cycle(): number {
    const rt = this.#rt;
    const w = this.#w;
    const now = rt.nowS();
    this.#downlinks(now);
    const duty = this.#pmPeriodS > 0;
    // A duty-cycled PM sensor whose reading is due within a warm-up: this wake only starts it, then sleeps through the warm-up.
    // It still flushes: the link writes back the downlinks it has handed over, and sends their acks.
    if (duty && (w[W_FLAGS] & F_PM_ON) === 0 && now + PM_WARMUP_S >= w[W_PM_DUE] && this.#startPm(now)) {
      rt.link.flush();
      this.#save();
      return PM_WARMUP_S * 1000;
    }

    // Measure: the PM sensor first, so that a duty-cycled sensor's rail is off before the 5 s CO2 shot.
    let pm: Sen5xSample | undefined;
    // A duty-cycled sensor is read once its warm-up is over; a wake before that (a downlink's) leaves it warming.
    const readPm = !duty || ((w[W_FLAGS] & F_PM_ON) !== 0 && now - w[W_PM_START] >= PM_WARMUP_S);
    const readSen = this.#hw.sen5x !== undefined && readPm;
    let sen: SEN5x | undefined;
    // On a duty-cycled rail it is on already: a mains node switches it on at its first wake.
    if (readPm) this.#railUp();
    if (readSen) {
      try {
        sen = this.#hw.sen5x!((w[W_FLAGS] & F_PM_ON) !== 0);
        if ((w[W_FLAGS] & F_PM_ON) === 0) w[W_PM_START] = now;
        w[W_FLAGS] |= F_PM_ON;
        pm = this.#readSen5x(sen);
        this.#sensorOk(W_FAIL_PM);
      } catch (e) {
        // After a failure the module's state is unknown: restart it (and its warm-up) next time.
        w[W_FLAGS] &= ~F_PM_ON;
        this.#sensorFailed(W_FAIL_PM, this.#sen5xName(sen), e);
      }
    } else if (this.#hw.pms5003 && readPm) {
      try {
        pm = this.#readPms(this.#hw.pms5003(), duty ? now - w[W_PM_START] : -1);
        this.#sensorOk(W_FAIL_PM);
      } catch (e) {
        this.#sensorFailed(W_FAIL_PM, "pms5003", e);
      }
    }
    if (duty && readPm) this.#pmDone(now, sen);

    let co2: number | undefined;
    let tDeci: number | undefined;
    let rhCenti: number | undefined;
    if (this.#hw.scd41) {
      try {
        const s = this.#hw.scd41((w[W_FLAGS] & F_SCD_IDLE) !== 0).measureSingleShot();
        // Sensirion: discard the first single shot after power-up.
        if (w[W_FLAGS] & 2) {
          co2 = s.co2Ppm;
          tDeci = s.temperatureDeciC;
          rhCenti = s.humidityCentiPct;
        }
        w[W_FLAGS] |= 2 | F_SCD_IDLE;
        this.#sensorOk(W_FAIL_SCD);
      } catch (e) {
        // Its state is unknown after a failure: the next wake opens it from scratch.
        w[W_FLAGS] &= ~F_SCD_IDLE;
        this.#sensorFailed(W_FAIL_SCD, "scd41", e);
      }
    }
    // What the SEN5x adds: T/RH when the SCD41 gave none, CO2 from a SEN66 past its warm-up.
    const warm = now - w[W_PM_START] >= PM_WARMUP_S;
    if (readSen && pm) {
      if (tDeci === undefined) tDeci = pm.temperatureDeciC;
      if (rhCenti === undefined) rhCenti = pm.humidityCentiPct;
      if (co2 === undefined && pm.co2Ppm !== undefined && warm) co2 = pm.co2Ppm;
      if (!warm) pm = undefined;
    }

    // Filter.
    const c = this.#config;
    let co2f: number | undefined;
    if (co2 !== undefined) co2f = this.#co2.update(co2);
    let pm25f: number | undefined;
    let pm10f: number | undefined;
    // Between a duty-cycled sensor's readings the reports carry its last filtered PM (a failed reading carries none).
    if (duty && !readPm) {
      if (this.#pm25.primed) pm25f = this.#pm25.value;
      if (this.#pm10.primed) pm10f = this.#pm10.value;
    }
    if (pm && pm.pm25DeciUgm3 !== undefined) {
      pm25f = this.#pm25.update(pm.pm25DeciUgm3);
      const base = this.#pmBaseline.primed ? this.#pmBaseline.value : pm.pm25DeciUgm3;
      const t = this.#spike.update(pm.pm25DeciUgm3 - base);
      if (alarmEnabled(c, "pmSpike")) {
        if (t === TRANSITION_ENTERED) this.#alarm("pmSpike", co2f, pm25f, pm10f, tDeci, rhCenti);
        else if (t === TRANSITION_CLEARED) this.#alarm("pmNormal", co2f, pm25f, pm10f, tDeci, rhCenti);
      }
      // The baseline follows only quiet air, so a long episode does not become the new normal.
      if (!this.#spike.active) this.#pmBaseline.update(pm.pm25DeciUgm3);
    }
    if (pm && pm.pm10DeciUgm3 !== undefined) pm10f = this.#pm10.update(pm.pm10DeciUgm3);

    // Decide: CO2 threshold with hysteresis.
    if (co2f !== undefined) {
      const t = this.#co2Alarm.update(co2f);
      if (alarmEnabled(c, "co2")) {
        if (t === TRANSITION_ENTERED) this.#alarm("co2High", co2f, pm25f, pm10f, tDeci, rhCenti);
        else if (t === TRANSITION_CLEARED) this.#alarm("co2Normal", co2f, pm25f, pm10f, tDeci, rhCenti);
      }
    }
    // AQI category change, debounced over two readings.
    if (pm && pm25f !== undefined && pm10f !== undefined) {
      const cat = usAqiCategory(this.#aqiOf(pm25f, pm10f));
      if (cat === w[W_REPORTED_CAT]) w[W_CAT_COUNT] = 0;
      else if (w[W_REPORTED_CAT] < 0) w[W_REPORTED_CAT] = cat;
      else {
        if (cat === w[W_CAT_CANDIDATE]) w[W_CAT_COUNT]++;
        else {
          w[W_CAT_CANDIDATE] = cat;
          w[W_CAT_COUNT] = 1;
        }
        if (w[W_CAT_COUNT] >= 2) {
          const was = w[W_REPORTED_CAT];
          w[W_REPORTED_CAT] = cat;
          w[W_CAT_COUNT] = 0;
          if (alarmEnabled(c, "aqi") && (cat >= c.aqiAlarmCategory || was >= c.aqiAlarmCategory)) {
            this.#alarm("aqiCategoryChange", co2f, pm25f, pm10f, tDeci, rhCenti);
          }
        }
      }
      // A duty-cycled PM sensor confirms a change that would alarm at the next wake, not a period later.
      if (duty && w[W_CAT_COUNT] > 0 && alarmEnabled(c, "aqi") && (w[W_CAT_CANDIDATE] >= c.aqiAlarmCategory || w[W_REPORTED_CAT] >= c.aqiAlarmCategory)) {
        if (w[W_PM_DUE] > now + AIR_WAKE_S) w[W_PM_DUE] = now + AIR_WAKE_S;
      }
    }

    // Routine reading.
    if (this.#schedule.intervalDue(now, c.intervalS)) {
      const flags = this.#flags();
      const changed =
        moved(co2f, w[W_LAST_CO2], DELTA_CO2_PPM) || moved(pm25f, w[W_LAST_PM25], DELTA_PM_DECI) ||
        moved(pm10f, w[W_LAST_PM10], DELTA_PM_DECI) || moved(tDeci, w[W_LAST_T], DELTA_T_DECI) ||
        moved(rhCenti, w[W_LAST_RH], DELTA_RH_CENTI) || flags !== w[W_LAST_FLAGS];
      const send = changed || this.#schedule.heartbeatDue(now, c.heartbeatS);
      if (send) {
        const rec = this.#record(co2f, pm25f, pm10f, tDeci, rhCenti, flags);
        const gasOk = pm && now - w[W_PM_START] >= GAS_WARMUP_S;
        rec.pm1DeciUgm3 = pm ? pm.pm1DeciUgm3 : undefined;
        rec.pm4DeciUgm3 = pm ? pm.pm4DeciUgm3 : undefined;
        rec.vocIndex = gasOk ? pm!.vocIndex : undefined;
        rec.noxIndex = gasOk ? pm!.noxIndex : undefined;
        const n = encodeRecord(1, rec, this.#buf, 0, rt.link.maxPayload());
        if (n > 0) rt.link.submit(1, this.#buf, n, "routine");
        w[W_LAST_CO2] = co2f ?? NONE;
        w[W_LAST_PM25] = pm25f ?? NONE;
        w[W_LAST_PM10] = pm10f ?? NONE;
        w[W_LAST_T] = tDeci ?? NONE;
        w[W_LAST_RH] = rhCenti ?? NONE;
        w[W_LAST_FLAGS] = flags;
        this.#faults.sinceReport = 0;
        w[W_LAST_DROPPED] = rt.link.dropped();
      }
      this.#schedule.checked(now, send);
    }

    if (this.#statusWanted || w[W_LAST_STATUS] < 0 || now - w[W_LAST_STATUS] >= STATUS_EVERY_S) this.#status(now);

    rt.link.flush();
    this.#save();
    if (this.rebootAtS >= 0) return Math.max(1, this.rebootAtS - now) * 1000;
    if (duty) return this.#dutySleepS(now) * 1000;
    return AIR_WAKE_S * 1000;
  }

  /** The sleep after a wake of a duty-cycled node: to the end of a warm-up, to the wake that starts the next one, or a wake period. */
  #dutySleepS(now: number): number {
    const w = this.#w;
    if (w[W_FLAGS] & F_PM_ON) return Math.max(1, w[W_PM_START] + PM_WARMUP_S - now);
    const start = w[W_PM_DUE] - PM_WARMUP_S - now;
    return Math.max(1, Math.min(AIR_WAKE_S, start));
  }

  /** Switches the PM sensor's rail on if it is off, and waits for a SEN5x's power-up (a PMS5003 is heard when it starts sending). */
  #railUp(): void {
    const rail = this.#hw.pmRail;
    if (!rail || this.#w[W_FLAGS] & F_RAIL) return;
    rail.on();
    this.#w[W_FLAGS] |= F_RAIL;
    // A freshly powered module is idle: the driver opens it as such and starts it.
    this.#w[W_FLAGS] &= ~F_PM_ON;
    if (this.#hw.sen5x) Timer.delay(SEN5X_POWER_UP_MS);
  }

  #railDown(): void {
    const w = this.#w;
    if (this.#hw.pmRail && w[W_FLAGS] & F_RAIL) this.#hw.pmRail.off();
    w[W_FLAGS] &= ~(F_RAIL | F_PM_ON);
  }

  /**
   * Powers a duty-cycled PM sensor and starts it measuring (a PMS5003 starts streaming by itself at power-up);
   * false (the failure counted, the rail off) when a SEN5x does not answer.
   */
  #startPm(now: number): boolean {
    const w = this.#w;
    this.#railUp();
    try {
      if (this.#hw.sen5x) this.#hw.sen5x(false);
      w[W_PM_START] = now;
      w[W_FLAGS] |= F_PM_ON;
      return true;
    } catch (e) {
      this.#sensorFailed(W_FAIL_PM, this.#sen5xName(undefined), e);
      this.#railDown();
      this.#nextPmDue(now);
      return false;
    }
  }

  /** After a duty-cycled sensor's reading: a SEN5x's weekly fan cleaning when due, then the rail off until the next. */
  #pmDone(now: number, sen: SEN5x | undefined): void {
    const w = this.#w;
    if (sen && w[W_FLAGS] & F_PM_ON && now - w[W_PM_CLEANED] >= PM_CLEAN_EVERY_S) {
      try {
        sen.startFanCleaning();
        Timer.delay(PM_CLEAN_MS);
        w[W_PM_CLEANED] = now;
      } catch (e) {
        this.#sensorFailed(W_FAIL_PM, this.#sen5xName(sen), e);
      }
    }
    this.#railDown();
    this.#nextPmDue(now);
  }

  /** The next reading one period after the last one due, or a period from now when the node fell behind. */
  #nextPmDue(now: number): void {
    const w = this.#w;
    w[W_PM_DUE] += this.#pmPeriodS;
    if (w[W_PM_DUE] <= now) w[W_PM_DUE] = now + this.#pmPeriodS;
  }

  #readSen5x(sen: SEN5x): Sen5xSample | undefined {
    // First data arrives ~1 s after a start, then at 1 Hz; wait at most 2 s for a fresh reading.
    for (let i = 0; i < 20; i++) {
      const s = sen.sample();
      if (s) return s;
      if (sen.status().cleaningActive) return undefined; // fan cleaning: no data by design, not a fault
      Timer.delay(100);
    }
    throw new SensorError("timeout", "SEN5x: no data ready within 2 s");
  }

  /**
   * One PMS5003 reading. `poweredS` < 0: the sensor sleeps between wakes, so wake it, wait out its settling and
   * send it back to sleep. Otherwise it was powered that long ago (a duty-cycled rail, switched off after).
   */
  #readPms(pms: PMS5003, poweredS: number): Sen5xSample | undefined {
    if (poweredS < 0) pms.wake();
    // Plantower: data are stable 30 s after power-up or wake; wait it out rather than send unsettled values.
    else pms.configure({ settleMs: Math.max(0, (PM_WARMUP_S - poweredS) * 1000) });
    while (pms.settling) Timer.delay(1000);
    const s = pms.sample();
    if (poweredS < 0) pms.sleep();
    return s ? { pm1DeciUgm3: s.pm1DeciUgm3, pm25DeciUgm3: s.pm25DeciUgm3, pm10DeciUgm3: s.pm10DeciUgm3 } : undefined;
  }

  // Per sensor slot: > 0 consecutive failing wakes; < 0 consecutive good wakes while a fault alarm is active.
  // The alarm bit (8 << slot offset) is set from the sensorFault alarm until sensorRecovered.
  #sensorOk(slot: number): void {
    const w = this.#w;
    const bit = 8 << (slot - W_FAIL_SCD);
    if (w[W_FLAGS] & bit) {
      w[slot] = w[slot] > 0 ? -1 : w[slot] - 1;
      if (-w[slot] >= RECOVER_AFTER) {
        w[W_FLAGS] &= ~bit;
        w[slot] = 0;
        if (alarmEnabled(this.#config, "sensorFault")) this.#alarm("sensorRecovered", undefined, undefined, undefined, undefined, undefined);
      }
    } else w[slot] = 0;
  }

  /** The SEN5x as faults name it: the chip's own answer when the driver opened, else the model the build fits. */
  #sen5xName(sen: SEN5x | undefined): string {
    if (sen) return sen.model === "SEN66" ? "sen66" : "sen55";
    return this.#hw.sen5xName ?? "sen55";
  }

  #sensorFailed(slot: number, name: string, e: unknown): void {
    const w = this.#w;
    const fault = e instanceof SensorError ? e.fault : "nack";
    this.#faults.record(name, fault);
    const bit = 8 << (slot - W_FAIL_SCD);
    w[slot] = w[slot] > 0 ? w[slot] + 1 : 1;
    if (!(w[W_FLAGS] & bit) && w[slot] >= FAULT_ALARM_AFTER) {
      w[W_FLAGS] |= bit;
      if (alarmEnabled(this.#config, "sensorFault")) this.#alarm("sensorFault", undefined, undefined, undefined, undefined, undefined);
    }
  }

  #flags(): number {
    const mv = this.#rt.batteryMv();
    return (this.#faults.sinceReport > 0 ? 1 : 0) | (mv !== undefined && mv < LOW_BATTERY_MV ? 2 : 0) |
      (this.#rt.link.dropped() !== this.#w[W_LAST_DROPPED] ? 4 : 0) | (this.#rt.unixS() < 0 ? 8 : 0);
  }

  /** US AQI of (pm25, pm10) deci-µg/m³, kept for the pair last asked: a wake's category check and its records ask for the same one. */
  #aqiOf(pm25: number, pm10: number): number {
    if (pm25 !== this.#aqiPm25 || pm10 !== this.#aqiPm10) {
      this.#aqiPm25 = pm25;
      this.#aqiPm10 = pm10;
      this.#aqi = usAqi(pm25, pm10);
    }
    return this.#aqi;
  }

  #record(co2: number | undefined, pm25: number | undefined, pm10: number | undefined, tDeci: number | undefined, rhCenti: number | undefined, flags = this.#flags()): IntRecord {
    const aqi = pm25 !== undefined && pm10 !== undefined ? this.#aqiOf(pm25, pm10) : undefined;
    return {
      co2Ppm: co2,
      pm25DeciUgm3: pm25,
      pm10DeciUgm3: pm10,
      temperatureDeciC: tDeci,
      humidityHalfPct: rhCenti === undefined ? undefined : divRound(rhCenti, 50),
      aqi,
      aqiCategory: aqi === undefined ? undefined : usAqiCategory(aqi),
      batteryMv: this.#rt.batteryMv(),
      sensorFault: (flags & 1) !== 0,
      lowBattery: (flags & 2) !== 0,
      queueOverflow: (flags & 4) !== 0,
      clockUnsynced: (flags & 8) !== 0,
    };
  }

  #alarm(event: string, co2: number | undefined, pm25: number | undefined, pm10: number | undefined, tDeci: number | undefined, rhCenti: number | undefined): void {
    const rec = this.#record(co2, pm25, pm10, tDeci, rhCenti);
    rec.event = AIR_EVENTS.indexOf(event);
    rec.ageS = 0;
    const n = encodeRecord(2, rec, this.#buf, 0, 51);
    if (n > 0) this.#rt.link.submit(2, this.#buf, n, "alarm");
  }

  #status(now: number): void {
    const n = encodeStatus(this.#buf, "air", this.#rt, this.#faults, this.#config, this.#w[W_RESET_REASON], now - this.#w[W_BOOT_S], this.#rt.link.maxPayload());
    if (n > 0) this.#rt.link.submit(10, this.#buf, n, "status");
    this.#w[W_LAST_STATUS] = now;
  }

  #downlinks(now: number): void {
    const rt = this.#rt;
    for (let d = rt.link.takeDownlink(); d; d = rt.link.takeDownlink()) {
      const n = applyDownlink(this.#config, "air", d.port, d.bytes, this.#buf, this.#effects, sinceArrivalS(d, now));
      rt.link.submit(11, this.#buf, n, "ack");
      // Reconfiguring restarts the detectors' debounce runs: only for a command that changed settings (not a setTime).
      if (this.#effects.settingsChanged) this.#thresholds();
      if (this.#effects.setTimeS >= 0) rt.setUnixS(this.#effects.setTimeS);
      if (this.#effects.rebootDelayS >= 0) this.rebootAtS = now + this.#effects.rebootDelayS;
      if (this.#effects.status) this.#statusWanted = true;
    }
  }

  /** Re-reads thresholds after a downlink changed them (configure restarts debounce counts, so only then). */
  #thresholds(): void {
    const c = this.#config;
    this.#co2Alarm.configure({ high: c.co2Ppm, low: c.co2Ppm - c.co2HysteresisPpm, setCount: 2, clearCount: 2 });
    this.#spike.configure({ high: c.pmSpikeDeciUgm3, low: c.pmSpikeDeciUgm3 >> 1, setCount: 1, clearCount: 2 });
  }
}

/**
 * EWMA shifts of the PM filters for readings every `periodS` (0: every wake). At a wake period, α = ½ for
 * the reported PM (about 7 minutes) and α = 1/16 for the spike baseline (about 80 minutes). Readings further
 * apart keep the time constants rather than the weights: the baseline's weight doubles per whole doubling of
 * the period (so its time constant never falls below 80 minutes, and a slow episode is not absorbed into it),
 * and from 10 minutes apart a reading is reported unsmoothed. The month's 267 air nodes at 900 s: 346 of 415
 * unhealthy-AQI episodes (287 with the per-reading weights), 282 of 292 spikes (291).
 */
export function pmFilterShifts(periodS: number): { pm: number; baseline: number } {
  let baseline = 4;
  for (let r = Math.floor(periodS / AIR_WAKE_S); r >= 2 && baseline > 1; r >>= 1) baseline--;
  return { pm: periodS >= 2 * AIR_WAKE_S ? 0 : 1, baseline };
}

function moved(value: number | undefined, last: number, delta: number): boolean {
  if (value === undefined) return last !== NONE;
  if (last === NONE) return true;
  return Math.abs(value - last) >= delta;
}
