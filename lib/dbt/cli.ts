/**
 * The dbt CLI, called from TypeScript: typed options, the project venv found by itself,
 * progress streamed line by line, `run_results.json` parsed into a typed summary, and a
 * typed error listing the failing nodes when the build fails.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { isAbsolute, join } from "node:path";
import { execa } from "execa";
import type { PgConnection } from "../postgres/connection.ts";
import { invokeWarm, pythonBeside } from "./warm.ts";
import { projectFiles } from "./stage-inputs.ts";

export const LAYERS = ["bronze", "silver", "gold", "platinum"] as const;
export type Layer = (typeof LAYERS)[number];

export type DbtCommand = "build" | "run" | "test" | "seed" | "compile" | "debug" | "docs generate";

export interface DbtOptions {
  command: DbtCommand;
  /** dbt project dir (holds dbt_project.yml and profiles.yml). */
  projectDir: string;
  /** Where dbt connects; the password reaches dbt through the environment only. */
  connection: PgConnection;
  /** A medallion layer: selects the layer's models and seeds (`tag:<layer>`). */
  stage?: Layer;
  /** Extra `--select` expressions (combined with `stage` as a union). */
  select?: string[];
  exclude?: string[];
  fullRefresh?: boolean;
  vars?: Record<string, unknown>;
  /** profiles.yml target; default `local`. */
  target?: string;
  threads?: number;
  /** Artifacts dir, relative to the project or absolute; default `target`. */
  targetPath?: string;
  /** Each line dbt prints, as it prints it. */
  onLine?: (line: string) => void;
  /** Path of the dbt executable; default: the project venv, then `dbt` on PATH. */
  dbtPath?: string;
  /** Stops dbt when aborted (SIGTERM ends it; PostgreSQL rolls back what it had not committed). */
  signal?: AbortSignal;
  /**
   * Run in this process's warm dbt process (dbt-warm.ts) instead of a new dbt CLI
   * process: dbt's start and the project parse are paid once for consecutive
   * invocations. Same arguments, artifacts, results and errors. Default false. Only
   * for build, run, test, seed and compile, and only with dbt from a venv.
   */
  warm?: boolean;
  /**
   * Warm runs: the target path the project is parsed in (where dbt keeps its partial-parse
   * file), shared by the invocations that name it, e.g. all stages of one stack. Default:
   * the invocation's own target path.
   */
  parseTargetPath?: string;
}

export type NodeStatus =
  "success" | "error" | "skipped" | "pass" | "fail" | "warn" | "runtime error" | "no-op";

export interface DbtNodeResult {
  uniqueId: string;
  resourceType: string;
  status: NodeStatus;
  message: string | null;
  /** Rows inserted/updated by a model (from adapter_response), or null. */
  rowsAffected: number | null;
  /** Failing rows of a test, or null. */
  failures: number | null;
  executionTime: number;
}

export interface DbtRunSummary {
  invocationId: string;
  command: string;
  /** dbt's own elapsed time for the run (run_results.json: after the parse, including its first queries). */
  elapsedSeconds: number;
  /**
   * Seconds from the first node's start to the last node's end (run_results.json timings):
   * the time dbt spent on the models, tests and seeds themselves. 0 when no node ran.
   */
  nodeSeconds: number;
  nodes: DbtNodeResult[];
  models: { success: number; error: number; skipped: number; rowsAffected: number };
  tests: { pass: number; fail: number; warn: number; error: number; skipped: number };
  seeds: { success: number; error: number };
  /** Absolute path of the artifacts dir (run_results.json, manifest.json, ...). */
  targetPath: string;
  /** Warm runs only: whether this invocation parsed the project (false: it reused the warm process's manifest). */
  parsedProject?: boolean;
}

export class DbtNotInstalledError extends Error {
  constructor(tried: string[]) {
    super(
      `dbt is not installed (looked for ${tried.join(", ")}): run scripts/bootstrap to create the project venv`,
    );
    this.name = "DbtNotInstalledError";
  }
}

export class DbtRunError extends Error {
  constructor(
    public readonly command: string,
    public readonly failures: DbtNodeResult[],
    public readonly summary: DbtRunSummary | null,
    public readonly detail: string,
    /** The signal that ended dbt (SIGKILL, SIGTERM, ...), when one did. */
    public readonly signal: string | null = null,
  ) {
    super(
      signal
        ? `dbt ${command} was stopped by ${signal} before it finished` +
            (failures.length > 0 ? ` (${failures.length} node(s) had failed)` : "")
        : failures.length > 0
          ? `dbt ${command} failed on ${failures.length} node(s):\n` +
            failures
              .map((node) => `  - ${node.uniqueId} [${node.status}]: ${compactMessage(node.message)}`)
              .join("\n")
          : `dbt ${command} failed: ${detail}`,
    );
    this.name = "DbtRunError";
  }
}

