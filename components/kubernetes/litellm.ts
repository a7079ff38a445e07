import { createHash } from "node:crypto";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { gatewayPythonSources } from "../../lib/litellm/gateway.ts";
import { imagePinProblem } from "../cloud/image-ref.ts";
import {
  GATEWAY_SERVER_ARGS,
  gatewayConfig,
  type GatewaySettings,
  LITELLM_ENV,
  PROVIDER_KEY_ENV,
  providersOf,
  renderGatewayConfig,
} from "./litellm-config.ts";
import { configSecret, type SecretOrigin } from "./owned-secret.ts";
import { Redis } from "./redis.ts";
import {
  appLabels,
  hardenedContainer,
  nonRootPod,
  prometheusAnnotations,
  type ResourceBudget,
  secretEnv,
  selectorLabels,
  TRAEFIK_INGRESS_CLASS,
  traefikTlsAnnotations,
} from "./workload.ts";

export const LITELLM_PORT = 4000;
const REDIS_PORT = 6379;

/**
 * The only paths the Ingress publishes: the OpenAI API callers use (workbench_auth.py lets
 * callers reach these and nothing else). Metrics, health details, OpenAPI, routes, debug and
 * admin endpoints stay inside the cluster.
 */
export const LITELLM_PUBLIC_PATHS = ["/v1/chat/completions", "/v1/models"] as const;

/** Where the Prometheus client of each worker writes its samples (one /metrics for all workers). */
export const PROMETHEUS_MULTIPROC_DIR = "/var/run/prometheus-multiproc";

/** Env var names of the LLM provider keys (what LiteLLM's `os.environ/` references read). */
export type ProviderKeyName = (typeof PROVIDER_KEY_ENV)[keyof typeof PROVIDER_KEY_ENV];

/**
 * The gateway's credentials: its keys Secret (`<name>-keys`, in its namespace) holds the
 * provider keys, LITELLM_MASTER_KEY, LANGFUSE_PUBLIC_KEY/SECRET_KEY and
 * WORKBENCH_USAGE_DATABASE_URL. No DATABASE_URL: LiteLLM would take it for a database of its
 * own (Prisma); it keeps none.
 */
export interface LiteLlmKeys {
  /** Admin key of the gateway (LITELLM_MASTER_KEY). */
  masterKey: pulumi.Input<string>;
  /** Keys of the providers the routing uses; at least one. */
  providerKeys: Partial<Record<ProviderKeyName, pulumi.Input<string>>>;
  /** Langfuse keys for the callback. Default none. */
  langfuse?: { publicKey: pulumi.Input<string>; secretKey: pulumi.Input<string> };
  /**
   * The gateway's database URL (WORKBENCH_USAGE_DATABASE_URL): the usage login, a member of
   * workbench_usage_recorder (caller keys, budgets and usage rows through the llm_gateway
   * functions, its cost_tracker rows; nothing in schema private).
   */
  usageDatabaseUrl: pulumi.Input<string>;
  /** Where the Secret was created before this component owned it (an alias keeps it). Default none. */
  origin?: SecretOrigin;
}

export interface LiteLlmArgs {
  /** The cluster's Kubernetes provider (Cluster.provider). */
  provider: k8s.Provider;
  /** Namespace to run in (`litellm`). */
  namespace: pulumi.Input<string>;
  /** Pinned LiteLLM image. */
  image: string;
  /** Pinned Redis image for the cache. */
  redisImage: string;
  /** Gateway settings (stack config `workbench:llm`): models, limits, prices, timeouts. */
  routing: GatewaySettings;
  /** The credentials its keys Secret holds. */
  keys: LiteLlmKeys;
  /** Public host, e.g. `litellm.workbench.example.com`. */
  host: string;
  /**
   * Namespaces whose pods may reach the gateway's port: the ingress controller's (the public
   * API), the callers' (e.g. `ai-workbench`, `n8n`) and Prometheus's. Nothing else can.
   */
  clientNamespaces: pulumi.Input<string>[];
  /**
   * Caller keys to hand to callers in another namespace (e.g. the workbench services'): a
   * Secret `secretName` there with one entry per caller. Only their sha256 is registered in
   * the database (private.llm_register_key); this Secret is where the keys themselves live.
   */
  callerKeys?: {
    namespace: pulumi.Input<string>;
    secretName: string;
    keys: Record<string, pulumi.Input<string>>;
  };
  /** Gateway replicas, at least 2. Default 3. */
  replicas?: number;
  /** Requests and limits. Default from the infrastructure deliverables: 500m/512Mi requests, 2 CPUs/2Gi limits. */
  resources?: ResourceBudget;
  /** UID the gateway runs as (non-root). Default 1000. */
  runAsUser?: number;
  /** Ingress class. Default `traefik`. */
  ingressClass?: string;
}

