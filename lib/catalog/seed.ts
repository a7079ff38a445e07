/**
 * Seeds the `ip_workbench` catalog from dbt artifacts: load and validate the artifacts,
 * read row counts, column types and constraints from PostgreSQL, trace column lineage
 * (sqlglot, one process), build the plan, write it in one transaction, then call the alert webhook
 * for the alerts raised. Used by the CatalogSeed resource and `npm run catalog:seed`.
 */
import type pg from "pg";
import type { Layer } from "../dbt/cli.ts";
import { withClient, type PgConnection } from "../postgres/connection.ts";
import { loadArtifacts, type DbtArtifacts } from "./artifacts.ts";
import {
  noColumnLineage,
  parserIdentity,
  startColumnLineage,
  type ColumnLineageRun,
  type LineageProcess,
  type ModelLineage,
} from "./column-lineage.ts";
import {
  buildCatalog,
  catalogRelations,
  lineageRequest,
  planColumnLineage,
  type ColumnLineagePlan,
  type BuildOptions,
  type CatalogPlan,
  type CoverageRow,
  type SkippedNode,
} from "./plan.ts";
import { validateWeights, type LayerScore } from "./quality.ts";
import {
  CATALOG_LOCK_KEY,
  currentDatabase,
  recordProject,
  relationFacts,
  storedProject,
  storedCoverage,
  storedLineageChecksums,
  storedTestRuns,
  writeCatalog,
  type WrittenCounts,
} from "./write.ts";

export interface SeedOptions extends Pick<BuildOptions, "weights" | "alertThreshold" | "layerThresholds"> {
  /** Base of relative artifact dirs; default AIWB_ROOT, else the working directory. */
  baseDir?: string;
  /**
   * Column lineage through sqlglot: true (default) for every model, false to skip it,
   * or `{ sample: n }` for the first n models only (benchmarks).
   */
  columnLineage?: boolean | { sample: number };
  /** Python with sqlglot; default the project venv's. */
  pythonPath?: string;
  /** Parser processes; default the CPUs available. */
  lineageWorkers?: number;
  /**
   * Parse every model even when its lineage checksum is unchanged (default false: only
   * models whose SQL, columns, parents' columns or parser changed are parsed again).
   */
  fullLineage?: boolean;
  /** POSTed a JSON body per alert raised (the quality-alerts n8n workflow). */
  alertWebhookUrl?: string;
  /** Sent as `X-Workbench-Token` with every alert POST: the webhook's own credential. */
  alertWebhookToken?: string;
  /** Webhook timeout; default 10 s. */
  webhookTimeoutMs?: number;
  /** Progress lines. */
  log?: (line: string) => void;
}

export interface WebhookReport {
  url: string;
  sent: number;
  failed: { table: string; error: string }[];
}

/** Column-lineage coverage of the catalogued models after the seed. */
export interface LineageCoverage {
  /** Catalogued models. */
  models: number;
  /** Models with at least one column edge. */
  withLineage: number;
  /** Column edges into the catalogued models. */
  columnEdges: number;
  /** Models without, per reason (reasons with the parser's message folded to its type). */
  reasons: { reason: string; models: string[] }[];
}

