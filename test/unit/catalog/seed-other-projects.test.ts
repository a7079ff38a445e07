/**
 * Seeding other teams' artifacts into the real PostgreSQL catalog (issue 15) and re-seeding
 * them incrementally (issue 21): the `rms` fixture (test/fixtures/dbt-artifacts/rms.ts)
 * with the real sqlglot, in a scratch database migrated with the project's migrations.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { seedCatalog, type SeedOptions } from "../../../lib/catalog/seed.ts";
import { writeRmsArtifacts, type RmsOptions } from "../../fixtures/dbt-artifacts/rms.ts";
import { applyCatalogSchema } from "../../../lib/catalog/scratch-schema.ts";
import { createScratchDatabase, type ScratchDatabase } from "../../../lib/postgres/scratch-database.ts";

let db: ScratchDatabase;
const scratch: string[] = [];

function rms(options: RmsOptions = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "aiwb-rms-db-"));
  scratch.push(dir);
  return writeRmsArtifacts(dir, options);
}

const seed = (dirs: string[], options: SeedOptions = {}) => seedCatalog(db.connection, dirs, options);

async function reset(): Promise<void> {
  await db.query(
    `truncate ip_workbench.catalog_projects, ip_workbench.lineage_coverage, ip_workbench.lineage_edges, ip_workbench.test_runs, ip_workbench.alerts,
              ip_workbench.tests, ip_workbench.job_runs, ip_workbench.table_metadata, ip_workbench.tables cascade`,
  );
}

async function columnEdges(): Promise<string[]> {
  const rows = await db.query<{ edge: string }>(
    `select s.dbt_unique_id || '.' || e.source_column || ' -> ' || t.dbt_unique_id || '.' || e.target_column as edge
       from ip_workbench.lineage_edges as e
       join ip_workbench.tables as s on s.id = e.source_table_id
       join ip_workbench.tables as t on t.id = e.target_table_id
      where e.edge_type = 'column' order by 1`,
  );
  return rows.map((r) => r.edge);
}

async function tableEdges(): Promise<string[]> {
  const rows = await db.query<{ edge: string }>(
    `select s.dbt_unique_id || ' -> ' || t.dbt_unique_id as edge
       from ip_workbench.lineage_edges as e
       join ip_workbench.tables as s on s.id = e.source_table_id
       join ip_workbench.tables as t on t.id = e.target_table_id
      where e.edge_type = 'table' order by 1`,
  );
  return rows.map((r) => r.edge);
}

beforeAll(async () => {
  db = await createScratchDatabase("catrms");
  await applyCatalogSchema(db.connection);
});

afterAll(async () => {
  await db?.drop();
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

describe("seeding another team's project", () => {
  beforeEach(reset);

  it("stores raw.rms.products and analytics.rms.products as two relations (defect 1)", async () => {
    const result = await seed([rms()]);
    const rows = await db.query<{ relation: string }>(
      `select database_name || '.' || schema_name || '.' || table_name as relation
         from ip_workbench.tables where table_name = 'products' order by 1`,
    );
    expect(rows.map((r) => r.relation)).toEqual(["analytics.rms.products", "raw.rms.products"]);
    expect(result.tables).toBe(12);
    expect(result.tableEdges).toBe(8);
    expect(await columnEdges()).toContain(
      "source.rms.raw_rms.products.NAME -> model.rms.stg_products_raw.PRODUCT_NAME",
    );
    expect(await columnEdges()).toContain(
      "source.rms.analytics_rms.products.PRICE -> model.rms.stg_products_analytics.DOUBLE_PRICE",
    );
  });

  it("summarizes per project: nodes by kind, skipped nodes with reasons, coverage with reasons (defect 8)", async () => {
    const result = await seed([rms()]);
    expect(result.project).toBe("rms");
    expect(result.nodeKinds).toEqual([
      { kind: "model", inManifest: 9, catalogued: 7 },
      { kind: "seed", inManifest: 1, catalogued: 1 },
      { kind: "source", inManifest: 5, catalogued: 4 },
      { kind: "test", inManifest: 3, catalogued: 2 },
    ]);
    expect(result.skipped.map((s) => s.uniqueId)).toEqual([
      "model.rms.int_customer_names",
      "model.rms.retired_model",
      "source.rms.ecom.raw_customers",
      "test.rms.unique_stg_customers_customer_id.7d2e",
    ]);
    expect(result.columnLineage.coverage).toEqual({
      models: 7,
      withLineage: 4,
      columnEdges: 8,
      reasons: [
        { reason: "a python model: only SQL is parsed", models: ["model.rms.py_model"] },
        {
          reason:
            "its columns are unknown (not in catalog.json, not in the database, none documented): run `dbt docs generate`",
          models: ["model.rms.new_model"],
        },
        { reason: "the parser failed on its SQL: AssertionError", models: ["model.rms.orders_diff"] },
      ],
    });
    const coverage = await db.query<{ uid: string; status: string }>(
      `select t.dbt_unique_id as uid, c.status from ip_workbench.lineage_coverage as c
         join ip_workbench.tables as t on t.id = c.table_id order by 1`,
    );
    expect(coverage.map((c) => `${c.uid} ${c.status}`)).toEqual([
      "model.rms.customers traced",
      "model.rms.new_model no_edges",
      "model.rms.orders_diff failed",
      "model.rms.py_model not_sql",
      "model.rms.stg_customers traced",
      "model.rms.stg_products_analytics traced",
      "model.rms.stg_products_raw traced",
    ]);
  });

  it("lets viewers read lineage coverage through RLS, and nobody write it through the API", async () => {
    await seed([rms()]);
    const userId = "6f1d8f4e-4c1b-4e9a-9d3e-2a7b5c8d9e01";
    const client = new pg.Client({ connectionString: db.server.url(db.name) });
    await client.connect();
    try {
      await client.query(
        "insert into auth.users (id, email) values ($1, 'v@example.com') on conflict do nothing",
        [userId],
      );
      await client.query(
        "insert into ip_workbench.user_roles (user_id, role) values ($1, 'admin') on conflict (user_id) do nothing",
        [userId],
      );
      await client.query("begin");
      await client.query("set local role authenticated");
      await client.query("select set_config('request.jwt.claims', $1, true)", [
        JSON.stringify({ sub: userId, role: "authenticated" }),
      ]);
      const read = await client.query("select count(*)::int as n from ip_workbench.lineage_coverage");
      expect(read.rows[0]).toEqual({ n: 7 });
      await expect(client.query("delete from ip_workbench.lineage_coverage")).rejects.toThrow(
        /permission denied/,
      );
    } finally {
      await client.query("rollback").catch(() => undefined);
      await client.end();
    }
    const anon = new pg.Client({ connectionString: db.server.url(db.name) });
    await anon.connect();
    try {
      await anon.query("begin; set local role anon");
      await expect(anon.query("select from ip_workbench.lineage_coverage")).rejects.toThrow(
        /permission denied/,
      );
    } finally {
      await anon.query("rollback").catch(() => undefined);
      await anon.end();
    }
  });

  it("removes edges of a table that left the project, and revives them when it returns (defect 9)", async () => {
    await seed([rms()]);
    await seed([rms({ without: ["raw_rms.products"] })]);
    const deleted = await db.query<{ is_deleted: boolean }>(
      "select is_deleted from ip_workbench.tables where dbt_unique_id = 'source.rms.raw_rms.products'",
    );
    expect(deleted).toEqual([{ is_deleted: true }]);
    expect((await tableEdges()).filter((e) => e.includes("raw_rms"))).toEqual([]);
    expect((await columnEdges()).filter((e) => e.includes("raw_rms"))).toEqual([]);
    await seed([rms()]);
    expect((await columnEdges()).filter((e) => e.includes("raw_rms"))).toEqual([
      "source.rms.raw_rms.products.ID -> model.rms.stg_products_raw.PRODUCT_ID",
      "source.rms.raw_rms.products.NAME -> model.rms.stg_products_raw.PRODUCT_NAME",
    ]);
  });

  it("never catalogues a disabled test (defect 9)", async () => {
    await seed([rms()]);
    const tests = await db.query<{ uid: string; is_deleted: boolean }>(
      "select dbt_unique_id as uid, is_deleted from ip_workbench.tests order by 1",
    );
    expect(tests).toEqual([
      { uid: "test.rms.not_null_stg_customers_customer_id.5c1b", is_deleted: false },
      { uid: "test.rms.source_not_null_ecom_raw_customers_id.9a3f", is_deleted: false },
    ]);
  });
});

describe("older and newer artifacts (defect 4)", () => {
  beforeEach(reset);
  const older = () =>
    rms({ generatedAt: "2026-06-01T10:00:00Z", invocationId: "run-older", testStatus: "pass" });
  const newer = () =>
    rms({ generatedAt: "2026-06-02T10:00:00Z", invocationId: "run-newer", testStatus: "fail" });

  async function state() {
    const score = await db.query<{ dq_score: string | null }>(
      "select dq_score from ip_workbench.tables where dbt_unique_id = 'model.rms.stg_customers'",
    );
    const alerts = await db.query<{ open: boolean }>(
      `select a.resolved_at is null as open from ip_workbench.alerts as a
         join ip_workbench.tables as t on t.id = a.table_id where t.dbt_unique_id = 'model.rms.stg_customers'`,
    );
    const runs = await db.query<{ n: number }>("select count(*)::int as n from ip_workbench.test_runs");
    return { score: score[0]?.dq_score, alerts: alerts.map((a) => a.open), runs: runs[0]?.n };
  }

  it("newer failing run, then an older passing one: the score stays 0 and the alert stays open", async () => {
    await seed([newer()], { columnLineage: false });
    expect(await state()).toEqual({ score: "0.00", alerts: [true], runs: 2 });
    const result = await seed([older()], { columnLineage: false });
    expect(result.alertsResolved).toBe(0);
    expect(result.olderThanCatalogued).toEqual({
      catalogued: "2026-06-02T10:00:00.000Z",
      seeded: "2026-06-01T10:00:00Z",
    });
    expect(result.written).toMatchObject({
      tables: 0,
      columns: 0,
      edges: 0,
      tests: 0,
      testRuns: 2,
      jobRuns: 1,
    });
    expect(await state()).toEqual({ score: "0.00", alerts: [true], runs: 4 });
  });

  it("an older run re-raises no alert a user resolved since the newer run", async () => {
    await seed([newer()], { columnLineage: false });
    await db.query("update ip_workbench.alerts set resolved_at = now()");
    const result = await seed([older()], { columnLineage: false });
    expect(result.alertsRaised).toBe(0);
    expect(await state()).toEqual({ score: "0.00", alerts: [false], runs: 4 });
  });

  it("older passing run, then the newer failing one: the same end state", async () => {
    await seed([older()], { columnLineage: false });
    expect(await state()).toEqual({ score: "100.00", alerts: [], runs: 2 });
    await seed([newer()], { columnLineage: false });
    expect(await state()).toEqual({ score: "0.00", alerts: [true], runs: 4 });
  });

  it("both in one seed, in either order of the dirs: the newer run decides", async () => {
    await seed([newer(), older()], { columnLineage: false });
    expect(await state()).toEqual({ score: "0.00", alerts: [true], runs: 4 });
  });
});

describe("incremental column lineage (issue 21)", () => {
  beforeEach(reset);

  it("a re-seed of unchanged artifacts parses nothing and changes nothing", async () => {
    const dir = rms();
    const first = await seed([dir]);
    expect(first.columnLineage.models).toBe(6);
    const edges = await columnEdges();
    const again = await seed([dir]);
    expect(again.columnLineage.models).toBe(0);
    expect(again.columnLineage.unchanged).toBe(6);
    expect(again.written.edges + again.written.edgesRemoved + again.written.coverage).toBe(0);
    expect(await columnEdges()).toEqual(edges);
    expect(again.columnLineage.coverage?.withLineage).toBe(4);
    expect([first.columnEdges, again.columnEdges]).toEqual([8, 8]);
  });

  it("a model whose SQL changed is the only one parsed again, and its edges follow", async () => {
    await seed([rms()]);
    const changed = rms({
      sql: {
        stg_products_raw:
          "with src as (\n    select * from raw.rms.products\n)\nselect id as product_id, upper(name) as product_name from src",
      },
    });
    const result = await seed([changed]);
    expect(result.columnLineage.models).toBe(1);
    expect(result.columnLineage.unchanged).toBe(5);
    const rows = await db.query<{ sql: string | null }>(
      `select e.transformation_sql as sql from ip_workbench.lineage_edges as e
         join ip_workbench.tables as t on t.id = e.target_table_id
        where t.dbt_unique_id = 'model.rms.stg_products_raw' and e.target_column = 'PRODUCT_NAME'`,
    );
    expect(rows.map((r) => r.sql)).toEqual(["UPPER(SRC.NAME) AS PRODUCT_NAME"]);
  });
});
