/**
 * Provider implementation of {@link MigrationSet}: loaded at run time by the dynamic
 * provider shim. The program passes the migration set it saw (versions + checksums);
 * the provider re-reads the files and refuses to apply anything else.
 */
import { join } from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import { quoteIdent, sameDatabase, withClient, type PgConnection } from "../../lib/postgres/connection.ts";
import {
  applyMigrations,
  loadMigrations,
  MigrationError,
  type MigrationRecord,
} from "../../lib/postgres/migrations.ts";
import { projectRoot } from "../../lib/paths.ts";

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
