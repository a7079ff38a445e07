/**
 * Catalog seeding benchmark: synthetic dbt artifacts with 1,000 and 10,000 models
 * (~10 columns each, ~3 tests each, 1–3 parents each, sources under bronze), seeded
 * into a fresh scratch database; time and peak memory per size, then the targets.
 *
 *   npm run bench:catalog [-- --sizes 1000,10000] [--runs 3]
 *
 * Each measurement runs in its own child process so peak RSS is that seed's alone; each
 * figure is the median of --runs first seeds (each into a fresh database) and re-seeds.
 * The headline rows are what users run: the seed with column lineage (every model's SQL
 * parsed on a first seed; on a re-seed of unchanged artifacts, none). The rows with
 * lineage skipped stay as the comparison.
 * Targets (issue 21): 1k first seed with lineage ≤ 2 s; 1k re-seed with lineage ≤ 1.2 ×
 * the re-seed without; 10k first seed with lineage ≤ 20 s; 10k/1k ≤ 10. And, lineage
 * skipped (issue 5): 1k ≤ 2 s; 10k/1k ≤ 10.
 */
import { execa } from "execa";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { seedCatalog } from "../lib/catalog/seed.ts";
import pg from "pg";
import { clientConfig, type PgConnection } from "../lib/postgres/connection.ts";
import { applyCatalogSchema } from "../lib/catalog/scratch-schema.ts";
import { createScratchDatabase } from "../lib/postgres/scratch-database.ts";

const LAYERS = ["bronze", "silver", "gold", "platinum"] as const;
const TYPES = ["bigint", "text", "numeric(14,2)", "date", "timestamp with time zone", "boolean", "integer"];

/** Small deterministic PRNG (mulberry32), so every run seeds the same artifacts. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Synthetic {
  root: string;
  dirs: string[];
  models: number;
}

/**
 * The artifacts being generated, and the one random stream they draw from: every draw
 * happens in a fixed order, so the same size always gives the same files.
 */
interface Builder {
  random: () => number;
  pick: <T>(items: readonly T[]) => T;
  nodes: Record<string, unknown>;
  sources: Record<string, unknown>;
  catalogNodes: Record<string, unknown>;
  catalogSources: Record<string, unknown>;
  /** run_results.json entries per layer. */
  results: Record<string, unknown[]>;
  /** Model ids per layer, the next layer's parents. */
  byLayer: Record<string, string[]>;
  relation: Map<string, { schema: string; name: string; columns: string[] }>;
}

const DB = "bench";

function newBuilder(seed: number): Builder {
  const random = prng(seed);
  return {
    random,
    pick: <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T,
    nodes: {},
    sources: {},
    catalogNodes: {},
    catalogSources: {},
    results: Object.fromEntries(LAYERS.map((l) => [l, []])),
    byLayer: Object.fromEntries(LAYERS.map((l) => [l, []])),
    relation: new Map(),
  };
}

const columnsOf = (count: number) => ["id", ...Array.from({ length: count - 1 }, (_, i) => `attr_${i + 1}`)];

/** catalog.json's columns: `id` a bigint, the others a random type. */
const catalogColumns = (b: Builder, columns: string[]) =>
  Object.fromEntries(
    columns.map((name, i) => [
      name,
      { type: i === 0 ? "bigint" : b.pick(TYPES), index: i + 1, name, comment: null },
    ]),
  );

/** The manifest's documented columns. */
const docColumns = (columns: string[]) =>
  Object.fromEntries(
    columns.map((name) => [
      name,
      {
        name,
        description: `The ${name.replace("_", " ")}.`,
        meta: {},
        data_type: null,
        constraints: [],
        tags: [],
      },
    ]),
  );

