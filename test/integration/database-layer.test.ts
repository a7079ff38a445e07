/**
 * The database layer on a real server: all migrations applied by the project's runner, then
 * the pgTAP suites through pg_prove in two modes, and execute_sql's 30-second timeout.
 *
 * Modes (sql/README.md):
 * - superuser: pg_prove logs in as the superuser; suites switch identity with `set local role`.
 * - authenticator (the faithful one): pg_prove logs in as `authenticator`, Supabase's PostgREST
 *   login (NOINHERIT, a member of anon, authenticated and service_role only), and every
 *   identity is set as PostgREST sets it (role and claims with set_config(..., true)).
 * Each suite runs on its own copy of the migrated database with its fixtures
 * (sql/tests/fixtures/<suite>.sql) committed by the superuser first.
 */
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyMigrations, loadMigrations } from "../../lib/postgres/migrations.ts";
import { REPO_ROOT } from "../../lib/paths.ts";
import {
  authenticatorLogin,
  cloneDatabase,
  dropDatabase,
  loadFixture,
  pgProve,
  request,
  type AuthenticatorLogin,
  type Login,
} from "../helpers/authenticator.ts";
import { createScratchDatabase, type ScratchDatabase } from "../../lib/postgres/scratch-database.ts";

/** Seed 004 §6: 24 features × (viewer, engineer, admin, service, anonymous). */
const MATRIX_CELLS = 24 * 5;
/** Suites that must also pass through the faithful harness. */
const FAITHFUL_SUITES = [
  "02_permissions_matrix.sql",
  "03_execute_sql.sql",
  "06_attack_corpus.sql",
  "08_red_team.sql",
  "09_ownership.sql",
];

let db: ScratchDatabase;
let login: AuthenticatorLogin;
let copies = 0;

beforeAll(async () => {
  db = await createScratchDatabase("dblayer");
  await applyMigrations(db.connection, loadMigrations(join(REPO_ROOT, "sql/migrations")));
  await db.query("create extension if not exists pgtap");
  login = await authenticatorLogin(db.server);
});

afterAll(async () => {
  await login?.close();
  await db?.drop();
});

const TESTS = join(REPO_ROOT, "sql/tests");
const files = readdirSync(TESTS)
  .filter((file) => file.endsWith(".sql"))
  .sort();
const runs: [string, Login][] = [
  ...files.map((file): [string, Login] => [file, "superuser"]),
  ...FAITHFUL_SUITES.map((file): [string, Login] => [file, "authenticator"]),
];

