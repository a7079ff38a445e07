/**
 * Static checks of n8n-workflows/*.json (every connection names a node, node types and
 * versions are known, credentials by name only, webhook paths unique, ids fixed), the
 * logic of their Code nodes run on their own, their agreement with the dbt project, and
 * the N8n component's workflow deployment (Pulumi mocks).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import {
  ALLOWED_NODE_TYPES,
  duplicateWebhookPaths,
  loadWorkflowFiles,
  referencedCredentials,
  toApiWorkflow,
  webhookAuthenticationProblems,
  workflowProblems,
  type N8nWorkflow,
  type WorkflowFile,
} from "../../lib/n8n/workflow-files.ts";
import {
  PIPELINE_TRIGGER_JWT_CREDENTIAL,
  TOKEN_WEBHOOKS,
  WEBHOOK_TOKEN_HEADER,
  webhookCredentialSpecs,
  webhookTokenCredentialName,
} from "../../lib/n8n/webhook-credentials.ts";
import { workflowSetProvider, type WorkflowSetOutputs } from "../../components/n8n/workflow-set.ts";
import { REPO_ROOT } from "../../lib/paths.ts";
import { FAKE_KUBECONFIG, installMocks, isSecretInput, type MockRecorder } from "../helpers/pulumi-mocks.ts";
import { parseMethodCall, xmlRpcValue } from "../helpers/stub-http.ts";

const DIR = join(REPO_ROOT, "n8n-workflows");
const files = loadWorkflowFiles(DIR);
const byFile = (name: string) => files.find((f) => f.file === name) as WorkflowFile;
const nodeOf = (file: string, name: string) => {
  const node = byFile(file).workflow.nodes.find((n) => n.name === name);
  if (!node) throw new Error(`${file} has no node '${name}'`);
  return node;
};

/** Runs a Code node's JavaScript the way n8n does (`$input`, `$('Node')`), without n8n. */
function runCode(file: string, name: string, input: unknown[], nodes: Record<string, unknown[]> = {}) {
  const code = nodeOf(file, name).parameters["jsCode"] as string;
  const items = (list: unknown[]) => ({
    first: () => ({ json: list[0] }),
    all: () => list.map((json) => ({ json })),
  });
  const $ = (node: string) => {
    if (!(node in nodes)) throw new Error(`test gave no output for node '${node}'`);
    return { ...items(nodes[node] as unknown[]), isExecuted: true };
  };
  return (
    new Function("$input", "$", code) as (i: unknown, d: unknown) => { json: Record<string, unknown> }[]
  )(items(input), $);
}

/** The installed n8n's node catalogue (type -> versions), when scripts/install-n8n has run. */
function installedNodeTypes(): Map<string, number[]> | null {
  const script = readFileSync(join(REPO_ROOT, "scripts/install-n8n"), "utf8");
  const version = /AIWB_N8N_VERSION:-([0-9.]+)/.exec(script)?.[1];
  const cache =
    process.env["AIWB_CACHE"] ??
    join(process.env["XDG_CACHE_HOME"] ?? join(process.env["HOME"] ?? "", ".cache"), "ai-workbench");
  const catalogue = join(cache, "n8n", version ?? "?", "node_modules/n8n-nodes-base/dist/types/nodes.json");
  if (!existsSync(catalogue)) return null;
  const types = new Map<string, number[]>();
  for (const node of JSON.parse(readFileSync(catalogue, "utf8")) as {
    name: string;
    version: number | number[];
  }[]) {
    const type = `n8n-nodes-base.${node.name}`;
    types.set(type, [...(types.get(type) ?? []), ...[node.version].flat()]);
  }
  return types;
}

