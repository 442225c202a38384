/**
 * Sensirion SEN55 (I2C 0x69) and SEN66 (0x6B, adds CO2) environmental sensor
 * modules, one driver with a `model` option, as an ECMA-419 sensor class.
 *
 * Sample shape (choice of units): integers, each field ABSENT when the module
 * reports it unknown (0xFFFF for unsigned words, 0x7FFF for signed ones: during
 * warm-up, in RHT/gas-only mode, or after a sensor error), never a sentinel value:
 *   pm1DeciUgm3 … pm10DeciUgm3  PM1.0/2.5/4.0/10 in tenths of µg/m³ (the word as is)
 *   humidityCentiPct           RH in hundredths of % (the word as is)
 *   temperatureDeciC           0.1 °C from the chip's 1/200 °C: word/20 rounded half away from zero
 *   vocIndex, noxIndex         index from the chip's ×10 word, rounded half away from zero
 *   co2Ppm                     SEN66 only, ppm
 * The divisions use exact reciprocal multiplies (see `div20`, `div10`): no floats on the
 * sample path. ECMA-419's classes use floats; `ecma419: true` adds `thermometer`,
 * `hygrometer` and (SEN66) `carbonDioxideGasSensor` compound properties. The index
 * outputs have no ECMA-419 class (its VOC class is in ppb) and the draft particulate
 * class holds one unsized value, so neither is mapped.
 *
 * Differences between the models the driver handles: read command (0x03C4, 8 words /
 * 0x0300, 9 words with CO2 last), stop time (200 / 1000 ms), reset time (200 / 1200 ms),
 * status bit layout, fan cleaning (SEN55: only while measuring with the fan on, the
 * module pauses data for ~10 s; SEN66: only while idle, the driver stops, cleans for
 * 10 s — `sample()` returns undefined meanwhile — and restarts), RHT/gas-only mode and
 * the auto-cleaning interval (SEN55 only).
 */
import Timer from "timer";
import Time from "time";
import { SensorError } from "./sensor-error.ts";
import { putWord, sensirionCrc8 } from "./sensirion-crc.ts";
import { initOrRelease } from "./bus-handle.ts";

/** An ECMA-419 I2C instance, as much of it as the driver uses. */
interface I2CInstance {
  write(buffer: ArrayBuffer | ArrayBufferView, stop?: boolean): void;
  read(buffer: ArrayBufferView, stop?: boolean): unknown;
  close(): void;
}

/** The ECMA-419 I2C IO class (`device.io.I2C`, or the simulator's stand-in). */
export type Sen5xI2CConstructor = new (options: { address: number; hz: number; data: number; clock: number; port?: number }) => I2CInstance;

/** Which module is on the bus. */
export type Sen5xModel = "SEN55" | "SEN66";

/** "all": everything incl. PM (fan on); "rht-gas": SEN55 without PM (fan off); "idle": not measuring. */
export type Sen5xMode = "all" | "rht-gas" | "idle";

/** The `sensor` IO bag: the I2C class plus pins; address defaults to 0x69 (SEN55) or 0x6B (SEN66), 100 kHz. */
export interface Sen5xSensorBag {
  io: Sen5xI2CConstructor;
  address?: number;
  hz?: number;
  data: number;
  clock: number;
  port?: number;
}

/** Settings `configure()` accepts; omitted ones are left as they are. */
export interface Sen5xConfiguration {
  /** Measurement mode (default "all"). */
  mode?: Sen5xMode;
  /** SEN55: fan auto-cleaning interval in s (0 disables; chip default 604800 = one week). */
  autoCleaningIntervalS?: number;
  /** Throw `SensorError("stuck")` once this many consecutive readings are word-identical (0 disables; default 10). */
  stuckAfter?: number;
  /** Also return ECMA-419 compound properties (floats). */
  ecma419?: boolean;
}

/** Constructor options. */
export interface Sen5xOptions extends Sen5xConfiguration {
  sensor: Sen5xSensorBag;
  /** Default "SEN55". */
  model?: Sen5xModel;
  /**
   * The mode the module is already measuring in, kept by the node across a deep sleep of the MCU:
   * the driver then leaves it running instead of stopping and restarting it, which would restart
   * the warm-up and the module's VOC/NOx algorithms.
   */
  running?: Sen5xMode;
  /**
   * The module answered as `model` at an earlier wake and has stayed powered since (the node keeps
   * that across deep sleep): the driver skips reading the product name again (a command, 20 ms and
   * a 48-byte read at every wake), and `name` is then the model's.
   */
  knownModel?: boolean;
}

