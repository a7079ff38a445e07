import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { ADVISORY_LOCK_KEYS, DBT_STAGE_LOCK_NAMESPACE } from "../../lib/postgres/advisory-locks.ts";
import { CATALOG_LOCK_KEY } from "../../lib/catalog/write.ts";
import { MIGRATION_LOCK_KEY } from "../../lib/postgres/migrations.ts";
import { REPO_ROOT } from "../../lib/paths.ts";

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return sources(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

describe("advisory lock keys", () => {
  it("gives every purpose its own key, each a PostgreSQL bigint JavaScript holds exactly", () => {
    const keys = Object.values(ADVISORY_LOCK_KEYS);
    expect(new Set(keys).size).toBe(keys.length);
    for (const key of keys) expect(Number.isSafeInteger(key)).toBe(true);
  });

  it("is what the migration runner and the catalog seeder lock on", () => {
    expect(MIGRATION_LOCK_KEY).toBe(ADVISORY_LOCK_KEYS.migrations);
    expect(CATALOG_LOCK_KEY).toBe(ADVISORY_LOCK_KEYS.catalog);
    expect(CATALOG_LOCK_KEY).not.toBe(ADVISORY_LOCK_KEYS.grants);
    expect(DBT_STAGE_LOCK_NAMESPACE).toBe("ai-workbench:dbt-stage");
  });

  it("is the only place a lock key is written down", () => {
    const owner = join(REPO_ROOT, "lib/postgres/advisory-locks.ts");
    const literal = /\b7_?240_?115_?\d{3}\b/;
    const offenders = ["components", "lib", "stacks", "scripts", "bench"]
      .flatMap((dir) => sources(join(REPO_ROOT, dir)))
      .filter((file) => file !== owner && literal.test(readFileSync(file, "utf8")))
      .map((file) => relative(REPO_ROOT, file));
    expect(offenders).toEqual([]);
  });
});
