/**
 * Warehouse relations are named `<layer>.<model name without its layer prefix>`
 * (dbt/macros/generate_alias_name.sql), and a database built before that (relations such
 * as silver.silver_transaction_classifications, made by the dbt project of an earlier
 * commit, archived from this clone's history) upgrades through migration
 * 20261201000100_layer_relation_names.sql and a dbt run: every incremental table carries
 * on from its renamed self (same table, history kept, only new deliveries processed) and no
 * relation keeps its old name. Real dbt, real PostgreSQL.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runDbt } from "../../lib/dbt/cli.ts";
import { REPO_ROOT } from "../../lib/paths.ts";
import { applyMigrations, loadMigrations, type Migration } from "../../lib/postgres/migrations.ts";
import { createScratchDatabase, type ScratchDatabase } from "../../lib/postgres/scratch-database.ts";
import { createMedallionDatabase, type MedallionDatabase } from "../helpers/medallion.ts";

/** The last commit whose dbt project built relations with the layer prefix. */
const PREFIXED_NAMES_COMMIT = "21b10b6ee7bf643bcdcb217b1d652113fbb86fb3";
const RENAME_VERSION = "20261201000100";
const AS_OF = { as_of_date: "2025-06-30" };
const LAYERS = ["bronze", "silver", "gold", "platinum"];

const migrations = loadMigrations(join(REPO_ROOT, "sql/migrations"));
const beforeRename: Migration[] = migrations.filter((m) => m.version < RENAME_VERSION);

function transaction(id: string, date: string, amount: number): string {
  return JSON.stringify({
    transaction_id: id,
    store_id: "S001",
    product_id: "P0001",
    category: "snacks",
    quantity: 1,
    unit_price: amount,
    amount,
    transaction_date: date,
    payment_method: "cash",
    customer_id: "C00001",
  });
}

function expense(id: string, date: string, amount: number): string {
  return JSON.stringify({
    expense_id: id,
    agency: "DOH",
    employee_id: "E001",
    vendor: "Vendor",
    category: "travel",
    currency: "USD",
    description: "trip",
    amount,
    expense_date: date,
  });
}

const product = JSON.stringify({
  product_id: "P0001",
  product_name: "Chips",
  category: "snacks",
  brand: "Brand",
  unit_price: 10,
  updated_at: "2025-01-01T00:00:00Z",
});

/** Every relation of the layer schemas with its oid and kind (dbt's own temp relations left out). */
async function relations(db: ScratchDatabase): Promise<Map<string, { oid: number; kind: string }>> {
  const rows = await db.query<{ name: string; oid: number; kind: string }>(
    `select n.nspname || '.' || c.relname as name, c.oid::int as oid, c.relkind::text as kind
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = any ($1) and c.relkind in ('r', 'v', 'm', 'p')`,
    [LAYERS],
  );
  return new Map(rows.map((row) => [row.name, { oid: row.oid, kind: row.kind }]));
}

/** Relations named `<layer>.<layer>_...`: what the earlier projects built. */
function prefixed(names: Iterable<string>): string[] {
  return [...names].filter((name) => LAYERS.some((layer) => name.startsWith(`${layer}.${layer}_`))).sort();
}

