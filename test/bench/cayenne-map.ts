/**
 * The CayenneLPP baseline: the same readings as our messages, encoded with the
 * `cayenne-lpp` npm package (1.0.2) one channel per field, so payload sizes can
 * be compared honestly.
 *
 * What the package offers (each channel costs 2 header bytes, channel + type):
 *
 *   type               data  range               step   used as
 *   DIGITAL_INPUT        1   0..255              1      flags, enums, small counts
 *   RELATIVE_HUMIDITY    1   0..100              0.5    relative humidity, fill level
 *   ANALOG_INPUT         2   −327.68..327.67     0.01   values that fit (battery V, fill rate)
 *   TEMPERATURE          2   −3276.8..3276.7     0.1    temperatures
 *   LUMINOSITY           2   0..65535            1      generic unsigned 16-bit counts
 *   (PRESENCE 1, BAROMETRIC_PRESSURE 2, ANALOG_OUTPUT 2, 3-axis types 6, GPS 9: not needed;
 *    the package has no 4-byte or generic unsigned 32-bit type)
 *
 * Rules, applied per field from its descriptor (`carrierFor`), so the baseline
 * follows the codec if field ranges change:
 * 1. The Cayenne encoding must carry the field's whole range (not only the sample
 *    value: the type of a channel is fixed per device) at equal or finer
 *    resolution than ours. Cayenne types are used with their own scale ("value"
 *    carriers: the channel holds the reading in the field's unit) or as plain
 *    integer containers ("count" carriers: the channel holds the node's integer
 *    in the field's fixed-point unit, e.g. deci-µg/m³ in a LUMINOSITY channel).
 *    No offsets or extra scales beyond that: those would be a codec of our own.
 * 2. Among the carriers that fit, the fewest bytes win; ties go to the type whose
 *    meaning matches (TEMPERATURE for °C, RELATIVE_HUMIDITY for %), then to
 *    ANALOG_INPUT, then to generic counts.
 * 3. Values wider than 16 bits use the smallest combination of channels:
 *    LUMINOSITY (high 16 bits) + DIGITAL_INPUT (low 8 bits) for up to 24 bits
 *    (7 bytes), two LUMINOSITY channels for up to 32 bits (8 bytes).
 * 4. An absent reading sends no channel (Cayenne's natural "not measured"); a
 *    batch sends one set of channels per reading, including its own time offset
 *    (ageS); a config ack sends its echoed command's fields as channels too.
 *
 * The resulting mapping, as of this writing (`npm run bench -- --verbose` prints
 * the current one):
 *
 *   field (ours)                        ours                        Cayenne                       bytes
 *   co2Ppm                              16 b 0..40000 ppm           LUMINOSITY count (ppm)          4
 *   pm2_5, pm10, pm1_0, pm4_0           14 b 0..1000 µg/m³ /0.1     LUMINOSITY count (0.1 µg/m³)    4
 *   temperatureC, waterTemperatureC     11 b −40..85 °C /0.1        TEMPERATURE                     4
 *   relativeHumidityPct, fillPct         8 b 0..100 % /0.5          RELATIVE_HUMIDITY               3
 *   aqi, vocIndex, noxIndex              9 b 0..500                 LUMINOSITY count                4
 *   aqiCategory, valve, event, enums    2–8 b                       DIGITAL_INPUT code              3
 *   batteryV                             6 b 1.8..5.768 V /0.064    ANALOG_INPUT (0.01 V)           4
 *   flags (sensorFault, leak, …)         1 b                        DIGITAL_INPUT 0/1               3
 *   flowMlPerMin                        17 b 0..131070 mL/min       LUMINOSITY+DIGITAL_INPUT        7
 *   volumeMl                            22 b 0..4194302 mL          LUMINOSITY+DIGITAL_INPUT        7
 *   totalL                              27 b 0..134217726 L         2×LUMINOSITY                    8
 *   minNightFlowMlPerMin                10 b 0..1022 mL/min         LUMINOSITY count                4
 *   distanceMm                          13 b 0..8190 mm             LUMINOSITY count                4
 *   fillRatePctPerH                     10 b −255.5..255.5 /0.5     ANALOG_INPUT                    4
 *   tiltDeg                              8 b 0..180 °               DIGITAL_INPUT count             3
 *   ageS (alarm age, batch time offset) 24 b 0..16777215 s          LUMINOSITY+DIGITAL_INPUT        7
 *   status batteryMv                    16 b 0..65534 mV            LUMINOSITY count                4
 *   firmware major/minor/patch           8 b 0..255                 DIGITAL_INPUT count             3
 *   uptimeS                             32 b 0..4294967295 s        2×LUMINOSITY                    8
 *   queueDepth, queueDropped, configSeq, faults  16 b               LUMINOSITY count                4
 *   commandPort, field                   8 b                        DIGITAL_INPUT count             3
 *   echoed setInterval intervalS, heartbeatS  24 b                  LUMINOSITY+DIGITAL_INPUT        7
 *
 * Two quirks of the package are handled here, not worked around in its favour
 * or against it: its encoder truncates `value * scale` with `| 0`, so
 * `lppArgument` picks a float argument that truncates to the intended integer
 * (0.57 * 100 would otherwise give 56); and its BAROMETRIC_PRESSURE decoder
 * reads a signed 16-bit value, which is one reason that type is not used.
 */
