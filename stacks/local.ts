/**
 * The `local` profile: the workbench's database layer on a PostgreSQL server on this
 * machine (scripts/local-postgres). Later layers (migrations, medallion, catalog) hang
 * off the resources created here.
 */
import * as pulumi from "@pulumi/pulumi";
import { connectionUrl, LoginRole, Schema, type PgConnection } from "../components/database/index.ts";
import type { LocalStackConfig } from "./config.ts";

export function localPlatform(config: LocalStackConfig) {
  const admin: pulumi.Output<PgConnection> = pulumi.secret({
    host: config.database.host,
    port: config.database.port,
    database: config.database.name,
    user: config.database.user,
    password: config.databasePassword,
    sslMode: config.database.sslMode,
  });

  const catalog = new Schema("ip-workbench", { connection: admin, name: "ip_workbench", dropCascade: true });

  // The login dbt runs as: cluster-wide, so its name carries the environment.
  const dbtRunner = new LoginRole("dbt-runner", {
    connection: admin,
    name: `wb_${config.environment.replaceAll("-", "_")}_dbt`,
    connectionLimit: 20,
  });

  return {
    environment: config.environment,
    databaseUrl: pulumi.secret(admin.apply((connection) => connectionUrl(connection, true))),
    catalogSchema: catalog.name,
    dbtRole: dbtRunner.name,
    dbtPassword: dbtRunner.password,
  };
}
