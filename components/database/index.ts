export { LoginRole, type LoginRoleArgs } from "./login-role.ts";
export { SqlStatements, type SqlStatementsArgs } from "./sql-statements.ts";
export { MigrationSet, type MigrationSetArgs } from "./migration-set.ts";
export {
  WorkbenchDatabase,
  type WorkbenchDatabaseArgs,
  MIGRATED_SCHEMAS,
  loginUser,
} from "./workbench-database.ts";
export { connectionUrl, type PgConnection, type SslMode } from "../../lib/postgres/connection.ts";
