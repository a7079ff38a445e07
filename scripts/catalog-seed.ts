/**
 * Seeds the ip_workbench catalog from dbt artifacts outside a deployment:
 *
 *   npm run catalog:seed -- --stack local --artifacts dbt/target/local/bronze,dbt/target/local/docs
 *   npm run catalog:seed -- --database-url postgresql://… --artifacts <dir>[,<dir>…]
 *
 * Options: --weights completeness=2,uniqueness=1   DQ dimension weights (default equal)
 *          --webhook <url>                        POST an alert per table below 80 %
 *          --no-column-lineage                    skip the SQL parser (faster)
 * The connection is the stack's admin URL with --stack, else --database-url, else DATABASE_URL.
 * Relative artifact dirs are relative to the project root.
 */
import { parseArgs } from "node:util";
import { connectionFromUrl, connectionUrl, type PgConnection } from "../components/database/pg-connection.ts";
import { ArtifactError } from "../components/data/catalog/artifacts.ts";
import { DIMENSIONS, type Dimension, type DimensionWeights } from "../components/data/catalog/quality.ts";
import { seedCatalog } from "../components/data/catalog/seed.ts";
import { openStack, REPO_ROOT } from "../stacks/workspace.ts";

const USAGE =
  "usage: npm run catalog:seed -- [--stack local | --database-url URL] --artifacts <dir>[,<dir>...] " +
  "[--weights dim=n,...] [--webhook URL] [--no-column-lineage]";

async function stackConnection(stackName: string): Promise<PgConnection> {
  const outputs = await (await openStack({ stackName })).outputs();
  const url = outputs["databaseUrl"]?.value;
  if (typeof url !== "string")
    throw new Error(`stack '${stackName}' has no databaseUrl output yet: run \`npm run local\` first`);
  return connectionFromUrl(url);
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
    log: (line) => console.log(`  ${line}`),
  });

  const w = result.written;
  console.log(`\n${pad("", 14)}${pad("in artifacts", 14)}written`);
  console.log(`${pad("tables", 14)}${pad(result.tables, 14)}${w.tables} (${w.tablesDeleted} marked deleted)`);
  console.log(`${pad("columns", 14)}${pad(result.columns, 14)}${w.columns} (${w.columnsRemoved} removed)`);
  console.log(
    `${pad("edges", 14)}${pad(`${result.tableEdges} + ${result.columnEdges}`, 14)}${w.edges} (${w.edgesRemoved} removed)`,
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
  console.log(
    lineage.mode === "skipped"
      ? "column lineage: skipped"
      : `column lineage: ${lineage.models} models (sqlglot ${lineage.sqlglotVersion ?? "?"}), ${lineage.failed.length} failed, ${lineage.seconds.toFixed(2)} s`,
  );
  for (const warning of result.warnings) console.log(`warning: ${warning}`);
  console.log(`done in ${result.seconds.toFixed(2)} s`);
}

main().catch((error: unknown) => {
  console.error(`\nerror: ${error instanceof Error ? error.message : String(error)}`);
  if (error instanceof ArtifactError)
    console.error("fix or regenerate that artifact (dbt build / dbt docs generate), then re-run.");
  process.exit(1);
});
