/**
 * Writes a {@link CatalogPlan} into `ip_workbench`, in one transaction and few round
 * trips: each kind of row travels once into a temporary table (`COPY … FROM STDIN`, the
 * fastest way in), then set-based statements upsert from there.
 *
 * Idempotent: tables and tests are keyed on dbt's unique_id, columns on (table, name),
 * lineage edges on (source, target, columns), test runs on (invocation_id, test), job
 * runs on invocation_id. Updates skip rows whose values did not change (`where … is
 * distinct from …`), so re-seeding the same artifacts writes nothing, and the
 * `updated_at` triggers do not fire.
 */
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import type {
  AlertRow,
  CatalogPlan,
  ColumnLineagePlan,
  ColumnRow,
  CoverageRow,
  EdgeRow,
  JobRunRow,
  RelationFacts,
  TableRow,
  TestRow,
  TestRunRow,
} from "./plan.ts";
import { relationKey } from "./plan.ts";
import type { TestStatus } from "./quality.ts";
import { ADVISORY_LOCK_KEYS } from "../postgres/advisory-locks.ts";

/** Two seeders of one database take turns (lib/postgres/advisory-locks.ts). */
export const CATALOG_LOCK_KEY = ADVISORY_LOCK_KEYS.catalog;

const RELKIND: Record<string, string> = {
  r: "table",
  v: "view",
  m: "materialized view",
  f: "foreign table",
  p: "partitioned table",
};

/** Row counts, sizes and column constraints of the given relations (absent ones are left out). */
export async function relationFacts(
  client: pg.ClientBase,
  relations: readonly { schema: string; name: string }[],
): Promise<Map<string, RelationFacts>> {
  const result = await client.query<{
    schema: string;
    name: string;
    kind: string;
    reltuples: number;
    size_bytes: string | null;
    columns: { n: string; t: string; nn: boolean; pk: boolean }[];
  }>(
    `select n.nspname as schema, c.relname as name, c.relkind::text as kind, c.reltuples::float8 as reltuples,
            case when c.relkind in ('r', 'm', 'p') then pg_total_relation_size(c.oid) end as size_bytes,
            coalesce((
              select json_agg(json_build_object(
                       'n', a.attname,
                       't', format_type(a.atttypid, a.atttypmod),
                       'nn', a.attnotnull,
                       'pk', exists (select from pg_index i where i.indrelid = c.oid and i.indisprimary and a.attnum = any (i.indkey))
                     ) order by a.attnum)
                from pg_attribute a
               where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
            ), '[]') as columns
       from unnest($1::text[], $2::text[]) as r (schema, name)
       join pg_namespace n on n.nspname = r.schema
       join pg_class c on c.relnamespace = n.oid and c.relname = r.name`,
    [relations.map((r) => r.schema), relations.map((r) => r.name)],
  );
  const facts = new Map<string, RelationFacts>();
  for (const row of result.rows) {
    facts.set(relationKey(row.schema, row.name), {
      kind: RELKIND[row.kind] ?? row.kind,
      // -1: never vacuumed or analyzed, so unknown.
      rowCount: row.reltuples >= 0 ? row.reltuples : null,
      sizeBytes: row.size_bytes === null ? null : Number(row.size_bytes),
      columns: row.columns.map((c) => ({ name: c.n, type: c.t, notNull: c.nn, primaryKey: c.pk })),
    });
  }
  return facts;
}

/** The database a connection is in (relation facts are that database's). */
export async function currentDatabase(client: pg.ClientBase): Promise<string> {
  const result = await client.query<{ db: string }>("select current_database() as db");
  return result.rows[0]?.db ?? "";
}

