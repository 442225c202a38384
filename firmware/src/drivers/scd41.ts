/**
 * Sensirion SCD41 (SCD40 for the periodic modes): CO2, temperature and humidity
 * over I2C at 0x62, as an ECMA-419 sensor class.
 *
 * Sample shape (choice of units): integers, because XS on the ESP32 has no
 * double-precision FPU and the codecs carry integers:
 *   co2Ppm            CO2 in ppm (absent in "single-shot-rht" mode, which does not measure CO2)
 *   temperatureMilliC m°C, Sensirion's integer formula `((21875·w) >> 13) − 45000` (truncates)
 *   humidityMilliPct  m%RH, `(12500·w) >> 13` (truncates)
 *   temperatureDeciC  0.1 °C, rounded to nearest from the raw word (what the codecs send)
 *   humidityCentiPct  0.01 %RH, rounded to nearest from the raw word (same unit as the SEN5x)
 * ECMA-419's classes use floats (CarbonDioxideGasSensor `CO2` ppm, Temperature
 * `temperature` °C, Humidity `humidity` %); `ecma419: true` adds them as the spec's
 * compound properties `carbonDioxideGasSensor`, `thermometer`, `hygrometer`, at the
 * cost of three objects and float divisions per sample.
 *
 * Protocol rules the driver keeps: every word read is CRC-checked (a mismatch throws
 * `SensorError("crc")`, never a reading); each command's execution time is waited
 * out before the next transfer (the chip NACKs while busy); commands that are only
 * accepted while idle are wrapped in stop (500 ms) … restart, so configuring a running
 * sensor costs a restart and the next periodic reading comes 5 s later.
 */
import Timer from "timer";
import Time from "time";
import { SensorError } from "./sensor-error.ts";
import { putWord, sensirionCrc8 } from "./sensirion-crc.ts";
import { initOrRelease } from "./bus-handle.ts";

/** An ECMA-419 I2C instance, as much of it as the driver uses. */
export interface I2CInstance {
  write(buffer: ArrayBuffer | ArrayBufferView, stop?: boolean): void;
  read(buffer: ArrayBufferView, stop?: boolean): unknown;
  close(): void;
}

/** Options handed to the I2C constructor. */
export interface I2COpenOptions {
  address: number;
  hz: number;
  /** SDA and SCL pins: Moddable's ESP32 I2C requires both. */
  data: number;
  clock: number;
  port?: number;
}

/** The ECMA-419 I2C IO class (`device.io.I2C`, or the simulator's stand-in). */
export type I2CConstructor = new (options: I2COpenOptions) => I2CInstance;

/** How `sample()` obtains readings. */
export type Scd41Mode = "periodic" | "low-power" | "single-shot" | "single-shot-rht" | "idle";

/** The `sensor` IO bag: the I2C class plus its pins and address (default 0x62, 100 kHz). */
export interface Scd41SensorBag {
  io: I2CConstructor;
  address?: number;
  hz?: number;
  data: number;
  clock: number;
  port?: number;
}

/** Settings `configure()` accepts; omitted ones are left as they are. */
export interface Scd41Configuration {
  /** Measurement mode (default "periodic": a reading every 5 s; "low-power": every 30 s). */
  mode?: Scd41Mode;
  /** Temperature offset in m°C, 0..20000 recommended (chip default 4000); idle-only, so a running sensor restarts. */
  temperatureOffsetMilliC?: number;
  /** Altitude in m above sea level, 0..3000; idle-only. */
  altitudeM?: number;
  /** Ambient pressure in hPa, 700..1200; accepted while measuring (overrides altitude). */
  ambientPressureHpa?: number;
  /** Automatic self-calibration on/off; idle-only. */
  asc?: boolean;
  /** Throw `SensorError("stuck")` once this many consecutive readings are bit-identical (0 disables; default 10). */
  stuckAfter?: number;
  /** Also return ECMA-419 compound properties (floats). */
  ecma419?: boolean;
}

/** Constructor options: the IO bag plus any initial configuration. */
export interface Scd41Options extends Scd41Configuration {
  sensor: Scd41SensorBag;
  /**
   * The chip is known to be an idle SCD41 (it finished a single shot at the
   * last wake and kept its supply, e.g. the app's RTC state says so): skip
   * the wake-up, the 500 ms stop and the variant read that opening a chip in
   * an unknown state takes. Only for the single-shot modes.
   */
  knownIdle?: boolean;
}

