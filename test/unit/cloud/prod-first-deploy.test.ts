/**
 * The prod stack as committed (workbench:deployWorkloads false): the first `pulumi up`
 * brings up the foundation only (network, registry, cluster, database layer, ingress, TLS,
 * metrics, monitoring), nothing that pulls from the still-empty registry; and every
 * stateful resource is protected or retained.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { installMocks, type RecordedResource } from "../../helpers/pulumi-mocks.ts";
import { cloudDataSources, prodConfig } from "./prod-config.ts";
import { BEFORE, HUB_URN, secretShape, successors } from "./upgrade-fixture.ts";

const mocks = await installMocks({ stack: "prod", calls: cloudDataSources });
const { cloudPlatform } = await import("../../../stacks/cloud/index.ts");

/** Every container image in a recorded Kubernetes object (pod templates at any depth). */
function imagesIn(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(imagesIn);
  if (value === null || typeof value !== "object") return [];
  const record = value as Record<string, unknown>;
  const own = typeof record["image"] === "string" && "name" in record ? [record["image"] as string] : [];
  return [...own, ...Object.values(record).flatMap(imagesIn)];
}

describe("the first deploy (workbench:deployWorkloads false, as committed)", () => {
  let outputs: ReturnType<typeof cloudPlatform>;

  beforeAll(async () => {
    const config = prodConfig();
    expect(config.deployWorkloads).toBe(false);
    outputs = cloudPlatform(config);
    await mocks.settle();
  });

  it("creates the foundation: registry, cluster, database layer, ingress, TLS, metrics, monitoring", () => {
    const inventory = mocks.inventory();
    for (const present of [
      "digitalocean:index/containerRegistry:ContainerRegistry",
      "digitalocean:index/kubernetesCluster:KubernetesCluster",
      "digitalocean:index/spacesBucket:SpacesBucket",
      "workbench:database:WorkbenchDatabase",
      "pulumi-nodejs:dynamic/workbench:database:MigrationSet",
      "workbench:kubernetes:Traefik",
      "workbench:kubernetes:CertManager",
      "workbench:kubernetes:MetricsServer",
      "workbench:kubernetes:Monitoring",
      "workbench:kubernetes:NetworkPolicies",
    ]) {
      expect(inventory[present], present).toBe(1);
    }
  });

  it("holds back everything that pulls from the registry: services, data-job CronJobs, App Platform apps", async () => {
    const inventory = mocks.inventory();
    for (const absent of [
      "workbench:kubernetes:WorkbenchServices",
      "workbench:kubernetes:DbtSchedules",
      "workbench:cloud:AppPlatformService",
      "digitalocean:index/app:App",
    ]) {
      expect(inventory[absent], absent).toBeUndefined();
    }
    const registry = "registry.digitalocean.com/ai-workbench/";
    const fromRegistry = mocks.resources
      .filter((resource) => resource.type.startsWith("kubernetes:"))
      .flatMap((resource) => imagesIn(resource.inputs).map((image) => `${resource.name}: ${image}`))
      .filter((entry) => entry.includes(registry));
    expect(fromRegistry).toEqual([]);
    // What it does deploy pulls public images only (the backups, n8n, LiteLLM, Redis).
    expect(mocks.ofType("kubernetes:batch/v1:CronJob").map((job) => job.inputs["metadata"]["name"])).toEqual([
      "postgres-backup-hourly",
      "postgres-backup-daily",
      "postgres-backup-weekly",
    ]);
    expect(outputs.workloadsDeployed).toBe(false);
    expect(outputs.urls).not.toHaveProperty("services");
  });

  it("denies all traffic by default in every namespace it manages (features.networkPolicies, on by default)", () => {
    const denied = mocks
      .ofType("kubernetes:networking.k8s.io/v1:NetworkPolicy")
      .filter((policy) => policy.inputs["metadata"]["name"] === "default-deny")
      .map((policy) => policy.inputs["metadata"]["namespace"])
      .sort();
    const namespaces = mocks
      .ofType("kubernetes:core/v1:Namespace")
      .map((namespace) => namespace.inputs["metadata"]["name"])
      .sort();
    expect(namespaces).toHaveLength(9);
    expect(denied).toEqual(namespaces);
  });

  it("protects the cluster, the registry and the Spaces bucket from deletion", () => {
    for (const type of [
      "digitalocean:index/kubernetesCluster:KubernetesCluster",
      "digitalocean:index/containerRegistry:ContainerRegistry",
      "digitalocean:index/spacesBucket:SpacesBucket",
    ]) {
      expect(mocks.one(type).protect, type).toBe(true);
    }
  });

  it("keeps the database layer on delete and replace: nothing dropped, no role or grant removed", () => {
    const layer = mocks.resources.filter((resource: RecordedResource) =>
      resource.type.startsWith("pulumi-nodejs:dynamic/workbench:database:"),
    );
    // Migrations, one login per automation, the grants of two of them, the apps' schemas, the LLM
    // callers' keys.
    expect(layer.map((resource) => resource.name).sort()).toEqual([
      "workbench-api",
      "workbench-backup",
      "workbench-catalog",
      "workbench-dbt-runner",
      "workbench-dbt-runner-grants",
      "workbench-migrations",
      "workbench-n8n",
      "workbench-n8n-grants",
      "workbench-prod-app-schemas",
      "workbench-prod-llm-callers",
      "workbench-usage",
    ]);
    // The LLM callers' key registrations hold no data: deleting them revokes the keys, as a
    // destroy or a rotation should. Everything else is kept.
    for (const resource of layer) {
      expect(resource.retainOnDelete, resource.name).toBe(resource.name !== "workbench-prod-llm-callers");
    }
    expect(mocks.one("pulumi-nodejs:dynamic/workbench:database:MigrationSet").inputs["dropOnDelete"]).toBe(
      false,
    );
  });

  it(`upgrades a first-deploy stack from ${BEFORE.commit.slice(0, 7)}: the Secrets only the services read wait for them`, () => {
    const { taken, gone } = successors(BEFORE.firstDeploy, mocks);
    // The workbench namespace's Supabase, integrations and pull Secrets belong to the services
    // now: no pod reads them before the services run (deployWorkloads), so they are deleted, not
    // replaced, and come back with the services under the same names.
    const hub = (name: string) =>
      `urn:pulumi:prod::ai-workbench::workbench:kubernetes:WorkbenchSecrets$kubernetes:core/v1:Secret::workbench-prod-secrets-${name}`;
    expect(gone.sort()).toEqual(
      [HUB_URN, hub("integrations-workbench"), hub("registry-workbench"), hub("supabase")].sort(),
    );
    for (const [urn, successor] of taken) {
      if (urn !== successor.urn) expect(successor.aliases, urn).toEqual([urn]);
      const shape = BEFORE.firstDeploy.secrets[urn];
      if (shape) expect(secretShape(successor), urn).toEqual(shape);
    }
    // Nothing registered reads them by name in the workbench namespace.
    const readers = mocks.resources.filter(
      (resource) =>
        resource.inputs["metadata"]?.["namespace"] === "ai-workbench" &&
        /"(supabase|registry|integrations)"/.test(JSON.stringify(resource.inputs["spec"] ?? {})),
    );
    expect(readers.map((resource) => resource.urn)).toEqual([]);
  });
});