/** The latest stored run of each of `tests` (by dbt unique_id): when and with what status. */
export async function storedTestRuns(
  client: pg.ClientBase,
  tests: readonly string[],
): Promise<Map<string, { status: TestStatus; executedAt: string; invocationId: string }>> {
  const result = await client.query<{
    uid: string;
    status: TestStatus;
    executed_at: Date;
    invocation_id: string;
  }>(
    `select distinct on (t.dbt_unique_id) t.dbt_unique_id as uid, r.status, r.executed_at, r.invocation_id
       from ip_workbench.tests as t join ip_workbench.test_runs as r on r.test_id = t.id
      where t.dbt_unique_id = any ($1::text[])
      order by t.dbt_unique_id, r.executed_at desc, r.invocation_id desc`,
    [tests],
  );
  return new Map(
    result.rows.map((row) => [
      row.uid,
      { status: row.status, executedAt: row.executed_at.toISOString(), invocationId: row.invocation_id },
    ]),
  );
}

/** The stored lineage checksum of each of `models` still catalogued (by dbt unique_id). */
export async function storedLineageChecksums(
  client: pg.ClientBase,
  models: readonly string[],
): Promise<Map<string, string>> {
  const result = await client.query<{ uid: string; checksum: string }>(
    `select t.dbt_unique_id as uid, c.checksum
       from ip_workbench.tables as t join ip_workbench.lineage_coverage as c on c.table_id = t.id
      where t.dbt_unique_id = any ($1::text[]) and not t.is_deleted and c.checksum is not null`,
    [models],
  );
  return new Map(result.rows.map((row) => [row.uid, row.checksum]));
}

/** Stored coverage of the catalogued `models`: status and reason per model. */
export async function storedCoverage(
  client: pg.ClientBase,
  models: readonly string[],
): Promise<Map<string, { status: CoverageRow["status"]; reason: string | null; columnEdges: number }>> {
  const result = await client.query<{
    uid: string;
    status: CoverageRow["status"];
    reason: string | null;
    column_edges: number;
  }>(
    `select t.dbt_unique_id as uid, c.status, c.reason, c.column_edges
       from ip_workbench.tables as t join ip_workbench.lineage_coverage as c on c.table_id = t.id
      where t.dbt_unique_id = any ($1::text[])`,
    [models],
  );
  return new Map(
    result.rows.map((row) => [
      row.uid,
      { status: row.status, reason: row.reason, columnEdges: row.column_edges },
    ]),
  );
}

/** The manifest a project's catalog was last seeded from (null: never seeded). */
export async function storedProject(
  client: pg.ClientBase,
  project: string,
): Promise<{ generatedAt: string | null; invocationId: string | null } | null> {
  const result = await client.query<{ generated_at: Date | null; invocation_id: string | null }>(
    `select manifest_generated_at as generated_at, manifest_invocation_id as invocation_id
       from ip_workbench.catalog_projects where project = $1`,
    [project],
  );
  const row = result.rows[0];
  return row
    ? { generatedAt: row.generated_at?.toISOString() ?? null, invocationId: row.invocation_id }
    : null;
}

/** Records the manifest a project's catalog now reflects. */
export async function recordProject(
  client: pg.ClientBase,
  project: string,
  manifest: { generatedAt: string | null; invocationId: string | null; dbtVersion: string | null },
): Promise<void> {
  await client.query(
    `insert into ip_workbench.catalog_projects as p (project, manifest_generated_at, manifest_invocation_id, dbt_version)
     values ($1, $2, $3, $4)
     on conflict (project) do update set
       manifest_generated_at = excluded.manifest_generated_at,
       manifest_invocation_id = excluded.manifest_invocation_id,
       dbt_version = excluded.dbt_version,
       seeded_at = now()
     where (p.manifest_generated_at, p.manifest_invocation_id, p.dbt_version)
           is distinct from (excluded.manifest_generated_at, excluded.manifest_invocation_id, excluded.dbt_version)`,
    [project, manifest.generatedAt, manifest.invocationId, manifest.dbtVersion],
  );
}

/** Rows inserted or changed per kind (0 everywhere when nothing changed). */
export interface WrittenCounts {
  tables: number;
  columns: number;
  columnsRemoved: number;
  edges: number;
  edgesRemoved: number;
  tests: number;
  testsDeleted: number;
  testRuns: number;
  jobRuns: number;
  tablesDeleted: number;
  /** Lineage edges removed because one of their tables left the project. */
  edgesOfDeleted: number;
  coverage: number;
  alertsResolved: number;
}

