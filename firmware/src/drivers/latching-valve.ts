/**
 * A latching (bistable) solenoid valve behind an H-bridge: a short pulse on the
 * "open" or "close" line moves it, and it holds its position with no current,
 * which is what a battery node can afford. The bridge's supply is switched on
 * only around the pulse.
 */
import Timer from "timer";

type DigitalConstructor = new (options: { pin: number; mode: number }) => { write(value: number): void; close(): void };

/** Constructor options: the Digital class and the three pins. */
export interface LatchingValveOptions {
  io: DigitalConstructor & { readonly Output: number };
  open: number;
  close: number;
  power: number;
  /** Pulse length (typical latching valves need 20–100 ms). */
  pulseMs?: number;
}

/** Drives the valve; `write(1)` closes it, `write(0)` opens it. */
export default class LatchingValve {
  readonly #options: LatchingValveOptions;

  constructor(options: LatchingValveOptions) {
    this.#options = options;
  }

  /** Moves the valve: 1 closed, 0 open. */
  write(value: number): void {
    const o = this.#options;
    const power = new o.io({ pin: o.power, mode: o.io.Output });
    const line = new o.io({ pin: value ? o.close : o.open, mode: o.io.Output });
    try {
      power.write(1);
      Timer.delay(5); // let the boost supply settle before the coil draws current
      line.write(1);
      Timer.delay(o.pulseMs ?? 50);
    } finally {
      line.write(0);
      power.write(0);
      line.close();
      power.close();
    }
  }
}
