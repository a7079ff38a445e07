/**
 * `npm run local` interrupted during `pulumi up` (the real script, the real engine, the
 * real dbt and server): after a SIGKILL or a SIGINT no process it started outlives it,
 * no job_runs row stays `running`, the next run clears what the interrupted one left
 * pending and converges, and the run after that has nothing to do. Checked in SQL and
 * in /proc. Its own stack and database (AIWB_LOCAL_STACK, AIWB_LOCAL_DATABASE), never a
 * developer's `local` stack.
 */
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { execa, type ResultPromise } from "execa";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminQuery } from "../../lib/postgres/scratch-database.ts";
import { localServer, type LocalServer } from "../../stacks/local-server.ts";
import { openStack, removeStack, REPO_ROOT } from "../../stacks/workspace.ts";
import { localStackOptions } from "../helpers/local-stack.ts";

const suffix = randomBytes(3).toString("hex");
const stackName = `intr-${suffix}`;
const database = `aiwb_intr_${suffix}`;
const roles = [`wb_intr_${suffix}_dbt`, `wb_intr_${suffix}_n8n`];

let server: LocalServer;

const sql = <T extends pg.QueryResultRow>(text: string, values: unknown[] = [], db = database) =>
  adminQuery<T>(server, db, text, values);

function npmRunLocal(): ResultPromise<{ reject: false; all: true }> {
  return execa("tsx", [join(REPO_ROOT, "scripts/local.ts")], {
    cwd: REPO_ROOT,
    preferLocal: true,
    reject: false,
    all: true,
    env: { AIWB_LOCAL_STACK: stackName, AIWB_LOCAL_DATABASE: database },
  }) as ResultPromise<{ reject: false; all: true }>;
}

/** The node process running scripts/local.ts under the tsx wrapper `wrapper`. */
function scriptProcess(wrapper: number): number | undefined {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === wrapper && readFileSync(`/proc/${entry}/cmdline`, "utf8").includes("scripts/local.ts")) {
        return Number(entry);
      }
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

function alive(pid: number): boolean {
  try {
    const state = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.[0];
    return state !== "Z";
  } catch {
    return false;
  }
}

/** Live processes started under the given `npm run local` (they carry its pid). */
function descendantsOf(pid: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const environ = readFileSync(`/proc/${entry}/environ`, "utf8");
      const state = readFileSync(`/proc/${entry}/stat`, "utf8").split(") ")[1]?.[0];
      if (state !== "Z" && environ.split("\0").includes(`AIWB_SUPERVISOR_PID=${pid}`))
        found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

async function until<T>(probe: () => Promise<T | undefined>, what: string, seconds: number): Promise<T> {
  for (let waited = 0; waited < seconds * 5; waited++) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const runningStage = () =>
  sql<{ stage: string }>("select stage from ip_workbench.job_runs where status = 'running'").then(
    (rows) => rows[0]?.stage,
  );

async function expectConverged(output: string) {
  expect(output).toContain("landed rows not accounted for: none");
  expect(await sql("select count(*)::int as n from ip_workbench.job_runs where status = 'running'")).toEqual([
    { n: 0 },
  ]);
  const [counts] = await sql<{ landed: number; classified: number }>(
    `select (select count(*)::int from bronze.scout_transactions_raw) as landed,
            (select count(*)::int from silver.transaction_classifications) as classified`,
  );
  expect(counts?.classified).toBe(counts?.landed);
  expect(
    await sql("select transaction_id from silver.validated_transactions group by 1 having count(*) > 1"),
  ).toEqual([]);
}

/** After `npm run local` (pid `pid`) died: no process of it is left, no job run is left open. */
async function expectNothingLeft(pid: number): Promise<void> {
  await until(
    async () => (!alive(pid) && descendantsOf(pid).length === 0 ? true : undefined),
    "no orphan process",
    60,
  );
  expect(await sql("select count(*)::int as n from ip_workbench.job_runs where status = 'running'")).toEqual([
    { n: 0 },
  ]);
}

beforeAll(async () => {
  server = await localServer();
  await sql(`create database ${database}`, [], "postgres");
});

afterAll(async () => {
  const stack = await openStack(localStackOptions(server, { stackName, database })).catch(() => undefined);
  if (stack) {
    await stack.destroy({}).catch(() => undefined);
    await removeStack(stack).catch(() => undefined);
  }
  await sql(`drop database if exists ${database} with (force)`, [], "postgres");
  for (const role of roles) await sql(`drop role if exists ${role}`, [], "postgres");
});

describe("npm run local interrupted during pulumi up", () => {
  it("SIGKILL: nothing it started keeps working; the next run clears what was pending and converges", async () => {
    const run = npmRunLocal();
    const stage = await until(runningStage, "a dbt stage to run", 600);
    expect(["bronze", "silver", "gold", "platinum"]).toContain(stage);
    const pid = scriptProcess(run.pid as number) as number;
    expect(pid).toBeGreaterThan(0);
    expect(descendantsOf(pid).length).toBeGreaterThan(0); // the engine, the provider, dbt
    // SIGKILL of what the user started (the wrapper running the script).
    run.kill("SIGKILL");
    await run;
    await expectNothingLeft(pid);

    const again = await npmRunLocal();
    expect(again.exitCode, again.all).toBe(0);
    await expectConverged(again.all);
    const third = await npmRunLocal();
    expect(third.exitCode, third.all).toBe(0);
    expect(third.all).not.toContain("pending operation");
    expect(third.all).toMatch(/resources: \d+ unchanged\n/);
  }, 1_800_000);

  it("SIGINT: the steps in flight finish, nothing is left pending or running, the next run converges", async () => {
    // Work for the stages: a delivery after the last up.
    await sql("select bronze.deliver('scout_transactions', 'n8n', 'late-1', $1::text[])", [
      [
        JSON.stringify({
          transaction_id: "TX-LATE-1",
          store_id: "S001",
          product_id: "P0001",
          category: "snacks",
          quantity: 1,
          amount: 5,
          transaction_date: "2025-01-15",
        }),
      ],
    ]);
    const run = npmRunLocal();
    await until(runningStage, "a dbt stage to run", 600);
    const pid = scriptProcess(run.pid as number) as number;
    expect(pid).toBeGreaterThan(0);
    run.kill("SIGINT");
    const interrupted = await run;
    expect(interrupted.exitCode, interrupted.all).toBe(130);
    expect(interrupted.all).toContain(
      "SIGINT: stopping after the steps in progress (again to stop at once)...",
    );
    await expectNothingLeft(pid);

    const again = await npmRunLocal();
    expect(again.exitCode, again.all).toBe(0);
    expect(again.all).not.toContain("pending operation");
    await expectConverged(again.all);
    expect(
      await sql("select status from silver.transaction_classifications where transaction_id = 'TX-LATE-1'"),
    ).toEqual([{ status: "valid" }]);
  }, 1_800_000);
});
