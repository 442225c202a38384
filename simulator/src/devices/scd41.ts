/**
 * Byte-level emulator of a Sensirion SCD41 (CO2, T, RH) on I2C, written from the
 * datasheet and independent of the firmware driver: the two agreeing is the test.
 *
 * What it models: 16-bit commands; CRC-8 (poly 0x31, init 0xFF) after every data
 * word both ways (a bad argument CRC is NACKed); execution times (the chip NACKs
 * every transfer until a command has finished, so a driver that does not wait
 * fails); periodic (5 s), low-power periodic (30 s) and single-shot (5 s, or 50 ms
 * RHT-only with CO2 = 0) measurement; a one-reading buffer emptied by
 * read_measurement, which is NACKed when empty; idle-only commands NACKed while a
 * periodic mode runs (only read_measurement, get_data_ready, stop and ambient
 * pressure are accepted); settings in RAM with persist_settings to an EEPROM that
 * survives `powerCycle()`; forced recalibration (0xFFFF until the chip has
 * measured since power-on); power_down / wake_up (wake_up is never ACKed).
 *
 * Physics: the reading is the environment plus the chip's bias and Gaussian noise,
 * temperature plus self-heating minus the configured offset (the default offset
 * cancels the default self-heating), quantised to the chip's words. Pressure and
 * altitude are stored, not applied.
 */
import { FaultBook } from "./fault-book.ts";
import { BusError, i2cReply, type I2CDevice } from "../core/board.ts";
import type { VirtualClock } from "../core/clock.ts";
import type { Rng } from "../core/rng.ts";
import type { AirSource } from "./air-environment.ts";

/** Faults the emulator can be told to show. */
export type Scd41Fault = "nack" | "corrupt-crc" | "stuck" | "disconnect" | "slow-start";

/** Parameters of an injected fault. */
export interface Scd41FaultOptions {
  /** corrupt-crc: number of replies to corrupt (default 1 unless `probability` is given). */
  count?: number;
  /** corrupt-crc: corrupt each reply with this probability instead. */
  probability?: number;
  /** disconnect: bytes the next read still delivers before the chip vanishes (default 4). */
  afterBytes?: number;
  /** slow-start: extra delay of the first measurement after a start (default 30000 ms). */
  delayMs?: number;
}

/** Construction parameters. */
export interface Scd41EmulatorOptions {
  rng: Rng;
  environment: AirSource;
  clock: VirtualClock;
  /** "SCD41" (default) or "SCD40" (no single shot, no power-down), as get_sensor_variant reports. */
  model?: "SCD41" | "SCD40";
  /** Serial number as three words (default: random). */
  serial?: [number, number, number];
  /** Calibration error of this unit in ppm (default 0). */
  co2BiasPpm?: number;
  /** Standard deviation of CO2 noise, ppm (default 8). */
  co2NoisePpm?: number;
  /** Standard deviation of temperature noise, °C (default 0.03). */
  temperatureNoiseC?: number;
  /** Standard deviation of humidity noise, %RH (default 0.15). */
  humidityNoisePct?: number;
  /** How much warmer than the air the chip reads, °C (default 4, what the default offset removes). */
  selfHeatingC?: number;
  /** State at power-on: "periodic" models a chip left running across an MCU reset. */
  initialMode?: "idle" | "periodic" | "low-power" | "sleep";
}

/** Raw words of one measurement. */
export interface Scd41Words {
  co2: number;
  temperature: number;
  humidity: number;
}

type Mode = "idle" | "periodic" | "low-power" | "sleep";

interface Command {
  /** Execution time in ms: the chip NACKs until it has passed. */
  ms: number;
  /** Accepted while a periodic mode runs. */
  whileRunning?: boolean;
  run(arg: number | undefined): void;
}

