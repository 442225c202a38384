/**
 * ISO 8601 timestamps of simulated times, as `Date.prototype.toISOString`
 * writes them. Every uplink event carries several (received_at, gateway
 * times, readings rows), and `new Date(ms).toISOString()` costs about 1 µs in
 * V8; a run's times move forward a day at a time, so the date part is kept
 * and only the time of day is written out.
 */

const DAY_MS = 86_400_000;
/** Above this, years have more than four digits and `toISOString` writes them signed. */
const LAST_4_DIGIT_MS = 253_402_300_799_999;

let cachedDay = Number.NaN;
let cachedPrefix = "";

function two(n: number): string {
  return n < 10 ? `0${n}` : `${n}`;
}

function three(n: number): string {
  return n < 10 ? `00${n}` : n < 100 ? `0${n}` : `${n}`;
}

/** `new Date(ms).toISOString()`, byte for byte, for `ms` from 1970 to year 9999 (others go to `toISOString` itself). */
export function isoTime(time: number): string {
  if (!(time >= 0 && time < LAST_4_DIGIT_MS + 1)) return new Date(time).toISOString();
  // A Date drops the fraction of a millisecond (TimeClip truncates; from 1970 on that is the floor).
  const ms = Math.floor(time);
  const day = Math.floor(ms / DAY_MS);
  if (day !== cachedDay) {
    cachedDay = day;
    cachedPrefix = new Date(day * DAY_MS).toISOString().slice(0, 11);
  }
  let rest = ms - day * DAY_MS;
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const s = Math.floor(rest / 1000);
  return `${cachedPrefix}${two(h)}:${two(m)}:${two(s)}.${three(rest - s * 1000)}Z`;
}
