/**
 * Item 9 end to end, as the data-quality CronJob runs it: scripts/data-jobs/data-quality
 * with the CronJob's arguments (`dbt test --target prod …`), against the real PostgreSQL
 * server and the real dbt, after a build of the medallion. It tests, re-scores the catalog
 * from that run's artifacts, and its exit code is the verdict; when dbt cannot run, it
 * stops before the catalog with exit 2. The re-scoring connects as the prod stack's catalog
 * login does: a login that is a member of workbench_catalog_writer only (not the admin).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectionUrl } from "../../../lib/postgres/connection.ts";
import { REPO_ROOT } from "../../../lib/paths.ts";
import { createMedallionDatabase, type MedallionDatabase } from "../../helpers/medallion.ts";

let db: MedallionDatabase;
const dirs: string[] = [];
/** The catalog writer's login, like the database layer's wb_<env>_catalog. */
const catalog = {
  user: `dqjob_catalog_${randomBytes(3).toString("hex")}`,
  password: randomBytes(18).toString("hex"),
};
beforeAll(async () => {
  db = await createMedallionDatabase("dqjob");
  await db.dbt({ command: "build" });
  await db.query(
    `create role ${catalog.user} login password '${catalog.password}' in role workbench_catalog_writer`,
  );
});
afterAll(async () => {
  await db?.query(`drop role if exists ${catalog.user}`);
  await db?.drop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** The CronJob's container: its args (schedules.ts) and env, with this database as Supabase. */
function runJob(password: string) {
  const target = mkdtempSync(join(tmpdir(), "aiwb-dq-job-"));
  dirs.push(target);
  const args = ["test", "--target", "prod", "--project-dir", "dbt", "--profiles-dir", "dbt"];
  return execa(
    "bash",
    [
      "scripts/run",
      "bash",
      "scripts/data-jobs/data-quality",
      ...args,
      "--target-path",
      target,
      "--log-path",
      join(target, "logs"),
    ],
    {
      cwd: REPO_ROOT,
      reject: false,
      env: {
        DBT_TARGET: "prod",
        DBT_HOST: db.connection.host,
        DBT_PORT: String(db.connection.port),
        DBT_DBNAME: db.connection.database,
        DBT_SSLMODE: "disable",
        DBT_USER: db.connection.user,
        DBT_PASSWORD: password,
        DATABASE_URL: connectionUrl({ ...db.connection, ...catalog }, true),
        DBT_TARGET_PATH: target,
      },
    },
  );
}

describe("the data-quality CronJob's script", () => {
  it("runs the tests, re-scores the catalog from that run, and exits with the verdict", async () => {
    const run = await runJob(db.connection.password);
    expect(run.stdout).toContain("==> dbt test --target prod");
    expect(run.stdout).toContain("==> re-scoring the catalog from");
    const [seeded] = await db.query<{ tests: number; runs: number }>(
      `select (select count(*)::int from ip_workbench.tests) as tests,
              (select count(*)::int from ip_workbench.test_runs) as runs`,
    );
    expect(seeded?.tests).toBeGreaterThan(10);
    expect(seeded?.runs).toBeGreaterThan(10);
    const open = await db.query<{ n: number }>(
      `select count(*)::int as n from ip_workbench.alerts
        where alert_type = 'dq_below_threshold' and resolved_at is null`,
    );
    const below = run.stdout.includes("data quality below threshold");
    expect(below || run.stdout.includes("data quality at threshold")).toBe(true);
    if ((open[0]?.n ?? 0) > 0) expect(below).toBe(true);
    expect(run.exitCode).toBe(below ? 3 : 0);
  });

  it("stops with exit 2 before touching the catalog when dbt cannot run", async () => {
    const before = await db.query<{ n: number }>("select count(*)::int as n from ip_workbench.test_runs");
    const run = await runJob("not-the-password");
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain("error: dbt could not run (exit 2)");
    expect(run.stdout).not.toContain("re-scoring");
    expect(await db.query("select count(*)::int as n from ip_workbench.test_runs")).toEqual(before);
  });
});
