/**
 * From dbt artifacts to the rows of the `ip_workbench` catalog: {@link buildCatalog} is
 * pure (artifacts + database facts + column lineage in, a {@link CatalogPlan} out), so
 * every rule below is unit-tested on small hand-made artifacts.
 *
 * Rows name each other by dbt unique_id; the writer resolves them to the catalog's ids.
 */
import { LAYERS, type Layer } from "../dbt.ts";
import type {
  DbtArtifacts,
  ManifestColumn,
  ManifestNode,
  ManifestSource,
  RunResult,
  RunResults,
} from "./artifacts.ts";
import {
  filterColumnEdges,
  type LineageSchema,
  type ModelLineage,
  type UpstreamRelation,
} from "./column-lineage.ts";
import {
  LAYER_THRESHOLDS,
  scoreLayers,
  scoreTable,
  testDimension,
  testRunStatus,
  validateWeights,
  type Dimension,
  type DimensionWeights,
  type LayerScore,
  type ScoredTest,
  type TableScore,
  type TestStatus,
} from "./quality.ts";

export type ResourceType = "model" | "seed" | "source" | "snapshot";

/** What PostgreSQL knows about a relation (pg_class / pg_attribute / pg_index). */
export interface RelationFacts {
  /** pg_class.relkind spelled out: table, view, materialized view, foreign table, partitioned table. */
  kind: string;
  /** pg_class.reltuples; null for views and never-analyzed tables. */
  rowCount: number | null;
  /** pg_total_relation_size; null for views. */
  sizeBytes: number | null;
  /** The relation's columns in order (attnum), with their SQL type. */
  columns: { name: string; type: string; notNull: boolean; primaryKey: boolean }[];
}

/** Key of {@link RelationFacts} maps: schema and relation name as stored. */
export function relationKey(schema: string, name: string): string {
  return `${schema}\u0000${name}`;
}

export const DEFAULT_SLO: Record<Layer, { freshnessHours: number; completenessPct: number }> = {
  bronze: { freshnessHours: 1, completenessPct: 99 },
  silver: { freshnessHours: 1, completenessPct: 95 },
  gold: { freshnessHours: 6, completenessPct: 100 },
  platinum: { freshnessHours: 24, completenessPct: 100 },
};

export const DEFAULT_ALERT_THRESHOLD = 80;

export interface BuildOptions {
  /** Database facts per relation ({@link relationKey}); missing → no row count, size or NOT NULL. */
  relations?: ReadonlyMap<string, RelationFacts>;
  /** sqlglot's answer per model; models without one get no column edges. */
  columnLineage?: readonly ModelLineage[];
  /** DQ dimension weights (default 1 each). */
  weights?: DimensionWeights;
  /** A table scoring below this raises an alert; default 80. */
  alertThreshold?: number;
  /** Per-layer pass thresholds; default seed 002's. */
  layerThresholds?: Record<Layer, number | null>;
}

export interface TableRow {
  uniqueId: string;
  schemaName: string;
  tableName: string;
  resourceType: ResourceType;
  layer: Layer | null;
  description: string | null;
  ownerName: string | null;
  tags: string[];
  meta: Record<string, unknown>;
  rowCount: number | null;
  sizeBytes: number | null;
  /** When a run in these artifacts last built it (ISO); null = not built here. */
  lastUpdated: string | null;
  /** null = no scored test in these artifacts (the catalog keeps its previous score). */
  dqScore: number | null;
  sloFreshnessHours: number | null;
  sloCompletenessPct: number | null;
}

export interface ColumnRow {
  tableUniqueId: string;
  columnName: string;
  ordinalPosition: number;
  dataType: string;
  isNullable: boolean;
  isPrimaryKey: boolean;
  description: string | null;
  tags: string[];
}

export interface EdgeRow {
  sourceUniqueId: string;
  targetUniqueId: string;
  edgeType: "table" | "column";
  sourceColumn: string | null;
  targetColumn: string | null;
  transformationSql: string | null;
}

