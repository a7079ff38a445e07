/** A migrated scratch database and dbt runs against it, for the medallion tests. */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { applyMigrations, loadMigrations, type Migration } from "../../lib/postgres/migrations.ts";
import { runDbt, type DbtOptions, type DbtRunSummary } from "../../lib/dbt/cli.ts";
import { REPO_ROOT } from "../../lib/paths.ts";
import { createScratchDatabase, type ScratchDatabase } from "../../lib/postgres/scratch-database.ts";

export const DBT_PROJECT = join(REPO_ROOT, "dbt");

export interface MedallionDatabase extends ScratchDatabase {
  /** Artifacts dir private to this database. */
  targetPath: string;
  dbt(options: Partial<DbtOptions> & Pick<DbtOptions, "command">): Promise<DbtRunSummary>;
  /** Inserts raw records into a landing table as one batch. */
  deliver(
    table: "scout_transactions_raw" | "scout_products_raw" | "expenses_raw",
    batchId: string,
    payloads: string[],
  ): Promise<number>;
}

/** `migrations`: default every migration of the repo (a test of an upgrade passes fewer). */
export async function createMedallionDatabase(
  prefix: string,
  migrations: readonly Migration[] = loadMigrations(join(REPO_ROOT, "sql/migrations")),
): Promise<MedallionDatabase> {
  const db = await createScratchDatabase(prefix);
  await applyMigrations(db.connection, migrations);
  const targetPath = mkdtempSync(join(tmpdir(), `aiwb-dbt-${prefix}-`));
  return {
    ...db,
    targetPath,
    dbt: (options) => runDbt({ projectDir: DBT_PROJECT, connection: db.connection, targetPath, ...options }),
    async deliver(table, batchId, payloads) {
      const entity = {
        scout_transactions_raw: "scout_transactions",
        scout_products_raw: "scout_products",
        expenses_raw: "expenses",
      }[table];
      const rows = await db.query<{ n: number }>("select bronze.deliver($1, 'test', $2, $3::text[]) as n", [
        entity,
        batchId,
        payloads,
      ]);
      return rows[0]?.n ?? 0;
    },
  };
}
