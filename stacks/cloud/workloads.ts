/**
 * The cloud profile's Kubernetes workloads and App Platform apps: cluster base (namespaces,
 * gateway keys), cluster services, the LLM gateway, n8n, the workbench services, App Platform.
 */
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { AppPlatformService } from "../../components/cloud/index.ts";
import { SqlStatements } from "../../components/database/index.ts";
import {
  BACKUP_TIERS,
  CertManager,
  LITELLM_PORT,
  MetricsServer,
  Monitoring,
  NetworkPolicies,
  WORKBENCH_NAMESPACES,
  LiteLlm,
  N8n,
  Namespaces,
  formerHubSecret,
  type ProviderKeyName,
  PROVIDER_KEY_ENV,
  providersOf,
  Redis,
  SECRET_NAMES,
  Traefik,
  WorkbenchServices,
  type WorkbenchServiceSpec,
  type SecretData,
} from "../../components/kubernetes/index.ts";
import {
  TOKEN_WEBHOOKS,
  type TokenWebhook,
  webhookCredentialSpecs,
} from "../../lib/n8n/webhook-credentials.ts";
import { REPO_ROOT } from "../../lib/paths.ts";
import { featureSecret } from "../config/deployable.ts";
import { BACKUP_JOB_PREFIX } from "./data.ts";
import { APP_SCHEMAS, type Supabase } from "./database.ts";
import type { Foundation } from "./foundation.ts";
import type { DeployableCloudConfig as Config } from "../config/deployable.ts";

/** Size of n8n's queue Redis volume. */
export const N8N_REDIS_VOLUME_GIB = 1;
/** The App Platform apps (the infrastructure deliverables): OCR backend and Expense API. */
export const APP_PLATFORM_APPS = ["ocr-backend", "expense-api"] as const;
/** n8n's HTTP port (its chart's default). */
const N8N_PORT = 5678;

/** The services that call the LLM gateway, each with its own key (private.llm_callers). */
export const LLM_CALLERS = [
  { name: "api", kind: "service" },
  { name: "agent-runtime", kind: "agent" },
  { name: "n8n", kind: "service" },
  { name: "ocr-backend", kind: "service" },
  { name: "guardian", kind: "service" },
] as const;

const sha256Hex = (value: pulumi.Output<string>) =>
  value.apply((text) => createHash("sha256").update(text).digest("hex"));

/** An Output with `value`'s value that also waits for `after` (carries the dependency into inputs). */
function after<T>(value: pulumi.Input<T>, resource: pulumi.Resource): pulumi.Output<T> {
  return pulumi.all([value, resource.urn]).apply(([inner]) => inner as T);
}

/** The WorkbenchSecrets hub (removed) created a Secret here: the component that owns it now keeps it by an alias. */
const hubSecret = (base: string, key: string) => formerHubSecret(`${base}-secrets`, key);

/** Kubernetes: the namespaces, the gateway's keys and the integration credentials. */
export function clusterBase(config: Config, base: string, foundation: Foundation) {
  const { cluster } = foundation;
  const features = config.features;
  const provider = cluster.provider;
  // node-exporter needs the host's network, PIDs and paths: `monitoring` is privileged.
  const namespaces = new Namespaces(`${base}-namespaces`, {
    provider,
    enforceIn: { monitoring: "privileged" },
  });
  const workbenchNs = namespaces.nameOf("ai-workbench");

  const masterKey = features.litellm
    ? pulumi.secret(
        new random.RandomPassword(`${base}-litellm-master-key`, { length: 48, special: false }).result.apply(
          (value) => `sk-${value}`,
        ),
      )
    : undefined;
  // A gateway key per calling service (the master key opens no model); only their sha256
  // reaches the database (private.llm_register_key), where the gateway maps each to its caller.
  const llmKeys = features.litellm
    ? Object.fromEntries(
        LLM_CALLERS.map(({ name }) => [
          name,
          pulumi.secret(
            new random.RandomPassword(`${base}-llm-key-${name}`, { length: 64, special: false }).result.apply(
              (value) => `wbk_${value}`,
            ),
          ),
        ]),
      )
    : undefined;
  const models = { primary: config.llm.primary, fallbacks: config.llm.fallbacks, budget: config.llm.budget };
  const providerKeys: Partial<Record<ProviderKeyName, pulumi.Input<string>>> = {};
  const keyConfig = {
    anthropic: config.anthropicApiKey,
    openai: config.openaiApiKey,
    gemini: config.geminiApiKey,
  };
  for (const llmProvider of providersOf(models)) {
    const key = keyConfig[llmProvider];
    if (key !== undefined) providerKeys[PROVIDER_KEY_ENV[llmProvider]] = pulumi.secret(key);
  }

  // The integration credentials (the workbench's and n8n's `integrations` Secrets).
  const integrations: SecretData = {
    ODOO_API_KEY: config.odooApiKey ? pulumi.secret(config.odooApiKey) : undefined,
    MATTERMOST_WEBHOOK_URL: config.mattermostWebhookUrl
      ? pulumi.secret(config.mattermostWebhookUrl)
      : undefined,
    LITELLM_API_KEY: llmKeys?.["n8n"],
  };
  return { provider, namespaces, workbenchNs, masterKey, llmKeys, providerKeys, integrations };
}
export type ClusterBase = ReturnType<typeof clusterBase>;