/** One reading; see the file comment for units. Unknown values are absent. */
export interface Sen5xSample {
  pm1DeciUgm3?: number;
  pm25DeciUgm3?: number;
  pm4DeciUgm3?: number;
  pm10DeciUgm3?: number;
  humidityCentiPct?: number;
  temperatureDeciC?: number;
  vocIndex?: number;
  noxIndex?: number;
  co2Ppm?: number;
  thermometer?: { temperature: number };
  hygrometer?: { humidity: number };
  carbonDioxideGasSensor?: { CO2: number };
}

/** The device status register, decoded. Flags a model does not have are false. */
export interface Sen5xStatus {
  /** The 32-bit register. */
  raw: number;
  /** Bit 21: fan speed off target (not sticky). */
  fanSpeedWarning: boolean;
  /** SEN55 bit 19: fan cleaning running. SEN66 has no such bit: reported from the driver's own cleaning timer. */
  cleaningActive: boolean;
  /** Bit 7: VOC/NOx sensor error (sticky). */
  gasError: boolean;
  /** Bit 6: humidity/temperature sensor error (sticky). */
  rhtError: boolean;
  /** SEN55 bit 5: laser failure (sticky). */
  laserFailure: boolean;
  /** Bit 4: fan failure (sticky). */
  fanFailure: boolean;
  /** SEN66 bit 9: CO2 sensor error (sticky). */
  co2Error: boolean;
  /** SEN66 bit 11: PM sensor error (sticky). */
  pmError: boolean;
}

const START = 0x0021;
const START_RHT_GAS = 0x0037;
const STOP = 0x0104;
const DATA_READY = 0x0202;
const READ_SEN55 = 0x03c4;
const READ_SEN66 = 0x0300;
const FAN_CLEANING = 0x5607;
const AUTO_CLEANING = 0x8004;
const PRODUCT_NAME = 0xd014;
const SERIAL_NUMBER = 0xd033;
const STATUS = 0xd206;
const STATUS_CLEAR = 0xd210;
const RESET = 0xd304;

const START_MS = 50;
const SHORT_MS = 20;
const CLEANING_MS = 10000;
const UNKNOWN_U16 = 0xffff;
const UNKNOWN_I16 = 0x7fff;

/** n/20 rounded half away from zero, exact for |n| ≤ 32768: 52429 = ⌈2^20/20⌉ and the error stays below 1/20. */
export function div20(n: number): number {
  const a = n < 0 ? -n : n;
  const q = ((a + 10) * 52429) >>> 20;
  return n < 0 ? -q : q;
}

/** n/10 rounded half away from zero, exact for |n| ≤ 32768: 52429 = ⌈2^19/10⌉. */
export function div10(n: number): number {
  const a = n < 0 ? -n : n;
  const q = ((a + 5) * 52429) >>> 19;
  return n < 0 ? -q : q;
}

/** The i-th word of a CRC-checked reply (3 bytes per word). */
function wordAt(rx: Uint8Array, i: number): number {
  return (rx[i * 3] << 8) | rx[i * 3 + 1];
}

/** SEN55 / SEN66 driver (ECMA-419 sensor class pattern). */
export default class SEN5x {
  readonly #model: Sen5xModel;
  #io: I2CInstance | undefined;
  #mode: Sen5xMode = "all";
  /** What the module is doing; "unknown" until the driver has stopped it once. */
  #chipMode: Sen5xMode | "unknown" = "unknown";
  /** SEN66 idle fan cleaning: ticks when it ends (-1 none) and the mode to resume afterwards. */
  #cleaningUntil = -1;
  #stuckAfter = 10;
  #sameCount = 0;
  #ecma419 = false;
  #productName = "";
  readonly #words: number;
  readonly #previous = new Uint16Array(9);
  readonly #cmd = new Uint8Array(2);
  readonly #rx3 = new Uint8Array(3);
  readonly #rxValues: Uint8Array;

