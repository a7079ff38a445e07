import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { imagePinProblem } from "../cloud/image-ref.ts";
import {
  appLabels,
  hardenedContainer,
  isCronExpression,
  isDnsLabel,
  type ResourceBudget,
  secretEnv,
} from "./workload.ts";
import { cronJobSpec } from "./cron-job.ts";
import { ownedSecret } from "./owned-secret.ts";

/** One scheduled dbt invocation. */
export interface DbtSchedule {
  /** CronJob name suffix (DNS label). */
  name: string;
  /** Cron expression, evaluated in UTC. */
  schedule: string;
  /** dbt arguments (command and selection), e.g. `["build", "--select", "tag:bronze"]`. */
  dbtArgs: string[];
  /**
   * Instead of dbt alone, the image's data-quality script: `dbt test`, then re-score the
   * catalog from the run's artifacts and raise alerts (the seeder), exit 3 when a table's
   * DQ is below its threshold. Needs {@link SchedulesArgs.catalog}.
   */
  rescoreCatalog?: boolean;
  /** Created suspended: runs only when triggered by hand (`kubectl create job --from=cronjob/...`). */
  suspend?: boolean;
  /** Longest a run may take, seconds. */
  deadlineSeconds: number;
}

/** The data-jobs image's data-quality script (scripts/data-jobs/data-quality). */
export const DATA_QUALITY_SCRIPT = "/app/scripts/data-jobs/data-quality";
/** Its exit code when a table's DQ score is below threshold (the Job fails without retry). */
export const DQ_BELOW_THRESHOLD_EXIT = 3;

/** The data-layer requirements' orchestration, as CronJobs (the layers are selected by tag, like scripts/dbt.ts). */
export const DBT_SCHEDULES: readonly DbtSchedule[] = [
  // scout_ingestion_dag: daily at 02:00 UTC.
  {
    name: "ingest",
    schedule: "0 2 * * *",
    dbtArgs: ["build", "--select", "tag:bronze"],
    deadlineSeconds: 3600,
  },
  // scout_transformation_dag: hourly (at :30, so the 02:00 ingest lands first).
  {
    name: "transform",
    schedule: "30 * * * *",
    dbtArgs: ["build", "--select", "tag:silver", "tag:gold", "tag:platinum"],
    deadlineSeconds: 3000,
  },
  // data_quality_dag: daily at 08:00 UTC: test, re-score, alert (like the local stack's seeding).
  {
    name: "data-quality",
    schedule: "0 8 * * *",
    dbtArgs: ["test"],
    rescoreCatalog: true,
    deadlineSeconds: 3600,
  },
  // backfill_dag: manual only.
  {
    name: "backfill",
    schedule: "0 0 1 1 *",
    dbtArgs: ["build", "--full-refresh"],
    suspend: true,
    deadlineSeconds: 6 * 3600,
  },
];

export interface DbtConnection {
  /** PostgreSQL host (Supabase). */
  host: string;
  /** Transaction pooler port (dbt's short sessions suit it). */
  port: number;
  /** Database name. */
  database: string;
  /** TLS mode (dbt/profiles.yml's DBT_SSLMODE). */
  sslMode: "disable" | "require" | "verify-full";
  /** Login role (the database layer's dbt runner role). */
  user: pulumi.Input<string>;
  /** Its password: kept in a Secret. */
  password: pulumi.Input<string>;
}

export interface SchedulesArgs {
  /** The cluster's Kubernetes provider (Cluster.provider). */
  provider: k8s.Provider;
  /** Namespace to run in (`ai-workbench`). */
  namespace: pulumi.Input<string>;
  /** Pinned dbt-runner image: dbt and this repo's dbt project at `projectDir`. */
  image: string;
  /** Where dbt connects (dbt/profiles.yml's `prod` target reads DBT_* env vars). */
  connection: DbtConnection;
  /** dbt project (and profiles.yml) directory in the image. Default `/app/dbt`. */
  projectDir?: string;
  /** Schedules. Default {@link DBT_SCHEDULES}. */
  schedules?: readonly DbtSchedule[];
  /** Image pull Secret for the private registry. Default none. */
  imagePullSecret?: pulumi.Input<string>;
  /** Requests and limits per run. Default 250m/512Mi requests, 1 CPU/2Gi limits. */
  resources?: ResourceBudget;
  /**
   * For schedules that re-score the catalog: the catalog writer's database URL (the
   * database layer's catalog login, never the admin; kept in the credentials Secret as
   * DATABASE_URL) and the quality-alerts webhook (optional).
   */
  catalog?: {
    databaseUrl: pulumi.Input<string>;
    alertWebhookUrl?: string;
    /** The webhook's token (kept in the schedules' credentials Secret as QUALITY_ALERTS_TOKEN). */
    alertWebhookToken?: pulumi.Input<string>;
  };
}

/** What is wrong with the schedules' args (checked before anything is registered), or undefined. */
export function schedulesArgsProblem(name: string, args: SchedulesArgs): string | undefined {
  const pinProblem = imagePinProblem(args.image);
  if (pinProblem) return `image "${args.image}" ${pinProblem}`;
  const seen = new Set<string>();
  for (const schedule of args.schedules ?? DBT_SCHEDULES) {
    const jobName = `${name}-${schedule.name}`;
    if (!isDnsLabel(jobName) || jobName.length > 52) {
      return `schedule name '${schedule.name}' must make '${jobName}' a DNS label of at most 52 characters`;
    }
    if (seen.has(schedule.name)) return `schedule '${schedule.name}' is listed twice`;
    seen.add(schedule.name);
    if (schedule.rescoreCatalog && !args.catalog) {
      return `schedule '${schedule.name}' re-scores the catalog: pass catalog.databaseUrl`;
    }
    if (!isCronExpression(schedule.schedule)) {
      return `schedule '${schedule.name}' has '${schedule.schedule}', not a five-field cron expression`;
    }
  }
  return undefined;
}

