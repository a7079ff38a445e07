/**
 * The pure parts of running dbt: the parse a warm process makes its manifest with, the
 * key that decides when that manifest may be reused, dbt's node time from run_results,
 * and dbt's overhead in the stage steps of a deployment.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PgConnection } from "../../lib/postgres/connection.ts";
import { stageOverhead } from "../../components/data/data-stack.ts";
import { dbtParseArguments, manifestKey, parseRunResults, type DbtOptions } from "../../lib/dbt/cli.ts";
import { REPO_ROOT } from "../../lib/paths.ts";

const connection: PgConnection = {
  host: "127.0.0.1",
  port: 5432,
  database: "db",
  user: "dbt",
  password: "secret",
  sslMode: "disable",
};

let project: string;
beforeAll(() => {
  project = mkdtempSync(join(tmpdir(), "aiwb-dbt-key-"));
  cpSync(join(REPO_ROOT, "dbt"), project, {
    recursive: true,
    filter: (path) => !/\/(target|logs)(\/|$)/.test(path),
  });
});
afterAll(() => rmSync(project, { recursive: true, force: true }));

const options = (extra: Partial<DbtOptions> = {}): DbtOptions => ({
  command: "build",
  projectDir: project,
  connection,
  stage: "silver",
  vars: { as_of_date: "2026-01-31" },
  targetPath: "/t/silver",
  ...extra,
});

describe("the parse behind a warm invocation", () => {
  it("has the invocation's vars and target, in the shared parse dir, writing only the partial-parse file", () => {
    expect(dbtParseArguments(options({ parseTargetPath: "/t/parse", target: "prod" }))).toEqual([
      "parse",
      "--vars",
      '{"as_of_date":"2026-01-31"}',
      "--target",
      "prod",
      "--target-path",
      "/t/parse",
      "--no-write-json",
    ]);
    // No parse dir: the invocation's own target path; no vars: none passed.
    expect(dbtParseArguments(options({ vars: {} }))).toEqual([
      "parse",
      "--target",
      "local",
      "--target-path",
      "/t/silver",
      "--no-write-json",
    ]);
  });
});

describe("the manifest key", () => {
  it("is the same for every stage and run option of one project, vars, target and connection", () => {
    const key = manifestKey(options(), "/venv/bin/dbt");
    expect(
      manifestKey(options({ stage: "gold", targetPath: "/t/silver", fullRefresh: true }), "/venv/bin/dbt"),
    ).toBe(key);
    expect(manifestKey(options({ select: ["tag:gold"], threads: 4 }), "/venv/bin/dbt")).toBe(key);
  });

  it("changes with a project file, the vars, the target, the connection, the parse dir or the dbt install", () => {
    const key = manifestKey(options(), "/venv/bin/dbt");
    const changed = [
      manifestKey(options({ vars: { as_of_date: "2026-02-01" } }), "/venv/bin/dbt"),
      manifestKey(options({ target: "prod" }), "/venv/bin/dbt"),
      manifestKey(options({ connection: { ...connection, database: "other" } }), "/venv/bin/dbt"),
      manifestKey(options({ connection: { ...connection, user: "someone" } }), "/venv/bin/dbt"),
      manifestKey(options({ parseTargetPath: "/t/parse" }), "/venv/bin/dbt"),
      manifestKey(options(), "/other-venv/bin/dbt"),
    ];
    writeFileSync(join(project, "models/gold/added_model.sql"), "select 1 as one\n");
    changed.push(manifestKey(options(), "/venv/bin/dbt"));
    writeFileSync(join(project, "macros/added_macro.sql"), "{% macro added() %}1{% endmacro %}\n");
    changed.push(manifestKey(options(), "/venv/bin/dbt"));
    expect(new Set([key, ...changed]).size).toBe(changed.length + 1);
  });
});

describe("dbt's node time", () => {
  it("spans the first node's start to the last node's end, threads overlapping", () => {
    const results = JSON.stringify({
      metadata: { invocation_id: "i" },
      elapsed_time: 9.5,
      args: { which: "build" },
      results: [
        {
          unique_id: "model.workbench.a",
          status: "success",
          message: null,
          failures: null,
          execution_time: 2,
          timing: [
            {
              name: "compile",
              started_at: "2026-01-01T00:00:01.000Z",
              completed_at: "2026-01-01T00:00:01.500Z",
            },
            {
              name: "execute",
              started_at: "2026-01-01T00:00:01.500Z",
              completed_at: "2026-01-01T00:00:03.000Z",
            },
          ],
        },
        {
          unique_id: "model.workbench.b",
          status: "success",
          message: null,
          failures: null,
          execution_time: 4,
          timing: [
            {
              name: "compile",
              started_at: "2026-01-01T00:00:01.200Z",
              completed_at: "2026-01-01T00:00:01.300Z",
            },
            {
              name: "execute",
              started_at: "2026-01-01T00:00:01.300Z",
              completed_at: "2026-01-01T00:00:05.250Z",
            },
          ],
        },
        // A skipped node has no timings.
        {
          unique_id: "test.workbench.c",
          status: "skipped",
          message: null,
          failures: null,
          execution_time: 0,
          timing: [],
        },
      ],
    });
    const summary = parseRunResults(results, "/t");
    expect(summary.nodeSeconds).toBeCloseTo(4.25, 6);
    expect(summary.elapsedSeconds).toBe(9.5);
  });

  it("is 0 when no node ran", () => {
    const empty = JSON.stringify({ metadata: { invocation_id: "i" }, elapsed_time: 1.5, results: [] });
    expect(parseRunResults(empty, "/t").nodeSeconds).toBe(0);
  });
});

describe("dbt's overhead in the stage steps", () => {
  it("is the steps' wall time minus dbt's node time, over the stages that ran", () => {
    const overhead = stageOverhead(
      "medallion",
      [
        { layer: "bronze", nodeSeconds: 1 },
        { layer: "silver", nodeSeconds: 6 },
        { layer: "gold", nodeSeconds: 2 },
        { layer: "platinum", nodeSeconds: 1 },
      ],
      [
        ["sample-data", 9],
        ["medallion-bronze", 2],
        ["medallion-silver", 8],
        ["medallion-gold", 3],
        // platinum did not run (unchanged): no step.
      ],
    );
    expect(overhead.stages.map((stage) => stage.layer)).toEqual(["bronze", "silver", "gold"]);
    expect(overhead.wallSeconds).toBe(13);
    expect(overhead.nodeSeconds).toBe(9);
    expect(overhead.overheadSeconds).toBe(4);
    expect(overhead.share).toBeCloseTo(4 / 13, 10);
  });

  it("never counts more node time than a step's wall time, and is 0 % without steps", () => {
    const clipped = stageOverhead("medallion", [{ layer: "gold", nodeSeconds: 5 }], [["medallion-gold", 4]]);
    expect(clipped.overheadSeconds).toBe(0);
    expect(stageOverhead("medallion", [{ layer: "gold", nodeSeconds: 5 }], []).share).toBe(0);
  });
});
