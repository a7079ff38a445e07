/**
 * The `DbtStage` dynamic resource: its args, its class and its provider, which the
 * provider process loads through components/shared/provider-registry.ts. The provider
 * runs `dbt build --select tag:<layer>`, records an `ip_workbench.job_runs` row for it,
 * and fails the deployment with the failing nodes and their messages when the build fails.
 *
 * Nothing stalls silently: a run holds the stage's lock (a second concurrent run is
 * refused; a `running` row left by a run that died is closed as failed), the silver
 * stage fails naming any landed row it left unaccounted for, and a stage whose last run
 * failed, or whose bronze has unclassified rows, re-runs on the next deployment even
 * when no file or upstream changed. The module has no side effects on import: the
 * program and the provider process both load it.
 */
import { dirname, isAbsolute, join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { sameDatabase, withClient, type PgConnection } from "../../lib/postgres/connection.ts";
import { runDbt, DbtRunError, dbtFailureHint, type DbtRunSummary, type Layer } from "../../lib/dbt/cli.ts";
import { stageInputsHash } from "../../lib/dbt/stage-inputs.ts";
import { acquireStageLock } from "../../lib/dbt/stage-lock.ts";
import { rememberParse } from "../../lib/dbt/prewarm.ts";
import { guarded, supervisorSignal } from "../../lib/orphan-guard.ts";
import { landingWatermarks, StuckRowsError, stuckRows } from "../../lib/reports/medallion.ts";
import { projectRoot } from "../../lib/paths.ts";
import { projectProvider } from "../shared/project-provider.ts";

export interface DbtStageArgs {
  /** The dbt runner's login (the password stays secret). */
  connection: pulumi.Input<PgConnection>;
  /** Admin connection that records the stage's `ip_workbench.job_runs` row. */
  recorder: pulumi.Input<PgConnection>;
  /** Project root; the dbt project is `<projectRoot>/dbt`. */
  projectRoot: string;
  layer: Layer;
  /** dbt vars. Default none. */
  vars?: Record<string, unknown>;
  /** profiles.yml target. Default `local`. */
  target?: string;
  /**
   * Opaque value that changes when the stage must re-run although its files did not:
   * the upstream stage's invocation id, or a data version for the first stage.
   */
  upstream: pulumi.Input<string>;
  /** Where this stage keeps its artifacts, relative to the project root. */
  artifactsDir: string;
}

/**
 * One medallion stage: `dbt build --select tag:<layer>`, run when the stage's inputs
 * (models, macros, seeds, vars, target) or its upstream change, and not otherwise.
 * Token `workbench:data:DbtStage`.
 */
export class DbtStage extends pulumi.dynamic.Resource {
  declare public readonly invocationId: pulumi.Output<string>;
  declare public readonly jobRunId: pulumi.Output<string>;
  declare public readonly models: pulumi.Output<number>;
  declare public readonly rowsProcessed: pulumi.Output<number>;
  declare public readonly testsPassed: pulumi.Output<number>;
  declare public readonly testsFailed: pulumi.Output<number>;
  declare public readonly testsWarned: pulumi.Output<number>;
  declare public readonly elapsedSeconds: pulumi.Output<number>;
  /** Seconds dbt spent on the stage's nodes themselves (first node start to last node end). */
  declare public readonly nodeSeconds: pulumi.Output<number>;
  declare public readonly artifactsDir: pulumi.Output<string>;

  constructor(name: string, args: DbtStageArgs, opts?: pulumi.CustomResourceOptions) {
    const vars = args.vars ?? {};
    const target = args.target ?? "local";
    super(
      projectProvider("workbench:data:DbtStage"),
      name,
      {
        connection: args.connection,
        recorder: args.recorder,
        projectDir: "dbt",
        layer: args.layer,
        target,
        vars,
        inputsHash: stageInputsHash(join(args.projectRoot, "dbt"), args.layer, vars, target),
        upstream: args.upstream,
        artifactsDir: args.artifactsDir,
        invocationId: undefined,
        jobRunId: undefined,
        models: undefined,
        rowsProcessed: undefined,
        testsPassed: undefined,
        testsFailed: undefined,
        testsWarned: undefined,
        elapsedSeconds: undefined,
        nodeSeconds: undefined,
      },
      opts,
      "workbench:data",
      "DbtStage",
    );
  }
}

// ---- provider: runs in the dynamic-provider process (registered in components/shared/provider-registry.ts) ----

export interface DbtStageInputs {
  /** The dbt runner's login. */
  connection: PgConnection;
  /** Admin connection used to record job runs in ip_workbench. */
  recorder: PgConnection;
  /** dbt project dir, relative to the project root. */
  projectDir: string;
  layer: Layer;
  target: string;
  vars: Record<string, unknown>;
  /** Hash of the stage's files, vars and target (see stage-inputs.ts). */
  inputsHash: string;
  /** Opaque: changes when upstream data or the upstream stage changed. */
  upstream: string;
  /** Artifacts dir for this stage, relative to the project root. */
  artifactsDir: string;
}

export interface DbtStageOutputs extends DbtStageInputs {
  invocationId: string;
  jobRunId: string;
  models: number;
  /** Rows the stage's models and seeds wrote in this run (dbt's rows_affected; see rowsWritten). */
  rowsProcessed: number;
  testsPassed: number;
  testsFailed: number;
  testsWarned: number;
  elapsedSeconds: number;
  /** Seconds dbt spent on the nodes themselves (absent in states written before it existed). */
  nodeSeconds: number;
}

function resolve(path: string): string {
  return isAbsolute(path) ? path : join(projectRoot(), path);
}

/**
 * Rows the stage's models and seeds wrote, as dbt reports them (each node's
 * `rows_affected`): what an incremental run processed, and the same figure the catalog
 * records for the invocation (lib/catalog/plan.ts). Not a count of the built tables: that
 * reads the whole history on every run (0.7 s of the four stage steps at 1M transactions).
 */
function rowsWritten(summary: Pick<DbtRunSummary, "nodes">): number {
  return summary.nodes
    .filter(
      (node) =>
        node.resourceType === "model" || node.resourceType === "seed" || node.resourceType === "snapshot",
    )
    .reduce((sum, node) => sum + (node.rowsAffected ?? 0), 0);
}

async function run(inputs: DbtStageInputs): Promise<DbtStageOutputs> {
  const lock = await acquireStageLock(inputs.recorder, inputs.layer, { closeOrphanedRuns: true });
  try {
    // If `npm run local` dies meanwhile, dbt is stopped and the row closed, then this
    // process exits (see orphan-guard.ts).
    return await guarded(
      () => runLocked(inputs),
      async (reason) => {
        await lock.client.query(
          `update ip_workbench.job_runs set status = 'failed', completed_at = now(), error_message = $2
            where stage = $1 and status = 'running'`,
          [inputs.layer, reason],
        );
      },
    );
  } finally {
    await lock.release();
  }
}

async function runLocked(inputs: DbtStageInputs): Promise<DbtStageOutputs> {
  const landedBefore = await withClient(inputs.connection, landingWatermarks);
  const jobRunId = await withClient(inputs.recorder, async (client) => {
    const result = await client.query<{ id: string }>(
      `insert into ip_workbench.job_runs (status, stage, started_at, logs)
       values ('running', $1, now(), $2) returning id`,
      [inputs.layer, `dbt build --select tag:${inputs.layer}`],
    );
    return result.rows[0]?.id as string;
  });

  const finish = (
    status: "completed" | "failed",
    fields: { invocationId?: string; rows?: number; error?: string },
  ) =>
    withClient(inputs.recorder, (client) =>
      client.query(
        `update ip_workbench.job_runs
            set status = $2, completed_at = now(), invocation_id = $3, rows_processed = $4, error_message = $5
          where id = $1`,
        [jobRunId, status, fields.invocationId ?? null, fields.rows ?? null, fields.error ?? null],
      ),
    );

  let summary: DbtRunSummary;
  try {
    const options = {
      command: "build" as const,
      projectDir: resolve(inputs.projectDir),
      connection: inputs.connection,
      stage: inputs.layer,
      vars: inputs.vars,
      target: inputs.target,
      targetPath: resolve(inputs.artifactsDir),
      // The stages of one deployment run one after another in this process: one warm dbt
      // process parses the project once for all of them, in one dir per stack (beside
      // the stages' own dirs), so a later deployment's first stage parses partially too.
      warm: true,
      parseTargetPath: join(dirname(resolve(inputs.artifactsDir)), "parse"),
      signal: supervisorSignal(),
    };
    // The next provider process parses ahead the same way (provider-registry.ts).
    rememberParse(options);
    summary = await runDbt(options);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const invocationId = error instanceof DbtRunError ? error.summary?.invocationId : undefined;
    await finish("failed", { invocationId, error: message }).catch(() => undefined);
    const stuck =
      inputs.layer === "silver"
        ? await withClient(inputs.connection, (client) => stuckRows(client, { upTo: landedBefore })).catch(
            () => null,
          )
        : null;
    const rows = stuck && stuck.counts.length > 0 ? `\n${new StuckRowsError(stuck).message}` : "";
    const hint = error instanceof DbtRunError ? `\n${dbtFailureHint(error)}` : "";
    throw new Error(`${inputs.layer} stage: ${message}${rows}${hint}`, { cause: error });
  }

  if (inputs.layer === "silver") {
    // Every row landed before the build must now be classified, and stored when valid.
    const stuck = await withClient(inputs.connection, (client) => stuckRows(client, { upTo: landedBefore }));
    if (stuck.counts.length > 0) {
      const error = new StuckRowsError(stuck);
      await finish("failed", { invocationId: summary.invocationId, error: error.message });
      throw new Error(`${inputs.layer} stage: ${error.message}`, { cause: error });
    }
  }

  const rows = rowsWritten(summary);
  await finish("completed", { invocationId: summary.invocationId, rows });
  return {
    ...inputs,
    invocationId: summary.invocationId,
    jobRunId,
    models: summary.models.success,
    rowsProcessed: rows,
    testsPassed: summary.tests.pass,
    testsFailed: summary.tests.fail + summary.tests.error,
    testsWarned: summary.tests.warn,
    elapsedSeconds: summary.elapsedSeconds,
    nodeSeconds: summary.nodeSeconds,
  };
}

/**
 * Whether an unchanged stage must still run: its last recorded run did not complete,
 * or (bronze) landed rows are waiting that no build has classified yet (a webhook
 * delivery, or a stage that failed since). Unknown when the database cannot be
 * reached: the stage then keeps its state and the deployment's own steps report it.
 */
async function needsRerun(inputs: DbtStageInputs): Promise<boolean> {
  try {
    const lastRun = await withClient(inputs.recorder, async (client) => {
      const result = await client.query<{ status: string }>(
        `select status from ip_workbench.job_runs where stage = $1 order by started_at desc nulls last limit 1`,
        [inputs.layer],
      );
      return result.rows[0]?.status ?? null;
    });
    if (lastRun !== null && lastRun !== "completed") return true;
    if (inputs.layer !== "bronze") return false;
    const stuck = await withClient(inputs.connection, (client) => stuckRows(client, { examples: 0 }));
    return stuck.counts.some((count) => count.rule === "UNCLASSIFIED");
  } catch {
    return false;
  }
}

export const dbtStageProvider: pulumi.dynamic.ResourceProvider = {
  async diff(_id, olds: DbtStageOutputs, news: DbtStageInputs) {
    const changed = (
      ["inputsHash", "upstream", "target", "layer", "projectDir", "artifactsDir"] as const
    ).filter((key) => olds[key] !== news[key]);
    const targetMoved =
      !sameDatabase(olds.connection, news.connection) || olds.connection.user !== news.connection.user;
    if (changed.length > 0 || targetMoved) return { changes: true };
    return { changes: await needsRerun(news) };
  },
  async create(inputs: DbtStageInputs) {
    const outs = await run(inputs);
    return { id: `${inputs.connection.database}:${inputs.layer}`, outs };
  },
  async update(_id, _olds: DbtStageOutputs, news: DbtStageInputs) {
    return { outs: await run(news) };
  },
  // Built relations live in the layer schemas, which the database layer drops.
};