export interface WriteResult {
  written: WrittenCounts;
  /** Alerts inserted now (tables that had no open low-score alert). */
  raised: { alertId: string; tableUniqueId: string }[];
}

/** One value in COPY's text format (`\N` for null; arrays as array literals, objects as JSON). */
export function copyValue(value: unknown): string {
  if (value === null || value === undefined) return "\\N";
  let text: string;
  if (Array.isArray(value)) {
    text = `{${value.map((item) => `"${String(item).replace(/[\\"]/g, "\\$&")}"`).join(",")}}`;
  } else if (typeof value === "object") {
    text = JSON.stringify(value);
  } else {
    text = String(value);
  }
  return text.replace(/[\\\t\n\r]/g, (c) =>
    c === "\\" ? "\\\\" : c === "\t" ? "\\t" : c === "\n" ? "\\n" : "\\r",
  );
}

type Column<T> = readonly [name: string, type: string, value: (row: T) => unknown];

/**
 * Creates temporary table `name`, COPYs `rows` into it, and indexes its key `index` (with
 * `indexNow` false, only its statistics: the caller creates the index if it needs it).
 */
async function load<T>(
  client: pg.ClientBase,
  name: string,
  columns: readonly Column<T>[],
  rows: readonly T[],
  index: string,
  indexNow = true,
): Promise<void> {
  await client.query(
    `create temp table ${name} (${columns.map(([column, type]) => `${column} ${type}`).join(", ")}) on commit drop`,
  );
  function* lines(): Generator<string> {
    const batch: string[] = [];
    for (const row of rows) {
      batch.push(columns.map(([, , value]) => copyValue(value(row))).join("\t"));
      if (batch.length === 1000) yield `${batch.splice(0).join("\n")}\n`;
    }
    if (batch.length > 0) yield `${batch.join("\n")}\n`;
  }
  await pipeline(Readable.from(lines()), client.query(copyFrom(`copy ${name} from stdin`)));
  // The catalog tables' statistics lag behind the rows just written, so the planner may
  // pick nested loops: an index on the key keeps those probes cheap. Fresh statistics
  // size the joins right.
  await client.query(`${indexNow ? `create index on ${name} (${index}); ` : ""}analyze ${name} (${index})`);
}

/** Writes the plan; the caller owns the transaction (begin … commit). */
type Counter = (text: string, values?: unknown[]) => Promise<number>;
type StructureCounts = Omit<
  WrittenCounts,
  "testRuns" | "jobRuns" | "alertsResolved" | "edges" | "edgesRemoved" | "coverage"
>;

/**
 * Writes the plan; the caller owns the transaction (begin … commit). `historyOnly` (the
 * artifacts are older than the ones the catalog holds) writes only their job runs and
 * test runs: tables, columns, lineage, tests, scores and alerts keep the newer state.
 */
export async function writeCatalog(
  client: pg.ClientBase,
  plan: CatalogPlan,
  options: {
    historyOnly?: boolean;
    /**
     * The column-lineage rows, when they are still being computed: awaited after everything
     * else is written (default: the plan's own).
     */
    columnLineage?: () => Promise<ColumnLineagePlan>;
  } = {},
): Promise<WriteResult> {
  const count: Counter = async (text, values = []) => (await client.query(text, values)).rowCount ?? 0;
  const structure: StructureCounts = options.historyOnly
    ? {
        tables: 0,
        columns: 0,
        columnsRemoved: 0,
        tests: 0,
        testsDeleted: 0,
        tablesDeleted: 0,
        edgesOfDeleted: 0,
      }
    : await writeStructure(client, plan, count);
  const { jobRuns, testRuns } = await writeRuns(client, plan, count);
  if (options.historyOnly)
    return {
      written: { ...structure, edges: 0, edgesRemoved: 0, coverage: 0, jobRuns, testRuns, alertsResolved: 0 },
      raised: [],
    };
  const { raised, alertsResolved } = await writeAlerts(client, plan, count);
  const lineage = options.columnLineage ? await options.columnLineage() : plan;
  const { edges, edgesRemoved, coverage } = await writeLineage(client, plan.tableEdges, lineage, count);
  return {
    written: { ...structure, edges, edgesRemoved, coverage, jobRuns, testRuns, alertsResolved },
    raised,
  };
}

