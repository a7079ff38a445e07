/**
 * The `CatalogSeed` dynamic resource: its args, its class and its provider, which the
 * provider process loads through components/shared/provider-registry.ts. Create and
 * update seed the catalog; delete does nothing (the catalog tables are dropped with their
 * schema). The module has no side effects on import: the program and the provider process
 * both load it.
 */
import * as pulumi from "@pulumi/pulumi";
import { sameDatabase, type PgConnection } from "../../lib/postgres/connection.ts";
import type { Layer } from "../../lib/dbt/cli.ts";
import { validateWeights, type DimensionWeights, type LayerScore } from "../../lib/catalog/quality.ts";
import { seedCatalog, type SeedResult } from "../../lib/catalog/seed.ts";
import { projectRoot } from "../../lib/paths.ts";
import { projectProvider } from "../shared/project-provider.ts";

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

// ---- provider: runs in the dynamic-provider process (registered in components/shared/provider-registry.ts) ----

export interface CatalogSeedInputs {
  connection: PgConnection;
  artifactDirs: string[];
  trigger: string;
  weights: DimensionWeights;
  /** Empty: no webhook. */
  alertWebhookUrl: string;
  /** Empty: no token (states written before the token existed lack it). */
  alertWebhookToken?: string;
}

/** The state: the inputs, the seed's figures the stack shows, and its warnings. */
export interface CatalogSeedOutputs
  extends
    CatalogSeedInputs,
    Pick<
      SeedResult,
      | "tables"
      | "columns"
      | "tableEdges"
      | "columnEdges"
      | "tests"
      | "testRuns"
      | "deletedTables"
      | "alertsRaised"
      | "dqByLayer"
    > {
  warnings: string[];
}

async function seed(inputs: CatalogSeedInputs): Promise<CatalogSeedOutputs> {
  const result = await seedCatalog(inputs.connection, inputs.artifactDirs, {
    baseDir: projectRoot(),
    weights: inputs.weights,
    alertWebhookUrl: inputs.alertWebhookUrl || undefined,
    alertWebhookToken: inputs.alertWebhookToken || undefined,
  });
  const warnings = [
    ...result.warnings,
    ...(result.webhook?.failed ?? []).map((f) => `alert webhook for ${f.table} failed: ${f.error}`),
  ];
  for (const warning of warnings) console.warn(`catalog seed: ${warning}`);
  return {
    ...inputs,
    tables: result.tables,
    columns: result.columns,
    tableEdges: result.tableEdges,
    columnEdges: result.columnEdges,
    tests: result.tests,
    testRuns: result.testRuns,
    deletedTables: result.deletedTables,
    alertsRaised: result.alertsRaised,
    dqByLayer: result.dqByLayer,
    warnings,
  };
}

export const catalogSeedProvider: pulumi.dynamic.ResourceProvider = {
  async check(_olds, news: CatalogSeedInputs) {
    const failures: pulumi.dynamic.CheckFailure[] = [];
    try {
      validateWeights(news.weights);
    } catch (error) {
      failures.push({ property: "weights", reason: error instanceof Error ? error.message : String(error) });
    }
    if (!Array.isArray(news.artifactDirs) || news.artifactDirs.length === 0) {
      failures.push({ property: "artifactDirs", reason: "give at least one dbt artifacts dir" });
    }
    return { inputs: news, failures };
  },
  async diff(_id, olds: CatalogSeedOutputs, news: CatalogSeedInputs) {
    const changes =
      !sameDatabase(olds.connection, news.connection) ||
      olds.trigger !== news.trigger ||
      JSON.stringify(olds.artifactDirs) !== JSON.stringify(news.artifactDirs) ||
      JSON.stringify(olds.weights) !== JSON.stringify(news.weights) ||
      olds.alertWebhookUrl !== news.alertWebhookUrl ||
      (olds.alertWebhookToken ?? "") !== (news.alertWebhookToken ?? "");
    // Another database is another catalog: seed it as a new resource.
    return {
      changes,
      replaces: sameDatabase(olds.connection, news.connection) ? [] : ["connection"],
      deleteBeforeReplace: false,
    };
  },
  async create(inputs: CatalogSeedInputs) {
    const outs = await seed(inputs);
    return { id: `${inputs.connection.database}:catalog`, outs };
  },
  async update(_id, _olds: CatalogSeedOutputs, news: CatalogSeedInputs) {
    return { outs: await seed(news) };
  },
  async delete() {
    // Nothing to undo: the catalog rows go with the ip_workbench schema (MigrationSet).
  },
};
