/**
 * Medallion benchmark (not a test): prints figures and ratios measured in the same run.
 *
 *   npm run bench:medallion [-- --sizes 100000,1000000 --bad-share 0.05]
 *
 * Per size, in fresh scratch databases on the local server:
 *   (a) bronze load: COPY of the generated records into the landing table (JSON parse,
 *       hash, delivery key) vs a raw COPY of the same file into a plain table; plus the
 *       generator's end-to-end rate (generation + load);
 *   (b) full build bronze → platinum: `dbt run` and `dbt build` (with tests), full refresh;
 *   (c) incremental: append 1 % new transactions, then `dbt run` / `dbt build` again;
 *   (d) floor: dbt's own compiled SQL for the same models, run as plain
 *       `create table/view ... as` statements in model order, without dbt.
 * Targets: (a) ≥ 50 % of raw COPY; (c) ≤ 5 % of (b); (b) ≤ 1.5 × (d).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { applyMigrations, loadMigrations } from "../components/database/migrations.ts";
import { clientConfig, type PgConnection } from "../components/database/pg-connection.ts";
import { runDbt, type DbtCommand, type DbtRunSummary } from "../components/data/dbt.ts";
import { loadSampleData } from "../components/data/generator/index.ts";
import { localServer } from "../stacks/local-server.ts";
import { REPO_ROOT } from "../stacks/paths.ts";

const DBT_PROJECT = join(REPO_ROOT, "dbt");

async function withDb<T>(connection: PgConnection, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client(clientConfig(connection));
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Wall-clock seconds of a dbt run, and the seconds its models' SQL took (run_results). */
async function timedDbt(run: () => Promise<DbtRunSummary>): Promise<{ wall: number; sql: number }> {
  const started = performance.now();
  const summary = await run();
  const sql = summary.nodes
    .filter((node) => node.resourceType === "model")
    .reduce((sum, node) => sum + node.executionTime, 0);
  return { wall: (performance.now() - started) / 1000, sql };
}

async function seconds(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return (performance.now() - started) / 1000;
}

interface Manifest {
  nodes: Record<
    string,
    {
      resource_type: string;
      schema: string;
      alias?: string;
      name: string;
      config: { materialized: string };
      depends_on: { nodes: string[] };
    }
  >;
}

/** Models in dependency order (a topological sort of the manifest). */
function modelsInOrder(manifest: Manifest): string[] {
  const models = Object.entries(manifest.nodes).filter(([, node]) => node.resource_type === "model");
  const ids = new Set(models.map(([id]) => id));
  const done = new Set<string>();
  const order: string[] = [];
  const visit = (id: string) => {
    if (done.has(id) || !ids.has(id)) return;
    done.add(id);
    for (const parent of manifest.nodes[id]?.depends_on.nodes ?? []) visit(parent);
    order.push(id);
  };
  for (const [id] of models) visit(id);
  return order;
}

