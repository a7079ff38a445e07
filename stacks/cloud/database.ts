/** The cloud profile's database layer on Supabase: migrations, logins, the apps' schemas and the logins' URLs. */
import * as pulumi from "@pulumi/pulumi";
import {
  connectionUrl,
  type PgConnection,
  SqlStatements,
  WorkbenchDatabase,
} from "../../components/database/index.ts";
import { REPO_ROOT } from "../../lib/paths.ts";
import { adminConnection } from "../admin-connection.ts";
import { adminDatabaseUrl } from "../data-platform.ts";
import type { DeployableCloudConfig as Config } from "../config/deployable.ts";

/** Schemas for the self-hosted apps' own tables (never `public`, which Supabase's API exposes). */
export const APP_SCHEMAS = { n8n: "n8n" } as const;

const withQuery = (url: string, query: string) => `${url}${url.includes("?") ? "&" : "?"}${query}`;

/** Supabase: the database layer, the apps' schemas and each login's URL. */
export function supabase(config: Config, base: string) {
  const env = config.environment;
  const admin = adminConnection(config);
  const session = admin.apply((connection) => ({ ...connection, port: config.supabase.sessionPort }));
  // Prod data: nothing in the database layer is dropped on delete or replace (README,
  // "Destroying prod data" for the explicit operator steps).
  const database = new WorkbenchDatabase("workbench", {
    connection: admin,
    projectRoot: REPO_ROOT,
    environment: env,
    retainOnDelete: true,
  });
  const appSchemas = new SqlStatements(
    `${base}-app-schemas`,
    {
      connection: session,
      apply: Object.values(APP_SCHEMAS).map((schema) => `create schema if not exists ${schema}`),
      // Kept on delete: the schema holds n8n's workflows.
      undo: [],
    },
    { retainOnDelete: true },
  );
  // The operator's admin URL (a stack output only: no component receives it). Every
  // component gets its own login from the database layer (README, "Logins and privileges").
  const databaseUrl = adminDatabaseUrl(admin);
  const logins = database.connections;
  const urlOf = (connection: pulumi.Input<PgConnection>, query?: string) =>
    pulumi.secret(
      pulumi.output(connection).apply((value) => {
        const url = connectionUrl(value, true);
        return query ? withQuery(url, query) : url;
      }),
    );
  /** A login's connection on Supabase's session port (long-lived sessions, pg_dump, migrations of the apps). */
  const onSession = (connection: pulumi.Output<PgConnection>) =>
    connection.apply((value) => ({ ...value, port: config.supabase.sessionPort }));
  return { session, database, appSchemas, databaseUrl, logins, urlOf, onSession };
}
export type Supabase = ReturnType<typeof supabase>;
