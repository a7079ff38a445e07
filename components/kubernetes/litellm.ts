import { createHash } from "node:crypto";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { imagePinProblem } from "../cloud/image-ref.ts";
import {
  LITELLM_ENV,
  liteLlmConfig,
  type LiteLlmRoutingSpec,
  PROVIDER_KEY_ENV,
  providersOf,
  renderLiteLlmConfig,
} from "./litellm-config.ts";
import { Redis } from "./redis.ts";
import {
  appLabels,
  hardenedContainer,
  LETSENCRYPT_RESOLVER,
  nonRootPod,
  prometheusAnnotations,
  type ResourceBudget,
  secretEnv,
  selectorLabels,
  TRAEFIK_INGRESS_CLASS,
  traefikTlsAnnotations,
} from "./workload.ts";

export const LITELLM_PORT = 4000;

/** Routing settings from config (`workbench:llm`). */
export interface LiteLlmRouting {
  /** `<provider>/<model>` tried first. */
  primary: string;
  /** Tried in order when the primary fails. */
  fallbacks: string[];
  /** Cheap model behind the `workbench-budget` alias. */
  budget: string;
  /** Requests per minute per user. */
  rpmPerUser: number;
  /** Tokens per minute per user. */
  tpmPerUser: number;
  /** Response cache TTL in Redis, seconds. */
  cacheTtlSeconds: number;
  /** Langfuse host; the callback is on when set. */
  langfuseHost?: string;
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
  /** Routing spec: models, fallbacks, per-user limits, cache TTL, Langfuse. */
  routing: LiteLlmRouting;
  /**
   * Secret holding the provider keys (ANTHROPIC_API_KEY, ...), LITELLM_MASTER_KEY,
   * DATABASE_URL and, with Langfuse, LANGFUSE_PUBLIC_KEY/LANGFUSE_SECRET_KEY
   * (WorkbenchSecrets.llmSecretName).
   */
  keysSecretName: pulumi.Input<string>;
  /** Public host, e.g. `litellm.workbench.example.com`. */
  host: string;
  /** Gateway replicas, at least 2. Default 3. */
  replicas?: number;
  /** Requests and limits. Default seed 001: 500m/512Mi requests, 2 CPUs/2Gi limits. */
  resources?: ResourceBudget;
  /** UID the gateway runs as (non-root). Default 1000. */
  runAsUser?: number;
  /** Certificate resolver. Default `letsencrypt`. */
  certResolver?: string;
  /** Ingress class. Default `traefik`. */
  ingressClass?: string;
}

/**
 * The LiteLLM gateway: config.yaml generated from the routing spec (API keys only as
 * `os.environ/` references), a Deployment (non-root, read-only root filesystem, probes on
 * /health/liveliness and /health/readiness), Service, TLS Ingress, a disruption budget and
 * its Redis cache. Token `workbench:kubernetes:LiteLlm`.
 */
export class LiteLlm extends pulumi.ComponentResource {
  /** In-cluster base URL, e.g. `http://litellm.litellm.svc.cluster.local:4000`. */
  public readonly internalUrl: pulumi.Output<string>;
  public readonly url: pulumi.Output<string>;
  /** The rendered config.yaml (no credentials in it). */
  public readonly configYaml: pulumi.Output<string>;

