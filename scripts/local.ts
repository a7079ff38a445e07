/**
 * The main job: brings the `local` stack up on this machine (or previews, resets, or
 * tears it down) through the Automation API, and prints a summary checked against the
 * database itself.
 *
 *   npm run local                 up (a re-run with nothing changed is a no-op)
 *   npm run local -- --preview    show what would change
 *   npm run local -- --reset      destroy, then up from scratch
 *   npm run local -- --destroy    remove everything the stack created and stop the server
 *
 * Run through scripts/local, which bootstraps and starts PostgreSQL first.
 *
 * For tests only: AIWB_LOCAL_STACK names another stack (and environment) built from
 * the same Pulumi.local.yaml, and AIWB_LOCAL_DATABASE another database on the server,
 * so a test never touches a developer's own `local` stack.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import type { EngineEvent, OutputMap, Stack } from "@pulumi/pulumi/automation/index.js";
import { execa } from "execa";
import pg from "pg";
import { clientConfig } from "../lib/postgres/connection.ts";
import { catalogFigures, lineageGraph } from "../lib/reports/catalog.ts";
import { renderLineageSvg } from "../lib/reports/lineage-svg.ts";
import {
  quarantineByReason,
  rowsPerRelation,
  StuckRowsError,
  stuckRows,
  type StuckReport,
} from "../lib/reports/medallion.ts";
import { closeOrphanedRuns } from "../lib/dbt/stage-lock.ts";
import { serveDbtAhead } from "../lib/dbt/prewarm.ts";
import { DBT_OVERHEAD_TARGET, stageOverhead } from "../components/data/data-stack.ts";
import type { Layer } from "../lib/dbt/cli.ts";
import { localServer } from "../stacks/local-server.ts";
import { checkStackFile, StackFileError } from "../stacks/read-config.ts";
import { stackLogin } from "../stacks/stack-logins.ts";
import { cacheDir, openStack, REPO_ROOT } from "../stacks/workspace.ts";
import { localFailureText, removeStaleLocks, stackLockFiles, writeReport } from "./local-errors.ts";

type Mode = "up" | "preview" | "destroy" | "reset";
/** The DataStack's resource name in stacks/local.ts: its stage steps are `medallion-<layer>`. */
const DATA_STACK_NAME = "medallion";
const STACK_NAME = process.env["AIWB_LOCAL_STACK"] || "local";
const DATABASE_NAME = process.env["AIWB_LOCAL_DATABASE"] || "postgres";
const MODES: Record<string, Mode> = { "--preview": "preview", "--destroy": "destroy", "--reset": "reset" };

function parseMode(argv: readonly string[]): Mode {
  const unknown = argv.filter((arg) => !(arg in MODES));
  if (unknown.length > 0 || argv.length > 1) {
    throw new Error(`usage: npm run local [-- --preview | --reset | --destroy] (got: ${argv.join(" ")})`);
  }
  return argv[0] ? (MODES[argv[0]] as Mode) : "up";
}

const timings: [string, number][] = [];
async function timed<T>(label: string, work: () => Promise<T>): Promise<T> {
  const started = Date.now();
  process.stdout.write(`\n==> ${label}\n`);
  try {
    return await work();
  } finally {
    timings.push([label, (Date.now() - started) / 1000]);
  }
}

/** Per-resource durations from the engine's events: when it started and when it settled. */
function resourceTimer() {
  const started = new Map<string, number>();
  const elapsed = new Map<string, number>();
  return {
    onEvent(event: EngineEvent) {
      const urn = event.resourcePreEvent?.metadata.urn ?? event.resOutputsEvent?.metadata.urn;
      if (!urn) return;
      // Reception time: the events stream live, and their own timestamps are whole seconds.
      const at = Date.now();
      // Only resources that did work: not components, not the stack, not unchanged ones.
      const metadata = event.resourcePreEvent?.metadata;
      if (metadata && (metadata.op === "same" || !metadata.type.includes("dynamic/"))) return;
      if (event.resourcePreEvent) started.set(urn, at);
      if (event.resOutputsEvent && started.has(urn)) elapsed.set(urn, (at - (started.get(urn) ?? at)) / 1000);
    },
    /** Seconds per resource name (the last URN segment), for the steps worth showing. */
    steps(): [string, number][] {
      return [...elapsed.entries()]
        .map(([urn, seconds]): [string, number] => [urn.split("::").pop() ?? urn, seconds])
        .filter(([, seconds]) => seconds >= 0.05);
    },
  };
}

