/**
 * Faults converge (real dbt, real PostgreSQL, real processes and signals), each outcome
 * checked in SQL: nothing lost, nothing duplicated, no job_runs row left `running`.
 *
 * - SIGKILL of dbt in the middle of silver, then a re-run;
 * - PostgreSQL restarted during a COPY, and during a stage, then re-runs;
 * - SIGKILL of the command supervising a stage's provider process (what a SIGKILL of
 *   `npm run local` does to it): the provider stops dbt, closes its row and exits;
 * - a second concurrent run of a stage is refused.
 *
 * This file restarts the PostgreSQL server on AIWB_PG_PORT (test files run one at a time).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { execa, execaSync } from "execa";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DbtRunError, dbtFailureHint, runDbt } from "../../lib/dbt/cli.ts";
import { dbtStageProvider, type DbtStageInputs } from "../../components/data/dbt-stage.ts";
import { INTERRUPTED_MESSAGE } from "../../lib/dbt/stage-lock.ts";
import { loadSampleData } from "../../lib/sample-data/index.ts";
import { stuckRows } from "../../lib/reports/medallion.ts";
import { REPO_ROOT } from "../../lib/paths.ts";
import { withClient } from "../../lib/postgres/connection.ts";
import { createMedallionDatabase, DBT_PROJECT, type MedallionDatabase } from "../helpers/medallion.ts";

const TODAY = "2026-01-31";
const VARS = { as_of_date: TODAY };
const GENERATION = { seed: 11, transactions: 20_000, badShare: 0.05, today: TODAY };

let db: MedallionDatabase;

const withDb = <T>(work: (client: pg.Client) => Promise<T>): Promise<T> => withClient(db.connection, work);

/** New deliveries (generator seed `seed`), so the stages have work to do. */
const deliver = (seed: number) =>
  withDb((client) =>
    loadSampleData(
      client,
      { ...GENERATION, seed },
      { source: "faults", batchPrefix: `faults-${seed}`, batchSize: 5_000 },
    ),
  );

/** Pids of live processes whose command line contains `marker`. */
function processesWith(marker: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      const state = readFileSync(`/proc/${entry}/stat`, "utf8").split(") ")[1]?.[0];
      if (state !== "Z" && cmdline.includes(marker)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** Live processes below `root` (children, their children, ...). */
function descendantsOf(root: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (fields[0] !== "Z") parents.set(Number(entry), Number(fields[1]));
    } catch {
      // gone meanwhile
    }
  }
  const found: number[] = [];
  const walk = (pid: number) => {
    for (const [child, parent] of parents) {
      if (parent === pid) {
        found.push(child);
        walk(child);
      }
    }
  };
  walk(root);
  return found;
}

/** Whether `pid` is a live (not zombie) process. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

async function until<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  what: string,
  seconds = 120,
): Promise<T> {
  for (let waited = 0; waited < seconds * 10; waited++) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function restartServer() {
  return (async () => {
    await execa("bash", [join(REPO_ROOT, "scripts/local-postgres"), "stop"]);
    await execa("bash", [join(REPO_ROOT, "scripts/local-postgres"), "start"]);
  })();
}

/** The medallion's accounting, checked in SQL. */
async function expectConverged() {
  const report = await withDb((client) => stuckRows(client));
  expect(report.counts).toEqual([]);
  const [counts] = await db.query<{
    landed: number;
    classified: number;
    distinct_ingest: number;
    valid: number;
    stored: number;
    distinct_ids: number;
  }>(
    `select (select count(*)::int from bronze.scout_transactions_raw) as landed,
            (select count(*)::int from silver.transaction_classifications) as classified,
            (select count(distinct ingest_id)::int from silver.transaction_classifications) as distinct_ingest,
            (select count(*)::int from silver.transaction_classifications where status = 'valid') as valid,
            (select count(*)::int from silver.validated_transactions) as stored,
            (select count(distinct transaction_id)::int from silver.validated_transactions) as distinct_ids`,
  );
  expect(counts?.classified).toBe(counts?.landed);
  expect(counts?.distinct_ingest).toBe(counts?.landed);
  expect(counts?.stored).toBe(counts?.valid);
  expect(counts?.distinct_ids).toBe(counts?.valid);
  // Every batch whole: as many rows as its delivery row says.
  expect(
    await db.query(
      `select d.batch_id from bronze.deliveries d
         left join bronze.scout_transactions_raw r on r.batch_id = d.batch_id and r.source = d.source
        where d.entity = 'scout_transactions'
        group by d.batch_id, d.record_count having count(r.*) <> d.record_count`,
    ),
  ).toEqual([]);
  expect(
    await db.query("select count(*)::int as n from ip_workbench.job_runs where status = 'running'"),
  ).toEqual([{ n: 0 }]);
}

function stageInputs(layer: DbtStageInputs["layer"], artifactsDir: string): DbtStageInputs {
  return {
    connection: db.connection,
    recorder: db.connection,
    projectDir: DBT_PROJECT,
    layer,
    target: "local",
    vars: VARS,
    inputsHash: "test",
    upstream: "test",
    artifactsDir,
  };
}

