/** DQ dimensions and scores, against hand-computed figures. */
import { describe, expect, it } from "vitest";
import {
  scoreLayers,
  scoreTable,
  testDimension,
  testRunStatus,
  validateWeights,
  type ScoredTest,
} from "../../../lib/catalog/quality.ts";

describe("testDimension", () => {
  it.each([
    ["not_null", "completeness"],
    ["unique", "uniqueness"],
    ["unique_combination", "uniqueness"],
    ["unique_combination_of_columns", "uniqueness"],
    ["dbt_utils.unique_combination_of_columns", "uniqueness"],
    ["relationships", "consistency"],
    ["reconciles_with_bronze", "consistency"],
    ["accepted_values", "validity"],
    ["accepted_range", "validity"],
    ["dbt_utils.accepted_range", "validity"],
    ["recency", "timeliness"],
    ["expect_column_values_to_match_regex", "other"],
    [null, "other"],
  ] as const)("%s → %s", (name, dimension) => {
    expect(testDimension(name)).toBe(dimension);
  });
});

describe("testRunStatus", () => {
  it.each([
    ["pass", "pass"],
    ["fail", "fail"],
    ["warn", "warn"],
    ["error", "error"],
    ["runtime error", "error"],
    ["skipped", "skipped"],
    ["something new", "error"],
  ] as const)("%s → %s", (dbt, status) => {
    expect(testRunStatus(dbt)).toBe(status);
  });
});

describe("scoreTable", () => {
  const handCase: ScoredTest[] = [
    { dimension: "completeness", status: "pass" },
    { dimension: "uniqueness", status: "warn" },
    { dimension: "consistency", status: "fail" },
    { dimension: "validity", status: "pass" },
  ];

  it("scores the hand-computed case: 100, 50, 0, 100 with equal weights → 62.5", () => {
    expect(scoreTable(handCase)).toEqual({
      score: 62.5,
      dimensions: { completeness: 100, uniqueness: 50, consistency: 0, validity: 100 },
      tests: 4,
    });
  });

  it("averages within a dimension before weighting dimensions", () => {
    // completeness: (100 + 0 + 100) / 3 = 66.67; uniqueness 100 → (66.666… + 100) / 2 = 83.33
    const result = scoreTable([
      { dimension: "completeness", status: "pass" },
      { dimension: "completeness", status: "error" },
      { dimension: "completeness", status: "pass" },
      { dimension: "uniqueness", status: "pass" },
    ]);
    expect(result.dimensions).toEqual({ completeness: 66.67, uniqueness: 100 });
    expect(result.score).toBe(83.33);
  });

  it("applies configured weights over the dimensions present", () => {
    // (3 × 100 + 1 × 50 + 1 × 0 + 1 × 100) / 6 = 75
    expect(scoreTable(handCase, { completeness: 3 }).score).toBe(75);
    // consistency left out: (100 + 50 + 100) / 3 = 83.33
    expect(scoreTable(handCase, { consistency: 0 }).score).toBe(83.33);
    // a weight for an absent dimension changes nothing
    expect(scoreTable(handCase, { timeliness: 10 }).score).toBe(62.5);
  });

  it("leaves skipped tests out, and has no score without a counted test", () => {
    expect(scoreTable([...handCase, { dimension: "timeliness", status: "skipped" }]).score).toBe(62.5);
    expect(scoreTable([{ dimension: "timeliness", status: "skipped" }])).toEqual({
      score: null,
      dimensions: {},
      tests: 0,
    });
    expect(scoreTable([{ dimension: "validity", status: "pass" }], { validity: 0 }).score).toBeNull();
  });
});

describe("validateWeights", () => {
  it("rejects unknown dimensions and negative weights, saying what is allowed", () => {
    expect(() => validateWeights({ freshness: 1 } as never)).toThrow(
      "unknown DQ dimension 'freshness' in weights (known: completeness, uniqueness, consistency, validity, timeliness, accuracy, other)",
    );
    expect(() => validateWeights({ validity: -1 })).toThrow(
      "the weight of validity must be a number >= 0, got -1",
    );
    expect(validateWeights(undefined)).toEqual({});
  });
});

describe("scoreLayers", () => {
  const table = (layer: "bronze" | "silver" | "gold" | "platinum", score: number | null, tests = 2) => ({
    layer,
    score: { score, dimensions: {}, tests },
  });

  it("averages table scores per layer and applies seed 002's thresholds", () => {
    const layers = scoreLayers([
      table("bronze", 40),
      table("silver", 100),
      table("silver", 90),
      table("gold", 100),
      table("gold", 100),
      { layer: "platinum", score: null },
    ]);
    expect(layers.bronze).toMatchObject({ score: 40, threshold: null, status: "n/a" });
    // (100 + 90) / 2 = 95 ≥ 95
    expect(layers.silver).toMatchObject({
      score: 95,
      scoredTables: 2,
      tables: 2,
      tests: 4,
      threshold: 95,
      status: "pass",
    });
    expect(layers.gold).toMatchObject({ score: 100, threshold: 100, status: "pass" });
    expect(layers.platinum).toMatchObject({ score: null, scoredTables: 0, tables: 1, status: "no-data" });
  });

  it("fails gold below 100, judged before rounding", () => {
    expect(scoreLayers([table("gold", 100), table("gold", 98)]).gold).toMatchObject({
      score: 99,
      status: "fail",
    });
    expect(scoreLayers([table("gold", 100), table("gold", 99.99)]).gold).toMatchObject({
      score: 100,
      status: "fail",
    });
  });
});
