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

export const CONFIG_NAMESPACE = "workbench";

/** Keys that hold credentials: they must be set with `pulumi config set --secret`. */
export const SECRET_KEYS = ["databasePassword"] as const;
export type SecretKey = (typeof SECRET_KEYS)[number];

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const DO_REGION = /^[a-z]{3}[0-9]$/;
const DOKS_VERSION = /^1\.[0-9]+\.[0-9]+-do\.[0-9]+$|^latest$/;
const DO_SIZE = /^[a-z0-9]+(-[a-z0-9]+)+$/;
const HH_MM = /^([01][0-9]|2[0-3]):[0-5][0-9]$/;
const WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "any"] as const;

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
    /** DOKS version slug, e.g. `1.33.1-do.0`. */
    version: z.string().regex(DOKS_VERSION, { error: "must be a DOKS version slug like 1.33.1-do.0" }),
    nodeSize: z
      .string()
      .regex(DO_SIZE, { error: "must be a DigitalOcean size slug like s-4vcpu-8gb" })
      .default("s-4vcpu-8gb"),
    nodeCount: z.int({ error: "must be a whole number" }).min(1, { error: "must be at least 1" }).default(3),
    minNodes: z.int({ error: "must be a whole number" }).min(1, { error: "must be at least 1" }).default(3),
    maxNodes: z
      .int({ error: "must be a whole number" })
      .max(20, { error: "must be at most 20 (raise the DigitalOcean droplet limit first)" })
      .default(6),
    autoUpgrade: z.boolean({ error: "must be true or false" }).default(true),
    surgeUpgrade: z.boolean({ error: "must be true or false" }).default(true),
    maintenanceWindow: z
      .strictObject({
        day: z.enum(WEEKDAYS, { error: `must be one of ${WEEKDAYS.join(", ")}` }).default("sunday"),
        startTime: z.string().regex(HH_MM, { error: "must be a UTC time HH:MM" }).default("03:00"),
      })
      .default({ day: "sunday", startTime: "03:00" }),
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
  host: z.string().regex(HOSTNAME, { error: "must be a hostname or IPv4 address" }).default("127.0.0.1"),
  port: z
    .int({ error: "must be a whole number" })
    .min(1, { error: "must be a TCP port (1-65535)" })
    .max(65535, { error: "must be a TCP port (1-65535)" })
    .default(54322),
  name: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, { error: "must be a lowercase PostgreSQL identifier" }).default("postgres"),
  user: z.string().regex(/^[a-z_][a-z0-9_.]{0,62}$/, { error: "must be a lowercase PostgreSQL role name" }).default("postgres"),
  sslMode: z
    .enum(["disable", "require", "verify-full"], { error: "must be one of disable, require, verify-full" })
    .default("disable"),
});

const featuresSchema = z
  .strictObject({
    /** Build the medallion with dbt and seed the catalog during `pulumi up`. */
    dataStack: z.boolean({ error: "must be true or false" }).default(true),
    n8n: z.boolean({ error: "must be true or false" }).default(true),
    litellm: z.boolean({ error: "must be true or false" }).default(true),
    appPlatform: z.boolean({ error: "must be true or false" }).default(true),
    backups: z.boolean({ error: "must be true or false" }).default(true),
  })
  .default({ dataStack: true, n8n: true, litellm: true, appPlatform: true, backups: true });

const commonShape = {
  /** Short environment name used in resource names, e.g. `prod`, `local`. */
  environment: z.string().regex(DNS_LABEL, { error: "must be a lowercase DNS label (a-z, 0-9, -)" }),
  database: databaseSchema.default({
    host: "127.0.0.1",
    port: 54322,
    name: "postgres",
    user: "postgres",
    sslMode: "disable",
  }),
  features: featuresSchema,
  /** Password of `database.user`; secret config only. */
  databasePassword: z.string().min(12, { error: "must be at least 12 characters" }),
};

const sampleDataSchema = z
  .strictObject({
    /** Scout transactions to generate into bronze (0 skips the generator). */
    transactions: z
      .int({ error: "must be a whole number" })
      .min(0, { error: "must be at least 0" })
      .max(10_000_000, { error: "must be at most 10000000" })
      .default(20_000),
    /** Share of deliberately bad rows (every quarantine rule is exercised). */
    badShare: z
      .number({ error: "must be a number" })
      .min(0, { error: "must be between 0 and 0.5" })
      .max(0.5, { error: "must be between 0 and 0.5" })
      .default(0.05),
    /** Generator seed: the same seed gives the same data. */
    seed: z.int({ error: "must be a whole number" }).default(42),
  })
  .default({ transactions: 20_000, badShare: 0.05, seed: 42 });

const localSchema = z.strictObject({
  profile: z.literal("local"),
  ...commonShape,
  /** Sample data loaded into bronze by the local stack. */
  sampleData: sampleDataSchema,
});

const cloudSchema = z.strictObject({
  profile: z.literal("cloud"),
  ...commonShape,
  region: z.string().regex(DO_REGION, { error: "must be a DigitalOcean region slug like sgp1" }),
  domain: z.string().regex(HOSTNAME, { error: "must be a lowercase DNS name like workbench.example.com" }),
  vpcCidr: z
    .string()
    .refine(isPrivateCidr, { error: "must be a private IPv4 network (RFC 1918) in CIDR form like 10.10.0.0/16" })
    .default("10.10.0.0/16"),
  cluster: clusterSchema,
  registryTier: z
    .enum(["starter", "basic", "professional"], { error: "must be one of starter, basic, professional" })
    .default("basic"),
});

const stackConfigSchema = z.discriminatedUnion("profile", [localSchema, cloudSchema], {
  error: "must be 'local' or 'cloud'",
});

export type StackConfig = z.infer<typeof stackConfigSchema>;
export type LocalStackConfig = z.infer<typeof localSchema>;
export type CloudStackConfig = z.infer<typeof cloudSchema>;

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
          problems.push({ key, rule: "is not a known setting (check for a typo)", got: describe(valueAt(values, [...path, unknownKey]), false) });
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
