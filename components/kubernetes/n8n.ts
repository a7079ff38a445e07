import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { chartRelease } from "./helm-release.ts";
import { imagePinProblem, parseImageReference } from "../cloud/image-ref.ts";
import type { N8nCredentialSpec } from "../../lib/n8n/api-client.ts";
import { WorkflowSet } from "../n8n/workflow-set.ts";
import { baseValuesPath, type HelmValues, mergeValues, readValuesFile } from "./helm-values.ts";
import {
  crdMiddlewareRef,
  N8N_EDGE_ROUTES,
  N8N_PAYLOAD_SIZE_MAX_MIB,
  N8N_SERVICE_PORT,
  n8nBodyLimitProblem,
  n8nEdge,
  n8nServiceName,
  type N8nEdge,
} from "./n8n-edge.ts";
import { configSecret, SECRET_NAMES, type SecretData, type SecretOrigin } from "./owned-secret.ts";
import {
  prometheusAnnotations,
  type ResourceBudget,
  TRAEFIK_INGRESS_CLASS,
  traefikTlsAnnotations,
} from "./workload.ts";

/** n8n's own chart (n8n-io/n8n-hosting), published as an OCI artifact. */
export const N8N_CHART = "oci://ghcr.io/n8n-io/n8n-helm-chart/n8n";

export { N8N_PAYLOAD_SIZE_MAX_MIB };

/** A Secret key reference, as the chart takes it. */
export interface SecretKeyRef {
  /** Secret name. */
  name: pulumi.Input<string>;
  /** Key inside the Secret. */
  key: string;
}

export interface N8nDatabase {
  /** PostgreSQL host (Supabase). */
  host: string;
  /** Session-mode port: n8n keeps long-lived connections and runs migrations. */
  port: number;
  /** Database name. */
  name: string;
  /** Login role: the database layer's n8n login (WorkbenchDatabase.n8nRole), never the admin. */
  user: pulumi.Input<string>;
  /** Schema for n8n's own tables; never `public`, which Supabase exposes over its API. */
  schema: string;
  /** TLS: `require` encrypts, `verify-full` also checks the certificate. */
  sslMode: "disable" | "require" | "verify-full";
  /** Where the password is (the chart mounts it as DB_POSTGRESDB_PASSWORD). */
  passwordSecret: SecretKeyRef;
}

export interface N8nRedis {
  /** Service host, e.g. Redis.host. */
  host: pulumi.Input<string>;
  /** Service port. */
  port: pulumi.Input<number>;
  /** Where the password is (Redis.passwordSecretName / passwordKey). */
  passwordSecret: SecretKeyRef;
}

/** Everything the values depend on (pure input of {@link n8nValues}); see {@link N8nArgs} for each field. */
export interface N8nSettings {
  /** Pinned image reference. */
  image: string;
  /** Public host. */
  host: string;
  /** Ingress class. */
  ingressClass: string;
  /** External PostgreSQL. */
  database: N8nDatabase;
  /** Queue Redis. */
  redis: N8nRedis;
  /** Secret the chart reads through secretRefs.existingSecret. */
  coreSecretName: pulumi.Input<string>;
  /** Secrets exposed as env (envFrom). */
  extraEnvFromSecrets: pulumi.Input<string>[];
  /** Queue workers (the HPA's floor). */
  workerReplicas: number;
  /** HPA ceiling for workers. */
  workerMaxReplicas: number;
  /** Webhook processors. */
  webhookReplicas: number;
  /** Time zone for schedules. */
  timezone: string;
  /** Requests and limits per process kind. */
  resources: { main: ResourceBudget; worker: ResourceBudget; webhookProcessor: ResourceBudget };
  /**
   * Let workflow expressions read the environment (`$env`): the deployed workflows take
   * their integration settings (MATTERMOST_WEBHOOK_URL, ODOO_*) from extraEnvFromSecrets.
   * Default false (n8n's own default blocks it).
   */
  workflowEnvAccess?: boolean;
}