/** What a dbt failure's text says went wrong, in the order the causes are checked. */
export type DbtFailureCause = "killed" | "disk-full" | "database-unreachable" | "model-or-test";

export function dbtFailureCause(error: DbtRunError): DbtFailureCause {
  if (error.signal) return "killed";
  const text = [error.detail, ...error.failures.map((node) => node.message ?? "")].join("\n");
  if (/No space left on device|could not extend file|disk full/i.test(text)) return "disk-full";
  if (
    /server closed the connection unexpectedly|terminating connection due to administrator command|connection already closed|SSL connection has been closed unexpectedly|no connection to the server|Connection refused|could not connect to server|connection to server .* failed|the database system is (shutting down|starting up|in recovery mode)|SSL SYSCALL error|ECONNRESET/i.test(
      text,
    )
  ) {
    return "database-unreachable";
  }
  return "model-or-test";
}

/** The next step for a dbt failure, matching its cause. */
export function dbtFailureHint(error: DbtRunError): string {
  switch (dbtFailureCause(error)) {
    case "killed":
      return "dbt was stopped before it finished; nothing it wrote is half-done (each model commits or rolls back whole): re-run the stage.";
    case "disk-full":
      return "the database server ran out of disk space: free space on its data volume, then re-run the stage.";
    case "database-unreachable":
      return "PostgreSQL went away during the build (restarted or unreachable): check it is up (scripts/local-postgres status), then re-run the stage.";
    case "model-or-test":
      return "a dbt model or test failed: fix the nodes named above (npm run dbt -- <stage> --stack local reruns one stage), then re-run.";
  }
}

/** A node's message on one line: dbt puts the reason on the line after "Database Error in model ...". */
function compactMessage(message: string | null): string {
  const lines = (message ?? "")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line.length > 0 && !line.startsWith("compiled code at"));
  const text = lines.join(" | ") || "no message";
  return text.length > 400 ? `${text.slice(0, 399)}…` : text;
}

/** The dbt executable: explicit path, the venv bootstrap made, or `dbt` on PATH. */
export function findDbt(projectDir: string, explicit?: string): string {
  const tried: string[] = [];
  const candidates: string[] = [];
  if (explicit) candidates.push(explicit);
  if (process.env["DBT_PATH"]) candidates.push(process.env["DBT_PATH"]);
  const requirements = join(projectDir, "requirements.txt");
  if (existsSync(requirements)) {
    const hash = createHash("sha256").update(readFileSync(requirements)).digest("hex").slice(0, 12);
    const cache =
      process.env["AIWB_CACHE"] ??
      join(process.env["XDG_CACHE_HOME"] ?? join(homedir(), ".cache"), "ai-workbench");
    candidates.push(join(cache, "venv", `dbt-${hash}`, "bin", "dbt"));
  }
  for (const candidate of candidates) {
    tried.push(candidate);
    if (existsSync(candidate)) return candidate;
  }
  for (const dir of (process.env["PATH"] ?? "").split(":")) {
    if (dir && existsSync(join(dir, "dbt"))) return join(dir, "dbt");
  }
  tried.push("dbt on PATH");
  throw new DbtNotInstalledError(tried);
}

/** The dbt argument list for `options` (pure; the connection goes in the environment). */
export function dbtArguments(options: DbtOptions): string[] {
  const args = options.command.split(" ");
  const selectors = [...(options.stage ? [`tag:${options.stage}`] : []), ...(options.select ?? [])];
  if (selectors.length > 0) args.push("--select", ...selectors);
  if (options.exclude?.length) args.push("--exclude", ...options.exclude);
  // A stage runs the tests of its own models only, never a test that also needs a later
  // layer that is not built yet.
  if (selectors.length > 0 && ["build", "test"].includes(options.command)) {
    args.push("--indirect-selection", "cautious");
  }
  // dbt lists the relations of the selected nodes' schemas only, not of every schema of
  // the project (one schema for most stages instead of four: about 0.04 s per invocation);
  // a relation in another schema is still looked up when a node asks for it.
  if (selectors.length > 0) args.push("--cache-selected-only");
  if (options.fullRefresh) args.push("--full-refresh");
  if (options.vars && Object.keys(options.vars).length > 0) args.push("--vars", JSON.stringify(options.vars));
  args.push("--target", options.target ?? "local");
  if (options.threads) args.push("--threads", String(options.threads));
  args.push("--target-path", options.targetPath ?? "target");
  return args;
}

/** Commands the warm process runs (the others always start the dbt CLI). */
const WARM_COMMANDS: readonly DbtCommand[] = ["build", "run", "test", "seed", "compile"];

