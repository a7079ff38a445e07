/**
 * The `local` profile: the whole workbench data platform on a PostgreSQL server on this
 * machine (scripts/local-postgres), with the Supabase shim standing in for Supabase:
 * database layer → sample data in bronze → dbt stages bronze..platinum → catalog seeded
 * from the stages' artifacts.
 */
import * as pulumi from "@pulumi/pulumi";
import { WorkbenchDatabase } from "../components/database/index.ts";
import { SampleData } from "../components/data/sample-data.ts";
import { adminConnection } from "./admin-connection.ts";
import { adminDatabaseUrl, medallionAndCatalog } from "./data-platform.ts";
import type { LocalStackConfig } from "./config/schema.ts";
import { REPO_ROOT } from "../lib/paths.ts";

export function localPlatform(config: LocalStackConfig) {
  const admin = adminConnection(config);

  const database = new WorkbenchDatabase("workbench", {
    connection: admin,
    projectRoot: REPO_ROOT,
    environment: config.environment,
    ownsAuthSchema: true,
    // The sample loader stands in for an upstream delivery: it loads as one.
    deliveryLogin: true,
  });
  const delivery = database.connections.delivery;
  if (!delivery) throw new Error("the database layer made no delivery login (deliveryLogin: true)");

  const outputs = {
    environment: config.environment,
    databaseUrl: adminDatabaseUrl(admin),
    appliedMigrations: database.appliedVersions,
    dbtRole: database.dbtRole,
    dbtPassword: database.dbtPassword,
    n8nRole: database.n8nRole,
    n8nPassword: database.n8nPassword,
    // Each automation's own login (README, "Logins and privileges"); passwords secret.
    backupRole: database.backupRole,
    backupPassword: database.backupPassword,
    catalogRole: database.catalogRole,
    catalogPassword: database.catalogPassword,
    usageRole: database.usageRole,
    usagePassword: database.usagePassword,
    apiRole: database.apiRole,
    apiPassword: database.apiPassword,
    deliveryRole: database.deliveryRole,
    deliveryPassword: database.deliveryPassword,
  };
  if (!config.features.dataStack) return outputs;

  const sample = new SampleData(
    "sample-data",
    // The delivery login (COPY into the landing tables), never the admin's.
    { connection: delivery, ...config.sampleData },
    { dependsOn: [database] },
  );

  const { medallion, catalog } = medallionAndCatalog(database, {
    dataVersion: sample.dataVersion,
    alertWebhook: {
      ...(config.qualityAlertsWebhookUrl ? { alertWebhookUrl: config.qualityAlertsWebhookUrl } : {}),
      ...(config.qualityAlertsWebhookToken
        ? { alertWebhookToken: pulumi.secret(config.qualityAlertsWebhookToken) }
        : {}),
    },
    after: [sample],
  });

  return {
    ...outputs,
    catalog: pulumi
      .all([
        catalog.tables,
        catalog.columns,
        catalog.tableEdges,
        catalog.columnEdges,
        catalog.tests,
        catalog.alertsRaised,
        catalog.dqByLayer,
      ])
      .apply(([tables, columns, tableEdges, columnEdges, tests, alertsRaised, dqByLayer]) => ({
        tables,
        columns,
        tableEdges,
        columnEdges,
        tests,
        alertsRaised,
        dqByLayer,
      })),
    sampleData: pulumi
      .all([sample.delivered, sample.transactionKinds, sample.expenseKinds])
      .apply(([delivered, transactionKinds, expenseKinds]) => ({
        delivered,
        transactionKinds,
        expenseKinds,
      })),
    stages: medallion.stages,
    artifactDirs: medallion.artifactDirs,
  };
}
