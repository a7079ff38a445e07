/**
 * Dates as integer day numbers (days since 1970-01-01, UTC), the generation period, and
 * the seasonality that spreads transactions over it:
 *
 * - month: December peak (1.6x), February dip (0.8x), a ramp through the -ber months;
 * - weekday: weekends busiest;
 * - growth: about 8% a year, compounded daily from the period start;
 * - spike weeks: two or three Monday-to-Sunday weeks (never in Nov/Dec, never in the
 *   first four weeks) in which one category sells 3x its usual volume, so that 2-sigma
 *   anomaly flags have something to find.
 */
import { createPrng, deriveSeed } from "./prng.ts";
import { CATEGORIES, CATEGORY_SHARES, type Category } from "./catalog.ts";

export const MS_PER_DAY = 86_400_000;

/** User-facing errors (bad options): the CLI prints the message without a stack. */
export class GenDataError extends Error {
  override name = "GenDataError";
}

/** Parses a strict YYYY-MM-DD date into a day number. */
export function parseIsoDate(text: string, what = "date"): number {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!match) throw new GenDataError(`${what} must be a date like 2024-01-01, got '${text}'`);
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const ms = Date.UTC(year, month - 1, day);
  const back = new Date(ms);
  if (
    year < 1970 ||
    back.getUTCFullYear() !== year ||
    back.getUTCMonth() !== month - 1 ||
    back.getUTCDate() !== day
  ) {
    throw new GenDataError(`${what} is not a valid date: '${text}'`);
  }
  return ms / MS_PER_DAY;
}

export function formatDay(day: number): string {
  return new Date(day * MS_PER_DAY).toISOString().slice(0, 10);
}

/** The same day of the month, `months` later (overflowing like Date.UTC does). */
export function addMonths(day: number, months: number): number {
  const date = new Date(day * MS_PER_DAY);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + months, date.getUTCDate()) / MS_PER_DAY;
}

/** 1..12 */
export function monthOf(day: number): number {
  return new Date(day * MS_PER_DAY).getUTCMonth() + 1;
}

/** 0 = Sunday .. 6 = Saturday (1970-01-01 was a Thursday). */
export function weekdayOf(day: number): number {
  return (((day + 4) % 7) + 7) % 7;
}

export interface Period {
  /** First day (day number). */
  startDay: number;
  /** Day after the last day (day number). */
  endDay: number;
  todayDay: number;
  days: number;
  /** ISO dates: first day, last day (inclusive), today. */
  start: string;
  end: string;
  today: string;
  months: number;
}

export const MAX_MONTHS = 240;

/**
 * The generation period [start, start + months) checked against today: every normal row
 * is dated inside it, so it must not reach past today.
 */
export function resolvePeriod(options: { start: string; months: number; today: string }): Period {
  const startDay = parseIsoDate(options.start, "--start");
  const todayDay = parseIsoDate(options.today, "--today");
  const { months } = options;
  if (!Number.isInteger(months) || months < 1 || months > MAX_MONTHS) {
    throw new GenDataError(`--months must be a whole number from 1 to ${MAX_MONTHS}, got ${months}`);
  }
  const endDay = addMonths(startDay, months);
  if (endDay - 1 > todayDay) {
    let fits = 0;
    while (fits < MAX_MONTHS && addMonths(startDay, fits + 1) - 1 <= todayDay) fits++;
    const hint =
      fits > 0
        ? `use --months ${fits} or less with this start, or an earlier --start`
        : "use an earlier --start (at least one whole month before today)";
    throw new GenDataError(
      `the period ${options.start} .. ${formatDay(endDay - 1)} (${months} months) ends after today ` +
        `(${options.today}); generated data must not be dated in the future: ${hint}`,
    );
  }
  return {
    startDay,
    endDay,
    todayDay,
    days: endDay - startDay,
    start: options.start,
    end: formatDay(endDay - 1),
    today: options.today,
    months,
  };
}

/** Relative volume by month, January first. */
export const MONTH_FACTORS: readonly number[] = [
  0.95, 0.8, 0.92, 0.97, 1.0, 1.02, 0.98, 1.0, 1.05, 1.1, 1.25, 1.6,
];
/** Relative volume by weekday, Sunday first. */
export const WEEKDAY_FACTORS: readonly number[] = [1.15, 0.88, 0.9, 0.94, 1.0, 1.12, 1.3];
export const YEARLY_GROWTH = 0.08;
/** Volume of the spiking category during a spike week, relative to normal. */
export const SPIKE_FACTOR = 3;

