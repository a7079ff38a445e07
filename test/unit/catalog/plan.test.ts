/** buildCatalog on hand-made artifacts: every row the seeder would write, and the scores. */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadArtifacts } from "../../../lib/catalog/artifacts.ts";
import {
  buildCatalog,
  layerOf,
  lineageRequest,
  relationKey,
  sqlDialect,
  type RelationFacts,
} from "../../../lib/catalog/plan.ts";
import { REPO_ROOT } from "../../../lib/paths.ts";

const fixture = (dir: string) => join(REPO_ROOT, "test/fixtures/dbt-artifacts", dir);
const v12 = () => loadArtifacts([fixture("v12")]);

describe("buildCatalog (v12 artifacts)", () => {
  const plan = buildCatalog(v12());

  it("catalogues models, seeds, snapshots and sources by relation, not ephemeral models", () => {
    expect(
      plan.tables.map((t) => [t.uniqueId, t.resourceType, `${t.schemaName}.${t.tableName}`, t.layer]).sort(),
    ).toEqual([
      ["model.shop.orders_by_month", "model", "gold.monthly_orders", "gold"],
      ["model.shop.stg_orders", "model", "silver.stg_orders", "silver"],
      ["seed.shop.country_codes", "seed", "silver.country_codes", "silver"],
      ["snapshot.shop.orders_snapshot", "snapshot", "snapshots.orders_snapshot", null],
      ["source.shop.raw.orders", "source", "bronze.orders", "bronze"],
    ]);
    expect(plan.exposures).toBe(1);
    expect(plan.packages).toEqual(["shop"]);
  });

  it("takes description, owner, tags, meta and SLOs from the manifest, defaults per layer", () => {
    const monthly = plan.tables.find((t) => t.uniqueId === "model.shop.orders_by_month");
    expect(monthly).toMatchObject({
      description: "Orders and amounts per month and country.",
      ownerName: "analytics",
      tags: ["gold"],
      meta: { owner: "analytics", freshness_slo_hours: 12 },
      sloFreshnessHours: 12,
      sloCompletenessPct: 100,
      lastUpdated: "2026-03-02T09:58:07Z",
    });
    const stg = plan.tables.find((t) => t.uniqueId === "model.shop.stg_orders");
    expect(stg).toMatchObject({
      ownerName: "data-engineering",
      tags: ["silver", "orders"],
      sloFreshnessHours: 1,
      sloCompletenessPct: 95,
    });
    const source = plan.tables.find((t) => t.uniqueId === "source.shop.raw.orders");
    expect(source).toMatchObject({
      ownerName: "platform",
      sloFreshnessHours: 1,
      sloCompletenessPct: 99,
      lastUpdated: null,
    });
    const snapshot = plan.tables.find((t) => t.resourceType === "snapshot");
    expect(snapshot).toMatchObject({ sloFreshnessHours: null, sloCompletenessPct: null });
  });

  it("takes columns from catalog.json, documented from the manifest case-insensitively", () => {
    const columns = plan.columns.filter((c) => c.tableUniqueId === "model.shop.orders_by_month");
    expect(columns.map((c) => [c.columnName, c.ordinalPosition, c.dataType, c.description, c.tags])).toEqual([
      ["MONTH", 1, "date", "First day of the month.", []],
      ["COUNTRY", 2, "text", "Shipping country.", []],
      ["ORDER_COUNT", 3, "bigint", "Orders in the month.", ["metric"]],
      ["TOTAL_AMOUNT", 4, "numeric", "Sum of order amounts.", ["metric"]],
    ]);
    expect(columns.every((c) => c.isNullable && !c.isPrimaryKey)).toBe(true);
  });

  it("flags a column with unique and not_null tests as primary key", () => {
    const stg = plan.columns.filter((c) => c.tableUniqueId === "model.shop.stg_orders");
    expect(stg.filter((c) => c.isPrimaryKey).map((c) => c.columnName)).toEqual(["order_id"]);
    expect(stg.find((c) => c.columnName === "order_id")?.tags).toEqual(["pk"]);
  });

  it("draws table lineage from depends_on, through the ephemeral model", () => {
    expect(plan.tableEdges.map((e) => `${e.sourceUniqueId} -> ${e.targetUniqueId}`).sort()).toEqual([
      "model.shop.stg_orders -> model.shop.orders_by_month",
      "model.shop.stg_orders -> snapshot.shop.orders_snapshot",
      "seed.shop.country_codes -> model.shop.orders_by_month",
      "source.shop.raw.orders -> model.shop.stg_orders",
    ]);
    expect(plan.tableEdges.every((e) => e.edgeType === "table" && e.sourceColumn === null)).toBe(true);
  });

  it("maps tests to DQ dimensions, tables and columns", () => {
    const tests = Object.fromEntries(
      plan.tests.map((t) => [t.testName, [t.tableUniqueId, t.columnName, t.testType, t.severity]]),
    );
    expect(tests).toEqual({
      not_null_stg_orders_order_id: ["model.shop.stg_orders", "order_id", "completeness", "error"],
      unique_stg_orders_order_id: ["model.shop.stg_orders", "order_id", "uniqueness", "warn"],
      relationships_stg_orders_country__code__ref_country_codes_: [
        "model.shop.stg_orders",
        "country",
        "consistency",
        "error",
      ],
      accepted_values_stg_orders_status: ["model.shop.stg_orders", "status", "validity", "error"],
      source_not_null_raw_orders_id: ["source.shop.raw.orders", "id", "completeness", "error"],
      dbt_utils_recency_orders_by_month_month__month__1: [
        "model.shop.orders_by_month",
        null,
        "timeliness",
        "error",
      ],
      assert_positive_totals: ["model.shop.orders_by_month", null, "other", "error"],
    });
    const relationships = plan.tests.find((t) => t.testName.startsWith("relationships"));
    expect(relationships?.config).toEqual({
      test: "relationships",
      kwargs: { to: "ref('country_codes')", field: "code", column_name: "country" },
    });
  });

  it("records one test run per invocation and test, with dbt's status mapped and failures", () => {
    expect(plan.testRuns).toHaveLength(7);
    const runs = Object.fromEntries(
      plan.testRuns.map((r) => [r.testUniqueId.split(".")[2], [r.status, r.failures]]),
    );
    expect(runs).toMatchObject({
      not_null_stg_orders_order_id: ["pass", 0],
      unique_stg_orders_order_id: ["warn", 2],
      relationships_stg_orders_country__code__ref_country_codes_: ["fail", 7],
      recency_orders_by_month_month__month__1: ["skipped", null],
    });
    expect(plan.testRuns.every((r) => r.invocationId === "inv-v12-build")).toBe(true);
    expect(plan.jobRuns).toEqual([
      {
        invocationId: "inv-v12-build",
        status: "failed",
        stage: "silver",
        startedAt: "2026-03-02T09:58:00.000000Z",
        completedAt: "2026-03-02T09:59:00.000000Z",
        rowsProcessed: 147,
        errorMessage:
          "test.shop.relationships_stg_orders_country__code__ref_country_codes_.1c [fail]: Got 7 results, configured to fail if != 0",
      },
    ]);
  });

  it("scores stg_orders 62.5 (the hand-computed case) and raises an alert below 80", () => {
    const stg = plan.scores.find((s) => s.uniqueId === "model.shop.stg_orders");
    expect(stg).toMatchObject({
      score: 62.5,
      dimensions: { completeness: 100, uniqueness: 50, consistency: 0, validity: 100 },
      tests: 4,
    });
    expect(plan.tables.find((t) => t.uniqueId === "model.shop.stg_orders")?.dqScore).toBe(62.5);
    // recency skipped: only the singular test counts
    expect(plan.scores.find((s) => s.uniqueId === "model.shop.orders_by_month")).toMatchObject({
      score: 100,
      tests: 1,
    });
    expect(plan.tables.find((t) => t.uniqueId === "seed.shop.country_codes")?.dqScore).toBeNull();
    expect(plan.alerts).toEqual([
      {
        tableUniqueId: "model.shop.stg_orders",
        table: "silver.stg_orders",
        layer: "silver",
        score: 62.5,
        threshold: 80,
        message: "DQ score of silver.stg_orders is 62.5 %, below 80 %",
        details: {
          score: 62.5,
          threshold: 80,
          layer: "silver",
          dimensions: { completeness: 100, uniqueness: 50, consistency: 0, validity: 100 },
          tests: 4,
        },
      },
    ]);
    expect(plan.recovered.sort()).toEqual(["model.shop.orders_by_month", "source.shop.raw.orders"]);
    expect(plan.dqByLayer).toMatchObject({
      bronze: { score: 100, status: "n/a" },
      silver: { score: 62.5, scoredTables: 1, tables: 2, threshold: 95, status: "fail" },
      gold: { score: 100, threshold: 100, status: "pass" },
      platinum: { score: null, status: "no-data" },
    });
  });

  it("weights change the score and the alert threshold is configurable", () => {
    const weighted = buildCatalog(v12(), { weights: { consistency: 0 }, alertThreshold: 90 });
    expect(weighted.scores.find((s) => s.uniqueId === "model.shop.stg_orders")?.score).toBe(83.33);
    expect(weighted.alerts.map((a) => [a.tableUniqueId, a.threshold])).toEqual([
      ["model.shop.stg_orders", 90],
    ]);
  });
});

