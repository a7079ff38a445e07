/**
 * The main job end to end, with the real engine, the real dbt and the real server: one
 * `pulumi up` of a stack built from the committed local stack file (its own database,
 * small sample data) provisions the database layer, loads bronze, builds the medallion
 * and seeds the catalog. Then: counts reconcile across layers, the catalog is complete,
 * each app role sees what the permissions matrix allows through execute_sql, a re-run
 * changes nothing, and destroy leaves nothing behind.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import type { Stack } from "@pulumi/pulumi/automation/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { credentials, revealSecrets } from "../helpers/credentials.ts";
import { adminQuery } from "../../lib/postgres/scratch-database.ts";
import { localServer, type LocalServer } from "../../stacks/local-server.ts";
import { openStack, removeStack } from "../../stacks/workspace.ts";
import { localStackOptions } from "../helpers/local-stack.ts";

const suffix = randomBytes(3).toString("hex");
const environment = `e2e-${suffix}`;
const database = `aiwb_e2e_${suffix}`;
const login = (purpose: string) => `wb_e2e_${suffix}_${purpose}`;
const roles = ["dbt", "n8n", "backup", "catalog", "usage", "api", "delivery"].map(login);
const TRANSACTIONS = 2_000;

/** Generator row kind → the reason code silver must give it. */
const REASON_OF_KIND: Record<string, string> = {
  malformed_json: "MALFORMED_JSON",
  wrong_type: "INVALID_TYPE",
  missing_field: "MISSING_FIELD",
  non_positive_amount: "NON_POSITIVE_AMOUNT",
  future_date: "FUTURE_DATE",
  unknown_category: "UNKNOWN_CATEGORY",
  oversized_string: "OVERSIZED_FIELD",
};

let server: LocalServer;
let stack: Stack;
let outputs: Record<string, { value: unknown }>;

const sql = <T extends pg.QueryResultRow>(text: string, values: unknown[] = [], db = database) =>
  adminQuery<T>(server, db, text, values);

beforeAll(async () => {
  server = await localServer();
  await sql(`create database ${database}`, [], "postgres");
  stack = await openStack(
    localStackOptions(server, {
      stackName: environment,
      database,
      config: { sampleData: { transactions: TRANSACTIONS, badShare: 0.05, seed: 11 } },
    }),
  );
});

afterAll(async () => {
  if (stack) {
    await stack.destroy({}).catch(() => undefined);
    await removeStack(stack).catch(() => undefined);
  }
  await sql(`drop database if exists ${database} with (force)`, [], "postgres");
  for (const role of roles) await sql(`drop role if exists ${role}`, [], "postgres");
});