const DEFAULT_RESOURCES: ResourceBudget = {
  requests: { cpu: "500m", memory: "512Mi" },
  limits: { cpu: "2", memory: "2Gi" },
};

/**
 * What is wrong with the gateway's args, checked before anything is registered (the config
 * render waits for Redis's host, so the settings are rendered once against a placeholder).
 */
export function liteLlmArgsProblem(args: LiteLlmArgs): string | undefined {
  const replicas = args.replicas ?? 3;
  const pinProblem = imagePinProblem(args.image);
  if (pinProblem) return `image "${args.image}" ${pinProblem}`;
  if (!Number.isInteger(replicas) || replicas < 2) {
    return `replicas must be a whole number of at least 2 (got ${replicas})`;
  }
  if (Object.keys(args.keys.providerKeys).length === 0) {
    return "keys.providerKeys is empty: the gateway needs at least one provider key";
  }
  try {
    providersOf(args.routing);
    gatewayConfig(args.routing, { redis: { host: "validation.invalid", port: REDIS_PORT } });
  } catch (error) {
    return (error as Error).message;
  }
  return undefined;
}

/** The keys Secret's data: the provider keys, the master key, Langfuse's keys, the usage URL. */
export function gatewayKeysData(keys: LiteLlmKeys): Record<string, pulumi.Input<string> | undefined> {
  return {
    ...keys.providerKeys,
    LITELLM_MASTER_KEY: keys.masterKey,
    LANGFUSE_PUBLIC_KEY: keys.langfuse?.publicKey,
    LANGFUSE_SECRET_KEY: keys.langfuse?.secretKey,
    WORKBENCH_USAGE_DATABASE_URL: keys.usageDatabaseUrl,
  };
}

/** The gateway container's credential env: each from its Secret, never a literal. */
export function gatewayKeyEnv(
  routing: GatewaySettings,
  keysSecretName: pulumi.Input<string>,
  redisPassword: { secretName: pulumi.Input<string>; key: string },
) {
  return [
    ...providersOf(routing).map((provider) => secretEnv(PROVIDER_KEY_ENV[provider], keysSecretName)),
    secretEnv(LITELLM_ENV.masterKey, keysSecretName),
    // The usage login (never the admin). Not as DATABASE_URL: LiteLLM would take that for a
    // database of its own (Prisma); it keeps none.
    secretEnv(LITELLM_ENV.workbenchDatabaseUrl, keysSecretName, "WORKBENCH_USAGE_DATABASE_URL"),
    secretEnv(LITELLM_ENV.redisPassword, redisPassword.secretName, redisPassword.key),
    ...(routing.langfuseHost !== undefined
      ? [
          secretEnv("LANGFUSE_PUBLIC_KEY", keysSecretName),
          secretEnv("LANGFUSE_SECRET_KEY", keysSecretName),
          { name: "LANGFUSE_HOST", value: routing.langfuseHost },
        ]
      : []),
  ];
}

const probe = (path: string, initialDelaySeconds: number) => ({
  httpGet: { path, port: "http" },
  initialDelaySeconds,
  periodSeconds: 15,
  timeoutSeconds: 5,
  failureThreshold: 3,
});

/** The gateway container: config from the ConfigMap, several workers sharing one /metrics. */
export function gatewayContainer(
  args: Pick<LiteLlmArgs, "image" | "resources">,
  keyEnv: ReturnType<typeof gatewayKeyEnv>,
) {
  return {
    name: "litellm",
    image: args.image,
    args: ["--config", "/etc/litellm/config.yaml", "--port", String(LITELLM_PORT), ...GATEWAY_SERVER_ARGS],
    ports: [{ name: "http", containerPort: LITELLM_PORT }],
    env: [
      ...keyEnv,
      // Several workers: each writes its samples here, /metrics sums them.
      { name: "PROMETHEUS_MULTIPROC_DIR", value: PROMETHEUS_MULTIPROC_DIR },
      // Prices from config.yaml, no cost map fetched at start-up.
      { name: "LITELLM_LOCAL_MODEL_COST_MAP", value: "True" },
      { name: "LITELLM_MODE", value: "PRODUCTION" },
      // Writable places for a read-only root filesystem.
      { name: "HOME", value: "/tmp" },
      { name: "XDG_CACHE_HOME", value: "/tmp/.cache" },
    ],
    resources: args.resources ?? DEFAULT_RESOURCES,
    securityContext: hardenedContainer(),
    startupProbe: { ...probe("/health/liveliness", 10), periodSeconds: 10, failureThreshold: 30 },
    livenessProbe: probe("/health/liveliness", 0),
    readinessProbe: probe("/health/readiness", 0),
    volumeMounts: [
      { name: "config", mountPath: "/etc/litellm", readOnly: true },
      { name: "tmp", mountPath: "/tmp" },
      { name: "prometheus", mountPath: PROMETHEUS_MULTIPROC_DIR },
    ],
  };
}

