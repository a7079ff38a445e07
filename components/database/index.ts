export { Schema, type SchemaArgs } from "./schema.ts";
export { LoginRole, type LoginRoleArgs } from "./login-role.ts";
export { connectionUrl, type PgConnection, type SslMode } from "./pg-connection.ts";
