/**
 * Least privilege in the prod stack (issue 19): every database user and password the
 * program hands to anything it deploys (Kubernetes Secrets' data, env vars, Helm values,
 * n8n's credentials, CronJob args, App Platform env, the dynamic resources that connect)
 * is listed through the mocks, and none is the admin's outside the database layer's own
 * migration runner (migrations, login roles, grants, the apps' schemas).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { credentials, type Found } from "../../helpers/credentials.ts";
import { installMocks, type RecordedResource } from "../../helpers/pulumi-mocks.ts";
import {
  cloudDataSources,
  loginPasswords,
  mockLoginPassword,
  PLACEHOLDER_SECRETS,
  prodConfig,
} from "./prod-config.ts";

const mocks = await installMocks({ stack: "prod", calls: cloudDataSources, outputs: loginPasswords });
const { cloudPlatform } = await import("../../../stacks/cloud/index.ts");

/** Pulumi.prod.yaml's admin login (Supabase's pooler user format) and its placeholder password. */
const ADMIN_USER = "postgres.abcdefghijklmnopqrst";
const ADMIN_PASSWORD = PLACEHOLDER_SECRETS["databasePassword"] as string;
const REF = ".abcdefghijklmnopqrst";
/** The one place the admin connection may go: the database layer (the migration runner). */
const MIGRATION_RUNNER = /^pulumi-nodejs:dynamic\/workbench:database:(MigrationSet|LoginRole|SqlStatements)$/;

const label = (resource: RecordedResource) => `${resource.type} ${resource.name}`;