describe("pgTAP suites (pg_prove)", () => {
  it("has the lint, matrix, execute_sql and attack corpus suites", () => {
    expect(files).toEqual(expect.arrayContaining(["01_lints.sql", ...FAITHFUL_SUITES]));
  });

  it.each(runs)(
    "%s passes as %s",
    async (file, mode) => {
      const copy = `${db.name}_${++copies}`;
      await cloneDatabase(db.server, db.name, copy);
      try {
        const fixture = join(TESTS, "fixtures", file);
        if (existsSync(fixture)) await loadFixture(db.server, copy, fixture);
        const result = await pgProve(db.server, copy, join(TESTS, file), mode, login);
        const failed = result.results.filter((r) => !r.ok).map((r) => r.description);
        if (file.includes("matrix")) {
          const cells = new Map<string, boolean>();
          for (const r of result.results.filter((r) => r.description.startsWith("matrix: "))) {
            cells.set(r.description, (cells.get(r.description) ?? true) && r.ok);
          }
          const failures = [...cells.values()].filter((ok) => !ok).length;
          console.log(`matrix cells tested as ${mode}: ${cells.size}/${MATRIX_CELLS}, failures: ${failures}`);
          expect(cells.size).toBe(MATRIX_CELLS);
          expect(failures).toBe(0);
        }
        if (file.includes("corpus")) {
          const cases = new Set(
            result.results
              .map((r) => /^corpus (\d+) \(class/.exec(r.description)?.[1])
              .filter((id) => id !== undefined),
          );
          console.log(
            `attack corpus as ${mode}: ${cases.size} hostile inputs, ${result.results.length} assertions`,
          );
          expect(cases.size).toBeGreaterThanOrEqual(60);
        }
        if (file.includes("red_team")) {
          const cases = new Set(
            result.results
              .map((r) => /^red team (\d+) \(class/.exec(r.description)?.[1])
              .filter((id) => id !== undefined),
          );
          console.log(
            `red team as ${mode}: ${cases.size} hostile inputs, ${result.results.length} assertions`,
          );
          expect(cases.size).toBeGreaterThanOrEqual(30);
        }
        expect(failed, `${file} as ${mode}:\n${result.stdout}\n${result.stderr}`).toEqual([]);
        expect(result.exitCode, result.stdout + result.stderr).toBe(0);
        expect(result.results.length).toBeGreaterThan(0);
      } finally {
        await dropDatabase(db.server, copy);
      }
    },
    120_000,
  );

  it("re-applying the migrations is a no-op", async () => {
    const again = await applyMigrations(db.connection, loadMigrations(join(REPO_ROOT, "sql/migrations")));
    expect(again.applied).toEqual([]);
  });
});

describe("execute_sql's 30 s timeout", () => {
  const userId = "00000000-0000-4000-8000-0000000000e1";
  const identity = { role: "authenticated" as const, claims: { sub: userId, role: "authenticated" } };

  beforeAll(async () => {
    await db.query(
      "insert into auth.users (id, email) values ($1, 'timeout@example.com') on conflict do nothing",
      [userId],
    );
    await db.query(
      "insert into ip_workbench.user_roles (user_id, role) values ($1, 'viewer') on conflict (user_id) do nothing",
      [userId],
    );
  });

  /** A connection logged in as `authenticator`, as PostgREST's pool holds them. */
  async function pooled<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client({ connectionString: login.url(db.name) });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  }

  const historyOf = async (sql: string) =>
    db.query<{ status: string; error_message: string }>(
      "select status, error_message from ip_workbench.query_history where user_id = $1 and sql = $2",
      [userId, sql],
    );

  it("refuses to run when the caller's statement_timeout is unbounded, and logs the refusal", async () => {
    const sql = "select 1 as unbounded";
    const result = await pooled((client) =>
      request(client, identity, async () => {
        await client.query("set local statement_timeout = 0");
        return (
          await client.query<{ r: { error: { code: string; message: string } } }>(
            "select ip_workbench.execute_sql($1) as r",
            [sql],
          )
        ).rows[0]?.r;
      }),
    );
    expect(result?.error.code).toBe("55000");
    expect(result?.error.message).toMatch(/statement_timeout/);
    expect(await historyOf(sql)).toEqual([{ status: "error", error_message: result?.error.message }]);
  });

  it("cancels a long query at 30 s on both paths (PostgREST's role setting and a psql session) and logs it", async () => {
    // The request helper applies the impersonated role's statement_timeout (30s) as PostgREST
    // does; a psql user connected directly sets it themselves.
    const roleSetting = await db.query<{ setting: string }>(
      `select s.setting from pg_db_role_setting d, unnest(d.setconfig) as s(setting)
        where d.setrole = 'authenticated'::regrole and s.setting like 'statement_timeout=%'`,
    );
    expect(roleSetting.length).toBe(1);
    const sleep = (tag: string) => `select pg_sleep(40) as ${tag}`;
    const viaPostgrest = pooled((client) =>
      request(client, identity, async () => {
        const started = Date.now();
        const r = (
          await client.query<{ r: { error: { code: string } } }>("select ip_workbench.execute_sql($1) as r", [
            sleep("postgrest"),
          ])
        ).rows[0]?.r;
        return { error: r?.error, seconds: (Date.now() - started) / 1000 };
      }),
    );
    const viaPsql = (async () => {
      const client = new pg.Client({ connectionString: db.server.url(db.name) });
      await client.connect();
      try {
        await client.query("begin");
        await client.query("set local role authenticated");
        await client.query("select set_config('request.jwt.claims', $1, true)", [
          JSON.stringify(identity.claims),
        ]);
        await client.query("set local statement_timeout = '30s'");
        const started = Date.now();
        const r = (
          await client.query<{ r: { error: { code: string } } }>("select ip_workbench.execute_sql($1) as r", [
            sleep("psql"),
          ])
        ).rows[0]?.r;
        await client.query("commit");
        return { error: r?.error, seconds: (Date.now() - started) / 1000 };
      } finally {
        await client.end();
      }
    })();
    for (const result of await Promise.all([viaPostgrest, viaPsql])) {
      expect(result.error?.code).toBe("57014"); // query_canceled, reported in the result
      // Cancelled by the 30 s limit, not by something shorter (the sleep itself is 40 s).
      expect(result.seconds).toBeGreaterThan(29);
    }
    for (const tag of ["postgrest", "psql"]) {
      expect(await historyOf(sleep(tag))).toEqual([
        { status: "error", error_message: "canceling statement due to statement timeout" },
      ]);
    }
  }, 90_000);
});

describe("execute_sql's runners cannot be changed by a login that can become an api role", () => {
  // 20261130002300: the runners belong to nologin roles nobody can become. Before it they
  // belonged to authenticated / service_role, and these very requests returned ALTER FUNCTION.
  const n8nLogin = `wb_dblayer_n8n_${randomBytes(4).toString("hex")}`;
  const n8nPassword = randomBytes(24).toString("hex");
  const alter = (runner: string) => `alter function private.${runner}(text, text, int, int) security invoker`;

  beforeAll(async () => {
    // The shape of the wb_<env>_n8n login (WorkbenchDatabase): LOGIN, member of workbench_n8n,
    // which is a member of authenticated (its pipeline runs `set local role authenticated`).
    await db.query(`create role ${n8nLogin} login password '${n8nPassword}' in role workbench_n8n`);
  });

  afterAll(async () => {
    await db?.query(`drop role if exists ${n8nLogin}`);
  });

  async function attempt(
    url: string,
    role: string,
    ddl: string,
  ): Promise<{ code?: string; message: string }> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query("begin");
      await client.query(`set local role ${role}`);
      await client.query(ddl);
      return { message: "succeeded" };
    } catch (error) {
      const e = error as { code?: string; message: string };
      return { code: e.code, message: e.message };
    } finally {
      await client.query("rollback").catch(() => undefined);
      await client.end();
    }
  }

  const n8nUrl = () =>
    `postgresql://${n8nLogin}:${n8nPassword}@${db.server.host}:${db.server.port}/${db.name}`;

  it.each([
    ["authenticator", "authenticated", "sql_runner_authenticated"],
    ["authenticator", "service_role", "sql_runner_service_role"],
    ["the n8n login", "authenticated", "sql_runner_authenticated"],
  ])("%s as %s cannot make %s security invoker (42501 must be owner)", async (who, role, runner) => {
    const url = who === "authenticator" ? login.url(db.name) : n8nUrl();
    expect(await attempt(url, role, alter(runner))).toEqual({
      code: "42501",
      message: `must be owner of function private.${runner}`,
    });
    expect(await attempt(url, role, `drop function private.${runner}(text, text, int, int)`)).toEqual({
      code: "42501",
      message: `must be owner of function private.${runner}`,
    });
  });

  it.each(["authenticator", "the n8n login"])("%s cannot become a runner's owner", async (who) => {
    const url = who === "authenticator" ? login.url(db.name) : n8nUrl();
    const roles = ["sql_runner_owner_authenticated", "sql_runner_owner_service_role"];
    if (who !== "authenticator") roles.push("service_role");
    for (const role of roles) {
      expect(await attempt(url, role, "select 1")).toEqual({
        code: "42501",
        message: `permission denied to set role "${role}"`,
      });
    }
  });
});