describe("buildCatalog with database facts", () => {
  it("takes row counts and sizes from PostgreSQL's statistics, none for views, NOT NULL and keys from the catalog", () => {
    const relations = new Map<string, RelationFacts>([
      [
        relationKey("silver", "stg_orders"),
        {
          kind: "table",
          rowCount: 120,
          sizeBytes: 8192,
          columns: [
            { name: "order_id", type: "integer", notNull: true, primaryKey: false },
            { name: "country", type: "text", notNull: false, primaryKey: false },
          ],
        },
      ],
      [relationKey("gold", "monthly_orders"), { kind: "view", rowCount: -1, sizeBytes: 0, columns: [] }],
      [
        relationKey("silver", "country_codes"),
        { kind: "table", rowCount: -1, sizeBytes: 16384, columns: [] },
      ],
      [
        relationKey("bronze", "orders"),
        {
          kind: "table",
          rowCount: -1,
          sizeBytes: 16384,
          columns: [{ name: "id", type: "integer", notNull: true, primaryKey: true }],
        },
      ],
    ]);
    const plan = buildCatalog(v12(), { relations });
    const table = (id: string) => plan.tables.find((t) => t.uniqueId === id);
    expect(table("model.shop.stg_orders")).toMatchObject({ rowCount: 120, sizeBytes: 8192 });
    expect(table("model.shop.orders_by_month")).toMatchObject({ rowCount: null, sizeBytes: null });
    expect(table("source.shop.raw.orders")).toMatchObject({ rowCount: null, sizeBytes: 16384 });
    // never analyzed: the seed load's row count
    expect(table("seed.shop.country_codes")).toMatchObject({ rowCount: 3, sizeBytes: 16384 });
    expect(table("snapshot.shop.orders_snapshot")).toMatchObject({ rowCount: null, sizeBytes: null });
    const column = (table: string, name: string) =>
      plan.columns.find((c) => c.tableUniqueId === table && c.columnName === name);
    expect(column("model.shop.stg_orders", "order_id")).toMatchObject({
      isNullable: false,
      isPrimaryKey: true,
    });
    expect(column("model.shop.stg_orders", "country")).toMatchObject({
      isNullable: true,
      isPrimaryKey: false,
    });
    expect(column("source.shop.raw.orders", "id")).toMatchObject({ isNullable: false, isPrimaryKey: true });
  });
});

