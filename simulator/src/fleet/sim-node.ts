/**
 * One simulated node running the real firmware entry point of its type
 * (firmware/src/nodes/<type>/main.ts) on a simulated board: the chips of the
 * board table (firmware/src/boards) as emulators on the buses and pins the
 * table names, the LoRaWAN modem emulator on the modem UART transmitting into
 * a shared `SimNetwork`, test keys provisioned into the board's flash and
 * registered on the network server, a battery on the ADC pin, and a
 * `NodeHost` that boots `main` afresh at every wake.
 *
 * Pin wakes. After every boot the node looks at which ext0 wake the firmware
 * armed (LIS3DH INT1 on a level node, the valve override switch on a water
 * node with a valve). While one is armed it looks at the pin every `pollMs`
 * of virtual time (the LIS3DH emulator cannot say in advance when its
 * interrupt will fire; it replays its samples as the clock advances, so an
 * interrupt latches at the right time and is seen at most `pollMs` later).
 *
 * Events. `nextEventMs` is the virtual time of the node's next boot, pin poll
 * or scheduled action, and `step()` handles exactly that one, so a fleet
 * runner can interleave many nodes in time order (run-fleet.ts).
 *
 * Observation. The node records the priority messages (alarms, config acks,
 * status) the firmware queued, by watching the queue's writes to flash, so a
 * test can check that every alarm the node raised reached the server.
 */
import { Board, MANIFEST_NVS_BYTES, RTC_PADS, setCurrentBoard, wallClockMs } from "../core/board.ts";
import { VirtualClock } from "../core/clock.ts";
import { Rng } from "../core/rng.ts";
import { NodeHost, type BootRecord, type FirmwareMain } from "../core/node-host.ts";
import { CLEAN_AIR, type AirEnvironment } from "../devices/air-environment.ts";
import { Scd41Emulator } from "../devices/scd41.ts";
import { Sen5xEmulator } from "../devices/sen5x.ts";
import { Pms5003Emulator } from "../devices/pms5003.ts";
import { PulseMeter } from "../devices/pulse-meter.ts";
import { Ds18b20Emulator } from "../devices/ds18b20.ts";
import { Supply } from "../devices/supply.ts";
import { A02yyuw, type A02yyuwTarget } from "../devices/a02yyuw.ts";
import { Vl53l1x, type Vl53l1xTarget } from "../devices/vl53l1x.ts";
import { Lis3dh, type Lis3dhAcceleration } from "../devices/lis3dh.ts";
import { WioE5Emulator } from "../network/wio-e5-emulator.ts";
import { Rak3172Emulator } from "../network/rak3172-emulator.ts";
import type { AtModem } from "../network/at-modem.ts";
import type { SimNetwork } from "../network/network.ts";
import type { RegionName } from "../network/regions.ts";
import { powerCut as cutPower, wakePins } from "../platform/native-sleep.ts";
import { BOARDS, type BoardConfig } from "../../../firmware/src/boards/index.ts";
import { writeKeys, type LoRaWanKeys } from "../../../firmware/src/link/provisioning.ts";
import { defaultConfig, saveConfig, type NodeConfig } from "../../../firmware/src/nodes/config.ts";
import { decodeUplink } from "../../../codecs/src/index.ts";
import airMain from "../../../firmware/src/nodes/air/main.ts";
import waterMain from "../../../firmware/src/nodes/water/main.ts";
import levelMain from "../../../firmware/src/nodes/level/main.ts";

export type NodeType = "air" | "water" | "level";
export type ModemModel = "wio-e5" | "rak3172";