/** One reading (see the file comment for units). */
export interface Scd41Sample {
  co2Ppm?: number;
  temperatureMilliC: number;
  humidityMilliPct: number;
  temperatureDeciC: number;
  humidityCentiPct: number;
  carbonDioxideGasSensor?: { CO2: number };
  thermometer?: { temperature: number };
  hygrometer?: { humidity: number };
}

// Command codes and execution times (ms), from the SCD4x datasheet.
const START_PERIODIC = 0x21b1;
const START_LOW_POWER = 0x21ac;
const READ_MEASUREMENT = 0xec05;
const STOP_PERIODIC = 0x3f86;
const GET_DATA_READY = 0xe4b8;
const SET_TEMPERATURE_OFFSET = 0x241d;
const GET_TEMPERATURE_OFFSET = 0x2318;
const SET_ALTITUDE = 0x2427;
const GET_ALTITUDE = 0x2322;
const AMBIENT_PRESSURE = 0xe000;
const FORCED_RECALIBRATION = 0x362f;
const SET_ASC = 0x2416;
const GET_ASC = 0x2313;
const PERSIST_SETTINGS = 0x3615;
const GET_SERIAL = 0x3682;
const SELF_TEST = 0x3639;
const MEASURE_SINGLE_SHOT = 0x219d;
const MEASURE_SINGLE_SHOT_RHT = 0x2196;
const GET_VARIANT = 0x202f;
const POWER_DOWN = 0x36e0;
const WAKE_UP = 0x36f6;

const STOP_MS = 500;
const SHORT_MS = 1;
const FRC_MS = 400;
const PERSIST_MS = 800;
const SELF_TEST_MS = 10000;
const SINGLE_SHOT_MS = 5000;
const SINGLE_SHOT_RHT_MS = 50;
const WAKE_MS = 30;
/** A single shot that is still not ready this long after its nominal time is reported as a timeout. */
const SHOT_GRACE_MS = 10000;
/** Output range of the CO2 channel; anything above is not a measurement. */
const CO2_MAX_PPM = 40000;

/** SCD41 driver (ECMA-419 sensor class pattern). */
export default class SCD41 {
  #io: I2CInstance | undefined;
  #mode: Scd41Mode = "periodic";
  /** What the chip is doing on its own: a periodic mode, or undefined when idle. */
  #running: "periodic" | "low-power" | undefined;
  #asleep = false;
  /** Ticks at which an in-flight single shot completes, or -1. */
  #shotReadyAt = -1;
  #variant = 0;
  #stuckAfter = 10;
  #sameCount = 0;
  #last0 = -1;
  #last1 = -1;
  #last2 = -1;
  #ecma419 = false;
  // Preallocated transfer buffers: the sample path allocates only the returned object.
  readonly #cmd = new Uint8Array(2);
  readonly #cmdArg = new Uint8Array(5);
  readonly #rx3 = new Uint8Array(3);
  readonly #rx9 = new Uint8Array(9);