export interface SeedResult {
  /** The dbt project seeded. */
  project: string;
  /** Catalogued relations (models, seeds, snapshots, sources) in the artifacts. */
  tables: number;
  columns: number;
  tableEdges: number;
  columnEdges: number;
  tests: number;
  testRuns: number;
  jobRuns: number;
  exposures: number;
  /**
   * The manifest is older than the one the catalog was seeded from: only its job runs and
   * test runs were added (null otherwise).
   */
  olderThanCatalogued: { catalogued: string; seeded: string } | null;
  /** Tables marked deleted by this seed (vanished from the manifest). */
  deletedTables: number;
  dqByLayer: Record<Layer, LayerScore>;
  alertsRaised: number;
  alertsResolved: number;
  /** null without a webhook URL. */
  webhook: WebhookReport | null;
  /** Rows actually inserted or changed (all 0 when re-seeding the same artifacts). */
  written: WrittenCounts;
  columnLineage: {
    /** false when skipped; `sample` when only some models were traced. */
    mode: "all" | "sample" | "skipped";
    /** Models parsed now. */
    models: number;
    /** Models whose lineage checksum was unchanged: not parsed, their edges kept. */
    unchanged: number;
    failed: { model: string; error: string }[];
    /** Set when the parser could not run at all (seeding went on without column edges). */
    error: string | null;
    sqlglotVersion: string | null;
    /** The parser identity stored with the checksums (null: unknown, every model parsed). */
    parser: string | null;
    workers: number;
    seconds: number;
    /** CPU seconds of the parsing, all workers together. */
    cpuSeconds: number;
    /** CPU seconds of the whole Python process and its workers (start-up, warm-up, JSON). */
    processCpuSeconds: number;
    /** Coverage after the seed (null when lineage was skipped). */
    coverage: LineageCoverage | null;
  };
  /** Per resource type: nodes in the manifest, nodes catalogued. */
  nodeKinds: { kind: string; inManifest: number; catalogued: number }[];
  /** Nodes not catalogued, and why. */
  skipped: SkippedNode[];
  artifacts: {
    manifest: string;
    catalog: string | null;
    runResults: string[];
    ignored: { file: string; reason: string }[];
  };
  warnings: string[];
  seconds: number;
  /**
   * Seconds per phase of this process: read and validate the artifacts, database facts,
   * the lineage request (checksums; the parsing itself runs beside plan and write, its wall
   * time is `columnLineage.seconds`), plan, write, and the time spent waiting for the parser
   * after everything else was written (`lineageWait`).
   */
  phases: {
    artifacts: number;
    facts: number;
    lineage: number;
    lineageWait: number;
    plan: number;
    write: number;
  };
  /** CPU seconds of this (Node) process per phase; the parser's are in `columnLineage`. */
  phaseCpu: SeedResult["phases"];
}

/** Folds per-model reasons into groups (a parser message keeps only its exception type). */
function coverageSummary(
  models: readonly string[],
  rows: ReadonlyMap<string, { status: CoverageRow["status"]; reason: string | null; columnEdges: number }>,
): LineageCoverage {
  const reasons = new Map<string, string[]>();
  let withLineage = 0;
  let columnEdges = 0;
  for (const model of models) {
    const row = rows.get(model);
    columnEdges += row?.columnEdges ?? 0;
    if (row?.status === "traced") {
      withLineage += 1;
      continue;
    }
    const reason = !row
      ? "not traced yet (the parser did not run for it)"
      : row.status === "failed"
        ? (/^(the parser failed on its SQL: [A-Za-z_.]+)/.exec(row.reason ?? "")?.[1] ??
          row.reason ??
          "failed")
        : (row.reason ?? row.status);
    reasons.set(reason, [...(reasons.get(reason) ?? []), model]);
  }
  return {
    models: models.length,
    withLineage,
    columnEdges,
    reasons: [...reasons.entries()]
      .map(([reason, list]) => ({ reason, models: list }))
      .sort((a, b) => b.models.length - a.models.length || a.reason.localeCompare(b.reason)),
  };
}

