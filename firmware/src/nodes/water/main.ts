/** Entry point of the water-flow node on a board: meter on the ULP pulse counter and its minute ring, latching valve, one wake, sleep. */
import Digital from "embedded:io/digital";
import UlpPulseCount from "native:ulp-pulse";
import config from "mc/config";
import { BOARDS } from "../../boards/index.ts";
import PulseFlow from "../../drivers/pulse-flow.ts";
import type { PulseFlowMeter } from "../../drivers/pulse-flow.ts";
import LatchingValve from "../../drivers/latching-valve.ts";
import { openRuntime, radioConfig } from "../wiring.ts";
import { bootWater } from "./boot.ts";
import { DEFAULT_LEAK_DETECTOR, type LeakDetector, type WaterHardware } from "./water-node.ts";

export default function main(): void {
  const board = BOARDS[(config.platform as string) ?? "esp32/nodemcu"] ?? BOARDS["esp32/nodemcu"];
  const meter = (config.meter as PulseFlowMeter | undefined) ?? "reed-10l";
  const hw: WaterHardware = {
    meter: new PulseFlow({ sensor: { io: UlpPulseCount, signal: board.pulse.pin }, meter }),
    // A second handle on the same ULP program, for its minute ring and wake.
    ulp: new UlpPulseCount({ signal: board.pulse.pin }),
  };
  if (config.valve === true) {
    hw.valve = new LatchingValve({ io: Digital, open: board.valve.open, close: board.valve.close, power: board.valve.power });
    const o = board.valveOverride;
    const input = new Digital({ pin: o.pin, mode: o.pull === "up" ? Digital.InputPullUp : Digital.Input });
    hw.override = input;
    hw.overrideWake = { pin: o.pin, activeLevel: o.activeLevel };
  }
  // "night" or "model"; anything else keeps the default.
  const asked = config.leakDetector;
  const leakDetector: LeakDetector = asked === "night" || asked === "model" ? asked : DEFAULT_LEAK_DETECTOR;
  bootWater(hw, openRuntime(board, radioConfig(config)), { leakDetector });
}
