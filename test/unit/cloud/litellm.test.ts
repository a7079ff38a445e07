import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import YAML from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import {
  FAKE_KUBECONFIG,
  installMocks,
  isSecretInput,
  promiseOf,
  providerUrn,
  type RecordedResource,
} from "../../helpers/pulumi-mocks.ts";

const mocks = await installMocks();
const { LiteLlm } = await import("../../../components/kubernetes/litellm.ts");
const { renderLiteLlmConfig } = await import("../../../components/kubernetes/litellm-config.ts");

const routing = {
  primary: "anthropic/claude-sonnet-4-5-20250929",
  fallbacks: ["openai/gpt-4o-mini", "gemini/gemini-2.5-flash"],
  budget: "gemini/gemini-2.5-flash-lite",
  rpmPerUser: 500,
  tpmPerUser: 10_000,
  cacheTtlSeconds: 3600,
  langfuseHost: "https://cloud.langfuse.com",
};
const args = (provider: k8s.Provider) => ({
  provider,
  namespace: "litellm",
  image: "ghcr.io/berriai/litellm:v1.80.11-stable.1",
  redisImage: "redis:7.4.2-alpine",
  routing,
  keysSecretName: "litellm-keys",
  host: "litellm.workbench.example.com",
});

describe("LiteLlm", () => {
  let provider: k8s.Provider;
  let gateway: InstanceType<typeof LiteLlm>;
  let deployment: RecordedResource;
  let container: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- resource inputs

  beforeAll(async () => {
    provider = new k8s.Provider("cluster-k8s", { kubeconfig: pulumi.secret(FAKE_KUBECONFIG) });
    gateway = new LiteLlm("litellm", args(provider));
    await mocks.settle();
    deployment = mocks.one("kubernetes:apps/v1:Deployment", "litellm");
    container = deployment.inputs["spec"]["template"]["spec"]["containers"][0];
  });

  it("runs 3 replicas with requests and limits, non-root, read-only root filesystem", () => {
    expect(deployment.inputs["metadata"]).toMatchObject({ name: "litellm", namespace: "litellm" });
    expect(deployment.inputs["spec"]["replicas"]).toBe(3);
    expect(container["image"]).toBe("ghcr.io/berriai/litellm:v1.80.11-stable.1");
    expect(container["resources"]).toEqual({
      requests: { cpu: "500m", memory: "512Mi" },
      limits: { cpu: "2", memory: "2Gi" },
    });
    expect(container["securityContext"]).toEqual({
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    });
    expect(deployment.inputs["spec"]["template"]["spec"]["securityContext"]).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 1000,
    });
  });

  it("probes LiteLLM's health endpoints", () => {
    expect(container["livenessProbe"]["httpGet"]).toEqual({ path: "/health/liveliness", port: "http" });
    expect(container["readinessProbe"]["httpGet"]).toEqual({ path: "/health/readiness", port: "http" });
    expect(container["startupProbe"]["httpGet"]).toEqual({ path: "/health/liveliness", port: "http" });
    expect(container["ports"]).toEqual([{ name: "http", containerPort: 4000 }]);
  });

  it("reads every key from Secrets, never from a literal", () => {
    const fromSecret = Object.fromEntries(
      container["env"]
        .filter((env: { valueFrom?: unknown }) => env.valueFrom)
        .map((env: { name: string; valueFrom: { secretKeyRef: { name: string; key: string } } }) => [
          env.name,
          `${env.valueFrom.secretKeyRef.name}/${env.valueFrom.secretKeyRef.key}`,
        ]),
    );
    expect(fromSecret).toEqual({
      ANTHROPIC_API_KEY: "litellm-keys/ANTHROPIC_API_KEY",
      OPENAI_API_KEY: "litellm-keys/OPENAI_API_KEY",
      GEMINI_API_KEY: "litellm-keys/GEMINI_API_KEY",
      LITELLM_MASTER_KEY: "litellm-keys/LITELLM_MASTER_KEY",
      DATABASE_URL: "litellm-keys/DATABASE_URL",
      REDIS_PASSWORD: "litellm-redis-auth/password",
      LANGFUSE_PUBLIC_KEY: "litellm-keys/LANGFUSE_PUBLIC_KEY",
      LANGFUSE_SECRET_KEY: "litellm-keys/LANGFUSE_SECRET_KEY",
    });
    const literals = container["env"].filter((env: { value?: string }) => env.value !== undefined);
    expect(literals.map((env: { name: string }) => env.name)).toEqual([
      "LANGFUSE_HOST",
      "HOME",
      "XDG_CACHE_HOME",
    ]);
  });

  it("mounts config.yaml generated from the routing spec, pointing at its Redis", async () => {
    const configMap = mocks.one("kubernetes:core/v1:ConfigMap");
    const expected = renderLiteLlmConfig({
      ...routing,
      cache: { host: "litellm-redis.litellm.svc.cluster.local", port: 6379, ttlSeconds: 3600 },
      langfuse: true,
      prometheus: true,
    });
    expect(configMap.inputs["data"]["config.yaml"]).toBe(expected);
    expect(await promiseOf(gateway.configYaml)).toBe(expected);
    expect(YAML.parse(expected)["litellm_settings"]["cache_params"]["ttl"]).toBe(3600);
    expect(container["args"]).toEqual([
      "--config",
      "/etc/litellm/config.yaml",
      "--port",
      "4000",
      "--num_workers",
      "2",
    ]);
    expect(
      deployment.inputs["spec"]["template"]["metadata"]["annotations"]["workbench/config-sha256"],
    ).toMatch(/^[a-f0-9]{64}$/);
  });

  it("exposes a Service, a TLS Ingress and a disruption budget", () => {
    expect(mocks.one("kubernetes:core/v1:Service", "litellm-service").inputs["spec"]["ports"]).toEqual([
      { name: "http", port: 4000, targetPort: "http" },
    ]);
    const ingress = mocks.one("kubernetes:networking.k8s.io/v1:Ingress").inputs;
    expect(ingress["spec"]["tls"]).toEqual([{ hosts: ["litellm.workbench.example.com"] }]);
    expect(ingress["spec"]["ingressClassName"]).toBe("traefik");
    expect(ingress["spec"]["rules"][0]["host"]).toBe("litellm.workbench.example.com");
    // TLS comes from the cert-manager Certificate in Traefik's default store, not an ACME resolver.
    expect(ingress["metadata"]["annotations"]["traefik.ingress.kubernetes.io/router.tls"]).toBe("true");
    expect(ingress["metadata"]["annotations"]).not.toHaveProperty(
      "traefik.ingress.kubernetes.io/router.tls.certresolver",
    );
    expect(mocks.one("kubernetes:policy/v1:PodDisruptionBudget").inputs["spec"]["minAvailable"]).toBe(2);
  });

  it("runs its Redis cache (LRU, password in a Secret) as a child component", async () => {
    const urn = await promiseOf(gateway.urn);
    const redis = mocks.one("workbench:kubernetes:Redis");
    expect(redis.parent).toBe(urn);
    const redisDeployment = mocks.one("kubernetes:apps/v1:Deployment", "litellm-redis");
    expect(redisDeployment.parent).toBe(redis.urn);
    expect(redisDeployment.inputs["spec"]["template"]["spec"]["containers"][0]["args"]).toContain(
      "allkeys-lru",
    );
    const auth = mocks.one("kubernetes:core/v1:Secret", "litellm-redis-auth");
    expect(isSecretInput(auth.rawInputs["stringData"])).toBe(true);
    expect(auth.inputs["stringData"]).toEqual({ password: "mock-password-litellm-redis-password" });
    expect(mocks.one("random:index/randomPassword:RandomPassword").parent).toBe(redis.urn);
  });

  it("creates every Kubernetes object through the cluster provider", async () => {
    const providerRef = await promiseOf(provider.urn);
    const objects = mocks.resources.filter((resource) => resource.type.startsWith("kubernetes:"));
    expect(objects.length).toBe(8);
    for (const object of objects) expect(providerUrn(object.provider), object.name).toBe(providerRef);
  });

  it.each([
    [{ replicas: 1 }, "l1: replicas must be a whole number of at least 2 (got 1)"],
    [
      { image: "ghcr.io/berriai/litellm" },
      'l1: image "ghcr.io/berriai/litellm" has no tag: pin a version (e.g. :1.2.3) or a digest',
    ],
    [
      { routing: { ...routing, primary: "mistral/large" } },
      "l1: model 'mistral/large' must be '<provider>/<model>' with provider anthropic, openai or gemini",
    ],
    [
      { routing: { ...routing, fallbacks: ["anthropic/claude-sonnet-4-5-20250929"] } },
      "l1: model 'anthropic/claude-sonnet-4-5-20250929' appears twice in the routing chain (primary, then fallbacks)",
    ],
  ])("refuses %j", (overrides, message) => {
    expect(() => new LiteLlm("l1", { ...args(provider), ...overrides })).toThrow(message);
  });
});