export interface TestRow {
  uniqueId: string;
  tableUniqueId: string | null;
  columnName: string | null;
  testName: string;
  testType: Dimension;
  severity: "error" | "warn";
  config: Record<string, unknown>;
}

export interface TestRunRow {
  testUniqueId: string;
  invocationId: string;
  status: TestStatus;
  failures: number | null;
  message: string | null;
  details: Record<string, unknown>;
  executedAt: string;
}

export interface JobRunRow {
  invocationId: string;
  status: "completed" | "failed";
  stage: string | null;
  startedAt: string | null;
  completedAt: string | null;
  rowsProcessed: number | null;
  errorMessage: string | null;
}

export interface AlertRow {
  tableUniqueId: string;
  /** `schema.table`. */
  table: string;
  layer: Layer | null;
  score: number;
  threshold: number;
  message: string;
  details: Record<string, unknown>;
}

export interface TableScoreRow extends TableScore {
  uniqueId: string;
  table: string;
  layer: Layer | null;
}

export interface CatalogPlan {
  tables: TableRow[];
  columns: ColumnRow[];
  tableEdges: EdgeRow[];
  columnEdges: EdgeRow[];
  tests: TestRow[];
  testRuns: TestRunRow[];
  jobRuns: JobRunRow[];
  scores: TableScoreRow[];
  dqByLayer: Record<Layer, LayerScore>;
  /** Tables scoring below the alert threshold (the writer skips those with an open alert). */
  alerts: AlertRow[];
  /** Tables scoring at or above the threshold: their open low-score alerts are resolved. */
  recovered: string[];
  /** dbt packages of the manifest: catalog rows of these packages missing from it are stale. */
  packages: string[];
  /** Models whose column lineage was traced: their column edges are replaced. */
  columnLineageTargets: string[];
  exposures: number;
  warnings: string[];
}

/** A node that becomes a catalog table. */
interface CatalogNode {
  uniqueId: string;
  resourceType: ResourceType;
  database: string | null;
  schema: string;
  name: string;
  node: ManifestNode | ManifestSource;
}

const TABLE_RESOURCE_TYPES = new Set<string>(["model", "seed", "source", "snapshot"]);

function isEphemeral(node: ManifestNode): boolean {
  return node.config?.materialized === "ephemeral";
}

function nonEmpty(text: string | null | undefined): string | null {
  const trimmed = text?.trim();
  return trimmed ? trimmed : null;
}

