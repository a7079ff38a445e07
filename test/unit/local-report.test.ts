/** A report that cannot be written never fails a deployment that succeeded (issue 14, messages). */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { writeReport } from "../../scripts/local-errors.ts";

const root = mkdtempSync(join(tmpdir(), "aiwb-report-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe("writeReport", () => {
  it("writes the report and names its path", () => {
    const dir = join(root, "reports", "local");
    expect(writeReport("lineage picture", dir, "lineage.svg", "<svg/>")).toBe(
      `  lineage picture: ${join(dir, "lineage.svg")}`,
    );
    expect(readFileSync(join(dir, "lineage.svg"), "utf8")).toBe("<svg/>");
  });

  it("names the reason when the reports directory cannot be created, and does not throw", () => {
    // A file where the directory should be: the same failure as a read-only cache, and one
    // that holds for root too (root ignores permission bits).
    const blocked = join(root, "blocked");
    writeFileSync(blocked, "not a directory");
    const dir = join(blocked, "local");
    expect(writeReport("lineage picture", dir, "lineage.svg", "<svg/>")).toBe(
      `  lineage picture: not written (ENOTDIR on ${dir}; the deployment itself succeeded)`,
    );
  });
});