function describeChanges(changes: Record<string, number> | undefined): string {
  const entries = Object.entries(changes ?? {});
  return entries.length === 0
    ? "none"
    : entries.map(([kind, count]) => `${count} ${kind === "same" ? "unchanged" : kind}`).join(", ");
}

function table(rows: (string | number)[][], indent = "  "): string[] {
  const widths =
    rows[0]?.map((_, column) => Math.max(...rows.map((row) => String(row[column] ?? "").length))) ?? [];
  return rows.map(
    (row) =>
      indent +
      row
        .map((cell, column) => String(cell).padEnd(widths[column] ?? 0))
        .join("  ")
        .trimEnd(),
  );
}

async function databaseReport(
  outputs: OutputMap,
  stack: Stack,
  steps: readonly [string, number][],
): Promise<{ lines: string[]; stuck: StuckReport | null }> {
  if (!outputs["databaseUrl"]?.value) return { lines: [], stuck: null };
  const lines: string[] = [];
  let stuck: StuckReport | null;
  // As the read-only login, never the admin: it reads every row of the medallion schemas and
  // the catalog (select-all policies under row level security), and writes nothing.
  const client = new pg.Client(clientConfig(stackLogin(outputs, "backup", stack.name)));
  await client.connect();
  try {
    const relations = await rowsPerRelation(client);
    lines.push("", "rows per layer:");
    lines.push(...table(relations.map((r) => [r.layer, r.relation, r.rows.toLocaleString("en-US")])));

    const quarantine = await quarantineByReason(client);
    lines.push("", "quarantined rows by reason:");
    lines.push(
      ...(quarantine.length > 0
        ? table(quarantine.map((q) => [q.entity, q.reason, q.rows.toLocaleString("en-US")]))
        : ["  none"]),
    );

    // Every landed row must be accounted for; the summary says so, or the run fails.
    stuck = await stuckRows(client);
    const stuckTotal = stuck.counts.reduce((sum, count) => sum + count.rows, 0);
    lines.push(
      "",
      `landed rows not accounted for: ${stuckTotal === 0 ? "none" : stuckTotal.toLocaleString("en-US")}`,
    );
    if (stuckTotal === 0) stuck = null;

    const stages = (outputs["stages"]?.value ?? []) as {
      layer: string;
      models: number;
      testsPassed: number;
      testsFailed: number;
      testsWarned: number;
      elapsedSeconds: number;
      nodeSeconds?: number;
    }[];
    if (stages.length > 0) {
      lines.push("", "dbt stages:");
      lines.push(
        ...table([
          ["stage", "models", "tests passed", "failed", "warned", "dbt time", "nodes"],
          ...stages.map((s) => [
            s.layer,
            s.models,
            s.testsPassed,
            s.testsFailed,
            s.testsWarned,
            `${s.elapsedSeconds.toFixed(1)}s`,
            s.nodeSeconds === undefined ? "n/a" : `${s.nodeSeconds.toFixed(1)}s`,
          ]),
        ]),
      );
      // The stage steps that ran this time: how much of their wall time was dbt's own work.
      const overhead = stageOverhead(
        DATA_STACK_NAME,
        stages.map((s) => ({ layer: s.layer as Layer, nodeSeconds: s.nodeSeconds ?? 0 })),
        steps,
      );
      if (overhead.stages.length > 0) {
        lines.push(
          `  dbt overhead in the stage steps: ${overhead.overheadSeconds.toFixed(1)}s of ${overhead.wallSeconds.toFixed(1)}s ` +
            `(nodes ${overhead.nodeSeconds.toFixed(1)}s): ${(100 * overhead.share).toFixed(0)} % ` +
            `(target ≤ ${100 * DBT_OVERHEAD_TARGET} %: ${overhead.share <= DBT_OVERHEAD_TARGET ? "met" : "NOT MET"})`,
        );
      }
    }

    const hasCatalog = (await client.query("select to_regclass('ip_workbench.tables') as t")).rows[0]?.t;
    if (hasCatalog) {
      const figures = await catalogFigures(client);
      const seeded = Object.values(figures.tablesByLayer).reduce((a, b) => a + b, 0);
      if (seeded > 0) {
        lines.push("", "catalog:");
        lines.push(
          `  tables: ${Object.entries(figures.tablesByLayer)
            .map(([layer, n]) => `${layer} ${n}`)
            .join(", ")}; columns: ${figures.columns}`,
        );
        lines.push(
          `  tests (latest run): ${figures.tests.pass} passed, ${figures.tests.fail + figures.tests.error} failed, ${figures.tests.warn} warned`,
        );
        lines.push(
          `  DQ score per layer: ${Object.entries(figures.dqByLayer)
            .map(([layer, score]) => `${layer} ${score ?? "n/a"}`)
            .join(", ")}`,
        );
        lines.push(
          `  lineage edges: ${figures.tableEdges} table, ${figures.columnEdges} column; open DQ alerts: ${figures.openAlerts}`,
        );
        const graph = await lineageGraph(client);
        const dir = join(cacheDir(), "reports", stack.name);
        // A report that cannot be written does not undo a deployment that succeeded.
        lines.push(
          writeReport(
            "lineage picture",
            dir,
            "lineage.svg",
            renderLineageSvg(graph.nodes, graph.edges, `AI Workbench medallion lineage (${stack.name})`),
          ),
        );
      }
    }
  } finally {
    await client.end();
  }
  return { lines, stuck };
}

