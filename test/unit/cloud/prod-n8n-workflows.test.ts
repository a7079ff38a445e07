/**
 * With an n8n API key in the stack config, the prod stack deploys the seed workflows
 * through the N8n component's WorkflowSet: which files, which credentials, all secret.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { installMocks, isSecretAt, type RecordedResource } from "../../helpers/pulumi-mocks.ts";
import {
  cloudDataSources,
  loginPasswords,
  mockLoginPassword,
  PLACEHOLDER_SECRETS,
  prodConfig,
} from "./prod-config.ts";

const mocks = await installMocks({ stack: "prod", calls: cloudDataSources, outputs: loginPasswords });
const { cloudPlatform } = await import("../../../stacks/prod.ts");

const API_KEY = "n8n_api_placeholder_key_0123456789";

describe("the prod stack with workbench:n8nApiKey", () => {
  let workflowSet: RecordedResource;

  beforeAll(async () => {
    PLACEHOLDER_SECRETS["n8nApiKey"] = API_KEY;
    try {
      cloudPlatform(prodConfig());
    } finally {
      delete PLACEHOLDER_SECRETS["n8nApiKey"];
    }
    await mocks.settle();
    workflowSet = mocks.one("pulumi-nodejs:dynamic/workbench:n8n:WorkflowSet", "n8n-workflows");
  });

  it("deploys n8n-workflows/ with the API key, as a child of the n8n component", () => {
    expect(workflowSet.inputs["directory"]).toBe("n8n-workflows");
    expect(workflowSet.inputs["apiKey"]).toBe(API_KEY);
    expect(isSecretAt(workflowSet.rawInputs, "apiKey")).toBe(true);
    expect(workflowSet.parent).toContain("workbench:kubernetes:N8n");
  });

  it("creates the two credentials the workflows name, secret, with a generated webhook token", () => {
    const credentials = workflowSet.inputs["credentials"] as {
      name: string;
      type: string;
      data: Record<string, unknown>;
    }[];
    expect(credentials.map((credential) => [credential.name, credential.type])).toEqual([
      ["Workbench Postgres", "postgres"],
      ["Workbench Webhook Token", "httpHeaderAuth"],
    ]);
    // The n8n login (through the pooler: `<role>.<project ref>`), never the admin.
    expect(credentials[0]?.data).toMatchObject({
      port: 5432,
      ssl: "require",
      user: "wb_prod_n8n.abcdefghijklmnopqrst",
      password: mockLoginPassword("wb_prod_n8n"),
    });
    expect(credentials[1]?.data["name"]).toBe("X-Workbench-Token");
    expect(String(credentials[1]?.data["value"]).length).toBeGreaterThan(0);
    expect(isSecretAt(workflowSet.rawInputs, "credentials")).toBe(true);
  });
});