/** Tables, columns and tests. */
async function writeStructure(
  client: pg.ClientBase,
  plan: CatalogPlan,
  count: Counter,
): Promise<StructureCounts> {
  const { tables, tablesDeleted, edgesOfDeleted } = await writeTables(client, plan, count);
  const { columns, columnsRemoved } = await writeColumns(client, plan, count);
  const { tests, testsDeleted } = await writeTests(client, plan, count);
  return { tables, columns, columnsRemoved, tests, testsDeleted, tablesDeleted, edgesOfDeleted };
}

/**
 * The relations: adopted, upserted, soft-deleted when they left the project (with their
 * lineage), then `_cat_ids` (unique_id → table id) for the columns and tests.
 */
async function writeTables(client: pg.ClientBase, plan: CatalogPlan, count: Counter) {
  await load<TableRow>(
    client,
    "_cat_tables",
    [
      ["uid", "text", (t) => t.uniqueId],
      ["database_name", "text", (t) => t.databaseName],
      ["schema_name", "text", (t) => t.schemaName],
      ["table_name", "text", (t) => t.tableName],
      ["resource_type", "text", (t) => t.resourceType],
      ["layer", "text", (t) => t.layer],
      ["description", "text", (t) => t.description],
      ["owner_name", "text", (t) => t.ownerName],
      ["tags", "text[]", (t) => t.tags],
      ["meta", "jsonb", (t) => t.meta],
      ["row_count", "bigint", (t) => t.rowCount],
      ["size_bytes", "bigint", (t) => t.sizeBytes],
      ["last_updated", "timestamptz", (t) => t.lastUpdated],
      ["dq_score", "numeric", (t) => t.dqScore],
      ["slo_freshness_hours", "int", (t) => t.sloFreshnessHours],
      ["slo_completeness_pct", "numeric", (t) => t.sloCompletenessPct],
    ],
    plan.tables,
    "uid",
  );

  // A relation now produced by another dbt node (a renamed model keeping its alias), or
  // registered by hand, keeps its row and history: it is adopted by the new unique_id. A row
  // without a database (catalogued before the database was part of the identity) matches
  // the relation of the same schema and name.
  await client.query(
    `update ip_workbench.tables as t set dbt_unique_id = p.uid
       from _cat_tables as p
      where (t.database_name is not distinct from p.database_name or t.database_name is null)
        and t.schema_name = p.schema_name and t.table_name = p.table_name
        and t.dbt_unique_id is distinct from p.uid
        and (t.dbt_unique_id is null or not exists (select from _cat_tables as q where q.uid = t.dbt_unique_id))
        and not exists (select from ip_workbench.tables as o where o.dbt_unique_id = p.uid)`,
  );

  const tables = await count(
    `insert into ip_workbench.tables as t
       (dbt_unique_id, database_name, schema_name, table_name, resource_type, layer, description, owner_name, tags, meta,
        row_count, size_bytes, last_updated, dq_score, slo_freshness_hours, slo_completeness_pct, is_deleted, deleted_at)
     select uid, database_name, schema_name, table_name, resource_type, layer, description, owner_name, tags, meta,
            row_count, size_bytes, last_updated, dq_score, slo_freshness_hours, slo_completeness_pct, false, null
       from _cat_tables
     on conflict (dbt_unique_id) do update set
       database_name = excluded.database_name,
       schema_name = excluded.schema_name,
       table_name = excluded.table_name,
       resource_type = excluded.resource_type,
       layer = excluded.layer,
       description = excluded.description,
       owner_name = excluded.owner_name,
       tags = excluded.tags,
       meta = excluded.meta,
       row_count = excluded.row_count,
       size_bytes = excluded.size_bytes,
       last_updated = greatest(t.last_updated, excluded.last_updated),
       dq_score = coalesce(excluded.dq_score, t.dq_score),
       slo_freshness_hours = excluded.slo_freshness_hours,
       slo_completeness_pct = excluded.slo_completeness_pct,
       is_deleted = false,
       deleted_at = null
     where (t.database_name, t.schema_name, t.table_name, t.resource_type, t.layer, t.description, t.owner_name, t.tags, t.meta,
            t.row_count, t.size_bytes, t.last_updated, t.dq_score, t.slo_freshness_hours, t.slo_completeness_pct, t.is_deleted)
           is distinct from
           (excluded.database_name, excluded.schema_name, excluded.table_name, excluded.resource_type, excluded.layer, excluded.description,
            excluded.owner_name, excluded.tags, excluded.meta, excluded.row_count, excluded.size_bytes,
            greatest(t.last_updated, excluded.last_updated), coalesce(excluded.dq_score, t.dq_score),
            excluded.slo_freshness_hours, excluded.slo_completeness_pct, false)`,
  );

  // Vanished from the manifest (of the same dbt packages): soft-deleted, never left stale.
  const tablesDeleted = await count(
    `update ip_workbench.tables as t set is_deleted = true, deleted_at = now()
      where not t.is_deleted
        and split_part(t.dbt_unique_id, '.', 1) in ('model', 'seed', 'source', 'snapshot')
        and split_part(t.dbt_unique_id, '.', 2) = any ($1::text[])
        and not exists (select from _cat_tables as p where p.uid = t.dbt_unique_id)`,
    [plan.packages],
  );
  // A table that left the project takes its lineage with it (both directions); the models
  // that read it lose their coverage row, so their lineage is traced again if it returns.
  const edgesOfDeleted = Number(
    (
      await client.query<{ edges: number }>(
        `with gone as (
           delete from ip_workbench.lineage_edges as e using ip_workbench.tables as t
            where t.is_deleted and (e.source_table_id = t.id or e.target_table_id = t.id)
           returning e.target_table_id),
         uncovered as (
           delete from ip_workbench.lineage_coverage as c
            where c.table_id in (select target_table_id from gone)
               or c.table_id in (select id from ip_workbench.tables where is_deleted)
           returning 1)
         select (select count(*) from gone)::int as edges`,
      )
    ).rows[0]?.edges ?? 0,
  );

  await client.query(
    `create temp table _cat_ids on commit drop as
       select t.id, t.dbt_unique_id as uid from ip_workbench.tables as t join _cat_tables as p on p.uid = t.dbt_unique_id;
     create unique index on _cat_ids (uid); create unique index on _cat_ids (id); analyze _cat_ids`,
  );
  return { tables, tablesDeleted, edgesOfDeleted };
}

