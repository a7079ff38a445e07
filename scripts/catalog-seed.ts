/**
 * Seeds the ip_workbench catalog from dbt artifacts outside a deployment:
 *
 *   npm run catalog:seed -- --stack local --artifacts dbt/target/local/bronze,dbt/target/local/docs
 *   npm run catalog:seed -- --database-url postgresql://… --artifacts <dir>[,<dir>…]
 *
 * Options: --weights completeness=2,uniqueness=1   DQ dimension weights (default equal)
 *          --webhook <url>                        POST an alert per table below 80 %
 *          --no-column-lineage                    skip the SQL parser (faster)
 *          --full-lineage                         parse every model, also those whose lineage checksum is unchanged
 * The dirs must hold one dbt project (seed several projects one run each).
 * The connection is the stack's catalog writer login with --stack (never its admin), else
 * --database-url, else DATABASE_URL.
 * Relative artifact dirs are relative to the project root.
 */
import { parseArgs } from "node:util";
import { connectionFromUrl, connectionUrl, type PgConnection } from "../lib/postgres/connection.ts";
import { ArtifactError } from "../lib/catalog/artifacts.ts";
import { DIMENSIONS, type Dimension, type DimensionWeights } from "../lib/catalog/quality.ts";
import { seedCatalog } from "../lib/catalog/seed.ts";
import { stackLogin } from "../stacks/stack-logins.ts";
import { openStack, REPO_ROOT } from "../stacks/workspace.ts";

const USAGE =
  "usage: npm run catalog:seed -- [--stack local | --database-url URL] --artifacts <dir>[,<dir>...] " +
  "[--weights dim=n,...] [--webhook URL] [--no-column-lineage] [--full-lineage]";

async function stackConnection(stackName: string): Promise<PgConnection> {
  return stackLogin(await (await openStack({ stackName })).outputs(), "catalog", stackName);
}

function parseWeights(text: string | undefined): DimensionWeights {
  const weights: DimensionWeights = {};
  for (const pair of (text ?? "").split(",").filter(Boolean)) {
    const [dimension, value] = pair.split("=");
    if (
      !dimension ||
      value === undefined ||
      !(DIMENSIONS as readonly string[]).includes(dimension) ||
      Number.isNaN(Number(value))
    ) {
      throw new Error(
        `--weights: '${pair}' is not <dimension>=<number> (dimensions: ${DIMENSIONS.join(", ")})`,
      );
    }
    weights[dimension as Dimension] = Number(value);
  }
  return weights;
}

