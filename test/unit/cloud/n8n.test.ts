import { readFileSync } from "node:fs";
import { join } from "node:path";
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
import { REPO_ROOT } from "../../../lib/paths.ts";

const mocks = await installMocks();
const { N8n } = await import("../../../components/kubernetes/n8n.ts");
const { N8N_WORKFLOW_BODY_LIMIT_BYTES, traefikFileConfig, n8nEdge } =
  await import("../../../components/kubernetes/n8n-edge.ts");

const MIDDLEWARE = "kubernetes:traefik.io/v1alpha1:Middleware";
const INGRESS = "kubernetes:networking.k8s.io/v1:Ingress";
/** Every path n8n's chart routes to the webhook processors (its ingress-webhook.yaml). */
const CHART_WEBHOOK_PATHS = ["/webhook/", "/webhook-waiting/", "/form/", "/form-waiting/", "/mcp/"];

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
  redis: {
    host: pulumi.output("n8n-redis.n8n.svc.cluster.local"),
    port: 6379,
    passwordSecret: { name: "n8n-redis-auth", key: "password" },
  },
  core: {
    encryptionKey: pulumi.secret("0123456789abcdef0123456789abcdef"),
    databasePassword: pulumi.secret("db-password"),
  },
  integrations: {
    data: {
      ODOO_API_KEY: undefined,
      MATTERMOST_WEBHOOK_URL: pulumi.secret("https://chat.example.com/hooks/x"),
      LITELLM_API_KEY: pulumi.secret("sk-master"),
    },
  },
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
      // The webhook processors' Ingresses are the component's (below), not the chart's.
      webhookProcessor: { enabled: false },
    });
    // No body limit on the editor's routes (see N8N_EDGE_ROUTES).
    expect(values["ingress"]["annotations"]).not.toHaveProperty(
      "traefik.ingress.kubernetes.io/router.middlewares",
    );
    expect(values["webhook"]).toMatchObject({ enabled: true, url: "https://n8n.workbench.example.com/" });
    expect(values["config"]["extraEnv"]).toContainEqual({ name: "N8N_METRICS", value: "true" });
    expect(values["podAnnotations"]).toMatchObject({
      "prometheus.io/scrape": "true",
      "prometheus.io/port": "5678",
    });
  });

  it("limits webhook bodies in Traefik: a buffering Middleware at n8n's own 32 MiB limit", async () => {
    const middleware = mocks.one(MIDDLEWARE, "n8n-body-limit");
    expect(middleware.inputs).toEqual({
      apiVersion: "traefik.io/v1alpha1",
      kind: "Middleware",
      metadata: { name: "n8n-body-limit", namespace: "n8n" },
      spec: { buffering: { maxRequestBodyBytes: 33554432 } },
    });
    expect(middleware.parent).toBe(await promiseOf(n8n.urn));
    expect(providerUrn(middleware.provider)).toBe(await promiseOf(provider.urn));
  });

  it("routes every webhook path of the chart once, the production and waiting webhooks through the limit", async () => {
    const ingresses = mocks.ofType(INGRESS).filter((i) => i.name.startsWith("n8n-"));
    expect(ingresses.map((i) => i.name).sort()).toEqual(["n8n-webhook-streams", "n8n-webhooks"]);
    const routed: [string, string, boolean][] = [];
    for (const ingress of ingresses) {
      expect(ingress.parent).toBe(await promiseOf(n8n.urn));
      expect(providerUrn(ingress.provider)).toBe(await promiseOf(provider.urn));
      expect(ingress.inputs["metadata"]).toMatchObject({ name: ingress.name, namespace: "n8n" });
      expect(ingress.inputs["spec"]).toMatchObject({
        ingressClassName: "traefik",
        tls: [{ hosts: ["n8n.workbench.example.com"] }],
      });
      const annotations = ingress.inputs["metadata"]["annotations"];
      expect(annotations).toMatchObject({
        "traefik.ingress.kubernetes.io/router.entrypoints": "websecure",
        "traefik.ingress.kubernetes.io/router.tls": "true",
      });
      const limited = annotations["traefik.ingress.kubernetes.io/router.middlewares"];
      expect([undefined, "n8n-n8n-body-limit@kubernetescrd"]).toContain(limited);
      const [rule] = ingress.inputs["spec"]["rules"];
      expect(rule["host"]).toBe("n8n.workbench.example.com");
      for (const path of rule["http"]["paths"]) {
        expect(path).toMatchObject({
          pathType: "Prefix",
          backend: { service: { name: "n8n-webhook-processor", port: { number: 5678 } } },
        });
        routed.push([path["path"], ingress.name, limited !== undefined]);
      }
    }
    expect(routed.map(([path]) => path).sort()).toEqual([...CHART_WEBHOOK_PATHS].sort());
    // Limited: the JSON webhooks. Not: form uploads (n8n's own file limit) and MCP's event
    // streams (the buffering middleware would hold a stream back until it ends).
    expect(routed.filter(([, , limited]) => limited).map(([path]) => path)).toEqual([
      "/webhook/",
      "/webhook-waiting/",
    ]);
    // The limited Ingress waits for its Middleware.
    const limitedIngress = mocks.one(INGRESS, "n8n-webhooks");
    expect(limitedIngress.dependencies).toContain(mocks.one(MIDDLEWARE, "n8n-body-limit").urn);
  });

  it("ties the default limit to the workflows' own: the deployed workflow refuses above 16 MiB itself", () => {
    const workflow = readFileSync(join(REPO_ROOT, "n8n-workflows/real-time-transactions.json"), "utf8");
    expect(workflow).toContain("const MAX_BODY_BYTES = 16 * 1024 * 1024;");
    expect(N8N_WORKFLOW_BODY_LIMIT_BYTES).toBe(16 * 1024 * 1024);
    const env = values["config"]["extraEnv"] as { name: string; value: string }[];
    expect(env).toContainEqual({ name: "N8N_PAYLOAD_SIZE_MAX", value: "32" });
  });

  it("takes another limit between the workflows' and n8n's, and waits for the Traefik release", async () => {
    const traefik = new k8s.helm.v3.Release("traefik-for-n8n", { chart: "traefik" }, { provider });
    new N8n("n8n-small", { ...args(provider), webhookBodyLimitBytes: 16777216, traefik });
    await mocks.settle();
    const middleware = mocks.one(MIDDLEWARE, "n8n-small-body-limit");
    expect(middleware.inputs["spec"]).toEqual({ buffering: { maxRequestBodyBytes: 16777216 } });
    expect(middleware.inputs["metadata"]["name"]).toBe("n8n-small-body-limit");
    expect(middleware.dependencies).toContain(await promiseOf(traefik.urn));
    expect(
      mocks.one(INGRESS, "n8n-small-webhooks").inputs["metadata"]["annotations"][
        "traefik.ingress.kubernetes.io/router.middlewares"
      ],
    ).toBe("n8n-n8n-small-body-limit@kubernetescrd");
  });

  it("renders the same routes as a Traefik file-provider config (the edge test runs it)", () => {
    const edge = n8nEdge({ releaseName: "n8n", host: "n8n.test", maxRequestBodyBytes: 33554432 });
    const config = traefikFileConfig(
      edge,
      { main: "http://m:1", "webhook-processor": "http://w:2" },
      "web",
    ) as {
      http: { routers: Record<string, { rule: string; service: string; middlewares?: string[] }> };
    };
    expect(config).toMatchObject({
      http: {
        middlewares: { "n8n-body-limit": { buffering: { maxRequestBodyBytes: 33554432 } } },
        services: {
          "n8n-main": { loadBalancer: { servers: [{ url: "http://m:1" }] } },
          "n8n-webhook-processor": { loadBalancer: { servers: [{ url: "http://w:2" }] } },
        },
      },
    });
    const rows = Object.values(config.http.routers).map((r) => [r.rule, r.service, r.middlewares ?? []]);
    expect(rows).toEqual([
      ["Host(`n8n.test`) && PathPrefix(`/`)", "n8n-main", []],
      ["Host(`n8n.test`) && PathPrefix(`/webhook/`)", "n8n-webhook-processor", ["n8n-body-limit"]],
      ["Host(`n8n.test`) && PathPrefix(`/webhook-waiting/`)", "n8n-webhook-processor", ["n8n-body-limit"]],
      ["Host(`n8n.test`) && PathPrefix(`/form/`)", "n8n-webhook-processor", []],
      ["Host(`n8n.test`) && PathPrefix(`/form-waiting/`)", "n8n-webhook-processor", []],
      ["Host(`n8n.test`) && PathPrefix(`/mcp/`)", "n8n-webhook-processor", []],
    ]);
  });

  it("accepts the reserved workflowsDir without acting on it", async () => {
    new N8n("n8n-reserved", { ...args(provider), workflowsDir: "n8n-workflows" });
    await mocks.settle();
    // The same values, but for the names of its own Secrets (`<name>-core`).
    const reserved = JSON.stringify(
      mocks.one("kubernetes:helm.sh/v3:Release", "n8n-reserved").inputs["values"],
    );
    expect(JSON.parse(reserved.replaceAll('"n8n-reserved-core"', '"n8n-core"'))).toEqual(values);
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
      { webhookBodyLimitBytes: 16777215 },
      "x1: webhookBodyLimitBytes must be a whole number of bytes from 16777216 (the workflows' own limit, 16 MiB) to 33554432 (n8n's N8N_PAYLOAD_SIZE_MAX, 32 MiB) (got 16777215)",
    ],
    [
      { webhookBodyLimitBytes: 33554433 },
      "x1: webhookBodyLimitBytes must be a whole number of bytes from 16777216 (the workflows' own limit, 16 MiB) to 33554432 (n8n's N8N_PAYLOAD_SIZE_MAX, 32 MiB) (got 33554433)",
    ],
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
