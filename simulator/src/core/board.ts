/**
 * A simulated board: the buses and pins one node's firmware sees, the devices
 * (emulators) attached to them, and the node's flash (preferences) and clock.
 * Platform replacement modules (`embedded:io/*`, `timer`, `time`, `preference`)
 * act on whichever board is current, so many nodes can share one process.
 */
import { VirtualClock } from "./clock.ts";
import { roomAtEnd } from "./typed-queue.ts";

/** A device on an I2C bus, as seen from the wire. Throw `BusError` to NACK. */
export interface I2CDevice {
  /**
   * Host wrote bytes (address already matched). `stop` false means a repeated start follows.
   * `bytes` views the firmware's own buffer and is only valid during the call: copy what you keep.
   */
  i2cWrite(bytes: Uint8Array, stop: boolean): void;
  /**
   * Host reads `into.length` bytes: the device writes them into `into` (the firmware's own buffer, or a new one)
   * and returns how many it sent, fewer when it drops off the bus mid-read.
   */
  i2cRead(into: Uint8Array, stop: boolean): number;
}

/** Fills `into` as a host reads a device's `reply`: its bytes, then 0xFF past its end (the pulled-up data line floats high). */
export function i2cReply(into: Uint8Array, reply: ArrayLike<number>): void {
  into.fill(0xff);
  // Byte by byte: a view of a small reply would make V8 move it off its heap.
  for (let i = 0, n = Math.min(into.length, reply.length); i < n; i++) into[i] = reply[i];
}

/** A device on a UART. It hears what the host transmits and queues replies with `port.deliver`. */
export interface SerialDevice {
  attach(port: SerialLink): void;
  /**
   * Host transmitted these bytes, starting now, at `hostBaud` (a mismatch with the device's rate garbles them).
   * `bytes` views the firmware's own buffer and is only valid during the call: copy what you keep.
   */
  serialWrite(bytes: Uint8Array, hostBaud: number): void;
}

/** The device side of a UART: lets an emulator send bytes that arrive at a virtual time. */
export interface SerialLink {
  readonly baud: number;
  readonly clock: VirtualClock;
  /** Queue bytes to reach the host's RX FIFO; they become readable at `atMs` (default: now + wire time). */
  deliver(bytes: Uint8Array | number[], atMs?: number): void;
}

/**
 * A chip on a 1-Wire bus, at the byte level: the stand-in (platform/onewire.ts)
 * turns Moddable's `OneWire` calls into these. Several on one pin share the bus:
 * presence if any answers, and what they drive is wired-AND.
 */
export interface OneWireDevice {
  /** Reset pulse: true when the device answers with a presence pulse. */
  reset(): boolean;
  /** The host writes a byte (eight write slots). */
  writeByte(byte: number): void;
  /** The host reads a byte (eight read slots): what the device drives, 0xFF when it leaves the bus high. */
  readByte(): number;
  /** Its 64-bit ROM code, family code first: the stand-in answers `search()` from it rather than bit by bit. */
  romCode?(): Uint8Array;
}

/** A pulse source on a pin (e.g. a flow meter), counted by hardware even while the CPU sleeps. */
export interface PulseSource {
  /** Total pulses emitted on the pin up to virtual time `nowMs` (monotonic). */
  pulsesUntil(nowMs: number): number;
}

/**
 * The ULP co-processor's program as the simulator runs it: it acts at minute
 * boundaries only (what it does every millisecond in between, counting edges,
 * is the pulse source's job), and may wake the CPU there.
 */
export interface UlpProgram {
  /** Virtual time of the next minute boundary. */
  readonly nextBoundaryMs: number;
  /** Runs the boundary at `nextBoundaryMs` (the clock is there); true if the program wakes the CPU. */
  boundary(): boolean;
  /** Runs, without waking anything, the boundaries the clock has passed (while the CPU was awake). */
  catchUp(): void;
  /** The firmware armed the ULP wake for the coming sleep (`wakeOn`). */
  readonly wakeArmed: boolean;
}

