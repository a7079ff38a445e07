/**
 * The database layer on a real server: all migrations applied by the project's runner,
 * then the pgTAP suites (lints, the permissions matrix, execute_sql) through pg_prove,
 * and execute_sql's 30-second timeout on both call paths.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyMigrations, loadMigrations } from "../../components/database/migrations.ts";
import { REPO_ROOT } from "../../stacks/paths.ts";
import { createScratchDatabase, type ScratchDatabase } from "../helpers/scratch-database.ts";

/** Seed 004 §6: 24 features × (viewer, engineer, admin, service, anonymous). */
const MATRIX_CELLS = 24 * 5;

let db: ScratchDatabase;

beforeAll(async () => {
  db = await createScratchDatabase("dblayer");
  await applyMigrations(db.connection, loadMigrations(join(REPO_ROOT, "sql/migrations")));
});

afterAll(async () => {
  await db?.drop();
});

interface TapResult {
  ok: boolean;
  description: string;
}

/** Parses pg_prove --verbose output: one entry per `ok` / `not ok` line. */
function parseTap(output: string): TapResult[] {
  return output
    .split("\n")
    .map((line) => /^\s*(not ok|ok) \d+ - (.*)$/.exec(line))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((match) => ({ ok: match[1] === "ok", description: (match[2] ?? "").trim() }));
}

describe("pgTAP suites (pg_prove)", () => {
  const files = readdirSync(join(REPO_ROOT, "sql/tests"))
    .filter((file) => file.endsWith(".sql"))
    .sort();

  it("has the lint, matrix and execute_sql suites", () => {
    expect(files.length).toBeGreaterThanOrEqual(3);
  });

  it.each(files)("%s passes", async (file) => {
    const result = await execa(
      "pg_prove",
      [
        "--verbose",
        "--host",
        db.server.host,
        "--port",
        String(db.server.port),
        "--username",
        db.server.user,
        "--dbname",
        db.name,
        join(REPO_ROOT, "sql/tests", file),
      ],
      { env: { PGPASSWORD: db.server.password }, reject: false },
    );
    const results = parseTap(result.stdout);
    const failed = results.filter((r) => !r.ok).map((r) => r.description);
    if (file.includes("matrix")) {
      const cells = new Map<string, boolean>();
      for (const r of results.filter((r) => r.description.startsWith("matrix: "))) {
        cells.set(r.description, (cells.get(r.description) ?? true) && r.ok);
      }
      const failures = [...cells.values()].filter((ok) => !ok).length;
      console.log(`matrix cells tested: ${cells.size}/${MATRIX_CELLS}, failures: ${failures}`);
      expect(cells.size).toBe(MATRIX_CELLS);
      expect(failures).toBe(0);
    }
    expect(failed, `${file}:\n${result.stdout}\n${result.stderr}`).toEqual([]);
    expect(result.exitCode, result.stdout + result.stderr).toBe(0);
    expect(results.length).toBeGreaterThan(0);
  });

  it("re-applying the migrations is a no-op", async () => {
    const again = await applyMigrations(db.connection, loadMigrations(join(REPO_ROOT, "sql/migrations")));
    expect(again.applied).toEqual([]);
  });
});

describe("execute_sql's 30 s timeout", () => {
  const userId = "00000000-0000-4000-8000-0000000000e1";

  async function asViewer<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client({ connectionString: db.server.url(db.name) });
    await client.connect();
    try {
      await client.query(
        "insert into auth.users (id, email) values ($1, 'timeout@example.com') on conflict do nothing",
        [userId],
      );
      await client.query(
        "insert into ip_workbench.user_roles (user_id, role) values ($1, 'viewer') on conflict (user_id) do nothing",
        [userId],
      );
      await client.query("begin");
      await client.query("set local role authenticated");
      await client.query(`select set_config('request.jwt.claims', $1, true)`, [
        JSON.stringify({ sub: userId, role: "authenticated" }),
      ]);
      return await work(client);
    } finally {
      await client.query("rollback").catch(() => undefined);
      await client.end();
    }
  }

  it("refuses to run when the caller's statement_timeout is unbounded (plain psql)", async () => {
    await asViewer(async (client) => {
      await client.query("set local statement_timeout = 0");
      await expect(client.query("select ip_workbench.execute_sql('select 1')")).rejects.toThrow(
        /statement_timeout/,
      );
    });
  });

  it("cancels a long query at 30 s on both paths: PostgREST's role setting and a psql session", async () => {
    // PostgREST applies the impersonated role's settings (statement_timeout = 30s) before
    // the call; a psql user sets it themselves. Both arm the timer for the call.
    const roleSetting = await db.query<{ setting: string }>(
      `select s.setting from pg_db_role_setting d, unnest(d.setconfig) as s(setting)
        where d.setrole = 'authenticated'::regrole and s.setting like 'statement_timeout=%'`,
    );
    expect(roleSetting.length).toBe(1);
    const timeout = roleSetting[0]?.setting.split("=")[1] as string;
    const timed = async (setTimeout: string) =>
      asViewer(async (client) => {
        await client.query(`set local statement_timeout = '${setTimeout}'`);
        const started = Date.now();
        const error = await client
          .query("select ip_workbench.execute_sql('select pg_sleep(40)')")
          .catch((e: unknown) => e);
        return { error: error as { code?: string }, seconds: (Date.now() - started) / 1000 };
      });
    const [postgrest, psql] = await Promise.all([timed(timeout), timed("30s")]);
    for (const result of [postgrest, psql]) {
      expect(result.error.code).toBe("57014"); // query_canceled
      // Cancelled by the 30 s limit, not by something shorter (the sleep itself is 40 s).
      expect(result.seconds).toBeGreaterThan(29);
    }
  }, 90_000);
});
