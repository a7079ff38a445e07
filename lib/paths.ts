import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (where Pulumi.yaml is): this file is lib/paths.ts. */
export const REPO_ROOT = dirname(dirname(fileURLToPath(import.meta.url)));

/**
 * The one rule for the root that project paths (sql/migrations, dbt/, artifacts, workflow
 * files) resolve against: `AIWB_ROOT` when set (the data-jobs image sets /app; the
 * dynamic-provider registry sets it in the provider process), else this checkout.
 */
export function projectRoot(env: NodeJS.ProcessEnv = process.env): string {
  return env["AIWB_ROOT"] ?? REPO_ROOT;
}

/**
 * The shared cache outside the repo (toolchain, venvs, Pulumi state, reports): the rule of
 * scripts/lib/env.sh, `${AIWB_CACHE:=${XDG_CACHE_HOME:-$HOME/.cache}/ai-workbench}` (an
 * empty variable counts as unset, as in the shell).
 */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env["AIWB_CACHE"] || join(env["XDG_CACHE_HOME"] || join(homedir(), ".cache"), "ai-workbench");
}
