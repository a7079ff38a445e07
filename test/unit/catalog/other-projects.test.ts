/**
 * Other teams' dbt artifacts (issue 15), without a database: the `rms` fixture
 * (test/fixtures/dbt-artifacts/rms.ts) in every manifest version from v5 to v12, planned
 * with the real sqlglot in the project venv.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadArtifacts, parseManifest } from "../../../lib/catalog/artifacts.ts";
import { traceColumnLineage } from "../../../lib/catalog/column-lineage.ts";
import { buildCatalog, lineageRequest, type CatalogPlan } from "../../../lib/catalog/plan.ts";
import { REPO_ROOT } from "../../../lib/paths.ts";
import {
  writeRmsArtifacts,
  type ManifestVersion,
  type RmsOptions,
} from "../../fixtures/dbt-artifacts/rms.ts";

const scratch: string[] = [];
function rms(options: RmsOptions = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "aiwb-rms-"));
  scratch.push(dir);
  return writeRmsArtifacts(dir, options);
}
afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

async function planWithLineage(dir: string): Promise<CatalogPlan> {
  const artifacts = loadArtifacts([dir]);
  const request = lineageRequest(artifacts, { parser: "test" });
  const run = await traceColumnLineage(request.models, request.schema, { dialect: request.dialect });
  return buildCatalog(artifacts, {
    columnLineage: run.models,
    lineageInputs: new Map(request.models.map((m) => [m.id, m])),
  });
}

const relation = (plan: CatalogPlan) =>
  plan.tables.map((t) => `${t.databaseName}.${t.schemaName}.${t.tableName}`).sort();
const tableEdges = (plan: CatalogPlan) =>
  plan.tableEdges.map((e) => `${e.sourceUniqueId} -> ${e.targetUniqueId}`).sort();
const columnEdges = (plan: CatalogPlan) =>
  plan.columnEdges
    .map((e) => `${e.sourceUniqueId}.${e.sourceColumn} -> ${e.targetUniqueId}.${e.targetColumn}`)
    .sort();

const RELATIONS = [
  "analytics.jaffle.raw_customers",
  "analytics.marts.customers",
  "analytics.marts.new_model",
  "analytics.marts.orders_diff",
  "analytics.marts.py_model",
  "analytics.marts.stg_customers",
  "analytics.marts.stg_products_analytics",
  "analytics.marts.stg_products_raw",
  "analytics.rms.products",
  "raw.erp.orders",
  "raw.erp.orders_archive",
  "raw.rms.products",
];

const TABLE_EDGES = [
  "model.rms.stg_customers -> model.rms.customers",
  "model.rms.stg_customers -> model.rms.new_model",
  "model.rms.stg_customers -> model.rms.py_model",
  "seed.rms.raw_customers -> model.rms.stg_customers",
  "source.rms.analytics_rms.products -> model.rms.stg_products_analytics",
  "source.rms.erp.orders -> model.rms.orders_diff",
  "source.rms.erp.orders_archive -> model.rms.orders_diff",
  "source.rms.raw_rms.products -> model.rms.stg_products_raw",
];

const COLUMN_EDGES = [
  "model.rms.stg_customers.CUSTOMER_ID -> model.rms.customers.CUSTOMER_ID",
  "model.rms.stg_customers.FIRST_NAME -> model.rms.customers.NAME",
  "seed.rms.raw_customers.FIRST_NAME -> model.rms.stg_customers.FIRST_NAME",
  "seed.rms.raw_customers.ID -> model.rms.stg_customers.CUSTOMER_ID",
  "source.rms.analytics_rms.products.ID -> model.rms.stg_products_analytics.PRODUCT_ID",
  "source.rms.analytics_rms.products.PRICE -> model.rms.stg_products_analytics.DOUBLE_PRICE",
  "source.rms.raw_rms.products.ID -> model.rms.stg_products_raw.PRODUCT_ID",
  "source.rms.raw_rms.products.NAME -> model.rms.stg_products_raw.PRODUCT_NAME",
];

const VERSIONS: ManifestVersion[] = [5, 6, 7, 8, 9, 10, 11, 12];

describe("manifest v5–v12 of another team's project (defect 5)", () => {
  it.each(VERSIONS)("v%s: every relation, table edge and test, as in v12", (version) => {
    const plan = buildCatalog(loadArtifacts([rms({ version })]));
    expect(relation(plan)).toEqual(RELATIONS);
    expect(tableEdges(plan)).toEqual(TABLE_EDGES);
    expect(plan.tests.map((t) => [t.uniqueId, t.tableUniqueId]).sort()).toEqual([
      ["test.rms.not_null_stg_customers_customer_id.5c1b", "model.rms.stg_customers"],
      ["test.rms.source_not_null_ecom_raw_customers_id.9a3f", "seed.rms.raw_customers"],
    ]);
    expect(plan.testRuns).toHaveLength(2);
  });

  it.each([7, 9, 12] as ManifestVersion[])(
    "v%s: column lineage from the manifest's compiled SQL",
    async (version) => {
      expect(columnEdges(await planWithLineage(rms({ version })))).toEqual(COLUMN_EDGES);
    },
  );

  it("refuses v4 and v13 with the reason for each", () => {
    const text = (version: number) =>
      JSON.stringify({
        metadata: { dbt_schema_version: `https://schemas.getdbt.com/dbt/manifest/v${version}.json` },
        nodes: {},
      });
    expect(() => parseManifest("t/manifest.json", text(4))).toThrow(
      "t/manifest.json: metadata.dbt_schema_version: unsupported manifest schema: v4 is written by dbt 1.0 or older, " +
        "whose manifests this seeder has no fixture for and which dbt Labs no longer supports: the seeder reads v5–v12 " +
        "(dbt 1.1–1.12); upgrade dbt and regenerate the artifacts",
    );
    expect(() => parseManifest("t/manifest.json", text(13))).toThrow(
      "t/manifest.json: metadata.dbt_schema_version: unsupported manifest schema: v13 is newer than this seeder knows " +
        "(it reads v5–v12, dbt 1.1–1.12): a new schema may rename or re-mean fields it relies on; add a fixture for v13 " +
        "and its version here, or seed artifacts of a supported dbt",
    );
  });
});

describe("relations of other projects", () => {
  it("keeps raw.rms.products and analytics.rms.products apart, each with its staging model's lineage (defect 1)", async () => {
    const plan = await planWithLineage(rms());
    const products = plan.tables.filter((t) => t.tableName === "products");
    expect(products.map((t) => [t.uniqueId, t.databaseName, t.schemaName])).toEqual([
      ["source.rms.analytics_rms.products", "analytics", "rms"],
      ["source.rms.raw_rms.products", "raw", "rms"],
    ]);
    expect(columnEdges(plan).filter((e) => e.includes("products."))).toEqual([
      "source.rms.analytics_rms.products.ID -> model.rms.stg_products_analytics.PRODUCT_ID",
      "source.rms.analytics_rms.products.PRICE -> model.rms.stg_products_analytics.DOUBLE_PRICE",
      "source.rms.raw_rms.products.ID -> model.rms.stg_products_raw.PRODUCT_ID",
      "source.rms.raw_rms.products.NAME -> model.rms.stg_products_raw.PRODUCT_NAME",
    ]);
  });

  it("redirects a source declared over a seed's table to the seed: edges, column lineage and tests (defect 2)", async () => {
    const plan = await planWithLineage(rms());
    expect(plan.tables.find((t) => t.uniqueId === "source.rms.ecom.raw_customers")).toBeUndefined();
    expect(tableEdges(plan)).toContain("seed.rms.raw_customers -> model.rms.stg_customers");
    expect(columnEdges(plan)).toContain("seed.rms.raw_customers.ID -> model.rms.stg_customers.CUSTOMER_ID");
    expect(plan.skipped).toContainEqual({
      uniqueId: "source.rms.ecom.raw_customers",
      kind: "source",
      reason:
        "the same relation as seed seed.rms.raw_customers: catalogued as that node, which takes its edges and tests",
    });
  });

  it("one model's sqlglot AssertionError costs only that model its lineage, and is reported (defect 3)", async () => {
    const plan = await planWithLineage(rms());
    const failed = plan.coverage.find((c) => c.tableUniqueId === "model.rms.orders_diff");
    expect(failed?.status).toBe("failed");
    expect(failed?.reason).toMatch(/^the parser failed on its SQL: AssertionError: /);
    expect(columnEdges(plan)).toEqual(COLUMN_EDGES);
  });

  it("takes compiled SQL from run_results.json when the manifest has none, and says so (defect 6)", async () => {
    for (const version of [7, 12] as ManifestVersion[]) {
      const dir = rms({ version, compiledIn: "run_results" });
      const plan = await planWithLineage(dir);
      expect(columnEdges(plan)).toEqual(COLUMN_EDGES);
      const sources = new Set(plan.coverage.filter((c) => c.sqlSource).map((c) => c.sqlSource));
      expect([...sources]).toEqual([`run_results ${join(dir, "run_results.json")}`]);
    }
  });

  it("refuses artifacts of two projects, naming each with its dirs (defect 7)", () => {
    const dir = rms();
    const shop = join(REPO_ROOT, "test/fixtures/dbt-artifacts/v12");
    expect(() => loadArtifacts([dir, shop])).toThrow(
      `the artifact dirs hold 2 dbt projects: 'rms' (${dir}); 'shop' (${shop}). ` +
        "Seed each project on its own (one catalog:seed run, or one CatalogSeed, per project).",
    );
  });

  it("reports coverage with a reason per model: unknown columns, a Python model, a parser failure (defect 8)", async () => {
    const plan = await planWithLineage(rms());
    expect(plan.coverage.map((c) => [c.tableUniqueId, c.status, c.columnEdges]).sort()).toEqual([
      ["model.rms.customers", "traced", 2],
      ["model.rms.new_model", "no_edges", 0],
      ["model.rms.orders_diff", "failed", 0],
      ["model.rms.py_model", "not_sql", 0],
      ["model.rms.stg_customers", "traced", 2],
      ["model.rms.stg_products_analytics", "traced", 2],
      ["model.rms.stg_products_raw", "traced", 2],
    ]);
    expect(plan.coverage.find((c) => c.tableUniqueId === "model.rms.new_model")?.reason).toBe(
      "its columns are unknown (not in catalog.json, not in the database, none documented): run `dbt docs generate`",
    );
    expect(plan.coverage.find((c) => c.tableUniqueId === "model.rms.py_model")?.reason).toBe(
      "a python model: only SQL is parsed",
    );
  });

  it("catalogues no disabled test and no disabled model, and says why (defect 9)", () => {
    const plan = buildCatalog(loadArtifacts([rms()]));
    expect(plan.tests.map((t) => t.uniqueId)).not.toContain("test.rms.unique_stg_customers_customer_id.7d2e");
    expect(plan.skipped.filter((s) => s.reason.startsWith("disabled"))).toEqual([
      { uniqueId: "model.rms.retired_model", kind: "model", reason: "disabled (config.enabled: false)" },
      {
        uniqueId: "test.rms.unique_stg_customers_customer_id.7d2e",
        kind: "test",
        reason: "disabled (config.enabled: false)",
      },
    ]);
    expect(plan.nodeKinds).toEqual([
      { kind: "model", inManifest: 9, catalogued: 7 },
      { kind: "seed", inManifest: 1, catalogued: 1 },
      { kind: "source", inManifest: 5, catalogued: 4 },
      { kind: "test", inManifest: 3, catalogued: 2 },
    ]);
  });
});