/** Cluster services: TLS, resource metrics, monitoring, network policies. */
export function clusterServices(config: Config, base: string, k8s: ClusterBase): { traefik: Traefik } {
  const { provider, namespaces } = k8s;
  const domain = config.domain;
  const features = config.features;
  const hosts = [
    domain,
    `api.${domain}`,
    ...(features.n8n ? [`n8n.${domain}`] : []),
    ...(features.litellm ? [`litellm.${domain}`] : []),
  ];
  const certManager = new CertManager("cert-manager", {
    provider,
    namespace: namespaces.nameOf("cert-manager"),
    chartVersion: config.charts.certManager,
    acmeServer: config.tls.acmeServer,
    ...(config.acmeEmail ? { acmeEmail: config.acmeEmail } : {}),
    certificate: { namespace: namespaces.nameOf("traefik"), dnsNames: hosts },
  });
  const traefik = new Traefik("traefik", {
    provider,
    namespace: namespaces.nameOf("traefik"),
    chartVersion: config.charts.traefik,
    hostname: domain,
    trustedIps: [config.vpcCidr],
    loadBalancerName: `${base}-lb`,
    defaultCertificateSecret: certManager.secretName,
  });
  new MetricsServer("metrics-server", { provider, chartVersion: config.charts.metricsServer });
  new Monitoring("monitoring", {
    provider,
    namespace: namespaces.nameOf("monitoring"),
    chartVersion: config.charts.kubePrometheusStack,
    retentionDays: config.monitoring.retentionDays,
    prometheusStorageGi: config.monitoring.prometheusStorageGi,
    alertmanagerStorageGi: config.monitoring.alertmanagerStorageGi,
    alerts: {
      namespaces: WORKBENCH_NAMESPACES,
      jobsNamespace: "ai-workbench",
      // The frequent tiers: each must succeed at least every 26 h (weekly fails loudly on its own).
      backupCronJobs: BACKUP_TIERS.filter((tier) => tier.name !== "weekly").map(
        (tier) => `${BACKUP_JOB_PREFIX}-${tier.name}`,
      ),
      dbtCronJobs: ["dbt-ingest", "dbt-transform", "dbt-backfill"],
      dataQualityCronJob: "dbt-data-quality",
    },
  });
  if (features.networkPolicies) {
    new NetworkPolicies("network-policies", {
      provider,
      namespaces: WORKBENCH_NAMESPACES,
      namespaceOf: (namespace) => namespaces.nameOf(namespace),
      ingressNamespace: "traefik",
      monitoringNamespace: "monitoring",
      internetEgress: ["ai-workbench", "n8n", "litellm", "cert-manager"],
      // cert-manager checks each HTTP-01 challenge through the load balancer before Let's Encrypt does.
      extraEgressPorts: { "cert-manager": [80] },
      apiServerWebhooks: ["cert-manager", "monitoring"],
      flows: [
        { from: "ai-workbench", to: "litellm", ports: [LITELLM_PORT] },
        { from: "n8n", to: "litellm", ports: [LITELLM_PORT] },
        { from: "ai-workbench", to: "n8n", ports: [N8N_PORT] },
      ],
    });
  }
  return { traefik };
}