describe("n8n-workflows/", () => {
  it("holds the five seed workflows, with fixed, distinct ids and names", () => {
    expect(files.map((f) => [f.file, f.workflow.id])).toEqual([
      ["expense-approval.json", "wbExpenseAppr001"],
      ["odoo-sync.json", "wbOdooSync000001"],
      ["pipeline-trigger.json", "wbPipelineTrig01"],
      ["quality-alerts.json", "wbQualityAlert01"],
      ["real-time-transactions.json", "wbRealTimeTxns01"],
    ]);
    expect(new Set(files.map((f) => f.workflow.name)).size).toBe(5);
  });

  it.each(files.map((f) => [f.file, f] as const))("%s passes the static checks", (_name, file) => {
    expect(workflowProblems(file.file, file.workflow)).toEqual([]);
  });

  it("every node type and version is one the installed n8n has (skipped without the cached install)", (context) => {
    const installed = installedNodeTypes();
    if (!installed) {
      context.skip();
      return;
    }
    for (const [type, versions] of Object.entries(ALLOWED_NODE_TYPES)) {
      for (const version of versions)
        expect(installed.get(type) ?? [], `${type} ${version}`).toContain(version);
    }
    for (const file of files) expect(workflowProblems(file.file, file.workflow, installed)).toEqual([]);
  });

  it("has no webhook path twice", () => {
    expect(duplicateWebhookPaths(files)).toEqual([]);
    const paths = files.flatMap((f) =>
      f.workflow.nodes
        .filter((n) => n.type === "n8n-nodes-base.webhook")
        .map((n) => `${f.file}: ${String(n.parameters["path"])}`),
    );
    expect(paths).toEqual([
      "expense-approval.json: expense-approval",
      "odoo-sync.json: odoo-sync",
      "pipeline-trigger.json: pipeline-trigger",
      "quality-alerts.json: quality-alerts",
      "real-time-transactions.json: scout-transactions",
    ]);
  });

  it("references credentials by name only: Postgres, one per webhook, and SMTP on the disabled email node", () => {
    expect(referencedCredentials(files)).toEqual([
      { name: "Workbench Webhook Token (expense-approval)", type: "httpHeaderAuth" },
      { name: "Workbench Webhook Token (odoo-sync)", type: "httpHeaderAuth" },
      { name: "Workbench Webhook Token (quality-alerts)", type: "httpHeaderAuth" },
      { name: "Workbench Webhook Token (scout-transactions)", type: "httpHeaderAuth" },
      { name: "Workbench Pipeline Trigger JWT", type: "jwtAuth" },
      { name: "Workbench Postgres", type: "postgres" },
    ]);
    // What the stack creates is exactly what the workflows reference.
    const specs = webhookCredentialSpecs(
      Object.fromEntries(
        TOKEN_WEBHOOKS.map((path) => [path, `token-for-${path}-0123456789abcdef`]),
      ) as Record<(typeof TOKEN_WEBHOOKS)[number], string>,
      { secret: "s".repeat(32) },
    );
    expect(
      specs
        .map((spec) => ({ name: spec.name, type: spec.type }))
        .sort((a, b) => a.name.localeCompare(b.name)),
    ).toEqual(
      referencedCredentials(files)
        .filter((ref) => ref.type !== "postgres")
        .sort((a, b) => a.name.localeCompare(b.name)),
    );
    const text = files.map((f) => readFileSync(join(DIR, f.file), "utf8")).join("\n");
    expect(text).not.toMatch(/"password"\s*:/);
    expect(text).not.toMatch(/"id"\s*:\s*"[^"]+",\s*"name"\s*:\s*"Workbench/);
    expect(nodeOf("quality-alerts.json", "Email data engineering")).toMatchObject({
      disabled: true,
      credentials: { smtp: { name: "Workbench SMTP" } },
    });
  });

  it("authenticates every webhook, each with a credential of its own; pipeline-trigger with the caller's signed token", () => {
    const auth = Object.fromEntries(
      files.flatMap((f) =>
        f.workflow.nodes
          .filter((n) => n.type === "n8n-nodes-base.webhook")
          .map((n) => [
            n.parameters["path"],
            [n.parameters["authentication"], Object.values(n.credentials ?? {})[0]?.name],
          ]),
      ),
    );
    expect(auth).toEqual({
      "expense-approval": ["headerAuth", webhookTokenCredentialName("expense-approval")],
      "odoo-sync": ["headerAuth", webhookTokenCredentialName("odoo-sync")],
      "pipeline-trigger": ["jwtAuth", PIPELINE_TRIGGER_JWT_CREDENTIAL],
      "quality-alerts": ["headerAuth", webhookTokenCredentialName("quality-alerts")],
      "scout-transactions": ["headerAuth", webhookTokenCredentialName("scout-transactions")],
    });
    expect(webhookAuthenticationProblems(files)).toEqual([]);
  });

  it("webhookAuthenticationProblems names an open webhook and a shared credential", () => {
    const open = JSON.parse(JSON.stringify(byFile("quality-alerts.json"))) as WorkflowFile;
    const hook = open.workflow.nodes.find((n) => n.name === "Quality alert")!;
    hook.parameters["authentication"] = "none";
    const shared = JSON.parse(JSON.stringify(byFile("odoo-sync.json"))) as WorkflowFile;
    shared.workflow.nodes.find((n) => n.name === "Run now")!.credentials = {
      httpHeaderAuth: { name: webhookTokenCredentialName("expense-approval") },
    };
    expect(webhookAuthenticationProblems([byFile("expense-approval.json"), open, shared])).toEqual([
      "quality-alerts.json: webhook 'Quality alert' takes unauthenticated calls (authentication none); use headerAuth or jwtAuth",
      "expense-approval.json: webhook 'Expense approval' and odoo-sync.json: webhook 'Run now' share the credential httpHeaderAuth/Workbench Webhook Token (expense-approval); give each its own",
    ]);
  });

  it("webhookCredentialSpecs refuses short tokens and a short JWT secret", () => {
    const tokens = Object.fromEntries(TOKEN_WEBHOOKS.map((path) => [path, "t".repeat(24)])) as Record<
      (typeof TOKEN_WEBHOOKS)[number],
      string
    >;
    expect(webhookCredentialSpecs(tokens, { secret: "s".repeat(32) })[1]).toEqual({
      name: "Workbench Webhook Token (expense-approval)",
      type: "httpHeaderAuth",
      data: { name: WEBHOOK_TOKEN_HEADER, value: "t".repeat(24) },
    });
    expect(() =>
      webhookCredentialSpecs({ ...tokens, "odoo-sync": "short" }, { secret: "s".repeat(32) }),
    ).toThrow("the odoo-sync webhook token must have at least 24 characters (got 5)");
    expect(() => webhookCredentialSpecs(tokens, { secret: "short" })).toThrow(
      "the pipeline-trigger JWT secret has 5 characters; Supabase's JWT secret has at least 32",
    );
  });

  it("keeps secrets out of node parameters: integration settings come from $env, the Odoo key only inside HTTP bodies", () => {
    for (const node of files.flatMap((f) => f.workflow.nodes)) {
      const text = JSON.stringify(node.parameters);
      if (text.includes("$env.ODOO_API_KEY")) expect(node.type, node.name).toBe("n8n-nodes-base.httpRequest");
      // Code nodes run in the task runner, which has no access to n8n's environment.
      if (node.type === "n8n-nodes-base.code") expect(text, node.name).not.toContain("$env.");
    }
  });

  it("has quality-alerts on a schedule too, and odoo-sync every 15 minutes", () => {
    expect(nodeOf("quality-alerts.json", "Every day at 08:00 UTC").parameters).toEqual({
      rule: { interval: [{ field: "cronExpression", expression: "0 8 * * *" }] },
    });
    expect(nodeOf("odoo-sync.json", "Every 15 minutes").parameters).toEqual({
      rule: { interval: [{ field: "minutes", minutesInterval: 15 }] },
    });
  });
});