/** The nodes (models, seeds, snapshots, sources) that are relations in the warehouse. */
export function catalogNodes(artifacts: Pick<DbtArtifacts, "manifest">): CatalogNode[] {
  const { manifest } = artifacts;
  const nodes: CatalogNode[] = [];
  for (const node of [...Object.values(manifest.nodes), ...Object.values(manifest.sources ?? {})]) {
    if (!TABLE_RESOURCE_TYPES.has(node.resource_type)) continue;
    if (node.config?.enabled === false || isEphemeral(node)) continue;
    if (!node.schema) continue;
    const identifier = "identifier" in node && typeof node.identifier === "string" ? node.identifier : null;
    nodes.push({
      uniqueId: node.unique_id,
      resourceType: node.resource_type as ResourceType,
      database: node.database ?? null,
      schema: node.schema,
      name: identifier ?? node.alias ?? node.name,
      node,
    });
  }
  // Two nodes over one relation (a source reading a model's table): the model wins.
  const rank: Record<ResourceType, number> = { model: 0, snapshot: 1, seed: 2, source: 3 };
  nodes.sort((a, b) => rank[a.resourceType] - rank[b.resourceType] || a.uniqueId.localeCompare(b.uniqueId));
  const seen = new Set<string>();
  return nodes.filter((node) => {
    const key = relationKey(node.schema, node.name);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

const LAYER_IN_NAME = new RegExp(`(^|_)(${LAYERS.join("|")})($|_)`, "i");

/** The medallion layer: the model's folder (fqn), else its schema, else its tags. */
export function layerOf(node: {
  fqn?: string[] | null;
  schema?: string | null;
  tags?: string[] | null;
}): Layer | null {
  const folders = (node.fqn ?? []).slice(1, -1).map((part) => part.toLowerCase());
  const fromFolder = LAYERS.find((layer) => folders.includes(layer));
  if (fromFolder) return fromFolder;
  const fromSchema = LAYER_IN_NAME.exec(node.schema ?? "");
  if (fromSchema) return (fromSchema[2] as string).toLowerCase() as Layer;
  return LAYERS.find((layer) => (node.tags ?? []).map((t) => t.toLowerCase()).includes(layer)) ?? null;
}

function mergedMeta(node: ManifestNode): Record<string, unknown> {
  return { ...(node.config?.meta ?? {}), ...(node.meta ?? {}) };
}

function mergedTags(...lists: (string[] | string | null | undefined)[]): string[] {
  const tags: string[] = [];
  for (const list of lists) {
    for (const tag of typeof list === "string" ? [list] : (list ?? []))
      if (!tags.includes(tag)) tags.push(tag);
  }
  return tags;
}

function ownerOf(meta: Record<string, unknown>): string | null {
  const owner = meta["owner"];
  if (typeof owner === "string") return nonEmpty(owner);
  if (typeof owner === "number") return String(owner);
  return null;
}

function numberFrom(value: unknown): number | null {
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value)))
    return Number(value);
  return null;
}

function slo(
  meta: Record<string, unknown>,
  layer: Layer | null,
  uniqueId: string,
  warnings: string[],
): { freshnessHours: number | null; completenessPct: number | null } {
  const defaults = layer ? DEFAULT_SLO[layer] : null;
  let freshnessHours = defaults?.freshnessHours ?? null;
  let completenessPct = defaults?.completenessPct ?? null;
  if (meta["freshness_slo_hours"] !== undefined) {
    const hours = numberFrom(meta["freshness_slo_hours"]);
    if (hours !== null && hours > 0) freshnessHours = Math.ceil(hours);
    else
      warnings.push(
        `${uniqueId}: meta.freshness_slo_hours must be a number > 0, got ${JSON.stringify(meta["freshness_slo_hours"])}; using the layer default`,
      );
  }
  if (meta["completeness_slo_pct"] !== undefined) {
    const pct = numberFrom(meta["completeness_slo_pct"]);
    if (pct !== null && pct >= 0 && pct <= 100) completenessPct = Math.round(pct * 100) / 100;
    else
      warnings.push(
        `${uniqueId}: meta.completeness_slo_pct must be a number in 0..100, got ${JSON.stringify(meta["completeness_slo_pct"])}; using the layer default`,
      );
  }
  return { freshnessHours, completenessPct };
}

function completedAt(result: RunResult, results: RunResults): string | null {
  const execute = result.timing?.find((step) => step.name === "execute")?.completed_at;
  return execute ?? result.timing?.at(-1)?.completed_at ?? results.metadata.generated_at ?? null;
}

function later(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return Date.parse(b) > Date.parse(a) ? b : a;
}

/**
 * pg_class.reltuples; when the relation was never analyzed (-1), the rows the build wrote
 * if that is the whole table (a seed load, a table model's CTAS; not an incremental run).
 * Views have no row count.
 */
function rowCountOf(
  entry: CatalogNode,
  facts: RelationFacts | undefined,
  written: number | undefined,
): number | null {
  if (!facts || facts.kind === "view") return null;
  if (facts.rowCount !== null && facts.rowCount >= 0) return Math.round(facts.rowCount);
  const wholeTable =
    entry.resourceType === "seed" ||
    (entry.resourceType === "model" && entry.node.config?.materialized === "table");
  return wholeTable && written !== undefined ? written : null;
}