/** The LiteLLM gateway and the callers' keys it accepts. */
export function gateway(config: Config, base: string, k8s: ClusterBase, db: Supabase) {
  const { provider, namespaces, workbenchNs, masterKey, llmKeys, providerKeys } = k8s;
  const { session, database, appSchemas, logins, urlOf } = db;
  const domain = config.domain;
  const features = config.features;
  let litellm: LiteLlm | undefined;
  let llmKeysSecret: pulumi.Output<string> | undefined;
  if (features.litellm && masterKey && llmKeys) {
    const callers = new SqlStatements(
      `${base}-llm-callers`,
      {
        connection: session,
        apply: LLM_CALLERS.map(
          ({ name, kind }) =>
            pulumi.interpolate`select private.llm_register_key('${name}', '${kind}', '${sha256Hex(llmKeys[name] as pulumi.Output<string>)}')`,
        ),
        // Revokes exactly the keys registered (a rotated key is revoked, then its successor added).
        undo: LLM_CALLERS.map(
          ({ name }) =>
            pulumi.interpolate`update private.llm_caller_keys set revoked_at = now() where key_hash = decode('${sha256Hex(llmKeys[name] as pulumi.Output<string>)}', 'hex')`,
        ),
      },
      { dependsOn: [database] },
    );
    litellm = new LiteLlm("litellm", {
      provider,
      namespace: namespaces.nameOf("litellm"),
      image: config.images.litellm,
      redisImage: config.images.redis,
      routing: config.llm,
      keys: {
        masterKey,
        providerKeys,
        langfuse: {
          publicKey: pulumi.secret(featureSecret(config, "langfusePublicKey")),
          secretKey: pulumi.secret(featureSecret(config, "langfuseSecretKey")),
        },
        // The gateway's only database URL: the usage login (LiteLLM keeps no database). The
        // gateway starts once the apps' schemas exist and its callers' keys are registered.
        usageDatabaseUrl: after(after(urlOf(logins.usage), appSchemas), callers),
        origin: hubSecret(base, "llm"),
      },
      host: `litellm.${domain}`,
      clientNamespaces: ["traefik", "ai-workbench", "n8n", "monitoring"].map((ns) => namespaces.nameOf(ns)),
      callerKeys: {
        namespace: workbenchNs,
        secretName: "llm-caller-keys",
        keys: {
          api: llmKeys["api"] as pulumi.Output<string>,
          "agent-runtime": llmKeys["agent-runtime"] as pulumi.Output<string>,
        },
      },
    });
    llmKeysSecret = litellm.callerKeysSecretName;
  }
  return { litellm, llmKeysSecret };
}
export type Gateway = ReturnType<typeof gateway>;