describe("npm run local's stack, end to end", () => {
  it("one up provisions, loads, builds and seeds", async () => {
    const result = await stack.up({});
    expect(result.summary.result).toBe("succeeded");
    outputs = result.outputs;
    const stages = outputs["stages"]?.value as { layer: string; testsFailed: number; models: number }[];
    expect(stages.map((stage) => stage.layer)).toEqual(["bronze", "silver", "gold", "platinum"]);
    for (const stage of stages) {
      expect(stage.testsFailed, stage.layer).toBe(0);
      expect(stage.models, stage.layer).toBeGreaterThan(0);
    }
  });

  it("no resource holds the admin credential outside the migration runner (the exported state, secrets decrypted)", async () => {
    // `pulumi stack export --show-secrets`: every resource's inputs and outputs as stored.
    const state = (await stack.exportStack()) as {
      deployment: { resources: { urn: string; type: string; inputs?: unknown; outputs?: unknown }[] };
    };
    const resources = state.deployment.resources.map((resource) => ({
      ...resource,
      label: `${resource.type} ${resource.urn.split("::").pop()}`,
      inputs: revealSecrets(resource.inputs ?? {}),
      outputs: revealSecrets(resource.outputs ?? {}),
    }));
    const MIGRATION_RUNNER =
      /^pulumi-nodejs:dynamic\/workbench:database:(MigrationSet|LoginRole|SqlStatements)$/;
    const STACK = "pulumi:pulumi:Stack";
    const found = resources.flatMap((resource) => [
      ...credentials(resource.label, resource.inputs, ".inputs"),
      ...credentials(resource.label, resource.outputs, ".outputs"),
    ]);
    const isAdmin = (f: { kind: string; value: string }) =>
      (f.kind === "user" && f.value === server.user) || f.value === server.password;
    const runner = resources.filter((resource) => MIGRATION_RUNNER.test(resource.type));
    // The migration runner does hold it (the audit would be vacuous otherwise): 1 + 7 + 2.
    expect(runner).toHaveLength(10);
    for (const resource of runner)
      expect(
        found.some((f) => f.resource === resource.label && isAdmin(f)),
        resource.label,
      ).toBe(true);
    // Anywhere else: only the stack's `databaseUrl` output, the migration runner's for
    // `npm run db:migrate` (no resource receives it).
    const outside = found.filter(
      (f) => isAdmin(f) && !runner.some((resource) => resource.label === f.resource),
    );
    expect([...new Set(outside.map((f) => `${f.resource} ${f.path}`))]).toEqual([
      `${STACK} ai-workbench-${environment} .outputs.databaseUrl`,
    ]);
    // The engine hands the dynamic-provider plugin the program's whole stack config (inputs
    // and outputs of the default `pulumi-nodejs` provider): the admin password is there as the
    // secret config it comes from, under its config key and nowhere else.
    const PROVIDER = "pulumi:providers:pulumi-nodejs default";
    const provider = resources.find((resource) => resource.label === PROVIDER);
    for (const side of ["inputs", "outputs"] as const) {
      const entries = Object.entries((provider?.[side] ?? {}) as Record<string, unknown>);
      expect(
        entries.filter(([, value]) => JSON.stringify(value).includes(server.password)).map(([key]) => key),
        `${PROVIDER} ${side}`,
      ).toEqual(["workbench:databasePassword"]);
    }
    // Nor the password in any other form (a DSN, a template, an env list) in any other resource.
    const leaks = resources.filter(
      (resource) =>
        !MIGRATION_RUNNER.test(resource.type) &&
        resource.type !== STACK &&
        resource.label !== PROVIDER &&
        JSON.stringify([resource.inputs, resource.outputs]).includes(server.password),
    );
    expect(leaks.map((resource) => resource.label)).toEqual([]);

    // Each component that connects does so with its own login.
    const usersOf = (type: string) =>
      [
        ...new Set(
          found
            .filter(
              (f) =>
                f.kind === "user" && f.resource.startsWith(`pulumi-nodejs:dynamic/workbench:data:${type} `),
            )
            .map((f) => f.value),
        ),
      ].sort();
    expect(usersOf("SampleData")).toEqual([login("delivery")]);
    expect(usersOf("DbtStage")).toEqual([login("catalog"), login("dbt")].sort());
    expect(usersOf("CatalogSeed")).toEqual([login("catalog")]);
    const holders = [...new Set(found.map((f) => f.resource.split(" ")[0]))].sort();
    expect(holders).toEqual(
      [
        STACK,
        "pulumi-nodejs:dynamic/workbench:data:CatalogSeed",
        "pulumi-nodejs:dynamic/workbench:data:DbtStage",
        "pulumi-nodejs:dynamic/workbench:data:SampleData",
        "pulumi-nodejs:dynamic/workbench:database:LoginRole",
        "pulumi-nodejs:dynamic/workbench:database:MigrationSet",
        "pulumi-nodejs:dynamic/workbench:database:SqlStatements",
      ].sort(),
    );
  });

  it("row counts reconcile across layers, and every bad row is quarantined with its reason", async () => {
    const sample = outputs["sampleData"]?.value as {
      delivered: { transactions: number; expenses: number };
      transactionKinds: Record<string, number>;
      expenseKinds: Record<string, number>;
    };
    for (const [entity, landing, classifications, validated, kinds] of [
      [
        "transactions",
        "scout_transactions_raw",
        "transaction_classifications",
        "validated_transactions",
        sample.transactionKinds,
      ],
      ["expenses", "expenses_raw", "expense_classifications", "expenses", sample.expenseKinds],
    ] as const) {
      const [counts] = await sql<{
        bronze: number;
        valid: number;
        quarantined: number;
        duplicate: number;
        silver: number;
      }>(
        `select (select count(*)::int from bronze.${landing}) as bronze,
                count(*) filter (where status = 'valid')::int as valid,
                count(*) filter (where status = 'quarantined')::int as quarantined,
                count(*) filter (where status = 'duplicate')::int as duplicate,
                (select count(*)::int from silver.${validated}) as silver
           from silver.${classifications}`,
      );
      const delivered = sample.delivered[entity];
      expect(counts?.bronze, entity).toBe(delivered);
      expect((counts?.valid ?? 0) + (counts?.quarantined ?? 0) + (counts?.duplicate ?? 0), entity).toBe(
        delivered,
      );
      expect(counts?.silver, entity).toBe(kinds["good"]);
      expect(counts?.duplicate, entity).toBe(kinds["duplicate"]);

      const byReason = await sql<{ reason: string; n: number }>(
        `select primary_reason as reason, count(*)::int as n from silver.${classifications}
          where status = 'quarantined' group by 1`,
      );
      const expected = Object.entries(REASON_OF_KIND)
        .map(([kind, reason]) => ({ reason, n: kinds[kind] ?? 0 }))
        .filter((row) => row.n > 0);
      expect(
        byReason.sort((a, b) => a.reason.localeCompare(b.reason)),
        entity,
      ).toEqual(expected.sort((a, b) => a.reason.localeCompare(b.reason)));
    }
    // Gold aggregates exactly what silver accepted.
    const [totals] = await sql<{ silver: string; gold: string }>(
      `select (select sum(amount)::text from silver.validated_transactions) as silver,
              (select sum(total_amount)::text from gold.monthly_summary) as gold`,
    );
    expect(totals?.gold).toBe(totals?.silver);
  });

  it("the catalog holds every model with all its columns, and lineage", async () => {
    const relations = await sql<{ schema: string; name: string; columns: number }>(
      `select c.table_schema as schema, c.table_name as name, count(*)::int as columns
         from information_schema.columns c
        where c.table_schema in ('silver', 'gold', 'platinum')
           or (c.table_schema = 'bronze' and c.table_name like 'bronze\\_%')
        group by 1, 2`,
    );
    expect(relations.length).toBeGreaterThan(20);
    const catalogued = await sql<{ schema: string; name: string; columns: number; layer: string | null }>(
      `select t.schema_name as schema, t.table_name as name, t.layer, count(m.id)::int as columns
         from ip_workbench.tables t left join ip_workbench.table_metadata m on m.table_id = t.id
        where not t.is_deleted group by 1, 2, 3`,
    );
    const byName = new Map(catalogued.map((row) => [`${row.schema}.${row.name}`, row]));
    for (const relation of relations) {
      const entry = byName.get(`${relation.schema}.${relation.name}`);
      expect(entry, `${relation.schema}.${relation.name} in the catalog`).toBeDefined();
      expect(entry?.columns, `${relation.schema}.${relation.name} columns`).toBe(relation.columns);
      expect(entry?.layer).toBe(relation.schema);
    }
    const upstream = await sql<{ source: string }>(
      `select s.table_name as source from ip_workbench.lineage_edges e
         join ip_workbench.tables s on s.id = e.source_table_id
         join ip_workbench.tables t on t.id = e.target_table_id
        where e.edge_type = 'table' and t.table_name = 'monthly_summary'`,
    );
    expect(upstream.map((row) => row.source)).toContain("validated_transactions");
    const [columnEdges] = await sql<{ n: number }>(
      `select count(*)::int as n from ip_workbench.lineage_edges e
         join ip_workbench.tables t on t.id = e.target_table_id
        where e.edge_type = 'column' and t.schema_name = 'gold'`,
    );
    expect(columnEdges?.n).toBeGreaterThan(0);
    const [runs] = await sql<{ n: number }>(
      "select count(*)::int as n from ip_workbench.job_runs where status = 'completed'",
    );
    expect(runs?.n).toBeGreaterThanOrEqual(4);
  });

  it("each app role sees what the permissions matrix allows through execute_sql", async () => {
    const users = {
      viewer: "00000000-0000-4000-8000-0000000000a1",
      engineer: "00000000-0000-4000-8000-0000000000a2",
      admin: "00000000-0000-4000-8000-0000000000a3",
      service: "00000000-0000-4000-8000-0000000000a4",
    };
    for (const [role, id] of Object.entries(users)) {
      await sql("insert into auth.users (id, email) values ($1, $2)", [id, `${role}@example.com`]);
      await sql("insert into ip_workbench.user_roles (user_id, role) values ($1, $2)", [id, role]);
    }
    await sql("insert into ip_workbench.cost_tracker (service, cost_usd) values ('llm', 12.5)");

    const asUser = async (role: "anon" | "authenticated", sub: string | null, query: string) => {
      const client = new pg.Client({ connectionString: server.url(database) });
      await client.connect();
      try {
        await client.query("begin");
        await client.query(`set local role ${role}`);
        await client.query("set local statement_timeout = '30s'");
        await client.query("select set_config('request.jwt.claims', $1, true)", [
          JSON.stringify({ sub, role }),
        ]);
        const result = await client.query<{ r: { rows: unknown[]; error: unknown } }>(
          "select ip_workbench.execute_sql($1) as r",
          [query],
        );
        await client.query("commit");
        return result.rows[0]?.r;
      } finally {
        await client.end();
      }
    };

    const finance = "select count(*) as n from gold.finance_expenses";
    const costs = "select count(*) as n from ip_workbench.cost_tracker";
    const [expenses] = await sql<{ n: number }>("select count(*)::int as n from gold.finance_expenses");
    expect(expenses?.n).toBeGreaterThan(0);
    for (const [role, id] of Object.entries(users)) {
      // Run SQL Queries and the gold marts: every app role.
      const gold = await asUser("authenticated", id, finance);
      expect(gold?.error, role).toBeNull();
      expect(gold?.rows, role).toEqual([{ n: expenses?.n }]);
      const cost = await asUser("authenticated", id, costs);
      // View Cost Tracking: admin only; RLS hides the rows from everyone else.
      expect(cost?.rows, role).toEqual([{ n: role === "admin" ? 1 : 0 }]);
    }
    const write = await asUser("authenticated", users.viewer, "delete from ip_workbench.sql_snippets");
    expect(write?.error, "a viewer's write is refused").not.toBeNull();
    await expect(asUser("anon", null, finance)).rejects.toMatchObject({ code: "42501" });
    const history = await sql<{ n: number }>("select count(*)::int as n from ip_workbench.query_history");
    expect(history[0]?.n).toBe(9); // every call that reached the function is logged, including the refused write
  });

  it("a re-run changes nothing: no resource, no dbt run, the same catalog", async () => {
    const snapshot = () =>
      sql(
        `select (select count(*) from ip_workbench.job_runs) as job_runs,
                (select count(*) from ip_workbench.test_runs) as test_runs,
                (select md5(string_agg(t::text, '|' order by dbt_unique_id)) from ip_workbench.tables t) as tables`,
      );
    const before = await snapshot();
    const preview = await stack.preview({});
    expect(Object.keys(preview.changeSummary)).toEqual(["same"]);
    const result = await stack.up({});
    expect(Object.keys(result.summary.resourceChanges ?? {})).toEqual(["same"]);
    expect(await snapshot()).toEqual(before);
  });

  it("a delivery after the up (the webhook's way in) is classified by the next up, not left stuck", async () => {
    await sql("select bronze.deliver('scout_transactions', 'n8n', 'webhook-1', $1::text[])", [
      [
        JSON.stringify({
          transaction_id: "TX-WEBHOOK-1",
          store_id: "S001",
          product_id: "P0001",
          category: "snacks",
          quantity: 1,
          amount: 12.5,
          transaction_date: "2025-01-15",
        }),
      ],
    ]);
    const preview = await stack.preview({});
    // The four stages (and the catalog seed after them) re-run although no file changed.
    expect(preview.changeSummary["update"]).toBeGreaterThanOrEqual(4);
    const result = await stack.up({});
    expect(result.summary.resourceChanges?.["update"]).toBeGreaterThanOrEqual(4);
    expect(
      await sql(
        "select status from silver.transaction_classifications where transaction_id = 'TX-WEBHOOK-1'",
      ),
    ).toEqual([{ status: "valid" }]);
    expect(
      await sql("select count(*)::int as n from ip_workbench.job_runs where status <> 'completed'"),
    ).toEqual([{ n: 0 }]);
    // Its job run records the rows that run wrote (the new delivery, the small full
    // rebuilds: products), not the rows silver holds (at least every classification).
    const [silverRun] = await sql<{ n: number }>(
      "select rows_processed::int as n from ip_workbench.job_runs where stage = 'silver' order by started_at desc limit 1",
    );
    const [classified] = await sql<{ n: number }>(
      "select count(*)::int as n from silver.transaction_classifications",
    );
    expect(silverRun?.n).toBeGreaterThan(0);
    expect(silverRun?.n).toBeLessThan(classified?.n ?? 0);
    // Converged: the next up has nothing to do.
    const again = await stack.up({});
    expect(Object.keys(again.summary.resourceChanges ?? {})).toEqual(["same"]);
  });

  it("destroy leaves nothing behind (checked in SQL)", async () => {
    await stack.destroy({});
    const schemas = await sql(
      `select nspname from pg_namespace
        where nspname in ('ip_workbench', 'private', 'bronze', 'silver', 'gold', 'platinum', 'auth', 'workbench_migrations')`,
    );
    expect(schemas).toEqual([]);
    const left = await sql("select rolname from pg_roles where rolname = any($1)", [roles], "postgres");
    expect(left).toEqual([]);
    const tables = await sql(
      "select count(*)::int as n from pg_tables where schemaname not in ('pg_catalog', 'information_schema')",
    );
    expect(tables).toEqual([{ n: 0 }]);
  });
});
