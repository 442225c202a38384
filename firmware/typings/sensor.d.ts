/**
 * Shapes of the ECMA-419 Sensor Class Pattern as citysense drivers implement
 * it (firmware/src/drivers): one options bag naming the bus (`sensor`) and
 * optional interrupt pin (`alert`), `configure()`, `sample()` returning a fresh
 * object or undefined, `close()`. @moddable/typings 5.6 declares no
 * `embedded:sensor/*` modules; this one is type-only (import it with
 * `import type`), so it needs no runtime module on the board or in the simulator.
 *
 * Self-contained on purpose: both the firmware program (Moddable typings) and
 * the simulator program (stand-ins) include this file.
 */
declare module "embedded:sensor/_common" {
  export type PinSpecifier = number;
  export type PortSpecifier = number;

  /** An IO class: constructed with one options bag, as every ECMA-419 IO class is. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each IO class takes its own options bag; constructors are contravariant, so `unknown` would reject them all
  export type IOConstructor<Instance = unknown> = new (options: any) => Instance;

  /** I2C bus for a sensor: the IO class (I2C or SMBus) and its options; drivers add `address` and `hz`. */
  export interface I2CSensorBus<IO extends IOConstructor = IOConstructor> {
    io: IO;
    data: PinSpecifier;
    clock: PinSpecifier;
    port?: PortSpecifier;
    hz?: number;
    address?: number;
  }

  /** UART for a sensor (PMS5003, A02YYUW); drivers add `baud` (9600 for both). */
  export interface SerialSensorBus<IO extends IOConstructor = IOConstructor> {
    io: IO;
    port: PortSpecifier;
    receive: PinSpecifier;
    transmit?: PinSpecifier;
    baud?: number;
  }

  /** Pulse input for a counting sensor (water meter). */
  export interface PulseSensorInput<IO extends IOConstructor = IOConstructor> {
    io: IO;
    signal: PinSpecifier;
    /** Glitch filter in ns. */
    filter?: number;
  }

  /** Interrupt/alert pin of a sensor (LIS3DH INT1). */
  export interface AlertPin<IO extends IOConstructor = IOConstructor> {
    io: IO;
    pin: PinSpecifier;
    mode?: unknown;
  }

  /** Constructor options of a sensor driver. */
  export interface SensorOptions<Bus, Alert = AlertPin> {
    sensor: Bus;
    alert?: Alert;
    onAlert?: () => void;
    onError?: (error: Error) => void;
    target?: unknown;
  }

  /** The Sensor Class Pattern: `sample()` returns a fresh object, or undefined when nothing is ready. */
  export interface Sensor<Sample, Configuration = Record<string, never>> {
    configure(options: Partial<Configuration>): void;
    sample(): Sample | undefined;
    close(): void;
  }

  /* Sample properties of the ECMA-419 sensor classes the drivers follow, in the spec's units. */

  /** CarbonDioxide class: CO2 in ppm. */
  export interface CarbonDioxideSample {
    co2: number;
  }
  /** Humidity class: relative humidity in %. */
  export interface HumiditySample {
    humidity: number;
  }
  /** Temperature class: °C. */
  export interface TemperatureSample {
    temperature: number;
  }
  /** Proximity class: distance in cm (`max` the sensor's range). */
  export interface ProximitySample {
    near?: boolean;
    distance?: number;
    max?: number;
  }
  /** Accelerometer class: m/s² per axis. */
  export interface AccelerometerSample {
    x: number;
    y: number;
    z: number;
  }
}