beforeAll(async () => {
  db = await createMedallionDatabase("faults");
}, 120_000);

afterAll(async () => {
  await db?.drop();
});

describe("faults converge", () => {
  it("PostgreSQL restarted during the COPY: the batch in flight is absent, a re-run loads it once", async () => {
    let restarted = false;
    const first = await withDb(async (client) => {
      client.on("error", () => undefined);
      return loadSampleData(client, GENERATION, {
        source: "faults",
        batchPrefix: "faults",
        batchSize: 2_000,
        onProgress: (progress) => {
          // Mid-way through the transactions, inside a batch's COPY: the server stops
          // before the loader writes another byte.
          if (!restarted && progress.entity === "transactions" && progress.rows > 5_000) {
            restarted = true;
            execaSync("bash", [join(REPO_ROOT, "scripts/local-postgres"), "stop"]);
          }
        },
      }).catch((error: unknown) => error);
    }).catch((error: unknown) => error);
    expect(restarted).toBe(true);
    expect(first).toBeInstanceOf(Error);
    await execa("bash", [join(REPO_ROOT, "scripts/local-postgres"), "start"]);
    const [before] = await db.query<{ n: number }>(
      "select count(*)::int as n from bronze.scout_transactions_raw",
    );
    expect(before?.n).toBeLessThan(GENERATION.transactions);
    const second = await withDb((client) =>
      loadSampleData(client, GENERATION, { source: "faults", batchPrefix: "faults", batchSize: 2_000 }),
    );
    expect(second.summary.transactions.total).toBe(GENERATION.transactions);
    const [after] = await db.query<{ n: number; distinct_positions: number }>(
      `select count(*)::int as n, count(distinct (batch_id, record_seq))::int as distinct_positions
         from bronze.scout_transactions_raw`,
    );
    expect(after).toEqual({ n: GENERATION.transactions, distinct_positions: GENERATION.transactions });
  });

  it("SIGKILL of dbt in the middle of silver: nothing half-built, a re-run converges", async () => {
    const targetPath = join(db.targetPath, "kill");
    await runDbt({
      command: "build",
      projectDir: DBT_PROJECT,
      connection: db.connection,
      stage: "bronze",
      vars: VARS,
      targetPath,
    });
    let killed: number[] = [];
    const failure = await runDbt({
      command: "build",
      projectDir: DBT_PROJECT,
      connection: db.connection,
      stage: "silver",
      vars: VARS,
      targetPath,
      onLine: (line) => {
        if (
          killed.length === 0 &&
          /START sql incremental model silver\.transaction_classifications/.test(line)
        ) {
          killed = processesWith(targetPath).filter((pid) =>
            readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("dbt"),
          );
          for (const pid of killed) process.kill(pid, "SIGKILL");
        }
      },
    }).catch((error: unknown) => error);
    expect(killed.length).toBeGreaterThan(0);
    expect(failure).toBeInstanceOf(DbtRunError);
    expect((failure as DbtRunError).message).toBe("dbt build was stopped by SIGKILL before it finished");
    expect(dbtFailureHint(failure as DbtRunError)).toMatch(/^dbt was stopped before it finished/);
    // All or nothing: the model's table is absent or holds every landed row.
    const [state] = await db.query<{ table: string | null }>(
      "select to_regclass('silver.transaction_classifications')::text as table",
    );
    if (state?.table) {
      const [counts] = await db.query<{ classified: number; landed: number }>(
        `select (select count(*)::int from silver.transaction_classifications) as classified,
                (select count(*)::int from bronze.scout_transactions_raw) as landed`,
      );
      expect([0, counts?.landed]).toContain(counts?.classified);
    }
    await runDbt({
      command: "build",
      projectDir: DBT_PROJECT,
      connection: db.connection,
      stage: "silver",
      vars: VARS,
      targetPath,
    });
    await expectConverged();
  });

  it("PostgreSQL restarted during a stage: the stage fails with the right hint, its row is closed, a re-run converges", async () => {
    // New deliveries, so silver has work to do.
    await deliver(12);
    const artifacts = join(db.targetPath, "restart");
    await dbtStageProvider.create!(stageInputs("bronze", artifacts));
    let restarting: Promise<void> | undefined;
    const failure = await Promise.all([
      dbtStageProvider.create!(stageInputs("silver", artifacts)).catch((error: unknown) => error),
      (async () => {
        await until(
          () =>
            db
              .query<{ n: number }>(
                "select count(*)::int as n from pg_stat_activity where datname = current_database() and query ilike '%transaction_classifications%' and state = 'active' and pid <> pg_backend_pid()",
              )
              .then((rows) => (rows[0]?.n ?? 0) > 0 || undefined)
              .catch(() => undefined),
          "silver to start",
        );
        restarting = restartServer();
        await restarting;
      })(),
    ]).then(([result]) => result);
    await restarting;
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toMatch(/^silver stage: /);
    expect((failure as Error).message).toContain(
      "PostgreSQL went away during the build (restarted or unreachable): check it is up (scripts/local-postgres status), then re-run the stage.",
    );
    // The run's own bookkeeping may have died with the server; the next run closes it.
    await dbtStageProvider.create!(stageInputs("silver", artifacts));
    const rows = await db.query<{ status: string; error_message: string | null }>(
      "select status, error_message from ip_workbench.job_runs where stage = 'silver' order by started_at",
    );
    expect(rows.at(-1)?.status).toBe("completed");
    expect(rows.slice(0, -1).every((row) => row.status === "failed")).toBe(true);
    await expectConverged();
  });

  it("SIGKILL of the supervising command: the provider stops dbt, closes its job_runs row and exits", async () => {
    await deliver(13);
    const artifacts = join(db.targetPath, "orphan");
    await dbtStageProvider.create!(stageInputs("bronze", artifacts));
    const supervisor = execa("sleep", ["600"], { reject: false });
    const provider = execa("tsx", [join(REPO_ROOT, "test/fixtures/stage-runner.ts")], {
      cwd: REPO_ROOT,
      preferLocal: true,
      reject: false,
      all: true,
      env: {
        AIWB_SUPERVISOR_PID: String(supervisor.pid),
        AIWB_STAGE_INPUTS: JSON.stringify(stageInputs("silver", artifacts)),
      },
    });
    await until(
      () =>
        db
          .query<{ n: number }>(
            "select count(*)::int as n from ip_workbench.job_runs where stage = 'silver' and status = 'running'",
          )
          .then((rows) => (rows[0]?.n ?? 0) > 0 || undefined),
      "the provider's run to start",
    );
    // The provider runs dbt in its warm dbt process (dbt-warm.ts), a child of the provider.
    const dbtPids = await until(() => {
      const pids = descendantsOf(provider.pid as number).filter((pid) =>
        readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("dbt-server.py"),
      );
      return pids.length > 0 ? pids : undefined;
    }, "dbt to start");
    supervisor.kill("SIGKILL");
    const exited = await provider;
    expect(exited.exitCode).toBe(1);
    await until(
      () => dbtPids.every((pid) => !alive(pid)) || undefined,
      "no dbt process of the run to remain",
      30,
    );
    const [row] = await db.query<{ status: string; error_message: string }>(
      "select status, error_message from ip_workbench.job_runs where stage = 'silver' order by started_at desc limit 1",
    );
    expect(row).toEqual({
      status: "failed",
      error_message: `interrupted: the command that started this run (process ${supervisor.pid}) has ended`,
    });
    // The next run converges.
    await dbtStageProvider.create!(stageInputs("silver", artifacts));
    await expectConverged();
  });

  it("a row left running by a run that died is closed by the next run", async () => {
    await db.query(
      "insert into ip_workbench.job_runs (status, stage, started_at) values ('running', 'gold', now())",
    );
    await dbtStageProvider.create!(stageInputs("gold", join(db.targetPath, "gold")));
    expect(
      await db.query(
        "select status, error_message from ip_workbench.job_runs where stage = 'gold' order by started_at",
      ),
    ).toEqual([
      { status: "failed", error_message: INTERRUPTED_MESSAGE },
      { status: "completed", error_message: null },
    ]);
  });

  it("a second concurrent run of a stage is refused, naming the run that holds it", async () => {
    const artifacts = join(db.targetPath, "concurrent");
    // The first run must still hold the stage when the second starts, however fast a warm
    // dbt has become: a transaction holding the landing table makes the first run wait
    // inside its stage (it reads the landing watermarks first) until the second has answered.
    const blocker = new pg.Client({ connectionString: db.server.url(db.name) });
    await blocker.connect();
    await blocker.query("begin; lock table bronze.scout_transactions_raw in access exclusive mode");
    const first = dbtStageProvider.create!(stageInputs("bronze", `${artifacts}-1`));
    const second = new Promise((resolve) => setTimeout(resolve, 1_500)).then(() =>
      dbtStageProvider.create!(stageInputs("bronze", `${artifacts}-2`)),
    );
    const secondSettled = await Promise.allSettled([second]);
    await blocker.query("commit");
    await blocker.end();
    const results = [...(await Promise.allSettled([first])), ...secondSettled];
    expect(results.map((result) => result.status)).toEqual(["fulfilled", "rejected"]);
    const refused = results.find((result) => result.status === "rejected") as PromiseRejectedResult;
    expect(String((refused.reason as Error).message)).toMatch(
      /^another run of the bronze stage is in progress \(server process \d+ of ai-workbench dbt bronze, connected \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\): wait for it to finish, then re-run\. Nothing was changed by this run\.$/,
    );
    expect(
      await db.query(
        "select count(*)::int as n from ip_workbench.job_runs where stage = 'bronze' and started_at > now() - interval '10 minutes' and status = 'running'",
      ),
    ).toEqual([{ n: 0 }]);
  });
});