/**
 * The `dbt parse` that produces the manifest `options` runs on (pure): the same vars
 * and target, in the parse target path, writing only dbt's partial-parse file.
 */
export function dbtParseArguments(options: DbtOptions): string[] {
  const args = ["parse"];
  if (options.vars && Object.keys(options.vars).length > 0) args.push("--vars", JSON.stringify(options.vars));
  args.push("--target", options.target ?? "local");
  args.push("--target-path", options.parseTargetPath ?? options.targetPath ?? "target");
  args.push("--no-write-json");
  return args;
}

/**
 * What a parsed manifest depends on, as one hash: the dbt install, every file of the
 * project, the parse arguments and dbt's environment (connection included: relation
 * names carry the database), except the password: a parse never connects, and dbt's own
 * partial-parse check leaves it out of the profile's hash too. (So a manifest parsed
 * ahead, before the password is known, serves the invocations that bring it.) A warm
 * process reuses its manifest while this is unchanged.
 */
export function manifestKey(options: DbtOptions, dbt: string): string {
  const hash = createHash("sha256");
  hash.update(
    JSON.stringify({
      dbt,
      projectDir: options.projectDir,
      parse: dbtParseArguments(options),
      env: Object.entries(dbtEnvironment(options))
        .filter(([name]) => name !== "DBT_PASSWORD")
        .sort(),
    }),
  );
  for (const file of projectFiles(options.projectDir)) {
    hash.update(`\0${file}\0`);
    hash.update(readFileSync(join(options.projectDir, file)));
  }
  return hash.digest("hex");
}

export function dbtEnvironment(options: DbtOptions): Record<string, string> {
  const { connection } = options;
  return {
    DBT_PROFILES_DIR: options.projectDir,
    DBT_HOST: connection.host,
    DBT_PORT: String(connection.port),
    DBT_USER: connection.user,
    DBT_PASSWORD: connection.password,
    DBT_DBNAME: connection.database,
    DBT_SSLMODE: connection.sslMode,
    DBT_SEND_ANONYMOUS_USAGE_STATS: "false",
    DBT_USE_COLORS: "false",
    DBT_PRINTER_WIDTH: "100",
  };
}

export interface RawRunResults {
  metadata: { invocation_id: string };
  elapsed_time: number;
  args?: { which?: string };
  results: Array<{
    unique_id: string;
    status: string;
    message: string | null;
    failures: number | null;
    execution_time: number;
    adapter_response?: { rows_affected?: number };
    timing?: Array<{ name: string; started_at?: string | null; completed_at?: string | null }>;
  }>;
}

/** Span of the nodes' compile and execute timings, in seconds (pure). */
export function nodeSpanSeconds(results: RawRunResults["results"]): number {
  const instants = results.flatMap((result) =>
    (result.timing ?? []).flatMap((phase) =>
      [phase.started_at, phase.completed_at]
        .filter((at): at is string => typeof at === "string" && at.length > 0)
        .map((at) => Date.parse(at))
        .filter((ms) => Number.isFinite(ms)),
    ),
  );
  return instants.length > 0 ? (Math.max(...instants) - Math.min(...instants)) / 1000 : 0;
}

/** Parses run_results.json text into a summary (pure). */
export function parseRunResults(text: string, targetPath: string): DbtRunSummary {
  const raw = JSON.parse(text) as RawRunResults;
  const nodes: DbtNodeResult[] = raw.results.map((result) => ({
    uniqueId: result.unique_id,
    resourceType: result.unique_id.split(".")[0] ?? "unknown",
    status: result.status as NodeStatus,
    message: result.message,
    // PostgreSQL reports -1 for statements without a row count (views, create table as).
    rowsAffected:
      typeof result.adapter_response?.rows_affected === "number" && result.adapter_response.rows_affected >= 0
        ? result.adapter_response.rows_affected
        : null,
    failures: result.failures,
    executionTime: result.execution_time,
  }));
  const count = (type: string, status: string) =>
    nodes.filter((node) => node.resourceType === type && node.status === status).length;
  const models = nodes.filter((node) => node.resourceType === "model");
  return {
    invocationId: raw.metadata.invocation_id,
    command: raw.args?.which ?? "unknown",
    elapsedSeconds: raw.elapsed_time,
    nodeSeconds: nodeSpanSeconds(raw.results),
    nodes,
    models: {
      success: count("model", "success"),
      error: count("model", "error"),
      skipped: count("model", "skipped"),
      rowsAffected: models.reduce((sum, node) => sum + (node.rowsAffected ?? 0), 0),
    },
    tests: {
      pass: count("test", "pass"),
      fail: count("test", "fail"),
      warn: count("test", "warn"),
      error: count("test", "error"),
      skipped: count("test", "skipped"),
    },
    seeds: { success: count("seed", "success"), error: count("seed", "error") },
    targetPath,
  };
}

