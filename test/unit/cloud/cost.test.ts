import { describe, expect, it } from "vitest";
import { estimateMonthlyCost, formatCostEstimate } from "../../../lib/cost.ts";
import { parseStackConfig } from "../../../stacks/config/parse.ts";
import { costInputFromConfig } from "../../../stacks/cloud/index.ts";
import { rawStackConfig } from "../../../scripts/cost.ts";
import { missingPlugins, missingPluginsMessage, requiredPlugins } from "../../../scripts/preview.ts";
import { prodConfig } from "./prod-config.ts";

describe("monthly cost estimate", () => {
  it("prices Pulumi.prod.yaml with seed 000's table: $267.30, $387.30 at 6 nodes", () => {
    const config = prodConfig();
    const estimate = estimateMonthlyCost(costInputFromConfig(config), config.prices);
    expect(
      estimate.lines.map((line) => [line.resource, line.quantity, line.unitMonthly, line.monthly]),
    ).toEqual([
      ["DOKS node pool", 3, 40, 120],
      ["App Platform: ocr-backend", 2, 12, 24],
      ["App Platform: expense-api", 2, 12, 24],
      ["Container Registry", 1, 5, 5],
      ["Spaces", 1, 5, 5],
      ["Load Balancer", 1, 12, 12],
      // Prometheus 20 GiB and Alertmanager 2 GiB (monitoring), n8n's Redis 1 GiB.
      ["Block storage", 23, 0.1, 2.3],
      ["Supabase", 1, 25, 25],
      ["LLM API", 1, 50, 50],
    ]);
    expect(estimate.lines.find((line) => line.resource === "Block storage")?.spec).toBe(
      "GiB: prometheus 20, alertmanager 2, n8n-redis 1",
    );
    expect(estimate.total).toBe(267.3);
    expect(estimate.totalAtMaxNodes).toBe(387.3);
  });

  it("follows the configured sizes, features and prices", () => {
    const config = prodConfig({
      overrides: {
        "workbench:features": {
          dataStack: true,
          n8n: false,
          litellm: false,
          appPlatform: false,
          backups: true,
          networkPolicies: true,
        },
        "workbench:registryTier": "professional",
        "workbench:prices": { dropletMonthly: { "s-4vcpu-8gb": 48 } },
      },
    });
    const estimate = estimateMonthlyCost(costInputFromConfig(config), config.prices);
    expect(estimate.lines.map((line) => [line.resource, line.monthly])).toEqual([
      ["DOKS node pool", 144],
      ["Container Registry", 20],
      ["Spaces", 5],
      ["Load Balancer", 12],
      ["Block storage", 2.2],
      ["Supabase", 25],
    ]);
    expect(estimate.total).toBe(208.2);
    expect(estimate.totalAtMaxNodes).toBe(352.2);
  });

  it("names the missing price and where to add it", () => {
    const config = prodConfig({
      overrides: { "workbench:cluster": { versionPrefix: "1.33.", nodeSize: "s-8vcpu-16gb" } },
    });
    expect(() => estimateMonthlyCost(costInputFromConfig(config), config.prices)).toThrow(
      "no price for size 's-8vcpu-16gb' in workbench:prices.dropletMonthly: add it (USD per month) to the stack config",
    );
  });

  it("prints a table with the total", () => {
    const config = prodConfig();
    const text = formatCostEstimate(
      estimateMonthlyCost(costInputFromConfig(config), config.prices),
      "Estimate",
    );
    const lines = text.split("\n");
    expect(lines[0]).toBe("Estimate");
    expect(lines[1]).toMatch(/^resource\s+spec\s+qty\s+unit\s+monthly$/);
    expect(lines).toContain(
      "DOKS node pool             s-4vcpu-8gb (autoscaling to 6)                     3  $40.00  $120.00",
    );
    expect(lines.at(-1)).toBe("total $267.30 per month ($387.30 with the node pool at its maximum)");
  });

  it("reads the committed stack file with a placeholder password marked secret (npm run cost)", () => {
    const { raw, secretKeys } = rawStackConfig("prod");
    expect(secretKeys.has("workbench:databasePassword")).toBe(true);
    const config = parseStackConfig(raw, secretKeys);
    expect(config.profile).toBe("cloud");
    expect(() => rawStackConfig("staging")).toThrow(
      /no stack file .*Pulumi\.staging\.yaml: known stacks are .*prod/,
    );
  });
});

describe("npm run preview: plugin check", () => {
  it("requires the plugins of the SDK versions in package.json", () => {
    expect(requiredPlugins()).toEqual([
      { name: "digitalocean", version: "4.80.1" },
      { name: "kubernetes", version: "4.34.2" },
      { name: "random", version: "4.21.2" },
    ]);
  });

  it("reports what `pulumi plugin ls --json` lacks, and how to install it", () => {
    const required = requiredPlugins();
    const installed = [
      { name: "kubernetes", kind: "resource", version: "4.34.2" },
      { name: "random", kind: "resource", version: "4.21.2" },
      { name: "digitalocean", kind: "resource", version: "4.0.0" },
    ];
    const missing = missingPlugins(required, installed);
    expect(missing).toEqual([{ name: "digitalocean", version: "4.80.1" }]);
    const message = missingPluginsMessage("prod", missing, "/cache/pulumi-home");
    expect(message.split("\n")[0]).toBe(
      "error: cannot preview stack 'prod': the Pulumi resource plugins it needs are not installed:",
    );
    expect(message).toContain("  - digitalocean 4.80.1");
    expect(message).toContain(
      "  PULUMI_HOME=/cache/pulumi-home pulumi plugin install resource digitalocean 4.80.1",
    );
    expect(
      missingPlugins(required, [
        ...installed,
        { name: "digitalocean", kind: "resource", version: "v4.80.1" },
      ]),
    ).toEqual([]);
  });
});