/** `count` raw sources under bronze. */
function addSources(b: Builder, count: number): void {
  for (let i = 0; i < count; i += 1) {
    const id = `source.bench.raw.src_${i}`;
    const columns = columnsOf(8 + Math.floor(b.random() * 5));
    b.sources[id] = {
      unique_id: id,
      resource_type: "source",
      name: `src_${i}`,
      package_name: "bench",
      database: DB,
      schema: "bronze",
      identifier: `src_${i}`,
      source_name: "raw",
      fqn: ["bench", "bronze", "raw", `src_${i}`],
      description: `Raw feed ${i}.`,
      columns: docColumns(columns.slice(0, 3)),
      meta: {},
      tags: [],
      config: { enabled: true },
    };
    b.catalogSources[id] = {
      metadata: { type: "BASE TABLE", schema: "bronze", name: `src_${i}`, database: DB },
      columns: catalogColumns(b, columns),
      stats: {},
    };
    b.relation.set(id, { schema: "bronze", name: `src_${i}`, columns });
  }
}

/** A model's compiled SQL: one CTE per parent, each column from one of them. */
function modelSql(b: Builder, parents: string[], columns: string[]): string {
  const ctes = parents.map((p, k) => {
    const r = b.relation.get(p) as { schema: string; name: string };
    return `p${k} as (\n    select * from "${DB}"."${r.schema}"."${r.name}"\n)`;
  });
  const selects = columns.map((column, k) => {
    const from = `p${k % parents.length}`;
    const upstream = b.relation.get(parents[k % parents.length] as string)?.columns ?? ["id"];
    const source = upstream[k % upstream.length];
    return k % 3 === 2 ? `coalesce(${from}.${source}, 0) as ${column}` : `${from}.${source} as ${column}`;
  });
  const joins = parents
    .slice(1)
    .map((_, k) => `left join p${k + 1} on p${k + 1}.id = p0.id`)
    .join("\n");
  return `with ${ctes.join(",\n")}\nselect\n    ${selects.join(",\n    ")}\nfrom p0\n${joins}`;
}

/** Model `i` of `models` in its layer, with 1-3 parents in the layer below, and its run result at `at`. */
function addModel(b: Builder, i: number, models: number, at: string): void {
  const layerIndex = Math.min(3, Math.floor((i / models) * 4));
  const layer = LAYERS[layerIndex] as (typeof LAYERS)[number];
  const name = `m_${String(i).padStart(5, "0")}`;
  const id = `model.bench.${name}`;
  const upstreamPool =
    layerIndex === 0 ? Object.keys(b.sources) : (b.byLayer[LAYERS[layerIndex - 1] as string] as string[]);
  const parents = [
    ...new Set(Array.from({ length: 1 + Math.floor(b.random() * 3) }, () => b.pick(upstreamPool))),
  ];
  const columns = columnsOf(8 + Math.floor(b.random() * 5));
  const sql = modelSql(b, parents, columns);
  b.nodes[id] = {
    unique_id: id,
    resource_type: "model",
    name,
    package_name: "bench",
    database: DB,
    schema: layer,
    alias: name,
    fqn: ["bench", layer, name],
    description: `Synthetic ${layer} model ${i}.`,
    tags: [layer],
    meta: { owner: b.pick(["analytics", "finance-data", "data-engineering"]) },
    config: { enabled: true, materialized: layer === "bronze" ? "view" : "table", tags: [layer], meta: {} },
    columns: docColumns(columns),
    depends_on: { macros: [], nodes: parents },
    relation_name: `"${DB}"."${layer}"."${name}"`,
    language: "sql",
    compiled_code: sql,
    raw_code: "-- synthetic",
  };
  b.catalogNodes[id] = {
    metadata: { type: "BASE TABLE", schema: layer, name, database: DB },
    columns: catalogColumns(b, columns),
    stats: {},
  };
  b.relation.set(id, { schema: layer, name, columns });
  (b.byLayer[layer] as string[]).push(id);
  (b.results[layer] as unknown[]).push({
    unique_id: id,
    status: "success",
    timing: [{ name: "execute", started_at: at, completed_at: at }],
    execution_time: 0.05,
    adapter_response: { rows_affected: Math.floor(b.random() * 10_000) },
    message: "SELECT",
    failures: null,
  });
  addTests(b, { i, name, id, layer, parents, at });
}

