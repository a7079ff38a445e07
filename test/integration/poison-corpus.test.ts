/**
 * A hand-written corpus of bad deliveries the generator never makes (real dbt, real
 * PostgreSQL). Each kind is delivered as its own batch; every kind must land with the
 * status and primary reason written next to it, the build must succeed with them all in
 * (and again after: nothing poisons a later run), and every batch must reconcile:
 * landed = valid + quarantined + duplicate. Boundary values that ARE valid sit beside
 * the bad ones, so a bound that is too tight fails too.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import type { DbtRunSummary } from "../../lib/dbt/cli.ts";
import { loadSampleData } from "../../lib/sample-data/index.ts";
import { createMedallionDatabase, type MedallionDatabase } from "../helpers/medallion.ts";

const AS_OF = { as_of_date: "2025-06-30" };

type Entity = "transactions" | "expenses" | "products";

interface Kind {
  entity: Entity;
  name: string;
  /** The raw record as delivered (text: it need not be JSON). */
  raw: string;
  /** valid | quarantined | duplicate (products: current | superseded | quarantined). */
  status: string;
  /** The primary reason code (quarantined rows only). */
  reason?: string;
}

const BASE_TX = {
  transaction_id: "TX-BASE",
  store_id: "S001",
  product_id: "P0001",
  category: "snacks",
  quantity: 1,
  unit_price: 10,
  amount: 10,
  transaction_date: "2025-06-01",
  transaction_ts: "2025-06-01T10:00:00Z",
  payment_method: "cash",
  customer_id: "C00001",
};
const BASE_EXPENSE = {
  expense_id: "EX-BASE",
  agency: "Department of Finance",
  employee_id: "E0001",
  vendor: "Office Depot",
  category: "supplies",
  currency: "USD",
  description: "paper",
  amount: 120.5,
  expense_date: "2025-06-02",
};
const BASE_PRODUCT = {
  product_id: "P0001",
  product_name: "Chips",
  category: "snacks",
  brand: "B",
  unit_price: 10,
  updated_at: "2025-01-01T00:00:00Z",
};

let serial = 0;
/** A transaction with its own id (unless the change sets one) and `changes` applied. */
function tx(changes: Record<string, unknown>): string {
  serial += 1;
  return JSON.stringify({ ...BASE_TX, transaction_id: `TX-K${serial}`, ...changes });
}
function expense(changes: Record<string, unknown>): string {
  serial += 1;
  return JSON.stringify({ ...BASE_EXPENSE, expense_id: `EX-K${serial}`, ...changes });
}
function product(changes: Record<string, unknown>): string {
  serial += 1;
  return JSON.stringify({ ...BASE_PRODUCT, product_id: `P9${String(serial).padStart(3, "0")}`, ...changes });
}
/** A transaction on `date` (timestamp on the same day). */
function txOn(date: string, changes: Record<string, unknown> = {}): string {
  return tx({ transaction_date: date, transaction_ts: `${date}T10:00:00Z`, ...changes });
}

const LONG = "X".repeat(3000);
const q = (entity: Entity, name: string, raw: string, reason: string): Kind => ({
  entity,
  name,
  raw,
  status: "quarantined",
  reason,
});
const ok = (entity: Entity, name: string, raw: string, status = "valid"): Kind => ({
  entity,
  name,
  raw,
  status,
});

