/**
 * The catalog seeder against real PostgreSQL and real dbt: the medallion is built stage by
 * stage on a small dataset in a scratch database, `dbt docs generate` writes catalog.json,
 * and the seeder fills `ip_workbench` from those artifacts.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedCatalog, type SeedOptions } from "../../lib/catalog/seed.ts";
import {
  applyCatalogSchema,
  buildMedallion,
  insertBronzeRows,
  type BuiltMedallion,
} from "../../lib/catalog/scratch-schema.ts";
import { createScratchDatabase, type ScratchDatabase } from "../../lib/postgres/scratch-database.ts";

let db: ScratchDatabase;
let built: BuiltMedallion;
let dirs: string[];
const scratch: string[] = [];
const CATALOG_TABLES = [
  "tables",
  "table_metadata",
  "lineage_edges",
  "tests",
  "test_runs",
  "job_runs",
  "alerts",
];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "aiwb-catalog-it-"));
  scratch.push(dir);
  return dir;
}

/** Every row of every catalog table, as text: equal snapshots mean nothing changed. */
async function snapshot(): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  for (const table of CATALOG_TABLES) {
    const rows = await db.query<{ rows: string | null }>(
      `select json_agg(t order by t.id)::text as rows from ip_workbench.${table} as t`,
    );
    result[table] = rows[0]?.rows ?? "[]";
  }
  return result;
}

const seed = (artifactDirs: string[], options: SeedOptions = {}) =>
  seedCatalog(db.connection, artifactDirs, options);

async function edgesInto(table: string): Promise<string[]> {
  const rows = await db.query<{ edge: string }>(
    `select s.schema_name || '.' || s.table_name ||
            coalesce('.' || e.source_column || ' -> ' || e.target_column, '') as edge
       from ip_workbench.lineage_edges as e
       join ip_workbench.tables as s on s.id = e.source_table_id
       join ip_workbench.tables as t on t.id = e.target_table_id
      where t.schema_name || '.' || t.table_name = $1
      order by 1`,
    [table],
  );
  return rows.map((row) => row.edge);
}

beforeAll(async () => {
  db = await createScratchDatabase("catalog");
  await applyCatalogSchema(db.connection);
  await insertBronzeRows(db.connection);
  built = await buildMedallion(db.connection);
  scratch.push(dirname(built.docsDir));
  dirs = [...built.stageDirs, built.docsDir];
});

