import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  checksumOf,
  loadMigrations,
  MigrationError,
  parseMigration,
  planMigrations,
} from "../../lib/postgres/migrations.ts";

const dirs: string[] = [];
function dirWith(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "aiwb-migrations-"));
  dirs.push(dir);
  for (const [name, sql] of Object.entries(files)) writeFileSync(join(dir, name), sql);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("parseMigration", () => {
  it("takes version and name from the Supabase-style file name", () => {
    const migration = parseMigration("20261123000100_create_things.sql", "create table t (id int);");
    expect(migration).toMatchObject({ version: "20261123000100", name: "create_things" });
    expect(migration.checksum).toBe(checksumOf("create table t (id int);"));
    expect(migration.checksum).toMatch(/^[0-9a-f]{64}$/);
  });

  it.each(["001_init.sql", "20261123_init.sql", "20261123000100-init.sql", "20261123000100_Init.sql"])(
    "refuses the badly named file %s",
    (file) => {
      expect(() => parseMigration(file, "select 1;")).toThrow(
        `${file}: migration files must be named YYYYMMDDHHMMSS_<lowercase_name>.sql`,
      );
    },
  );

  it("refuses files that control their own transaction", () => {
    expect(() => parseMigration("20261123000100_x.sql", "create table t (id int);\ncommit;\n")).toThrow(
      "20261123000100_x.sql: contains 'commit' - each file already runs in one transaction; remove it",
    );
    // A function body mentioning begin/commit is fine: only statement-level control counts.
    expect(() =>
      parseMigration(
        "20261123000100_x.sql",
        "create function f() returns int language plpgsql as $$\nbegin\n  return 1;\nend;\n$$;",
      ),
    ).not.toThrow();
  });
});

describe("loadMigrations", () => {
  it("orders files by version and ignores non-SQL files", () => {
    const dir = dirWith({
      "20261123000200_second.sql": "select 2;",
      "20261123000100_first.sql": "select 1;",
      "README.md": "not a migration",
    });
    expect(loadMigrations(dir).map((m) => m.name)).toEqual(["first", "second"]);
  });

  it("refuses two files with one version", () => {
    const dir = dirWith({ "20261123000100_a.sql": "select 1;", "20261123000100_b.sql": "select 2;" });
    expect(() => loadMigrations(dir)).toThrow("two migrations share version 20261123000100: a and b");
  });
});

describe("planMigrations", () => {
  const one = parseMigration("20261123000100_one.sql", "select 1;");
  const two = parseMigration("20261123000200_two.sql", "select 2;");

  it("applies what is not recorded and skips what is", () => {
    const plan = planMigrations(
      [one, two],
      [{ version: one.version, name: one.name, checksum: one.checksum }],
    );
    expect(plan.pending.map((m) => m.version)).toEqual([two.version]);
    expect(plan.alreadyApplied).toEqual([one.version]);
  });

  it("refuses an applied migration whose file was edited", () => {
    const recorded = [{ version: one.version, name: one.name, checksum: checksumOf("select 0;") }];
    expect(() => planMigrations([one, two], recorded)).toThrow(MigrationError);
    expect(() => planMigrations([one, two], recorded)).toThrow(
      /^migration 20261123000100_one\.sql was edited after it was applied \(recorded checksum [0-9a-f]{12}, file now [0-9a-f]{12}\); applied migrations are immutable/,
    );
  });
});