  constructor(options: Scd41Options) {
    const bag = options.sensor;
    this.#io = new bag.io({
      address: bag.address ?? 0x62,
      hz: bag.hz ?? 100000,
      data: bag.data,
      clock: bag.clock,
      port: bag.port,
    });
    initOrRelease(this.#io, () => this.#init(options));
  }

  #init(options: Scd41Options): void {
    const shots = options.mode === "single-shot" || options.mode === "single-shot-rht";
    if (options.knownIdle && shots) {
      // An SCD41 that measured at the last wake: its single shot proved the variant, and it has been idle since.
      this.#variant = 1;
    } else {
      // After an MCU reset the chip may be asleep (power_down) or still measuring:
      // wake it (wake_up is never acknowledged, so its NACK means nothing), then stop.
      try {
        this.#io?.write(this.#commandBytes(WAKE_UP));
      } catch {
        // expected: the SCD4x does not ACK wake_up
      }
      Timer.delay(WAKE_MS);
      this.#command(STOP_PERIODIC, STOP_MS);
      this.#variant = this.#readWord(GET_VARIANT, SHORT_MS) >> 12;
    }
    this.configure({ mode: "periodic", ...options });
  }

  /** Chip variant from get_sensor_variant bits 15–12: 0 SCD40, 1 SCD41 (2, 5: SCD42, SCD43). */
  get variant(): number {
    return this.#variant;
  }

  /** Current measurement mode. */
  get mode(): Scd41Mode {
    return this.#mode;
  }

  /** Applies settings, stopping and restarting periodic measurement around idle-only commands. */
  configure(options: Scd41Configuration = {}): void {
    if (options.stuckAfter !== undefined) this.#stuckAfter = options.stuckAfter;
    if (options.ecma419 !== undefined) this.#ecma419 = options.ecma419;
    const mode = options.mode ?? this.#mode;
    if ((mode === "single-shot" || mode === "single-shot-rht") && this.#variant === 0) {
      throw new SensorError("id", "SCD40 has no single-shot mode");
    }
    const offset = options.temperatureOffsetMilliC;
    const altitude = options.altitudeM;
    const pressure = options.ambientPressureHpa;
    if (offset !== undefined && !(Number.isInteger(offset) && offset >= 0 && offset <= 175000)) throw new RangeError("temperatureOffsetMilliC out of range");
    if (altitude !== undefined && !(Number.isInteger(altitude) && altitude >= 0 && altitude <= 3000)) throw new RangeError("altitudeM out of range");
    if (pressure !== undefined && !(Number.isInteger(pressure) && pressure >= 700 && pressure <= 1200)) throw new RangeError("ambientPressureHpa out of range");
    const idleWork = offset !== undefined || altitude !== undefined || options.asc !== undefined || mode !== this.#mode || !this.#modeStarted();
    if ((idleWork || pressure !== undefined) && this.#asleep) throw new SensorError("busy", "SCD41 is powered down: call wakeUp() first");
    if (idleWork) {
      this.#enterIdle();
      // word = offset · 65535 / 175 (rounded): configuration path, so a division is fine here.
      if (offset !== undefined) this.#commandArg(SET_TEMPERATURE_OFFSET, ((offset * 65535 + 87500) / 175000) | 0, SHORT_MS);
      if (altitude !== undefined) this.#commandArg(SET_ALTITUDE, altitude, SHORT_MS);
      if (options.asc !== undefined) this.#commandArg(SET_ASC, options.asc ? 1 : 0, SHORT_MS);
      this.#mode = mode;
      this.#shotReadyAt = -1;
      this.#sameCount = 0;
      if (!this.#asleep) this.#startMode();
    }
    if (pressure !== undefined) this.#commandArg(AMBIENT_PRESSURE, pressure, SHORT_MS);
  }

  /** A fresh reading, or undefined when none is ready (periodic: not yet; single shot: started or in progress). */
  sample(): Scd41Sample | undefined {
    if (this.#asleep) return undefined;
    const mode = this.#mode;
    if (mode === "periodic" || mode === "low-power") {
      if (!this.dataReady()) return undefined;
      return this.#readMeasurement(false);
    }
    if (mode === "single-shot" || mode === "single-shot-rht") {
      const rht = mode === "single-shot-rht";
      if (this.#shotReadyAt < 0) {
        this.#startShot(rht);
        // An RHT-only shot takes 50 ms, worth waiting for; a full one takes 5 s: come back later.
        if (!rht) return undefined;
        Timer.delay(SINGLE_SHOT_RHT_MS);
      }
      const late = Time.ticks - this.#shotReadyAt;
      if (late < 0) return undefined;
      if (!this.dataReady()) {
        if (late > SHOT_GRACE_MS) {
          this.#shotReadyAt = -1;
          throw new SensorError("timeout", "single shot never became ready");
        }
        return undefined;
      }
      this.#shotReadyAt = -1;
      return this.#readMeasurement(rht);
    }
    return undefined;
  }

  /** Polls get_data_ready_status: true when a reading waits in the chip's buffer. */
  dataReady(): boolean {
    return (this.#readWord(GET_DATA_READY, SHORT_MS) & 0x07ff) !== 0;
  }

  /** Reads the buffered measurement (the chip NACKs, and this throws "nack", when none is pending). */
  readMeasurement(): Scd41Sample {
    return this.#readMeasurement(this.#mode === "single-shot-rht");
  }

  /** Blocking single shot: idles the chip, measures (5 s, or 50 ms RHT-only) and returns the reading. */
  measureSingleShot(rhtOnly = false): Scd41Sample {
    if (this.#variant === 0) throw new SensorError("id", "SCD40 has no single-shot mode");
    return this.#idle(() => {
      this.#startShot(rhtOnly);
      Timer.delay(rhtOnly ? SINGLE_SHOT_RHT_MS : SINGLE_SHOT_MS);
      this.#shotReadyAt = -1;
      return this.#readMeasurement(rhtOnly);
    });
  }

  /** Starts periodic measurement (same as `configure({ mode: "periodic" })`). */
  startPeriodic(): void {
    this.configure({ mode: "periodic" });
  }

  /** Starts low-power periodic measurement (a reading every 30 s). */
  startLowPowerPeriodic(): void {
    this.configure({ mode: "low-power" });
  }

  /** Stops measuring; `sample()` then returns undefined until a mode is configured again. */
  stop(): void {
    this.configure({ mode: "idle" });
  }

  /** Temperature offset in m°C as the chip holds it (idle-only). */
  getTemperatureOffsetMilliC(): number {
    const word = this.#idle(() => this.#readWord(GET_TEMPERATURE_OFFSET, SHORT_MS));
    return ((word * 175000 + 32767) / 65535) | 0;
  }

  /** Altitude in m (idle-only). */
  getAltitudeM(): number {
    return this.#idle(() => this.#readWord(GET_ALTITUDE, SHORT_MS));
  }

  /** Ambient pressure in hPa used for compensation (readable while measuring). */
  getAmbientPressureHpa(): number {
    return this.#readWord(AMBIENT_PRESSURE, SHORT_MS);
  }

  /** Whether automatic self-calibration is on (idle-only). */
  getAsc(): boolean {
    return this.#idle(() => this.#readWord(GET_ASC, SHORT_MS)) === 1;
  }

  /**
   * Forced recalibration to `targetPpm` (run the sensor ≥ 3 min in that air first);
   * returns the correction in ppm. The chip answers 0xFFFF when it has not been
   * operated before: that throws `SensorError("busy")`, as the chip was not ready for it.
   */
  forcedRecalibration(targetPpm: number): number {
    if (!(Number.isInteger(targetPpm) && targetPpm >= 0 && targetPpm <= 0xffff)) throw new RangeError("targetPpm out of range");
    const word = this.#idle(() => {
      this.#writeArg(FORCED_RECALIBRATION, targetPpm);
      Timer.delay(FRC_MS);
      return this.#readReplyWord();
    });
    if (word === 0xffff) throw new SensorError("busy", "forced recalibration failed: sensor was not operated before");
    return word - 0x8000;
  }

  /** Serial number (48 bits, three words). */
  serialNumber(): number {
    return this.#idle(() => {
      this.#write(this.#commandBytes(GET_SERIAL));
      Timer.delay(SHORT_MS);
      const rx = this.#rx9;
      this.#read(rx);
      const w0 = this.#word(rx, 0);
      const w1 = this.#word(rx, 3);
      const w2 = this.#word(rx, 6);
      return w0 * 4294967296 + w1 * 65536 + w2;
    });
  }

  /** Writes offset, altitude and ASC to the chip's EEPROM (≥ 2000 cycles: call only after real changes). */
  persistSettings(): void {
    this.#idle(() => this.#command(PERSIST_SETTINGS, PERSIST_MS));
  }

  /** Runs the 10 s self test; true when the chip reports no malfunction. */
  selfTest(): boolean {
    return this.#idle(() => this.#readWord(SELF_TEST, SELF_TEST_MS)) === 0;
  }

  /** Puts the chip to sleep (stops measuring first); `sample()` returns undefined until `wakeUp()`. */
  powerDown(): void {
    this.#enterIdle();
    this.#command(POWER_DOWN, SHORT_MS);
    this.#asleep = true;
  }

  /** Wakes the chip and resumes the configured mode. */
  wakeUp(): void {
    if (!this.#io) throw new SensorError("nack", "SCD41 closed");
    try {
      this.#io.write(this.#commandBytes(WAKE_UP));
    } catch {
      // expected: wake_up is not acknowledged
    }
    Timer.delay(WAKE_MS);
    this.#asleep = false;
    this.#startMode();
  }

  /** Stops measuring and releases the bus. */
  close(): void {
    if (!this.#io) return;
    try {
      if (!this.#asleep) this.#enterIdle();
    } finally {
      this.#io.close();
      this.#io = undefined;
    }
  }

  #modeStarted(): boolean {
    const m = this.#mode;
    return m === "periodic" || m === "low-power" ? this.#running === m : this.#running === undefined;
  }

  #startMode(): void {
    if (this.#mode === "periodic") {
      this.#command(START_PERIODIC, 0);
      this.#running = "periodic";
    } else if (this.#mode === "low-power") {
      this.#command(START_LOW_POWER, 0);
      this.#running = "low-power";
    }
  }

  /** Brings the chip to idle: stops a periodic mode, waits out a single shot in flight. */
  #enterIdle(): void {
    if (this.#running) {
      this.#command(STOP_PERIODIC, STOP_MS);
      this.#running = undefined;
    }
    if (this.#shotReadyAt >= 0) {
      const left = this.#shotReadyAt - Time.ticks;
      if (left > 0) Timer.delay(left);
      this.#shotReadyAt = -1;
    }
  }

  /** Runs an idle-only transfer, then puts the chip back into the mode it was in. */
  #idle<T>(work: () => T): T {
    const resume = this.#running;
    this.#enterIdle();
    let result: T;
    try {
      result = work();
    } catch (e) {
      if (resume) {
        try {
          this.#startMode();
        } catch {
          // the original failure is the one worth reporting
        }
      }
      throw e;
    }
    if (resume) this.#startMode();
    return result;
  }

  #startShot(rht: boolean): void {
    this.#command(rht ? MEASURE_SINGLE_SHOT_RHT : MEASURE_SINGLE_SHOT, 0);
    this.#shotReadyAt = Time.ticks + (rht ? SINGLE_SHOT_RHT_MS : SINGLE_SHOT_MS);
  }

  #readMeasurement(rhtOnly: boolean): Scd41Sample {
    this.#write(this.#commandBytes(READ_MEASUREMENT));
    Timer.delay(SHORT_MS);
    const rx = this.#rx9;
    this.#read(rx);
    const co2 = this.#word(rx, 0);
    const t = this.#word(rx, 3);
    const rh = this.#word(rx, 6);
    if (!rhtOnly && co2 > CO2_MAX_PPM) throw new SensorError("range", `CO2 ${co2} ppm beyond the output range`);
    if (co2 === this.#last0 && t === this.#last1 && rh === this.#last2) {
      this.#sameCount++;
      if (this.#stuckAfter > 0 && this.#sameCount >= this.#stuckAfter) throw new SensorError("stuck", `${this.#sameCount + 1} identical readings`);
    } else {
      this.#sameCount = 0;
      this.#last0 = co2;
      this.#last1 = t;
      this.#last2 = rh;
    }
    const temperatureMilliC = ((21875 * t) >> 13) - 45000;
    const humidityMilliPct = (12500 * rh) >> 13;
    const out: Scd41Sample = {
      temperatureMilliC,
      humidityMilliPct,
      // 1750/65536 = 875/32768 and 10000/65536 = 625/4096, rounded half up by the added half-LSB.
      temperatureDeciC: ((875 * t + 16384) >> 15) - 450,
      humidityCentiPct: (625 * rh + 2048) >> 12,
    };
    if (!rhtOnly) out.co2Ppm = co2;
    if (this.#ecma419) {
      if (!rhtOnly) out.carbonDioxideGasSensor = { CO2: co2 };
      out.thermometer = { temperature: temperatureMilliC / 1000 };
      out.hygrometer = { humidity: humidityMilliPct / 1000 };
    }
    return out;
  }

  #commandBytes(code: number): Uint8Array {
    const cmd = this.#cmd;
    cmd[0] = code >> 8;
    cmd[1] = code & 0xff;
    return cmd;
  }

  #command(code: number, waitMs: number): void {
    this.#write(this.#commandBytes(code));
    if (waitMs > 0) Timer.delay(waitMs);
  }

  #writeArg(code: number, word: number): void {
    const buf = this.#cmdArg;
    buf[0] = code >> 8;
    buf[1] = code & 0xff;
    putWord(buf, 2, word);
    this.#write(buf);
  }

  #commandArg(code: number, word: number, waitMs: number): void {
    this.#writeArg(code, word);
    Timer.delay(waitMs);
  }

  /** Sends a read command, waits its execution time and returns the CRC-checked reply word. */
  #readWord(code: number, waitMs: number): number {
    this.#write(this.#commandBytes(code));
    Timer.delay(waitMs);
    return this.#readReplyWord();
  }

  #readReplyWord(): number {
    const rx = this.#rx3;
    this.#read(rx);
    return this.#word(rx, 0);
  }

  /** The word at `offset` of `rx`, after checking the CRC byte that follows it. */
  #word(rx: Uint8Array, offset: number): number {
    if (sensirionCrc8(rx, offset) !== rx[offset + 2]) throw new SensorError("crc", `SCD41 CRC mismatch at byte ${offset}`);
    return (rx[offset] << 8) | rx[offset + 1];
  }

  // Bus exceptions become SensorError("nack") as `onBus` does, without a closure per transfer.
  #write(bytes: Uint8Array): void {
    const io = this.#io;
    if (!io) throw new SensorError("nack", "SCD41 closed");
    try {
      io.write(bytes);
    } catch (e) {
      throw new SensorError("nack", `SCD41 write: ${(e as Error)?.message ?? String(e)}`);
    }
  }

  #read(into: Uint8Array): void {
    const io = this.#io;
    if (!io) throw new SensorError("nack", "SCD41 closed");
    try {
      io.read(into);
    } catch (e) {
      throw new SensorError("nack", `SCD41 read: ${(e as Error)?.message ?? String(e)}`);
    }
  }
}
