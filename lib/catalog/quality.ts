/**
 * Data-quality scoring: dbt tests grouped by DQ dimension, scored per table, combined
 * with configurable weights, averaged per layer and checked against the data-layer requirements'
 * thresholds. Pure functions, so the figures are unit-tested by hand-computed cases.
 *
 * - A test's latest result scores 100 (pass), 50 (warn) or 0 (fail, error); skipped
 *   tests do not count.
 * - A dimension's score is the mean of its tests' scores.
 * - A table's score is the weighted mean of its dimensions' scores, over the dimensions
 *   that have at least one scored test (default weight 1 each, so equal weights; a weight
 *   of 0 leaves a dimension out). A table without scored tests has no score (null).
 * - A layer's score is the mean of its tables' scores (each table counts once, however
 *   many tests it has: a heavily tested table must not hide an untested-but-failing one).
 */
import type { Layer } from "../dbt/cli.ts";

export const DIMENSIONS = [
  "completeness",
  "uniqueness",
  "consistency",
  "validity",
  "timeliness",
  "accuracy",
  "other",
] as const;
export type Dimension = (typeof DIMENSIONS)[number];

export type TestStatus = "pass" | "fail" | "warn" | "error" | "skipped";

export type DimensionWeights = Partial<Record<Dimension, number>>;

const DIMENSION_OF_TEST: Record<string, Dimension> = {
  not_null: "completeness",
  not_null_proportion: "completeness",
  not_empty_string: "completeness",
  at_least_one: "completeness",
  unique: "uniqueness",
  unique_combination: "uniqueness",
  unique_combination_of_columns: "uniqueness",
  unique_where: "uniqueness",
  relationships: "consistency",
  relationships_where: "consistency",
  reconciles_with_bronze: "consistency",
  equal_rowcount: "consistency",
  fewer_rows_than: "consistency",
  equality: "consistency",
  cardinality_equality: "consistency",
  accepted_values: "validity",
  not_accepted_values: "validity",
  accepted_range: "validity",
  expression_is_true: "validity",
  recency: "timeliness",
  freshness: "timeliness",
};

/**
 * The DQ dimension of a generic test, by its name (`not_null`, `dbt_utils.accepted_range`
 * and `accepted_range` alike); singular and unknown tests are `other`.
 */
export function testDimension(testName: string | null | undefined): Dimension {
  if (!testName) return "other";
  const bare = testName.slice(testName.lastIndexOf(".") + 1).toLowerCase();
  return DIMENSION_OF_TEST[bare] ?? "other";
}

/** dbt's run_results status of a test, as a test_runs status. */
export function testRunStatus(dbtStatus: string): TestStatus {
  switch (dbtStatus.toLowerCase()) {
    case "pass":
    case "success":
      return "pass";
    case "fail":
      return "fail";
    case "warn":
      return "warn";
    case "skipped":
    case "no-op":
      return "skipped";
    default:
      // error, runtime error, and anything a newer dbt invents: not a pass.
      return "error";
  }
}

/** Points of one result; null for a result that does not count (skipped). */
export function testPoints(status: TestStatus): number | null {
  switch (status) {
    case "pass":
      return 100;
    case "warn":
      return 50;
    case "fail":
    case "error":
      return 0;
    case "skipped":
      return null;
  }
}

export function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

/** Checks weights: finite and non-negative, known dimensions only. */
export function validateWeights(weights: DimensionWeights | undefined): DimensionWeights {
  for (const [dimension, weight] of Object.entries(weights ?? {})) {
    if (!(DIMENSIONS as readonly string[]).includes(dimension)) {
      throw new Error(`unknown DQ dimension '${dimension}' in weights (known: ${DIMENSIONS.join(", ")})`);
    }
    if (typeof weight !== "number" || !Number.isFinite(weight) || weight < 0) {
      throw new Error(`the weight of ${dimension} must be a number >= 0, got ${String(weight)}`);
    }
  }
  return weights ?? {};
}

export interface ScoredTest {
  dimension: Dimension;
  status: TestStatus;
}

export interface TableScore {
  /** 0–100, 2 decimals; null without scored tests. */
  score: number | null;
  /** Mean points per dimension that has scored tests. */
  dimensions: Partial<Record<Dimension, number>>;
  /** Tests that counted (not skipped). */
  tests: number;
}

export function scoreTable(tests: readonly ScoredTest[], weights: DimensionWeights = {}): TableScore {
  const sums = new Map<Dimension, { points: number; count: number }>();
  for (const test of tests) {
    const points = testPoints(test.status);
    if (points === null) continue;
    const sum = sums.get(test.dimension) ?? { points: 0, count: 0 };
    sum.points += points;
    sum.count += 1;
    sums.set(test.dimension, sum);
  }
  const dimensions: Partial<Record<Dimension, number>> = {};
  let weighted = 0;
  let totalWeight = 0;
  let counted = 0;
  for (const dimension of DIMENSIONS) {
    const sum = sums.get(dimension);
    if (!sum) continue;
    const mean = sum.points / sum.count;
    dimensions[dimension] = round2(mean);
    counted += sum.count;
    const weight = weights[dimension] ?? 1;
    weighted += weight * mean;
    totalWeight += weight;
  }
  return { score: totalWeight > 0 ? round2(weighted / totalWeight) : null, dimensions, tests: counted };
}

/** The data-layer requirements' overall quality thresholds per layer (bronze: none). */
export const LAYER_THRESHOLDS: Record<Layer, number | null> = {
  bronze: null,
  silver: 95,
  gold: 100,
  platinum: 100,
};

export interface LayerScore {
  /** Mean of the layer's table scores, 2 decimals; null when no table has a score. */
  score: number | null;
  /** Tables of the layer with a score. */
  scoredTables: number;
  tables: number;
  tests: number;
  threshold: number | null;
  /** `n/a`: the layer has no threshold; `no-data`: nothing scored. */
  status: "pass" | "fail" | "n/a" | "no-data";
}

export function scoreLayers(
  tables: readonly { layer: Layer | null; score: TableScore | null }[],
  thresholds: Record<Layer, number | null> = LAYER_THRESHOLDS,
): Record<Layer, LayerScore> {
  const result = {} as Record<Layer, LayerScore>;
  for (const layer of Object.keys(thresholds) as Layer[]) {
    const inLayer = tables.filter((table) => table.layer === layer);
    const scored = inLayer.filter((table) => table.score?.score !== null && table.score?.score !== undefined);
    const mean =
      scored.length > 0
        ? scored.reduce((sum, table) => sum + (table.score?.score ?? 0), 0) / scored.length
        : null;
    const score = mean === null ? null : round2(mean);
    const threshold = thresholds[layer];
    result[layer] = {
      score,
      scoredTables: scored.length,
      tables: inLayer.length,
      tests: inLayer.reduce((sum, table) => sum + (table.score?.tests ?? 0), 0),
      threshold,
      // Judged on the unrounded mean: 99.995 must not pass a threshold of 100.
      status: threshold === null ? "n/a" : mean === null ? "no-data" : mean >= threshold ? "pass" : "fail",
    };
  }
  return result;
}