/** The columns of the tables written now; columns gone from a table are removed. */
async function writeColumns(client: pg.ClientBase, plan: CatalogPlan, count: Counter) {
  await load<ColumnRow>(
    client,
    "_cat_columns",
    [
      ["table_uid", "text", (c) => c.tableUniqueId],
      ["column_name", "text", (c) => c.columnName],
      ["ordinal_position", "int", (c) => c.ordinalPosition],
      ["data_type", "text", (c) => c.dataType],
      ["is_nullable", "boolean", (c) => c.isNullable],
      ["is_primary_key", "boolean", (c) => c.isPrimaryKey],
      ["description", "text", (c) => c.description],
      ["tags", "text[]", (c) => c.tags],
    ],
    plan.columns,
    "table_uid, column_name",
  );
  const columns = await count(
    `insert into ip_workbench.table_metadata as m
       (table_id, column_name, ordinal_position, data_type, is_nullable, is_primary_key, description, tags)
     select i.id, c.column_name, c.ordinal_position, c.data_type, c.is_nullable, c.is_primary_key, c.description, c.tags
       from _cat_columns as c join _cat_ids as i on i.uid = c.table_uid
     on conflict (table_id, column_name) do update set
       ordinal_position = excluded.ordinal_position,
       data_type = excluded.data_type,
       is_nullable = excluded.is_nullable,
       is_primary_key = excluded.is_primary_key,
       description = excluded.description,
       tags = excluded.tags
     where (m.ordinal_position, m.data_type, m.is_nullable, m.is_primary_key, m.description, m.tags)
           is distinct from
           (excluded.ordinal_position, excluded.data_type, excluded.is_nullable, excluded.is_primary_key,
            excluded.description, excluded.tags)`,
  );
  const columnsRemoved = await count(
    `delete from ip_workbench.table_metadata as m using _cat_ids as i
      where m.table_id = i.id
        and not exists (select from _cat_columns as c where c.table_uid = i.uid and c.column_name = m.column_name)`,
  );
  return { columns, columnsRemoved };
}