const KINDS: Kind[] = [
  // Poison pills: each used to fail a stage on every run.
  q("transactions", "id of 3,000 characters", tx({ transaction_id: `TX-${LONG}` }), "OVERSIZED_FIELD"),
  q("transactions", "customer id of 3,000 characters", tx({ customer_id: LONG }), "OVERSIZED_FIELD"),
  q("transactions", "amount 1e12", tx({ amount: 1e12 }), "AMOUNT_OUT_OF_RANGE"),
  q("transactions", "amount 1e12 as text", tx({ amount: "1000000000000.00" }), "AMOUNT_OUT_OF_RANGE"),
  q("transactions", "amount 1e308", tx({ amount: 1e308 }), "AMOUNT_OUT_OF_RANGE"),
  q("transactions", "amount 0.004 (rounds to 0.00)", tx({ amount: 0.004 }), "TOO_MANY_DECIMALS"),
  q("transactions", "amount 1e-320", tx({ amount: "1e-320" }), "TOO_MANY_DECIMALS"),
  q("transactions", "amount 10.005", tx({ amount: 10.005 }), "TOO_MANY_DECIMALS"),
  q("transactions", "amount 1e-5", tx({ amount: 1e-5 }), "TOO_MANY_DECIMALS"),
  q("transactions", "quantity 0", tx({ quantity: 0 }), "QUANTITY_OUT_OF_RANGE"),
  q("transactions", "quantity -3", tx({ quantity: -3 }), "QUANTITY_OUT_OF_RANGE"),
  q("transactions", "quantity 1,000,001", tx({ quantity: 1_000_001 }), "QUANTITY_OUT_OF_RANGE"),
  q("transactions", "quantity 1e300", tx({ quantity: 1e300 }), "QUANTITY_OUT_OF_RANGE"),
  q("transactions", "quantity 1.5", tx({ quantity: 1.5 }), "NON_INTEGER_QUANTITY"),
  q("transactions", "unit_price 1e308", tx({ unit_price: 1e308 }), "AMOUNT_OUT_OF_RANGE"),
  q("transactions", "unit_price 1e10", tx({ unit_price: 1e10 }), "AMOUNT_OUT_OF_RANGE"),
  // Wrongly accepted before.
  q("transactions", "empty id", tx({ transaction_id: "" }), "BLANK_FIELD"),
  q("transactions", "whitespace id", tx({ transaction_id: "   " }), "BLANK_FIELD"),
  q("transactions", "tab and newline store", tx({ store_id: "\t\n" }), "BLANK_FIELD"),
  q("transactions", "no-break space store", tx({ store_id: "\u00a0" }), "BLANK_FIELD"),
  q("transactions", "ideographic space product", tx({ product_id: "\u3000" }), "BLANK_FIELD"),
  q("transactions", "empty category", tx({ category: "" }), "BLANK_FIELD"),
  q("transactions", "id an object", tx({ transaction_id: { id: "TX-1" } }), "INVALID_TYPE"),
  q("transactions", "id an array", tx({ transaction_id: ["TX-1"] }), "INVALID_TYPE"),
  q("transactions", "id a boolean", tx({ transaction_id: true }), "INVALID_TYPE"),
  q("transactions", "id a number", tx({ transaction_id: 12345 }), "INVALID_TYPE"),
  q("transactions", "store an array", tx({ store_id: [] }), "INVALID_TYPE"),
  q("transactions", "category a number", tx({ category: 5 }), "INVALID_TYPE"),
  q("transactions", "payment method an object", tx({ payment_method: { kind: "cash" } }), "INVALID_TYPE"),
  q("transactions", "transaction_ts 24:00", tx({ transaction_ts: "2025-06-01T24:00:00Z" }), "INVALID_TYPE"),
  q(
    "transactions",
    "transaction_ts 23:59:60",
    tx({ transaction_ts: "2025-06-01T23:59:60Z" }),
    "INVALID_TYPE",
  ),
  q("transactions", "transaction_ts yesterday", tx({ transaction_ts: "yesterday" }), "INVALID_TYPE"),
  q("transactions", "transaction_ts epoch number", tx({ transaction_ts: 1748772000 }), "INVALID_TYPE"),
  q(
    "transactions",
    "transaction_ts on another day",
    tx({ transaction_ts: "2025-06-02T10:00:00Z" }),
    "TIMESTAMP_DATE_MISMATCH",
  ),
  q("transactions", "unit_price abc", tx({ unit_price: "abc" }), "INVALID_TYPE"),
  q("transactions", "unit_price negative", tx({ unit_price: -5 }), "NON_POSITIVE_AMOUNT"),
  q("transactions", "unit_price 0", tx({ unit_price: 0 }), "NON_POSITIVE_AMOUNT"),
  q("transactions", "date 1000-01-01", txOn("1000-01-01"), "DATE_OUT_OF_RANGE"),
  q("transactions", "date 1999-12-31", txOn("1999-12-31"), "DATE_OUT_OF_RANGE"),
  q("transactions", "date 9999-12-31", txOn("9999-12-31"), "FUTURE_DATE"),
  q("transactions", "date 2025-02-30", txOn("2025-02-30"), "INVALID_TYPE"),
  q(
    "transactions",
    "date 2025-6-1",
    tx({ transaction_date: "2025-6-1", transaction_ts: null }),
    "INVALID_TYPE",
  ),
  q("transactions", "date 0000-01-01", txOn("0000-01-01"), "INVALID_TYPE"),
  q(
    "transactions",
    "id with a control character",
    tx({ transaction_id: "TX-\u0001-1" }),
    "INVALID_CHARACTERS",
  ),
  q("transactions", "amount NaN as text", tx({ amount: "NaN" }), "INVALID_TYPE"),
  q("transactions", "amount Infinity as text", tx({ amount: "Infinity" }), "INVALID_TYPE"),
  q("transactions", "amount -0", tx({ amount: "-0" }), "NON_POSITIVE_AMOUNT"),
  q("transactions", "amount 1e99999", tx({ amount: "1e99999" }), "INVALID_TYPE"),
  q("transactions", "amount hex", tx({ amount: "0x10" }), "INVALID_TYPE"),
  q("transactions", "amount with thousands separator", tx({ amount: "1,000.00" }), "INVALID_TYPE"),
  q("transactions", "amount an array", tx({ amount: [10] }), "INVALID_TYPE"),
  q("transactions", "amount an object", tx({ amount: { value: 10 } }), "INVALID_TYPE"),
  q("transactions", "amount a boolean", tx({ amount: true }), "INVALID_TYPE"),
  q("transactions", "amount null", tx({ amount: null }), "MISSING_FIELD"),
  q("transactions", "store null", tx({ store_id: null }), "MISSING_FIELD"),
  q("transactions", "category in upper case", tx({ category: "SNACKS" }), "UNKNOWN_CATEGORY"),
  q(
    "transactions",
    "duplicate key, last one negative",
    tx({}).replace(/}$/, ',"amount":-5}'),
    "NON_POSITIVE_AMOUNT",
  ),
  // JSON edge cases.
  q("transactions", "escaped NUL in a string", tx({}).replace('"S001"', '"S\\u0000"'), "MALFORMED_JSON"),
  q("transactions", "lone surrogate", tx({}).replace('"S001"', '"S\\ud800"'), "MALFORMED_JSON"),
  q("transactions", "top-level array", `[${tx({})}]`, "MALFORMED_JSON"),
  q("transactions", "top-level string", '"hello"', "MALFORMED_JSON"),
  q("transactions", "top-level number", "42", "MALFORMED_JSON"),
  q("transactions", "top-level null", "null", "MALFORMED_JSON"),
  q("transactions", "empty record", "", "MALFORMED_JSON"),
  q("transactions", "whitespace record", "   ", "MALFORMED_JSON"),
  q("transactions", "byte-order mark", `\ufeff${tx({})}`, "MALFORMED_JSON"),
  q("transactions", "trailing garbage", `${tx({})} x`, "MALFORMED_JSON"),
  q("transactions", "two objects", `${tx({})}${tx({})}`, "MALFORMED_JSON"),
  q("transactions", "a comment", `/* c */ ${tx({})}`, "MALFORMED_JSON"),
  // Ids are normalised: the same id in another spelling is a re-delivery.
  ok("transactions", "existing id with a trailing space", tx({ transaction_id: "TX-BASE " }), "duplicate"),
  ok("transactions", "existing id in lower case", tx({ transaction_id: "tx-base" }), "duplicate"),
  ok(
    "transactions",
    "existing id through a unicode escape",
    tx({}).replace(/"TX-K\d+"/, '"\\u0054X-BASE"'),
    "duplicate",
  ),
  // Boundaries that are valid.
  ok(
    "transactions",
    "largest amount, first of two on one store and day",
    tx({ amount: 999999999999.99, store_id: "S900" }),
  ),
  ok(
    "transactions",
    "largest amount, second of two on one store and day",
    tx({ amount: 999999999999.99, store_id: "S900" }),
  ),
  ok("transactions", "smallest amount", tx({ amount: 0.01 })),
  ok("transactions", "largest quantity", tx({ quantity: 1_000_000 })),
  ok("transactions", "earliest date", txOn("2000-01-01")),
  ok("transactions", "id of 255 multi-byte characters", tx({ transaction_id: "é".repeat(255) })),
  ok(
    "transactions",
    "timestamp with an offset, same local day",
    tx({ transaction_ts: "2025-06-01T23:30:00-05:00" }),
  ),
  ok("transactions", "numbers as text with spaces", tx({ amount: " 12.50 ", quantity: "2" })),
  ok("transactions", "amount with an exponent", tx({ amount: "1e2" })),
  ok("transactions", "no timestamp, no unit price", tx({ transaction_ts: null, unit_price: null })),
  q(
    "transactions",
    "id of 256 multi-byte characters",
    tx({ transaction_id: "é".repeat(256) }),
    "OVERSIZED_FIELD",
  ),

  // Expenses.
  q("expenses", "empty agency", expense({ agency: "" }), "BLANK_FIELD"),
  q("expenses", "whitespace agency", expense({ agency: "  \t" }), "BLANK_FIELD"),
  q("expenses", "agency an object", expense({ agency: { name: "DOF" } }), "INVALID_TYPE"),
  q("expenses", "empty expense id", expense({ expense_id: "" }), "BLANK_FIELD"),
  q("expenses", "expense id of 3,000 characters", expense({ expense_id: LONG }), "OVERSIZED_FIELD"),
  q("expenses", "amount 1e12", expense({ amount: 1e12 }), "AMOUNT_OUT_OF_RANGE"),
  q("expenses", "amount 0.001", expense({ amount: 0.001 }), "TOO_MANY_DECIMALS"),
  q("expenses", "date 1000-01-01", expense({ expense_date: "1000-01-01" }), "DATE_OUT_OF_RANGE"),
  q("expenses", "currency an array", expense({ currency: ["USD"] }), "INVALID_TYPE"),
  q(
    "expenses",
    "employee id with a newline inside",
    expense({ employee_id: "E0\n001" }),
    "INVALID_CHARACTERS",
  ),
  ok("expenses", "existing id in lower case", expense({ expense_id: "ex-base" }), "duplicate"),
  ok("expenses", "largest amount, first", expense({ amount: 999999999999.99 })),
  ok("expenses", "largest amount, second", expense({ amount: 999999999999.99 })),

  // Products (rebuilt in full: current, superseded or quarantined).
  q("products", "unit_price 1e10", product({ unit_price: 1e10 }), "AMOUNT_OUT_OF_RANGE"),
  q("products", "unit_price abc", product({ unit_price: "abc" }), "INVALID_TYPE"),
  q("products", "unit_price 0.001", product({ unit_price: 0.001 }), "TOO_MANY_DECIMALS"),
  q(
    "products",
    "updated_at 9999",
    product({ product_id: "P0001", updated_at: "9999-12-31T00:00:00Z" }),
    "FUTURE_DATE",
  ),
  q("products", "updated_at 1000", product({ updated_at: "1000-01-01T00:00:00Z" }), "DATE_OUT_OF_RANGE"),
  q("products", "updated_at not a timestamp", product({ updated_at: "soon" }), "INVALID_TYPE"),
  q("products", "product id of 3,000 characters", product({ product_id: LONG }), "OVERSIZED_FIELD"),
  q("products", "empty product name", product({ product_name: "" }), "BLANK_FIELD"),
  q("products", "product name an array", product({ product_name: ["Chips"] }), "INVALID_TYPE"),
];

