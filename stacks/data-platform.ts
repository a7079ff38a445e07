/**
 * What the two profiles wire the same way: the operator's admin URL, and the medallion
 * (dbt, bronze to platinum) with the catalog seeded from its stages' artifacts.
 */
import * as pulumi from "@pulumi/pulumi";
import { connectionUrl, type PgConnection, type WorkbenchDatabase } from "../components/database/index.ts";
import { CatalogSeed } from "../components/data/catalog-seed.ts";
import { DataStack } from "../components/data/data-stack.ts";
import { REPO_ROOT } from "../lib/paths.ts";

/** The operator's admin URL: a stack output only, no component receives it (README, "Logins and privileges"). */
export function adminDatabaseUrl(admin: pulumi.Output<PgConnection>): pulumi.Output<string> {
  return pulumi.secret(admin.apply((connection) => connectionUrl(connection, true)));
}

export interface MedallionArgs {
  /** What the bronze data is (the sample's fingerprint, or `deployed`): a change rebuilds the stages. */
  dataVersion: pulumi.Input<string>;
  /** dbt target. Default the data stack's (local). */
  target?: string;
  /** The catalog seeder's quality-alerts webhook (URL and token), when there is one. */
  alertWebhook: { alertWebhookUrl?: pulumi.Input<string>; alertWebhookToken?: pulumi.Input<string> };
  /** What the medallion waits for besides the database layer (e.g. the sample load). */
  after?: pulumi.Resource[];
}

/**
 * The medallion built by dbt, its job runs recorded by the catalog writer's login (never the
 * admin's), and the catalog seeded from the stages' artifacts by the same login.
 */
export function medallionAndCatalog(database: WorkbenchDatabase, args: MedallionArgs) {
  const medallion = new DataStack(
    "medallion",
    {
      dbtConnection: database.dbtConnection,
      recorderConnection: database.connections.catalog,
      projectRoot: REPO_ROOT,
      artifactsRoot: `dbt/target/${pulumi.getStack()}`,
      dataVersion: args.dataVersion,
      ...(args.target !== undefined ? { target: args.target } : {}),
    },
    { dependsOn: [database, ...(args.after ?? [])] },
  );
  const catalog = new CatalogSeed(
    "catalog",
    {
      connection: database.connections.catalog,
      artifactDirs: medallion.artifactDirs,
      trigger: medallion.runFingerprint,
      ...args.alertWebhook,
    },
    { dependsOn: [medallion] },
  );
  return { medallion, catalog };
}