/** The tests; tests gone from the project (of the same packages) are soft-deleted. */
async function writeTests(client: pg.ClientBase, plan: CatalogPlan, count: Counter) {
  await load<TestRow>(
    client,
    "_cat_tests",
    [
      ["uid", "text", (t) => t.uniqueId],
      ["table_uid", "text", (t) => t.tableUniqueId],
      ["column_name", "text", (t) => t.columnName],
      ["test_name", "text", (t) => t.testName],
      ["test_type", "text", (t) => t.testType],
      ["severity", "text", (t) => t.severity],
      ["config", "jsonb", (t) => t.config],
    ],
    plan.tests,
    "uid",
  );
  const tests = await count(
    `insert into ip_workbench.tests as x (dbt_unique_id, table_id, column_name, test_name, test_type, severity, config, is_deleted)
     select c.uid, i.id, c.column_name, c.test_name, c.test_type, c.severity, c.config, false
       from _cat_tests as c left join _cat_ids as i on i.uid = c.table_uid
     on conflict (dbt_unique_id) do update set
       table_id = excluded.table_id,
       column_name = excluded.column_name,
       test_name = excluded.test_name,
       test_type = excluded.test_type,
       severity = excluded.severity,
       config = excluded.config,
       is_deleted = false
     where (x.table_id, x.column_name, x.test_name, x.test_type, x.severity, x.config, x.is_deleted)
           is distinct from
           (excluded.table_id, excluded.column_name, excluded.test_name, excluded.test_type, excluded.severity,
            excluded.config, false)`,
  );
  const testsDeleted = await count(
    `update ip_workbench.tests as x set is_deleted = true
      where not x.is_deleted
        and split_part(x.dbt_unique_id, '.', 1) = 'test'
        and split_part(x.dbt_unique_id, '.', 2) = any ($1::text[])
        and not exists (select from _cat_tests as c where c.uid = x.dbt_unique_id)`,
    [plan.packages],
  );
  return { tests, testsDeleted };
}

/**
 * Table edges, the column edges of the models traced now, and their coverage. Last in the
 * transaction: the column lineage may still be parsing while the rest is written.
 */
