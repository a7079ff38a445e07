/**
 * Monthly cost estimate of a cloud stack from its committed config: the configured sizes
 * (node pool, App Platform instances, registry tier, volumes) priced with the stack's
 * price table (`workbench:prices`, the infrastructure README's table by default).
 *
 *   npm run cost -- --stack prod
 *
 * Reads Pulumi.<stack>.yaml only: no credentials, no engine, no network.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import YAML from "yaml";
import { estimateMonthlyCost, formatCostEstimate } from "../lib/cost.ts";
import { parseStackConfig, StackConfigError } from "../stacks/config/parse.ts";
import { SECRET_KEYS } from "../stacks/config/schema.ts";
import { REPO_ROOT } from "../lib/paths.ts";
import { costInputFromConfig } from "../stacks/cloud/index.ts";
import { stackArgument } from "../lib/cli-args.ts";

/** Stands in for secrets the file does not hold: prices never depend on them. */
const PLACEHOLDER = "placeholder-for-cost-estimate";

/** The stack file's config as `pulumi.runtime.allConfig()` would give it, secrets stood in for. */
export function rawStackConfig(stack: string): { raw: Record<string, string>; secretKeys: Set<string> } {
  const file = join(REPO_ROOT, `Pulumi.${stack}.yaml`);
  if (!existsSync(file)) {
    const stacks = readdirSync(REPO_ROOT)
      .map((name) => /^Pulumi\.(.+)\.yaml$/.exec(name)?.[1])
      .filter((name): name is string => name !== undefined);
    throw new Error(`no stack file ${file}: known stacks are ${stacks.join(", ")}`);
  }
  const settings = (YAML.parse(readFileSync(file, "utf8")) ?? {}) as { config?: Record<string, unknown> };
  const raw: Record<string, string> = {};
  const secretKeys = new Set<string>();
  for (const [key, value] of Object.entries(settings.config ?? {})) {
    const secure = typeof value === "object" && value !== null && "secure" in value;
    raw[key] = secure ? PLACEHOLDER : typeof value === "string" ? value : JSON.stringify(value);
    if (secure) secretKeys.add(key);
  }
  // The password is required by the schema; cost does not need it.
  const password = "workbench:databasePassword";
  if (!(password in raw)) raw[password] = PLACEHOLDER;
  for (const key of SECRET_KEYS) secretKeys.add(`workbench:${key}`);
  return { raw, secretKeys };
}

function main(): void {
  const stack = stackArgument(process.argv.slice(2), "cost");
  const { raw, secretKeys } = rawStackConfig(stack);
  const config = parseStackConfig(raw, secretKeys);
  if (config.profile !== "cloud") {
    console.log(
      `stack '${stack}' uses the ${config.profile} profile: it runs on this machine and has no cloud cost.`,
    );
    return;
  }
  const estimate = estimateMonthlyCost(costInputFromConfig(config), config.prices);
  console.log(
    formatCostEstimate(estimate, `Monthly cost estimate for stack '${stack}' (${config.region}, USD)`),
  );
}

// Run only as a script: tests import the functions above.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    main();
  } catch (error) {
    const message =
      error instanceof StackConfigError || error instanceof Error ? error.message : String(error);
    console.error(`error: ${message}`);
    process.exit(1);
  }
}
