/**
 * Espressif ESP32-DevKitC (ESP32-WROOM-32E), Moddable platform `esp32/nodemcu`.
 *
 * Avoided: GPIO 6–11 (module flash), 0/2/5/12/15 (strapping), 1/3 (console
 * UART0), 14 (toggles during boot: a valve line must not), 16/17 are used for
 * the modem and are only free because the WROOM-32E has no PSRAM (a WROVER
 * would need the modem moved). GPIO 34–39 are input only and have no internal
 * pulls, so the wake inputs there rely on the board's resistors.
 * Wake inputs are RTC GPIOs (34 = RTC_GPIO4, 39 = RTC_GPIO3) so ext0/ext1 can use them;
 * the pulse input 33 is RTC_GPIO8 so the ULP can count it in deep sleep. The sensor
 * rail's enable is RTC_GPIO10 (GPIO 4): ESP-IDF's gpio_hold_en holds an RTC pad through
 * deep sleep and the wake until released, while a digital pad held with
 * gpio_deep_sleep_hold_en returns to its default when the chip wakes, which would
 * cut a rail the air node keeps on for a moment at every wake.
 */
const esp32DevkitC = {
  name: "ESP32-DevKitC (ESP32-WROOM-32E)",
  platform: "esp32/nodemcu",
  chip: "esp32",
  i2c: { port: 0, data: 21, clock: 22, hz: 100_000 },
  modem: { port: 2, transmit: 17, receive: 16, reset: 18 },
  sensorUart: { port: 1, transmit: 25, receive: 26 },
  pulse: { pin: 33, pull: "external" },
  valve: { open: 27, close: 13, power: 32 },
  valveOverride: { pin: 39, activeLevel: 0, pull: "external" },
  accelInt1: { pin: 34, activeLevel: 1, pull: "none" },
  battery: { pin: 35, dividerNum: 2, dividerDen: 1 },
  sensorPower: 4,
  oneWire: 19,
  console: { port: 0, transmit: 1, receive: 3 },
} as const;

export default esp32DevkitC;
