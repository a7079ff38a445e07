/**
 * Generates deterministic Scout retail sample data and loads it into bronze:
 *
 *   tsx scripts/gen-data.ts --transactions 100000 [--bad-share 0.05] [--seed 42]
 *       [--start 2024-01-01] [--months 24] [--today YYYY-MM-DD] [--batch-size 10000]
 *       [--database-url URL | env DATABASE_URL] [--source gen-data] [--batch-prefix gen-42]
 *       [--summary-file summary.json] [--dry-run]
 *
 * Loads bronze.scout_products_raw, bronze.scout_transactions_raw and bronze.expenses_raw
 * (products first) with COPY, one batch per transaction; batch_id =
 * `<batch-prefix>-<entity>-<NNNNNN>`, record_seq = position in the batch. Batches already
 * present for (source, batch_id) are skipped, so running the same command twice adds
 * nothing (the batch size is part of the batch identity: keep it the same).
 *
 * The data is a pure function of the seed, counts, --bad-share, --start, --months and
 * --today (today only moves the future-dated bad rows). The period must end by --today.
 * Count semantics of the summary: lib/sample-data/summary.ts.
 */
import { writeFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import pg from "pg";
import {
  BAD_KINDS,
  DEFAULTS,
  GenDataError,
  LANDING_TABLES,
  loadSampleData,
  sampleStreams,
  type Entity,
  type EntityLoad,
  type GenerationOptions,
  type Summary,
} from "../lib/sample-data/index.ts";

const USAGE = `usage: tsx scripts/gen-data.ts --transactions <n> [options]

  --transactions <n>     transaction rows to write, 1..10000000 (required)
  --bad-share <x>        share of bad transaction and expense rows, 0..0.5 (default ${DEFAULTS.badShare})
  --seed <n>             PRNG seed, 0..4294967295 (default ${DEFAULTS.seed})
  --start <date>         first day of the period (default ${DEFAULTS.start})
  --months <n>           length of the period (default ${DEFAULTS.months}); must end by --today
  --today <date>         "today" for the future-date rules (default: the current UTC date)
  --batch-size <n>       rows per batch / COPY transaction (default 10000)
  --database-url <url>   target database (default: env DATABASE_URL)
  --source <name>        value of the source column (default gen-data)
  --batch-prefix <p>     batch id prefix (default gen-<seed>)
  --summary-file <path>  also write the summary as JSON
  --dry-run              generate and count only, no database
  --quiet                no progress lines
  --help`;

function integer(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text.trim())) throw new GenDataError(`--${name} must be a whole number, got '${text}'`);
  return Number(text);
}

function decimal(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value))
    throw new GenDataError(`--${name} must be a number, got '${text}'`);
  return value;
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

