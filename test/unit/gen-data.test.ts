/** The sample-data generator's pure parts: determinism, bad rows, good rows, seasonality, memory. */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import {
  assignBadKind,
  BAD_KINDS,
  BadRowCursor,
  batchId,
  CATEGORIES,
  copyEscape,
  countRows,
  createPrng,
  dailyVolumes,
  EXPENSE_CATEGORIES,
  expectedBadCounts,
  expenseRows,
  GenDataError,
  generateReferenceData,
  idPermutation,
  parseIsoDate,
  planBadRows,
  productRows,
  resolveGeneration,
  resolvePeriod,
  seasonalWeight,
  transactionRows,
  weekdayOf,
  type BadKind,
  type GeneratedRow,
  type GenerationOptions,
} from "../../lib/sample-data/index.ts";

const TODAY = "2026-01-31";
const base: GenerationOptions = { seed: 42, transactions: 10_000, today: TODAY };

function take<T>(rows: Iterable<T>, n: number): T[] {
  const out: T[] = [];
  for (const row of rows) {
    if (out.length >= n) break;
    out.push(row);
  }
  return out;
}

type Json = Record<string, unknown>;
const parse = (raw: string) => JSON.parse(raw) as Json;
const isDate = (v: unknown) =>
  typeof v === "string" && /^\d{4}-\d{2}-\d{2}$/.test(v) && !Number.isNaN(Date.parse(v));
const longestString = (payload: Json) =>
  Math.max(...Object.values(payload).map((v) => (typeof v === "string" ? v.length : 0)));

describe("createPrng", () => {
  it("is deterministic per seed, in [0, 1), and differs between seeds", () => {
    const a = createPrng(1);
    const b = createPrng(1);
    const c = createPrng(2);
    const xs = Array.from({ length: 1000 }, () => a.next());
    expect(Array.from({ length: 1000 }, () => b.next())).toEqual(xs);
    expect(Array.from({ length: 1000 }, () => c.next())).not.toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean).toBeGreaterThan(0.45);
    expect(mean).toBeLessThan(0.55);
  });

  it("idPermutation is a bijection (unique ids)", () => {
    const ids = idPermutation(42, "test", 4);
    const seen = new Set(Array.from({ length: 10_000 }, (_, i) => ids(i)));
    expect(seen.size).toBe(10_000);
    const big = idPermutation(42, "test", 10);
    const sample = new Set(Array.from({ length: 100_000 }, (_, i) => big(i * 97_003)));
    expect(sample.size).toBe(100_000);
    expect([...sample].every((id) => id >= 0 && id < 1e10 && Number.isInteger(id))).toBe(true);
  });
});

describe("determinism", () => {
  it("the same seed gives identical payloads and counts; another seed does not", () => {
    const first = take(transactionRows(base), 3000);
    expect(take(transactionRows(base), 3000)).toEqual(first);
    expect(countRows(transactionRows(base))).toEqual(countRows(transactionRows(base)));
    expect([...expenseRows(base)]).toEqual([...expenseRows(base)]);
    expect([...productRows(base)]).toEqual([...productRows(base)]);

    const other = take(transactionRows({ ...base, seed: 43 }), 3000);
    expect(other.map((r) => r.payloadRaw)).not.toEqual(first.map((r) => r.payloadRaw));
    expect([...expenseRows({ ...base, seed: 43 })].map((r) => r.payloadRaw)).not.toEqual(
      [...expenseRows(base)].map((r) => r.payloadRaw),
    );
    expect(
      generateReferenceData(43, resolvePeriod({ start: "2024-01-01", months: 24, today: TODAY })),
    ).not.toEqual(
      generateReferenceData(42, resolvePeriod({ start: "2024-01-01", months: 24, today: TODAY })),
    );
  });

  it("the generator's bad rows are exactly the pure assignBadKind plan", () => {
    const plan = planBadRows(1234, 0.07, 99);
    const cursor = new BadRowCursor(plan);
    for (let i = 0; i < 1234; i++) expect(cursor.kindAt(i)).toBe(assignBadKind(i, plan));
    const counts = Object.fromEntries(BAD_KINDS.map((k) => [k, 0])) as Record<BadKind, number>;
    for (let i = 0; i < 1234; i++) {
      const kind = assignBadKind(i, plan);
      if (kind) counts[kind]++;
    }
    expect(counts).toEqual(expectedBadCounts(plan));
    expect(assignBadKind(0, plan)).toBeNull(); // row 0 is always good
  });
});