/** Three tests of model `i` (not_null and unique on id, then accepted_values or relationships), mostly passing. */
function addTests(
  b: Builder,
  model: { i: number; name: string; id: string; layer: string; parents: string[]; at: string },
): void {
  const { i, name, id, layer, parents, at } = model;
  const tests: [string, string, string | null, Record<string, unknown>][] = [
    ["not_null", `not_null_${name}_id`, "id", {}],
    ["unique", `unique_${name}_id`, "id", {}],
    b.random() < 0.5
      ? ["accepted_values", `accepted_values_${name}_attr_1`, "attr_1", { values: ["a", "b"] }]
      : ["relationships", `relationships_${name}_id`, "id", { to: `ref('${parents[0]}')`, field: "id" }],
  ];
  for (const [test, testName, column, kwargs] of tests) {
    const testId = `test.bench.${testName}.${i.toString(16)}`;
    b.nodes[testId] = {
      unique_id: testId,
      resource_type: "test",
      name: testName,
      package_name: "bench",
      database: DB,
      schema: "dbt_test__audit",
      fqn: ["bench", layer, testName],
      config: { enabled: true, severity: "ERROR", materialized: "test" },
      tags: [],
      meta: {},
      columns: {},
      depends_on: { macros: [], nodes: [id] },
      column_name: column,
      attached_node: id,
      test_metadata: {
        name: test,
        kwargs: { column_name: column, ...kwargs, model: `{{ get_where_subquery(ref('${name}')) }}` },
        namespace: null,
      },
    };
    const roll = b.random();
    const status = roll < 0.95 ? "pass" : roll < 0.98 ? "warn" : "fail";
    (b.results[layer] as unknown[]).push({
      unique_id: testId,
      status,
      timing: [{ name: "execute", started_at: at, completed_at: at }],
      execution_time: 0.01,
      adapter_response: {},
      message: status === "pass" ? null : `Got ${Math.ceil(roll * 10)} results`,
      failures: status === "pass" ? 0 : Math.ceil(roll * 10),
    });
  }
}

/** Writes the docs dir (manifest.json, catalog.json) and one run_results.json dir per layer; the dirs. */
function writeArtifactFiles(b: Builder, root: string, generatedAt: string): string[] {
  const docs = join(root, "docs");
  mkdirSync(docs, { recursive: true });
  writeFileSync(
    join(docs, "manifest.json"),
    JSON.stringify({
      metadata: {
        dbt_schema_version: "https://schemas.getdbt.com/dbt/manifest/v12.json",
        dbt_version: "1.11.16",
        generated_at: generatedAt,
        invocation_id: "bench-docs",
      },
      nodes: b.nodes,
      sources: b.sources,
      exposures: {},
      macros: {},
      docs: {},
      metrics: {},
      groups: {},
      selectors: {},
      disabled: {},
      parent_map: {},
      child_map: {},
    }),
  );
  writeFileSync(
    join(docs, "catalog.json"),
    JSON.stringify({
      metadata: {
        dbt_schema_version: "https://schemas.getdbt.com/dbt/catalog/v1.json",
        generated_at: generatedAt,
      },
      nodes: b.catalogNodes,
      sources: b.catalogSources,
      errors: null,
    }),
  );
  const dirs: string[] = [];
  LAYERS.forEach((layer, index) => {
    const dir = join(root, layer);
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, "run_results.json"),
      JSON.stringify({
        metadata: {
          dbt_schema_version: "https://schemas.getdbt.com/dbt/run-results/v6.json",
          generated_at: generatedAt,
          invocation_id: `bench-${layer}-${index}`,
        },
        results: b.results[layer],
        elapsed_time: 60,
        args: { which: "build", select: [`tag:${layer}`] },
      }),
    );
    dirs.push(dir);
  });
  return [...dirs, docs];
}

