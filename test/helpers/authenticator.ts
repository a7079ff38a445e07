/**
 * The faithful harness: reach the database the way requests reach it on Supabase.
 *
 * PostgREST logs in as `authenticator` (LOGIN, NOINHERIT, a member of anon, authenticated and
 * service_role, nothing else) and, per request, runs one transaction that first sets the role
 * and the JWT claims with `set_config(..., true)` and then makes the call. The Supabase shim
 * (sql/migrations/20261123000100_supabase_compat.sql) creates `authenticator` NOLOGIN on plain
 * PostgreSQL; {@link authenticatorLogin} checks it has exactly Supabase's shape and lets it log
 * in with a generated password for the length of a test file.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { execa } from "execa";
import pg from "pg";
import { adminQuery } from "../../lib/postgres/scratch-database.ts";
import type { LocalServer } from "../../stacks/local-server.ts";

export const AUTHENTICATOR = "authenticator";
/** Supabase's memberships of `authenticator`, and nothing more. */
export const AUTHENTICATOR_MEMBERSHIPS = ["anon", "authenticated", "service_role"];

export interface AuthenticatorLogin {
  user: typeof AUTHENTICATOR;
  password: string;
  url(database: string): string;
  /** Back to NOLOGIN without a password, as the shim created it. */
  close(): Promise<void>;
}

/**
 * Lets `authenticator` log in with a fresh random password, after checking it is what
 * Supabase's is: not superuser, no BYPASSRLS, NOINHERIT, and a member of exactly anon,
 * authenticated and service_role.
 */
export async function authenticatorLogin(server: LocalServer): Promise<AuthenticatorLogin> {
  const [role] = await adminQuery<{
    rolsuper: boolean;
    rolinherit: boolean;
    rolbypassrls: boolean;
    member_of: string[];
  }>(
    server,
    "postgres",
    `select r.rolsuper, r.rolinherit, r.rolbypassrls,
            coalesce((select array_agg(g.rolname::text order by g.rolname)
                      from pg_auth_members as m join pg_roles as g on g.oid = m.roleid
                      where m.member = r.oid), '{}') as member_of
       from pg_roles as r where r.rolname = $1`,
    [AUTHENTICATOR],
  );
  if (role === undefined) {
    throw new Error(
      `role ${AUTHENTICATOR} does not exist: apply the migrations (the Supabase shim creates it) first`,
    );
  }
  const shape = {
    super: role.rolsuper,
    inherit: role.rolinherit,
    bypassrls: role.rolbypassrls,
    memberOf: role.member_of,
  };
  const expected = { super: false, inherit: false, bypassrls: false, memberOf: AUTHENTICATOR_MEMBERSHIPS };
  if (JSON.stringify(shape) !== JSON.stringify(expected)) {
    throw new Error(
      `role ${AUTHENTICATOR} is not shaped like Supabase's: expected ${JSON.stringify(expected)}, found ${JSON.stringify(shape)}`,
    );
  }
  const password = randomBytes(24).toString("hex");
  await adminQuery(server, "postgres", `alter role ${AUTHENTICATOR} with login password '${password}'`);
  return {
    user: AUTHENTICATOR,
    password,
    url: (database) =>
      `postgresql://${AUTHENTICATOR}:${encodeURIComponent(password)}@${server.host}:${server.port}/${database}`,
    close: async () => {
      await adminQuery(server, "postgres", `alter role ${AUTHENTICATOR} with nologin password null`);
    },
  };
}

/** `create database <name> template <template>`: a copy of a migrated database. */
export async function cloneDatabase(server: LocalServer, template: string, name: string): Promise<void> {
  await adminQuery(server, "postgres", `create database ${name} template ${template}`);
}

export async function dropDatabase(server: LocalServer, name: string): Promise<void> {
  await adminQuery(server, "postgres", `drop database if exists ${name} with (force)`);
}

/** Runs a fixture file as the superuser, in one committed transaction. */
export async function loadFixture(server: LocalServer, database: string, file: string): Promise<void> {
  const client = new pg.Client({ connectionString: server.url(database) });
  await client.connect();
  try {
    await client.query("begin");
    await client.query(readFileSync(file, "utf8"));
    await client.query("commit");
  } finally {
    await client.end();
  }
}

export type Login = "superuser" | "authenticator";

export interface TapResult {
  ok: boolean;
  description: string;
}

/** Parses pg_prove --verbose output: one entry per `ok` / `not ok` line. */
export function parseTap(output: string): TapResult[] {
  return output
    .split("\n")
    .map((line) => /^\s*(not ok|ok) \d+ - (.*)$/.exec(line))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((match) => ({ ok: match[1] === "ok", description: (match[2] ?? "").trim() }));
}

/** pg_prove on one file, connected as the superuser or as `authenticator`. */
export async function pgProve(
  server: LocalServer,
  database: string,
  file: string,
  login: Login,
  authenticator?: AuthenticatorLogin,
): Promise<{ exitCode: number; stdout: string; stderr: string; results: TapResult[] }> {
  if (login === "authenticator" && authenticator === undefined) {
    throw new Error("pgProve as authenticator needs the login from authenticatorLogin()");
  }
  const [user, password] =
    login === "superuser" ? [server.user, server.password] : [AUTHENTICATOR, authenticator?.password ?? ""];
  const result = await execa(
    "pg_prove",
    [
      "--verbose",
      "--host",
      server.host,
      "--port",
      String(server.port),
      "--username",
      user,
      "--dbname",
      database,
      file,
    ],
    { env: { PGPASSWORD: password }, reject: false },
  );
  return {
    exitCode: result.exitCode ?? 1,
    stdout: result.stdout,
    stderr: result.stderr,
    results: parseTap(result.stdout),
  };
}

export interface RequestIdentity {
  /** The role PostgREST impersonates: the JWT's role claim. */
  role: "anon" | "authenticated" | "service_role";
  claims: Record<string, unknown>;
  /** Also set the legacy per-claim settings (request.jwt.claim.sub, .role). Default true. */
  legacy?: boolean;
}

/**
 * One PostgREST request on a connection logged in as `authenticator`: a transaction that sets
 * the role, the claims and the role's statement_timeout with set_config(..., true) in one
 * statement, then runs `work`, then commits (or rolls back when `work` throws).
 */
export async function request<T>(
  client: pg.Client,
  identity: RequestIdentity,
  work: (client: pg.Client) => Promise<T>,
): Promise<T> {
  await client.query("begin");
  try {
    const sets = [
      "set_config('role', $1, true)",
      "set_config('request.jwt.claims', $2, true)",
      // PostgREST applies the impersonated role's own settings per request.
      `set_config('statement_timeout',
         coalesce((select substr(cfg, length('statement_timeout=') + 1)
                   from pg_db_role_setting as s, unnest(s.setconfig) as cfg
                   where s.setrole = $1::regrole and s.setdatabase = 0 and cfg like 'statement_timeout=%'),
                  current_setting('statement_timeout')), true)`,
    ];
    const values: unknown[] = [identity.role, JSON.stringify(identity.claims)];
    if (identity.legacy ?? true) {
      sets.push("set_config('request.jwt.claim.sub', $3, true)");
      values.push(typeof identity.claims["sub"] === "string" ? identity.claims["sub"] : "");
    }
    await client.query(`select ${sets.join(", ")}`, values);
    const result = await work(client);
    await client.query("commit");
    return result;
  } catch (error) {
    await client.query("rollback").catch(() => undefined);
    throw error;
  }
}