describe("bad rows", () => {
  it.each([
    [10_000, 0.05],
    [25_000, 0.1],
  ])("with %i transactions at share %f: exactly the share, spread evenly over every kind", (total, share) => {
    const counts = countRows(transactionRows({ ...base, transactions: total, badShare: share }));
    const bad = Math.round(total * share);
    expect(counts.total).toBe(total);
    expect(counts.good).toBe(total - bad);
    const perKind = Object.values(counts.bad);
    expect(perKind.reduce((s, n) => s + n, 0)).toBe(bad);
    for (const n of perKind) {
      expect(n).toBeGreaterThanOrEqual(Math.floor(bad / BAD_KINDS.length));
      expect(n).toBeLessThanOrEqual(Math.ceil(bad / BAD_KINDS.length));
    }
  });

  it("every kind appears at least once from 100 rows on, for transactions and expenses", () => {
    for (const total of [100, 101, 137, 500]) {
      const counts = countRows(transactionRows({ ...base, transactions: total }));
      expect(counts.total).toBe(total);
      for (const kind of BAD_KINDS) expect(counts.bad[kind], `${kind} at ${total}`).toBeGreaterThanOrEqual(1);
    }
    // 5,000 transactions -> 100 expenses.
    const expenses = countRows(expenseRows({ ...base, transactions: 5000 }));
    expect(expenses.total).toBe(100);
    for (const kind of BAD_KINDS) expect(expenses.bad[kind], kind).toBeGreaterThanOrEqual(1);
  });

  it("no bad rows at share 0; small runs stay within the share", () => {
    expect(countRows(transactionRows({ ...base, badShare: 0 })).good).toBe(10_000);
    const small = countRows(transactionRows({ ...base, transactions: 60 }));
    expect(small.total - small.good).toBe(3);
  });

  function checkBadTransaction(row: GeneratedRow, goodIds: Set<string>, goodPayloads: Set<string>): void {
    const kind = row.kind as BadKind;
    if (kind === "malformed_json") {
      expect(() => JSON.parse(row.payloadRaw)).toThrow();
      return;
    }
    const p = parse(row.payloadRaw);
    switch (kind) {
      case "wrong_type":
        expect(
          (typeof p["amount"] === "string" && Number.isNaN(Number(p["amount"]))) ||
            (typeof p["quantity"] === "string" && Number.isNaN(Number(p["quantity"]))) ||
            p["transaction_date"] === "not-a-date",
        ).toBe(true);
        break;
      case "missing_field":
        expect(["transaction_id", "amount", "transaction_date"].some((f) => !(f in p))).toBe(true);
        break;
      case "non_positive_amount":
        expect(p["amount"]).toBeTypeOf("number");
        expect(p["amount"] as number).toBeLessThanOrEqual(0);
        break;
      case "future_date":
        expect((p["transaction_date"] as string) > TODAY).toBe(true);
        expect(isDate(p["transaction_date"])).toBe(true);
        break;
      case "unknown_category":
        expect(CATEGORIES as readonly unknown[]).not.toContain(p["category"]);
        break;
      case "duplicate":
        expect(goodIds.has(p["transaction_id"] as string)).toBe(true);
        expect(goodPayloads.has(row.payloadRaw)).toBe(true);
        break;
      case "oversized_string":
        expect(longestString(p)).toBeGreaterThan(255);
        break;
    }
  }

  it("each bad transaction really breaks its rule; duplicates repeat an earlier good row", () => {
    const goodIds = new Set<string>();
    const goodPayloads = new Set<string>();
    const seen = new Set<string>();
    for (const row of transactionRows({ ...base, transactions: 20_000 })) {
      if (row.kind === "good") {
        const id = parse(row.payloadRaw)["transaction_id"] as string;
        goodIds.add(id);
        goodPayloads.add(row.payloadRaw);
      } else {
        checkBadTransaction(row, goodIds, goodPayloads);
        seen.add(row.kind);
      }
    }
    expect([...seen].sort()).toEqual([...BAD_KINDS].sort());
  });

  it("each bad expense really breaks its rule", () => {
    const goodPayloads = new Set<string>();
    const goodIds = new Set<string>();
    for (const row of expenseRows({ ...base, transactions: 50_000 })) {
      if (row.kind === "good") {
        goodPayloads.add(row.payloadRaw);
        goodIds.add(parse(row.payloadRaw)["expense_id"] as string);
        continue;
      }
      if (row.kind === "malformed_json") {
        expect(() => JSON.parse(row.payloadRaw)).toThrow();
        continue;
      }
      const p = parse(row.payloadRaw);
      const checks: Record<BadKind, () => boolean> = {
        malformed_json: () => false,
        wrong_type: () =>
          (typeof p["amount"] === "string" && Number.isNaN(Number(p["amount"]))) ||
          p["expense_date"] === "not-a-date",
        missing_field: () => ["expense_id", "amount", "expense_date"].some((f) => !(f in p)),
        non_positive_amount: () => typeof p["amount"] === "number" && p["amount"] <= 0,
        future_date: () => isDate(p["expense_date"]) && (p["expense_date"] as string) > TODAY,
        unknown_category: () => !(EXPENSE_CATEGORIES as readonly unknown[]).includes(p["category"]),
        duplicate: () => goodPayloads.has(row.payloadRaw) && goodIds.has(p["expense_id"] as string),
        oversized_string: () => (p["description"] as string).length > 255,
      };
      expect(checks[row.kind as BadKind](), `${row.kind}: ${row.payloadRaw.slice(0, 200)}`).toBe(true);
    }
  });
});

