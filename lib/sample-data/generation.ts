/**
 * The resolved inputs of one generation run: everything the row generators need, a pure
 * function of the options (no clock, no Math.random). The CLI supplies `today`.
 */
import { chooseSpikeWeeks, GenDataError, resolvePeriod, type Period, type SpikeWeek } from "./calendar.ts";
import { MAX_BAD_SHARE } from "./bad-rows.ts";
import { generateReferenceData, type ReferenceData } from "./reference.ts";

export interface GenerationOptions {
  seed: number;
  /** Transaction rows to write (good and bad together). */
  transactions: number;
  /** YYYY-MM-DD: "today" for the future-date rules; the period must end by then. */
  today: string;
  /** Share of transaction and expense rows that are bad (default 0.05). */
  badShare?: number;
  /** First day of the period (default 2024-01-01). */
  start?: string;
  /** Length of the period in months (default 24). */
  months?: number;
}

export const DEFAULTS = { badShare: 0.05, start: "2024-01-01", months: 24, seed: 42 } as const;
export const MAX_TRANSACTIONS = 10_000_000;
export const MIN_EXPENSES = 20;
export const TRANSACTIONS_PER_EXPENSE = 50;

export interface Generation {
  seed: number;
  transactions: number;
  expenses: number;
  badShare: number;
  period: Period;
  reference: ReferenceData;
  spikes: SpikeWeek[];
}

/** About one expense per 50 transactions, at least 20. */
export function expenseCount(transactions: number): number {
  return Math.max(MIN_EXPENSES, Math.round(transactions / TRANSACTIONS_PER_EXPENSE));
}

export function resolveGeneration(options: GenerationOptions): Generation {
  const { seed, transactions } = options;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new GenDataError(`--seed must be a whole number from 0 to 4294967295, got ${seed}`);
  }
  if (!Number.isInteger(transactions) || transactions < 1 || transactions > MAX_TRANSACTIONS) {
    throw new GenDataError(
      `--transactions must be a whole number from 1 to ${MAX_TRANSACTIONS}, got ${transactions}`,
    );
  }
  const badShare = options.badShare ?? DEFAULTS.badShare;
  if (!(badShare >= 0 && badShare <= MAX_BAD_SHARE)) {
    throw new GenDataError(`--bad-share must be between 0 and ${MAX_BAD_SHARE}, got ${badShare}`);
  }
  const period = resolvePeriod({
    start: options.start ?? DEFAULTS.start,
    months: options.months ?? DEFAULTS.months,
    today: options.today,
  });
  return {
    seed,
    transactions,
    expenses: expenseCount(transactions),
    badShare,
    period,
    reference: generateReferenceData(seed, period),
    spikes: chooseSpikeWeeks(period, seed),
  };
}
