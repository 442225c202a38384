/**
 * Local calendar of a simulated run: turns virtual time (ms since the run's
 * epoch) into local days, hours, weekdays and the day of the year, for a
 * scenario's time-zone offset. Pure arithmetic on the clock's integers: no
 * `Date` on the hot path (the constructor uses `Date.UTC` once, which is
 * deterministic).
 */

export const SECOND_MS = 1000;
export const MINUTE_MS = 60 * SECOND_MS;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;
export const WEEK_MS = 7 * DAY_MS;
/** Mean length of the Gregorian year, days. */
export const YEAR_DAYS = 365.2425;

/** The default epoch of a run: Monday 2026-01-05 00:00 UTC (as `VirtualClock`). */
export const DEFAULT_EPOCH_UNIX_MS = Date.UTC(2026, 0, 5);

export interface CalendarOptions {
  /** Unix ms of virtual time 0 (default Monday 2026-01-05 00:00 UTC, `VirtualClock`'s default). */
  epochUnixMs?: number;
  /** Local time = UTC + this offset, minutes (default 0). */
  tzOffsetMin?: number;
}

/** Weekday names, Monday first (the index `dayOfWeek` returns). */
export const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"] as const;

/**
 * Day 0 is the local calendar day that contains virtual time 0; days are
 * numbered from there (negative before it).
 */
export class Calendar {
  readonly epochUnixMs: number;
  readonly tzOffsetMin: number;
  /** Virtual ms from local midnight of day 0 to virtual 0. */
  readonly #offsetMs: number;
  /** Unix day number (days since 1970-01-01) of local day 0. */
  readonly #firstUnixDay: number;
  /** Day of the year (0 = 1 January) of local day 0. */
  readonly #firstDoy: number;

  constructor(options: CalendarOptions = {}) {
    this.epochUnixMs = options.epochUnixMs ?? DEFAULT_EPOCH_UNIX_MS;
    this.tzOffsetMin = options.tzOffsetMin ?? 0;
    const local = this.epochUnixMs + this.tzOffsetMin * MINUTE_MS;
    this.#firstUnixDay = Math.floor(local / DAY_MS);
    this.#offsetMs = local - this.#firstUnixDay * DAY_MS;
    const year = new Date(this.#firstUnixDay * DAY_MS).getUTCFullYear();
    this.#firstDoy = this.#firstUnixDay - Date.UTC(year, 0, 1) / DAY_MS;
  }

  /** A calendar from options, or the same calendar. */
  static from(c?: Calendar | CalendarOptions): Calendar {
    return c instanceof Calendar ? c : new Calendar(c);
  }

  /** Local day number of virtual time `tMs`. */
  dayIndex(tMs: number): number {
    return Math.floor((tMs + this.#offsetMs) / DAY_MS);
  }

  /** Virtual time of local midnight starting `day`. */
  dayStartMs(day: number): number {
    return day * DAY_MS - this.#offsetMs;
  }

  /** Local hour of the day, fractional, 0 ≤ h < 24. */
  hourOfDay(tMs: number): number {
    const m = (tMs + this.#offsetMs) % DAY_MS;
    return (m < 0 ? m + DAY_MS : m) / HOUR_MS;
  }

  /** Weekday of local `day`: 0 = Monday … 6 = Sunday. */
  dayOfWeek(day: number): number {
    // 1970-01-01 was a Thursday (3).
    const w = (this.#firstUnixDay + day + 3) % 7;
    return w < 0 ? w + 7 : w;
  }

  /** Saturday or Sunday. */
  isWeekend(day: number): boolean {
    return this.dayOfWeek(day) >= 5;
  }

  /** Local hour of the week, fractional: 0 = Monday 00:00 … 168. */
  hourOfWeek(tMs: number): number {
    const day = this.dayIndex(tMs);
    return this.dayOfWeek(day) * 24 + (tMs - this.dayStartMs(day)) / HOUR_MS;
  }

  /**
   * Day of the year, fractional (0 = 1 January 00:00 local). Exact on day 0,
   * then counted with the mean year length, so it drifts by less than a day a
   * year: fine for seasons.
   */
  dayOfYear(tMs: number): number {
    const d = this.#firstDoy + (tMs + this.#offsetMs) / DAY_MS;
    const r = d % YEAR_DAYS;
    return r < 0 ? r + YEAR_DAYS : r;
  }

  /** Unix ms of virtual time `tMs`. */
  unixMs(tMs: number): number {
    return this.epochUnixMs + tMs;
  }
}

/**
 * Season weight: 1 in mid-winter, 0 in mid-summer, a cosine of the day of the
 * year peaking half a year after `warmestDayOfYear` (northern-hemisphere by
 * default; a southern city passes its own warmest day).
 */
export function winternessOf(dayOfYear: number, warmestDayOfYear: number): number {
  return 0.5 * (1 - Math.cos((2 * Math.PI * (dayOfYear - warmestDayOfYear)) / YEAR_DAYS));
}