/** The node's surroundings as functions of virtual time (ms); each has a quiet default. */
export interface SimNodeEnvironment {
  /** Air node: the air at the sensors (default: clean air). */
  air?: (tMs: number) => AirEnvironment;
  /** Water node: true flow through the meter, L/min (default 0); nothing flows while the valve is closed. */
  flowLMin?: (tMs: number) => number;
  /** Water node: until when `flowLMin` keeps its value at tMs (lets the meter emulator integrate steady stretches at once; default: unknown). */
  flowSteadyUntil?: (tMs: number) => number;
  /** Water node with a DS18B20 probe: the water's temperature, °C (default 12). */
  waterTemperatureC?: (tMs: number) => number;
  /** Water node with a valve: the manual override switch is on (default never). */
  valveOverride?: (tMs: number) => boolean;
  /** Level node: what the ultrasonic sensor sees (default a hard surface 1000 mm away). */
  target?: (tMs: number) => A02yyuwTarget;
  /**
   * Level node with a VL53L1X: what the laser sees (default from `target`: hard
   * surfaces as grey, soft ones as dark, water and nothing as such).
   */
  tofTarget?: (tMs: number) => Vl53l1xTarget;
  /** Level node: acceleration on the LIS3DH's axes in mg, gravity included (default lying flat). */
  acceleration?: (tMs: number) => Lis3dhAcceleration;
  /** Level node: until when `acceleration` keeps its value at tMs (lets the LIS3DH emulator settle steady stretches at once; default: unknown). */
  accelerationSteadyUntil?: (tMs: number) => number;
}

/** The battery: a linear discharge by default, or any voltage curve (undefined: no battery sense, mains). */
export type BatteryModel = { startMv?: number; mvPerDay?: number } | ((tMs: number) => number | undefined);

/** An action at a virtual time (fault injection, a power cut, a downlink from the test). */
export interface ScheduledAction {
  atMs: number;
  run: (node: SimNode) => void;
}

/** Options of `SimNode`. */
export interface SimNodeOptions {
  type: NodeType;
  /** Name in reports. */
  id: string;
  /** Seeds every random stream of this node (emulators, keys, the chip's RNG). */
  seed: number;
  network: SimNetwork;
  /** Position in metres (x east, y north, z height, default 2). */
  position: { x: number; y: number; z?: number };
  /** LoRaWAN modem fitted (default "wio-e5"). */
  modem?: ModemModel;
  /**
   * Keep the logs tests read (default true): the boot records, the queued messages and
   * readings, the modem's AT transcript, the chips' command logs. Long runs that never
   * read them turn them off.
   */
  logs?: boolean;
  /** Region (default the network server's). */
  region?: RegionName;
  /**
   * The manifest's `config` as the firmware reads it from `mc/config`:
   * platform, sensors, meter, valve, variant, distanceSensor, adr, dataRate…
   * (`modem` and `region` are taken from the options above).
   */
  config?: { [key: string]: unknown };
  /** Settings stored in flash before the first boot, as if set by downlinks at installation (intervals, thresholds). */
  settings?: Partial<NodeConfig>;
  environment?: SimNodeEnvironment;
  battery?: BatteryModel;
  /** Scheduled actions, e.g. `{ atMs, run: (n) => n.devices.scd41?.inject("nack") }`. */
  faults?: ScheduledAction[];
  /** A number unique to the node on its network, from which the server derives its DevAddrs (sharded runs; default: join order). */
  addressIndex?: number;
  /** DevEUI (default random from the seed). */
  devEui?: string;
  /** Virtual time of the first boot (default: a random moment in the first minute). */
  firstBootMs?: number;
  /** Rate error of the board's RTC, ppm (positive: fast; default 0, an ideal RTC; `Board.rtcPpm`). */
  rtcPpm?: number;
  /** Clock to use (default a new one at the default epoch); every node must share the network's epoch. */
  clock?: VirtualClock;
  /** How often an armed wake pin is looked at while the node sleeps (default 10 s). */
  pollMs?: number;
  /** Called right before every boot (the clock is at the boot's start), e.g. to record ground truth. */
  beforeBoot?: (node: SimNode) => void;
  /** Called right after every boot (the clock is where the firmware went to sleep). */
  afterBoot?: (node: SimNode, record: BootRecord) => void;
}

/** The emulated chips of one node, for fault injection and ground truth. */
export interface SimNodeDevices {
  scd41?: Scd41Emulator;
  sen5x?: Sen5xEmulator;
  pms5003?: Pms5003Emulator;
  meter?: PulseMeter;
  ds18b20?: Ds18b20Emulator;
  sonar?: A02yyuw;
  tof?: Vl53l1x;
  lis3dh?: Lis3dh;
}