/** n8n with its queue, webhook tokens and the seed workflows. */
export function n8nService(config: Config, base: string, k8s: ClusterBase, db: Supabase, traefik: Traefik) {
  const { provider, namespaces, integrations } = k8s;
  const { database, appSchemas, logins, onSession } = db;
  const domain = config.domain;
  const features = config.features;
  let n8n: N8n | undefined;
  let n8nWebhookTokens: pulumi.Output<Record<TokenWebhook, string>> | undefined;
  if (features.n8n) {
    const queue = new Redis("n8n-redis", {
      provider,
      namespace: namespaces.nameOf("n8n"),
      image: config.images.redis,
      evictionPolicy: "noeviction",
      persistenceGi: N8N_REDIS_VOLUME_GIB,
    });
    // One token per token webhook (header X-Workbench-Token); raising its number in
    // n8nWebhookTokenRotation generates a new one on the next `pulumi up`.
    const webhookTokens = TOKEN_WEBHOOKS.map(
      (path) =>
        new random.RandomPassword(`${base}-n8n-webhook-token-${path}`, {
          length: 40,
          special: false,
          keepers: { rotation: String(config.n8nWebhookTokenRotation[path] ?? 0) },
        }).result,
    );
    const tokens = pulumi.secret(
      pulumi
        .all(webhookTokens)
        .apply(
          (values) =>
            Object.fromEntries(TOKEN_WEBHOOKS.map((path, i) => [path, values[i] as string])) as Record<
              TokenWebhook,
              string
            >,
        ),
    );
    n8nWebhookTokens = tokens;
    n8n = new N8n("n8n", {
      provider,
      namespace: namespaces.nameOf("n8n"),
      chartVersion: config.charts.n8n,
      image: config.images.n8n,
      host: `n8n.${domain}`,
      database: {
        host: config.database.host,
        port: config.supabase.sessionPort,
        name: config.database.name,
        user: logins.n8n.user,
        schema: APP_SCHEMAS.n8n,
        sslMode: config.database.sslMode,
      },
      redis: {
        host: queue.host,
        port: queue.port,
        passwordSecret: { name: queue.passwordSecretName, key: queue.passwordKey },
      },
      core: {
        encryptionKey: pulumi.secret(featureSecret(config, "n8nEncryptionKey")),
        // n8n starts once its schema exists.
        databasePassword: after(database.n8nPassword, appSchemas),
        origin: hubSecret(base, "n8n"),
      },
      integrations: { data: integrations, origin: hubSecret(base, "integrations-n8n") },
      // Its CRDs carry the webhook body limit (a Traefik Middleware).
      traefik,
      // The seed workflows, once an API key exists (it can only be created in a running n8n).
      ...(config.n8nApiKey
        ? {
            workflowsDir: "n8n-workflows",
            workflows: {
              apiKey: pulumi.secret(config.n8nApiKey),
              projectRoot: REPO_ROOT,
              credentials: pulumi.secret(
                pulumi.all([onSession(logins.n8n), tokens]).apply(([connection, values]) => [
                  {
                    // The workflows' inserts, approvals, job runs and execute_sql calls, as
                    // the n8n login (a member of workbench_n8n), never the admin.
                    name: "Workbench Postgres",
                    type: "postgres",
                    data: {
                      host: connection.host,
                      port: connection.port,
                      database: connection.database,
                      user: connection.user,
                      password: connection.password,
                      ssl: connection.sslMode === "disable" ? "disable" : "require",
                    },
                  },
                  ...webhookCredentialSpecs(values, { secret: featureSecret(config, "supabaseJwtSecret") }),
                ]),
              ),
            },
          }
        : {}),
    });
  }
  return { n8n, n8nWebhookTokens };
}