describe("workflowProblems", () => {
  const base = (): N8nWorkflow =>
    JSON.parse(JSON.stringify(byFile("quality-alerts.json").workflow)) as N8nWorkflow;

  it("names a connection to a node that does not exist", () => {
    const wf = base();
    wf.connections["Alert scope"]!["main"]![0]!.push({ node: "Ghost", type: "main", index: 0 });
    expect(workflowProblems("x.json", wf)).toEqual([
      "x.json: 'Alert scope' connects (main) to 'Ghost', which is not a node",
    ]);
  });

  it("refuses unknown node types and versions", () => {
    const wf = base();
    wf.nodes[2]!.typeVersion = 1;
    wf.nodes[3]!.type = "n8n-nodes-base.executeCommand";
    expect(workflowProblems("x.json", wf)).toEqual([
      "x.json: node 'Alert scope': n8n-nodes-base.code version 1 is not allowed (allowed: 2)",
      "x.json: node 'Tables below threshold' has type n8n-nodes-base.executeCommand, which is not in ALLOWED_NODE_TYPES (lib/n8n/workflow-files.ts)",
      "x.json: node 'Tables below threshold': credential type postgres is not expected on n8n-nodes-base.executeCommand",
    ]);
  });

  it("refuses inline credentials and literal secrets", () => {
    const wf = base();
    const pg = wf.nodes.find((n) => n.name === "Tables below threshold")!;
    pg.credentials = { postgres: { id: "abc", name: "Workbench Postgres" } };
    const http = wf.nodes.find((n) => n.name === "Post to Mattermost")!;
    http.parameters["headerParameters"] = {
      parameters: [{ name: "Authorization", value: "Bearer abcdefghijklmnop" }],
      token: "hunter2",
    };
    expect(workflowProblems("x.json", wf)).toEqual([
      "x.json: node 'Tables below threshold': credential postgres must carry only its name (found id, name): ids differ per n8n instance and data is never inline",
      "x.json: node 'Post to Mattermost': parameters.headerParameters.parameters[0].value holds an authorization value inline; use a credential",
      "x.json: node 'Post to Mattermost': parameters.headerParameters.token holds a literal secret; use a credential or an expression",
    ]);
  });

  it("wants a fixed id, a webhookId, and reachable nodes", () => {
    const wf = base();
    wf.id = "quality";
    delete wf.nodes.find((n) => n.name === "Quality alert")!.webhookId;
    delete wf.connections["Build response"];
    expect(workflowProblems("x.json", wf)).toEqual([
      'x.json: id must be a fixed 16-character id of letters and digits (got "quality")',
      "x.json: node 'Quality alert': webhook has no fixed webhookId",
      "x.json: node 'Called by webhook?' is never reached: connect it or remove it",
      "x.json: node 'Respond' is never reached: connect it or remove it",
    ]);
  });

  it("finds a webhook path used twice", () => {
    const copy: WorkflowFile = { ...byFile("quality-alerts.json"), file: "copy.json" };
    expect(duplicateWebhookPaths([...files, copy])).toEqual([
      "POST quality-alerts: quality-alerts.json 'Quality alert', copy.json 'Quality alert'",
    ]);
  });
});

