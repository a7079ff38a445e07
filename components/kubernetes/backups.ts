import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { imagePinProblem } from "../cloud/image-ref.ts";
import type { LifecycleRule } from "../cloud/spaces-bucket.ts";
import {
  appLabels,
  hardenedContainer,
  isCronExpression,
  type ResourceBudget,
  secretEnv,
} from "./workload.ts";
import { cronJobSpec } from "./cron-job.ts";
import { ownedSecret } from "./owned-secret.ts";

/** One backup tier: how often a dump is taken and how long it is kept. */
export interface BackupTier {
  /** Tier name, also the key prefix below the backup prefix (`postgres/<name>/`). */
  name: string;
  /** Cron expression, UTC. */
  schedule: string;
  /** Days a dump is kept; the bucket's lifecycle rule deletes it afterwards. */
  retentionDays: number;
}

/** The implementation plan's retention: hourly kept 24 h, daily kept 30 days, weekly kept 90 days. */
export const BACKUP_TIERS: readonly BackupTier[] = [
  { name: "hourly", schedule: "15 * * * *", retentionDays: 1 },
  { name: "daily", schedule: "45 1 * * *", retentionDays: 30 },
  { name: "weekly", schedule: "15 3 * * 0", retentionDays: 90 },
];

/**
 * The Spaces lifecycle rules that enforce the retention: one expiry per tier prefix. Pass
 * them to the bucket holding the dumps (SpacesBucket.lifecycleRules).
 */
export function backupLifecycleRules(
  prefix = "postgres",
  tiers: readonly BackupTier[] = BACKUP_TIERS,
): LifecycleRule[] {
  return tiers.map((tier) => ({
    id: `${prefix}-${tier.name}`,
    prefix: `${prefix}/${tier.name}/`,
    expireDays: tier.retentionDays,
  }));
}

/**
 * The schemas a dump holds: the catalog and the medallion (and the migrations' ledger).
 * Never `auth` (Supabase's, with its users' secrets), `private` or the apps' own schemas.
 */
export const BACKUP_SCHEMAS = [
  "ip_workbench",
  "bronze",
  "silver",
  "gold",
  "platinum",
  "workbench_migrations",
] as const;

/**
 * pg_dump's arguments: custom format, only {@link BACKUP_SCHEMAS}, and
 * `--enable-row-security` (the backup login reads every row through its own select-all
 * policies instead of bypassing row level security, which it cannot).
 */
export function pgDumpArgs(file: string, schemas: readonly string[] = BACKUP_SCHEMAS): string[] {
  return [
    "--format=custom",
    "--no-owner",
    "--no-privileges",
    "--enable-row-security",
    ...schemas.map((schema) => `--schema=${schema}`),
    `--file=${file}`,
  ];
}

export interface BackupConnection {
  /** PostgreSQL host (Supabase). */
  host: string;
  /** Session-mode port: pg_dump cannot run through a transaction pooler. */
  port: number;
  /** Database to dump. */
  database: string;
  /** The database layer's backup login (read-only; WorkbenchDatabase.backupRole), never the admin. */
  user: pulumi.Input<string>;
  /** The role's password: kept in a Secret. */
  password: pulumi.Input<string>;
  /** TLS mode (PGSSLMODE). */
  sslMode: "disable" | "require" | "verify-full";
}

export interface BackupBucket {
  /** Bucket name. */
  name: pulumi.Input<string>;
  /** S3 endpoint host, e.g. `sgp1.digitaloceanspaces.com`. */
  endpoint: pulumi.Input<string>;
  /** Access key limited to the bucket (SpacesBucket.accessKeyId). */
  accessKeyId: pulumi.Input<string>;
  /** Its secret (SpacesBucket.secretAccessKey). */
  secretAccessKey: pulumi.Input<string>;
}

export interface PostgresBackupsArgs {
  /** The cluster's Kubernetes provider (Cluster.provider). */
  provider: k8s.Provider;
  /** Namespace to run in (`ai-workbench`). */
  namespace: pulumi.Input<string>;
  /** Database to dump. */
  connection: BackupConnection;
  /** Spaces bucket receiving the dumps. */
  bucket: BackupBucket;
  /** Pinned PostgreSQL image providing pg_dump (its major version at least the server's). */
  postgresImage: string;
  /** Pinned AWS CLI image for the upload. */
  awsCliImage: string;
  /** Schemas to dump. Default {@link BACKUP_SCHEMAS}. */
  schemas?: readonly string[];
  /** Key prefix in the bucket. Default `postgres`. */
  prefix?: string;
  /** Tiers. Default {@link BACKUP_TIERS}. */
  tiers?: readonly BackupTier[];
  /** Requests and limits per container. Default 100m/256Mi requests, 1 CPU/1Gi limits. */
  resources?: ResourceBudget;
  /** Scratch space for one dump. Default `10Gi`. */
  scratchSize?: string;
}

/** What is wrong with the backups' args (checked before anything is registered), or undefined. */
export function backupsArgsProblem(args: PostgresBackupsArgs): string | undefined {
  const tiers = args.tiers ?? BACKUP_TIERS;
  for (const image of [args.postgresImage, args.awsCliImage]) {
    const pinProblem = imagePinProblem(image);
    if (pinProblem) return `image "${image}" ${pinProblem}`;
  }
  if (tiers.length === 0) return "tiers is empty";
  for (const schema of args.schemas ?? BACKUP_SCHEMAS) {
    if (!/^[a-z_][a-z0-9_]*$/.test(schema) || schema === "auth") {
      return `schema '${schema}' cannot be backed up: a lowercase identifier other than auth is required`;
    }
  }
  for (const tier of tiers) {
    if (!isCronExpression(tier.schedule)) {
      return `tier '${tier.name}' has '${tier.schedule}', not a five-field cron expression`;
    }
    if (!Number.isInteger(tier.retentionDays) || tier.retentionDays < 1) {
      return `tier '${tier.name}' retentionDays must be a whole number of at least 1 (got ${tier.retentionDays})`;
    }
  }
  if (args.connection.port === 6543) {
    return "port 6543 is Supabase's transaction pooler, where pg_dump fails: use the session port (5432)";
  }
  return undefined;
}

