/**
 * The five workflows in a real n8n (scripts/install-n8n's npm package, loopback):
 * deployed through the WorkflowSet provider (n8n's public API), then driven through their
 * webhooks against a scratch PostgreSQL database migrated with the project's migrations,
 * with Mattermost and Odoo as local stubs that record what they receive.
 *
 * n8n logs in as the database layer's n8n login does in every profile: a login created with
 * the LoginRole provider (generated password) that is a member of workbench_n8n only. It
 * keeps n8n's own tables in schema n8n (DB_POSTGRESDB_SCHEMA) and is the workflows'
 * Postgres credential, so every workflow below runs with exactly the grants of
 * sql/migrations/20261130001900_n8n_least_privilege.sql, never as the admin.
 *
 * One n8n for the whole file (about 7 s to start, 1-2 s to deploy), workflows imported once.
 */
import { createHmac, randomBytes } from "node:crypto";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyMigrations, loadMigrations } from "../../lib/postgres/migrations.ts";
import {
  loginRoleProvider,
  type LoginRoleInputs,
  type LoginRoleOutputs,
} from "../../components/database/login-role.ts";
import { AUTOMATION_GROUPS, n8nGrants } from "../../components/database/workbench-database.ts";
import { N8nApiClient } from "../../lib/n8n/api-client.ts";
import {
  TOKEN_WEBHOOKS,
  type TokenWebhook,
  WEBHOOK_TOKEN_HEADER,
  webhookCredentialSpecs,
} from "../../lib/n8n/webhook-credentials.ts";
import { loadWorkflowFiles, webhookPathsOf } from "../../lib/n8n/workflow-files.ts";
import {
  workflowSetProvider,
  type WorkflowSetInputs,
  type WorkflowSetOutputs,
} from "../../components/n8n/workflow-set.ts";
import { REPO_ROOT } from "../../lib/paths.ts";
import {
  n8nEdge,
  N8N_PAYLOAD_SIZE_MAX_BYTES,
  traefikFileConfig,
} from "../../components/kubernetes/n8n-edge.ts";
import { startN8n, type N8nInstance } from "../helpers/n8n-harness.ts";
import { startTraefik, type TraefikInstance } from "../helpers/traefik-harness.ts";
import { createScratchDatabase, type ScratchDatabase } from "../../lib/postgres/scratch-database.ts";
import {
  startMattermostStub,
  startOdooStub,
  type MattermostStub,
  type OdooFailure,
  type OdooStub,
  type XmlRpcValue,
} from "../helpers/stub-http.ts";

// One token per token webhook, and the Supabase JWT secret pipeline-trigger verifies
// callers' access tokens with (lib/n8n/webhook-credentials.ts).
const TOKENS: Record<TokenWebhook, string> = {
  "expense-approval": "test-expense-approval-token-0123456789",
  "odoo-sync": "test-odoo-sync-token-0123456789abcdef",
  "quality-alerts": "test-quality-alerts-token-0123456789",
  "scout-transactions": "test-scout-transactions-token-012345",
};
const JWT_SECRET = "test-supabase-jwt-secret-0123456789abcdef";
const tokenFor = (path: TokenWebhook) => ({ [WEBHOOK_TOKEN_HEADER]: TOKENS[path] });
const ODOO = { db: "odoo_prod", username: "n8n-sync@example.test", apiKey: "odoo-api-key-4f2a9c" };
// Users: one per app role, one without a role; UNKNOWN is signed for but not in auth.users.
const USERS = {
  viewer: "a0000000-0000-4000-8000-00000000e011",
  engineer: "a0000000-0000-4000-8000-00000000e012",
  admin: "a0000000-0000-4000-8000-00000000e013",
  service: "a0000000-0000-4000-8000-00000000e014",
  owner: "a0000000-0000-4000-8000-00000000e001",
  norole: "a0000000-0000-4000-8000-00000000e015",
} as const;
const UNKNOWN = "a0000000-0000-4000-8000-00000000e0ff";
const OWNER = USERS.owner;
const PIPELINE = "c0000000-0000-4000-8000-00000000e001";
const BROKEN_PIPELINE = "c0000000-0000-4000-8000-00000000e002";
const DBT_PIPELINE = "c0000000-0000-4000-8000-00000000e003";
// Owned by the admin: its step makes whoever runs it admin, if the run had admin rights.
const ADMIN_PIPELINE = "c0000000-0000-4000-8000-00000000e004";
const SLOW_PIPELINE = "c0000000-0000-4000-8000-00000000e005";

