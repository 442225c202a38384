/**
 * `embedded:provider/builtin` (the ECMA-419 host provider, also the global
 * `device`) as Moddable builds it for ESP32 targets
 * (build/devices/esp32/targets/<board>/host/provider.js). Replaces
 * @moddable/typings 5.6 embedded_provider/builtin.d.ts, whose bus defaults
 * claim the full constructor options (hz, address) and omit the `io` class
 * they carry, and which promises `I2C.default` on every target (plain `-p
 * esp32` has none). Module-style for the same reason as embedded-io-i2c.d.ts.
 *
 * citysense firmware takes pins from firmware/src/boards rather than from
 * here; the provider is typed so code that uses it is checked honestly.
 */
import type Analog from "embedded:io/analog";
import type Digital from "embedded:io/digital";
import type DigitalBank from "embedded:io/digitalbank";
import type I2C from "embedded:io/i2c";
import type PulseCount from "embedded:io/pulsecount";
import type PWM from "embedded:io/pwm";
import type Serial from "embedded:io/serial";
import type SMBus from "embedded:io/smbus";
import type SPI from "embedded:io/spi";

type PinSpecifier = number;
type PortSpecifier = number;

export interface BuiltinDevice {
  readonly io: {
    readonly Analog: typeof Analog;
    readonly Digital: typeof Digital;
    readonly DigitalBank: typeof DigitalBank;
    readonly I2C: typeof I2C;
    readonly PulseCount: typeof PulseCount;
    readonly PWM: typeof PWM;
    readonly Serial: typeof Serial;
    readonly SMBus: typeof SMBus;
    readonly SPI: typeof SPI;
  };
  /** Board default I2C bus: spread it into a sensor's `sensor` option (add `address`, `hz`). */
  readonly I2C?: { readonly default: { readonly io: typeof I2C; readonly data: PinSpecifier; readonly clock: PinSpecifier; readonly port?: PortSpecifier } };
  /** Board default UART (usually the console). */
  readonly Serial?: { readonly default: { readonly io: typeof Serial; readonly port: PortSpecifier; readonly receive: PinSpecifier; readonly transmit: PinSpecifier } };
  readonly SPI?: { readonly default: { readonly io: typeof SPI; readonly clock: PinSpecifier; readonly in: PinSpecifier; readonly out: PinSpecifier; readonly port: PortSpecifier } };
  readonly Analog?: { readonly default: { readonly io: typeof Analog; readonly pin: PinSpecifier } };
  /** Named pins of the board (e.g. `button`, `led`). */
  readonly pin: { readonly [name: string]: PinSpecifier };
}

declare const device: BuiltinDevice;
export default device;