describe("toApiWorkflow", () => {
  const ids = new Map([
    ["postgres/Workbench Postgres", "pg1"],
    ["httpHeaderAuth/Workbench Webhook Token (quality-alerts)", "tok1"],
  ]);

  it("resolves credential names to the instance's ids and keeps only the settings the public API accepts", () => {
    const body = toApiWorkflow(byFile("quality-alerts.json").workflow, ids);
    expect(Object.keys(body)).toEqual(["name", "nodes", "connections", "settings"]);
    expect(body.nodes.find((n) => n.name === "Tables below threshold")!.credentials).toEqual({
      postgres: { id: "pg1", name: "Workbench Postgres" },
    });
    // The disabled email node keeps its name-only reference (its credential need not exist).
    expect(body.nodes.find((n) => n.name === "Email data engineering")!.credentials).toEqual({
      smtp: { name: "Workbench SMTP" },
    });
    expect(body.settings).toEqual({
      executionOrder: "v1",
      timezone: "UTC",
      saveDataSuccessExecution: "all",
      saveDataErrorExecution: "all",
      saveManualExecutions: true,
      callerPolicy: "workflowsFromSameOwner",
    });
  });

  it("says which credential is missing", () => {
    expect(() => toApiWorkflow(byFile("expense-approval.json").workflow, new Map())).toThrow(
      "workflow 'Expense approval' node 'Expense approval' needs the httpHeaderAuth credential 'Workbench Webhook Token (expense-approval)', which this n8n does not have: create it first",
    );
  });
});

