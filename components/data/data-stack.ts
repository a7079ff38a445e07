import * as pulumi from "@pulumi/pulumi";
import type { PgConnection } from "../../lib/postgres/connection.ts";
import { LAYERS, type Layer } from "../../lib/dbt/cli.ts";
import { DbtStage, type DbtStageOutputs } from "./dbt-stage.ts";

export interface DataStackArgs {
  /** The dbt runner's login (secret). */
  dbtConnection: pulumi.Input<PgConnection>;
  /** The login that records the stages' job runs: the catalog writer's, never the admin's (secret). */
  recorderConnection: pulumi.Input<PgConnection>;
  /** Project root (holds dbt/). */
  projectRoot: string;
  /** Where stage artifacts go, relative to the project root, e.g. `dbt/target/local`. */
  artifactsRoot: string;
  /** Changes when bronze received new data; the first stage re-runs then. */
  dataVersion: pulumi.Input<string>;
  /** dbt vars for every stage. Default none. */
  vars?: Record<string, unknown>;
  /** profiles.yml target. Default `local`. */
  target?: string;
}

/** What the stack reports of each stage: its run's outputs (nodeSeconds: dbt's own node time; the rest of the stage's wall time is overhead). */
export type StageSummary = Pick<
  DbtStageOutputs,
  | "layer"
  | "invocationId"
  | "models"
  | "rowsProcessed"
  | "testsPassed"
  | "testsFailed"
  | "testsWarned"
  | "elapsedSeconds"
  | "nodeSeconds"
>;

/**
 * The medallion as deployed resources: bronze → silver → gold → platinum, each a
 * {@link DbtStage} that re-runs only when its inputs, its upstream stage or the data
 * changed. Token `workbench:data:DataStack`.
 */
export class DataStack extends pulumi.ComponentResource {
  public readonly stages: pulumi.Output<StageSummary[]>;
  /** Artifacts dirs of the stages, in order (relative to the project root). */
  public readonly artifactDirs: string[];
  /** Changes whenever any stage re-ran: the catalog re-seeds on it. */
  public readonly runFingerprint: pulumi.Output<string>;

  constructor(name: string, args: DataStackArgs, opts?: pulumi.ComponentResourceOptions) {
    super("workbench:data:DataStack", name, {}, opts);

    let upstream: pulumi.Input<string> = args.dataVersion;
    let previous: DbtStage | undefined;
    const stages: DbtStage[] = [];
    this.artifactDirs = [];
    for (const layer of LAYERS) {
      const artifactsDir = `${args.artifactsRoot}/${layer}`;
      const stage: DbtStage = new DbtStage(
        `${name}-${layer}`,
        {
          connection: args.dbtConnection,
          recorder: args.recorderConnection,
          projectRoot: args.projectRoot,
          layer,
          vars: args.vars,
          target: args.target,
          upstream,
          artifactsDir,
        },
        { parent: this, dependsOn: previous ? [previous] : [] },
      );
      stages.push(stage);
      this.artifactDirs.push(artifactsDir);
      upstream = stage.invocationId;
      previous = stage;
    }

    this.stages = pulumi.all(
      stages.map((stage, index) =>
        pulumi.output({
          layer: LAYERS[index] as Layer,
          invocationId: stage.invocationId,
          models: stage.models,
          rowsProcessed: stage.rowsProcessed,
          testsPassed: stage.testsPassed,
          testsFailed: stage.testsFailed,
          testsWarned: stage.testsWarned,
          elapsedSeconds: stage.elapsedSeconds,
          nodeSeconds: stage.nodeSeconds,
        }),
      ),
    );
    this.runFingerprint = pulumi.all(stages.map((stage) => stage.invocationId)).apply((ids) => ids.join(","));
    this.registerOutputs({ stages: this.stages, runFingerprint: this.runFingerprint });
  }
}

/** The issue-17 target: dbt's overhead is at most this share of the stage steps' wall time. */
export const DBT_OVERHEAD_TARGET = 0.25;

export interface StageTiming {
  layer: Layer;
  /** The stage step's wall time (the deployment step, start to end). */
  wallSeconds: number;
  /** dbt's time on the stage's nodes ({@link StageSummary.nodeSeconds}). */
  nodeSeconds: number;
}

/**
 * dbt's overhead over the stage steps that ran (pure): their wall time minus dbt's
 * time on the nodes, and its share of the wall time. Steps are named
 * `<data stack name>-<layer>`; stages without a step (unchanged) do not count.
 */
export function stageOverhead(
  dataStackName: string,
  stages: readonly Pick<StageSummary, "layer" | "nodeSeconds">[],
  steps: readonly (readonly [string, number])[],
): {
  stages: StageTiming[];
  wallSeconds: number;
  nodeSeconds: number;
  overheadSeconds: number;
  share: number;
} {
  const wallOf = new Map(steps.map(([name, seconds]) => [name, seconds]));
  const timings = stages.flatMap((stage): StageTiming[] => {
    const wall = wallOf.get(`${dataStackName}-${stage.layer}`);
    return wall === undefined
      ? []
      : [{ layer: stage.layer, wallSeconds: wall, nodeSeconds: stage.nodeSeconds ?? 0 }];
  });
  const wallSeconds = timings.reduce((sum, stage) => sum + stage.wallSeconds, 0);
  const nodeSeconds = timings.reduce((sum, stage) => sum + Math.min(stage.nodeSeconds, stage.wallSeconds), 0);
  const overheadSeconds = wallSeconds - nodeSeconds;
  return {
    stages: timings,
    wallSeconds,
    nodeSeconds,
    overheadSeconds,
    share: wallSeconds > 0 ? overheadSeconds / wallSeconds : 0,
  };
}
