/** Entry point of the fill-level node on a board: ultrasonic or ToF distance, LIS3DH tilt/lid, one wake, sleep. */
import I2C from "embedded:io/i2c";
import Serial from "embedded:io/serial";
import config from "mc/config";
import { BOARDS } from "../../boards/index.ts";
import A02yyuw from "../../drivers/a02yyuw.ts";
import Vl53l1x from "../../drivers/vl53l1x.ts";
import Lis3dh from "../../drivers/lis3dh.ts";
import { openRuntime, radioConfig } from "../wiring.ts";
import { switchedRail } from "../power-rail.ts";
import { bootLevel } from "./boot.ts";
import type { BinDetector, LevelHardware, LevelOptions, LevelVariant } from "./level-node.ts";

export default function main(): void {
  const board = BOARDS[(config.platform as string) ?? "esp32/nodemcu"] ?? BOARDS["esp32/nodemcu"];
  const variant: LevelVariant = config.variant === "drain" ? "drain" : "bin";
  const binDetector: BinDetector = config.binDetector === "model" ? "model" : "rules";
  // Out of 5..100 (or not an integer), the node keeps its default step: LevelNode checks it.
  const options: LevelOptions = { binDetector, ...(typeof config.emptyStepPct === "number" ? { emptyStepPct: config.emptyStepPct } : {}) };
  const bus = { io: I2C, data: board.i2c.data, clock: board.i2c.clock, hz: board.i2c.hz, port: board.i2c.port };
  const u = board.sensorUart;
  const tof = config.distanceSensor === "vl53l1x";
  // The distance sensor's supply is a load switch that defaults off (hardware/level/README.md): on for this wake's
  // distance reading only (an A02YYUW draws up to 8 mA; the uplink after it keeps the node awake for seconds).
  const rail = switchedRail(board.sensorPower);
  rail.on();
  const hw: LevelHardware = {
    distance: tof
      ? () => new Vl53l1x({ sensor: bus, distanceMode: "long", timingBudgetMs: 50 })
      : () => new A02yyuw({ sensor: { io: Serial, receive: u.receive, transmit: u.transmit, port: u.port, baud: 9600 } }),
    distanceSensor: tof ? "vl53l1x" : "a02yyuw",
    accel: (configured) => new Lis3dh({ sensor: { ...bus, hz: 100000 }, rateHz: 10, tiltThresholdDeg: 45, configured }),
    accelInt1: { pin: board.accelInt1.pin, level: board.accelInt1.activeLevel },
    distanceDone: () => rail.off(),
    powerDown: () => rail.off(),
  };
  bootLevel(hw, openRuntime(board, radioConfig(config)), variant, options);
}
