/**
 * The incremental paths of gold and platinum touch only what new deliveries can change,
 * and stay exact (real dbt, real PostgreSQL). A late transaction in an old month rewrites
 * that month, the next month (MoM) and the same month a year later (YoY); a late row in
 * an old week rewrites the 13 weeks whose 4-week average or 12-week baseline read it; a
 * re-delivered batch rewrites nothing; a basket that gains a product changes only its
 * pairs. "Rewritten" is read from the rows' xmin (a row an incremental run leaves alone
 * keeps it). After every incremental build, each gold and platinum table must equal a
 * --full-refresh build of the same data.
 */
import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMedallionDatabase, type MedallionDatabase } from "../helpers/medallion.ts";

const AS_OF = { as_of_date: "2025-06-30" };

interface Sale {
  id: string;
  category: string;
  date: string;
  amount: number;
  customer: string;
  product: string;
}

function transaction(sale: Sale): string {
  return JSON.stringify({
    transaction_id: sale.id,
    store_id: "S001",
    product_id: sale.product,
    category: sale.category,
    quantity: 1,
    unit_price: sale.amount,
    amount: sale.amount,
    transaction_date: sale.date,
    payment_method: "cash",
    customer_id: sale.customer,
  });
}

function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

function addMonths(month: string, months: number): string {
  const date = new Date(`${month}T00:00:00Z`);
  date.setUTCMonth(date.getUTCMonth() + months);
  return date.toISOString().slice(0, 10);
}

// 15 months (2023-01 .. 2024-03), four sales a month on days 3, 10, 17 and 24: snacks and
// dairy by turns, three customers and four products, so baskets hold several products.
const history: Sale[] = Array.from({ length: 15 }, (_, m) =>
  [0, 1, 2, 3].map((k) => ({
    id: `TX-${m}-${k}`,
    category: k % 2 ? "dairy" : "snacks",
    date: addDays(addMonths("2023-01-01", m), 2 + 7 * k),
    amount: 50 + ((m * 7 + k * 13) % 40),
    customer: `C0000${((m + k) % 3) + 1}`,
    product: `P000${k + 1}`,
  })),
).flat();

/** Every gold and platinum table, for the comparison with a full refresh. */
const TABLES = [
  "gold.monthly_summary",
  "gold.category_trends",
  "gold.scout_sales",
  "gold.finance_expenses",
  "platinum.basket_items",
  "platinum.product_pair_counts",
  "platinum.product_recommendations",
  "platinum.scout_sales_trends",
  "platinum.monthly_expenses_by_agency",
  "platinum.transaction_embeddings",
];

/** The incrementally maintained tables: a row they do not rewrite keeps its xmin. */
const INCREMENTAL = [
  ["gold.monthly_summary", "month::text || ' ' || category"],
  ["gold.category_trends", "week_start::text || ' ' || category"],
  ["gold.scout_sales", "sales_date::text || ' ' || store_id || ' ' || category"],
  ["platinum.basket_items", "customer_id || ' ' || basket_month::text || ' ' || product_id"],
  ["platinum.product_pair_counts", "product_id || ' ' || paired_product_id"],
  ["platinum.transaction_embeddings", "transaction_id"],
] as const;

let db: MedallionDatabase;

/** Each table's rows as text, sorted (column order and values, nothing else). */
async function contents(): Promise<Record<string, string[]>> {
  const result: Record<string, string[]> = {};
  for (const table of TABLES) {
    const rows = await db.query<{ row: string }>(`select t::text as row from ${table} as t order by 1`);
    result[table] = rows.map((r) => r.row);
  }
  return result;
}

/** key -> xmin of every row of an incremental table. */
async function versions(table: string, key: string): Promise<Map<string, string>> {
  const rows = await db.query<{ key: string; xmin: string }>(
    `select ${key} as key, xmin::text as xmin from ${table}`,
  );
  return new Map(rows.map((row) => [row.key, row.xmin]));
}