function nextSteps(): string[] {
  const claims = (role: string) =>
    `'{"sub":"00000000-0000-4000-8000-00000000000${role === "viewer" ? 1 : role === "engineer" ? 2 : 3}","role":"authenticated","app_metadata":{"role":"${role}"}}'`;
  return [
    "",
    "next:",
    "  scripts/local-postgres psql                      psql on the local server (URL: scripts/local-postgres url)",
    "  npm run dbt -- gold --stack local                rebuild one stage (bronze|silver|gold|platinum|all)",
    "  npm run dbt -- docs --stack local                generate and serve the dbt docs on http://127.0.0.1:8080",
    "  npm run local -- --preview | --reset | --destroy",
    "  execute_sql as an app role (viewer, engineer, admin, service), e.g. as a viewer:",
    `    scripts/local-postgres psql -c "begin; set local role authenticated; set local statement_timeout = '30s';`,
    `      select set_config('request.jwt.claims', ${claims("viewer").replaceAll('"', '\\"')}, true);`,
    `      select ip_workbench.execute_sql('select * from gold.finance_expenses limit 5'); commit;"`,
  ];
}

async function main(): Promise<void> {
  const mode = parseMode(process.argv.slice(2));
  // The providers watch this process: if it dies, they stop instead of working on
  // (orphan-guard.ts). Set before anything is started, so that all of it carries it.
  process.env["AIWB_SUPERVISOR_PID"] = String(process.pid);
  // dbt started and parsed ahead for the stages, from now on rather than from when the
  // deployment's provider process starts (lib/dbt/prewarm.ts).
  const deploys = mode === "up" || mode === "reset";
  const dbtAhead = deploys ? await serveDbtAhead(join(REPO_ROOT, "dbt")) : null;
  try {
    await deploy(mode);
  } finally {
    void dbtAhead?.stop();
  }
}