let db: MedallionDatabase;
let firstBuild: DbtRunSummary;

const LANDING: Record<Entity, "scout_transactions_raw" | "expenses_raw" | "scout_products_raw"> = {
  transactions: "scout_transactions_raw",
  expenses: "expenses_raw",
  products: "scout_products_raw",
};
const CLASSIFICATIONS: Record<Entity, string> = {
  transactions: "silver.transaction_classifications",
  expenses: "silver.expense_classifications",
  products: "silver.product_classifications",
};

function failedNodes(summary: DbtRunSummary): string[] {
  return summary.nodes
    .filter((node) => ["error", "fail", "runtime error"].includes(node.status))
    .map((node) => `${node.uniqueId}: ${node.message ?? ""}`);
}

beforeAll(async () => {
  db = await createMedallionDatabase("poison");
  // The accepted originals the re-deliveries refer to, in a first build.
  await db.deliver("scout_transactions_raw", "base", [JSON.stringify(BASE_TX)]);
  await db.deliver("expenses_raw", "base", [JSON.stringify(BASE_EXPENSE)]);
  await db.deliver("scout_products_raw", "base", [JSON.stringify(BASE_PRODUCT)]);
  await db.dbt({ command: "build", vars: AS_OF });
  // Then every kind, each in its own batch, and one build over them all.
  for (const [index, kind] of KINDS.entries()) {
    await db.deliver(LANDING[kind.entity], `kind-${index}`, [kind.raw]);
  }
  firstBuild = await db.dbt({ command: "build", vars: AS_OF });
}, 600_000);

