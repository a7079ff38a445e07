/**
 * The `ip_workbench` catalog tables the seeder writes, in a scratch database, and a
 * small medallion built by the real dbt project whose artifacts the seeder reads.
 *
 * When the project's migrations define the catalog (sql/migrations/…0200_ip_workbench_schema.sql)
 * they are applied, in order, with the project's runner; otherwise a stand-in with the same
 * columns (the seeder's contract) is created, plus the medallion schemas migration.
 */
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { applyMigrations, loadMigrations, parseMigration } from "../../components/database/migrations.ts";
import { withClient, type PgConnection } from "../../components/database/pg-connection.ts";
import { runDbt } from "../../components/data/dbt.ts";
import { REPO_ROOT } from "../../stacks/paths.ts";

const MIGRATIONS_DIR = join(REPO_ROOT, "sql/migrations");
const REAL_CATALOG_MIGRATION = join(MIGRATIONS_DIR, "20261123000200_ip_workbench_schema.sql");
const MEDALLION_MIGRATION = "20261123000300_medallion_schemas.sql";

const ROLES = `
do $$ begin
  if not exists (select from pg_roles where rolname = 'service_role') then create role service_role nologin bypassrls; end if;
  if not exists (select from pg_roles where rolname = 'authenticated') then create role authenticated nologin; end if;
exception when duplicate_object then null;
end $$;`;

/** The catalog tables as the seeder expects them (column names are the contract). */
export const CATALOG_DDL = `
create extension if not exists pgcrypto;
create schema if not exists ip_workbench;

create table if not exists ip_workbench.tables (
  id uuid primary key default gen_random_uuid(),
  domain_id uuid,
  schema_name text not null,
  table_name text not null,
  dbt_unique_id text unique,
  resource_type text not null default 'table' check (resource_type in ('model', 'seed', 'source', 'snapshot', 'table')),
  layer text check (layer in ('bronze', 'silver', 'gold', 'platinum')),
  description text,
  owner uuid,
  owner_name text,
  tags text[] not null default '{}',
  meta jsonb not null default '{}',
  row_count bigint,
  size_bytes bigint,
  last_updated timestamptz,
  dq_score numeric(5, 2) check (dq_score between 0 and 100),
  slo_freshness_hours int,
  slo_completeness_pct numeric(5, 2),
  is_deleted boolean not null default false,
  deleted_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (schema_name, table_name)
);

create table if not exists ip_workbench.table_metadata (
  id uuid primary key default gen_random_uuid(),
  table_id uuid not null references ip_workbench.tables (id) on delete cascade,
  column_name text not null,
  ordinal_position int,
  data_type text not null,
  is_nullable boolean not null default true,
  is_primary_key boolean not null default false,
  description text,
  tags text[] not null default '{}',
  unique (table_id, column_name)
);

create table if not exists ip_workbench.lineage_edges (
  id uuid primary key default gen_random_uuid(),
  source_table_id uuid not null references ip_workbench.tables (id) on delete cascade,
  target_table_id uuid not null references ip_workbench.tables (id) on delete cascade,
  edge_type text not null check (edge_type in ('table', 'column')),
  source_column text,
  target_column text,
  transformation_sql text,
  created_at timestamptz not null default now(),
  unique nulls not distinct (source_table_id, target_table_id, source_column, target_column)
);

create table if not exists ip_workbench.job_runs (
  id uuid primary key default gen_random_uuid(),
  pipeline_id uuid,
  job_id uuid,
  status text not null check (status in ('pending', 'running', 'completed', 'failed')),
  triggered_by uuid,
  stage text,
  invocation_id text,
  started_at timestamptz default now(),
  completed_at timestamptz,
  logs text,
  rows_processed bigint,
  error_message text
);

create table if not exists ip_workbench.tests (
  id uuid primary key default gen_random_uuid(),
  dbt_unique_id text unique,
  table_id uuid references ip_workbench.tables (id) on delete cascade,
  column_name text,
  test_name text not null,
  test_type text not null
    check (test_type in ('completeness', 'uniqueness', 'consistency', 'validity', 'timeliness', 'accuracy', 'other')),
  severity text not null default 'error' check (severity in ('error', 'warn')),
  config jsonb not null default '{}',
  is_deleted boolean not null default false,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table if not exists ip_workbench.test_runs (
  id uuid primary key default gen_random_uuid(),
  test_id uuid not null references ip_workbench.tests (id) on delete cascade,
  job_run_id uuid references ip_workbench.job_runs (id) on delete set null,
  invocation_id text not null,
  status text not null check (status in ('pass', 'fail', 'warn', 'error', 'skipped')),
  passed boolean generated always as (status = 'pass') stored,
  failures bigint,
  message text,
  details jsonb,
  executed_at timestamptz not null default now(),
  unique (invocation_id, test_id)
);

create table if not exists ip_workbench.alerts (
  id uuid primary key default gen_random_uuid(),
  table_id uuid references ip_workbench.tables (id) on delete cascade,
  alert_type text not null,
  severity text check (severity in ('info', 'warning', 'critical')),
  message text not null,
  details jsonb not null default '{}',
  created_at timestamptz not null default now(),
  resolved_at timestamptz,
  created_by uuid
);`;