/** The Ingress rules: exact API paths only; nothing else of the proxy (metrics, OpenAPI, routes, debug, admin) is reachable from outside. */
export function gatewayIngressRules(host: string, serviceName: pulumi.Input<string>) {
  return [
    {
      host,
      http: {
        paths: LITELLM_PUBLIC_PATHS.map((path) => ({
          path,
          pathType: "Exact",
          backend: { service: { name: serviceName, port: { name: "http" } } },
        })),
      },
    },
  ];
}

/**
 * The LiteLLM gateway: config.yaml generated from the gateway settings by the same function
 * the integration tests run (API keys only as `os.environ/` references), the workbench's
 * auth and usage modules beside it, its keys Secret, a Deployment (non-root, read-only root
 * filesystem, probes on /health/liveliness and /health/readiness, several workers sharing one
 * /metrics), Service, a TLS Ingress that publishes only the API paths, NetworkPolicies (only
 * the client namespaces reach the gateway, only the gateway reaches its Redis), a disruption
 * budget and its Redis cache. Token `workbench:kubernetes:LiteLlm`.
 */
export class LiteLlm extends pulumi.ComponentResource {
  /** In-cluster base URL, e.g. `http://litellm.litellm.svc.cluster.local:4000`. */
  public readonly internalUrl: pulumi.Output<string>;
  public readonly url: pulumi.Output<string>;
  /** The rendered config.yaml (no credentials in it). */
  public readonly configYaml: pulumi.Output<string>;
  /** Name of the Secret holding the gateway's keys (`<name>-keys`). */
  public readonly keysSecretName: pulumi.Output<string>;
  /** Name of the Secret holding the caller keys (when `callerKeys` is given). */
  public readonly callerKeysSecretName: pulumi.Output<string> | undefined;

  private readonly child: { parent: pulumi.Resource; provider: k8s.Provider };
  private readonly labels: Record<string, string>;

  constructor(name: string, args: LiteLlmArgs, opts?: pulumi.ComponentResourceOptions) {
    super("workbench:kubernetes:LiteLlm", name, {}, opts);
    const problem = liteLlmArgsProblem(args);
    if (problem) throw new pulumi.ResourceError(`${name}: ${problem}`, this);
    this.child = { parent: this, provider: args.provider };
    this.labels = appLabels(name, "gateway");

    const redis = new Redis(
      `${name}-redis`,
      {
        provider: args.provider,
        namespace: args.namespace,
        image: args.redisImage,
        evictionPolicy: "allkeys-lru",
      },
      { parent: this },
    );
    this.configYaml = redis.host.apply((host) =>
      renderGatewayConfig(args.routing, { redis: { host, port: REDIS_PORT } }),
    );
    this.keysSecretName = configSecret(
      `${name}-keys`,
      {
        objectName: `${name}-keys`,
        namespace: args.namespace,
        data: gatewayKeysData(args.keys),
        origin: args.keys.origin,
      },
      this.child,
    ).metadata.name;
    const keyEnv = gatewayKeyEnv(args.routing, this.keysSecretName, {
      secretName: redis.passwordSecretName,
      key: redis.passwordKey,
    });
    this.deployment(name, args, keyEnv);
    const service = this.service(name, args);
    this.ingress(name, args, service.metadata.name);
    this.networkPolicies(name, args);
    this.callerKeysSecretName = args.callerKeys ? this.callerKeys(name, args.callerKeys) : undefined;

    this.internalUrl = pulumi.interpolate`http://${service.metadata.name}.${service.metadata.namespace}.svc.cluster.local:${LITELLM_PORT}`;
    this.url = pulumi.output(`https://${args.host}`);
    this.registerOutputs({ internalUrl: this.internalUrl, url: this.url, configYaml: this.configYaml });
  }

