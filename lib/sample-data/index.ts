/**
 * Deterministic Scout retail / government expense sample data for the bronze landing
 * tables. Pure generation (everything but loader.ts) is separate from loading:
 *
 *   const options = { seed: 42, transactions: 100_000, today: "2026-01-31" };
 *   for (const { payloadRaw, kind } of transactionRows(options)) ...
 *
 * Same options -> byte-identical rows in the same order. The count semantics of the
 * summary (total / good / bad per kind / products redelivered) are documented in
 * summary.ts; the CLI is scripts/gen-data.ts.
 */
export * from "./bad-rows.ts";
export * from "./calendar.ts";
export * from "./catalog.ts";
export * from "./corrupt.ts";
export * from "./expenses.ts";
export * from "./generation.ts";
export * from "./loader.ts";
export * from "./prng.ts";
export * from "./products.ts";
export * from "./reference.ts";
export * from "./summary.ts";
export * from "./transactions.ts";
export * from "./sample.ts";