const b64url = (value: string | Buffer) => Buffer.from(value).toString("base64url");
/** An HS256 JWT as Supabase Auth issues them (or, with another secret, a forgery). */
function signJwt(claims: Record<string, unknown>, secret = JWT_SECRET): string {
  const now = Math.floor(Date.now() / 1000);
  const head = b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const body = b64url(JSON.stringify({ aud: "authenticated", iat: now, exp: now + 600, ...claims }));
  const signature = createHmac("sha256", secret).update(`${head}.${body}`).digest("base64url");
  return `${head}.${body}.${signature}`;
}
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const asUser = (sub: string, extra: Record<string, unknown> = {}) =>
  bearer(signJwt({ sub, role: "authenticated", ...extra }));

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
  let login: LoginRoleOutputs | undefined;
  let inputs: WorkflowSetInputs;
  let outputs: WorkflowSetOutputs;
  const auth = tokenFor("scout-transactions");

  beforeAll(async () => {
    db = await createScratchDatabase("n8n");
    await applyMigrations(db.connection, loadMigrations(join(REPO_ROOT, "sql/migrations")));
    // silver.expenses is a dbt model (dbt/models/silver/silver_expenses.sql); this
    // stand-in has its columns so the workflow reads what it reads in a built medallion.
    const users = Object.entries(USERS)
      .map(([role, id]) => `('${id}', '${role}@example.test')`)
      .join(", ");
    await db.query(`
      create table silver.expenses (
        expense_id text primary key, agency text, employee_id text, vendor text, category text,
        currency text, description text, amount numeric(14, 2), expense_date date,
        ingest_id bigint, batch_id text, received_at timestamptz
      );
      insert into silver.expenses (expense_id, agency, employee_id, vendor, category, currency, description, amount, expense_date, ingest_id, batch_id, received_at)
      values
        ('EX-00000001', 'DOF', 'E-1', 'Office Hub', 'supplies', 'USD', 'paper', 120.50, '2026-11-02', 1, 'b1', now()),
        ('EX-00000002', 'DOF', 'E-2', 'Consult Co', 'professional_services', 'USD', 'audit', 7250.00, '2026-11-03', 2, 'b1', now()),
        ('EX-00000003', 'DOF', 'E-3', 'Edge Corp', 'equipment', 'USD', 'laptop', 5000.00, '2026-11-04', 3, 'b1', now()),
        ('EX-00000004', 'DOF', 'E-4', 'Edge Corp', 'equipment', 'USD', 'dock', 4999.99, '2026-11-04', 4, 'b1', now()),
        ('EX-00000005', 'DOF', 'E-5', 'Big Vendor', 'equipment', 'USD', 'servers', 9000.00, '2026-11-05', 5, 'b1', now()),
        ('EX-EUR', 'DOF', 'E-6', 'Euro GmbH', 'travel', 'EUR', 'train', 4800.00, '2026-11-05', 6, 'b1', now()),
        ('EX-PHP', 'DOF', 'E-7', 'Manila Co', 'supplies', 'PHP', 'desks', 100000.00, '2026-11-05', 7, 'b1', now()),
        ('EX-NULL', 'DOF', 'E-8', 'Nobody', 'supplies', 'USD', 'no amount', null, '2026-11-05', 8, 'b1', now()),
        ('EX-NEG', 'DOF', 'E-9', 'Refunder', 'supplies', 'USD', 'refund', -40.00, '2026-11-05', 9, 'b1', now()),
        ('EX-DROP', 'DOF', 'E-10', 'Shrinker', 'equipment', 'USD', 'will shrink', 6400.00, '2026-11-05', 10, 'b1', now()),
        ('EX-RACE', 'DOF', 'E-11', 'Racer', 'equipment', 'USD', 'raced', 8000.00, '2026-11-05', 11, 'b1', now()),
        ('EX-DOWN', 'DOF', 'E-12', 'Unlucky', 'equipment', 'USD', 'mattermost down', 5600.00, '2026-11-05', 12, 'b1', now());
      -- what dbt's default privileges give the n8n role on silver (dbtGrants).
      grant select on silver.expenses to ${AUTOMATION_GROUPS.n8n};
      insert into ip_workbench.expense_approvals (expense_id, status, amount, currency, threshold, decided_at)
      values ('EX-00000005', 'rejected', 9000, 'USD', 5000, now());

      insert into auth.users (id, email) values ${users};
      insert into ip_workbench.user_roles (user_id, role) values
        ('${USERS.viewer}', 'viewer'), ('${USERS.engineer}', 'engineer'), ('${USERS.admin}', 'admin'),
        ('${USERS.service}', 'service'), ('${OWNER}', 'engineer');
      insert into ip_workbench.pipelines (id, name, owner) values
        ('${PIPELINE}', 'describe itself', '${OWNER}'),
        ('${BROKEN_PIPELINE}', 'broken second step', '${OWNER}'),
        ('${DBT_PIPELINE}', 'needs dbt', '${OWNER}'),
        ('${ADMIN_PIPELINE}', 'make the caller admin', '${USERS.admin}'),
        ('${SLOW_PIPELINE}', 'sleeps too long', '${OWNER}');
      insert into ip_workbench.pipeline_steps (pipeline_id, position, name, step_type, config) values
        ('${PIPELINE}', 0, 'count domains', 'sql', '{"sql": "select count(*) as n from ip_workbench.domains"}'),
        ('${PIPELINE}', 1, 'describe', 'sql', '{"sql": "update ip_workbench.pipelines set description = ''ran by n8n'' where id = ''${PIPELINE}''"}'),
        ('${BROKEN_PIPELINE}', 0, 'describe', 'sql', '{"sql": "update ip_workbench.pipelines set description = ''half done'' where id = ''${BROKEN_PIPELINE}''"}'),
        ('${BROKEN_PIPELINE}', 1, 'fail', 'sql', '{"sql": "select 1 / 0"}'),
        ('${DBT_PIPELINE}', 0, 'build silver', 'dbt', '{"select": "silver"}'),
        ('${ADMIN_PIPELINE}', 0, 'promote', 'sql', '{"sql": "update ip_workbench.user_roles set role = ''admin'' where user_id = auth.uid()"}'),
        ('${SLOW_PIPELINE}', 0, 'sleep', 'sql', '{"sql": "select pg_sleep(20) as slept"}');

      insert into ip_workbench.tables (schema_name, table_name, layer, dq_score, dbt_unique_id, owner_name) values
        ('gold', 'finance_expenses', 'gold', 97.5, 'model.workbench.gold_finance_expenses', 'finance'),
        ('silver', 'expenses', 'silver', 72.25, 'model.workbench.silver_expenses', 'data-eng'),
        ('silver', 'products', 'silver', 41, 'model.workbench.silver_products', null),
        ('bronze', 'expenses', 'bronze', null, 'model.workbench.bronze_expenses', null);
    `);

    // The n8n login, as WorkbenchDatabase creates it: a member of workbench_n8n only, with a
    // generated password (roles are cluster-wide: a name of its own per run).
    const loginInputs: LoginRoleInputs = {
      connection: db.connection,
      name: `wb_t${randomBytes(3).toString("hex")}_n8n`,
      connectionLimit: 10,
      memberOf: [AUTOMATION_GROUPS.n8n],
    };
    login = (await loginRoleProvider.create!(loginInputs)).outs as LoginRoleOutputs;
    for (const statement of n8nGrants(login.name).apply) await db.query(statement);

    mattermost = await startMattermostStub();
    odoo = await startOdooStub({
      ...ODOO,
      invoices: [
        invoice(101, 830.25, "2026-11-20 08:00:00"),
        invoice(102, 6400, "2026-11-20 09:30:00", { x_expense_category: false }),
      ],
    });
    n8n = await startN8n({
      database: {
        host: db.connection.host,
        port: db.connection.port,
        database: db.connection.database,
        user: login.name,
        password: login.password,
        schema: "n8n",
      },
      env: {
        MATTERMOST_WEBHOOK_URL: mattermost.webhookUrl,
        ODOO_URL: odoo.url,
        ODOO_DB: ODOO.db,
        ODOO_USERNAME: ODOO.username,
        ODOO_API_KEY: ODOO.apiKey,
        ODOO_TIMEOUT_SECONDS: "3",
        PIPELINE_STEP_TIMEOUT_SECONDS: "2",
        EXPENSE_APPROVAL_RATES: '{"PHP": 0.0175}',
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
            user: login.name,
            password: login.password,
            ssl: "disable",
          },
        },
        ...webhookCredentialSpecs(TOKENS, { secret: JWT_SECRET }),
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
    if (login) await loginRoleProvider.delete!(login.name, login);
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
      "httpHeaderAuth/Workbench Webhook Token (expense-approval)",
      "httpHeaderAuth/Workbench Webhook Token (odoo-sync)",
      "httpHeaderAuth/Workbench Webhook Token (quality-alerts)",
      "httpHeaderAuth/Workbench Webhook Token (scout-transactions)",
      "jwtAuth/Workbench Pipeline Trigger JWT",
      "postgres/Workbench Postgres",
    ]);
  });

  it("n8n and its workflows log in as the n8n login (a member of workbench_n8n only); n8n's tables are in schema n8n", async () => {
    const [role] = await db.query<{ flags: string; groups: string[] }>(
      `select concat_ws(',', r.rolsuper, r.rolbypassrls, r.rolcreaterole, r.rolcreatedb, r.rolinherit) as flags,
         array(select g.rolname::text from pg_auth_members as m join pg_roles as g on g.oid = m.roleid
               where m.member = r.oid order by 1) as groups
       from pg_roles as r where r.rolname = $1`,
      [login!.name],
    );
    // superuser, bypassrls, createrole, createdb: none; inherit: it holds workbench_n8n's rights.
    expect(role).toEqual({ flags: "f,f,f,f,t", groups: [AUTOMATION_GROUPS.n8n] });
    // Every connection n8n holds to this database is the n8n login's.
    const sessions = await db.query<{ usename: string }>(
      `select distinct usename::text from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`,
    );
    expect(sessions.map((s) => s.usename)).toEqual([login!.name]);
    const tables = await db.query<{ schemaname: string; owner: string; n: number }>(
      `select schemaname::text, tableowner::text as owner, count(*)::int as n from pg_tables
       where tableowner = $1 or (schemaname = 'n8n') group by 1, 2`,
      [login!.name],
    );
    expect(tables).toEqual([{ schemaname: "n8n", owner: login!.name, n: expect.any(Number) }]);
    expect(tables[0]!.n).toBeGreaterThan(10);
    const workflows = await db.query<{ n: number }>(`select count(*)::int as n from n8n.workflow_entity`);
    expect(workflows[0]!.n).toBe(5);
  });

  describe("webhook authentication", () => {
    const calls: [string, TokenWebhook | "pipeline-trigger", unknown][] = [
      ["scout-transactions", "scout-transactions", { transactions: [txn("T-AUTH")] }],
      ["expense-approval", "expense-approval", { expense_id: "EX-00000001" }],
      ["quality-alerts", "quality-alerts", {}],
      ["odoo-sync", "odoo-sync", {}],
      ["pipeline-trigger", "pipeline-trigger", { pipeline_id: PIPELINE }],
    ];

    it.each(calls)(
      "%s refuses a call without its credential, with another webhook's token, or with a guess",
      async (path, _own, body) => {
        const attempts: Record<string, string>[] = [
          {},
          { [WEBHOOK_TOKEN_HEADER]: "guessed-token-000000000000000000" },
          ...TOKEN_WEBHOOKS.filter((other) => other !== path).map((other) => tokenFor(other)),
        ];
        for (const headers of attempts) {
          const response = await n8n.webhook(path, body, headers);
          // pipeline-trigger wants a bearer token: without one n8n answers 401.
          expect(response.status, `${path} with ${JSON.stringify(Object.keys(headers))}`).toBe(
            path === "pipeline-trigger" ? 401 : 403,
          );
        }
        const [landed] = await db.query<{ n: number }>(
          "select count(*)::int as n from bronze.scout_transactions_raw where payload_raw like '%T-AUTH%'",
        );
        expect(landed!.n).toBe(0);
        const [approvals] = await db.query<{ n: number }>(
          "select count(*)::int as n from ip_workbench.expense_approvals where expense_id = 'EX-00000001'",
        );
        expect(approvals!.n).toBe(0);
        expect(mattermost.messages()).toHaveLength(0);
      },
    );

    it("pipeline-trigger refuses tokens that are forged, expired, or name no user", async () => {
      const before = await db.query<{ n: number }>("select count(*)::int as n from ip_workbench.job_runs");
      const forged = await n8n.webhook(
        "pipeline-trigger",
        { pipeline_id: PIPELINE },
        bearer(
          signJwt({ sub: USERS.admin, role: "authenticated" }, "not-the-project-secret-0123456789abcdef"),
        ),
      );
      expect(forged.status).toBe(403);
      const expired = await n8n.webhook(
        "pipeline-trigger",
        { pipeline_id: PIPELINE },
        bearer(signJwt({ sub: USERS.admin, role: "authenticated", exp: Math.floor(Date.now() / 1000) - 60 })),
      );
      expect(expired.status).toBe(403);
      // The service key is signed by the project too, but is no user.
      const serviceKey = await n8n.webhook(
        "pipeline-trigger",
        { pipeline_id: PIPELINE },
        bearer(signJwt({ role: "service_role" })),
      );
      expect(serviceKey.status).toBe(401);
      expect((serviceKey.body as { error: string }).error).toContain("names no user");
      const after = await db.query<{ n: number }>("select count(*)::int as n from ip_workbench.job_runs");
      expect(after[0]!.n).toBe(before[0]!.n);
    });

    it("rotates a webhook's token through the credentials: the old one stops working at once", async () => {
      const rotated = { ...TOKENS, "quality-alerts": "rotated-quality-alerts-token-987654321" };
      const news: WorkflowSetInputs = {
        ...inputs,
        credentials: [inputs.credentials[0]!, ...webhookCredentialSpecs(rotated, { secret: JWT_SECRET })],
      };
      const diff = await workflowSetProvider.diff!("set", outputs, news);
      expect(diff).toMatchObject({ changes: true, replaces: [] });
      const updated = (await workflowSetProvider.update!("set", outputs, news)).outs as WorkflowSetOutputs;
      try {
        const old = await n8n.webhook(
          "quality-alerts",
          { table: "gold.finance_expenses" },
          tokenFor("quality-alerts"),
        );
        expect(old.status).toBe(403);
        const fresh = await n8n.webhook(
          "quality-alerts",
          { table: "gold.finance_expenses" },
          { [WEBHOOK_TOKEN_HEADER]: rotated["quality-alerts"] },
        );
        expect(fresh).toMatchObject({ status: 200, body: { count: 0, notified: false } });
        // The other webhooks kept their tokens.
        const other = await n8n.webhook("expense-approval", {}, tokenFor("expense-approval"));
        expect(other.status).toBe(400);
      } finally {
        outputs = (await workflowSetProvider.update!("set", updated, inputs)).outs as WorkflowSetOutputs;
      }
      const back = await n8n.webhook(
        "quality-alerts",
        { table: "gold.finance_expenses" },
        tokenFor("quality-alerts"),
      );
      expect(back.status).toBe(200);
    });
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
          accepted: 3,
          flagged: 0,
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

      // Re-delivery of the same records: 200, nothing inserted twice.
      const again = await n8n.webhook("scout-transactions", batch, auth);
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ batch_id: "pos-01-20261101-001", inserted: 0, duplicate: true });
      const [count] = await db.query<{ n: number }>(
        "select count(*)::int as n from bronze.scout_transactions_raw",
      );
      expect(count!.n).toBe(3);
    });

    it("refuses the same batch id with other records with 409, never as a duplicate, and keeps the first delivery", async () => {
      const batch = {
        batch_id: "pos-01-20261101-002",
        source: "pos-01",
        transactions: [txn("T-4"), txn("T-5")],
      };
      expect((await n8n.webhook("scout-transactions", batch, auth)).status).toBe(200);
      const changed = { ...batch, transactions: [txn("T-4"), txn("T-5", { amount: 99 }), txn("T-6")] };
      const response = await n8n.webhook("scout-transactions", changed, auth);
      expect(response.status).toBe(409);
      expect(response.body).toMatchObject({ batch_id: "pos-01-20261101-002", inserted: 0, duplicate: false });
      expect((response.body as { error: string }).error).toContain(
        "was delivered before with other records (2 stored, 3 sent); nothing was stored",
      );
      const rows = await db.query<{ payload: { transaction_id: string; amount: number } }>(
        "select payload_raw::jsonb as payload from bronze.scout_transactions_raw where batch_id = $1 order by record_seq",
        ["pos-01-20261101-002"],
      );
      expect(rows.map((r) => [r.payload.transaction_id, r.payload.amount])).toEqual([
        ["T-4", 25],
        ["T-5", 25],
      ]);
      // Under a new batch id the records land.
      const resent = await n8n.webhook(
        "scout-transactions",
        { ...changed, batch_id: "pos-01-20261101-002b" },
        auth,
      );
      expect(resent.body).toMatchObject({ inserted: 3, duplicate: false });
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

    it("answers 422 with the reasons for flagged records, and still lands every record for silver to decide", async () => {
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
        accepted: 1,
        flagged: 4,
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
      expect(response.body).not.toHaveProperty("valid");
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

    it("answers 413 for a batch over the record limit, counting nothing as accepted and storing nothing", async () => {
      const transactions = Array.from({ length: 5001 }, (_, i) => txn(`T-BIG-${i}`));
      const response = await n8n.webhook("scout-transactions", { batch_id: "too-many", transactions }, auth);
      expect(response.status).toBe(413);
      expect(response.body).toMatchObject({ received: 5001, accepted: 0, flagged: 0, inserted: 0 });
      expect((response.body as { error: string }).error).toContain("send at most 5000 per request");
      const [count] = await db.query<{ n: number }>(
        "select count(*)::int as n from bronze.deliveries where batch_id = 'too-many'",
      );
      expect(count!.n).toBe(0);
    });

    it("answers 413 (not 500) for a body over 16 MiB, and stores nothing of it", async () => {
      const huge = {
        batch_id: "huge",
        transactions: [txn("T-HUGE", { note: "x".repeat(17 * 1024 * 1024) })],
      };
      const response = await n8n.webhook("scout-transactions", huge, auth);
      expect(response.status).toBe(413);
      expect((response.body as { error: string }).error).toMatch(
        /^the body has \d+ bytes; send at most 16777216 \(16 MiB\) per request \(nothing was stored\)$/,
      );
      const [count] = await db.query<{ n: number }>(
        "select count(*)::int as n from bronze.deliveries where batch_id = 'huge'",
      );
      expect(count!.n).toBe(0);
    });
  });

  // As users reach n8n: through Traefik, with the routes and body limit the N8n component
  // gives the cluster's Traefik (n8n-edge.ts renders both), both processes here being this n8n.
  describe("through the Traefik edge", () => {
    let edge: TraefikInstance;
    const limit = N8N_PAYLOAD_SIZE_MAX_BYTES;
    const webhookUrl = () => `${edge.url}/webhook/scout-transactions`;
    /** A JSON batch of exactly `bytes` bytes (one record, padded in a free-text field). */
    const batchOfBytes = (batchId: string, bytes: number) => {
      const head = JSON.stringify({ batch_id: batchId, transactions: [txn(`T-${batchId}`, { note: "" })] });
      const body = JSON.stringify({
        batch_id: batchId,
        transactions: [txn(`T-${batchId}`, { note: "x".repeat(bytes - Buffer.byteLength(head)) })],
      });
      expect(Buffer.byteLength(body)).toBe(bytes);
      return body;
    };
    const post = async (body: string | ReadableStream<Uint8Array>) => {
      const response = await fetch(webhookUrl(), {
        method: "POST",
        headers: { "content-type": "application/json", ...auth },
        body,
        signal: AbortSignal.timeout(120_000),
        ...(typeof body === "string" ? {} : { duplex: "half" }),
      } as RequestInit);
      return { status: response.status, text: await response.text() };
    };
    /** A body sent chunked (no Content-Length), as a streaming client sends it. */
    const chunked = (text: string) => {
      const bytes = Buffer.from(text);
      let offset = 0;
      return new ReadableStream<Uint8Array>({
        pull(controller) {
          if (offset >= bytes.length) return controller.close();
          controller.enqueue(bytes.subarray(offset, offset + 1024 * 1024));
          offset += 1024 * 1024;
        },
      });
    };
    const stored = async (batchId: string) => {
      const [count] = await db.query<{ n: number }>(
        "select count(*)::int as n from bronze.deliveries where batch_id = $1",
        [batchId],
      );
      return count!.n;
    };

    beforeAll(async () => {
      const routes = n8nEdge({ releaseName: "n8n", host: "127.0.0.1" });
      const config = traefikFileConfig(routes, { main: n8n.url, "webhook-processor": n8n.url }, "web");
      edge = await startTraefik(config, { entryPoint: "web", readyPath: "/healthz" });
    }, 600_000);

    afterAll(async () => {
      await edge?.stop();
    });

    it("passes a batch to the workflow", async () => {
      const response = await post(JSON.stringify({ batch_id: "edge-ok", transactions: [txn("T-EDGE-OK")] }));
      expect(response.status, `${response.text}\n${edge.log()}`).toBe(200);
      expect(JSON.parse(response.text)).toMatchObject({ received: 1, inserted: 1 });
      expect(await stored("edge-ok")).toBe(1);
    });

    it("lets a body of exactly n8n's limit through: the workflow answers 413 with its reason", async () => {
      const response = await post(batchOfBytes("edge-at-limit", limit));
      expect(response.status).toBe(413);
      expect(JSON.parse(response.text)).toMatchObject({
        error: `the body has ${limit} bytes; send at most 16777216 (16 MiB) per request (nothing was stored)`,
      });
      expect(await stored("edge-at-limit")).toBe(0);
    });

    it("answers 413 itself for one byte more, which n8n would answer 500", async () => {
      const response = await post(batchOfBytes("edge-over-limit", limit + 1));
      expect(response.status, `${response.text}\n${edge.log()}`).toBe(413);
      expect(response.text).not.toContain("nothing was stored");
      expect(await stored("edge-over-limit")).toBe(0);
    });

    it("answers 413 for a chunked body over the limit (no Content-Length to refuse it by)", async () => {
      const response = await post(chunked(batchOfBytes("edge-chunked-over", limit + 1024 * 1024)));
      expect(response.status, `${response.text}\n${edge.log()}`).toBe(413);
      expect(await stored("edge-chunked-over")).toBe(0);
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
          triggered_by: string | null;
        }>(
          "select status, logs, error_message, rows_processed::text, triggered_by::text from ip_workbench.job_runs where id = $1",
          [id],
        );
        if (run && (run.status === "completed" || run.status === "failed")) return run;
        if (Date.now() > deadline)
          throw new Error(`job run ${id} still ${run?.status} after 30 s\n${n8n.log()}`);
        await sleep(200);
      }
    };
    const runCount = async () =>
      (await db.query<{ n: number }>("select count(*)::int as n from ip_workbench.job_runs"))[0]!.n;
    const roleOf = async (id: string) =>
      (
        await db.query<{ role: string | null }>(
          "select (select role from ip_workbench.user_roles where user_id = $1) as role",
          [id],
        )
      )[0]!.role;

    it("creates a job run for the caller, answers {job_run_id, status}, runs the SQL steps with the caller's rights", async () => {
      const response = await n8n.webhook("pipeline-trigger", { pipeline_id: PIPELINE }, asUser(OWNER));
      expect(response.status).toBe(202);
      const body = response.body as { job_run_id: string; status: string };
      expect(body).toEqual({
        job_run_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        status: "pending",
        triggered_by: OWNER,
      });
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
    });

    it("ignores nobody's word for who runs it: a body naming another user is refused", async () => {
      const before = await runCount();
      const response = await n8n.webhook(
        "pipeline-trigger",
        { pipeline_id: ADMIN_PIPELINE, triggered_by: USERS.admin },
        asUser(USERS.viewer),
      );
      expect(response.status).toBe(400);
      expect((response.body as { error: string }).error).toContain("triggered_by is the token's user");
      expect(await runCount()).toBe(before);
    });

    // sql/MATRIX.md: starting a run (Retry Failed Jobs, insert job_runs) is engineer (as
    // themselves), admin and service; viewers and users without a role are refused. The
    // admin-owned pipeline's step would make the caller admin if it ran with the owner's
    // rights; it runs with the caller's, so only an admin "becomes" admin.
    it.each([
      ["viewer", USERS.viewer, 403, "role viewer may not run pipelines"],
      ["no role", USERS.norole, 403, `user ${USERS.norole} has no app role`],
      ["unknown user", UNKNOWN, 403, `user ${UNKNOWN} does not exist`],
    ])("refuses a %s, creates no run and runs nothing", async (_label, user, status, message) => {
      const before = await runCount();
      const response = await n8n.webhook("pipeline-trigger", { pipeline_id: ADMIN_PIPELINE }, asUser(user));
      expect(response.status).toBe(status);
      expect((response.body as { error: string }).error).toContain(message);
      expect(await runCount()).toBe(before);
      expect(await roleOf(user)).not.toBe("admin");
    });

    it.each([
      ["engineer", USERS.engineer, "engineer", "UPDATE 0 row(s)"],
      ["service", USERS.service, "service", "UPDATE 0 row(s)"],
      ["admin", USERS.admin, "admin", "UPDATE 1 row(s)"],
    ])(
      "runs another user's pipeline for a %s with that %s's rights only",
      async (_label, user, roleAfter, log) => {
        const response = await n8n.webhook("pipeline-trigger", { pipeline_id: ADMIN_PIPELINE }, asUser(user));
        expect(response.status).toBe(202);
        const run = await waitForRun((response.body as { job_run_id: string }).job_run_id);
        expect(run).toMatchObject({ status: "completed", triggered_by: user });
        expect(run.logs).toContain(`step 0 'promote': ${log}`);
        // The step could not promote an engineer or the service account: RLS let them touch no row.
        expect(await roleOf(user)).toBe(roleAfter);
        const history = await db.query<{ user_id: string; role: string }>(
          "select user_id::text, role from ip_workbench.query_history where sql like '%set role = ''admin''%' order by executed_at desc limit 1",
        );
        expect(history[0]).toEqual({ user_id: user, role: roleAfter });
      },
    );

    it("an engineer's run of another engineer's pipeline cannot edit that pipeline", async () => {
      await db.query("update ip_workbench.pipelines set description = null where id = $1", [PIPELINE]);
      const response = await n8n.webhook(
        "pipeline-trigger",
        { pipeline_id: PIPELINE },
        asUser(USERS.engineer),
      );
      expect(response.status).toBe(202);
      const run = await waitForRun((response.body as { job_run_id: string }).job_run_id);
      expect(run.status).toBe("completed");
      expect(run.logs).toMatch(/step 1 'describe': UPDATE 0 row\(s\)/);
      const [pipeline] = await db.query<{ description: string | null }>(
        "select description from ip_workbench.pipelines where id = $1",
        [PIPELINE],
      );
      expect(pipeline!.description).toBeNull();
    });

    it("fails the run on a failing step and rolls back the steps before it", async () => {
      const response = await n8n.webhook("pipeline-trigger", { pipeline_id: BROKEN_PIPELINE }, asUser(OWNER));
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

    it("reports a step that runs out of time as a timeout, not as its SQL", async () => {
      const response = await n8n.webhook("pipeline-trigger", { pipeline_id: SLOW_PIPELINE }, asUser(OWNER));
      expect(response.status).toBe(202);
      const run = await waitForRun((response.body as { job_run_id: string }).job_run_id);
      expect(run.status).toBe("failed");
      expect(run.error_message).toMatch(/^step 0 'sleep' failed: timed out/);
      expect(run.error_message).not.toContain("pg_sleep");
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
      const before = await runCount();
      const response = await n8n.webhook("pipeline-trigger", request, asUser(OWNER));
      expect(response.status).toBe(status);
      expect((response.body as { error: string }).error).toContain(message);
      expect(await runCount()).toBe(before);
    });
  });

  describe("expense-approval", () => {
    const approve = (expense_id: string) =>
      n8n.webhook("expense-approval", { expense_id }, tokenFor("expense-approval"));

    it("auto-approves an expense under USD 5,000 without notifying anyone", async () => {
      const posted = mattermost.messages().length;
      for (const id of ["EX-00000001", "EX-00000004"]) {
        const response = await approve(id);
        expect(response.status).toBe(200);
        expect(response.body).toMatchObject({
          expense_id: id,
          status: "auto_approved",
          threshold: 5000,
          threshold_currency: "USD",
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
      const response = await approve("EX-00000002");
      expect(response).toEqual({
        status: 200,
        body: {
          expense_id: "EX-00000002",
          status: "pending_approval",
          amount: 7250,
          currency: "USD",
          amount_converted: 7250,
          threshold: 5000,
          threshold_currency: "USD",
          notified: true,
          reopened: false,
        },
      });
      const messages = mattermost.messages().slice(posted);
      expect(messages).toHaveLength(1);
      expect(messages[0]!.text).toContain("EX-00000002");
      expect(messages[0]!.text).toContain("7250.00");
      expect(messages[0]!.text).toContain("Consult Co");

      // Exactly the threshold is not "under" it.
      const boundary = await approve("EX-00000003");
      expect(boundary.body).toMatchObject({ status: "pending_approval", amount: 5000, notified: true });

      // Asking again does not notify again.
      const again = await approve("EX-00000002");
      expect(again.body).toMatchObject({ status: "pending_approval", notified: true });
      expect(mattermost.messages().length).toBe(posted + 2);
    });

    it("converts a currency it has a rate for, and refuses one it has none for (never compares EUR with USD)", async () => {
      const php = await approve("EX-PHP");
      expect(php).toMatchObject({
        status: 200,
        body: {
          status: "auto_approved",
          amount: 100000,
          currency: "PHP",
          amount_converted: 1750,
          threshold_currency: "USD",
        },
      });
      const eur = await approve("EX-EUR");
      expect(eur.status).toBe(422);
      expect((eur.body as { error: string }).error).toBe(
        "expense EX-EUR is in EUR, the approval threshold is in USD, and no EUR rate is configured (EXPENSE_APPROVAL_RATES)",
      );
      const [row] = await db.query<{ n: number }>(
        "select count(*)::int as n from ip_workbench.expense_approvals where expense_id = 'EX-EUR'",
      );
      expect(row!.n).toBe(0);
    });

    it.each([
      ["EX-NULL", "has no amount (NULL)"],
      ["EX-NEG", "has a negative amount (-40.00)"],
    ])("refuses %s with 422 and records nothing", async (id, message) => {
      const response = await approve(id);
      expect(response.status).toBe(422);
      expect((response.body as { error: string }).error).toContain(message);
      const [row] = await db.query<{ n: number }>(
        "select count(*)::int as n from ip_workbench.expense_approvals where expense_id = $1",
        [id],
      );
      expect(row!.n).toBe(0);
    });

    it("keeps a human decision for its amount, and re-opens review (never auto-approves) when the amount changes", async () => {
      const kept = await approve("EX-00000005");
      expect(kept.body).toMatchObject({ expense_id: "EX-00000005", status: "rejected", notified: false });

      const posted = mattermost.messages().length;
      await db.query("update silver.expenses set amount = 120 where expense_id = 'EX-00000005'");
      const changed = await approve("EX-00000005");
      expect(changed.body).toMatchObject({
        status: "pending_approval",
        amount: 120,
        reopened: true,
        notified: true,
      });
      const [row] = await db.query(
        "select status, previous_status, previous_amount::text from ip_workbench.expense_approvals where expense_id = 'EX-00000005'",
      );
      expect(row).toEqual({
        status: "pending_approval",
        previous_status: "rejected",
        previous_amount: "9000.00",
      });
      const messages = mattermost.messages().slice(posted);
      expect(messages).toHaveLength(1);
      expect(messages[0]!.text).toContain("needs approval again");
    });

    it("keeps a notified pending expense pending when its amount drops under the threshold", async () => {
      const first = await approve("EX-DROP");
      expect(first.body).toMatchObject({ status: "pending_approval", notified: true });
      await db.query("update silver.expenses set amount = 10 where expense_id = 'EX-DROP'");
      const dropped = await approve("EX-DROP");
      expect(dropped.body).toMatchObject({ status: "pending_approval", amount: 10, reopened: true });
    });

    it("notifies the approvers exactly once when first calls race", async () => {
      const posted = mattermost.messages().length;
      // A slow Mattermost keeps the window between deciding and posting wide open.
      mattermost.delay(400);
      const answers = await Promise.all(Array.from({ length: 8 }, () => approve("EX-RACE"))).finally(() =>
        mattermost.delay(0),
      );
      for (const answer of answers) expect(answer.body).toMatchObject({ status: "pending_approval" });
      const messages = mattermost
        .messages()
        .slice(posted)
        .filter((m) => m.text.includes("EX-RACE"));
      expect(messages).toHaveLength(1);
    });

    it("answers 502 with the cause when Mattermost fails, and the next call posts the notification", async () => {
      mattermost.failWith(503);
      try {
        const failed = await approve("EX-DOWN");
        expect(failed.status).toBe(502);
        expect(failed.body).toMatchObject({ status: "pending_approval", notified: false });
        expect((failed.body as { error: string }).error).toMatch(
          /Mattermost did not take the approvers' notification: .*503/,
        );
      } finally {
        mattermost.failWith(null);
      }
      const posted = mattermost.messages().length;
      const retried = await approve("EX-DOWN");
      expect(retried).toMatchObject({ status: 200, body: { status: "pending_approval", notified: true } });
      expect(
        mattermost
          .messages()
          .slice(posted)
          .filter((m) => m.text.includes("EX-DOWN")),
      ).toHaveLength(1);
    });

    it("answers 404 for an expense silver does not have, and 400 without an id", async () => {
      const missing = await approve("EX-404");
      expect(missing.status).toBe(404);
      expect((missing.body as { error: string }).error).toContain("EX-404 is not in silver.expenses");
      const bad = await n8n.webhook("expense-approval", {}, tokenFor("expense-approval"));
      expect(bad.status).toBe(400);
    });
  });

  describe("quality-alerts", () => {
    const alert = (body: unknown) => n8n.webhook("quality-alerts", body, tokenFor("quality-alerts"));

    it("posts one Mattermost message naming every table under 80 % (webhook trigger)", async () => {
      const posted = mattermost.messages().length;
      const response = await alert({});
      expect(response).toEqual({
        status: 200,
        body: {
          threshold: 80,
          count: 2,
          tables: ["silver.products", "silver.expenses"],
          notified: true,
        },
      });
      const messages = mattermost.messages().slice(posted);
      expect(messages).toHaveLength(1);
      expect(messages[0]!.text).toContain("silver.products");
      expect(messages[0]!.text).toContain("silver.expenses");
      expect(messages[0]!.text).not.toContain("gold.finance_expenses");
    });

    it("narrows to the table the catalog seeder names, and stays quiet when nothing is below", async () => {
      const posted = mattermost.messages().length;
      const seeded = await alert({
        alert_type: "dq_below_threshold",
        table: "silver.expenses",
        dbt_unique_id: "model.workbench.silver_expenses",
        score: 72.25,
        threshold: 80,
      });
      expect(seeded.body).toMatchObject({ count: 1, tables: ["silver.expenses"], notified: true });
      const fine = await alert({ table: "gold.finance_expenses" });
      expect(fine.body).toMatchObject({ count: 0, tables: [], notified: false });
      expect(mattermost.messages().length).toBe(posted + 1);
    });

    it("rate-limits Mattermost: a caller looping on the same alert posts it once an hour", async () => {
      const posted = mattermost.messages().length;
      const answers = await Promise.all(
        Array.from({ length: 10 }, () => alert({ table: "silver.products" })),
      );
      expect(mattermost.messages().length).toBe(posted + 1);
      const suppressed = answers.filter((a) => (a.body as { notified: boolean }).notified === false);
      expect(suppressed).toHaveLength(9);
      expect((suppressed[0]!.body as { suppressed: string }).suppressed).toMatch(
        /^the same alert was posted at .* UTC; it is repeated after 01:00:00$/,
      );
    });

    it("rate-limits Mattermost per channel: at most 12 posts an hour, whatever the alert", async () => {
      await db.query(
        "insert into private.notification_log (channel, topic) select 'mattermost', 'filler-' || g from generate_series(1, 12) as g",
      );
      const posted = mattermost.messages().length;
      await db.query("delete from private.notification_log where topic = 'silver.products,silver.expenses'");
      const response = await alert({});
      expect(response.body).toMatchObject({ count: 2, notified: false });
      expect((response.body as { suppressed: string }).suppressed).toMatch(
        /posts to mattermost in the last hour, the most allowed$/,
      );
      expect(mattermost.messages().length).toBe(posted);
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
    const sync = () => n8n.webhook("odoo-sync", {}, tokenFor("odoo-sync"));

    it("pulls posted vendor bills over XML-RPC into bronze.expenses_raw, idempotently", async () => {
      const first = await sync();
      if (first.status !== 200) console.log(await n8n.lastError());
      expect(first).toEqual({
        status: 200,
        body: {
          fetched: 2,
          inserted: 2,
          quarantined: [],
          redelivered: [],
          since: { write_date: "", id: 0 },
          cursor: { at: "2026-11-20 09:30:00", id: 102 },
          more: false,
        },
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
      expect(calls[1]!.params[6]).toMatchObject({ order: "write_date asc, id asc", limit: 500 });

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

      // The next run asks only for what comes after the cursor (write_date, id), and lands nothing twice.
      const second = await sync();
      expect(second).toMatchObject({
        status: 200,
        body: { fetched: 0, inserted: 0, since: { write_date: "2026-11-20 09:30:00", id: 102 }, more: false },
      });
      const domain = odoo.calls()[3]!.params[5] as XmlRpcValue[][];
      expect(domain[0]).toEqual([
        ["move_type", "=", "in_invoice"],
        ["state", "=", "posted"],
        "|",
        ["write_date", ">", "2026-11-20 09:30:00"],
        "&",
        ["write_date", "=", "2026-11-20 09:30:00"],
        ["id", ">", 102],
      ]);
      const [count] = await db.query<{ n: number }>("select count(*)::int as n from bronze.expenses_raw");
      expect(count!.n).toBe(2);
      // The API key went to Odoo, and neither into the workflow nor into the saved executions.
      const workflowId = outputs.deployed.find((d) => d.file === "odoo-sync.json")!.id;
      const client = new N8nApiClient(n8n.url, n8n.apiKey);
      expect(JSON.stringify(await client.getWorkflow(workflowId))).not.toContain(ODOO.apiKey);
      const executions = await fetch(
        `${n8n.url}/api/v1/executions?workflowId=${workflowId}&includeData=true&limit=5`,
        { headers: { "X-N8N-API-KEY": n8n.apiKey } },
      );
      const saved = await executions.text();
      expect(saved).toContain("ODOO-101");
      expect(saved).not.toContain(ODOO.apiKey);
    });

    it("gets through more than two pages of invoices sharing one write_date, quarantines bad write_dates, and lands each invoice exactly once", async () => {
      const sameSecond = "2026-11-21 10:00:00";
      const block = Array.from({ length: 1050 }, (_, i) => invoice(1000 + i, 100 + i, sameSecond));
      odoo.invoices.push(
        ...block,
        invoice(3001, 55, "not a date"),
        invoice(3002, 66, false as unknown as string),
      );
      const answers: { fetched: number; inserted: number; more: boolean; quarantined: unknown[] }[] = [];
      for (let run = 0; run < 8; run += 1) {
        const response = await sync();
        expect(response.status, JSON.stringify(response.body)).toBe(200);
        answers.push(response.body as (typeof answers)[number]);
        if (!(response.body as { more: boolean }).more) break;
      }
      // 500 + 500 + 50 of the block (with the two bad ones in the third page), then only the bad ones.
      expect(answers.map((a) => [a.fetched, a.inserted, a.more])).toEqual([
        [500, 500, true],
        [500, 500, true],
        [52, 50, false],
      ]);
      // Ordered as the stub orders them: false, then "not a date", after every real date.
      expect(answers[2]!.quarantined).toEqual([
        {
          record: "account.move/3002",
          reason: `write_date false is not a 'YYYY-MM-DD HH:MM:SS' timestamp`,
          new: true,
        },
        {
          record: "account.move/3001",
          reason: `write_date "not a date" is not a 'YYYY-MM-DD HH:MM:SS' timestamp`,
          new: true,
        },
      ]);
      const landed = await db.query<{ id: string; n: number }>(
        "select payload_raw::jsonb ->> 'expense_id' as id, count(*)::int as n from bronze.expenses_raw group by 1 order by 1",
      );
      expect(landed).toHaveLength(2 + 1050);
      expect(landed.every((r) => r.n === 1)).toBe(true);
      expect(landed.some((r) => r.id === "ODOO-3001" || r.id === "ODOO-3002")).toBe(false);
      const [cursor] = await db.query(
        "select to_char(cursor_at, 'YYYY-MM-DD HH24:MI:SS') as at, cursor_id::int as id from bronze.sync_cursors where source = 'odoo'",
      );
      expect(cursor).toEqual({ at: sameSecond, id: 2049 });
      // Running again finds only the quarantined ones, which neither land nor move the cursor.
      const again = await sync();
      expect(again.body).toMatchObject({
        fetched: 2,
        inserted: 0,
        cursor: { at: sameSecond, id: 2049 },
        more: false,
      });
      const quarantine = await db.query(
        "select record_key, seen_count from bronze.sync_quarantine order by record_key",
      );
      expect(quarantine).toEqual([
        { record_key: "account.move/3001", seen_count: 2 },
        { record_key: "account.move/3002", seen_count: 2 },
      ]);
    });

    it.each([
      [
        { fault: "Access to account.move denied" },
        502,
        /^Odoo failed at search_read: Access to account.move denied;/,
      ],
      [{ httpStatus: 500 }, 502, /^Odoo failed at search_read: .*500/],
      [{ delayMs: 6000 }, 504, /^Odoo did not answer search_read in time/],
    ])(
      "answers an Odoo failure (%j) with %i and the cause, landing nothing",
      async (failure, status, message) => {
        const [before] = await db.query<{ n: number }>("select count(*)::int as n from bronze.expenses_raw");
        odoo.invoices.push(invoice(4000 + status, 10, "2026-11-22 00:00:00"));
        odoo.fail(failure as OdooFailure);
        try {
          const response = await sync();
          expect(response.status).toBe(status);
          expect((response.body as { error: string }).error).toMatch(message);
        } finally {
          odoo.fail(null);
          odoo.invoices.pop();
        }
        const [after] = await db.query<{ n: number }>("select count(*)::int as n from bronze.expenses_raw");
        expect(after!.n).toBe(before!.n);
      },
    );
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
        const response = await n8n.webhook(
          "quality-alerts",
          { table: "gold.finance_expenses" },
          tokenFor("quality-alerts"),
        );
        expect(response.status).toBe(200);
        const unchanged = await workflowSetProvider.diff!("set", updated, news);
        expect(unchanged.changes).toBe(false);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
