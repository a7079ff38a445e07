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
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { EngineEvent, OutputMap, Stack } from "@pulumi/pulumi/automation/index.js";
import { execa } from "execa";
import pg from "pg";
import { connectionFromUrl, clientConfig } from "../components/database/pg-connection.ts";
import { catalogFigures, lineageGraph } from "../components/data/catalog-report.ts";
import { renderLineageSvg } from "../components/data/lineage-svg.ts";
import { quarantineByReason, rowsPerRelation } from "../components/data/medallion-report.ts";
import { localServer } from "../stacks/local-server.ts";
import { cacheDir, openStack, REPO_ROOT } from "../stacks/workspace.ts";

type Mode = "up" | "preview" | "destroy" | "reset";
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

/** The engine's own error lines out of an Automation API failure (its message holds the whole log). */
function engineErrors(message: string): string[] {
  const lines = message
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => /^error: /.test(line) && !/^error: update failed$/.test(line));
  return [...new Set(lines)].slice(0, 12);
}

async function databaseReport(outputs: OutputMap, stack: Stack): Promise<string[]> {
  const url = outputs["databaseUrl"]?.value as string | undefined;
  if (!url) return [];
  const lines: string[] = [];
  const client = new pg.Client(clientConfig(connectionFromUrl(url)));
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

    const stages = (outputs["stages"]?.value ?? []) as {
      layer: string;
      models: number;
      testsPassed: number;
      testsFailed: number;
      testsWarned: number;
      elapsedSeconds: number;
    }[];
    if (stages.length > 0) {
      lines.push("", "dbt stages:");
      lines.push(
        ...table([
          ["stage", "models", "tests passed", "failed", "warned", "dbt time"],
          ...stages.map((s) => [
            s.layer,
            s.models,
            s.testsPassed,
            s.testsFailed,
            s.testsWarned,
            `${s.elapsedSeconds.toFixed(1)}s`,
          ]),
        ]),
      );
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
        mkdirSync(dir, { recursive: true });
        const picture = join(dir, "lineage.svg");
        writeFileSync(
          picture,
          renderLineageSvg(graph.nodes, graph.edges, `AI Workbench medallion lineage (${stack.name})`),
        );
        lines.push(`  lineage picture: ${picture}`);
      }
    }
  } finally {
    await client.end();
  }
  return lines;
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
  const server = await localServer();
  const stack = await timed("open stack 'local'", () =>
    openStack({
      stackName: "local",
      // Wherever scripts/local-postgres runs the server (AIWB_PG_PORT may move it).
      config: {
        database: {
          host: server.host,
          port: server.port,
          name: "postgres",
          user: server.user,
          sslMode: "disable",
        },
      },
      secrets: { databasePassword: server.password },
    }),
  );
  const onOutput = (text: string) => process.stdout.write(text);
  const summary: string[] = [];

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
    const result = await timed("pulumi up", () => stack.up({ onOutput, onEvent: timer.onEvent }));
    summary.push(`resources: ${describeChanges(result.summary.resourceChanges)}`);
    const steps = timer.steps();
    if (steps.length > 0) {
      summary.push(
        "deployment steps:",
        ...table(steps.map(([name, seconds]) => [name, `${seconds.toFixed(1)}s`])),
      );
    }
    summary.push(...(await timed("report", () => databaseReport(result.outputs, stack))));
    summary.push(...nextSteps());
  }

  console.log(`\n==> summary (${mode})`);
  for (const line of summary) console.log(line);
  console.log("elapsed:");
  for (const [label, seconds] of timings) console.log(`  ${label.padEnd(24)} ${seconds.toFixed(1)}s`);
}

main().catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  const engine = engineErrors(message);
  console.error(`\nerror: ${engine.length > 0 ? engine.join("\n       ") : message}`);
  if (message.includes("invalid stack configuration")) {
    console.error("fix the keys named above in Pulumi.local.yaml and re-run; nothing was changed.");
  } else if (/locked by|stack is currently locked/i.test(message)) {
    console.error(
      "another update holds the stack lock. If none is running, the lock is stale: delete the " +
        "lock file named above (under the cache's pulumi-state/.pulumi/locks) and re-run.",
    );
  } else if (/ stage: dbt build failed/.test(message)) {
    console.error(
      "a dbt model or test failed: fix it (npm run dbt -- <stage> --stack local reruns one stage), then re-run.",
    );
  } else if (/ECONNREFUSED|is not running/.test(message)) {
    console.error(
      "PostgreSQL is not reachable: scripts/local-postgres start (its log: scripts/local-postgres status).",
    );
  }
  process.exit(1);
});