async function deploy(mode: Mode): Promise<void> {
  const server = await localServer();
  // Wherever scripts/local-postgres runs the server (AIWB_PG_PORT may move it).
  const overrides = {
    ...(STACK_NAME === "local" ? {} : { environment: STACK_NAME }),
    database: {
      host: server.host,
      port: server.port,
      name: DATABASE_NAME,
      user: server.user,
      sslMode: "disable",
    },
  };
  // The committed stack file, checked before anything runs: its file and line on any
  // problem, and every value the running server replaces, said out loud.
  const fileCheck = checkStackFile(join(REPO_ROOT, "Pulumi.local.yaml"), "Pulumi.local.yaml", overrides, [
    "databasePassword",
  ]);
  for (const line of fileCheck.overridden) console.log(`note: ${line} (the running local server)`);
  // A lock whose engine died with an interrupted run (same machine, process gone) is stale.
  for (const lock of removeStaleLocks(join(cacheDir(), "pulumi-state"), STACK_NAME)) {
    console.log(
      `note: removed the stack lock of engine process ${lock.pid}, which no longer runs (${lock.path})`,
    );
  }
  const stack = await timed(`open stack '${STACK_NAME}'`, () =>
    openStack({
      stackName: STACK_NAME,
      baseStack: "local",
      config: overrides,
      secrets: { databasePassword: server.password },
    }),
  );
  await clearPendingOperations(stack);
  openedStack = stack;
  await closeInterruptedRuns(stack);
  const onOutput = (text: string) => process.stdout.write(text);
  const summary: string[] = [];
  let stuck: StuckReport | null = null;

  if (mode === "preview") {
    const result = await timed("pulumi preview", () => stack.preview({ onOutput, diff: true }));
    summary.push(`changes: ${describeChanges(result.changeSummary)}`);
  } else if (mode === "destroy") {
    const result = await timed("pulumi destroy", () => stack.destroy({ onOutput }));
    summary.push(`resources: ${describeChanges(result.summary.resourceChanges)}`);
    await timed("stop PostgreSQL", () =>
      execa("bash", [join(REPO_ROOT, "scripts/local-postgres"), "stop"], { stdio: "inherit" }),
    );
  } else {
    if (mode === "reset") await timed("pulumi destroy (reset)", () => stack.destroy({ onOutput }));
    const timer = resourceTimer();
    const result = await timed("pulumi up", () =>
      stack.up({ onOutput, onEvent: timer.onEvent, signal: interrupts.signal }),
    );
    summary.push(`resources: ${describeChanges(result.summary.resourceChanges)}`);
    const steps = timer.steps();
    if (steps.length > 0) {
      summary.push(
        "deployment steps:",
        ...table(steps.map(([name, seconds]) => [name, `${seconds.toFixed(1)}s`])),
      );
    }
    const report = await timed("report", () => databaseReport(result.outputs, stack, steps));
    summary.push(...report.lines);
    stuck = report.stuck;
    if (!stuck) summary.push(...nextSteps());
  }

  console.log(`\n==> summary (${mode})`);
  for (const line of summary) console.log(line);
  console.log("elapsed:");
  for (const [label, seconds] of timings) console.log(`  ${label.padEnd(24)} ${seconds.toFixed(1)}s`);
  // The deployment succeeded, but the data did not get through: that is a failure.
  if (stuck) throw new StuckRowsError(stuck);
}

/**
 * Ctrl-C (SIGINT) or SIGTERM: the first asks the engine to stop after the steps in
 * flight (no operation is left pending); a second one exits at once. A Ctrl-C typed in
 * a terminal reaches the engine by itself (same process group), so it is not forwarded
 * then: a second SIGINT would make the engine stop at once.
 */
const interrupts = new AbortController();
let interrupted = 0;
/** The stack once opened, for the failure path's clean-up. */
let openedStack: Stack | undefined;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    interrupted += 1;
    if (interrupted === 1) {
      console.error(`\n${signal}: stopping after the steps in progress (again to stop at once)...`);
      if (!(signal === "SIGINT" && process.stdin.isTTY)) interrupts.abort();
    } else {
      void stopNow(`${signal} again: stopping at once`);
    }
  });
}

/** Processes this one started (the engine), from /proc. */
function childPids(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === process.pid)
        pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** The dynamic-provider processes this run's engine started (they carry AIWB_SUPERVISOR_PID). */
function providerPids(): number[] {
  const marker = `AIWB_SUPERVISOR_PID=${process.pid}`;
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      const environ = readFileSync(`/proc/${entry}/environ`, "utf8");
      if (cmdline.includes("dynamic-provider") && environ.split("\0").includes(marker))
        pids.push(Number(entry));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return pids;
}