import { createRequire } from "node:module";
import type { Field, IntRecord } from "../../codecs/src/index.ts";
import { defByPort, type Sample } from "./samples.ts";

/** The parts of the CommonJS `cayenne-lpp` package used here (it ships no types). */
interface LppEncoder {
  encodeDigitalInput(channel: number, value: number): Buffer;
  encodeAnalogInput(channel: number, value: number): Buffer;
  encodeLuminosity(channel: number, value: number): Buffer;
  encodeTemperature(channel: number, value: number): Buffer;
  encodeRelativeHumidity(channel: number, value: number): Buffer;
}
interface LppPackage {
  encoder: LppEncoder;
  decoder: { decode(buffer: Buffer): Array<Record<string, unknown>> };
}
interface LppDatatypes {
  Types: Record<string, number>;
  Sizes: Record<string, number>;
  Ranges: Record<string, [number, number]>;
  Scales: Record<string, number>;
}

const requireCjs = createRequire(import.meta.url);
/** The cayenne-lpp package itself. */
export const lpp = requireCjs("cayenne-lpp") as LppPackage;
const datatypes = requireCjs("cayenne-lpp/src/datatypes.js") as LppDatatypes;

/** A Cayenne data type as we use it. */
export interface LppType {
  /** Name in the package's Types table. */
  name: "DIGITAL_INPUT" | "ANALOG_INPUT" | "LUMINOSITY" | "TEMPERATURE" | "RELATIVE_HUMIDITY";
  /** Prefix of the decoder's output keys (`analog_input_3`). */
  key: string;
  encode: (channel: number, value: number) => Buffer;
  /** The package's scale: wire integer = value × scale. */
  scale: number;
  /** The package's accepted value range. */
  lo: number;
  hi: number;
  /** Bytes on the wire including the 2-byte channel/type header. */
  bytes: number;
  /** Wire integer width, for generic counts. */
  bits: number;
  signed: boolean;
}

function lppType(name: LppType["name"], key: string, encode: LppType["encode"], signed: boolean): LppType {
  const [lo, hi] = datatypes.Ranges[name];
  const data = datatypes.Sizes[name];
  return { name, key, encode, scale: datatypes.Scales[name], lo, hi, bytes: datatypes.Sizes.CHANNEL_TYPE + data, bits: data * 8, signed };
}