  constructor(options: Sen5xOptions) {
    const model = options.model ?? "SEN55";
    if (model !== "SEN55" && model !== "SEN66") throw new RangeError(`unknown model ${String(model)}`);
    this.#model = model;
    this.#words = model === "SEN66" ? 9 : 8;
    this.#rxValues = new Uint8Array(this.#words * 3);
    const bag = options.sensor;
    this.#io = new bag.io({
      address: bag.address ?? (model === "SEN66" ? 0x6b : 0x69),
      hz: bag.hz ?? 100000,
      data: bag.data,
      clock: bag.clock,
      port: bag.port,
    });
    initOrRelease(this.#io, () => {
      if (options.knownModel) {
        this.#productName = model;
      } else {
        const name = this.productName();
        const expected = model === "SEN66" ? "SEN66" : "SEN5";
        if (name.slice(0, expected.length) !== expected) throw new SensorError("id", `expected ${model}, module says "${name}"`);
        this.#productName = name;
      }
      if (options.running !== undefined) this.#chipMode = options.running;
      this.configure({ mode: options.running ?? "all", ...options });
    });
  }

  /** The model this driver talks to. */
  get model(): Sen5xModel {
    return this.#model;
  }

  /** Product name read at construction (e.g. "SEN55"), or the model's with `knownModel`. */
  get name(): string {
    return this.#productName;
  }

  /** Current measurement mode. */
  get mode(): Sen5xMode {
    return this.#mode;
  }

  /** Applies settings; a mode change stops the module (200 ms SEN55, 1000 ms SEN66) and starts it again (50 ms). */
  configure(options: Sen5xConfiguration = {}): void {
    if (options.stuckAfter !== undefined) this.#stuckAfter = options.stuckAfter;
    if (options.ecma419 !== undefined) this.#ecma419 = options.ecma419;
    const mode = options.mode ?? this.#mode;
    if (mode !== "all" && mode !== "rht-gas" && mode !== "idle") throw new RangeError(`unknown mode ${String(mode)}`);
    if (mode === "rht-gas" && this.#model === "SEN66") throw new RangeError("SEN66 has no RHT/gas-only mode");
    const interval = options.autoCleaningIntervalS;
    if (interval !== undefined) {
      if (this.#model !== "SEN55") throw new RangeError("SEN66 has no auto-cleaning interval");
      if (!(Number.isInteger(interval) && interval >= 0 && interval <= 0xffffffff)) throw new RangeError("autoCleaningIntervalS out of range");
      const buf = new Uint8Array(8);
      buf[0] = AUTO_CLEANING >> 8;
      buf[1] = AUTO_CLEANING & 0xff;
      putWord(buf, 2, Math.floor(interval / 65536));
      putWord(buf, 5, interval & 0xffff);
      this.#write(buf);
      Timer.delay(SHORT_MS);
    }
    this.#mode = mode;
    this.#sameCount = 0;
    // During SEN66 idle cleaning the module refuses to start: sample() resumes afterwards.
    if (this.#cleaningUntil < 0 && mode !== this.#chipMode) this.#apply(mode);
  }

  /** A fresh reading, or undefined when no new one is ready (also while the fan is being cleaned). */
  sample(): Sen5xSample | undefined {
    if (this.#cleaningUntil >= 0) {
      if (Time.ticks < this.#cleaningUntil) return undefined;
      this.#cleaningUntil = -1;
      this.#apply(this.#mode);
      return undefined;
    }
    if (this.#chipMode === "idle") return undefined;
    if (!this.dataReady()) return undefined;
    return this.readValues();
  }

  /** Polls the data-ready flag (false while idle or cleaning). */
  dataReady(): boolean {
    this.#command(DATA_READY, SHORT_MS);
    const rx = this.#rx3;
    this.#read(rx);
    return (this.#word(rx, 0) & 0xff) !== 0;
  }

  /** Reads the measured values (the previous ones again if nothing new; all absent before the first). */
  readValues(): Sen5xSample {
    this.#command(this.#model === "SEN66" ? READ_SEN66 : READ_SEN55, SHORT_MS);
    const rx = this.#rxValues;
    this.#read(rx);
    const n = this.#words;
    // Check every CRC before using any word: a corrupt frame yields nothing.
    for (let i = 0; i < n; i++) this.#word(rx, i * 3);
    let same = true;
    let anyKnown = false;
    const previous = this.#previous;
    for (let i = 0; i < n; i++) {
      const word = wordAt(rx, i);
      if (word !== previous[i]) same = false;
      previous[i] = word;
      if (word !== (i < 4 || i === 8 ? UNKNOWN_U16 : UNKNOWN_I16)) anyKnown = true;
    }
    // Frames of nothing but sentinels repeat legitimately (warm-up, errors); only real values can be stuck.
    if (same && anyKnown) {
      this.#sameCount++;
      if (this.#stuckAfter > 0 && this.#sameCount >= this.#stuckAfter) throw new SensorError("stuck", `${this.#sameCount + 1} identical readings`);
    } else {
      this.#sameCount = 0;
    }
    const out: Sen5xSample = {};
    let word = wordAt(rx, 0);
    if (word !== UNKNOWN_U16) out.pm1DeciUgm3 = word;
    word = wordAt(rx, 1);
    if (word !== UNKNOWN_U16) out.pm25DeciUgm3 = word;
    word = wordAt(rx, 2);
    if (word !== UNKNOWN_U16) out.pm4DeciUgm3 = word;
    word = wordAt(rx, 3);
    if (word !== UNKNOWN_U16) out.pm10DeciUgm3 = word;
    word = wordAt(rx, 4);
    if (word !== UNKNOWN_I16) out.humidityCentiPct = (word << 16) >> 16;
    word = wordAt(rx, 5);
    if (word !== UNKNOWN_I16) out.temperatureDeciC = div20((word << 16) >> 16);
    word = wordAt(rx, 6);
    if (word !== UNKNOWN_I16) out.vocIndex = div10((word << 16) >> 16);
    word = wordAt(rx, 7);
    if (word !== UNKNOWN_I16) out.noxIndex = div10((word << 16) >> 16);
    if (n === 9) {
      word = wordAt(rx, 8);
      if (word !== UNKNOWN_U16) out.co2Ppm = word;
    }
    if (this.#ecma419) {
      if (wordAt(rx, 5) !== UNKNOWN_I16) out.thermometer = { temperature: ((wordAt(rx, 5) << 16) >> 16) / 200 };
      if (out.humidityCentiPct !== undefined) out.hygrometer = { humidity: out.humidityCentiPct / 100 };
      if (out.co2Ppm !== undefined) out.carbonDioxideGasSensor = { CO2: out.co2Ppm };
    }
    return out;
  }

  /** Starts measuring in `mode` (default "all"). */
  start(mode: "all" | "rht-gas" = "all"): void {
    this.configure({ mode });
  }

  /** Stops measuring. */
  stop(): void {
    this.configure({ mode: "idle" });
  }

  /**
   * Starts fan cleaning (10 s at full speed). SEN55: only while measuring with the fan on,
   * data pauses meanwhile. SEN66: only while idle; the driver stops, cleans and resumes.
   */
  startFanCleaning(): void {
    if (this.#model === "SEN55") {
      if (this.#chipMode !== "all") throw new SensorError("busy", "SEN55 fan cleaning needs mode 'all' (fan running)");
      this.#command(FAN_CLEANING, SHORT_MS);
      return;
    }
    if (this.#cleaningUntil >= 0) return;
    this.#apply("idle");
    this.#command(FAN_CLEANING, SHORT_MS);
    this.#cleaningUntil = Time.ticks + CLEANING_MS;
  }

  /** SEN55: the fan auto-cleaning interval in s. */
  getAutoCleaningIntervalS(): number {
    if (this.#model !== "SEN55") throw new RangeError("SEN66 has no auto-cleaning interval");
    this.#command(AUTO_CLEANING, SHORT_MS);
    const rx = new Uint8Array(6);
    this.#read(rx);
    return this.#word(rx, 0) * 65536 + this.#word(rx, 3);
  }

  /** Reads the device status register. */
  status(): Sen5xStatus {
    return this.#status(STATUS);
  }

  /** Reads the device status register, then clears its flags (the sticky errors). */
  readAndClearStatus(): Sen5xStatus {
    return this.#status(STATUS_CLEAR);
  }

  /** Product name (ASCII, e.g. "SEN55"). */
  productName(): string {
    return this.#string(PRODUCT_NAME);
  }

  /** Serial number (ASCII). */
  serialNumber(): string {
    return this.#string(SERIAL_NUMBER);
  }

  /** Device reset (same as a power cycle: settings and status cleared), then resumes the configured mode. */
  reset(): void {
    this.#command(RESET, this.#model === "SEN66" ? 1200 : 200);
    this.#chipMode = "idle";
    this.#cleaningUntil = -1;
    this.#sameCount = 0;
    this.#apply(this.#mode);
  }

  /** Stops measuring and releases the bus. */
  close(): void {
    if (!this.#io) return;
    try {
      if (this.#chipMode !== "idle") this.#command(STOP, this.#stopMs());
    } finally {
      this.#io.close();
      this.#io = undefined;
    }
  }

  #stopMs(): number {
    return this.#model === "SEN66" ? 1000 : 200;
  }

  /** Brings the module into `mode`, stopping it first if it is measuring otherwise. */
  #apply(mode: Sen5xMode): void {
    if (this.#chipMode === mode) return;
    if (this.#chipMode !== "idle") {
      this.#command(STOP, this.#stopMs());
      this.#chipMode = "idle";
    }
    if (mode !== "idle") {
      this.#command(mode === "rht-gas" ? START_RHT_GAS : START, START_MS);
      this.#chipMode = mode;
    }
  }

  #status(code: number): Sen5xStatus {
    this.#command(code, SHORT_MS);
    const rx = new Uint8Array(6);
    this.#read(rx);
    const raw = ((this.#word(rx, 0) << 16) | this.#word(rx, 3)) >>> 0;
    const bit = (n: number) => ((raw >>> n) & 1) === 1;
    const sen55 = this.#model === "SEN55";
    return {
      raw,
      fanSpeedWarning: bit(21),
      cleaningActive: sen55 ? bit(19) : this.#cleaningUntil >= 0 && Time.ticks < this.#cleaningUntil,
      gasError: bit(7),
      rhtError: bit(6),
      laserFailure: sen55 && bit(5),
      fanFailure: bit(4),
      co2Error: !sen55 && bit(9),
      pmError: !sen55 && bit(11),
    };
  }

  /** Reads a 32-character ASCII field (16 words), up to its NUL. */
  #string(code: number): string {
    this.#command(code, this.#model === "SEN66" ? SHORT_MS : 50);
    const rx = new Uint8Array(48);
    this.#read(rx);
    let s = "";
    for (let i = 0; i < 16; i++) {
      const word = this.#word(rx, i * 3);
      const hi = word >> 8;
      const lo = word & 0xff;
      if (hi === 0) break;
      s += String.fromCharCode(hi);
      if (lo === 0) break;
      s += String.fromCharCode(lo);
    }
    return s;
  }

  #command(code: number, waitMs: number): void {
    const cmd = this.#cmd;
    cmd[0] = code >> 8;
    cmd[1] = code & 0xff;
    this.#write(cmd);
    if (waitMs > 0) Timer.delay(waitMs);
  }

  /** The word at `offset` of `rx`, after checking the CRC byte that follows it. */
  #word(rx: Uint8Array, offset: number): number {
    if (sensirionCrc8(rx, offset) !== rx[offset + 2]) throw new SensorError("crc", `${this.#model} CRC mismatch at byte ${offset}`);
    return (rx[offset] << 8) | rx[offset + 1];
  }

  // Bus exceptions become SensorError("nack") as `onBus` does, without a closure per transfer.
  #write(bytes: Uint8Array): void {
    const io = this.#io;
    if (!io) throw new SensorError("nack", `${this.#model} closed`);
    try {
      io.write(bytes);
    } catch (e) {
      throw new SensorError("nack", `${this.#model} write: ${(e as Error)?.message ?? String(e)}`);
    }
  }

  #read(into: Uint8Array): void {
    const io = this.#io;
    if (!io) throw new SensorError("nack", `${this.#model} closed`);
    try {
      io.read(into);
    } catch (e) {
      throw new SensorError("nack", `${this.#model} read: ${(e as Error)?.message ?? String(e)}`);
    }
  }
}
