/**
 * Expense approvals reach gold (issue 19, item 3), on a small hand-computed fixture, with
 * real dbt running as a dbt login (a member of workbench_dbt through dbtRunnerGrants, as
 * the database layer makes it) and real PostgreSQL with row level security forced on
 * ip_workbench.expense_approvals. Decisions are written the way they are in use: the
 * workflow's through ip_workbench.decide_expense, a person's as an admin through
 * `authenticated` with a JWT's claims.
 *
 * Fixture (agency DOH, March 2025, threshold 5,000 USD):
 *   EXP-A1  6,000  pending, then approved by an admin     -> approved
 *   EXP-R1  7,000  pending, then rejected by an admin     -> rejected
 *   EXP-U1    100  the workflow, under the threshold      -> auto_approved
 *   EXP-P1  8,000  the workflow, at or above it           -> pending_approval
 *   EXP-N1    200  no decision row                        -> not_submitted
 *   EXP-L1  9,000  no decision at the first build; later pending, then approved
 * total 30,300.00.
 */
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runDbt, type DbtRunSummary } from "../../lib/dbt/cli.ts";
import type { PgConnection } from "../../lib/postgres/connection.ts";
import { dbtRunnerGrants } from "../../components/database/workbench-database.ts";
import { createMedallionDatabase, DBT_PROJECT, type MedallionDatabase } from "../helpers/medallion.ts";

const AS_OF = { as_of_date: "2025-06-30" };
const ADMIN = "a1900000-0000-4000-8000-000000000001";

function expense(id: string, amount: number): string {
  return JSON.stringify({
    expense_id: id,
    agency: "DOH",
    employee_id: "E001",
    vendor: "Vendor",
    category: "travel",
    currency: "USD",
    description: `expense ${id}`,
    amount,
    expense_date: "2025-03-10",
  });
}

let db: MedallionDatabase;
let dbtLogin: string;
let dbtConnection: PgConnection;
let builtFirst: { relation: string; ctid: string }[];

/** The gold relation's oid and where EXP-U1 (decided before the first build, never again) is stored. */
function firstBuild(): Promise<{ relation: string; ctid: string }[]> {
  return db.query(
    "select 'gold.finance_expenses'::regclass::oid::text as relation, ctid::text from gold.finance_expenses where expense_id = 'EXP-U1'",
  );
}

async function build(): Promise<DbtRunSummary> {
  const summary = await runDbt({
    command: "build",
    projectDir: DBT_PROJECT,
    connection: dbtConnection,
    targetPath: db.targetPath,
    vars: AS_OF,
  });
  expect(summary.tests.fail + summary.tests.error).toBe(0);
  return summary;
}

/** The workflow's decision, as n8n records it. */
async function workflowDecides(id: string, amount: number): Promise<void> {
  await db.query("select ip_workbench.decide_expense($1, $2, 'USD', $2, 5000, 'USD')", [id, amount]);
}

/** A person's decision: an admin, through `authenticated` and the JWT's claims, under row level security. */
async function adminDecides(id: string, status: "approved" | "rejected"): Promise<void> {
  const client = new pg.Client({ connectionString: db.server.url(db.name) });
  await client.connect();
  try {
    await client.query("begin");
    await client.query("set local role authenticated");
    await client.query("select set_config('request.jwt.claims', $1, true)", [
      JSON.stringify({ sub: ADMIN, role: "authenticated" }),
    ]);
    const result = await client.query(
      "update ip_workbench.expense_approvals set status = $2, decided_by = $3, decided_at = now() where expense_id = $1",
      [id, status, ADMIN],
    );
    expect(result.rowCount).toBe(1);
    await client.query("commit");
  } finally {
    await client.end();
  }
}

async function gold(): Promise<Record<string, { status: string; approved: boolean; decided: boolean }>> {
  const rows = await db.query<{
    expense_id: string;
    approval_status: string;
    is_approved: boolean;
    decided: boolean;
  }>(
    `select g.expense_id, g.approval_status, g.is_approved,
            g.approval_decided_at is not distinct from a.decided_at and g.approval_decided_at is not null as decided
       from gold.finance_expenses as g
       left join ip_workbench.expense_approvals as a on a.expense_id = g.expense_id
      order by g.expense_id`,
  );
  return Object.fromEntries(
    rows.map((row) => [
      row.expense_id,
      { status: row.approval_status, approved: row.is_approved, decided: row.decided },
    ]),
  );
}

async function rollup(): Promise<Record<string, string | number>[]> {
  return db.query(
    `select to_char(month, 'YYYY-MM') as month, agency, expense_count::int, total_amount::text,
            approved_amount::text, auto_approved_amount::text, pending_approval_amount::text,
            rejected_amount::text, not_submitted_amount::text, approved_count::int,
            pending_approval_count::int, rejected_count::int, not_submitted_count::int
       from platinum.monthly_expenses_by_agency order by month, agency`,
  );
}