const DEFAULT_RESOURCES: ResourceBudget = {
  requests: { cpu: "100m", memory: "256Mi" },
  limits: { cpu: "1", memory: "1Gi" },
};

/** The init container: pg_dump as the backup login into the scratch volume. */
export function pgDumpContainer(args: PostgresBackupsArgs, credentialsSecret: pulumi.Input<string>) {
  return {
    name: "pg-dump",
    image: args.postgresImage,
    command: ["pg_dump"],
    args: pgDumpArgs("/backup/dump", args.schemas ?? BACKUP_SCHEMAS),
    env: [
      { name: "PGHOST", value: args.connection.host },
      { name: "PGPORT", value: String(args.connection.port) },
      { name: "PGDATABASE", value: args.connection.database },
      { name: "PGUSER", value: args.connection.user },
      { name: "PGSSLMODE", value: args.connection.sslMode },
      { name: "PGCONNECT_TIMEOUT", value: "30" },
      secretEnv("PGPASSWORD", credentialsSecret),
    ],
    resources: args.resources ?? DEFAULT_RESOURCES,
    securityContext: hardenedContainer(),
    volumeMounts: [{ name: "backup", mountPath: "/backup" }],
  };
}

/** The upload container: the dump to `<prefix>/<tier>/<timestamp>.dump` in the bucket. */
export function uploadContainer(
  args: PostgresBackupsArgs,
  tier: BackupTier,
  credentialsSecret: pulumi.Input<string>,
) {
  return {
    name: "upload",
    image: args.awsCliImage,
    command: ["/bin/sh", "-c"],
    args: [
      'set -eu; key="${PREFIX}/${TIER}/$(date -u +%Y%m%dT%H%M%SZ).dump"; ' +
        'aws s3 cp /backup/dump "s3://${BUCKET}/${key}" --endpoint-url "https://${S3_ENDPOINT}" --only-show-errors; ' +
        'echo "uploaded ${key}"',
    ],
    env: [
      { name: "BUCKET", value: args.bucket.name },
      { name: "S3_ENDPOINT", value: args.bucket.endpoint },
      { name: "PREFIX", value: args.prefix ?? "postgres" },
      { name: "TIER", value: tier.name },
      // Spaces ignores the region, the CLI requires one.
      { name: "AWS_DEFAULT_REGION", value: "us-east-1" },
      { name: "HOME", value: "/tmp" },
      secretEnv("AWS_ACCESS_KEY_ID", credentialsSecret),
      secretEnv("AWS_SECRET_ACCESS_KEY", credentialsSecret),
    ],
    resources: args.resources ?? DEFAULT_RESOURCES,
    securityContext: hardenedContainer(),
    volumeMounts: [
      { name: "backup", mountPath: "/backup", readOnly: true },
      { name: "tmp", mountPath: "/tmp" },
    ],
  };
}

/**
 * Scheduled pg_dump backups to Spaces: one CronJob per tier (hourly, daily, weekly). A run
 * dumps in an init container and uploads the file under `<prefix>/<tier>/<timestamp>.dump`;
 * the bucket's lifecycle rules ({@link backupLifecycleRules}) expire old dumps.
 * Token `workbench:kubernetes:PostgresBackups`.
 */
export class PostgresBackups extends pulumi.ComponentResource {
  public readonly cronJobNames: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: PostgresBackupsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("workbench:kubernetes:PostgresBackups", name, {}, opts);
    const problem = backupsArgsProblem(args);
    if (problem) throw new pulumi.ResourceError(`${name}: ${problem}`, this);

    const child = { parent: this, provider: args.provider };
    const credentials = ownedSecret(
      `${name}-credentials`,
      {
        namespace: args.namespace,
        labels: appLabels(name, "credentials"),
        data: {
          PGPASSWORD: args.connection.password,
          AWS_ACCESS_KEY_ID: args.bucket.accessKeyId,
          AWS_SECRET_ACCESS_KEY: args.bucket.secretAccessKey,
        },
      },
      child,
    );

    const names: Record<string, pulumi.Output<string>> = {};
    for (const tier of args.tiers ?? BACKUP_TIERS) {
      const jobName = `${name}-${tier.name}`;
      const labels = appLabels(name, tier.name);
      const cronJob = new k8s.batch.v1.CronJob(
        jobName,
        {
          metadata: { name: jobName, namespace: args.namespace, labels },
          spec: cronJobSpec(labels, {
            schedule: tier.schedule,
            startingDeadlineSeconds: 900,
            backoffLimit: 2,
            activeDeadlineSeconds: 3000,
            ttlSecondsAfterFinished: 24 * 3600,
            runAsUser: 65534,
            // Dump first (init container), then upload the file.
            initContainers: [pgDumpContainer(args, credentials.metadata.name)],
            containers: [uploadContainer(args, tier, credentials.metadata.name)],
            volumes: [
              { name: "backup", emptyDir: { sizeLimit: args.scratchSize ?? "10Gi" } },
              { name: "tmp", emptyDir: { sizeLimit: "256Mi" } },
            ],
          }),
        },
        child,
      );
      names[tier.name] = cronJob.metadata.name;
    }

    this.cronJobNames = pulumi.all(names);
    this.registerOutputs({ cronJobNames: this.cronJobNames });
  }
}
