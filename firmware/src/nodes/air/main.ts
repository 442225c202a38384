/** Entry point of the air-quality node on a board: wire the chips from the board table and `mc/config`, run one wake, sleep. */
import I2C from "embedded:io/i2c";
import Serial from "embedded:io/serial";
import config from "mc/config";
import { BOARDS } from "../../boards/index.ts";
import SCD41 from "../../drivers/scd41.ts";
import SEN5x from "../../drivers/sen5x.ts";
import PMS5003 from "../../drivers/pms5003.ts";
import { openRuntime, radioConfig } from "../wiring.ts";
import { bootAir } from "./boot.ts";
import type { AirHardware, AirOptions } from "./air-node.ts";
import { switchedRail } from "../power-rail.ts";

/** Which chips are fitted, from the manifest's `config.sensors`. */
interface AirSensors {
  scd41?: { fitted?: boolean };
  sen5x?: { fitted?: boolean; model?: "sen55" | "sen66" };
  pms5003?: { fitted?: boolean };
}

export default function main(): void {
  const board = BOARDS[(config.platform as string) ?? "esp32/nodemcu"] ?? BOARDS["esp32/nodemcu"];
  const sensors = (config.sensors ?? {}) as AirSensors;
  const bus = { io: I2C, data: board.i2c.data, clock: board.i2c.clock, hz: board.i2c.hz, port: board.i2c.port };
  const hw: AirHardware = {};
  if (sensors.scd41?.fitted !== false) hw.scd41 = (idle) => new SCD41({ sensor: bus, mode: "single-shot", knownIdle: idle });
  if (sensors.sen5x?.fitted !== false) {
    const model = sensors.sen5x?.model === "sen66" ? "SEN66" : "SEN55";
    // Running since an earlier wake means that wake's driver already checked the product name.
    hw.sen5x = (running) => new SEN5x({ sensor: bus, model, running: running ? "all" : undefined, knownModel: running });
    hw.sen5xName = model === "SEN66" ? "sen66" : "sen55";
  } else if (sensors.pms5003?.fitted) {
    const u = board.sensorUart;
    hw.pms5003 = () => new PMS5003({ sensor: { io: Serial, receive: u.receive, transmit: u.transmit, port: u.port, baud: 9600 } });
  }
  if (hw.sen5x || hw.pms5003) hw.pmRail = switchedRail(board.sensorPower);
  // Out of 300..86400 (or not an integer) the SEN5x measures all the time: AirNode checks it.
  const options: AirOptions = typeof config.pmPeriodS === "number" ? { pmPeriodS: config.pmPeriodS } : {};
  bootAir(hw, openRuntime(board, radioConfig(config)), options);
}
