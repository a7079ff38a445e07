import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
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
const { DbtSchedules } = await import("../../../components/kubernetes/schedules.ts");
const { PostgresBackups, backupLifecycleRules, BACKUP_TIERS } =
  await import("../../../components/kubernetes/backups.ts");

let provider: k8s.Provider;
let providerRef: string;
beforeAll(async () => {
  provider = new k8s.Provider("cluster-k8s", { kubeconfig: pulumi.secret(FAKE_KUBECONFIG) });
  providerRef = await promiseOf(provider.urn);
});

const podOf = (cronJob: RecordedResource) =>
  cronJob.inputs["spec"]["jobTemplate"]["spec"]["template"]["spec"];

describe("DbtSchedules", () => {
  let schedules: InstanceType<typeof DbtSchedules>;
  let cronJobs: RecordedResource[];

  beforeAll(async () => {
    schedules = new DbtSchedules("dbt", {
      provider,
      namespace: "ai-workbench",
      image: "registry.digitalocean.com/ai-workbench/dbt-runner:0.1.0",
      imagePullSecret: "registry",
      connection: {
        host: "db.example.supabase.co",
        port: 6543,
        database: "postgres",
        sslMode: "require",
        user: "wb_prod_dbt",
        password: pulumi.secret("dbt-password"),
      },
      catalog: {
        databaseUrl: pulumi.secret(
          "postgresql://wb_prod_catalog:catalog-pw@db.example.supabase.co:6543/postgres",
        ),
        alertWebhookUrl: "https://n8n.workbench.example.com/webhook/quality-alerts",
      },
    });
    await mocks.settle();
    cronJobs = ["ingest", "transform", "data-quality", "backfill"].map((name) =>
      mocks.one("kubernetes:batch/v1:CronJob", `dbt-${name}`),
    );
  });

  it("schedules seed 002's stages in UTC: ingest 02:00, transform hourly, data quality 08:00, backfill suspended", () => {
    expect(
      cronJobs.map((job) => [
        job.inputs["metadata"]["name"],
        job.inputs["spec"]["schedule"],
        job.inputs["spec"]["suspend"],
        podOf(job)["containers"][0]["args"].slice(0, -10),
      ]),
    ).toEqual([
      ["dbt-ingest", "0 2 * * *", false, ["build", "--select", "tag:bronze"]],
      ["dbt-transform", "30 * * * *", false, ["build", "--select", "tag:silver", "tag:gold", "tag:platinum"]],
      ["dbt-data-quality", "0 8 * * *", false, ["test"]],
      ["dbt-backfill", "0 0 1 1 *", true, ["build", "--full-refresh"]],
    ]);
    for (const job of cronJobs) {
      expect(job.inputs["spec"]).toMatchObject({ timeZone: "Etc/UTC", concurrencyPolicy: "Forbid" });
    }
  });

  it("runs dbt from the runner image against the prod target, credentials from a Secret", () => {
    const pod = podOf(cronJobs[0] as RecordedResource);
    const [container] = pod["containers"];
    expect(container["image"]).toBe("registry.digitalocean.com/ai-workbench/dbt-runner:0.1.0");
    expect(container["command"]).toEqual(["dbt"]);
    expect(container["args"].slice(-10)).toEqual([
      "--target",
      "prod",
      "--project-dir",
      "/app/dbt",
      "--profiles-dir",
      "/app/dbt",
      "--target-path",
      "/tmp/target/ingest",
      "--log-path",
      "/tmp/logs",
    ]);
    expect(container["env"]).toEqual([
      { name: "HOME", value: "/tmp" },
      { name: "DBT_SEND_ANONYMOUS_USAGE_STATS", value: "false" },
      { name: "DBT_TARGET", value: "prod" },
      { name: "DBT_HOST", value: "db.example.supabase.co" },
      { name: "DBT_PORT", value: "6543" },
      { name: "DBT_DBNAME", value: "postgres" },
      { name: "DBT_SSLMODE", value: "require" },
      { name: "DBT_USER", valueFrom: { secretKeyRef: { name: "dbt-credentials", key: "DBT_USER" } } },
      { name: "DBT_PASSWORD", valueFrom: { secretKeyRef: { name: "dbt-credentials", key: "DBT_PASSWORD" } } },
    ]);
    expect(pod["imagePullSecrets"]).toEqual([{ name: "registry" }]);
    const credentials = mocks.one("kubernetes:core/v1:Secret", "dbt-credentials");
    expect(isSecretInput(credentials.rawInputs["stringData"])).toBe(true);
    expect(credentials.inputs["stringData"]).toEqual({
      DBT_USER: "wb_prod_dbt",
      DBT_PASSWORD: "dbt-password",
      DATABASE_URL: "postgresql://wb_prod_catalog:catalog-pw@db.example.supabase.co:6543/postgres",
    });
  });

  it("the daily data-quality run also re-scores the catalog and raises alerts, failing at once below threshold", () => {
    const job = cronJobs[2] as RecordedResource;
    const [container] = podOf(job)["containers"];
    expect(container["command"]).toEqual(["bash", "/app/scripts/data-jobs/data-quality"]);
    expect(container["args"]).toEqual([
      "test",
      "--target",
      "prod",
      "--project-dir",
      "/app/dbt",
      "--profiles-dir",
      "/app/dbt",
      "--target-path",
      "/tmp/target/data-quality",
      "--log-path",
      "/tmp/logs",
    ]);
    const env = container["env"] as { name: string }[];
    expect(env.slice(-3)).toEqual([
      // The catalog writer's URL, from the schedules' own credentials Secret (not the admin's).
      { name: "DATABASE_URL", valueFrom: { secretKeyRef: { name: "dbt-credentials", key: "DATABASE_URL" } } },
      { name: "DBT_TARGET_PATH", value: "/tmp/target/data-quality" },
      { name: "QUALITY_ALERTS_URL", value: "https://n8n.workbench.example.com/webhook/quality-alerts" },
    ]);
    expect(job.inputs["spec"]["jobTemplate"]["spec"]["podFailurePolicy"]).toEqual({
      rules: [{ action: "FailJob", onExitCodes: { containerName: "dbt", operator: "In", values: [3] } }],
    });
    // The other stages run dbt alone, without the catalog's URL.
    for (const other of [cronJobs[0], cronJobs[1], cronJobs[3]] as RecordedResource[]) {
      const [dbt] = podOf(other)["containers"];
      expect(dbt["command"]).toEqual(["dbt"]);
      expect(dbt["env"].map((entry: { name: string }) => entry.name)).not.toContain("DATABASE_URL");
      expect(other.inputs["spec"]["jobTemplate"]["spec"]).not.toHaveProperty("podFailurePolicy");
    }
  });

  it("refuses the re-scoring schedule without the catalog's database URL", () => {
    expect(
      () =>
        new DbtSchedules("d3", {
          provider,
          namespace: "ai-workbench",
          image: "registry.digitalocean.com/ai-workbench/dbt-runner:0.1.0",
          connection: {
            host: "h",
            port: 6543,
            database: "postgres",
            sslMode: "require",
            user: "u",
            password: "p",
          },
        }),
    ).toThrow("d3: schedule 'data-quality' re-scores the catalog: pass catalog.databaseUrl");
  });

  it("parents to the component and uses the cluster provider", async () => {
    const urn = await promiseOf(schedules.urn);
    for (const job of [...cronJobs, mocks.one("kubernetes:core/v1:Secret", "dbt-credentials")]) {
      expect(job.parent).toBe(urn);
      expect(providerUrn(job.provider)).toBe(providerRef);
    }
  });

  it("refuses a schedule that is not a cron expression", () => {
    expect(
      () =>
        new DbtSchedules("d2", {
          provider,
          namespace: "ai-workbench",
          image: "dbt-runner:1.0.0",
          connection: { host: "h", port: 1, database: "d", sslMode: "require", user: "u", password: "p" },
          schedules: [{ name: "x", schedule: "hourly", dbtArgs: ["build"], deadlineSeconds: 60 }],
        }),
    ).toThrow("d2: schedule 'x' has 'hourly', not a five-field cron expression");
  });
});