// Own table-driven CRC (the driver computes it bitwise): poly 0x31, init 0xFF.
const CRC_TABLE = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  let c = i;
  for (let b = 0; b < 8; b++) c = c & 0x80 ? ((c << 1) ^ 0x31) & 0xff : (c << 1) & 0xff;
  CRC_TABLE[i] = c;
}
const crcOf = (hi: number, lo: number) => CRC_TABLE[CRC_TABLE[0xff ^ hi] ^ lo];

/** Encodes words as the chip sends them: MSB, LSB, CRC per word. */
function encode(words: number[]): Uint8Array {
  const out = new Uint8Array(words.length * 3);
  words.forEach((w, i) => {
    out[i * 3] = (w >> 8) & 0xff;
    out[i * 3 + 1] = w & 0xff;
    out[i * 3 + 2] = crcOf((w >> 8) & 0xff, w & 0xff);
  });
  return out;
}

const WAKE_UP = 0x36f6;
const DEFAULT_OFFSET_WORD = 1498; // 4 °C · 65535 / 175
const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/** An SCD41 on the bus; attach with `board.attachI2C(0x62, emulator)`. */
export class Scd41Emulator implements I2CDevice {
  readonly #rng: Rng;
  readonly #environment: AirSource;
  readonly #clock: VirtualClock;
  readonly #model: "SCD41" | "SCD40";
  readonly #serial: [number, number, number];
  readonly #co2NoisePpm: number;
  readonly #temperatureNoiseC: number;
  readonly #humidityNoisePct: number;
  readonly #selfHeatingC: number;
  readonly #commands = new Map<number, Command>();
  #co2BiasPpm: number;
  #mode: Mode = "idle";
  #busyUntil = 0;
  #reply: Uint8Array | undefined;
  #replyEmptiesBuffer = false;
  #buffer: Scd41Words | undefined;
  #nextAt = 0;
  #shotAt = -1;
  #shotNominal = -1;
  #shotRht = false;
  #operated = false;
  #offsetWord = DEFAULT_OFFSET_WORD;
  #altitudeM = 0;
  #pressureHpa = 1013;
  #asc = 1;
  #eeprom = { offsetWord: DEFAULT_OFFSET_WORD, altitudeM: 0, asc: 1 };
  readonly #faults = new FaultBook<Scd41Fault, Scd41FaultOptions>();
  #gone = false;
  #frozen: Scd41Words | undefined;

  /** The most recent measurement the chip produced (what a read-out would return). */
  lastMeasurement: Scd41Words | undefined;
  /** The words of the most recent read_measurement reply, before any injected corruption. */
  lastReadout: Scd41Words | undefined;
  /** Number of persist_settings executions (EEPROM wear). */
  eepromWrites = 0;
  /** Every command the chip accepted, in order. */
  readonly commandLog: number[] = [];
  /** Whether `commandLog` records commands: long runs that never read it turn it off. */
  keepCommandLog = true;

  constructor(options: Scd41EmulatorOptions) {
    this.#rng = options.rng;
    this.#environment = options.environment;
    this.#clock = options.clock;
    this.#model = options.model ?? "SCD41";
    this.#serial = options.serial ?? [this.#rng.int(0, 0xffff), this.#rng.int(0, 0xffff), this.#rng.int(0, 0xffff)];
    this.#co2BiasPpm = options.co2BiasPpm ?? 0;
    this.#co2NoisePpm = options.co2NoisePpm ?? 8;
    this.#temperatureNoiseC = options.temperatureNoiseC ?? 0.03;
    this.#humidityNoisePct = options.humidityNoisePct ?? 0.15;
    this.#selfHeatingC = options.selfHeatingC ?? 4;
    this.#defineCommands();
    const initial = options.initialMode ?? "idle";
    if (initial === "periodic" || initial === "low-power") this.#startPeriodic(initial);
    else this.#mode = initial;
  }

  /** What the chip is doing: "idle", "periodic", "low-power" or "sleep". */
  get mode(): Mode {
    this.#update();
    return this.#mode;
  }