/** A priority message (alarm, config ack, status) as the firmware queued it in flash. */
export interface QueuedMessage {
  /** Virtual time it was written. */
  atMs: number;
  kind: "alarm" | "ack" | "status";
  port: number;
  bytes: number[];
  /** Decoded by the codec (undefined if it does not decode). */
  data: Record<string, unknown> | undefined;
}

/** A routine reading as the firmware queued it in flash (before any batching by the link). */
export interface QueuedReading {
  /** Virtual time it was written. */
  atMs: number;
  /** Its number in the queue (grows by one per reading). */
  n: number;
  port: number;
  /** The reading as stored: core bytes, and the extension when the node added one. */
  bytes: number[];
}

/** Counters of a node's run. */
export interface SimNodeCounters {
  boots: number;
  /** Virtual ms the firmware ran, over all boots. */
  awakeMs: number;
  /** Boots started by a wake pin. */
  pinWakes: number;
  /** Boots started by the ULP program (water node: minute ring full, or a burst minute). */
  ulpWakes: number;
  /** Pin polls made while a wake pin was armed. */
  polls: number;
  powerCuts: number;
  /** Virtual ms the switched sensor rail (`sensorPower`) was on, up to the end of the last wake (both engines count alike). */
  railMs: number;
  /**
   * Virtual ms the PM sensor on that rail ran its fan and laser, up to the end of the last wake: a PMS5003's
   * time not asleep (absent on other builds, whose sensors draw their active current whenever the rail is on).
   */
  sensorActiveMs?: number;
  /** The node's wall clock minus true time at the end of its last wake, ms (absent while its clock is unset). */
  clockErrorMs?: number;
}

/**
 * Time the water node's valve supply takes to charge its 4700 µF reservoir to about 9 V, ms: 0.19 J from the
 * TPS61040 at the quarter watt or so the budget's 66 mA at the cell allows (hardware/water/power.json).
 */
export const RESERVOIR_CHARGE_MS = 750;

const MAINS: { [T in NodeType]: FirmwareMain } = { air: airMain, water: waterMain, level: levelMain };

/** Meter presets of the firmware's pulse-flow driver, as the emulator models them (nominal K or litres per pulse). */
const METERS: { [name: string]: { pulsesPerLitre?: number; litresPerPulse?: number; mlPerPulse: number } } = {
  "yf-s201": { pulsesPerLitre: 450, mlPerPulse: 1000 / 450 },
  "yf-b1": { pulsesPerLitre: 660, mlPerPulse: 1000 / 660 },
  fs400a: { pulsesPerLitre: 288, mlPerPulse: 1000 / 288 },
  "reed-1l": { litresPerPulse: 1, mlPerPulse: 1000 },
  "reed-10l": { litresPerPulse: 10, mlPerPulse: 10000 },
  "reed-100l": { litresPerPulse: 100, mlPerPulse: 100000 },
  "reed-1000l": { litresPerPulse: 1000, mlPerPulse: 1000000 },
};

const KINDS: { [code: number]: QueuedMessage["kind"] } = { 1: "alarm", 2: "ack", 3: "status" };
const FLAT: Lis3dhAcceleration = { x: 0, y: 0, z: 1000 };

function hex(rng: Rng, digits: number): string {
  let s = "";
  for (let i = 0; i < digits; i++) s += "0123456789ABCDEF"[rng.int(0, 15)];
  return s;
}

/**
 * The link's flash domain ("lq", layout in firmware/src/link/uplink-queue.ts),
 * watched: every priority record written ("a<slot>", magic 0xA5) is logged
 * once by its sequence number, every routine record in a page written
 * ("oa", "ob", "p<n>", magic 0xC5) once by its record number.
 */
class QueueTap extends Map<string, string | boolean | number | ArrayBuffer> {
  readonly #seen = new Set<number>();
  #nextReading = 0;
  constructor(readonly clock: VirtualClock, readonly log: QueuedMessage[], readonly readings: QueuedReading[]) {
    super();
  }