async function writeLineage(
  client: pg.ClientBase,
  tableEdges: readonly EdgeRow[],
  plan: ColumnLineagePlan,
  count: Counter,
): Promise<{ edges: number; edgesRemoved: number; coverage: number }> {
  // --- lineage -------------------------------------------------------------------------------
  await load<EdgeRow>(
    client,
    "_cat_edges",
    [
      ["source_uid", "text", (e) => e.sourceUniqueId],
      ["target_uid", "text", (e) => e.targetUniqueId],
      ["edge_type", "text", (e) => e.edgeType],
      ["source_column", "text", (e) => e.sourceColumn],
      ["target_column", "text", (e) => e.targetColumn],
      ["transformation_sql", "text", (e) => e.transformationSql],
    ],
    [...tableEdges, ...plan.columnEdges],
    "target_uid, source_uid",
    false,
  );
  // Into tables that had no edges before (a first seed), nothing can be stale: the delete
  // below, and the index it probes, are skipped (at 10k models, ~120k edges scanned).
  const hadEdges =
    (
      await client.query<{ any: boolean }>(
        `select exists (select from ip_workbench.lineage_edges as e join _cat_ids as t on t.id = e.target_table_id) as any`,
      )
    ).rows[0]?.any ?? true;
  const edges = await count(
    `insert into ip_workbench.lineage_edges as e
       (source_table_id, target_table_id, edge_type, source_column, target_column, transformation_sql)
     select s.id, t.id, x.edge_type, x.source_column, x.target_column, x.transformation_sql
       from _cat_edges as x
       join _cat_ids as s on s.uid = x.source_uid
       join _cat_ids as t on t.uid = x.target_uid
     on conflict (source_table_id, target_table_id, source_column, target_column) do update set
       edge_type = excluded.edge_type,
       transformation_sql = excluded.transformation_sql
     where (e.edge_type, e.transformation_sql) is distinct from (excluded.edge_type, excluded.transformation_sql)`,
  );
  // Stale edges into the planned tables: table edges always (depends_on is complete);
  // column edges only of the models whose column lineage was traced this time.
  if (hadEdges) await client.query("create index on _cat_edges (target_uid, source_uid)");
  const edgesRemoved = !hadEdges
    ? 0
    : await count(
        `delete from ip_workbench.lineage_edges as e using _cat_ids as t
      where e.target_table_id = t.id
        and (e.edge_type = 'table' or t.uid = any ($1::text[]))
        and not exists (
          select from _cat_edges as x join _cat_ids as s on s.uid = x.source_uid
           where x.target_uid = t.uid and s.id = e.source_table_id and x.edge_type = e.edge_type
             and x.source_column is not distinct from e.source_column
             and x.target_column is not distinct from e.target_column)`,
        [plan.columnLineageTargets],
      );

  // --- column-lineage coverage of the models traced now -----------------------------------------
  await load<CoverageRow>(
    client,
    "_cat_coverage",
    [
      ["table_uid", "text", (c) => c.tableUniqueId],
      ["status", "text", (c) => c.status],
      ["reason", "text", (c) => c.reason],
      ["sql_source", "text", (c) => c.sqlSource],
      ["column_edges", "int", (c) => c.columnEdges],
      ["checksum", "text", (c) => c.checksum],
      ["parser", "text", (c) => c.parser],
    ],
    plan.coverage,
    "table_uid",
  );
  const coverage = await count(
    `insert into ip_workbench.lineage_coverage as c (table_id, status, reason, sql_source, column_edges, checksum, parser)
     select i.id, x.status, x.reason, x.sql_source, x.column_edges, x.checksum, x.parser
       from _cat_coverage as x join _cat_ids as i on i.uid = x.table_uid
     on conflict (table_id) do update set
       status = excluded.status,
       reason = excluded.reason,
       sql_source = excluded.sql_source,
       column_edges = excluded.column_edges,
       checksum = excluded.checksum,
       parser = excluded.parser,
       updated_at = now()
     where (c.status, c.reason, c.sql_source, c.column_edges, c.checksum, c.parser)
           is distinct from
           (excluded.status, excluded.reason, excluded.sql_source, excluded.column_edges, excluded.checksum,
            excluded.parser)`,
  );

  return { edges, edgesRemoved, coverage };
}

