/**
 * Re-scores the catalog from one dbt run's artifacts (the data-jobs image's data-quality
 * step): seeds tests and results, recomputes DQ, raises or resolves alerts (and POSTs the
 * QUALITY_ALERTS_URL webhook), then exits 3 when anything is below its threshold so the
 * CronJob's Job fails and Prometheus alerts (WorkbenchDataQualityBelowThreshold).
 *
 *   tsx scripts/data-jobs/rescore.ts --artifacts /tmp/target/data-quality
 *
 * The connection is DATABASE_URL: the catalog writer's login (wb_<env>_catalog, a member of
 * workbench_catalog_writer), never the admin.
 */
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";
import { connectionFromUrl, type PgConnection, withClient } from "../../lib/postgres/connection.ts";
import { seedCatalog, type SeedResult } from "../../lib/catalog/seed.ts";
import { REPO_ROOT } from "../../lib/paths.ts";

/** Exit code when a table or layer scores below its threshold. */
export const BELOW_THRESHOLD_EXIT = 3;

/**
 * What the run says, and the exit code for the Job: below threshold while a layer fails its
 * threshold or any table has an open low-DQ alert. Open alerts, not the ones this run
 * raised: the seeder raises once per drop, so a table still below 80 % the next day raises
 * nothing new, and the Job must keep failing until it recovers (which resolves the alert).
 */
export function qualityVerdict(
  result: Pick<SeedResult, "dqByLayer">,
  openAlerts: readonly string[],
): { exitCode: number; failing: string[] } {
  const failing = [
    ...Object.entries(result.dqByLayer)
      .filter(([, score]) => score.status === "fail")
      .map(([layer, score]) => `layer ${layer}: ${score.score} < ${score.threshold}`),
    ...openAlerts.map((alert) => `table ${alert}`),
  ];
  return { exitCode: failing.length > 0 ? BELOW_THRESHOLD_EXIT : 0, failing };
}

/** Tables (live ones) with an open dq_below_threshold alert, as `schema.table (score)`. */
export async function openQualityAlerts(connection: PgConnection): Promise<string[]> {
  return withClient(connection, async (client) => {
    const { rows } = await client.query<{ alert: string }>(
      `select t.schema_name || '.' || t.table_name || ' (' || coalesce(a.details ->> 'score', '?') || ')' as alert
         from ip_workbench.alerts as a
         join ip_workbench.tables as t on t.id = a.table_id
        where a.alert_type = 'dq_below_threshold' and a.resolved_at is null and not t.is_deleted
        order by 1`,
    );
    return rows.map((row) => row.alert);
  });
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { artifacts: { type: "string" } } });
  const url = process.env["DATABASE_URL"];
  if (!values.artifacts) throw new Error("give --artifacts <dbt target dir>");
  if (!url) throw new Error("DATABASE_URL is not set (the catalog writer's database URL)");
  const connection = connectionFromUrl(url);
  const result = await seedCatalog(connection, [values.artifacts], {
    baseDir: REPO_ROOT,
    alertWebhookUrl: process.env["QUALITY_ALERTS_URL"] || undefined,
    alertWebhookToken: process.env["QUALITY_ALERTS_TOKEN"] || undefined,
    columnLineage: false,
    log: (line) => console.log(`  ${line}`),
  });
  const verdict = qualityVerdict(result, await openQualityAlerts(connection));
  console.log(`alerts raised ${result.alertsRaised}, resolved ${result.alertsResolved}`);
  for (const line of verdict.failing) console.log(`below threshold: ${line}`);
  console.log(verdict.exitCode === 0 ? "data quality at threshold" : "data quality below threshold");
  return verdict.exitCode;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
}
