/**
 * Runs medallion stages for data engineers:
 *
 *   npm run dbt -- <bronze|silver|gold|platinum|all> [--stack local|prod] [--full-refresh] [--select <expr>...]
 *
 * Connection: the stack's outputs (the dbt runner's login) with --stack, else
 * DATABASE_URL. Prints a summary table: models, rows affected, tests passed/failed,
 * quarantined rows by reason, elapsed. After silver (or `all`) it fails, naming them,
 * when any landed row is still unaccounted for (unclassified, or valid but not stored).
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import {
  clientConfig,
  connectionFromUrl,
  withClient,
  type PgConnection,
} from "../lib/postgres/connection.ts";
import { execa } from "execa";
import {
  dbtEnvironment,
  dbtFailureHint,
  DbtRunError,
  findDbt,
  LAYERS,
  runDbt,
  type DbtRunSummary,
  type Layer,
} from "../lib/dbt/cli.ts";
import {
  describeStuckRows,
  landingWatermarks,
  quarantineByReason,
  StuckRowsError,
  stuckRows,
  type StuckReport,
} from "../lib/reports/medallion.ts";
import { openStack, REPO_ROOT } from "../stacks/workspace.ts";

async function stackConnection(stackName: string): Promise<PgConnection> {
  const outputs = await (await openStack({ stackName })).outputs();
  const url = outputs["databaseUrl"]?.value;
  const role = outputs["dbtRole"]?.value;
  const password = outputs["dbtPassword"]?.value;
  if (typeof url !== "string" || typeof role !== "string" || typeof password !== "string") {
    throw new Error(`stack '${stackName}' has no database outputs yet: run \`npm run local\` first`);
  }
  return { ...connectionFromUrl(url), user: role, password };
}

/** A stage failed: dbt's failing nodes, and the landed rows it left behind (if any). */
class StageFailure extends Error {
  constructor(
    layer: Layer,
    public readonly dbt: DbtRunError,
    stuck: StuckReport | null,
  ) {
    super(`${layer} stage: ${dbt.message}${stuck ? `\n${describeStuckRows(stuck)}` : ""}`);
    this.name = "StageFailure";
  }
}

function pad(text: string | number, width: number): string {
  return String(text).padEnd(width);
}

/** Generates the dbt docs, then serves them on 127.0.0.1:8080 until interrupted. */
async function serveDocs(connection: PgConnection): Promise<void> {
  const projectDir = join(REPO_ROOT, "dbt");
  const targetPath = join(projectDir, "target", "docs");
  console.log("==> dbt docs generate");
  await runDbt({
    command: "docs generate",
    projectDir,
    connection,
    targetPath,
    onLine: (line) => console.log(`  ${line}`),
  });
  console.log("==> serving the docs on http://127.0.0.1:8080 (Ctrl-C to stop)");
  await execa(
    findDbt(projectDir),
    ["docs", "serve", "--host", "127.0.0.1", "--port", "8080", "--no-browser", "--target-path", targetPath],
    {
      cwd: projectDir,
      env: dbtEnvironment({ command: "debug", projectDir, connection }),
      stdio: "inherit",
    },
  );
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      stack: { type: "string" },
      "full-refresh": { type: "boolean", default: false },
      select: { type: "string", multiple: true },
    },
  });
  const stage = positionals[0];
  if (positionals.length !== 1 || !stage || ![...LAYERS, "all", "docs"].includes(stage)) {
    throw new Error(
      "usage: npm run dbt -- <bronze|silver|gold|platinum|all|docs> [--stack local] [--full-refresh] [--select <expr>]",
    );
  }
  const connection = values.stack
    ? await stackConnection(values.stack)
    : process.env["DATABASE_URL"]
      ? connectionFromUrl(process.env["DATABASE_URL"])
      : undefined;
  if (!connection) throw new Error("give --stack <name> or set DATABASE_URL");

  if (stage === "docs") return serveDocs(connection);
  const stages: Layer[] = stage === "all" ? [...LAYERS] : [stage as Layer];
  const landedBefore = await withClient(connection, landingWatermarks);
  const results: [Layer, DbtRunSummary][] = [];
  for (const layer of stages) {
    console.log(`\n==> dbt build ${layer}`);
    try {
      const summary = await runDbt({
        command: "build",
        projectDir: join(REPO_ROOT, "dbt"),
        connection,
        stage: layer,
        select: values.select,
        fullRefresh: values["full-refresh"],
        // `all` runs the four stages in one warm dbt process: one start, one parse.
        warm: true,
        onLine: (line) => console.log(`  ${line}`),
      });
      results.push([layer, summary]);
    } catch (error) {
      // A failing stage leaves landed rows behind: name them beside the failing nodes.
      if (!(error instanceof DbtRunError)) throw error;
      const stuck = await withClient(connection, (client) => stuckRows(client, { upTo: landedBefore })).catch(
        () => null,
      );
      throw new StageFailure(layer, error, stuck && stuck.counts.length > 0 ? stuck : null);
    }
  }

  console.log(
    `\n${pad("stage", 10)}${pad("models", 8)}${pad("rows", 12)}${pad("tests ok", 10)}${pad("failed", 8)}${pad("warned", 8)}elapsed`,
  );
  for (const [layer, s] of results) {
    console.log(
      `${pad(layer, 10)}${pad(s.models.success, 8)}${pad(s.models.rowsAffected, 12)}${pad(s.tests.pass, 10)}` +
        `${pad(s.tests.fail + s.tests.error, 8)}${pad(s.tests.warn, 8)}${s.elapsedSeconds.toFixed(1)}s`,
    );
  }
  const client = new pg.Client(clientConfig(connection));
  await client.connect();
  try {
    const quarantine = await quarantineByReason(client);
    if (quarantine.length > 0) {
      console.log(`\nquarantined rows by reason:`);
      for (const row of quarantine) console.log(`  ${pad(row.entity, 14)}${pad(row.reason, 26)}${row.rows}`);
    }
    // Silver accounts for every landed row; a stage run that leaves one behind fails.
    if (stages.includes("silver")) {
      const stuck = await stuckRows(client, { upTo: landedBefore });
      if (stuck.counts.length > 0) throw new StuckRowsError(stuck);
    }
  } finally {
    await client.end();
  }
}

main().catch((error: unknown) => {
  console.error(`\nerror: ${error instanceof Error ? error.message : String(error)}`);
  if (error instanceof StageFailure) console.error(dbtFailureHint(error.dbt));
  process.exit(1);
});
