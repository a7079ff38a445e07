/**
 * Applies the SQL migrations outside a deployment:
 *
 *   npm run db:migrate -- --stack local      connection from the stack's outputs
 *   DATABASE_URL=postgresql://… npm run db:migrate
 *
 * The same runner the MigrationSet resource uses (advisory lock, checksums).
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { connectionFromUrl } from "../lib/postgres/connection.ts";
import { applyMigrations, loadMigrations } from "../lib/postgres/migrations.ts";
import { openStack, REPO_ROOT } from "../stacks/workspace.ts";

async function stackDatabaseUrl(stackName: string): Promise<string> {
  const stack = await openStack({ stackName });
  const outputs = await stack.outputs();
  const url = outputs["databaseUrl"]?.value;
  if (typeof url !== "string") {
    throw new Error(`stack '${stackName}' has no databaseUrl output yet: run \`npm run local\` first`);
  }
  return url;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { stack: { type: "string" } } });
  const url = values.stack ? await stackDatabaseUrl(values.stack) : process.env["DATABASE_URL"];
  if (!url) throw new Error("give --stack <name> or set DATABASE_URL");
  const connection = connectionFromUrl(url);
  const migrations = loadMigrations(join(REPO_ROOT, "sql/migrations"));
  console.log(
    `migrating ${connection.host}:${connection.port}/${connection.database} (${migrations.length} files)`,
  );
  const result = await applyMigrations(connection, migrations, (line) => console.log(`  ${line}`));
  console.log(`applied ${result.applied.length}, already applied ${result.alreadyApplied.length}`);
}

main().catch((error: unknown) => {
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