beforeAll(async () => {
  db = await createMedallionDatabase("appr");
  // The dbt login as the database layer makes it: a login with the dbt runner's grants.
  dbtLogin = `wb_appr${randomBytes(3).toString("hex")}_dbt`;
  const password = randomBytes(18).toString("hex");
  await db.query(`create role ${dbtLogin} login password '${password}'`);
  for (const statement of dbtRunnerGrants(dbtLogin).apply) await db.query(statement);
  dbtConnection = { ...db.connection, user: dbtLogin, password };

  await db.query("insert into auth.users (id, email) values ($1, 'approver@approvals.test')", [ADMIN]);
  await db.query("insert into ip_workbench.user_roles (user_id, role) values ($1, 'admin')", [ADMIN]);
  await db.deliver(
    "expenses_raw",
    "approvals-1",
    [
      ["EXP-A1", 6000],
      ["EXP-R1", 7000],
      ["EXP-U1", 100],
      ["EXP-P1", 8000],
      ["EXP-N1", 200],
      ["EXP-L1", 9000],
    ].map(([id, amount]) => expense(id as string, amount as number)),
  );
  await workflowDecides("EXP-A1", 6000);
  await adminDecides("EXP-A1", "approved");
  await workflowDecides("EXP-R1", 7000);
  await adminDecides("EXP-R1", "rejected");
  await workflowDecides("EXP-U1", 100);
  await workflowDecides("EXP-P1", 8000);
  await build();
  builtFirst = await firstBuild();
});

afterAll(async () => {
  await db?.drop();
  if (dbtLogin) await db.query(`drop role if exists ${dbtLogin}`).catch(() => undefined);
  if (db) rmSync(db.targetPath, { recursive: true, force: true });
});

describe("gold carries the decision of record", () => {
  it("approved, rejected, auto-approved, pending and no decision", async () => {
    expect(await gold()).toEqual({
      "EXP-A1": { status: "approved", approved: true, decided: true },
      "EXP-L1": { status: "not_submitted", approved: false, decided: false },
      "EXP-N1": { status: "not_submitted", approved: false, decided: false },
      "EXP-P1": { status: "pending_approval", approved: false, decided: true },
      "EXP-R1": { status: "rejected", approved: false, decided: true },
      "EXP-U1": { status: "auto_approved", approved: true, decided: true },
    });
  });

  it("the rollup keeps the total and leaves rejected expenses out of the approved total", async () => {
    expect(await rollup()).toEqual([
      {
        month: "2025-03",
        agency: "DOH",
        expense_count: 6,
        total_amount: "30300.00",
        approved_amount: "6100.00", // 6,000 approved + 100 auto-approved; not the 7,000 rejected
        auto_approved_amount: "100.00",
        pending_approval_amount: "8000.00",
        rejected_amount: "7000.00",
        not_submitted_amount: "9200.00",
        approved_count: 2,
        pending_approval_count: 1,
        rejected_count: 1,
        not_submitted_count: 2,
      },
    ]);
  });

  it("dbt reads the decisions under its own policy; the silver view reads them as its reader", async () => {
    expect(
      await db.query(
        "select has_table_privilege($1, 'ip_workbench.expense_approvals', 'insert, update, delete') as writes",
        [dbtLogin],
      ),
    ).toEqual([{ writes: false }]);
    // A signed-in user without an app role sees no decisions through the view (security_invoker).
    const client = new pg.Client({ connectionString: db.server.url(db.name) });
    await client.connect();
    try {
      await client.query("begin");
      await client.query("set local role authenticated");
      await client.query("select set_config('request.jwt.claims', $1, true)", [
        JSON.stringify({ sub: "a1900000-0000-4000-8000-0000000000ff", role: "authenticated" }),
      ]);
      const { rows } = await client.query("select count(*)::int as n from silver.expense_approvals");
      expect(rows).toEqual([{ n: 0 }]);
      await client.query("rollback");
    } finally {
      await client.end();
    }
    expect(await db.query("select count(*)::int as n from silver.expense_approvals")).toEqual([{ n: 4 }]);
  });
});

describe("incremental on new decisions (no --full-refresh)", () => {
  it("a decision arriving after the expense was built is in gold after one incremental run", async () => {
    await workflowDecides("EXP-L1", 9000);
    await workflowDecides("EXP-N1", 200);
    await build();
    const rows = await gold();
    expect(rows["EXP-L1"]).toEqual({ status: "pending_approval", approved: false, decided: true });
    expect(rows["EXP-N1"]).toEqual({ status: "auto_approved", approved: true, decided: true });
    expect(await rollup()).toEqual([
      expect.objectContaining({
        total_amount: "30300.00",
        approved_amount: "6300.00",
        pending_approval_amount: "17000.00",
        not_submitted_amount: "0.00",
        not_submitted_count: 0,
      }),
    ]);
  });

  it("a re-decision (pending -> approved) updates gold and the approved total", async () => {
    await adminDecides("EXP-L1", "approved");
    await build();
    expect((await gold())["EXP-L1"]).toEqual({ status: "approved", approved: true, decided: true });
    expect(await rollup()).toEqual([
      expect.objectContaining({
        total_amount: "30300.00",
        approved_amount: "15300.00",
        pending_approval_amount: "8000.00",
        rejected_amount: "7000.00",
        approved_count: 4,
      }),
    ]);
  });

  it("a deleted decision turns the expense back to not_submitted", async () => {
    await db.query("delete from ip_workbench.expense_approvals where expense_id = 'EXP-R1'");
    await build();
    expect((await gold())["EXP-R1"]).toEqual({ status: "not_submitted", approved: false, decided: false });
    expect(await rollup()).toEqual([
      expect.objectContaining({
        rejected_amount: "0.00",
        not_submitted_amount: "7000.00",
        total_amount: "30300.00",
      }),
    ]);
  });

  it("gold was built incrementally: the same table, and an expense whose decision never changed was not rewritten", async () => {
    // A --full-refresh (or a table rebuild) makes a new relation; a merge that re-read
    // EXP-U1 would have written a new version of its row (a new ctid).
    expect(await firstBuild()).toEqual(builtFirst);
  });
});