/** Job runs and test runs (history: never overwritten by older artifacts). */
async function writeRuns(
  client: pg.ClientBase,
  plan: CatalogPlan,
  count: Counter,
): Promise<{ jobRuns: number; testRuns: number }> {
  await load<JobRunRow>(
    client,
    "_cat_jobs",
    [
      ["invocation_id", "text", (j) => j.invocationId],
      ["status", "text", (j) => j.status],
      ["stage", "text", (j) => j.stage],
      ["started_at", "timestamptz", (j) => j.startedAt],
      ["completed_at", "timestamptz", (j) => j.completedAt],
      ["rows_processed", "bigint", (j) => j.rowsProcessed],
      ["error_message", "text", (j) => j.errorMessage],
    ],
    plan.jobRuns,
    "invocation_id",
  );
  // A stage runner (DbtStage) may have recorded the invocation already: then it is kept as is.
  const jobRuns = await count(
    `insert into ip_workbench.job_runs (status, stage, invocation_id, started_at, completed_at, rows_processed, error_message, triggered_by)
     select distinct on (j.invocation_id) j.status, j.stage, j.invocation_id, j.started_at, j.completed_at,
            j.rows_processed, j.error_message, null::uuid
       from _cat_jobs as j
      where not exists (select from ip_workbench.job_runs as r where r.invocation_id = j.invocation_id)
      order by j.invocation_id`,
  );
  await client.query(
    `create temp table _cat_job_ids on commit drop as
       select distinct on (r.invocation_id) r.invocation_id, r.id
         from ip_workbench.job_runs as r join _cat_jobs as j on j.invocation_id = r.invocation_id
        order by r.invocation_id, r.started_at nulls last, r.id;
     create unique index on _cat_job_ids (invocation_id)`,
  );

  await load<TestRunRow>(
    client,
    "_cat_runs",
    [
      ["test_uid", "text", (r) => r.testUniqueId],
      ["invocation_id", "text", (r) => r.invocationId],
      ["status", "text", (r) => r.status],
      ["failures", "bigint", (r) => r.failures],
      ["message", "text", (r) => r.message],
      ["details", "jsonb", (r) => r.details],
      ["executed_at", "timestamptz", (r) => r.executedAt],
    ],
    plan.testRuns,
    "test_uid",
  );
  const testRuns = await count(
    `insert into ip_workbench.test_runs as r (test_id, job_run_id, invocation_id, status, failures, message, details, executed_at)
     select t.id, j.id, x.invocation_id, x.status, x.failures, x.message, x.details, x.executed_at
       from _cat_runs as x
       join ip_workbench.tests as t on t.dbt_unique_id = x.test_uid
       left join _cat_job_ids as j on j.invocation_id = x.invocation_id
     on conflict (invocation_id, test_id) do update set
       job_run_id = coalesce(r.job_run_id, excluded.job_run_id),
       status = excluded.status,
       failures = excluded.failures,
       message = excluded.message,
       details = excluded.details,
       executed_at = excluded.executed_at
     where (r.job_run_id, r.status, r.failures, r.message, r.details, r.executed_at)
           is distinct from
           (coalesce(r.job_run_id, excluded.job_run_id), excluded.status, excluded.failures, excluded.message,
            excluded.details, excluded.executed_at)`,
  );

  return { jobRuns, testRuns };
}

/** Low-score alerts raised once per drop, resolved on recovery. */
async function writeAlerts(
  client: pg.ClientBase,
  plan: CatalogPlan,
  count: Counter,
): Promise<{ raised: WriteResult["raised"]; alertsResolved: number }> {
  // --- alerts --------------------------------------------------------------------------------
  await load<AlertRow>(
    client,
    "_cat_alerts",
    [
      ["table_uid", "text", (a) => a.tableUniqueId],
      ["message", "text", (a) => a.message],
      ["details", "jsonb", (a) => a.details],
    ],
    plan.alerts,
    "table_uid",
  );
  // Once per drop: no new alert while the table's previous low-score alert is open.
  const raised = await client.query<{ alert_id: string; uid: string }>(
    `with inserted as (
       insert into ip_workbench.alerts (table_id, alert_type, severity, message, details, created_by)
       select i.id, 'dq_below_threshold', 'critical', a.message, a.details, null::uuid
         from _cat_alerts as a join _cat_ids as i on i.uid = a.table_uid
        where not exists (
          select from ip_workbench.alerts as o
           where o.table_id = i.id and o.alert_type = 'dq_below_threshold' and o.resolved_at is null)
       returning id, table_id)
     select inserted.id as alert_id, i.uid from inserted join _cat_ids as i on i.id = inserted.table_id`,
  );
  const alertsResolved = await count(
    `update ip_workbench.alerts as a set resolved_at = now()
       from _cat_ids as i
      where a.table_id = i.id and i.uid = any ($1::text[])
        and a.alert_type = 'dq_below_threshold' and a.resolved_at is null`,
    [plan.recovered],
  );

  return {
    alertsResolved,
    raised: raised.rows.map((row) => ({ alertId: row.alert_id, tableUniqueId: row.uid })),
  };
}
