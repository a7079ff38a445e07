/**
 * Gold and platinum stay exact where an independent recomputation found them wrong
 * (real dbt, real PostgreSQL): a product rename reaches the embedding texts on an
 * incremental run; categories without sales are rows of zeros in the grids; a flat
 * baseline can still flag an anomaly; the last, partial week is not flagged for being
 * short.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMedallionDatabase, type MedallionDatabase } from "../helpers/medallion.ts";

const AS_OF = { as_of_date: "2025-06-30" };

function transaction(id: string, category: string, date: string, amount: number, product = "P0001"): string {
  return JSON.stringify({
    transaction_id: id,
    store_id: "S001",
    product_id: product,
    category,
    quantity: 1,
    unit_price: amount,
    amount,
    transaction_date: date,
    customer_id: "C00001",
  });
}

function product(id: string, name: string, updatedAt: string): string {
  return JSON.stringify({
    product_id: id,
    product_name: name,
    category: "bakery",
    brand: "B",
    unit_price: 10,
    updated_at: updatedAt,
  });
}

function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

/** Monday 2024-01-01 + n weeks (+ day offset). */
const week = (n: number, day = 1) => addDays("2024-01-01", n * 7 + day);

let db: MedallionDatabase;

beforeAll(async () => {
  db = await createMedallionDatabase("exact");
  await db.deliver("scout_products_raw", "products-1", [
    product("P0001", "Pandesal", "2024-01-01T00:00:00Z"),
  ]);
  await db.deliver("scout_transactions_raw", "tx-1", [
    // bakery: ten weeks of exactly 100 (a flat baseline), then 200 in week 10.
    ...Array.from({ length: 10 }, (_, n) => transaction(`TX-B${n}`, "bakery", week(n), 100)),
    transaction("TX-B10", "bakery", week(10), 200),
    // dairy: 650 and 750 by turns for 12 weeks, then a last week with one day of sales
    // (100): the data ends on that Tuesday (week 12's Tuesday is the last transaction date).
    ...Array.from({ length: 12 }, (_, n) => transaction(`TX-D${n}`, "dairy", week(n), n % 2 ? 750 : 650)),
    transaction("TX-D12", "dairy", week(12), 100),
  ]);
  await db.dbt({ command: "build", vars: AS_OF });
}, 300_000);

afterAll(async () => {
  await db?.drop();
});

describe("gold grids and anomalies", () => {
  it("every allowed category is in the zero-filled grids, sold yet or not", async () => {
    const categories = await db.query<{ category: string }>("select category from silver.allowed_categories");
    expect(categories.length).toBe(10);
    const monthly = await db.query<{ category: string; months: number; total: string }>(
      `select category, count(*)::int as months, sum(total_amount)::text as total
         from gold.monthly_summary group by 1 order by 1`,
    );
    expect(monthly.map((row) => row.category).sort()).toEqual(categories.map((row) => row.category).sort());
    expect(monthly.find((row) => row.category === "frozen")).toEqual({
      category: "frozen",
      months: 3,
      total: "0.00",
    });
    const weekly = await db.query<{ n: number }>(
      "select count(distinct category)::int as n from gold.category_trends",
    );
    expect(weekly).toEqual([{ n: 10 }]);
  });

  it("a flat baseline (standard deviation 0) still flags a doubling", async () => {
    const rows = await db.query<{ is_anomaly: boolean; baseline_stddev_12w: string }>(
      `select is_anomaly, baseline_stddev_12w::text from gold.category_trends
        where category = 'bakery' and week_start = $1`,
      [addDays("2024-01-01", 70)],
    );
    expect(rows).toEqual([{ is_anomaly: true, baseline_stddev_12w: "0.00" }]);
  });

  it("the last, partial week is not flagged as a drop", async () => {
    const rows = await db.query<{ weekly_amount: string; is_complete_week: boolean; is_anomaly: boolean }>(
      `select weekly_amount::text, is_complete_week, is_anomaly from gold.category_trends
        where category = 'dairy' and week_start = $1`,
      [addDays("2024-01-01", 84)],
    );
    expect(rows).toEqual([{ weekly_amount: "100.00", is_complete_week: false, is_anomaly: false }]);
    const complete = await db.query<{ n: number }>(
      `select count(*)::int as n from gold.category_trends
        where category = 'dairy' and week_start < $1 and not is_complete_week`,
      [addDays("2024-01-01", 84)],
    );
    expect(complete).toEqual([{ n: 0 }]);
  });
});

describe("embedding texts follow the product", () => {
  it("a rename reaches the texts of transactions already written, on an incremental run", async () => {
    const text = async () =>
      (
        await db.query<{ embedding_text: string }>(
          "select embedding_text from platinum.transaction_embeddings where transaction_id = 'TX-B0'",
        )
      )[0]?.embedding_text;
    expect(await text()).toContain("Pandesal");
    await db.deliver("scout_products_raw", "products-2", [
      product("P0001", "Pan de sal", "2024-06-01T00:00:00Z"),
    ]);
    await db.dbt({ command: "build", vars: AS_OF });
    expect(await text()).toContain("x Pan de sal (bakery)");
    const stale = await db.query<{ n: number }>(
      `select count(*)::int as n from platinum.transaction_embeddings
        where embedding_text like '%Pandesal%'`,
    );
    expect(stale).toEqual([{ n: 0 }]);
  });
});
