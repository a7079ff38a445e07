/**
 * Re-scores the catalog from one dbt run's artifacts (the data-jobs image's data-quality
 * step): seeds tests and results, recomputes DQ, raises or resolves alerts (and POSTs the
 * QUALITY_ALERTS_URL webhook), then exits 3 when anything is below its threshold so the
 * CronJob's Job fails and Prometheus alerts (WorkbenchDataQualityBelowThreshold).
 *
 *   tsx scripts/data-jobs/rescore.ts --artifacts /tmp/target/data-quality
 *
 * The connection is DATABASE_URL (the admin login: the seeder writes ip_workbench).
 */
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";
import { connectionFromUrl } from "../../components/database/pg-connection.ts";
import { seedCatalog, type SeedResult } from "../../components/data/catalog/seed.ts";
import { REPO_ROOT } from "../../stacks/paths.ts";

/** Exit code when a table or layer scores below its threshold. */
export const BELOW_THRESHOLD_EXIT = 3;

/** What the run says: below-threshold layers and alerts, and the exit code for the Job. */
export function qualityVerdict(result: Pick<SeedResult, "dqByLayer" | "alertsRaised">): {
  exitCode: number;
  failing: string[];
} {
  const failing = Object.entries(result.dqByLayer)
    .filter(([, score]) => score.status === "fail")
    .map(([layer, score]) => `${layer} ${score.score} < ${score.threshold}`);
  const below = failing.length > 0 || result.alertsRaised > 0;
  return { exitCode: below ? BELOW_THRESHOLD_EXIT : 0, failing };
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { artifacts: { type: "string" } } });
  const url = process.env["DATABASE_URL"];
  if (!values.artifacts) throw new Error("give --artifacts <dbt target dir>");
  if (!url) throw new Error("DATABASE_URL is not set (the admin database URL)");
  const result = await seedCatalog(connectionFromUrl(url), [values.artifacts], {
    baseDir: REPO_ROOT,
    alertWebhookUrl: process.env["QUALITY_ALERTS_URL"] || undefined,
    columnLineage: false,
    log: (line) => console.log(`  ${line}`),
  });
  const verdict = qualityVerdict(result);
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
