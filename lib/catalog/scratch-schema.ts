/**
 * The `ip_workbench` catalog tables the seeder writes, in a scratch database, and a
 * small medallion built by the real dbt project whose artifacts the seeder reads.
 *
 * The project's migrations are applied, in order, with the project's runner.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { applyMigrations, loadMigrations } from "../postgres/migrations.ts";
import { withClient, type PgConnection } from "../postgres/connection.ts";
import { runDbt } from "../dbt/cli.ts";
import { REPO_ROOT } from "../paths.ts";

const MIGRATIONS_DIR = join(REPO_ROOT, "sql/migrations");

/** Migrates `connection`'s database with the project's own migrations (catalog and medallion). */
export async function applyCatalogSchema(connection: PgConnection): Promise<void> {
  await applyMigrations(connection, loadMigrations(MIGRATIONS_DIR));
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
