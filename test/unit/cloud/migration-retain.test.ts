/**
 * Item 1 of issue 16 against the real PostgreSQL server: the migration set of the cloud
 * profile (dropOnDelete false) never drops a schema, on delete or when its target
 * changes; the local profile's (the default) still cleans up after itself.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  migrationSetProvider,
  type MigrationSetInputs,
  type MigrationSetOutputs,
} from "../../../components/database/migration-set.ts";
import { loadMigrations } from "../../../lib/postgres/migrations.ts";
import { REPO_ROOT } from "../../../lib/paths.ts";
import { createScratchDatabase, type ScratchDatabase } from "../../../lib/postgres/scratch-database.ts";

const OWNED = ["ip_workbench", "private", "bronze", "silver", "gold", "platinum", "auth"];

let db: ScratchDatabase;
beforeAll(async () => {
  db = await createScratchDatabase("retain");
});
afterAll(async () => {
  await db?.drop();
});

const inputs = (dropOnDelete: boolean | undefined): MigrationSetInputs => ({
  connection: db.connection,
  directory: "sql/migrations",
  migrations: loadMigrations(`${REPO_ROOT}/sql/migrations`).map(({ version, name, checksum }) => ({
    version,
    name,
    checksum,
  })),
  ownedSchemas: OWNED,
  ...(dropOnDelete === undefined ? {} : { dropOnDelete }),
});

const schemas = async () =>
  (
    await db.query<{ nspname: string }>(
      "select nspname from pg_namespace where nspname = any($1) order by nspname",
      [[...OWNED, "workbench_migrations"]],
    )
  ).map((row) => row.nspname);

describe("MigrationSet in the cloud profile (dropOnDelete false)", () => {
  it("migrates a changed target in place instead of replacing (a replace would delete the old set)", async () => {
    const olds = { ...inputs(false), appliedVersions: [] } as MigrationSetOutputs;
    const moved = { ...inputs(false), connection: { ...db.connection, host: "db.elsewhere.example" } };
    const diff = await migrationSetProvider.diff!("id", olds, moved);
    expect(diff).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
    // The default (local stack, tests) still replaces: its old database is its own.
    const localDiff = await migrationSetProvider.diff!(
      "id",
      { ...inputs(undefined), appliedVersions: [] } as MigrationSetOutputs,
      { ...inputs(undefined), connection: { ...db.connection, port: db.connection.port + 1 } },
    );
    expect(localDiff.replaces).toEqual(["connection"]);
  });

  it("keeps every schema and the migration record when deleted", async () => {
    const created = await migrationSetProvider.create!(inputs(false));
    const outs = created.outs as MigrationSetOutputs;
    expect(outs.dropOnDelete).toBe(false);
    expect(outs.appliedVersions.length).toBeGreaterThan(0);
    const before = await schemas();
    expect(before).toEqual([...OWNED, "workbench_migrations"].sort());

    await migrationSetProvider.delete!(created.id, outs);
    expect(await schemas()).toEqual(before);
    const applied = await db.query<{ count: string }>(
      "select count(*) from workbench_migrations.schema_migrations",
    );
    expect(Number(applied[0]?.count)).toBe(outs.appliedVersions.length);
  });

  it("the local profile's delete still drops what it created (the contrast that makes the test mean something)", async () => {
    const local = { ...inputs(undefined), appliedVersions: [] } as MigrationSetOutputs;
    await migrationSetProvider.delete!("id", local);
    expect(await schemas()).toEqual([]);
  });
});
