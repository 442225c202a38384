/**
 * Espressif ESP32-S3-DevKitC-1 (ESP32-S3-WROOM-1), Moddable platform `esp32/esp32s3`.
 *
 * Avoided: GPIO 0/3/45/46 (strapping), 19/20 (USB D−/D+), 26–32 (SPI flash and
 * quad PSRAM), 33–37 (octal PSRAM on N8R8/N16R8 modules), 38 and 48 (RGB LED on
 * DevKitC-1 v1.1 / v1.0), 43/44 (console UART0). I2C uses Moddable's esp32s3
 * target defaults (SDA 4, SCL 5). Wake inputs 13 and 14 are RTC GPIOs with
 * internal pulls (the override still uses an external 1 MΩ pull-up: the internal ~45 kΩ would draw ~70 µA while the switch is closed); the battery sense is on GPIO 1 (ADC1_CH0).
 */
const esp32s3DevkitC = {
  name: "ESP32-S3-DevKitC-1 (ESP32-S3-WROOM-1)",
  platform: "esp32/esp32s3",
  chip: "esp32s3",
  i2c: { port: 0, data: 4, clock: 5, hz: 100_000 },
  modem: { port: 1, transmit: 17, receive: 18, reset: 8 },
  sensorUart: { port: 2, transmit: 15, receive: 16 },
  pulse: { pin: 7, pull: "external" },
  valve: { open: 10, close: 11, power: 12 },
  valveOverride: { pin: 13, activeLevel: 0, pull: "external" },
  accelInt1: { pin: 14, activeLevel: 1, pull: "none" },
  battery: { pin: 1, dividerNum: 2, dividerDen: 1 },
  sensorPower: 21,
  oneWire: 6,
  console: { port: 0, transmit: 43, receive: 44 },
} as const;

export default esp32s3DevkitC;
