/** The migration runner against the real server, on small migration sets of its own. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  applyMigrations,
  appliedVersions,
  parseMigration,
  type Migration,
} from "../../lib/postgres/migrations.ts";
import { createScratchDatabase, type ScratchDatabase } from "../../lib/postgres/scratch-database.ts";

let db: ScratchDatabase;
beforeAll(async () => {
  db = await createScratchDatabase("runner");
});
afterAll(async () => {
  await db?.drop();
});

const m1 = parseMigration(
  "20260101000100_widgets.sql",
  "create table if not exists widgets (id int primary key);\ninsert into widgets values (1) on conflict do nothing;",
);
// Slow on purpose: concurrent runners overlap while it runs.
const m2 = parseMigration(
  "20260101000200_counter.sql",
  "select pg_sleep(0.5);\ncreate table if not exists applications (n int);\ninsert into applications values (1);",
);

describe("applyMigrations (real PostgreSQL)", () => {
  it("applies a fresh set in order and records version, name and checksum", async () => {
    const result = await applyMigrations(db.connection, [m1]);
    expect(result).toEqual({ applied: [m1.version], alreadyApplied: [] });
    const rows = await db.query<{ version: string; name: string; checksum: string }>(
      "select version, name, checksum from workbench_migrations.schema_migrations",
    );
    expect(rows).toEqual([{ version: m1.version, name: "widgets", checksum: m1.checksum }]);
    expect(await db.query("select id from widgets")).toEqual([{ id: 1 }]);
  });

  it("two concurrent runners apply each file once", async () => {
    const [a, b] = await Promise.all([
      applyMigrations(db.connection, [m1, m2]),
      applyMigrations(db.connection, [m1, m2]),
    ]);
    expect([...a.applied, ...b.applied]).toEqual([m2.version]);
    expect(await db.query("select count(*)::int as n from applications")).toEqual([{ n: 1 }]);
    expect(await appliedVersions(db.connection)).toEqual([m1.version, m2.version]);
  });

  it("re-applying is a no-op", async () => {
    expect(await applyMigrations(db.connection, [m1, m2])).toEqual({
      applied: [],
      alreadyApplied: [m1.version, m2.version],
    });
    expect(await db.query("select count(*)::int as n from applications")).toEqual([{ n: 1 }]);
  });

  it("refuses an edited, already-applied migration and changes nothing", async () => {
    const edited = parseMigration("20260101000100_widgets.sql", m1.sql + "\ndrop table applications;");
    const m3 = parseMigration("20260101000300_more.sql", "create table more (id int);");
    await expect(applyMigrations(db.connection, [edited, m2, m3])).rejects.toThrow(
      /migration 20260101000100_widgets\.sql was edited after it was applied/,
    );
    expect(await db.query("select to_regclass('more') as t")).toEqual([{ t: null }]);
    expect(await db.query("select count(*)::int as n from applications")).toEqual([{ n: 1 }]);
  });

  it("a failing file leaves neither its changes nor its record", async () => {
    const broken: Migration = parseMigration(
      "20260101000400_broken.sql",
      "create table half_done (id int);\nselect * from no_such_table;",
    );
    await expect(applyMigrations(db.connection, [m1, m2, broken])).rejects.toThrow(
      /migration 20260101000400_broken\.sql failed: relation "no_such_table" does not exist/,
    );
    expect(await db.query("select to_regclass('half_done') as t")).toEqual([{ t: null }]);
    expect(await appliedVersions(db.connection)).toEqual([m1.version, m2.version]);
  });
});