const E = lpp.encoder;
export const LPP = {
  digital: lppType("DIGITAL_INPUT", "digital_input", (c, v) => E.encodeDigitalInput(c, v), false),
  analog: lppType("ANALOG_INPUT", "analog_input", (c, v) => E.encodeAnalogInput(c, v), true),
  luminosity: lppType("LUMINOSITY", "luminosity", (c, v) => E.encodeLuminosity(c, v), false),
  temperature: lppType("TEMPERATURE", "temperature", (c, v) => E.encodeTemperature(c, v), true),
  humidity: lppType("RELATIVE_HUMIDITY", "relative_humidity", (c, v) => E.encodeRelativeHumidity(c, v), false),
};

/** How one field travels in Cayenne: one or more channels. */
export interface Carrier {
  id: string;
  /** "value": the channel holds the reading in the field's unit at the type's own step; "count": the node's integer, split over the parts. */
  mode: "value" | "count";
  /** Channels, most significant first. */
  parts: LppType[];
  /** Value carriers: smallest and largest reading, and the step, in the field's decoded unit. Count carriers: the integer range. */
  lo: number;
  hi: number;
  step: number;
  bytes: number;
  /** Tie-break among equally small carriers (lower wins); see `rank`. */
  kind: "semantic-temperature" | "semantic-humidity" | "analog" | "count";
}

function valueCarrier(t: LppType, kind: Carrier["kind"]): Carrier {
  return { id: t.name, mode: "value", parts: [t], lo: t.lo, hi: t.hi, step: 1 / t.scale, bytes: t.bytes, kind };
}

function countCarrier(id: string, parts: LppType[]): Carrier {
  let bits = 0;
  for (const p of parts) bits += p.bits;
  const signed = parts[0].signed;
  // A signed type used as a count container holds its raw wire integer (value × scale).
  const lo = signed ? -(2 ** (bits - 1)) : 0;
  const hi = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
  return { id, mode: "count", parts, lo, hi, step: 1, bytes: parts.reduce((n, p) => n + p.bytes, 0), kind: "count" };
}

/** Every carrier the mapping may choose from. */
export const CARRIERS: Carrier[] = [
  countCarrier("DIGITAL_INPUT count", [LPP.digital]),
  valueCarrier(LPP.humidity, "semantic-humidity"),
  valueCarrier(LPP.analog, "analog"),
  valueCarrier(LPP.temperature, "semantic-temperature"),
  countCarrier("LUMINOSITY count", [LPP.luminosity]),
  countCarrier("ANALOG_INPUT raw count", [LPP.analog]),
  countCarrier("LUMINOSITY+DIGITAL_INPUT count", [LPP.luminosity, LPP.digital]),
  countCarrier("2×LUMINOSITY count", [LPP.luminosity, LPP.luminosity]),
];

/** Our resolution for a numeric field, in its decoded unit. */
export function ourStep(f: Field): number {
  return f.type === "int" ? 2 ** f.shift / f.scale : 1;
}

function fits(c: Carrier, f: Field): boolean {
  if (c.mode === "count") return f.min >= c.lo && f.max <= c.hi;
  if (f.type !== "int") return false;
  return f.min / f.scale >= c.lo && f.max / f.scale <= c.hi && c.step <= ourStep(f) + 1e-12;
}

function rank(c: Carrier, f: Field): number {
  if (c.kind === "semantic-temperature") return f.unit === "°C" ? 0 : 9;
  if (c.kind === "semantic-humidity") return f.unit === "%" ? 0 : 9;
  return c.kind === "analog" ? 1 : 2;
}

const chosen = new Map<Field, Carrier>();

/** The Cayenne carrier for one of our fields (rules in the header comment). */
export function carrierFor(f: Field): Carrier {
  let c = chosen.get(f);
  if (c) return c;
  const ok = CARRIERS.filter((x) => fits(x, f)).sort((a, b) => a.bytes - b.bytes || rank(a, f) - rank(b, f));
  if (!ok.length) throw new Error(`no Cayenne carrier for ${f.name} (${f.min}..${f.max}, scale ${f.scale})`);
  c = ok[0];
  chosen.set(f, c);
  return c;
}

