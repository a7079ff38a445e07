/**
 * Setup shared by the tests that deploy a stack based on the committed `local` stack file
 * against the local PostgreSQL server, each in a database and under a stack name of its own
 * (so a developer's own `local` stack is never touched).
 */
import type { LocalServer } from "../../stacks/local-server.ts";
import type { OpenStackOptions } from "../../stacks/workspace.ts";

/** `workbench:features` for the database layer alone (no dbt, n8n, LiteLLM, App Platform, backups). */
export const DATABASE_LAYER_ONLY = {
  dataStack: false,
  n8n: false,
  litellm: false,
  appPlatform: false,
  backups: false,
};

/** `workbench:database` for database `name` on the local server, as its admin. */
export function databaseConfig(server: LocalServer, name: string) {
  return { host: server.host, port: server.port, name, user: server.user, sslMode: "disable" };
}

/**
 * Options for `openStack` (stacks/workspace.ts): stack `stackName` based on `local`, its
 * environment (default: the stack name) and database on the local server, the admin's
 * password as the secret, and any further `config` keys (which replace the defaults above).
 */
export function localStackOptions(
  server: LocalServer,
  stack: { stackName: string; environment?: string; database: string; config?: Record<string, unknown> },
): OpenStackOptions {
  return {
    stackName: stack.stackName,
    baseStack: "local",
    config: {
      environment: stack.environment ?? stack.stackName,
      database: databaseConfig(server, stack.database),
      ...stack.config,
    },
    secrets: { databasePassword: server.password },
  };
}
