/**
 * Nothing stalls silently (real dbt, real PostgreSQL, `npm run dbt` as a user runs it):
 * rows the medallion has not accounted for are named (batch, record position, id) with
 * the rule they break, a stage that fails says which rows it leaves behind, and the
 * documented operator action (`npm run dbt -- all --full-refresh`) unblocks it without
 * hand-written SQL.
 */
import { join } from "node:path";
import { execa } from "execa";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeStuckRows, StuckRowsError, stuckRows, UNBLOCK_HINT } from "../../lib/reports/medallion.ts";
import { REPO_ROOT } from "../../lib/paths.ts";
import { createMedallionDatabase, type MedallionDatabase } from "../helpers/medallion.ts";

function transaction(id: string, amount: number | string): string {
  return JSON.stringify({
    transaction_id: id,
    store_id: "S001",
    product_id: "P0001",
    category: "snacks",
    quantity: 1,
    amount,
    transaction_date: "2025-06-01",
  });
}

let db: MedallionDatabase;

async function withDb<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: db.server.url(db.name) });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

function npmRunDbt(args: string[]) {
  return execa("tsx", [join(REPO_ROOT, "scripts/dbt.ts"), ...args], {
    cwd: REPO_ROOT,
    preferLocal: true,
    env: { DATABASE_URL: db.server.url(db.name) },
    reject: false,
    all: true,
  });
}

beforeAll(async () => {
  db = await createMedallionDatabase("stuck");
  await db.deliver("scout_transactions_raw", "good", [transaction("TX-1", 10), transaction("TX-2", 20)]);
  await db.deliver("scout_transactions_raw", "late", [transaction("TX-3", 30), transaction("TX-4", 40)]);
}, 120_000);

afterAll(async () => {
  await db?.drop();
});

describe("stuck rows", () => {
  it("are named with batch, record position, id and rule while silver has not classified them", async () => {
    await db.dbt({ command: "build", stage: "bronze" });
    const report = await withDb((client) => stuckRows(client, { examples: 3 }));
    expect(report.counts).toEqual([{ entity: "transactions", rule: "UNCLASSIFIED", rows: 4 }]);
    expect(describeStuckRows(report)).toBe(
      [
        "4 landed row(s) are stuck: 4 transactions UNCLASSIFIED",
        "  transactions batch 'good' record 0 id 'TX-1': UNCLASSIFIED - landed but never classified (the silver stage has not run since, or failed)",
        "  transactions batch 'good' record 1 id 'TX-2': UNCLASSIFIED - landed but never classified (the silver stage has not run since, or failed)",
        "  transactions batch 'late' record 0 id 'TX-3': UNCLASSIFIED - landed but never classified (the silver stage has not run since, or failed)",
        "  ... and 1 more",
      ].join("\n"),
    );
    expect(new StuckRowsError(report).message).toContain(`\nto unblock: ${UNBLOCK_HINT}`);
    // Rows that land after a build started are not the build's to account for.
    const bounded = await withDb((client) => stuckRows(client, { upTo: { transactions: 0 } }));
    expect(bounded.counts).toEqual([]);
  });

  it("npm run dbt -- silver accounts for every landed row and says so", async () => {
    const run = await npmRunDbt(["silver"]);
    expect(run.exitCode, run.all).toBe(0);
    expect(await withDb((client) => stuckRows(client))).toEqual({ counts: [], examples: [] });
  });

  it("a failing silver stage names the rows it leaves behind and the operator action unblocks it", async () => {
    // A verdict from an older rule set: a row the current rules quarantine
    // (AMOUNT_OUT_OF_RANGE) was classified valid, and silver cannot store it.
    await db.deliver("scout_transactions_raw", "poison", [transaction("TX-BIG", 1e12)]);
    // Silver alone cannot classify what bronze has not parsed yet: it says so.
    const early = await npmRunDbt(["silver"]);
    expect(early.exitCode).toBe(1);
    expect(early.stderr).toContain(
      "\nerror: 1 landed row(s) are stuck: 1 transactions UNCLASSIFIED\n" +
        "  transactions batch 'poison' record 0 id 'TX-BIG': UNCLASSIFIED - landed but never classified (the silver stage has not run since, or failed)\n" +
        `to unblock: ${UNBLOCK_HINT}`,
    );
    expect((await npmRunDbt(["all"])).exitCode).toBe(0);
    await db.query(
      `update silver.transaction_classifications
          set status = 'valid', reason_codes = '{}', primary_reason = null, payload_raw = null
        where batch_id = 'poison'`,
    );
    const failed = await npmRunDbt(["silver"]);
    expect(failed.exitCode).toBe(1);
    expect(failed.stderr).toContain("\nerror: silver stage: dbt build failed on ");
    expect(failed.stderr).toContain("model.workbench.silver_validated_transactions [error]");
    expect(failed.stderr).toContain(
      "1 landed row(s) are stuck: 1 transactions VALID_NOT_STORED\n" +
        "  transactions batch 'poison' record 0 id 'TX-BIG': VALID_NOT_STORED - classified valid but not stored in silver (the silver stage fails on it)",
    );
    expect(failed.stderr).toContain("a dbt model or test failed: fix the nodes named above");
    // Still failing on the next run: the verdict is append-only.
    expect((await npmRunDbt(["silver"])).exitCode).toBe(1);

    // The documented action: re-classify everything under the current rules.
    const unblocked = await npmRunDbt(["all", "--full-refresh"]);
    expect(unblocked.exitCode, unblocked.all).toBe(0);
    expect(
      await db.query(
        "select status, primary_reason from silver.transaction_classifications where batch_id = 'poison'",
      ),
    ).toEqual([{ status: "quarantined", primary_reason: "AMOUNT_OUT_OF_RANGE" }]);
    expect(await db.query("select count(*)::int as n from silver.validated_transactions")).toEqual([
      { n: 4 },
    ]);
    expect((await npmRunDbt(["silver"])).exitCode).toBe(0);
  });

  it("a row the watermark skipped is found even when a classification without its landed row balances the count", async () => {
    expect(await withDb((client) => stuckRows(client))).toEqual({ counts: [], examples: [] });
    // A landed row deleted after it was classified leaves its classification behind; a row
    // that commits late lands below the watermark (an ingest_id the models have passed).
    // As many classifications as landed rows: only the ids tell the stuck row apart.
    await db.query("delete from bronze.scout_transactions_raw where batch_id = 'late' and record_seq = 1");
    await db.query(
      `insert into bronze.scout_transactions_raw (ingest_id, source, batch_id, record_seq, payload_raw)
       overriding system value values (0, 'test', 'committed-late', 0, $1)`,
      [transaction("TX-LATE", 5)],
    );
    const report = await withDb((client) => stuckRows(client));
    expect(report.counts).toEqual([{ entity: "transactions", rule: "UNCLASSIFIED", rows: 1 }]);
    expect(report.examples).toMatchObject([{ batchId: "committed-late", recordSeq: 0, id: "TX-LATE" }]);
  });
});
