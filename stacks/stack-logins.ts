import type { OutputMap } from "@pulumi/pulumi/automation/index.js";
import { connectionFromUrl, type PgConnection } from "../lib/postgres/connection.ts";

/** The automation logins a stack exports as `<purpose>Role` / `<purpose>Password` (stacks/local.ts). */
export type LoginPurpose = "dbt" | "n8n" | "backup" | "catalog" | "usage" | "api" | "delivery";

/**
 * The connection of one of the stack's own logins: the server and database of the stack's
 * `databaseUrl` output, with the login's user and password in place of the admin's. Scripts
 * use this, never the admin URL itself (that is the migration runner's: `npm run db:migrate`).
 */
export function stackLogin(outputs: OutputMap, purpose: LoginPurpose, stackName: string): PgConnection {
  const url = outputs["databaseUrl"]?.value;
  const role = outputs[`${purpose}Role`]?.value;
  const password = outputs[`${purpose}Password`]?.value;
  if (typeof url !== "string" || typeof role !== "string" || typeof password !== "string") {
    throw new Error(
      `stack '${stackName}' has no ${purpose} login in its outputs (${purpose}Role, ${purpose}Password): run \`npm run local\` first`,
    );
  }
  return { ...connectionFromUrl(url), user: role, password };
}
