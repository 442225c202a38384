/**
 * The switched sensor rail (`board.sensorPower`: a load switch or a 5 V boost whose enable a pull-down keeps
 * off through reset and boot, hardware/README.md). Each node drives it through this: the level node for a
 * distance read, the water node for a temperature reading, the air node around its PM sensor, holding it on
 * through deep sleep (`deepSleep`'s `hold`) when the sensor must keep running.
 */
import Digital from "embedded:io/digital";
import { releaseHold } from "native:sleep";

/** A switched supply whose enable pin the node may hold through deep sleep. */
export interface PowerRail {
  /** The enable pin (what `deepSleep`'s `hold` latches). */
  readonly pin: number;
  /** Drives the enable high; a latched pin takes the level as its hold is released. */
  on(): void;
  /** Drives the enable low and releases any hold. */
  off(): void;
}

/**
 * The rail whose enable is `pin`. The pin is opened at the first switch, so a rail held on through the sleep
 * costs nothing at a wake that leaves it alone; writing before releasing the hold hands the pad over without
 * a glitch (releasing a pin that is not held does nothing).
 */
export function switchedRail(pin: number): PowerRail {
  let io: Digital | undefined;
  const drive = (level: number) => {
    io ??= new Digital({ pin, mode: Digital.Output });
    io.write(level);
    releaseHold([pin]);
  };
  return { pin, on: () => drive(1), off: () => drive(0) };
}