/** n8n's chart values: the base file merged with the typed settings (pure; tests validate it against the chart schema). */
export function n8nValues(base: HelmValues, settings: N8nSettings): HelmValues {
  const image = parseImageReference(settings.image);
  if (!image) throw new Error(`'${settings.image}' is not an image reference`);
  const repository = image.registry ? `${image.registry}/${image.repository}` : image.repository;
  const tls = [{ hosts: [settings.host] }];
  const annotations = traefikTlsAnnotations();
  const mainRoute = N8N_EDGE_ROUTES.find((route) => route.process === "main");
  if (!mainRoute) throw new Error("N8N_EDGE_ROUTES has no route to n8n's main process");
  return mergeValues(base, {
    image: {
      repository,
      tag: image.digest ? `${image.tag ?? "pinned"}@${image.digest}` : image.tag,
      pullPolicy: "IfNotPresent",
    },
    // One main process: more need multi-main (an Enterprise license). Work scales in the
    // queue workers and webhook processors.
    replicaCount: 1,
    queueMode: { enabled: true, workerReplicaCount: settings.workerReplicas },
    webhookProcessor: { enabled: true, replicaCount: settings.webhookReplicas },
    hpa: {
      worker: {
        enabled: true,
        minReplicas: settings.workerReplicas,
        maxReplicas: settings.workerMaxReplicas,
        targetCPUUtilizationPercentage: 70,
      },
    },
    ingress: {
      enabled: true,
      className: settings.ingressClass,
      annotations,
      hosts: [
        {
          host: settings.host,
          paths: mainRoute.paths.map((path) => ({ path, pathType: "Prefix" })),
        },
      ],
      tls,
      // The webhook processors' Ingresses are the component's own (n8n-edge.ts): the chart's
      // single one cannot put the body limit on some paths only.
      webhookProcessor: { enabled: false },
    },
    database: {
      type: "postgresdb",
      useExternal: true,
      host: settings.database.host,
      port: settings.database.port,
      database: settings.database.name,
      schema: settings.database.schema,
      user: settings.database.user,
      passwordSecret: settings.database.passwordSecret,
      ssl: {
        enabled: settings.database.sslMode !== "disable",
        rejectUnauthorized: settings.database.sslMode === "verify-full",
      },
    },
    redis: {
      enabled: true,
      useExternal: true,
      host: settings.redis.host,
      port: settings.redis.port,
      passwordSecret: settings.redis.passwordSecret,
    },
    // N8N_ENCRYPTION_KEY, N8N_HOST, N8N_PORT, N8N_PROTOCOL come from this Secret.
    secretRefs: { existingSecret: settings.coreSecretName },
    webhook: { enabled: true, url: `https://${settings.host}/` },
    config: {
      timezone: settings.timezone,
      extraEnv: [
        { name: "N8N_METRICS", value: "true" },
        { name: "N8N_METRICS_INCLUDE_QUEUE_METRICS", value: "true" },
        { name: "N8N_EDITOR_BASE_URL", value: `https://${settings.host}/` },
        // Traefik sits in front: trust one proxy hop for X-Forwarded-*.
        { name: "N8N_PROXY_HOPS", value: "1" },
        { name: "N8N_DIAGNOSTICS_ENABLED", value: "false" },
        { name: "N8N_PAYLOAD_SIZE_MAX", value: String(N8N_PAYLOAD_SIZE_MAX_MIB) },
        ...(settings.workflowEnvAccess ? [{ name: "N8N_BLOCK_ENV_ACCESS_IN_NODE", value: "false" }] : []),
      ],
      extraEnvFrom: settings.extraEnvFromSecrets.map((name) => ({ secretRef: { name } })),
    },
    podAnnotations: prometheusAnnotations(5678),
    resources: settings.resources,
  });
}

