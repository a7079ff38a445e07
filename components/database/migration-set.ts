import * as pulumi from "@pulumi/pulumi";
import { join } from "node:path";
import { projectProvider } from "../shared/project-provider.ts";
import { loadMigrations } from "../../lib/postgres/migrations.ts";
import type { PgConnection } from "../../lib/postgres/connection.ts";

export interface MigrationSetArgs {
  /** Database to migrate, as its admin (the password stays secret). */
  connection: pulumi.Input<PgConnection>;
  /** Project root the directory is relative to (the program's root). */
  projectRoot: string;
  /** Migration directory relative to the project root. Default `sql/migrations`. */
  directory?: string;
  /** Schemas the migrations create, dropped with everything in them when the stack is destroyed. */
  ownedSchemas: string[];
  /**
   * Drop the owned schemas when the resource is deleted, and replace it (drop on the old
   * target) when the database host, port or name changes. Default true (local stack, tests).
   * False (the cloud profile): a new target is migrated in place and nothing is ever dropped.
   */
  dropOnDelete?: boolean;
}

/**
 * Applies the project's SQL migrations. Changes (and so re-applies) only when the set of
 * migration files or their checksums change; outputs the applied versions.
 * Token `workbench:database:MigrationSet`.
 */
export class MigrationSet extends pulumi.dynamic.Resource {
  declare public readonly appliedVersions: pulumi.Output<string[]>;

  constructor(name: string, args: MigrationSetArgs, opts?: pulumi.CustomResourceOptions) {
    const directory = args.directory ?? "sql/migrations";
    // Read at program time so a new or edited file shows up in the diff.
    const migrations = loadMigrations(join(args.projectRoot, directory)).map(
      ({ version, name, checksum }) => ({
        version,
        name,
        checksum,
      }),
    );
    super(
      projectProvider("workbench:database:MigrationSet"),
      name,
      {
        connection: args.connection,
        directory,
        migrations,
        ownedSchemas: args.ownedSchemas,
        dropOnDelete: args.dropOnDelete ?? true,
        appliedVersions: undefined,
      },
      opts,
      "workbench:database",
      "MigrationSet",
    );
  }
}