/** Running (not gone, not a zombie waiting for its parent). */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/** A little more than the providers' own cleanup grace (orphan-guard.ts). */
const PROVIDER_STOP_WAIT_MS = 12_000;
let stoppingNow = false;

/**
 * Stops at once: first the providers (each stops its work, closes its job_runs row and
 * exits: orphan-guard.ts), then the engine, then this process. The providers go first
 * because the engine, once this process (its program) is gone, kills them before they
 * could clean up.
 */
async function stopNow(reason: string): Promise<never> {
  if (stoppingNow) return new Promise<never>(() => undefined);
  stoppingNow = true;
  console.error(`\n${reason}`);
  const providers = providerPids();
  for (const pid of providers) {
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      // already gone
    }
  }
  const deadline = Date.now() + PROVIDER_STOP_WAIT_MS;
  while (providers.some(isAlive) && Date.now() < deadline) await delay(100);
  for (const pid of childPids()) {
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      // already gone
    }
  }
  process.exit(130);
}

// Killed from outside (even SIGKILL of the wrapper that started this process, e.g.
// tsx or npm): this process is re-parented, and stops rather than deploy on unattended.
const parentAtStart = process.ppid;
setInterval(() => {
  if (process.ppid !== parentAtStart)
    void stopNow(`the process that started npm run local (${parentAtStart}) has ended: stopping`);
}, 500).unref();

/**
 * An interrupted run can leave pending operations in the state (a create the engine
 * never heard back about). They are cleared here, so the warning does not repeat on
 * every run; the resource is then created again (every provider here is idempotent).
 */
async function clearPendingOperations(stack: Stack): Promise<void> {
  const state = (await stack.exportStack()) as {
    deployment?: { pending_operations?: { type?: string; resource?: { urn?: string } }[] };
  };
  const pending = state.deployment?.pending_operations ?? [];
  if (pending.length === 0) return;
  console.log(
    `note: the last run was interrupted with ${pending.length} pending operation(s): ` +
      pending.map((op) => `${op.type ?? "?"} ${op.resource?.urn?.split("::").pop() ?? "?"}`).join(", ") +
      "; clearing them (pulumi refresh --clear-pending-creates)",
  );
  try {
    await stack.refresh({ clearPendingCreates: true, onOutput: () => undefined });
  } catch (error) {
    const reason = error instanceof Error ? error.message.split("\n").slice(-3).join(" ") : String(error);
    throw new Error(
      `could not clear the pending operations (${reason}); run: ` +
        `scripts/run pulumi refresh --clear-pending-creates --yes --stack ${stack.name} --cwd '${stack.workspace.workDir}'`,
      { cause: error },
    );
  }
}

/**
 * Closes job_runs rows left `running` by runs that died (their stage lock is free), as the
 * stack's catalog login (the one that records job runs), never the admin. A stack that has
 * no outputs yet has no such login to use: the next stage run closes them itself, since
 * each DbtStage closes orphaned runs when it takes its stage lock (dbt-stage-lock.ts).
 */
async function closeInterruptedRuns(stack: Stack): Promise<void> {
  const outputs = await stack.outputs();
  if (!outputs["catalogRole"]?.value) return;
  const client = new pg.Client(clientConfig(stackLogin(outputs, "catalog", stack.name)));
  await client.connect();
  try {
    if (!(await client.query("select to_regclass('ip_workbench.job_runs') as t")).rows[0]?.t) return;
    const closed = await closeOrphanedRuns(client);
    if (closed > 0)
      console.log(`note: closed ${closed} job_runs row(s) left 'running' by an interrupted run`);
  } finally {
    await client.end();
  }
}

main().catch(async (error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof StackFileError) {
    console.error(`\nerror: ${message}`);
    process.exit(1);
  }
  console.error(localFailureText(message, stackLockFiles(join(cacheDir(), "pulumi-state"), STACK_NAME)));
  // Whatever stopped the run, no job_runs row stays `running` behind it.
  if (openedStack) await closeInterruptedRuns(openedStack).catch(() => undefined);
  process.exit(interrupted > 0 ? 130 : 1);
});
