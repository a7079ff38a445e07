/**
 * The one schema for a stack's `workbench:*` configuration.
 *
 * Only `stacks/` reads Pulumi config, and only through {@link parseStackConfig}: it runs
 * before any resource is registered, so a bad value fails the deployment with a message
 * naming the key, the rule and what was found, and nothing is touched.
 *
 * The parser is a pure function of the raw config map (as `pulumi.runtime.allConfig()`
 * returns it) and the set of keys that were stored as secrets, so tests call it directly.
 */
import { z } from "zod";
import { isPinnedImage } from "../components/cloud/image-ref.ts";

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
type SecretKey = (typeof SECRET_KEYS)[number];

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const DO_REGION = /^[a-z]{3}[0-9]$/;

// Rules shared by the local and the cloud database settings (one message each).
const hostRule = () => z.string().regex(HOSTNAME, { error: "must be a hostname or IPv4 address" });
const tcpPortRule = () =>
  wholeNumber()
    .min(1, { error: "must be a TCP port (1-65535)" })
    .max(65535, { error: "must be a TCP port (1-65535)" });
const pgIdentifierRule = () =>
  z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, { error: "must be a lowercase PostgreSQL identifier" });
const pgRoleNameRule = () =>
  z.string().regex(/^[a-z_][a-z0-9_.]{0,62}$/, { error: "must be a lowercase PostgreSQL role name" });
// Rules for plain values (one message each, wherever the schema uses them).
const flag = () => z.boolean({ error: "must be true or false" });
const wholeNumber = () => z.int({ error: "must be a whole number" });
const number = () => z.number({ error: "must be a number" });
/** A whole number of at least `min`. */
const atLeast = (min: number) => wholeNumber().min(min, { error: `must be at least ${min}` });
const DOKS_VERSION_PREFIX = /^1\.[0-9]+\.$/;
const DO_SIZE = /^[a-z0-9]+(-[a-z0-9]+)+$/;
const HH_MM = /^([01][0-9]|2[0-3]):[0-5][0-9]$/;
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

/** True when `cidr` is an IPv4 network inside one of the RFC 1918 private ranges. */
export function isPrivateCidr(cidr: string): boolean {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  if (!match) return false;
  const [a, b, c, d, bits] = match.slice(1).map(Number) as [number, number, number, number, number];
  if ([a, b, c, d].some((octet) => octet > 255) || bits > 32) return false;
  const address = ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  if ((address & mask) >>> 0 !== address) return false; // host bits set: not a network address
  const inside = (base: number, baseBits: number) =>
    bits >= baseBits && (address & ((~0 << (32 - baseBits)) >>> 0)) >>> 0 === base;
  return inside(0x0a000000, 8) || inside(0xac100000, 12) || inside(0xc0a80000, 16);
}