/** Writes manifest.json + catalog.json (docs dir) and one run_results.json per layer. */
export function writeSyntheticArtifacts(models: number, root: string): Synthetic {
  const b = newBuilder(models);
  addSources(b, Math.max(5, Math.round(models / 20)));
  const started = new Date(Date.UTC(2026, 10, 1, 6)).getTime();
  for (let i = 0; i < models; i += 1) addModel(b, i, models, new Date(started + i * 50).toISOString());
  const generatedAt = new Date(started + models * 50 + 60_000).toISOString();
  return { root, dirs: writeArtifactFiles(b, root, generatedAt), models };
}

interface Measurement {
  seconds: number;
  phases: Record<string, number>;
  /** Node CPU seconds per phase. */
  phaseCpu: Record<string, number>;
  /** CPU seconds of the PostgreSQL server's processes during the seed (null: not a local server). */
  pgCpuSeconds: number | null;
  peakRssMb: number;
  baselineRssMb: number;
  rows: { tables: number; columns: number; edges: number; tests: number; testRuns: number };
  lineage: {
    models: number;
    unchanged: number;
    workers: number;
    seconds: number;
    cpuSeconds: number;
    processCpuSeconds: number;
    failed: number;
  } | null;
}

/**
 * CPU seconds the local PostgreSQL server's exited processes have used so far: the
 * postmaster's children (the seed's backend, once it has disconnected). null when the
 * server is not on this machine (its postmaster is not readable in /proc).
 */
