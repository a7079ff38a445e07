import * as pulumi from "@pulumi/pulumi";
import { join } from "node:path";
import type { PgConnection } from "../../lib/postgres/connection.ts";
import { projectProvider } from "../shared/project-provider.ts";
import type { Layer } from "../../lib/dbt/cli.ts";
import { stageInputsHash } from "../../lib/dbt/stage-inputs.ts";

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