/**
 * A float that the package's encoder (`(value * scale) | 0`) turns into exactly
 * `n`, within the type's range.
 */
export function lppArgument(t: LppType, n: number): number {
  for (const v of [n / t.scale, (n + 0.5) / t.scale, (n - 0.5) / t.scale]) {
    if (v >= t.lo && v <= t.hi && ((v * t.scale) | 0) === n) return v;
  }
  throw new Error(`${t.name} cannot carry wire integer ${n}`);
}

/** One field of one message as sent in Cayenne. */
export interface Slot {
  /** Where the value sits in our decoded JSON, e.g. "readings[1].co2Ppm". */
  path: string;
  field: Field;
  carrier: Carrier;
  /** First channel; parts use consecutive channels. */
  channel: number;
  /** The reading in the field's decoded unit (enum: code; bool: 0/1). */
  value: number;
}

/** A message in Cayenne form. */
export interface CayenneMessage {
  bytes: Buffer;
  slots: Slot[];
}

/** The node's integer for a field in a record, or undefined when not measured (mirrors what our encoder sends). */
function fieldInteger(f: Field, rec: IntRecord, where: string): number | undefined {
  const v = rec[f.key];
  if (f.type === "bool") return v === true ? 1 : 0;
  if (v === undefined) {
    if (f.absent || f.name === "reserved") return undefined;
    throw new Error(`${where}${f.name} must be set (it has no "absent" code)`);
  }
  if (typeof v !== "number" || v < f.min || v > f.max || v !== Math.round(v)) throw new Error(`${where}${f.name} = ${String(v)} is not an integer in ${f.min}..${f.max}`);
  return v;
}

/** Encodes a sample's readings as CayenneLPP, one channel (or more, for wide values) per field. */
export function encodeCayenne(s: Sample): CayenneMessage {
  const chunks: Buffer[] = [];
  const slots: Slot[] = [];
  let channel = 0;
  const put = (fields: Field[], rec: IntRecord, prefix: string) => {
    for (const f of fields) {
      const n = fieldInteger(f, rec, prefix);
      if (n === undefined) continue;
      const c = carrierFor(f);
      const value = f.type === "int" ? n / f.scale : n;
      slots.push({ path: prefix + f.name, field: f, carrier: c, channel, value });
      if (c.mode === "value") {
        const t = c.parts[0];
        chunks.push(t.encode(channel++, lppArgument(t, Math.round(value * t.scale))));
      } else {
        // Split the integer over the parts, least significant part last.
        const words: number[] = [];
        let rest = n;
        for (let i = c.parts.length - 1; i >= 0; i--) {
          const p = c.parts[i];
          if (i === 0) words[i] = rest;
          else {
            const m = 2 ** p.bits;
            words[i] = rest % m;
            rest = Math.floor(rest / m);
          }
        }
        c.parts.forEach((p, i) => chunks.push(p.encode(channel++, lppArgument(p, words[i]))));
      }
      if (channel > 256) throw new Error(`${s.label}: more than 256 Cayenne channels`);
    }
  };
  const def = defByPort(s.port);
  put(def.head, s.rec, "");
  // Like our encoder, send the extension only when the reading has any of it.
  if (def.ext && def.ext.some((f) => s.rec[f.key] !== undefined)) put(def.ext, s.rec, "");
  if (def.entry) {
    const list = (s.rec[def.listName!] as IntRecord[]) || [];
    list.forEach((e, i) => put(def.entry!, e, `${def.listName}[${i}].`));
  }
  if (s.echo) put(defByPort(s.echo.port).head, s.echo.rec, "applied.");
  return { bytes: Buffer.concat(chunks), slots };
}

