/**
 * The generator's ground truth, which the dbt tests reconcile bronze and silver against.
 *
 * Count semantics (per entity; transactions and expenses alike):
 *
 * - `total`: rows the generator delivers to the bronze landing table, good and bad
 *   together (one bronze row each; a re-run that skips already-loaded batches writes
 *   nothing new, but `total` still describes the data set, which is then in bronze once).
 * - `good`: rows that should reach silver as valid: parseable, every required field
 *   present and typed, amount > 0, date <= --today, category allowed, strings <= 255
 *   characters, and an id seen for the first time. good = total - sum(bad).
 * - `bad.<kind>`: every bad row has exactly one kind and breaks exactly one rule, so it
 *   is counted once, under that kind:
 *     malformed_json       payload_raw is not JSON (bronze.payload is null)
 *     wrong_type           amount / quantity a non-numeric string, or date "not-a-date"
 *     missing_field        transaction_id|amount|transaction_date (expense_id|amount|expense_date) absent
 *     non_positive_amount  amount 0 or negative
 *     future_date          date after --today
 *     unknown_category     category not in the allowed list
 *     duplicate            byte-identical re-send of an earlier good row (same id); silver
 *                          keeps the first and marks this one duplicate
 *     oversized_string     store_id (transactions) / description (expenses) of 300-600 characters
 *   Kinds with no rows are listed with 0. How many rows are bad: round(total x
 *   --bad-share), but at least one per kind once total >= 100, and at most total / 2;
 *   spread evenly over the kinds (each gets floor or ceil of bad / 8) and over the rows.
 *   Against silver's classification (dbt): valid = good, duplicate = bad.duplicate,
 *   quarantined = the other bad kinds, one reason code each (malformed_json ->
 *   MALFORMED_JSON, wrong_type -> INVALID_TYPE, oversized_string -> OVERSIZED_FIELD, ...).
 * - products: `total` = catalog rows delivered = products + `redelivered`; every product
 *   is delivered once, and `redelivered` of them a second time, later, at a new price.
 *   There are no bad product rows; silver keeps total - redelivered current products.
 */
import { BAD_KINDS, type BadKind, type RowKind } from "./bad-rows.ts";
import type { SpikeWeek } from "./calendar.ts";
import type { Generation } from "./generation.ts";
import type { ProductRowKind } from "./products.ts";

export interface EntityCounts {
  total: number;
  good: number;
  bad: Record<BadKind, number>;
}

export interface ProductCounts {
  total: number;
  redelivered: number;
}

export interface Summary {
  seed: number;
  bad_share: number;
  period: { start: string; end: string; months: number; today: string };
  spike_weeks: { week_start: string; category: string }[];
  transactions: EntityCounts;
  expenses: EntityCounts;
  products: ProductCounts;
}

export function emptyCounts(): EntityCounts {
  return {
    total: 0,
    good: 0,
    bad: Object.fromEntries(BAD_KINDS.map((k) => [k, 0])) as Record<BadKind, number>,
  };
}

export function addRow(counts: EntityCounts, kind: RowKind): void {
  counts.total++;
  if (kind === "good") counts.good++;
  else counts.bad[kind]++;
}

export function addProductRow(counts: ProductCounts, kind: ProductRowKind): void {
  counts.total++;
  if (kind === "redelivered") counts.redelivered++;
}

/** Passes rows through unchanged, counting them as they go (stays lazy). */
export function* counted<R extends { kind: string }>(
  rows: Iterable<R>,
  add: (kind: R["kind"]) => void,
): Generator<R, void, undefined> {
  for (const row of rows) {
    add(row.kind);
    yield row;
  }
}

/** Counts a whole stream of rows (consumes it). */
export function countRows(rows: Iterable<{ kind: RowKind }>): EntityCounts {
  const counts = emptyCounts();
  for (const row of rows) addRow(counts, row.kind);
  return counts;
}

export function spikeSummary(spikes: readonly SpikeWeek[]): Summary["spike_weeks"] {
  return spikes.map((s) => ({ week_start: s.weekStart, category: s.category }));
}

export function newSummary(generation: Generation): Summary {
  const { period } = generation;
  return {
    seed: generation.seed,
    bad_share: generation.badShare,
    period: { start: period.start, end: period.end, months: period.months, today: period.today },
    spike_weeks: spikeSummary(generation.spikes),
    transactions: emptyCounts(),
    expenses: emptyCounts(),
    products: { total: 0, redelivered: 0 },
  };
}
