import * as pulumi from "@pulumi/pulumi";
import type { PgConnection } from "../../lib/postgres/connection.ts";
import { projectProvider } from "../shared/project-provider.ts";
import type { Layer } from "../../lib/dbt/cli.ts";
import type { DimensionWeights, LayerScore } from "../../lib/catalog/quality.ts";

export interface CatalogSeedArgs {
  /** Admin connection to the database holding `ip_workbench` (the password stays secret). */
  connection: pulumi.Input<PgConnection>;
  /**
   * dbt artifact dirs to seed from (manifest.json, catalog.json, run_results.json): one per
   * stage invocation plus the `docs generate` dir; relative to the project root or absolute.
   */
  artifactDirs: pulumi.Input<pulumi.Input<string>[]>;
  /** Opaque value that changes when any stage re-ran; the catalog re-seeds then, and only then. */
  trigger: pulumi.Input<string>;
  /** DQ dimension weights (completeness, uniqueness, …); default 1 each (equal weights). */
  weights?: pulumi.Input<DimensionWeights>;
  /** URL POSTed a JSON body per table whose DQ score fell below 80 % (the quality-alerts workflow). Default none. */
  alertWebhookUrl?: pulumi.Input<string>;
  /** The webhook's token, sent as `X-Workbench-Token` (n8n refuses alert POSTs without it). Default none. */
  alertWebhookToken?: pulumi.Input<string>;
}

/**
 * Seeds the `ip_workbench` catalog (tables, columns, lineage, tests, test runs, DQ scores,
 * alerts) from dbt artifacts, on create and whenever an input changes. Deleting it
 * leaves the catalog alone: its tables go with the schemas the migrations own.
 * Token `workbench:data:CatalogSeed`.
 */
export class CatalogSeed extends pulumi.dynamic.Resource {
  declare public readonly tables: pulumi.Output<number>;
  declare public readonly columns: pulumi.Output<number>;
  declare public readonly tableEdges: pulumi.Output<number>;
  declare public readonly columnEdges: pulumi.Output<number>;
  declare public readonly tests: pulumi.Output<number>;
  declare public readonly testRuns: pulumi.Output<number>;
  declare public readonly deletedTables: pulumi.Output<number>;
  declare public readonly alertsRaised: pulumi.Output<number>;
  declare public readonly dqByLayer: pulumi.Output<Record<Layer, LayerScore>>;
  declare public readonly warnings: pulumi.Output<string[]>;

  constructor(name: string, args: CatalogSeedArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      projectProvider("workbench:data:CatalogSeed"),
      name,
      {
        connection: args.connection,
        artifactDirs: args.artifactDirs,
        trigger: args.trigger,
        weights: args.weights ?? {},
        alertWebhookUrl: args.alertWebhookUrl ?? "",
        alertWebhookToken: args.alertWebhookToken ?? "",
        tables: undefined,
        columns: undefined,
        tableEdges: undefined,
        columnEdges: undefined,
        tests: undefined,
        testRuns: undefined,
        deletedTables: undefined,
        alertsRaised: undefined,
        dqByLayer: undefined,
        warnings: undefined,
      },
      // The connection carries a password, the webhook URL and token are credentials.
      pulumi.mergeOptions(opts, {
        additionalSecretOutputs: ["connection", "alertWebhookUrl", "alertWebhookToken"],
      }),
      "workbench:data",
      "CatalogSeed",
    );
  }
}