/** Keys whose row is new or was rewritten since `before`. */
function rewritten(before: Map<string, string>, after: Map<string, string>): string[] {
  return [...after]
    .filter(([key, xmin]) => before.get(key) !== xmin)
    .map(([key]) => key)
    .sort();
}

/** The tables as the incremental build left them equal a --full-refresh build. */
async function expectSameAsFullRefresh(): Promise<void> {
  const incremental = await contents();
  expect(Object.values(incremental).every((rows) => rows.length > 0)).toBe(true);
  await db.dbt({ command: "run", fullRefresh: true, vars: AS_OF });
  const full = await contents();
  for (const table of TABLES)
    expect({ table, rows: incremental[table] }).toEqual({ table, rows: full[table] });
}

beforeAll(async () => {
  db = await createMedallionDatabase("incr");
  await db.deliver(
    "scout_products_raw",
    "products-1",
    [1, 2, 3, 4, 5].map((n) =>
      JSON.stringify({
        product_id: `P000${n}`,
        product_name: `Product ${n}`,
        category: "snacks",
        brand: "B",
        unit_price: 10,
        updated_at: "2023-01-01T00:00:00Z",
      }),
    ),
  );
  await db.deliver("expenses_raw", "expenses-1", [
    JSON.stringify({
      expense_id: "EXP-1",
      agency: "DOH",
      category: "travel",
      amount: 1200,
      expense_date: "2023-03-04",
    }),
  ]);
  await db.deliver("scout_transactions_raw", "history", history.map(transaction));
  await db.dbt({ command: "build", vars: AS_OF });
}, 300_000);

afterAll(async () => {
  await db?.drop();
  if (db) rmSync(db.targetPath, { recursive: true, force: true });
});