async function benchSize(size: number, badShare: number, admin: PgConnection) {
  const suffix = `${size}_${process.pid}`;
  const dbA = `aiwb_bench_a_${suffix}`;
  const dbB = `aiwb_bench_b_${suffix}`;
  const onServer = (sql: string) => withDb({ ...admin, database: "postgres" }, (c) => c.query(sql));
  const connA: PgConnection = { ...admin, database: dbA };
  const connB: PgConnection = { ...admin, database: dbB };
  const targetPath = mkdtempSync(join(tmpdir(), "aiwb-bench-"));
  const exportFile = `/tmp/aiwb-bench-${suffix}.tsv`;
  const dbt = (command: DbtCommand, connection: PgConnection, extra: { fullRefresh?: boolean } = {}) =>
    runDbt({ command, projectDir: DBT_PROJECT, connection, targetPath, threads: 2, ...extra });

  await onServer(`drop database if exists ${dbA} with (force)`);
  await onServer(`drop database if exists ${dbB} with (force)`);
  await onServer(`create database ${dbA}`);
  try {
    await applyMigrations(connA, loadMigrations(join(REPO_ROOT, "sql/migrations")));

    // (a) generator end to end, then raw COPY vs landing-table COPY of the same records.
    const generated = await seconds(() =>
      withDb(connA, (c) =>
        loadSampleData(
          c,
          { seed: 42, transactions: size, badShare, today: new Date().toISOString().slice(0, 10) },
          {
            source: "bench",
            batchPrefix: "bench",
            batchSize: 50_000,
          },
        ),
      ),
    );
    const { rawCopy, landingCopy } = await withDb(connA, async (c) => {
      await c.query(
        `copy (select source, batch_id, record_seq, payload_raw from bronze.scout_transactions_raw) to '${exportFile}'`,
      );
      await c.query("create schema bench");
      await c.query(
        "create table bench.raw_copy (source text, batch_id text, record_seq int, payload_raw text)",
      );
      await c.query("create table bench.landing_copy (like bronze.scout_transactions_raw including all)");
      // Best of two, alternating: the second of two large COPYs otherwise pays for the
      // first's checkpoint, whichever table it loads.
      let raw = Infinity;
      let landing = Infinity;
      for (let round = 0; round < 2; round++) {
        await c.query("truncate bench.raw_copy, bench.landing_copy");
        await c.query("checkpoint");
        raw = Math.min(raw, await seconds(() => c.query(`copy bench.raw_copy from '${exportFile}'`)));
        await c.query("checkpoint");
        landing = Math.min(
          landing,
          await seconds(() =>
            c.query(
              `copy bench.landing_copy (source, batch_id, record_seq, payload_raw) from '${exportFile}'`,
            ),
          ),
        );
      }
      await c.query("drop schema bench cascade");
      return { rawCopy: raw, landingCopy: landing };
    });
    // B starts from the same loaded bronze, for the floor.
    await onServer(`create database ${dbB} template ${dbA}`);

    // (b) full build (the two seed files load first; they are not transformations).
    await dbt("seed", connA);
    const fullRun = await timedDbt(() => dbt("run", connA, { fullRefresh: true }));
    // The floor runs exactly what this full run compiled (later runs compile incremental SQL).
    const manifest = JSON.parse(readFileSync(join(targetPath, "manifest.json"), "utf8")) as Manifest;
    const statements = modelsInOrder(manifest).map((id) => {
      const node = manifest.nodes[id] as Manifest["nodes"][string] & { original_file_path: string };
      const compiled = readFileSync(
        join(targetPath, "compiled", "workbench", node.original_file_path),
        "utf8",
      );
      const relation = `"${node.schema}"."${node.alias ?? node.name}"`;
      const kind = node.config.materialized === "view" ? "view" : "table";
      // Same SQL, other database: dbt qualifies relations with the database name.
      return `create ${kind} ${relation} as ${compiled.replace(/;\s*$/, "").replaceAll(`"${dbA}".`, "")}`;
    });
    const fullBuild = await seconds(() => dbt("build", connA, { fullRefresh: true }));

    // (c) 1 % new transactions - the next day's deliveries: new ids, dated the day after
    // the newest sale - then an incremental run and build.
    const appendDay = (batch: string, prefix: string) =>
      withDb(connA, async (c) => {
        const result = await c.query(
          `insert into bronze.scout_transactions_raw (source, batch_id, record_seq, payload_raw)
           select 'bench', $2, row_number() over () - 1,
                  jsonb_set(jsonb_set(parsed, '{transaction_id}', to_jsonb($3 || ingest_id)),
                            '{transaction_date}', to_jsonb(next_day::text))::text
             from bronze.scout_transactions_raw,
                  lateral (select bronze.try_parse_jsonb(payload_raw) as parsed) as p,
                  (select max(transaction_date) + 1 as next_day from silver.silver_validated_transactions) as d
            where parsed ? 'transaction_id'
            order by ingest_id
            limit greatest(1, $1::int / 100)`,
          [size, batch, prefix],
        );
        return result.rowCount ?? 0;
      });
    const appended = await appendDay("bench-incremental", "INC-");
    const incrementalRun = await timedDbt(() => dbt("run", connA));
    await appendDay("bench-incremental-2", "INC2-");
    const incrementalBuild = await seconds(() => dbt("build", connA));

    // (d) floor: that compiled SQL, run directly, in model order, in database B.
    await runDbt({
      command: "seed",
      projectDir: DBT_PROJECT,
      connection: connB,
      targetPath: mkdtempSync(join(tmpdir(), "aiwb-bench-seed-")),
    });
    const floor = await seconds(() =>
      withDb(connB, async (c) => {
        for (const statement of statements) await c.query(statement);
      }),
    );

    const rows = size;
    return {
      size,
      generatedRate: rows / generated,
      rawCopyRate: rows / rawCopy,
      landingCopyRate: rows / landingCopy,
      fullRun,
      fullBuild,
      appended,
      incrementalRun,
      incrementalBuild,
      floor,
    };
  } finally {
    rmSync(targetPath, { recursive: true, force: true });
    await onServer(`drop database if exists ${dbA} with (force)`);
    await onServer(`drop database if exists ${dbB} with (force)`);
    // Written by the server; the benchmark runs on the same machine.
    rmSync(exportFile, { force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sizes: { type: "string", default: "100000,1000000" },
      "bad-share": { type: "string", default: "0.05" },
    },
  });
  const sizes = (values.sizes ?? "").split(",").map((s) => Number(s.trim()));
  const badShare = Number(values["bad-share"]);
  const server = await localServer();
  const admin: PgConnection = {
    host: server.host,
    port: server.port,
    database: "postgres",
    user: server.user,
    password: server.password,
    sslMode: "disable",
  };

  const results = [];
  for (const size of sizes) {
    console.log(`\n==> ${size.toLocaleString("en-US")} transactions, ${badShare * 100} % bad`);
    const result = await benchSize(size, badShare, admin);
    console.log(JSON.stringify(result));
    results.push(result);
  }

  const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
  const fmt = (x: number) => Math.round(x).toLocaleString("en-US");
  console.log("\n(a) bronze load (rows/s)");
  console.log("size        raw COPY   landing COPY  ratio (≥ 50 %)  generator end-to-end");
  for (const r of results) {
    console.log(
      `${fmt(r.size).padEnd(12)}${fmt(r.rawCopyRate).padEnd(11)}${fmt(r.landingCopyRate).padEnd(14)}${pct(r.landingCopyRate / r.rawCopyRate).padEnd(16)}${fmt(r.generatedRate)}`,
    );
  }
  console.log(
    "\n(b, c, d) builds (seconds; run = models only, build = models and tests; sql = the models' own query time)",
  );
  console.log(
    "size        full run (sql)   full build  incr. run (sql)  incr. build  floor (d)  incr/full run: wall, sql (≤ 5 %)  full run/floor (≤ 1.5)",
  );
  for (const r of results) {
    console.log(
      `${fmt(r.size).padEnd(12)}${`${r.fullRun.wall.toFixed(1)} (${r.fullRun.sql.toFixed(1)})`.padEnd(17)}${r.fullBuild.toFixed(1).padEnd(12)}` +
        `${`${r.incrementalRun.wall.toFixed(1)} (${r.incrementalRun.sql.toFixed(1)})`.padEnd(17)}${r.incrementalBuild.toFixed(1).padEnd(13)}` +
        `${r.floor.toFixed(1).padEnd(11)}${`${pct(r.incrementalRun.wall / r.fullRun.wall)}, ${pct(r.incrementalRun.sql / r.fullRun.sql)}`.padEnd(34)}` +
        `${(r.fullRun.wall / r.floor).toFixed(2)}`,
    );
  }
}

main().catch((error: unknown) => {
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
