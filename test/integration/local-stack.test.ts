/**
 * The real Pulumi engine (the CLI built by scripts/bootstrap) running `up` of a stack
 * based on the committed `local` stack file, against the real local PostgreSQL. Every
 * claim is checked with SQL against the server, not from Pulumi's output alone.
 *
 * Each run uses its own database and stack name, so it never touches a developer's own
 * `local` stack.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import type { Stack } from "@pulumi/pulumi/automation/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminQuery } from "../../lib/postgres/scratch-database.ts";
import { localServer, type LocalServer } from "../../stacks/local-server.ts";
import { cacheDir, openStack, removeStack } from "../../stacks/workspace.ts";
import { DATABASE_LAYER_ONLY, localStackOptions } from "../helpers/local-stack.ts";

const suffix = randomBytes(3).toString("hex");
const environment = `smoke-${suffix}`;
const database = `aiwb_smoke_${suffix}`;
const dbtRole = `wb_smoke_${suffix}_dbt`;
const n8nRole = `wb_smoke_${suffix}_n8n`;
/** The stack, the WorkbenchDatabase component, migrations, seven login roles (with the delivery login), two grant sets. */
const RESOURCES = 12;

let server: LocalServer;
let stack: Stack;

const sql = <T extends pg.QueryResultRow>(db: string, text: string, values: unknown[] = []) =>
  adminQuery<T>(server, db, text, values);

const schemaExists = async () =>
  (await sql(database, "select 1 from pg_namespace where nspname = 'ip_workbench'")).length === 1;
const roleRow = async () =>
  (
    await sql<{ rolcanlogin: boolean; rolconnlimit: number }>(
      "postgres",
      "select rolcanlogin, rolconnlimit from pg_roles where rolname = $1",
      [dbtRole],
    )
  )[0];

function stackOptions(config: Record<string, unknown> = {}) {
  return localStackOptions(server, {
    stackName: environment,
    database,
    // The database layer only: the data stack has its own end-to-end test.
    config: { features: DATABASE_LAYER_ONLY, ...config },
  });
}

beforeAll(async () => {
  server = await localServer();
  await sql("postgres", `create database ${database}`);
  stack = await openStack(stackOptions());
});

afterAll(async () => {
  if (stack) {
    await stack.destroy({}).catch(() => undefined);
    await removeStack(stack).catch(() => undefined);
  }
  await sql("postgres", `drop database if exists ${database} with (force)`);
  await sql("postgres", `drop role if exists ${dbtRole}`);
  await sql("postgres", `drop role if exists ${n8nRole}`);
});

describe("pulumi up of the local stack (real engine, real PostgreSQL)", () => {
  it("rejects invalid config before touching anything", async () => {
    const bad = await openStack({
      ...stackOptions({ database: { port: 70000 } }),
      stackName: `${environment}-bad`,
    });
    try {
      await expect(bad.up({})).rejects.toThrow(
        /workbench:database\.port: must be a TCP port \(1-65535\) \(got 70000\)/,
      );
      const state = await bad.exportStack();
      const created = (state.deployment.resources ?? []).filter(
        (resource: { type: string }) => !resource.type.startsWith("pulumi:"),
      );
      expect(created).toEqual([]);
      expect(await schemaExists()).toBe(false);
      expect(await roleRow()).toBeUndefined();
    } finally {
      await removeStack(bad);
    }
  });

  it("migrates the database and creates login roles with secret generated passwords", async () => {
    const result = await stack.up({});
    expect(result.summary.result).toBe("succeeded");
    expect(result.summary.resourceChanges).toEqual({ create: RESOURCES });
    expect(result.outputs["appliedMigrations"]?.value).toEqual(
      (
        await sql<{ version: string }>(
          database,
          "select version from workbench_migrations.schema_migrations order by 1",
        )
      ).map((row) => row.version),
    );

    expect(await schemaExists()).toBe(true);
    expect(await roleRow()).toEqual({ rolcanlogin: true, rolconnlimit: 20 });

    expect(result.outputs["dbtRole"]).toEqual({ value: dbtRole, secret: false });
    const password = result.outputs["dbtPassword"];
    expect(password?.secret).toBe(true);
    expect(result.outputs["databaseUrl"]?.secret).toBe(true);

    // The generated password really logs in as the role.
    const client = new pg.Client({
      host: server.host,
      port: server.port,
      database,
      user: dbtRole,
      password: password?.value as string,
    });
    await client.connect();
    const who = await client.query<{ current_user: string }>("select current_user");
    await client.end();
    expect(who.rows[0]?.current_user).toBe(dbtRole);

    // Neither the generated nor the admin password is in the state file in plaintext
    // (exportStack() would decrypt: read what is on disk).
    const stateFile = join(cacheDir(), "pulumi-state/.pulumi/stacks/ai-workbench", `${environment}.json`);
    const state = readFileSync(stateFile, "utf8");
    expect(state).toContain('"dbtPassword"');
    expect(state).toContain("ciphertext");
    expect(state).not.toContain(password?.value as string);
    expect(state).not.toContain(server.password);
  });

  it("a second up changes nothing", async () => {
    const preview = await stack.preview({});
    expect(preview.changeSummary).toEqual({ same: RESOURCES });
    const result = await stack.up({});
    expect(result.summary.resourceChanges).toEqual({ same: RESOURCES });
    expect(await schemaExists()).toBe(true);
  });

  it("destroy removes the schemas and the roles", async () => {
    const result = await stack.destroy({});
    expect(result.summary.resourceChanges).toEqual({ delete: RESOURCES });
    expect(await schemaExists()).toBe(false);
    expect(await roleRow()).toBeUndefined();
    const left = await sql(
      database,
      `select nspname from pg_namespace
        where nspname in ('ip_workbench', 'private', 'bronze', 'silver', 'gold', 'platinum', 'auth', 'workbench_migrations')`,
    );
    expect(left).toEqual([]);
    expect(await sql("postgres", "select 1 from pg_roles where rolname = $1", [n8nRole])).toEqual([]);
  });
});
