/**
 * What the user is told, on the exact text: one `error:` prefix, the stale lock's real
 * path, a hint that matches the cause (a kill, a database restart, a full disk and a
 * failing model each get their own), file and line for the stack file, no silently
 * overridden setting, the record position of a raw NUL byte, and seeds the generator
 * accepts. The loader case runs against the real PostgreSQL.
 */
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DbtRunError, dbtFailureHint, type DbtNodeResult } from "../../lib/dbt/cli.ts";
import { loadEntity } from "../../lib/sample-data/index.ts";
import { parseStackConfig, StackConfigError } from "../../stacks/config/parse.ts";
import { checkStackFile, StackFileError } from "../../stacks/read-config.ts";
import { engineErrors, localFailureText, stackLockFiles } from "../../scripts/local-errors.ts";
import { createMedallionDatabase, type MedallionDatabase } from "../helpers/medallion.ts";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "aiwb-messages-"));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const failedNode = (message: string): DbtNodeResult => ({
  uniqueId: "model.workbench.silver_validated_transactions",
  resourceType: "model",
  status: "error",
  message,
  rowsAffected: null,
  failures: null,
  executionTime: 1,
});

describe("npm run local's failure text", () => {
  it("has one error: prefix and names a reset connection for what it is", () => {
    const engine =
      "Diagnostics:\n  pulumi:pulumi:Stack (workbench-local):\n    error: error: write ECONNRESET\n    error: update failed\n";
    expect(engineErrors(engine)).toEqual(["write ECONNRESET"]);
    expect(localFailureText(engine, [])).toBe(
      "\nerror: write ECONNRESET\n" +
        "PostgreSQL closed the connection mid-deployment (it crashed or was restarted): check it is up " +
        "(scripts/local-postgres status), then re-run npm run local; it resumes where it stopped.",
    );
  });

  it("names the stale lock file by its real path", () => {
    const state = join(dir, "pulumi-state");
    const locks = join(state, ".pulumi", "locks", "organization", "ai-workbench", "local");
    mkdirSync(locks, { recursive: true });
    const lock = join(locks, "4f3c2a.json");
    writeFileSync(lock, "{}");
    utimesSync(lock, new Date("2026-11-30T10:00:00Z"), new Date("2026-11-30T10:00:00Z"));
    // Another stack's lock is not this stack's.
    mkdirSync(join(state, ".pulumi", "locks", "organization", "ai-workbench", "other"), { recursive: true });
    writeFileSync(join(state, ".pulumi", "locks", "organization", "ai-workbench", "other", "x.json"), "{}");
    const files = stackLockFiles(state, "local");
    expect(files.map((file) => file.path)).toEqual([lock]);
    expect(
      localFailureText(
        "error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or delete the lock file with `pulumi cancel`.",
        files,
      ),
    ).toBe(
      "\nerror: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or delete the lock file with `pulumi cancel`.\n" +
        "another update holds the stack lock. If no `npm run local` is running, the lock is stale: delete it\n" +
        `  rm '${lock}'   # written 2026-11-30T10:00:00.000Z\n` +
        "and re-run (then `npm run local` clears any operation the interrupted run left pending).",
    );
  });

  it("gives a failing stage the hint of its cause", () => {
    const stage = (detail: string) =>
      `error: silver stage: dbt build failed on 1 node(s):\n  - x [error]: ${detail}`;
    expect(localFailureText(stage("division by zero"), []).split("\n").pop()).toBe(
      "a dbt model or test failed: fix the nodes named above (npm run dbt -- <stage> --stack local reruns one stage), then re-run.",
    );
    expect(
      localFailureText(stage("could not extend file: No space left on device"), []).split("\n").pop(),
    ).toBe(
      "the database server ran out of disk space: free space on its data volume, then re-run npm run local.",
    );
    expect(
      localFailureText(stage("terminating connection due to administrator command"), []).split("\n").pop(),
    ).toBe(
      "PostgreSQL went away during the build (restarted or crashed): scripts/local-postgres status, then re-run npm run local.",
    );
    expect(
      localFailureText("error: silver stage: dbt build was stopped by SIGKILL before it finished", [])
        .split("\n")
        .pop(),
    ).toBe(
      "dbt was stopped before it finished (each model commits or rolls back whole): re-run npm run local.",
    );
  });
});

describe("dbt failures", () => {
  it("say what stopped dbt, and hint by cause", () => {
    const killed = new DbtRunError("build", [], null, "no output", "SIGKILL");
    expect(killed.message).toBe("dbt build was stopped by SIGKILL before it finished");
    expect(dbtFailureHint(killed)).toBe(
      "dbt was stopped before it finished; nothing it wrote is half-done (each model commits or rolls back whole): re-run the stage.",
    );
    const restarted = new DbtRunError(
      "build",
      [failedNode("terminating connection due to administrator command")],
      null,
      "",
    );
    expect(dbtFailureHint(restarted)).toBe(
      "PostgreSQL went away during the build (restarted or unreachable): check it is up (scripts/local-postgres status), then re-run the stage.",
    );
    const full = new DbtRunError(
      "build",
      [failedNode('could not extend file "base/1/2": No space left on device')],
      null,
      "",
    );
    expect(dbtFailureHint(full)).toBe(
      "the database server ran out of disk space: free space on its data volume, then re-run the stage.",
    );
    const model = new DbtRunError("build", [failedNode("division by zero")], null, "");
    expect(dbtFailureHint(model)).toBe(
      "a dbt model or test failed: fix the nodes named above (npm run dbt -- <stage> --stack local reruns one stage), then re-run.",
    );
  });
});