async function serverCpu(connection: PgConnection): Promise<(() => number) | null> {
  const client = new pg.Client(clientConfig(connection));
  await client.connect();
  try {
    const pid = (await client.query<{ pid: number }>("select pg_backend_pid() as pid")).rows[0]?.pid;
    const stat = (p: number) => readFileSync(`/proc/${p}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
    // Fields after "(comm) ": state, ppid, … utime (12), stime (13), cutime (14), cstime (15).
    const postmaster = Number(stat(Number(pid))[1]);
    const ticks = 100; // USER_HZ on Linux
    const read = () => {
      const fields = stat(postmaster);
      return (Number(fields[13]) + Number(fields[14])) / ticks;
    };
    read();
    return read;
  } catch {
    return null;
  } finally {
    await client.end();
  }
}

/** Child: one seed, then its time and the process's peak RSS. */
async function child(connection: PgConnection, dirs: string[], lineage: string): Promise<void> {
  const baselineRssMb = process.resourceUsage().maxRSS / 1024;
  const pgCpu = await serverCpu(connection);
  // The probe's own backend has exited (and been reaped) before the seed starts.
  await new Promise((resolve) => setTimeout(resolve, 200));
  const pgBefore = pgCpu?.() ?? 0;
  const started = performance.now();
  const result = await seedCatalog(connection, dirs, {
    columnLineage: lineage === "none" ? false : true,
  });
  const seconds = (performance.now() - started) / 1000;
  await new Promise((resolve) => setTimeout(resolve, 200));
  const measurement: Measurement = {
    seconds,
    phases: result.phases,
    phaseCpu: result.phaseCpu,
    pgCpuSeconds: pgCpu ? pgCpu() - pgBefore : null,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    baselineRssMb,
    rows: {
      tables: result.tables,
      columns: result.columns,
      edges: result.tableEdges + result.columnEdges,
      tests: result.tests,
      testRuns: result.testRuns,
    },
    lineage:
      result.columnLineage.mode === "skipped"
        ? null
        : {
            models: result.columnLineage.models,
            unchanged: result.columnLineage.unchanged,
            workers: result.columnLineage.workers,
            seconds: result.columnLineage.seconds,
            cpuSeconds: result.columnLineage.cpuSeconds,
            processCpuSeconds: result.columnLineage.processCpuSeconds,
            failed: result.columnLineage.failed.length,
          },
  };
  console.log(`RESULT ${JSON.stringify(measurement)}`);
}

async function measure(connection: PgConnection, dirs: string[], lineage: string): Promise<Measurement> {
  const self = fileURLToPath(import.meta.url);
  const { stdout } = await execa("tsx", [self, "--child", JSON.stringify({ connection, dirs, lineage })], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const line = String(stdout)
    .split("\n")
    .find((l) => l.startsWith("RESULT "));
  if (!line) throw new Error(`benchmark child printed no result:\n${String(stdout)}`);
  return JSON.parse(line.slice("RESULT ".length)) as Measurement;
}

function pad(text: string | number, width: number): string {
  return String(text).padEnd(width);
}

interface Row {
  size: number;
  run: string;
  m: Measurement;
}

function median(list: Measurement[]): Measurement {
  const sorted = [...list].sort((a, b) => a.seconds - b.seconds);
  return sorted[Math.floor((sorted.length - 1) / 2)] as Measurement;
}

/** First seeds and re-seeds of `size` synthetic models, with and without column lineage: the median rows. */
async function measureSize(size: number, runs: number, root: string): Promise<Row[]> {
  const rows: Row[] = [];
  process.stdout.write(`\n==> ${size} models: generating artifacts… `);
  const t = performance.now();
  const synthetic = writeSyntheticArtifacts(size, join(root, String(size)));
  console.log(`${((performance.now() - t) / 1000).toFixed(1)} s`);
  // Each first seed goes into a fresh database; the re-seeds follow the last one.
  for (const lineage of ["all", "none"] as const) {
    const label = lineage === "all" ? "with column lineage" : "lineage skipped";
    const firsts: Measurement[] = [];
    const reseeds: Measurement[] = [];
    for (let run = 0; run < runs; run += 1) {
      const db = await createScratchDatabase("benchcat");
      try {
        await applyCatalogSchema(db.connection);
        console.log(`    first seed ${run + 1}/${runs} (empty catalog, ${label})`);
        firsts.push(await measure(db.connection, synthetic.dirs, lineage));
        console.log(`    re-seed ${run + 1}/${runs} (same artifacts, ${label})`);
        reseeds.push(await measure(db.connection, synthetic.dirs, lineage));
      } finally {
        await db.drop();
      }
    }
    rows.push({
      size,
      run: `first seed, ${label} (median of ${firsts.map((m) => m.seconds.toFixed(2)).join("/")})`,
      m: median(firsts),
    });
    rows.push({
      size,
      run: `re-seed, ${label} (median of ${reseeds.map((m) => m.seconds.toFixed(2)).join("/")})`,
      m: median(reseeds),
    });
  }
  return rows;
}

/** The measurements: time, memory and rows; the phases; CPU seconds per process. */
function printRows(rows: readonly Row[]): void {
  console.log(
    `\n${pad("models", 8)}${pad("run", 62)}${pad("seconds", 10)}${pad("peak RSS", 11)}${pad("tables", 8)}${pad("columns", 9)}${pad("edges", 8)}${pad("tests", 7)}lineage`,
  );
  for (const { size, run, m } of rows) {
    const lineage = m.lineage
      ? `${m.lineage.models} parsed in ${m.lineage.seconds.toFixed(2)} s (${m.lineage.cpuSeconds.toFixed(2)} CPU s parsing, ${m.lineage.processCpuSeconds.toFixed(2)} in all, ${((m.lineage.cpuSeconds / Math.max(1, m.lineage.models)) * 1000).toFixed(2)} ms/model; ${m.lineage.workers} workers, ${m.lineage.failed} failed), ${m.lineage.unchanged} unchanged`
      : "skipped";
    console.log(
      `${pad(size, 8)}${pad(run, 62)}${pad(m.seconds.toFixed(2), 10)}${pad(`${m.peakRssMb.toFixed(0)} MB`, 11)}` +
        `${pad(m.rows.tables, 8)}${pad(m.rows.columns, 9)}${pad(m.rows.edges, 8)}${pad(m.rows.tests, 7)}${lineage}`,
    );
  }
  console.log(
    `\nphases, wall s (Node CPU s): read+validate artifacts / database facts / lineage request / plan / write / waiting for the parser` +
      `\n  (the parser runs beside plan and write: its wall time is in the lineage column above)`,
  );
  for (const { size, run, m } of rows) {
    const p = m.phases;
    const c = m.phaseCpu;
    console.log(
      `${pad(size, 8)}${pad(run, 62)}${["artifacts", "facts", "lineage", "plan", "write", "lineageWait"]
        .map((k) => `${(p[k] ?? 0).toFixed(2)} (${(c[k] ?? 0).toFixed(2)})`)
        .join(" / ")}`,
    );
  }
  console.log(`\nCPU seconds per seed: Node / parser (Python, all processes) / PostgreSQL server / total`);
  for (const { size, run, m } of rows) {
    const node = Object.values(m.phaseCpu).reduce((a, b) => a + b, 0);
    const python = m.lineage?.processCpuSeconds ?? 0;
    const server = m.pgCpuSeconds;
    console.log(
      `${pad(size, 8)}${pad(run, 62)}${node.toFixed(2)} / ${python.toFixed(2)} / ${server === null ? "-" : server.toFixed(2)} / ` +
        `${(node + python + (server ?? 0)).toFixed(2)}`,
    );
  }
}

/** The targets of the module comment, each met or not. */
function printTargets(rows: readonly Row[]): void {
  const find = (size: number, prefix: string) =>
    rows.find((r) => r.size === size && r.run.startsWith(prefix))?.m;
  const targets: [string, number | undefined, number, string][] = [];
  const first1k = find(1000, "first seed, with");
  const first10k = find(10000, "first seed, with");
  const reseed1k = find(1000, "re-seed, with");
  const reseedSkipped1k = find(1000, "re-seed, lineage skipped");
  const skipped1k = find(1000, "first seed, lineage skipped");
  const skipped10k = find(10000, "first seed, lineage skipped");
  targets.push(["1k first seed with column lineage (s)", first1k?.seconds, 2, "≤ 2"]);
  targets.push([
    "1k re-seed with lineage / re-seed without",
    reseed1k && reseedSkipped1k ? reseed1k.seconds / reseedSkipped1k.seconds : undefined,
    1.2,
    "≤ 1.2",
  ]);
  targets.push(["10k first seed with column lineage (s)", first10k?.seconds, 20, "≤ 20"]);
  targets.push([
    "10k / 1k, first seed with lineage",
    first1k && first10k ? first10k.seconds / first1k.seconds : undefined,
    10,
    "≤ 10",
  ]);
  targets.push(["1k first seed, lineage skipped (s)", skipped1k?.seconds, 2, "≤ 2"]);
  targets.push([
    "10k / 1k, lineage skipped",
    skipped1k && skipped10k ? skipped10k.seconds / skipped1k.seconds : undefined,
    10,
    "≤ 10",
  ]);
  console.log("\ntargets");
  for (const [name, value, limit, spelled] of targets) {
    console.log(
      `  ${pad(name, 46)}${pad(value === undefined ? "-" : value.toFixed(2), 8)}${pad(spelled, 7)}` +
        `${value === undefined ? "not measured (size not run)" : value <= limit ? "met" : "NOT MET"}`,
    );
  }
  console.log(
    `(peak RSS includes the tsx runtime: about ${rows[0]?.m.baselineRssMb.toFixed(0) ?? "?"} MB before seeding)`,
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      child: { type: "string" },
      sizes: { type: "string", default: "1000,10000" },
      runs: { type: "string", default: "3" },
    },
  });
  if (values.child) {
    const { connection, dirs, lineage } = JSON.parse(values.child) as {
      connection: PgConnection;
      dirs: string[];
      lineage: string;
    };
    await child(connection, dirs, lineage);
    return;
  }

  const sizes = values.sizes.split(",").map(Number);
  const runs = Math.max(1, Number(values.runs));
  const root = mkdtempSync(join(tmpdir(), "aiwb-bench-catalog-"));
  const rows: Row[] = [];
  try {
    for (const size of sizes) {
      rows.push(...(await measureSize(size, runs, root)));
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }

  printRows(rows);
  printTargets(rows);
}

// Run when executed, not when imported (the generator is reusable).
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error: unknown) => {
    console.error(`\nerror: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
