/**
 * From dbt artifacts to the rows of the `ip_workbench` catalog: {@link buildCatalog} is
 * pure (artifacts + database facts + column lineage in, a {@link CatalogPlan} out), so
 * every rule below is unit-tested on small hand-made artifacts.
 *
 * Rows name each other by dbt unique_id; the writer resolves them to the catalog's ids.
 */
import { createHash } from "node:crypto";
import { LAYERS, type Layer } from "../dbt/cli.ts";
import type {
  CatalogTable,
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

/** Key of {@link RelationFacts} maps (one database): schema and relation name as stored. */
export function relationKey(schema: string, name: string): string {
  return `${schema}\u0000${name}`;
}

/**
 * A relation's identity: database, schema and name (dbt projects read `raw.rms.products`
 * and `analytics.rms.products` side by side). Databases compare case-insensitively (dbt
 * adapters spell them in either case); a missing database is its own value.
 */
export function relationId(database: string | null | undefined, schema: string, name: string): string {
  return `${(database ?? "").toLowerCase()}\u0000${schema}\u0000${name}`;
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
  /**
   * The database `relations` were read from: they apply to nodes of that database (or of
   * none). Unset: to every node.
   */
  factsDatabase?: string;
  /**
   * sqlglot's answer per model parsed this time; their column edges (and coverage) are
   * replaced. Models not in it keep what the catalog has.
   */
  columnLineage?: readonly ModelLineage[];
  /** Per parsed model: where its SQL came from and its lineage checksum (see {@link lineageRequest}). */
  lineageInputs?: ReadonlyMap<string, { sqlSource: string; checksum: string }>;
  /** The parser's identity (sqlglot version and script), stored with each coverage row. */
  parser?: string;
  /** Latest stored test run per test unique_id: an older run in the artifacts never overrides it. */
  storedRuns?: ReadonlyMap<string, { status: TestStatus; executedAt: string; invocationId: string }>;
  /** DQ dimension weights (default 1 each). */
  weights?: DimensionWeights;
  /** A table scoring below this raises an alert; default 80. */
  alertThreshold?: number;
  /** Per-layer pass thresholds; default the data-layer requirements' thresholds. */
  layerThresholds?: Record<Layer, number | null>;
}

export interface TableRow {
  uniqueId: string;
  databaseName: string | null;
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

/** Column-lineage coverage of one model (ip_workbench.lineage_coverage). */
export interface CoverageRow {
  tableUniqueId: string;
  status: "traced" | "no_edges" | "failed" | "no_sql" | "not_sql";
  /** Why there is no column lineage; null when traced. */
  reason: string | null;
  sqlSource: string | null;
  columnEdges: number;
  checksum: string | null;
  parser: string | null;
}

/** A manifest node the catalog does not hold as a relation (or test), and why. */
export interface SkippedNode {
  uniqueId: string;
  kind: string;
  reason: string;
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
  /** Coverage of the models in columnLineageTargets, plus models without SQL to parse. */
  coverage: CoverageRow[];
  /** Per resource type: nodes in the manifest and nodes catalogued. */
  nodeKinds: { kind: string; inManifest: number; catalogued: number }[];
  /** Nodes not catalogued (ephemeral, disabled, merged into another node's relation, …). */
  skipped: SkippedNode[];
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

/** The catalogued nodes, the nodes merged into another's relation, and what was skipped. */
export interface CatalogSelection {
  nodes: CatalogNode[];
  /** unique_id of a node over the same relation as another → the catalogued node. */
  merged: Map<string, string>;
  skipped: SkippedNode[];
}

const KIND_RANK: Record<ResourceType, number> = { model: 0, snapshot: 1, seed: 2, source: 3 };

/**
 * The nodes (models, seeds, snapshots, sources) that are relations in the warehouse, one
 * per relation (database, schema, name). Two nodes over one relation (a source declared
 * over a seed's table, as dbt-labs' jaffle-shop does, or over a model's): the model, else
 * snapshot, else seed is catalogued, and the other is merged into it (its readers' edges
 * and its tests go to the catalogued node).
 */
export function catalogSelection(artifacts: Pick<DbtArtifacts, "manifest">): CatalogSelection {
  const { manifest } = artifacts;
  const nodes: CatalogNode[] = [];
  const skipped: SkippedNode[] = [];
  for (const node of [...Object.values(manifest.nodes), ...Object.values(manifest.sources ?? {})]) {
    if (!TABLE_RESOURCE_TYPES.has(node.resource_type)) continue;
    const skip = (reason: string) =>
      skipped.push({ uniqueId: node.unique_id, kind: node.resource_type, reason });
    if (node.config?.enabled === false) {
      skip("disabled (config.enabled: false)");
      continue;
    }
    if (isEphemeral(node)) {
      skip("ephemeral: no relation in the warehouse (its readers are linked to its parents)");
      continue;
    }
    if (!node.schema) {
      skip("no schema in the manifest");
      continue;
    }
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
  nodes.sort(
    (a, b) => KIND_RANK[a.resourceType] - KIND_RANK[b.resourceType] || a.uniqueId.localeCompare(b.uniqueId),
  );
  const owner = new Map<string, CatalogNode>();
  const merged = new Map<string, string>();
  const kept = nodes.filter((node) => {
    const key = relationId(node.database, node.schema, node.name);
    const first = owner.get(key);
    if (first) {
      merged.set(node.uniqueId, first.uniqueId);
      skipped.push({
        uniqueId: node.uniqueId,
        kind: node.resourceType,
        reason: `the same relation as ${first.resourceType} ${first.uniqueId}: catalogued as that node, which takes its edges and tests`,
      });
      return false;
    }
    owner.set(key, node);
    return true;
  });
  return { nodes: kept, merged, skipped };
}

/** The nodes (models, seeds, snapshots, sources) that are relations in the warehouse. */
export function catalogNodes(artifacts: Pick<DbtArtifacts, "manifest">): CatalogNode[] {
  return catalogSelection(artifacts).nodes;
}

/**
 * A node's catalogued parents: its depends_on, with merged nodes replaced by the node
 * catalogued for their relation, and ephemeral models replaced by their own parents.
 */
export function parentResolver(
  manifest: DbtArtifacts["manifest"],
  byId: ReadonlyMap<string, unknown>,
  merged: ReadonlyMap<string, string>,
): (id: string) => string[] {
  const cache = new Map<string, string[]>();
  const resolve = (id: string, trail: ReadonlySet<string>): string[] => {
    const cached = cache.get(id);
    if (cached) return cached;
    const node = manifest.nodes[id] ?? manifest.sources?.[id];
    const found: string[] = [];
    const add = (parent: string) => {
      if (parent !== id && !found.includes(parent)) found.push(parent);
    };
    for (const dependency of node?.depends_on?.nodes ?? []) {
      const parent = merged.get(dependency) ?? dependency;
      if (byId.has(parent)) {
        add(parent);
        continue;
      }
      const parentNode = manifest.nodes[parent];
      if (parentNode && isEphemeral(parentNode) && !trail.has(parent)) {
        for (const grand of resolve(parent, new Set([...trail, id]))) add(grand);
      }
    }
    cache.set(id, found);
    return found;
  };
  return (id: string) => resolve(id, new Set()).filter((parent) => parent !== (merged.get(id) ?? id));
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
function testedNode(
  test: ManifestNode,
  tables: ReadonlyMap<string, CatalogNode>,
  merged: ReadonlyMap<string, string>,
): string | null {
  const attached = test.attached_node ? (merged.get(test.attached_node) ?? test.attached_node) : null;
  if (attached && tables.has(attached)) return attached;
  const parents = [
    ...new Set(
      (test.depends_on?.nodes ?? []).map((id) => merged.get(id) ?? id).filter((id) => tables.has(id)),
    ),
  ];
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

type Selection = ReturnType<typeof catalogSelection>;

/** Run results: last build time and rows per node, test results, job runs. */
function runFacts(artifacts: DbtArtifacts, skipped: Selection["skipped"]) {
  const { manifest } = artifacts;
  const builtAt = new Map<string, string>();
  /** Rows the latest successful run of a node wrote (CTAS and seed loads write all of them). */
  const builtRows = new Map<string, number>();
  const testRuns = new Map<string, TestRunRow>();
  const jobRuns: JobRunRow[] = [];
  const allTests = new Map<string, ManifestNode>();
  for (const node of Object.values(manifest.nodes)) {
    if (node.resource_type !== "test") continue;
    if (node.config?.enabled === false) {
      skipped.push({ uniqueId: node.unique_id, kind: "test", reason: "disabled (config.enabled: false)" });
      continue;
    }
    allTests.set(node.unique_id, node);
  }
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
  return { builtAt, builtRows, testRuns, jobRuns, allTests };
}

/** Tests: a row per enabled test, and the generic tests on each table column. */
function testRows(
  allTests: Map<string, ManifestNode>,
  byId: Map<string, CatalogNode>,
  merged: Selection["merged"],
) {
  const tests: TestRow[] = [];
  /** table → lower-cased column → generic tests on it */
  const columnTests = new Map<string, Map<string, Set<string>>>();
  for (const test of allTests.values()) {
    const tableId = testedNode(test, byId, merged);
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
  return { tests, columnTests };
}

/** Scores: each table's tests with their latest run. */
function latestScores(
  tests: TestRow[],
  testRuns: Map<string, TestRunRow>,
  allTests: Map<string, ManifestNode>,
  storedRuns: BuildOptions["storedRuns"],
) {
  // The latest run per test, by the runs' own clock: one stored by an earlier seed of newer
  // artifacts wins over an older run seeded now.
  const latest = new Map<string, { status: TestStatus; executedAt: string; invocationId: string }>();
  const newer = (
    a: { executedAt: string; invocationId: string },
    b: { executedAt: string; invocationId: string },
  ) => Date.parse(a.executedAt) - Date.parse(b.executedAt) || a.invocationId.localeCompare(b.invocationId);
  for (const [testId, run] of storedRuns ?? []) if (allTests.has(testId)) latest.set(testId, run);
  for (const run of testRuns.values()) {
    const previous = latest.get(run.testUniqueId);
    if (!previous || newer(run, previous) >= 0) latest.set(run.testUniqueId, run);
  }
  const scoredTests = new Map<string, ScoredTest[]>();
  /**
   * Tables with a test whose latest run is in these artifacts: only their alerts are raised
   * or resolved (a seed without new runs for a table leaves its alerts as they are).
   */
  const freshlyTested = new Set<string>();
  for (const test of tests) {
    const run = latest.get(test.uniqueId);
    if (!test.tableUniqueId || !run) continue;
    if ("testUniqueId" in run) freshlyTested.add(test.tableUniqueId);
    const list = scoredTests.get(test.tableUniqueId) ?? [];
    list.push({ dimension: test.testType, status: run.status });
    scoredTests.set(test.tableUniqueId, list);
  }
  return { scoredTests, freshlyTested };
}

/**
 * A relation's column rows: its real columns (catalog.json) documented from the manifest;
 * without a catalog entry, the database's, else the documented columns.
 */
function columnRows(
  entry: CatalogNode,
  catalogTable: ReturnType<ReturnType<typeof catalogTableFinder>>,
  facts: ReturnType<ReturnType<typeof factsFinder>>,
  tested: Map<string, Set<string>> | undefined,
): ColumnRow[] {
  const { node } = entry;
  const documented = new Map<string, ManifestColumn>();
  for (const [key, column] of Object.entries(node.columns ?? {}))
    documented.set((column.name ?? key).toLowerCase(), column);
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
  const columns: ColumnRow[] = [];
  physical.forEach((column, index) => {
    const key = column.name.toLowerCase();
    const doc = documented.get(key);
    const db = dbColumns.get(key);
    const kinds = tested?.get(key);
    const constraintPk =
      (doc?.constraints ?? []).some((c) => c.type === "primary_key") || modelPrimaryKey.has(key);
    const testedPk = kinds !== undefined && kinds.has("unique") && kinds.has("not_null");
    columns.push({
      tableUniqueId: entry.uniqueId,
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
  return columns;
}

/** Tables and columns: a row per catalogued relation and column, its score and alerts. */
function tableRows(
  nodes: CatalogNode[],
  facts: {
    catalogTableOf: ReturnType<typeof catalogTableFinder>;
    factsOf: ReturnType<typeof factsFinder>;
    builtAt: Map<string, string>;
    builtRows: Map<string, number>;
    columnTests: Map<string, Map<string, Set<string>>>;
    scoredTests: Map<string, ScoredTest[]>;
    freshlyTested: Set<string>;
    weights: DimensionWeights;
    alertThreshold: number;
    warnings: string[];
  },
) {
  const { catalogTableOf, factsOf, builtAt, builtRows, columnTests, scoredTests, freshlyTested } = facts;
  const { weights, alertThreshold, warnings } = facts;
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
    const facts = factsOf(entry);
    const isView = facts?.kind === "view";
    const catalogTable = catalogTableOf(entry);
    const score = scoredTests.has(uniqueId) ? scoreTable(scoredTests.get(uniqueId) ?? [], weights) : null;
    const { freshnessHours, completenessPct } = slo(meta, layer, uniqueId, warnings);
    const table = `${entry.schema}.${entry.name}`;
    tables.push({
      uniqueId,
      databaseName: entry.database,
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
      if (!freshlyTested.has(uniqueId)) {
        // Scored from stored runs only: nothing new to alert on or to resolve.
      } else if (score.score !== null && score.score < alertThreshold) {
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

    const rows = columnRows(entry, catalogTable, facts, columnTests.get(uniqueId));
    columns.push(...rows);
    columnNames.set(
      uniqueId,
      rows.map((row) => row.columnName),
    );
  }
  return { tables, columns, scores, alerts, recovered, columnNames };
}

/** Lineage: table edges from depends_on, column edges from the parser, and coverage. */
function lineageRows(
  artifacts: DbtArtifacts,
  options: BuildOptions,
  selection: {
    nodes: CatalogNode[];
    byId: Map<string, CatalogNode>;
    merged: Selection["merged"];
    columnNames: Map<string, string[]>;
    warnings: string[];
  },
) {
  const { manifest } = artifacts;
  const { nodes, byId, merged, columnNames, warnings } = selection;
  // An ephemeral model is no relation: its readers depend on its own parents instead.
  const parentsOf = parentResolver(manifest, byId, merged);
  const tableEdges: EdgeRow[] = [];
  for (const entry of nodes) {
    for (const parent of parentsOf(entry.uniqueId)) {
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

  const context: LineageContext = { artifacts, nodes, byId, parentsOf, columnNames };
  const {
    columnEdges,
    columnLineageTargets,
    coverage,
    warnings: lineageWarnings,
  } = lineagePart(context, options);
  warnings.push(...lineageWarnings);
  return { tableEdges, columnEdges, columnLineageTargets, coverage, context };
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
  const { manifest } = artifacts;
  const { nodes, merged, skipped } = catalogSelection(artifacts);
  const byId = new Map(nodes.map((node) => [node.uniqueId, node]));
  const catalogTableOf = catalogTableFinder(artifacts);
  const factsOf = factsFinder(relations, options.factsDatabase);

  const { builtAt, builtRows, testRuns, jobRuns, allTests } = runFacts(artifacts, skipped);
  const { tests, columnTests } = testRows(allTests, byId, merged);
  const { scoredTests, freshlyTested } = latestScores(tests, testRuns, allTests, options.storedRuns);
  const { tables, columns, scores, alerts, recovered, columnNames } = tableRows(nodes, {
    catalogTableOf,
    factsOf,
    builtAt,
    builtRows,
    columnTests,
    scoredTests,
    freshlyTested,
    weights,
    alertThreshold,
    warnings,
  });
  const { tableEdges, columnEdges, columnLineageTargets, coverage, context } = lineageRows(
    artifacts,
    options,
    {
      nodes,
      byId,
      merged,
      columnNames,
      warnings,
    },
  );

  const packages = [
    ...new Set(nodes.map((node) => node.node.package_name ?? node.uniqueId.split(".")[1] ?? "")),
  ]
    .filter(Boolean)
    .sort();

  const scoreById = new Map(scores.map((score) => [score.uniqueId, score]));
  const plan: CatalogPlan = {
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
    coverage,
    nodeKinds: nodeKinds(artifacts, nodes, tests.length),
    skipped,
    exposures: Object.keys(manifest.exposures ?? {}).length,
    warnings,
  };
  planContexts.set(plan, context);
  return plan;
}

/** What the column-lineage part of a plan needs from the rest of it. */
interface LineageContext {
  artifacts: DbtArtifacts;
  nodes: CatalogNode[];
  byId: Map<string, CatalogNode>;
  parentsOf: (uniqueId: string) => string[];
  columnNames: Map<string, string[]>;
}

/** Set by buildCatalog for the plan it returns, read by planColumnLineage. */
const planContexts = new WeakMap<CatalogPlan, LineageContext>();

/** The lineage rows of a plan: column edges, the models whose edges are replaced, coverage. */
export type ColumnLineagePlan = Pick<
  CatalogPlan,
  "columnEdges" | "columnLineageTargets" | "coverage" | "warnings"
>;

/**
 * The column-lineage rows for `plan` (built by {@link buildCatalog} without
 * `columnLineage`) from the parser's answer: exactly what buildCatalog would have put in
 * the plan given that answer. Lets the seeder build and write everything else while the
 * parser still runs.
 */
export function planColumnLineage(
  plan: CatalogPlan,
  options: Pick<BuildOptions, "columnLineage" | "lineageInputs" | "parser">,
): ColumnLineagePlan {
  const context = planContexts.get(plan);
  if (!context) throw new Error("planColumnLineage: the plan was not built by buildCatalog");
  return lineagePart(context, options);
}

function lineagePart(
  context: LineageContext,
  options: Pick<BuildOptions, "columnLineage" | "lineageInputs" | "parser">,
): ColumnLineagePlan {
  const { artifacts, nodes, byId, parentsOf, columnNames } = context;
  const columnEdges: EdgeRow[] = [];
  const columnLineageTargets: string[] = [];
  const coverage: CoverageRow[] = [];
  const parser = options.parser ?? null;
  const warnings: string[] = [];
  for (const model of options.columnLineage ?? []) {
    if (!byId.has(model.id)) continue;
    const input = options.lineageInputs?.get(model.id);
    const row: CoverageRow = {
      tableUniqueId: model.id,
      status: "failed",
      reason: null,
      sqlSource: input?.sqlSource ?? null,
      columnEdges: 0,
      checksum: input?.checksum ?? null,
      parser,
    };
    columnLineageTargets.push(model.id);
    coverage.push(row);
    if (model.error) {
      row.reason = `the parser failed on its SQL: ${model.error}`;
      warnings.push(`${model.id}: no column lineage (${model.error})`);
      continue;
    }
    const parentIds = parentsOf(model.id);
    const parents: UpstreamRelation[] = parentIds.map((id) => {
      const parent = byId.get(id) as CatalogNode;
      return {
        uniqueId: id,
        database: parent.database,
        schema: parent.schema,
        name: parent.name,
        columns: columnNames.get(id),
      };
    });
    const ownColumns = columnNames.get(model.id) ?? [];
    const kept = filterColumnEdges(model.edges, parents, ownColumns);
    for (const edge of kept) {
      columnEdges.push({
        sourceUniqueId: edge.sourceUniqueId,
        targetUniqueId: model.id,
        edgeType: "column",
        sourceColumn: edge.sourceColumn,
        targetColumn: edge.targetColumn,
        transformationSql: edge.expression,
      });
    }
    row.columnEdges = kept.length;
    if (kept.length > 0) {
      row.status = "traced";
      continue;
    }
    row.status = "no_edges";
    row.reason =
      ownColumns.length === 0
        ? "its columns are unknown (not in catalog.json, not in the database, none documented): run `dbt docs generate`"
        : parentIds.length === 0
          ? "it reads no catalogued relation (depends_on names none)"
          : parents.every((p) => (p.columns ?? []).length === 0)
            ? "the columns of its parents are unknown (not in catalog.json, not in the database, none documented)"
            : model.edges.length > 0
              ? `the parser traced ${model.edges.length} column(s), none to a column of its depends_on parents (e.g. ${[model.edges[0]?.database, model.edges[0]?.schema, model.edges[0]?.table].filter(Boolean).join(".")}.${model.edges[0]?.column})`
              : "the parser traced no column to a table (constants, or SQL it cannot follow)";
  }
  // Models with nothing to parse: their coverage says why, and stale column edges go.
  const parsed = new Set(columnLineageTargets);
  if (options.columnLineage) {
    for (const entry of nodes) {
      if (entry.resourceType !== "model" || parsed.has(entry.uniqueId)) continue;
      const language = entry.node.language ?? "sql";
      const sql = artifacts.compiledCode?.get(entry.uniqueId);
      if (language === "sql" && sql && sql.sql.trim() !== "") continue;
      columnLineageTargets.push(entry.uniqueId);
      coverage.push({
        tableUniqueId: entry.uniqueId,
        status: language === "sql" ? "no_sql" : "not_sql",
        reason:
          language === "sql"
            ? "no compiled SQL in the artifacts (pass the target dir of a dbt build, run or compile)"
            : `a ${language} model: only SQL is parsed`,
        sqlSource: null,
        columnEdges: 0,
        checksum: null,
        parser,
      });
    }
  }

  return { columnEdges, columnLineageTargets, coverage, warnings };
}

/** The relations to look up in the database (schema, name) before building the plan. */
export function catalogRelations(
  artifacts: Pick<DbtArtifacts, "manifest">,
): { schema: string; name: string }[] {
  return catalogNodes(artifacts).map(({ schema, name }) => ({ schema, name }));
}

/** Finds a node's catalog.json entry: by unique_id, else by relation (database, schema, name). */
export function catalogTableFinder(
  artifacts: Pick<DbtArtifacts, "catalog">,
): (node: CatalogNode) => CatalogTable | undefined {
  const { catalog } = artifacts;
  if (!catalog) return () => undefined;
  const tables = [...Object.values(catalog.nodes), ...Object.values(catalog.sources ?? {})];
  const byRelation = new Map(
    tables.map((t) => [relationId(t.metadata.database, t.metadata.schema, t.metadata.name), t]),
  );
  // catalog.json's database may be spelled differently from the manifest's (another
  // target, a case-folding adapter): schema and name alone, when that is unambiguous.
  const bySchemaName = new Map<string, CatalogTable | null>();
  for (const t of tables) {
    const key = relationKey(t.metadata.schema.toLowerCase(), t.metadata.name.toLowerCase());
    bySchemaName.set(key, bySchemaName.has(key) ? null : t);
  }
  return (node) =>
    catalog.nodes[node.uniqueId] ??
    catalog.sources?.[node.uniqueId] ??
    byRelation.get(relationId(node.database, node.schema, node.name)) ??
    bySchemaName.get(relationKey(node.schema.toLowerCase(), node.name.toLowerCase())) ??
    undefined;
}

/** Database facts of a node: only when it lives in the database they were read from. */
export function factsFinder(
  relations: ReadonlyMap<string, RelationFacts> | undefined,
  factsDatabase: string | undefined,
): (node: CatalogNode) => RelationFacts | undefined {
  return (node) => {
    if (!relations) return undefined;
    if (
      factsDatabase !== undefined &&
      node.database !== null &&
      node.database.toLowerCase() !== factsDatabase.toLowerCase()
    )
      return undefined;
    return relations.get(relationKey(node.schema, node.name));
  };
}

function nodeKinds(
  artifacts: Pick<DbtArtifacts, "manifest">,
  nodes: readonly CatalogNode[],
  tests: number,
): { kind: string; inManifest: number; catalogued: number }[] {
  const counts = new Map<string, { kind: string; inManifest: number; catalogued: number }>();
  const entry = (kind: string) => {
    const found = counts.get(kind) ?? { kind, inManifest: 0, catalogued: 0 };
    counts.set(kind, found);
    return found;
  };
  const { manifest } = artifacts;
  for (const node of [...Object.values(manifest.nodes), ...Object.values(manifest.sources ?? {})])
    entry(node.resource_type).inManifest += 1;
  for (const node of nodes) entry(node.resourceType).catalogued += 1;
  if (counts.has("test")) entry("test").catalogued = tests;
  const order = ["model", "seed", "snapshot", "source", "test"];
  return [...counts.values()].sort(
    (a, b) =>
      (order.indexOf(a.kind) + 1 || 99) - (order.indexOf(b.kind) + 1 || 99) || a.kind.localeCompare(b.kind),
  );
}

/** A model to parse: its compiled SQL, where that came from, and its lineage checksum. */
export interface LineageModel {
  id: string;
  sql: string;
  sqlSource: string;
  /**
   * sha-256 of all its column lineage depends on: the parser, the dialect, the compiled SQL,
   * its own columns and its parents' identities and columns. Equal checksum, equal edges.
   */
  checksum: string;
}

/**
 * The request for {@link traceColumnLineage}: the catalogued SQL models with compiled code
 * (with checksums), and the schema sqlglot qualifies against: every catalogued relation
 * with its columns (catalog.json's, else the database's, else the documented ones), under
 * the database the manifest (and so the compiled SQL) names.
 */
export function lineageRequest(
  artifacts: DbtArtifacts,
  options: {
    sample?: number;
    relations?: ReadonlyMap<string, RelationFacts>;
    factsDatabase?: string;
    parser?: string;
  } = {},
): { models: LineageModel[]; schema: LineageSchema; dialect: string } {
  const { sample, relations } = options;
  const dialect = sqlDialect(artifacts.manifest.metadata.adapter_type);
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
  const { nodes, merged } = catalogSelection(artifacts);
  const byId = new Map(nodes.map((node) => [node.uniqueId, node]));
  const catalogTableOf = catalogTableFinder(artifacts);
  const factsOf = factsFinder(relations, options.factsDatabase);
  const used = new Set<CatalogTable>();
  const columnsOf = new Map<string, Record<string, string>>();
  for (const node of nodes) {
    const columns: Record<string, string> = {};
    const table = catalogTableOf(node);
    const facts = factsOf(node);
    if (table) {
      used.add(table);
      for (const column of Object.values(table.columns).sort((a, b) => (a.index ?? 0) - (b.index ?? 0)))
        columns[column.name] = column.type ?? "unknown";
    } else if (facts && facts.columns.length > 0) {
      for (const column of facts.columns) columns[column.name] = column.type;
    } else {
      for (const [key, column] of Object.entries(node.node.columns ?? {}))
        columns[column.name ?? key] = column.data_type ?? "unknown";
    }
    columnsOf.set(node.uniqueId, columns);
    if (Object.keys(columns).length === 0) continue;
    add(node.database, node.schema, node.name, columns);
    // Also as catalog.json spells it (dbt-snowflake: upper case), which is how a dialect
    // that folds unquoted names resolves the SQL's lower-case ones.
    if (table)
      add(table.metadata.database ?? node.database, table.metadata.schema, table.metadata.name, columns);
  }
  // Relations catalog.json knows that are no node here (another project's, a hard-coded table).
  for (const table of [
    ...Object.values(artifacts.catalog?.nodes ?? {}),
    ...Object.values(artifacts.catalog?.sources ?? {}),
  ]) {
    if (used.has(table)) continue;
    const columns: Record<string, string> = {};
    for (const column of Object.values(table.columns)) columns[column.name] = column.type ?? "unknown";
    const db = (schema[table.metadata.database ?? ""] ??= {});
    const tables = (db[table.metadata.schema] ??= {});
    tables[table.metadata.name] ??= columns;
  }

  const parentsOf = parentResolver(artifacts.manifest, byId, merged);
  let models: LineageModel[] = [];
  for (const node of nodes) {
    if (node.resourceType !== "model" || (node.node.language ?? "sql") !== "sql") continue;
    const compiled = artifacts.compiledCode.get(node.uniqueId);
    if (!compiled || compiled.sql.trim() === "") continue;
    const parents = parentsOf(node.uniqueId).map((id) => {
      const parent = byId.get(id) as CatalogNode;
      return [id, parent.database, parent.schema, parent.name, columnsOf.get(id)];
    });
    const checksum = createHash("sha256")
      .update(
        JSON.stringify([
          options.parser ?? null,
          dialect,
          compiled.sql,
          [node.database, node.schema, node.name, columnsOf.get(node.uniqueId)],
          parents,
        ]),
      )
      .digest("hex");
    models.push({ id: node.uniqueId, sql: compiled.sql, sqlSource: compiled.source, checksum });
  }
  if (sample !== undefined && sample < models.length) models = models.slice(0, sample);
  return { models, schema, dialect };
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
