import * as pulumi from "@pulumi/pulumi";
import { projectProvider } from "../shared/project-provider.ts";
import type { PgConnection } from "./pg-connection.ts";

export interface SchemaArgs {
  /** Server and database the schema lives in (the password stays secret). */
  connection: pulumi.Input<PgConnection>;
  /** Schema name: a lowercase identifier. */
  name: pulumi.Input<string>;
  /** Owning role; default: the connecting user. */
  owner?: pulumi.Input<string>;
  /** Also drop everything inside when the schema is deleted. Default false (refuse if not empty). */
  dropCascade?: pulumi.Input<boolean>;
}

/**
 * A PostgreSQL schema managed with plain SQL, so it needs no provider plugin.
 * Token `workbench:database:Schema`.
 */
export class Schema extends pulumi.dynamic.Resource {
  declare public readonly name: pulumi.Output<string>;
  declare public readonly owner: pulumi.Output<string | undefined>;

  constructor(name: string, args: SchemaArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      projectProvider("components/database/pg-objects.ts", "schemaProvider"),
      name,
      { connection: args.connection, name: args.name, owner: args.owner, dropCascade: args.dropCascade ?? false },
      opts,
      "workbench:database",
      "Schema",
    );
  }
}