describe("relation names: <layer>.<model name without the layer prefix>", () => {
  let db: MedallionDatabase;
  let oldProject: string;
  let before: Map<string, { oid: number; kind: string }>;
  let after: Map<string, { oid: number; kind: string }>;
  let oldModels: { name: string; schema: string; alias: string; materialized: string }[];

  beforeAll(async () => {
    // The database as the earlier version left it: its migrations, its dbt project's build.
    db = await createMedallionDatabase("relnames", beforeRename);
    oldProject = mkdtempSync(join(tmpdir(), "aiwb-dbt-prefixed-"));
    const archive = await execa("git", ["archive", PREFIXED_NAMES_COMMIT, "dbt"], {
      cwd: REPO_ROOT,
      encoding: "buffer",
    });
    await execa("tar", ["-x", "-C", oldProject], { input: archive.stdout });
    const oldTarget = join(oldProject, "target-run");
    const oldDbt = (command: "build" | "run") =>
      runDbt({
        command,
        projectDir: join(oldProject, "dbt"),
        connection: db.connection,
        targetPath: oldTarget,
        vars: AS_OF,
      });

    await db.deliver("scout_products_raw", "p-1", [product]);
    await db.deliver("scout_transactions_raw", "t-1", [
      transaction("TX-1", "2025-01-03", 10),
      transaction("TX-2", "2025-02-03", 20),
      "{not json",
    ]);
    await db.deliver("expenses_raw", "e-1", [
      expense("EX-1", "2025-01-05", 100),
      expense("EX-2", "2025-02-05", 200),
    ]);
    const built = await oldDbt("build");
    expect(built.tests.fail + built.tests.error, "the earlier project builds cleanly").toBe(0);
    const manifest = JSON.parse(readFileSync(join(oldTarget, "manifest.json"), "utf8")) as {
      nodes: Record<
        string,
        {
          resource_type: string;
          name: string;
          schema: string;
          alias: string;
          config: { materialized: string };
        }
      >;
    };
    oldModels = Object.values(manifest.nodes)
      .filter((node) => node.resource_type === "model")
      .map((node) => ({
        name: node.name,
        schema: node.schema,
        alias: node.alias,
        materialized: node.config.materialized,
      }));

    // Markers a rebuild would lose: the classification timestamps of the first deliveries.
    await db.query(
      "update silver.silver_transaction_classifications set classified_at = '2001-01-01' where transaction_id = 'TX-1'",
    );
    await db.query(
      "update silver.silver_expense_classifications set classified_at = '2001-01-01' where expense_id = 'EX-1'",
    );
    // A catalog row of the old relation, as the catalog seeder wrote it.
    await db.query(
      `insert into ip_workbench.tables (schema_name, table_name, layer, dbt_unique_id)
       values ('gold', 'gold_monthly_summary', 'gold', 'model.workbench.gold_monthly_summary')`,
    );
    before = await relations(db);

    // The upgrade: the migration, new deliveries, then this project's dbt.
    await applyMigrations(db.connection, migrations);
    await db.deliver("scout_transactions_raw", "t-2", [
      transaction("TX-3", "2025-03-03", 30),
      transaction("TX-1", "2025-01-03", 10),
    ]);
    await db.deliver("expenses_raw", "e-2", [expense("EX-3", "2025-03-05", 300)]);
    const upgraded = await db.dbt({ command: "build", vars: AS_OF });
    expect(upgraded.tests.fail + upgraded.tests.error, "the upgraded database builds cleanly").toBe(0);
    after = await relations(db);
  }, 600_000);

  afterAll(async () => {
    await db?.drop();
    if (oldProject) rmSync(oldProject, { recursive: true, force: true });
    if (db?.targetPath) rmSync(db.targetPath, { recursive: true, force: true });
  });

  it("the earlier project built its models' relations, most under prefixed names (the starting point this test needs)", () => {
    expect(oldModels.length).toBeGreaterThan(20);
    const built = oldModels.map((model) => `${model.schema}.${model.alias}`);
    for (const name of built) expect(before.has(name), name).toBe(true);
    expect(prefixed(built).length).toBeGreaterThan(15);
  });

  it("every model's relation is <layer>.<its name without the layer prefix>, and no old name is left", () => {
    const manifest = JSON.parse(readFileSync(join(db.targetPath, "manifest.json"), "utf8")) as {
      nodes: Record<
        string,
        { resource_type: string; name: string; schema: string; alias: string; original_file_path: string }
      >;
    };
    const models = Object.values(manifest.nodes).filter((node) => node.resource_type === "model");
    expect(models.length).toBe(oldModels.length);
    for (const model of models) {
      const layer = model.original_file_path.split("/")[1] ?? "";
      expect(LAYERS, model.original_file_path).toContain(layer);
      expect(model.name.startsWith(`${layer}_`), `${model.name} keeps its prefix as a model name`).toBe(true);
      const relation = `${layer}.${model.name.slice(layer.length + 1)}`;
      expect(`${model.schema}.${model.alias}`, model.name).toBe(relation);
      expect(after.has(relation), `${relation} exists`).toBe(true);
    }
    expect(prefixed(after.keys())).toEqual([]);
  });

  it("each incremental table is the same table, renamed: its history kept, only new deliveries added", async () => {
    const incremental = oldModels.filter((model) => model.materialized === "incremental");
    expect(incremental.length).toBeGreaterThan(8);
    for (const model of incremental) {
      const old = before.get(`${model.schema}.${model.alias}`);
      const renamed = after.get(`${model.schema}.${model.name.slice(model.schema.length + 1)}`);
      expect(old, model.name).toBeDefined();
      expect(renamed?.oid, `${model.name}: the table the earlier version built, not a rebuild`).toBe(
        old?.oid,
      );
    }
    expect(
      await db.query(
        `select transaction_id, status, classified_at < '2002-01-01' as kept
           from silver.transaction_classifications where transaction_id is not null order by ingest_id`,
      ),
    ).toEqual([
      { transaction_id: "TX-1", status: "valid", kept: true },
      { transaction_id: "TX-2", status: "valid", kept: false },
      { transaction_id: "TX-3", status: "valid", kept: false },
      { transaction_id: "TX-1", status: "duplicate", kept: false },
    ]);
    expect(
      await db.query(
        "select expense_id, classified_at < '2002-01-01' as kept from silver.expense_classifications order by ingest_id",
      ),
    ).toEqual([
      { expense_id: "EX-1", kept: true },
      { expense_id: "EX-2", kept: false },
      { expense_id: "EX-3", kept: false },
    ]);
    expect(await db.query("select transaction_id from silver.validated_transactions order by 1")).toEqual([
      { transaction_id: "TX-1" },
      { transaction_id: "TX-2" },
      { transaction_id: "TX-3" },
    ]);
    expect(
      await db.query(
        "select month::text, transaction_count::int from gold.monthly_summary where category = 'snacks' order by 1",
      ),
    ).toEqual([
      { month: "2025-01-01", transaction_count: 1 },
      { month: "2025-02-01", transaction_count: 1 },
      { month: "2025-03-01", transaction_count: 1 },
    ]);
  });

  it("the catalog's row of a renamed model takes the new name", async () => {
    expect(
      await db.query(
        "select schema_name, table_name from ip_workbench.tables where dbt_unique_id = 'model.workbench.gold_monthly_summary'",
      ),
    ).toEqual([{ schema_name: "gold", table_name: "monthly_summary" }]);
  });
});