  override set(key: string, value: string | boolean | number | ArrayBuffer): this {
    super.set(key, value);
    if ((key === "oa" || key === "ob" || key[0] === "p") && value instanceof ArrayBuffer && value.byteLength >= 20) {
      const b = new Uint8Array(value);
      if (b[0] !== 0xc5) return this;
      const page = new DataView(value).getUint32(4, true);
      for (let i = 0; i < b[2]; i++) {
        const n = page * b[1] + i;
        const at = 16 + 24 * i;
        if (n < this.#nextReading || at + 24 > b.length) continue;
        this.#nextReading = n + 1;
        this.readings.push({ atMs: this.clock.nowMs, n, port: b[at], bytes: Array.from(b.subarray(at + 6, at + 6 + Math.min(18, b[at + 1]))) });
      }
    } else if (key[0] === "a" && value instanceof ArrayBuffer && value.byteLength >= 16) {
      const b = new Uint8Array(value);
      const kind = KINDS[b[1]];
      const seq = new DataView(value).getUint32(4, true);
      if (b[0] === 0xa5 && kind && !this.#seen.has(seq) && 12 + b[3] + 4 <= b.length) {
        this.#seen.add(seq);
        const bytes = Array.from(b.subarray(12, 12 + b[3]));
        const r = decodeUplink({ bytes, fPort: b[2] });
        this.log.push({ atMs: this.clock.nowMs, kind, port: b[2], bytes, data: r.errors.length ? undefined : (r.data as Record<string, unknown>) });
      }
    }
    return this;
  }
}

/** A simulated node. */
export class SimNode {
  readonly type: NodeType;
  readonly id: string;
  readonly board: Board;
  readonly host: NodeHost;
  readonly table: BoardConfig;
  readonly network: SimNetwork;
  readonly region: RegionName;
  readonly modemModel: ModemModel;
  /** Rate error of the board's RTC, ppm (`SimNodeOptions.rtcPpm`). */
  get rtcPpm(): number {
    return this.board.rtcPpm;
  }
  /** The modem emulator (fault injection: `modem.inject("reboot")`, …). */
  readonly modem: AtModem;
  readonly devices: SimNodeDevices = {};
  readonly keys: Required<LoRaWanKeys>;
  readonly counters: SimNodeCounters = { boots: 0, awakeMs: 0, pinWakes: 0, ulpWakes: 0, polls: 0, powerCuts: 0, railMs: 0 };
  /** Alarms, config acks and status messages the firmware queued, in order. */
  readonly queued: QueuedMessage[] = [];
  /** Routine readings the firmware queued, in order. */
  readonly readings: QueuedReading[] = [];
  /** Valve position changes (water node with a valve): closed or open from `atMs` on. */
  readonly valveLog: { atMs: number; closed: boolean }[] = [];
  readonly #actions: ScheduledAction[] = [];
  readonly #pollMs: number;
  readonly #beforeBoot: ((node: SimNode) => void) | undefined;
  readonly #afterBoot: ((node: SimNode, record: BootRecord) => void) | undefined;
  /** Wake-pin levels as the world sets them, by pin. */
  readonly #pinSources = new Map<number, () => number>();
  /** The ext0 wake the last boot armed. */
  #armed: { pin: number; level: number } | undefined;
  #nextPollMs = Number.POSITIVE_INFINITY;
  /** The switched sensor rail (`sensorPower`): whether it is on, and its time on for `counters.railMs`. */
  #rail: Supply;

