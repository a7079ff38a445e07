/**
 * Column-level lineage from compiled SQL, through sqlglot (python/lineage/
 * column_lineage.py): one Python process per seed, started before the seed needs it (so
 * its start-up overlaps reading the database facts), which builds the schema once and parses
 * the models in a bounded pool of forked workers, in the project's Python venv.
 *
 * Why sqlglot: it is the best-kept open-source SQL parser with a lineage module
 * (`sqlglot.lineage`), has a PostgreSQL dialect, and its optimizer qualifies columns
 * and expands `select *` from a schema: dbt's catalog.json provides exactly that
 * schema. It is pure Python with no native parts, so it installs from PyPI beside dbt.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { z } from "zod";
import { findDbt } from "../dbt/cli.ts";
import { projectRoot } from "../paths.ts";

export const LINEAGE_SCRIPT = fileURLToPath(
  new URL("../../python/lineage/column_lineage.py", import.meta.url),
);

/** One edge as sqlglot reports it: output column ← physical table column. */
export interface RawColumnEdge {
  target: string;
  database: string | null;
  schema: string | null;
  table: string;
  column: string;
  expression: string | null;
}

export interface ModelLineage {
  id: string;
  edges: RawColumnEdge[];
  error: string | null;
  seconds: number;
}

export interface LineageRequestModel {
  id: string;
  sql: string;
}

/** database → schema → table → column → type, as sqlglot's MappingSchema takes it. */
export type LineageSchema = Record<string, Record<string, Record<string, Record<string, string>>>>;

const answerSchema = z.object({
  sqlglot: z.string(),
  compiled: z.boolean().nullish(),
  workers: z.number().nullish(),
  cpu_seconds: z.number().nullish(),
  process_cpu_seconds: z.number().nullish(),
  results: z.array(
    z.object({
      id: z.string(),
      edges: z.array(
        z.object({
          target: z.string(),
          database: z.string().nullable(),
          schema: z.string().nullable(),
          table: z.string(),
          column: z.string(),
          expression: z.string().nullable(),
        }),
      ),
      error: z.string().nullable(),
      seconds: z.number(),
    }),
  ),
});

/** The project venv's Python (where dbt and sqlglot are), else `python3` on PATH. */
export function findPython(explicit?: string): string {
  if (explicit) return explicit;
  if (process.env["AIWB_PYTHON"]) return process.env["AIWB_PYTHON"];
  const root = projectRoot();
  try {
    const python = join(dirname(findDbt(join(root, "dbt"))), "python");
    if (existsSync(python)) return python;
  } catch {
    // no venv: fall through to the system Python
  }
  return "python3";
}

export interface ColumnLineageRun {
  sqlglotVersion: string | null;
  /** Whether sqlglot ran its compiled modules (sqlglotc). */
  compiled: boolean | null;
  /** Parser processes used. */
  workers: number;
  /** CPU seconds the parsing took, all workers together (steadier than wall time on a busy machine). */
  cpuSeconds: number;
  /** CPU seconds of the Python process and its workers: start-up, warm-up and JSON included. */
  processCpuSeconds: number;
  models: ModelLineage[];
  seconds: number;
}

/** The run of a trace with no model to parse: no parser started, nothing found. */
export function noColumnLineage(): ColumnLineageRun {
  return {
    sqlglotVersion: null,
    compiled: null,
    workers: 0,
    cpuSeconds: 0,
    processCpuSeconds: 0,
    models: [],
    seconds: 0,
  };
}

/** A lineage process started ahead of its request (see {@link startColumnLineage}). */
export interface LineageProcess {
  /** Sends the models and the schema, then waits for the answer (once per process). */
  trace(
    models: readonly LineageRequestModel[],
    schema: LineageSchema,
    options?: { dialect?: string; workers?: number },
  ): Promise<ColumnLineageRun>;
  /** Ends the process without a request (nothing to parse, or the seed failed). */
  stop(): void;
}

/**
 * Starts the Python process now, so it imports and warms up sqlglot while the caller is
 * still reading the database; {@link LineageProcess.trace} then sends the
 * request. Every failure to run (no such Python, sqlglot missing) surfaces from `trace`.
 */