describe("good rows", () => {
  it("transactions: every field present and typed, amount > 0, dated in the period, category allowed, unique id", () => {
    const generation = resolveGeneration(base);
    const products = new Map(generation.reference.products.map((p) => [p.productId, p]));
    const ids = new Set<string>();
    let good = 0;
    for (const row of transactionRows(base, generation)) {
      if (row.kind !== "good") continue;
      good++;
      const p = parse(row.payloadRaw);
      expect(Object.keys(p)).toEqual([
        "transaction_id",
        "store_id",
        "product_id",
        "category",
        "quantity",
        "unit_price",
        "amount",
        "transaction_date",
        "transaction_ts",
        "payment_method",
        "customer_id",
      ]);
      expect(p["transaction_id"]).toMatch(/^TX-\d{10}$/);
      expect(p["store_id"]).toMatch(/^S0(0[1-9]|1\d|20)$/);
      expect(p["product_id"]).toMatch(/^P0\d{3}$/);
      expect(p["customer_id"]).toMatch(/^C\d{5}$/);
      const customer = Number((p["customer_id"] as string).slice(1));
      expect(customer >= 1 && customer <= 5000).toBe(true);
      expect(CATEGORIES as readonly unknown[]).toContain(p["category"]);
      expect(products.get(p["product_id"] as string)?.category).toBe(p["category"]);
      expect(["cash", "card", "gcash", "maya"]).toContain(p["payment_method"]);
      const quantity = p["quantity"] as number;
      const unitPrice = p["unit_price"] as number;
      const amount = p["amount"] as number;
      expect(Number.isInteger(quantity) && quantity >= 1).toBe(true);
      expect(unitPrice).toBeGreaterThan(0);
      expect(amount).toBeGreaterThan(0);
      expect(amount).toBe(Math.round(quantity * unitPrice * 100) / 100);
      expect(isDate(p["transaction_date"])).toBe(true);
      const date = p["transaction_date"] as string;
      expect(date >= "2024-01-01" && date <= "2025-12-31" && date <= TODAY).toBe(true);
      expect(p["transaction_ts"]).toMatch(new RegExp(`^${date}T([01]\\d|2[0-3]):[0-5]\\d:[0-5]\\dZ$`));
      expect(longestString(p)).toBeLessThanOrEqual(255);
      expect(ids.has(p["transaction_id"] as string)).toBe(false);
      ids.add(p["transaction_id"] as string);
    }
    expect(good).toBe(9500);
  });

  it("expenses: fields typed, amount > 0, dated in the period, category allowed, a cluster at the $5,000 threshold", () => {
    const options = { ...base, transactions: 100_000 };
    const rows = [...expenseRows(options)];
    expect(rows).toHaveLength(2000);
    const good = rows.filter((r) => r.kind === "good").map((r) => parse(r.payloadRaw));
    expect(good).toHaveLength(1900);
    const ids = new Set<string>();
    for (const p of good) {
      expect(Object.keys(p)).toEqual([
        "expense_id",
        "agency",
        "employee_id",
        "vendor",
        "category",
        "amount",
        "currency",
        "expense_date",
        "description",
      ]);
      expect(p["expense_id"]).toMatch(/^EX-\d{8}$/);
      expect(p["employee_id"]).toMatch(/^E\d{4}$/);
      expect(EXPENSE_CATEGORIES as readonly unknown[]).toContain(p["category"]);
      expect(p["currency"]).toBe("USD");
      expect(p["amount"]).toBeTypeOf("number");
      expect(p["amount"] as number).toBeGreaterThan(0);
      expect(Math.round((p["amount"] as number) * 100) / 100).toBe(p["amount"]);
      const date = p["expense_date"] as string;
      expect(isDate(date) && date >= "2024-01-01" && date <= "2025-12-31").toBe(true);
      expect(weekdayOf(parseIsoDate(date))).not.toBe(0);
      expect(longestString(p)).toBeLessThanOrEqual(255);
      expect(ids.has(p["expense_id"] as string)).toBe(false);
      ids.add(p["expense_id"] as string);
    }
    expect(new Set(good.map((p) => p["agency"])).size).toBe(8);
    const amounts = good.map((p) => p["amount"] as number);
    const nearThreshold = amounts.filter((a) => a >= 4500 && a <= 5500).length / amounts.length;
    expect(nearThreshold).toBeGreaterThan(0.1);
    expect(nearThreshold).toBeLessThan(0.25);
    expect(amounts.filter((a) => a === 5000).length).toBeGreaterThanOrEqual(3);
    // At least 20 expenses, even for tiny runs.
    expect([...expenseRows({ ...base, transactions: 1000 })]).toHaveLength(20);
  });

  it("products: 200 once, ~10% again later at a new price", () => {
    const rows = [...productRows(base)];
    const originals = rows.filter((r) => r.kind === "original").map((r) => parse(r.payloadRaw));
    const again = rows.filter((r) => r.kind === "redelivered").map((r) => parse(r.payloadRaw));
    expect(originals).toHaveLength(200);
    expect(again).toHaveLength(20);
    expect(new Set(originals.map((p) => p["product_id"])).size).toBe(200);
    for (const category of CATEGORIES)
      expect(originals.filter((p) => p["category"] === category)).toHaveLength(20);
    const byId = new Map(originals.map((p) => [p["product_id"], p]));
    for (const p of [...originals, ...again]) {
      expect(Object.keys(p)).toEqual([
        "product_id",
        "product_name",
        "category",
        "brand",
        "unit_price",
        "updated_at",
      ]);
      expect(p["unit_price"] as number).toBeGreaterThan(0);
      expect(CATEGORIES as readonly unknown[]).toContain(p["category"]);
    }
    for (const p of again) {
      const first = byId.get(p["product_id"])!;
      expect((p["updated_at"] as string) > (first["updated_at"] as string)).toBe(true);
      expect((p["updated_at"] as string) <= "2025-12-31T23:59:59Z").toBe(true);
      expect(p["unit_price"]).not.toBe(first["unit_price"]);
    }
  });
});