describe("Code nodes", () => {
  const good = {
    transaction_id: "T-1",
    store_id: "S-1",
    product_id: "P-1",
    category: "dairy",
    quantity: 1,
    amount: "12.50",
    transaction_date: "2026-01-31",
  };

  it("Validate batch: a clean batch is deliverable with no errors, payloads kept as sent", () => {
    const [out] = runCode("real-time-transactions.json", "Validate batch", [
      { body: { batch_id: "b-1", source: "pos-9", transactions: [good] } },
    ]);
    expect(out!.json).toMatchObject({
      batch_id: "b-1",
      source: "pos-9",
      received: 1,
      checked: true,
      flagged: 0,
      errors: [],
      problems: [],
      deliverable: true,
    });
    expect(JSON.parse(out!.json["payloads"] as string)).toEqual([JSON.stringify(good)]);
  });

  it("Validate batch: reports the silver rules a record breaks, by index", () => {
    const bad = [
      { ...good, quantity: 1.5, transaction_date: "2026-02-30" },
      { ...good, amount: 0, category: "" },
      null,
    ];
    const [out] = runCode("real-time-transactions.json", "Validate batch", [{ body: bad }]);
    expect(out!.json["errors"]).toEqual([
      {
        index: 0,
        transaction_id: "T-1",
        reasons: ["quantity must be a whole number", "transaction_date must be a YYYY-MM-DD date"],
      },
      { index: 1, transaction_id: "T-1", reasons: ["missing category", "amount must be positive"] },
      { index: 2, transaction_id: null, reasons: ["not a JSON object"] },
    ]);
    expect(out!.json["source"]).toBe("n8n-webhook");
  });

  it("Validate batch: refuses bad batch ids and oversized batches without dropping what arrived", () => {
    const [out] = runCode("real-time-transactions.json", "Validate batch", [
      { body: { batch_id: "has space", transactions: [good] } },
    ]);
    expect(out!.json["problems"]).toEqual([
      "batch_id must be 1-128 letters, digits, dots, colons, dashes or underscores",
    ]);
    expect(out!.json).toMatchObject({ batch_id: "", deliverable: true });
    const [big] = runCode("real-time-transactions.json", "Validate batch", [
      { body: Array.from({ length: 5001 }, () => good) },
    ]);
    expect(big!.json).toMatchObject({
      deliverable: false,
      checked: false,
      over_limit: true,
      problems: ["the batch has 5001 transactions; send at most 5000 per request (nothing was stored)"],
    });
  });

  it("Validate batch checks the categories of dbt/seeds/allowed_categories.csv", () => {
    const seed = readFileSync(join(REPO_ROOT, "dbt/seeds/allowed_categories.csv"), "utf8")
      .trim()
      .split("\n")
      .slice(1)
      .map((l) => l.split(",")[0]);
    for (const category of seed) {
      const [out] = runCode("real-time-transactions.json", "Validate batch", [
        { body: [{ ...good, category }] },
      ]);
      expect(out!.json["flagged"], category).toBe(0);
    }
    const code = nodeOf("real-time-transactions.json", "Validate batch").parameters["jsCode"] as string;
    const listed = /const CATEGORIES = \[([^\]]*)\]/
      .exec(code)![1]!
      .match(/'([a-z_]+)'/g)!
      .map((s) => s.slice(1, -1));
    expect(listed.sort()).toEqual([...seed].sort());
  });

  it("Approval settings default to the dbt project's threshold (approval_threshold_usd) in USD", () => {
    const project = YAML.parse(readFileSync(join(REPO_ROOT, "dbt/dbt_project.yml"), "utf8")) as {
      vars: Record<string, unknown>;
    };
    const settings = nodeOf("expense-approval.json", "Approval settings").parameters as {
      assignments: { assignments: { name: string; value: string }[] };
    };
    const value = (name: string) => settings.assignments.assignments.find((a) => a.name === name)!.value;
    expect(value("threshold")).toBe(
      `={{ String($env.EXPENSE_APPROVAL_THRESHOLD ?? ${String(project.vars["approval_threshold_usd"])}) }}`,
    );
    expect(value("threshold_currency")).toBe('={{ String($env.EXPENSE_APPROVAL_CURRENCY ?? "USD") }}');
  });

  it("Decide converts with a configured rate, and refuses NULL, non-numeric, negative amounts and unknown currencies", () => {
    const decide = (amount: unknown, currency: unknown = "USD", rates = '{"EUR": 1.1}') =>
      runCode("expense-approval.json", "Decide", [{ expense_id: "E", amount, currency }], {
        "Check request": [{ expense_id: "E" }],
        "Approval settings": [{ expense_id: "E", threshold: "5000", threshold_currency: "USD", rates }],
      })[0]!.json;
    expect(decide("4999.99")).toMatchObject({
      ok: true,
      amount: 4999.99,
      amount_converted: 4999.99,
      threshold: 5000,
    });
    expect(decide("100.00", "eur")).toMatchObject({ ok: true, currency: "EUR", amount_converted: 110 });
    expect(decide(null)).toMatchObject({ ok: false, http_status: 422 });
    expect(decide("12,50")).toMatchObject({
      ok: false,
      http_status: 422,
      body: { error: 'expense E has an amount that is not a number ("12,50")' },
    });
    expect(decide("-1.00")).toMatchObject({ ok: false, http_status: 422 });
    expect(decide("10", "GBP")).toMatchObject({
      ok: false,
      http_status: 422,
      body: {
        error:
          "expense E is in GBP, the approval threshold is in USD, and no GBP rate is configured (EXPENSE_APPROVAL_RATES)",
      },
    });
    expect(decide("10", null)).toMatchObject({ ok: false, http_status: 422 });
    expect(
      runCode("expense-approval.json", "Decide", [{}], {
        "Check request": [{ expense_id: "E-9" }],
        "Approval settings": [{ threshold: "5000", threshold_currency: "USD", rates: "{}" }],
      })[0]!.json,
    ).toMatchObject({
      ok: false,
      http_status: 404,
    });
  });

  it("Alert scope uses the catalog's alert threshold and the table the seeder names", async () => {
    const { DEFAULT_ALERT_THRESHOLD } = await import("../../lib/catalog/plan.ts");
    expect(runCode("quality-alerts.json", "Alert scope", [{ timestamp: "x" }])[0]!.json).toEqual({
      threshold: DEFAULT_ALERT_THRESHOLD,
      table: "",
    });
    expect(
      runCode("quality-alerts.json", "Alert scope", [{ body: { dbt_unique_id: "model.p.x" } }])[0]!.json,
    ).toEqual({ threshold: 80, table: "model.p.x" });
  });

  it("Build XML-RPC calls writes calls an XML-RPC server reads back, with placeholders for the key and uid", () => {
    const [out] = runCode("odoo-sync.json", "Build XML-RPC calls", [
      {
        url: "http://odoo",
        db: "prod & co",
        username: "n8n",
        since: "2026-11-20 09:30:00",
        since_id: "102",
        page_size: "500",
      },
    ]);
    expect(parseMethodCall(out!.json["login_xml"] as string)).toEqual({
      method: "authenticate",
      params: ["prod & co", "n8n", "__ODOO_API_KEY__", {}],
    });
    const search = parseMethodCall((out!.json["search_xml"] as string).replace("__ODOO_UID__", "7"));
    expect(search.method).toBe("execute_kw");
    expect(search.params.slice(0, 6)).toEqual([
      "prod & co",
      7,
      "__ODOO_API_KEY__",
      "account.move",
      "search_read",
      [
        [
          ["move_type", "=", "in_invoice"],
          ["state", "=", "posted"],
          "|",
          ["write_date", ">", "2026-11-20 09:30:00"],
          "&",
          ["write_date", "=", "2026-11-20 09:30:00"],
          ["id", ">", 102],
        ],
      ],
    ]);
    expect(search.params[6]).toMatchObject({ order: "write_date asc, id asc", limit: 500 });
    expect(() =>
      runCode("odoo-sync.json", "Build XML-RPC calls", [{ url: "", db: "d", username: "" }]),
    ).toThrow("Odoo is not configured: set ODOO_URL, ODOO_USERNAME (and ODOO_API_KEY) in n8n's environment");
  });

  it("Invoices to expenses parses search_read answers (and faults) into expense payloads", () => {
    const answer = (value: Parameters<typeof xmlRpcValue>[0]) =>
      `<?xml version="1.0"?>\n<methodResponse>\n<params>\n<param>\n${xmlRpcValue(value)}\n</param>\n</params>\n</methodResponse>`;
    const record = {
      id: 9,
      name: "BILL/9",
      ref: false,
      partner_id: [3, "Vendor <&> Co"],
      company_id: [1, "DOF"],
      invoice_user_id: false,
      invoice_date: "2026-11-01",
      amount_total: 10.5,
      currency_id: [2, "PHP"],
      write_date: "2026-11-21 00:00:00",
      x_expense_category: "meals",
    };
    const run = (xml: string) =>
      runCode("odoo-sync.json", "Invoices to expenses", [{ data: xml }], {
        "Build XML-RPC calls": [{ since: "2026-01-01 00:00:00", since_id: 4, page: 2 }],
      });
    const [out] = run(answer([record]));
    expect(out!.json).toMatchObject({
      fetched: 1,
      since: { write_date: "2026-01-01 00:00:00", id: 4 },
      cursor_write_date: "2026-11-21 00:00:00",
      cursor_id: 9,
      more: false,
    });
    expect(JSON.parse(out!.json["batch_ids"] as string)).toEqual(["odoo:account.move/9@2026-11-21 00:00:00"]);
    expect(JSON.parse(JSON.parse(out!.json["payloads"] as string)[0])).toEqual({
      expense_id: "ODOO-9",
      agency: "DOF",
      employee_id: null,
      vendor: "Vendor <&> Co",
      category: "meals",
      amount: 10.5,
      currency: "PHP",
      expense_date: "2026-11-01",
      description: "BILL/9",
      odoo: { model: "account.move", record },
    });
    expect(run(answer([]))[0]!.json).toMatchObject({ fetched: 0, cursor_write_date: "", more: false });
    // A write_date that is no timestamp is quarantined and never becomes the cursor.
    const [mixed] = run(answer([{ ...record, id: 11, write_date: "9999-99-99 99:99:99" }, record]));
    expect(mixed!.json).toMatchObject({
      fetched: 2,
      cursor_write_date: "2026-11-21 00:00:00",
      cursor_id: 9,
      more: true,
    });
    expect(JSON.parse(mixed!.json["quarantine"] as string)).toEqual([
      {
        record_key: "account.move/11",
        reason: `write_date "9999-99-99 99:99:99" is not a 'YYYY-MM-DD HH:MM:SS' timestamp`,
        record: { ...record, id: 11, write_date: "9999-99-99 99:99:99" },
      },
    ]);
    const fault = `<?xml version="1.0"?><methodResponse><fault>${xmlRpcValue({ faultCode: 3, faultString: "Access Denied" })}</fault></methodResponse>`;
    expect(() => run(fault)).toThrow("Odoo search_read failed: Access Denied");
  });
});