/** Error thrown on the bus for a NACK, a timeout or a missing device. */
export class BusError extends Error {
  constructor(message: string) {
    // No stack trace: emulators NACK often (a sensor busy measuring) and the firmware
    // catches these, so capturing one on every NACK was a large share of a fleet run.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
    this.name = "BusError";
  }
}

/**
 * Bytes in flight from a device to the host: arrival times and values in
 * [head, head + length) of two typed arrays (typed-queue.ts), so a UART that
 * streams all day allocates nothing once warm.
 */
export class RxQueue {
  times = new Float64Array(64);
  bytes = new Uint8Array(64);
  head = 0;
  #tail = 0;

  get length(): number {
    return this.#tail - this.head;
  }

  /** Arrival time of the last byte queued (0 when empty). */
  get lastMs(): number {
    return this.#tail > this.head ? this.times[this.#tail - 1] : 0;
  }

  push(atMs: number, byte: number): void {
    if (this.#tail === this.times.length) this.#room();
    this.times[this.#tail] = atMs;
    this.bytes[this.#tail++] = byte;
  }

  /** Drops `n` bytes from the front. */
  drop(n: number): void {
    this.head += n;
    if (this.head >= this.#tail) this.head = this.#tail = 0;
  }

  clear(): void {
    this.drop(this.length);
  }

  /**
   * How many bytes have arrived by `nowMs`, at most `capacity`: those beyond the first `capacity`
   * still unread came into a full FIFO, which the hardware discards, so they are dropped here.
   */
  arrived(nowMs: number, capacity: number): number {
    const head = this.head;
    const tail = this.#tail;
    const times = this.times;
    let n = 0;
    while (head + n < tail && times[head + n] <= nowMs) n++;
    if (n <= capacity) return n;
    this.times.copyWithin(head + capacity, head + n, tail);
    this.bytes.copyWithin(head + capacity, head + n, tail);
    this.#tail = tail - (n - capacity);
    return capacity;
  }

  /** Drops the bytes that arrived by `nowMs`. */
  dropUntil(nowMs: number): void {
    let n = 0;
    while (n < this.length && this.times[this.head + n] <= nowMs) n++;
    this.drop(n);
  }

  #room(): void {
    const n = this.#tail - this.head;
    [this.times, this.bytes] = roomAtEnd([this.times, this.bytes], this.head, this.#tail);
    this.head = 0;
    this.#tail = n;
  }
}

/** One node's hardware world. */
export class Board {
  readonly clock: VirtualClock;
  readonly i2c = new Map<number, I2CDevice>();
  readonly serial = new Map<number, SerialDevice>();
  readonly pulses = new Map<number, PulseSource>();
  /** 1-Wire buses: the chips on each pin. */
  readonly oneWire = new Map<number, OneWireDevice[]>();
  /** Analog inputs: millivolts at the ADC pin now, as a function of virtual time. */
  readonly analog = new Map<number, (nowMs: number) => number>();
  /** Digital pin levels; inputs are set by the simulation, outputs by the firmware. */
  readonly pins = new Map<number, number>();
  /** Pins the firmware drove as outputs since the last reset or deep sleep (`driveOutput`). */
  readonly outputs = new Set<number>();
  /** The level a driven line rests at when the pad lets go of it (deep sleep, reset): 0 by the boards' pull-downs, 1 for an open-drain line pulled up. */
  readonly restLevels = new Map<number, number>();
  /**
   * Pins latched by `deepSleep({ hold })`: their level stays as it was through the sleep and after the
   * wake until `releaseHold`; the value is what the firmware last wrote meanwhile, applied at the release.
   */
  readonly latched = new Map<number, number>();
  /**
   * Pads an output was closed on (`resetPad`): ESP-IDF's gpio_reset_pin, which Moddable's Digital runs at close,
   * stops driving them and turns their internal pull-up on, so the line rises against the boards' 100 kΩ
   * pull-downs. A digital pad loses the pull in deep sleep; an RTC pad's pull-up is in the RTC domain and stays,
   * through the sleep and the wake, until a power cut (the model keeps it until then, as the ext0 wake keeps the
   * RTC peripherals powered on the water node).
   */
  readonly pulledUp = new Set<number>();
  /**
   * The chip's RTC pads (`RTC_PADS`), when the board says which chip it is: a latched pad that is not one
   * holds through the sleep only, and lets go of its line when the chip wakes (the line goes to its rest
   * level), and only these can wake the chip (ext0, ext1) or be read by the ULP. Undefined: every pad
   * holds through the wake and may do either.
   */
  rtcPads: ReadonlySet<number> | undefined;
  /** The chip, when the board says which (`RTC_PADS`' keys): what its sleep modes allow differs (native-sleep.ts). */
  chip: string | undefined;
  /** Flash: preference domain → key → value. Survives reboots and power cuts. */
  readonly flash = new Map<string, Map<string, string | boolean | number | ArrayBuffer>>();
  /**
   * Size of the NVS partition that holds `flash`, bytes: Moddable's default 24 KB unless the build's partition
   * table says otherwise (`SimNode` takes the manifests' `config.nvsBytes`). The preference stand-in refuses a
   * write that would not fit, as ESP-IDF's NVS does (platform/preference.ts).
   */
  nvsBytes = 0x6000;
  /** NVS entries (32 bytes each) the values in `flash` and their namespaces take (platform/preference.ts keeps it). */
  nvsEntries = 0;
  /**
   * Virtual ms the firmware's own work takes around each `Timer.delay` (parsing, garbage collection): the
   * simulator runs JavaScript in no virtual time, so timing margins (a UART FIFO filling between polls) are
   * tested by setting this. 0 by default.
   */
  taskOverheadMs = 0;
  /** Count of preference writes, to check the firmware spares the flash. */
  flashWrites = 0;
  /** Bytes in flight from serial devices to the host, per port. */
  readonly serialRx = new Map<number, RxQueue>();
  /** Wall-clock offset set by the firmware (`Time.set`), in ms, added to the RTC's reading (`rtcClockMs`); undefined until set (and again after a power cut). */
  wallOffsetMs: number | undefined;
  /**
   * Virtual time of this power-on (the first boot, or the first after a power cut): the RTC counts from
   * it, as the ESP32's does from its power-on reset. Undefined while the board has not been powered.
   */
  powerOnMs: number | undefined;
  /**
   * Rate error of the RTC, parts per million (positive: it runs fast). The ESP32 keeps time through
   * deep sleep on its 150 kHz RC oscillator (ESP-IDF's default RTC_SLOW_CLK), which drifts with
   * temperature; 0 (the default) is an ideal RTC. It paces the RTC count (`native:rtc`), the wall
   * clock set on it (`Time.set`), timed deep-sleep wakes and the ULP's minutes; `Time.ticks` runs on
   * the crystal and keeps true time.
   */
  rtcPpm = 0;
  /** Virtual time the boot in progress (or the last) started: Moddable's `Time.ticks` counts from it, as esp_timer does from each boot. */
  bootStartMs = 0;
  /**
   * What open IO instances hold in this boot, with the boot that took it: GPIOs (a serial port's or a
   * digital pin's, key = pin) and I2C targets (key = `i2cKey`). Moddable refuses a second holder.
   */
  readonly held = new Map<number, number>();
  /** Deep-sleep request from the firmware: wake time in virtual ms, or undefined. */
  sleepUntilMs: number | undefined;
  /** Power cuts so far: state in RTC memory (retained words, the ULP's counts) belongs to one power-on. */
  powerCuts = 0;
  /** State kept in RTC memory across deep sleep (lost on power cut). */
  retained: ArrayBuffer | undefined;
  /**
   * The boot in progress (`NodeHost` numbers them from 1; 0: no boot is
   * running). Deep sleep ends a boot and all it held, so a copy the platform
   * handed to an earlier boot can be refilled for this one instead of
   * allocated (`lentCopy` in platform/bytes.ts).
   */
  bootSerial = 0;
  #boots = 0;
  /** The ULP program running since this power-on (`native:ulp-pulse`), if the firmware started one. */
  ulp: UlpProgram | undefined;
  /** The boot in progress was woken by the ULP (what `wakeCause()` reports). */
  wokeByUlp = false;

  /** What the firmware reads from `mc/config` (Moddable: the manifest's `config` section). */
  config: { [key: string]: unknown } = {};
  /** Seed for the board's own randomness (the chip's hardware RNG in the simulator). */
  readonly seed: number;

  constructor(clock = new VirtualClock(), seed = 1) {
    this.clock = clock;
    this.seed = seed;
  }

  /** Attaches an emulated chip at an I2C address. */
  attachI2C(address: number, device: I2CDevice): void {
    this.i2c.set(address, device);
  }

  /** Attaches an emulated device to UART `port`. */
  attachSerial(port: number, device: SerialDevice, baud: number): void {
    this.serial.set(port, device);
    const rx = new RxQueue();
    this.serialRx.set(port, rx);
    const clock = this.clock;
    device.attach({
      baud,
      clock,
      deliver(bytes: Uint8Array | number[], atMs?: number) {
        // 10 bits per byte on the wire (start, 8 data, stop).
        const byteMs = 10000 / baud;
        let t = atMs ?? clock.nowMs;
        const last = rx.lastMs;
        if (t < last) t = last;
        for (let i = 0; i < bytes.length; i++) {
          t += byteMs;
          rx.push(t, bytes[i] & 0xff);
        }
      },
    });
  }

  /** Marks the start (true) or end of a boot (`NodeHost`). */
  booting(on: boolean): void {
    this.bootSerial = on ? ++this.#boots : 0;
    if (!on) return;
    this.powerOnMs ??= this.clock.nowMs;
    this.bootStartMs = this.clock.nowMs;
    // A deep sleep resets the chip: nothing the last boot opened is open.
    this.held.clear();
    // ESP-IDF: gpio_deep_sleep_hold_en holds a digital pad only while the chip sleeps; an RTC pad's hold lasts.
    const rtc = this.rtcPads;
    if (rtc) {
      for (const pin of this.latched.keys()) {
        if (rtc.has(pin)) continue;
        this.latched.delete(pin);
        this.pins.set(pin, this.restLevels.get(pin) ?? 0);
      }
    }
  }

  /** Puts a 1-Wire chip on the bus at `pin`. */
  attachOneWire(pin: number, device: OneWireDevice): void {
    const bus = this.oneWire.get(pin);
    if (bus) bus.push(device);
    else this.oneWire.set(pin, [device]);
  }

  /** Connects a pulse source to a pin. */
  attachPulses(pin: number, source: PulseSource): void {
    this.pulses.set(pin, source);
  }
}

/** What the board's RTC reads now, in virtual ms: now itself on an ideal RTC, else drifted since power-on. */
export function rtcClockMs(board: Board): number {
  const t = board.clock.nowMs;
  if (board.rtcPpm === 0) return t;
  const on = board.powerOnMs ?? 0;
  return on + (t - on) * (1 + board.rtcPpm / 1e6);
}

/** The wall clock the firmware set (`Time.set`), kept on the RTC, now, in Unix ms (unrounded); undefined while unset. */
export function wallClockMs(board: Board): number | undefined {
  return board.wallOffsetMs === undefined ? undefined : rtcClockMs(board) + board.wallOffsetMs;
}

/** The virtual ms an RTC span of `rtcMs` takes (a timed sleep, the ULP's minute). */
export function rtcSpanToVirtualMs(board: Board, rtcMs: number): number {
  return board.rtcPpm === 0 ? rtcMs : rtcMs / (1 + board.rtcPpm / 1e6);
}

let current: Board | undefined;

/** Makes `board` the one the platform modules act on (the node about to run). */
export function setCurrentBoard(board: Board | undefined): void {
  current = board;
}

/** The board whose firmware is running; throws if none is. */
export function currentBoard(): Board {
  if (!current) throw new Error("no simulated board is current: call setCurrentBoard() first");
  return current;
}

/** The NVS partition of the shipped builds, bytes (manifests/partitions.csv, and `config.nvsBytes` in manifests/common.json). */
export const MANIFEST_NVS_BYTES = 0x10000;

/** RTC-capable GPIOs per chip (ESP32 and ESP32-S3 technical reference manuals' RTC IO tables). */
export const RTC_PADS: { readonly [chip: string]: ReadonlySet<number> } = {
  esp32: new Set([0, 2, 4, 12, 13, 14, 15, 25, 26, 27, 32, 33, 34, 35, 36, 37, 38, 39]),
  esp32s3: new Set(Array.from({ length: 22 }, (_, i) => i)),
};

/**
 * The firmware drives `pin` to `level`: the pad follows unless it is latched, which keeps the write for its release.
 * `rest` is the level the line goes to when the pad lets go of it (an open-drain line: its pull-up, 1).
 */
export function driveOutput(board: Board, pin: number, level: number, rest = 0): void {
  board.outputs.add(pin);
  board.restLevels.set(pin, rest);
  if (board.latched.has(pin)) board.latched.set(pin, level);
  else board.pins.set(pin, level);
}

/**
 * Deep sleep powers the digital pads down: an output not in `hold` floats to its rest level (the boards pull
 * the lines the firmware drives low, the sensor rail's and the valve driver's; the modem pulls its reset line
 * up); the pins in `hold` keep their level.
 */
export function padsAtSleep(board: Board, hold: readonly number[] | undefined): void {
  if (hold) for (const pin of hold) if (!board.latched.has(pin)) board.latched.set(pin, board.pins.get(pin) ?? 0);
  // A pad whose internal pull-up a close turned on rests high.
  for (const pin of board.outputs) if (!board.latched.has(pin)) board.pins.set(pin, board.pulledUp.has(pin) ? 1 : (board.restLevels.get(pin) ?? 0));
  board.outputs.clear();
  for (const pin of board.pulledUp) {
    if (board.rtcPads && !board.rtcPads.has(pin)) {
      board.pulledUp.delete(pin);
      if (!board.latched.has(pin)) board.pins.set(pin, board.restLevels.get(pin) ?? 0);
    }
  }
}

/**
 * `Digital.close()` of an output on the ESP32 (gpio_reset_pin): the pad stops driving and its internal pull-up
 * comes on, lifting the line to a logic high against the boards' pull-downs (`Board.pulledUp`).
 */
export function resetPad(board: Board, pin: number): void {
  board.outputs.delete(pin);
  board.pulledUp.add(pin);
  if (!board.latched.has(pin)) board.pins.set(pin, 1);
}

/** A reset other than a deep-sleep wake clears the latches too: every driven or latched line goes to its rest level. */
export function padsAtReset(board: Board): void {
  for (const pin of board.latched.keys()) board.outputs.add(pin);
  for (const pin of board.pulledUp) board.outputs.add(pin);
  board.pulledUp.clear();
  board.latched.clear();
  for (const pin of board.outputs) board.pins.set(pin, board.restLevels.get(pin) ?? 0);
  board.outputs.clear();
}

/** `releaseHold`: a latched pin takes the level the firmware last wrote to it. */
export function releasePads(board: Board, pins: readonly number[]): void {
  for (const pin of pins) {
    const level = board.latched.get(pin);
    if (level === undefined) continue;
    board.latched.delete(pin);
    board.outputs.add(pin);
    board.pins.set(pin, level);
  }
}

/** The `held` key of an I2C target: above every GPIO number, one per data pin, clock pin and address. */
export function i2cKey(data: number, clock: number, address: number): number {
  return 256 + (data * 256 + clock) * 128 + address;
}

/** Takes `key` for an IO instance of this boot and returns the boot; throws `error` if another instance holds it. */
export function hold(board: Board, key: number, error: () => Error): number {
  if (board.held.has(key)) throw error();
  board.held.set(key, board.bootSerial);
  return board.bootSerial;
}

/** Gives `key` back, unless a later boot's instance holds it now. */
export function release(board: Board, key: number, boot: number): void {
  if (board.held.get(key) === boot) board.held.delete(key);
}