describe("buildCatalog (v11, v10 artifacts)", () => {
  it("v11: a single-column unique_combination_of_columns with not_null makes a primary key", () => {
    const plan = buildCatalog(loadArtifacts([fixture("v11")]));
    const pk = plan.columns.filter((c) => c.tableUniqueId === "model.shop.stg_orders" && c.isPrimaryKey);
    expect(pk.map((c) => c.columnName)).toEqual(["order_id"]);
    expect(plan.tests.find((t) => t.testName.includes("unique_combination"))).toMatchObject({
      testType: "uniqueness",
      columnName: null,
      config: {
        test: "unique_combination_of_columns",
        namespace: "dbt_utils",
        kwargs: { combination_of_columns: ["order_id"] },
      },
    });
    // not_null pass, unique pass, relationships fail, accepted_values pass → (100 + 100 + 0 + 100) / 4
    expect(plan.scores.find((s) => s.uniqueId === "model.shop.stg_orders")?.score).toBe(75);
  });

  it("v10 without catalog.json: documented columns with their manifest types, a test error scores 0", () => {
    const artifacts = loadArtifacts([fixture("v10")]);
    expect(artifacts.catalog).toBeNull();
    const plan = buildCatalog(artifacts);
    const columns = plan.columns.filter((c) => c.tableUniqueId === "model.shop.stg_orders");
    expect(columns.map((c) => [c.columnName, c.dataType, c.ordinalPosition])).toEqual([
      ["order_id", "unknown", 1],
      ["country", "unknown", 2],
      ["status", "unknown", 3],
      ["amount", "unknown", 4],
    ]);
    expect(plan.testRuns.find((r) => r.testUniqueId.includes("relationships"))).toMatchObject({
      status: "error",
      failures: null,
      invocationId: "inv-v10-test",
    });
    expect(plan.scores.find((s) => s.uniqueId === "model.shop.stg_orders")?.score).toBe(75);
    // a `dbt test` invocation builds nothing
    expect(plan.tables.every((t) => t.lastUpdated === null)).toBe(true);
    expect(plan.jobRuns[0]).toMatchObject({ stage: null, rowsProcessed: null, status: "failed" });
  });
});

