/**
 * The official paths, through the Pulumi CLI (not the Automation API), from a plain shell
 * environment: no NODE_OPTIONS, no tsx preloaded, no variable from our scripts.
 *
 *  - the `local` stack: `stack init`, `config set --secret`, `up --yes`,
 *    `preview --expect-no-changes`, `preview --diff --policy-pack components/policy`,
 *    `destroy --yes`, each result checked in SQL;
 *  - a state written by the Automation API code of an earlier commit (dynamic providers
 *    stored by file path) upgraded by `up`, then `preview --expect-no-changes` and `destroy`;
 *  - a state written by main before issue 18's move to lib/ upgraded by an `up` that
 *    keeps every resource (same URN and type, nothing replaced or deleted) and, while dbt/
 *    is unchanged since, re-runs no stage;
 *  - the policy pack under the CLI's analyzer failing a violating program with the policy's
 *    messages, and passing it once compliant;
 *  - the commands of the PR workflow (.github/workflows/preview.yml) against a local backend.
 *
 * Each run works in a temporary checkout of the project with its own state directory,
 * databases and role names, so it never touches a developer's own stacks.
 */
import { randomBytes } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { nonRootContainers, pinnedImages, requestsAndLimits } from "../../components/policy/validations.ts";
import { adminQuery } from "../../lib/postgres/scratch-database.ts";
import { databaseConfig } from "../helpers/local-stack.ts";
import { localServer, type LocalServer } from "../../stacks/local-server.ts";
import { cacheDir, REPO_ROOT } from "../../stacks/workspace.ts";
import {
  copyProject,
  officialLanguageHost,
  plainEnv,
  pulumi,
  type CliResult,
} from "../support/pulumi-cli.ts";

const suffix = randomBytes(3).toString("hex");
const root = mkdtempSync(join(tmpdir(), "aiwb-cli-"));
const passphrase = randomBytes(18).toString("base64");
const languageHost = officialLanguageHost() ? "official language host" : "test stand-in language host";

let server: LocalServer;
let project: string;

const sql = <T extends pg.QueryResultRow>(db: string, text: string, values: unknown[] = []) =>
  adminQuery<T>(server, db, text, values);

/** Rows in the database's job_runs (one per stage run). */
const jobRuns = async (database: string) =>
  (await sql<{ n: number }>(database, "select count(*)::int as n from ip_workbench.job_runs"))[0]?.n;

const roleName = (environment: string, purpose: string) =>
  `wb_${environment.replaceAll("-", "_")}_${purpose}`;

/** Login roles of an environment (every `wb_<environment>_<purpose>`) that exist on the server. */
async function roles(environment: string): Promise<string[]> {
  const rows = await sql<{ rolname: string }>(
    "postgres",
    "select rolname from pg_roles where starts_with(rolname, $1) order by rolname",
    [roleName(environment, "")],
  );
  return rows.map((row) => row.rolname);
}

/** Clean-up after a test that may have failed half-way: the environment's logins. */
async function dropRoles(environment: string): Promise<void> {
  for (const role of await roles(environment)) await sql("postgres", `drop role if exists ${role}`);
}

async function schemas(database: string): Promise<string[]> {
  const rows = await sql<{ nspname: string }>(
    database,
    "select nspname from pg_namespace where nspname in ('ip_workbench', 'bronze', 'silver', 'gold', 'platinum') order by 1",
  );
  return rows.map((row) => row.nspname);
}

function expectOk(result: CliResult): void {
  expect(result.exitCode, result.output).toBe(0);
}

/** Every resource of a file-backend state: URN → type. */
function stateResources(stateFile: string): Map<string, string> {
  const state = JSON.parse(readFileSync(stateFile, "utf8")) as {
    checkpoint: { latest: { resources: { urn: string; type: string }[] } };
  };
  return new Map(state.checkpoint.latest.resources.map((resource) => [resource.urn, resource.type]));
}