describe("every connection the prod stack builds (mocks)", () => {
  let found: Found[];
  let outside: RecordedResource[];
  const users = (resource: string) =>
    [
      ...new Set(found.filter((f) => f.resource === resource && f.kind === "user").map((f) => f.value)),
    ].sort();
  const passwords = (resource: string) =>
    [
      ...new Set(found.filter((f) => f.resource === resource && f.kind === "password").map((f) => f.value)),
    ].sort();

  beforeAll(async () => {
    PLACEHOLDER_SECRETS["n8nApiKey"] = "n8n_api_placeholder_key_0123456789";
    PLACEHOLDER_SECRETS["supabaseJwtSecret"] = "jwt_placeholder_secret_0123456789abcdef";
    try {
      // Everything on: workloads, n8n with its workflows, LiteLLM, backups, the data stack, App Platform.
      cloudPlatform(prodConfig({ overrides: { "workbench:deployWorkloads": true } }));
    } finally {
      delete PLACEHOLDER_SECRETS["n8nApiKey"];
      delete PLACEHOLDER_SECRETS["supabaseJwtSecret"];
    }
    await mocks.settle();
    outside = mocks.resources.filter((resource) => !MIGRATION_RUNNER.test(resource.type));
    found = outside.flatMap((resource) => credentials(label(resource), resource.inputs));
  });

  it("finds the connections of every component that reaches the database", () => {
    const holders = [...new Set(found.map((f) => f.resource))].sort();
    expect(holders).toEqual(
      [
        "kubernetes:core/v1:Secret workbench-prod-secrets-supabase",
        "kubernetes:core/v1:Secret workbench-prod-secrets-llm",
        "kubernetes:core/v1:Secret workbench-prod-secrets-n8n",
        "kubernetes:helm.sh/v3:Release n8n",
        "pulumi-nodejs:dynamic/workbench:n8n:WorkflowSet n8n-workflows",
        "kubernetes:core/v1:Secret dbt-credentials",
        "kubernetes:core/v1:Secret postgres-backup-credentials",
        "kubernetes:batch/v1:CronJob postgres-backup-hourly",
        "kubernetes:batch/v1:CronJob postgres-backup-daily",
        "kubernetes:batch/v1:CronJob postgres-backup-weekly",
        "pulumi-nodejs:dynamic/workbench:data:DbtStage medallion-bronze",
        "pulumi-nodejs:dynamic/workbench:data:DbtStage medallion-silver",
        "pulumi-nodejs:dynamic/workbench:data:DbtStage medallion-gold",
        "pulumi-nodejs:dynamic/workbench:data:DbtStage medallion-platinum",
        "pulumi-nodejs:dynamic/workbench:data:CatalogSeed catalog",
        "digitalocean:index/app:App workbench-prod-expense-api",
        // The queue Redises' own passwords (key `password`): not the database's, checked all the same.
        "kubernetes:core/v1:Secret litellm-redis-auth",
        "kubernetes:core/v1:Secret n8n-redis-auth",
      ].sort(),
    );
  });

  it("hands no component the admin user or password outside the migration runner", () => {
    expect(found.length).toBeGreaterThan(20);
    expect(found.filter((f) => f.kind === "user" && f.value.split(".")[0] === "postgres")).toEqual([]);
    expect(found.filter((f) => f.value === ADMIN_USER || f.value === ADMIN_PASSWORD)).toEqual([]);
    // Nor anywhere else in any input, in any form (a URL, a DSN, a template).
    const leaks = outside.filter((resource) => {
      const text = JSON.stringify(resource.inputs);
      return text.includes(ADMIN_PASSWORD) || text.includes(encodeURIComponent(ADMIN_PASSWORD));
    });
    expect(leaks.map(label)).toEqual([]);
    // The migration runner does get it (the check above would be vacuous otherwise).
    const runner = mocks.resources.filter((resource) => MIGRATION_RUNNER.test(resource.type));
    expect(runner.length).toBeGreaterThan(5);
    for (const resource of runner)
      expect(resource.inputs["connection"]["user"], label(resource)).toBe(ADMIN_USER);
  });

  it("gives each component its own login (user and password), through the pooler's user format", () => {
    const login = (purpose: string) => ({
      user: `wb_prod_${purpose}${REF}`,
      password: mockLoginPassword(`wb_prod_${purpose}`),
    });
    const expectLogin = (resource: string, purpose: string, withPassword = true) => {
      expect(users(resource), resource).toEqual([login(purpose).user]);
      if (withPassword) expect(passwords(resource), resource).toEqual([login(purpose).password]);
    };
    // The services' DATABASE_URL: the NOINHERIT member of Supabase's API roles.
    expectLogin("kubernetes:core/v1:Secret workbench-prod-secrets-supabase", "api");
    expectLogin("digitalocean:index/app:App workbench-prod-expense-api", "api");
    // n8n: its Helm values (user), its core Secret (password), the workflows' credential.
    expectLogin("kubernetes:helm.sh/v3:Release n8n", "n8n", false);
    expect(passwords("kubernetes:core/v1:Secret workbench-prod-secrets-n8n")).toEqual([
      login("n8n").password,
    ]);
    expectLogin("pulumi-nodejs:dynamic/workbench:n8n:WorkflowSet n8n-workflows", "n8n");
    // Backups: the read-only login (user in the CronJobs, password in their Secret).
    for (const tier of ["hourly", "daily", "weekly"])
      expectLogin(`kubernetes:batch/v1:CronJob postgres-backup-${tier}`, "backup", false);
    expect(passwords("kubernetes:core/v1:Secret postgres-backup-credentials")).toEqual([
      login("backup").password,
    ]);
    // The catalog seeding (at deploy time, and the daily data-quality CronJob) and the stages' job runs.
    expectLogin("pulumi-nodejs:dynamic/workbench:data:CatalogSeed catalog", "catalog");
    const dbtSecret = found.filter((f) => f.resource === "kubernetes:core/v1:Secret dbt-credentials");
    expect(dbtSecret.map((f) => [f.path, f.kind, f.value]).sort()).toEqual(
      [
        [".stringData.DBT_USER", "user", login("dbt").user],
        [".stringData.DBT_PASSWORD", "password", login("dbt").password],
        [".stringData.DATABASE_URL", "user", login("catalog").user],
        [".stringData.DATABASE_URL", "password", login("catalog").password],
      ].sort(),
    );
    for (const layer of ["bronze", "silver", "gold", "platinum"]) {
      const stage = found.filter(
        (f) => f.resource === `pulumi-nodejs:dynamic/workbench:data:DbtStage medallion-${layer}`,
      );
      expect(stage.map((f) => [f.path, f.value]).sort()).toEqual(
        [
          [".connection.user", login("dbt").user],
          [".connection.password", login("dbt").password],
          [".recorder.user", login("catalog").user],
          [".recorder.password", login("catalog").password],
        ].sort(),
      );
    }
    // LiteLLM: one database URL, the usage login's (no DATABASE_URL: LiteLLM keeps no database).
    const llm = found.filter((f) => f.resource === "kubernetes:core/v1:Secret workbench-prod-secrets-llm");
    expect(llm.map((f) => [f.path, f.kind, f.value]).sort()).toEqual(
      [
        [".stringData.WORKBENCH_USAGE_DATABASE_URL", "user", login("usage").user],
        [".stringData.WORKBENCH_USAGE_DATABASE_URL", "password", login("usage").password],
      ].sort(),
    );
  });

  it("dumps with row security on and only the backed-up schemas (nothing in auth)", () => {
    const job = mocks.one("kubernetes:batch/v1:CronJob", "postgres-backup-daily");
    const [dump] = job.inputs["spec"]["jobTemplate"]["spec"]["template"]["spec"]["initContainers"];
    expect(dump["args"]).toContain("--enable-row-security");
    const schemas = (dump["args"] as string[])
      .filter((arg) => arg.startsWith("--schema="))
      .map((arg) => arg.slice(9));
    expect(schemas).toEqual(["ip_workbench", "bronze", "silver", "gold", "platinum", "workbench_migrations"]);
  });
});
