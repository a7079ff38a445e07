import * as pulumi from "@pulumi/pulumi";
import type { PgConnection } from "../components/database/index.ts";
import type { StackConfig } from "./config/schema.ts";

/** The admin connection from the stack config: secret as a whole, since it holds the password. */
export function adminConnection(config: StackConfig): pulumi.Output<PgConnection> {
  return pulumi.secret({
    host: config.database.host,
    port: config.database.port,
    database: config.database.name,
    user: config.database.user,
    password: config.databasePassword,
    sslMode: config.database.sslMode,
  });
}