/** The workbench's own services from the registry: only once the images are there (deployWorkloads). */
export function workbenchServices(
  config: Config,
  base: string,
  foundation: Foundation,
  db: Supabase,
  k8s: ClusterBase,
  llmGateway: Gateway,
) {
  const { provider, workbenchNs, integrations } = k8s;
  const { litellm, llmKeysSecret } = llmGateway;
  const domain = config.domain;
  const supabaseUrl = config.supabase.url;
  const supabaseSecret = SECRET_NAMES.supabase;
  // Services reach the gateway inside the cluster, each with its own caller key.
  const llm = (
    caller: "api" | "agent-runtime" | "guardian",
  ): Pick<WorkbenchServiceSpec, "env" | "secretEnv"> =>
    litellm && llmKeysSecret
      ? {
          env: { LITELLM_BASE_URL: litellm.internalUrl },
          secretEnv: { LITELLM_API_KEY: { secretName: llmKeysSecret, key: caller } },
        }
      : {};
  const workloads = config.deployWorkloads;
  const services = !workloads
    ? undefined
    : new WorkbenchServices("workbench", {
        provider,
        namespace: workbenchNs,
        supabase: {
          serviceRoleKey: pulumi.secret(config.supabaseServiceRoleKey),
          databaseUrl: db.urlOf(db.logins.api),
          origin: hubSecret(base, "supabase"),
        },
        integrations: { data: integrations, origin: hubSecret(base, "integrations-workbench") },
        registry: {
          dockerConfigJson: foundation.registry.dockerConfigJson,
          origin: hubSecret(base, "registry-workbench"),
        },
        services: [
          {
            name: "frontend",
            image: config.images.frontend,
            port: 3000,
            host: domain,
            readinessPath: "/",
            env: { NEXT_PUBLIC_SUPABASE_URL: supabaseUrl, NEXT_PUBLIC_API_URL: `https://api.${domain}` },
          },
          {
            name: "api",
            image: config.images.api,
            port: 8000,
            host: `api.${domain}`,
            env: { SUPABASE_URL: supabaseUrl, AGENT_RUNTIME_URL: "http://agent-runtime", ...llm("api").env },
            secretEnv: {
              SUPABASE_SERVICE_ROLE_KEY: { secretName: supabaseSecret, key: "SUPABASE_SERVICE_ROLE_KEY" },
              DATABASE_URL: { secretName: supabaseSecret, key: "DATABASE_URL" },
              ...llm("api").secretEnv,
            },
          },
          {
            name: "agent-runtime",
            image: config.images.agentRuntime,
            port: 8080,
            env: { SUPABASE_URL: supabaseUrl, GUARDIAN_URL: "http://guardian", ...llm("agent-runtime").env },
            secretEnv: {
              SUPABASE_SERVICE_ROLE_KEY: { secretName: supabaseSecret, key: "SUPABASE_SERVICE_ROLE_KEY" },
              ...llm("agent-runtime").secretEnv,
            },
            resources: { requests: { cpu: "250m", memory: "512Mi" }, limits: { cpu: "2", memory: "2Gi" } },
          },
          {
            // Guardian: the quality checks (validation) behind the API; cluster-internal.
            name: "guardian",
            image: config.images.guardian,
            port: 8080,
            env: { SUPABASE_URL: supabaseUrl, ...llm("guardian").env },
            secretEnv: {
              SUPABASE_SERVICE_ROLE_KEY: { secretName: supabaseSecret, key: "SUPABASE_SERVICE_ROLE_KEY" },
              DATABASE_URL: { secretName: supabaseSecret, key: "DATABASE_URL" },
              ...llm("guardian").secretEnv,
            },
          },
        ],
      });
  return services;
}

/** App Platform services (OCR backend, expense API), beside the cluster. */
export function appPlatformApps(
  config: Config,
  base: string,
  foundation: Foundation,
  db: Supabase,
  k8s: ClusterBase,
  llmGateway: Gateway,
) {
  const { onDigitalOcean, network } = foundation;
  const { logins, urlOf } = db;
  const { llmKeys } = k8s;
  const { litellm } = llmGateway;
  const features = config.features;
  const workloads = config.deployWorkloads;
  const supabaseUrl = config.supabase.url;
  const apps: Record<string, pulumi.Output<string>> = {};
  if (features.appPlatform && workloads) {
    const supabaseKey = pulumi.secret(config.supabaseServiceRoleKey);
    const common = {
      region: config.region,
      vpcId: network.vpcId,
      instanceCount: config.appPlatform.instanceCount,
      instanceSize: config.appPlatform.instanceSize,
    };
    apps["ocrBackend"] = new AppPlatformService(
      `${base}-ocr-backend`,
      {
        ...common,
        appName: `${base}-ocr-backend`.slice(0, 32),
        image: config.images.ocrBackend,
        env: { SUPABASE_URL: supabaseUrl, ...(litellm ? { LITELLM_BASE_URL: litellm.url } : {}) },
        secretEnv: {
          SUPABASE_SERVICE_ROLE_KEY: supabaseKey,
          ...(llmKeys ? { LITELLM_API_KEY: llmKeys["ocr-backend"] as pulumi.Output<string> } : {}),
        },
      },
      onDigitalOcean,
    ).liveUrl;
    apps["expenseApi"] = new AppPlatformService(
      `${base}-expense-api`,
      {
        ...common,
        appName: `${base}-expense-api`.slice(0, 32),
        image: config.images.expenseApi,
        env: { SUPABASE_URL: supabaseUrl },
        secretEnv: {
          SUPABASE_SERVICE_ROLE_KEY: supabaseKey,
          DATABASE_URL: urlOf(logins.api),
          ...(config.mattermostWebhookUrl
            ? { MATTERMOST_WEBHOOK_URL: pulumi.secret(config.mattermostWebhookUrl) }
            : {}),
        },
      },
      onDigitalOcean,
    ).liveUrl;
  }
  return apps;
}