  constructor(o: SimNodeOptions) {
    this.type = o.type;
    this.id = o.id;
    this.network = o.network;
    this.region = o.region ?? (o.network.server.region.name as RegionName);
    this.modemModel = o.modem ?? "wio-e5";
    this.#pollMs = o.pollMs ?? 10_000;
    this.#beforeBoot = o.beforeBoot;
    this.#afterBoot = o.afterBoot;
    const rng = new Rng(o.seed);
    const clock = o.clock ?? new VirtualClock();
    const board = (this.board = new Board(clock, rng.fork("board").nextU32()));
    this.#rail = new Supply(clock, false);
    if (o.rtcPpm) board.rtcPpm = o.rtcPpm;
    // The shipped manifests' NVS partition (manifests/common.json config.nvsBytes, manifests/partitions.csv) unless the test says otherwise.
    const config: { [key: string]: unknown } = { platform: "esp32/nodemcu", nvsBytes: MANIFEST_NVS_BYTES, ...o.config, modem: this.modemModel, region: this.region };
    board.config = config;
    if (typeof config.nvsBytes === "number") board.nvsBytes = config.nvsBytes;
    const table = (this.table = BOARDS[config.platform as string] ?? BOARDS["esp32/nodemcu"]);
    board.rtcPads = RTC_PADS[table.chip];
    board.chip = table.chip;
    const env = o.environment ?? {};

    // Flash first: the link's queue domain is watched before anything is written to it.
    const logs = o.logs ?? true;
    if (logs) board.flash.set("lq", new QueueTap(clock, this.queued, this.readings));

    this.#attachSensors(rng, config, env);
    this.#attachBattery(o.battery ?? {});

    // The modem and its identity on the network.
    const devEui = (o.devEui ?? (this.modemModel === "rak3172" ? "AC1F09FF" : "2CF7F120") + hex(rng.fork("deveui"), 8)).toUpperCase();
    const keyRng = rng.fork("keys");
    this.keys = { appKey: hex(keyRng, 32), joinEui: hex(keyRng, 16), devEui };
    const modemOptions = { medium: o.network, devEui, seed: rng.fork("modem"), region: this.region };
    this.modem = this.modemModel === "rak3172" ? new Rak3172Emulator(modemOptions) : new WioE5Emulator(modemOptions);
    board.attachSerial(table.modem.port, this.modem, this.modem.baud);
    // RST, active low (open drain, the modem's own pull-up): low holds it in reset, its release reboots it.
    this.#onPinWrite(table.modem.reset, (level) => this.modem.setReset(level === 0));
    if (!logs) {
      this.modem.keepTranscript = false;
      for (const chip of [this.devices.scd41, this.devices.sen5x, this.devices.pms5003]) if (chip) chip.keepCommandLog = false;
    }
    o.network.placeDevice(devEui, { x: o.position.x, y: o.position.y, z: o.position.z ?? 2 });
    o.network.server.addDevice({ devEui, joinEui: this.keys.joinEui, appKey: this.keys.appKey, deviceId: o.id, ...(o.addressIndex === undefined ? {} : { addressIndex: o.addressIndex }) });

    // Provisioning: the keys (and any installation settings) in the board's flash.
    setCurrentBoard(board);
    try {
      writeKeys(this.keys);
      if (o.settings) saveConfig({ ...defaultConfig(o.type), ...o.settings });
    } finally {
      setCurrentBoard(undefined);
    }

    for (const a of o.faults ?? []) this.at(a.atMs, a.run);
    const first = o.firstBootMs ?? clock.nowMs + rng.fork("first-boot").int(1000, 60_000);
    this.host = new NodeHost(board, MAINS[o.type], first);
    if (!logs) this.host.maxRecords = 0;
  }

  get devEui(): string {
    return this.keys.devEui;
  }

  get clock(): VirtualClock {
    return this.board.clock;
  }

  /** Boot records (start, awake time, requested wake). */
  get boots(): readonly BootRecord[] {
    return this.host.boots;
  }

  /** The ext0 wake pin the firmware armed at its last sleep, if any. */
  get armedWake(): { pin: number; level: number } | undefined {
    return this.#armed;
  }

