/** scripts/gen-data.ts against the real server: COPY into the bronze landing tables, idempotent re-runs. */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../lib/paths.ts";
import type { Summary } from "../../lib/sample-data/index.ts";
import { createScratchDatabase, type ScratchDatabase } from "../../lib/postgres/scratch-database.ts";

const MIGRATION = join(REPO_ROOT, "sql/migrations/20261123000300_medallion_schemas.sql");
const ROLES = `do $$ begin
  if not exists (select from pg_roles where rolname = 'service_role') then create role service_role nologin bypassrls; end if;
  if not exists (select from pg_roles where rolname = 'authenticated') then create role authenticated nologin; end if;
end $$;`;

let db: ScratchDatabase;
let dir: string;

beforeAll(async () => {
  db = await createScratchDatabase("gendata");
  dir = mkdtempSync(join(tmpdir(), "aiwb-gen-data-"));
  const client = new pg.Client({ connectionString: db.server.url(db.name) });
  await client.connect();
  try {
    await client.query(ROLES).catch(async (error: unknown) => {
      // Two sessions creating the same role at once: the loser retries and finds it.
      if ((error as { code?: string }).code !== "23505") throw error;
      await client.query(ROLES);
    });
    await client.query(readFileSync(MIGRATION, "utf8"));
  } finally {
    await client.end();
  }
});
afterAll(async () => {
  await db?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function genData(args: string[]) {
  return execa("tsx", [join(REPO_ROOT, "scripts/gen-data.ts"), ...args], {
    cwd: REPO_ROOT,
    preferLocal: true,
    env: { DATABASE_URL: db.server.url(db.name) },
    reject: false,
  });
}

const COMMON = ["--transactions", "2000", "--seed", "7", "--today", "2026-01-31", "--batch-size", "500"];

async function tableCounts(): Promise<Record<string, { total: number; unparsed: number; batches: number }>> {
  const rows = await db.query<{ entity: string; total: number; unparsed: number; batches: number }>(`
    select 'transactions' as entity, count(*)::int as total, count(*) filter (where bronze.try_parse_jsonb(payload_raw) is null)::int as unparsed,
           count(distinct batch_id)::int as batches from bronze.scout_transactions_raw
    union all
    select 'expenses', count(*)::int, count(*) filter (where bronze.try_parse_jsonb(payload_raw) is null)::int, count(distinct batch_id)::int
      from bronze.expenses_raw
    union all
    select 'products', count(*)::int, count(*) filter (where bronze.try_parse_jsonb(payload_raw) is null)::int, count(distinct batch_id)::int
      from bronze.scout_products_raw`);
  return Object.fromEntries(rows.map(({ entity, ...rest }) => [entity, rest]));
}

describe("scripts/gen-data.ts (real PostgreSQL)", () => {
  let summary: Summary;

  it("loads 2,000 transactions: bronze row counts equal the summary's totals", async () => {
    const summaryFile = join(dir, "summary.json");
    const run = await genData([...COMMON, "--summary-file", summaryFile]);
    expect(run.exitCode, run.stderr).toBe(0);
    summary = JSON.parse(readFileSync(summaryFile, "utf8")) as Summary;

    expect(summary.seed).toBe(7);
    expect(summary.transactions.total).toBe(2000);
    expect(summary.expenses.total).toBe(40);
    expect(summary.products).toEqual({ total: 220, redelivered: 20 });
    for (const entity of ["transactions", "expenses"] as const) {
      const counts = summary[entity];
      const bad = Object.values(counts.bad).reduce((s, n) => s + n, 0);
      expect(counts.good + bad).toBe(counts.total);
    }
    expect(summary.transactions.good).toBe(1900);
    for (const n of Object.values(summary.transactions.bad)) expect(n).toBeGreaterThanOrEqual(12);

    const counts = await tableCounts();
    expect(counts["transactions"]).toEqual({
      total: 2000,
      unparsed: summary.transactions.bad.malformed_json,
      batches: 4,
    });
    expect(counts["expenses"]).toEqual({
      total: 40,
      unparsed: summary.expenses.bad.malformed_json,
      batches: 1,
    });
    expect(counts["products"]).toEqual({ total: 220, unparsed: 0, batches: 1 });

    expect(run.stdout).toContain("loaded 6 batches (2,260 rows); skipped 0 batches already loaded");
    expect(run.stdout).toMatch(/transactions\s+2,000 rows in [\d.]+ s \([\d,]+ rows\/s\)/);
    expect(run.stdout).toMatch(/malformed_json\s+\d+\s+\d+/);
  });

  it("stores batch ids, record_seq and the raw text as generated; only malformed rows fail to parse", async () => {
    const batches = await db.query<{ batch_id: string; source: string; n: number; min: number; max: number }>(
      `select batch_id, source, count(*)::int as n, min(record_seq) as min, max(record_seq) as max
         from bronze.scout_transactions_raw group by 1, 2 order by 1`,
    );
    expect(batches).toEqual(
      [0, 1, 2, 3].map((i) => ({
        batch_id: `gen-7-transactions-00000${i}`,
        source: "gen-data",
        n: 500,
        min: 0,
        max: 499,
      })),
    );
    // Exactly the rows whose raw text is valid JSON parse (as the bronze models parse them).
    const rows = await db.query<{ payload_raw: string; parsed: boolean }>(
      "select payload_raw, bronze.try_parse_jsonb(payload_raw) is not null as parsed from bronze.scout_transactions_raw",
    );
    for (const row of rows) {
      let valid = true;
      try {
        JSON.parse(row.payload_raw);
      } catch {
        valid = false;
      }
      expect(row.parsed, row.payload_raw.slice(0, 120)).toBe(valid);
    }
    const [dups] = await db.query<{ n: number }>(`
      select count(*)::int as n from (
        select payload_raw from bronze.scout_transactions_raw where bronze.try_parse_jsonb(payload_raw) is not null
        group by payload_raw having count(*) > 1) as repeated`);
    expect(dups?.n).toBeGreaterThan(0);
    const [redelivered] = await db.query<{ n: number }>(`
      select count(*)::int as n from (
        select payload_raw::jsonb ->> 'product_id' from bronze.scout_products_raw group by 1 having count(*) = 2) as twice`);
    expect(redelivered?.n).toBe(20);
  });

  it("re-running the same load adds nothing and reports the batches as skipped", async () => {
    const before = await tableCounts();
    const hashes = await db.query(
      "select md5(string_agg(payload_raw, ',' order by ingest_id)) as h from bronze.scout_transactions_raw",
    );
    const run = await genData(COMMON);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout).toContain("loaded 0 batches (0 rows); skipped 6 batches already loaded");
    expect(await tableCounts()).toEqual(before);
    expect(
      await db.query(
        "select md5(string_agg(payload_raw, ',' order by ingest_id)) as h from bronze.scout_transactions_raw",
      ),
    ).toEqual(hashes);
  });

  it("re-delivers only a missing batch, byte-identical to the first time", async () => {
    const original = await db.query<{ record_seq: number; payload_hash: string }>(
      "select record_seq, md5(payload_raw) as payload_hash from bronze.scout_transactions_raw where batch_id = 'gen-7-transactions-000002' order by record_seq",
    );
    await db.query("delete from bronze.scout_transactions_raw where batch_id = 'gen-7-transactions-000002'");
    await db.query("delete from bronze.deliveries where batch_id = 'gen-7-transactions-000002'");
    const run = await genData(COMMON);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.stdout).toContain("loaded 1 batches (500 rows); skipped 5 batches already loaded");
    expect(
      await db.query(
        "select record_seq, md5(payload_raw) as payload_hash from bronze.scout_transactions_raw where batch_id = 'gen-7-transactions-000002' order by record_seq",
      ),
    ).toEqual(original);
    expect((await tableCounts())["transactions"]?.total).toBe(2000);
  });

  it("refuses bad options and a database without the landing tables, writing nothing", async () => {
    const future = await genData([...COMMON, "--start", "2025-06-01"]);
    expect(future.exitCode).toBe(2);
    expect(future.stderr).toMatch(
      /error: the period 2025-06-01 \.\. 2027-05-31 \(24 months\) ends after today/,
    );

    const empty = await createScratchDatabase("gendata_empty");
    try {
      const run = await genData([...COMMON, "--database-url", empty.server.url(empty.name)]);
      expect(run.exitCode).toBe(2);
      expect(run.stderr).toContain("missing landing table(s) bronze.scout_products_raw");
    } finally {
      await empty.drop();
    }
    expect((await tableCounts())["transactions"]?.total).toBe(2000);
  });
});
