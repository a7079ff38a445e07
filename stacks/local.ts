/**
 * The `local` profile: the workbench's database layer on a PostgreSQL server on this
 * machine (scripts/local-postgres), with the Supabase shim standing in for Supabase.
 */
import * as pulumi from "@pulumi/pulumi";
import { connectionUrl, WorkbenchDatabase, type PgConnection } from "../components/database/index.ts";
import type { LocalStackConfig } from "./config.ts";
import { REPO_ROOT } from "./paths.ts";

export function localPlatform(config: LocalStackConfig) {
  const admin: pulumi.Output<PgConnection> = pulumi.secret({
    host: config.database.host,
    port: config.database.port,
    database: config.database.name,
    user: config.database.user,
    password: config.databasePassword,
    sslMode: config.database.sslMode,
  });

  const database = new WorkbenchDatabase("workbench", {
    connection: admin,
    projectRoot: REPO_ROOT,
    environment: config.environment,
    ownsAuthSchema: true,
  });

  return {
    environment: config.environment,
    databaseUrl: pulumi.secret(admin.apply((connection) => connectionUrl(connection, true))),
    appliedMigrations: database.appliedVersions,
    dbtRole: database.dbtRole,
    dbtPassword: database.dbtPassword,
    n8nRole: database.n8nRole,
    n8nPassword: database.n8nPassword,
  };
}
