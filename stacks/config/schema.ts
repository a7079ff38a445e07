/**
 * The one schema for a stack's `workbench:*` configuration: the `local` and the `cloud`
 * profile, each key's rule and default. Where a component has its own default for the
 * same setting, both read it from the component folder's defaults.ts, so each value is
 * written once. Parsed by parse.ts; what a cloud deployment needs on top
 * is deployable.ts.
 */
import { z } from "zod";
import { CLUSTER_DEFAULTS, DEFAULT_REGISTRY_TIER, REGISTRY_TIERS } from "../../components/cloud/defaults.ts";
import { MONITORING_DEFAULTS } from "../../components/kubernetes/defaults.ts";
import {
  atLeast,
  atMost,
  between,
  chartVersion,
  dnsLabelRule,
  DO_SIZE,
  flag,
  hostRule,
  HOSTNAME,
  HTTPS_URL,
  imageRef,
  isPrivateCidr,
  matching,
  number,
  oneOf,
  pgIdentifierRule,
  pgRoleNameRule,
  secret,
  sslModeRule,
  tcpPortRule,
  wholeNumber,
} from "./rules.ts";

export const CONFIG_NAMESPACE = "workbench";

/** Keys that hold credentials: they must be set with `pulumi config set --secret`. */
export const SECRET_KEYS = [
  "databasePassword",
  "qualityAlertsWebhookToken",
  // Cloud profile only (see cloudSchema and cloudDeployProblems).
  "digitaloceanToken",
  "spacesAccessKeyId",
  "spacesSecretKey",
  "supabaseServiceRoleKey",
  "anthropicApiKey",
  "openaiApiKey",
  "geminiApiKey",
  "langfusePublicKey",
  "langfuseSecretKey",
  "n8nEncryptionKey",
  "odooApiKey",
  "mattermostWebhookUrl",
  "n8nApiKey",
  "supabaseJwtSecret",
] as const;
export type SecretKey = (typeof SECRET_KEYS)[number];

/** LLM providers the gateway has keys for; the model id's prefix names one. */
export const LLM_PROVIDERS = ["anthropic", "openai", "gemini"] as const;
export type LlmProvider = (typeof LLM_PROVIDERS)[number];

const DO_REGION = /^[a-z]{3}[0-9]$/;
const DOKS_VERSION_PREFIX = /^1\.[0-9]+\.$/;
const HH_MM = /^([01][0-9]|2[0-3]):[0-5][0-9]$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const MODEL_ID = /^(anthropic|openai|gemini)\/[a-z0-9][a-z0-9.-]*$/;
const SUPABASE_REF = /^[a-z0-9]{20}$/;
const AWS_REGION = /^[a-z]{2}(-[a-z]+)+-[0-9]$/;
const WEEKDAYS = [
  "monday",
  "tuesday",
  "wednesday",
  "thursday",
  "friday",
  "saturday",
  "sunday",
  "any",
] as const;
/** The n8n webhooks that take a generated token (n8nWebhookTokenRotation). */
const TOKEN_WEBHOOKS = ["expense-approval", "odoo-sync", "quality-alerts", "scout-transactions"] as const;
const POOLER_SUFFIX = ".pooler.supabase.com";

// ---- both profiles ----

const databaseSchema = z.strictObject({
  host: hostRule().default("127.0.0.1"),
  port: tcpPortRule().default(54322),
  name: pgIdentifierRule().default("postgres"),
  user: pgRoleNameRule().default("postgres"),
  sslMode: sslModeRule().default("disable"),
});

const featuresSchema = z
  .strictObject({
    /** Build the medallion with dbt and seed the catalog during `pulumi up`. */
    dataStack: flag().default(true),
    n8n: flag().default(true),
    litellm: flag().default(true),
    appPlatform: flag().default(true),
    backups: flag().default(true),
    /** Cloud: default-deny NetworkPolicies per namespace plus the flows the platform needs. */
    networkPolicies: flag().default(true),
  })
  .prefault({});

const commonShape = {
  /** Short environment name used in resource names, e.g. `prod`, `local`. */
  environment: dnsLabelRule(),
  database: databaseSchema.prefault({}),
  features: featuresSchema,
  /** Password of `database.user`; secret config only. */
  databasePassword: z.string().min(12, { error: "must be at least 12 characters" }),
  /**
   * The quality-alerts workflow's webhook: the catalog seeder POSTs each table whose DQ
   * score fell below 80 % there. Optional.
   */
  qualityAlertsWebhookUrl: matching(/^https?:\/\/[^\s/]+(\/\S*)?$/, "must be an http(s) URL").optional(),
  /**
   * The quality-alerts webhook's token (header X-Workbench-Token; the webhook refuses alert
   * POSTs without it); secret config only. The prod stack generates it and needs none here.
   */
  qualityAlertsWebhookToken: secret(20, "must be the webhook's token"),
};