export function startColumnLineage(
  options: { pythonPath?: string; timeoutMs?: number } = {},
): LineageProcess {
  const python = findPython(options.pythonPath);
  const child = execa(python, [LINEAGE_SCRIPT], {
    stdin: "pipe",
    reject: false,
    timeout: options.timeoutMs ?? 600_000,
    maxBuffer: 1024 * 1024 * 1024,
    stripFinalNewline: false,
  });
  // A process that cannot start (or died) makes writing its stdin fail: reported by trace().
  child.stdin?.on("error", () => undefined);
  let used = false;
  return {
    stop() {
      used = true;
      child.stdin?.destroy();
      child.kill();
    },
    async trace(models, schema, traceOptions = {}) {
      if (used) throw new Error("column lineage: this process was already used or stopped");
      used = true;
      const started = performance.now();
      if (models.length === 0) {
        this.stop();
        return noColumnLineage();
      }
      const request = JSON.stringify({
        dialect: traceOptions.dialect ?? "postgres",
        workers: traceOptions.workers ?? availableParallelism(),
        schema,
        models: models.map(({ id, sql }) => ({ id, sql })),
      });
      child.stdin?.end(request);
      const result = await child;
      if (result.exitCode !== 0 || result.failed) {
        const detail = (result.stderr || result.message || "").trim().split("\n").slice(-3).join(" | ");
        const hint = /No module named 'sqlglot'/.test(detail)
          ? " (sqlglot is not installed in that Python: run scripts/bootstrap to rebuild the dbt venv)"
          : "";
        throw new Error(`column lineage (${python} ${LINEAGE_SCRIPT}) failed: ${detail}${hint}`);
      }
      let answer: z.infer<typeof answerSchema>;
      try {
        answer = answerSchema.parse(JSON.parse(String(result.stdout)));
      } catch (error) {
        throw new Error(
          `column lineage answered something unreadable: ${error instanceof Error ? error.message : String(error)}`,
          { cause: error },
        );
      }
      const answered = new Set(answer.results.map((r) => r.id));
      const missing = models.filter((m) => !answered.has(m.id));
      if (missing.length > 0)
        throw new Error(
          `column lineage answered no result for ${missing.length} model(s), e.g. ${missing[0]?.id}`,
        );
      return {
        sqlglotVersion: answer.sqlglot,
        compiled: answer.compiled ?? null,
        workers: answer.workers ?? 1,
        cpuSeconds: answer.cpu_seconds ?? 0,
        processCpuSeconds: answer.process_cpu_seconds ?? answer.cpu_seconds ?? 0,
        models: answer.results,
        seconds: (performance.now() - started) / 1000,
      };
    },
  };
}

/**
 * Traces every model's output columns to physical table columns, in one Python process.
 * Throws when the process cannot run or answers nonsense (sqlglot missing, …); a model
 * whose SQL does not parse comes back with an `error` instead.
 */
export async function traceColumnLineage(
  models: readonly LineageRequestModel[],
  schema: LineageSchema,
  options: { pythonPath?: string; dialect?: string; timeoutMs?: number; workers?: number } = {},
): Promise<ColumnLineageRun> {
  const started = performance.now();
  if (models.length === 0) return noColumnLineage();
  const run = await startColumnLineage(options).trace(models, schema, options);
  return { ...run, seconds: (performance.now() - started) / 1000 };
}

/**
 * The parser's identity, without starting Python: sqlglot's version (from its dist-info in
 * the venv of `python`) and a hash of the lineage script. Part of every model's lineage
 * checksum, so a new sqlglot or script re-parses every model once. null when sqlglot's
 * version cannot be read that way (a system Python): then every seed parses.
 */
export function parserIdentity(pythonPath?: string): string | null {
  const script = createHash("sha256").update(readFileSync(LINEAGE_SCRIPT)).digest("hex").slice(0, 12);
  const python = findPython(pythonPath);
  if (!python.includes("/")) return null;
  const lib = join(dirname(dirname(python)), "lib");
  try {
    for (const version of readdirSync(lib)) {
      const site = join(lib, version, "site-packages");
      if (!existsSync(site)) continue;
      const dist = readdirSync(site).find((entry) => /^sqlglot-[\d.]+.*\.dist-info$/.test(entry));
      if (dist)
        return `sqlglot ${dist.slice("sqlglot-".length, -".dist-info".length)}; column_lineage.py ${script}`;
    }
  } catch {
    // no venv layout
  }
  return null;
}

/** A table the model may read, as the manifest names it. */
export interface UpstreamRelation {
  uniqueId: string;
  database: string | null;
  schema: string;
  name: string;
  /** The upstream's real column names (catalog spelling), when known. */
  columns?: readonly string[];
}

export interface ColumnEdge {
  sourceUniqueId: string;
  sourceColumn: string;
  targetColumn: string;
  expression: string | null;
}

const same = (a: string | null | undefined, b: string | null | undefined) =>
  (a ?? "").toLowerCase() === (b ?? "").toLowerCase();

/**
 * Keeps the edges whose upstream table is one of the model's `depends_on` parents (what
 * dbt knows the model reads: a hard-coded table or a parse slip cannot add lineage),
 * names columns as the catalog spells them, and drops duplicates. Columns the catalog does
 * not know (target columns not in `targetColumns`, source columns not in the parent's
 * `columns`, when given) are dropped.
 */
export function filterColumnEdges(
  edges: readonly RawColumnEdge[],
  parents: readonly UpstreamRelation[],
  targetColumns?: readonly string[],
): ColumnEdge[] {
  const targets = targetColumns ? new Map(targetColumns.map((c) => [c.toLowerCase(), c])) : null;
  const kept = new Map<string, ColumnEdge>();
  for (const edge of edges) {
    const parent = parents.find(
      (p) =>
        same(p.schema, edge.schema) &&
        same(p.name, edge.table) &&
        (edge.database === null || p.database === null || same(p.database, edge.database)),
    );
    if (!parent) continue;
    const targetColumn = targets ? targets.get(edge.target.toLowerCase()) : edge.target;
    if (targetColumn === undefined) continue;
    const sourceColumn = parent.columns ? parent.columns.find((c) => same(c, edge.column)) : edge.column;
    if (sourceColumn === undefined) continue;
    const key = `${parent.uniqueId}\u0000${sourceColumn}\u0000${targetColumn}`;
    if (!kept.has(key))
      kept.set(key, {
        sourceUniqueId: parent.uniqueId,
        sourceColumn,
        targetColumn,
        expression: edge.expression,
      });
  }
  return [...kept.values()];
}