/** POSTs one JSON body per alert; failures are reported, never thrown. */
export async function notifyWebhook(
  url: string,
  plan: CatalogPlan,
  raised: readonly { alertId: string; tableUniqueId: string }[],
  timeoutMs = 10_000,
  token?: string,
): Promise<WebhookReport> {
  const report: WebhookReport = { url, sent: 0, failed: [] };
  const alerts = new Map(plan.alerts.map((alert) => [alert.tableUniqueId, alert]));
  for (const { alertId, tableUniqueId } of raised) {
    const alert = alerts.get(tableUniqueId);
    if (!alert) continue;
    try {
      const response = await fetch(url, {
        method: "POST",
        // The quality-alerts webhook refuses a POST without its token (403).
        headers: { "content-type": "application/json", ...(token ? { "x-workbench-token": token } : {}) },
        body: JSON.stringify({
          alert_id: alertId,
          alert_type: "dq_below_threshold",
          table: alert.table,
          dbt_unique_id: tableUniqueId,
          layer: alert.layer,
          score: alert.score,
          threshold: alert.threshold,
          dimensions: alert.details["dimensions"],
          message: alert.message,
        }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`.trim());
      report.sent += 1;
    } catch (error) {
      report.failed.push({
        table: alert.table,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return report;
}

/** Seeds the catalog of `connection`'s database from the artifacts in `artifactDirs`. */
export async function seedCatalog(
  connection: PgConnection,
  artifactDirs: readonly string[],
  options: SeedOptions = {},
): Promise<SeedResult> {
  const started = performance.now();
  validateWeights(options.weights);
  const mode =
    options.columnLineage === false
      ? "skipped"
      : typeof options.columnLineage === "object"
        ? "sample"
        : "all";
  // The parser process, once started (see seed()); never left running.
  const lineageParser: { process: LineageProcess | null } = { process: null };
  try {
    return await seed(connection, artifactDirs, options, mode, lineageParser, started);
  } finally {
    lineageParser.process?.stop();
  }
}

type Phase = keyof SeedResult["phases"];
type LineageReport = SeedResult["columnLineage"];
type ManifestClock = { generatedAt: string | null; invocationId: string | null };

/** Wall and CPU seconds per phase: `lap(phase)` adds the time since the previous mark to `phase`. */
function phaseClock() {
  const phases = { artifacts: 0, facts: 0, lineage: 0, lineageWait: 0, plan: 0, write: 0 };
  const cpu = { artifacts: 0, facts: 0, lineage: 0, lineageWait: 0, plan: 0, write: 0 };
  let mark = performance.now();
  let cpuMark = process.cpuUsage();
  /** Starts a new interval without counting the time since the last mark. */
  const restart = () => {
    mark = performance.now();
    cpuMark = process.cpuUsage();
  };
  const lap = (phase: Phase) => {
    const now = performance.now();
    const used = process.cpuUsage(cpuMark);
    phases[phase] += (now - mark) / 1000;
    cpu[phase] += (used.user + used.system) / 1e6;
    mark = now;
    cpuMark = process.cpuUsage();
  };
  return { phases, cpu, lap, restart };
}

type PhaseClock = ReturnType<typeof phaseClock>;

/** What one seed carries between its steps. */
interface SeedRun {
  options: SeedOptions;
  mode: LineageReport["mode"];
  lineageParser: { process: LineageProcess | null };
  log: (line: string) => void;
  clock: PhaseClock;
  warnings: string[];
  lineageReport: LineageReport;
  artifacts: DbtArtifacts;
}

function emptyLineageReport(mode: LineageReport["mode"]): LineageReport {
  return {
    mode,
    models: 0,
    unchanged: 0,
    failed: [],
    error: null,
    sqlglotVersion: null,
    parser: null,
    workers: 0,
    seconds: 0,
    cpuSeconds: 0,
    processCpuSeconds: 0,
    coverage: null,
  };
}

/** The stored manifest is newer than `manifest` (or as new, from a later invocation): the clocks, else null. */
function olderThanStored(
  stored: ManifestClock | null,
  manifest: ManifestClock,
): SeedResult["olderThanCatalogued"] {
  if (!stored?.generatedAt || !manifest.generatedAt) return null;
  const then = Date.parse(stored.generatedAt);
  const now = Date.parse(manifest.generatedAt);
  const older = now < then || (now === then && (manifest.invocationId ?? "") < (stored.invocationId ?? ""));
  return older ? { catalogued: stored.generatedAt, seeded: manifest.generatedAt } : null;
}

/**
 * Row counts, sizes, column types and constraints (approximate figures: read before the
 * transaction, like the lineage, which is slow and needs no lock), and the stored test runs.
 */
async function readFacts(client: pg.Client, artifacts: DbtArtifacts) {
  const factsDatabase = await currentDatabase(client);
  const relations = await relationFacts(client, catalogRelations(artifacts));
  const testIds = Object.values(artifacts.manifest.nodes)
    .filter((n) => n.resource_type === "test")
    .map((n) => n.unique_id);
  const storedRuns = await storedTestRuns(client, testIds);
  return { factsDatabase, relations, storedRuns };
}

type Facts = Awaited<ReturnType<typeof readFacts>>;

/**
 * Starts tracing the column lineage of the models whose lineage checksum changed; the
 * parser runs while the plan is built and everything but the lineage is written.
 * Unchanged checksum (same parser, SQL and columns), unchanged edges: not parsed again.
 */
async function startLineage(
  run: SeedRun,
  client: pg.Client,
  facts: Facts,
  startParser: () => LineageProcess,
): Promise<{
  parsing: Promise<ColumnLineageRun>;
  lineageInputs: Map<string, { sqlSource: string; checksum: string }>;
}> {
  const { options, lineageReport, lineageParser } = run;
  const lineageInputs = new Map<string, { sqlSource: string; checksum: string }>();
  const parser = parserIdentity(options.pythonPath);
  lineageReport.parser = parser;
  const request = lineageRequest(run.artifacts, {
    sample: typeof options.columnLineage === "object" ? options.columnLineage.sample : undefined,
    relations: facts.relations,
    factsDatabase: facts.factsDatabase,
    parser: parser ?? undefined,
  });
  const stored =
    options.fullLineage || parser === null
      ? new Map<string, string>()
      : await storedLineageChecksums(
          client,
          request.models.map((m) => m.id),
        );
  const changed = request.models.filter((m) => stored.get(m.id) !== m.checksum);
  lineageReport.unchanged = request.models.length - changed.length;
  for (const model of changed)
    lineageInputs.set(model.id, { sqlSource: model.sqlSource, checksum: model.checksum });
  let parsing: Promise<ColumnLineageRun>;
  if (changed.length === 0) {
    lineageParser.process?.stop();
    parsing = Promise.resolve(noColumnLineage());
  } else {
    lineageParser.process ??= startParser();
    parsing = lineageParser.process.trace(changed, request.schema, {
      dialect: request.dialect,
      workers: options.lineageWorkers,
    });
  }
  // Awaited later; a failure before that point must not count as unhandled.
  parsing.catch(() => undefined);
  return { parsing, lineageInputs };
}

/** Records a finished parser run in the report (and the log). */
function reportParsed(run: SeedRun, parsed: ColumnLineageRun): void {
  const { lineageReport } = run;
  lineageReport.models = parsed.models.length;
  lineageReport.sqlglotVersion = parsed.sqlglotVersion;
  lineageReport.workers = parsed.workers;
  lineageReport.seconds = parsed.seconds;
  lineageReport.cpuSeconds = parsed.cpuSeconds;
  lineageReport.processCpuSeconds = parsed.processCpuSeconds;
  lineageReport.failed = parsed.models
    .filter((m) => m.error)
    .map((m) => ({ model: m.id, error: m.error as string }));
  run.log(
    `column lineage: ${parsed.models.length} models parsed in ${parsed.seconds.toFixed(2)} s ` +
      `(${parsed.workers} workers, ${lineageReport.failed.length} failed), ${lineageReport.unchanged} unchanged`,
  );
}

/** Waits for the parser, then adds its rows to the plan (no column lineage if it failed). */
function columnLineageStep(
  run: SeedRun,
  plan: CatalogPlan,
  lineage: Awaited<ReturnType<typeof startLineage>> | null,
): () => Promise<ColumnLineagePlan> {
  const { clock, lineageReport } = run;
  return async () => {
    clock.lap("write");
    let models: ModelLineage[] | undefined;
    if (lineage) {
      try {
        const parsed = await lineage.parsing;
        models = parsed.models;
        reportParsed(run, parsed);
      } catch (error) {
        lineageReport.error = error instanceof Error ? error.message : String(error);
        run.warnings.push(`no column lineage: ${lineageReport.error}`);
      }
    }
    clock.lap("lineageWait");
    const rows = planColumnLineage(plan, {
      columnLineage: models,
      lineageInputs: lineage?.lineageInputs ?? new Map(),
      parser: lineageReport.parser ?? undefined,
    });
    plan.columnEdges = rows.columnEdges;
    plan.columnLineageTargets = rows.columnLineageTargets;
    plan.coverage = rows.coverage;
    plan.warnings.push(...rows.warnings);
    clock.lap("plan");
    return rows;
  };
}

/** Writes the plan in one transaction under the catalog lock, and the project's manifest clock. */
async function writeInTransaction(
  run: SeedRun,
  client: pg.Client,
  plan: CatalogPlan,
  olderThanCatalogued: SeedResult["olderThanCatalogued"],
  manifestClock: ManifestClock,
  columnLineage: () => Promise<ColumnLineagePlan>,
) {
  const catalogued = plan.tables.filter((t) => t.resourceType === "model").map((t) => t.uniqueId);
  await client.query("begin");
  try {
    await client.query("select pg_advisory_xact_lock($1)", [CATALOG_LOCK_KEY]);
    const { written, raised } = await writeCatalog(client, plan, {
      historyOnly: olderThanCatalogued !== null,
      columnLineage,
    });
    if (!olderThanCatalogued)
      await recordProject(client, run.artifacts.project, {
        ...manifestClock,
        dbtVersion: run.artifacts.manifest.metadata.dbt_version ?? null,
      });
    if (run.mode !== "skipped")
      run.lineageReport.coverage = coverageSummary(catalogued, await storedCoverage(client, catalogued));
    await client.query("commit");
    run.clock.lap("write");
    return { written, raised };
  } catch (error) {
    await client.query("rollback").catch(() => undefined);
    throw error;
  }
}

/** Everything that reads or writes the database, on one connection. */
async function seedDatabase(run: SeedRun, client: pg.Client, manifestClock: ManifestClock) {
  const { options, mode, lineageParser, artifacts, clock } = run;
  // Artifacts older than the catalogued ones add their history only.
  const stored = await storedProject(client, artifacts.project);
  // A project never seeded will be parsed whole: Python starts now, importing and warming
  // up sqlglot while the database facts are read and the request is built. A re-seed
  // starts it only if some model's lineage checksum changed (usually none: no Python).
  const startParser = () => startColumnLineage({ pythonPath: options.pythonPath });
  if (mode !== "skipped" && !stored) lineageParser.process = startParser();
  const olderThanCatalogued = olderThanStored(stored, manifestClock);
  if (olderThanCatalogued)
    run.warnings.push(
      `the manifest (generated ${olderThanCatalogued.seeded}) is older than the one the catalog of '${artifacts.project}' ` +
        `was seeded from (${olderThanCatalogued.catalogued}): only its job runs and test runs were added`,
    );

  clock.restart();
  const facts = await readFacts(client, artifacts);
  clock.lap("facts");

  let lineage: Awaited<ReturnType<typeof startLineage>> | null = null;
  if (mode !== "skipped" && !olderThanCatalogued)
    lineage = await startLineage(run, client, facts, startParser);
  else lineageParser.process?.stop();
  clock.lap("lineage");

  const plan = buildCatalog(artifacts, {
    ...facts,
    weights: options.weights,
    alertThreshold: options.alertThreshold,
    layerThresholds: options.layerThresholds,
  });
  run.log(
    `writing ${plan.tables.length} tables, ${plan.columns.length} columns, ` +
      `${plan.tableEdges.length} table edges, ${plan.tests.length} tests, ${plan.testRuns.length} test runs`,
  );
  clock.lap("plan");

  const { written, raised } = await writeInTransaction(
    run,
    client,
    plan,
    olderThanCatalogued,
    manifestClock,
    columnLineageStep(run, plan, lineage),
  );
  return { plan, written, raised, olderThanCatalogued };
}

/** Calls the alert webhook for the alerts raised (null without a URL). */
async function alertWebhook(
  options: SeedOptions,
  plan: CatalogPlan,
  raised: Parameters<typeof notifyWebhook>[2],
): Promise<WebhookReport | null> {
  if (!options.alertWebhookUrl) return null;
  if (raised.length === 0) return { url: options.alertWebhookUrl, sent: 0, failed: [] };
  return notifyWebhook(
    options.alertWebhookUrl,
    plan,
    raised,
    options.webhookTimeoutMs,
    options.alertWebhookToken,
  );
}

async function seed(
  connection: PgConnection,
  artifactDirs: readonly string[],
  options: SeedOptions,
  mode: SeedResult["columnLineage"]["mode"],
  lineageParser: { process: LineageProcess | null },
  started: number,
): Promise<SeedResult> {
  const log = options.log ?? (() => undefined);
  const clock = phaseClock();
  const artifacts = loadArtifacts(artifactDirs, options.baseDir ?? process.env["AIWB_ROOT"] ?? process.cwd());
  clock.lap("artifacts");
  log(
    `read ${artifacts.manifestFile}, ${artifacts.catalogFile ?? "no catalog.json"}, ${artifacts.runResults.length} run_results.json`,
  );
  const warnings: string[] = [];
  if (!artifacts.catalog)
    warnings.push(
      "no catalog.json: columns and types come from the database (run `dbt docs generate` for its view)",
    );
  const run: SeedRun = {
    options,
    mode,
    lineageParser,
    log,
    clock,
    warnings,
    lineageReport: emptyLineageReport(mode),
    artifacts,
  };
  const manifestClock = {
    generatedAt: artifacts.manifest.metadata.generated_at ?? null,
    invocationId: artifacts.manifest.metadata.invocation_id ?? null,
  };
  const { plan, written, raised, olderThanCatalogued } = await withClient(connection, (client) =>
    seedDatabase(run, client, manifestClock),
  );
  const webhook = await alertWebhook(options, plan, raised);
  return seedResult(run, { plan, written, raised, olderThanCatalogued, webhook, started });
}

function seedResult(
  run: SeedRun,
  outcome: {
    plan: CatalogPlan;
    written: WrittenCounts;
    raised: readonly unknown[];
    olderThanCatalogued: SeedResult["olderThanCatalogued"];
    webhook: WebhookReport | null;
    started: number;
  },
): SeedResult {
  const { artifacts, lineageReport } = run;
  const { plan, written, raised } = outcome;
  return {
    project: artifacts.project,
    olderThanCatalogued: outcome.olderThanCatalogued,
    tables: plan.tables.length,
    columns: plan.columns.length,
    tableEdges: plan.tableEdges.length,
    // All column edges into the catalogued models (a re-seed parses and plans only the changed ones).
    columnEdges: lineageReport.coverage?.columnEdges ?? plan.columnEdges.length,
    tests: plan.tests.length,
    testRuns: plan.testRuns.length,
    jobRuns: plan.jobRuns.length,
    exposures: plan.exposures,
    deletedTables: written.tablesDeleted,
    dqByLayer: plan.dqByLayer,
    alertsRaised: raised.length,
    alertsResolved: written.alertsResolved,
    webhook: outcome.webhook,
    written,
    columnLineage: lineageReport,
    nodeKinds: plan.nodeKinds,
    skipped: plan.skipped,
    artifacts: {
      manifest: artifacts.manifestFile,
      catalog: artifacts.catalogFile,
      runResults: artifacts.runResults.map((r) => r.file),
      ignored: artifacts.ignored,
    },
    warnings: [...run.warnings, ...plan.warnings],
    seconds: (performance.now() - outcome.started) / 1000,
    phases: run.clock.phases,
    phaseCpu: run.clock.cpu,
  };
}