  /** Virtual time of the next thing this node does: boot, look at an armed pin, or run a scheduled action. */
  get nextEventMs(): number {
    const action = this.#actions.length ? this.#actions[0].atMs : Number.POSITIVE_INFINITY;
    return Math.min(this.host.nextEventMs, this.#armed ? this.#nextPollMs : Number.POSITIVE_INFINITY, action);
  }

  /** Schedules `run` at virtual time `atMs` (kept in time order; equal times in the order given). */
  at(atMs: number, run: (node: SimNode) => void): void {
    let i = this.#actions.length;
    while (i > 0 && this.#actions[i - 1].atMs > atMs) i--;
    this.#actions.splice(i, 0, { atMs, run });
  }

  /** Handles the next event (see `nextEventMs`); returns the boot record if the firmware ran. */
  step(): BootRecord | undefined {
    const t = this.nextEventMs;
    if (t === Number.POSITIVE_INFINITY) return undefined;
    if (this.#actions.length && this.#actions[0].atMs === t) {
      this.clock.advanceTo(t);
      this.#actions.shift()!.run(this);
      return undefined;
    }
    if (this.#armed && this.#nextPollMs === t && t < this.host.nextWakeMs) {
      this.clock.advanceTo(t);
      this.counters.polls++;
      const level = this.#pinSources.get(this.#armed.pin)?.() ?? 0;
      if (level !== this.#armed.level) {
        this.#nextPollMs = this.#nextPoll(t);
        return undefined;
      }
      this.counters.pinWakes++;
      this.host.wakeAt(t);
    } else if (this.host.ulpBoundaryMs === t && t < this.host.nextWakeMs) {
      // The ULP program's minute boundary: it may wake the CPU, which costs a boot only then.
      this.clock.advanceTo(t);
      if (!this.host.ulpBoundary()) return undefined;
      this.counters.ulpWakes++;
    }
    return this.#boot();
  }

  /** Runs the node (boots, pin wakes, scheduled actions) until virtual time `untilMs`. */
  runUntil(untilMs: number): void {
    while (this.nextEventMs <= untilMs) this.step();
    this.clock.advanceTo(untilMs);
  }

  /**
   * Cuts the power now for `outageMs`: RTC memory (retained state, the ULP's
   * pulse count) is lost, the modem restarts, and the next boot is a power-on
   * when the power comes back.
   */
  powerCut(outageMs: number): void {
    cutPower(this.board); // counts board.powerCuts, which clears the ULP's pulse count
    this.counters.powerCuts++;
    this.modem.inject("reboot");
    this.#armed = undefined;
    this.host.wakeAt(this.clock.nowMs + outageMs);
  }

  /**
   * Drops what the node logs for tests (queued messages and readings, the
   * modem's AT transcript, the chips' command logs), so that a long run's
   * memory does not grow with the days.
   */
  forgetLogs(): void {
    this.queued.length = 0;
    this.readings.length = 0;
    this.modem.transcript.length = 0;
    const d = this.devices;
    if (d.scd41) d.scd41.commandLog.length = 0;
    if (d.sen5x) d.sen5x.commandLog.length = 0;
    if (d.pms5003) d.pms5003.commandLog.length = 0;
  }

  /** Whether the valve was closed at virtual time `tMs` (water node with a valve). */
  valveClosedAt(tMs: number): boolean {
    let closed = false;
    for (const v of this.valveLog) {
      if (v.atMs > tMs) break;
      closed = v.closed;
    }
    return closed;
  }

  #boot(): BootRecord {
    this.clock.advanceTo(this.host.nextWakeMs);
    this.#beforeBoot?.(this);
    this.#refreshPins();
    const record = this.host.bootOnce();
    this.counters.boots++;
    this.counters.awakeMs += record.awakeMs;
    this.counters.railMs = this.#rail.onMs();
    if (this.devices.pms5003) this.counters.sensorActiveMs = this.devices.pms5003.activeMs();
    const wall = wallClockMs(this.board);
    this.counters.clockErrorMs = wall === undefined ? undefined : Math.round(wall - (this.clock.epochUnixMs + this.clock.nowMs));
    this.#armed = this.#findArmedWake();
    this.#nextPollMs = this.#armed ? this.#nextPoll(this.clock.nowMs) : Number.POSITIVE_INFINITY;
    this.#afterBoot?.(this, record);
    return record;
  }

  /**
   * When to look at the armed pin next, from `t`: a poll period on, or the
   * first poll time at which the LIS3DH can have moved its INT1 (it proves
   * none can before, while the bin or drain is still: `quietUntilMs`).
   */
  #nextPoll(t: number): number {
    const next = t + this.#pollMs;
    const lis = this.devices.lis3dh;
    if (!lis || this.#armed?.pin !== this.table.accelInt1.pin) return next;
    const quiet = lis.quietUntilMs();
    if (!(quiet > next)) return next;
    return quiet === Number.POSITIVE_INFINITY ? quiet : t + Math.ceil((quiet - t) / this.#pollMs) * this.#pollMs;
  }

  /** Sets every wake input on the board to the level the world gives it now (what the firmware reads at boot). */
  #refreshPins(): void {
    for (const [pin, level] of this.#pinSources) this.board.pins.set(pin, level());
  }

  /**
   * Which ext0 wake the firmware armed: the `native:sleep` stand-in tells
   * which armed pins are at their wake level (`wakePins`), so each candidate
   * pin is tried at both levels and put back.
   */
  #findArmedWake(): { pin: number; level: number } | undefined {
    const board = this.board;
    setCurrentBoard(board);
    try {
      for (const pin of this.#pinSources.keys()) {
        const saved = board.pins.get(pin);
        try {
          for (const level of [0, 1]) {
            board.pins.set(pin, level);
            if (wakePins().includes(pin)) return { pin, level };
          }
        } finally {
          if (saved === undefined) board.pins.delete(pin);
          else board.pins.set(pin, saved);
        }
      }
      return undefined;
    } finally {
      setCurrentBoard(undefined);
    }
  }

  #attachSensors(rng: Rng, config: { [key: string]: unknown }, env: SimNodeEnvironment): void {
    const board = this.board;
    const clock = board.clock;
    const table = this.table;
    if (this.type === "air") {
      const air = env.air ?? (() => ({ ...CLEAN_AIR }));
      const environment = () => air(clock.nowMs);
      const sensors = (config.sensors ?? {}) as { scd41?: { fitted?: boolean }; sen5x?: { fitted?: boolean; model?: string }; pms5003?: { fitted?: boolean } };
      if (sensors.scd41?.fitted !== false) {
        this.devices.scd41 = new Scd41Emulator({ rng: rng.fork("scd41"), environment, clock });
        board.attachI2C(0x62, this.devices.scd41);
      }
      if (sensors.sen5x?.fitted !== false) {
        const model = sensors.sen5x?.model === "sen66" ? "SEN66" : "SEN55";
        const sen = (this.devices.sen5x = new Sen5xEmulator({ rng: rng.fork("sen5x"), environment, clock, model, powered: false }));
        board.attachI2C(model === "SEN66" ? 0x6b : 0x69, sen);
        // On the switched 5 V rail (hardware/air/README.md): powered only while the firmware drives or holds it on.
        this.#followRail((on) => sen.setPower(on));
      } else if (sensors.pms5003?.fitted) {
        const pms = (this.devices.pms5003 = new Pms5003Emulator({ rng: rng.fork("pms5003"), environment, clock, powered: false }));
        board.attachSerial(table.sensorUart.port, pms, 9600);
        this.#followRail((on) => pms.setPower(on));
      }
    } else if (this.type === "water") {
      const preset = METERS[(config.meter as string) ?? "reed-10l"] ?? METERS["reed-10l"];
      const flow = env.flowLMin ?? (() => 0);
      const steady = env.flowLMin ? env.flowSteadyUntil : () => Number.POSITIVE_INFINITY;
      const meterOptions = {
        clock, rng: rng.fork("meter"), flowLMin: (t: number) => (this.valveClosedAt(t) ? 0 : flow(t)),
        // A valve moves only at a boot, never ahead of the meter's integration (which stops within a step of now).
        ...(steady ? { steadyUntil: (t: number) => (this.valveClosedAt(t) ? Number.POSITIVE_INFINITY : steady(t)) } : {}),
      };
      this.devices.meter = new PulseMeter(preset.pulsesPerLitre ? { ...meterOptions, pulsesPerLitre: preset.pulsesPerLitre } : { ...meterOptions, litresPerPulse: preset.litresPerPulse });
      board.attachPulses(table.pulse.pin, this.devices.meter);
      if (config.waterTemperature === true) {
        const probe = (this.devices.ds18b20 = new Ds18b20Emulator({ rng: rng.fork("ds18b20"), clock, temperatureC: env.waterTemperatureC ?? (() => 12), powered: false }));
        board.attachOneWire(table.oneWire, probe);
        // On the switched 3V3 with the rail's other loads (hardware/water/README.md).
        this.#followRail((on) => probe.setPower(on));
      }
      if (config.valve === true) {
        const o = table.valveOverride;
        const override = env.valveOverride ?? (() => false);
        this.#pinSources.set(o.pin, () => (override(clock.nowMs) ? o.activeLevel : 1 - o.activeLevel));
        this.#watchValve();
      }
    } else {
      const target: (t: number) => A02yyuwTarget = env.target ?? (() => ({ distanceMm: 1000 }));
      if (config.distanceSensor === "vl53l1x") {
        const surfaces = { hard: "grey", soft: "dark", water: "water", none: "none" } as const;
        const tofTarget = env.tofTarget ?? ((t: number) => {
          const x = target(t);
          return { distanceMm: x.distanceMm, surface: surfaces[x.surface ?? "hard"] };
        });
        this.devices.tof = new Vl53l1x({ clock, rng: rng.fork("vl53l1x"), target: tofTarget });
        board.attachI2C(0x29, this.devices.tof);
        // On the same switched rail; its emulator is always powered, but the rail's time on is still counted.
        this.#followRail(() => {});
      } else {
        const sonar = (this.devices.sonar = new A02yyuw({ clock, rng: rng.fork("a02yyuw"), target, powered: false }));
        board.attachSerial(table.sensorUart.port, sonar, 9600);
        // The module sits on the switched sensor rail (hardware/level/README.md): it runs only while the firmware turns it on.
        this.#followRail((on) => sonar.setPower(on));
      }
      const lis = (this.devices.lis3dh = new Lis3dh({
        clock, rng: rng.fork("lis3dh"), acceleration: env.acceleration ?? (() => FLAT),
        steadyUntil: env.acceleration ? env.accelerationSteadyUntil : () => Number.POSITIVE_INFINITY,
      }));
      board.attachI2C(0x18, lis);
      this.#pinSources.set(table.accelInt1.pin, () => lis.int1);
    }
  }