export interface N8nArgs {
  /** The cluster's Kubernetes provider (Cluster.provider). */
  provider: k8s.Provider;
  /** Namespace to install into (`n8n`). */
  namespace: pulumi.Input<string>;
  /** Chart version from config, e.g. `1.11.0`. */
  chartVersion: string;
  /** Chart reference. Default {@link N8N_CHART}. */
  chart?: string;
  /** Base values file. Default `helm-values/n8n.yaml`. */
  baseValuesFile?: string;
  /** Pinned n8n image, e.g. `docker.n8n.io/n8nio/n8n:2.11.2`. */
  image: string;
  /** Public host, e.g. `n8n.workbench.example.com`; served through Traefik with TLS. */
  host: string;
  /** External PostgreSQL (Supabase); the password is in the core Secret (`core.databasePassword`). */
  database: Omit<N8nDatabase, "passwordSecret">;
  /** Queue Redis (a {@link Redis} with `noeviction`). */
  redis: N8nRedis;
  /**
   * n8n's core Secret (`<name>-core`), in the keys its chart reads through
   * `secretRefs.existingSecret` (N8N_ENCRYPTION_KEY, N8N_HOST, N8N_PORT, N8N_PROTOCOL) plus
   * DB_POSTGRESDB_PASSWORD.
   */
  core: N8nCore;
  /**
   * Integration credentials for the workflows (ODOO_API_KEY, MATTERMOST_WEBHOOK_URL,
   * LITELLM_API_KEY): a Secret `integrations` in n8n's namespace, exposed as env. Absent
   * values are left out. Default none.
   */
  integrations?: { data: SecretData; origin?: SecretOrigin };
  /** Further Secrets exposed to workflows as env. Default none. */
  extraEnvFromSecrets?: pulumi.Input<string>[];
  /** Queue workers, at least 2 (the HPA's floor). Default 2. */
  workerReplicas?: number;
  /** HPA ceiling for workers, at most 20. Default 6. */
  workerMaxReplicas?: number;
  /** Webhook processors, at least 2. Default 2. */
  webhookReplicas?: number;
  /** Main processes: 1 (more require multi-main, an Enterprise feature). Default 1. */
  mainReplicas?: number;
  /** Time zone for schedules. Default `UTC`. */
  timezone?: string;
  /** Ingress class. Default `traefik`. */
  ingressClass?: string;
  /**
   * Largest request body Traefik forwards to n8n's webhook paths (`/webhook/`,
   * `/webhook-waiting/`), bytes; a larger one is answered 413 by Traefik before n8n reads it
   * (n8n would answer 500). From the workflows' own limit (16 MiB, answered 413 with the
   * reason) to n8n's N8N_PAYLOAD_SIZE_MAX (32 MiB). Default n8n's limit, 33554432, so the
   * workflows still give their reason between the two.
   */
  webhookBodyLimitBytes?: number;
  /**
   * The Traefik release, whose chart installs the Middleware CRD the body limit is: the
   * Middleware waits for it. Default none (Traefik and its CRDs are already installed).
   */
  traefik?: pulumi.Resource;
  /**
   * Directory of exported workflow JSON (n8n-workflows/), relative to
   * `workflows.projectRoot`: imported, activated and kept up to date through n8n's public
   * API by a {@link WorkflowSet} once the release is up. Needs `workflows`; without it the
   * directory is only noted (a warning). Default none.
   */
  workflowsDir?: string;
  /** How the workflows of `workflowsDir` are deployed. */
  workflows?: N8nWorkflowDeployment;
}

/** What n8n's core Secret holds. */
export interface N8nCore {
  /** Encrypts n8n's stored credentials: keep it stable and backed up. */
  encryptionKey: pulumi.Input<string>;
  /** Password of n8n's database login (WorkbenchDatabase.n8nPassword), never the admin's. */
  databasePassword: pulumi.Input<string>;
  /** Where the Secret was created before this component owned it (an alias keeps it). Default none. */
  origin?: SecretOrigin;
}

export interface N8nWorkflowDeployment {
  /** An n8n API key (Settings > n8n API) of the owner; created once by hand after the first install. Secret. */
  apiKey: pulumi.Input<string>;
  /** Project root `workflowsDir` is relative to (the program's root). */
  projectRoot: string;
  /** Base URL of n8n's public API. Default `https://<host>`. */
  apiUrl?: pulumi.Input<string>;
  /**
   * Credentials the workflows reference by name (Workbench Postgres, Workbench Webhook
   * Token), created or updated before the workflows. Secret. Default none: they must
   * exist in n8n.
   */
  credentials?: pulumi.Input<pulumi.Input<N8nCredentialSpec>[]>;
  /** Activate the workflows. Default true. */
  activate?: boolean;
}

const N8N_RESOURCES = {
  main: { requests: { cpu: "250m", memory: "512Mi" }, limits: { cpu: "1", memory: "1Gi" } },
  worker: { requests: { cpu: "250m", memory: "512Mi" }, limits: { cpu: "1", memory: "1Gi" } },
  webhookProcessor: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
};

