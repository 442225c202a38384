/**
 * A latching (bistable) solenoid valve behind an H-bridge: a short pulse on the
 * "open" or "close" line moves it, and it holds its position with no current,
 * which is what a battery node can afford. The bridge's supply (a boost into a
 * reservoir capacitor, hardware/water/README.md) is switched on only around
 * the pulse.
 *
 * Two things the hardware needs, which a pin-level model would not show:
 * - the reservoir must charge before the pulse: `power` enables the boost and
 *   the 4700 µF reservoir takes most of a second to reach 9 V (0.19 J, the
 *   budget's 66 mA for 1 s); a pulse from a flat reservoir would not latch the
 *   solenoid. The wait is the budget's estimate, to be measured on the board.
 * - the lines are never closed: closing a Digital on the ESP32 resets its pad
 *   (gpio_reset_pin) with the internal pull-up on, which against the board's
 *   100 kΩ pull-down lifts the line to a logic high: the bridge would wake and
 *   drive the coil for the rest of the wake. They stay driven low until deep
 *   sleep lets go of them to the pull-downs.
 */
import Timer from "timer";

type DigitalPin = { write(value: number): void };
type DigitalConstructor = new (options: { pin: number; mode: number }) => DigitalPin;

/** Reservoir charge before a pulse, ms (hardware/water/power.json: 66 mA for 1 s to charge and pulse). */
export const VALVE_CHARGE_MS = 950;

/** Constructor options: the Digital class and the three pins. */
export interface LatchingValveOptions {
  io: DigitalConstructor & { readonly Output: number };
  open: number;
  close: number;
  power: number;
  /** Pulse length (typical latching valves need 20–100 ms). */
  pulseMs?: number;
  /** Time the supply needs before a pulse, ms (default VALVE_CHARGE_MS). */
  chargeMs?: number;
}

/** Drives the valve; `write(1)` closes it, `write(0)` opens it. */
export default class LatchingValve {
  readonly #options: LatchingValveOptions;
  #lines: { power: DigitalPin; open: DigitalPin; close: DigitalPin } | undefined;

  constructor(options: LatchingValveOptions) {
    this.#options = options;
  }

  /** Moves the valve: 1 closed, 0 open. Blocks about a second. */
  write(value: number): void {
    const o = this.#options;
    // Opened at the first move of the wake and kept (never closed, see above): every line low, the bridge asleep.
    const lines = (this.#lines ??= {
      power: new o.io({ pin: o.power, mode: o.io.Output }),
      open: new o.io({ pin: o.open, mode: o.io.Output }),
      close: new o.io({ pin: o.close, mode: o.io.Output }),
    });
    lines.open.write(0);
    lines.close.write(0);
    const line = value ? lines.close : lines.open;
    try {
      lines.power.write(1);
      Timer.delay(o.chargeMs ?? VALVE_CHARGE_MS);
      line.write(1);
      Timer.delay(o.pulseMs ?? 50);
    } finally {
      line.write(0);
      lines.power.write(0);
    }
  }
}
