/**
 * A checkout outside the workspace has no ../shared reference data: the tests that need
 * it skip, visibly and with the reason, and everything else in their files still runs.
 * (The whole `npm test` of a fresh clone is run by hand; see the README.)
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { execa } from "execa";
import { afterAll, expect, it } from "vitest";
import { copyProject } from "../support/pulumi-cli.ts";

const root = mkdtempSync(join(tmpdir(), "aiwb-clone-"));

afterAll(() => rmSync(root, { recursive: true, force: true }));

it("skips the chart-schema tests with their reason when ../shared is absent, and runs the rest", async () => {
  const clone = copyProject(join(root, "project"));
  const report = join(root, "vitest.json");
  const files = ["test/unit/cloud/traefik.test.ts", "test/unit/cloud/n8n.test.ts"];
  const run = await execa(
    join(clone, "node_modules/.bin/vitest"),
    [
      "run",
      "--config",
      "test/vitest.config.ts",
      "--reporter=verbose",
      "--reporter=json",
      `--outputFile.json=${report}`,
      ...files,
    ],
    {
      cwd: clone,
      reject: false,
      all: true,
      env: { PATH: `${dirname(process.execPath)}:/usr/bin:/bin`, HOME: process.env["HOME"] ?? root },
      extendEnv: false,
    },
  );
  expect(run.exitCode, run.all).toBe(0);
  const results = JSON.parse(readFileSync(report, "utf8")) as {
    numFailedTests: number;
    numPassedTests: number;
    testResults: { assertionResults: { title: string; status: string }[] }[];
  };
  const skipped = results.testResults.flatMap((file) =>
    file.assertionResults.filter((test) => test.status === "skipped").map((test) => test.title),
  );
  expect(results.numFailedTests).toBe(0);
  expect(results.numPassedTests).toBeGreaterThan(10);
  expect(skipped.sort()).toEqual([
    "passes values that validate against the chart's own schema",
    "passes values that validate against the chart's own schema",
    "the schema check catches bad values (it is not vacuous)",
    "the schema check catches bad values (it is not vacuous)",
  ]);
  // The reason is in the report a developer reads.
  expect(run.all).toContain(
    `chart schema traefik-41.3.0 not found at ${join(root, "shared/chart-schemas/traefik-41.3.0.values.schema.json")} (reference data in ../shared, absent outside the workspace)`,
  );
});