/** What is wrong with n8n's args (checked before anything is registered), or undefined. */
export function n8nArgsProblem(args: N8nArgs): string | undefined {
  const workers = args.workerReplicas ?? 2;
  const workerMax = args.workerMaxReplicas ?? 6;
  const webhooks = args.webhookReplicas ?? 2;
  const mains = args.mainReplicas ?? 1;
  const pinProblem = imagePinProblem(args.image);
  if (pinProblem) return `image "${args.image}" ${pinProblem}`;
  if (mains !== 1) {
    return (
      `mainReplicas must be 1 (got ${mains}): several main processes need multi-main, an n8n Enterprise ` +
      `feature; scale workerReplicas and webhookReplicas instead`
    );
  }
  if (!Number.isInteger(workers) || workers < 2) {
    return `workerReplicas must be a whole number of at least 2 (got ${workers})`;
  }
  if (workerMax < workers || workerMax > 20) {
    return `workerMaxReplicas (${workerMax}) must lie between workerReplicas (${workers}) and 20`;
  }
  if (!Number.isInteger(webhooks) || webhooks < 2) {
    return `webhookReplicas must be a whole number of at least 2 (got ${webhooks})`;
  }
  const bodyLimit = args.webhookBodyLimitBytes;
  const bodyLimitProblem = bodyLimit === undefined ? undefined : n8nBodyLimitProblem(bodyLimit);
  if (bodyLimitProblem) return `webhookBodyLimitBytes ${bodyLimitProblem}`;
  if (args.database.schema === "public") {
    return "database.schema must not be 'public': Supabase exposes it over its REST API; use a schema like 'n8n'";
  }
  if (!/^[a-z0-9.-]+$/.test(args.host)) return `host '${args.host}' must be a DNS name`;
  if (args.workflows && args.workflowsDir === undefined) {
    return "workflows is set without workflowsDir; name the directory of workflow JSON (e.g. n8n-workflows)";
  }
  return undefined;
}

/**
 * n8n from its own chart in queue mode: one main process, autoscaled workers and webhook
 * processors on Redis, state in Supabase PostgreSQL, encryption key from a Secret, ingress
 * through Traefik with TLS, Prometheus metrics. Token `workbench:kubernetes:N8n`.
 */
export class N8n extends pulumi.ComponentResource {
  public readonly releaseName: pulumi.Output<string>;
  public readonly url: pulumi.Output<string>;
  public readonly values: HelmValues;
  /** The routes and the webhook body limit Traefik applies (n8n-edge.ts). */
  public readonly edge: N8nEdge;
  /** The deployed workflows, when `workflowsDir` and `workflows` are set. */
  public readonly workflows?: WorkflowSet;

