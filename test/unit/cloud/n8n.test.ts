import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import {
  FAKE_KUBECONFIG,
  installMocks,
  promiseOf,
  providerUrn,
  type RecordedResource,
} from "../../helpers/pulumi-mocks.ts";
import { chartSchemaErrors, N8N_SCHEMA } from "./chart-schemas.ts";

const mocks = await installMocks();
const { N8n } = await import("../../../components/kubernetes/n8n.ts");

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
    passwordSecret: { name: pulumi.output("n8n-core"), key: "DB_POSTGRESDB_PASSWORD" },
  },
  redis: {
    host: pulumi.output("n8n-redis.n8n.svc.cluster.local"),
    port: 6379,
    passwordSecret: { name: "n8n-redis-auth", key: "password" },
  },
  coreSecretName: pulumi.output("n8n-core"),
  extraEnvFromSecrets: ["integrations"],
});

describe("N8n", () => {
  let provider: k8s.Provider;
  let n8n: InstanceType<typeof N8n>;
  let release: RecordedResource;
  let values: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- chart values

  beforeAll(async () => {
    provider = new k8s.Provider("cluster-k8s", { kubeconfig: pulumi.secret(FAKE_KUBECONFIG) });
    n8n = new N8n("n8n", args(provider));
    await mocks.settle();
    release = mocks.one("kubernetes:helm.sh/v3:Release", "n8n");
    values = release.inputs["values"];
  });

  it("installs n8n's own chart (OCI) at the configured version through the cluster provider", async () => {
    expect(release.inputs).toMatchObject({
      name: "n8n",
      chart: "oci://ghcr.io/n8n-io/n8n-helm-chart/n8n",
      version: "1.11.0",
      namespace: "n8n",
    });
    expect(release.parent).toBe(await promiseOf(n8n.urn));
    expect(providerUrn(release.provider)).toBe(await promiseOf(provider.urn));
    expect(await promiseOf(n8n.url)).toBe("https://n8n.workbench.example.com/");
  });

  it("passes values that validate against the chart's own schema", () => {
    expect(chartSchemaErrors(N8N_SCHEMA, values)).toEqual([]);
  });

  it("the schema check catches bad values (it is not vacuous)", () => {
    expect(chartSchemaErrors(N8N_SCHEMA, { ...values, redis: { ...values["redis"], host: "" } })).toContain(
      '/redis/host must NOT have fewer than 1 characters {"limit":1}',
    );
  });

  it("runs queue mode: one main, 2+ autoscaled workers and 2 webhook processors on Redis", () => {
    expect(values["image"]).toEqual({
      repository: "docker.n8n.io/n8nio/n8n",
      tag: "2.11.2",
      pullPolicy: "IfNotPresent",
    });
    expect(values["replicaCount"]).toBe(1);
    expect(values["queueMode"]).toMatchObject({ enabled: true, workerReplicaCount: 2 });
    expect(values["webhookProcessor"]).toMatchObject({ enabled: true, replicaCount: 2 });
    expect(values["hpa"]["worker"]).toEqual({
      enabled: true,
      minReplicas: 2,
      maxReplicas: 6,
      targetCPUUtilizationPercentage: 70,
    });
    expect(values["redis"]).toEqual({
      enabled: true,
      useExternal: true,
      host: "n8n-redis.n8n.svc.cluster.local",
      port: 6379,
      passwordSecret: { name: "n8n-redis-auth", key: "password" },
    });
  });

  it("keeps state in Supabase PostgreSQL (own schema, TLS) and the encryption key in a Secret", () => {
    expect(values["database"]).toEqual({
      type: "postgresdb",
      useExternal: true,
      host: "db.example.supabase.co",
      port: 5432,
      database: "postgres",
      schema: "n8n",
      user: "postgres",
      passwordSecret: { name: "n8n-core", key: "DB_POSTGRESDB_PASSWORD" },
      ssl: { enabled: true, rejectUnauthorized: false },
    });
    expect(values["secretRefs"]).toEqual({ existingSecret: "n8n-core" });
    expect(values["config"]["extraEnvFrom"]).toEqual([{ secretRef: { name: "integrations" } }]);
  });

  it("is served through Traefik with TLS and exposes metrics", () => {
    const annotations = {
      "traefik.ingress.kubernetes.io/router.entrypoints": "websecure",
      "traefik.ingress.kubernetes.io/router.tls": "true",
    };
    // The certificate is cert-manager's, from Traefik's default TLS store: no ACME resolver named.
    expect(JSON.stringify(values["ingress"])).not.toContain("certresolver");
    expect(values["ingress"]).toMatchObject({
      enabled: true,
      className: "traefik",
      annotations,
      hosts: [{ host: "n8n.workbench.example.com", paths: [{ path: "/", pathType: "Prefix" }] }],
      tls: [{ hosts: ["n8n.workbench.example.com"] }],
      webhookProcessor: {
        enabled: true,
        className: "traefik",
        annotations,
        tls: [{ hosts: ["n8n.workbench.example.com"] }],
      },
    });
    expect(values["webhook"]).toMatchObject({ enabled: true, url: "https://n8n.workbench.example.com/" });
    expect(values["config"]["extraEnv"]).toContainEqual({ name: "N8N_METRICS", value: "true" });
    expect(values["podAnnotations"]).toMatchObject({
      "prometheus.io/scrape": "true",
      "prometheus.io/port": "5678",
    });
  });

  it("accepts the reserved workflowsDir without acting on it", async () => {
    new N8n("n8n-reserved", { ...args(provider), workflowsDir: "n8n-workflows" });
    await mocks.settle();
    expect(mocks.one("kubernetes:helm.sh/v3:Release", "n8n-reserved").inputs["values"]).toEqual(values);
  });

  it.each([
    [
      { mainReplicas: 2 },
      "x1: mainReplicas must be 1 (got 2): several main processes need multi-main, an n8n Enterprise feature; scale workerReplicas and webhookReplicas instead",
    ],
    [{ workerReplicas: 1 }, "x1: workerReplicas must be a whole number of at least 2 (got 1)"],
    [{ workerMaxReplicas: 40 }, "x1: workerMaxReplicas (40) must lie between workerReplicas (2) and 20"],
    [{ webhookReplicas: 1 }, "x1: webhookReplicas must be a whole number of at least 2 (got 1)"],
    [
      { image: "n8nio/n8n:stable" },
      'x1: image "n8nio/n8n:stable" uses the floating tag "stable": pin a version or a digest',
    ],
  ])("refuses %j", (overrides, message) => {
    expect(() => new N8n("x1", { ...args(provider), ...overrides })).toThrow(message);
  });

  it("refuses the public schema, which Supabase exposes over its API", () => {
    const base = args(provider);
    expect(() => new N8n("x2", { ...base, database: { ...base.database, schema: "public" } })).toThrow(
      "x2: database.schema must not be 'public': Supabase exposes it over its REST API; use a schema like 'n8n'",
    );
  });
});