  /** Settings in RAM. */
  get settings(): { temperatureOffsetWord: number; altitudeM: number; ambientPressureHpa: number; asc: boolean; co2BiasPpm: number } {
    return { temperatureOffsetWord: this.#offsetWord, altitudeM: this.#altitudeM, ambientPressureHpa: this.#pressureHpa, asc: this.#asc === 1, co2BiasPpm: this.#co2BiasPpm };
  }

  /** Power cycle: RAM settings reload from EEPROM, measurement and calibration history stop. Faults stay. */
  powerCycle(): void {
    this.#mode = "idle";
    this.#reply = undefined;
    this.#buffer = undefined;
    this.#shotAt = -1;
    this.#operated = false;
    this.#loadEeprom();
    this.#busyUntil = this.#clock.nowMs + 30;
  }

  /** Starts showing `fault` until `clear(fault)`. */
  inject(fault: Scd41Fault, options: Scd41FaultOptions = {}): void {
    this.#update();
    this.#faults.arm(fault, options);
    if (fault === "stuck") this.#frozen = this.lastMeasurement;
    if (fault === "disconnect") this.#gone = false;
    if (fault === "slow-start" && (this.#mode === "periodic" || this.#mode === "low-power")) {
      this.#nextAt = Math.max(this.#nextAt, this.#clock.nowMs + (options.delayMs ?? 30000));
    }
  }

  /** Stops showing `fault` (all faults when omitted). */
  clear(fault?: Scd41Fault): void {
    if (fault) this.#faults.delete(fault);
    else this.#faults.clear();
    if (!this.#faults.has("stuck")) this.#frozen = undefined;
    if (!this.#faults.has("disconnect")) this.#gone = false;
    // A shot made late by slow-start completes at its nominal time once the fault is gone.
    if (!this.#faults.has("slow-start") && this.#shotAt > this.#shotNominal) this.#shotAt = Math.max(this.#clock.nowMs, this.#shotNominal);
  }

  i2cWrite(bytes: Uint8Array, _stop: boolean): void {
    this.#update();
    this.#present();
    if (bytes.length < 2) throw new BusError("SCD41: incomplete command");
    const code = (bytes[0] << 8) | bytes[1];
    const now = this.#clock.nowMs;
    if (this.#mode === "sleep") {
      if (code === WAKE_UP) {
        this.#mode = "idle";
        this.#busyUntil = now + 30;
        if (this.keepCommandLog) this.commandLog.push(code);
      }
      throw new BusError("SCD41 asleep: NACK");
    }
    if (code === WAKE_UP) throw new BusError("SCD41: wake_up is not acknowledged");
    if (now < this.#busyUntil) throw new BusError("SCD41 busy: NACK");
    let arg: number | undefined;
    if (bytes.length === 5) {
      if (crcOf(bytes[2], bytes[3]) !== bytes[4]) throw new BusError("SCD41: argument CRC mismatch, NACK");
      arg = (bytes[2] << 8) | bytes[3];
    } else if (bytes.length !== 2) {
      throw new BusError("SCD41: unexpected write length");
    }
    const command = this.#commands.get(code);
    if (!command) throw new BusError(`SCD41: unknown command 0x${code.toString(16)}`);
    const running = this.#mode === "periodic" || this.#mode === "low-power";
    if (running && !command.whileRunning) throw new BusError(`SCD41: 0x${code.toString(16)} refused during periodic measurement`);
    this.#reply = undefined;
    this.#replyEmptiesBuffer = false;
    command.run(arg);
    this.#busyUntil = now + command.ms;
    if (this.keepCommandLog) this.commandLog.push(code);
  }

  i2cRead(out: Uint8Array, _stop: boolean): number {
    this.#update();
    this.#present();
    if (this.#mode === "sleep") throw new BusError("SCD41 asleep: NACK");
    if (this.#clock.nowMs < this.#busyUntil) throw new BusError("SCD41 busy: NACK");
    const reply = this.#reply;
    if (!reply) throw new BusError("SCD41: nothing to read, NACK");
    this.#reply = undefined;
    const count = out.length;
    i2cReply(out, reply);
    if (this.#replyEmptiesBuffer && this.#buffer) {
      this.lastReadout = this.#buffer;
      this.#buffer = undefined;
    }
    if (this.#faults.fires("corrupt-crc", this.#rng)) {
      const i = this.#rng.int(0, Math.min(count, reply.length) - 1);
      out[i] ^= 1 << this.#rng.int(0, 7);
    }
    const disconnect = this.#faults.get("disconnect");
    if (disconnect && !this.#gone) {
      this.#gone = true;
      return Math.min(count, disconnect.afterBytes ?? 4);
    }
    return count;
  }

  #present(): void {
    if (this.#faults.has("nack")) throw new BusError("SCD41: no ACK (injected)");
    if (this.#gone) throw new BusError("SCD41: disconnected (injected)");
  }

  /** Catches up with virtual time: completes measurements that are due. */
  #update(): void {
    const now = this.#clock.nowMs;
    if ((this.#mode === "periodic" || this.#mode === "low-power") && now >= this.#nextAt) {
      const interval = this.#mode === "periodic" ? 5000 : 30000;
      const skipped = Math.floor((now - this.#nextAt) / interval);
      this.#measure(false);
      this.#nextAt += (skipped + 1) * interval;
    }
    if (this.#shotAt >= 0 && now >= this.#shotAt) {
      this.#shotAt = -1;
      this.#measure(this.#shotRht);
    }
  }

  #measure(rhtOnly: boolean): void {
    let words: Scd41Words;
    if (this.#faults.has("stuck") && this.#frozen) {
      words = { ...this.#frozen };
    } else {
      const air = this.#environment();
      const rng = this.#rng;
      const co2 = rhtOnly ? 0 : clamp(Math.round(air.co2Ppm + this.#co2BiasPpm + rng.normal(0, this.#co2NoisePpm)), 0, 40000);
      const offsetC = (this.#offsetWord * 175) / 65535;
      const t = air.temperatureC + this.#selfHeatingC - offsetC + rng.normal(0, this.#temperatureNoiseC);
      const rh = air.humidityPct + rng.normal(0, this.#humidityNoisePct);
      words = {
        co2,
        temperature: clamp(Math.round(((t + 45) * 65535) / 175), 0, 65535),
        humidity: clamp(Math.round((rh * 65535) / 100), 0, 65535),
      };
      if (this.#faults.has("stuck")) this.#frozen = words;
    }
    this.#buffer = words;
    this.lastMeasurement = words;
    if (!rhtOnly) this.#operated = true;
  }

  #startPeriodic(mode: "periodic" | "low-power"): void {
    this.#mode = mode;
    const slow = this.#faults.get("slow-start");
    this.#nextAt = this.#clock.nowMs + (mode === "periodic" ? 5000 : 30000) + (slow ? slow.delayMs ?? 30000 : 0);
  }

  #loadEeprom(): void {
    this.#offsetWord = this.#eeprom.offsetWord;
    this.#altitudeM = this.#eeprom.altitudeM;
    this.#asc = this.#eeprom.asc;
    this.#pressureHpa = 1013;
  }

  #setReply(words: number[], emptiesBuffer = false): void {
    this.#reply = encode(words);
    this.#replyEmptiesBuffer = emptiesBuffer;
  }

  #needArg(arg: number | undefined): number {
    if (arg === undefined) throw new BusError("SCD41: missing argument");
    return arg;
  }

  #defineCommands(): void {
    const c = this.#commands;
    const scd41Only = () => {
      if (this.#model !== "SCD41") throw new BusError("SCD40: command not supported");
    };
    c.set(0x21b1, { ms: 0, run: () => this.#startPeriodic("periodic") });
    c.set(0x21ac, { ms: 0, run: () => this.#startPeriodic("low-power") });
    c.set(0x3f86, {
      ms: 500,
      whileRunning: true,
      run: () => {
        this.#mode = "idle";
      },
    });
    c.set(0xec05, {
      ms: 1,
      whileRunning: true,
      run: () => {
        if (this.#buffer) this.#setReply([this.#buffer.co2, this.#buffer.temperature, this.#buffer.humidity], true);
      },
    });
    // Upper bits are don't-care: the real chip sets some, so a driver must mask with 0x07FF.
    c.set(0xe4b8, { ms: 1, whileRunning: true, run: () => this.#setReply([this.#buffer ? 0x8006 : 0x8000]) });
    c.set(0x241d, {
      ms: 1,
      run: (arg) => {
        this.#offsetWord = this.#needArg(arg);
      },
    });
    c.set(0x2318, { ms: 1, run: () => this.#setReply([this.#offsetWord]) });
    c.set(0x2427, {
      ms: 1,
      run: (arg) => {
        this.#altitudeM = this.#needArg(arg);
      },
    });
    c.set(0x2322, { ms: 1, run: () => this.#setReply([this.#altitudeM]) });
    c.set(0xe000, {
      ms: 1,
      whileRunning: true,
      run: (arg) => {
        if (arg === undefined) this.#setReply([this.#pressureHpa]);
        else this.#pressureHpa = arg;
      },
    });
    c.set(0x362f, {
      ms: 400,
      run: (arg) => {
        const target = this.#needArg(arg);
        if (!this.#operated) {
          this.#setReply([0xffff]);
          return;
        }
        const correction = Math.round(target - (this.#environment().co2Ppm + this.#co2BiasPpm));
        this.#co2BiasPpm += correction;
        this.#setReply([(correction + 0x8000) & 0xffff]);
      },
    });
    c.set(0x2416, {
      ms: 1,
      run: (arg) => {
        this.#asc = this.#needArg(arg) ? 1 : 0;
      },
    });
    c.set(0x2313, { ms: 1, run: () => this.#setReply([this.#asc]) });
    c.set(0x3615, {
      ms: 800,
      run: () => {
        this.#eeprom = { offsetWord: this.#offsetWord, altitudeM: this.#altitudeM, asc: this.#asc };
        this.eepromWrites++;
      },
    });
    c.set(0x3682, { ms: 1, run: () => this.#setReply([...this.#serial]) });
    c.set(0x3639, { ms: 10000, run: () => this.#setReply([0]) });
    c.set(0x3632, {
      ms: 1200,
      run: () => {
        this.#eeprom = { offsetWord: DEFAULT_OFFSET_WORD, altitudeM: 0, asc: 1 };
        this.#loadEeprom();
        this.#co2BiasPpm = 0;
      },
    });
    c.set(0x3646, { ms: 30, run: () => this.#loadEeprom() });
    c.set(0x202f, { ms: 1, run: () => this.#setReply([this.#model === "SCD41" ? 0x1441 : 0x0440]) });
    c.set(0x219d, {
      ms: 5000,
      run: () => {
        scd41Only();
        const slow = this.#faults.get("slow-start");
        this.#shotNominal = this.#clock.nowMs + 5000;
        this.#shotAt = this.#shotNominal + (slow ? slow.delayMs ?? 30000 : 0);
        this.#shotRht = false;
      },
    });
    c.set(0x2196, {
      ms: 50,
      run: () => {
        scd41Only();
        this.#shotAt = this.#shotNominal = this.#clock.nowMs + 50;
        this.#shotRht = true;
      },
    });
    c.set(0x36e0, {
      ms: 1,
      run: () => {
        scd41Only();
        this.#mode = "sleep";
        this.#buffer = undefined;
      },
    });
  }
}