  constructor(name: string, args: N8nArgs, opts?: pulumi.ComponentResourceOptions) {
    super("workbench:kubernetes:N8n", name, {}, opts);
    const problem = n8nArgsProblem(args);
    if (problem) throw new pulumi.ResourceError(`${name}: ${problem}`, this);
    const deployWorkflows = args.workflowsDir !== undefined && args.workflows !== undefined;
    if (args.workflowsDir !== undefined && !args.workflows) {
      pulumi.log.warn(
        `${name}: workflowsDir is set but workflows (apiKey, projectRoot) is not, so the workflows are not deployed; ` +
          `create an API key in n8n (Settings > n8n API) and pass it as workflows.apiKey`,
        this,
      );
    }
    const child = { parent: this, provider: args.provider };

    const core = configSecret(
      `${name}-core`,
      {
        objectName: `${name}-core`,
        namespace: args.namespace,
        data: {
          N8N_ENCRYPTION_KEY: args.core.encryptionKey,
          N8N_HOST: args.host,
          N8N_PORT: String(N8N_SERVICE_PORT),
          // n8n listens on plain HTTP inside the cluster; Traefik terminates TLS.
          N8N_PROTOCOL: "http",
          DB_POSTGRESDB_PASSWORD: args.core.databasePassword,
        },
        origin: args.core.origin,
      },
      child,
    );
    const integrations = args.integrations
      ? configSecret(
          `${name}-integrations`,
          {
            objectName: SECRET_NAMES.integrations,
            namespace: args.namespace,
            data: args.integrations.data,
            origin: args.integrations.origin,
          },
          child,
        )
      : undefined;

    this.values = n8nValues(readValuesFile(args.baseValuesFile ?? baseValuesPath("n8n")), {
      image: args.image,
      host: args.host,
      ingressClass: args.ingressClass ?? TRAEFIK_INGRESS_CLASS,
      database: {
        ...args.database,
        passwordSecret: { name: core.metadata.name, key: "DB_POSTGRESDB_PASSWORD" },
      },
      redis: args.redis,
      coreSecretName: core.metadata.name,
      extraEnvFromSecrets: [
        ...(integrations ? [integrations.metadata.name] : []),
        ...(args.extraEnvFromSecrets ?? []),
      ],
      workerReplicas: args.workerReplicas ?? 2,
      workerMaxReplicas: args.workerMaxReplicas ?? 6,
      webhookReplicas: args.webhookReplicas ?? 2,
      timezone: args.timezone ?? "UTC",
      resources: N8N_RESOURCES,
      ...(deployWorkflows ? { workflowEnvAccess: true } : {}),
    });

    const release = chartRelease(
      name,
      {
        chart: args.chart ?? N8N_CHART,
        version: args.chartVersion,
        namespace: args.namespace,
        values: this.values,
        timeoutSeconds: 900,
      },
      child,
    );

    this.releaseName = release.status.name;
    this.url = pulumi.output(`https://${args.host}/`);
    // The webhook paths through Traefik with the body limit; the main route is the chart's.
    this.edge = n8nEdge({
      releaseName: name,
      host: args.host,
      ...(args.webhookBodyLimitBytes !== undefined
        ? { maxRequestBodyBytes: args.webhookBodyLimitBytes }
        : {}),
    });
    this.webhookRoutes(name, args, release);

    if (deployWorkflows && args.workflows && args.workflowsDir !== undefined) {
      this.workflows = new WorkflowSet(
        `${name}-workflows`,
        {
          apiUrl: args.workflows.apiUrl ?? `https://${args.host}`,
          apiKey: args.workflows.apiKey,
          projectRoot: args.workflows.projectRoot,
          directory: args.workflowsDir,
          ...(args.workflows.credentials ? { credentials: args.workflows.credentials } : {}),
          ...(args.workflows.activate !== undefined ? { activate: args.workflows.activate } : {}),
        },
        { parent: this, dependsOn: [release] },
      );
    }
    this.registerOutputs({ releaseName: this.releaseName, url: this.url });
  }

  /** The body-limit Middleware and an Ingress per webhook route (the non-main processes). */
  private webhookRoutes(name: string, args: N8nArgs, release: k8s.helm.v3.Release): void {
    const bodyLimitMiddleware = new k8s.apiextensions.CustomResource(
      `${name}-body-limit`,
      {
        apiVersion: "traefik.io/v1alpha1",
        kind: "Middleware",
        metadata: { name: this.edge.middleware.name, namespace: args.namespace },
        spec: this.edge.middleware.spec,
      },
      { parent: this, provider: args.provider, ...(args.traefik ? { dependsOn: [args.traefik] } : {}) },
    );
    const middlewareRef = pulumi
      .output(args.namespace)
      .apply((namespace) => crdMiddlewareRef(namespace, this.edge.middleware.name));
    for (const route of this.edge.routes.filter((r) => r.process !== "main")) {
      new k8s.networking.v1.Ingress(
        `${name}-${route.name}`,
        {
          metadata: {
            name: `${this.edge.fullname}-${route.name}`,
            namespace: args.namespace,
            annotations: {
              ...traefikTlsAnnotations(),
              ...(route.bodyLimited
                ? { "traefik.ingress.kubernetes.io/router.middlewares": middlewareRef }
                : {}),
            },
          },
          spec: {
            ingressClassName: args.ingressClass ?? TRAEFIK_INGRESS_CLASS,
            rules: [
              {
                host: args.host,
                http: {
                  paths: route.paths.map((path) => ({
                    path,
                    pathType: "Prefix",
                    backend: {
                      service: {
                        name: n8nServiceName(this.edge, route.process),
                        port: { number: N8N_SERVICE_PORT },
                      },
                    },
                  })),
                },
              },
            ],
            tls: [{ hosts: [args.host] }],
          },
        },
        {
          parent: this,
          provider: args.provider,
          dependsOn: route.bodyLimited ? [release, bodyLimitMiddleware] : [release],
        },
      );
    }
  }
}