describe("seasonality", () => {
  it("December outweighs February, weekends outweigh weekdays, later years grow", () => {
    expect(seasonalWeight("2024-12-04")).toBeGreaterThan(seasonalWeight("2024-02-07")); // both Wednesdays
    expect(seasonalWeight("2024-12-04") / seasonalWeight("2024-02-07")).toBeCloseTo(2, 5);
    expect(seasonalWeight("2024-06-08")).toBeGreaterThan(seasonalWeight("2024-06-04")); // Saturday > Tuesday
    expect(seasonalWeight("2025-06-04", "2024-01-01")).toBeGreaterThan(
      seasonalWeight("2024-06-05", "2024-01-01"),
    );
  });

  it("generated volume: December > February each year, 2025 > 2024, spike weeks stand out by > 2 sigma", () => {
    const options = { ...base, transactions: 100_000 };
    const generation = resolveGeneration(options);
    const { period } = generation;
    const byMonth = new Map<string, number>();
    const daily = new Map<string, Int32Array>(); // category -> count per day of the period
    for (const row of transactionRows(options, generation)) {
      if (row.kind !== "good") continue;
      const p = parse(row.payloadRaw);
      const date = p["transaction_date"] as string;
      byMonth.set(date.slice(0, 7), (byMonth.get(date.slice(0, 7)) ?? 0) + 1);
      const category = p["category"] as string;
      const days = daily.get(category) ?? new Int32Array(period.days);
      days[parseIsoDate(date) - period.startDay]! += 1;
      daily.set(category, days);
    }
    const month = (m: string) => byMonth.get(m) ?? 0;
    expect(month("2024-12")).toBeGreaterThan(1.5 * month("2024-02"));
    expect(month("2025-12")).toBeGreaterThan(1.5 * month("2025-02"));
    const year = (y: string) => [...byMonth].filter(([m]) => m.startsWith(y)).reduce((s, [, n]) => s + n, 0);
    expect(year("2025")).toBeGreaterThan(year("2024"));

    expect(generation.spikes.length).toBeGreaterThanOrEqual(2);
    for (const spike of generation.spikes) {
      const days = daily.get(spike.category)!;
      // Weekly totals of the category, weeks in phase with the spike week.
      const weeks: number[] = [];
      let spikeWeek = 0;
      for (let d = (spike.startDay - period.startDay) % 7; d + 7 <= period.days; d += 7) {
        const n = days.subarray(d, d + 7).reduce((s, x) => s + x, 0);
        weeks.push(n);
        if (period.startDay + d === spike.startDay) spikeWeek = n;
      }
      const mean = weeks.reduce((s, n) => s + n, 0) / weeks.length;
      const sd = Math.sqrt(weeks.reduce((s, n) => s + (n - mean) ** 2, 0) / (weeks.length - 1));
      expect((spikeWeek - mean) / sd, `${spike.category} week of ${spike.weekStart}`).toBeGreaterThan(2);
    }
  });

  it("daily volumes add up exactly and follow the weights", () => {
    const period = resolvePeriod({ start: "2024-01-01", months: 24, today: TODAY });
    const volumes = dailyVolumes(123_457, period, []);
    expect(volumes.reduce((s, n) => s + n, 0)).toBe(123_457);
    expect(volumes).toHaveLength(731);
  });
});