/** Where we write, without the password. */
function describeTarget(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || 5432}${parsed.pathname}`;
  } catch {
    throw new GenDataError("--database-url / DATABASE_URL is not a valid URL");
  }
}

interface Progress {
  start(entity: Entity, expected: number): void;
  update(rows: number): void;
  finish(load: Pick<EntityLoad, "rows" | "batchesLoaded" | "batchesSkipped">, dryRun: boolean): void;
}

function progressPrinter(quiet: boolean): Progress {
  let entity = "";
  let expected = 0;
  let started = 0;
  let lastPrint = 0;
  return {
    start(name, total) {
      entity = name;
      expected = total;
      started = performance.now();
      lastPrint = started;
    },
    update(rows) {
      const now = performance.now();
      if (quiet || now - lastPrint < 1000) return;
      lastPrint = now;
      const rate = rows / ((now - started) / 1000);
      console.log(
        `  ${entity.padEnd(13)} ${fmt(rows).padStart(11)} / ${fmt(expected)} rows  ${fmt(rate)} rows/s`,
      );
    },
    finish(load, dryRun) {
      const seconds = (performance.now() - started) / 1000;
      const rate = load.rows / Math.max(seconds, 1e-6);
      const batches = dryRun
        ? "dry run"
        : `${load.batchesLoaded} batch(es) loaded, ${load.batchesSkipped} skipped`;
      console.log(
        `  ${entity.padEnd(13)} ${fmt(load.rows).padStart(11)} rows in ${seconds.toFixed(1)} s (${fmt(rate)} rows/s); ${batches}`,
      );
    },
  };
}

function printSummary(summary: Summary, loads: EntityLoad[]): void {
  console.log("\nsummary");
  console.log(`  ${"table".padEnd(32)} ${"rows".padStart(11)} ${"inserted".padStart(11)}`);
  const totals: Record<Entity, number> = {
    products: summary.products.total,
    transactions: summary.transactions.total,
    expenses: summary.expenses.total,
  };
  for (const entity of Object.keys(LANDING_TABLES) as Entity[]) {
    const load = loads.find((l) => l.entity === entity);
    const inserted = load ? fmt(load.rowsInserted) : "-";
    console.log(
      `  ${LANDING_TABLES[entity].padEnd(32)} ${fmt(totals[entity]).padStart(11)} ${inserted.padStart(11)}`,
    );
  }
  console.log(
    `  products: ${fmt(summary.products.total - summary.products.redelivered)} distinct, ` +
      `${fmt(summary.products.redelivered)} redelivered at a new price`,
  );
  console.log(`\n  ${"bad rows".padEnd(20)} ${"transactions".padStart(12)} ${"expenses".padStart(10)}`);
  for (const kind of BAD_KINDS) {
    console.log(
      `  ${kind.padEnd(20)} ${fmt(summary.transactions.bad[kind]).padStart(12)} ${fmt(summary.expenses.bad[kind]).padStart(10)}`,
    );
  }
  const badTotal = (c: Summary["transactions"]) => c.total - c.good;
  console.log(
    `  ${"total bad".padEnd(20)} ${fmt(badTotal(summary.transactions)).padStart(12)} ${fmt(badTotal(summary.expenses)).padStart(10)}`,
  );
  console.log(
    `  ${"good".padEnd(20)} ${fmt(summary.transactions.good).padStart(12)} ${fmt(summary.expenses.good).padStart(10)}`,
  );
  if (summary.spike_weeks.length > 0) {
    console.log(
      `\n  spike weeks: ${summary.spike_weeks.map((s) => `${s.week_start} ${s.category}`).join(", ")}`,
    );
  }
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      transactions: { type: "string" },
      "bad-share": { type: "string" },
      seed: { type: "string" },
      start: { type: "string" },
      months: { type: "string" },
      today: { type: "string" },
      "batch-size": { type: "string" },
      "database-url": { type: "string" },
      source: { type: "string" },
      "batch-prefix": { type: "string" },
      "summary-file": { type: "string" },
      "dry-run": { type: "boolean", default: false },
      quiet: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.transactions === undefined)
    throw new GenDataError("--transactions <n> is required (see --help)");

  const options: GenerationOptions = {
    transactions: integer("transactions", values.transactions, 0),
    seed: integer("seed", values.seed, DEFAULTS.seed),
    badShare: decimal("bad-share", values["bad-share"], DEFAULTS.badShare),
    start: values.start ?? DEFAULTS.start,
    months: integer("months", values.months, DEFAULTS.months),
    today: values.today ?? new Date().toISOString().slice(0, 10),
  };
  const batchSize = integer("batch-size", values["batch-size"], 10_000);
  if (batchSize < 1 || batchSize > 1_000_000)
    throw new GenDataError(`--batch-size must be 1..1000000, got ${batchSize}`);
  const source = values.source ?? "gen-data";
  const batchPrefix = values["batch-prefix"] ?? `gen-${options.seed}`;
  for (const [name, value] of [
    ["source", source],
    ["batch-prefix", batchPrefix],
  ] as const) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/.test(value)) {
      throw new GenDataError(
        `--${name} must be 1-100 characters of letters, digits and . _ : -, got '${value}'`,
      );
    }
  }
  const dryRun = values["dry-run"];
  const url = values["database-url"] ?? process.env["DATABASE_URL"];
  if (!dryRun && !url)
    throw new GenDataError("give --database-url <url> or set DATABASE_URL (or use --dry-run)");

  const { generation, summary, streams } = sampleStreams(options);
  const { period } = generation;
  console.log(
    `gen-data: seed ${generation.seed}, ${fmt(generation.transactions)} transactions, ${fmt(generation.expenses)} expenses, ` +
      `bad share ${generation.badShare}, ${period.start} .. ${period.end} (today ${period.today})`,
  );
  console.log(
    dryRun
      ? "dry run: generating and counting only"
      : `target ${describeTarget(url!)}, source '${source}', batches ${batchPrefix}-<entity>-NNNNNN of ${fmt(batchSize)} rows`,
  );

  const progress = progressPrinter(values.quiet);
  const loads: EntityLoad[] = [];
  if (dryRun) {
    for (const stream of streams) {
      progress.start(stream.entity, stream.expected);
      let rows = 0;
      for (const _row of stream.rows) {
        rows++;
        if ((rows & 0x3fff) === 0) progress.update(rows);
      }
      progress.finish({ rows, batchesLoaded: 0, batchesSkipped: 0 }, true);
    }
  } else {
    const client = new pg.Client({ connectionString: url, application_name: "gen-data" });
    await client.connect();
    try {
      const result = await loadSampleData(client, options, {
        source,
        batchPrefix,
        batchSize,
        onEntity: (entity, expected) => progress.start(entity, expected),
        onProgress: (p) => progress.update(p.rows),
        onLoaded: (load) => progress.finish(load, false),
      });
      loads.push(...result.loads);
      Object.assign(summary, result.summary);
    } finally {
      await client.end();
    }
  }

  printSummary(summary, loads);
  if (!dryRun) {
    const skipped = loads.reduce((n, l) => n + l.batchesSkipped, 0);
    const loaded = loads.reduce((n, l) => n + l.batchesLoaded, 0);
    const inserted = loads.reduce((n, l) => n + l.rowsInserted, 0);
    console.log(
      `\nloaded ${loaded} batches (${fmt(inserted)} rows); skipped ${skipped} batches already loaded`,
    );
  }
  if (values["summary-file"]) {
    writeFileSync(values["summary-file"], `${JSON.stringify(summary, null, 2)}\n`);
    console.log(`summary written to ${values["summary-file"]}`);
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (
      error instanceof GenDataError ||
      (error instanceof TypeError && "code" in error && String(error.code).startsWith("ERR_PARSE_ARGS"))
    ) {
      console.error(`error: ${error.message}`);
      process.exit(2);
    }
    // Database and system errors carry a code: their message says it all. Anything else
    // is a bug here: show the stack.
    const coded = error instanceof Error && "code" in error && typeof error.code === "string";
    console.error(
      `error: ${error instanceof Error ? (coded ? error.message : (error.stack ?? error.message)) : String(error)}`,
    );
    process.exit(1);
  },
);
