/**
 * Item 11: the cloud profile defaults to Supabase's pooler (IPv4) and its user format;
 * item 9: the data-quality run's verdict (exit 3 below threshold) and the image's files.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { qualityVerdict } from "../../../scripts/data-jobs/rescore.ts";
import { type ConfigProblem, parseStackConfig, StackConfigError } from "../../../stacks/config/parse.ts";
import { REPO_ROOT } from "../../../lib/paths.ts";
import { prodConfig, prodRawConfig } from "./prod-config.ts";

const SECRETS = new Set(["workbench:databasePassword"]);
const cloud = (database: Record<string, unknown>, supabase: Record<string, unknown>) => ({
  "workbench:profile": "cloud",
  "workbench:environment": "prod",
  "workbench:region": "sgp1",
  "workbench:domain": "workbench.example.com",
  "workbench:cluster": "{}",
  "workbench:databasePassword": "a-long-enough-password",
  "workbench:database": JSON.stringify(database),
  "workbench:supabase": JSON.stringify(supabase),
});
function problemsOf(raw: Record<string, string>): ConfigProblem[] {
  try {
    parseStackConfig(raw, SECRETS);
  } catch (error) {
    expect(error).toBeInstanceOf(StackConfigError);
    return (error as StackConfigError).problems;
  }
  throw new Error("expected the config to be rejected");
}

describe("Supabase connection defaults (cloud profile)", () => {
  it("defaults to the pooler host and the postgres.<ref> user, port 6543 over TLS, and the project URL", () => {
    const config = prodConfig();
    expect(config.database).toEqual({
      host: "aws-0-ap-southeast-1.pooler.supabase.com",
      port: 6543,
      name: "postgres",
      user: "postgres.abcdefghijklmnopqrst",
      sslMode: "require",
    });
    expect(config.supabase.url).toBe("https://abcdefghijklmnopqrst.supabase.co");
    expect(config.supabase.sessionPort).toBe(5432);
  });

  it("keeps the direct host (IPv6 only without the add-on) with its plain user when set explicitly", () => {
    const config = parseStackConfig(
      cloud(
        { host: "db.abcdefghijklmnopqrst.supabase.co", port: 5432 },
        { projectRef: "abcdefghijklmnopqrst" },
      ),
      SECRETS,
    );
    expect(config.database).toMatchObject({
      host: "db.abcdefghijklmnopqrst.supabase.co",
      port: 5432,
      user: "postgres",
    });
  });

  it("an explicit user wins over the derived one", () => {
    const config = parseStackConfig(
      cloud(
        { user: "postgres.zzzzzzzzzzzzzzzzzzzz" },
        { projectRef: "abcdefghijklmnopqrst", region: "us-east-1" },
      ),
      SECRETS,
    );
    expect(config.database).toMatchObject({
      host: "aws-0-us-east-1.pooler.supabase.com",
      user: "postgres.zzzzzzzzzzzzzzzzzzzz",
    });
  });

  it("names what is missing when neither the pooler's region and reference nor a host are given", () => {
    expect(problemsOf(cloud({}, {}))).toEqual([
      {
        key: "workbench:supabase.region",
        rule: "is required unless database.host is set: the pooler host is aws-0-<region>.pooler.supabase.com",
        got: "nothing",
      },
      {
        key: "workbench:supabase.projectRef",
        rule: "is required for the pooler, whose user is postgres.<projectRef> (or set database.user)",
        got: "nothing",
      },
    ]);
    expect(problemsOf(cloud({}, { projectRef: "ABC", region: "Singapore" }))).toEqual([
      {
        key: "workbench:supabase.projectRef",
        rule: "must be the project's 20-character reference (a-z, 0-9)",
        got: '"ABC"',
      },
      {
        key: "workbench:supabase.region",
        rule: "must be an AWS region like ap-southeast-1",
        got: '"Singapore"',
      },
    ]);
  });

  it("documents both forms in Pulumi.prod.yaml", () => {
    const file = readFileSync(`${REPO_ROOT}/Pulumi.prod.yaml`, "utf8");
    expect(file).toContain("aws-0-<region>.pooler.supabase.com");
    expect(file).toContain("db.<projectRef>.supabase.co");
    expect(prodRawConfig()["workbench:database"]).not.toContain("host");
  });
});

describe("the data-quality run (data-jobs image)", () => {
  const layer = (
    status: "pass" | "fail" | "n/a" | "no-data",
    score: number | null,
    threshold: number | null,
  ) => ({
    score,
    scoredTables: 1,
    tables: 1,
    tests: 2,
    threshold,
    status,
  });

  it("exits 3 while a layer is below its threshold or a table has an open low-DQ alert, else 0", () => {
    const passing = {
      bronze: layer("pass", 95, 80),
      silver: layer("pass", 90, 85),
      gold: layer("n/a", 70, null),
      platinum: layer("no-data", null, 80),
    };
    expect(qualityVerdict({ dqByLayer: passing }, [])).toEqual({ exitCode: 0, failing: [] });
    expect(qualityVerdict({ dqByLayer: passing }, ["silver.orders (62.5)"])).toEqual({
      exitCode: 3,
      failing: ["table silver.orders (62.5)"],
    });
    expect(qualityVerdict({ dqByLayer: { ...passing, silver: layer("fail", 62.5, 85) } }, [])).toEqual({
      exitCode: 3,
      failing: ["layer silver: 62.5 < 85"],
    });
  });

  it("ships the script, the Dockerfile and the CI job that builds and pushes the image", () => {
    const script = `${REPO_ROOT}/scripts/data-jobs/data-quality`;
    expect(statSync(script).mode & 0o111).not.toBe(0);
    const text = readFileSync(script, "utf8");
    expect(text).toContain('dbt "$@"');
    expect(text).toContain("tsx scripts/data-jobs/rescore.ts --artifacts");
    const dockerfile = readFileSync(`${REPO_ROOT}/dbt/Dockerfile`, "utf8");
    expect(dockerfile).toMatch(/pip install .*-r dbt\/requirements\.txt/);
    expect(dockerfile).toContain("COPY scripts/data-jobs/ scripts/data-jobs/");
    expect(dockerfile).toContain("USER 10001:10001");
    const workflow = readFileSync(`${REPO_ROOT}/.github/workflows/data-jobs-image.yml`, "utf8");
    expect(workflow).toContain("file: dbt/Dockerfile");
    expect(workflow).toContain("push: true");
    expect(existsSync(`${REPO_ROOT}/dbt/Dockerfile.dockerignore`)).toBe(true);
  });
});