// ---- local profile ----

const sampleDataSchema = z
  .strictObject({
    /** Scout transactions to generate into bronze (0 skips the generator). */
    transactions: atMost(atLeast(0), 10_000_000).default(20_000),
    /** Share of deliberately bad rows (every quarantine rule is exercised). */
    badShare: between(number(), 0, 0.5, "must be between 0 and 0.5").default(0.05),
    /** Generator seed: the same seed gives the same data. */
    seed: between(wholeNumber(), 0, 4_294_967_295, "must be a whole number from 0 to 4294967295").default(42),
  })
  .prefault({});

const localSchema = z.strictObject({
  profile: z.literal("local"),
  ...commonShape,
  /** Sample data loaded into bronze by the local stack. */
  sampleData: sampleDataSchema,
});

// ---- cloud profile ----

const clusterSchema = z
  .strictObject({
    /**
     * DOKS minor version with a trailing dot, e.g. `1.33.`: the cluster gets the newest patch
     * DigitalOcean offers under it (a pinned patch slug is retired within months).
     */
    versionPrefix: matching(
      DOKS_VERSION_PREFIX,
      "must be a DOKS minor version with a trailing dot, like 1.33.",
    ).default("1.33."),
    nodeSize: matching(DO_SIZE, "must be a DigitalOcean size slug like s-4vcpu-8gb").default(
      CLUSTER_DEFAULTS.nodeSize,
    ),
    nodeCount: atLeast(1).default(CLUSTER_DEFAULTS.nodeCount),
    minNodes: atLeast(1).default(CLUSTER_DEFAULTS.minNodes),
    maxNodes: atMost(wholeNumber(), 20, "(raise the DigitalOcean droplet limit first)").default(
      CLUSTER_DEFAULTS.maxNodes,
    ),
    autoUpgrade: flag().default(CLUSTER_DEFAULTS.autoUpgrade),
    surgeUpgrade: flag().default(CLUSTER_DEFAULTS.surgeUpgrade),
    maintenanceWindow: z
      .strictObject({
        day: oneOf(WEEKDAYS).default(CLUSTER_DEFAULTS.maintenanceWindow.day),
        startTime: matching(HH_MM, "must be a UTC time HH:MM").default(
          CLUSTER_DEFAULTS.maintenanceWindow.startTime,
        ),
      })
      .prefault({}),
  })
  .superRefine((cluster, ctx) => {
    if (cluster.minNodes > cluster.maxNodes) {
      ctx.addIssue({
        code: "custom",
        path: ["minNodes"],
        message: `must not exceed maxNodes (${cluster.maxNodes})`,
        input: cluster.minNodes,
      });
    } else if (cluster.nodeCount < cluster.minNodes || cluster.nodeCount > cluster.maxNodes) {
      ctx.addIssue({
        code: "custom",
        path: ["nodeCount"],
        message: `must lie between minNodes (${cluster.minNodes}) and maxNodes (${cluster.maxNodes})`,
        input: cluster.nodeCount,
      });
    }
  });

/** Image references for every workload the cloud stack runs; all pinned. */
const imagesSchema = z
  .strictObject({
    frontend: imageRef("registry.digitalocean.com/ai-workbench/workbench-frontend:0.1.0"),
    api: imageRef("registry.digitalocean.com/ai-workbench/workbench-api:0.1.0"),
    agentRuntime: imageRef("registry.digitalocean.com/ai-workbench/agent-runtime:0.1.0"),
    guardian: imageRef("registry.digitalocean.com/ai-workbench/guardian:0.1.0"),
    /** The data-jobs image (dbt project + catalog seeder): dbt/Dockerfile, built by CI. */
    dbtRunner: imageRef("registry.digitalocean.com/ai-workbench/dbt-runner:0.1.0"),
    ocrBackend: imageRef("registry.digitalocean.com/ai-workbench/ocr-backend:0.1.0"),
    expenseApi: imageRef("registry.digitalocean.com/ai-workbench/expense-api:0.1.0"),
    litellm: imageRef("ghcr.io/berriai/litellm:v1.80.11-stable.1"),
    n8n: imageRef("docker.n8n.io/n8nio/n8n:2.11.2"),
    redis: imageRef("redis:7.4.2-alpine"),
    postgres: imageRef("postgres:17.5-alpine"),
    awsCli: imageRef("amazon/aws-cli:2.27.0"),
  })
  .prefault({});