const clusterSchema = z
  .strictObject({
    /**
     * DOKS minor version with a trailing dot, e.g. `1.33.`: the cluster gets the newest patch
     * DigitalOcean offers under it (a pinned patch slug is retired within months).
     */
    versionPrefix: z
      .string()
      .regex(DOKS_VERSION_PREFIX, { error: "must be a DOKS minor version with a trailing dot, like 1.33." })
      .default("1.33."),
    nodeSize: z
      .string()
      .regex(DO_SIZE, { error: "must be a DigitalOcean size slug like s-4vcpu-8gb" })
      .default("s-4vcpu-8gb"),
    nodeCount: atLeast(1).default(3),
    minNodes: atLeast(1).default(3),
    maxNodes: wholeNumber()
      .max(20, { error: "must be at most 20 (raise the DigitalOcean droplet limit first)" })
      .default(6),
    autoUpgrade: flag().default(true),
    surgeUpgrade: flag().default(true),
    maintenanceWindow: z
      .strictObject({
        day: z.enum(WEEKDAYS, { error: `must be one of ${WEEKDAYS.join(", ")}` }).default("sunday"),
        startTime: z.string().regex(HH_MM, { error: "must be a UTC time HH:MM" }).default("03:00"),
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

const databaseSchema = z.strictObject({
  host: hostRule().default("127.0.0.1"),
  port: tcpPortRule().default(54322),
  name: pgIdentifierRule().default("postgres"),
  user: pgRoleNameRule().default("postgres"),
  sslMode: z
    .enum(["disable", "require", "verify-full"], { error: "must be one of disable, require, verify-full" })
    .default("disable"),
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
  environment: z.string().regex(DNS_LABEL, { error: "must be a lowercase DNS label (a-z, 0-9, -)" }),
  database: databaseSchema.prefault({}),
  features: featuresSchema,
  /** Password of `database.user`; secret config only. */
  databasePassword: z.string().min(12, { error: "must be at least 12 characters" }),
  /**
   * The quality-alerts workflow's webhook: the catalog seeder POSTs each table whose DQ
   * score fell below 80 % there. Optional.
   */
  qualityAlertsWebhookUrl: z
    .string()
    .regex(/^https?:\/\/[^\s/]+(\/\S*)?$/, { error: "must be an http(s) URL" })
    .optional(),
  /**
   * The quality-alerts webhook's token (header X-Workbench-Token; the webhook refuses alert
   * POSTs without it); secret config only. The prod stack generates it and needs none here.
   */
  qualityAlertsWebhookToken: z.string().min(20, { error: "must be the webhook's token" }).optional(),
};

const sampleDataSchema = z
  .strictObject({
    /** Scout transactions to generate into bronze (0 skips the generator). */
    transactions: atLeast(0).max(10_000_000, { error: "must be at most 10000000" }).default(20_000),
    /** Share of deliberately bad rows (every quarantine rule is exercised). */
    badShare: number()
      .min(0, { error: "must be between 0 and 0.5" })
      .max(0.5, { error: "must be between 0 and 0.5" })
      .default(0.05),
    /** Generator seed: the same seed gives the same data. */
    seed: wholeNumber()
      .min(0, { error: "must be a whole number from 0 to 4294967295" })
      .max(4_294_967_295, { error: "must be a whole number from 0 to 4294967295" })
      .default(42),
  })
  .prefault({});

const localSchema = z.strictObject({
  profile: z.literal("local"),
  ...commonShape,
  /** Sample data loaded into bronze by the local stack. */
  sampleData: sampleDataSchema,
});

const HTTPS_URL = /^https:\/\/[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?(\/[^\s]*)?$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const SEMVER = /^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$/;
/** LLM providers the gateway has keys for; the model id's prefix names one. */
export const LLM_PROVIDERS = ["anthropic", "openai", "gemini"] as const;
type LlmProvider = (typeof LLM_PROVIDERS)[number];
const MODEL_ID = /^(anthropic|openai|gemini)\/[a-z0-9][a-z0-9.-]*$/;

const imageRef = (example: string) =>
  z
    .string({ error: "must be a container image reference" })
    .refine(isPinnedImage, {
      error:
        "must be an image reference pinned to a version tag or digest, like registry.example.com/team/app:1.2.3 (not :latest, not untagged)",
    })
    .default(example);

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
    cacheTtlSeconds: atLeast(0).max(86_400, { error: "must be at most 86400 (one day)" }).default(3600),
    langfuseHost: z
      .string()
      .regex(HTTPS_URL, { error: "must be an https URL like https://cloud.langfuse.com" })
      .default("https://cloud.langfuse.com"),
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
    instanceSize: z
      .string()
      .regex(DO_SIZE, { error: "must be an App Platform size slug like apps-s-1vcpu-1gb" })
      .default("apps-s-1vcpu-1gb"),
    instanceCount: atLeast(1).max(10, { error: "must be at most 10" }).default(2),
  })
  .prefault({});

const SUPABASE_REF = /^[a-z0-9]{20}$/;
const AWS_REGION = /^[a-z]{2}(-[a-z]+)+-[0-9]$/;

const supabaseSchema = z
  .strictObject({
    /** The project's reference (20 characters, from its URL): the pooler user is `postgres.<ref>`. */
    projectRef: z
      .string()
      .regex(SUPABASE_REF, { error: "must be the project's 20-character reference (a-z, 0-9)" })
      .optional(),
    /** The project's AWS region, e.g. `ap-southeast-1`: the pooler host is `aws-0-<region>.pooler.supabase.com`. */
    region: z.string().regex(AWS_REGION, { error: "must be an AWS region like ap-southeast-1" }).optional(),
    /** The project's API URL. Default https://<projectRef>.supabase.co. */
    url: z
      .string()
      .regex(HTTPS_URL, { error: "must be the project's https URL like https://abcd.supabase.co" })
      .optional(),
    /** Session-mode port (pooler or direct) for long-lived clients and pg_dump; `database.port` stays the transaction pooler. */
    sessionPort: tcpPortRule().default(5432),
  })
  .prefault({});

const chartsSchema = z
  .strictObject({
    traefik: z.string().regex(SEMVER, { error: "must be a chart version like 41.3.0" }).default("41.3.0"),
    n8n: z.string().regex(SEMVER, { error: "must be a chart version like 1.11.0" }).default("1.11.0"),
    certManager: z
      .string()
      .regex(/^v[0-9]+\.[0-9]+\.[0-9]+$/, { error: "must be a chart version like v1.19.1" })
      .default("v1.19.1"),
    metricsServer: z
      .string()
      .regex(SEMVER, { error: "must be a chart version like 3.13.0" })
      .default("3.13.0"),
    kubePrometheusStack: z
      .string()
      .regex(SEMVER, { error: "must be a chart version like 79.2.0" })
      .default("79.2.0"),
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
    retentionDays: atLeast(1).max(90, { error: "must be at most 90" }).default(15),
    /** Prometheus volume, GiB. */
    prometheusStorageGi: atLeast(5).default(20),
    /** Alertmanager volume, GiB. */
    alertmanagerStorageGi: atLeast(1).default(2),
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
    sslMode: z
      .enum(["disable", "require", "verify-full"], { error: "must be one of disable, require, verify-full" })
      .default("require"),
  })
  .prefault({});

const optionalSecret = (rule: z.ZodString) => rule.optional();

const cloudSchema = z.strictObject({
  profile: z.literal("cloud"),
  ...commonShape,
  region: z.string().regex(DO_REGION, { error: "must be a DigitalOcean region slug like sgp1" }),
  domain: z.string().regex(HOSTNAME, { error: "must be a lowercase DNS name like workbench.example.com" }),
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
  registryTier: z
    .enum(["starter", "basic", "professional"], { error: "must be one of starter, basic, professional" })
    .default("basic"),
  /** Container registry name (globally unique at DigitalOcean). */
  registryName: z
    .string()
    .regex(DNS_LABEL, { error: "must be a lowercase DNS label (a-z, 0-9, -)" })
    .default("ai-workbench"),
  /** Let's Encrypt account email (optional). */
  acmeEmail: z.string().regex(EMAIL, { error: "must be an email address" }).optional(),
  supabase: supabaseSchema,
  images: imagesSchema,
  charts: chartsSchema,
  llm: llmSchema,
  appPlatform: appPlatformSchema,
  prices: pricesSchema,
  // Secrets (SECRET_KEYS); presence per enabled feature is checked by cloudDeployProblems.
  digitaloceanToken: optionalSecret(z.string().min(20, { error: "must be a DigitalOcean API token" })),
  spacesAccessKeyId: optionalSecret(z.string().min(10, { error: "must be a Spaces access key id" })),
  spacesSecretKey: optionalSecret(z.string().min(20, { error: "must be a Spaces secret key" })),
  supabaseServiceRoleKey: optionalSecret(
    z.string().min(20, { error: "must be the Supabase service-role key (a JWT)" }),
  ),
  anthropicApiKey: optionalSecret(z.string().min(20, { error: "must be an Anthropic API key" })),
  openaiApiKey: optionalSecret(z.string().min(20, { error: "must be an OpenAI API key" })),
  geminiApiKey: optionalSecret(z.string().min(20, { error: "must be a Gemini API key" })),
  langfusePublicKey: optionalSecret(z.string().min(8, { error: "must be a Langfuse public key" })),
  langfuseSecretKey: optionalSecret(z.string().min(8, { error: "must be a Langfuse secret key" })),
  n8nEncryptionKey: optionalSecret(
    z.string().min(32, { error: "must be at least 32 characters (e.g. openssl rand -hex 32)" }),
  ),
  odooApiKey: optionalSecret(z.string().min(8, { error: "must be an Odoo API key" })),
  mattermostWebhookUrl: optionalSecret(
    z.string().regex(HTTPS_URL, { error: "must be an https webhook URL" }),
  ),
  /**
   * An n8n API key (n8n > Settings > n8n API), created once by hand after the first
   * install. With it, the deployment imports, activates and updates n8n-workflows/.
   */
  n8nApiKey: optionalSecret(z.string().min(20, { error: "must be an n8n API key" })),
  /**
   * The Supabase project's JWT secret (Settings > API > JWT secret): n8n's pipeline-trigger
   * webhook verifies the caller's access token with it. Required with n8nApiKey.
   */
  supabaseJwtSecret: optionalSecret(
    z.string().min(32, { error: "must be the Supabase JWT secret (at least 32 characters)" }),
  ),
  /**
   * Rotation of the n8n webhook tokens (one per webhook: expense-approval, odoo-sync,
   * quality-alerts, scout-transactions): raise a webhook's number and `pulumi up` generates
   * a new token for it (stack output n8nWebhookTokens) and puts it into n8n. Default 0.
   */
  n8nWebhookTokenRotation: z
    .partialRecord(
      z.enum(["expense-approval", "odoo-sync", "quality-alerts", "scout-transactions"], {
        error: "must be a token webhook: expense-approval, odoo-sync, quality-alerts or scout-transactions",
      }),
      atLeast(0),
    )
    .default({}),
});

/** Supabase's shared pooler host for a project region (IPv4; the direct host is IPv6-only). */
export function supabasePoolerHost(region: string): string {
  return `aws-0-${region}.pooler.supabase.com`;
}

type ParsedCloud = z.infer<typeof cloudSchema>;

/**
 * The cloud profile's Supabase connection defaults: the pooler host from `supabase.region`,
 * the pooler's user format `postgres.<projectRef>` and the API URL from the reference.
 */
function withSupabaseDefaults(config: ParsedCloud) {
  const ref = config.supabase.projectRef;
  const host =
    config.database.host ?? (config.supabase.region ? supabasePoolerHost(config.supabase.region) : "");
  const user =
    config.database.user ?? (ref && host.endsWith(".pooler.supabase.com") ? `postgres.${ref}` : "postgres");
  const url = config.supabase.url ?? (ref ? `https://${ref}.supabase.co` : undefined);
  return {
    ...config,
    database: { ...config.database, host, user },
    supabase: { ...config.supabase, ...(url ? { url } : {}) },
  };
}

const stackConfigSchema = z
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
    const pooler = (config.database.host ?? ".pooler.supabase.com").endsWith(".pooler.supabase.com");
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
export type LocalStackConfig = z.infer<typeof localSchema>;
export type CloudStackConfig = Extract<StackConfig, { profile: "cloud" }>;

/** One thing wrong with the config: which key, which rule, what was there. */
export interface ConfigProblem {
  key: string;
  rule: string;
  got: string;
}

export class StackConfigError extends Error {
  constructor(public readonly problems: ConfigProblem[]) {
    super(
      `invalid stack configuration (nothing was changed):\n` +
        problems.map((p) => `  - ${p.key}: ${p.rule} (got ${p.got})`).join("\n"),
    );
    this.name = "StackConfigError";
  }
}

/** Turns a raw config string into the value it denotes: JSON objects, numbers and booleans. */
function decodeValue(raw: string): unknown {
  const trimmed = raw.trim();
  if (/^[[{]/.test(trimmed) || /^(true|false|-?\d+(\.\d+)?)$/.test(trimmed)) {
    try {
      return JSON.parse(trimmed);
    } catch {
      return raw;
    }
  }
  return raw;
}

function describe(value: unknown, secret: boolean): string {
  if (secret) return "[secret]";
  if (value === undefined) return "nothing";
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function valueAt(root: Record<string, unknown>, path: PropertyKey[]): unknown {
  let current: unknown = root;
  for (const segment of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PropertyKey, unknown>)[segment];
  }
  return current;
}

/**
 * Validates a stack's raw config.
 *
 * @param raw        config map keyed `workbench:<key>` (other namespaces are ignored)
 * @param secretKeys full keys (`workbench:<key>`) that are stored as secrets
 * @throws StackConfigError listing every problem found
 */
export function parseStackConfig(raw: Record<string, string>, secretKeys: ReadonlySet<string>): StackConfig {
  const prefix = `${CONFIG_NAMESPACE}:`;
  const values: Record<string, unknown> = {};
  const problems: ConfigProblem[] = [];

  for (const [fullKey, rawValue] of Object.entries(raw)) {
    if (!fullKey.startsWith(prefix)) continue;
    values[fullKey.slice(prefix.length)] = decodeValue(rawValue);
  }

  for (const key of SECRET_KEYS) {
    const fullKey = prefix + key;
    if (fullKey in raw && !secretKeys.has(fullKey)) {
      problems.push({
        key: fullKey,
        rule: `must be stored as a secret: pulumi config set --secret ${fullKey} <value>`,
        got: "a plaintext value",
      });
    }
  }

  const result = stackConfigSchema.safeParse(values);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const path = [...issue.path];
      if (issue.code === "unrecognized_keys") {
        for (const unknownKey of issue.keys) {
          const key = prefix + [...path, unknownKey].join(".");
          problems.push({
            key,
            rule: "is not a known setting (check for a typo)",
            got: describe(valueAt(values, [...path, unknownKey]), false),
          });
        }
        continue;
      }
      const key = prefix + path.join(".");
      const isSecret = SECRET_KEYS.some((secret) => path[0] === secret);
      const got = valueAt(values, path);
      const rule = got === undefined && issue.code === "invalid_type" ? "is required" : issue.message;
      problems.push({ key, rule, got: describe(got, isSecret) });
    }
  }

  if (problems.length > 0 || !result.success) throw new StackConfigError(problems);
  return result.data;
}

/** The provider a model id routes to: its prefix (`anthropic/claude-...` is anthropic). */
export function llmProviderOf(modelId: string): LlmProvider {
  const provider = modelId.split("/")[0];
  const known = LLM_PROVIDERS.find((name) => name === provider);
  if (!known) throw new Error(`model id '${modelId}' names no known provider (${LLM_PROVIDERS.join(", ")})`);
  return known;
}

const PROVIDER_KEYS: Record<LlmProvider, SecretKey> = {
  anthropic: "anthropicApiKey",
  openai: "openaiApiKey",
  gemini: "geminiApiKey",
};

/**
 * What a cloud deployment needs beyond a well-formed config: the secrets and settings its
 * enabled features use. Kept out of the schema so tools that only read sizes (`npm run
 * cost`) work without credentials. Empty when the stack can be deployed.
 */
export function cloudDeployProblems(config: CloudStackConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const setSecret = (key: SecretKey) => `pulumi config set --secret ${CONFIG_NAMESPACE}:${key} <value>`;
  const requireSecret = (key: SecretKey, reason: string) => {
    if (config[key as keyof CloudStackConfig] === undefined) {
      problems.push({
        key: `${CONFIG_NAMESPACE}:${key}`,
        rule: `is required ${reason}: ${setSecret(key)}`,
        got: "nothing",
      });
    }
  };

  if (config.supabase.url === undefined) {
    problems.push({
      key: `${CONFIG_NAMESPACE}:supabase.url`,
      rule: "is required for the cloud stack (the project's https URL, e.g. https://abcd.supabase.co)",
      got: "nothing",
    });
  }
  requireSecret("supabaseServiceRoleKey", "for the cloud stack");
  if (config.features.litellm) {
    const models = [config.llm.primary, ...config.llm.fallbacks, config.llm.budget];
    for (const provider of LLM_PROVIDERS) {
      const first = models.find((model) => llmProviderOf(model) === provider);
      if (first) requireSecret(PROVIDER_KEYS[provider], `by features.litellm (model ${first})`);
    }
    requireSecret("langfusePublicKey", "by features.litellm (the Langfuse callback)");
    requireSecret("langfuseSecretKey", "by features.litellm (the Langfuse callback)");
  }
  if (config.features.n8n) requireSecret("n8nEncryptionKey", "by features.n8n");
  if (config.features.n8n && config.n8nApiKey !== undefined)
    requireSecret(
      "supabaseJwtSecret",
      "by n8nApiKey (the pipeline-trigger webhook verifies callers' tokens)",
    );
  return problems;
}

/**
 * A cloud config that passed {@link assertCloudDeployable}: the values every cloud
 * deployment needs are present. The feature secrets stay optional in the type (a
 * disabled feature needs none): read them with {@link featureSecret}.
 */
export type DeployableCloudConfig = CloudStackConfig & {
  supabase: CloudStackConfig["supabase"] & { url: string };
  supabaseServiceRoleKey: string;
};

/** Throws a StackConfigError listing everything {@link cloudDeployProblems} finds. */
export function assertCloudDeployable(config: CloudStackConfig): asserts config is DeployableCloudConfig {
  const problems = cloudDeployProblems(config);
  if (problems.length > 0) throw new StackConfigError(problems);
}

/**
 * A secret an enabled feature requires, after {@link assertCloudDeployable} checked it is
 * set; reading one the check did not require is a programming error, named here.
 */
export function featureSecret(config: DeployableCloudConfig, key: SecretKey): string {
  const value = config[key as keyof CloudStackConfig];
  if (typeof value !== "string") {
    throw new Error(
      `${CONFIG_NAMESPACE}:${key} is read by the cloud stack but cloudDeployProblems does not require it`,
    );
  }
  return value;
}
