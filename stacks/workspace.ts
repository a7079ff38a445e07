/**
 * Opens a stack of this project through the Pulumi Automation API, fully offline:
 * the CLI built by scripts/bootstrap, the `file://` backend and passphrase in the cache
 * dir, and the program run inline (in this process) so no language-host plugin is needed.
 *
 * Each stack gets a workspace dir in the cache. Its `Pulumi.<stack>.yaml` is generated
 * from the committed one (the documented, non-secret settings) plus secrets set here;
 * the encryption salt stays with the workspace, so the committed file never changes.
 */
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { LocalWorkspace, PulumiCommand, type Stack } from "@pulumi/pulumi/automation/index.js";
import YAML from "yaml";
import { workbenchProgram } from "./program.ts";

export const PROJECT_NAME = "ai-workbench";
export const PULUMI_VERSION = "3.259.0";
export { REPO_ROOT } from "../lib/paths.ts";
import { cacheDir, REPO_ROOT } from "../lib/paths.ts";

export { cacheDir };

export interface OpenStackOptions {
  /** Stack name, e.g. `local`; test stacks use unique names. */
  stackName: string;
  /** Committed stack file to start from; default `Pulumi.<stackName>.yaml`. */
  baseStack?: string;
  /** Extra or replaced `workbench:*` settings (plain values; objects are allowed). */
  config?: Record<string, unknown>;
  /** Secret settings, written encrypted into the workspace's stack file only. */
  secrets?: Record<string, string>;
}

/** Environment the engine (and the dynamic-provider processes it starts) runs with. */
export function engineEnv(): Record<string, string> {
  const cache = cacheDir();
  const passphraseFile = join(cache, "local-stack.passphrase");
  if (!existsSync(passphraseFile)) {
    throw new Error(`no Pulumi passphrase at ${passphraseFile}: run scripts/bootstrap first`);
  }
  return {
    PULUMI_HOME: join(cache, "pulumi-home"),
    PULUMI_BACKEND_URL: `file://${join(cache, "pulumi-state")}`,
    PULUMI_CONFIG_PASSPHRASE_FILE: passphraseFile,
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    // The dynamic providers' project root (the engine starts them in the workspace dir);
    // they register the TypeScript loader themselves (components/shared/project-provider.ts).
    AIWB_ROOT: REPO_ROOT,
  };
}

/** Points `workDir/node_modules` at this clone's, so the engine finds the dynamic-provider plugin. */
function linkNodeModules(workDir: string): void {
  const link = join(workDir, "node_modules");
  const target = join(REPO_ROOT, "node_modules");
  if (existsSync(link) || lstatSync(link, { throwIfNoEntry: false })) {
    if (lstatSync(link).isSymbolicLink() && readlinkSync(link) === target) return;
    rmSync(link, { recursive: true, force: true });
  }
  symlinkSync(target, link);
}

/** Writes the workspace's stack file: committed settings + overrides, keeping the salt. */
function writeStackSettings(workDir: string, options: OpenStackOptions): void {
  const basePath = join(REPO_ROOT, `Pulumi.${options.baseStack ?? options.stackName}.yaml`);
  if (!existsSync(basePath)) throw new Error(`no stack settings file ${basePath}`);
  const base = (YAML.parse(readFileSync(basePath, "utf8")) ?? {}) as { config?: Record<string, unknown> };
  const target = join(workDir, `Pulumi.${options.stackName}.yaml`);
  const previous = existsSync(target)
    ? ((YAML.parse(readFileSync(target, "utf8")) ?? {}) as Record<string, unknown>)
    : {};
  const config: Record<string, unknown> = { ...(base.config ?? {}) };
  for (const [key, value] of Object.entries(options.config ?? {})) config[`workbench:${key}`] = value;
  const settings: Record<string, unknown> = { config };
  if (previous["encryptionsalt"]) settings["encryptionsalt"] = previous["encryptionsalt"];
  if (previous["secretsprovider"]) settings["secretsprovider"] = previous["secretsprovider"];
  writeFileSync(target, YAML.stringify(settings));
}

export async function openStack(options: OpenStackOptions): Promise<Stack> {
  const cache = cacheDir();
  const workDir = join(cache, "workspaces", options.stackName);
  mkdirSync(workDir, { recursive: true });
  linkNodeModules(workDir);
  writeStackSettings(workDir, options);

  const envVars = engineEnv();
  const pulumiCommand = await PulumiCommand.get({ root: cache, version: undefined, skipVersionCheck: false });
  const stack = await LocalWorkspace.createOrSelectStack(
    { stackName: options.stackName, projectName: PROJECT_NAME, program: workbenchProgram },
    {
      workDir,
      envVars,
      pulumiCommand,
      secretsProvider: "passphrase",
      projectSettings: {
        name: PROJECT_NAME,
        runtime: "nodejs",
        description: "InsightPulseAI AI Workbench (run inline by the Automation API)",
        backend: { url: envVars["PULUMI_BACKEND_URL"] as string },
      },
    },
  );
  for (const [key, value] of Object.entries(options.secrets ?? {})) {
    await stack.setConfig(`workbench:${key}`, { value, secret: true });
  }
  return stack;
}

/** Removes a stack (after a destroy) and its workspace dir. */
export async function removeStack(stack: Stack): Promise<void> {
  const workDir = stack.workspace.workDir;
  await stack.workspace.removeStack(stack.name);
  rmSync(workDir, { recursive: true, force: true });
  // The file backend keeps checkpoint backups and history of removed stacks; drop them.
  const backend = join(cacheDir(), "pulumi-state/.pulumi");
  for (const kind of ["backups", "history"]) {
    rmSync(join(backend, kind, PROJECT_NAME, stack.name), { recursive: true, force: true });
  }
}