afterAll(async () => {
  await db?.drop();
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

describe("seedCatalog after a real build", () => {
  it("catalogues every relation of the medallion with all its columns", async () => {
    const result = await seed(dirs);
    expect(result.columnLineage).toMatchObject({ mode: "all", error: null, failed: [] });
    expect(result.warnings).toEqual([]);
    expect(result.artifacts.ignored.map((i) => i.file)).toEqual([join(built.docsDir, "run_results.json")]);

    // What dbt knows: the relations of its models, seeds and sources (docs generate's manifest).
    const manifest = JSON.parse(readFileSync(join(built.docsDir, "manifest.json"), "utf8")) as {
      nodes: Record<
        string,
        { resource_type: string; schema: string; alias: string; config: { materialized: string } }
      >;
      sources: Record<string, { schema: string; identifier: string }>;
    };
    const known = [
      ...Object.values(manifest.nodes)
        .filter(
          (n) =>
            ["model", "seed", "snapshot"].includes(n.resource_type) && n.config.materialized !== "ephemeral",
        )
        .map((n) => `${n.schema}.${n.alias}`),
      ...Object.values(manifest.sources).map((s) => `${s.schema}.${s.identifier}`),
    ].sort();
    const physical = await db.query<{ relation: string; columns: string[] }>(
      `select table_schema || '.' || table_name as relation, array_agg(column_name::text order by ordinal_position) as columns
         from information_schema.columns
        where table_schema || '.' || table_name = any ($1::text[])
        group by 1 order by 1`,
      [known],
    );
    expect(physical.map((p) => p.relation)).toEqual(known);
    const catalogued = await db.query<{ relation: string; columns: string[] }>(
      `select t.schema_name || '.' || t.table_name as relation, array_agg(m.column_name order by m.ordinal_position) as columns
         from ip_workbench.tables as t join ip_workbench.table_metadata as m on m.table_id = t.id
        where not t.is_deleted
        group by 1 order by 1`,
    );
    expect(catalogued).toEqual(physical);
    expect(result.tables).toBe(known.length);

    const tables = await db.query<{ uid: string; layer: string; resource_type: string }>(
      `select dbt_unique_id as uid, layer, resource_type from ip_workbench.tables order by 1`,
    );
    expect(tables.filter((t) => t.resource_type === "model")).toHaveLength(24);
    expect(tables.filter((t) => t.resource_type === "seed").map((t) => [t.uid, t.layer])).toEqual([
      ["seed.workbench.allowed_categories", "silver"],
      ["seed.workbench.allowed_expense_categories", "silver"],
    ]);
    // The landing tables are bronze's sources; the expense-approval decisions (workbench state,
    // already typed) are read first by silver (dbt/models/silver/_silver__sources.yml).
    expect(
      tables.filter((t) => t.resource_type === "source" && t.layer !== "bronze").map((t) => [t.uid, t.layer]),
    ).toEqual([["source.workbench.workbench.expense_approvals", "silver"]]);
    expect(tables.every((t) => t.layer !== null)).toBe(true);
  });

  it("fills table facts: owner, SLOs, statistics, primary keys and types", async () => {
    const [monthly] = await db.query<Record<string, unknown>>(
      `select owner_name, layer, resource_type, row_count::int, size_bytes > 0 as has_size, last_updated is not null as built,
              slo_freshness_hours, slo_completeness_pct::float8, dq_score::float8, tags
         from ip_workbench.tables where dbt_unique_id = 'model.workbench.gold_monthly_summary'`,
    );
    const [count] = await db.query<{ n: number }>("select count(*)::int as n from gold.monthly_summary");
    expect(monthly).toEqual({
      owner_name: "analytics",
      layer: "gold",
      resource_type: "model",
      row_count: count?.n,
      has_size: true,
      built: true,
      slo_freshness_hours: 6,
      slo_completeness_pct: 100,
      dq_score: 100,
      tags: ["gold"],
    });
    // Views have no statistics of their own; analyzed tables have row counts.
    const figures = await db.query<{ kind: string; row_count: string | null; size_bytes: string | null }>(
      `select v.table_type as kind, t.row_count, t.size_bytes
         from ip_workbench.tables as t
         join information_schema.tables as v on v.table_schema = t.schema_name and v.table_name = t.table_name
        where t.resource_type = 'model'`,
    );
    expect(figures).toHaveLength(24);
    for (const figure of figures) {
      if (figure.kind === "VIEW") expect(figure).toMatchObject({ row_count: null, size_bytes: null });
      else expect(figure.row_count).not.toBeNull();
    }

    const keys = await db.query<{ column: string; type: string; nullable: boolean }>(
      `select t.table_name || '.' || m.column_name as column, m.data_type as type, m.is_nullable as nullable
         from ip_workbench.table_metadata as m join ip_workbench.tables as t on t.id = m.table_id
        where m.is_primary_key and t.table_name in ('finance_expenses', 'scout_transactions_raw', 'allowed_categories')
        order by 1`,
    );
    expect(keys).toEqual([
      { column: "allowed_categories.category", type: "text", nullable: true },
      { column: "finance_expenses.expense_id", type: "text", nullable: true },
      // a real primary key: NOT NULL in the database
      { column: "scout_transactions_raw.ingest_id", type: "bigint", nullable: false },
    ]);
    const [described] = await db.query<{ description: string }>(
      `select m.description from ip_workbench.table_metadata as m join ip_workbench.tables as t on t.id = m.table_id
        where t.table_name = 'monthly_summary' and m.column_name = 'total_amount'`,
    );
    expect(described?.description).toBe("Sales amount.");
  });

  it("draws table lineage for the known models", async () => {
    expect(await edgesInto("gold.monthly_summary")).toContain("silver.validated_transactions");
    // The monthly grid has a row per allowed category, sold or not (the seed's categories).
    expect((await edgesInto("gold.monthly_summary")).filter((e) => !e.includes("->"))).toEqual([
      "silver.allowed_categories",
      "silver.validated_transactions",
    ]);
    expect((await edgesInto("silver.validated_transactions")).filter((e) => !e.includes("->"))).toEqual([
      "silver.transaction_classifications",
    ]);
    expect((await edgesInto("silver.transaction_classifications")).filter((e) => !e.includes("->"))).toEqual([
      "bronze.transactions",
      "silver.allowed_categories",
    ]);
    expect((await edgesInto("bronze.transactions")).filter((e) => !e.includes("->"))).toEqual([
      "bronze.scout_transactions_raw",
    ]);
    expect((await edgesInto("gold.finance_expenses")).filter((e) => !e.includes("->"))).toEqual([
      "silver.allowed_expense_categories",
      "silver.expense_approvals",
      "silver.expenses",
    ]);
  });

  it("draws column lineage for the gold models from their compiled SQL", async () => {
    const monthly = await edgesInto("gold.monthly_summary");
    expect(monthly).toEqual(
      expect.arrayContaining([
        "silver.validated_transactions.amount -> total_amount",
        "silver.validated_transactions.quantity -> units_sold",
        "silver.allowed_categories.category -> category",
        "silver.validated_transactions.transaction_date -> month",
      ]),
    );
    expect(await edgesInto("gold.scout_sales")).toEqual(
      expect.arrayContaining(["silver.validated_transactions.amount -> revenue"]),
    );
    expect(await edgesInto("gold.finance_expenses")).toEqual(
      expect.arrayContaining([
        "silver.allowed_expense_categories.bir_tax_code -> bir_tax_code",
        "silver.expenses.amount -> amount",
      ]),
    );
    expect(await edgesInto("gold.category_trends")).toEqual(
      expect.arrayContaining(["silver.validated_transactions.amount -> weekly_amount"]),
    );
    // Only upstreams in depends_on: every column edge has a table edge beside it.
    const [orphans] = await db.query<{ n: number }>(
      `select count(*)::int as n from ip_workbench.lineage_edges as c
        where c.edge_type = 'column' and not exists (
          select from ip_workbench.lineage_edges as t
           where t.edge_type = 'table' and t.source_table_id = c.source_table_id and t.target_table_id = c.target_table_id)`,
    );
    expect(orphans?.n).toBe(0);
  });

  it("records tests, one run per invocation and test, and links the runs to job runs", async () => {
    const [counts] = await db.query<{
      tests: number;
      runs: number;
      jobs: number;
      unlinked: number;
      invocations: number;
    }>(
      `select (select count(*)::int from ip_workbench.tests) as tests,
              (select count(*)::int from ip_workbench.test_runs) as runs,
              (select count(*)::int from ip_workbench.job_runs) as jobs,
              (select count(*)::int from ip_workbench.test_runs where job_run_id is null) as unlinked,
              (select count(distinct invocation_id)::int from ip_workbench.test_runs) as invocations`,
    );
    expect(counts).toMatchObject({ jobs: 4, unlinked: 0, invocations: 4 });
    expect(counts?.runs).toBeGreaterThan(100);
    const types = await db.query<{
      test_name: string;
      test_type: string;
      column_name: string | null;
      table_name: string;
    }>(
      `select x.test_name, x.test_type, x.column_name, t.table_name
         from ip_workbench.tests as x join ip_workbench.tables as t on t.id = x.table_id
        where t.table_name = 'monthly_summary' order by 1`,
    );
    expect(types.map((t) => [t.test_type, t.column_name])).toEqual(
      expect.arrayContaining([
        ["validity", "total_amount"],
        ["completeness", "month"],
        ["uniqueness", null],
        ["consistency", "category"],
      ]),
    );
  });

  it("re-seeding the same artifacts changes nothing", async () => {
    const before = await snapshot();
    const result = await seed(dirs);
    expect(result.written).toEqual({
      tables: 0,
      columns: 0,
      columnsRemoved: 0,
      edges: 0,
      edgesRemoved: 0,
      tests: 0,
      testsDeleted: 0,
      testRuns: 0,
      jobRuns: 0,
      tablesDeleted: 0,
      edgesOfDeleted: 0,
      coverage: 0,
      alertsResolved: 0,
    });
    expect(result.columnLineage).toMatchObject({ models: 0, error: null });
    expect(await snapshot()).toEqual(before);
  });
});

describe("without catalog.json", () => {
  it("seeds from the stage dirs alone, with the columns and types PostgreSQL reports", async () => {
    await seed(dirs);
    const before = await db.query<{ col: string }>(
      `select t.table_name || '.' || m.column_name || ' ' || m.data_type || ' ' || m.ordinal_position || ' ' || coalesce(m.description, '-') as col
         from ip_workbench.table_metadata as m join ip_workbench.tables as t on t.id = m.table_id order by 1`,
    );
    const result = await seed(built.stageDirs);
    const after = await db.query<{ col: string }>(
      `select t.table_name || '.' || m.column_name || ' ' || m.data_type || ' ' || m.ordinal_position || ' ' || coalesce(m.description, '-') as col
         from ip_workbench.table_metadata as m join ip_workbench.tables as t on t.id = m.table_id order by 1`,
    );
    expect(after.filter((r) => !before.some((b) => b.col === r.col)).slice(0, 10)).toEqual([]);
    expect(result.artifacts.catalog).toBeNull();
    expect(result.warnings).toContain(
      "no catalog.json: columns and types come from the database (run `dbt docs generate` for its view)",
    );
    expect(result.columnLineage).toMatchObject({ error: null, failed: [] });
    // The database's view of the columns is catalog.json's: no column changes. (Edges may
    // change their transformation text: a build compiles incremental models differently
    // from docs generate.)
    expect(result.written).toMatchObject({ columns: 0, columnsRemoved: 0, edgesRemoved: 0 });
  });
});

describe("DQ scores and alerts", () => {
  let server: Server;
  const received: unknown[] = [];
  const tokens: (string | undefined)[] = [];
  let status = 200;
  let rerunDir: string;

  beforeAll(async () => {
    server = createServer((request, response) => {
      let body = "";
      request.on("data", (chunk: Buffer) => (body += chunk.toString()));
      request.on("end", () => {
        received.push(JSON.parse(body));
        tokens.push(request.headers["x-workbench-token"] as string | undefined);
        response.writeHead(status).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));

    // A later run of the gold stage in which gold_monthly_summary's tests degrade:
    // not_null ×4 pass (completeness 100), unique_combination warn (uniqueness 50),
    // accepted_range ×2 fail (validity 0) → (100 + 50 + 0) / 3 = 50.
    rerunDir = join(tempDir(), "gold-rerun");
    mkdirSync(rerunDir);
    const gold = built.stageDirs[2] as string;
    const results = JSON.parse(readFileSync(join(gold, "run_results.json"), "utf8")) as {
      metadata: { invocation_id: string; generated_at: string; invocation_started_at: string };
      results: {
        unique_id: string;
        status: string;
        failures: number | null;
        timing: { completed_at: string }[];
      }[];
    };
    const later = (iso: string) => new Date(Date.parse(iso) + 3_600_000).toISOString();
    results.metadata.invocation_id = "gold-rerun-0001";
    results.metadata.generated_at = later(results.metadata.generated_at);
    results.metadata.invocation_started_at = later(results.metadata.invocation_started_at);
    for (const result of results.results) {
      for (const step of result.timing) step.completed_at = later(step.completed_at);
      if (!result.unique_id.includes("gold_monthly_summary") || !result.unique_id.startsWith("test."))
        continue;
      if (result.unique_id.includes(".unique_combination_"))
        Object.assign(result, { status: "warn", failures: 3 });
      if (result.unique_id.includes(".accepted_range_"))
        Object.assign(result, { status: "fail", failures: 2 });
    }
    writeFileSync(join(rerunDir, "run_results.json"), JSON.stringify(results));
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const url = () => `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhook/quality-alerts`;
  const openAlerts = () =>
    db.query<{ table_name: string; severity: string; score: number }>(
      `select t.table_name, a.severity, (a.details ->> 'score')::float8 as score
         from ip_workbench.alerts as a join ip_workbench.tables as t on t.id = a.table_id
        where a.alert_type = 'dq_below_threshold' and a.resolved_at is null`,
    );

  it("scores the degraded table as hand-computed, raises one critical alert and calls the webhook", async () => {
    const result = await seed([...dirs, rerunDir], {
      alertWebhookUrl: url(),
      alertWebhookToken: "quality-alerts-token-0123456789",
    });
    const [row] = await db.query<{ dq_score: number }>(
      "select dq_score::float8 from ip_workbench.tables where table_name = 'monthly_summary'",
    );
    expect(row?.dq_score).toBe(50);
    // gold: (50 + 100 + 100 + 100) / 4
    expect(result.dqByLayer.gold).toMatchObject({ score: 87.5, threshold: 100, status: "fail" });
    expect(result.dqByLayer.silver).toMatchObject({ score: 100, threshold: 95, status: "pass" });
    expect(result.alertsRaised).toBe(1);
    expect(await openAlerts()).toEqual([{ table_name: "monthly_summary", severity: "critical", score: 50 }]);
    expect(result.webhook).toEqual({ url: url(), sent: 1, failed: [] });
    // The webhook's own credential, as n8n's quality-alerts webhook requires.
    expect(tokens).toEqual(["quality-alerts-token-0123456789"]);
    expect(received).toEqual([
      expect.objectContaining({
        table: "gold.monthly_summary",
        score: 50,
        threshold: 80,
        layer: "gold",
        dimensions: { completeness: 100, uniqueness: 50, validity: 0 },
      }),
    ]);
    const [runs] = await db.query<{ n: number }>(
      "select count(*)::int as n from ip_workbench.test_runs where invocation_id = 'gold-rerun-0001' and not passed",
    );
    expect(runs?.n).toBe(3);
  });

  it("raises no second alert while the first is open", async () => {
    const result = await seed([...dirs, rerunDir], { alertWebhookUrl: url() });
    expect(result.alertsRaised).toBe(0);
    expect(result.webhook).toEqual({ url: url(), sent: 0, failed: [] });
    expect(await openAlerts()).toHaveLength(1);
    expect(received).toHaveLength(1);
  });

  it("reports a failing webhook without failing the seed", async () => {
    await db.query("update ip_workbench.alerts set resolved_at = now() where resolved_at is null");
    status = 500;
    const result = await seed([...dirs, rerunDir], { alertWebhookUrl: url() });
    expect(result.alertsRaised).toBe(1);
    expect(result.webhook).toEqual({
      url: url(),
      sent: 0,
      failed: [{ table: "gold.monthly_summary", error: "HTTP 500 Internal Server Error" }],
    });
  });

  it("keeps the newer degraded state when the older, passing runs are seeded again", async () => {
    const result = await seed(dirs);
    expect(result.alertsResolved).toBe(0);
    expect(await openAlerts()).toHaveLength(1);
    const [row] = await db.query<{ dq_score: number }>(
      "select dq_score::float8 from ip_workbench.tables where table_name = 'monthly_summary'",
    );
    expect(row?.dq_score).toBe(50);
  });

  it("resolves the alert when a newer run recovers the score", async () => {
    // The gold stage once more, two hours after the first build, with all its tests passing.
    const recovered = join(tempDir(), "gold-recovered");
    mkdirSync(recovered);
    const gold = built.stageDirs[2] as string;
    const results = JSON.parse(readFileSync(join(gold, "run_results.json"), "utf8")) as {
      metadata: { invocation_id: string; generated_at: string; invocation_started_at: string };
      results: { timing: { completed_at: string }[] }[];
    };
    const later = (iso: string) => new Date(Date.parse(iso) + 7_200_000).toISOString();
    results.metadata.invocation_id = "gold-recovered-0002";
    results.metadata.generated_at = later(results.metadata.generated_at);
    results.metadata.invocation_started_at = later(results.metadata.invocation_started_at);
    for (const result of results.results)
      for (const step of result.timing) step.completed_at = later(step.completed_at);
    writeFileSync(join(recovered, "run_results.json"), JSON.stringify(results));

    const result = await seed([...dirs, recovered]);
    expect(result.alertsResolved).toBe(1);
    expect(await openAlerts()).toEqual([]);
    const [row] = await db.query<{ dq_score: number }>(
      "select dq_score::float8 from ip_workbench.tables where table_name = 'monthly_summary'",
    );
    expect(row?.dq_score).toBe(100);
  });
});

describe("vanished models and malformed artifacts", () => {
  it("marks a model that left the manifest deleted, and revives it when it returns", async () => {
    const docs = join(tempDir(), "docs-without-model");
    cpSync(built.docsDir, docs, { recursive: true });
    const manifest = JSON.parse(readFileSync(join(docs, "manifest.json"), "utf8")) as {
      nodes: Record<string, { depends_on?: { nodes?: string[] } }>;
    };
    const gone = "model.workbench.platinum_product_recommendations";
    for (const [id, node] of Object.entries(manifest.nodes)) {
      if (id === gone || node.depends_on?.nodes?.includes(gone)) delete manifest.nodes[id];
    }
    writeFileSync(join(docs, "manifest.json"), JSON.stringify(manifest));

    const result = await seed([...built.stageDirs, docs]);
    expect(result.deletedTables).toBe(1);
    const [row] = await db.query<{ is_deleted: boolean; deleted: boolean }>(
      `select is_deleted, deleted_at is not null as deleted from ip_workbench.tables where dbt_unique_id = $1`,
      [gone],
    );
    expect(row).toEqual({ is_deleted: true, deleted: true });
    const [tests] = await db.query<{ deleted: number; live: number }>(
      `select count(*) filter (where x.is_deleted)::int as deleted, count(*) filter (where not x.is_deleted)::int as live
         from ip_workbench.tests as x join ip_workbench.tables as t on t.id = x.table_id where t.dbt_unique_id = $1`,
      [gone],
    );
    expect(tests?.live).toBe(0);
    expect(tests?.deleted).toBeGreaterThan(0);
    expect((await seed([...built.stageDirs, docs])).deletedTables).toBe(0);

    await seed(dirs);
    const [back] = await db.query<{ is_deleted: boolean; deleted_at: string | null }>(
      `select is_deleted, deleted_at from ip_workbench.tables where dbt_unique_id = $1`,
      [gone],
    );
    expect(back).toEqual({ is_deleted: false, deleted_at: null });
  });

  it("rejects a malformed artifact, naming the file and the problem, and writes nothing", async () => {
    const broken = join(tempDir(), "broken");
    cpSync(built.docsDir, broken, { recursive: true });
    const manifest = JSON.parse(readFileSync(join(broken, "manifest.json"), "utf8")) as {
      nodes: Record<string, { columns: unknown }>;
    };
    (manifest.nodes["model.workbench.gold_monthly_summary"] as { columns: unknown }).columns =
      "month, category";
    writeFileSync(join(broken, "manifest.json"), JSON.stringify(manifest));
    const before = await snapshot();
    await expect(seed([...built.stageDirs, broken])).rejects.toThrow(
      `${join(broken, "manifest.json")}: nodes.model.workbench.gold_monthly_summary.columns: expected object, got string`,
    );
    const truncated = join(tempDir(), "truncated");
    cpSync(built.docsDir, truncated, { recursive: true });
    writeFileSync(join(truncated, "catalog.json"), "{ not json");
    await expect(seed([...built.stageDirs, truncated])).rejects.toThrow(
      new RegExp(`^${join(truncated, "catalog.json")}: not valid JSON \\(.+\\)$`),
    );
    expect(await snapshot()).toEqual(before);
  });
});