function toDay(date: string | number): number {
  return typeof date === "number" ? date : parseIsoDate(date);
}

/**
 * Relative transaction volume of a day: month factor x weekday factor x yearly growth
 * since `growthFrom` (default: no growth). Spike weeks come on top (see `dayWeight`).
 */
export function seasonalWeight(date: string | number, growthFrom: string | number = date): number {
  const day = toDay(date);
  const years = (day - toDay(growthFrom)) / 365.25;
  return (
    (MONTH_FACTORS[monthOf(day) - 1] as number) *
    (WEEKDAY_FACTORS[weekdayOf(day)] as number) *
    Math.pow(1 + YEARLY_GROWTH, years)
  );
}

export interface SpikeWeek {
  /** Monday of the week (ISO date) and its day numbers [startDay, startDay + 7). */
  weekStart: string;
  startDay: number;
  category: Category;
}

/** Two or three spike weeks (fewer for short periods), chosen from the seed. */
export function chooseSpikeWeeks(period: Period, seed: number): SpikeWeek[] {
  const candidates: number[] = [];
  let monday = period.startDay + ((8 - weekdayOf(period.startDay)) % 7);
  for (; monday + 7 <= period.endDay; monday += 7) {
    if (monday - period.startDay < 28) continue;
    const months = [monthOf(monday), monthOf(monday + 6)];
    if (months.some((m) => m >= 11)) continue;
    candidates.push(monday);
  }
  const wanted = candidates.length >= 40 ? 3 : candidates.length >= 8 ? 2 : candidates.length >= 4 ? 1 : 0;
  const prng = createPrng(deriveSeed(seed, "spikes"));
  const chosen: number[] = [];
  for (const start of prng.shuffle(candidates)) {
    if (chosen.length >= wanted) break;
    if (chosen.every((other) => Math.abs(other - start) >= 28)) chosen.push(start);
  }
  chosen.sort((a, b) => a - b);
  const categories = prng.shuffle(CATEGORIES);
  return chosen.map((startDay, i) => ({
    weekStart: formatDay(startDay),
    startDay,
    category: categories[i % categories.length] as Category,
  }));
}

/** Categories spiking on a day (usually none). */
export function spikingCategories(day: number, spikes: readonly SpikeWeek[]): Category[] {
  return spikes.filter((s) => day >= s.startDay && day < s.startDay + 7).map((s) => s.category);
}

/** Day weight including spikes: the spiking categories' share counts SPIKE_FACTOR times. */
export function dayWeight(day: number, period: Period, spikes: readonly SpikeWeek[]): number {
  let factor = 1;
  for (const category of spikingCategories(day, spikes)) {
    factor += (SPIKE_FACTOR - 1) * CATEGORY_SHARES[category];
  }
  return seasonalWeight(day, period.startDay) * factor;
}

/**
 * How many of `total` transactions fall on each day of the period, proportional to
 * `dayWeight` (largest-remainder rounding, so the counts add up to exactly `total`).
 * One number per day: memory depends on the period, not on the row count.
 */
export function dailyVolumes(total: number, period: Period, spikes: readonly SpikeWeek[]): Uint32Array {
  const weights = new Float64Array(period.days);
  let sum = 0;
  for (let i = 0; i < period.days; i++) {
    const w = dayWeight(period.startDay + i, period, spikes);
    weights[i] = w;
    sum += w;
  }
  const counts = new Uint32Array(period.days);
  const remainders: { day: number; rest: number }[] = [];
  let assigned = 0;
  for (let i = 0; i < period.days; i++) {
    const exact = ((weights[i] as number) / sum) * total;
    const whole = Math.floor(exact);
    counts[i] = whole;
    assigned += whole;
    remainders.push({ day: i, rest: exact - whole });
  }
  remainders.sort((a, b) => b.rest - a.rest || a.day - b.day);
  for (let k = 0; assigned < total; k++, assigned++) {
    const day = (remainders[k % remainders.length] as { day: number }).day;
    counts[day] = (counts[day] as number) + 1;
  }
  return counts;
}
