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
const { renderGatewayConfig } = await import("../../../components/kubernetes/litellm-config.ts");
const { gatewayPythonSources } = await import("../../../lib/litellm/gateway.ts");

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
  keys: {
    masterKey: pulumi.secret("sk-master"),
    providerKeys: {
      ANTHROPIC_API_KEY: pulumi.secret("anthropic"),
      OPENAI_API_KEY: pulumi.secret("openai"),
      GEMINI_API_KEY: pulumi.secret("gemini"),
    },
    langfuse: { publicKey: pulumi.secret("pk-lf"), secretKey: pulumi.secret("sk-lf") },
    usageDatabaseUrl: pulumi.secret("postgresql://usage:p@db:6543/postgres"),
  },
  host: "litellm.workbench.example.com",
  clientNamespaces: ["traefik", "ai-workbench", "monitoring"],
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
      // The workbench database under a name LiteLLM does not take for its own Prisma database.
      WORKBENCH_USAGE_DATABASE_URL: "litellm-keys/WORKBENCH_USAGE_DATABASE_URL",
      REDIS_PASSWORD: "litellm-redis-auth/password",
      LANGFUSE_PUBLIC_KEY: "litellm-keys/LANGFUSE_PUBLIC_KEY",
      LANGFUSE_SECRET_KEY: "litellm-keys/LANGFUSE_SECRET_KEY",
    });
    const literals = container["env"].filter((env: { value?: string }) => env.value !== undefined);
    expect(literals.map((env: { name: string }) => env.name)).toEqual([
      "LANGFUSE_HOST",
      "PROMETHEUS_MULTIPROC_DIR",
      "LITELLM_LOCAL_MODEL_COST_MAP",
      "LITELLM_MODE",
      "HOME",
      "XDG_CACHE_HOME",
    ]);
    expect(container["env"]).not.toContainEqual(expect.objectContaining({ name: "DATABASE_URL" }));
  });

  it("mounts config.yaml generated from the settings, pointing at its Redis, with the workbench modules beside it", async () => {
    const configMap = mocks.one("kubernetes:core/v1:ConfigMap");
    const expected = renderGatewayConfig(routing, {
      redis: { host: "litellm-redis.litellm.svc.cluster.local", port: 6379 },
    });
    expect(configMap.inputs["data"]).toEqual({ "config.yaml": expected, ...gatewayPythonSources() });
    expect(Object.keys(gatewayPythonSources()).sort()).toEqual([
      "workbench_auth.py",
      "workbench_common.py",
      "workbench_usage.py",
    ]);
    expect(await promiseOf(gateway.configYaml)).toBe(expected);
    const parsed = YAML.parse(expected);
    expect(parsed["litellm_settings"]["cache_params"]["ttl"]).toBe(3600);
    // The safeguards the cluster runs: custom auth, the usage recorder, timeouts (seed 004).
    expect(parsed["general_settings"]["custom_auth"]).toBe("workbench_auth.user_api_key_auth");
    expect(parsed["litellm_settings"]["callbacks"]).toEqual(["prometheus", "workbench_usage.usage_recorder"]);
    expect(parsed["router_settings"]).toMatchObject({ timeout: 60, num_retries: 2 });
    expect(parsed["general_settings"]["workbench_gateway"]["total_timeout_seconds"]).toBe(90);
    expect(container["args"]).toEqual([
      "--config",
      "/etc/litellm/config.yaml",
      "--port",
      "4000",
      "--num_workers",
      "2",
      "--run_gunicorn",
    ]);
    expect(
      deployment.inputs["spec"]["template"]["metadata"]["annotations"]["workbench/config-sha256"],
    ).toMatch(/^[a-f0-9]{64}$/);
  });

  it("runs several workers that share one /metrics through PROMETHEUS_MULTIPROC_DIR on its own volume", () => {
    expect(container["env"]).toContainEqual({
      name: "PROMETHEUS_MULTIPROC_DIR",
      value: "/var/run/prometheus-multiproc",
    });
    expect(container["volumeMounts"]).toContainEqual({
      name: "prometheus",
      mountPath: "/var/run/prometheus-multiproc",
    });
    expect(deployment.inputs["spec"]["template"]["spec"]["volumes"]).toContainEqual({
      name: "prometheus",
      emptyDir: { sizeLimit: "256Mi" },
    });
  });

  it("exposes a Service, a TLS Ingress and a disruption budget", () => {
    expect(mocks.one("kubernetes:core/v1:Service", "litellm-service").inputs["spec"]["ports"]).toEqual([
      { name: "http", port: 4000, targetPort: "http" },
    ]);
    const ingress = mocks.one("kubernetes:networking.k8s.io/v1:Ingress").inputs;
    expect(ingress["spec"]["tls"]).toEqual([{ hosts: ["litellm.workbench.example.com"] }]);
    expect(ingress["spec"]["ingressClassName"]).toBe("traefik");
    expect(ingress["spec"]["rules"][0]["host"]).toBe("litellm.workbench.example.com");
    // Only the API: exact paths, nothing else of the proxy (metrics, OpenAPI, routes, debug, admin).
    expect(
      ingress["spec"]["rules"][0]["http"]["paths"].map((path: { path: string; pathType: string }) => [
        path.path,
        path.pathType,
      ]),
    ).toEqual([
      ["/v1/chat/completions", "Exact"],
      ["/v1/models", "Exact"],
    ]);
    // TLS comes from the cert-manager Certificate in Traefik's default store, not an ACME resolver.
    expect(ingress["metadata"]["annotations"]["traefik.ingress.kubernetes.io/router.tls"]).toBe("true");
    expect(ingress["metadata"]["annotations"]).not.toHaveProperty(
      "traefik.ingress.kubernetes.io/router.tls.certresolver",
    );
    expect(mocks.one("kubernetes:policy/v1:PodDisruptionBudget").inputs["spec"]["minAvailable"]).toBe(2);
  });

  it("lets only the client namespaces reach the gateway, and only the gateway reach its Redis", () => {
    const gatewayPolicy = mocks.one("kubernetes:networking.k8s.io/v1:NetworkPolicy", "litellm-netpol").inputs;
    expect(gatewayPolicy["spec"]).toEqual({
      podSelector: {
        matchLabels: { "app.kubernetes.io/name": "litellm", "app.kubernetes.io/part-of": "ai-workbench" },
      },
      policyTypes: ["Ingress"],
      ingress: [
        {
          from: [
            {
              namespaceSelector: {
                matchExpressions: [
                  {
                    key: "kubernetes.io/metadata.name",
                    operator: "In",
                    values: ["traefik", "ai-workbench", "monitoring"],
                  },
                ],
              },
            },
          ],
          ports: [{ protocol: "TCP", port: 4000 }],
        },
      ],
    });
    const redisPolicy = mocks.one(
      "kubernetes:networking.k8s.io/v1:NetworkPolicy",
      "litellm-redis-netpol",
    ).inputs;
    expect(redisPolicy["spec"]).toEqual({
      podSelector: {
        matchLabels: {
          "app.kubernetes.io/name": "litellm-redis",
          "app.kubernetes.io/part-of": "ai-workbench",
        },
      },
      policyTypes: ["Ingress"],
      ingress: [
        {
          from: [
            {
              podSelector: {
                matchLabels: {
                  "app.kubernetes.io/name": "litellm",
                  "app.kubernetes.io/part-of": "ai-workbench",
                },
              },
            },
          ],
          ports: [{ protocol: "TCP", port: 6379 }],
        },
      ],
    });
    // The Redis pods carry the labels the policy selects.
    expect(
      mocks.one("kubernetes:apps/v1:Deployment", "litellm-redis").inputs["spec"]["template"]["metadata"][
        "labels"
      ],
    ).toMatchObject(redisPolicy["spec"]["podSelector"]["matchLabels"]);
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
    // Its keys Secret among them (the component owns it).
    expect(objects.length).toBe(11);
    for (const object of objects) expect(providerUrn(object.provider), object.name).toBe(providerRef);
  });

  it("puts caller keys, when given, in a Secret of the callers' namespace, as secret input", async () => {
    const keyed = new LiteLlm("keyed", {
      ...args(provider),
      callerKeys: {
        namespace: "ai-workbench",
        secretName: "llm-caller-keys",
        keys: { api: "wbk_test-api-key" },
      },
    });
    await mocks.settle();
    const secret = mocks.one("kubernetes:core/v1:Secret", "keyed-caller-keys");
    expect(secret.inputs["metadata"]).toMatchObject({ name: "llm-caller-keys", namespace: "ai-workbench" });
    expect(secret.inputs["stringData"]).toEqual({ api: "wbk_test-api-key" });
    expect(isSecretInput(secret.rawInputs["stringData"])).toBe(true);
    expect(await promiseOf(keyed.callerKeysSecretName as pulumi.Output<string>)).toBe("llm-caller-keys");
    expect(gateway.callerKeysSecretName).toBeUndefined();
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
    [
      { routing: { ...routing, budget: "openai/gpt-4.1" } },
      "l1: prices has no price for model 'openai/gpt-4.1': add prices.openai/gpt-4.1 = { input, output } in USD per 1M tokens",
    ],
    [
      { routing: { ...routing, timeoutSeconds: 60, totalTimeoutSeconds: 30 } },
      "l1: totalTimeoutSeconds must be a whole number of seconds of at least timeoutSeconds (60) (got 30)",
    ],
  ])("refuses %j", (overrides, message) => {
    expect(() => new LiteLlm("l1", { ...args(provider), ...overrides })).toThrow(message);
  });
});