describe("PostgresBackups", () => {
  let backups: InstanceType<typeof PostgresBackups>;
  let cronJobs: RecordedResource[];
  const args = () => ({
    provider,
    namespace: "ai-workbench",
    connection: {
      host: "db.example.supabase.co",
      port: 5432,
      database: "postgres",
      user: "wb_prod_backup",
      password: pulumi.secret("pw"),
      sslMode: "require" as const,
    },
    bucket: {
      name: "workbench-prod-data",
      endpoint: "sgp1.digitaloceanspaces.com",
      accessKeyId: "DO00KEY",
      secretAccessKey: pulumi.secret("spaces-secret"),
    },
    postgresImage: "postgres:17.5-alpine",
    awsCliImage: "amazon/aws-cli:2.27.0",
  });

  beforeAll(async () => {
    backups = new PostgresBackups("postgres-backup", args());
    await mocks.settle();
    cronJobs = ["hourly", "daily", "weekly"].map((tier) =>
      mocks.one("kubernetes:batch/v1:CronJob", `postgres-backup-${tier}`),
    );
  });

  it("keeps hourly dumps 24 h, daily 30 days, weekly 90 days (seed 003)", () => {
    expect(BACKUP_TIERS.map((tier) => [tier.name, tier.retentionDays])).toEqual([
      ["hourly", 1],
      ["daily", 30],
      ["weekly", 90],
    ]);
    expect(backupLifecycleRules()).toEqual([
      { id: "postgres-hourly", prefix: "postgres/hourly/", expireDays: 1 },
      { id: "postgres-daily", prefix: "postgres/daily/", expireDays: 30 },
      { id: "postgres-weekly", prefix: "postgres/weekly/", expireDays: 90 },
    ]);
    expect(cronJobs.map((job) => [job.inputs["metadata"]["name"], job.inputs["spec"]["schedule"]])).toEqual([
      ["postgres-backup-hourly", "15 * * * *"],
      ["postgres-backup-daily", "45 1 * * *"],
      ["postgres-backup-weekly", "15 3 * * 0"],
    ]);
  });

  it("dumps with pg_dump and uploads under the tier's prefix, credentials from a Secret", () => {
    const pod = podOf(cronJobs[1] as RecordedResource);
    const [dump] = pod["initContainers"];
    const [upload] = pod["containers"];
    expect(dump["image"]).toBe("postgres:17.5-alpine");
    expect(dump["command"]).toEqual(["pg_dump"]);
    // Row security on (the backup login's select-all policies), only the backed-up schemas.
    expect(dump["args"]).toEqual([
      "--format=custom",
      "--no-owner",
      "--no-privileges",
      "--enable-row-security",
      "--schema=ip_workbench",
      "--schema=bronze",
      "--schema=silver",
      "--schema=gold",
      "--schema=platinum",
      "--schema=workbench_migrations",
      "--file=/backup/dump",
    ]);
    expect(dump["env"]).toContainEqual({ name: "PGUSER", value: "wb_prod_backup" });
    expect(dump["env"]).toContainEqual({
      name: "PGPASSWORD",
      valueFrom: { secretKeyRef: { name: "postgres-backup-credentials", key: "PGPASSWORD" } },
    });
    expect(dump["env"]).toContainEqual({ name: "PGPORT", value: "5432" });
    expect(upload["image"]).toBe("amazon/aws-cli:2.27.0");
    expect(upload["args"][0]).toContain(
      'aws s3 cp /backup/dump "s3://${BUCKET}/${key}" --endpoint-url "https://${S3_ENDPOINT}"',
    );
    expect(upload["env"]).toEqual(
      expect.arrayContaining([
        { name: "BUCKET", value: "workbench-prod-data" },
        { name: "TIER", value: "daily" },
        { name: "PREFIX", value: "postgres" },
        {
          name: "AWS_SECRET_ACCESS_KEY",
          valueFrom: { secretKeyRef: { name: "postgres-backup-credentials", key: "AWS_SECRET_ACCESS_KEY" } },
        },
      ]),
    );
    const credentials = mocks.one("kubernetes:core/v1:Secret", "postgres-backup-credentials");
    expect(isSecretInput(credentials.rawInputs["stringData"])).toBe(true);
    expect(Object.keys(credentials.inputs["stringData"]).sort()).toEqual([
      "AWS_ACCESS_KEY_ID",
      "AWS_SECRET_ACCESS_KEY",
      "PGPASSWORD",
    ]);
  });

  it("parents to the component and uses the cluster provider", async () => {
    const urn = await promiseOf(backups.urn);
    for (const job of cronJobs) {
      expect(job.parent).toBe(urn);
      expect(providerUrn(job.provider)).toBe(providerRef);
    }
  });

  it("refuses the transaction pooler, where pg_dump fails", () => {
    const base = args();
    expect(
      () => new PostgresBackups("b2", { ...base, connection: { ...base.connection, port: 6543 } }),
    ).toThrow(
      "b2: port 6543 is Supabase's transaction pooler, where pg_dump fails: use the session port (5432)",
    );
  });
});