describe("workflowSetProvider", () => {
  const inputs = {
    apiUrl: "https://n8n.example.com",
    apiKey: "k",
    directory: "n8n-workflows",
    workflows: files.map(({ file, checksum, workflow }) => ({
      file,
      id: workflow.id,
      name: workflow.name,
      checksum,
    })),
    credentials: [],
    activate: true,
  };
  const olds = { ...inputs, deployed: [], credentialIds: {} } as WorkflowSetOutputs;

  it("changes when a file's checksum changes, and replaces when it points at another n8n", async () => {
    expect(await workflowSetProvider.diff!("id", olds, inputs)).toEqual({
      changes: false,
      replaces: [],
      deleteBeforeReplace: false,
    });
    const edited = {
      ...inputs,
      workflows: inputs.workflows.map((w, i) => (i === 0 ? { ...w, checksum: "0" } : w)),
    };
    expect(await workflowSetProvider.diff!("id", olds, edited)).toMatchObject({
      changes: true,
      replaces: [],
    });
    expect(
      await workflowSetProvider.diff!("id", olds, { ...inputs, apiUrl: "https://other.example.com" }),
    ).toMatchObject({
      changes: true,
      replaces: ["apiUrl"],
    });
  });

  it("check asks for a URL and an API key", async () => {
    expect(
      (await workflowSetProvider.check!({}, { ...inputs, apiUrl: "n8n", apiKey: "" }))?.failures,
    ).toEqual([
      { property: "apiUrl", reason: 'must be n8n\'s http(s) base URL (got "n8n")' },
      { property: "apiKey", reason: "an n8n API key is required (n8n Settings > n8n API)" },
    ]);
  });
});

