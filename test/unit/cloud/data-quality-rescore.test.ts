/**
 * Item 9 against the real PostgreSQL server: the data-jobs image's re-scoring step
 * (scripts/data-jobs/rescore.ts, as the data-quality CronJob runs it) seeds the catalog
 * from a dbt run's artifacts, raises the low-DQ alert, and exits 3 for as long as the
 * table stays below 80 %, not only on the run that raised the alert.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyMigrations, loadMigrations } from "../../../lib/postgres/migrations.ts";
import { connectionUrl } from "../../../lib/postgres/connection.ts";
import { REPO_ROOT } from "../../../lib/paths.ts";
import { createScratchDatabase, type ScratchDatabase } from "../../../lib/postgres/scratch-database.ts";

let db: ScratchDatabase;
beforeAll(async () => {
  db = await createScratchDatabase("rescore");
  await applyMigrations(db.connection, loadMigrations(`${REPO_ROOT}/sql/migrations`));
});
const scratchDirs: string[] = [];
afterAll(async () => {
  await db?.drop();
  for (const dir of scratchDirs) rmSync(dir, { recursive: true, force: true });
});

/** v12's stg_orders scores 62.5 (test/fixtures/dbt-artifacts/README.md). */
const rescore = (artifacts = "test/fixtures/dbt-artifacts/v12") =>
  execa("bash", ["scripts/run", "tsx", "scripts/data-jobs/rescore.ts", "--artifacts", artifacts], {
    cwd: REPO_ROOT,
    env: { DATABASE_URL: connectionUrl(db.connection, true) },
    reject: false,
  });

const openAlerts = () =>
  db.query<{ table_name: string }>(
    `select t.table_name from ip_workbench.alerts as a join ip_workbench.tables as t on t.id = a.table_id
      where a.alert_type = 'dq_below_threshold' and a.resolved_at is null order by 1`,
  );

describe("the data-quality run's re-scoring (data-jobs image)", () => {
  it("seeds the catalog, raises the alert and exits 3 when a table is below 80 %", async () => {
    const run = await rescore();
    expect(run.stdout).toContain("alerts raised 1, resolved 0");
    expect(run.stdout).toMatch(/below threshold: table [a-z_]+\.stg_orders \(62\.5\)/);
    expect(run.stdout).toContain("data quality below threshold");
    expect(run.exitCode).toBe(3);
    expect(await openAlerts()).toEqual([{ table_name: "stg_orders" }]);
  });

  it("keeps exiting 3 the next day while the alert is open, without raising it twice", async () => {
    const run = await rescore();
    expect(run.stdout).toContain("alerts raised 0, resolved 0");
    expect(run.exitCode).toBe(3);
    expect(await openAlerts()).toHaveLength(1);
  });

  it("exits 0 once the table recovers: the next run with its tests passing resolves the alert", async () => {
    // The same project's next run: v12's artifacts with every test passing.
    const dir = mkdtempSync(join(tmpdir(), "aiwb-rescore-"));
    scratchDirs.push(dir);
    const source = `${REPO_ROOT}/test/fixtures/dbt-artifacts/v12`;
    for (const file of ["manifest.json", "catalog.json"]) copyFileSync(`${source}/${file}`, `${dir}/${file}`);
    const results = JSON.parse(readFileSync(`${source}/run_results.json`, "utf8"));
    results.metadata.invocation_id = "inv-v12-recovered";
    results.metadata.generated_at = "2026-03-03T09:59:00.000000Z";
    results.metadata.invocation_started_at = "2026-03-03T09:58:00.000000Z";
    for (const result of results.results) {
      if (result.unique_id.startsWith("test.")) Object.assign(result, { status: "pass", failures: 0 });
    }
    writeFileSync(`${dir}/run_results.json`, JSON.stringify(results));
    const run = await rescore(dir);
    expect(run.stdout).toContain("alerts raised 0, resolved 1");
    expect(run.stdout).toContain("data quality at threshold");
    expect(run.exitCode).toBe(0);
    expect(await openAlerts()).toEqual([]);
  });
});
