/** The cloud profile's data: the medallion and catalog at deploy time, their CronJobs, the backups. */
import * as pulumi from "@pulumi/pulumi";
import {
  DbtSchedules,
  PostgresBackups,
  SECRET_NAMES,
  type WorkbenchServices,
} from "../../components/kubernetes/index.ts";
import type { TokenWebhook } from "../../lib/n8n/webhook-credentials.ts";
import { medallionAndCatalog } from "../data-platform.ts";
import type { Supabase } from "./database.ts";
import type { Foundation } from "./foundation.ts";
import type { ClusterBase } from "./workloads.ts";
import type { DeployableCloudConfig as Config } from "../config/deployable.ts";

/** Name prefix of the backup CronJobs (`postgres-backup-<tier>`). */
export const BACKUP_JOB_PREFIX = "postgres-backup";

/** The medallion and the catalog, built at deploy time and kept fresh by CronJobs. */
export function dataJobs(
  config: Config,
  k8s: ClusterBase,
  db: Supabase,
  n8nWebhookTokens: pulumi.Output<Record<TokenWebhook, string>> | undefined,
  services: WorkbenchServices | undefined,
): void {
  const { provider, workbenchNs } = k8s;
  const { database, logins, urlOf } = db;
  const features = config.features;
  const workloads = config.deployWorkloads;
  // The catalog seeder's quality alerts: the webhook URL from config, and the token the stack
  // generated for n8n's quality-alerts webhook (or one set in config when n8n runs elsewhere).
  const alertWebhookToken =
    n8nWebhookTokens?.apply((tokens) => tokens["quality-alerts"]) ??
    (config.qualityAlertsWebhookToken ? pulumi.secret(config.qualityAlertsWebhookToken) : undefined);
  const alertWebhook = config.qualityAlertsWebhookUrl
    ? {
        alertWebhookUrl: config.qualityAlertsWebhookUrl,
        ...(alertWebhookToken ? { alertWebhookToken: pulumi.secret(alertWebhookToken) } : {}),
      }
    : {};
  if (features.dataStack) {
    // The deployment builds the medallion once and seeds the catalog (dbt runs where
    // `pulumi up` runs, against Supabase's pooler); the CronJobs keep it fresh after.
    // One program, not stack references: the data stack needs the database layer's
    // generated dbt password, which stays a secret output inside one deployment.
    medallionAndCatalog(database, { dataVersion: "deployed", target: "prod", alertWebhook });
  }
  if (features.dataStack && workloads) {
    new DbtSchedules("dbt", {
      provider,
      namespace: workbenchNs,
      image: config.images.dbtRunner,
      imagePullSecret: services?.imagePullSecret ?? SECRET_NAMES.registry,
      // The daily data-quality run re-scores the catalog and raises alerts, as the catalog writer.
      catalog: {
        databaseUrl: urlOf(logins.catalog),
        ...alertWebhook,
      },
      connection: {
        host: config.database.host,
        port: config.database.port,
        database: config.database.name,
        sslMode: config.database.sslMode,
        user: database.dbtConnection.user,
        password: database.dbtPassword,
      },
    });
  }
}

/** Scheduled pg_dump backups into the Spaces bucket. */
export function backups(config: Config, k8s: ClusterBase, db: Supabase, foundation: Foundation): void {
  const { provider, workbenchNs } = k8s;
  const { database, logins } = db;
  const { bucket } = foundation;
  const features = config.features;
  if (features.backups) {
    new PostgresBackups("postgres-backup", {
      provider,
      namespace: workbenchNs,
      connection: {
        host: config.database.host,
        port: config.supabase.sessionPort,
        database: config.database.name,
        user: logins.backup.user,
        password: database.backupPassword,
        sslMode: config.database.sslMode,
      },
      bucket: {
        name: bucket.bucketName,
        endpoint: bucket.endpoint,
        accessKeyId: bucket.accessKeyId.apply((value) => value ?? ""),
        secretAccessKey: bucket.secretAccessKey.apply((value) => value ?? ""),
      },
      postgresImage: config.images.postgres,
      awsCliImage: config.images.awsCli,
    });
  }
}