function pad(text: string | number, width: number): string {
  return String(text).padEnd(width);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      stack: { type: "string" },
      "database-url": { type: "string" },
      artifacts: { type: "string", multiple: true },
      weights: { type: "string" },
      webhook: { type: "string" },
      "no-column-lineage": { type: "boolean", default: false },
      "full-lineage": { type: "boolean", default: false },
    },
  });
  const artifactDirs = (values.artifacts ?? []).flatMap((value) => value.split(",")).filter(Boolean);
  if (artifactDirs.length === 0) throw new Error(`give --artifacts\n${USAGE}`);
  const url = values["database-url"] ?? process.env["DATABASE_URL"];
  const connection = values.stack
    ? await stackConnection(values.stack)
    : url
      ? connectionFromUrl(url)
      : undefined;
  if (!connection) throw new Error(`give --stack <name>, --database-url or DATABASE_URL\n${USAGE}`);

  console.log(`seeding the catalog of ${connectionUrl(connection)} from ${artifactDirs.join(", ")}`);
  const result = await seedCatalog(connection, artifactDirs, {
    baseDir: REPO_ROOT,
    weights: parseWeights(values.weights),
    alertWebhookUrl: values.webhook,
    columnLineage: !values["no-column-lineage"],
    fullLineage: values["full-lineage"],
    log: (line) => console.log(`  ${line}`),
  });

  const w = result.written;
  console.log(`\nproject ${result.project}`);
  console.log(`${pad("nodes", 14)}${pad("catalogued", 12)}in the manifest`);
  for (const kind of result.nodeKinds)
    console.log(`${pad(`  ${kind.kind}`, 14)}${pad(kind.catalogued, 12)}${kind.inManifest}`);
  const skippedByReason = new Map<string, string[]>();
  for (const node of result.skipped)
    skippedByReason.set(node.reason, [...(skippedByReason.get(node.reason) ?? []), node.uniqueId]);
  if (skippedByReason.size > 0) console.log("skipped:");
  for (const [reason, ids] of skippedByReason)
    console.log(`  ${ids.length} × ${reason}: ${ids.slice(0, 5).join(", ")}${ids.length > 5 ? ", …" : ""}`);
  for (const entry of result.artifacts.ignored) console.log(`  ignored ${entry.file}: ${entry.reason}`);

  console.log(`\n${pad("", 14)}${pad("in artifacts", 14)}written`);
  console.log(`${pad("tables", 14)}${pad(result.tables, 14)}${w.tables} (${w.tablesDeleted} marked deleted)`);
  console.log(`${pad("columns", 14)}${pad(result.columns, 14)}${w.columns} (${w.columnsRemoved} removed)`);
  console.log(
    `${pad("table edges", 14)}${pad(result.tableEdges, 14)}${w.edges} edges (${w.edgesRemoved} removed, ${w.edgesOfDeleted} of deleted tables)`,
  );
  console.log(`${pad("tests", 14)}${pad(result.tests, 14)}${w.tests} (${w.testsDeleted} marked deleted)`);
  console.log(`${pad("test runs", 14)}${pad(result.testRuns, 14)}${w.testRuns}`);
  console.log(`${pad("job runs", 14)}${pad(result.jobRuns, 14)}${w.jobRuns}`);
  console.log(
    `\n${pad("layer", 10)}${pad("dq score", 10)}${pad("tables", 8)}${pad("tests", 8)}${pad("threshold", 11)}status`,
  );
  for (const [layer, score] of Object.entries(result.dqByLayer)) {
    console.log(
      `${pad(layer, 10)}${pad(score.score ?? "-", 10)}${pad(`${score.scoredTables}/${score.tables}`, 8)}${pad(score.tests, 8)}` +
        `${pad(score.threshold ?? "n/a", 11)}${score.status}`,
    );
  }
  console.log(`\nalerts raised ${result.alertsRaised}, resolved ${result.alertsResolved}`);
  if (result.webhook) {
    console.log(`webhook: ${result.webhook.sent} sent, ${result.webhook.failed.length} failed`);
    for (const failure of result.webhook.failed) console.log(`  ${failure.table}: ${failure.error}`);
  }
  const lineage = result.columnLineage;
  if (lineage.mode === "skipped") {
    console.log("column lineage: skipped");
  } else {
    console.log(
      `column lineage: ${lineage.models} models parsed (sqlglot ${lineage.sqlglotVersion ?? "?"}, ${lineage.workers} workers, ` +
        `${lineage.seconds.toFixed(2)} s), ${lineage.unchanged} unchanged (not parsed), ${lineage.failed.length} failed`,
    );
    if (lineage.error) console.log(`  the parser did not run: ${lineage.error}`);
    const coverage = lineage.coverage;
    if (coverage) {
      const pct = coverage.models > 0 ? ((coverage.withLineage / coverage.models) * 100).toFixed(0) : "-";
      console.log(
        `column-lineage coverage: ${coverage.withLineage}/${coverage.models} models (${pct} %), ${coverage.columnEdges} column edges`,
      );
      for (const { reason, models } of coverage.reasons)
        console.log(
          `  ${models.length} without: ${reason}: ${models.slice(0, 5).join(", ")}${models.length > 5 ? ", …" : ""}`,
        );
    }
  }
  for (const warning of result.warnings) console.log(`warning: ${warning}`);
  console.log(`done in ${result.seconds.toFixed(2)} s`);
}

main().catch((error: unknown) => {
  console.error(`\nerror: ${error instanceof Error ? error.message : String(error)}`);
  if (error instanceof ArtifactError)
    console.error("fix or regenerate that artifact (dbt build / dbt docs generate), then re-run.");
  process.exit(1);
});
