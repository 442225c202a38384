/** Entry point of the water-flow node on a board: meter on the ULP pulse counter and its minute ring, latching valve, one wake, sleep. */
import Digital from "embedded:io/digital";
import UlpPulseCount from "native:ulp-pulse";
import OneWire from "onewire";
import Timer from "timer";
import config from "mc/config";
import { BOARDS } from "../../boards/index.ts";
import PulseFlow from "../../drivers/pulse-flow.ts";
import type { PulseFlowMeter } from "../../drivers/pulse-flow.ts";
import LatchingValve from "../../drivers/latching-valve.ts";
import Ds18b20 from "../../drivers/ds18b20.ts";
import { openRuntime, radioConfig } from "../wiring.ts";
import { switchedRail, type PowerRail } from "../power-rail.ts";
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
  if (config.waterTemperature === true) {
    const rail = switchedRail(board.sensorPower);
    hw.waterTempDeciC = () => probeDeciC(rail, board.oneWire);
  }
  // "night" or "model"; anything else keeps the default.
  const asked = config.leakDetector;
  const leakDetector: LeakDetector = asked === "night" || asked === "model" ? asked : DEFAULT_LEAK_DETECTOR;
  bootWater(hw, openRuntime(board, radioConfig(config)), { leakDetector });
}

/** Load switch turn-on (TPS22918 with no CT capacitor, well under a millisecond) with margin, ms. */
const RAIL_ON_MS = 2;

/**
 * One DS18B20 reading on the switched 3V3 (hardware/water/README.md): the rail is on only for it, the probe
 * powered up in its EEPROM state each time (the driver sets the resolution it needs). Throws `SensorError`.
 */
function probeDeciC(rail: PowerRail, busPin: number): number {
  rail.on();
  Timer.delay(RAIL_ON_MS);
  let probe: Ds18b20 | undefined;
  try {
    probe = new Ds18b20({ sensor: { io: OneWire, pin: busPin } });
    return probe.measure().temperatureDeciC;
  } finally {
    probe?.close();
    rail.off();
  }
}
