/**
 * Local preview of a cloud stack with the real engine: the diff, checked by the policy
 * pack (components/policy). The PR workflow (.github/workflows/preview.yml) runs the same
 * preview in CI.
 *
 *   npm run preview -- --stack prod
 *
 * The cloud program needs the digitalocean, kubernetes and random resource plugins. They
 * ship only as GitHub release binaries, which machines without internet cannot download,
 * so this checks for them first and says how to install them when they are missing.
 *
 * Secrets come from the environment: WORKBENCH_<KEY> for each secret key (e.g.
 * WORKBENCH_DATABASE_PASSWORD for workbench:databasePassword); DigitalOcean credentials
 * from DIGITALOCEAN_TOKEN, SPACES_ACCESS_KEY_ID and SPACES_SECRET_ACCESS_KEY.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { execa } from "execa";
import { SECRET_KEYS } from "../stacks/config/schema.ts";
import { cacheDir, REPO_ROOT } from "../lib/paths.ts";
import { stackArgument } from "../lib/cli-args.ts";

/** npm packages whose resource plugins the cloud program loads. */
const PLUGIN_PACKAGES = {
  digitalocean: "@pulumi/digitalocean",
  kubernetes: "@pulumi/kubernetes",
  random: "@pulumi/random",
};

interface RequiredPlugin {
  name: string;
  version: string;
}

interface InstalledPlugin {
  name: string;
  kind: string;
  version: string;
}

/** Plugin versions pinned by package.json (the SDK package version is the plugin version). */
export function requiredPlugins(): RequiredPlugin[] {
  const manifest = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as {
    dependencies: Record<string, string>;
  };
  return Object.entries(PLUGIN_PACKAGES).map(([name, pkg]) => {
    const version = manifest.dependencies[pkg];
    if (!version) throw new Error(`package.json does not depend on ${pkg}`);
    return { name, version: version.replace(/^[\^~=v]/, "") };
  });
}

/** Required plugins absent from `pulumi plugin ls --json` output. */
export function missingPlugins(required: RequiredPlugin[], installed: InstalledPlugin[]): RequiredPlugin[] {
  return required.filter(
    (plugin) =>
      !installed.some(
        (have) =>
          have.kind === "resource" &&
          have.name === plugin.name &&
          have.version.replace(/^v/, "") === plugin.version,
      ),
  );
}

export function missingPluginsMessage(stack: string, missing: RequiredPlugin[], pulumiHome: string): string {
  return [
    `error: cannot preview stack '${stack}': the Pulumi resource plugins it needs are not installed:`,
    ...missing.map((plugin) => `  - ${plugin.name} ${plugin.version}`),
    "",
    "They ship only as binaries on GitHub releases, which this machine cannot reach (only package",
    "registries are), so nothing can install them here. On a machine with internet, run:",
    ...missing.map(
      (plugin) =>
        `  PULUMI_HOME=${pulumiHome} pulumi plugin install resource ${plugin.name} ${plugin.version}`,
    ),
    `then copy ${join(pulumiHome, "plugins")}/resource-<name>-v<version> to the same place here.`,
    "Meanwhile: the unit tests (npm test) check the cloud program with mocks and the policy pack, and",
    "the pull-request workflow (.github/workflows/preview.yml) runs this preview with the plugins.",
  ].join("\n");
}

const secretEnvName = (key: string) =>
  `WORKBENCH_${key.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase()}`;

async function main(): Promise<number> {
  const stack = stackArgument(process.argv.slice(2), "preview");
  const cli = join(cacheDir(), "bin", "pulumi");
  if (!existsSync(cli)) {
    console.error(`error: no Pulumi CLI at ${cli}\n  fix: npm run bootstrap`);
    return 1;
  }
  const pulumiHome = process.env["PULUMI_HOME"] ?? join(cacheDir(), "pulumi-home");

  console.log(`==> checking resource plugins (${cli} plugin ls)`);
  const listed = await execa(cli, ["plugin", "ls", "--json"], {
    env: { PULUMI_HOME: pulumiHome },
    reject: false,
  });
  if (listed.exitCode !== 0) {
    console.error(`error: '${cli} plugin ls --json' failed:\n${listed.stderr}`);
    return 1;
  }
  const installed = (JSON.parse(listed.stdout || "[]") ?? []) as InstalledPlugin[];
  const missing = missingPlugins(requiredPlugins(), installed);
  if (missing.length > 0) {
    console.error(missingPluginsMessage(stack, missing, pulumiHome));
    return 1;
  }

  // Everything below needs the plugins; it is the same preview CI runs.
  const { openStack } = await import("../stacks/workspace.ts");
  const secrets: Record<string, string> = {};
  for (const key of SECRET_KEYS) {
    const value = process.env[secretEnvName(key)];
    if (value) secrets[key] = value;
  }
  console.log(
    `==> opening stack '${stack}' (${Object.keys(secrets).length} secrets from WORKBENCH_* env vars)`,
  );
  const opened = await openStack({ stackName: stack, secrets });
  console.log("==> preview with the policy pack");
  const result = await opened.preview({
    diff: true,
    policyPacks: [join(REPO_ROOT, "components/policy")],
    onOutput: (text) => process.stdout.write(text),
  });
  const changes = Object.entries(result.changeSummary)
    .map(([kind, count]) => `${count} ${kind}`)
    .join(", ");
  console.log(`\npreview of '${stack}': ${changes || "no changes"}`);
  return 0;
}

// Run only as a script: tests import the functions above.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
}
