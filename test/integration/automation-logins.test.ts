/**
 * Issue 19, item 2 for the generated logins: a real `pulumi up` of the local stack's database
 * layer (real engine, real PostgreSQL) creates one login per automation with a generated
 * password; each test logs in AS that login with that password, the way its component
 * connects, and checks what it can do and a sample of what it cannot (other schemas, DDL,
 * `auth.*`, other logins' secrets, role grants). The group roles' grants are tested with
 * `set role` in sql/tests/07_automation_roles.sql; this proves the logins really get them
 * (and nothing more) and that the backup login's pg_dump works.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import pg from "pg";
import type { Stack } from "@pulumi/pulumi/automation/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BACKUP_SCHEMAS, pgDumpArgs } from "../../components/kubernetes/backups.ts";
import { loadSampleData } from "../../lib/sample-data/index.ts";
import { adminQuery } from "../../lib/postgres/scratch-database.ts";
import { localServer, type LocalServer } from "../../stacks/local-server.ts";
import { openStack, removeStack } from "../../stacks/workspace.ts";
import { DATABASE_LAYER_ONLY, localStackOptions } from "../helpers/local-stack.ts";

const suffix = randomBytes(3).toString("hex");
const environment = `logins-${suffix}`;
const database = `aiwb_logins_${suffix}`;
const PURPOSES = ["dbt", "n8n", "backup", "catalog", "usage", "api", "delivery"] as const;
type Purpose = (typeof PURPOSES)[number];
const PG_BINDIR = process.env["AIWB_PG_BINDIR"] ?? "/usr/lib/postgresql/15/bin";

let server: LocalServer;
let stack: Stack;
const logins = {} as Record<Purpose, { role: string; password: string }>;

const admin = <T extends pg.QueryResultRow>(db: string, text: string, values: unknown[] = []) =>
  adminQuery<T>(server, db, text, values);

/** Runs `work` on a session logged in as the login with its generated password. */
async function as<T>(purpose: Purpose, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const login = logins[purpose];
  const client = new pg.Client({
    host: server.host,
    port: server.port,
    database,
    user: login.role,
    password: login.password,
  });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** The (last) statement's rows as the login, in a transaction that is rolled back. */
async function can(purpose: Purpose, text: string): Promise<pg.QueryResultRow[]> {
  return as(purpose, async (client) => {
    await client.query("begin");
    try {
      const result = (await client.query(text)) as pg.QueryResult | pg.QueryResult[];
      return Array.isArray(result) ? (result.at(-1)?.rows ?? []) : result.rows;
    } finally {
      await client.query("rollback");
    }
  });
}

/** The SQLSTATE the statement fails with as the login (undefined when it succeeds). */
async function cannot(purpose: Purpose, text: string): Promise<string | undefined> {
  try {
    await can(purpose, text);
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  }
}

const DENIED = "42501";

beforeAll(async () => {
  server = await localServer();
  await admin("postgres", `create database ${database}`);
  stack = await openStack(
    localStackOptions(server, {
      stackName: environment,
      database,
      config: { features: DATABASE_LAYER_ONLY },
    }),
  );
  const result = await stack.up({});
  expect(result.summary.result).toBe("succeeded");
  for (const purpose of PURPOSES) {
    const role = result.outputs[`${purpose}Role`];
    const password = result.outputs[`${purpose}Password`];
    expect(role?.value, purpose).toBe(`wb_${environment.replaceAll("-", "_")}_${purpose}`);
    expect(password?.secret, `${purpose}Password is a secret output`).toBe(true);
    logins[purpose] = { role: role?.value as string, password: password?.value as string };
  }
  // Rows the logins must not see or may only partly see, written by the admin.
  await admin(
    database,
    `insert into auth.users (id, email) values ('a1900000-0000-4000-8000-000000000001', 'someone@logins.test');
     insert into ip_workbench.user_roles (user_id, role) values ('a1900000-0000-4000-8000-000000000001', 'admin');
     insert into ip_workbench.tables (id, schema_name, table_name, layer, resource_type)
       values ('b1900000-0000-4000-8000-000000000001', 'gold', 'logins_test', 'gold', 'model');
     insert into ip_workbench.pipelines (id, name, owner)
       values ('c1900000-0000-4000-8000-000000000001', 'logins pipeline', 'a1900000-0000-4000-8000-000000000001');
     insert into ip_workbench.cost_tracker (service, cost_usd, details) values ('llm', 5, '{"source": "litellm"}'), ('compute', 9, '{}');
     insert into ip_workbench.job_runs (id, status, stage, triggered_by)
       values ('d1900000-0000-4000-8000-000000000001', 'running', 'gold', 'a1900000-0000-4000-8000-000000000001');
     insert into ip_workbench.sql_snippets (name, sql, owner) values ('private', 'select 1', 'a1900000-0000-4000-8000-000000000001');
     insert into bronze.sync_cursors (source, entity, cursor_at, cursor_id) values ('odoo', 'expenses', '2026-11-01', 7);
     insert into bronze.sync_quarantine (source, entity, record_key, record_sha256, reason, record)
       values ('odoo', 'expenses', '8', 'x', 'INVALID_WRITE_DATE', '{}');`,
  );
}, 300_000);

afterAll(async () => {
  if (stack) {
    await stack.destroy({}).catch(() => undefined);
    await removeStack(stack).catch(() => undefined);
  }
  await admin("postgres", `drop database if exists ${database} with (force)`);
  for (const purpose of PURPOSES)
    await admin("postgres", `drop role if exists wb_${environment.replaceAll("-", "_")}_${purpose}`);
}, 300_000);

describe("every generated login (logged in with its generated password)", () => {
  it("is a plain login: no superuser, createrole, createdb, bypassrls or replication", async () => {
    const rows = await admin<{ rolname: string; flags: string }>(
      "postgres",
      `select rolname, concat_ws(',', nullif(rolsuper, false)::text, nullif(rolcreaterole, false)::text,
              nullif(rolcreatedb, false)::text, nullif(rolbypassrls, false)::text, nullif(rolreplication, false)::text) as flags
         from pg_roles where rolname = any($1) order by rolname`,
      [PURPOSES.map((purpose) => logins[purpose].role)],
    );
    expect(rows.map((row) => row.flags)).toEqual(PURPOSES.map(() => ""));
    for (const purpose of PURPOSES) {
      expect(await can(purpose, "select current_user as u")).toEqual([{ u: logins[purpose].role }]);
    }
  });

  it.each(PURPOSES)(
    "%s: reads no secrets, touches nothing in auth, grants nothing, creates nothing in public",
    async (purpose) => {
      // Other logins' password hashes.
      expect(await cannot(purpose, "select rolname, rolpassword from pg_authid")).toBe(DENIED);
      expect(await cannot(purpose, "select email from auth.users")).toBe(DENIED);
      expect(
        await cannot(
          purpose,
          "insert into ip_workbench.user_roles (user_id, role) values ('a1900000-0000-4000-8000-000000000001', 'viewer')",
        ),
      ).toBe(DENIED);
      // Who holds which role: only the backup reads it (it dumps all of ip_workbench).
      if (purpose !== "backup") {
        expect(await cannot(purpose, "select * from ip_workbench.user_roles")).toBe(DENIED);
      }
      expect(await cannot(purpose, "select * from private.sql_sessions")).toBe(DENIED);
      expect(await cannot(purpose, "create table public.login_oops (i int)")).toBe(DENIED);
      expect(await cannot(purpose, "create table ip_workbench.login_oops (i int)")).toBe(DENIED);
      // n8n keeps create on the database: n8n 2.40.7 runs `create schema if not exists` for its
      // own schema at every start, which PostgreSQL checks before the schema's existence
      // (sql/README.md, automation logins).
      if (purpose !== "n8n") {
        expect(await cannot(purpose, `create schema login_oops_${purpose}`)).toBe(DENIED);
      }
      expect(await cannot(purpose, "create role login_oops")).toBe(DENIED);
      expect(await cannot(purpose, "grant workbench_backup to current_user")).toBe(DENIED);
    },
  );

  it("n8n: delivers to bronze, records approvals through decide_expense, keeps its tables in schema n8n, nothing else", async () => {
    await expect(
      can("n8n", "select bronze.deliver('expenses', 'odoo', 'logins-batch', array['{\"id\": \"x\"}'])"),
    ).resolves.toBeDefined();
    // Decisions only through the definer function (20261130002500), never by writing the table.
    expect(
      await can(
        "n8n",
        "select ip_workbench.decide_expense('exp-logins', 6000, 'USD', 6000, 5000, 'USD') ->> 'status' as status",
      ),
    ).toEqual([{ status: "pending_approval" }]);
    expect(
      await cannot(
        "n8n",
        "insert into ip_workbench.expense_approvals (expense_id, status, amount, threshold) values ('exp-logins-2', 'approved', 6000, 5000)",
      ),
    ).toBe(DENIED);
    expect(await cannot("n8n", "update ip_workbench.expense_approvals set status = 'approved'")).toBe(DENIED);
    await expect(can("n8n", "create table n8n.workflow_entity_logins (i int)")).resolves.toBeDefined();
    // Pipelines and their runs are read and started as the calling user (set role authenticated
    // with the caller's claims), never with the login's own rights (20261130001900).
    expect(await cannot("n8n", "select name from ip_workbench.pipelines")).toBe(DENIED);
    expect(
      await cannot(
        "n8n",
        "insert into ip_workbench.job_runs (pipeline_id, status, stage) values ('c1900000-0000-4000-8000-000000000001', 'pending', 'n8n')",
      ),
    ).toBe(DENIED);
    expect(
      await cannot("n8n", "insert into ip_workbench.job_runs (status, stage) values ('completed', 'gold')"),
    ).toBe(DENIED);
    expect(await cannot("n8n", "delete from bronze.expenses_raw")).toBe(DENIED);
    expect(await cannot("n8n", "create table bronze.n8n_oops (i int)")).toBe(DENIED);
    expect(await cannot("n8n", "select * from ip_workbench.cost_tracker")).toBe(DENIED);
    expect(await cannot("n8n", "create table llm_gateway.n8n_oops (i int)")).toBe(DENIED);
    // execute_sql only as a caller (set role authenticated, where rls needs claims), never itself.
    expect(await cannot("n8n", "select ip_workbench.execute_sql('select 1', 10)")).toBe(DENIED);
  });

  it("delivery: loads the sample data as the stack's loader does (COPY, idempotent re-delivery) and through bronze.deliver_batch; nothing else", async () => {
    // The loader's own code path, as the login: COPY per batch, its deliveries row, the count.
    const options = { seed: 19, transactions: 300, badShare: 0.05, today: "2026-11-30" };
    const load = { source: "logins-sample", batchPrefix: "logins", batchSize: 100 };
    const first = await as("delivery", (client) => loadSampleData(client, options, load));
    const inserted = first.loads.reduce((sum, entity) => sum + entity.rowsInserted, 0);
    expect(inserted).toBe(
      first.summary.transactions.total + first.summary.expenses.total + first.summary.products.total,
    );
    const landed = await admin<{ rows: number; counted: number }>(
      database,
      `select (select count(*)::int from bronze.scout_transactions_raw where source = 'logins-sample')
            + (select count(*)::int from bronze.expenses_raw where source = 'logins-sample')
            + (select count(*)::int from bronze.scout_products_raw where source = 'logins-sample') as rows,
              (select sum(record_count)::int from bronze.deliveries where source = 'logins-sample') as counted`,
    );
    expect(landed).toEqual([{ rows: inserted, counted: inserted }]);
    // Delivered again: every batch is skipped (insert ... on conflict do nothing), nothing added.
    const again = await as("delivery", (client) => loadSampleData(client, options, load));
    expect(again.loads.reduce((sum, entity) => sum + entity.rowsInserted, 0)).toBe(0);
    expect(again.loads.every((entity) => entity.batchesLoaded === 0 && entity.batchesSkipped > 0)).toBe(true);

    // The functions n8n's real-time-transactions workflow calls: new, duplicate, conflict.
    const deliver = (payload: string) =>
      as("delivery", async (client) => {
        const result = await client.query<{ status: string }>(
          "select bronze.deliver_batch('scout_transactions', 'logins-webhook', 'b-1', array[$1]) ->> 'status' as status",
          [payload],
        );
        return result.rows[0]?.status;
      });
    expect(await deliver('{"id": 1}')).toBe("new");
    expect(await deliver('{"id": 1}')).toBe("duplicate");
    expect(await deliver('{"id": 2}')).toBe("conflict");
    expect(await can("delivery", "select bronze.sha256_hex('x') as h")).toHaveLength(1);

    // Delivered records are never changed or removed, and bronze gains no objects.
    expect(await cannot("delivery", "update bronze.scout_transactions_raw set payload_raw = '{}'")).toBe(
      DENIED,
    );
    expect(await cannot("delivery", "delete from bronze.expenses_raw")).toBe(DENIED);
    expect(await cannot("delivery", "truncate bronze.scout_products_raw")).toBe(DENIED);
    expect(await cannot("delivery", "delete from bronze.deliveries")).toBe(DENIED);
    expect(await cannot("delivery", "update bronze.deliveries set source = 'other'")).toBe(DENIED);
    expect(await cannot("delivery", "create table bronze.delivery_oops (i int)")).toBe(DENIED);
    expect(await cannot("delivery", "alter table bronze.expenses_raw add column oops int")).toBe(DENIED);
    expect(await cannot("delivery", "create view bronze.delivery_oops as select 1")).toBe(DENIED);
    // The odoo sync's cursor and quarantine are n8n's.
    expect(await cannot("delivery", "select * from bronze.sync_cursors")).toBe(DENIED);
    expect(await cannot("delivery", "select * from bronze.sync_quarantine")).toBe(DENIED);
    expect(
      await cannot("delivery", "select bronze.advance_sync_cursor('odoo', 'expenses', now()::timestamp, 1)"),
    ).toBe(DENIED);
    // No layer above bronze, no catalog, no gateway, no app roles.
    for (const schema of ["silver", "gold", "platinum"]) {
      expect(await cannot("delivery", `create table ${schema}.delivery_oops (i int)`), schema).toBe(DENIED);
      expect(await cannot("delivery", `select * from ${schema}.delivery_probe`), schema).toBe(DENIED);
    }
    expect(await cannot("delivery", "select * from ip_workbench.tables")).toBe(DENIED);
    expect(await cannot("delivery", "select * from ip_workbench.job_runs")).toBe(DENIED);
    expect(await cannot("delivery", "select * from ip_workbench.expense_approvals")).toBe(DENIED);
    expect(await cannot("delivery", "select * from private.llm_caller_keys")).toBe(DENIED);
    expect(await cannot("delivery", "select * from workbench_migrations.schema_migrations")).toBe(DENIED);
    expect(await cannot("delivery", "select ip_workbench.execute_sql('select 1', 10)")).toBe(DENIED);
    expect(await cannot("delivery", "set role authenticated")).toBe(DENIED);
    expect(await cannot("delivery", "set role workbench_n8n")).toBe(DENIED);
  });

  it("backup: reads every row of the backed-up schemas, writes nothing; pg_dump --enable-row-security works and holds nothing from auth", async () => {
    expect(
      await can(
        "backup",
        "set local row_security = on; select count(*)::int as n from ip_workbench.user_roles",
      ),
    ).toEqual([{ n: 1 }]);
    expect(await can("backup", "select name from ip_workbench.sql_snippets")).toEqual([{ name: "private" }]);
    // The odoo sync's state (bronze, forced row level security; 20261130003010): all rows too.
    expect(
      await can(
        "backup",
        `set local row_security = on;
         select (select count(*)::int from bronze.sync_cursors) as cursors,
                (select count(*)::int from bronze.sync_quarantine) as quarantined`,
      ),
    ).toEqual([{ cursors: 1, quarantined: 1 }]);
    expect(await cannot("backup", "insert into ip_workbench.domains (name) values ('backup')")).toBe(DENIED);
    expect(await cannot("backup", "update ip_workbench.cost_tracker set cost_usd = 0")).toBe(DENIED);
    expect(await cannot("backup", "select * from n8n.workflow_entity")).toBe(DENIED);

    const dir = mkdtempSync(join(tmpdir(), "aiwb-dump-"));
    try {
      const env = {
        PGHOST: server.host,
        PGPORT: String(server.port),
        PGDATABASE: database,
        PGUSER: logins.backup.role,
        PGPASSWORD: logins.backup.password,
      };
      // The CronJob's own arguments.
      const dump = await execa(join(PG_BINDIR, "pg_dump"), pgDumpArgs(join(dir, "dump")), {
        env,
        reject: false,
      });
      expect(dump.stderr).toBe("");
      expect(dump.exitCode).toBe(0);
      const listing = (await execa(join(PG_BINDIR, "pg_restore"), ["--list", join(dir, "dump")])).stdout;
      const schemas = [...listing.matchAll(/^\d+; \d+ \d+ SCHEMA - (\S+) /gm)]
        .map((match) => match[1])
        .sort();
      expect(schemas).toEqual([...BACKUP_SCHEMAS].sort());
      expect(listing).toMatch(/TABLE DATA ip_workbench user_roles/);
      // ... including the sync cursor's row (it was dumped empty before 20261130003010).
      const cursors = await execa(join(PG_BINDIR, "pg_restore"), [
        "--data-only",
        "--schema=bronze",
        "--table=sync_cursors",
        "--file=-",
        join(dir, "dump"),
      ]);
      expect(cursors.stdout).toMatch(/^odoo\texpenses\t2026-11-01 00:00:00\t7\t/m);
      expect(listing).not.toMatch(/ auth /);
      // Without row security the login cannot bypass it: pg_dump refuses instead of dumping a subset.
      const bypass = await execa(
        join(PG_BINDIR, "pg_dump"),
        ["--schema=ip_workbench", `--file=${join(dir, "b")}`],
        { env, reject: false },
      );
      expect(bypass.exitCode).not.toBe(0);
      expect(bypass.stderr).toMatch(/row.level security|row_security/i);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("catalog: writes the catalog, records and finishes scheduled job runs; nothing else", async () => {
    await expect(
      can(
        "catalog",
        "insert into ip_workbench.tables (schema_name, table_name, layer, resource_type, dbt_unique_id) values ('gold', 'cat_new', 'gold', 'model', 'model.x.cat_new')",
      ),
    ).resolves.toBeDefined();
    const run = await as("catalog", async (client) => {
      await client.query("begin");
      try {
        const inserted = await client.query<{ id: string }>(
          "insert into ip_workbench.job_runs (status, stage, started_at) values ('running', 'gold', now()) returning id",
        );
        const updated = await client.query(
          "update ip_workbench.job_runs set status = 'completed', completed_at = now(), rows_processed = 3 where id = $1",
          [inserted.rows[0]?.id],
        );
        return updated.rowCount;
      } finally {
        await client.query("rollback");
      }
    });
    expect(run).toBe(1);
    // A run a person started: invisible to its update policy, and triggered_by cannot be set.
    expect(
      await can(
        "catalog",
        "update ip_workbench.job_runs set status = 'failed' where id = 'd1900000-0000-4000-8000-000000000001' returning id",
      ),
    ).toEqual([]);
    expect(await cannot("catalog", "update ip_workbench.job_runs set triggered_by = null")).toBe(DENIED);
    expect(await cannot("catalog", "delete from ip_workbench.job_runs")).toBe(DENIED);
    expect(await cannot("catalog", "select * from ip_workbench.cost_tracker")).toBe(DENIED);
    expect(await cannot("catalog", "update ip_workbench.pipelines set name = 'x'")).toBe(DENIED);
    expect(await cannot("catalog", "select * from bronze.expenses_raw")).toBe(DENIED);
  });

  it("usage: records llm requests and its own litellm cost rows only", async () => {
    await expect(
      can(
        "usage",
        "insert into ip_workbench.llm_requests (request_id, model, cost_usd, prompt_tokens) values ('req-logins', 'claude-sonnet-4.5', 0.25, 10) returning agent_run_id",
      ),
    ).resolves.toBeDefined();
    expect(await can("usage", "select cost_usd::float as c from ip_workbench.cost_tracker")).toEqual([
      { c: 5 },
    ]);
    expect(
      await cannot(
        "usage",
        "insert into ip_workbench.cost_tracker (service, cost_usd) values ('compute', 100)",
      ),
    ).toBe(DENIED);
    expect(await cannot("usage", "select model, prompt_tokens from ip_workbench.llm_requests")).toBe(DENIED);
    expect(await cannot("usage", "delete from ip_workbench.llm_requests")).toBe(DENIED);
    expect(await cannot("usage", "select * from ip_workbench.tables")).toBe(DENIED);
    // The gateway's key lookup and budgets go through llm_gateway, never private itself.
    expect(
      await can(
        "usage",
        "select count(*)::int as n from llm_gateway.caller_of_key(sha256('wbk_none'::bytea))",
      ),
    ).toEqual([{ n: 0 }]);
    expect(await cannot("usage", "select key_hash from private.llm_caller_keys")).toBe(DENIED);
    expect(await cannot("usage", "select private.llm_issue_key('logins-intruder', 'service')")).toBe(DENIED);
  });

  it("api: nothing as itself; acts only after set role, under the API roles' row level security", async () => {
    expect(await cannot("api", "select * from ip_workbench.tables")).toBe(DENIED);
    expect(
      await can("api", "set local role authenticated; select count(*)::int as n from ip_workbench.tables"),
    ).toEqual([{ n: 0 }]);
    expect(await cannot("api", "set local role workbench_backup")).toBe(DENIED);
    expect(await cannot("api", `set local role ${server.user}`)).toBe(DENIED);
  });

  it("dbt: builds silver/gold/platinum from bronze; nothing in the catalog", async () => {
    await expect(
      can("dbt", "create table gold.dbt_logins as select count(*) as n from bronze.expenses_raw"),
    ).resolves.toBeDefined();
    expect(await cannot("dbt", "select * from ip_workbench.tables")).toBe(DENIED);
    expect(await cannot("dbt", "insert into bronze.expenses_raw default values")).toBe(DENIED);
  });
});