  /** The sensor rail: `power` follows it (the chips on it), and `#rail` keeps its time on. */
  #followRail(power: (on: boolean) => void): void {
    this.#onPinWrite(this.table.sensorPower, (level) => {
      const on = level === 1;
      if (on === this.#rail.on) return;
      this.#rail.switch(on);
      power(on);
    });
  }

  /** Calls `fn` with the level whenever something drives `pin` (the firmware, or the simulator). */
  #onPinWrite(pin: number, fn: (level: number) => void): void {
    const pins = this.board.pins;
    const set = pins.set.bind(pins);
    pins.set = (p: number, level: number) => {
      const r = set(p, level);
      if (p === pin) fn(level);
      return r;
    };
  }

  /**
   * Follows the H-bridge: a pulse on the close (open) line moves the latching valve once the bridge's supply has
   * charged its reservoir (RESERVOIR_CHARGE_MS after `valve.power` went high); from a flat reservoir it does not latch.
   */
  #watchValve(): void {
    const v = this.table.valve;
    let poweredAt: number | undefined;
    this.#onPinWrite(v.power, (level) => {
      if (!level) poweredAt = undefined;
      else poweredAt ??= this.clock.nowMs;
    });
    const moved = (closed: boolean) => {
      if (poweredAt === undefined || this.clock.nowMs - poweredAt < RESERVOIR_CHARGE_MS || this.valveClosedAt(this.clock.nowMs) === closed) return;
      this.valveLog.push({ atMs: this.clock.nowMs, closed });
      this.devices.meter?.flowChanged();
    };
    this.#onPinWrite(v.close, (level) => level && moved(true));
    this.#onPinWrite(v.open, (level) => level && moved(false));
  }

  #attachBattery(model: BatteryModel): void {
    const b = this.table.battery;
    const volts = typeof model === "function"
      ? model
      : (t: number) => (model.startMv ?? 3600) - ((model.mvPerDay ?? 2) * t) / 86_400_000;
    // The ADC sees the battery through the divider.
    this.board.analog.set(b.pin, (t) => {
      const mv = volts(t);
      return mv === undefined ? 0 : (mv * b.dividerDen) / b.dividerNum;
    });
  }
}