describe("incremental gold and platinum", () => {
  it("a late transaction in an old month rewrites that month, the next month's MoM and next year's YoY", async () => {
    const month = () =>
      db.query<{ month: string; total_amount: string; prev_month_amount: string; prev_year_amount: string }>(
        `select month::text, total_amount::text, prev_month_amount::text, prev_year_amount::text
           from gold.monthly_summary where category = 'snacks' and month in ('2023-02-01', '2023-03-01', '2024-02-01')
          order by month`,
      );
    const before = await month();
    const versionsBefore = await versions("gold.monthly_summary", INCREMENTAL[0][1]);

    await db.deliver("scout_transactions_raw", "late-month", [
      transaction({
        id: "TX-LATE-M",
        category: "snacks",
        date: "2023-02-12",
        amount: 77,
        customer: "C00001",
        product: "P0001",
      }),
    ]);
    await db.dbt({ command: "build", vars: AS_OF });

    expect(rewritten(versionsBefore, await versions("gold.monthly_summary", INCREMENTAL[0][1]))).toEqual([
      "2023-02-01 snacks",
      "2023-03-01 snacks",
      "2024-02-01 snacks",
    ]);
    const after = await month();
    const february = (Number(before[0]?.total_amount) + 77).toFixed(2);
    expect(after).toEqual([
      { ...before[0], total_amount: february },
      { ...before[1], prev_month_amount: february },
      { ...before[2], prev_year_amount: february },
    ]);
    await expectSameAsFullRefresh();
  });

  it("a late row in an old week rewrites the weeks whose 4-week average or baseline read it", async () => {
    const week = "2023-06-12"; // a Monday; the late sale is on the Wednesday
    const weeks = () =>
      db.query<{ week_start: string; moving_avg_4w: string; baseline_mean_12w: string | null }>(
        `select week_start::text, moving_avg_4w::text, baseline_mean_12w::text
           from gold.category_trends where category = 'dairy' order by week_start`,
      );
    const incomplete = await db.query<{ key: string }>(
      "select week_start::text || ' ' || category as key from gold.category_trends where not is_complete_week",
    );
    const before = await weeks();
    const versionsBefore = await versions("gold.category_trends", INCREMENTAL[1][1]);

    await db.deliver("scout_transactions_raw", "late-week", [
      transaction({
        id: "TX-LATE-W",
        category: "dairy",
        date: addDays(week, 2),
        amount: 500,
        customer: "C00002",
        product: "P0002",
      }),
    ]);
    await db.dbt({ command: "build", vars: AS_OF });

    const following = Array.from({ length: 13 }, (_, n) => addDays(week, 7 * n));
    expect(rewritten(versionsBefore, await versions("gold.category_trends", INCREMENTAL[1][1]))).toEqual(
      [...following.map((start) => `${start} dairy`), ...incomplete.map((row) => row.key)].sort(),
    );
    const after = await weeks();
    const at = (rows: typeof before, start: string) => rows.find((row) => row.week_start === start);
    // The week itself and the three after it average it in; the twelve after it have it in their baseline.
    for (const [n, start] of following.entries()) {
      if (n <= 3) expect(at(after, start)?.moving_avg_4w).not.toBe(at(before, start)?.moving_avg_4w);
      else expect(at(after, start)?.moving_avg_4w).toBe(at(before, start)?.moving_avg_4w);
      if (n >= 1) expect(at(after, start)?.baseline_mean_12w).not.toBe(at(before, start)?.baseline_mean_12w);
    }
    // The week after the last one that reads it is as it was.
    expect(at(after, addDays(week, 7 * 13))).toEqual(at(before, addDays(week, 7 * 13)));
    await expectSameAsFullRefresh();
  });

  it("a re-delivered batch rewrites nothing", async () => {
    const before = new Map<string, Map<string, string>>();
    for (const [table, key] of INCREMENTAL) before.set(table, await versions(table, key));
    const tablesBefore = await contents();

    // The same batch again is refused by the landing table; the same rows under a new batch
    // id are classified duplicates in silver and reach no gold or platinum row.
    expect(await db.deliver("scout_transactions_raw", "history", history.map(transaction))).toBe(0);
    expect(await db.deliver("scout_transactions_raw", "history-again", history.map(transaction))).toBe(
      history.length,
    );
    await db.dbt({ command: "build", vars: AS_OF });

    expect(
      await db.query(
        "select count(*)::int as n from silver.transaction_duplicates where batch_id = 'history-again'",
      ),
    ).toEqual([{ n: history.length }]);
    for (const [table, key] of INCREMENTAL) {
      expect({
        table,
        rewritten: rewritten(before.get(table) ?? new Map(), await versions(table, key)),
      }).toEqual({
        table,
        rewritten: [],
      });
    }
    expect(await contents()).toEqual(tablesBefore);
    await expectSameAsFullRefresh();
  });

  it("a basket that gains a product changes only the pairs with that product", async () => {
    const pairs = await versions("platinum.product_pair_counts", INCREMENTAL[4][1]);
    const items = await db.query<{ product_id: string }>(
      "select product_id from platinum.basket_items where customer_id = 'C00001' and basket_month = '2023-04-01' order by 1",
    );
    expect(items.length).toBeGreaterThan(0);

    await db.deliver("scout_transactions_raw", "new-product", [
      transaction({
        id: "TX-P5",
        category: "snacks",
        date: "2023-04-20",
        amount: 12,
        customer: "C00001",
        product: "P0005",
      }),
    ]);
    await db.dbt({ command: "build", vars: AS_OF });

    const expected = [
      "P0005 P0005",
      ...items.flatMap(({ product_id }) => [`${product_id} P0005`, `P0005 ${product_id}`]),
    ].sort();
    expect(rewritten(pairs, await versions("platinum.product_pair_counts", INCREMENTAL[4][1]))).toEqual(
      expected,
    );
    await expectSameAsFullRefresh();
  });

  it("--full-refresh rebuilds every row", async () => {
    const before = new Map<string, Map<string, string>>();
    for (const [table, key] of INCREMENTAL) before.set(table, await versions(table, key));
    await db.dbt({ command: "run", fullRefresh: true, vars: AS_OF });
    for (const [table, key] of INCREMENTAL) {
      const after = await versions(table, key);
      expect({ table, kept: [...after].filter(([k, xmin]) => before.get(table)?.get(k) === xmin) }).toEqual({
        table,
        kept: [],
      });
    }
  });
});
