/**
 * The warm dbt process (real dbt, real PostgreSQL): consecutive invocations share one
 * process and one parse, yet each keeps its own results, artifacts and errors, the same
 * as a dbt CLI run; a changed project is parsed again; a killed or stopped process
 * fails its invocation like a killed CLI run, and the next invocation starts afresh.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { execa } from "execa";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DbtRunError, LAYERS, runDbt, type DbtRunSummary } from "../../lib/dbt/cli.ts";
import { closeWarmDbt, warmPids } from "../../lib/dbt/warm.ts";
import { parseRecordPath, prewarmDbt, rememberParse, serveDbtAhead } from "../../lib/dbt/prewarm.ts";
import { loadSampleData } from "../../lib/sample-data/index.ts";
import { createMedallionDatabase, DBT_PROJECT, type MedallionDatabase } from "../helpers/medallion.ts";

const TODAY = "2026-01-31";
const VARS = { as_of_date: TODAY };

let db: MedallionDatabase;

beforeAll(async () => {
  db = await createMedallionDatabase("warm");
  const client = new pg.Client({ connectionString: db.server.url(db.name) });
  await client.connect();
  try {
    await loadSampleData(
      client,
      { seed: 7, transactions: 3_000, badShare: 0.05, today: TODAY },
      { source: "warm", batchPrefix: "warm", batchSize: 5_000 },
    );
  } finally {
    await client.end();
  }
});

afterAll(async () => {
  await db?.drop();
});

/** The layers a run's nodes belong to, from its own manifest: a test belongs to its models' layers. */
function layersOf(summary: DbtRunSummary): Set<string> {
  const manifest = JSON.parse(readFileSync(join(summary.targetPath, "manifest.json"), "utf8")) as {
    nodes: Record<string, { tags: string[]; depends_on: { nodes: string[] } }>;
  };
  const layerOf = (id: string): string[] => {
    const node = manifest.nodes[id];
    if (!node) return ["?"];
    const tagged = node.tags.filter((tag) => (LAYERS as readonly string[]).includes(tag));
    if (tagged.length > 0) return tagged;
    const parents = node.depends_on.nodes.filter(
      (parent) => parent.startsWith("model.") || parent.startsWith("seed."),
    );
    return parents.length > 0 ? parents.flatMap(layerOf) : ["?"];
  };
  return new Set(summary.nodes.flatMap((node) => layerOf(node.uniqueId)));
}

function outcome(summary: DbtRunSummary): [string, string][] {
  return summary.nodes.map((node): [string, string] => [node.uniqueId, node.status]).sort();
}

