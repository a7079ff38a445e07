/**
 * Seeds the `ip_workbench` catalog from dbt artifacts: load and validate the artifacts,
 * read row counts, column types and constraints from PostgreSQL, trace column lineage
 * (sqlglot, one process), build the plan, write it in one transaction, then call the alert webhook
 * for the alerts raised. Used by the CatalogSeed resource and `npm run catalog:seed`.
 */
import type { Layer } from "../dbt/cli.ts";
import { withClient, type PgConnection } from "../postgres/connection.ts";
import { loadArtifacts } from "./artifacts.ts";
import {
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

async function seed(
  connection: PgConnection,
  artifactDirs: readonly string[],
  options: SeedOptions,
  mode: SeedResult["columnLineage"]["mode"],
  lineageParser: { process: LineageProcess | null },
  started: number,
): Promise<SeedResult> {
  const log = options.log ?? (() => undefined);
  const phases = { artifacts: 0, facts: 0, lineage: 0, lineageWait: 0, plan: 0, write: 0 };
  const cpu = { node: { artifacts: 0, facts: 0, lineage: 0, lineageWait: 0, plan: 0, write: 0 } };
  let mark = performance.now();
  let cpuMark = process.cpuUsage();
  const lap = (phase: keyof typeof phases) => {
    const now = performance.now();
    const used = process.cpuUsage(cpuMark);
    phases[phase] += (now - mark) / 1000;
    cpu.node[phase] += (used.user + used.system) / 1e6;
    mark = now;
    cpuMark = process.cpuUsage();
  };
  const artifacts = loadArtifacts(artifactDirs, options.baseDir ?? process.env["AIWB_ROOT"] ?? process.cwd());
  lap("artifacts");
  log(
    `read ${artifacts.manifestFile}, ${artifacts.catalogFile ?? "no catalog.json"}, ${artifacts.runResults.length} run_results.json`,
  );
  const warnings: string[] = [];
  if (!artifacts.catalog)
    warnings.push(
      "no catalog.json: columns and types come from the database (run `dbt docs generate` for its view)",
    );

  const lineageReport: SeedResult["columnLineage"] = {
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

  let olderThanCatalogued: SeedResult["olderThanCatalogued"] = null;
  const manifestClock = {
    generatedAt: artifacts.manifest.metadata.generated_at ?? null,
    invocationId: artifacts.manifest.metadata.invocation_id ?? null,
  };
  const { plan, written, raised } = await withClient(connection, async (client) => {
    // Artifacts older than the catalogued ones add their history only.
    const stored = await storedProject(client, artifacts.project);
    // A project never seeded will be parsed whole: Python starts now, importing and warming
    // up sqlglot while the database facts are read and the request is built. A re-seed
    // starts it only if some model's lineage checksum changed (usually none: no Python).
    const startParser = () => startColumnLineage({ pythonPath: options.pythonPath });
    if (mode !== "skipped" && !stored) lineageParser.process = startParser();
    if (stored && stored.generatedAt && manifestClock.generatedAt) {
      const then = Date.parse(stored.generatedAt);
      const now = Date.parse(manifestClock.generatedAt);
      if (now < then || (now === then && (manifestClock.invocationId ?? "") < (stored.invocationId ?? ""))) {
        olderThanCatalogued = { catalogued: stored.generatedAt, seeded: manifestClock.generatedAt };
        warnings.push(
          `the manifest (generated ${manifestClock.generatedAt}) is older than the one the catalog of '${artifacts.project}' ` +
            `was seeded from (${stored.generatedAt}): only its job runs and test runs were added`,
        );
      }
    }
    // Row counts, sizes, column types and constraints (approximate figures: read before
    // the transaction, like the lineage, which is slow and needs no lock).
    mark = performance.now();
    cpuMark = process.cpuUsage();
    const factsDatabase = await currentDatabase(client);
    const relations = await relationFacts(client, catalogRelations(artifacts));
    const testIds = Object.values(artifacts.manifest.nodes)
      .filter((n) => n.resource_type === "test")
      .map((n) => n.unique_id);
    const storedRuns = await storedTestRuns(client, testIds);
    lap("facts");
    const lineageInputs = new Map<string, { sqlSource: string; checksum: string }>();
    // The parser runs while the plan is built and everything but the lineage is written.
    let parsing: Promise<ColumnLineageRun> | null = null;
    if (mode !== "skipped" && !olderThanCatalogued) {
      const parser = parserIdentity(options.pythonPath);
      lineageReport.parser = parser;
      const request = lineageRequest(artifacts, {
        sample: typeof options.columnLineage === "object" ? options.columnLineage.sample : undefined,
        relations,
        factsDatabase,
        parser: parser ?? undefined,
      });
      // Unchanged checksum (same parser, SQL and columns), unchanged edges: not parsed again.
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
      if (changed.length === 0) {
        lineageParser.process?.stop();
        parsing = Promise.resolve({
          sqlglotVersion: null,
          compiled: null,
          workers: 0,
          cpuSeconds: 0,
          processCpuSeconds: 0,
          models: [],
          seconds: 0,
        });
      } else {
        lineageParser.process ??= startParser();
        parsing = lineageParser.process.trace(changed, request.schema, {
          dialect: request.dialect,
          workers: options.lineageWorkers,
        });
      }
      // Awaited below; a failure before that point must not count as unhandled.
      parsing.catch(() => undefined);
    } else {
      lineageParser.process?.stop();
    }
    lap("lineage");
    const plan = buildCatalog(artifacts, {
      relations,
      factsDatabase,
      storedRuns,
      weights: options.weights,
      alertThreshold: options.alertThreshold,
      layerThresholds: options.layerThresholds,
    });
    const catalogued = plan.tables.filter((t) => t.resourceType === "model").map((t) => t.uniqueId);
    log(
      `writing ${plan.tables.length} tables, ${plan.columns.length} columns, ` +
        `${plan.tableEdges.length} table edges, ${plan.tests.length} tests, ${plan.testRuns.length} test runs`,
    );
    lap("plan");

    /** Waits for the parser, then adds its rows to the plan (no column lineage if it failed). */
    const columnLineage = async (): Promise<ColumnLineagePlan> => {
      lap("write");
      let models: ModelLineage[] | undefined;
      if (parsing) {
        try {
          const run = await parsing;
          models = run.models;
          lineageReport.models = run.models.length;
          lineageReport.sqlglotVersion = run.sqlglotVersion;
          lineageReport.workers = run.workers;
          lineageReport.seconds = run.seconds;
          lineageReport.cpuSeconds = run.cpuSeconds;
          lineageReport.processCpuSeconds = run.processCpuSeconds;
          lineageReport.failed = run.models
            .filter((m) => m.error)
            .map((m) => ({ model: m.id, error: m.error as string }));
          log(
            `column lineage: ${run.models.length} models parsed in ${run.seconds.toFixed(2)} s ` +
              `(${run.workers} workers, ${lineageReport.failed.length} failed), ${lineageReport.unchanged} unchanged`,
          );
        } catch (error) {
          lineageReport.error = error instanceof Error ? error.message : String(error);
          warnings.push(`no column lineage: ${lineageReport.error}`);
        }
      }
      lap("lineageWait");
      const rows = planColumnLineage(plan, {
        columnLineage: models,
        lineageInputs,
        parser: lineageReport.parser ?? undefined,
      });
      plan.columnEdges = rows.columnEdges;
      plan.columnLineageTargets = rows.columnLineageTargets;
      plan.coverage = rows.coverage;
      plan.warnings.push(...rows.warnings);
      lap("plan");
      return rows;
    };

    await client.query("begin");
    try {
      await client.query("select pg_advisory_xact_lock($1)", [CATALOG_LOCK_KEY]);
      const { written, raised } = await writeCatalog(client, plan, {
        historyOnly: olderThanCatalogued !== null,
        columnLineage,
      });
      if (!olderThanCatalogued)
        await recordProject(client, artifacts.project, {
          ...manifestClock,
          dbtVersion: artifacts.manifest.metadata.dbt_version ?? null,
        });
      if (mode !== "skipped")
        lineageReport.coverage = coverageSummary(catalogued, await storedCoverage(client, catalogued));
      await client.query("commit");
      lap("write");
      return { plan, written, raised };
    } catch (error) {
      await client.query("rollback").catch(() => undefined);
      throw error;
    }
  });

  const webhook =
    options.alertWebhookUrl && raised.length > 0
      ? await notifyWebhook(
          options.alertWebhookUrl,
          plan,
          raised,
          options.webhookTimeoutMs,
          options.alertWebhookToken,
        )
      : options.alertWebhookUrl
        ? { url: options.alertWebhookUrl, sent: 0, failed: [] }
        : null;

  return {
    project: artifacts.project,
    olderThanCatalogued,
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
    webhook,
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
    warnings: [...warnings, ...plan.warnings],
    seconds: (performance.now() - started) / 1000,
    phases,
    phaseCpu: cpu.node,
  };
}