/** Dynamic providers serialized in a file-backend state: how each resource's provider loads. */
function providerReferences(stateFile: string): string[] {
  const state = JSON.parse(readFileSync(stateFile, "utf8")) as {
    checkpoint: {
      latest: {
        resources: { type: string; inputs?: Record<string, unknown>; outputs?: Record<string, unknown> }[];
      };
    };
  };
  return state.checkpoint.latest.resources
    .filter((resource) => resource.type.startsWith("pulumi-nodejs:dynamic/"))
    .flatMap((resource) => [resource.inputs?.["__provider"], resource.outputs?.["__provider"]])
    .map((provider) =>
      typeof provider !== "string"
        ? "none"
        : provider.includes("#workbench-providers")
          ? "registry"
          : /components\/[a-z-]+\/[a-z-]+\.ts/.test(provider)
            ? "file path"
            : "other",
    );
}

beforeAll(async () => {
  server = await localServer();
  project = copyProject(join(root, "project"));
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe(`the local stack through the Pulumi CLI (${languageHost})`, () => {
  const environment = `cli-${suffix}`;
  const database = `aiwb_cli_${suffix}`;
  const state = join(root, "state-local");
  const env = () => plainEnv({ PULUMI_HOME: join(root, "home-local"), PULUMI_CONFIG_PASSPHRASE: passphrase });
  const cli = (args: string[], input?: string) =>
    pulumi(args, { cwd: project, env: env(), ...(input !== undefined ? { input } : {}) });

  beforeAll(async () => {
    mkdirSync(state, { recursive: true });
    await sql("postgres", `create database ${database}`);
  });

  afterAll(async () => {
    await cli(["destroy", "--yes", "--stack", "local"]).catch(() => undefined);
    await sql("postgres", `drop database if exists ${database} with (force)`);
    await dropRoles(environment);
  });

  it("stack init, config set --secret and up --yes deploy the local stack (checked in SQL)", async () => {
    expectOk(await cli(["login", `file://${state}`]));
    expectOk(await cli(["stack", "init", "local", "--secrets-provider", "passphrase"]));
    for (const [key, value] of [
      ["workbench:environment", environment],
      ["workbench:database.host", server.host],
      ["workbench:database.port", String(server.port)],
      ["workbench:database.name", database],
      ["workbench:database.user", server.user],
      ["workbench:sampleData.transactions", "1000"],
    ] as const) {
      expectOk(await cli(["config", "set", "--path", key, value]));
    }
    // The secret goes through stdin, as the README says: never on a command line.
    expectOk(await cli(["config", "set", "--secret", "workbench:databasePassword"], server.password));
    const stackFile = readFileSync(join(project, "Pulumi.local.yaml"), "utf8");
    expect(stackFile).toMatch(/workbench:databasePassword:\n\s+secure: v1:/);
    expect(stackFile).not.toContain(server.password);

    const up = await cli(["up", "--yes"]);
    expectOk(up);
    expect(up.output).toMatch(/\+ 19 created/);

    expect(await roles(environment)).toEqual(
      ["api", "backup", "catalog", "dbt", "delivery", "n8n", "usage"].map((purpose) =>
        roleName(environment, purpose),
      ),
    );
    expect(await schemas(database)).toEqual(["bronze", "gold", "ip_workbench", "platinum", "silver"]);
    const [counts] = await sql<{ transactions: number; gold: number; runs: number }>(
      database,
      `select (select count(*)::int from bronze.scout_transactions_raw) as transactions,
              (select count(*)::int from ip_workbench.tables where layer = 'gold' and deleted_at is null) as gold,
              (select count(*)::int from ip_workbench.job_runs where status = 'completed') as runs`,
    );
    expect(counts?.transactions).toBeGreaterThanOrEqual(1000);
    expect(counts?.gold).toBeGreaterThan(0);
    expect(counts?.runs).toBeGreaterThanOrEqual(4);

    const stateFile = join(state, ".pulumi/stacks/ai-workbench/local.json");
    expect(readFileSync(stateFile, "utf8")).not.toContain(server.password);
    // Every dynamic resource stores a registry name, never a module path.
    expect(new Set(providerReferences(stateFile))).toEqual(new Set(["registry"]));
  });

  it("preview --expect-no-changes finds nothing to do", async () => {
    const preview = await cli(["preview", "--expect-no-changes"]);
    expectOk(preview);
    expect(preview.output).toMatch(/19 unchanged/);
  });

  it("preview --diff --policy-pack components/policy runs the pack under the CLI's analyzer and passes", async () => {
    // The PR workflow's preview (pulumi/actions with policyPacks), on the stack this machine can run.
    const preview = await cli(["preview", "--diff", "--policy-pack", "components/policy"]);
    expectOk(preview);
    // With --diff the CLI lists the packs it ran instead of the ✅ summary.
    expect(preview.output).toMatch(
      /Policy Packs run:\s+Name\s+Version\s+ai-workbench\|local\|components\/policy\s+0\.1\.0/,
    );
    expect(preview.output).not.toMatch(/mandatory|❌/);
  });

  it("destroy --yes removes what up created (checked in SQL)", async () => {
    const destroy = await cli(["destroy", "--yes"]);
    expectOk(destroy);
    expect(destroy.output).toMatch(/- 19 deleted/);
    expect(await roles(environment)).toEqual([]);
    expect(await schemas(database)).toEqual([]);
    expectOk(await cli(["stack", "rm", "local", "--yes"]));
  });
});

/**
 * Deploys the local stack with the code of `commit` (archived from this clone's history),
 * the way `npm run local` ran it then: the Automation API with its own cache dir, so the
 * real engine writes the state that a later commit must upgrade.
 */
async function writeLocalState(
  commit: string,
  target: { oldCache: string; environment: string; database: string },
): Promise<void> {
  const { oldCache, environment, database } = target;
  const oldCode = join(root, `old-code-${commit.slice(0, 7)}`);
  mkdirSync(oldCode, { recursive: true });
  const archive = await execa("git", ["archive", commit], { cwd: REPO_ROOT, encoding: "buffer" });
  await execa("tar", ["-x", "-C", oldCode], { input: archive.stdout });
  symlinkSync(join(REPO_ROOT, "node_modules"), join(oldCode, "node_modules"));
  mkdirSync(join(oldCache, "pulumi-state"), { recursive: true });
  for (const shared of ["bin", "venv"]) symlinkSync(join(cacheDir(), shared), join(oldCache, shared));
  writeFileSync(join(oldCache, "local-stack.passphrase"), passphrase, { mode: 0o600 });
  writeFileSync(
    join(oldCode, "old-up.ts"),
    `import { openStack } from "./stacks/workspace.ts";
const stack = await openStack(JSON.parse(process.env["OLD_STACK"] as string));
await stack.up({ onOutput: (line) => process.stdout.write(line) });\n`,
  );
  await sql("postgres", `create database ${database}`);
  const old = await execa(join(oldCode, "node_modules/.bin/tsx"), ["old-up.ts"], {
    cwd: oldCode,
    extendEnv: false,
    reject: false,
    all: true,
    env: {
      PATH: plainEnv()["PATH"] as string,
      HOME: process.env["HOME"] ?? tmpdir(),
      AIWB_CACHE: oldCache,
      OLD_STACK: JSON.stringify({
        stackName: "local",
        config: {
          environment,
          database: databaseConfig(server, database),
          sampleData: { transactions: 1000, badShare: 0.05, seed: 42 },
        },
        secrets: { databasePassword: server.password },
      }),
    },
  });
  expect(old.exitCode, old.all).toBe(0);
}

/**
 * A local stack whose state an older commit wrote (`writeLocalState`), driven by the
 * official CLI from a plain environment; its database and logins are removed afterwards.
 */
async function olderStack(commit: string, tag: string) {
  const available = await execa("git", ["cat-file", "-e", `${commit}^{commit}`], {
    cwd: REPO_ROOT,
    reject: false,
  }).then((result) => result.exitCode === 0);
  const environment = `${tag}-${suffix}`;
  const database = `aiwb_${tag}_${suffix}`;
  const oldCache = join(root, `${tag}-cache`);
  const stackFile = join(oldCache, "workspaces/local/Pulumi.local.yaml");
  const stateFile = join(oldCache, "pulumi-state/.pulumi/stacks/ai-workbench/local.json");
  const env = () =>
    plainEnv({
      PULUMI_HOME: join(root, `home-${tag}`),
      PULUMI_CONFIG_PASSPHRASE_FILE: join(oldCache, "local-stack.passphrase"),
    });
  const cli = (args: string[]) => pulumi(args, { cwd: project, env: env() });

  afterAll(async () => {
    if (!available) return;
    await cli(["destroy", "--yes", "--stack", "local", "--config-file", stackFile]).catch(() => undefined);
    await sql("postgres", `drop database if exists ${database} with (force)`);
    await dropRoles(environment);
  });

  return { available, environment, database, oldCache, stackFile, stateFile, cli };
}

/** The last commit whose dynamic providers were stored by module path (the state format being upgraded). */
const PATH_PROVIDER_COMMIT = "d7d8b47ff320f5501af8511e5ade3a0d51e04b77";

describe("upgrading a local stack written by the path-based providers", async () => {
  const { available, environment, database, oldCache, stackFile, stateFile, cli } = await olderStack(
    PATH_PROVIDER_COMMIT,
    "upg",
  );

  it.skipIf(!available)(
    available
      ? `up, preview --expect-no-changes and destroy work on a state written by ${PATH_PROVIDER_COMMIT.slice(0, 7)}`
      : `skipped: commit ${PATH_PROVIDER_COMMIT.slice(0, 7)} (the path-based providers) is not in this clone's history`,
    async () => {
      await writeLocalState(PATH_PROVIDER_COMMIT, { oldCache, environment, database });
      expect(new Set(providerReferences(stateFile))).toEqual(new Set(["file path"]));
      const runs = () => jobRuns(database);
      const runsBefore = await runs();

      expectOk(await cli(["login", `file://${join(oldCache, "pulumi-state")}`]));
      expectOk(await cli(["stack", "select", "local"]));
      // One up rewrites each resource's stored provider. Since d7d8b47 the stack also gained
      // five logins (created) and its migrations and dbt models changed (updated in place, so
      // the stages re-run): nothing is replaced or deleted, and every stage completes.
      const up = await cli(["up", "--yes", "--config-file", stackFile]);
      expectOk(up);
      expect(up.output).toMatch(/\+ 5 created/);
      expect(up.output).toMatch(/~ \d+ updated/);
      expect(up.output).not.toMatch(/deleted|replaced/);
      expect(await runs()).toBeGreaterThan(runsBefore ?? 0);
      expect(
        await sql<{ n: number }>(
          database,
          "select count(*)::int as n from ip_workbench.job_runs where status <> 'completed'",
        ),
      ).toEqual([{ n: 0 }]);
      expect(new Set(providerReferences(stateFile))).toEqual(new Set(["registry"]));
      // ... after which nothing changes, and destroy runs from a plain shell.
      expectOk(await cli(["preview", "--expect-no-changes", "--config-file", stackFile]));
      const destroy = await cli(["destroy", "--yes", "--config-file", stackFile]);
      expectOk(destroy);
      expect(destroy.output).toMatch(/- 19 deleted/);
      expect(await roles(environment)).toEqual([]);
      expect(await schemas(database)).toEqual([]);
    },
  );
});

/** main before issue 18 moved the libraries out of components/ (into lib/ and python/). */
const BEFORE_MOVE_COMMIT = "b0dca4aec8e309490d41bac5ece2bfd0d90ffa9b";

describe("upgrading a local stack written before the move to lib/", async () => {
  const { available, environment, database, oldCache, stackFile, stateFile, cli } = await olderStack(
    BEFORE_MOVE_COMMIT,
    "mv",
  );

  it.skipIf(!available)(
    available
      ? `up on the moved code keeps every resource (nothing replaced or deleted) of a state written by ${BEFORE_MOVE_COMMIT.slice(0, 7)}`
      : `skipped: commit ${BEFORE_MOVE_COMMIT.slice(0, 7)} (before the move) is not in this clone's history`,
    async () => {
      await writeLocalState(BEFORE_MOVE_COMMIT, { oldCache, environment, database });
      expect(new Set(providerReferences(stateFile))).toEqual(new Set(["registry"]));
      const before = stateResources(stateFile);
      // The stages' inputs hash the dbt project's files (lib/dbt/stage-inputs.ts): while
      // they have that commit's bytes, no stage may re-run (later work on the models
      // re-runs them for its own reasons).
      const stageFiles = ["models", "macros", "seeds", "tests", "dbt_project.yml", "profiles.yml"];
      const dbtUnchanged =
        (
          await execa(
            "git",
            ["diff", "--quiet", BEFORE_MOVE_COMMIT, "--", ...stageFiles.map((file) => `dbt/${file}`)],
            { cwd: REPO_ROOT, reject: false },
          )
        ).exitCode === 0;
      const runs = () => jobRuns(database);
      const runsBefore = await runs();

      expectOk(await cli(["login", `file://${join(oldCache, "pulumi-state")}`]));
      expectOk(await cli(["stack", "select", "local"]));
      // Type tokens, resource names and provider names did not move with the files, and
      // the state names providers, not paths: the moved code finds everything as it was.
      const up = await cli(["up", "--yes", "--config-file", stackFile]);
      expectOk(up);
      expect(up.output).not.toMatch(/replaced|deleted/);
      expect(up.output).toMatch(/\d+ unchanged/);
      const after = stateResources(stateFile);
      for (const [urn, type] of before) expect(after.get(urn), urn).toBe(type);
      if (dbtUnchanged) expect(await runs()).toBe(runsBefore);
      expectOk(await cli(["preview", "--expect-no-changes", "--config-file", stackFile]));
      expectOk(await cli(["destroy", "--yes", "--config-file", stackFile]));
      expect(await roles(environment)).toEqual([]);
      expect(await schemas(database)).toEqual([]);
    },
  );
});

describe("the policy pack under the CLI's analyzer (test/fixtures/policy-program)", () => {
  const state = join(root, "state-policy");
  const fixture = () => join(project, "test/fixtures/policy-program");
  const env = () =>
    plainEnv({ PULUMI_HOME: join(root, "home-policy"), PULUMI_CONFIG_PASSPHRASE: passphrase });
  const cli = (args: string[]) => pulumi(args, { cwd: fixture(), env: env() });
  const pack = () => join(project, "components/policy");

  it("fails a violating program with the policies' messages", async () => {
    mkdirSync(state, { recursive: true });
    expectOk(await cli(["login", `file://${state}`]));
    expectOk(await cli(["stack", "init", "fixture"]));
    const preview = await cli(["preview", "--policy-pack", pack()]);
    expect(preview.exitCode, preview.output).not.toBe(0);
    expect(preview.output).toContain("❌ ai-workbench@v0.1.0");
    // The messages the rules compute for the fixture's Deployment, each reported by the CLI.
    const deployment = {
      type: "kubernetes:apps/v1:Deployment",
      name: "web",
      props: {
        metadata: { name: "web" },
        spec: { template: { spec: { containers: [{ name: "web", image: "nginx:latest" }] } } },
      },
    };
    const expected = [nonRootContainers, requestsAndLimits, pinnedImages].flatMap((check) =>
      check(deployment),
    );
    expect(expected).toHaveLength(3);
    for (const message of expected) expect(preview.output).toContain(message);
    expect(preview.output).toContain(
      'Container "web" in Deployment "web" may run as root: set securityContext.runAsNonRoot: true on the pod or the container.',
    );
    for (const policy of [
      "containers-run-as-non-root",
      "containers-have-requests-and-limits",
      "pinned-image-tags",
    ])
      expect(preview.output).toMatch(
        new RegExp(`\\[mandatory\\]\\s+${policy}\\s+\\(kubernetes:apps/v1:Deployment: web\\)`),
      );
  });

  it("passes the same program once it complies", async () => {
    expectOk(await cli(["config", "set", "compliant", "true"]));
    const preview = await cli(["preview", "--policy-pack", pack()]);
    expectOk(preview);
    expect(preview.output).toContain("✅ ai-workbench@v0.1.0");
  });
});

describe("the PR workflow's commands against a local backend", () => {
  const workflow = YAML.parse(readFileSync(join(REPO_ROOT, ".github/workflows/preview.yml"), "utf8")) as {
    jobs: Record<
      string,
      { steps: { name?: string; run?: string; uses?: string; with?: Record<string, unknown> }[] }
    >;
  };
  const steps = Object.values(workflow.jobs).flatMap((job) => job.steps);
  const secretsStep = steps.find((step) => step.name === "Stack secrets from repository secrets");
  const state = join(root, "state-workflow");
  const secrets = {
    WORKBENCH_DATABASE_PASSWORD: `pw-${randomBytes(12).toString("hex")}`,
    WORKBENCH_SUPABASE_SERVICE_ROLE_KEY: `srk-${randomBytes(12).toString("hex")}`,
  };
  const env = () =>
    plainEnv({
      PULUMI_HOME: join(root, "home-workflow"),
      PULUMI_CONFIG_PASSPHRASE: passphrase,
      PULUMI_BACKEND_URL: `file://${state}`,
      STACK: "prod",
      ...secrets,
    });
  const runStep = () =>
    execa("bash", ["-c", secretsStep?.run ?? "exit 99"], {
      cwd: project,
      env: env(),
      extendEnv: false,
      reject: false,
      all: true,
    });

  it("never creates a stack: no step runs stack init or select --create", () => {
    expect(secretsStep?.run).toBeDefined();
    for (const step of steps) {
      expect(step.run ?? "").not.toMatch(/stack\s+init|--create/);
      expect(JSON.stringify(step.with ?? {})).not.toMatch(/upsert|stack-init|"refresh"/);
    }
    const preview = steps.find((step) => step.with?.["command"] === "preview");
    expect(preview?.with).toMatchObject({
      policyPacks: "components/policy",
      diff: true,
      "stack-name": "${{ matrix.stack }}",
    });
  });

  it("fails with the operator's to-do when the stack does not exist, and creates nothing", async () => {
    mkdirSync(state, { recursive: true });
    const result = await runStep();
    expect(result.exitCode, result.all).not.toBe(0);
    expect(result.all).toContain("stack prod does not exist");
    expect(existsSync(join(state, ".pulumi/stacks/ai-workbench/prod.json"))).toBe(false);
  });

  it("fails when Pulumi.prod.yaml has no secrets provider settings (the committed file until an operator sets them)", async () => {
    expectOk(
      await pulumi(["stack", "init", "prod", "--secrets-provider", "passphrase"], {
        cwd: project,
        env: env(),
      }),
    );
    const withSalt = readFileSync(join(project, "Pulumi.prod.yaml"), "utf8");
    expect(withSalt).toMatch(/^encryptionsalt: v1:/m);
    // The committed file, as a PR checks it out: the salt line is missing.
    writeFileSync(
      join(project, "Pulumi.prod.yaml"),
      readFileSync(join(REPO_ROOT, "Pulumi.prod.yaml"), "utf8"),
    );
    const result = await runStep();
    expect(result.exitCode, result.all).not.toBe(0);
    expect(result.all).toContain("Pulumi.prod.yaml has no encryptionsalt or secretsprovider");
    writeFileSync(join(project, "Pulumi.prod.yaml"), withSalt);
  });

  it("sets the repository secrets as encrypted stack config once the operator has created the stack", async () => {
    const result = await runStep();
    expect(result.exitCode, result.all).toBe(0);
    const stackFile = readFileSync(join(project, "Pulumi.prod.yaml"), "utf8");
    for (const value of Object.values(secrets)) {
      expect(stackFile).not.toContain(value);
      expect(result.all).not.toContain(value);
    }
    const get = (key: string) =>
      pulumi(["config", "get", key, "--stack", "prod"], { cwd: project, env: env() }).then((r) =>
        r.stdout.trim(),
      );
    expect(await get("workbench:databasePassword")).toBe(secrets.WORKBENCH_DATABASE_PASSWORD);
    expect(await get("workbench:supabaseServiceRoleKey")).toBe(secrets.WORKBENCH_SUPABASE_SERVICE_ROLE_KEY);
    // Absent repository secrets are not set (optional ones may be missing).
    const config = await pulumi(["config", "--stack", "prod", "--json"], { cwd: project, env: env() });
    expectOk(config);
    const keys = Object.keys(JSON.parse(config.stdout) as Record<string, unknown>);
    expect(keys).toContain("workbench:databasePassword");
    expect(keys).not.toContain("workbench:openaiApiKey");
  });
});
