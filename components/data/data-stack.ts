import * as pulumi from "@pulumi/pulumi";
import type { PgConnection } from "../database/pg-connection.ts";
import { LAYERS, type Layer } from "./dbt.ts";
import { DbtStage } from "./dbt-stage.ts";

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

export interface StageSummary {
  layer: Layer;
  invocationId: string;
  models: number;
  rowsProcessed: number;
  testsPassed: number;
  testsFailed: number;
  testsWarned: number;
  elapsedSeconds: number;
}

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
        }),
      ),
    );
    this.runFingerprint = pulumi.all(stages.map((stage) => stage.invocationId)).apply((ids) => ids.join(","));
    this.registerOutputs({ stages: this.stages, runFingerprint: this.runFingerprint });
  }
}