  constructor(name: string, args: LiteLlmArgs, opts?: pulumi.ComponentResourceOptions) {
    super("workbench:kubernetes:LiteLlm", name, {}, opts);

    const replicas = args.replicas ?? 3;
    const pinProblem = imagePinProblem(args.image);
    if (pinProblem) throw new pulumi.ResourceError(`${name}: image "${args.image}" ${pinProblem}`, this);
    if (!Number.isInteger(replicas) || replicas < 2) {
      throw new pulumi.ResourceError(
        `${name}: replicas must be a whole number of at least 2 (got ${replicas})`,
        this,
      );
    }
    const spec = (host: string): LiteLlmRoutingSpec => ({
      primary: args.routing.primary,
      fallbacks: args.routing.fallbacks,
      budget: args.routing.budget,
      rpmPerUser: args.routing.rpmPerUser,
      tpmPerUser: args.routing.tpmPerUser,
      cache: { host, port: 6379, ttlSeconds: args.routing.cacheTtlSeconds },
      langfuse: args.routing.langfuseHost !== undefined,
      prometheus: true,
    });
    let providers: ReturnType<typeof providersOf>;
    try {
      providers = providersOf(args.routing);
      // Validate the routing now, before anything is registered (the real render waits for Redis's host).
      liteLlmConfig(spec("validation.invalid"));
    } catch (error) {
      throw new pulumi.ResourceError(`${name}: ${(error as Error).message}`, this);
    }

    const child = { parent: this, provider: args.provider };
    const labels = appLabels(name, "gateway");
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

    this.configYaml = redis.host.apply((host) => renderLiteLlmConfig(spec(host)));

    const config = new k8s.core.v1.ConfigMap(
      `${name}-config`,
      {
        metadata: { name: `${name}-config`, namespace: args.namespace, labels },
        data: { "config.yaml": this.configYaml },
      },
      child,
    );

    const keyEnv = [
      ...providers.map((provider) => secretEnv(PROVIDER_KEY_ENV[provider], args.keysSecretName)),
      secretEnv(LITELLM_ENV.masterKey, args.keysSecretName),
      secretEnv(LITELLM_ENV.databaseUrl, args.keysSecretName),
      secretEnv(LITELLM_ENV.redisPassword, redis.passwordSecretName, redis.passwordKey),
      ...(args.routing.langfuseHost !== undefined
        ? [
            secretEnv("LANGFUSE_PUBLIC_KEY", args.keysSecretName),
            secretEnv("LANGFUSE_SECRET_KEY", args.keysSecretName),
            { name: "LANGFUSE_HOST", value: args.routing.langfuseHost },
          ]
        : []),
    ];

    const probe = (path: string, initialDelaySeconds: number) => ({
      httpGet: { path, port: "http" },
      initialDelaySeconds,
      periodSeconds: 15,
      timeoutSeconds: 5,
      failureThreshold: 3,
    });

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
                // Roll the pods when config.yaml changes.
                "workbench/config-sha256": this.configYaml.apply((text) =>
                  createHash("sha256").update(text).digest("hex"),
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
              containers: [
                {
                  name: "litellm",
                  image: args.image,
                  args: [
                    "--config",
                    "/etc/litellm/config.yaml",
                    "--port",
                    String(LITELLM_PORT),
                    "--num_workers",
                    "2",
                  ],
                  ports: [{ name: "http", containerPort: LITELLM_PORT }],
                  env: [
                    ...keyEnv,
                    // Writable places for a read-only root filesystem.
                    { name: "HOME", value: "/tmp" },
                    { name: "XDG_CACHE_HOME", value: "/tmp/.cache" },
                  ],
                  resources: args.resources ?? {
                    requests: { cpu: "500m", memory: "512Mi" },
                    limits: { cpu: "2", memory: "2Gi" },
                  },
                  securityContext: hardenedContainer(),
                  startupProbe: {
                    ...probe("/health/liveliness", 10),
                    periodSeconds: 10,
                    failureThreshold: 30,
                  },
                  livenessProbe: probe("/health/liveliness", 0),
                  readinessProbe: probe("/health/readiness", 0),
                  volumeMounts: [
                    { name: "config", mountPath: "/etc/litellm", readOnly: true },
                    { name: "tmp", mountPath: "/tmp" },
                  ],
                },
              ],
              volumes: [
                { name: "config", configMap: { name: config.metadata.name } },
                { name: "tmp", emptyDir: { sizeLimit: "1Gi" } },
              ],
            },
          },
        },
      },
      child,
    );

    const service = new k8s.core.v1.Service(
      `${name}-service`,
      {
        metadata: { name, namespace: args.namespace, labels },
        spec: {
          type: "ClusterIP",
          selector: selectorLabels(name),
          ports: [{ name: "http", port: LITELLM_PORT, targetPort: "http" }],
        },
      },
      child,
    );

    new k8s.networking.v1.Ingress(
      `${name}-ingress`,
      {
        metadata: {
          name,
          namespace: args.namespace,
          labels,
          annotations: traefikTlsAnnotations(args.certResolver ?? LETSENCRYPT_RESOLVER),
        },
        spec: {
          ingressClassName: args.ingressClass ?? TRAEFIK_INGRESS_CLASS,
          tls: [{ hosts: [args.host] }],
          rules: [
            {
              host: args.host,
              http: {
                paths: [
                  {
                    path: "/",
                    pathType: "Prefix",
                    backend: { service: { name: service.metadata.name, port: { name: "http" } } },
                  },
                ],
              },
            },
          ],
        },
      },
      child,
    );

    new k8s.policy.v1.PodDisruptionBudget(
      `${name}-pdb`,
      {
        metadata: { name, namespace: args.namespace, labels },
        spec: { minAvailable: replicas - 1, selector: { matchLabels: selectorLabels(name) } },
      },
      child,
    );

    this.internalUrl = pulumi.interpolate`http://${service.metadata.name}.${service.metadata.namespace}.svc.cluster.local:${LITELLM_PORT}`;
    this.url = pulumi.output(`https://${args.host}`);
    this.registerOutputs({ internalUrl: this.internalUrl, url: this.url, configYaml: this.configYaml });
  }
}