describe("period and options", () => {
  it("refuses a period that ends after today, saying how to fix it", () => {
    expect(() => resolveGeneration({ ...base, start: "2025-06-01", months: 12 })).toThrow(GenDataError);
    expect(() => resolveGeneration({ ...base, start: "2025-06-01", months: 12 })).toThrow(
      /ends after today \(2026-01-31\).*--months 8 or less/,
    );
    expect(() => resolveGeneration({ ...base, start: "2024-02-30" })).toThrow(/not a valid date/);
    expect(() => resolveGeneration({ ...base, badShare: 0.6 })).toThrow(/--bad-share/);
    expect(() => resolveGeneration({ ...base, transactions: 0 })).toThrow(/--transactions/);
    expect(resolveGeneration({ ...base, start: "2025-01-01", months: 12 }).period.end).toBe("2025-12-31");
  });

  it("short periods keep every normal row inside them", () => {
    const options = { ...base, transactions: 2000, start: "2025-12-01", months: 1 };
    for (const row of transactionRows(options)) {
      if (row.kind !== "good") continue;
      const date = parse(row.payloadRaw)["transaction_date"] as string;
      expect(date >= "2025-12-01" && date <= "2025-12-31").toBe(true);
    }
  });
});

describe("loader helpers", () => {
  it("batch ids and COPY text escaping", () => {
    expect(batchId("gen-42", "transactions", 7)).toBe("gen-42-transactions-000007");
    expect(copyEscape('{"a":"b"}')).toBe('{"a":"b"}');
    expect(copyEscape("a\\b\tc\nd\re")).toBe("a\\\\b\\tc\\nd\\re");
  });
});

describe("memory", () => {
  it("generates 200k rows lazily, without building the data set", () => {
    const rows = transactionRows({ ...base, transactions: 200_000 });
    expect(Array.isArray(rows)).toBe(false);
    expect(typeof rows.next).toBe("function");
    expect(rows[Symbol.iterator]()).toBe(rows);

    // A full GC before measuring, so only live objects count (--expose-gc, switched on here).
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    gc();
    const before = process.memoryUsage().heapUsed;
    let retained = Number.POSITIVE_INFINITY;
    let count = 0;
    let bytes = 0;
    for (const row of rows) {
      count++;
      bytes += row.payloadRaw.length;
      if (count === 190_000) {
        // Mid-stream, the generator alive: what it holds after 190k rows.
        gc();
        retained = process.memoryUsage().heapUsed - before;
      }
    }
    expect(count).toBe(200_000);
    // Keeping the rows would hold more than their ~50 MB of text; the generator keeps a
    // few hundred recent payloads and one count per day. Loose on purpose.
    expect(bytes).toBeGreaterThan(40_000_000);
    expect(retained).toBeLessThan(16 * 1024 * 1024);
  });
});