/** Fails the data-quality Job at once when the score is below threshold (its exit code). */
const DQ_FAILURE_POLICY = {
  rules: [
    {
      action: "FailJob",
      onExitCodes: { containerName: "dbt", operator: "In", values: [DQ_BELOW_THRESHOLD_EXIT] },
    },
  ],
};

/**
 * A schedule's container: dbt (or, for the re-scoring run, the data-quality script around
 * it) against the prod target, credentials from the schedules' Secret, artifacts in /tmp.
 */
export function dbtContainer(
  schedule: DbtSchedule,
  args: Pick<SchedulesArgs, "image" | "connection" | "projectDir" | "catalog" | "resources">,
  credentialsSecret: pulumi.Input<string>,
) {
  const projectDir = args.projectDir ?? "/app/dbt";
  const catalog = schedule.rescoreCatalog ? args.catalog : undefined;
  return {
    name: "dbt",
    image: args.image,
    command: catalog ? ["bash", DATA_QUALITY_SCRIPT] : ["dbt"],
    args: [
      ...schedule.dbtArgs,
      "--target",
      "prod",
      "--project-dir",
      projectDir,
      "--profiles-dir",
      projectDir,
      // The root filesystem is read-only: artifacts and logs go to /tmp.
      "--target-path",
      `/tmp/target/${schedule.name}`,
      "--log-path",
      "/tmp/logs",
    ],
    env: [
      { name: "HOME", value: "/tmp" },
      { name: "DBT_SEND_ANONYMOUS_USAGE_STATS", value: "false" },
      { name: "DBT_TARGET", value: "prod" },
      { name: "DBT_HOST", value: args.connection.host },
      { name: "DBT_PORT", value: String(args.connection.port) },
      { name: "DBT_DBNAME", value: args.connection.database },
      { name: "DBT_SSLMODE", value: args.connection.sslMode },
      secretEnv("DBT_USER", credentialsSecret),
      secretEnv("DBT_PASSWORD", credentialsSecret),
      ...(catalog
        ? [
            secretEnv("DATABASE_URL", credentialsSecret),
            { name: "DBT_TARGET_PATH", value: `/tmp/target/${schedule.name}` },
            ...(catalog.alertWebhookUrl
              ? [{ name: "QUALITY_ALERTS_URL", value: catalog.alertWebhookUrl }]
              : []),
            ...(catalog.alertWebhookToken ? [secretEnv("QUALITY_ALERTS_TOKEN", credentialsSecret)] : []),
          ]
        : []),
    ],
    resources: args.resources ?? {
      requests: { cpu: "250m", memory: "512Mi" },
      limits: { cpu: "1", memory: "2Gi" },
    },
    securityContext: hardenedContainer(),
    volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
  };
}

/**
 * The medallion's schedules as Kubernetes CronJobs running dbt stages from the dbt-runner
 * image (UTC, no overlapping runs), with the runner's credentials in their own Secret.
 * Token `workbench:kubernetes:DbtSchedules`.
 */
export class DbtSchedules extends pulumi.ComponentResource {
  /** CronJob names, by schedule name. */
  public readonly cronJobNames: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: SchedulesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("workbench:kubernetes:DbtSchedules", name, {}, opts);
    const problem = schedulesArgsProblem(name, args);
    if (problem) throw new pulumi.ResourceError(`${name}: ${problem}`, this);

    const child = { parent: this, provider: args.provider };
    const credentials = ownedSecret(
      `${name}-credentials`,
      {
        namespace: args.namespace,
        labels: appLabels(name, "credentials"),
        data: {
          DBT_USER: args.connection.user,
          DBT_PASSWORD: args.connection.password,
          ...(args.catalog ? { DATABASE_URL: args.catalog.databaseUrl } : {}),
          ...(args.catalog?.alertWebhookToken
            ? { QUALITY_ALERTS_TOKEN: args.catalog.alertWebhookToken }
            : {}),
        },
      },
      child,
    );

    const names: Record<string, pulumi.Output<string>> = {};
    for (const schedule of args.schedules ?? DBT_SCHEDULES) {
      const jobName = `${name}-${schedule.name}`;
      const labels = appLabels(name, schedule.name);
      const rescores = schedule.rescoreCatalog === true;
      const cronJob = new k8s.batch.v1.CronJob(
        jobName,
        {
          metadata: { name: jobName, namespace: args.namespace, labels },
          spec: cronJobSpec(labels, {
            schedule: schedule.schedule,
            suspend: schedule.suspend ?? false,
            startingDeadlineSeconds: 600,
            backoffLimit: 1,
            // DQ below threshold is an answer, not a flake: fail at once, no retry.
            ...(rescores ? { podFailurePolicy: DQ_FAILURE_POLICY } : {}),
            activeDeadlineSeconds: schedule.deadlineSeconds,
            ttlSecondsAfterFinished: 7 * 24 * 3600,
            runAsUser: 10001,
            ...(args.imagePullSecret ? { imagePullSecret: args.imagePullSecret } : {}),
            containers: [dbtContainer(schedule, args, credentials.metadata.name)],
            volumes: [{ name: "tmp", emptyDir: { sizeLimit: "2Gi" } }],
          }),
        },
        child,
      );
      names[schedule.name] = cronJob.metadata.name;
    }

    this.cronJobNames = pulumi.all(names);
    this.registerOutputs({ cronJobNames: this.cronJobNames });
  }
}
