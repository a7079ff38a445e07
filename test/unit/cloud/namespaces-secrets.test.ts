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
const { WorkbenchSecrets } = await import("../../../components/kubernetes/secrets.ts");

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

describe("WorkbenchSecrets", () => {
  let secrets: InstanceType<typeof WorkbenchSecrets>;

  beforeAll(async () => {
    secrets = new WorkbenchSecrets("wb-secrets", {
      provider,
      workbenchNamespace: "ai-workbench",
      supabase: {
        serviceRoleKey: pulumi.secret("service-role"),
        databaseUrl: pulumi.secret("postgresql://u:p@db:6543/postgres"),
      },
      llm: {
        namespace: "litellm",
        masterKey: pulumi.secret("sk-master"),
        providerKeys: {
          ANTHROPIC_API_KEY: pulumi.secret("anthropic"),
          OPENAI_API_KEY: pulumi.secret("openai"),
        },
        langfuse: { publicKey: pulumi.secret("pk-lf"), secretKey: pulumi.secret("sk-lf") },
        usageDatabaseUrl: pulumi.secret("postgresql://usage:p@db:6543/postgres"),
      },
      n8n: {
        namespace: "n8n",
        encryptionKey: pulumi.secret("0123456789abcdef0123456789abcdef"),
        host: "n8n.workbench.example.com",
        databasePassword: pulumi.secret("db-password"),
      },
      integrations: {
        mattermostWebhookUrl: pulumi.secret("https://chat.example.com/hooks/x"),
        litellmApiKey: pulumi.secret("sk-master"),
      },
      registry: {
        dockerConfigJson: pulumi.secret('{"auths":{}}'),
        namespaces: { workbench: "ai-workbench" },
      },
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
    expect(secret("wb-secrets-llm").inputs).toMatchObject({
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
    expect(secret("wb-secrets-llm").inputs["stringData"]).not.toHaveProperty("DATABASE_URL");
    expect(secret("wb-secrets-n8n").inputs["stringData"]).toEqual({
      N8N_ENCRYPTION_KEY: "0123456789abcdef0123456789abcdef",
      N8N_HOST: "n8n.workbench.example.com",
      N8N_PORT: "5678",
      N8N_PROTOCOL: "http",
      DB_POSTGRESDB_PASSWORD: "db-password",
    });
    expect(secret("wb-secrets-registry-workbench").inputs).toMatchObject({
      metadata: { name: "registry", namespace: "ai-workbench" },
      type: "kubernetes.io/dockerconfigjson",
      stringData: { ".dockerconfigjson": '{"auths":{}}' },
    });
  });

  it("puts the integration credentials in the workbench and n8n namespaces, leaving absent ones out", () => {
    for (const [resource, namespace] of [
      ["wb-secrets-integrations-workbench", "ai-workbench"],
      ["wb-secrets-integrations-n8n", "n8n"],
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

  it("keeps every Secret's data secret, through the cluster provider, under the component", async () => {
    const urn = await promiseOf(secrets.urn);
    const all = mocks.ofType("kubernetes:core/v1:Secret");
    expect(all).toHaveLength(6);
    for (const recorded of all) {
      expect(isSecretInput(recorded.rawInputs["stringData"]), recorded.name).toBe(true);
      expect(recorded.parent).toBe(urn);
      expect(providerUrn(recorded.provider)).toBe(providerRef);
    }
    expect(await promiseOf(secrets.n8nSecretName as pulumi.Output<string>)).toBe("n8n-core");
    expect(await promiseOf(secrets.llmSecretName as pulumi.Output<string>)).toBe("litellm-keys");
  });

  it("refuses a gateway without provider keys", () => {
    expect(
      () =>
        new WorkbenchSecrets("no-keys", {
          provider,
          workbenchNamespace: "ai-workbench",
          supabase: { serviceRoleKey: "k", databaseUrl: "u" },
          llm: { namespace: "litellm", masterKey: "m", providerKeys: {}, usageDatabaseUrl: "u" },
        }),
    ).toThrow("no-keys: llm.providerKeys is empty: the gateway needs at least one provider key");
  });
});
