/** The prod stack with every optional feature off: only the platform core is registered. */
import { beforeAll, describe, expect, it } from "vitest";
import { installMocks } from "../../helpers/pulumi-mocks.ts";
import { cloudDataSources, prodConfig } from "./prod-config.ts";

const mocks = await installMocks({ stack: "minimal", calls: cloudDataSources });
const { cloudPlatform } = await import("../../../stacks/cloud/index.ts");

describe("the prod stack with n8n, LiteLLM, App Platform, schedules and backups off", () => {
  beforeAll(async () => {
    cloudPlatform(
      prodConfig({
        without: [
          "anthropicApiKey",
          "openaiApiKey",
          "geminiApiKey",
          "langfusePublicKey",
          "langfuseSecretKey",
          "n8nEncryptionKey",
        ],
        overrides: {
          "workbench:features": {
            dataStack: false,
            n8n: false,
            litellm: false,
            appPlatform: false,
            backups: false,
            networkPolicies: false,
          },
          "workbench:deployWorkloads": true,
        },
      }),
    );
    await mocks.settle();
  });

  it("registers only the platform core", () => {
    const inventory = mocks.inventory();
    for (const absent of [
      "workbench:kubernetes:N8n",
      "workbench:kubernetes:LiteLlm",
      "workbench:kubernetes:Redis",
      "workbench:kubernetes:DbtSchedules",
      "workbench:kubernetes:PostgresBackups",
      "workbench:cloud:AppPlatformService",
      "digitalocean:index/spacesKey:SpacesKey",
      "kubernetes:batch/v1:CronJob",
      "workbench:kubernetes:NetworkPolicies",
      "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    ]) {
      expect(inventory[absent], absent).toBeUndefined();
    }
    // Traefik, cert-manager, metrics-server, kube-prometheus-stack: the core, whatever the features.
    expect(
      mocks
        .ofType("kubernetes:helm.sh/v3:Release")
        .map((release) => release.inputs["chart"])
        .sort(),
    ).toEqual(["cert-manager", "kube-prometheus-stack", "metrics-server", "traefik"]);
    expect(inventory["kubernetes:apps/v1:Deployment"]).toBe(4);
    // Supabase, integrations, registry pull, Grafana's admin login.
    expect(inventory["kubernetes:core/v1:Secret"]).toBe(4);
    expect(inventory["kubernetes:core/v1:Namespace"]).toBe(9);
    expect(mocks.one("digitalocean:index/spacesBucket:SpacesBucket").inputs["lifecycleRules"]).toEqual([
      {
        id: "housekeeping",
        enabled: true,
        abortIncompleteMultipartUploadDays: 1,
        noncurrentVersionExpiration: { days: 30 },
      },
    ]);
  });

  it("leaves the gateway out of the services' environment", () => {
    const api = mocks.one("kubernetes:apps/v1:Deployment", "workbench-api").inputs["spec"]["template"][
      "spec"
    ]["containers"][0];
    expect(api["env"].map((env: { name: string }) => env.name)).toEqual([
      "SUPABASE_URL",
      "AGENT_RUNTIME_URL",
      "SUPABASE_SERVICE_ROLE_KEY",
      "DATABASE_URL",
    ]);
  });
});