afterAll(async () => {
  await db?.drop();
});

describe("the poison corpus", () => {
  it("has at least 60 hand-written bad kinds", () => {
    expect(KINDS.filter((kind) => kind.status === "quarantined").length).toBeGreaterThanOrEqual(60);
    expect(new Set(KINDS.map((kind) => `${kind.entity}: ${kind.name}`)).size).toBe(KINDS.length);
  });

  it("builds with every kind delivered, and builds again", async () => {
    expect(failedNodes(firstBuild)).toEqual([]);
    const again = await db.dbt({ command: "build", vars: AS_OF });
    expect(failedNodes(again)).toEqual([]);
  });

  it.each(KINDS.map((kind, index) => [kind.entity, kind.name, index] as const))(
    "%s: %s",
    async (entity, _name, index) => {
      const kind = KINDS[index] as Kind;
      const rows = await db.query<{ status: string; primary_reason: string | null; reason_codes: string[] }>(
        `select status, primary_reason, reason_codes from ${CLASSIFICATIONS[entity]} where batch_id = $1`,
        [`kind-${index}`],
      );
      expect(rows).toHaveLength(1);
      expect({ status: rows[0]?.status, reason: rows[0]?.primary_reason ?? undefined }).toEqual({
        status: kind.status,
        reason: kind.reason,
      });
    },
  );

  it("every batch reconciles: landed = valid + quarantined + duplicate", async () => {
    for (const entity of ["transactions", "expenses"] as const) {
      const rows = await db.query<{ batch_id: string; landed: number; classified: number }>(
        `select landing.batch_id, count(*)::int as landed,
                count(*) filter (where c.status in ('valid', 'quarantined', 'duplicate'))::int as classified
           from bronze.${LANDING[entity]} as landing
           left join ${CLASSIFICATIONS[entity]} as c using (ingest_id)
          group by 1`,
      );
      expect(rows.length).toBeGreaterThan(10);
      expect(rows.filter((row) => row.landed !== row.classified)).toEqual([]);
    }
  });

  it("valid extremes aggregate without overflow", async () => {
    expect(
      await db.query(
        `select revenue::text, transaction_count::int from gold.scout_sales
          where store_id = 'S900' and sales_date = '2025-06-01'`,
      ),
    ).toEqual([{ revenue: "1999999999999.98", transaction_count: 2 }]);
    const [agency] = await db.query<{ total: string }>(
      `select total_amount::text as total from platinum.monthly_expenses_by_agency
        where agency = 'Department of Finance' and month = '2025-06-01'`,
    );
    expect(agency?.total).toBe("2000000000120.48");
  });

  it("an id is stored normalised and a too-long id is cut for the index, not the raw text", async () => {
    const [row] = await db.query<{ id_length: number; raw_length: number }>(
      `select length(transaction_id)::int as id_length, length(payload_raw)::int as raw_length
         from silver.transaction_classifications where batch_id = 'kind-0'`,
    );
    expect(row?.id_length).toBe(255);
    expect(row?.raw_length).toBeGreaterThan(3000);
  });

  it("a product re-sent with updated_at 9999 does not become current", async () => {
    expect(
      await db.query(
        "select product_name, updated_at::date::text as updated from silver.products where product_id = 'P0001'",
      ),
    ).toEqual([{ product_name: "Chips", updated: "2025-01-01" }]);
  });

  it("an implausible date does not stretch the gold grids", async () => {
    const [grid] = await db.query<{ first: string }>(
      "select min(month)::text as first from gold.monthly_summary",
    );
    expect(grid?.first).toBe("2000-01-01");
  });
});

