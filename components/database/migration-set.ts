/**
 * The `MigrationSet` dynamic resource: its args, its class and its provider (loaded in the
 * provider process through components/shared/provider-registry.ts). The program passes
 * the migration set it saw (versions + checksums); the provider re-reads the files and
 * refuses to apply anything else. No side effects on import.
 */
import * as pulumi from "@pulumi/pulumi";
import { join } from "node:path";
import { quoteIdent, sameDatabase, withClient, type PgConnection } from "../../lib/postgres/connection.ts";
import {
  applyMigrations,
  loadMigrations,
  MigrationError,
  type MigrationRecord,
} from "../../lib/postgres/migrations.ts";
import { projectRoot } from "../../lib/paths.ts";
import { projectProvider } from "../shared/project-provider.ts";

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

// ---- provider: runs in the dynamic-provider process (registered in components/shared/provider-registry.ts) ----

export interface MigrationSetInputs {
  connection: PgConnection;
  /** Directory of the migration files, relative to the project root. */
  directory: string;
  migrations: MigrationRecord[];
  /** Schemas the migrations create; dropped (cascade) when the set is deleted. */
  ownedSchemas: string[];
  /** False: never drop anything, and migrate a new target in place instead of replacing. Absent: true. */
  dropOnDelete?: boolean;
}

export interface MigrationSetOutputs extends MigrationSetInputs {
  appliedVersions: string[];
}

async function apply(inputs: MigrationSetInputs): Promise<MigrationSetOutputs> {
  const onDisk = loadMigrations(join(projectRoot(), inputs.directory));
  const expected = JSON.stringify(inputs.migrations.map((m) => [m.version, m.checksum]));
  const actual = JSON.stringify(onDisk.map((m) => [m.version, m.checksum]));
  if (expected !== actual) {
    throw new MigrationError(
      `the files in ${inputs.directory} changed while the deployment ran; re-run the deployment`,
    );
  }
  const result = await applyMigrations(inputs.connection, onDisk);
  return { ...inputs, appliedVersions: [...result.alreadyApplied, ...result.applied].sort() };
}

export const migrationSetProvider: pulumi.dynamic.ResourceProvider = {
  async diff(_id, olds: MigrationSetOutputs, news: MigrationSetInputs) {
    const sameTarget = sameDatabase(olds.connection, news.connection);
    const changes =
      !sameTarget ||
      JSON.stringify(olds.migrations) !== JSON.stringify(news.migrations) ||
      JSON.stringify(olds.ownedSchemas) !== JSON.stringify(news.ownedSchemas) ||
      (olds.dropOnDelete ?? true) !== (news.dropOnDelete ?? true);
    // A replacement would delete the old set, which drops its schemas: only where dropping is allowed.
    const replace = !sameTarget && news.dropOnDelete !== false;
    return { changes, replaces: replace ? ["connection"] : [], deleteBeforeReplace: false };
  },
  async create(inputs: MigrationSetInputs) {
    const outs = await apply(inputs);
    return { id: `${inputs.connection.database}:${inputs.directory}`, outs };
  },
  async update(_id, _olds: MigrationSetOutputs, news: MigrationSetInputs) {
    return { outs: await apply(news) };
  },
  async delete(_id, props: MigrationSetOutputs) {
    // Kept (the cloud profile): destroying prod data is an operator's explicit act (README).
    if (props.dropOnDelete === false) return;
    await withClient(props.connection, async (client) => {
      for (const schema of [...props.ownedSchemas, "workbench_migrations"]) {
        await client.query(`drop schema if exists ${quoteIdent(schema)} cascade`);
      }
    });
  },
};