/** True when the project's own migrations define the catalog tables. */
export function realCatalogMigrationsPresent(): boolean {
  return existsSync(REAL_CATALOG_MIGRATION);
}

/** Creates the catalog tables and the medallion schemas in `connection`'s database. */
export async function applyCatalogSchema(connection: PgConnection): Promise<"migrations" | "stand-in"> {
  if (realCatalogMigrationsPresent()) {
    await applyMigrations(connection, loadMigrations(MIGRATIONS_DIR));
    return "migrations";
  }
  await withClient(connection, async (client) => {
    await client.query(ROLES);
    await client.query(CATALOG_DDL);
  });
  const medallion = loadMigrations(MIGRATIONS_DIR).find(
    (m) => `${m.version}_${m.name}.sql` === MEDALLION_MIGRATION,
  );
  if (!medallion) throw new Error(`${MEDALLION_MIGRATION} is missing from ${MIGRATIONS_DIR}`);
  await applyMigrations(connection, [parseMigration(MEDALLION_MIGRATION, medallion.sql)]);
  return "stand-in";
}

const CATEGORIES = ["beverages", "snacks", "dairy", "bakery", "household"];
const EXPENSE_CATEGORIES = ["travel", "meals", "supplies", "professional_services"];

function isoDay(base: Date, offsetDays: number): string {
  return new Date(base.getTime() - offsetDays * 86_400_000).toISOString().slice(0, 10);
}

/** A few deterministic bronze deliveries (valid rows, one malformed, one duplicate). */
export async function insertBronzeRows(connection: PgConnection, count = 40): Promise<void> {
  const base = new Date(Date.UTC(2026, 9, 31));
  const transactions: string[] = [];
  const products: string[] = [];
  const expenses: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const category = CATEGORIES[i % CATEGORIES.length] as string;
    const quantity = 1 + (i % 4);
    const unitPrice = 10 + (i % 7) * 2.5;
    transactions.push(
      JSON.stringify({
        transaction_id: `T${1000 + i}`,
        store_id: `S${i % 3}`,
        product_id: `P${i % 10}`,
        category,
        payment_method: i % 2 ? "cash" : "gcash",
        customer_id: `C${i % 12}`,
        quantity: String(quantity),
        unit_price: unitPrice.toFixed(2),
        amount: (quantity * unitPrice).toFixed(2),
        transaction_date: isoDay(base, (i * 9) % 400),
        transaction_ts: `${isoDay(base, (i * 9) % 400)}T10:00:00Z`,
      }),
    );
    if (i < 10) {
      products.push(
        JSON.stringify({
          product_id: `P${i}`,
          product_name: `Product ${i}`,
          category,
          brand: `Brand ${i % 3}`,
          unit_price: unitPrice.toFixed(2),
          updated_at: "2026-10-01T00:00:00Z",
        }),
      );
    }
    expenses.push(
      JSON.stringify({
        expense_id: `E${500 + i}`,
        agency: `Agency ${i % 3}`,
        employee_id: `EMP${i % 5}`,
        vendor: `Vendor ${i % 4}`,
        category: EXPENSE_CATEGORIES[i % EXPENSE_CATEGORIES.length],
        currency: "PHP",
        description: `Expense ${i}`,
        amount: (250 + i * 137).toFixed(2),
        expense_date: isoDay(base, (i * 11) % 300),
      }),
    );
  }
  transactions.push("{not json", transactions[0] as string);
  await withClient(connection, async (client) => {
    for (const [table, rows] of [
      ["scout_transactions_raw", transactions],
      ["scout_products_raw", products],
      ["expenses_raw", expenses],
    ] as const) {
      await client.query(
        `insert into bronze.${table} (source, batch_id, record_seq, payload_raw)
         select 'test', 'batch-1', ordinality - 1, raw from unnest($1::text[]) with ordinality as raw
         on conflict do nothing`,
        [rows],
      );
    }
  });
}

export interface BuiltMedallion {
  /** One artifacts dir per dbt build stage (run_results.json + manifest.json). */
  stageDirs: string[];
  /** `dbt docs generate`'s dir (manifest.json + catalog.json). */
  docsDir: string;
}

export const DBT_PROJECT_DIR = join(REPO_ROOT, "dbt");

/**
 * Builds the medallion stage by stage with the real dbt, each stage into its own
 * artifacts dir, then `dbt docs generate` into another (docs generate rewrites
 * run_results.json, so it must not share a dir with a build).
 */
export async function buildMedallion(
  connection: PgConnection,
  asOfDate = "2026-11-01",
): Promise<BuiltMedallion> {
  const root = mkdtempSync(join(tmpdir(), "aiwb-catalog-artifacts-"));
  const stageDirs: string[] = [];
  for (const stage of ["bronze", "silver", "gold", "platinum"] as const) {
    const targetPath = join(root, stage);
    await runDbt({
      command: "build",
      projectDir: DBT_PROJECT_DIR,
      connection,
      stage,
      targetPath,
      vars: { as_of_date: asOfDate },
    });
    stageDirs.push(targetPath);
  }
  const docsDir = join(root, "docs");
  await runDbt({
    command: "docs generate",
    projectDir: DBT_PROJECT_DIR,
    connection,
    targetPath: docsDir,
    vars: { as_of_date: asOfDate },
  });
  return { stageDirs, docsDir };
}