/**
 * At scale (AIWB_POISON_ROWS=1000000 bash scripts/test test/integration/poison-corpus.test.ts;
 * skipped otherwise, too slow for every run on two cores): the generator's rows with the
 * corpus mixed in, every batch reconciles and the totals match the generator's truth.
 */
describe.runIf(Boolean(process.env["AIWB_POISON_ROWS"]))("the corpus at scale", () => {
  const rows = Number(process.env["AIWB_POISON_ROWS"]);
  const today = "2026-01-31";
  let big: MedallionDatabase;
  afterAll(async () => {
    await big?.drop();
  });

  it(`${rows.toLocaleString("en-US")} transactions: landed = valid + quarantined + duplicate per batch`, async () => {
    big = await createMedallionDatabase("poison_big");
    const client = new pg.Client({ connectionString: big.server.url(big.name) });
    await client.connect();
    let summary;
    try {
      ({ summary } = await loadSampleData(
        client,
        { seed: 5, transactions: rows, badShare: 0.05, today },
        { source: "scale", batchPrefix: "scale", batchSize: 50_000 },
      ));
    } finally {
      await client.end();
    }
    const corpus = KINDS.filter((kind) => kind.entity === "transactions");
    await big.deliver(
      "scout_transactions_raw",
      "corpus",
      corpus.map((kind) => kind.raw),
    );
    const build = await big.dbt({ command: "build", vars: { as_of_date: today } });
    expect(failedNodes(build)).toEqual([]);
    const perBatch = await big.query<{
      batch_id: string;
      landed: number;
      valid: number;
      quarantined: number;
      duplicate: number;
    }>(
      `select landing.batch_id, count(*)::int as landed,
              count(*) filter (where c.status = 'valid')::int as valid,
              count(*) filter (where c.status = 'quarantined')::int as quarantined,
              count(*) filter (where c.status = 'duplicate')::int as duplicate
         from bronze.scout_transactions_raw as landing
         left join silver.transaction_classifications as c using (ingest_id)
        group by 1 order by 1`,
    );
    expect(perBatch.filter((b) => b.landed !== b.valid + b.quarantined + b.duplicate)).toEqual([]);
    const total = (key: "landed" | "valid" | "quarantined" | "duplicate") =>
      perBatch.filter((b) => b.batch_id !== "corpus").reduce((sum, b) => sum + b[key], 0);
    expect(total("landed")).toBe(summary.transactions.total);
    expect(total("valid")).toBe(summary.transactions.good);
    expect(total("duplicate")).toBe(summary.transactions.bad.duplicate);
    const [stored] = await big.query<{ n: number }>(
      "select count(*)::int as n from silver.validated_transactions",
    );
    expect(stored?.n).toBe(perBatch.reduce((sum, b) => sum + b.valid, 0));
  }, 3_600_000);
});