describe("the committed stack file", () => {
  const overrides = {
    database: { host: "127.0.0.1", port: 54333, name: "postgres", user: "postgres", sslMode: "disable" },
  };
  const write = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const BASE = [
    "config:",
    "  workbench:profile: local",
    "  workbench:environment: local",
    "  workbench:database:",
    "    host: 127.0.0.1",
    "    port: 54322",
    "    name: postgres",
    "    user: postgres",
    "    sslMode: disable",
  ];

  it("invalid YAML names the file and line", () => {
    const path = write("bad-yaml.yaml", [...BASE, "  workbench:sampleData: {transactions: 5", ""].join("\n"));
    expect(() => checkStackFile(path, "Pulumi.local.yaml", overrides, ["databasePassword"])).toThrow(
      StackFileError,
    );
    expect(() => checkStackFile(path, "Pulumi.local.yaml", overrides, ["databasePassword"])).toThrow(
      /^Pulumi\.local\.yaml:1\d: invalid YAML: .+ \(nothing was changed; fix the file and re-run\)$/,
    );
  });

  it("refuses a plaintext password and an invalid port, with their lines, instead of overriding them", () => {
    const lines = [...BASE, "  workbench:databasePassword: hunter2-hunter2", ""];
    lines[5] = "    port: abc";
    const path = write("bad-values.yaml", lines.join("\n"));
    let failure: unknown;
    try {
      checkStackFile(path, "Pulumi.local.yaml", overrides, ["databasePassword"]);
    } catch (error) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(StackFileError);
    expect((failure as Error).message).toBe(
      "invalid stack configuration in Pulumi.local.yaml (nothing was changed):\n" +
        "  - Pulumi.local.yaml:10: workbench:databasePassword must not be in Pulumi.local.yaml (a plaintext secret in a committed file): the scripts set it, as a secret, from the local server; delete the line\n" +
        '  - Pulumi.local.yaml:6: workbench:database.port: must be a whole number (got "abc")',
    );
    expect((failure as Error).stack ?? "").not.toContain("Unhandled exception");
  });

  it("says which committed values the running server replaces", () => {
    const path = write("good.yaml", [...BASE, ""].join("\n"));
    expect(checkStackFile(path, "Pulumi.local.yaml", overrides, ["databasePassword"])).toEqual({
      overridden: ["Pulumi.local.yaml:6: workbench:database.port 54322 is replaced by 54333"],
    });
  });

  it("sampleData.seed must be a seed the generator takes (0 to 2^32 - 1)", () => {
    for (const seed of [-1, 2 ** 32]) {
      let failure: unknown;
      try {
        parseStackConfig(
          {
            "workbench:profile": "local",
            "workbench:environment": "local",
            "workbench:databasePassword": "correct-horse-battery",
            "workbench:sampleData": JSON.stringify({ seed }),
          },
          new Set(["workbench:databasePassword"]),
        );
      } catch (error) {
        failure = error;
      }
      expect(failure).toBeInstanceOf(StackConfigError);
      expect((failure as StackConfigError).message).toBe(
        "invalid stack configuration (nothing was changed):\n" +
          `  - workbench:sampleData.seed: must be a whole number from 0 to 4294967295 (got ${seed})`,
      );
    }
  });
});

describe("a raw NUL byte in a delivery", () => {
  let db: MedallionDatabase;
  beforeAll(async () => {
    db = await createMedallionDatabase("nul");
  });
  afterAll(async () => {
    await db?.drop();
  });

  it("refuses the batch naming the record's position, and loads nothing of it", async () => {
    const client = new (await import("pg")).default.Client({ connectionString: db.server.url(db.name) });
    await client.connect();
    try {
      const rows = ["{}", "{}", '{"transaction_id": "TX\u0000"}', "{}"].map((payloadRaw) => ({ payloadRaw }));
      await expect(
        loadEntity(client, "transactions", rows, { source: "test", batchPrefix: "nul", batchSize: 10 }),
      ).rejects.toThrow(
        "batch 'nul-transactions-000000' record 2 contains a raw NUL byte (U+0000), which PostgreSQL text cannot hold: " +
          "nothing of the batch was loaded. Remove the byte, or escape it inside a JSON string as \\u0000 " +
          "(the record then lands and is quarantined as MALFORMED_JSON), and deliver the batch again.",
      );
    } finally {
      await client.end();
    }
    expect(await db.query("select count(*)::int as n from bronze.scout_transactions_raw")).toEqual([
      { n: 0 },
    ]);
    expect(await db.query("select count(*)::int as n from bronze.deliveries")).toEqual([{ n: 0 }]);
  });
});