export function failingNodes(summary: DbtRunSummary): DbtNodeResult[] {
  return summary.nodes.filter((node) => ["error", "fail", "runtime error"].includes(node.status));
}

/** What dbt said went wrong, from its last lines: from "Encountered an error" on, timestamps dropped. */
export function errorDetail(lines: readonly string[]): string {
  const plain = lines
    .map((line) => line.replace(/^\d{2}:\d{2}:\d{2}\s+/, "").trim())
    .filter((line) => line.length > 0);
  const start = plain.findIndex((line) => /^Encountered an error/.test(line));
  const relevant = start >= 0 ? plain.slice(start + 1) : plain.slice(-6);
  return relevant.join(" | ") || "no output";
}

/**
 * Parses the project in the warm process now (see {@link DbtOptions.warm}), so that the
 * next invocation with the same parse arguments and environment finds the manifest
 * ready. Runs nothing and writes only dbt's partial-parse file. Resolves with whether
 * the parse succeeded (a failed one is paid again, and reported, by the next invocation);
 * false without a warm process (dbt not from a venv).
 */
export async function parseAhead(options: DbtOptions): Promise<boolean> {
  const dbt = findDbt(options.projectDir, options.dbtPath);
  const python = pythonBeside(dbt);
  if (!python) return false;
  const outcome = await invokeWarm(python, options.projectDir, {
    args: null,
    parseArgs: dbtParseArguments(options),
    env: dbtEnvironment(options),
    manifestKey: manifestKey(options, dbt),
    onLine: () => undefined,
  });
  return outcome.success;
}

/** Runs dbt; resolves with the summary, or throws DbtRunError naming the failing nodes. */
export async function runDbt(options: DbtOptions): Promise<DbtRunSummary> {
  const dbt = findDbt(options.projectDir, options.dbtPath);
  const args = dbtArguments(options);
  const targetPath = isAbsolute(options.targetPath ?? "target")
    ? (options.targetPath as string)
    : join(options.projectDir, options.targetPath ?? "target");
  const resultsFile = join(targetPath, "run_results.json");
  const startedAt = Date.now();
  // run_results.json from an earlier run must not pass for this one.
  rmSync(resultsFile, { force: true });

  const tail: string[] = [];
  const onLine = (text: string) => {
    tail.push(text);
    if (tail.length > 40) tail.shift();
    options.onLine?.(text);
  };
  const python = options.warm && WARM_COMMANDS.includes(options.command) ? pythonBeside(dbt) : null;
  let result: { exitCode?: number | null; signal?: string | null };
  let parsedProject: boolean | undefined;
  if (python) {
    const outcome = await invokeWarm(python, options.projectDir, {
      args,
      parseArgs: dbtParseArguments(options),
      env: dbtEnvironment(options),
      manifestKey: manifestKey(options, dbt),
      onLine,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    // What dbt raised (a CLI run prints it as its last lines).
    if (
      !outcome.success &&
      outcome.error &&
      !outcome.signal &&
      !tail.some((line) => line.includes(outcome.error ?? ""))
    ) {
      for (const line of ["Encountered an error:", ...outcome.error.split("\n")]) onLine(line);
    }
    result = { exitCode: outcome.success ? 0 : (outcome.exitCode ?? 1), signal: outcome.signal };
    parsedProject = outcome.parsed;
  } else {
    const child = execa(dbt, args, {
      cwd: options.projectDir,
      env: dbtEnvironment(options),
      reject: false,
      all: true,
      stdin: "ignore",
      ...(options.signal ? { cancelSignal: options.signal } : {}),
    });
    for await (const line of child.iterable({ from: "all" })) onLine(String(line));
    result = await child;
  }

  const summary = existsSync(resultsFile)
    ? {
        ...parseRunResults(readFileSync(resultsFile, "utf8"), targetPath),
        ...(parsedProject === undefined ? {} : { parsedProject }),
      }
    : null;

  if (result.exitCode !== 0 || result.signal) {
    const failures = summary ? failingNodes(summary) : [];
    throw new DbtRunError(options.command, failures, summary, errorDetail(tail), result.signal ?? null);
  }
  if (!summary) {
    return {
      invocationId: "",
      command: options.command,
      elapsedSeconds: (Date.now() - startedAt) / 1000,
      nodeSeconds: 0,
      nodes: [],
      models: { success: 0, error: 0, skipped: 0, rowsAffected: 0 },
      tests: { pass: 0, fail: 0, warn: 0, error: 0, skipped: 0 },
      seeds: { success: 0, error: 0 },
      targetPath,
      ...(parsedProject === undefined ? {} : { parsedProject }),
    };
  }
  return summary;
}
