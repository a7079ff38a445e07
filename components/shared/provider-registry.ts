/**
 * The one registry of this project's dynamic providers: a stable name (the resource's
 * type token) mapped to the module and export that implement it.
 *
 * A dynamic resource's state holds its serialized provider. Ours (project-provider.ts)
 * holds only the name below and the package import `#workbench-providers` (package.json
 * `imports`), which resolves to this file. So implementation modules can move or be
 * renamed freely: update the entry here, never the name. A name must stay here (with a
 * working `delete`) as long as any stack may still hold a resource of its type.
 *
 * Entries import lazily: the provider process loads only the implementations it runs. An
 * implementation lives in its resource's file (class, args, provider), so that file's
 * imports load in the provider process too: keep resource modules free of side effects.
 */
import type * as pulumi from "@pulumi/pulumi";
import { join } from "node:path";
import { REPO_ROOT } from "../../lib/paths.ts";

type Provider = pulumi.dynamic.ResourceProvider;

export const PROVIDERS = {
  "workbench:database:MigrationSet": async () =>
    (await import("../database/migration-set.ts")).migrationSetProvider,
  "workbench:database:LoginRole": async () => (await import("../database/login-role.ts")).loginRoleProvider,
  "workbench:database:SqlStatements": async () =>
    (await import("../database/sql-statements.ts")).sqlStatementsProvider,
  "workbench:data:SampleData": async () => (await import("../data/sample-data.ts")).sampleDataProvider,
  "workbench:data:DbtStage": async () => (await import("../data/dbt-stage.ts")).dbtStageProvider,
  "workbench:data:CatalogSeed": async () => (await import("../data/catalog-seed.ts")).catalogSeedProvider,
  "workbench:n8n:WorkflowSet": async () => (await import("../n8n/workflow-set.ts")).workflowSetProvider,
} satisfies Record<string, () => Promise<Provider>>;

export type ProviderName = keyof typeof PROVIDERS;

let prewarmed = false;
/** The providers of a data stack's deployment up to its stages: their process goes on to run the stages. */
const BEFORE_THE_STAGES = new Set<string>([
  "workbench:database:MigrationSet",
  "workbench:database:LoginRole",
  "workbench:database:SqlStatements",
  "workbench:data:SampleData",
  "workbench:data:DbtStage",
]);

/**
 * The implementation registered under `name`; an unknown name is an error naming the known ones.
 *
 * The implementations resolve project paths (sql/migrations, dbt/, artifacts) against
 * `AIWB_ROOT`, else the working directory. The Pulumi CLI starts the provider process in
 * the directory of `main` (stacks/), so the root is set here when nobody set it.
 */
export async function loadProvider(name: string): Promise<Provider> {
  process.env["AIWB_ROOT"] ??= REPO_ROOT;
  if (!prewarmed && BEFORE_THE_STAGES.has(name)) {
    // dbt's start and parse, in the background, while the steps before the data stack's
    // stages run (lib/dbt/prewarm.ts: only when a stage ran from this clone before), or
    // the warm process the main job started ahead of the deployment, when it did.
    prewarmed = true;
    const projectDir = join(process.env["AIWB_ROOT"], "dbt");
    void import("../../lib/dbt/prewarm.ts")
      .then(({ prewarmDbt }) => prewarmDbt(projectDir, { shared: true }))
      .catch(() => undefined);
  }
  const entry = (PROVIDERS as Record<string, (() => Promise<Provider>) | undefined>)[name];
  if (!entry) {
    throw new Error(
      `no dynamic provider '${name}' in components/shared/provider-registry.ts (known: ${Object.keys(PROVIDERS).join(", ")}); ` +
        "a state still holds a resource of a retired type: restore its entry until no stack uses it",
    );
  }
  return entry();
}