describe("relation names: the rename migration", () => {
  let db: ScratchDatabase;

  beforeAll(async () => {
    db = await createScratchDatabase("relnames_mig");
    await applyMigrations(db.connection, beforeRename);
  });

  afterAll(async () => {
    await db?.drop();
  });

  it("refuses to choose when both the old and the new relation exist, naming both", async () => {
    await db.query("create table silver.silver_products (product_id text)");
    await db.query("create table silver.products (product_id text)");
    await expect(applyMigrations(db.connection, migrations)).rejects.toThrow(
      /both silver\.silver_products and silver\.products exist: products is the name dbt builds now/,
    );
    await db.query("drop table silver.products");
  });

  it("renames a relation owned by a role the migration runner is not a member of, and gives the membership back", async () => {
    // As on Supabase: the runner (`postgres` there) may create roles but is no superuser,
    // and dbt's login owns what dbt built.
    const suffix = db.name.slice(-6);
    const runner = `relnames_runner_${suffix}`;
    const owner = `relnames_dbt_${suffix}`;
    await db.query(`create role ${owner} nologin`);
    await db.query(`create role ${runner} login createrole password 'runner-pw'`);
    await db.query(`alter table silver.silver_products owner to ${owner}`);
    await db.query(`create view silver.silver_expense_quarantine as select 1 as ingest_id`);
    await db.query(`alter view silver.silver_expense_quarantine owner to ${owner}`);
    await db.query(`grant create on database ${db.name} to ${runner}`);
    await db.query(`grant all on schema silver, ip_workbench to ${runner}`);
    await db.query(`grant all on all tables in schema workbench_migrations, ip_workbench to ${runner}`);
    await db.query(`grant all on schema workbench_migrations to ${runner}`);
    try {
      const result = await applyMigrations(
        { ...db.connection, user: runner, password: "runner-pw" },
        migrations,
      );
      expect(result.applied).toContain(RENAME_VERSION);
      expect(
        await db.query<{ name: string; owner: string; kind: string }>(
          `select c.relname as name, pg_get_userbyid(c.relowner) as owner, c.relkind::text as kind
             from pg_class c where c.relnamespace = 'silver'::regnamespace order by 1`,
        ),
      ).toEqual([
        { name: "expense_quarantine", owner, kind: "v" },
        { name: "products", owner, kind: "r" },
      ]);
      expect(await db.query(`select pg_has_role($1, $2, 'MEMBER') as member`, [runner, owner])).toEqual([
        { member: false },
      ]);
    } finally {
      await db.query(`drop owned by ${runner}, ${owner} cascade`);
      await db.query(`drop role ${runner}`);
      await db.query(`drop role ${owner}`);
    }
  });
});