describe("warm dbt runs", () => {
  it("the four stages share one process and one parse, each with its own results and artifacts", async () => {
    const root = join(db.targetPath, "stages");
    const summaries: DbtRunSummary[] = [];
    const pids = new Set<number>();
    for (const layer of LAYERS) {
      const summary = await runDbt({
        command: "build",
        projectDir: DBT_PROJECT,
        connection: db.connection,
        stage: layer,
        vars: VARS,
        targetPath: join(root, layer),
        parseTargetPath: join(root, "parse"),
        warm: true,
      });
      for (const pid of warmPids(DBT_PROJECT)) pids.add(pid);
      summaries.push(summary);
    }
    expect(pids.size).toBe(1);
    expect(summaries.map((summary) => summary.parsedProject)).toEqual([true, false, false, false]);
    expect(existsSync(join(root, "parse", "partial_parse.msgpack"))).toBe(true);
    summaries.forEach((summary, index) => {
      expect(summary.targetPath).toBe(join(root, LAYERS[index] as string));
      expect(summary.models.success).toBeGreaterThan(0);
      expect(summary.models.error + summary.tests.fail + summary.tests.error).toBe(0);
      // Only the stage's own nodes, each stage a distinct invocation.
      expect([...layersOf(summary)]).toEqual([LAYERS[index]]);
    });
    expect(new Set(summaries.map((summary) => summary.invocationId)).size).toBe(4);

    // The same stage through the dbt CLI selects and passes the same nodes.
    const warmGold = summaries[2] as DbtRunSummary;
    const cliGold = await runDbt({
      command: "build",
      projectDir: DBT_PROJECT,
      connection: db.connection,
      stage: "gold",
      vars: VARS,
      targetPath: join(root, "gold-cli"),
    });
    expect(cliGold.parsedProject).toBeUndefined();
    expect(outcome(warmGold)).toEqual(outcome(cliGold));
  });

  it("a changed project is parsed again, and a failing model is named as by the CLI", async () => {
    const project = mkdtempSync(join(tmpdir(), "aiwb-dbt-warm-"));
    try {
      cpSync(DBT_PROJECT, project, {
        recursive: true,
        filter: (path) => !/\/(target|logs)(\/|$)/.test(path),
      });
      const run = (select: string) =>
        runDbt({
          command: "build",
          projectDir: project,
          connection: db.connection,
          select: [select],
          vars: VARS,
          targetPath: join(project, "target"),
          warm: true,
        });
      writeFileSync(join(project, "models/gold/one_model.sql"), "select 1 as one\n");
      const first = await run("one_model");
      expect(first.parsedProject).toBe(true);
      expect(outcome(first)).toEqual([["model.workbench.one_model", "success"]]);
      expect((await run("one_model")).parsedProject).toBe(false);

      // A model added meanwhile: the kept manifest does not know it, so the project is parsed again.
      writeFileSync(join(project, "models/gold/broken_model.sql"), "select 1 / 0 as boom\n");
      const failure = await run("broken_model").catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(DbtRunError);
      const error = failure as DbtRunError;
      expect(error.summary?.parsedProject).toBe(true);
      expect(error.failures.map((node) => [node.uniqueId, node.status])).toEqual([
        ["model.workbench.broken_model", "error"],
      ]);
      expect(error.message).toMatch(
        /^dbt build failed on 1 node\(s\):\n {2}- model\.workbench\.broken_model \[error\]: .*division by zero/,
      );
      // The process survives a failing invocation.
      expect((await run("one_model")).parsedProject).toBe(false);
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });

  it("an invocation whose process is killed fails as stopped by the signal; the next one starts a new process", async () => {
    const targetPath = join(db.targetPath, "kill");
    const build = (onLine?: (line: string) => void, signal?: AbortSignal) =>
      runDbt({
        command: "build",
        projectDir: DBT_PROJECT,
        connection: db.connection,
        stage: "silver",
        vars: VARS,
        fullRefresh: true,
        targetPath,
        warm: true,
        ...(onLine ? { onLine } : {}),
        ...(signal ? { signal } : {}),
      });
    await build();
    const [before] = warmPids(DBT_PROJECT);
    let killed = false;
    const failure = await build((line) => {
      if (!killed && /START sql/.test(line)) {
        killed = true;
        process.kill(before as number, "SIGKILL");
      }
    }).catch((error: unknown) => error);
    expect(killed).toBe(true);
    expect(failure).toBeInstanceOf(DbtRunError);
    expect((failure as DbtRunError).message).toBe("dbt build was stopped by SIGKILL before it finished");

    // Aborting stops the process (SIGTERM), as it stops a CLI run.
    const controller = new AbortController();
    const stopped = await build((line) => {
      if (/START sql/.test(line)) controller.abort();
    }, controller.signal).catch((error: unknown) => error);
    expect(stopped).toBeInstanceOf(DbtRunError);
    expect((stopped as DbtRunError).message).toBe("dbt build was stopped by SIGTERM before it finished");

    const after = await build();
    expect(after.parsedProject).toBe(true);
    expect(after.models.error).toBe(0);
    expect(warmPids(DBT_PROJECT)).not.toContain(before);
  });

  it("a process started and parsed ahead (as the last stage run recorded) serves the next stage without parsing; a file changed since is parsed again", async () => {
    const project = copyOfProject();
    try {
      const parseTargetPath = join(project, "target", "stack", "parse");
      const options = {
        command: "build" as const,
        projectDir: project,
        connection: db.connection,
        vars: VARS,
        target: "local",
        targetPath: join(project, "target", "stack", "bronze"),
        parseTargetPath,
        warm: true,
      };
      expect(await prewarmDbt(project)).toBe(false); // nothing recorded yet: no process
      expect(warmPids(project)).toEqual([]);
      rememberParse(options);
      // The record holds what the parse needs, never the password.
      const record = readFileSync(parseRecordPath(project), "utf8");
      expect(record).toContain(db.connection.database);
      expect(record).not.toContain(db.connection.password);

      expect(await prewarmDbt(project)).toBe(true);
      expect(warmPids(project)).toHaveLength(1);
      const bronze = await runDbt({ ...options, stage: "bronze" });
      expect(bronze.parsedProject).toBe(false);
      expect(bronze.models.error).toBe(0);

      // A new process (the next deployment), and a model changed after the parse ahead:
      // the stage parses again and runs the changed model.
      closeWarmDbt();
      expect(await prewarmDbt(project)).toBe(true);
      writeFileSync(join(project, "models/bronze/one_model.sql"), "select 1 as one\n");
      const changed = await runDbt({ ...options, stage: "bronze" });
      expect(changed.parsedProject).toBe(true);
      expect(changed.nodes.map((node) => node.uniqueId)).toContain("model.workbench.one_model");

      // Another connection than the one recorded (the same server by another name): parsed again.
      closeWarmDbt();
      expect(await prewarmDbt(project)).toBe(true);
      expect(db.connection.host).not.toBe("localhost");
      const other = await runDbt({
        ...options,
        stage: "bronze",
        connection: { ...db.connection, host: "localhost" },
      });
      expect(other.parsedProject).toBe(true);
      expect(other.models.error).toBe(0);
    } finally {
      closeWarmDbt();
      rmSync(project, { recursive: true, force: true });
    }
  });

  it("a process started ahead dies with its parent, even one killed by SIGKILL", async () => {
    const project = copyOfProject();
    try {
      rememberParse({
        command: "build",
        projectDir: project,
        connection: db.connection,
        vars: VARS,
        parseTargetPath: join(project, "target", "parse"),
      });
      // A provider process in miniature: it starts dbt ahead, prints the pid, and waits.
      const parent = inNewNode(
        `const { prewarmDbt } = await import(${JSON.stringify(new URL("../../lib/dbt/prewarm.ts", import.meta.url).href)});
           const { warmPids } = await import(${JSON.stringify(new URL("../../lib/dbt/warm.ts", import.meta.url).href)});
           void prewarmDbt(${JSON.stringify(project)});
           await new Promise((resolve) => setTimeout(resolve, 100));
           console.log(warmPids(${JSON.stringify(project)}).join(","));
           setInterval(() => undefined, 1000);`,
      );
      const pid = await new Promise<number>((resolve, reject) => {
        parent.stdout?.once("data", (chunk: Buffer) => resolve(Number(String(chunk).trim())));
        void parent.then(() => reject(new Error("the parent exited before it printed the pid")));
      });
      expect(pid).toBeGreaterThan(1);
      expect(alive(pid)).toBe(true);
      parent.kill("SIGKILL");
      await parent;
      // dbt-server.py checks its parent twice a second; give it a few seconds on a busy machine.
      const deadline = Date.now() + 15_000;
      while (alive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
      expect(alive(pid)).toBe(false);
    } finally {
      rmSync(project, { recursive: true, force: true });
    }
  });

  it("the provider process starts it when it loads a provider that comes before the stages, not another", async () => {
    const root = mkdtempSync(join(tmpdir(), "aiwb-root-"));
    const saved = process.env["AIWB_ROOT"];
    try {
      const project = join(root, "dbt");
      cpSync(DBT_PROJECT, project, {
        recursive: true,
        filter: (path) => !/\/(target|logs)(\/|$)/.test(path),
      });
      rememberParse({
        command: "build",
        projectDir: project,
        connection: db.connection,
        vars: VARS,
        parseTargetPath: join(project, "target", "parse"),
      });
      process.env["AIWB_ROOT"] = root;
      const { loadProvider } = await import("../../components/shared/provider-registry.ts");
      await loadProvider("workbench:n8n:WorkflowSet");
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(warmPids(project)).toEqual([]);
      await loadProvider("workbench:database:MigrationSet");
      const deadline = Date.now() + 10_000;
      while (warmPids(project).length === 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(warmPids(project)).toHaveLength(1);
    } finally {
      if (saved === undefined) delete process.env["AIWB_ROOT"];
      else process.env["AIWB_ROOT"] = saved;
      closeWarmDbt();
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe("a warm dbt process started ahead by the main job", () => {
  it("serves the provider process's stages, parsed ahead; a stop falls back to the provider's own; it ends with its owner", async () => {
    const project = copyOfProject();
    const options = {
      command: "build" as const,
      projectDir: project,
      connection: db.connection,
      vars: VARS,
      target: "local",
      parseTargetPath: join(project, "target", "stack", "parse"),
      warm: true,
    };
    // A provider process in miniature, as the deployment starts it after the main job:
    // it loads a provider (so it looks for the main job's process), then runs a stage.
    const providerProcess = async (layer: string) => {
      const run = await inNewNode(
        `const { prewarmDbt } = await import(${JSON.stringify(new URL("../../lib/dbt/prewarm.ts", import.meta.url).href)});
           const { runDbt } = await import(${JSON.stringify(new URL("../../lib/dbt/cli.ts", import.meta.url).href)});
           const { warmPids } = await import(${JSON.stringify(new URL("../../lib/dbt/warm.ts", import.meta.url).href)});
           const options = JSON.parse(process.env.STAGE_OPTIONS);
           void prewarmDbt(options.projectDir, { shared: true });
           const lines = [];
           const summary = await runDbt({ ...options, onLine: (line) => lines.push(line) });
           console.log(JSON.stringify({
             pids: warmPids(options.projectDir),
             parsed: summary.parsedProject,
             errors: summary.models.error,
             found: lines.some((line) => / Found \\d+ models/.test(line)),
           }));
           process.exit(0);`,
        {
          STAGE_OPTIONS: JSON.stringify({
            ...options,
            stage: layer,
            targetPath: join(project, "target", "stack", layer),
          }),
        },
      );
      expect(run.exitCode, run.stderr).toBe(0);
      return JSON.parse(run.stdout.trim().split("\n").pop() ?? "{}") as {
        pids: number[];
        parsed: boolean;
        errors: number;
        found: boolean;
      };
    };
    // This test process is the main job: its processes find its warm dbt process by its pid.
    const savedSupervisor = process.env["AIWB_SUPERVISOR_PID"];
    process.env["AIWB_SUPERVISOR_PID"] = String(process.pid);
    try {
      expect(await serveDbtAhead(project)).toBeNull(); // no stage ran from here yet: nothing to parse
      rememberParse(options);
      const served = await serveDbtAhead(project);
      expect(served).not.toBeNull();
      if (!served) return;
      // A socket of this user's only, in a directory of this user's only.
      expect(statSync(served.socket).mode & 0o777).toBe(0o600);
      expect(statSync(join(served.socket, "..")).mode & 0o777).toBe(0o700);
      expect(statSync(join(served.socket, "..")).uid).toBe(process.getuid?.());

      // Two deployments' provider processes in turn: each runs its stage in the main job's
      // process (none of its own: it holds the shared one only while an invocation runs),
      // on the manifest parsed ahead, and sees dbt's own lines.
      for (const layer of ["bronze", "silver"]) {
        const provider = await providerProcess(layer);
        expect(provider).toEqual({ pids: [], parsed: false, errors: 0, found: true });
      }
      expect(alive(served.pid)).toBe(true);
      expect(
        JSON.parse(readFileSync(join(project, "target", "stack", "silver", "run_results.json"), "utf8"))
          .results.length,
      ).toBeGreaterThan(0);

      // A stopped invocation stops the shared process (SIGTERM, as a stopped CLI run); the
      // next one starts a process of its own and succeeds.
      const controller = new AbortController();
      const stopped = runDbt({
        ...options,
        stage: "gold",
        targetPath: join(project, "target", "stack", "gold"),
        signal: controller.signal,
        onLine: (line) => {
          if (/ START /.test(line)) controller.abort();
        },
      });
      await expect(stopped).rejects.toMatchObject({ signal: "SIGTERM" });
      const deadline = Date.now() + 10_000;
      while (alive(served.pid) && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 100));
      expect(alive(served.pid)).toBe(false);
      await served.stop(); // its owner's stop at the end of the main job: nothing left to stop, no error
      const provider = await providerProcess("gold");
      expect(provider.errors).toBe(0);
      expect(provider.pids).toHaveLength(1);
      expect(provider.pids).not.toContain(served.pid);

      // Started again, and stopped by its owner: it ends and removes its socket.
      closeWarmDbt();
      const again = await serveDbtAhead(project);
      expect(again).not.toBeNull();
      if (!again) return;
      await again.stop();
      expect(alive(again.pid)).toBe(false);
      expect(existsSync(again.socket)).toBe(false);

      // Another run (another main job's pid) never finds it: it starts a process of its own.
      const third = await serveDbtAhead(project);
      expect(third).not.toBeNull();
      const other = await inNewNode(
        `const { useSharedWarmDbt, startWarm, warmPids, pythonBeside } = await import(${JSON.stringify(new URL("../../lib/dbt/warm.ts", import.meta.url).href)});
           const { findDbt } = await import(${JSON.stringify(new URL("../../lib/dbt/cli.ts", import.meta.url).href)});
           useSharedWarmDbt();
           startWarm(pythonBeside(findDbt(${JSON.stringify(project)})), ${JSON.stringify(project)});
           await new Promise((resolve) => setTimeout(resolve, 200));
           console.log(JSON.stringify(warmPids(${JSON.stringify(project)})));
           process.exit(0);`,
        { AIWB_SUPERVISOR_PID: "1" },
      );
      expect(other.exitCode, other.stderr).toBe(0);
      const pids = JSON.parse(other.stdout.trim()) as number[];
      expect(pids).toHaveLength(1);
      expect(pids).not.toContain(third?.pid);

      // A provider process killed during its invocation ends the shared process too (dbt
      // must not go on writing for a stage nobody runs any more).
      if (!third) return;
      const doomed = inNewNode(
        `const { prewarmDbt } = await import(${JSON.stringify(new URL("../../lib/dbt/prewarm.ts", import.meta.url).href)});
           const { runDbt } = await import(${JSON.stringify(new URL("../../lib/dbt/cli.ts", import.meta.url).href)});
           const options = JSON.parse(process.env.STAGE_OPTIONS);
           void prewarmDbt(options.projectDir, { shared: true });
           await runDbt({ ...options, onLine: (line) => { if (/ START /.test(line)) console.log("started"); } });`,
        {
          STAGE_OPTIONS: JSON.stringify({
            ...options,
            // The longest stage (its tests too): still running when the watch notices.
            stage: "silver",
            targetPath: join(project, "target", "stack", "silver-killed"),
          }),
        },
      );
      await new Promise<void>((resolve, reject) => {
        doomed.stdout?.on("data", (chunk: Buffer) => {
          if (String(chunk).includes("started")) resolve();
        });
        void doomed.then(() => reject(new Error("the provider process ended before its stage started")));
      });
      expect(alive(third.pid)).toBe(true);
      doomed.kill("SIGKILL");
      await doomed;
      const gone = Date.now() + 10_000;
      while (alive(third.pid) && Date.now() < gone) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(alive(third.pid)).toBe(false);
      await third.stop();
    } finally {
      if (savedSupervisor === undefined) delete process.env["AIWB_SUPERVISOR_PID"];
      else process.env["AIWB_SUPERVISOR_PID"] = savedSupervisor;
      closeWarmDbt();
      rmSync(project, { recursive: true, force: true });
    }
  });
});

/**
 * Runs an ES module's code in a new Node process that loads TypeScript (tsx), as a
 * provider process loads the project; `env` is added to this process's environment.
 */
function inNewNode(code: string, env: Record<string, string> = {}) {
  return execa(process.execPath, ["--import", "tsx/esm", "--input-type=module", "-e", code], {
    reject: false,
    stdin: "ignore",
    env,
  });
}

function copyOfProject(): string {
  const project = mkdtempSync(join(tmpdir(), "aiwb-dbt-warm-"));
  cpSync(DBT_PROJECT, project, { recursive: true, filter: (path) => !/\/(target|logs)(\/|$)/.test(path) });
  return project;
}

/** Whether a process runs (a zombie counts as gone: it has exited, its parent just did not reap it). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^\d+ \(.*\) Z /.test(stat);
  } catch {
    return false;
  }
}