describe("N8n with workflowsDir (Pulumi mocks)", () => {
  let mocks: MockRecorder;
  const TYPE = "pulumi-nodejs:dynamic/workbench:n8n:WorkflowSet";
  const args = (provider: k8s.Provider) => ({
    provider,
    namespace: "n8n",
    chartVersion: "1.11.0",
    image: "docker.n8n.io/n8nio/n8n:2.11.2",
    host: "n8n.workbench.example.com",
    database: {
      host: "db.example.supabase.co",
      port: 5432,
      name: "postgres",
      user: "postgres",
      schema: "n8n",
      sslMode: "require" as const,
    },
    redis: { host: "redis", port: 6379, passwordSecret: { name: "redis", key: "password" } },
    core: { encryptionKey: "0123456789abcdef0123456789abcdef", databasePassword: "db-password" },
    extraEnvFromSecrets: ["integrations"],
  });
  let N8n: typeof import("../../components/kubernetes/n8n.ts").N8n;
  let provider: k8s.Provider;

  beforeAll(async () => {
    mocks = await installMocks();
    ({ N8n } = await import("../../components/kubernetes/n8n.ts"));
    provider = new k8s.Provider("k8s", { kubeconfig: pulumi.secret(FAKE_KUBECONFIG) });
    new N8n("n8n", {
      ...args(provider),
      workflowsDir: "n8n-workflows",
      workflows: {
        apiKey: pulumi.secret("n8n-api-key"),
        projectRoot: REPO_ROOT,
        credentials: [
          {
            name: "Workbench Webhook Token",
            type: "httpHeaderAuth",
            data: { name: "X-Workbench-Token", value: "t" },
          },
        ],
      },
    });
    await mocks.settle();
  });

  it("deploys the directory through a WorkflowSet child that waits for the release", () => {
    const set = mocks.one(TYPE, "n8n-workflows");
    const component = mocks.one("workbench:kubernetes:N8n", "n8n");
    const release = mocks.one("kubernetes:helm.sh/v3:Release", "n8n");
    expect(set.parent).toBe(component.urn);
    expect(set.dependencies).toContain(release.urn);
    expect(set.inputs).toMatchObject({
      apiUrl: "https://n8n.workbench.example.com",
      apiKey: "n8n-api-key",
      directory: "n8n-workflows",
      activate: true,
      workflows: files.map(({ file, checksum, workflow }) => ({
        file,
        id: workflow.id,
        name: workflow.name,
        checksum,
      })),
    });
    // The state names the provider (components/shared/provider-registry.ts), never a module path.
    expect(String(set.inputs["__provider"])).toContain('"workbench:n8n:WorkflowSet"');
    expect(String(set.inputs["__provider"])).not.toContain("workflow-set.ts");
  });

  it("keeps the API key and credentials secret", () => {
    const set = mocks.one(TYPE, "n8n-workflows");
    expect(isSecretInput(set.rawInputs["apiKey"])).toBe(true);
    expect(isSecretInput(set.rawInputs["credentials"])).toBe(true);
    expect(set.additionalSecretOutputs).toEqual(expect.arrayContaining(["apiKey", "credentials"]));
  });

  it("lets workflow expressions read the integration settings from the environment", () => {
    const values = mocks.one("kubernetes:helm.sh/v3:Release", "n8n").inputs["values"];
    // n8n answers 500 for a body over its own limit: it sits above the workflows' 16 MiB.
    expect(values["config"]["extraEnv"]).toContainEqual({ name: "N8N_PAYLOAD_SIZE_MAX", value: "32" });
    expect(values["config"]["extraEnv"]).toContainEqual({
      name: "N8N_BLOCK_ENV_ACCESS_IN_NODE",
      value: "false",
    });
  });

  it("refuses workflows without workflowsDir", () => {
    expect(
      () => new N8n("x1", { ...args(provider), workflows: { apiKey: "k", projectRoot: REPO_ROOT } }),
    ).toThrow(
      "x1: workflows is set without workflowsDir; name the directory of workflow JSON (e.g. n8n-workflows)",
    );
  });
});
