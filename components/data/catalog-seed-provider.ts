/**
 * Provider implementation of {@link CatalogSeed}: loaded at run time by the dynamic
 * provider shim (components/shared/project-provider.ts). Create and update seed the
 * catalog; delete does nothing (the catalog tables are dropped with their schema).
 */
import type * as pulumi from "@pulumi/pulumi";
import { sameDatabase, type PgConnection } from "../../lib/postgres/connection.ts";
import type { Layer } from "../../lib/dbt/cli.ts";
import { validateWeights, type DimensionWeights, type LayerScore } from "../../lib/catalog/quality.ts";
import { seedCatalog } from "../../lib/catalog/seed.ts";
import { projectRoot } from "../../lib/paths.ts";

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

export interface CatalogSeedOutputs extends CatalogSeedInputs {
  tables: number;
  columns: number;
  tableEdges: number;
  columnEdges: number;
  tests: number;
  testRuns: number;
  deletedTables: number;
  alertsRaised: number;
  dqByLayer: Record<Layer, LayerScore>;
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