/** Test node → the catalog node it tests: attached_node, else the ref in its kwargs, else its first parent. */
function testedNode(test: ManifestNode, tables: ReadonlyMap<string, CatalogNode>): string | null {
  if (test.attached_node && tables.has(test.attached_node)) return test.attached_node;
  const parents = (test.depends_on?.nodes ?? []).filter((id) => tables.has(id));
  if (parents.length <= 1) return parents[0] ?? null;
  const model = test.test_metadata?.kwargs?.["model"];
  if (typeof model === "string") {
    const named = parents.find((id) => model.includes(`'${tables.get(id)?.node.name}'`));
    if (named) return named;
  }
  return parents[0] ?? null;
}

function unquote(column: string): string {
  return column.replace(/^["`[](.*)["`\]]$/, "$1");
}

function testColumn(test: ManifestNode): string | null {
  const fromKwargs = test.test_metadata?.kwargs?.["column_name"];
  return nonEmpty(test.column_name ?? (typeof fromKwargs === "string" ? fromKwargs : null));
}

/** The columns of a single-column unique_combination test (None for others). */
function combinationColumns(test: ManifestNode): string[] | null {
  const kwargs = test.test_metadata?.kwargs ?? {};
  const columns = kwargs["columns"] ?? kwargs["combination_of_columns"];
  return Array.isArray(columns) && columns.every((c) => typeof c === "string") ? (columns as string[]) : null;
}

function stageOf(results: RunResults): string | null {
  const select = results.args?.select;
  const selectors = typeof select === "string" ? select.split(/\s+/) : (select ?? []);
  for (const selector of selectors) {
    const layer = LAYERS.find(
      (l) => selector === l || selector === `tag:${l}` || selector === `path:models/${l}`,
    );
    if (layer) return layer;
  }
  return null;
}

/**
 * Builds every row of the catalog from the artifacts. Pure: database facts and column
 * lineage come in through `options`.
 */
export function buildCatalog(artifacts: DbtArtifacts, options: BuildOptions = {}): CatalogPlan {
  const weights = validateWeights(options.weights);
  const alertThreshold = options.alertThreshold ?? DEFAULT_ALERT_THRESHOLD;
  const relations = options.relations ?? new Map<string, RelationFacts>();
  const warnings: string[] = [];
  const { manifest, catalog } = artifacts;

  const nodes = catalogNodes(artifacts);
  const byId = new Map(nodes.map((node) => [node.uniqueId, node]));
  const catalogByRelation = new Map(
    [...Object.values(catalog?.nodes ?? {}), ...Object.values(catalog?.sources ?? {})].map((table) => [
      relationKey(table.metadata.schema, table.metadata.name),
      table,
    ]),
  );
  const catalogTableOf = (node: CatalogNode) =>
    catalog?.nodes[node.uniqueId] ??
    catalog?.sources?.[node.uniqueId] ??
    catalogByRelation.get(relationKey(node.schema, node.name));

  // --- run results: last build time per node, test results, job runs ---------------------------
  const builtAt = new Map<string, string>();
  /** Rows the latest successful run of a node wrote (CTAS and seed loads write all of them). */
  const builtRows = new Map<string, number>();
  const testRuns = new Map<string, TestRunRow>();
  const jobRuns: JobRunRow[] = [];
  const allTests = new Map<string, ManifestNode>();
  for (const node of Object.values(manifest.nodes))
    if (node.resource_type === "test") allTests.set(node.unique_id, node);
  for (const { results } of artifacts.runResults) {
    const invocationId = results.metadata.invocation_id;
    const failing: string[] = [];
    let rows: number | null = null;
    for (const result of results.results) {
      const status = result.status.toLowerCase();
      if (["error", "fail", "runtime error"].includes(status)) {
        failing.push(`${result.unique_id} [${status}]: ${(result.message ?? "no message").split("\n")[0]}`);
      }
      const kind = result.unique_id.split(".")[0];
      if (kind === "model" || kind === "seed" || kind === "snapshot") {
        const affected = numberFrom(result.adapter_response?.["rows_affected"]);
        if (affected !== null && affected >= 0) rows = (rows ?? 0) + affected;
        if (status === "success") {
          const at = completedAt(result, results);
          const previous = builtAt.get(result.unique_id) ?? null;
          if (at && later(previous, at) === at) {
            builtAt.set(result.unique_id, at);
            if (affected !== null && affected >= 0) builtRows.set(result.unique_id, affected);
            else builtRows.delete(result.unique_id);
          }
        }
      }
      if (kind === "test" && invocationId && allTests.has(result.unique_id)) {
        testRuns.set(`${invocationId}\u0000${result.unique_id}`, {
          testUniqueId: result.unique_id,
          invocationId,
          status: testRunStatus(result.status),
          failures: result.failures ?? null,
          message: nonEmpty(result.message),
          details: { dbt_status: result.status, execution_time: result.execution_time ?? null },
          executedAt: completedAt(result, results) ?? new Date(0).toISOString(),
        });
      }
    }
    if (invocationId) {
      const generated = results.metadata.generated_at ?? null;
      const started =
        results.metadata.invocation_started_at ??
        (generated && typeof results.elapsed_time === "number"
          ? new Date(Date.parse(generated) - results.elapsed_time * 1000).toISOString()
          : generated);
      jobRuns.push({
        invocationId,
        status: failing.length > 0 ? "failed" : "completed",
        stage: stageOf(results),
        startedAt: started,
        completedAt: generated,
        rowsProcessed: rows,
        errorMessage: failing.length > 0 ? failing.slice(0, 10).join("\n") : null,
      });
    }
  }

  // --- tests ---------------------------------------------------------------------------------
  const tests: TestRow[] = [];
  /** table → lower-cased column → generic tests on it */
  const columnTests = new Map<string, Map<string, Set<string>>>();
  for (const test of allTests.values()) {
    const tableId = testedNode(test, byId);
    const column = testColumn(test);
    const generic = test.test_metadata?.name ?? null;
    const { model: _model, ...kwargs } = test.test_metadata?.kwargs ?? {};
    tests.push({
      uniqueId: test.unique_id,
      tableUniqueId: tableId,
      columnName: column,
      testName: test.name,
      testType: testDimension(generic),
      severity: (test.config?.severity ?? "error").toLowerCase() === "warn" ? "warn" : "error",
      config: {
        test: generic,
        ...(test.test_metadata?.namespace ? { namespace: test.test_metadata.namespace } : {}),
        ...(Object.keys(kwargs).length > 0 ? { kwargs } : {}),
        ...(test.config?.where ? { where: test.config.where } : {}),
      },
    });
    if (tableId && generic) {
      const bare = generic.toLowerCase();
      const combination = bare.startsWith("unique_combination") ? combinationColumns(test) : null;
      const testedColumns = combination?.length === 1 ? combination : column ? [column] : [];
      const kind = combination?.length === 1 ? "unique" : bare;
      for (const tested of testedColumns) {
        const perTable = columnTests.get(tableId) ?? new Map<string, Set<string>>();
        const key = unquote(tested).toLowerCase();
        const kinds = perTable.get(key) ?? new Set<string>();
        kinds.add(kind);
        perTable.set(key, kinds);
        columnTests.set(tableId, perTable);
      }
    }
  }

  // --- scores --------------------------------------------------------------------------------
  const latest = new Map<string, TestRunRow>();
  for (const run of testRuns.values()) {
    const previous = latest.get(run.testUniqueId);
    if (!previous || Date.parse(run.executedAt) >= Date.parse(previous.executedAt))
      latest.set(run.testUniqueId, run);
  }
  const scoredTests = new Map<string, ScoredTest[]>();
  for (const test of tests) {
    const run = latest.get(test.uniqueId);
    if (!test.tableUniqueId || !run) continue;
    const list = scoredTests.get(test.tableUniqueId) ?? [];
    list.push({ dimension: test.testType, status: run.status });
    scoredTests.set(test.tableUniqueId, list);
  }

  // --- tables and columns ----------------------------------------------------------------------
  const tables: TableRow[] = [];
  const columns: ColumnRow[] = [];
  const scores: TableScoreRow[] = [];
  const alerts: AlertRow[] = [];
  const recovered: string[] = [];
  const columnNames = new Map<string, string[]>();
  for (const entry of nodes) {
    const { node, uniqueId } = entry;
    const meta = mergedMeta(node);
    const layer = layerOf(node);
    const facts = relations.get(relationKey(entry.schema, entry.name));
    const isView = facts?.kind === "view";
    const catalogTable = catalogTableOf(entry);
    const score = scoredTests.has(uniqueId) ? scoreTable(scoredTests.get(uniqueId) ?? [], weights) : null;
    const { freshnessHours, completenessPct } = slo(meta, layer, uniqueId, warnings);
    const table = `${entry.schema}.${entry.name}`;
    tables.push({
      uniqueId,
      schemaName: entry.schema,
      tableName: entry.name,
      resourceType: entry.resourceType,
      layer,
      description: nonEmpty(node.description) ?? nonEmpty(catalogTable?.metadata.comment),
      ownerName: ownerOf(meta),
      tags: mergedTags(node.tags, node.config?.tags),
      meta,
      rowCount: rowCountOf(entry, facts, builtRows.get(uniqueId)),
      sizeBytes: facts && !isView ? facts.sizeBytes : null,
      lastUpdated: builtAt.get(uniqueId) ?? null,
      dqScore: score?.score ?? null,
      sloFreshnessHours: freshnessHours,
      sloCompletenessPct: completenessPct,
    });
    if (score) {
      scores.push({ uniqueId, table, layer, ...score });
      if (score.score !== null && score.score < alertThreshold) {
        alerts.push({
          tableUniqueId: uniqueId,
          table,
          layer,
          score: score.score,
          threshold: alertThreshold,
          message: `DQ score of ${table} is ${score.score} %, below ${alertThreshold} %`,
          details: {
            score: score.score,
            threshold: alertThreshold,
            layer,
            dimensions: score.dimensions,
            tests: score.tests,
          },
        });
      } else if (score.score !== null) {
        recovered.push(uniqueId);
      }
    }

    // Columns: the relation's real columns (catalog.json) documented from the manifest;
    // without a catalog entry, the documented columns.
    const documented = new Map<string, ManifestColumn>();
    for (const [key, column] of Object.entries(node.columns ?? {}))
      documented.set((column.name ?? key).toLowerCase(), column);
    const tested = columnTests.get(uniqueId);
    const modelPrimaryKey = new Set(
      (node.constraints ?? [])
        .filter((c) => c.type === "primary_key")
        .flatMap((c) => c.columns ?? [])
        .map((c) => c.toLowerCase()),
    );
    // The relation's columns: catalog.json's, else the database's, else the documented ones.
    const dbColumns = new Map((facts?.columns ?? []).map((c) => [c.name.toLowerCase(), c]));
    const physical = catalogTable
      ? Object.values(catalogTable.columns)
          .sort((a, b) => (a.index ?? 0) - (b.index ?? 0))
          .map((c) => ({
            name: c.name,
            type: c.type ?? null,
            comment: c.comment ?? null,
            nullable: c.nullable ?? null,
          }))
      : facts && facts.columns.length > 0
        ? facts.columns.map((c) => ({ name: c.name, type: c.type, comment: null, nullable: null }))
        : [...documented.entries()].map(([key, c]) => ({
            name: c.name ?? key,
            type: c.data_type ?? null,
            comment: null,
            nullable: null,
          }));
    const names: string[] = [];
    physical.forEach((column, index) => {
      const key = column.name.toLowerCase();
      const doc = documented.get(key);
      const db = dbColumns.get(key);
      const kinds = tested?.get(key);
      const constraintPk =
        (doc?.constraints ?? []).some((c) => c.type === "primary_key") || modelPrimaryKey.has(key);
      const testedPk = kinds !== undefined && kinds.has("unique") && kinds.has("not_null");
      names.push(column.name);
      columns.push({
        tableUniqueId: uniqueId,
        columnName: column.name,
        ordinalPosition: index + 1,
        dataType: column.type ?? db?.type ?? doc?.data_type ?? "unknown",
        isNullable: db
          ? !db.notNull
          : (column.nullable ?? !(doc?.constraints ?? []).some((c) => c.type === "not_null")),
        isPrimaryKey: constraintPk || testedPk || (db?.primaryKey ?? false),
        description: nonEmpty(doc?.description) ?? nonEmpty(column.comment),
        tags: mergedTags(doc?.tags),
      });
    });
    columnNames.set(uniqueId, names);
  }

  // --- lineage -------------------------------------------------------------------------------
  // An ephemeral model is no relation: its readers depend on its own parents instead.
  const parentsCache = new Map<string, string[]>();
  const resolveParents = (id: string, trail: Set<string> = new Set()): string[] => {
    const cached = parentsCache.get(id);
    if (cached) return cached;
    const node = manifest.nodes[id] ?? manifest.sources?.[id];
    const found: string[] = [];
    for (const parent of node?.depends_on?.nodes ?? []) {
      if (byId.has(parent)) {
        if (!found.includes(parent)) found.push(parent);
        continue;
      }
      const parentNode = manifest.nodes[parent];
      if (parentNode && isEphemeral(parentNode) && !trail.has(parent)) {
        for (const grand of resolveParents(parent, new Set([...trail, id])))
          if (!found.includes(grand)) found.push(grand);
      }
    }
    parentsCache.set(id, found);
    return found;
  };
  const tableEdges: EdgeRow[] = [];
  for (const entry of nodes) {
    for (const parent of resolveParents(entry.uniqueId)) {
      if (parent === entry.uniqueId) continue;
      tableEdges.push({
        sourceUniqueId: parent,
        targetUniqueId: entry.uniqueId,
        edgeType: "table",
        sourceColumn: null,
        targetColumn: null,
        transformationSql: null,
      });
    }
  }

  const columnEdges: EdgeRow[] = [];
  const columnLineageTargets: string[] = [];
  for (const model of options.columnLineage ?? []) {
    if (!byId.has(model.id)) continue;
    if (model.error) {
      warnings.push(`${model.id}: no column lineage (${model.error})`);
      continue;
    }
    columnLineageTargets.push(model.id);
    const parents: UpstreamRelation[] = resolveParents(model.id).map((id) => {
      const parent = byId.get(id) as CatalogNode;
      return {
        uniqueId: id,
        database: parent.database,
        schema: parent.schema,
        name: parent.name,
        columns: columnNames.get(id),
      };
    });
    for (const edge of filterColumnEdges(model.edges, parents, columnNames.get(model.id))) {
      columnEdges.push({
        sourceUniqueId: edge.sourceUniqueId,
        targetUniqueId: model.id,
        edgeType: "column",
        sourceColumn: edge.sourceColumn,
        targetColumn: edge.targetColumn,
        transformationSql: edge.expression,
      });
    }
  }

  const packages = [
    ...new Set(nodes.map((node) => node.node.package_name ?? node.uniqueId.split(".")[1] ?? "")),
  ]
    .filter(Boolean)
    .sort();

  const scoreById = new Map(scores.map((score) => [score.uniqueId, score]));
  return {
    tables,
    columns,
    tableEdges,
    columnEdges,
    tests,
    testRuns: [...testRuns.values()],
    jobRuns,
    scores,
    dqByLayer: scoreLayers(
      tables.map((table) => ({ layer: table.layer, score: scoreById.get(table.uniqueId) ?? null })),
      options.layerThresholds ?? LAYER_THRESHOLDS,
    ),
    alerts,
    recovered,
    packages,
    columnLineageTargets,
    exposures: Object.keys(manifest.exposures ?? {}).length,
    warnings,
  };
}

/** The relations to look up in the database (schema, name) before building the plan. */
export function catalogRelations(
  artifacts: Pick<DbtArtifacts, "manifest">,
): { schema: string; name: string }[] {
  return catalogNodes(artifacts).map(({ schema, name }) => ({ schema, name }));
}

/** The request for {@link traceColumnLineage}: SQL models with compiled code, and the catalog's schema. */
export function lineageRequest(
  artifacts: DbtArtifacts,
  options: { sample?: number; relations?: ReadonlyMap<string, RelationFacts> } = {},
): { models: { id: string; sql: string }[]; schema: LineageSchema; dialect: string } {
  const { sample, relations } = options;
  const schema: LineageSchema = {};
  const add = (
    database: string | null | undefined,
    schemaName: string,
    table: string,
    columns: Record<string, string>,
  ) => {
    const db = (schema[database ?? ""] ??= {});
    const tables = (db[schemaName] ??= {});
    tables[table] = columns;
  };
  const nodes = catalogNodes(artifacts);
  const byRelation = new Map(nodes.map((n) => [relationKey(n.schema, n.name), n]));
  if (artifacts.catalog) {
    for (const table of [
      ...Object.values(artifacts.catalog.nodes),
      ...Object.values(artifacts.catalog.sources ?? {}),
    ]) {
      const columns: Record<string, string> = {};
      for (const column of Object.values(table.columns)) columns[column.name] = column.type ?? "unknown";
      const database =
        table.metadata.database ??
        byRelation.get(relationKey(table.metadata.schema, table.metadata.name))?.database;
      add(database, table.metadata.schema, table.metadata.name, columns);
    }
  } else {
    // No catalog.json: the database's columns, else the documented ones.
    for (const node of nodes) {
      const columns: Record<string, string> = {};
      const facts = relations?.get(relationKey(node.schema, node.name));
      if (facts && facts.columns.length > 0) {
        for (const column of facts.columns) columns[column.name] = column.type;
      } else {
        for (const [key, column] of Object.entries(node.node.columns ?? {}))
          columns[column.name ?? key] = column.data_type ?? "unknown";
      }
      if (Object.keys(columns).length > 0) add(node.database, node.schema, node.name, columns);
    }
  }
  let models = nodes
    .filter((node) => node.resourceType === "model" && (node.node.language ?? "sql") === "sql")
    .map((node) => ({ id: node.uniqueId, sql: artifacts.compiledCode.get(node.uniqueId) ?? "" }))
    .filter((model) => model.sql.trim() !== "");
  if (sample !== undefined && sample < models.length) models = models.slice(0, sample);
  return { models, schema, dialect: sqlDialect(artifacts.manifest.metadata.adapter_type) };
}

/** sqlglot's dialect for a dbt adapter (postgres when unknown). */
export function sqlDialect(adapterType: string | null | undefined): string {
  const adapter = (adapterType ?? "postgres").toLowerCase();
  const aliases: Record<string, string> = {
    sqlserver: "tsql",
    fabric: "tsql",
    synapse: "tsql",
    "spark-livy": "spark",
  };
  const known = [
    "postgres",
    "redshift",
    "snowflake",
    "bigquery",
    "duckdb",
    "databricks",
    "spark",
    "trino",
    "athena",
    "clickhouse",
    "mysql",
    "sqlite",
    "oracle",
    "tsql",
    "materialize",
    "presto",
    "hive",
    "teradata",
  ];
  return aliases[adapter] ?? (known.includes(adapter) ? adapter : "postgres");
}
