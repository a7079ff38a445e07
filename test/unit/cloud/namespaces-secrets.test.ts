import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import {
  FAKE_KUBECONFIG,
  installMocks,
  isSecretInput,
  promiseOf,
  providerUrn,
} from "../../helpers/pulumi-mocks.ts";

const mocks = await installMocks();
const { Namespaces, WORKBENCH_NAMESPACES } = await import("../../../components/kubernetes/namespaces.ts");
const { LiteLlm } = await import("../../../components/kubernetes/litellm.ts");
const { N8n } = await import("../../../components/kubernetes/n8n.ts");
const { WorkbenchServices } = await import("../../../components/kubernetes/workbench-services.ts");
const { formerHubSecret } = await import("../../../components/kubernetes/owned-secret.ts");

let provider: k8s.Provider;
let providerRef: string;
beforeAll(async () => {
  provider = new k8s.Provider("cluster-k8s", { kubeconfig: pulumi.secret(FAKE_KUBECONFIG) });
  providerRef = await promiseOf(provider.urn);
});

describe("Namespaces", () => {
  it("creates the workbench namespaces (the seed's eight and cert-manager) with Pod Security labels, through the cluster provider", async () => {
    const namespaces = new Namespaces("wb-ns", { provider, enforceIn: { monitoring: "privileged" } });
    await mocks.settle();
    const urn = await promiseOf(namespaces.urn);
    const created = mocks.ofType("kubernetes:core/v1:Namespace");
    expect(WORKBENCH_NAMESPACES).toEqual([
      "ai-workbench",
      "n8n",
      "litellm",
      "qdrant",
      "neo4j",
      "langfuse",
      "traefik",
      "monitoring",
      "cert-manager",
    ]);
    expect(created.map((namespace) => namespace.inputs["metadata"]["name"]).sort()).toEqual(
      [...WORKBENCH_NAMESPACES].sort(),
    );
    for (const namespace of created) {
      expect(namespace.name).toBe(`wb-ns-${namespace.inputs["metadata"]["name"]}`);
      expect(namespace.parent).toBe(urn);
      expect(providerUrn(namespace.provider)).toBe(providerRef);
      const name = namespace.inputs["metadata"]["name"];
      expect(namespace.inputs["metadata"]["labels"]).toMatchObject({
        // node-exporter (host network, PIDs, paths) runs in monitoring only.
        "pod-security.kubernetes.io/enforce": name === "monitoring" ? "privileged" : "baseline",
        "pod-security.kubernetes.io/audit": "restricted",
        "pod-security.kubernetes.io/warn": "restricted",
      });
    }
    expect(await promiseOf(namespaces.nameOf("litellm"))).toBe("litellm");
    expect(() => namespaces.nameOf("kafka")).toThrow("namespace 'kafka' is not managed here");
  });

  it("refuses duplicates and invalid names", () => {
    expect(() => new Namespaces("dup", { provider, names: ["a", "a"] })).toThrow(
      "dup: namespace a is listed twice",
    );
    expect(() => new Namespaces("bad", { provider, names: ["AI_Workbench"] })).toThrow(
      "bad: namespace names must be DNS labels (got AI_Workbench)",
    );
    expect(() => new Namespaces("odd", { provider, names: ["a"], enforceIn: { b: "privileged" } })).toThrow(
      "odd: enforceIn names b, which is not managed here",
    );
  });
});

/**
 * Each component owns the Secrets its pods read (once a WorkbenchSecrets hub held them all):
 * the gateway its keys, n8n its core and integrations Secrets, the workbench services the
 * Supabase, integrations and registry pull Secrets.
 */