describe("layerOf", () => {
  it("reads the folder first, then the schema, then the tags", () => {
    expect(layerOf({ fqn: ["p", "gold", "finance", "m"], schema: "silver" })).toBe("gold");
    expect(layerOf({ fqn: ["p", "m"], schema: "analytics_silver" })).toBe("silver");
    expect(layerOf({ fqn: ["p", "marts", "m"], schema: "analytics", tags: ["Platinum"] })).toBe("platinum");
    expect(layerOf({ fqn: ["p", "marts", "golden_m"], schema: "golden" })).toBeNull();
  });
});

describe("SLO meta validation", () => {
  it("falls back to the layer default with a warning when meta is not a usable number", () => {
    const artifacts = v12();
    const stg = artifacts.manifest.nodes["model.shop.stg_orders"];
    if (!stg) throw new Error("fixture changed");
    stg.meta = { freshness_slo_hours: "soon", completeness_slo_pct: 120 };
    const plan = buildCatalog(artifacts);
    expect(plan.tables.find((t) => t.uniqueId === "model.shop.stg_orders")).toMatchObject({
      sloFreshnessHours: 1,
      sloCompletenessPct: 95,
    });
    expect(plan.warnings).toEqual([
      'model.shop.stg_orders: meta.freshness_slo_hours must be a number > 0, got "soon"; using the layer default',
      "model.shop.stg_orders: meta.completeness_slo_pct must be a number in 0..100, got 120; using the layer default",
    ]);
  });
});

describe("sqlDialect", () => {
  it("parses SQL in the adapter's dialect, postgres when unknown", () => {
    expect(sqlDialect("postgres")).toBe("postgres");
    expect(sqlDialect("Snowflake")).toBe("snowflake");
    expect(sqlDialect("sqlserver")).toBe("tsql");
    expect(sqlDialect("some-new-adapter")).toBe("postgres");
    expect(sqlDialect(null)).toBe("postgres");
  });
});

describe("lineageRequest", () => {
  it("sends the SQL models' compiled code and the catalog's schema", () => {
    const request = lineageRequest(v12());
    expect(request.models.map((m) => m.id).sort()).toEqual([
      "model.shop.orders_by_month",
      "model.shop.stg_orders",
    ]);
    expect(request.schema["warehouse"]?.["gold"]?.["monthly_orders"]).toEqual({
      MONTH: "date",
      COUNTRY: "text",
      ORDER_COUNT: "bigint",
      TOTAL_AMOUNT: "numeric",
    });
    expect(request.dialect).toBe("postgres");
    expect(lineageRequest(v12(), { sample: 1 }).models).toHaveLength(1);
  });
});