/** What the Cayenne decoder gave back for one slot, in the field's decoded unit. */
export interface ReadBack {
  slot: Slot;
  got: number;
  /** Largest difference from the reading the carrier allows (half its step for value carriers, 0 for counts). */
  tolerance: number;
}

/** Decodes Cayenne bytes with the package's decoder and maps the channels back to our fields. */
export function readBackCayenne(msg: CayenneMessage): ReadBack[] {
  const list = lpp.decoder.decode(msg.bytes);
  const out: ReadBack[] = [];
  let at = 0;
  for (const slot of msg.slots) {
    const parts: number[] = [];
    slot.carrier.parts.forEach((p, i) => {
      const item = list[at++];
      const key = `${p.key}_${slot.channel + i}`;
      if (!item || typeof item[key] !== "number") throw new Error(`${slot.path}: expected ${key}, decoder gave ${JSON.stringify(item)}`);
      parts.push(item[key] as number);
    });
    let got: number;
    if (slot.carrier.mode === "value") got = parts[0];
    else {
      let n = 0;
      slot.carrier.parts.forEach((p, i) => (n = n * 2 ** p.bits + Math.round(parts[i] * p.scale)));
      got = slot.field.type === "int" ? n / slot.field.scale : n;
    }
    out.push({ slot, got, tolerance: slot.carrier.mode === "value" ? slot.carrier.step / 2 : 0 });
  }
  if (at !== list.length) throw new Error(`decoder gave ${list.length} channels, expected ${at}`);
  return out;
}

/** One row of the mapping table. */
export interface MappingRow {
  field: string;
  usedIn: string;
  ours: string;
  cayenne: string;
  cayenneStep: string;
  cayenneBytes: number;
}

function fmt(n: number): string {
  return String(Number(n.toPrecision(10)));
}

/** The mapping actually used for the given samples, one row per distinct field descriptor. */
export function mappingTable(samples: Sample[]): MappingRow[] {
  const rows = new Map<string, MappingRow & { types: Set<string> }>();
  for (const s of samples) {
    for (const slot of encodeCayenne(s).slots) {
      const f = slot.field;
      const c = slot.carrier;
      const range = f.type === "bool" ? "0/1" : f.type === "enum" ? `${f.values!.length} codes` : `${fmt(f.min / f.scale)}..${fmt(f.max / f.scale)}${f.unit ? " " + f.unit : ""}`;
      const ours = `${f.bits} b ${range}${f.type === "int" && ourStep(f) !== 1 ? " step " + fmt(ourStep(f)) : ""}`;
      const id = `${f.name}|${ours}`;
      const type = s.echo && slot.path.startsWith("applied.") ? `${s.type} (echo ${defByPort(s.echo.port).name})` : s.type;
      const row = rows.get(id);
      if (row) {
        row.types.add(type);
        continue;
      }
      const unit = f.type === "int" && f.scale !== 1 ? ` (1/${f.scale} ${f.unit || "unit"})` : f.unit ? ` (${f.unit})` : "";
      rows.set(id, {
        field: f.name, usedIn: "", ours,
        cayenne: c.mode === "value" ? c.parts[0].name : c.parts.map((p) => p.name).join("+") + " count" + unit,
        cayenneStep: c.mode === "value" ? fmt(c.step) + (f.unit ? " " + f.unit : "") : fmt(1 / (f.type === "int" ? f.scale : 1)) + (f.unit ? " " + f.unit : ""),
        cayenneBytes: c.bytes,
        types: new Set([type]),
      });
    }
  }
  // Fields that share everything but their name make one row.
  const grouped = new Map<string, MappingRow>();
  for (const { types, ...r } of rows.values()) {
    const usedIn = [...types].join(", ");
    const key = [r.ours, r.cayenne, r.cayenneStep, usedIn].join("|");
    const g = grouped.get(key);
    if (g) g.field += ", " + r.field;
    else grouped.set(key, { ...r, usedIn });
  }
  return [...grouped.values()];
}
