/**
 * The five workflows in a real n8n (scripts/install-n8n's npm package, SQLite, loopback):
 * deployed through the WorkflowSet provider (n8n's public API), then driven through their
 * webhooks against a scratch PostgreSQL database migrated with the project's migrations,
 * with Mattermost and Odoo as local stubs that record what they receive.
 *
 * One n8n for the whole file (about 7 s to start, 1-2 s to deploy), workflows imported once.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyMigrations, loadMigrations } from "../../components/database/migrations.ts";
import { N8nApiClient } from "../../components/n8n/api-client.ts";
import { loadWorkflowFiles, webhookPathsOf } from "../../components/n8n/workflow-files.ts";
import {
  workflowSetProvider,
  type WorkflowSetInputs,
  type WorkflowSetOutputs,
} from "../../components/n8n/workflow-set-provider.ts";
import { REPO_ROOT } from "../../stacks/paths.ts";
import { startN8n, type N8nInstance } from "../helpers/n8n-harness.ts";
import { createScratchDatabase, type ScratchDatabase } from "../helpers/scratch-database.ts";
import {
  startMattermostStub,
  startOdooStub,
  type MattermostStub,
  type OdooStub,
  type XmlRpcValue,
} from "../helpers/stub-http.ts";

const TOKEN_HEADER = "X-Workbench-Token";
const TOKEN = "test-webhook-token-0123456789";
const ODOO = { db: "odoo_prod", username: "n8n-sync@example.test", apiKey: "odoo-api-key-4f2a9c" };
const OWNER = "a0000000-0000-4000-8000-00000000e001";
const PIPELINE = "c0000000-0000-4000-8000-00000000e001";
const BROKEN_PIPELINE = "c0000000-0000-4000-8000-00000000e002";
const DBT_PIPELINE = "c0000000-0000-4000-8000-00000000e003";

const invoice = (id: number, amount: number, writeDate: string, extra: Record<string, XmlRpcValue> = {}) => ({
  id,
  name: `BILL/2026/${String(id).padStart(4, "0")}`,
  ref: `INV-${id}`,
  partner_id: [40 + id, `Vendor ${id}`],
  company_id: [1, "Department of Finance"],
  invoice_user_id: [5, "Clerk"],
  invoice_date: "2026-11-02",
  amount_total: amount,
  currency_id: [2, "USD"],
  state: "posted",
  move_type: "in_invoice",
  write_date: writeDate,
  x_expense_category: "supplies",
  ...extra,
});

const txn = (id: string, overrides: Record<string, unknown> = {}) => ({
  transaction_id: id,
  store_id: "ST-001",
  product_id: "P-100",
  category: "snacks",
  quantity: 2,
  unit_price: 12.5,
  amount: 25,
  transaction_date: "2026-11-01",
  transaction_ts: "2026-11-01T10:00:00+08:00",
  payment_method: "cash",
  customer_id: "C-1",
  ...overrides,
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("n8n workflows in a real n8n", () => {
  let db: ScratchDatabase;
  let mattermost: MattermostStub;
  let odoo: OdooStub;
  let n8n: N8nInstance;
  let inputs: WorkflowSetInputs;
  let outputs: WorkflowSetOutputs;
  const auth = { [TOKEN_HEADER]: TOKEN };

  beforeAll(async () => {
    db = await createScratchDatabase("n8n");
    await applyMigrations(db.connection, loadMigrations(join(REPO_ROOT, "sql/migrations")));
    // silver.silver_expenses is a dbt model (dbt/models/silver/silver_expenses.sql); this
    // stand-in has its columns so the workflow reads what it reads in a built medallion.
    await db.query(`
      create table silver.silver_expenses (
        expense_id text primary key, agency text, employee_id text, vendor text, category text,
        currency text, description text, amount numeric(14, 2), expense_date date,
        ingest_id bigint, batch_id text, received_at timestamptz
      );
      insert into silver.silver_expenses (expense_id, agency, employee_id, vendor, category, currency, description, amount, expense_date, ingest_id, batch_id, received_at)
      values
        ('EX-00000001', 'DOF', 'E-1', 'Office Hub', 'supplies', 'USD', 'paper', 120.50, '2026-11-02', 1, 'b1', now()),
        ('EX-00000002', 'DOF', 'E-2', 'Consult Co', 'professional_services', 'USD', 'audit', 7250.00, '2026-11-03', 2, 'b1', now()),
        ('EX-00000003', 'DOF', 'E-3', 'Edge Corp', 'equipment', 'USD', 'laptop', 5000.00, '2026-11-04', 3, 'b1', now()),
        ('EX-00000004', 'DOF', 'E-4', 'Edge Corp', 'equipment', 'USD', 'dock', 4999.99, '2026-11-04', 4, 'b1', now()),
        ('EX-00000005', 'DOF', 'E-5', 'Big Vendor', 'equipment', 'USD', 'servers', 9000.00, '2026-11-05', 5, 'b1', now());
      insert into ip_workbench.expense_approvals (expense_id, status, amount, currency, threshold, decided_at)
      values ('EX-00000005', 'rejected', 9000, 'USD', 5000, now());

      insert into auth.users (id, email) values ('${OWNER}', 'pipeline-owner@example.test');
      insert into ip_workbench.user_roles (user_id, role) values ('${OWNER}', 'engineer');
      insert into ip_workbench.pipelines (id, name, owner) values
        ('${PIPELINE}', 'describe itself', '${OWNER}'),
        ('${BROKEN_PIPELINE}', 'broken second step', '${OWNER}'),
        ('${DBT_PIPELINE}', 'needs dbt', '${OWNER}');
      insert into ip_workbench.pipeline_steps (pipeline_id, position, name, step_type, config) values
        ('${PIPELINE}', 0, 'count domains', 'sql', '{"sql": "select count(*) as n from ip_workbench.domains"}'),
        ('${PIPELINE}', 1, 'describe', 'sql', '{"sql": "update ip_workbench.pipelines set description = ''ran by n8n'' where id = ''${PIPELINE}''"}'),
        ('${BROKEN_PIPELINE}', 0, 'describe', 'sql', '{"sql": "update ip_workbench.pipelines set description = ''half done'' where id = ''${BROKEN_PIPELINE}''"}'),
        ('${BROKEN_PIPELINE}', 1, 'fail', 'sql', '{"sql": "select 1 / 0"}'),
        ('${DBT_PIPELINE}', 0, 'build silver', 'dbt', '{"select": "silver"}');

      insert into ip_workbench.tables (schema_name, table_name, layer, dq_score, dbt_unique_id, owner_name) values
        ('gold', 'finance_expenses', 'gold', 97.5, 'model.workbench.gold_finance_expenses', 'finance'),
        ('silver', 'silver_expenses', 'silver', 72.25, 'model.workbench.silver_expenses', 'data-eng'),
        ('silver', 'silver_products', 'silver', 41, 'model.workbench.silver_products', null),
        ('bronze', 'bronze_expenses', 'bronze', null, 'model.workbench.bronze_expenses', null);
    `);

    mattermost = await startMattermostStub();
    odoo = await startOdooStub({
      ...ODOO,
      invoices: [
        invoice(101, 830.25, "2026-11-20 08:00:00"),
        invoice(102, 6400, "2026-11-20 09:30:00", { x_expense_category: false }),
      ],
    });
    n8n = await startN8n({
      env: {
        MATTERMOST_WEBHOOK_URL: mattermost.webhookUrl,
        ODOO_URL: odoo.url,
        ODOO_DB: ODOO.db,
        ODOO_USERNAME: ODOO.username,
        ODOO_API_KEY: ODOO.apiKey,
      },
    });

    const files = loadWorkflowFiles(join(REPO_ROOT, "n8n-workflows"));
    inputs = {
      apiUrl: n8n.url,
      apiKey: n8n.apiKey,
      directory: "n8n-workflows",
      workflows: files.map(({ file, checksum, workflow }) => ({
        file,
        id: workflow.id,
        name: workflow.name,
        checksum,
      })),
      credentials: [
        {
          name: "Workbench Postgres",
          type: "postgres",
          data: {
            host: db.connection.host,
            port: db.connection.port,
            database: db.connection.database,
            user: db.connection.user,
            password: db.connection.password,
            ssl: "disable",
          },
        },
        {
          name: "Workbench Webhook Token",
          type: "httpHeaderAuth",
          data: { name: TOKEN_HEADER, value: TOKEN },
        },
      ],
      activate: true,
    };
    const created = await workflowSetProvider.create(inputs);
    outputs = created.outs as WorkflowSetOutputs;
    await n8n.waitForWebhooks(files.flatMap(({ workflow }) => webhookPathsOf(workflow)));
  });

  afterAll(async () => {
    await n8n?.stop();
    await mattermost?.close();
    await odoo?.close();
    await db?.drop();
  });

  it("deploys and activates the five workflows through the WorkflowSet provider (public API)", async () => {
    console.log(`n8n ${n8n.version}`);
    expect(outputs.deployed.map((d) => d.file)).toEqual([
      "expense-approval.json",
      "odoo-sync.json",
      "pipeline-trigger.json",
      "quality-alerts.json",
      "real-time-transactions.json",
    ]);
    expect(outputs.deployed.every((d) => d.active)).toBe(true);
    const client = new N8nApiClient(n8n.url, n8n.apiKey);
    for (const d of outputs.deployed) {
      const live = await client.getWorkflow(d.id);
      expect(live, d.file).toMatchObject({ id: d.id, active: true });
      // Credentials resolved to this instance's ids; nothing but the name came from the file.
      for (const node of live!.nodes as {
        disabled?: boolean;
        credentials?: Record<string, { id?: string }>;
      }[]) {
        for (const ref of Object.values(node.credentials ?? {}))
          if (!node.disabled) expect(ref.id).toBeTruthy();
      }
    }
    expect(Object.keys(outputs.credentialIds).sort()).toEqual([
      "httpHeaderAuth/Workbench Webhook Token",
      "postgres/Workbench Postgres",
    ]);
  });

  describe("real-time-transactions", () => {
    it("lands a good batch in bronze through bronze.deliver and answers with the batch id and counts", async () => {
      const batch = {
        batch_id: "pos-01-20261101-001",
        source: "pos-01",
        transactions: [txn("T-1"), txn("T-2"), txn("T-3")],
      };
      const first = await n8n.webhook("scout-transactions", batch, auth);
      expect(first).toEqual({
        status: 200,
        body: {
          batch_id: "pos-01-20261101-001",
          source: "pos-01",
          received: 3,
          valid: 3,
          invalid: 0,
          inserted: 3,
          duplicate: false,
        },
      });
      const rows = await db.query<{ record_seq: number; payload: { transaction_id: string } }>(
        "select record_seq, payload_raw::jsonb as payload from bronze.scout_transactions_raw where batch_id = $1 order by record_seq",
        ["pos-01-20261101-001"],
      );
      expect(rows.map((r) => [r.record_seq, r.payload.transaction_id])).toEqual([
        [0, "T-1"],
        [1, "T-2"],
        [2, "T-3"],
      ]);
      const [delivery] = await db.query(
        "select source, entity, record_count from bronze.deliveries where batch_id = $1",
        ["pos-01-20261101-001"],
      );
      expect(delivery).toEqual({ source: "pos-01", entity: "scout_transactions", record_count: 3 });

      // Re-delivery: 200, nothing inserted twice.
      const again = await n8n.webhook("scout-transactions", batch, auth);
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ batch_id: "pos-01-20261101-001", inserted: 0, duplicate: true });
      const [count] = await db.query<{ n: number }>(
        "select count(*)::int as n from bronze.scout_transactions_raw",
      );
      expect(count!.n).toBe(3);
    });

    it("derives a content batch id when the sender gives none, so a re-sent batch is still recognised", async () => {
      const batch = { transactions: [txn("T-10")] };
      const first = await n8n.webhook("scout-transactions", batch, auth);
      expect(first.status).toBe(200);
      const body = first.body as { batch_id: string; inserted: number; source: string };
      expect(body.batch_id).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(body).toMatchObject({ source: "n8n-webhook", inserted: 1 });
      const again = await n8n.webhook("scout-transactions", batch, auth);
      expect(again.body).toMatchObject({ batch_id: body.batch_id, inserted: 0, duplicate: true });
    });

    it("answers 422 with the reasons for invalid records, and still lands every record for silver to quarantine", async () => {
      const batch = {
        batch_id: "pos-02-bad",
        source: "pos-02",
        transactions: [
          txn("T-20"),
          txn("T-21", { amount: -4 }),
          txn("T-22", { category: "weapons", transaction_date: "2999-01-01" }),
          { store_id: "ST-9", amount: "five" },
          "not an object",
        ],
      };
      const response = await n8n.webhook("scout-transactions", batch, auth);
      expect(response.status).toBe(422);
      expect(response.body).toMatchObject({
        batch_id: "pos-02-bad",
        received: 5,
        valid: 1,
        invalid: 4,
        inserted: 5,
        errors: [
          { index: 1, transaction_id: "T-21", reasons: ["amount must be positive"] },
          {
            index: 2,
            transaction_id: "T-22",
            reasons: ["transaction_date is in the future", "unknown category 'weapons'"],
          },
          {
            index: 3,
            transaction_id: null,
            reasons: [
              "missing transaction_id",
              "missing product_id",
              "missing category",
              "missing transaction_date",
              "amount is not a number",
            ],
          },
          { index: 4, transaction_id: null, reasons: ["not a JSON object"] },
        ],
      });
      const rows = await db.query<{ payload_raw: string }>(
        "select payload_raw from bronze.scout_transactions_raw where batch_id = 'pos-02-bad' order by record_seq",
      );
      expect(rows.map((r) => JSON.parse(r.payload_raw))).toEqual(batch.transactions);
    });

    it("keeps a body that is not a batch at all as one record, and says what a batch looks like", async () => {
      const response = await n8n.webhook("scout-transactions", { hello: "world" }, auth);
      expect(response.status).toBe(422);
      expect(response.body).toMatchObject({ received: 1, inserted: 1 });
      expect((response.body as { error: string }).error).toContain(
        'the body must be {"transactions": [...]}',
      );
    });

    it("refuses a request without the webhook token", async () => {
      const response = await n8n.webhook("scout-transactions", { transactions: [txn("T-99")] });
      expect(response.status).toBe(403);
      const [count] = await db.query<{ n: number }>(
        "select count(*)::int as n from bronze.scout_transactions_raw where payload_raw like '%T-99%'",
      );
      expect(count!.n).toBe(0);
    });
  });

  describe("pipeline-trigger", () => {
    const waitForRun = async (id: string) => {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const [run] = await db.query<{
          status: string;
          logs: string | null;
          error_message: string | null;
          rows_processed: string | null;
        }>(
          "select status, logs, error_message, rows_processed::text from ip_workbench.job_runs where id = $1",
          [id],
        );
        if (run && (run.status === "completed" || run.status === "failed")) return run;
        if (Date.now() > deadline)
          throw new Error(`job run ${id} still ${run?.status} after 30 s\n${n8n.log()}`);
        await sleep(200);
      }
    };

    it("creates a job run, answers {job_run_id, status}, runs the SQL steps as the owner and completes the run", async () => {
      const response = await n8n.webhook(
        "pipeline-trigger",
        { pipeline_id: PIPELINE, triggered_by: OWNER },
        auth,
      );
      expect(response.status).toBe(202);
      const body = response.body as { job_run_id: string; status: string };
      expect(body).toEqual({ job_run_id: expect.stringMatching(/^[0-9a-f-]{36}$/), status: "pending" });
      const run = await waitForRun(body.job_run_id);
      expect(run.status).toBe("completed");
      expect(run.error_message).toBeNull();
      expect(run.logs).toMatch(/step 0 'count domains': SELECT 1 row\(s\)/);
      expect(run.logs).toMatch(/step 1 'describe': UPDATE 1 row\(s\)/);
      const [row] = await db.query(
        "select pipeline_id::text, triggered_by::text, stage, started_at is not null as started, completed_at is not null as completed from ip_workbench.job_runs where id = $1",
        [body.job_run_id],
      );
      expect(row).toEqual({
        pipeline_id: PIPELINE,
        triggered_by: OWNER,
        stage: "n8n",
        started: true,
        completed: true,
      });
      const [pipeline] = await db.query<{ description: string }>(
        "select description from ip_workbench.pipelines where id = $1",
        [PIPELINE],
      );
      expect(pipeline!.description).toBe("ran by n8n");
      // execute_sql logged the steps under the owner's identity.
      const history = await db.query<{ user_id: string; role: string }>(
        "select user_id::text, role from ip_workbench.query_history order by executed_at",
      );
      expect(history.length).toBeGreaterThanOrEqual(2);
      expect(history.every((h) => h.user_id === OWNER && h.role === "engineer")).toBe(true);
    });

    it("fails the run on a failing step and rolls back the steps before it", async () => {
      const response = await n8n.webhook("pipeline-trigger", { pipeline_id: BROKEN_PIPELINE }, auth);
      expect(response.status).toBe(202);
      const run = await waitForRun((response.body as { job_run_id: string }).job_run_id);
      expect(run.status).toBe("failed");
      expect(run.error_message).toMatch(/step 1 'fail' failed: .*division by zero/);
      const [pipeline] = await db.query<{ description: string | null }>(
        "select description from ip_workbench.pipelines where id = $1",
        [BROKEN_PIPELINE],
      );
      expect(pipeline!.description).toBeNull();
    });

    it.each([
      [{ pipeline_id: "not-a-uuid" }, 400, "pipeline_id must be the uuid of a pipeline"],
      [
        { pipeline_id: "c0000000-0000-4000-8000-0000000000ff" },
        404,
        "pipeline c0000000-0000-4000-8000-0000000000ff does not exist",
      ],
      [{ pipeline_id: DBT_PIPELINE }, 422, "has steps n8n cannot run: 0 'build silver' (dbt)"],
    ])("refuses %j with %i and creates no run", async (request, status, message) => {
      const before = await db.query<{ n: number }>("select count(*)::int as n from ip_workbench.job_runs");
      const response = await n8n.webhook("pipeline-trigger", request, auth);
      expect(response.status).toBe(status);
      expect((response.body as { error: string }).error).toContain(message);
      const after = await db.query<{ n: number }>("select count(*)::int as n from ip_workbench.job_runs");
      expect(after[0]!.n).toBe(before[0]!.n);
    });
  });

  describe("expense-approval", () => {
    it("auto-approves an expense under USD 5,000 without notifying anyone", async () => {
      const posted = mattermost.messages().length;
      for (const id of ["EX-00000001", "EX-00000004"]) {
        const response = await n8n.webhook("expense-approval", { expense_id: id }, auth);
        expect(response.status).toBe(200);
        expect(response.body).toMatchObject({
          expense_id: id,
          status: "auto_approved",
          threshold: 5000,
          notified: false,
        });
      }
      expect(mattermost.messages().length).toBe(posted);
      const rows = await db.query(
        "select expense_id, status, amount::text from ip_workbench.expense_approvals where expense_id in ('EX-00000001', 'EX-00000004') order by 1",
      );
      expect(rows).toEqual([
        { expense_id: "EX-00000001", status: "auto_approved", amount: "120.50" },
        { expense_id: "EX-00000004", status: "auto_approved", amount: "4999.99" },
      ]);
    });

    it("marks USD 5,000 and above pending and notifies Mattermost once", async () => {
      const posted = mattermost.messages().length;
      const response = await n8n.webhook("expense-approval", { expense_id: "EX-00000002" }, auth);
      expect(response).toEqual({
        status: 200,
        body: {
          expense_id: "EX-00000002",
          status: "pending_approval",
          amount: 7250,
          currency: "USD",
          threshold: 5000,
          notified: true,
        },
      });
      const messages = mattermost.messages().slice(posted);
      expect(messages).toHaveLength(1);
      expect(messages[0]!.text).toContain("EX-00000002");
      expect(messages[0]!.text).toContain("7250.00");
      expect(messages[0]!.text).toContain("Consult Co");

      // Exactly the threshold is not "under" it.
      const boundary = await n8n.webhook("expense-approval", { expense_id: "EX-00000003" }, auth);
      expect(boundary.body).toMatchObject({ status: "pending_approval", amount: 5000, notified: true });

      // Asking again does not notify again.
      const again = await n8n.webhook("expense-approval", { expense_id: "EX-00000002" }, auth);
      expect(again.body).toMatchObject({ status: "pending_approval", notified: true });
      expect(mattermost.messages().length).toBe(posted + 2);
      const [row] = await db.query(
        "select status, notified_at is not null as notified from ip_workbench.expense_approvals where expense_id = 'EX-00000002'",
      );
      expect(row).toEqual({ status: "pending_approval", notified: true });
    });

    it("never overwrites a human decision", async () => {
      const response = await n8n.webhook("expense-approval", { expense_id: "EX-00000005" }, auth);
      expect(response.body).toMatchObject({ expense_id: "EX-00000005", status: "rejected" });
    });

    it("answers 404 for an expense silver does not have, and 400 without an id", async () => {
      const missing = await n8n.webhook("expense-approval", { expense_id: "EX-404" }, auth);
      expect(missing.status).toBe(404);
      expect((missing.body as { error: string }).error).toContain("EX-404 is not in silver.silver_expenses");
      const bad = await n8n.webhook("expense-approval", {}, auth);
      expect(bad.status).toBe(400);
    });
  });

  describe("quality-alerts", () => {
    it("posts one Mattermost message naming every table under 80 % (webhook trigger)", async () => {
      const posted = mattermost.messages().length;
      const response = await n8n.webhook("quality-alerts", {});
      expect(response).toEqual({
        status: 200,
        body: {
          threshold: 80,
          count: 2,
          tables: ["silver.silver_products", "silver.silver_expenses"],
          notified: true,
        },
      });
      const messages = mattermost.messages().slice(posted);
      expect(messages).toHaveLength(1);
      expect(messages[0]!.text).toContain("silver.silver_products");
      expect(messages[0]!.text).toContain("silver.silver_expenses");
      expect(messages[0]!.text).not.toContain("gold.finance_expenses");
    });

    it("narrows to the table the catalog seeder names, and stays quiet when nothing is below", async () => {
      const posted = mattermost.messages().length;
      const seeded = await n8n.webhook("quality-alerts", {
        alert_type: "dq_below_threshold",
        table: "silver.silver_expenses",
        dbt_unique_id: "model.workbench.silver_expenses",
        score: 72.25,
        threshold: 80,
      });
      expect(seeded.body).toMatchObject({ count: 1, tables: ["silver.silver_expenses"] });
      const fine = await n8n.webhook("quality-alerts", { table: "gold.finance_expenses" });
      expect(fine.body).toMatchObject({ count: 0, tables: [], notified: false });
      expect(mattermost.messages().length).toBe(posted + 1);
    });

    it("also runs on a schedule (daily 08:00 UTC)", () => {
      const [file] = loadWorkflowFiles(join(REPO_ROOT, "n8n-workflows")).filter(
        (f) => f.file === "quality-alerts.json",
      );
      const schedule = file!.workflow.nodes.find((n) => n.type === "n8n-nodes-base.scheduleTrigger");
      expect(schedule?.parameters).toEqual({
        rule: { interval: [{ field: "cronExpression", expression: "0 8 * * *" }] },
      });
    });
  });

  describe("odoo-sync", () => {
    it("pulls posted vendor bills over XML-RPC into bronze.expenses_raw, idempotently", async () => {
      const first = await n8n.webhook("odoo-sync", {}, auth);
      if (first.status !== 200) console.log(await n8n.lastError());
      expect(first).toEqual({
        status: 200,
        body: { fetched: 2, inserted: 2, since: "", newest: "2026-11-20 09:30:00" },
      });

      const calls = odoo.calls();
      expect(calls[0]).toMatchObject({
        path: "/xmlrpc/2/common",
        method: "authenticate",
        params: [ODOO.db, ODOO.username, ODOO.apiKey, {}],
      });
      expect(calls[1]).toMatchObject({ path: "/xmlrpc/2/object", method: "execute_kw" });
      expect(calls[1]!.params.slice(3, 6)).toEqual([
        "account.move",
        "search_read",
        [
          [
            ["move_type", "=", "in_invoice"],
            ["state", "=", "posted"],
          ],
        ],
      ]);

      const rows = await db.query<{ source: string; batch_id: string; payload: Record<string, unknown> }>(
        "select source, batch_id, payload_raw::jsonb as payload from bronze.expenses_raw order by ingest_id",
      );
      expect(rows.map((r) => [r.source, r.batch_id])).toEqual([
        ["odoo", "odoo:account.move/101@2026-11-20 08:00:00"],
        ["odoo", "odoo:account.move/102@2026-11-20 09:30:00"],
      ]);
      expect(rows[0]!.payload).toMatchObject({
        expense_id: "ODOO-101",
        agency: "Department of Finance",
        vendor: "Vendor 101",
        category: "supplies",
        amount: 830.25,
        currency: "USD",
        expense_date: "2026-11-02",
      });
      // No category in Odoo: kept as null for silver to quarantine, with the Odoo record beside it.
      expect(rows[1]!.payload).toMatchObject({
        expense_id: "ODOO-102",
        category: null,
        odoo: { model: "account.move" },
      });

      // The next run asks only for what changed since the watermark, and lands nothing twice.
      const second = await n8n.webhook("odoo-sync", {}, auth);
      expect(second).toEqual({
        status: 200,
        body: { fetched: 1, inserted: 0, since: "2026-11-20 09:30:00", newest: "2026-11-20 09:30:00" },
      });
      const domain = odoo.calls()[3]!.params[5] as XmlRpcValue[][];
      expect(domain[0]).toContainEqual(["write_date", ">=", "2026-11-20 09:30:00"]);
      const [count] = await db.query<{ n: number }>("select count(*)::int as n from bronze.expenses_raw");
      expect(count!.n).toBe(2);
      // The API key went to Odoo, and neither into the workflow nor into the saved executions.
      const workflowId = outputs.deployed.find((d) => d.file === "odoo-sync.json")!.id;
      const client = new N8nApiClient(n8n.url, n8n.apiKey);
      expect(JSON.stringify(await client.getWorkflow(workflowId))).not.toContain(ODOO.apiKey);
      const executions = await fetch(
        `${n8n.url}/api/v1/executions?workflowId=${workflowId}&includeData=true&limit=5`,
        {
          headers: { "X-N8N-API-KEY": n8n.apiKey },
        },
      );
      const saved = await executions.text();
      expect(saved).toContain("ODOO-101");
      expect(saved).not.toContain(ODOO.apiKey);
    });
  });

  describe("updates", () => {
    it("re-deploys an edited file in place (same n8n id, new version, still active) and deletes a removed one", async () => {
      const dir = mkdtempSync(join(tmpdir(), "aiwb-n8n-workflows-"));
      try {
        cpSync(join(REPO_ROOT, "n8n-workflows"), dir, { recursive: true });
        rmSync(join(dir, "README.md"));
        const path = join(dir, "quality-alerts.json");
        const edited = JSON.parse(readFileSync(path, "utf8")) as { description: string };
        edited.description += " (edited)";
        writeFileSync(path, JSON.stringify(edited, null, 2));
        rmSync(join(dir, "odoo-sync.json"));
        const files = loadWorkflowFiles(dir);
        const news: WorkflowSetInputs = {
          ...inputs,
          directory: dir,
          workflows: files.map(({ file, checksum, workflow }) => ({
            file,
            id: workflow.id,
            name: workflow.name,
            checksum,
          })),
        };
        const diff = await workflowSetProvider.diff!("set", outputs, news);
        expect(diff).toMatchObject({ changes: true, replaces: [] });
        const updated = (await workflowSetProvider.update!("set", outputs, news)).outs as WorkflowSetOutputs;
        const before = new Map(outputs.deployed.map((d) => [d.file, d]));
        for (const d of updated.deployed) {
          expect(d.id).toBe(before.get(d.file)!.id);
          expect(d.active).toBe(true);
        }
        expect(updated.deployed.find((d) => d.file === "quality-alerts.json")!.versionId).not.toBe(
          before.get("quality-alerts.json")!.versionId,
        );
        const client = new N8nApiClient(n8n.url, n8n.apiKey);
        expect(await client.getWorkflow(before.get("odoo-sync.json")!.id)).toBeNull();
        const response = await n8n.webhook("quality-alerts", { table: "gold.finance_expenses" });
        expect(response.status).toBe(200);
        const unchanged = await workflowSetProvider.diff!("set", updated, news);
        expect(unchanged.changes).toBe(false);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