const modelId = z
  .string({ error: "must be a model id" })
  .regex(MODEL_ID, {
    error: "must be '<provider>/<model>' with provider anthropic, openai or gemini, like openai/gpt-4o-mini",
  })
  .refine((id) => !id.startsWith("gemini/gemini-1.5"), {
    error: "Gemini 1.5 models are retired: use a current Flash model like gemini/gemini-2.5-flash",
  });

/** LiteLLM routing: the typed spec components/kubernetes/litellm-config.ts turns into config.yaml. */
const llmSchema = z
  .strictObject({
    /** Model every request goes to first. */
    primary: modelId.default("anthropic/claude-sonnet-4-5-20250929"),
    /** Tried in order when the primary fails. */
    fallbacks: z
      .array(modelId, { error: "must be a list of model ids" })
      .min(1, { error: "must name at least one fallback model" })
      .max(4, { error: "must name at most 4 fallback models" })
      .default(["openai/gpt-4o-mini", "gemini/gemini-2.5-flash"]),
    /** Cheap model for bulk work, served under the alias `workbench-budget`. */
    budget: modelId.default("gemini/gemini-2.5-flash-lite"),
    rpmPerUser: atLeast(1).default(500),
    tpmPerUser: atLeast(1).default(10_000),
    cacheTtlSeconds: atMost(atLeast(0), 86_400, "(one day)").default(3600),
    langfuseHost: matching(HTTPS_URL, "must be an https URL like https://cloud.langfuse.com").default(
      "https://cloud.langfuse.com",
    ),
    // Gateway safeguards; unset = the defaults in components/kubernetes/litellm-config.ts
    // (GATEWAY_DEFAULTS, DEFAULT_MODEL_PRICES), which also checks how they combine.
    /** Seconds one provider call may take (the product requirements: 60). */
    timeoutSeconds: atLeast(1).optional(),
    /** Seconds a client waits at most for one request, retries and fallbacks included. */
    totalTimeoutSeconds: atLeast(1).optional(),
    /** Retries on a failing provider before its fallback (the product requirements: 3 attempts = 2 retries). */
    numRetries: atLeast(0).optional(),
    /** max_tokens when a request sets none. */
    defaultMaxTokens: atLeast(1).optional(),
    /** The largest max_tokens a request may ask for. */
    maxTokens: atLeast(1).optional(),
    /** USD per 1M tokens per model id, e.g. { "openai/gpt-4o-mini": { input: 0.15, output: 0.6 } }. */
    prices: z
      .record(
        modelId,
        z.strictObject({
          input: number().min(0, { error: "must be at least 0" }),
          output: number().min(0, { error: "must be at least 0" }),
        }),
      )
      .optional(),
  })
  .prefault({});

const usd = number().min(0, { error: "must be a price in USD, at least 0" });

/** Monthly USD prices for `npm run cost`; defaults are the infrastructure README's cost table. */
const pricesSchema = z
  .strictObject({
    /** Per droplet (DOKS node) and size slug: 3 x s-4vcpu-8gb = $120. */
    dropletMonthly: z.record(z.string(), usd).default({ "s-4vcpu-8gb": 40 }),
    /** Per App Platform instance and size slug (apps-s-1vcpu-1gb is the former professional-xs). */
    appInstanceMonthly: z.record(z.string(), usd).default({ "apps-s-1vcpu-1gb": 12 }),
    registryMonthly: z
      .strictObject({ starter: usd.default(0), basic: usd.default(5), professional: usd.default(20) })
      .prefault({}),
    spacesMonthly: usd.default(5),
    loadBalancerMonthly: usd.default(12),
    /** Block storage per GiB (the Prometheus, Alertmanager and n8n Redis volumes). */
    volumeGibMonthly: usd.default(0.1),
    supabaseMonthly: usd.default(25),
    /** LLM API spend estimate (seed: ~100 requests a day). */
    llmApiMonthly: usd.default(50),
  })
  .prefault({});

