/**
 * Gold figures on a small hand-computed fixture (real dbt, real PostgreSQL): MoM, YoY,
 * moving average and the 2-sigma anomaly flag must match the numbers worked out by hand
 * below. Also: a second build changes nothing, a re-delivered batch adds nothing, and
 * the dbt wrapper's error path on a deliberately failing model.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DbtRunError, runDbt } from "../../lib/dbt/cli.ts";
import { createMedallionDatabase, DBT_PROJECT, type MedallionDatabase } from "../helpers/medallion.ts";

const AS_OF = { as_of_date: "2025-06-30" };

function transaction(id: string, category: string, date: string, amount: number): string {
  return JSON.stringify({
    transaction_id: id,
    store_id: "S001",
    product_id: "P0001",
    category,
    quantity: 1,
    unit_price: amount,
    amount,
    transaction_date: date,
    payment_method: "cash",
    customer_id: "C00001",
  });
}

function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

// snacks, monthly: 2024-01 100, 2024-02 150 (two sales), nothing until 2025-01 200, 2025-02 120.
const snacks = [
  transaction("TX-S1", "snacks", "2024-01-10", 100),
  transaction("TX-S2", "snacks", "2024-02-05", 100),
  transaction("TX-S3", "snacks", "2024-02-20", 50),
  transaction("TX-S4", "snacks", "2025-01-15", 200),
  transaction("TX-S5", "snacks", "2025-02-03", 120),
];
// dairy, weekly from Monday 2024-01-01: eight weeks of 100, then 110, then 300.
const dairyAmounts = [100, 100, 100, 100, 100, 100, 100, 100, 110, 300];
const dairy = dairyAmounts.map((amount, week) =>
  transaction(`TX-D${week}`, "dairy", addDays("2024-01-02", week * 7), amount),
);

let db: MedallionDatabase;

beforeAll(async () => {
  db = await createMedallionDatabase("gold");
  await db.deliver("scout_transactions_raw", "fixture-1", [...snacks, ...dairy]);
  await db.deliver("scout_products_raw", "products-1", [
    JSON.stringify({
      product_id: "P0001",
      product_name: "Chips",
      category: "snacks",
      brand: "B",
      unit_price: 10,
      updated_at: "2024-01-01T00:00:00Z",
    }),
  ]);
  await db.dbt({ command: "build", vars: AS_OF });
});

afterAll(async () => {
  await db?.drop();
  if (db) rmSync(db.targetPath, { recursive: true, force: true });
});

describe("gold figures match the hand-computed fixture", () => {
  it("monthly summary: zero-filled months, MoM and YoY growth", async () => {
    const rows = await db.query<Record<string, string | number | null>>(
      `select to_char(month, 'YYYY-MM') as month, total_amount::text, transaction_count::int,
              mom_growth_pct::text, yoy_growth_pct::text
         from gold.monthly_summary where category = 'snacks' order by month`,
    );
    expect(rows).toHaveLength(14); // 2024-01 .. 2025-02, gaps filled with zeros
    const byMonth = Object.fromEntries(rows.map((row) => [row["month"], row]));
    expect(byMonth["2024-01"]).toMatchObject({
      total_amount: "100.00",
      transaction_count: 1,
      mom_growth_pct: null,
      yoy_growth_pct: null,
    });
    expect(byMonth["2024-02"]).toMatchObject({
      total_amount: "150.00",
      transaction_count: 2,
      mom_growth_pct: "50.00",
    });
    expect(byMonth["2024-03"]).toMatchObject({ total_amount: "0.00", mom_growth_pct: "-100.00" });
    expect(byMonth["2024-04"]).toMatchObject({ total_amount: "0.00", mom_growth_pct: null }); // 0 → 0: undefined growth
    expect(byMonth["2025-01"]).toMatchObject({
      total_amount: "200.00",
      mom_growth_pct: null,
      yoy_growth_pct: "100.00",
    });
    expect(byMonth["2025-02"]).toMatchObject({
      total_amount: "120.00",
      mom_growth_pct: "-40.00",
      yoy_growth_pct: "-20.00",
    });
  });

  it("weekly trends: 4-week moving average and the 2-sigma anomaly", async () => {
    const rows = await db.query<{
      week_start: string;
      weekly_amount: string;
      moving_avg_4w: string;
      is_anomaly: boolean;
      baseline_stddev_12w: string | null;
    }>(
      `select to_char(week_start, 'YYYY-MM-DD') as week_start, weekly_amount::text, moving_avg_4w::text,
              is_anomaly, baseline_stddev_12w::text
         from gold.category_trends where category = 'dairy' and weekly_amount > 0 order by week_start`,
    );
    expect(rows.map((row) => row.weekly_amount)).toEqual(dairyAmounts.map((amount) => amount.toFixed(2)));
    expect(rows[0]?.week_start).toBe("2024-01-01");
    // Week 10: (100 + 100 + 110 + 300) / 4 = 152.50.
    expect(rows[9]?.moving_avg_4w).toBe("152.50");
    // Week 9 (110): its 8 prior weeks are all 100 - stddev 0, so never an anomaly.
    expect(rows[8]).toMatchObject({ is_anomaly: false, baseline_stddev_12w: "0.00" });
    // Week 10 (300): mean of the 9 prior weeks 101.11, sample stddev 3.33; 300 is far beyond 2 sigma.
    expect(rows[9]).toMatchObject({ is_anomaly: true, baseline_stddev_12w: "3.33" });
    expect(rows.filter((row) => row.is_anomaly)).toHaveLength(1);
  });

  it("a second build changes nothing", async () => {
    const snapshot = () =>
      db.query(
        `select (select md5(string_agg(t::text, '|' order by transaction_id)) from silver.validated_transactions t) as silver,
                (select md5(string_agg(g::text, '|' order by month, category)) from gold.monthly_summary g) as gold,
                (select count(*) from silver.transaction_classifications) as classified`,
      );
    const before = await snapshot();
    const summary = await db.dbt({ command: "build", vars: AS_OF });
    expect(summary.tests.fail + summary.tests.error).toBe(0);
    expect(await snapshot()).toEqual(before);
  });

  it("re-delivering the same batch adds nothing, down to silver", async () => {
    expect(await db.deliver("scout_transactions_raw", "fixture-1", [...snacks, ...dairy])).toBe(0);
    await db.dbt({ command: "build", stage: "silver", vars: AS_OF });
    expect(await db.query("select count(*)::int as n from silver.validated_transactions")).toEqual([
      { n: snacks.length + dairy.length },
    ]);
  });
});

describe("incremental builds stay exact", () => {
  it("a new transaction on a day already built updates that day, the month and the embeddings", async () => {
    const day = () =>
      db.query<{ transaction_count: number; revenue: string }>(
        "select transaction_count::int, revenue::text from gold.scout_sales where sales_date = '2024-02-05' and category = 'snacks'",
      );
    expect(await day()).toEqual([{ transaction_count: 1, revenue: "100.00" }]);
    expect(
      await db.deliver("scout_transactions_raw", "fixture-2", [
        transaction("TX-S6", "snacks", "2024-02-05", 25),
      ]),
    ).toBe(1);
    await db.dbt({ command: "build", vars: AS_OF });
    expect(await day()).toEqual([{ transaction_count: 2, revenue: "125.00" }]);
    expect(
      await db.query(
        "select total_amount::text, mom_growth_pct::text from gold.monthly_summary where category = 'snacks' and month = '2024-02-01'",
      ),
    ).toEqual([{ total_amount: "175.00", mom_growth_pct: "75.00" }]);
    expect(
      await db.query(
        "select count(*)::int as n from platinum.transaction_embeddings where transaction_id = 'TX-S6'",
      ),
    ).toEqual([{ n: 1 }]);
  });
});

describe("the dbt wrapper", () => {
  it("throws a typed error naming the failing model and its message", async () => {
    const project = mkdtempSync(join(tmpdir(), "aiwb-dbt-broken-"));
    try {
      cpSync(DBT_PROJECT, project, {
        recursive: true,
        filter: (path) => !/\/(target|logs)(\/|$)/.test(path),
      });
      writeFileSync(join(project, "models/gold/broken_model.sql"), "select 1 / 0 as boom\n");
      const failure = await runDbt({
        command: "build",
        projectDir: project,
        connection: db.connection,
        select: ["broken_model"],
        targetPath: join(project, "target"),
      }).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(DbtRunError);
      const error = failure as DbtRunError;
      expect(error.failures.map((node) => [node.uniqueId, node.status])).toEqual([
        ["model.workbench.broken_model", "error"],
      ]);
      expect(error.message).toMatch(
        /^dbt build failed on 1 node\(s\):\n {2}- model\.workbench\.broken_model \[error\]: .*division by zero/,
      );
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });
});
