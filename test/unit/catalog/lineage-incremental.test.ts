/**
 * Incremental column lineage on a 10,000-model project (issue 21): after one model's SQL
 * and columns change, the re-seed parses only that model and the models reading it, and
 * the catalog's edges equal a full recomputation. The benchmark's synthetic artifacts,
 * the real sqlglot, the real PostgreSQL.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeSyntheticArtifacts } from "../../../bench/catalog.ts";
import { seedCatalog } from "../../../lib/catalog/seed.ts";
import { applyCatalogSchema } from "../../../lib/catalog/scratch-schema.ts";
import { createScratchDatabase, type ScratchDatabase } from "../../../lib/postgres/scratch-database.ts";

const MODELS = 10_000;
let db: ScratchDatabase;
let root: string;

interface Node {
  compiled_code: string;
  depends_on: { nodes: string[] };
}
interface CatalogEntry {
  columns: Record<string, { name: string; index: number; type: string }>;
}

async function edges(): Promise<string[]> {
  const rows = await db.query<{ edge: string }>(
    `select s.dbt_unique_id || '.' || coalesce(e.source_column, '*') || ' -> ' || t.dbt_unique_id || '.' ||
            coalesce(e.target_column, '*') || ' ' || coalesce(e.transformation_sql, '') as edge
       from ip_workbench.lineage_edges as e
       join ip_workbench.tables as s on s.id = e.source_table_id
       join ip_workbench.tables as t on t.id = e.target_table_id
      order by 1`,
  );
  return rows.map((r) => r.edge);
}

beforeAll(async () => {
  db = await createScratchDatabase("catinc");
  await applyCatalogSchema(db.connection);
  root = mkdtempSync(join(tmpdir(), "aiwb-lineage-inc-"));
});

afterAll(async () => {
  await db?.drop();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe("one model changes in a 10k-model project", () => {
  it("re-parses that model and its column consumers only, and the edges equal a full recomputation", async () => {
    const synthetic = writeSyntheticArtifacts(MODELS, root);
    const first = await seedCatalog(db.connection, synthetic.dirs);
    expect(first.columnLineage.models).toBe(MODELS);
    expect(first.columnLineage.failed).toEqual([]);

    // A silver model renames its last column (SQL and catalog.json).
    const docs = join(root, "docs");
    const manifest = JSON.parse(readFileSync(join(docs, "manifest.json"), "utf8")) as {
      nodes: Record<string, Node>;
    };
    const catalog = JSON.parse(readFileSync(join(docs, "catalog.json"), "utf8")) as {
      nodes: Record<string, CatalogEntry>;
    };
    const changed = "model.bench.m_03000";
    const node = manifest.nodes[changed] as Node;
    const entry = catalog.nodes[changed] as CatalogEntry;
    const last = Object.keys(entry.columns).at(-1) as string;
    expect(node.compiled_code).toMatch(new RegExp(`as ${last}$`, "m"));
    node.compiled_code = node.compiled_code.replace(new RegExp(`as ${last}$`, "m"), `as ${last}_renamed`);
    const column = entry.columns[last] as CatalogEntry["columns"][string];
    delete entry.columns[last];
    entry.columns[`${last}_renamed`] = { ...column, name: `${last}_renamed` };
    writeFileSync(join(docs, "manifest.json"), JSON.stringify(manifest));
    writeFileSync(join(docs, "catalog.json"), JSON.stringify(catalog));
    const consumers = Object.entries(manifest.nodes)
      .filter(([, n]) => (n.depends_on?.nodes ?? []).includes(changed) && n.compiled_code)
      .map(([id]) => id);
    expect(consumers.length).toBeGreaterThan(0);

    const incremental = await seedCatalog(db.connection, synthetic.dirs);
    expect(incremental.columnLineage.models).toBe(1 + consumers.length);
    expect(incremental.columnLineage.unchanged).toBe(MODELS - 1 - consumers.length);
    const renamed = await db.query<{ n: number }>(
      `select count(*)::int as n from ip_workbench.lineage_edges as e join ip_workbench.tables as t on t.id = e.target_table_id
        where t.dbt_unique_id = $1 and e.target_column = $2`,
      [changed, `${last}_renamed`],
    );
    expect(renamed[0]?.n).toBeGreaterThan(0);
    const afterIncremental = await edges();

    const full = await seedCatalog(db.connection, synthetic.dirs, { fullLineage: true });
    expect(full.columnLineage.models).toBe(MODELS);
    expect(full.written.edges).toBe(0);
    expect(full.written.edgesRemoved).toBe(0);
    expect(await edges()).toEqual(afterIncremental);
    // Two full parses of 10k models: minutes on a busy 2-core machine (no timing assert).
  }, 1_800_000);
});