const appPlatformSchema = z
  .strictObject({
    instanceSize: matching(DO_SIZE, "must be an App Platform size slug like apps-s-1vcpu-1gb").default(
      "apps-s-1vcpu-1gb",
    ),
    instanceCount: atMost(atLeast(1), 10).default(2),
  })
  .prefault({});

const supabaseSchema = z
  .strictObject({
    /** The project's reference (20 characters, from its URL): the pooler user is `postgres.<ref>`. */
    projectRef: matching(SUPABASE_REF, "must be the project's 20-character reference (a-z, 0-9)").optional(),
    /** The project's AWS region, e.g. `ap-southeast-1`: the pooler host is `aws-0-<region>.pooler.supabase.com`. */
    region: matching(AWS_REGION, "must be an AWS region like ap-southeast-1").optional(),
    /** The project's API URL. Default https://<projectRef>.supabase.co. */
    url: matching(HTTPS_URL, "must be the project's https URL like https://abcd.supabase.co").optional(),
    /** Session-mode port (pooler or direct) for long-lived clients and pg_dump; `database.port` stays the transaction pooler. */
    sessionPort: tcpPortRule().default(5432),
  })
  .prefault({});

const chartsSchema = z
  .strictObject({
    traefik: chartVersion("41.3.0"),
    n8n: chartVersion("1.11.0"),
    certManager: chartVersion("v1.19.1", /^v[0-9]+\.[0-9]+\.[0-9]+$/),
    metricsServer: chartVersion("3.13.0"),
    kubePrometheusStack: chartVersion("79.2.0"),
  })
  .prefault({});

/** TLS: cert-manager's ClusterIssuer for Let's Encrypt (HTTP-01 through Traefik). */
const tlsSchema = z
  .strictObject({
    /** Let's Encrypt's production CA, or staging (untrusted certificates, generous rate limits). */
    acmeServer: z
      .enum(["production", "staging"], { error: "must be production or staging" })
      .default("production"),
  })
  .prefault({});

/** The monitoring namespace's Prometheus stack, sized for a 3-6 node cluster. */
const monitoringSchema = z
  .strictObject({
    /** Days Prometheus keeps samples. */
    retentionDays: atMost(atLeast(1), 90).default(MONITORING_DEFAULTS.retentionDays),
    /** Prometheus volume, GiB. */
    prometheusStorageGi: atLeast(5).default(MONITORING_DEFAULTS.prometheusStorageGi),
    /** Alertmanager volume, GiB. */
    alertmanagerStorageGi: atLeast(1).default(MONITORING_DEFAULTS.alertmanagerStorageGi),
  })
  .prefault({});

/** Cloud database: Supabase's pooler (transaction port 6543) over TLS. */
const cloudDatabaseSchema = z
  .strictObject({
    /** Default: the pooler, aws-0-<supabase.region>.pooler.supabase.com. */
    host: hostRule().optional(),
    port: tcpPortRule().default(6543),
    name: pgIdentifierRule().default("postgres"),
    /** Default: `postgres.<supabase.projectRef>` on a pooler host, else `postgres`. */
    user: pgRoleNameRule().optional(),
    sslMode: sslModeRule().default("require"),
  })
  .prefault({});

