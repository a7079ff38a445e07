import * as pulumi from "@pulumi/pulumi";
import { projectProvider } from "../shared/project-provider.ts";
import type { PgConnection } from "../../lib/postgres/connection.ts";

export interface SqlStatementsArgs {
  /** Database the statements run in (the password stays secret). */
  connection: pulumi.Input<PgConnection>;
  /** Idempotent statements run in one transaction on create and when they change (e.g. grants). */
  apply: pulumi.Input<pulumi.Input<string>[]>;
  /** Statements that undo `apply`, run on delete and before a changed `apply` (e.g. revokes). */
  undo: pulumi.Input<pulumi.Input<string>[]>;
}

/**
 * SQL with an undo, for what has no resource of its own: grants, default privileges,
 * role settings. Token `workbench:database:SqlStatements`.
 */
export class SqlStatements extends pulumi.dynamic.Resource {
  declare public readonly apply: pulumi.Output<string[]>;

  constructor(name: string, args: SqlStatementsArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      projectProvider("workbench:database:SqlStatements"),
      name,
      { connection: args.connection, apply: args.apply, undo: args.undo },
      opts,
      "workbench:database",
      "SqlStatements",
    );
  }
}