describe("the components' own Secrets", () => {
  let gateway: InstanceType<typeof LiteLlm>;
  let n8n: InstanceType<typeof N8n>;
  let services: InstanceType<typeof WorkbenchServices>;
  const integrations = {
    ODOO_API_KEY: undefined,
    MATTERMOST_WEBHOOK_URL: pulumi.secret("https://chat.example.com/hooks/x"),
    LITELLM_API_KEY: pulumi.secret("sk-master"),
  };

  beforeAll(async () => {
    gateway = new LiteLlm("litellm", {
      provider,
      namespace: "litellm",
      image: "ghcr.io/berriai/litellm:v1.80.11-stable.1",
      redisImage: "redis:7.4.2-alpine",
      routing: {
        primary: "anthropic/claude-sonnet-4-5-20250929",
        fallbacks: ["openai/gpt-4o-mini"],
        budget: "gemini/gemini-2.5-flash-lite",
        rpmPerUser: 500,
        tpmPerUser: 10_000,
        cacheTtlSeconds: 3600,
      },
      keys: {
        masterKey: pulumi.secret("sk-master"),
        providerKeys: {
          ANTHROPIC_API_KEY: pulumi.secret("anthropic"),
          OPENAI_API_KEY: pulumi.secret("openai"),
        },
        langfuse: { publicKey: pulumi.secret("pk-lf"), secretKey: pulumi.secret("sk-lf") },
        usageDatabaseUrl: pulumi.secret("postgresql://usage:p@db:6543/postgres"),
      },
      host: "litellm.workbench.example.com",
      clientNamespaces: ["ai-workbench"],
    });
    n8n = new N8n("n8n", {
      provider,
      namespace: "n8n",
      chartVersion: "1.11.0",
      image: "docker.n8n.io/n8nio/n8n:2.11.2",
      host: "n8n.workbench.example.com",
      database: { host: "db", port: 5432, name: "postgres", user: "n8n", schema: "n8n", sslMode: "require" },
      redis: { host: "redis", port: 6379, passwordSecret: { name: "n8n-redis-auth", key: "password" } },
      core: {
        encryptionKey: pulumi.secret("0123456789abcdef0123456789abcdef"),
        databasePassword: pulumi.secret("db-password"),
      },
      integrations: { data: integrations },
    });
    services = new WorkbenchServices("workbench", {
      provider,
      namespace: "ai-workbench",
      services: [{ name: "api", image: "registry.example.com/api:1.0.0", port: 8000 }],
      supabase: {
        serviceRoleKey: pulumi.secret("service-role"),
        databaseUrl: pulumi.secret("postgresql://u:p@db:6543/postgres"),
        // A stack deployed before the move: the Secret keeps its resource name, aliased to its old URN.
        origin: formerHubSecret("wb-secrets", "supabase"),
      },
      integrations: { data: integrations },
      registry: { dockerConfigJson: pulumi.secret('{"auths":{}}') },
    });
    await mocks.settle();
  });

  const secret = (name: string) => mocks.one("kubernetes:core/v1:Secret", name);

  it("puts each credential in the Secret and namespace its consumers read", () => {
    expect(secret("wb-secrets-supabase").inputs).toMatchObject({
      metadata: { name: "supabase", namespace: "ai-workbench" },
      type: "Opaque",
      stringData: {
        SUPABASE_SERVICE_ROLE_KEY: "service-role",
        DATABASE_URL: "postgresql://u:p@db:6543/postgres",
      },
    });
    expect(secret("litellm-keys").inputs).toMatchObject({
      metadata: { name: "litellm-keys", namespace: "litellm" },
      stringData: {
        ANTHROPIC_API_KEY: "anthropic",
        OPENAI_API_KEY: "openai",
        LITELLM_MASTER_KEY: "sk-master",
        LANGFUSE_PUBLIC_KEY: "pk-lf",
        LANGFUSE_SECRET_KEY: "sk-lf",
        WORKBENCH_USAGE_DATABASE_URL: "postgresql://usage:p@db:6543/postgres",
      },
    });
    // No DATABASE_URL: LiteLLM would take it for a (Prisma) database of its own.
    expect(secret("litellm-keys").inputs["stringData"]).not.toHaveProperty("DATABASE_URL");
    expect(secret("n8n-core").inputs["stringData"]).toEqual({
      N8N_ENCRYPTION_KEY: "0123456789abcdef0123456789abcdef",
      N8N_HOST: "n8n.workbench.example.com",
      N8N_PORT: "5678",
      N8N_PROTOCOL: "http",
      DB_POSTGRESDB_PASSWORD: "db-password",
    });
    expect(secret("workbench-registry").inputs).toMatchObject({
      metadata: { name: "registry", namespace: "ai-workbench" },
      type: "kubernetes.io/dockerconfigjson",
      stringData: { ".dockerconfigjson": '{"auths":{}}' },
    });
  });

  it("puts the integration credentials in the workbench and n8n namespaces, leaving absent ones out", () => {
    for (const [resource, namespace] of [
      ["workbench-integrations", "ai-workbench"],
      ["n8n-integrations", "n8n"],
    ]) {
      expect(secret(resource as string).inputs["metadata"]).toMatchObject({
        name: "integrations",
        namespace,
      });
      expect(secret(resource as string).inputs["stringData"]).toEqual({
        MATTERMOST_WEBHOOK_URL: "https://chat.example.com/hooks/x",
        LITELLM_API_KEY: "sk-master",
      });
    }
  });

  it("keeps every Secret's data secret, through the cluster provider, under the component that reads it", async () => {
    const owners: Record<string, pulumi.ComponentResource> = {
      "litellm-keys": gateway,
      "n8n-core": n8n,
      "n8n-integrations": n8n,
      "wb-secrets-supabase": services,
      "workbench-integrations": services,
      "workbench-registry": services,
    };
    for (const [name, owner] of Object.entries(owners)) {
      const recorded = secret(name);
      expect(isSecretInput(recorded.rawInputs["stringData"]), name).toBe(true);
      expect(recorded.parent, name).toBe(await promiseOf(owner.urn));
      expect(providerUrn(recorded.provider), name).toBe(providerRef);
    }
    expect(await promiseOf(gateway.keysSecretName)).toBe("litellm-keys");
    expect(await promiseOf(pulumi.output(services.imagePullSecret) as pulumi.Output<string>)).toBe(
      "registry",
    );
  });

  it("keeps a Secret created before its component owned it: its resource name, and an alias to its old URN", () => {
    const moved = secret("wb-secrets-supabase");
    expect(moved.aliases).toEqual([
      "urn:pulumi:test::ai-workbench::workbench:kubernetes:WorkbenchSecrets$kubernetes:core/v1:Secret::wb-secrets-supabase",
    ]);
    expect(secret("workbench-registry").aliases).toEqual([]);
  });

  it("starts the services once their Secrets exist", () => {
    const api = mocks.one("kubernetes:apps/v1:Deployment", "workbench-api");
    for (const name of ["wb-secrets-supabase", "workbench-integrations", "workbench-registry"]) {
      expect(api.dependencies, name).toContain(secret(name).urn);
    }
  });

  it("refuses a gateway without provider keys and an n8n host that is no DNS name", () => {
    const base = { masterKey: "m", usageDatabaseUrl: "u" };
    expect(
      () =>
        new LiteLlm("no-keys", {
          provider,
          namespace: "litellm",
          image: "ghcr.io/berriai/litellm:v1.80.11-stable.1",
          redisImage: "redis:7.4.2-alpine",
          routing: {
            primary: "anthropic/claude-sonnet-4-5-20250929",
            fallbacks: [],
            budget: "gemini/gemini-2.5-flash-lite",
            rpmPerUser: 1,
            tpmPerUser: 1,
            cacheTtlSeconds: 1,
          },
          keys: { ...base, providerKeys: {} },
          host: "litellm.example.com",
          clientNamespaces: [],
        }),
    ).toThrow("no-keys: keys.providerKeys is empty: the gateway needs at least one provider key");
    expect(
      () =>
        new N8n("bad-host", {
          provider,
          namespace: "n8n",
          chartVersion: "1.11.0",
          image: "docker.n8n.io/n8nio/n8n:2.11.2",
          host: "N8N.example.com",
          database: {
            host: "db",
            port: 5432,
            name: "postgres",
            user: "n8n",
            schema: "n8n",
            sslMode: "require",
          },
          redis: { host: "redis", port: 6379, passwordSecret: { name: "r", key: "password" } },
          core: { encryptionKey: "k", databasePassword: "p" },
        }),
    ).toThrow("bad-host: host 'N8N.example.com' must be a DNS name");
  });
});
