/**
 * With an n8n API key in the stack config, the prod stack deploys the seed workflows
 * through the N8n component's WorkflowSet: which files, which credentials, all secret; one
 * token per webhook, rotated through workbench:n8nWebhookTokenRotation.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { cloudDeployProblems } from "../../../stacks/config/deployable.ts";
import { installMocks, isSecretAt, type RecordedResource } from "../../helpers/pulumi-mocks.ts";
import {
  cloudDataSources,
  loginPasswords,
  mockLoginPassword,
  PLACEHOLDER_SECRETS,
  prodConfig,
} from "./prod-config.ts";

const mocks = await installMocks({ stack: "prod", calls: cloudDataSources, outputs: loginPasswords });
const { cloudPlatform } = await import("../../../stacks/cloud/index.ts");

const API_KEY = "n8n_api_placeholder_key_0123456789";
const JWT_SECRET = "placeholder-supabase-jwt-secret-0123456789";

describe("the prod stack with workbench:n8nApiKey", () => {
  let workflowSet: RecordedResource;
  let tokens: RecordedResource[];

  beforeAll(async () => {
    PLACEHOLDER_SECRETS["n8nApiKey"] = API_KEY;
    PLACEHOLDER_SECRETS["supabaseJwtSecret"] = JWT_SECRET;
    try {
      const config = prodConfig();
      cloudPlatform({
        ...config,
        deployWorkloads: true,
        qualityAlertsWebhookUrl: "https://n8n.workbench.example.com/webhook/quality-alerts",
        n8nWebhookTokenRotation: { "quality-alerts": 3 },
      });
    } finally {
      delete PLACEHOLDER_SECRETS["n8nApiKey"];
      delete PLACEHOLDER_SECRETS["supabaseJwtSecret"];
    }
    await mocks.settle();
    workflowSet = mocks.one("pulumi-nodejs:dynamic/workbench:n8n:WorkflowSet", "n8n-workflows");
    tokens = mocks.resources.filter(
      (r) => r.type === "random:index/randomPassword:RandomPassword" && r.name.includes("n8n-webhook-token"),
    );
  });

  it("deploys n8n-workflows/ with the API key, as a child of the n8n component", () => {
    expect(workflowSet.inputs["directory"]).toBe("n8n-workflows");
    expect(workflowSet.inputs["apiKey"]).toBe(API_KEY);
    expect(isSecretAt(workflowSet.rawInputs, "apiKey")).toBe(true);
    expect(workflowSet.parent).toContain("workbench:kubernetes:N8n");
  });

  it("creates the credentials the workflows name, secret: Postgres, the pipeline-trigger JWT, one token per webhook", () => {
    const credentials = workflowSet.inputs["credentials"] as {
      name: string;
      type: string;
      data: Record<string, unknown>;
    }[];
    expect(credentials.map((credential) => [credential.name, credential.type])).toEqual([
      ["Workbench Postgres", "postgres"],
      ["Workbench Pipeline Trigger JWT", "jwtAuth"],
      ["Workbench Webhook Token (expense-approval)", "httpHeaderAuth"],
      ["Workbench Webhook Token (odoo-sync)", "httpHeaderAuth"],
      ["Workbench Webhook Token (quality-alerts)", "httpHeaderAuth"],
      ["Workbench Webhook Token (scout-transactions)", "httpHeaderAuth"],
    ]);
    // The n8n login (through the pooler: `<role>.<project ref>`), never the admin.
    expect(credentials[0]?.data).toMatchObject({
      port: 5432,
      ssl: "require",
      user: "wb_prod_n8n.abcdefghijklmnopqrst",
      password: mockLoginPassword("wb_prod_n8n"),
    });
    expect(credentials[1]?.data).toEqual({ keyType: "passphrase", secret: JWT_SECRET, algorithm: "HS256" });
    const values = credentials.slice(2).map((credential) => credential.data["value"]);
    for (const credential of credentials.slice(2)) expect(credential.data["name"]).toBe("X-Workbench-Token");
    expect(values.every((value) => typeof value === "string" && value.length > 0)).toBe(true);
    expect(new Set(values).size).toBe(4);
    expect(isSecretAt(workflowSet.rawInputs, "credentials")).toBe(true);
  });

  it("hands the catalog seeder and the data-quality job the quality-alerts token, secret", () => {
    const credentials = workflowSet.inputs["credentials"] as {
      name: string;
      data: Record<string, unknown>;
    }[];
    const token = credentials.find((c) => c.name === "Workbench Webhook Token (quality-alerts)")?.data[
      "value"
    ];
    expect(typeof token).toBe("string");
    const seed = mocks.one("pulumi-nodejs:dynamic/workbench:data:CatalogSeed", "catalog");
    expect(seed.inputs["alertWebhookUrl"]).toBe("https://n8n.workbench.example.com/webhook/quality-alerts");
    expect(seed.inputs["alertWebhookToken"]).toBe(token);
    expect(isSecretAt(seed.rawInputs, "alertWebhookToken")).toBe(true);
    const jobSecret = mocks.one("kubernetes:core/v1:Secret", "dbt-credentials");
    expect(jobSecret.inputs["stringData"]["QUALITY_ALERTS_TOKEN"]).toBe(token);
    const job = mocks.one("kubernetes:batch/v1:CronJob", "dbt-data-quality");
    const env = job.inputs["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["env"] as {
      name: string;
      value?: string;
      valueFrom?: { secretKeyRef: { name: string; key: string } };
    }[];
    expect(env.find((e) => e.name === "QUALITY_ALERTS_TOKEN")).toEqual({
      name: "QUALITY_ALERTS_TOKEN",
      valueFrom: { secretKeyRef: { name: "dbt-credentials", key: "QUALITY_ALERTS_TOKEN" } },
    });
  });

  it("generates one token resource per webhook, whose keeper is its rotation number", () => {
    expect(
      tokens.map((token) => [token.name.replace(/^.*n8n-webhook-token-/, ""), token.inputs["keepers"]]),
    ).toEqual([
      ["expense-approval", { rotation: "0" }],
      ["odoo-sync", { rotation: "0" }],
      ["quality-alerts", { rotation: "3" }],
      ["scout-transactions", { rotation: "0" }],
    ]);
    for (const token of tokens) expect(token.inputs).toMatchObject({ length: 40, special: false });
  });

  it("needs the Supabase JWT secret once the workflows are deployed", () => {
    PLACEHOLDER_SECRETS["n8nApiKey"] = API_KEY;
    try {
      expect(cloudDeployProblems(prodConfig())).toEqual([
        {
          key: "workbench:supabaseJwtSecret",
          rule: "is required by n8nApiKey (the pipeline-trigger webhook verifies callers' tokens): pulumi config set --secret workbench:supabaseJwtSecret <value>",
          got: "nothing",
        },
      ]);
    } finally {
      delete PLACEHOLDER_SECRETS["n8nApiKey"];
    }
  });
});