const cloudSchema = z.strictObject({
  profile: z.literal("cloud"),
  ...commonShape,
  region: matching(DO_REGION, "must be a DigitalOcean region slug like sgp1"),
  domain: matching(HOSTNAME, "must be a lowercase DNS name like workbench.example.com"),
  vpcCidr: z
    .string()
    .refine(isPrivateCidr, {
      error: "must be a private IPv4 network (RFC 1918) in CIDR form like 10.10.0.0/16",
    })
    .default("10.10.0.0/16"),
  cluster: clusterSchema,
  database: cloudDatabaseSchema,
  /**
   * Deploy what pulls images from the registry (workbench services, data-job CronJobs, App
   * Platform apps). False for the first `up`: the registry must exist and hold the images
   * first (README, first deploy). Default false.
   */
  deployWorkloads: flag().default(false),
  tls: tlsSchema,
  monitoring: monitoringSchema,
  registryTier: oneOf(REGISTRY_TIERS).default(DEFAULT_REGISTRY_TIER),
  /** Container registry name (globally unique at DigitalOcean). */
  registryName: dnsLabelRule().default("ai-workbench"),
  /** Let's Encrypt account email (optional). */
  acmeEmail: matching(EMAIL, "must be an email address").optional(),
  supabase: supabaseSchema,
  images: imagesSchema,
  charts: chartsSchema,
  llm: llmSchema,
  appPlatform: appPlatformSchema,
  prices: pricesSchema,
  // Secrets (SECRET_KEYS); presence per enabled feature is checked by cloudDeployProblems.
  digitaloceanToken: secret(20, "must be a DigitalOcean API token"),
  spacesAccessKeyId: secret(10, "must be a Spaces access key id"),
  spacesSecretKey: secret(20, "must be a Spaces secret key"),
  supabaseServiceRoleKey: secret(20, "must be the Supabase service-role key (a JWT)"),
  anthropicApiKey: secret(20, "must be an Anthropic API key"),
  openaiApiKey: secret(20, "must be an OpenAI API key"),
  geminiApiKey: secret(20, "must be a Gemini API key"),
  langfusePublicKey: secret(8, "must be a Langfuse public key"),
  langfuseSecretKey: secret(8, "must be a Langfuse secret key"),
  n8nEncryptionKey: secret(32, "must be at least 32 characters (e.g. openssl rand -hex 32)"),
  odooApiKey: secret(8, "must be an Odoo API key"),
  mattermostWebhookUrl: matching(HTTPS_URL, "must be an https webhook URL").optional(),
  /**
   * An n8n API key (n8n > Settings > n8n API), created once by hand after the first
   * install. With it, the deployment imports, activates and updates n8n-workflows/.
   */
  n8nApiKey: secret(20, "must be an n8n API key"),
  /**
   * The Supabase project's JWT secret (Settings > API > JWT secret): n8n's pipeline-trigger
   * webhook verifies the caller's access token with it. Required with n8nApiKey.
   */
  supabaseJwtSecret: secret(32, "must be the Supabase JWT secret (at least 32 characters)"),
  /**
   * Rotation of the n8n webhook tokens (one per webhook: expense-approval, odoo-sync,
   * quality-alerts, scout-transactions): raise a webhook's number and `pulumi up` generates
   * a new token for it (stack output n8nWebhookTokens) and puts it into n8n. Default 0.
   */
  n8nWebhookTokenRotation: z
    .partialRecord(
      z.enum(TOKEN_WEBHOOKS, {
        error: "must be a token webhook: expense-approval, odoo-sync, quality-alerts or scout-transactions",
      }),
      atLeast(0),
    )
    .default({}),
});

// ---- the two profiles together ----

/**
 * The cloud profile's Supabase connection defaults: the pooler host from `supabase.region`
 * (Supabase's shared IPv4 pooler; the direct host is IPv6-only), the pooler's user format
 * `postgres.<projectRef>` and the API URL from the reference.
 */
function withSupabaseDefaults(config: z.infer<typeof cloudSchema>) {
  const ref = config.supabase.projectRef;
  const host =
    config.database.host ?? (config.supabase.region ? `aws-0-${config.supabase.region}${POOLER_SUFFIX}` : "");
  const user = config.database.user ?? (ref && host.endsWith(POOLER_SUFFIX) ? `postgres.${ref}` : "postgres");
  const url = config.supabase.url ?? (ref ? `https://${ref}.supabase.co` : undefined);
  return {
    ...config,
    database: { ...config.database, host, user },
    supabase: { ...config.supabase, ...(url ? { url } : {}) },
  };
}

export const stackConfigSchema = z
  .discriminatedUnion("profile", [localSchema, cloudSchema], {
    error: "must be 'local' or 'cloud'",
  })
  .superRefine((config, ctx) => {
    if (config.profile !== "cloud") return;
    if (config.database.host === undefined && config.supabase.region === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["supabase", "region"],
        message:
          "is required unless database.host is set: the pooler host is aws-0-<region>.pooler.supabase.com",
        input: undefined,
      });
    }
    const pooler = (config.database.host ?? POOLER_SUFFIX).endsWith(POOLER_SUFFIX);
    if (pooler && config.database.user === undefined && config.supabase.projectRef === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["supabase", "projectRef"],
        message: "is required for the pooler, whose user is postgres.<projectRef> (or set database.user)",
        input: undefined,
      });
    }
  })
  .transform((config) => (config.profile === "cloud" ? withSupabaseDefaults(config) : config));

export type StackConfig = z.infer<typeof stackConfigSchema>;
export type LocalStackConfig = Extract<StackConfig, { profile: "local" }>;
export type CloudStackConfig = Extract<StackConfig, { profile: "cloud" }>;