  /** The ConfigMap (config.yaml and the workbench modules), the Deployment and its disruption budget. */
  private deployment(name: string, args: LiteLlmArgs, keyEnv: ReturnType<typeof gatewayKeyEnv>): void {
    const labels = this.labels;
    const python = gatewayPythonSources();
    const config = new k8s.core.v1.ConfigMap(
      `${name}-config`,
      {
        metadata: { name: `${name}-config`, namespace: args.namespace, labels },
        data: { "config.yaml": this.configYaml, ...python },
      },
      this.child,
    );
    const replicas = args.replicas ?? 3;
    new k8s.apps.v1.Deployment(
      name,
      {
        metadata: { name, namespace: args.namespace, labels },
        spec: {
          replicas,
          selector: { matchLabels: selectorLabels(name) },
          strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
          template: {
            metadata: {
              labels,
              annotations: {
                ...prometheusAnnotations(LITELLM_PORT),
                // Roll the pods when config.yaml or the workbench modules change.
                "workbench/config-sha256": this.configYaml.apply((text) =>
                  createHash("sha256").update(text).update(JSON.stringify(python)).digest("hex"),
                ),
              },
            },
            spec: {
              securityContext: nonRootPod(args.runAsUser ?? 1000),
              automountServiceAccountToken: false,
              topologySpreadConstraints: [
                {
                  maxSkew: 1,
                  topologyKey: "kubernetes.io/hostname",
                  whenUnsatisfiable: "ScheduleAnyway",
                  labelSelector: { matchLabels: selectorLabels(name) },
                },
              ],
              containers: [gatewayContainer(args, keyEnv)],
              volumes: [
                { name: "config", configMap: { name: config.metadata.name } },
                { name: "tmp", emptyDir: { sizeLimit: "1Gi" } },
                { name: "prometheus", emptyDir: { sizeLimit: "256Mi" } },
              ],
            },
          },
        },
      },
      this.child,
    );
    new k8s.policy.v1.PodDisruptionBudget(
      `${name}-pdb`,
      {
        metadata: { name, namespace: args.namespace, labels },
        spec: { minAvailable: replicas - 1, selector: { matchLabels: selectorLabels(name) } },
      },
      this.child,
    );
  }

  private service(name: string, args: LiteLlmArgs): k8s.core.v1.Service {
    return new k8s.core.v1.Service(
      `${name}-service`,
      {
        metadata: { name, namespace: args.namespace, labels: this.labels },
        spec: {
          type: "ClusterIP",
          selector: selectorLabels(name),
          ports: [{ name: "http", port: LITELLM_PORT, targetPort: "http" }],
        },
      },
      this.child,
    );
  }

  /** The TLS Ingress: the API paths only. */
  private ingress(name: string, args: LiteLlmArgs, serviceName: pulumi.Input<string>): void {
    new k8s.networking.v1.Ingress(
      `${name}-ingress`,
      {
        metadata: {
          name,
          namespace: args.namespace,
          labels: this.labels,
          annotations: traefikTlsAnnotations(),
        },
        spec: {
          ingressClassName: args.ingressClass ?? TRAEFIK_INGRESS_CLASS,
          tls: [{ hosts: [args.host] }],
          rules: gatewayIngressRules(args.host, serviceName),
        },
      },
      this.child,
    );
  }

  /** Only the client namespaces (ingress controller, callers, Prometheus) reach the gateway; only the gateway reaches its Redis. */
  private networkPolicies(name: string, args: LiteLlmArgs): void {
    const labels = this.labels;
    new k8s.networking.v1.NetworkPolicy(
      `${name}-netpol`,
      {
        metadata: { name, namespace: args.namespace, labels },
        spec: {
          podSelector: { matchLabels: selectorLabels(name) },
          policyTypes: ["Ingress"],
          ingress: [
            {
              from: [
                {
                  namespaceSelector: {
                    matchExpressions: [
                      { key: "kubernetes.io/metadata.name", operator: "In", values: args.clientNamespaces },
                    ],
                  },
                },
              ],
              ports: [{ protocol: "TCP", port: LITELLM_PORT }],
            },
          ],
        },
      },
      this.child,
    );
    // The cache holds answers and the limiter's counters.
    new k8s.networking.v1.NetworkPolicy(
      `${name}-redis-netpol`,
      {
        metadata: { name: `${name}-redis`, namespace: args.namespace, labels },
        spec: {
          podSelector: { matchLabels: selectorLabels(`${name}-redis`) },
          policyTypes: ["Ingress"],
          ingress: [
            {
              from: [{ podSelector: { matchLabels: selectorLabels(name) } }],
              ports: [{ protocol: "TCP", port: REDIS_PORT }],
            },
          ],
        },
      },
      this.child,
    );
  }

  /** The callers' keys, in a Secret of their namespace. */
  private callerKeys(
    name: string,
    callerKeys: NonNullable<LiteLlmArgs["callerKeys"]>,
  ): pulumi.Output<string> {
    return new k8s.core.v1.Secret(
      `${name}-caller-keys`,
      {
        metadata: { name: callerKeys.secretName, namespace: callerKeys.namespace, labels: this.labels },
        type: "Opaque",
        stringData: Object.fromEntries(
          Object.entries(callerKeys.keys).map(([caller, key]) => [caller, pulumi.secret(key)]),
        ),
      },
      this.child,
    ).metadata.name;
  }
}
